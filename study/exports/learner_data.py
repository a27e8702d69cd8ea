"""A learner's own history, to take anywhere: sessions, answers, progress,
settings and exam plans, as one JSON document or a zip of CSV tables.

Only the learner's own rows; questions are named by their key
(YEAR-SESSION-NUMBER) and topic, so the file means something without this
app's ids.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator

from django.contrib.auth.models import User
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from study import rounds
from study.exports.cells import spreadsheet_safe
from study.models import (
    Attempt,
    ExamPlan,
    LearnerSettings,
    Question,
    QuestionProgress,
    QuizSession,
)

FORMAT_VERSION = 1
TABLES = {
    "sessions": (
        "id",
        "topic",
        "mode",
        "stage",
        "status",
        "size",
        "answered_count",
        "started_at",
        "finished_at",
        "params",
        "result",
    ),
    "answers": (
        "id",
        "session_id",
        "topic",
        "question_key",
        "position",
        "outcome",
        "selected_choice",
        "time_taken_ms",
        "answered_at",
        "reviewed_at",
    ),
    "progress": (
        "topic",
        "question_key",
        "last_outcome",
        "attempt_count",
        "correct_count",
        "pattern",
        "last_attempted_at",
        "last_reviewed_at",
        "due_at",
        "review_stage",
    ),
    "exam_plans": ("topic", "exam_date", "daily_size", "created_at"),
    "settings": ("desired_retention", "language"),
}


def _question_key(question: Question) -> str:
    return rounds.question_key(
        question.exam_year, question.exam_session, question.number, question.pk
    )


def _sessions(user: User) -> Iterator[dict]:
    rows = QuizSession.objects.filter(user=user).select_related("topic").order_by("id")
    for s in rows.iterator(chunk_size=500):
        yield {
            "id": s.pk,
            "topic": s.topic.name,
            "mode": s.mode,
            "stage": s.stage,
            "status": s.status,
            "size": s.size,
            "answered_count": s.answered_count,
            "started_at": s.started_at,
            "finished_at": s.finished_at,
            "params": s.params,
            "result": s.result,
        }


def _answers(user: User) -> Iterator[dict]:
    rows = (
        Attempt.objects.filter(user=user)
        .select_related("question__topic")
        .order_by("session_id", "position")
    )
    for a in rows.iterator(chunk_size=2000):
        yield {
            "id": a.pk,
            "session_id": a.session_id,
            "topic": a.question.topic.name,
            "question_key": _question_key(a.question),
            "position": a.position,
            "outcome": a.outcome,
            "selected_choice": a.selected_choice,
            "time_taken_ms": a.time_taken_ms,
            "answered_at": a.created_at,
            "reviewed_at": a.reviewed_at,
        }


def _progress(user: User) -> Iterator[dict]:
    rows = (
        QuestionProgress.objects.filter(user=user)
        .select_related("question__topic")
        .order_by("topic_id", "question_id")
    )
    for p in rows.iterator(chunk_size=2000):
        yield {
            "topic": p.question.topic.name,
            "question_key": _question_key(p.question),
            "last_outcome": p.last_outcome,
            "attempt_count": p.attempt_count,
            "correct_count": p.correct_count,
            "pattern": p.pattern_state,
            "last_attempted_at": p.last_attempted_at,
            "last_reviewed_at": p.last_reviewed_at,
            "due_at": p.due_at,
            "review_stage": p.review_stage,
        }


def _exam_plans(user: User) -> Iterator[dict]:
    for plan in ExamPlan.objects.filter(user=user).select_related("topic"):
        yield {
            "topic": plan.topic.name,
            "exam_date": plan.exam_date,
            "daily_size": plan.daily_size,
            "created_at": plan.created_at,
        }


def _settings(user: User) -> Iterator[dict]:
    found = LearnerSettings.objects.filter(user=user).first() or LearnerSettings()
    yield {"desired_retention": found.desired_retention, "language": found.language}


SOURCES = {
    "sessions": _sessions,
    "answers": _answers,
    "progress": _progress,
    "exam_plans": _exam_plans,
    "settings": _settings,
}


def learner_data_json(*, user: User) -> bytes:
    document = {
        "format": FORMAT_VERSION,
        "exported_at": timezone.now(),
        "username": user.get_username(),
        **{name: list(source(user)) for name, source in SOURCES.items()},
    }
    document["settings"] = next(_settings(user))
    return json.dumps(
        document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1
    ).encode()


def learner_data_csv_zip(*, user: User) -> bytes:
    """One CSV per table (UTF-8 with BOM, so spreadsheets read the Korean)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, source in SOURCES.items():
            archive.writestr(f"{name}.csv", _csv(TABLES[name], source(user)))
    return buffer.getvalue()


def _csv(columns: tuple[str, ...], rows: Iterator[dict]) -> str:
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return spreadsheet_safe(value)
