"""Starting, answering (HTMX), replay protection, finalize, abandon, permissions."""

import pytest
from django.urls import reverse

from study.models import (
    Attempt,
    Outcome,
    QuestionProgress,
    QuizMode,
    QuizSession,
    QuizStatus,
)
from study.services.quiz_sessions import AnswerRejected, quiz_answer_record
from tests.study.learner_helpers import (
    answer_all,
    make_bank,
    page_counts,
    start,
    submit_mock,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def bank(topic):
    return make_bank(topic)


def post_answer(client, session, choice, *, position=None, question_id=None, htmx=True):
    session.refresh_from_db()
    position = session.answered_count if position is None else position
    qid = question_id or session.question_ids[min(position, session.size - 1)]
    data = {
        "position": position,
        "question_id": qid,
        "choice": choice,
        "elapsed_ms": 1500,
    }
    return client.post(
        reverse("study:quiz_answer", args=[session.pk]), data, **(HTMX if htmx else {})
    )


@pytest.mark.parametrize(
    "data",
    [
        {"mode": "stage", "stage": "intro", "size": 10},
        {"mode": "stage", "stage": "pre_exam", "size": 5},
        {"mode": "round", "round_key": "2022-1"},
        {"mode": "subject", "subjects": ["과목1", "과목2"], "subject_size": 6},
        {"mode": "mock", "per_subject": 3},
    ],
)
def test_each_mode_starts_from_the_topic_form(client, user, topic, bank, data):
    client.force_login(user)
    response = client.post(reverse("study:quiz_start", args=[topic.pk]), data)
    session = QuizSession.objects.get(user=user)
    assert response.status_code == 302
    assert response["Location"] == reverse("study:quiz", args=[session.pk])
    assert session.mode == data["mode"] and session.size > 0


def test_bad_start_requests_explain_themselves(client, user, topic, bank):
    client.force_login(user)
    url = reverse("study:quiz_start", args=[topic.pk])
    for data in (
        {"mode": "stage", "stage": "intro", "size": 500},
        {"mode": "round", "round_key": "1999-9"},
        {"mode": "subject"},
        {"mode": "nonsense"},
        {"mode": "stage", "stage": "intro", "size": 100},  # bank has 30
    ):
        response = client.post(url, data, follow=True)
        assert (
            "퀴즈를 시작할 수 없습니다" in response.content.decode()
            or "문제가 부족합니다" in (response.content.decode())
        ), data
    assert not QuizSession.objects.exists()


def test_answering_swaps_in_the_next_question_without_revealing(
    client, user, topic, bank
):
    client.force_login(user)
    session = start(user, topic, size=5)
    page = client.get(reverse("study:quiz", args=[session.pk])).content.decode()
    assert "1</strong> / 5" in page and "모르겠음" in page
    response = post_answer(client, session, 1)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="quiz-card"' in html and "2</strong> / 5" in html
    for revealing in ("정답", 'class="correct"', "해설", "오답"):
        assert revealing not in html, revealing
    attempt = Attempt.objects.get()
    assert attempt.outcome == Outcome.WRONG and attempt.selected_choice == 1
    assert attempt.time_taken_ms == 1500


def test_unsure_is_recorded_without_a_choice(client, user, topic, bank):
    client.force_login(user)
    session = start(user, topic, size=5)
    post_answer(client, session, 5)
    attempt = Attempt.objects.get()
    assert attempt.outcome == Outcome.UNSURE and attempt.selected_choice is None


def test_double_clicks_and_replays_record_one_attempt(client, user, topic, bank):
    client.force_login(user)
    session = start(user, topic, size=5)
    first = post_answer(client, session, 2, position=0)
    replay = post_answer(client, session, 3, position=0)
    assert first.status_code == 200
    assert replay.status_code == 409 and "이미 답한" in replay.content.decode()
    assert Attempt.objects.count() == 1
    assert Attempt.objects.get().selected_choice == 2


def test_bad_answers_change_nothing(client, user, topic, bank):
    client.force_login(user)
    session = start(user, topic, size=5)
    outsider = [q for q in bank if q.pk not in session.question_ids][0]
    for kwargs in (
        {"choice": 6},
        {"choice": 0},
        {"choice": "x"},
        {"choice": 1, "question_id": outsider.pk},
        {"choice": 1, "position": 3},
        {"choice": 1, "position": 99},
    ):
        response = post_answer(client, session, **kwargs)
        assert response.status_code in (400, 409), kwargs
        assert response.content.decode(), kwargs
    assert Attempt.objects.count() == 0
    session.refresh_from_db()
    assert session.answered_count == 0


def test_the_last_answer_finalizes_and_redirects_to_results(client, user, topic, bank):
    client.force_login(user)
    session = start(user, topic, size=5)
    for _ in range(4):
        post_answer(client, session, 2)
    last = post_answer(client, session, 1)
    assert last["HX-Redirect"] == reverse("study:results", args=[session.pk])
    session.refresh_from_db()
    assert session.status == QuizStatus.FINISHED and session.finished_at
    assert QuestionProgress.objects.filter(user=user).count() == 5
    html = client.get(last["HX-Redirect"]).content.decode()
    assert page_counts(html)["newly_correct"] == 4
    assert post_answer(client, session, 1, position=4).status_code == 409


def test_a_finished_session_refuses_answers(user, topic, bank):
    session = answer_all(start(user, topic, size=5), 2)
    with pytest.raises(AnswerRejected, match="끝난 세션"):
        quiz_answer_record(
            session=session,
            position=4,
            question_id=session.question_ids[4],
            choice=1,
            time_taken_ms=1,
        )


def test_a_running_mock_stays_listed_to_resume_after_newer_practice(
    client, user, topic, bank
):
    """Its clock runs whether or not it is listed: three newer practice
    sessions do not push it off the topic page's 이어 풀기."""
    client.force_login(user)
    mock = start(user, topic, mode=QuizMode.MOCK, per_subject=2)
    practice = [start(user, topic, size=5) for _ in range(3)]
    page = client.get(reverse("study:topic", args=[topic.pk])).content.decode()
    assert reverse("study:quiz", args=[mock.pk]) in page
    listed = [s for s in practice if reverse("study:quiz", args=[s.pk]) in page]
    assert listed == practice[1:]  # the two latest beside it


def test_sessions_resume_after_a_reload(client, user, topic, bank):
    client.force_login(user)
    session = start(user, topic, size=5)
    post_answer(client, session, 2, htmx=False)
    post_answer(client, session, 2, htmx=False)
    page = client.get(reverse("study:quiz", args=[session.pk])).content.decode()
    assert "3</strong> / 5" in page
    topic_page = client.get(reverse("study:topic", args=[topic.pk])).content.decode()
    assert "이어 풀기" in topic_page and "2 / 5" in topic_page


def test_abandon_keeps_what_was_answered(client, user, topic, bank):
    client.force_login(user)
    session = start(user, topic, size=5)
    post_answer(client, session, 1)
    response = client.post(reverse("study:quiz_abandon", args=[session.pk]))
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == QuizStatus.ABANDONED
    assert QuestionProgress.objects.get(user=user).last_outcome == Outcome.WRONG
    assert post_answer(client, session, 2).status_code == 409


def test_other_learners_sessions_and_attempts_are_404(
    client, user, other_user, topic, bank
):
    session = answer_all(start(user, topic, size=5), 2)
    attempt = session.attempts.first()
    client.force_login(other_user)
    for url in (
        reverse("study:quiz", args=[session.pk]),
        reverse("study:results", args=[session.pk]),
        reverse("study:result_card", args=[session.pk, attempt.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(reverse("study:quiz_abandon", args=[session.pk])).status_code == 404
    )
    assert post_answer(client, session, 1, position=0).status_code == 404
    assert (
        client.post(reverse("study:attempt_reviewed", args=[attempt.pk])).status_code
        == 404
    )
    assert (
        client.post(
            reverse("study:quiz_start", args=[topic.pk]), {"mode": "stage"}
        ).status_code
        == 404
    )


def test_mock_exam_is_scored_per_subject_with_the_pass_rule(user, topic, bank):
    session = start(user, topic, mode=QuizMode.MOCK, per_subject=5)

    # 과목1 all right, 과목2 3/5 right, 과목3 1/5 right (20 < 40: fails)
    def choose(position, qid):
        subject_index, within = divmod(position, 5)
        right = [5, 3, 1][subject_index]
        return 2 if within < right else 1

    session = submit_mock(session, choose)
    result = session.result
    assert [s["score"] for s in result["subjects"]] == [100.0, 60.0, 20.0]
    assert result["average"] == 60.0
    assert result["failing_subjects"] == ["과목3"] and result["passed"] is False


def test_mock_exam_passes_with_every_subject_at_40_and_average_60(user, topic, bank):
    session = start(user, topic, mode=QuizMode.MOCK, per_subject=5)
    session = submit_mock(session, lambda p, q: 2 if p % 5 < [4, 2, 3][p // 5] else 1)
    assert session.result["passed"] is True and session.result["failing_subjects"] == []


def test_the_start_form_works_without_javascript(client, user, topic, bank):
    """Without JS every fieldset is posted; only the chosen mode's inputs count."""
    client.force_login(user)
    data = {
        "mode": "stage",
        "stage": "intro",
        "size": "5",
        "subject_size": "6",
        "round_key": "2022-1",
        "subjects": ["과목1", "과목2"],
        "per_subject": "20",
    }
    response = client.post(reverse("study:quiz_start", args=[topic.pk]), data)
    session = QuizSession.objects.get(user=user)
    assert response.status_code == 302 and session.mode == "stage" and session.size == 5
