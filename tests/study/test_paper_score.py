"""The pass rule on a paper: unrounded scores, and no verdict without every
subject of the exam's paper."""

from django.urls import reverse

from study.models import QuizMode
from study.selectors.exam_spec import exam_paper_for_topic
from study.selectors.scores import paper_score, session_score
from tests.conftest import make_question
from tests.study.learner_helpers import answer_all, make_bank, start


def rows(subject: str, correct: int, total: int) -> list[tuple[str, bool]]:
    return [(subject, n < correct) for n in range(total)]


def test_the_average_is_the_mean_of_the_unrounded_subject_scores():
    # 25.0 and 16.666…: the mean is 20.83 (shown 20.8), not 20.85 of the
    # rounded scores (shown 20.9).
    score = paper_score(rows("A", 1, 4) + rows("B", 1, 6), paper=("A", "B"))
    assert [s.score for s in score.subjects] == [25.0, 16.7]
    assert score.average == 20.8


def test_the_pass_rule_judges_the_unrounded_scores():
    # 59.96 shows as 60.0 but is under the 60 the mean needs.
    below_mean = paper_score(rows("A", 5996, 10000), paper=("A",))
    assert below_mean.average == 60.0 and below_mean.passed is False
    # 39.96 shows as 40.0 but is under the 40 a subject needs (과락).
    below_subject = paper_score(
        rows("A", 9996, 10000) + rows("B", 3996, 10000), paper=("A", "B")
    )
    assert below_subject.subjects[1].score == 40.0
    assert below_subject.failing_subjects == ["B"] and below_subject.passed is False
    exactly = paper_score(rows("A", 8, 20) + rows("B", 16, 20), paper=("A", "B"))
    assert exactly.passed is True  # 40 and a mean of 60 pass


def test_a_paper_missing_a_subject_is_not_judged():
    score = paper_score(rows("A", 20, 20) + rows("B", 20, 20), paper=("A", "B", "C"))
    assert score.missing == ("C",) and score.passed is False
    assert score.as_dict()["missing_subjects"] == ["C"]
    assert paper_score(rows("A", 20, 20), paper=("A",)).missing == ()


def test_a_round_without_one_of_the_papers_subjects_says_so(client, user, topic):
    make_bank(topic, rounds=(("2022", "1"),), subjects=3, per_subject=2)
    for number in (1, 2, 3, 4):  # 2023 1회 holds two of the three subjects
        make_question(topic, number, year=2023, subject=f"과목{(number + 1) // 2}")
    session = start(user, topic, mode=QuizMode.ROUND, round_key="2023-1")
    session = answer_all(session, 2)  # every answer right
    paper = exam_paper_for_topic(topic=topic).subjects
    assert session_score(session=session, paper=paper).paper.missing == ("과목3",)
    client.force_login(user)
    html = client.get(reverse("study:results", args=[session.pk])).content.decode()
    assert "판정 불가" in html and "합격</span>" not in html
    assert "이 시험지에 없는 과목: 과목3" in html
