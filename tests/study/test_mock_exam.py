"""The mock exam as a CBT: exam spec, sizes the bank can fill, server clock,
drafts kept until submission, submit once, scores by the pass rule."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from study.models import (
    Attempt,
    ExamSpec,
    Question,
    QuizMode,
    QuizSession,
    QuizStatus,
)
from study.selectors.exam_spec import exam_paper_for_topic, paper_fill
from study.selectors.quiz_selection import NotEnoughQuestions
from study.services.exam_specs import exam_spec_save
from study.services.quiz_sessions import (
    AnswerRejected,
    mock_draft_save,
    mock_submit,
)
from tests.study.learner_helpers import make_bank, start, submit_mock


@pytest.fixture
def bank(topic):
    return make_bank(topic, per_subject=5)  # 3 subjects × 10 over two rounds


def test_without_a_spec_the_paper_is_the_banks_subjects_20_each_30_minutes(topic, bank):
    paper = exam_paper_for_topic(topic=topic)
    assert paper.subjects == ("과목1", "과목2", "과목3")
    assert (paper.per_subject, paper.minutes, paper.is_set) == (20, 90, False)
    fill = paper_fill(topic=topic, paper=paper)
    assert fill.available == {"과목1": 10, "과목2": 10, "과목3": 10}
    assert not fill.fills_spec and fill.largest == 10 and fill.default_size == 10


def test_the_default_never_fails_it_takes_the_largest_size_every_subject_fills(
    user, topic, bank
):
    session = start(user, topic, mode=QuizMode.MOCK)
    assert session.size == 30 and session.params["per_subject"] == 10
    # 90 minutes for 20 a subject, so 45 for 10.
    left = session.deadline_at - session.started_at
    assert timedelta(minutes=44) < left <= timedelta(minutes=45)


def test_the_owners_spec_sets_order_size_and_time(user, topic, bank):
    exam_spec_save(
        topic=topic,
        subjects=["과목3", "과목1"],
        questions_per_subject=4,
        time_limit_minutes=10,
    )
    session = start(user, topic, mode=QuizMode.MOCK)
    subjects = [q.subject for q in _questions(session)]
    assert subjects == ["과목3"] * 4 + ["과목1"] * 4
    assert session.params["minutes"] == 10


def test_a_size_the_bank_cannot_fill_is_refused_with_the_largest_that_fits(
    user, topic, bank
):
    with pytest.raises(NotEnoughQuestions, match="과목당 10문제까지"):
        start(user, topic, mode=QuizMode.MOCK, per_subject=11)


def test_a_spec_subject_with_no_questions_says_so(user, topic, bank):
    exam_spec_save(
        topic=topic,
        subjects=["과목1", "없는 과목"],
        questions_per_subject=5,
        time_limit_minutes=None,
    )
    with pytest.raises(NotEnoughQuestions, match="문제가 없는 과목"):
        start(user, topic, mode=QuizMode.MOCK)


def test_the_database_refuses_a_bad_spec(topic):
    # No subjects is allowed (a spec kept only for its exam dates, issue 26:
    # the paper is then the bank's); a paper size out of range is not.
    with pytest.raises(IntegrityError):
        ExamSpec.objects.create(
            topic=topic, subjects=["과목1"], questions_per_subject=0
        )


def test_drafts_change_and_marks_are_kept_and_nothing_is_recorded(user, topic, bank):
    session = start(user, topic, mode=QuizMode.MOCK, per_subject=2)
    mock_draft_save(session=session, position=0, choice=1, marked=None)
    mock_draft_save(session=session, position=0, choice=3, marked=True)
    mock_draft_save(session=session, position=1, choice=5, marked=None)
    mock_draft_save(session=session, position=1, choice=0, marked=None)  # cleared
    session.refresh_from_db()
    assert session.drafts == {"0": 3} and session.marked == [0]
    assert not Attempt.objects.exists() and session.is_active


def test_submission_scores_drafts_and_posted_answers_once(user, topic, bank):
    session = start(user, topic, mode=QuizMode.MOCK, per_subject=2)
    mock_draft_save(session=session, position=0, choice=2, marked=None)
    mock_submit(session=session, answers={1: 2, 2: 1})
    mock_submit(session=session, answers={3: 2})  # double submit
    session.refresh_from_db()
    outcomes = list(session.attempts.order_by("position").values_list("outcome"))
    assert [o for (o,) in outcomes] == ["correct", "correct", "wrong"] + ["unsure"] * 3
    assert session.status == QuizStatus.FINISHED
    assert session.result["subjects"][0] == {
        "subject": "과목1",
        "correct": 2,
        "total": 2,
        "score": 100.0,
    }
    assert session.result["passed"] is False  # 100, 0, 0


def test_after_the_deadline_drafts_are_refused_and_late_answers_ignored(
    user, topic, bank
):
    session = start(user, topic, mode=QuizMode.MOCK, per_subject=2)
    mock_draft_save(session=session, position=0, choice=2, marked=None)
    QuizSession.objects.filter(pk=session.pk).update(
        deadline_at=timezone.now() - timedelta(minutes=5)
    )
    session.refresh_from_db()
    with pytest.raises(AnswerRejected, match="시간이 끝났습니다"):
        mock_draft_save(session=session, position=1, choice=2, marked=None)
    session = submit_mock(session, 2)
    assert session.attempts.filter(outcome="correct").count() == 1


def test_mock_answers_cannot_go_through_the_one_by_one_path(client, user, topic, bank):
    session = start(user, topic, mode=QuizMode.MOCK, per_subject=2)
    client.force_login(user)
    response = client.post(
        reverse("study:quiz_answer", args=[session.pk]),
        {"position": 0, "question_id": session.question_ids[0], "choice": 2},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 409 and not Attempt.objects.exists()


def test_the_mock_page_reveals_no_answer_and_keeps_drafts(client, user, topic, bank):
    session = start(user, topic, mode=QuizMode.MOCK, per_subject=2)
    mock_draft_save(session=session, position=3, choice=4, marked=True)
    client.force_login(user)
    html = client.get(reverse("study:quiz", args=[session.pk])).content.decode()
    assert html.count('class="card mock-q"') == 6
    assert 'name="a3" value="4" checked' in html
    assert 'name="m3" value="1" checked' in html
    assert "정답" not in html and "해설" not in html
    assert "<script>" not in html and "onclick" not in html and "onsubmit" not in html


def test_draft_and_submit_views_guard_other_users_and_bad_input(
    client, user, other_user, topic, bank
):
    session = start(user, topic, mode=QuizMode.MOCK, per_subject=2)
    draft = reverse("study:mock_draft", args=[session.pk])
    client.force_login(other_user)
    assert client.post(draft, {"position": 0, "choice": 1}).status_code == 404
    assert (
        client.post(reverse("study:mock_submit", args=[session.pk])).status_code == 404
    )
    client.force_login(user)
    assert client.post(draft, {"position": 99, "choice": 1}).status_code == 400
    assert client.post(draft, {"position": 0, "choice": 9}).status_code == 400
    ok = client.post(draft, {"position": 0, "choice": 2, "marked": "1"})
    assert ok.status_code == 200 and ok.json()["saved"] is True
    assert "correct" not in ok.content.decode()
    done = client.post(reverse("study:mock_submit", args=[session.pk]), {"a1": "2"})
    assert done["Location"] == reverse("study:results", args=[session.pk])
    assert client.post(draft, {"position": 0, "choice": 1}).status_code == 409


def test_the_start_form_offers_the_size_that_fits_and_keeps_the_mode(
    client, user, topic, bank
):
    client.force_login(user)
    url = reverse("study:topic", args=[topic.pk])
    html = client.get(url).content.decode()
    assert "3과목 × 20문제 · 90분" in html
    assert "과목당 <strong>10문제</strong>로 봅니다" in html
    assert 'name="per_subject" value="10"' in html
    bad = client.post(
        reverse("study:quiz_start", args=[topic.pk]),
        {"mode": "mock", "per_subject": 50},
    )
    assert bad["Location"].startswith(url + "?mode=mock")
    again = client.get(bad["Location"]).content.decode()
    assert 'value="mock" checked' in again and "과목당 10문제까지" in again


def test_the_owner_sets_the_spec_on_the_topic_settings_page(client, user, topic, bank):
    client.force_login(user)
    url = reverse("study:exam_spec_edit", args=[topic.pk])
    response = client.post(
        url,
        {
            "subjects": "과목2\n과목1\n과목2\n",
            "questions_per_subject": 5,
            "time_limit_minutes": "",
        },
    )
    assert response.status_code == 302
    spec = ExamSpec.objects.get(topic=topic)
    assert spec.subjects == ["과목2", "과목1"] and spec.minutes == 60
    assert client.post(url, {"questions_per_subject": 0}).status_code == 400
    client.post(url, {"subjects": "", "questions_per_subject": 20})
    assert not ExamSpec.objects.filter(topic=topic).exists()


def test_others_cannot_set_the_spec(client, other_user, topic, bank):
    client.force_login(other_user)
    url = reverse("study:exam_spec_edit", args=[topic.pk])
    data = {"subjects": "과목1", "questions_per_subject": 5}
    assert client.post(url, data).status_code == 404


def test_a_seeded_rng_gives_the_same_paper(user, topic, bank):
    import random

    first = start(user, topic, mode=QuizMode.MOCK, per_subject=3)
    from study.selectors.quiz_selection import select_for_mock

    subjects = ("과목1", "과목2", "과목3")
    a = select_for_mock(
        topic=topic, subjects=subjects, per_subject=3, rng=random.Random(7)
    )
    b = select_for_mock(
        topic=topic, subjects=subjects, per_subject=3, rng=random.Random(7)
    )
    assert a == b and len(set(a)) == 9 and first.size == 9


def _questions(session):
    from study.models import Question

    by_id = Question.objects.in_bulk(session.question_ids)
    return [by_id[i] for i in session.question_ids]


def test_stopping_a_mock_submits_what_was_saved(user, topic, bank):
    from study.services.quiz_sessions import quiz_session_abandon

    session = start(user, topic, mode=QuizMode.MOCK, per_subject=2)
    mock_draft_save(session=session, position=0, choice=2, marked=None)
    quiz_session_abandon(session=session)
    session.refresh_from_db()
    assert session.attempts.count() == 6 and session.result["subjects"]


def test_a_mock_is_scored_on_the_paper_it_was_set_on_in_exam_order(
    user, topic, bank, client
):
    """The score reads the mock's own paper (kept at its start; jsonb keeps
    no key order, the questions' order gives the exam order), not a pass over
    the bank: a spec changed while the mock runs changes neither its order
    nor which subjects are judged, on submit or on the results page."""
    exam_spec_save(
        topic=topic,
        subjects=["과목3", "과목1"],
        questions_per_subject=2,
        time_limit_minutes=10,
    )
    session = start(user, topic, mode=QuizMode.MOCK)
    exam_spec_save(
        topic=topic,
        subjects=["과목1", "과목2"],
        questions_per_subject=2,
        time_limit_minutes=10,
    )
    keys = dict(Question.objects.values_list("pk", "correct_choice"))
    session = submit_mock(session, lambda p, q: keys[q] if p < 2 else 0)
    judged = [s["subject"] for s in session.result["subjects"]]
    assert judged == ["과목3", "과목1"]
    assert session.result["subjects"][0]["score"] == 100.0
    client.force_login(user)
    html = client.get(reverse("study:results", args=[session.pk])).content.decode()
    assert html.index("과목3") < html.index("과목1")
    assert "과목2" not in html


def test_the_mock_page_escapes_what_questions_hold_and_speaks_english(
    client, user, topic, bank
):
    """The 120 sections are written in Python (study_mock): hostile text is
    escaped, stems and choices rendered as on every page, labels translated."""
    hostile = "과목<img src=x onerror=alert(1)>"
    Question.objects.filter(subject="과목1").update(subject=hostile)
    Question.objects.filter(topic=topic).update(
        stem="**굵게** 묻는다 <script>alert(1)</script>", choice_1="A & B"
    )
    session = start(user, topic, mode=QuizMode.MOCK, per_subject=2)
    with_figure = session.question_ids[0]
    Question.objects.filter(pk=with_figure).update(figure="figures/f.png")
    mock_draft_save(session=session, position=5, choice=5, marked=True)
    client.force_login(user)
    url = reverse("study:quiz", args=[session.pk])
    html = client.get(url).content.decode()

    assert html.count('class="card mock-q"') == 6
    assert "과목&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html and "<script>alert" not in html
    assert html.count("<strong>굵게</strong> 묻는다") == 6
    assert '<span class="answer-text">A &amp; B</span>' in html
    figure = reverse("study:question_figure", args=[with_figure])
    assert f'<img src="{figure}" alt="문제 그림" loading="lazy">' in html
    assert html.count("<img ") == 1
    assert 'name="a5" value="5" checked' in html
    assert 'name="m5" value="1" checked' in html
    assert html.count("checked") == 2
    assert html.count('data-go="prev" disabled') == 1
    assert html.count('data-go="next" disabled') == 1
    assert '<h2 class="visually-hidden">1번 문제</h2>' in html
    # An answer-sheet cell's name starts with its visible number and mark
    # (WCAG 2.5.3, axe's label-content-name-mismatch): no aria-label over them.
    assert 'class="visually-hidden" data-sheet-label>6번</span>' in html
    assert 'aria-label="6번"' not in html

    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<h2 class="visually-hidden">Question 1</h2>' in english
    assert "Answer to question 6" in english
    assert "Flag for review" in english and "Clear answer" in english
    assert "I don&#x27;t know" in english and "Previous" in english
    assert 'alt="Question figure"' in english
