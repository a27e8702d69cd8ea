"""A score on every result page; review-complete from the queue and the question
page; 바로 할 일 per session; one piece of evidence per question per day."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from study.models import Attempt, Pattern, QuestionProgress, QuizMode
from study.services.patterns import history_merge_same_day, pattern_classify
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
    session = start(user, topic, mode=QuizMode.ROUND, round_key="2022-1")
    # 과목1 5/5, 과목2 3/5 (2 wrong), 과목3 0/5 (unsure)
    return answer_all(session, lambda p, q: 2 if p < 8 else (1 if p < 10 else 5))


def test_a_whole_round_is_named_scored_and_judged(client, user, finished):
    client.force_login(user)
    html = client.get(reverse("study:results", args=[finished.pk])).content.decode()
    assert "2022년 1회 전체" in html
    assert "정답률 53.3%" in html
    assert "100.0" in html and "60.0" in html and "과락" in html
    assert "data-exam-verdict>불합격" in html
    assert "모든 과목 40점 이상, 평균 60점 이상" in html


def test_a_practice_set_shows_score_per_subject_without_a_verdict(client, user, topic):
    make_bank(topic)
    session = answer_all(start(user, topic, size=10), 2)
    client.force_login(user)
    html = client.get(reverse("study:results", args=[session.pk])).content.decode()
    assert "단계별 · 입문 10문제" in html and "정답률 100.0%" in html
    assert "data-exam-verdict" not in html and "점수 (100점)" in html


def test_an_abandoned_round_counts_unanswered_as_wrong(client, user, topic):
    from study.services.quiz_sessions import quiz_answer_record, quiz_session_abandon

    make_bank(topic)
    session = start(user, topic, mode=QuizMode.ROUND, round_key="2022-1")
    quiz_answer_record(
        session=session,
        position=0,
        question_id=session.question_ids[0],
        choice=2,
        time_taken_ms=1,
    )
    quiz_session_abandon(session=session)
    client.force_login(user)
    html = client.get(reverse("study:results", args=[session.pk])).content.decode()
    assert "정답률 100.0%" in html and "1 / 5" in html and "불합격" in html


def test_todo_counts_this_sessions_questions_and_updates_when_marked(
    client, user, topic, finished
):
    # Another session's wrong answers stay out of this session's 바로 할 일.
    other = start(user, topic, mode=QuizMode.ROUND, round_key="2023-1")
    answer_all(other, 1)
    client.force_login(user)
    html = client.get(reverse("study:results", args=[finished.pk])).content.decode()
    todo = html.split('id="todo"')[1].split("</aside>")[0]
    assert page_counts(todo) == {
        "unchecked": 7,
        "unchecked_wrong": 2,
        "unchecked_unsure": 5,
    }
    wrong = finished.attempts.get(position=8)
    partial = client.post(
        reverse("study:attempt_reviewed", args=[wrong.pk]), **HTMX
    ).content.decode()
    assert 'id="todo"' in partial and 'hx-swap-oob="true"' in partial
    assert page_counts(partial)["unchecked_wrong"] == 1


def test_review_complete_from_a_queue_row_by_htmx(client, user, topic, finished):
    client.force_login(user)
    queue = reverse("study:review_queue", args=[topic.pk])
    html = client.get(queue + "?tab=pending_review").content.decode()
    assert html.count("확인 완료</button>") == 7 and "모두 확인 완료 (7문제)" in html
    question = finished.attempts.get(position=8).question
    url = reverse("study:review_complete", args=[topic.pk, question.pk])
    partial = client.post(url, **HTMX).content.decode()
    assert "✓ 확인함" in partial and "다음 복습" in partial and "<html" not in partial
    progress = QuestionProgress.objects.get(question=question)
    assert progress.due_at is not None and progress.last_reviewed_at is not None
    assert Attempt.objects.get(pk=progress.last_attempt_id).reviewed_at is not None
    html = client.get(queue + "?tab=pending_review").content.decode()
    assert html.count('class="card queue-item"') == 6


def test_review_complete_all_schedules_every_pending_question(
    client, user, topic, finished
):
    client.force_login(user)
    response = client.post(reverse("study:review_complete_all", args=[topic.pk]))
    assert response.status_code == 302
    assert QuestionProgress.objects.filter(due_at__isnull=False).count() == 7
    assert not QuestionProgress.objects.filter(
        last_reviewed_at__isnull=True, last_outcome__in=["wrong", "unsure"]
    ).exists()


def test_review_complete_on_the_question_page(client, user, topic, finished):
    client.force_login(user)
    question = finished.attempts.get(position=12).question
    page = reverse("study:question", args=[question.pk])
    assert "확인 완료</button>" in client.get(page).content.decode()
    client.post(reverse("study:review_complete", args=[topic.pk, question.pk]))
    html = client.get(page).content.decode()
    assert "확인 완료</button>" not in html and "✓ 확인함" in html


def test_review_complete_refuses_other_users_and_wrong_topics(
    client, user, other_user, topic, finished
):
    from study.models import Topic

    question = finished.attempts.get(position=8).question
    client.force_login(other_user)
    url = reverse("study:review_complete", args=[topic.pk, question.pk])
    assert client.post(url).status_code == 404
    own = Topic.objects.create(name="다른 토픽", owner=other_user)
    url = reverse("study:review_complete", args=[own.pk, question.pk])
    assert client.post(url).status_code == 404
    assert client.get(
        reverse("study:review_complete", args=[topic.pk, question.pk])
    ).status_code in (404, 405)


def test_an_empty_todays_review_says_what_fills_it(client, user, topic, finished):
    client.force_login(user)
    html = client.get(
        reverse("study:review_queue", args=[topic.pk]) + "?tab=due_today"
    ).content.decode()
    hint = html.split("data-empty-hint>")[1].split("</div>")[0]
    assert "확인 안 함 7문제</a>" in hint and "확인하면 다음 날부터 오늘 복습에" in hint
    assert 'href="?tab=pending_review"' in hint
    for attempt in finished.attempts.exclude(outcome="correct"):
        attempt_mark_reviewed(attempt=attempt)
    html = client.get(
        reverse("study:review_queue", args=[topic.pk]) + "?tab=due_today"
    ).content.decode()
    hint = html.split("data-empty-hint>")[1].split("</div>")[0]
    # Nothing left to check: the page says when the first reviews come due.
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert "확인 안 함" not in hint
    assert f"다음 복습: {tomorrow.month}/{tomorrow.day} · 7문제" in hint


def test_answers_within_one_day_are_one_piece_of_evidence(user, topic):
    make_bank(topic)
    for _ in range(3):  # three wrong answers minutes apart
        answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 1)
    progress = QuestionProgress.objects.filter(user=user)
    assert set(progress.values_list("pattern_state", flat=True)) == {Pattern.UNSTABLE}
    assert progress.first().attempt_count == 3
    pretend_answered_days_ago(user)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 1)
    states = set(progress.values_list("pattern_state", flat=True))
    assert states == {Pattern.CHRONIC_WRONG}  # two bad days


def test_a_day_keeps_its_worst_outcome():
    merged = history_merge_same_day(("correct",), False, False, "wrong")
    assert merged.window == ("wrong",)
    merged = history_merge_same_day(merged.window, False, False, "correct")
    assert merged.window == ("wrong",)
    assert pattern_classify(merged) == Pattern.UNSTABLE
