"""Results tabs and cards, 학습완료, FSRS, review queue, overview, settings."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from study.models import Attempt, LearnerSettings, Pattern, QuestionProgress, QuizMode
from study.selectors.counts import session_changes
from study.services.progress import attempt_mark_reviewed
from tests.study.learner_helpers import (
    answer_all,
    make_bank,
    page_counts,
    pretend_answered_days_ago,
    start,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def finished(user, topic):
    make_bank(topic)
    session = start(
        user, topic, mode=QuizMode.ROUND, round_key="2022-1"
    )  # 15 questions
    # positions 0-7 correct, 8-11 wrong, 12-14 unsure
    return answer_all(session, lambda p, q: 2 if p < 8 else (1 if p < 12 else 5))


def test_results_show_three_tabs_with_counts(client, user, finished):
    client.force_login(user)
    html = client.get(reverse("study:results", args=[finished.pk])).content.decode()
    assert '정답 <span class="count">8</span>' in html
    assert '오답 <span class="count">4</span>' in html
    assert '모르겠음 <span class="count">3</span>' in html
    assert html.count('class="card result-card"') == 4  # wrong tab first
    unsure = client.get(
        reverse("study:results", args=[finished.pk]) + "?tab=unsure", **HTMX
    ).content.decode()
    assert unsure.count('class="card result-card"') == 3 and "<html" not in unsure


def test_results_header_and_todo_callout(client, user, finished):
    client.force_login(user)
    html = client.get(reverse("study:results", args=[finished.pk])).content.decode()
    assert "새로 맞힘 8" in html and "회복 0" in html
    todo = html.split("바로 할 일")[1].split("</aside>")[0]
    # 모르겠음 is never counted as 오답.
    assert page_counts(todo) == {
        "unchecked": 7,
        "unchecked_wrong": 4,
        "unchecked_unsure": 3,
    }
    assert "확인 안 함 7" in todo and 'href="?tab=wrong"' in todo


def test_a_card_expands_with_choices_marked(client, user, finished):
    client.force_login(user)
    wrong = finished.attempts.get(position=8)
    html = client.get(
        reverse("study:result_card", args=[finished.pk, wrong.pk]), **HTMX
    ).content.decode()
    assert html.count('class="correct"') == 1
    assert 'class="chosen-wrong"' in html and "내 선택" in html
    assert "data-ai-slot" in html


def test_reviewing_a_wrong_answer_schedules_its_first_review(client, user, finished):
    client.force_login(user)
    wrong = finished.attempts.get(position=8)
    response = client.post(reverse("study:attempt_reviewed", args=[wrong.pk]), **HTMX)
    assert "✓ 학습완료" in response.content.decode()
    progress = QuestionProgress.objects.get(user=user, question=wrong.question)
    assert progress.last_reviewed_at and progress.fsrs_card
    assert timedelta(hours=23) < progress.due_at - timezone.now() < timedelta(days=2)
    correct = finished.attempts.get(position=0)
    client.post(reverse("study:attempt_reviewed", args=[correct.pk]), **HTMX)
    assert QuestionProgress.objects.get(question=correct.question).due_at is None


def test_unmarking_reopens_the_question_but_keeps_its_schedule(client, user, finished):
    client.force_login(user)
    wrong = finished.attempts.get(position=8)
    url = reverse("study:attempt_reviewed", args=[wrong.pk])
    client.post(url, **HTMX)
    client.post(url, {"reviewed": "0"}, **HTMX)
    wrong.refresh_from_db()
    assert wrong.reviewed_at is None
    progress = QuestionProgress.objects.get(question=wrong.question)
    # Back in 확인 안 함 (the attempt is its latest answer); the card stays.
    assert progress.last_reviewed_at is None and progress.due_at is not None


def test_later_attempts_of_a_scheduled_question_are_fsrs_reviews(user, topic, finished):
    wrong = finished.attempts.get(position=8)
    attempt_mark_reviewed(attempt=wrong)
    first_due = QuestionProgress.objects.get(question=wrong.question).due_at
    again = answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 2)
    progress = QuestionProgress.objects.get(question=wrong.question)
    assert progress.review_stage == 1
    assert progress.due_at > first_due
    changes = session_changes(session=again, attempts=list(again.attempts.all()))
    assert changes.recovered == 7  # 4 wrong + 3 unsure now right
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 1)
    progress.refresh_from_db()
    assert progress.review_stage == 0
    assert progress.due_at - timezone.now() < timedelta(days=2)


def _pretend_reviewed_days_ago(question, days: int) -> None:
    """Move a progress row's FSRS card back in time, as if marked days ago."""
    progress = QuestionProgress.objects.get(question=question)
    card = dict(progress.fsrs_card)
    for key in ("due", "last_review"):
        moment = timezone.datetime.fromisoformat(card[key]) - timedelta(days=days)
        card[key] = moment.isoformat()
    QuestionProgress.objects.filter(pk=progress.pk).update(fsrs_card=card)


def test_desired_retention_changes_intervals(client, user, topic, finished):
    client.force_login(user)
    response = client.post(reverse("study:settings"), {"desired_retention": "0.97"})
    assert response.status_code == 302
    assert LearnerSettings.objects.get(user=user).desired_retention == 0.97
    bad = client.post(reverse("study:settings"), {"desired_retention": "0.5"})
    assert bad.status_code == 200 and "errorlist" in bad.content.decode()
    gaps = {}
    for position, retention in ((8, 0.97), (9, 0.75)):
        LearnerSettings.objects.filter(user=user).update(desired_retention=retention)
        attempt = finished.attempts.get(position=position)
        attempt_mark_reviewed(attempt=attempt)
        _pretend_reviewed_days_ago(attempt.question, 3)
        answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 2)
        progress = QuestionProgress.objects.get(question=attempt.question)
        gaps[retention] = progress.due_at - progress.last_attempted_at
    # Higher retention → shorter interval after the same good answer.
    assert gaps[0.97] < gaps[0.75]


def test_review_queue_tabs(client, user, topic, finished):
    client.force_login(user)
    url = reverse("study:review_queue", args=[topic.pk])
    pending = client.get(url + "?tab=pending_review").content.decode()
    assert pending.count('class="card queue-item"') == 7
    wrong = finished.attempts.get(position=8)
    attempt_mark_reviewed(attempt=wrong)
    pending = client.get(url + "?tab=pending_review").content.decode()
    assert pending.count('class="card queue-item"') == 6
    QuestionProgress.objects.filter(question=wrong.question).update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    due = client.get(url + "?tab=due_today").content.decode()
    assert due.count('class="card queue-item"') == 1
    for tab in ("chronic", "regressed", "mastered", "bogus"):
        assert client.get(url + f"?tab={tab}").status_code == 200


def test_pending_review_includes_questions_answered_wrong_after_review(
    user, topic, finished
):
    wrong = finished.attempts.get(position=8)
    attempt_mark_reviewed(attempt=wrong)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 1)
    from study.selectors.review_queue import review_tab_queryset

    pending = review_tab_queryset(user=user, topic=topic, tab="pending_review")
    assert pending.filter(question=wrong.question).exists()


def test_chronic_and_regressed_tabs_fill_from_patterns(client, user, topic, finished):
    pretend_answered_days_ago(user)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 1)
    states = dict(
        QuestionProgress.objects.values_list("last_attempt__position", "pattern_state")
    )
    assert {states[p] for p in range(8)} == {Pattern.REGRESSED}  # right, then wrong
    assert {states[p] for p in range(8, 12)} == {Pattern.CHRONIC_WRONG}  # wrong twice
    client.force_login(user)
    url = reverse("study:review_queue", args=[topic.pk])
    html = client.get(url + "?tab=regressed").content.decode()
    assert html.count('class="card queue-item"') == 8
    html = client.get(url + "?tab=chronic").content.decode()
    assert html.count('class="card queue-item"') == 4


def test_a_session_starts_from_a_review_tab(client, user, topic, finished):
    client.force_login(user)
    response = client.post(
        reverse("study:quiz_start", args=[topic.pk]),
        {"mode": "review", "tab": "pending_review", "size": 20},
    )
    assert response.status_code == 302
    session = user.quiz_sessions.order_by("-id").first()
    assert session.mode == QuizMode.REVIEW and session.size == 7
    empty = client.post(
        reverse("study:quiz_start", args=[topic.pk]),
        {"mode": "review", "tab": "mastered", "size": 20},
        follow=True,
    )
    assert "문제가 부족합니다" in empty.content.decode()


def test_overview_shows_accuracy_and_forecast(client, user, topic, finished):
    client.force_login(user)
    url = reverse("study:overview", args=[topic.pk])
    none_due = client.get(url).content.decode()
    assert "data-no-reviews" in none_due and 'class="fc-count"' not in none_due
    attempt_mark_reviewed(attempt=finished.attempts.get(position=8))
    html = client.get(reverse("study:overview", args=[topic.pk])).content.decode()
    assert "과목1" in html and "100%" in html  # 과목1 = positions 0-4, all right
    assert "과목2" in html and "60%" in html  # positions 5-9: 3 right of 5
    assert html.count('class="fc-count"') == 14
    assert '<span class="fc-count">1</span>' in html
    assert "data-no-reviews" not in html
    today = timezone.localdate()
    assert f'<span class="fc-day">{today.month}/{today.day}</span>' in html


def test_attempt_rows_are_never_deleted_by_finalize(user, topic, finished):
    count = Attempt.objects.count()
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 2)
    assert Attempt.objects.count() == count + 15
