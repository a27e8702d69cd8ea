"""Helpers shared by the related-question tests (this module has no tests).

Tests place questions at chosen cosine similarities by giving them vectors
directly: `near(s, private=k)` has cosine s with the hub vector `near(1)`
(and s·t with `near(t, private=m)`, m ≠ k).
"""

from __future__ import annotations

import math

import numpy as np
from django.utils import timezone

from study.llm.embeddings import embedder_name
from study.models import EmbeddingStatus, Question
from tests.conftest import make_question

DIM = 384
HUB_AXIS = 0

# One question text, usable as a repeat of itself in every round.
REPEATED = {
    "stem": "재해예방의 4원칙이 아닌 것은?",
    "choice_1": "손실우연의 원칙",
    "choice_2": "사전준비의 원칙",
    "choice_3": "원인계기의 원칙",
    "choice_4": "대책선정의 원칙",
    "correct_choice": 2,
}


def near(similarity: float = 1.0, *, private: int = 1, axis: int = HUB_AXIS):
    """A unit vector whose cosine with the hub (`near(1, axis=axis)`) is given."""
    values = np.zeros(DIM)
    values[axis] = similarity
    values[DIM - private] = math.sqrt(max(0.0, 1 - similarity**2))
    return values


def embed_as(question: Question, values) -> Question:
    """Store a vector as if the current embedder had made it."""
    Question.objects.filter(pk=question.pk).update(
        embedding=[float(v) for v in values],
        embedding_model=embedder_name(),
        embedding_status=EmbeddingStatus.READY,
        embedded_at=timezone.now(),
    )
    question.refresh_from_db()
    return question


def question_at(topic, number, *, year, session="1", vec=None, **fields) -> Question:
    """A question in round (year, session), embedded as `vec` (the hub by default)."""
    question = make_question(topic, number, year=year, session=session, **fields)
    return embed_as(question, near(1.0) if vec is None else vec)


def repeated_at(topic, number, *, year, session="1", vec=None, **fields):
    """The REPEATED text in another round."""
    return question_at(
        topic, number, year=year, session=session, vec=vec, **{**REPEATED, **fields}
    )
