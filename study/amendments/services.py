"""The 개정 flag of a topic's questions, computed and stored
(QuestionAmendment): each question's exam date, the versions of every act of
the topic in force then and today, and the pure detector
(study/amendments/detect.py) run on their articles.

Derived data: a row is recomputed when its stamp (the question's text and
key, its exam date, the versions read, the detector's version) no longer
matches; nothing here edits a key (the owner decides, the key-correction
path regrades).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from study.amendments.compare import UNKNOWN
from study.amendments.detect import Detection, Pool, articles_of, detect
from study.documents.versions import in_force_on
from study.evidence.check import CHECK_VERSION
from study.evidence.services import question_text
from study.forecast.snapshots import forecast_snapshots_invalidate_many
from study.models import (
    Attempt,
    Document,
    DocumentChunk,
    DocumentStatus,
    Question,
    QuestionAmendment,
    Topic,
)
from study.selectors.exam_dates import question_exam_dates

logger = logging.getLogger(__name__)

# Bump when the detector changes: every stored flag is recomputed.
DETECT_VERSION = "1"


@dataclass(frozen=True)
class _Version:
    pk: int
    act: str
    effective: date | None
    number: int | None


def _acts(topic: Topic) -> dict[str, list[_Version]]:
    """The topic's statutes by act, every ready version of each."""
    acts: dict[str, list[_Version]] = {}
    rows = (
        Document.objects.filter(topics=topic, status=DocumentStatus.READY)
        .exclude(act_key="")
        .values_list("pk", "act_key", "effective_date", "promulgation_no")
    )
    for pk, act, effective, number in rows:
        acts.setdefault(act, []).append(_Version(pk, act, effective, number))
    return acts


def _versions_on(acts: dict[str, list[_Version]], on: date) -> tuple[int, ...]:
    chosen = []
    for versions in acts.values():
        pk = in_force_on([(v.pk, v.effective, v.number) for v in versions], on)
        if pk is not None:
            chosen.append(pk)
    return tuple(sorted(chosen))


class _Pools:
    """Pools of articles by the versions they hold, loaded once each."""

    def __init__(self) -> None:
        self._pools: dict[tuple[int, ...], Pool] = {}
        self._articles: dict[int, list] = {}

    def get(self, ids: tuple[int, ...]) -> Pool:
        if ids not in self._pools:
            missing = [pk for pk in ids if pk not in self._articles]
            if missing:
                self._load(missing)
            self._pools[ids] = Pool([a for pk in ids for a in self._articles[pk]])
        return self._pools[ids]

    def _load(self, ids: list[int]) -> None:
        titles = dict(Document.objects.filter(pk__in=ids).values_list("pk", "title"))
        chunks: dict[int, list[tuple[str, str, str]]] = {pk: [] for pk in ids}
        rows = (
            DocumentChunk.objects.filter(document_id__in=ids)
            .exclude(article="")
            .order_by("document_id", "ordinal")
            .values_list("document_id", "article", "citation", "text")
        )
        for document_id, article, citation, text in rows.iterator(chunk_size=2000):
            chunks[document_id].append((article, citation, text))
        for pk in ids:
            self._articles[pk] = articles_of(pk, titles.get(pk, ""), chunks[pk])


def _stamp(
    question: Question, exam: date | None, then: Sequence[int], now: Sequence[int]
) -> str:
    payload = json.dumps(
        [
            DETECT_VERSION,
            CHECK_VERSION,
            question.stem,
            list(question.choices),
            sorted(question.accepted_set),
            exam.isoformat() if exam else None,
            list(then),
            list(now),
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _row(
    question: Question,
    found: Detection,
    *,
    exam: date | None,
    stamp: str,
) -> QuestionAmendment:
    key_now = found.key_now if found.key_now in (1, 2, 3, 4) else None
    return QuestionAmendment(
        question=question,
        status=found.status,
        reason=found.reason,
        key_now=key_now,
        exam_date=exam,
        then_document_id=found.then.document_id if found.then else None,
        now_document_id=found.now.document_id if found.now else None,
        then_article=(found.then.article if found.then else "")[:30],
        now_article=(found.now.article if found.now else "")[:30],
        data=found.data(),
        stamp=stamp,
        computed_at=timezone.now(),
    )


@dataclass(frozen=True)
class AmendmentsReport:
    questions: int
    computed: int
    flagged: int


def topic_amendments_compute(
    *, topic: Topic, today: date | None = None, force: bool = False
) -> AmendmentsReport:
    """Flag every question of the topic whose stored flag is stale (all of
    them with `force`). A topic without statutes gets no rows."""
    today = today or timezone.localdate()
    acts = _acts(topic)
    questions = list(Question.objects.filter(topic=topic).order_by("pk"))
    if not acts:
        QuestionAmendment.objects.filter(question__topic=topic).delete()
        return AmendmentsReport(len(questions), 0, 0)
    now_ids = _versions_on(acts, today)
    dates = question_exam_dates(questions)
    stored = dict(
        QuestionAmendment.objects.filter(question__topic=topic).values_list(
            "question_id", "stamp"
        )
    )
    pools = _Pools()
    rows: list[QuestionAmendment] = []
    for question in questions:
        exam = dates.get(question.pk)
        then_ids = _versions_on(acts, exam) if exam else ()
        stamp = _stamp(question, exam, then_ids, now_ids)
        if not force and stored.get(question.pk) == stamp:
            continue
        if exam is None:
            found = Detection(UNKNOWN, "no_exam_date")
        elif not then_ids:
            found = Detection(UNKNOWN, "no_version")
        else:
            found = detect(
                question_text(question),
                then=pools.get(then_ids),
                now=pools.get(now_ids),
            )
        rows.append(_row(question, found, exam=exam, stamp=stamp))
    _store(rows)
    if rows:  # the forecast scores flagged questions as they score today
        learners = (
            Attempt.objects.filter(question_id__in=[r.question_id for r in rows])
            .values_list("user_id", flat=True)
            .distinct()
        )
        forecast_snapshots_invalidate_many(pairs=((u, topic.pk) for u in learners))
    flagged = QuestionAmendment.objects.filter(
        question__topic=topic, status__in=["changed", "gone"]
    ).count()
    return AmendmentsReport(len(questions), len(rows), flagged)


def _store(rows: list[QuestionAmendment]) -> None:
    if not rows:
        return
    with transaction.atomic():
        QuestionAmendment.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["question"],
            update_fields=[
                "status",
                "reason",
                "key_now",
                "exam_date",
                "then_document",
                "now_document",
                "then_article",
                "now_article",
                "data",
                "stamp",
                "computed_at",
            ],
        )


def topic_amendments_compute_enqueue(*, topic: Topic) -> None:
    """Recompute the topic's flags in the background after the commit
    (a version added or removed, an exam date changed)."""
    topic_id = topic.pk

    def enqueue() -> None:
        try:
            async_task("study.tasks.topic_amendments_task", topic_id)
        except Exception:  # recomputed the next time it is asked for
            logger.exception("could not enqueue the 개정 flags of topic %s", topic_id)

    transaction.on_commit(enqueue)
