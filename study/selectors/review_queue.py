"""Review-queue tabs over the learner's progress rows (each backed by an index)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy

from study.models import Pattern, Question, QuestionProgress, Topic
from study.models.progress import NOT_CORRECT

TABS = {
    "due_today": gettext_lazy("오늘 복습"),
    "pending_review": gettext_lazy("확인 안 함"),
    "chronic": gettext_lazy("고질 오답"),
    "regressed": gettext_lazy("퇴행"),
    "mastered": pgettext_lazy("review tab", "완료"),
}


def end_of_today() -> datetime:
    local_now = timezone.localtime()
    tomorrow = local_now.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, time.min))


def pending_review_q() -> Q:
    return Q(last_outcome__in=NOT_CORRECT) & (
        Q(last_reviewed_at__isnull=True)
        | Q(last_reviewed_at__lt=F("last_attempted_at"))
    )


def live_progress(*, user: User, topic: Topic) -> QuerySet[QuestionProgress]:
    """The learner's progress rows in the topic whose question is not deleted.

    Written as "no deleted question of the topic has this id" rather than a
    join on the question's deleted_at: the join fetched every counted row's
    question by primary key (20,000 answers at full scale: 6,485 rows, 19,682
    buffers), the anti-join reads the topic's questions once (1,370). For
    counts and sums over all the rows; a page of rows is cheaper joined."""
    deleted = Question.objects.filter(
        pk=OuterRef("question_id"), topic=topic, deleted_at__isnull=False
    )
    return QuestionProgress.objects.filter(user=user, topic=topic).filter(
        ~Exists(deleted)
    )


def review_tab_queryset(
    *, user: User, topic: Topic, tab: str
) -> QuerySet[QuestionProgress]:
    # A page of rows with their questions: the join on the question is read
    # for the page anyway (live_progress is for counting every row).
    base = QuestionProgress.objects.filter(
        user=user, topic=topic, question__deleted_at__isnull=True
    )
    if tab == "due_today":
        return base.filter(due_at__isnull=False, due_at__lt=end_of_today()).order_by(
            "due_at", "id"
        )
    if tab == "pending_review":
        return base.filter(pending_review_q()).order_by("-last_attempted_at", "id")
    patterns = {
        "chronic": Pattern.CHRONIC_WRONG,
        "regressed": Pattern.REGRESSED,
        "mastered": Pattern.STABLE,
    }
    if tab in patterns:
        return base.filter(pattern_state=patterns[tab]).order_by(
            "-last_attempted_at", "id"
        )
    raise ValueError(f"unknown tab {tab}")


def question_progress(*, user: User, question: Question) -> QuestionProgress | None:
    """The learner's progress on one question, with whether it awaits review."""
    return QuestionProgress.objects.filter(user=user, question=question).first()


def due_forecast(*, user: User, topic: Topic, days: int = 14) -> list[tuple[date, int]]:
    """Reviews falling due on each of the next `days` days (overdue counted today)."""
    today = timezone.localdate()
    end = end_of_today() + timedelta(days=days - 1)
    rows = (
        live_progress(user=user, topic=topic)
        .filter(due_at__isnull=False, due_at__lt=end)
        .annotate(day=TruncDate("due_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"))
    )
    counts = {today + timedelta(days=i): 0 for i in range(days)}
    for row in rows:
        day = max(row["day"], today)
        counts[day] = counts.get(day, 0) + row["n"]
    return sorted(counts.items())
