"""Which questions a new quiz session gets (stage buckets, rounds, subjects, mocks)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext

from study.exam_rules import STAGE_RATIOS, quotas
from study.models import Attempt, Pattern, Question, QuestionProgress, Topic
from study.models.amendment import FLAGGED
from study.models.progress import NOT_CORRECT
from study.models.question import QuestionQuerySet
from study.selectors.exam_spec import exam_paper_for_topic
from study.selectors.review_queue import review_tab_queryset

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Rng(Protocol):
    """What selection draws with: the `random` module or a seeded
    `random.Random` (tests and the simulation pass one)."""

    def uniform(self, a: float, b: float, /) -> float: ...
    def sample(self, population: Sequence[int], k: int, /) -> list[int]: ...
    def shuffle(self, x: list[int], /) -> None: ...


FREQUENT_MIN_ROUNDS = 3
SPACING = timedelta(hours=24)


# Buckets in fill order with their share of the session, as the seeds define.
class NotEnoughQuestions(ValueError):
    def __init__(self, available: int, wanted: int):
        self.available, self.wanted = available, wanted
        super().__init__(
            gettext(
                "문제가 부족합니다: %(wanted)d문제를 원했지만 "
                "풀 수 있는 문제는 %(available)d개입니다."
            )
            % {"wanted": wanted, "available": available}
        )


def _pool(*, topic: Topic, skip_amended: bool = False) -> QuestionQuerySet:
    pool = Question.objects.quizzable().filter(topic=topic)
    if skip_amended:  # questions today's statutes decide otherwise (issue 26)
        pool = pool.exclude(amendment__status__in=FLAGGED)
    return pool


# The learner's progress rows of one bucket in random order, read on the
# progress table alone (the questions' own conditions are checked on the
# sampled rows). Written out: compiled by the ORM, the three buckets of a
# start cost 1.5 ms of Python for one table's three conditions. Each
# condition is one of an index's (study_prog_due, study_prog_not_correct,
# study_prog_topic_pattern); tests/study/test_read_path_indexes.py holds
# the plans.
_PROGRESS_ROWS = """
SELECT question_id, random() AS r FROM study_questionprogress
WHERE user_id = %s AND topic_id = %s AND {condition} ORDER BY r
"""


def _progress_rows(user: User, topic: Topic, name: str) -> tuple[str, list]:
    condition: str
    params: list
    if name == "wrong_or_unsure":
        condition = "last_outcome IN ({})".format(", ".join(["%s"] * len(NOT_CORRECT)))
        params = [str(outcome) for outcome in NOT_CORRECT]
    elif name == "due_review":
        condition, params = "due_at <= %s", [timezone.now()]
    elif name == "regressed":
        condition, params = "pattern_state = %s", [str(Pattern.REGRESSED)]
    else:
        raise ValueError(f"unknown bucket {name}")
    return _PROGRESS_ROWS.format(condition=condition), [user.pk, topic.pk, *params]


def _seed_sql_random(rng: Rng) -> None:
    """Seed PostgreSQL's random() from the caller's rng, so SQL sampling is as
    reproducible as Python's (a seeded rng gives the same paper every time).
    Every random() after it on the connection follows from the seed, so one
    seed serves all the draws of one selection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [rng.uniform(-1.0, 1.0)])


def _sample_sql(qs: QuerySet, limit: int, rng: Rng) -> list[int]:
    _seed_sql_random(rng)
    return list(qs.order_by("?")[:limit])


# The bucket's progress rows put in random order first, then walked in that
# order, each row's question checked against the pool by its primary key,
# until `limit` pass: a learner with 20,000 answers has thousands of rows in
# a bucket, and joining each of them to its question to keep 20 cost more
# than the rest of the quiz start. MATERIALIZED keeps the random order a
# property of the rows (the walk stops early); the ORDER BY keeps the result
# right whatever plan is chosen.
_PROGRESS_SAMPLE = """
WITH c (question_id, r) AS MATERIALIZED ({rows})
SELECT c.question_id FROM c CROSS JOIN LATERAL ({check}) q
ORDER BY c.r LIMIT %s
"""


def _bucket_sql(
    name: str,
    *,
    user: User,
    topic: Topic,
    pool: QuerySet,
    limit: int,
    check: tuple[str, tuple],
) -> tuple[str, list]:
    """SQL for up to `limit` ids of a bucket in random order (one column);
    `check` is the pool's test of one progress row (_pool_check)."""
    if name == "unattempted":
        seen = QuestionProgress.objects.filter(user=user, question=OuterRef("pk"))
        qs = pool.filter(~Exists(seen))
    elif name == "frequent":
        qs = pool.filter(round_count__gte=FREQUENT_MIN_ROUNDS)
    elif name == "random":
        qs = pool
    else:
        rows_sql, rows_params = _progress_rows(user, topic, name)
        check_sql, check_params = check
        sql = _PROGRESS_SAMPLE.format(rows=rows_sql, check=check_sql)
        return sql, [*rows_params, *check_params, limit]
    sql, params = (
        qs.values_list("id", flat=True).order_by("?")[:limit].query.sql_with_params()
    )
    return sql, list(params)


def _pool_check(pool: QuerySet) -> tuple[str, tuple]:
    """Whether the progress row c's question is in the pool (compiled once
    for the learner's buckets of a start)."""
    check = pool.filter(pk=RawSQL('"c"."question_id"', ())).values("pk")[:1]
    return check.query.sql_with_params()


def _buckets_ids(
    limits: dict[str, int], *, user: User, topic: Topic, pool: QuerySet
) -> dict[str, list[int]]:
    """Up to `limits[name]` ids of each bucket, drawn at random in SQL (seeded
    by the caller, _seed_sql_random) in one statement, so a 7,000-question
    topic or a learner's 20,000 answers never ship all their ids to Python."""
    check = _pool_check(pool) if set(limits) & PROGRESS_BUCKETS else ("", ())
    parts, params = [], []
    for index, (name, limit) in enumerate(limits.items()):
        sql, part_params = _bucket_sql(
            name, user=user, topic=topic, pool=pool, limit=limit, check=check
        )
        parts.append(f"(SELECT {index}, b.* FROM ({sql}) b)")
        params += part_params
    found: dict[str, list[int]] = {name: [] for name in limits}
    names = list(limits)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for index, question_id in cursor.fetchall():
            found[names[index]].append(question_id)
    return found


PROGRESS_BUCKETS = {"wrong_or_unsure", "due_review", "regressed"}


def select_for_stage(
    *,
    user: User,
    topic: Topic,
    stage: str,
    size: int,
    rng: Rng = random,
    skip_amended: bool = False,
) -> list[int]:
    """The stage's buckets in fill order, each its quota. Every bucket is read
    with enough candidates that leaving out what earlier buckets took still
    leaves its quota (its quota plus all earlier quotas): a uniform draw from
    the bucket's rows not yet picked, as if read one after the other. Subjects
    off the exam paper are left out (they are drilled by subject)."""
    picked: list[int] = []
    chosen: set[int] = set()
    old = exam_paper_for_topic(topic=topic).old_subjects
    pool = (
        _pool(topic=topic, skip_amended=skip_amended)
        .exclude(subject__in=old)
        .order_by()
    )
    shares = quotas(STAGE_RATIOS[stage], size)
    limits, before = {}, 0
    for name, quota in shares.items():
        limits[name] = quota + before
        before += quota
    _seed_sql_random(rng)
    found = _buckets_ids(limits, user=user, topic=topic, pool=pool)
    for name, quota in shares.items():
        candidates = [i for i in found[name] if i not in chosen]
        take = rng.sample(candidates, min(quota, len(candidates)))
        picked += take
        chosen.update(take)
    if len(picked) < size:  # short buckets are backfilled at random
        limit = {"random": size + len(chosen)}
        backfill = _buckets_ids(limit, user=user, topic=topic, pool=pool)
        rest = [i for i in backfill["random"] if i not in chosen]
        if len(picked) + len(rest) < size:
            raise NotEnoughQuestions(len(picked) + len(rest), size)
        picked += rng.sample(rest, size - len(picked))
    rng.shuffle(picked)
    return picked


def select_for_round(
    *, topic: Topic, year: int, session: str, skip_amended: bool = False
) -> list[int]:
    ids = list(
        _pool(topic=topic, skip_amended=skip_amended)
        .filter(exam_year=year, exam_session=session)
        .in_round_order()
        .values_list("id", flat=True)
    )
    if not ids:
        raise NotEnoughQuestions(0, 1)
    return ids


def select_for_subjects(
    *,
    user: User,
    topic: Topic,
    subjects: Sequence[str],
    size: int,
    rng: Rng = random,
    skip_amended: bool = False,
) -> list[int]:
    """Chosen subjects; what was seen in the last 24 hours only if nothing else."""
    pool = _pool(topic=topic, skip_amended=skip_amended).filter(subject__in=subjects)
    recent = Attempt.objects.filter(
        user=user, question=OuterRef("pk"), created_at__gte=timezone.now() - SPACING
    )
    fresh = list(
        pool.filter(~Exists(recent)).order_by("id").values_list("id", flat=True)
    )
    picked = rng.sample(fresh, min(size, len(fresh)))
    if len(picked) < size:
        seen = list(
            pool.filter(Exists(recent)).order_by("id").values_list("id", flat=True)
        )
        if len(picked) + len(seen) < size:
            raise NotEnoughQuestions(len(picked) + len(seen), size)
        picked += rng.sample(seen, size - len(picked))
    rng.shuffle(picked)
    return picked


def select_for_mock(
    *,
    topic: Topic,
    subjects: Sequence[str],
    per_subject: int,
    rng: Rng = random,
    skip_amended: bool = False,
) -> list[int]:
    """A full paper: per_subject questions of each subject, in exam order.
    Callers check the bank can fill it first (study.selectors.exam_spec).
    With `skip_amended`, flagged questions come in only where a subject has
    too few others to fill its part."""
    picked: list[int] = []
    for subject in subjects:
        ids = _pool(topic=topic).filter(subject=subject).values_list("id", flat=True)
        take: list[int] = []
        if skip_amended:
            kept = ids.exclude(amendment__status__in=FLAGGED)
            take = _sample_sql(kept.order_by(), per_subject, rng)
            ids = ids.filter(amendment__status__in=FLAGGED)
        take += _sample_sql(ids.order_by(), per_subject - len(take), rng)
        if len(take) < per_subject:
            raise NotEnoughQuestions(len(take), per_subject)
        picked += take
    if not picked:
        raise NotEnoughQuestions(0, per_subject)
    return picked


def select_for_review_tab(
    *, user: User, topic: Topic, tab: str, size: int
) -> list[int]:
    ids = list(
        review_tab_queryset(user=user, topic=topic, tab=tab)
        .filter(question__in=_pool(topic=topic))
        .values_list("question_id", flat=True)[:size]
    )
    if not ids:
        raise NotEnoughQuestions(0, 1)
    return ids
