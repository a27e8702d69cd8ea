"""Reading what a device sends: answers that waited offline, each with its key.

Nothing here touches the database; the sync service gets plain values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.utils.dateparse import parse_datetime

from study.services.quiz_sessions import AnswerKey

MAX_BATCH = 200
MAX_VERSION_LENGTH = 64


class PayloadError(ValueError):
    """The request as a whole cannot be read (not the shape the app sends)."""


@dataclass(frozen=True)
class OfflineAnswer:
    """One answer as the device kept it. `problem` is set when the item has a
    key but cannot be an answer (its key is then reported as invalid)."""

    key: uuid.UUID
    position: int = -1
    question_id: int = -1
    choice: int = 0
    elapsed_ms: int | None = None
    given_at: datetime | None = None
    key_version: str = ""
    problem: str = ""

    @property
    def answer_key(self) -> AnswerKey:
        return AnswerKey(client_key=self.key, given_at=self.given_at)


def client_key_from(value: object) -> uuid.UUID | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def answer_key_from(value: object) -> AnswerKey | None:
    """The key an online answer form carries (None when absent or unreadable)."""
    key = client_key_from(value)
    return None if key is None else AnswerKey(client_key=key)


def offline_answers_parse(payload: object) -> list[OfflineAnswer]:
    """The answers of a sync request, in slot order; items without a readable
    key are dropped (nothing could be reported back about them)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("answers"), list):
        raise PayloadError("answers missing")
    items = payload["answers"]
    if len(items) > MAX_BATCH:
        raise PayloadError("too many answers")
    answers = [_answer(item) for item in items if isinstance(item, dict)]
    keyed = [a for a in answers if a is not None]
    return sorted(keyed, key=lambda a: (a.position, str(a.key)))


def _answer(item: dict) -> OfflineAnswer | None:
    key = client_key_from(item.get("key"))
    if key is None:
        return None
    position, question_id, choice = (
        _int(item.get(name)) for name in ("position", "question_id", "choice")
    )
    elapsed = _int(item.get("elapsed_ms"))
    given_at = _datetime(item.get("given_at"))
    version = item.get("key_version", "")
    if position is None or question_id is None or choice is None:
        return OfflineAnswer(key=key, problem="fields")
    problem = ""
    if not 1 <= choice <= 5:
        problem = "choice"
    elif not isinstance(version, str) or len(version) > MAX_VERSION_LENGTH:
        problem = "version"
    if problem:
        return OfflineAnswer(key=key, problem=problem)
    return OfflineAnswer(
        key=key,
        position=position,
        question_id=question_id,
        choice=choice,
        elapsed_ms=elapsed if elapsed is not None and elapsed >= 0 else None,
        given_at=given_at,
        key_version=version,
    )


def _int(value: object) -> int | None:
    # bool is an int in Python; JSON true is no number here.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    return parsed
