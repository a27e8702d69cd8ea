"""A bank with renamed, retired and misspelled subjects, imported as it comes,
gets the exam's real paper without any editing, and every consumer of the
subject list reads that one list: the topic page, the start form, the mock
exam, stage quizzes, the subject quiz, scores and 과락, the forecast and the
plan. Old subjects stay drillable by subject."""

import random
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from study.forecast.selectors import daily_plan, learner_model
from study.imports.services import questions_import
from study.models import Question, QuizMode, Topic
from study.selectors.exam_spec import exam_paper_for_topic, topic_subject_names
from study.selectors.scores import session_score
from study.selectors.subjects import subjects_overview
from study.services.exam_plans import exam_plan_set
from study.services.subjects import subject_merge
from tests.shared_data import SHARED_EXAMS, needs_shared
from tests.study.learner_helpers import answer_all, start, submit_mock
from tests.study.subject_bank import (
    CURRENT,
    PER_SUBJECT,
    RETIRED,
    TYPO_ROWS,
    TYPO_SUBJECT,
    construction_sources,
)

OLD = {"안전관리론", TYPO_SUBJECT, TYPO_ROWS, *RETIRED}


@pytest.fixture
def bank(topic):
    report = questions_import(topic=topic, sources=construction_sources())
    assert report.rejected == [] and report.imported == 8 * 6 * PER_SUBJECT
    return topic


def test_the_default_paper_is_the_latest_complete_rounds_subjects(bank):
    paper = exam_paper_for_topic(topic=bank)
    assert paper.subjects == CURRENT and not paper.is_set
    assert (paper.per_subject, paper.minutes) == (20, 180)
    # 2022 2회 (another exam's round, the newest) is not confirmed by any other
    # recent sitting; 2021 1회 is incomplete (three rows misspelled).
    assert [r.key for r in paper.rounds] == ["2022-1", "2020-3", "2020-1"]
    assert set(paper.old_subjects) == OLD
    # Every name stays known: the paper's first, in exam order.
    names = topic_subject_names(topic=bank)
    assert names[:6] == list(CURRENT) and set(names[6:]) == OLD


def test_the_topic_page_says_where_the_paper_comes_from(client, user, bank):
    client.force_login(user)
    html = client.get(reverse("study:topic", args=[bank.pk])).content.decode()
    assert "최근 완전한 회차에서 읽었습니다" in html
    assert "2022년 1회 · 2020년 3회 · 2020년 1회" in html
    assert html.count("data-old-subject>") == len(OLD)
    # The start form: the mock and stage quizzes leave old subjects out and
    # say so; the subject quiz offers them, unchecked.
    assert "6과목 × 20문제 · 180분" in html
    assert "는 모의고사와 합격 예측에서 빠집니다" in html
    assert 'value="기계위험방지기술">' in html
    assert 'value="건설시공학" checked>' in html


def test_the_mock_exam_is_the_current_paper(user, bank):
    session = start(user, bank, mode=QuizMode.MOCK, rng=random.Random(3))
    subjects = list(
        Question.objects.filter(pk__in=session.question_ids).values_list(
            "subject", flat=True
        )
    )
    assert len(subjects) == 120 and set(subjects) == set(CURRENT)
    assert session.params["minutes"] == 180


def test_stage_quizzes_leave_old_subjects_out(user, bank):
    seen = set()
    for seed in range(3):
        session = start(user, bank, size=100, rng=random.Random(seed))
        seen |= set(
            Question.objects.filter(pk__in=session.question_ids).values_list(
                "subject", flat=True
            )
        )
    assert seen <= set(CURRENT) and len(seen) == 6


def test_old_subjects_are_drillable_by_subject(client, user, bank):
    client.force_login(user)
    response = client.post(
        reverse("study:quiz_start", args=[bank.pk]),
        {"mode": "subject", "subjects": ["기계위험방지기술"], "subject_size": 10},
    )
    assert response.status_code == 302
    session = user.quiz_sessions.latest("id")
    subjects = set(
        Question.objects.filter(pk__in=session.question_ids).values_list(
            "subject", flat=True
        )
    )
    assert subjects == {"기계위험방지기술"} and session.size == 10


def test_scores_judge_the_current_subjects_and_keep_old_ones_apart(user, bank):
    # 2016 2회 spells 산업심리 및 교육 wrongly: before the merge its score is
    # shown apart and the verdict rests on the other five subjects.
    session = answer_all(start(user, bank, mode=QuizMode.ROUND, round_key="2016-2"), 1)
    paper = exam_paper_for_topic(topic=bank).subjects
    score = session_score(session=session, paper=paper).paper
    assert [s.subject for s in score.off_paper] == [TYPO_SUBJECT]
    assert [s.subject for s in score.subjects] == [
        n for n in CURRENT if n != "산업심리 및 교육"
    ]
    subject_merge(topic=bank, names=[TYPO_SUBJECT], into="산업심리 및 교육")
    score = session_score(session=session, paper=paper).paper
    assert [s.subject for s in score.subjects] == list(CURRENT)
    assert score.off_paper == ()


def test_a_mock_result_and_its_failing_subjects_read_the_paper(client, user, bank):
    session = start(user, bank, mode=QuizMode.MOCK, per_subject=10)
    wrong_subject = "건설재료학"
    by_id = dict(
        Question.objects.filter(pk__in=session.question_ids).values_list(
            "id", "subject"
        )
    )
    done = submit_mock(
        session,
        lambda p, qid: _key(qid) % 4 + 1 if by_id[qid] == wrong_subject else _key(qid),
    )
    assert [s["subject"] for s in done.result["subjects"]] == list(CURRENT)
    assert done.result["failing_subjects"] == [wrong_subject]
    client.force_login(user)
    html = client.get(reverse("study:results", args=[done.pk])).content.decode()
    assert "과락" in html and "불합격" in html


def _key(question_id: int) -> int:
    return Question.objects.get(pk=question_id).correct_choice


def test_the_forecast_and_the_plan_read_the_current_paper(user, bank):
    exam_plan_set(
        user=user,
        topic=bank,
        exam_date=timezone.localdate() + timedelta(days=30),
        daily_size=40,
    )
    model = learner_model(user=user, topic=bank, now=timezone.now())
    assert [s.name for s in model.subjects] == list(CURRENT)
    assert all(s.questions == 20 for s in model.subjects)
    plan = daily_plan(user=user, topic=bank)
    subjects = {q.subject for q in plan.new_questions}
    assert subjects and subjects <= set(CURRENT)


def test_merging_brings_old_names_onto_the_paper_and_every_consumer_follows(user, bank):
    subject_merge(topic=bank, names=["안전관리론"], into="산업안전관리론")
    subject_merge(topic=bank, names=[TYPO_SUBJECT], into="산업심리 및 교육")
    subject_merge(topic=bank, names=[TYPO_ROWS], into="건설재료학")
    paper = exam_paper_for_topic(topic=bank)
    assert paper.subjects == CURRENT
    assert set(paper.old_subjects) == set(RETIRED)
    # 2021 1회 is complete now; 2014, 2015 and 2016 share the paper too.
    assert [r.key for r in paper.rounds] == [
        "2022-1",
        "2021-1",
        "2020-3",
        "2020-1",
        "2016-2",
        "2015-2",
        "2014-1",
    ]
    model = learner_model(user=user, topic=bank, now=timezone.now())
    # The first subject now has the questions of every era but the 2022 2회
    # stray (20 × 7 rounds, the stray round's 안전관리론 too: 20 × 8).
    sizes = {s.name: len(ids) for s, ids in zip(model.subjects, model.ids, strict=True)}
    assert sizes["산업안전관리론"] == 8 * 20
    assert sizes["산업심리 및 교육"] == 7 * 20


@needs_shared
def test_the_real_rounds_give_the_real_papers(user):
    """The 15 real 산업안전기사 rounds: 6 × 20 in 180 minutes, read from every
    round (all complete), nothing to merge. Each messy sample, another exam,
    gets its own paper, 소방안전교육사 with its 25 questions a subject."""
    topic = Topic.objects.create(name="산업안전기사", owner=user)
    questions_import(topic=topic, paths=sorted(SHARED_EXAMS.glob("*.csv")))
    paper = exam_paper_for_topic(topic=topic)
    assert (len(paper.subjects), paper.per_subject, paper.minutes) == (6, 20, 180)
    assert paper.subjects[0] == "안전관리론" and paper.old_subjects == ()
    assert len(paper.rounds) == 15 and paper.rounds[0].key == "2020-4"
    assert subjects_overview(topic=topic).suggestions == []
    found = {}
    for path in sorted((SHARED_EXAMS / "messy").glob("*.csv")):
        sample = Topic.objects.create(name=path.stem, owner=user)
        questions_import(topic=sample, paths=[path])
        paper = exam_paper_for_topic(topic=sample)
        found[path.stem] = (len(paper.subjects), paper.per_subject, paper.minutes)
    assert found == {
        "ergonomics-2019-1": (4, 20, 120),
        "fire-equip-elec-2021-2": (4, 20, 120),
        "fire-safety-edu-2019-2": (4, 25, 150),
        "ind-hygiene-2017-3": (5, 20, 150),
    }
