"""django-q2 entry points: load by id, call one service."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from study.amendments.services import topic_amendments_compute
from study.documents.services import (
    HEARTBEAT_STALE_MINUTES,
    act_versions_refresh,
    act_versions_refresh_all,
    document_ingest,
)
from study.documents.summaries import document_summarize
from study.evidence.services import (
    cards_outdated_refresh,
    session_cards_warm,
    topic_cards_warm,
)
from study.forecast.snapshots import (
    forecast_snapshot_refresh,
    forecast_snapshots_refresh_due,
)
from study.imports.runs import (
    question_import_apply,
    question_import_check,
)
from study.imports.runs import (
    question_imports_cleanup as question_imports_cleanup_service,
)
from study.jobs.runner import jobs_consume, jobs_wait_for_due
from study.models import Document, DocumentStatus, QuizSession, Topic
from study.related import embeddings as related_embeddings
from study.related.refresh import related_refresh as refresh_due_relations


def document_ingest_task(document_id: int) -> str:
    return document_ingest(document_id=document_id).status


def act_versions_refresh_task(owner_id: int, act_key: str) -> int | None:
    current = act_versions_refresh(owner_id=owner_id, act_key=act_key)
    # A version added, removed or come into force: the 개정 flags follow.
    for topic in Topic.objects.filter(
        documents__owner_id=owner_id, documents__act_key=act_key
    ).distinct():
        topic_amendments_compute(topic=topic)
    return current


def act_versions_refresh_all_task() -> int:
    """Hourly: a version whose 시행일 came takes over search."""
    return act_versions_refresh_all()


def document_summarize_task(document_id: int) -> bool:
    return bool(document_summarize(document_id=document_id).summary)


def topic_cards_compute_task(topic_id: int) -> int:
    """The topic's missing and stale 근거 카드, within the task's budget (a
    run that stops early enqueues the next; one run per topic at a time)."""
    topic = Topic.objects.filter(pk=topic_id).first()
    return topic_cards_warm(topic=topic).computed if topic else 0


def evidence_cards_outdated() -> int:
    """Topics whose cards an upgrade of the check left stale, enqueued."""
    return len(cards_outdated_refresh())


def session_cards_compute_task(session_id: int) -> int:
    """A new session's missing and stale 근거 카드."""
    session = QuizSession.objects.select_related("topic").filter(pk=session_id).first()
    return session_cards_warm(session=session).computed if session else 0


def topic_amendments_task(topic_id: int) -> int:
    topic = Topic.objects.filter(pk=topic_id).first()
    return topic_amendments_compute(topic=topic).computed if topic else 0


def question_import_check_task(import_id: int) -> str:
    return question_import_check(import_id=import_id).status


def question_import_apply_task(import_id: int) -> str:
    return question_import_apply(import_id=import_id).status


def question_imports_cleanup() -> int:
    return question_imports_cleanup_service()


def documents_ingest_pending() -> int:
    """Safety net: documents whose ingest task was lost, or whose worker died
    mid-way (no heartbeat for a while), are processed here."""
    now = timezone.now()
    stuck = list(
        Document.objects.filter(
            Q(status=DocumentStatus.PENDING, created_at__lt=now - timedelta(minutes=1))
            | Q(
                status=DocumentStatus.PROCESSING,
                heartbeat_at__lt=now - timedelta(minutes=HEARTBEAT_STALE_MINUTES),
            )
        ).values_list("id", flat=True)[:5]
    )
    for document_id in stuck:
        document_ingest(document_id=document_id)
    return len(stuck)


def ai_jobs_consume() -> int:
    """Woken after every enqueue, when a worker starts and every minute: AI
    jobs of every kind."""
    return jobs_consume()


def ai_jobs_wait() -> bool:
    """Started when a retry is set: wakes a consumer when it is due."""
    return jobs_wait_for_due()


def question_embed_task(question_id: int) -> str:
    return related_embeddings.question_embed(question_id=question_id)


def questions_embed_task(question_ids: list[int]) -> int:
    return related_embeddings.questions_embed(question_ids=question_ids)


def questions_embed_overdue() -> int:
    """Safety net: pending questions whose embedding task was lost."""
    return related_embeddings.questions_embed_overdue()


def related_refresh() -> int:
    """Recompute invalidated related-question caches, a batch at a time."""
    return refresh_due_relations()


def forecast_snapshot_refresh_task(user_id: int, topic_id: int) -> bool:
    return forecast_snapshot_refresh(user_id=user_id, topic_id=topic_id)


def forecast_snapshots_refresh() -> int:
    """Safety net and the new day: snapshots left stale or from yesterday."""
    return forecast_snapshots_refresh_due()
