"""Shared pieces of the publishing tests."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from publishing.models import OutboxEvent
from publishing.relay import RelayReport, outbox_relay
from publishing.snapshots import explanation_snapshot, question_snapshot
from study.models import AIExplanationStatus, Question, Topic
from study.services.questions import question_create

SECRET = "test-signing-secret"


def question_data(number: int, **overrides) -> dict:
    data = {
        "exam_name": "산업안전기사",
        "exam_year": 2021,
        "exam_session": "2",
        "number": number,
        "subject": "안전관리론",
        "scope": "재해",
        "stem": f"문제 {number}: 옳은 것은?",
        "choice_1": "일",
        "choice_2": "이",
        "choice_3": "삼",
        "choice_4": "사",
        "correct_choice": 3,
        "accepted_choices": "",
        "explanation": "사람이 쓴 해설",
    }
    data.update(overrides)
    return data


def create(topic: Topic, number: int, **overrides) -> Question:
    return question_create(topic=topic, data=question_data(number, **overrides))


def make_ready(question: Question, text: str = "**AI** 해설") -> None:
    """What the explanation workers do to a question (without publishing)."""
    Question.objects.filter(pk=question.pk).update(
        ai_explanation=text,
        ai_explanation_status=AIExplanationStatus.READY,
        ai_explanation_model="local-model",
        ai_explanation_generated_at=timezone.now(),
    )
    question.refresh_from_db()


def kinds(events) -> list[str]:
    return [e.kind for e in events]


def events_of(question: Question) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(aggregate_id=question.pk).order_by("seq"))


class Relay:
    """Runs the relay service directly, optionally hours ahead (past any backoff)."""

    def __init__(self) -> None:
        self.hours = 0

    def now(self) -> RelayReport:
        return outbox_relay()

    def later(self) -> RelayReport:
        self.hours += 2
        return outbox_relay(now=timezone.now() + timedelta(hours=self.hours))


def study_state(topic: Topic) -> tuple[dict, dict]:
    """What the viewer should hold, computed from the study database."""
    questions = Question.objects.filter(topic=topic, deleted_at__isnull=True)
    questions = list(questions.select_related("topic"))
    return (
        {q.pk: question_snapshot(q) for q in questions},
        {
            q.pk: explanation_snapshot(q)
            for q in questions
            if q.ai_explanation_status == AIExplanationStatus.READY
        },
    )


def in_transaction(fn, *args, **kwargs):
    with transaction.atomic():
        return fn(*args, **kwargs)
