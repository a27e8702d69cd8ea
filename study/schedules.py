"""Recurring django-q2 tasks, declared idempotently after every migrate."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule


@dataclass(frozen=True)
class Recurring:
    name: str
    func: str
    minutes: int = 1
    # Also run right after every migrate (an upgrade of the app), not only
    # when its interval has passed.
    after_migrate: bool = False


# Add an entry here; `migrate` creates or updates its Schedule row.
SCHEDULES: list[Recurring] = [
    Recurring("study.documents_ingest_pending", "study.tasks.documents_ingest_pending"),
    # Safety net: enqueues wake the consumer at once; this catches what was missed.
    Recurring("study.ai_jobs_consume", "study.tasks.ai_jobs_consume"),
    # Related questions: invalidated caches recomputed a batch at a time.
    Recurring(
        "study.related_refresh",
        "study.tasks.related_refresh",
        minutes=getattr(settings, "RELATED_REFRESH_MINUTES", 1),
    ),
    # Statute versions: the one whose 시행일 has come takes over search.
    Recurring(
        "study.act_versions_refresh",
        "study.tasks.act_versions_refresh_all_task",
        minutes=60,
    ),
    # Forecast snapshots: what a lost task left stale, and each new day's.
    Recurring(
        "study.forecast_snapshots_refresh", "study.tasks.forecast_snapshots_refresh"
    ),
    # Uploaded question files of finished or expired imports are deleted.
    Recurring(
        "study.question_imports_cleanup",
        "study.tasks.question_imports_cleanup",
        minutes=60,
    ),
    # 근거 카드 an upgrade of the check left stale: computed ahead again.
    Recurring(
        "study.evidence_cards_outdated",
        "study.tasks.evidence_cards_outdated",
        minutes=60,
        after_migrate=True,
    ),
    Recurring(
        "study.questions_embed_overdue",
        "study.tasks.questions_embed_overdue",
        minutes=5,
    ),
]


# Schedules this app once declared under another name.
RETIRED = ["study.explanation_jobs_consume"]


def ensure_schedules(**kwargs) -> None:
    Schedule.objects.filter(name__in=RETIRED).delete()
    for item in SCHEDULES:
        defaults = {
            "func": item.func,
            "schedule_type": Schedule.MINUTES,
            "minutes": item.minutes,
            "repeats": -1,
        }
        if item.after_migrate:
            defaults["next_run"] = timezone.now()
        Schedule.objects.update_or_create(name=item.name, defaults=defaults)
