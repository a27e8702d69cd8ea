from django.apps import AppConfig
from django.db.models.signals import post_migrate


class StudyConfig(AppConfig):
    name = "study"
    verbose_name = "학습"

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models and
        # these modules import models (Django's documented place for this).
        from study import schedules  # noqa: PLC0415

        # The AI job kinds register themselves with the job runner on import.
        from study.services import (  # noqa: F401, PLC0415
            explanation_jobs,
            session_analysis,
        )

        # Infrastructure, not business logic: keep the recurring tasks declared.
        post_migrate.connect(
            schedules.ensure_schedules, sender=self, dispatch_uid="study_schedules"
        )
