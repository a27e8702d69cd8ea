from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "publishing"
    verbose_name = "발행"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models and
        # the receivers import them (Django's documented place for this).
        from publishing import receivers  # noqa: PLC0415

        receivers.connect()
