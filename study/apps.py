from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models import fields as model_fields
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Named in settings (Q_CLUSTER["label"], the admin's section for django-q);
# marked here so that the study catalogue carries its English.
JOB_QUEUE_LABEL = gettext_noop("작업 큐")


class StudyConfig(AppConfig):
    name = "study"
    verbose_name = _("학습")

    def ready(self) -> None:
        # Imported here, not at the top: apps.py loads before the models and
        # these modules import models (Django's documented place for this).
        from django_q.signals import post_spawn  # noqa: PLC0415

        from study import schedules  # noqa: PLC0415

        # The AI job kinds register themselves with the job runner on import.
        from study.ai import (  # noqa: F401, PLC0415
            explanation_jobs,
            session_analysis,
            subject_notes,
        )
        from study.jobs.runner import jobs_on_worker_start  # noqa: PLC0415
        from study.middleware import language_on_login  # noqa: PLC0415

        # Infrastructure, not business logic: keep the recurring tasks declared.
        post_migrate.connect(
            schedules.ensure_schedules, sender=self, dispatch_uid="study_schedules"
        )
        # A worker that (re)starts drains what became due while none ran.
        post_spawn.connect(jobs_on_worker_start, dispatch_uid="study_jobs_drain")
        user_logged_in.connect(
            language_on_login, dispatch_uid="study_language_on_login"
        )
        # The empty choice of every select built from a model (admin too):
        # Django's "- Select an option -" has no Korean in Django's catalogue.
        # Django documents overriding it here.
        model_fields.BLANK_CHOICE_LABEL = _("- 고르세요 -")
