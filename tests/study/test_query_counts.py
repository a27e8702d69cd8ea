"""Hot views run a fixed number of queries, whatever the size of the data."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from study.forecast.snapshots import forecast_snapshot_refresh
from study.models import Question, QuizMode
from study.services.exam_plans import exam_plan_set
from study.services.progress import attempt_mark_reviewed
from tests.study.learner_helpers import (
    answer_all,
    make_bank,
    pretend_answered_days_ago,
    start,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = func()
    assert response.status_code in (200, 302), response.status_code
    return len(ctx.captured_queries)


def measure(client, user, topic, per_subject: int) -> dict[str, int]:
    make_bank(topic, per_subject=per_subject)
    # Deterministic history: right once, then every other one wrong.
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 2)
    pretend_answered_days_ago(user)
    done = answer_all(
        start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"),
        lambda p, q: 1 + p % 2,
    )
    for attempt in done.attempts.filter(outcome="wrong")[:5]:
        attempt_mark_reviewed(attempt=attempt)
    client.force_login(user)
    session = start(user, topic, size=20)
    quiz = reverse("study:quiz", args=[session.pk])
    counts = {"quiz_page": count_queries(lambda: client.get(quiz))}
    counts["answer_next"] = count_queries(
        lambda: client.post(
            reverse("study:quiz_answer", args=[session.pk]),
            # as htmx posts it: with the time the question was shown
            {
                "position": 0,
                "question_id": session.question_ids[0],
                "choice": 2,
                "elapsed_ms": 4200,
            },
            **HTMX,
        )
    )
    results = reverse("study:results", args=[done.pk])
    counts["results"] = count_queries(lambda: client.get(results))
    counts["results_tab"] = count_queries(
        lambda: client.get(results + "?tab=correct", **HTMX)
    )
    queue = reverse("study:review_queue", args=[topic.pk])
    for tab in ("due_today", "pending_review", "chronic", "regressed", "mastered"):
        counts[tab] = count_queries(lambda tab=tab: client.get(f"{queue}?tab={tab}"))
    # With an exam date: D-day and P(합격) on home and topic, the forecast
    # (with its plot of P(합격) over the days), 오늘 할 일, calibration.
    exam_plan_set(
        user=user,
        topic=topic,
        exam_date=timezone.localdate() + timedelta(days=30),
        daily_size=20,
    )
    pages = (
        ("home", reverse("study:home")),
        ("topic", reverse("study:topic", args=[topic.pk])),
        ("forecast", reverse("study:forecast", args=[topic.pk])),
        ("plan", reverse("study:plan", args=[topic.pk])),
        ("calibration", reverse("study:calibration", args=[topic.pk])),
    )
    # Computed in the request (no worker has refreshed the snapshot yet), then
    # read from the snapshot, as after the worker's refresh.
    for name, url in pages:
        counts[f"{name}_cold"] = count_queries(lambda url=url: client.get(url))
    forecast_snapshot_refresh(user_id=user.pk, topic_id=topic.pk)
    for name, url in pages:
        counts[name] = count_queries(lambda url=url: client.get(url))
    return counts


# Upper bounds pinned from measurement; a new N+1 breaks these.
LIMITS = {
    "quiz_page": 4,
    "answer_next": 3,  # session, user, one statement (claim, insert, next card)
    # + AI states (jobs, analysis, analysis job) + the score, judged on the
    # exam's current subjects (the spec, the bank's subjects by round), the
    # tab's cached evidence cards (issue 31), the tab's 개정 flags (issue 26)
    "results": 13,
    "results_tab": 7,
    # + the page's 개정 flags (issue 26) when the page has rows
    "due_today": 6,
    "pending_review": 6,
    "chronic": 6,
    "regressed": 6,
    "mastered": 6,
    # Cold: no fresh forecast snapshot (its read is one query), computed live.
    # The forecast reads the learner's sittings (2), the topic's share of
    # new questions (1) and the 개정 flags (1, issue 26) besides the bank and
    # the answers.
    "home_cold": 15,
    # + the topic's flagged questions; its paper, its subjects', rounds' and
    # the mock fill's counts from one pass over the bank (subject_cells)
    "topic_cold": 19,
    "forecast_cold": 16,  # the plot of P(합격) over the days adds none
    "plan_cold": 16,  # + the unreviewed misses
    "calibration_cold": 17,  # subjects in exam order; the track record
    # Warm: the snapshot is fresh, one row read.
    "home": 7,
    "topic": 11,  # + the topic's flagged questions
    "forecast": 8,
    "plan": 6,
    "calibration": 6,  # the report and the track record, each from the row
}


@pytest.mark.django_db
def test_hot_views_have_pinned_query_counts(client, user, topic):
    counts = measure(client, user, topic, per_subject=10)
    for name, limit in LIMITS.items():
        assert counts[name] <= limit, (name, counts[name])


@pytest.mark.django_db
def test_query_counts_do_not_grow_with_the_data(client, user, other_user, topic):
    from study.models import Topic

    small = measure(client, user, topic, per_subject=7)
    big_topic = Topic.objects.create(name="큰 토픽", owner=other_user)
    big = measure(client, other_user, big_topic, per_subject=40)
    assert small == big


@pytest.mark.django_db
def test_results_with_queued_ai_work_read_the_line_once(client, user, topic, settings):
    """Just after a session: its explanations and analysis are queued, so the
    page shows each card's place in line. The line (3 queries) and the recent
    LLM latency (2) are read once for the page, not once per kind of card,
    and more finished jobs in the history add no query."""
    from study.ai import states
    from study.models import JobStatus, QuestionJob, SessionJob

    settings.LLM_BASE_URL = "http://127.0.0.1:9/v1"  # configured; never called
    settings.LLM_MODEL = "fake-model"
    make_bank(topic, per_subject=7)
    done = answer_all(
        start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"),
        lambda p, q: 1 + p % 2,
    )
    assert QuestionJob.objects.filter(status=JobStatus.PENDING).exists()
    assert SessionJob.objects.filter(session=done, status=JobStatus.PENDING).exists()
    client.force_login(user)
    url = reverse("study:results", args=[done.pk])
    # + the line of due jobs (question jobs, subject notes, session jobs) and
    # the latency sample (question and session jobs) over the 13 above; the
    # first view reads the topic's bank, later ones its cached paper
    client.get(url)
    states._latency_memo = None  # read the latency again (a process keeps it)
    queued = count_queries(lambda: client.get(url))
    assert queued <= 18, queued
    response = client.get(url)
    assert "대기 중" in response.content.decode() or "번째" in response.content.decode()
    finished = [
        QuestionJob(
            question_id=qid,
            user=user,
            kind="explanation",
            status=JobStatus.COMPLETED,
            completed_at=timezone.now(),
            payload={"latency_s": 2.0},
        )
        for qid in done.question_ids[:10]
    ]
    QuestionJob.objects.bulk_create(finished)
    states._latency_memo = None  # read the latency again (a process keeps it)
    assert count_queries(lambda: client.get(url)) == queued


def measure_mock(client, user, topic, per_subject: int) -> dict[str, int]:
    """Start a mock (the whole paper), open it, submit it, open its results."""
    from study.models import Question, QuizSession

    make_bank(topic, per_subject=per_subject)
    client.force_login(user)
    counts = {
        "mock_start": count_queries(
            lambda: client.post(
                reverse("study:quiz_start", args=[topic.pk]),
                {"mode": QuizMode.MOCK, "per_subject": 5},
            )
        )
    }
    session = QuizSession.objects.get(user=user, mode=QuizMode.MOCK)
    counts["mock_page"] = count_queries(
        lambda: client.get(reverse("study:quiz", args=[session.pk]))
    )
    keys = dict(Question.objects.values_list("pk", "correct_choice"))
    answers = {
        f"a{p}": keys[q] if p % 3 else 1 + keys[q] % 4
        for p, q in enumerate(session.question_ids)
    }
    counts["mock_submit"] = count_queries(
        lambda: client.post(reverse("study:mock_submit", args=[session.pk]), answers)
    )
    counts["mock_results"] = count_queries(
        lambda: client.get(reverse("study:results", args=[session.pk]))
    )
    return counts


MOCK_LIMITS = {
    # the topic, the paper (the spec, the bank's cells), its fill, a seeded
    # sample per subject, the session and its cards' task (written in the
    # session's transaction: a test's commit never comes, so the task sent
    # after it was not counted before)
    "mock_start": 14,
    "mock_page": 4,
    # the lock, the keys, the attempts (one INSERT … unnest), progress (lock,
    # one upsert for rows old and new), the session finished in one UPDATE
    # under the lock already held, the score on the mock's own paper (no pass
    # over the bank), the forecast and its refresh task (in the transaction:
    # a test's commit never comes, so it was not counted before); the
    # caller's copy is not read again (16 before, 24 before that)
    "mock_submit": 15,
    # the results page, judged on the mock's paper (no pass over the bank: 13)
    "mock_results": 11,
}


@pytest.mark.django_db
def test_the_mock_exam_has_pinned_query_counts_that_do_not_grow(
    client, user, other_user, topic
):
    from study.models import Topic

    small = measure_mock(client, user, topic, per_subject=7)
    for name, limit in MOCK_LIMITS.items():
        assert small[name] <= limit, (name, small[name])
    big_topic = Topic.objects.create(name="큰 토픽", owner=other_user)
    assert measure_mock(client, other_user, big_topic, per_subject=40) == small


@pytest.mark.django_db
def test_topic_rounds_and_fill_summed_from_cells_match_a_direct_count(topic):
    """The topic page's rounds and mock fill, summed from one pass over the
    bank, equal what a query over the questions counts (a figure-less
    question needing a figure, a deleted one, questions without a round or a
    subject)."""
    from django.db.models import Count, Q

    from study.selectors.exam_spec import (
        PaperFill,
        exam_paper_for_topic,
        paper_fill,
        subject_cells,
    )
    from study.selectors.topics import topic_rounds
    from study.services.questions import question_soft_delete

    make_bank(topic, per_subject=3)
    questions = list(topic.questions.order_by("id"))
    Question.objects.filter(pk=questions[0].pk).update(needs_figure=True, figure="")
    Question.objects.filter(pk=questions[1].pk).update(exam_year=None, exam_session="")
    Question.objects.filter(pk=questions[2].pk).update(subject="")
    question_soft_delete(question=questions[3])
    cells = subject_cells(topic=topic)
    assert sum(c.quizzable or 0 for c in cells) < sum(c.questions for c in cells)
    paper = exam_paper_for_topic(topic=topic)
    rounds = (
        Question.objects.alive()
        .filter(topic=topic, exam_year__isnull=False)
        .exclude(exam_session="")
        .values_list("exam_year", "exam_session")
        .annotate(
            n=Count("id"),
            quizzable=Count("id", filter=Q(needs_figure=False) | ~Q(figure="")),
        )
    )
    summed_rounds = topic_rounds(topic=topic, cells=cells)
    assert {
        (r.year, r.session, r.questions, r.quizzable) for r in summed_rounds
    } == set(rounds)
    assert topic_rounds(topic=topic) == summed_rounds
    fills = dict(
        Question.objects.quizzable()
        .filter(topic=topic, subject__in=paper.subjects)
        .values_list("subject")
        .annotate(n=Count("id"))
        .order_by()
    )
    summed = paper_fill(topic=topic, paper=paper, cells=cells)
    assert summed == PaperFill(
        paper, {name: fills.get(name, 0) for name in paper.subjects}
    )
    assert paper_fill(topic=topic, paper=paper) == summed
