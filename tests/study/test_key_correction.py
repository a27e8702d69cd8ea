"""A corrected answer key regrades every answer to the question (issue 23, 1).

Staff changed a question's key from 2 to 3; before, the learner who had
answered 3 saw choice 3 marked both 정답 and 내 선택, in the 오답 tab, still
counted wrong, with a progress pattern and review schedule of a miss. Now
every write path (the service, the question form, the admin, an import
update) regrades in the edit's transaction: outcomes, the results page, the
mock's stored score, and the progress row replayed from the attempts, which
ends where it would have been had the key been right from the start.
"""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from study.models import Attempt, Outcome, Pattern, QuestionProgress, QuizMode
from study.services.progress import question_review_complete
from study.services.questions import question_update
from tests.conftest import make_question
from tests.study.learner_helpers import (
    answer_all,
    make_bank,
    page_counts,
    pretend_answered_days_ago,
    start,
    submit_mock,
)

HTMX = {"HTTP_HX_REQUEST": "true"}
OLD_KEY, NEW_KEY = 2, 3


@pytest.fixture
def history(user, other_user, topic):
    """`fixed` (key 2, to become 3) and its twin `twin` (key 3 all along) get
    the same answers from the learner over three days: 3, then 1, both checked,
    then 3. Another learner took a mock and answered 2 on `fixed`."""
    make_bank(topic, rounds=(("2022", "1"),), subjects=3, per_subject=5)
    fixed = topic.questions.get(number=1)
    mock = submit_mock(
        start(other_user, topic, mode=QuizMode.MOCK, per_subject=5),
        lambda p, q: OLD_KEY,
    )
    twin = make_question(
        topic, 16, year=2022, session="1", subject="과목1", correct_choice=NEW_KEY
    )
    targets = {fixed.pk, twin.pk}

    def round_with(choice: int):
        session = start(user, topic, mode=QuizMode.ROUND, round_key="2022-1")
        return answer_all(session, lambda p, q: choice if q in targets else OLD_KEY)

    first = round_with(3)
    pretend_answered_days_ago(user)
    round_with(1)
    pretend_answered_days_ago(user)
    question_review_complete(user=user, question_ids=[fixed.pk, twin.pk])
    last = round_with(3)
    return {"fixed": fixed, "twin": twin, "first": first, "last": last, "mock": mock}


def service_edit(client, question, tmp_path):
    question_update(question=question, data={"correct_choice": NEW_KEY})


def form_edit(client, question, tmp_path):
    client.force_login(question.topic.owner)
    data = {
        "exam_name": question.exam_name,
        "exam_year": question.exam_year,
        "exam_session": question.exam_session,
        "number": question.number,
        "subject": question.subject,
        "scope": question.scope,
        "stem": question.stem,
        **{f"choice_{i}": c for i, c in enumerate(question.choices, start=1)},
        "correct_choice": NEW_KEY,
        "accepted_choices": "",
        "explanation": question.explanation,
    }
    response = client.post(reverse("study:question_edit", args=[question.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]


def admin_edit(client, question, tmp_path):
    staff = get_user_model().objects.create_user(
        username="staff", password="pw-staff-1", is_staff=True, is_superuser=True
    )
    client.force_login(staff)
    data = {
        "topic": question.topic_id,
        "exam_name": question.exam_name,
        "exam_year": question.exam_year,
        "exam_session": question.exam_session,
        "number": question.number,
        "subject": question.subject,
        "scope": question.scope,
        "stem": question.stem,
        **{f"choice_{i}": c for i, c in enumerate(question.choices, start=1)},
        "correct_choice": NEW_KEY,
        "accepted_choices": "",
        "explanation": question.explanation,
        "ai_explanation_status": question.ai_explanation_status,
        "ai_explanation": question.ai_explanation,
        "ai_explanation_model": question.ai_explanation_model,
        "deleted_at_0": "",
        "deleted_at_1": "",
    }
    url = reverse("admin:study_question_change", args=[question.pk])
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]


def import_update(client, question, tmp_path):
    header = "Test Name,Year,Session,Subject,Number,Question,Question_image,"
    header += "Option 1,Option 2,Option 3,Option 4,Answer"
    row = ",".join(
        [
            question.exam_name,
            str(question.exam_year),
            question.exam_session,
            question.subject,
            str(question.number),
            question.stem,
            "",
            *question.choices,
            str(NEW_KEY),
        ]
    )
    path = tmp_path / "bank.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    call_command("import_questions", str(path), "--topic", question.topic.name)


PATHS = [service_edit, form_edit, admin_edit, import_update]


@pytest.mark.parametrize("path", PATHS, ids=[p.__name__ for p in PATHS])
def test_every_write_path_regrades_every_answer(
    path, history, client, user, other_user, tmp_path
):
    fixed = history["fixed"]

    path(client, fixed, tmp_path)

    fixed.refresh_from_db()
    assert fixed.correct_choice == NEW_KEY
    mine = Attempt.objects.filter(user=user, question=fixed).order_by("created_at")
    assert [a.outcome for a in mine] == ["correct", "wrong", "correct"]
    theirs = Attempt.objects.get(user=other_user, question=fixed)
    assert theirs.outcome == Outcome.WRONG  # they chose the old key
    assert all(a.regraded_at for a in [*mine, theirs])
    # The mock's stored score follows: 과목1 had 5/5, now 4/5.
    mock = history["mock"]
    mock.refresh_from_db()
    first_subject = mock.result["subjects"][0]
    assert (first_subject["correct"], first_subject["score"]) == (4, 80.0)


@pytest.mark.parametrize("path", PATHS, ids=[p.__name__ for p in PATHS])
def test_progress_is_replayed_as_if_the_key_had_been_right(
    path, history, client, user, tmp_path
):
    fixed, twin = history["fixed"], history["twin"]
    before = QuestionProgress.objects.get(user=user, question=fixed)
    assert before.pattern_state == Pattern.CHRONIC_WRONG

    path(client, fixed, tmp_path)

    replayed = QuestionProgress.objects.get(user=user, question=fixed)
    reference = QuestionProgress.objects.get(user=user, question=twin)
    for field in (
        "pattern_state",
        "pattern_window",
        "had_correct_before_window",
        "had_wrong_before_window",
        "last_outcome",
        "attempt_count",
        "correct_count",
        "review_stage",
        "last_reviewed_at",
    ):
        assert getattr(replayed, field) == getattr(reference, field), field
    assert replayed.pattern_state == Pattern.RECOVERED
    assert replayed.last_attempt.session_id == history["last"].pk
    # The same FSRS card, reviewed when each question was answered (the twin
    # comes later in the session, so its times are a little later).
    assert _card(replayed) == _card(reference) and _card(replayed)["state"]
    for progress in (replayed, reference):
        last_review = progress.fsrs_card["last_review"]
        assert last_review == progress.last_attempt.created_at.isoformat()
    assert _interval(replayed) == _interval(reference)


def _card(progress) -> dict:
    """The FSRS card but its id and times."""
    times = {"card_id", "due", "last_review"}
    return {k: v for k, v in (progress.fsrs_card or {}).items() if k not in times}


def _interval(progress):
    return progress.due_at - progress.last_attempt.created_at


def test_the_results_page_shows_the_regrade(history, client, user):
    fixed, first = history["fixed"], history["first"]
    client.force_login(user)
    url = reverse("study:results", args=[first.pk])
    html = client.get(url).content.decode()
    assert (page_counts(html)["correct"], page_counts(html)["wrong"]) == (15, 1)
    assert "정답률 93.8%" in html  # 15 / 16

    question_update(question=fixed, data={"correct_choice": NEW_KEY})

    html = client.get(url + "?tab=correct").content.decode()
    counts = page_counts(html)
    assert (counts["correct"], counts["wrong"]) == (16, 0)
    assert "정답률 100.0%" in html
    attempt = first.attempts.get(question=fixed)
    card = html.split(f'id="attempt-{attempt.pk}"')[1].split("</article>")[0]
    assert "정답이 정정되어 다시 채점했습니다" in card
    detail = client.get(
        reverse("study:result_card", args=[first.pk, attempt.pk]), **HTMX
    ).content.decode()
    # Choice 3 is the key and the learner's pick, and nothing is marked wrong.
    assert "chosen-wrong" not in detail
    chosen = detail.split('<li class="correct">')[1].split("</li>")[0]
    assert "정답" in chosen and "내 선택" in chosen and "badge bad" not in chosen


def test_an_unchanged_key_regrades_nothing(history, client, user):
    fixed = history["fixed"]
    question_update(question=fixed, data={"stem": "고친 문제", "accepted_choices": ""})
    assert not Attempt.objects.filter(question=fixed, regraded_at__isnull=False)


def test_a_regrade_in_a_dry_run_import_is_rolled_back(history, user, tmp_path):
    from study.imports.services import questions_import

    fixed = history["fixed"]
    header = "Test Name,Year,Session,Subject,Number,Question,Question_image,"
    header += "Option 1,Option 2,Option 3,Option 4,Answer"
    row = ",".join(
        [
            fixed.exam_name,
            "2022",
            "1",
            fixed.subject,
            "1",
            fixed.stem,
            "",
            *fixed.choices,
            str(NEW_KEY),
        ]
    )
    path = tmp_path / "bank.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")

    report = questions_import(topic=fixed.topic, paths=[path], dry_run=True)

    assert report.updated == 1
    assert not Attempt.objects.filter(question=fixed, regraded_at__isnull=False)
    assert QuestionProgress.objects.get(user=user, question=fixed).pattern_state == (
        Pattern.CHRONIC_WRONG
    )


def test_a_regrade_takes_the_same_queries_for_one_learner_or_many(
    django_user_model, topic
):
    """Set-based: the queries do not grow with the learners who answered."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from study.services.regrade import questions_regrade

    make_bank(topic, rounds=(("2022", "1"),), subjects=1, per_subject=5)
    fixed = topic.questions.get(number=1)
    counts = []
    for learners in (1, 8):
        for n in range(learners):
            learner = django_user_model.objects.create_user(
                username=f"l{learners}-{n}", password="pw-learner-1"
            )
            session = start(learner, topic, mode=QuizMode.ROUND, round_key="2022-1")
            answer_all(session, lambda p, q: NEW_KEY if q == fixed.pk else OLD_KEY)
            question_review_complete(user=learner, question_ids=[fixed.pk])
        fixed.correct_choice = NEW_KEY if fixed.correct_choice == OLD_KEY else OLD_KEY
        fixed.save()
        with CaptureQueriesContext(connection) as queries:
            report = questions_regrade(questions=[fixed])
        assert report.progress == Attempt.objects.filter(question=fixed).count()
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 8  # 7 measured
