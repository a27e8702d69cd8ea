from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "publishing"
    verbose_name = _("발행")

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models and
        # the receivers import them (Django's documented place for this).
        from publishing import receivers  # noqa: PLC0415

        receivers.connect()
