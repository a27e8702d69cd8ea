"""Rows from the database → the pure forecast, plan and calibration modules."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from study.forecast import calibration, memory, model, retention
from study.forecast import plan as daily
from study.models import Attempt, ExamPlan, Outcome, Question, QuestionProgress, Topic
from study.selectors.counts import queue_counts
from study.selectors.exam_spec import exam_paper_for_topic
from study.selectors.quiz_selection import topic_subject_names
from study.selectors.review_queue import end_of_today

# What a first answer says about knowing the question: right, or a guess.
OUTCOME_CREDIT: dict[str, float] = {Outcome.CORRECT: 1.0, Outcome.UNSURE: model.GUESS}

CURVE_POINTS = 20


def exam_spec(*, topic: Topic) -> list[tuple[str, int]]:
    """(subject, questions) in exam order: the topic's exam spec (the mock
    exam's paper), or its subjects × 20 when the owner has not set one."""
    paper = exam_paper_for_topic(topic=topic)
    return [(name, paper.per_subject) for name in paper.subjects]


def exam_plan_get(*, user, topic: Topic) -> ExamPlan | None:
    return ExamPlan.objects.filter(user=user, topic=topic).first()


@dataclass
class LearnerModel:
    subjects: list[model.SubjectInput]
    ids: list[list[int]]
    evidence: model.MemoryEvidence
    today: float
    answered: int


def learner_model(*, user, topic: Topic, now: datetime) -> LearnerModel:
    """The learner's memory of every quizzable question, by exam subject."""
    spec = exam_spec(topic=topic)
    bank: dict[str, list[tuple[int, int]]] = {name: [] for name, _ in spec}
    for qid, subject, rounds in (
        Question.objects.quizzable()
        .filter(topic=topic, subject__in=list(bank))
        .order_by("id")
        .values_list("id", "subject", "round_count")
    ):
        bank[subject].append((qid, rounds))
    rows = (
        Attempt.objects.filter(user=user, question__topic=topic)
        .order_by("question_id", "created_at", "id")
        .values_list("question_id", "created_at", "outcome")
    )
    answers = [(qid, at, outcome) for qid, at, outcome in rows]
    evidence_rows: list = []
    states = memory.replay_many(
        ((qid, at, o == Outcome.CORRECT) for qid, at, o in answers), evidence_rows
    )
    first: dict[int, tuple[datetime, str]] = {}
    wrong = unsure = 0
    for qid, at, outcome in answers:
        first.setdefault(qid, (at, outcome))
        wrong += outcome == Outcome.WRONG
        unsure += outcome == Outcome.UNSURE
    today = memory.day_number(now)
    started = min((memory.day_number(at) for at, _ in first.values()), default=today)
    subjects, ids = [], []
    for name, n in spec:
        table: list[tuple[float, float | None, float | None]] = []
        correct, answered, first_days = 0.0, 0, []
        for qid, rounds in bank[name]:
            state = states.get(qid)
            weight = model.recurrence_weight(rounds)
            if state is None:
                table.append((weight, None, None))
                continue
            table.append((weight, state.stability, state.last_review_day))
            at, outcome = first[qid]
            answered += 1
            correct += OUTCOME_CREDIT.get(outcome, 0.0)
            first_days.append(memory.day_number(at))
        subjects.append(
            model.SubjectInput.build(
                name,
                n,
                table,
                correct,
                answered,
                model.pace(first_days, now=today, started=started),
            )
        )
        ids.append([qid for qid, _ in bank[name]])
    return LearnerModel(
        subjects=subjects,
        ids=ids,
        evidence=model.MemoryEvidence.build(
            evidence_rows, model.guess_rate(wrong, unsure)
        ),
        today=today,
        answered=len(answers),
    )


def exam_day_number(exam_date: date) -> float:
    return memory.day_number(
        retention.exam_start(exam_date, timezone.get_current_timezone())
    )


@dataclass
class CurvePoint:
    day: date
    p: float


@dataclass
class TopicForecast:
    exam_plan: ExamPlan
    days_left: int
    forecast: model.Forecast | None
    due_count: int
    pending_count: int
    curve: list[CurvePoint] = field(default_factory=list)
    idle_curve: list[CurvePoint] = field(default_factory=list)

    @property
    def d_day(self) -> str:
        if self.days_left > 0:
            return f"D-{self.days_left}"
        return "D-day" if self.days_left == 0 else f"D+{-self.days_left}"

    @property
    def is_past(self) -> bool:
        return self.days_left < 0


def review_counts(*, user, topic: Topic) -> tuple[int, int]:
    """오늘 복습 and 확인 안 함, as the review queue counts them."""
    counts = queue_counts(user=user, topic=topic)
    return counts.due_today, counts.pending_review


_LOOKUP = object()


def exam_plans_by_topic(*, user) -> dict[int, ExamPlan]:
    return {p.topic_id: p for p in ExamPlan.objects.filter(user=user)}


def topic_forecast(
    *,
    user,
    topic: Topic,
    now: datetime | None = None,
    with_curve: bool = False,
    exam_plan=_LOOKUP,
) -> TopicForecast | None:
    """D-day, review counts and P(합격) on the exam date; None without a date."""
    if exam_plan is _LOOKUP:
        exam_plan = exam_plan_get(user=user, topic=topic)
    if exam_plan is None:
        return None
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
    lm = learner_model(user=user, topic=topic, now=now)
    if not lm.subjects or days_left < 0:
        return result
    exam_day = max(exam_day_number(exam_plan.exam_date), lm.today)
    result.forecast = model.forecast(
        lm.subjects, exam_day=exam_day, today=lm.today, evidence=lm.evidence
    )
    if with_curve:
        result.curve, result.idle_curve = _curves(lm, exam_plan.exam_date, now)
    return result


def _curves(lm: LearnerModel, exam_date: date, now: datetime):
    """P(합격) if the exam were on each day from today to the exam date: at
    the learner's pace, and if they stopped studying today. All the days are
    one batch of array operations (model.pass_curve), not a forecast each."""
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
    return paced, idle


def plan_seed(*, user, topic: Topic, day: date) -> int:
    return zlib.crc32(f"{user.pk}:{topic.pk}:{day.isoformat()}".encode())


@dataclass
class DailyPlan:
    exam_plan: ExamPlan
    plan: daily.Plan
    reviews: list[QuestionProgress]
    new_questions: list[Question]


def daily_plan(*, user, topic: Topic, now: datetime | None = None) -> DailyPlan | None:
    """오늘 할 일 for a learner with an exam date (the same all day: seeded)."""
    exam_plan = exam_plan_get(user=user, topic=topic)
    if exam_plan is None:
        return None
    now = now or timezone.now()
    lm = learner_model(user=user, topic=topic, now=now)
    due_rows = list(
        QuestionProgress.objects.filter(
            user=user,
            topic=topic,
            due_at__isnull=False,
            due_at__lt=end_of_today(),
        )
        .filter(question__deleted_at__isnull=True)
        .filter(Q(question__needs_figure=False) | ~Q(question__figure=""))
        .select_related("question")
        .order_by("due_at", "id")
    )
    result = daily.daily_plan(
        subjects=lm.subjects,
        ids=lm.ids,
        due_ids=[row.question_id for row in due_rows],
        size=exam_plan.daily_size,
        today=lm.today,
        exam_day=max(exam_day_number(exam_plan.exam_date), lm.today + 1),
        seed=plan_seed(user=user, topic=topic, day=timezone.localdate(now)),
    )
    chosen = set(result.reviews)
    by_id = Question.objects.in_bulk(result.new)
    return DailyPlan(
        exam_plan=exam_plan,
        plan=result,
        reviews=[row for row in due_rows if row.question_id in chosen],
        new_questions=[by_id[i] for i in result.new if i in by_id],
    )


def calibration_for(*, user, topic: Topic) -> calibration.CalibrationReport:
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
