"""Rows from the database → the pure forecast, plan and calibration modules."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import Enum, auto
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from django.db.models import F, Func, IntegerField, JSONField, Q
from django.utils import timezone

if TYPE_CHECKING:
    from django.contrib.auth.models import User

from study import rounds
from study.forecast import calibration, codec, memory, model, papers, retention
from study.forecast import plan as daily
from study.forecast.papers import NewShare
from study.forecast.reliability import Bin, reliability_bins
from study.models import (
    Attempt,
    ExamPlan,
    ForecastSnapshot,
    Outcome,
    Question,
    QuestionAmendment,
    QuestionProgress,
    QuizMode,
    QuizSession,
    QuizStatus,
    Topic,
)
from study.models.amendment import FLAGGED
from study.models.question import UNSHOWN_FIELDS
from study.selectors.counts import queue_counts
from study.selectors.exam_spec import exam_paper_for_topic, topic_subject_names
from study.selectors.review_queue import end_of_today, pending_review_q
from study.selectors.scores import PaperScore, paper_score
from study.subjects import subject_key

# What a first answer says about knowing the question: right, or a guess.
OUTCOME_CREDIT: dict[str, float] = {Outcome.CORRECT: 1.0, Outcome.UNSURE: model.GUESS}

CURVE_POINTS = 20


def exam_spec(*, topic: Topic) -> list[tuple[str, int]]:
    """(subject, questions) in exam order: the topic's exam spec (the mock
    exam's paper), or its subjects × 20 when the owner has not set one."""
    paper = exam_paper_for_topic(topic=topic)
    return [(name, paper.per_subject) for name in paper.subjects]


def exam_plan_get(*, user: User, topic: Topic) -> ExamPlan | None:
    return ExamPlan.objects.filter(user=user, topic=topic).first()


@dataclass
class LearnerModel:
    subjects: list[model.SubjectInput]
    ids: list[list[int]]
    evidence: model.MemoryEvidence
    today: float
    answered: int


@dataclass(frozen=True)
class SittingRecord:
    """A mock or a whole round the learner finished: its answers."""

    session_id: int
    mode: str
    params: dict
    started_at: datetime
    finished_at: datetime
    answers: tuple[tuple[int, str, str], ...]  # (question id, subject, outcome)

    @property
    def start_day(self) -> float:
        return memory.day_number(self.started_at)

    @property
    def score(self) -> PaperScore:
        return paper_score(
            (subject, outcome == Outcome.CORRECT)
            for _, subject, outcome in self.answers
        )


@dataclass
class LearnerHistory:
    """Everything the forecast reads of one learner in one topic, as rows: the
    exam spec, the bank, every answer and the sittings. A forecast at any
    moment is a plain function of it (model_at)."""

    spec: list[tuple[str, int]]
    bank: dict[str, list[tuple[int, int]]]  # subject → (question id, rounds)
    answers: list[tuple[int, datetime, str]]  # by question, then time
    sittings: list[SittingRecord]  # oldest first
    shares: dict[str, NewShare]
    steps: dict[int, list[memory.MemoryState]] = field(default_factory=dict)
    evidence: list[tuple[float, float, bool, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.steps = memory.replay_history(
            ((qid, at, o == Outcome.CORRECT) for qid, at, o in self.answers),
            self.evidence,
        )
        firsts: dict[int, tuple[float, str]] = {}
        for qid, at, outcome in self.answers:
            firsts.setdefault(qid, (memory.day_number(at), outcome))
        self.firsts = firsts
        self.answer_days = sorted(
            (memory.day_number(at), outcome) for _, at, outcome in self.answers
        )
        self.subject_of = {
            qid: name for name, rows in self.bank.items() for qid, _ in rows
        }


SITTING_MODES = (QuizMode.MOCK, QuizMode.ROUND)


def amended_keys(*, topic: Topic) -> dict[int, int | None]:
    """The questions flagged 개정됨/삭제됨 (issue 26) and the choice today's
    law keys (None when it keys none: the question is not scored today)."""
    return dict(
        QuestionAmendment.objects.filter(
            question__topic=topic, status__in=FLAGGED
        ).values_list("question_id", "key_now")
    )


def today_outcome(
    today: dict[int, int | None], qid: int, outcome: str, choice: int | None
) -> str:
    """An answer as it would score on the exam today: on a flagged question
    keyed anew, right when it chose today's key; otherwise as recorded."""
    key_now = today.get(qid)
    if key_now is None or outcome == Outcome.UNSURE or choice is None:
        return outcome
    return Outcome.CORRECT if choice == key_now else Outcome.WRONG


def topic_sittings(
    *, user: User, topic: Topic, limit: int, today: dict[int, int | None] | None = None
) -> list[SittingRecord]:
    """The learner's latest finished mocks and whole rounds (every question of
    the round answered), oldest first: two queries."""
    sessions = list(
        QuizSession.objects.filter(
            user=user,
            topic=topic,
            mode__in=SITTING_MODES,
            finished_at__isnull=False,
        )
        .filter(
            Q(mode=QuizMode.MOCK)
            | Q(status=QuizStatus.FINISHED, answered_count=_Cardinality("question_ids"))
        )
        .exclude(answered_count=0)
        .order_by("-finished_at", "-id")
        .values("id", "mode", "params", "started_at", "finished_at")[:limit]
    )
    answers: dict[int, list[tuple[int, str, str]]] = {}
    if today is None:
        today = amended_keys(topic=topic)
    for sid, qid, subject, outcome, choice in (
        Attempt.objects.filter(session_id__in=[row["id"] for row in sessions])
        .order_by("session_id", "position")
        .values_list(
            "session_id",
            "question_id",
            "question__subject",
            "outcome",
            "selected_choice",
        )
    ):
        outcome = today_outcome(today, qid, outcome, choice)
        answers.setdefault(sid, []).append((qid, subject, outcome))
    return [
        SittingRecord(
            session_id=row["id"],
            mode=row["mode"],
            params=row["params"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            answers=tuple(answers.get(row["id"], ())),
        )
        for row in reversed(sessions)
    ]


class _Cardinality(Func):
    function = "cardinality"
    output_field = IntegerField()


class _RepeatRounds(Func):
    """The years and sessions of a question's stored repeats (JSON arrays)."""

    output_field = JSONField()

    def __init__(self, field_name: str, key: str) -> None:
        super().__init__(F(field_name))
        self.template = f"jsonb_path_query_array(%(expressions)s, '$[*].{key}')"


def _round_order(year: int, session: str) -> tuple:
    return (year, rounds.session_sitting_sort_key(session))


def topic_new_shares(*, topic: Topic, subjects: list[str]) -> dict[str, NewShare]:
    """The share of never-asked questions per subject, from the topic's rounds
    and the repeat analysis (only questions whose relations are computed)."""
    rows = (
        Question.objects.alive()
        .filter(topic=topic, subject__in=subjects, exam_year__isnull=False)
        .exclude(exam_session="")
        .filter(related_computed_at__isnull=False)
        .annotate(
            repeat_years=_RepeatRounds("related_repeat", "year"),
            repeat_sessions=_RepeatRounds("related_repeat", "session"),
        )
        .values_list(
            "subject", "exam_year", "exam_session", "repeat_years", "repeat_sessions"
        )
    )
    questions = []
    for subject, year, session, years, sessions in rows:
        own = _round_order(year, session)
        earlier = any(
            y is not None and _round_order(y, s or "") < own
            for y, s in zip(years or [], sessions or [], strict=False)
        )
        questions.append((subject, own, not earlier))
    return papers.new_shares(questions, subjects)


def learner_history(
    *, user: User, topic: Topic, sittings: int = model.SITTING_MAX
) -> LearnerHistory:
    spec = exam_spec(topic=topic)
    bank: dict[str, list[tuple[int, int]]] = {name: [] for name, _ in spec}
    today = amended_keys(topic=topic)
    for qid, subject, rounds_seen in (
        Question.objects.quizzable()
        .filter(topic=topic, subject__in=list(bank))
        .order_by("id")
        .values_list("id", "subject", "round_count")
    ):
        if today.get(qid, 0) is not None:  # a question today's law cannot key
            bank[subject].append((qid, rounds_seen))
    answers = [
        (qid, at, today_outcome(today, qid, outcome, choice))
        for qid, at, outcome, choice in Attempt.objects.filter(
            user=user, question__topic=topic
        )
        .order_by("question_id", "created_at", "id")
        .values_list("question_id", "created_at", "outcome", "selected_choice")
        if today.get(qid, 0) is not None
    ]
    return LearnerHistory(
        spec=spec,
        bank=bank,
        answers=answers,
        sittings=topic_sittings(user=user, topic=topic, limit=sittings, today=today),
        shares=topic_new_shares(topic=topic, subjects=list(bank)),
    )


def learner_model(*, user: User, topic: Topic, now: datetime) -> LearnerModel:
    """The learner's memory of every quizzable question, by exam subject."""
    return model_at(learner_history(user=user, topic=topic), now=now)


def _first_stats(history: LearnerHistory, day: float) -> dict[str, list[float]]:
    """Per subject: (first answers' score, count) before `day`."""
    stats = {name: [0.0, 0] for name, _ in history.spec}
    for qid, (first_day, outcome) in history.firsts.items():
        name = history.subject_of.get(qid)
        if name is None or first_day >= day:
            continue
        stats[name][0] += OUTCOME_CREDIT.get(outcome, 0.0)
        stats[name][1] += 1
    return stats


def _evidence_before(history: LearnerHistory, day: float) -> model.MemoryEvidence:
    wrong = unsure = 0
    for answer_day, outcome in history.answer_days:
        if answer_day >= day:
            break
        wrong += outcome == Outcome.WRONG
        unsure += outcome == Outcome.UNSURE
    return model.MemoryEvidence.build(
        [row[:3] for row in history.evidence if row[3] < day],
        model.guess_rate(wrong, unsure),
    )


def _sittings_before(
    history: LearnerHistory, day: float
) -> dict[str, list[model.Sitting]]:
    """Each earlier sitting (in the window) per subject: what the model said
    of its questions just before it, and what happened."""
    out: dict[str, list[model.Sitting]] = {name: [] for name, _ in history.spec}
    recent = [
        s
        for s in history.sittings
        if s.start_day < day and day - s.start_day <= model.SITTING_WINDOW
    ][-model.SITTING_MAX :]
    for sitting in recent:
        start = sitting.start_day
        memory_factor = model.memory_mean(
            model.memory_posterior(_evidence_before(history, start))
        )
        for name, _ in history.spec:
            asked = [(qid, o) for qid, subject, o in sitting.answers if subject == name]
            if not asked:
                continue
            states = [
                memory.state_before(history.steps.get(qid, []), start)
                for qid, _ in asked
            ]
            remembered, unseen = model.sitting_memory(
                np.array([np.nan if st is None else st.stability for st in states]),
                np.array(
                    [np.nan if st is None else st.last_review_day for st in states]
                ),
                at_day=start,
                memory=memory_factor,
            )
            right = sum(OUTCOME_CREDIT.get(o, 0.0) for _, o in asked)
            out[name].append(
                model.Sitting(
                    remembered=remembered,
                    unseen=unseen,
                    right=right,
                    asked=len(asked),
                    weight=model.sitting_weight(day - start),
                )
            )
    return out


def model_at(
    history: LearnerHistory, *, now: datetime, learned_before: datetime | None = None
) -> LearnerModel:
    """The forecast's inputs as they were at `now` (answers before it only).

    With learned_before, what the learner answered after it is not yet
    memory (the sittings before `now` still count as evidence): "if the exam
    were today", keys seen minutes ago are not knowledge yet."""
    sittings = _sittings_before(history, memory.day_number(now))
    today = memory.day_number(learned_before or now)
    stats = _first_stats(history, today)
    firsts = [d for d, _ in history.firsts.values() if d < today]
    started = min(firsts, default=today)
    subjects, ids = [], []
    for name, n in history.spec:
        table: list[tuple[float, float | None, float | None]] = []
        first_days: list[float] = []
        for qid, rounds_seen in history.bank[name]:
            weight = model.recurrence_weight(rounds_seen)
            state = memory.state_before(history.steps.get(qid, []), today)
            if state is None:
                table.append((weight, None, None))
                continue
            table.append((weight, state.stability, state.last_review_day))
            first_days.append(history.firsts[qid][0])
        subjects.append(
            model.SubjectInput.build(
                name,
                n,
                table,
                stats[name][0],
                int(stats[name][1]),
                model.pace(first_days, now=today, started=started),
                new_share=history.shares[name],
                sittings=sittings[name],
            )
        )
        ids.append([qid for qid, _ in history.bank[name]])
    return LearnerModel(
        subjects=subjects,
        ids=ids,
        evidence=_evidence_before(history, today),
        today=today,
        answered=sum(1 for d, _ in history.answer_days if d < today),
    )


def exam_day_number(exam_date: date) -> float:
    return memory.day_number(
        retention.exam_start(exam_date, timezone.get_current_timezone())
    )


@dataclass
class CurvePoint:
    day: date
    p: float


RECENT_SITTING_DAYS = 14


@dataclass(frozen=True)
class Risk:
    subject: model.SubjectForecast
    sitting_score: float | None  # below 40 in the latest sitting

    @property
    def is_serious(self) -> bool:
        return self.sitting_score is not None or self.subject.fail_probability >= 0.05


@dataclass
class TopicForecast:
    exam_plan: ExamPlan
    days_left: int
    forecast: model.Forecast | None
    due_count: int
    pending_count: int
    curve: list[CurvePoint] = field(default_factory=list)
    idle_curve: list[CurvePoint] = field(default_factory=list)
    latest_sitting: SittingRecord | None = None
    new_share_measured: bool = False

    @property
    def recent_sitting(self) -> SittingRecord | None:
        """The latest mock or whole round, when recent enough to name."""
        sitting = self.latest_sitting
        if sitting is None or self.forecast is None:
            return None
        age = timezone.now() - sitting.finished_at
        return sitting if age <= timedelta(days=RECENT_SITTING_DAYS) else None

    @property
    def risk(self) -> Risk | None:
        """The subject most at risk of 과락: one the learner failed in the
        latest sitting comes first (the lowest score), else the forecast's."""
        if self.forecast is None or not self.forecast.subjects:
            return None
        by_key = {subject_key(s.name): s for s in self.forecast.subjects}
        sitting = self.recent_sitting
        if sitting is not None:
            failed = sorted(
                (
                    s
                    for s in sitting.score.subjects
                    if s.failing and s.subject in by_key
                ),
                key=lambda s: s.score,
            )
            if failed:
                return Risk(by_key[failed[0].subject], failed[0].score)
        subject = self.forecast.most_at_risk
        return Risk(subject, None) if subject else None

    @property
    def d_day(self) -> str:
        if self.days_left > 0:
            return f"D-{self.days_left}"
        return "D-day" if self.days_left == 0 else f"D+{-self.days_left}"

    @property
    def is_past(self) -> bool:
        return self.days_left < 0


def review_counts(*, user: User, topic: Topic) -> tuple[int, int]:
    """오늘 복습 and 확인 안 함, as the review queue counts them."""
    counts = queue_counts(user=user, topic=topic)
    return counts.due_today, counts.pending_review


class _Lookup(Enum):
    """A default meaning "read it here" (None is a real value: no plan)."""

    LOOKUP = auto()


_LOOKUP = _Lookup.LOOKUP


def exam_plans_by_topic(*, user: User) -> dict[int, ExamPlan]:
    return {p.topic_id: p for p in ExamPlan.objects.filter(user=user)}


def topic_forecast(
    *,
    user: User,
    topic: Topic,
    now: datetime | None = None,
    with_curve: bool = False,
    exam_plan: ExamPlan | None | Literal[_Lookup.LOOKUP] = _LOOKUP,
    snapshot: ForecastSnapshot | None | Literal[_Lookup.LOOKUP] = _LOOKUP,
) -> TopicForecast | None:
    """D-day, review counts and P(합격) on the exam date; None without a date.

    P(합격) (and its curve) comes from the learner's forecast snapshot when it
    is fresh (the background refresh keeps it so), else it is computed here;
    an explicit `now` always computes. D-day and the counts are always live.
    """
    if exam_plan is _LOOKUP:
        exam_plan = exam_plan_get(user=user, topic=topic)
    if exam_plan is None:
        return None
    live = now is not None
    now = now or timezone.now()
    days_left = (exam_plan.exam_date - timezone.localdate(now)).days
    due, pending = review_counts(user=user, topic=topic)
    result = TopicForecast(
        exam_plan=exam_plan,
        days_left=days_left,
        forecast=None,
        due_count=due,
        pending_count=pending,
    )
    if days_left < 0:
        return result
    parts = None
    if not live:
        if snapshot is _LOOKUP:
            snapshot = snapshot_get(user=user, topic=topic)
        parts = snapshot_part(snapshot, "forecast", now=now, exam_plan=exam_plan)
    if parts is None:
        parts = forecast_parts(
            user=user, topic=topic, exam_plan=exam_plan, now=now, with_curve=with_curve
        )
    result.forecast = parts.forecast
    result.latest_sitting = parts.latest_sitting
    result.new_share_measured = parts.new_share_measured
    if with_curve:
        result.curve, result.idle_curve = parts.curve, parts.idle_curve
    return result


@dataclass
class ForecastParts:
    """What the snapshot keeps of a forecast: P(합격), its two curves, the
    latest sitting and whether the share of new questions was measured."""

    forecast: model.Forecast | None
    curve: list[CurvePoint] = field(default_factory=list)
    idle_curve: list[CurvePoint] = field(default_factory=list)
    latest_sitting: SittingRecord | None = None
    new_share_measured: bool = False


def forecast_parts(
    *,
    user: User,
    topic: Topic,
    exam_plan: ExamPlan,
    now: datetime,
    with_curve: bool,
    history: LearnerHistory | None = None,
    lm: LearnerModel | None = None,
) -> ForecastParts:
    """P(합격) on the exam date from every answer (the expensive part)."""
    history = history or learner_history(user=user, topic=topic)
    lm = lm or model_at(history, now=now)
    if not lm.subjects:
        return ForecastParts(forecast=None)
    exam_day = max(exam_day_number(exam_plan.exam_date), lm.today)
    parts = ForecastParts(
        forecast=model.forecast(
            lm.subjects, exam_day=exam_day, today=lm.today, evidence=lm.evidence
        ),
        latest_sitting=history.sittings[-1] if history.sittings else None,
        new_share_measured=any(share.measured for share in history.shares.values()),
    )
    if with_curve:
        parts.curve, parts.idle_curve = _curves(history, lm, exam_plan.exam_date, now)
    return parts


def _curves(
    history: LearnerHistory, lm: LearnerModel, exam_date: date, now: datetime
) -> tuple[list[CurvePoint], list[CurvePoint]]:
    """P(합격) if the exam were on each day from today to the exam date: at
    the learner's pace, and if they stopped studying today. All the days are
    one batch of array operations (model.pass_curve), not a forecast each.

    The curve starts from where the learner is: today's point counts what
    was learned before today, with every sitting (today's mock too) as
    evidence; what was answered today is memory from tomorrow on."""
    start = timezone.localdate(now)
    span = (exam_date - start).days
    step = max(1, -(-span // CURVE_POINTS))
    offsets = sorted({*range(0, span, step), span}) if span > 0 else [0]
    days = [start + timedelta(days=offset) for offset in offsets]
    exam_days = [max(exam_day_number(day), lm.today) for day in days]
    weights = model.memory_posterior(lm.evidence)
    paced, idle = (
        [
            CurvePoint(day=day, p=p)
            for day, p in zip(
                days,
                model.pass_curve(
                    lm.subjects, days=exam_days, today=today, memory_weights=weights
                ),
                strict=True,
            )
        ]
        for today in (lm.today, None)
    )
    if days[0] == start:
        midnight = timezone.make_aware(datetime.combine(start, time.min))
        before = model_at(history, now=now, learned_before=min(midnight, now))
        first = model.pass_curve(
            before.subjects,
            days=exam_days[:1],
            memory_weights=model.memory_posterior(before.evidence),
        )[0]
        paced[0].p = idle[0].p = first
    return paced, idle


def plan_seed(*, user: User, topic: Topic, day: date) -> int:
    return zlib.crc32(f"{user.pk}:{topic.pk}:{day.isoformat()}".encode())


@dataclass
class DailyPlan:
    exam_plan: ExamPlan
    plan: daily.Plan
    reviews: list[QuestionProgress]
    new_questions: list[Question]
    misses: list[Question] = field(default_factory=list)


def daily_plan(
    *, user: User, topic: Topic, now: datetime | None = None
) -> DailyPlan | None:
    """오늘 할 일 for a learner with an exam date (the same all day: seeded),
    from the forecast snapshot when it is fresh."""
    exam_plan = exam_plan_get(user=user, topic=topic)
    if exam_plan is None:
        return None
    plan = None
    if now is None:
        now = timezone.now()
        snapshot = snapshot_get(user=user, topic=topic)
        plan = snapshot_part(snapshot, "plan", now=now, exam_plan=exam_plan)
    if plan is None:
        plan = daily_plan_compute(user=user, topic=topic, exam_plan=exam_plan, now=now)
    chosen = set(plan.reviews)
    reviews = list(
        QuestionProgress.objects.filter(
            user=user, topic=topic, question_id__in=plan.reviews
        )
        .select_related("question")
        .defer(*(f"question__{name}" for name in UNSHOWN_FIELDS))
        .order_by("due_at", "id")
    )
    by_id = Question.objects.defer(*UNSHOWN_FIELDS).in_bulk([*plan.misses, *plan.new])
    return DailyPlan(
        exam_plan=exam_plan,
        plan=plan,
        reviews=[row for row in reviews if row.question_id in chosen],
        misses=[by_id[i] for i in plan.misses if i in by_id],
        new_questions=[by_id[i] for i in plan.new if i in by_id],
    )


def daily_plan_compute(
    *,
    user: User,
    topic: Topic,
    exam_plan: ExamPlan,
    now: datetime,
    lm: LearnerModel | None = None,
) -> daily.Plan:
    """Today's due reviews and the new questions that raise P(합격) most."""
    lm = lm or learner_model(user=user, topic=topic, now=now)
    due_ids = list(
        QuestionProgress.objects.filter(
            user=user,
            topic=topic,
            due_at__isnull=False,
            due_at__lt=end_of_today(),
        )
        .filter(question__deleted_at__isnull=True)
        .filter(Q(question__needs_figure=False) | ~Q(question__figure=""))
        .order_by("due_at", "id")
        .values_list("question_id", flat=True)
    )
    miss_ids = list(
        QuestionProgress.objects.filter(user=user, topic=topic)
        .filter(pending_review_q())
        .filter(question__deleted_at__isnull=True)
        .filter(Q(question__needs_figure=False) | ~Q(question__figure=""))
        .order_by("-last_attempted_at", "id")
        .values_list("question_id", flat=True)
    )
    return daily.daily_plan(
        subjects=lm.subjects,
        ids=lm.ids,
        miss_ids=miss_ids,
        due_ids=due_ids,
        size=exam_plan.daily_size,
        today=lm.today,
        exam_day=max(exam_day_number(exam_plan.exam_date), lm.today + 1),
        seed=plan_seed(user=user, topic=topic, day=timezone.localdate(now)),
    )


def calibration_for(*, user: User, topic: Topic) -> calibration.CalibrationReport:
    """From the forecast snapshot when it is fresh, else from every answer."""
    snapshot = snapshot_get(user=user, topic=topic)
    report = snapshot_part(snapshot, "calibration", now=timezone.now(), exam_plan=None)
    return report if report is not None else calibration_compute(user=user, topic=topic)


def calibration_compute(*, user: User, topic: Topic) -> calibration.CalibrationReport:
    tz = timezone.get_current_timezone()
    rows = (
        Attempt.objects.filter(user=user, question__topic=topic)
        .order_by("created_at", "id")
        .values_list("question__subject", "outcome", "question_id", "created_at")
    )
    report = calibration.calibration_report(
        (subject, outcome, qid, at.astimezone(tz)) for subject, outcome, qid, at in rows
    )
    order = {name: i for i, name in enumerate(topic_subject_names(topic=topic))}
    report.subjects.sort(key=lambda s: order.get(s.subject, len(order)))
    return report


TRACK_HORIZONS = (7, 28)  # days before a sitting the forecast is replayed
TRACK_SITTINGS = 20
TRACK_DRAWS = 16
TRACK_BINS = 5
NEAR_EXAM_DAYS = 3


@dataclass(frozen=True)
class PastForecast:
    """What the forecast would have said `days_before` a sitting, for an exam
    at the sitting, against what happened (the sitting's 합격/불합격)."""

    sitting: SittingRecord
    days_before: int
    p: float

    @property
    def passed(self) -> bool:
        return self.sitting.score.passed


@dataclass(frozen=True)
class NearExam:
    sitting: SittingRecord
    forecasts: dict[int, float]  # days before → P(합격)

    @property
    def week(self) -> float | None:
        return self.forecasts.get(7)

    @property
    def month(self) -> float | None:
        return self.forecasts.get(28)


@dataclass
class TrackRecord:
    forecasts: list[PastForecast]
    bins: list[Bin]
    exam_date: date | None = None
    near_exam: list[PastForecast] = field(default_factory=list)

    @property
    def judged(self) -> list[PastForecast]:
        return [f for f in self.forecasts if f.days_before == TRACK_HORIZONS[0]]

    @property
    def near_exam_sittings(self) -> list[NearExam]:
        """The sittings near the passed exam date, each with its forecasts."""
        rows: dict[int, NearExam] = {}
        for f in self.near_exam:
            row = rows.setdefault(f.sitting.session_id, NearExam(f.sitting, {}))
            row.forecasts[f.days_before] = f.p
        return list(rows.values())


def forecast_track_record(*, user: User, topic: Topic) -> TrackRecord:
    """From the forecast snapshot when it is fresh, else replayed here."""
    plan = exam_plan_get(user=user, topic=topic)
    now = timezone.now()
    snapshot = snapshot_get(user=user, topic=topic)
    record = snapshot_part(snapshot, "track", now=now, exam_plan=plan)
    if record is None:
        record = forecast_track_record_compute(user=user, topic=topic, exam_plan=plan)
    return record


def forecast_track_record_compute(
    *,
    user: User,
    topic: Topic,
    exam_plan: ExamPlan | None,
    history: LearnerHistory | None = None,
    now: datetime | None = None,
) -> TrackRecord:
    """The learner's own past forecasts against their sittings: for every
    finished mock or whole round, the forecast replayed from the answers
    given until 7 (and 28) days before it, for an exam at that moment."""
    history = history or learner_history(
        user=user, topic=topic, sittings=TRACK_SITTINGS
    )
    today = timezone.localdate(now)
    exam_date = (
        exam_plan.exam_date
        if exam_plan is not None and exam_plan.exam_date < today
        else None
    )

    def near_exam(sitting: SittingRecord) -> bool:
        if exam_date is None:
            return False
        day = timezone.localdate(sitting.finished_at)
        return abs((day - exam_date).days) <= NEAR_EXAM_DAYS

    made = []
    for sitting in history.sittings:
        # The reliability picture needs the 7-day forecast of every sitting;
        # the 28-day one is shown only for the sitting near the exam date.
        horizons = TRACK_HORIZONS if near_exam(sitting) else TRACK_HORIZONS[:1]
        for days_before in horizons:
            then = sitting.started_at - timedelta(days=days_before)
            lm = model_at(history, now=then)
            if not lm.answered or not lm.subjects:
                continue
            p = model.forecast(
                lm.subjects,
                exam_day=sitting.start_day,
                today=lm.today,
                evidence=lm.evidence,
                draws=TRACK_DRAWS,
            ).pass_probability
            made.append(PastForecast(sitting, days_before, p))
    record = TrackRecord(forecasts=made, bins=[], exam_date=exam_date)
    record.bins = [
        b
        for b in reliability_bins([(f.p, f.passed) for f in record.judged], TRACK_BINS)
        if b.n
    ]
    record.near_exam = [f for f in made if near_exam(f.sitting)]
    return record


# -- the forecast snapshot (study.forecast.snapshots computes and stores it) --

# Every class a snapshot part holds; their shape is the snapshot's version.
SNAPSHOT_CLASSES = (
    ForecastParts,
    CurvePoint,
    SittingRecord,
    TrackRecord,
    PastForecast,
    Bin,
    model.Forecast,
    model.SubjectForecast,
    daily.Plan,
    calibration.CalibrationReport,
    calibration.SubjectCalibration,
    calibration.Tally,
)
SNAPSHOT_PARTS = ("forecast", "plan", "calibration", "track")


def snapshot_version() -> str:
    return codec.shape_version(SNAPSHOT_CLASSES)


def snapshot_get(*, user: User, topic: Topic) -> ForecastSnapshot | None:
    return ForecastSnapshot.objects.filter(user=user, topic=topic).first()


def snapshots_by_topic(*, user: User) -> dict[int, ForecastSnapshot]:
    return {s.topic_id: s for s in ForecastSnapshot.objects.filter(user=user)}


def snapshot_is_fresh(
    snapshot: ForecastSnapshot | None,
    part: str,
    *,
    now: datetime,
    exam_plan: ExamPlan | None,
) -> bool:
    """Computed after the last change it depends on: every part after the
    last finished session; the forecast and the plan also today, for this
    exam date (and the plan for this daily size); the track record for this
    exam date, on a day when it was as far past as today."""
    if snapshot is None or snapshot.stale or snapshot.version != snapshot_version():
        return False
    if part == "calibration":
        return True
    if part == "track":
        exam_date = exam_plan.exam_date if exam_plan is not None else None
        if snapshot.exam_date != exam_date:
            return False
        return exam_date is None or (
            snapshot.computed_for is not None
            and (exam_date < snapshot.computed_for)
            == (exam_date < timezone.localdate(now))
        )
    return (
        exam_plan is not None
        and snapshot.computed_for == timezone.localdate(now)
        and snapshot.exam_date == exam_plan.exam_date
        and (part != "plan" or snapshot.daily_size == exam_plan.daily_size)
    )


def snapshot_part(
    snapshot: ForecastSnapshot | None,
    part: str,
    *,
    now: datetime,
    exam_plan: ExamPlan | None,
) -> Any:
    """The stored part (ForecastParts, daily.Plan, CalibrationReport or
    TrackRecord), or None when it is missing, not fresh or of another shape."""
    if not snapshot_is_fresh(snapshot, part, now=now, exam_plan=exam_plan):
        return None
    data = getattr(snapshot, part)
    if data is None:
        return None
    try:
        return codec.decode(data, SNAPSHOT_CLASSES)
    except codec.ShapeError:
        return None
