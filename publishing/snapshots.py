"""What the viewer receives about a question: plain JSON, no study internals."""

from __future__ import annotations

from datetime import datetime

from study.models import AIExplanationStatus, Question


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def question_snapshot(question: Question) -> dict:
    return {
        "id": question.pk,
        "topic_id": question.topic_id,
        "topic_name": question.topic.name,
        "exam_name": question.exam_name,
        "exam_year": question.exam_year,
        "exam_session": question.exam_session,
        "number": question.number,
        "round_label": question.round_label_site,
        "subject": question.subject,
        "scope": question.scope,
        "stem": question.stem,
        "choices": question.choices,
        "correct_choice": question.correct_choice,
        "accepted_choices": sorted(question.accepted_set),
        "explanation": question.explanation,
        "updated_at": _iso(question.updated_at),
    }


def explanation_snapshot(question: Question) -> dict:
    return {
        "question_id": question.pk,
        "text": question.ai_explanation,
        "model": question.ai_explanation_model,
        "generated_at": _iso(question.ai_explanation_generated_at),
    }


def question_tombstone(question: Question) -> dict:
    return {"id": question.pk, "deleted_at": _iso(question.deleted_at)}


def explanation_tombstone(question_id: int) -> dict:
    return {"question_id": question_id}


def explanation_is_public(question: Question) -> bool:
    return question.ai_explanation_status == AIExplanationStatus.READY


def explanation_may_be_public(question: Question) -> bool:
    """Text exists, so an earlier event may have published it."""
    return bool(question.ai_explanation.strip())
