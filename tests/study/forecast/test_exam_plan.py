"""Exam date in 설정, D-day and P(합격) on home/topic, forecast, plan, calibration."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from study.forecast import retention
from study.models import (
    Attempt,
    ExamPlan,
    LearnerSettings,
    Question,
    QuestionProgress,
    QuizMode,
    QuizSession,
    Topic,
)
from study.services.exam_plans import exam_plan_set
from study.services.progress import attempt_mark_reviewed
from tests.conftest import make_question
from tests.study.learner_helpers import answer_all, make_bank, start


@pytest.fixture
def bank(topic):
    return make_bank(topic, subjects=3, per_subject=8)


@pytest.fixture
def studied(user, topic, bank):
    """Round 2022-1: 과목1 all right, 과목2 half, 과목3 all 모르겠음."""
    session = start(user, topic, mode=QuizMode.ROUND, round_key="2022-1")

    def choose(position, qid):
        if position < 8:
            return 2
        if position < 16:
            return 2 if position % 2 else 1
        return 5

    return answer_all(session, choose)


def in_days(n):
    return timezone.localdate() + timedelta(days=n)


def test_the_saved_date_is_told_as_the_language_writes_it(client, user, topic):
    """ "2027년 1월 16일로", whose particle is right after any day, not
    "2027-01-16로" (16 reads 십육: 으로)."""
    client.force_login(user)
    day = in_days(30)
    response = client.post(
        reverse("study:exam_plan_save"),
        {"topic": topic.pk, "exam_date": day, "daily_size": 25},
        follow=True,
    )
    said = f"시험일을 {day.year}년 {day.month}월 {day.day}일로 정했습니다."
    assert said in response.content.decode()


def test_the_exam_date_is_set_in_settings_and_checked(client, user, topic, other_user):
    client.force_login(user)
    page = client.get(reverse("study:settings") + f"?topic={topic.pk}")
    assert page.status_code == 200 and "시험일" in page.content.decode()
    assert not LearnerSettings.objects.exists()  # GET never writes
    url = reverse("study:exam_plan_save")
    ok = client.post(
        url, {"topic": topic.pk, "exam_date": in_days(30), "daily_size": 25}
    )
    assert ok.status_code == 302
    plan = ExamPlan.objects.get(user=user, topic=topic)
    assert (plan.exam_date, plan.daily_size) == (in_days(30), 25)
    # Saving again updates the one row of (learner, topic).
    client.post(url, {"topic": topic.pk, "exam_date": in_days(40), "daily_size": 30})
    assert ExamPlan.objects.get(user=user, topic=topic).exam_date == in_days(40)
    past = client.post(
        url, {"topic": topic.pk, "exam_date": in_days(-1), "daily_size": 25}
    )
    assert past.status_code == 400 and "오늘이나 그 뒤" in past.content.decode()
    huge = client.post(
        url, {"topic": topic.pk, "exam_date": in_days(5), "daily_size": 5000}
    )
    assert huge.status_code == 400
    private = Topic.objects.create(name="남의 토픽", owner=other_user)
    foreign = client.post(
        url, {"topic": private.pk, "exam_date": in_days(5), "daily_size": 25}
    )
    assert foreign.status_code == 400
    assert ExamPlan.objects.count() == 1


def test_a_plan_is_deleted_only_by_its_learner(client, user, other_user, topic):
    plan = exam_plan_set(user=user, topic=topic, exam_date=in_days(9), daily_size=20)
    client.force_login(other_user)
    url = reverse("study:exam_plan_delete", args=[plan.pk])
    assert client.post(url).status_code == 404
    assert client.get(url).status_code == 405
    client.force_login(user)
    assert client.post(url).status_code == 302
    assert not ExamPlan.objects.exists()


def test_database_constraints_hold_the_plan(user, topic):
    from django.db import IntegrityError, transaction

    exam_plan_set(user=user, topic=topic, exam_date=in_days(9), daily_size=20)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExamPlan.objects.create(user=user, topic=topic, exam_date=in_days(3))
    with pytest.raises(IntegrityError), transaction.atomic():
        ExamPlan.objects.filter(user=user).update(daily_size=1)


def test_home_and_topic_show_d_day_reviews_and_pass_probability(
    client, user, topic, studied
):
    client.force_login(user)
    assert "D-" not in client.get(reverse("study:home")).content.decode()
    exam_plan_set(user=user, topic=topic, exam_date=in_days(21), daily_size=20)
    wrong = studied.attempts.get(position=8)
    attempt_mark_reviewed(attempt=wrong)
    QuestionProgress.objects.filter(question=wrong.question).update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    for url in (reverse("study:home"), reverse("study:topic", args=[topic.pk])):
        html = client.get(url).content.decode()
        assert "D-21" in html
        assert "<strong>1</strong> 오늘 복습" in html
        # 4 wrong + 8 모르겠음, one of them reviewed.
        assert "<strong>11</strong> 확인 안 함" in html
        assert "합격 가능성" in html


def test_forecast_page_shows_probability_subjects_risk_and_plot(
    client, user, topic, studied
):
    client.force_login(user)
    url = reverse("study:forecast", args=[topic.pk])
    assert "시험일 정하기" in client.get(url).content.decode()
    exam_plan_set(user=user, topic=topic, exam_date=in_days(14), daily_size=20)
    html = client.get(url).content.decode()
    assert "80% 구간" in html
    for subject in ("과목1", "과목2", "과목3"):
        assert subject in html
    assert "<strong>과목3</strong>" in html  # the weakest: all 모르겠음
    assert html.count("<polyline") == 2 and 'role="img"' in html
    assert "<script" not in html.split("</head>")[1]  # CSP: no inline script
    assert " onclick=" not in html and " style=" not in html


def test_other_learners_cannot_see_a_private_topics_forecast(
    client, other_user, topic, user
):
    exam_plan_set(user=user, topic=topic, exam_date=in_days(14), daily_size=20)
    client.force_login(other_user)
    for name in ("forecast", "plan", "calibration"):
        assert client.get(reverse(f"study:{name}", args=[topic.pk])).status_code == 404
    assert client.post(reverse("study:plan_start", args=[topic.pk])).status_code == 404


def _strong_card(question):
    """Pretend the question has been remembered for months (stability 60 d)."""
    progress = QuestionProgress.objects.get(question=question)
    card = dict(progress.fsrs_card)
    card.update(stability=60.0, state=2)
    QuestionProgress.objects.filter(pk=progress.pk).update(fsrs_card=card)


def test_reviews_know_the_exam_date(user, topic, studied):
    """Higher retention near the exam, and no review planned after it."""
    from study.services import scheduling

    exam_plan_set(user=user, topic=topic, exam_date=in_days(3), daily_size=20)
    context = scheduling.review_context(
        user_id=user.pk, topic_id=topic.pk, at=timezone.now()
    )
    assert context.scheduler.desired_retention == 0.95
    far = in_days(200)
    ExamPlan.objects.filter(user=user).update(exam_date=far)
    context = scheduling.review_context(
        user_id=user.pk, topic_id=topic.pk, at=timezone.now()
    )
    assert context.scheduler.desired_retention == 0.9  # the learner's own
    ExamPlan.objects.filter(user=user).update(exam_date=in_days(3))

    wrong = studied.attempts.get(position=8)
    attempt_mark_reviewed(attempt=wrong)
    _strong_card(wrong.question)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 2)
    progress = QuestionProgress.objects.get(question=wrong.question)
    tz = timezone.get_current_timezone()
    exam_start = retention.exam_start(in_days(3), tz)
    eve = timezone.make_aware(datetime.combine(in_days(2), time.min), tz)
    assert progress.due_at == eve  # FSRS wanted weeks; the eve of the exam
    # Without an exam date the same answer is scheduled weeks later.
    ExamPlan.objects.all().delete()
    _strong_card(wrong.question)
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 2)
    progress.refresh_from_db()
    assert progress.due_at > exam_start + timedelta(days=7)


def test_the_daily_plan_puts_reviews_first_then_the_weakest_subject(
    client, user, topic, studied
):
    client.force_login(user)
    exam_plan_set(user=user, topic=topic, exam_date=in_days(30), daily_size=10)
    wrong = studied.attempts.get(position=8)
    attempt_mark_reviewed(attempt=wrong)
    QuestionProgress.objects.filter(question=wrong.question).update(
        due_at=timezone.now() - timedelta(hours=1)
    )
    # A 단골 (seen in 7 rounds): just missed, it would be half forgotten by
    # the exam, so reviewing it is worth more than a new question.
    Question.objects.filter(pk=wrong.question_id).update(round_count=7)
    sessions = QuizSession.objects.count()
    html = client.get(reverse("study:plan", args=[topic.pk])).content.decode()
    assert QuizSession.objects.count() == sessions  # GET never writes
    # The other 11 misses (4 wrong, 8 모르겠음, one marked) are not in the
    # review queue yet: they compete with new questions for the 10 places.
    assert "복습 1개, 확인 안 한 오답" in html
    assert "과목3" in html
    response = client.post(reverse("study:plan_start", args=[topic.pk]))
    session = QuizSession.objects.latest("id")
    assert response.status_code == 302 and response.url.endswith(f"/quiz/{session.pk}/")
    assert session.mode == QuizMode.PLAN and len(session.question_ids) == 10
    assert session.question_ids[0] == wrong.question_id
    misses = session.question_ids[1 : 1 + session.params["misses"]]
    new = session.question_ids[1 + session.params["misses"] :]
    assert new and not Attempt.objects.filter(user=user, question_id__in=new).exists()
    assert all(
        Attempt.objects.filter(user=user, question_id=qid).exclude(outcome="correct")
        for qid in misses
    )
    subjects = list(
        Question.objects.filter(id__in=new).values_list("subject", flat=True)
    )
    # 과목3 (all 모르겠음) is the weakest: most new questions come from it.
    assert subjects.count("과목3") >= max(subjects.count("과목1"), 1)
    # The quiz runs, and its results page names it.
    assert client.get(reverse("study:quiz", args=[session.pk])).status_code == 200
    answer_all(session, 2)
    results = client.get(reverse("study:results", args=[session.pk]))
    assert results.status_code == 200 and "오늘 할 일" in results.content.decode()


def test_the_plan_is_the_same_all_day(user, topic, studied):
    from study.forecast.selectors import daily_plan

    exam_plan_set(user=user, topic=topic, exam_date=in_days(30), daily_size=10)
    first = daily_plan(user=user, topic=topic).plan.question_ids
    assert len(first) == 10
    assert daily_plan(user=user, topic=topic).plan.question_ids == first


def test_plan_without_exam_date_sends_to_settings(client, user, topic, bank):
    client.force_login(user)
    html = client.get(reverse("study:plan", args=[topic.pk])).content.decode()
    assert "시험일 정하기" in html
    response = client.post(reverse("study:plan_start", args=[topic.pk]))
    assert response.status_code == 302 and response.url == reverse("study:settings")
    assert not QuizSession.objects.exists()


def test_calibration_report_per_subject_and_week(client, user, topic, studied):
    client.force_login(user)
    # Answer the 모르겠음 questions of 과목3 again, now right.
    answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2022-1"), 2)
    html = client.get(reverse("study:calibration", args=[topic.pk])).content.decode()
    assert "이 과목은 자신 있게 고른 답의 100%가 맞았습니다" in html  # 과목1
    assert "자신 있게 고른 답의 75%가 맞았습니다" in html  # 과목2: 12 of 16
    assert "모르겠음이었던 문제를 다시 풀어 100%를 맞혔습니다" in html  # 과목3
    assert "주별" in html


def test_the_quiz_form_does_not_start_a_plan_session(client, user, topic, bank):
    client.force_login(user)
    response = client.post(
        reverse("study:quiz_start", args=[topic.pk]), {"mode": "plan", "size": 10}
    )
    assert response.status_code in (200, 302, 400)
    assert not QuizSession.objects.filter(mode=QuizMode.PLAN).exists()


def test_on_the_exam_day_and_without_subjects_the_pages_still_work(
    client, user, topic, studied
):
    client.force_login(user)
    exam_plan_set(user=user, topic=topic, exam_date=in_days(0), daily_size=10)
    html = client.get(reverse("study:forecast", args=[topic.pk])).content.decode()
    assert "D-day" in html and "80% 구간" in html
    empty = Topic.objects.create(name="과목 없는 토픽", owner=user)
    make_question(empty, 1, subject="")
    exam_plan_set(user=user, topic=empty, exam_date=in_days(5), daily_size=10)
    page = client.get(reverse("study:forecast", args=[empty.pk]))
    assert page.status_code == 200 and "계산할 수 없습니다" in page.content.decode()
    assert client.get(reverse("study:plan", args=[empty.pk])).status_code == 200
    assert client.get(reverse("study:home")).status_code == 200
