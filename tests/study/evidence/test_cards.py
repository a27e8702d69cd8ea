"""The 근거 카드 end to end: found and checked on a question's first view
with no LLM, cached, recomputed when what it rests on changes, shown on the
question page, results cards, review rows and a mock's review, and the
정답 확인 필요 list for the topic's owner and staff."""

import io
import json
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from study.documents.services import document_remove_from_topic
from study.evidence.selectors import evidence_card_for
from study.evidence.services import evidence_card_get, evidence_cards_get
from study.models import EvidenceCard, QuizMode
from study.services.questions import question_update
from tests.conftest import make_document, make_question
from tests.study.learner_helpers import answer_all, start

STATUTE = """제24조(사다리식 통로 등의 구조)
① 사업주는 사다리식 통로 등을 설치하는 경우 다음 각 호의 사항을 준수하여야 한다.
1. 견고한 구조로 할 것
2. 발판과 벽과의 사이는 15센티미터 이상의 간격을 유지할 것
3. 폭은 30센티미터 이상으로 할 것
4. 사다리의 상단은 걸쳐놓은 지점으로부터 60센티미터 이상 올라가도록 할 것
5. 사다리식 통로의 기울기는 75도 이하로 할 것

제119조(폭발위험의 방지)
사업주는 보일러의 폭발 사고를 예방하기 위하여 압력방출장치, 압력제한스위치, \
고저수위 조절장치, 화염 검출기 등의 기능이 정상적으로 작동될 수 있도록 \
유지ㆍ관리하여야 한다.
"""
LADDER = {
    "stem": "산업안전보건법령에 따라 사다리식 통로를 설치하는 경우 "
    "준수해야 할 기준으로 틀린 것은?",
    "choice_1": "사다리식 통로의 기울기는 60°이하로 할 것",
    "choice_2": "발판과 벽과의 사이는 15cm 이상의 간격을 유지할 것",
    "choice_3": "사다리의 상단은 걸쳐놓은 지점으로부터 60cm 이상 올라가도록 할 것",
    "choice_4": "폭은 30cm 이상으로 할 것",
    "subject": "기계위험방지기술",
}
BOILER = {
    "stem": "보일러의 폭발 사고를 예방하기 위하여 유지ㆍ관리하여야 할 "
    "장치가 아닌 것은?",
    "choice_1": "압력방출장치",
    "choice_2": "압력제한스위치",
    "choice_3": "급정지장치",
    "choice_4": "화염 검출기",
    "subject": "기계위험방지기술",
}
CALCULATION = {
    "stem": "연천인율 45인 사업장의 도수율은 얼마인가?",
    "choice_1": "10.8",
    "choice_2": "18.75",
    "choice_3": "20",
    "choice_4": "25",
    "subject": "안전관리론",
}


@pytest.fixture
def statute(user, topic, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return make_document(user, topic, STATUTE, title="시험안전규칙")


@pytest.fixture
def ladder(topic, statute):
    return make_question(topic, 1, correct_choice=1, **LADDER)


def page(client, question) -> str:
    return client.get(reverse("study:question", args=[question.pk])).content.decode()


def card_root(html: str) -> str:
    match = re.search(r"<(?:section|details)[^>]*data-evidence-card[^>]*>", html)
    assert match, "no 근거 카드 on the page"
    return match.group(0)


# -- the question page -----------------------------------------------------------


def test_the_card_shows_the_passage_every_mark_and_the_verdict(client, user, ladder):
    client.force_login(user)
    html = page(client, ladder)
    root = card_root(html)
    assert 'data-verdict="1"' in root and "data-key-conflict" not in root
    assert 'data-citation="시험안전규칙 제24조"' in html
    assert "조문에 따르면 1번" in html and "정답과 같습니다" in html
    assert html.count('data-mark="match"') == 3 and 'data-mark="differ"' in html
    assert "조문: 75도 이하" in html  # what the passage says instead
    assert '<mark class="hl">' in html  # the words matching a choice
    assert "조문 전체 보기" in html
    # the card sits above the AI explanation, which needs no LLM to be absent
    assert html.index("data-evidence-card") < html.index('class="ai-panel"')


def test_the_card_is_computed_once_and_read_from_the_cache_after(client, user, ladder):
    client.force_login(user)
    page(client, ladder)
    stored = EvidenceCard.objects.get(question=ladder)
    assert stored.verdict == 1 and not stored.key_conflict
    with CaptureQueriesContext(connection) as ctx:
        html = page(client, ladder)
    assert 'data-verdict="1"' in card_root(html)
    assert not any("study_documentchunk" in q["sql"] for q in ctx.captured_queries)
    assert EvidenceCard.objects.get(question=ladder).computed_at == stored.computed_at


def test_a_verdict_that_is_not_the_key_says_so(client, user, topic, statute):
    wrong = make_question(topic, 2, correct_choice=2, **LADDER)
    client.force_login(user)
    html = page(client, wrong)
    root = card_root(html)
    assert 'data-verdict="1"' in root and "data-key-conflict" in root
    assert "정답과 조문이 다릅니다" in html and "법령이 개정되었거나" in html
    assert EvidenceCard.objects.get(question=wrong).key_conflict


def test_a_question_with_no_statute_says_what_would_help_without_filler(
    client, user, topic, statute
):
    calc = make_question(topic, 3, **CALCULATION)
    client.force_login(user)
    html = page(client, calc)
    root = card_root(html)
    assert "data-verdict" not in root
    assert "이 문제를 판단할 조문이 학습 자료에 없습니다" in html
    assert "data-citation" not in html
    assert "안전관리론" in html  # the subject's textbook would help


def test_a_question_on_a_loaded_act_no_article_decides_asks_for_its_annexes(
    client, user, topic, settings, tmp_path
):
    """The stem names an act the topic holds, and none of its articles is
    about the question: the card does not ask for the act again."""
    settings.MEDIA_ROOT = tmp_path
    make_document(user, topic, STATUTE, title="산업안전보건기준에 관한 규칙")
    earmuff = make_question(
        topic,
        4,
        stem="산업안전보건기준에 관한 규칙상 방음보호구의 기호로 옳은 것은?",
        choice_1="EM",
        choice_2="EP-1",
        choice_3="EP-2",
        choice_4="EP-3",
    )
    named_elsewhere = make_question(
        topic, 5, stem="건설기술 진흥법상 안전관리계획의 수립 대상은?"
    )
    client.force_login(user)
    html = page(client, earmuff)
    assert "이 문제를 판단할 조문이 학습 자료에 없습니다" in html
    assert "학습 자료에 있지만, 이 문제를 가르는 조문은 찾지 못했습니다" in html
    assert "별표나 고시 원문" in html and "원문 (조문이 든 텍스트나 PDF)" not in html
    other = page(client, named_elsewhere)
    assert "건설기술 진흥법 원문 (조문이 든 텍스트나 PDF)" in other


# -- the cache follows what the card rests on ------------------------------------


def test_editing_the_key_recomputes_the_card(client, user, topic, statute):
    question = make_question(topic, 2, correct_choice=2, **LADDER)
    assert evidence_card_get(question=question).key_conflict
    question_update(question=question, data={"correct_choice": 1})
    question.refresh_from_db()
    card = evidence_card_get(question=question)
    assert card.verdict_is_key and not card.key_conflict
    assert not EvidenceCard.objects.get(question=question).key_conflict


def test_a_document_joining_or_leaving_the_topic_recomputes_the_card(
    user, topic, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    boiler = make_question(topic, 4, correct_choice=3, **BOILER)
    assert not evidence_card_get(question=boiler).has_passages
    document = make_document(user, topic, STATUTE, title="시험안전규칙")
    card = evidence_card_get(question=boiler)
    assert card.verdict == 3 and card.lead_citation == "시험안전규칙 제119조"
    document_remove_from_topic(document=document, topic=topic)
    assert not evidence_card_get(question=boiler).has_passages


def test_a_repeat_keyed_differently_in_another_round_goes_to_the_review_list(
    client, user, topic, statute, staff_user
):
    mine = make_question(topic, 4, year=2021, correct_choice=3, **BOILER)
    other = make_question(
        topic,
        9,
        year=2019,
        **{
            **BOILER,
            "choice_1": BOILER["choice_4"],
            "choice_4": BOILER["choice_1"],
            "correct_choice": 1,  # 화염 검출기: another answer
        },
    )
    same = make_question(topic, 7, year=2018, **{**BOILER, "correct_choice": 3})
    related = [
        {"id": other.pk, "year": 2019, "session": "1", "number": 9, "similarity": 0.96},
        {"id": same.pk, "year": 2018, "session": "1", "number": 7, "similarity": 0.99},
    ]
    type(mine).objects.filter(pk=mine.pk).update(
        related_similar=related, related_computed_at=timezone.now()
    )
    mine.refresh_from_db()
    card = evidence_card_get(question=mine)
    agreements = {h.id: h.agreement for h in card.history}
    assert agreements == {other.pk: "different", same.pk: "same"}
    assert card.history_conflict and card.needs_review
    client.force_login(user)  # the owner
    html = client.get(reverse("study:answer_review", args=[topic.pk])).content.decode()
    assert f'data-question-id="{mine.pk}"' in html and "기출 정답 다름" in html
    html = page(client, mine)
    assert "정답 다름" in html and "정답 같음" in html and "2019" in html
    admin_list = reverse("admin:study_question_changelist") + "?answer_review=history"
    client.force_login(staff_user)
    listing = client.get(admin_list).content.decode()
    assert f"/study/question/{mine.pk}/change/" in listing
    assert f"/study/question/{same.pk}/change/" not in listing


def test_a_reworded_repeat_compares_its_key_a_similar_one_does_not(
    client, user, topic, statute
):
    reducer = {
        "choice_1": "reducer",
        "choice_2": "elbow",
        "choice_3": "plug",
        "choice_4": "valve",
    }
    mine = make_question(
        topic,
        4,
        year=2021,
        correct_choice=1,
        stem="다음 중 관의 지름을 변경하고자 할 때 필요한 관 부속품은?",
        **reducer,
    )
    reworded = make_question(
        topic,
        9,
        year=2019,
        correct_choice=4,
        stem="다음 중 관의 지름을 변경하는데 사용되는 관의 부속품으로 "
        "가장 적절한 것은?",
        choice_1="엘보우(Elbow)",
        choice_2="커플링(Coupling)",
        choice_3="유니온(Union)",
        choice_4="리듀서(Reducer)",
    )
    entry = {"id": reworded.pk, "year": 2019, "session": "1", "number": 9}
    for kind, expected in (("related_repeat", "same"), ("related_similar", "unknown")):
        relations = {"related_repeat": [], "related_similar": []}
        relations[kind] = [{**entry, "similarity": 0.95}]
        type(mine).objects.filter(pk=mine.pk).update(
            **relations, related_computed_at=timezone.now()
        )
        mine.refresh_from_db()
        card = evidence_card_get(question=mine)
        assert [h.agreement for h in card.history] == [expected], kind
    # A repeat keyed another option (one round's list changed) says no more
    # than that it is a repeat; a similar question says it is similar.
    type(reworded).objects.filter(pk=reworded.pk).update(correct_choice=2)
    client.force_login(user)
    for kind, badge in (
        ("related_repeat", "반복 출제"),
        ("related_similar", "비슷한 문제"),
    ):
        relations = {"related_repeat": [], "related_similar": []}
        relations[kind] = [{**entry, "similarity": 0.95}]
        type(mine).objects.filter(pk=mine.pk).update(
            **relations, related_computed_at=timezone.now()
        )
        row = re.search(
            r'<li data-agreement="unknown">.*?</li>', page(client, mine), re.S
        )
        assert row and f'<span class="badge">{badge}</span>' in row.group(0), kind


def test_the_review_list_is_for_the_owner_and_staff_only(
    client, user, other_user, topic, statute
):
    topic.is_shared = True
    topic.save()
    make_question(topic, 2, correct_choice=2, **LADDER)
    client.force_login(other_user)  # a learner of the shared topic
    assert (
        client.get(reverse("study:answer_review", args=[topic.pk])).status_code == 404
    )
    assert (
        client.post(reverse("study:answer_review_compute", args=[topic.pk])).status_code
        == 404
    )
    topic_page = client.get(reverse("study:topic", args=[topic.pk])).content.decode()
    assert "정답 확인 필요" not in topic_page


def test_the_owner_computes_the_whole_bank_and_sees_the_conflicts(
    client, user, topic, statute, django_capture_on_commit_callbacks, monkeypatch
):
    wrong = make_question(topic, 2, correct_choice=2, **LADDER)
    make_question(topic, 3, **CALCULATION)
    enqueued = []
    monkeypatch.setattr(
        "study.evidence.services.async_task",
        lambda name, *args: enqueued.append((name, args)),
    )
    client.force_login(user)
    html = client.get(reverse("study:answer_review", args=[topic.pk])).content.decode()
    assert "근거 카드를 만든 문제 0 / 2" in html
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("study:answer_review_compute", args=[topic.pk]))
    assert response.status_code == 302
    assert enqueued == [("study.tasks.topic_cards_compute_task", (topic.pk,))]
    from study.tasks import topic_cards_compute_task

    assert topic_cards_compute_task(topic.pk) == 2
    html = client.get(reverse("study:answer_review", args=[topic.pk])).content.decode()
    assert "근거 카드를 만든 문제 2 / 2" in html
    assert f'data-question-id="{wrong.pk}"' in html and "조문: 1번 · 정답: 2번" in html
    assert "모든 문제의 근거 카드 만들기" not in html

    # A key corrected since: that card is stale, so it is not counted as made
    # (nor listed), and the owner is offered to make it again.
    question_update(question=wrong, data={"correct_choice": 3})
    html = client.get(reverse("study:answer_review", args=[topic.pk])).content.decode()
    assert "근거 카드를 만든 문제 1 / 2" in html
    assert f'data-question-id="{wrong.pk}"' not in html
    assert "모든 문제의 근거 카드 만들기" in html


# -- results, review rows, mock review --------------------------------------------


def test_results_cards_show_cached_cards_and_load_the_others(client, user, ladder):
    session = answer_all(
        start(user, ladder.topic, mode=QuizMode.ROUND, round_key="2020-1"), 2
    )
    client.force_login(user)
    url = reverse("study:results", args=[session.pk])
    html = client.get(url + "?tab=wrong").content.decode()
    card_url = reverse("study:evidence_card", args=[ladder.pk])
    assert f'hx-get="{card_url}?compact=1"' in html  # GET never computes
    assert not EvidenceCard.objects.exists()
    partial = client.get(card_url + "?compact=1").content.decode()
    assert "<details" in card_root(partial) and 'data-verdict="1"' in partial
    html = client.get(url + "?tab=wrong").content.decode()
    assert 'data-verdict="1"' in card_root(html)
    assert f'hx-get="{card_url}?compact=1"' not in html


def test_a_mock_exams_review_shows_the_cards(client, user, topic, statute):
    ladder = make_question(topic, 1, correct_choice=1, **LADDER)
    evidence_card_get(question=ladder)
    mock = start(user, topic, mode=QuizMode.MOCK, per_subject=1)
    client.force_login(user)
    client.post(reverse("study:mock_submit", args=[mock.pk]), {"a0": "2"})
    html = client.get(
        reverse("study:results", args=[mock.pk]) + "?tab=wrong"
    ).content.decode()
    assert 'data-verdict="1"' in card_root(html)
    assert 'data-citation="시험안전규칙 제24조"' in html


def test_review_rows_load_the_card_when_expanded(client, user, ladder):
    answer_all(start(user, ladder.topic, mode=QuizMode.ROUND, round_key="2020-1"), 2)
    client.force_login(user)
    html = client.get(
        reverse("study:review_queue", args=[ladder.topic_id]) + "?tab=pending_review"
    ).content.decode()
    card_url = reverse("study:evidence_card", args=[ladder.pk])
    assert f'hx-get="{card_url}"' in html and 'hx-trigger="toggle once"' in html
    partial = client.get(card_url).content.decode()
    assert 'data-verdict="1"' in card_root(partial)


def test_another_learners_private_question_is_not_found(client, other_user, ladder):
    client.force_login(other_user)
    url = reverse("study:evidence_card", args=[ladder.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 405


# -- plain data for other features, and for machines ---------------------------------


def test_the_selector_gives_plain_data_only_when_a_fresh_card_is_cached(ladder):
    assert evidence_card_for(ladder) is None
    evidence_card_get(question=ladder)
    card = evidence_card_for(ladder)
    data = json.loads(json.dumps(card.as_dict(), ensure_ascii=False))
    assert data["verdict"] == 1 and data["key"] == [1]
    assert data["passages"][0]["data_citation"] == "시험안전규칙 제24조"
    assert [m["mark"] for m in data["marks"]] == ["differ", "match", "match", "match"]
    question_update(question=ladder, data={"choice_4": "폭은 20cm 이상으로 할 것"})
    ladder.refresh_from_db()
    assert evidence_card_for(ladder) is None  # stale until recomputed


def test_the_evidence_command_prints_the_card_as_json(topic, ladder):
    out = io.StringIO()
    call_command(
        "evidence",
        "--topic",
        topic.name,
        "--question",
        "2020-1-1",
        "--json",
        stdout=out,
    )
    payload = json.loads(out.getvalue())
    assert payload["verdict"] == 1 and payload["verdict_is_key"] is True
    assert payload["passages"][0]["data_citation"] == "시험안전규칙 제24조"
    assert payload["marks"][0]["mark"] == "differ"
    assert payload["marks"][0]["detail"].startswith("75도")
    assert payload["history"] == []
    text = io.StringIO()
    call_command(
        "evidence", "--topic", topic.name, "--question", "2020-1-1", stdout=text
    )
    assert "조문에 따르면 1번 (정답과 같음)" in text.getvalue()


def test_the_answer_review_command_computes_and_lists(topic, statute):
    make_question(topic, 2, correct_choice=2, **LADDER)
    make_question(topic, 3, **CALCULATION)
    out = io.StringIO()
    call_command(
        "answer_review", "--topic", topic.name, "--compute", "--json", stdout=out
    )
    payload = json.loads(out.getvalue())
    assert payload["cards"] == payload["questions"] == 2
    (item,) = payload["items"]
    assert item["question"] == "2020-1-2" and item["verdict"] == 1
    assert item["key"] == [2] and item["citation"] == "시험안전규칙 제24조"


# The labels name a statute as the law does ("산업안전보건법 시행령"); an
# owner's title may space or hyphenate it otherwise ("산업안전보건법-시행령").
@pytest.mark.parametrize("labelled", ["시험안전규칙", "시험 안전-규칙"])
def test_the_evaluation_command_measures_against_labels(
    topic, ladder, tmp_path, labelled
):
    labels = tmp_path / "labels.jsonl"
    rows = [
        {
            "question": "2020-1-1",
            "kind": "article",
            "document": labelled,
            "article": "제24조",
            "choice_marks": ["differ", "match", "match", "match"],
            "decided": 1,
            "key_right": True,
        }
    ]
    labels.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    out = io.StringIO()
    call_command(
        "evaluate_evidence",
        "--topic",
        topic.name,
        "--labels",
        str(labels),
        "--json",
        stdout=out,
    )
    figures = json.loads(out.getvalue())
    assert figures["deciding_citation_rate"] == 1.0
    assert figures["verdict_coverage"] == 1.0 and figures["verdict_precision"] == 1.0
    assert figures["mark_accuracy"] == 1.0


def test_the_card_speaks_english_with_no_korean_left(db, client, settings, tmp_path):
    """The card's own words are translated; the content here is ASCII."""
    from django.contrib.auth import get_user_model

    from study.models import Topic
    from tests.test_i18n import hangul_left

    settings.MEDIA_ROOT = tmp_path
    reader = get_user_model().objects.create_user(username="reader", password="pw")
    topic = Topic.objects.create(name="Safety", owner=reader)
    make_document(
        reader,
        topic,
        "Guard rails\n\nA guard rail is at least 90 cm high and has a mid rail. "
        "The toe board is at least 10 cm high.",
        title="Site rules",
    )
    question = make_question(
        topic,
        1,
        stem="Which is stated about the guard rail height in the site rules?",
        choice_1="A guard rail is at least 90 cm high and has a mid rail.",
        choice_2="A guard rail is at least 60 cm high and has a mid rail.",
        choice_3="alpha beta gamma delta epsilon",
        choice_4="zeta eta theta iota kappa",
        correct_choice=1,
        subject="Subject A",
    )
    client.force_login(reader)
    client.post(reverse("set_language"), {"language": "en"})
    html = page(client, question)
    assert "Evidence card" in html and "Matches the statute" in html
    assert "Differs from the statute" in html and 'data-verdict="1"' in html
    assert not hangul_left(html), hangul_left(html)
    partial = client.get(
        reverse("study:evidence_card", args=[question.pk]) + "?compact=1"
    ).content.decode()
    assert "By the statute: 1" in partial and not hangul_left(partial)


def test_the_demo_topic_shows_cards_in_the_first_minute(db, settings, tmp_path):
    """`make run` loads the demo topic with the statute extracts its round-3
    questions rest on: every one of them gets a citation and a verdict."""
    from study.models import Question, Topic
    from study.services.demo import DEMO_TOPIC_NAME, demo_setup

    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path
    demo_setup()
    topic = Topic.objects.get(name=DEMO_TOPIC_NAME)
    statute_round = Question.objects.filter(topic=topic, exam_session="3")
    cards = evidence_cards_get(questions=list(statute_round))
    assert len(cards) == 10
    for question in statute_round:
        card = cards[question.pk]
        assert card.lead_citation.startswith("산업안전보건"), question.number
        assert card.verdict_is_key, (question.number, card.verdict)
