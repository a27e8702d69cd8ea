"""The 개정 flag stored for a topic's questions: versions of an act loaded as
a learner would, each question read under the version in force on its exam
date and today's, then shown on the question page, the card and the topic
page, listed by the command, and left out of a quiz on request."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from study.amendments.services import topic_amendments_compute
from study.forecast.selectors import amended_keys, today_outcome
from study.models import QuestionAmendment, QuizMode
from study.selectors.quiz_selection import select_for_round
from tests.conftest import make_question
from tests.study.documents.test_versions import act_file, load
from tests.study.learner_helpers import answer_all, start

V2015 = act_file(
    "2015-01-01",
    "100",
    "##### 제2조 (개선계획)\n\n사업주는 안전보건개선계획서를 명령을 받은 날부터 "
    "60일 이내에 관할 관서에 제출하여야 한다.\n\n"
    "##### 제4조 (보존)\n\n사업주는 점검 기록을 3년간 보존하여야 한다.\n",
)
# Rewritten in force from 2020: the plan article renumbered and its term
# shortened; the record article unchanged.
V2020 = act_file(
    "2020-01-16",
    "200",
    "##### 제4조 (보존)\n\n사업주는 점검 기록을 3년간 보존하여야 한다.\n\n"
    "##### 제7조 (개선계획)\n\n사업주는 안전보건개선계획서를 명령을 받은 날부터 "
    "30일 이내에 관할 관서에 제출해야 한다.\n",
)
PLAN = {
    "stem": "사업주는 안전보건개선계획서를 명령을 받은 날부터 며칠 이내에 관할 관서에 "
    "제출해야 하는가?",
    "choice_1": "15일",
    "choice_2": "30일",
    "choice_3": "45일",
    "choice_4": "60일",
    "correct_choice": 4,
}
RECORDS = {
    "stem": "사업주는 점검 기록을 몇 년간 보존하여야 하는가?",
    "choice_1": "1년",
    "choice_2": "2년",
    "choice_3": "3년",
    "choice_4": "5년",
    "correct_choice": 3,
}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def bank(user, topic):
    load(user, topic, V2020, V2015)
    return {
        "plan": make_question(topic, 1, year=2016, session="1", **PLAN),
        "records": make_question(topic, 2, year=2016, session="1", **RECORDS),
        "recent": make_question(topic, 1, year=2021, session="1", **PLAN),
    }


def test_each_question_is_read_under_the_law_of_its_exam_date(topic, bank) -> None:
    report = topic_amendments_compute(topic=topic)
    assert report.computed == 3
    plan = QuestionAmendment.objects.get(question=bank["plan"])
    assert (plan.status, plan.reason, plan.key_now) == ("changed", "marks_differ", 2)
    assert (plan.then_article, plan.now_article) == ("제2조", "제7조")  # by content
    assert plan.then_document is not None and plan.now_document is not None
    assert plan.then_document.effective_date.year == 2015
    assert plan.now_document.effective_date.year == 2020
    records = QuestionAmendment.objects.get(question=bank["records"])
    assert (records.status, records.reason) == ("unchanged", "same_text")
    recent = QuestionAmendment.objects.get(question=bank["recent"])
    assert (recent.status, recent.reason) == ("unchanged", "same_version")
    # Stamped: nothing to redo until the question, its date or the law moves.
    assert topic_amendments_compute(topic=topic).computed == 0
    bank["records"].correct_choice = 4
    bank["records"].save()
    assert topic_amendments_compute(topic=topic).computed == 1
    bank["plan"].refresh_from_db()
    assert bank["plan"].correct_choice == 4  # a flag never edits a key


def test_the_command_lists_flagged_questions_with_both_versions(topic, bank) -> None:
    out = StringIO()
    call_command("amendments", topic=topic.name, json=True, stdout=out)
    payload = json.loads(out.getvalue())
    assert payload["counts"] == {"changed": 1, "unchanged": 2}
    [item] = payload["items"]
    assert item["question_id"] == bank["plan"].pk
    assert item["key"] == [4] and item["key_now"] == 2
    assert item["then"]["article"] == "제2조" and item["now"]["article"] == "제7조"
    assert "60일" in item["then"]["changed"] and "30일" in item["now"]["changed"]
    text = StringIO()
    call_command("amendments", topic=topic.name, stdout=text)
    assert "개정됨·삭제됨 1문제" in text.getvalue()


def test_pages_show_the_flag_and_the_text_then_and_now(client, user, topic, bank):
    topic_amendments_compute(topic=topic)
    client.force_login(user)
    page = client.get(reverse("study:question", args=[bank["plan"].pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-amendment="changed"' in html and 'data-key-now="2"' in html
    assert "현행 기준 정답: ②" in html
    assert '<del class="amend-old">60일</del>' in html
    assert '<ins class="amend-new">30일</ins>' in html
    same = client.get(reverse("study:question", args=[bank["records"].pk]))
    assert 'data-amendment="unchanged"' in same.content.decode()
    assert "data-amendment-texts" not in same.content.decode()
    listing = client.get(reverse("study:topic", args=[topic.pk])).content.decode()
    assert 'data-amended-count="1"' in listing
    assert 'name="mock_skip_amended" value="1" checked' in listing


def test_a_quiz_can_leave_flagged_questions_out(topic, bank) -> None:
    topic_amendments_compute(topic=topic)
    every = select_for_round(topic=topic, year=2016, session="1")
    kept = select_for_round(topic=topic, year=2016, session="1", skip_amended=True)
    assert set(every) == {bank["plan"].pk, bank["records"].pk}
    assert kept == [bank["records"].pk]


def test_the_forecast_scores_a_flagged_answer_as_the_exam_would_today(
    topic, bank
) -> None:
    topic_amendments_compute(topic=topic)
    today = amended_keys(topic=topic)
    assert today == {bank["plan"].pk: 2}
    plan = bank["plan"].pk
    assert today_outcome(today, plan, "correct", 4) == "wrong"  # the old key
    assert today_outcome(today, plan, "wrong", 2) == "correct"
    assert today_outcome(today, bank["records"].pk, "correct", 3) == "correct"


def test_results_and_review_rows_carry_the_flag(client, user, topic, bank) -> None:
    topic_amendments_compute(topic=topic)
    session = start(user, topic, mode=QuizMode.ROUND, round_key="2016-1")
    answer_all(session, lambda p, q: 1)  # both wrong: both in the review queue
    client.force_login(user)
    results = client.get(reverse("study:results", args=[session.pk])).content.decode()
    assert results.count('data-amendment-badge="changed"') == 1
    assert 'data-key-now="2"' in results
    queue = client.get(
        reverse("study:review_queue", args=[topic.pk]) + "?tab=pending_review"
    )
    assert queue.status_code == 200
    assert 'data-amendment-badge="changed"' in queue.content.decode()
