"""Every count a learner sees agrees with the attempts (issue 23, item 2).

One scripted history (a whole round, an abandoned round the next day, a mock
with blanks, a review session, checks from the results page and the queue),
then every page that shows a count is rendered and each count is checked
against the attempts, counted here independently of the app's selectors. The
tests after it pin the contradictions the issue found.
"""

import random
import re
from collections import defaultdict
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from study.models import Attempt, QuizMode, QuizSession, QuizStatus
from study.services.exam_plans import exam_plan_set
from study.services.quiz_sessions import quiz_answer_record, quiz_session_abandon
from tests.study.learner_helpers import (
    answer_all,
    make_bank,
    page_counts,
    pretend_answered_days_ago,
    start,
    submit_mock,
)

HTMX = {"HTTP_HX_REQUEST": "true"}
MISSES = ("wrong", "unsure")
TABS = ("due_today", "pending_review", "chronic", "regressed", "mastered")


def answer_some(session, choices, count: int) -> QuizSession:
    for position in range(count):
        qid = session.question_ids[position]
        quiz_answer_record(
            session=session,
            position=position,
            question_id=qid,
            choice=choices(position, qid),
            time_taken_ms=1000,
        )
    session.refresh_from_db()
    return session


@pytest.fixture
def scripted(client, user, topic):
    """The history, driven through the pages where a learner would act."""
    make_bank(topic, rounds=(("2022", "1"), ("2023", "1")), subjects=3, per_subject=5)
    exam_plan_set(
        user=user,
        topic=topic,
        exam_date=timezone.localdate() + timedelta(days=40),
        daily_size=20,
    )
    client.force_login(user)
    # Day 1: the 2022 round. 2 = right; 1 and 3 wrong; 5 = 모르겠음.
    first = start(user, topic, mode=QuizMode.ROUND, round_key="2022-1")
    answer_all(first, lambda p, q: (2, 2, 1, 5, 3)[p % 5])
    for position in (2, 3):  # 학습완료 on one 오답 and one 모르겠음
        attempt = first.attempts.get(position=position)
        client.post(reverse("study:attempt_reviewed", args=[attempt.pk]), **HTMX)
    pretend_answered_days_ago(user)
    # Day 2: the same round again, stopped after 8 answers.
    again = start(user, topic, mode=QuizMode.ROUND, round_key="2022-1")
    answer_some(again, lambda p, q: (2, 1, 5)[p % 3], 8)
    quiz_session_abandon(session=again)
    # A mock with blanks (0 = left blank, scored as 모르겠음).
    mock = start(user, topic, mode=QuizMode.MOCK, per_subject=5, rng=random.Random(7))
    submit_mock(mock, lambda p, q: (2, 0, 1, 2)[p % 4])
    # A review session of 확인 안 함, three right answers, then stopped.
    review = start(user, topic, mode=QuizMode.REVIEW, tab="pending_review", size=20)
    answer_some(review, lambda p, q: 2, 3)
    quiz_session_abandon(session=review)
    # 확인 완료 of one row of the queue.
    pending = _expected_queue(user)["pending"]
    question_id = sorted(pending)[0]
    client.post(
        reverse("study:review_complete", args=[topic.pk, question_id]),
        {"queue_tab": "pending_review"},
        **HTMX,
    )
    return [first, again, mock, review]


def _history(user) -> dict[int, list[Attempt]]:
    """Each question's attempts in the order sessions finished."""
    attempts = Attempt.objects.filter(
        user=user, session__finished_at__isnull=False
    ).order_by("session__finished_at", "session_id", "position")
    by_question = defaultdict(list)
    for attempt in attempts.select_related("session"):
        by_question[attempt.question_id].append(attempt)
    return by_question


def _expected_session(session: QuizSession) -> dict[str, int]:
    attempts = list(session.attempts.order_by("position"))
    expected = {o: sum(a.outcome == o for a in attempts) for o in ("correct", *MISSES)}
    unchecked = [a for a in attempts if a.outcome in MISSES and not a.reviewed_at]
    expected["unchecked"] = len(unchecked)
    expected["unchecked_wrong"] = sum(a.outcome == "wrong" for a in unchecked)
    expected["unchecked_unsure"] = sum(a.outcome == "unsure" for a in unchecked)
    changes = dict.fromkeys(
        ("newly_correct", "recovered", "regressed", "repeated_wrong"), 0
    )
    for question_id, now in {a.question_id: a.outcome for a in attempts}.items():
        earlier = [
            a
            for a in _history(session.user)[question_id]
            if a.session.finished_at < session.finished_at
        ]
        before = earlier[-1].outcome if earlier else None
        if now == "correct" and before is None:
            changes["newly_correct"] += 1
        elif now == "correct" and before in MISSES:
            changes["recovered"] += 1
        elif now == "wrong" and before == "correct":
            changes["regressed"] += 1
        elif now == "wrong" and before in MISSES:
            changes["repeated_wrong"] += 1
    return {**expected, **changes}


def _expected_queue(user) -> dict[str, set[int]]:
    """확인 안 함: questions whose latest answer is a miss not checked since."""
    latest = {qid: attempts[-1] for qid, attempts in _history(user).items()}
    pending = {
        qid for qid, a in latest.items() if a.outcome in MISSES and not a.reviewed_at
    }
    return {
        "pending": pending,
        "wrong": {q for q in pending if latest[q].outcome == "wrong"},
        "unsure": {q for q in pending if latest[q].outcome == "unsure"},
    }


def test_every_page_counts_what_the_attempts_say(client, user, topic, scripted):
    for session in scripted:
        session.refresh_from_db()
        assert session.status in (QuizStatus.FINISHED, QuizStatus.ABANDONED)
        html = client.get(reverse("study:results", args=[session.pk])).content.decode()
        shown = page_counts(html)
        expected = _expected_session(session)
        for name, value in expected.items():
            assert shown.get(name, 0) == value, (session.get_mode_display(), name)
        assert shown["regressed"] + shown["repeated_wrong"] <= shown["wrong"]
        assert shown["unchecked"] <= shown["wrong"] + shown["unsure"]
        assert (
            'id="todo" class="card callout" aria-labelledby="todo-h" hidden' in html
        ) == (expected["unchecked"] == 0)

    queue = reverse("study:review_queue", args=[topic.pk])
    expected = _expected_queue(user)
    tab_counts = {}
    for tab in TABS:
        html = client.get(f"{queue}?tab={tab}").content.decode()
        shown = page_counts(html)
        listed = html.count('class="card queue-item"')
        assert shown[tab] == listed == shown.get("tab", 0), tab
        tab_counts[tab] = listed
        if tab == "pending_review":
            assert listed == len(expected["pending"])
            assert shown["pending_wrong"] == len(expected["wrong"])
            assert shown["pending_unsure"] == len(expected["unsure"])
    assert tab_counts["pending_review"] > 0 and tab_counts["due_today"] == 0

    for url in (reverse("study:home"), reverse("study:topic", args=[topic.pk])):
        shown = page_counts(client.get(url).content.decode())
        assert shown["due_today"] == tab_counts["due_today"]
        assert shown["pending_review"] == tab_counts["pending_review"]
    html = client.get(reverse("study:topic", args=[topic.pk])).content.decode()
    for session in scripted:
        correct = session.attempts.filter(outcome="correct").count()
        answered = session.attempts.count()
        row = re.search(
            rf'data-session="{session.pk}" data-correct="(\d+)" data-answered="(\d+)"',
            html,
        )
        assert row and (int(row[1]), int(row[2])) == (correct, answered)


def test_checking_a_queue_row_updates_the_counts_on_the_page(
    client, user, topic, scripted
):
    queue = reverse("study:review_queue", args=[topic.pk])
    page = client.get(f"{queue}?tab=pending_review").content.decode()
    before = page_counts(page)
    assert page.count('id="queue-tabs"') == page.count('id="queue-summary"') == 1
    question_id = sorted(_expected_queue(user)["pending"])[0]

    partial = client.post(
        reverse("study:review_complete", args=[topic.pk, question_id]),
        {"queue_tab": "pending_review"},
        **HTMX,
    ).content.decode()

    after = page_counts(partial)
    assert partial.count('hx-swap-oob="true"') == 2  # the tabs and the totals
    assert after["pending_review"] == after["tab"] == before["pending_review"] - 1
    assert after["pending_wrong"] + after["pending_unsure"] == after["tab"]
    assert f"모두 확인 완료 ({after['tab']}문제)" in partial


def test_the_queue_names_wrong_and_unsure_apart(client, user, topic):
    """5 오답 and 3 모르겠음 were "확인 안 한 오답 8개"."""
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=10)
    session = start(user, topic, mode=QuizMode.ROUND, round_key="2022-1")
    answer_all(session, lambda p, q: 1 if p < 5 else (5 if p < 8 else 2))
    client.force_login(user)
    queue = reverse("study:review_queue", args=[topic.pk])

    empty = client.get(f"{queue}?tab=due_today").content.decode()
    pending = client.get(f"{queue}?tab=pending_review").content.decode()

    assert "확인 안 한 오답" not in empty + pending
    assert "확인 안 함 8문제" in empty
    shown = page_counts(pending)
    assert (shown["pending_wrong"], shown["pending_unsure"]) == (5, 3)


def test_a_results_page_keeps_counting_its_own_session(client, user, topic):
    """Later sessions (a mock left blank) once made a session with 3 모르겠음
    say 18 unchecked 모르겠음, and 반복 오답 7 beside 오답 0 on the mock."""
    make_bank(topic, rounds=(("2022", "1"),), subjects=3, per_subject=5)
    first = start(user, topic, mode=QuizMode.ROUND, round_key="2022-1")
    answer_all(first, lambda p, q: 1 if p < 7 else (5 if p < 10 else 2))
    mock = submit_mock(
        start(user, topic, mode=QuizMode.MOCK, per_subject=5), lambda p, q: 0
    )
    client.force_login(user)

    shown = page_counts(
        client.get(reverse("study:results", args=[first.pk])).content.decode()
    )
    on_mock = page_counts(
        client.get(reverse("study:results", args=[mock.pk])).content.decode()
    )

    assert (shown["unchecked_wrong"], shown["unchecked_unsure"]) == (7, 3)
    assert (on_mock["wrong"], on_mock["unsure"]) == (0, 15)
    assert on_mock["repeated_wrong"] == 0


def test_a_review_session_counts_only_what_it_answered(client, user, topic):
    """A 3/3-correct review session once said "확인 안 한 오답 8개"."""
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=10)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 1)
    review = start(user, topic, mode=QuizMode.REVIEW, tab="pending_review", size=20)
    answer_some(review, lambda p, q: 2, 3)
    quiz_session_abandon(session=review)
    client.force_login(user)

    html = client.get(reverse("study:results", args=[review.pk])).content.decode()

    shown = page_counts(html)
    assert (shown["correct"], shown["wrong"], shown.get("unchecked", 0)) == (3, 0, 0)
    assert 'aria-labelledby="todo-h" hidden' in html
    assert shown["recovered"] == 3


def test_an_empty_todays_review_says_when_reviews_come_due(client, user, topic):
    """Checked misses first come due the next day; the empty tab says so."""
    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=5)
    session = answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 1)
    client.force_login(user)
    client.post(reverse("study:review_complete_all", args=[topic.pk]))

    html = client.get(
        reverse("study:review_queue", args=[topic.pk]) + "?tab=due_today"
    ).content.decode()

    tomorrow = timezone.localdate() + timedelta(days=1)
    assert session.attempts.filter(reviewed_at__isnull=True).count() == 0
    assert f"다음 복습: {tomorrow.month}/{tomorrow.day} · 5문제" in html


def test_a_deleted_question_leaves_the_queue_counts_and_comes_back(client, user, topic):
    """The queue counts every progress row of the topic except those of
    deleted questions (counted with an anti-join on the topic's deleted
    questions, not a join per row): a soft delete takes one out, a restore
    puts it back."""
    from study.services.questions import questions_restore, questions_soft_delete

    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=10)
    session = start(user, topic, mode=QuizMode.ROUND, round_key="2022-1")
    answer_all(session, lambda p, q: 1 if p < 5 else (5 if p < 8 else 2))
    client.force_login(user)
    queue = reverse("study:review_queue", args=[topic.pk])

    def shown() -> tuple[int, int]:
        counts = page_counts(client.get(f"{queue}?tab=pending_review").content.decode())
        return counts["pending_wrong"], counts["pending_unsure"]

    assert shown() == (5, 3)
    gone = session.question_ids[:2] + [session.question_ids[6]]
    questions_soft_delete(question_ids=gone)
    assert shown() == (3, 2)
    questions_restore(question_ids=gone)
    assert shown() == (5, 3)
