"""The card prompt's example reply is built from the question's own passages
(a small model copied a fixed example from another question into every
reply), and the guard refuses a quote that is not in the passages sent."""

from __future__ import annotations

import json
import re

import pytest

from study.ai.explanations import card_marks, explanation_inputs, reply_guard
from study.ai.guard import GuardReason, QuestionView
from study.models import Question
from tests.conftest import make_document, make_question

pytestmark = pytest.mark.django_db

STATUTE = """제24조(사다리식 통로 등의 구조)
① 사업주는 사다리식 통로 등을 설치하는 경우 다음 각 호의 사항을 준수하여야 한다.
1. 견고한 구조로 할 것
2. 발판과 벽과의 사이는 15센티미터 이상의 간격을 유지할 것
3. 폭은 30센티미터 이상으로 할 것
5. 사다리식 통로의 기울기는 75도 이하로 할 것
"""
LADDER = {
    "stem": "산업안전보건법령에 따라 사다리식 통로를 설치하는 경우 "
    "준수해야 할 기준으로 틀린 것은?",
    "choice_1": "사다리식 통로의 기울기는 60°이하로 할 것",
    "choice_2": "발판과 벽과의 사이는 15cm 이상의 간격을 유지할 것",
    "choice_3": "폭은 30cm 이상으로 할 것",
    "choice_4": "견고한 구조로 할 것",
}
OLD_EXAMPLE = "버너 연소를 차단할 수 있도록 압력제한스위치를 부착하여 사용하여야 한다"


@pytest.fixture
def ladder(user, topic, settings, tmp_path) -> Question:
    settings.MEDIA_ROOT = tmp_path
    make_document(user, topic, STATUTE, title="시험안전규칙")
    return make_question(topic, 1, correct_choice=1, **LADDER)


def example_reply(prompt: str) -> dict:
    line = next(ln for ln in prompt.splitlines() if ln.startswith('{"answer_choice"'))
    return json.loads(line)


def view(question: Question) -> QuestionView:
    return QuestionView(
        stem=question.stem,
        choices=tuple(question.choices),
        accepted=frozenset(question.accepted_set),
    )


def test_the_example_reply_quotes_the_questions_own_passage(ladder):
    inputs = explanation_inputs(ladder)
    assert OLD_EXAMPLE not in inputs.prompt
    example = example_reply(inputs.prompt)
    assert example["answer_choice"] == 1
    assert example["explanation_md"].startswith(
        "정답은 1번(사다리식 통로의 기울기는 60°이하로 할 것)입니다."
    )
    # the line the card marked for the keyed choice, from the passage it
    # names (D1: the deciding passage)
    (quote,) = [e["quote"] for e in example["evidence"]]
    assert quote == "5. 사다리식 통로의 기울기는 75도 이하로 할 것"
    assert example["evidence"][0]["source"] == "D1"
    assert quote in inputs.evidence[0].text
    # named by its citation, as the card names it, not by the prompt's
    # section label (a small model wrote "[조문]은 …" into shown texts)
    assert inputs.evidence[0].title == "시험안전규칙 제24조(사다리식 통로 등의 구조)"
    assert re.search(
        r"시험안전규칙 제24조에서 \"5\. 사다리식", example["explanation_md"]
    )
    assert "[조문]" not in example["explanation_md"]


def test_the_guard_refuses_a_quote_that_is_not_in_the_passages(ladder):
    inputs = explanation_inputs(ladder)
    marks = card_marks(inputs.card)
    copied = (
        "정답은 1번(사다리식 통로의 기울기는 60°이하로 할 것)입니다. [조문]은 "
        f'"{OLD_EXAMPLE}"고 정합니다. 그래서 기울기 기준이 틀렸습니다.'
    )
    data = {
        "answer_choice": 1,
        "explanation_md": copied,
        "confidence": "high",
        "evidence": [{"source": "D1", "quote": OLD_EXAMPLE}],
    }
    verdict = reply_guard(
        view(ladder), 1, copied, data, inputs.evidence, check="agree", marks=marks
    )
    assert not verdict.ok and verdict.code == GuardReason.UNGROUNDED

    # The same reply quoting the passage's own line (as the example does,
    # with a sentence of its own after it) is shown.
    quote = "5. 사다리식 통로의 기울기는 75도 이하로 할 것"
    grounded = (
        "정답은 1번(사다리식 통로의 기울기는 60°이하로 할 것)입니다. [조문]은 "
        f'"{quote}"라고 정합니다. 1번은 기울기를 60° 이하로 적어 조문의 75도와 '
        "다르므로 틀린 기준입니다."
    )
    data = {
        **data,
        "explanation_md": grounded,
        "evidence": [{"source": "D1", "quote": quote}],
    }
    verdict = reply_guard(
        view(ladder), 1, grounded, data, inputs.evidence, check="agree", marks=marks
    )
    assert verdict.ok, verdict


def test_without_a_verdict_that_is_the_key_the_example_quotes_nothing(
    user, topic, settings, tmp_path
):
    """A card whose verdict is not the key (or that has none) offers no line
    to copy: the example shows the form only, and a reply that copies the
    form quotes nothing from the passages and is refused."""
    settings.MEDIA_ROOT = tmp_path
    make_document(user, topic, STATUTE, title="시험안전규칙")
    # the statute decides 1 (60° is not 75도); the key says 2
    conflict = make_question(topic, 1, correct_choice=2, **LADDER)
    inputs = explanation_inputs(conflict)
    assert inputs.card.key_conflict
    example = example_reply(inputs.prompt)
    assert example["evidence"] == [{"source": "D…", "quote": "…"}]
    assert "[조문]" not in example["explanation_md"]
    assert "75도 이하" not in example["explanation_md"]

    copied = example["explanation_md"]
    verdict = reply_guard(
        view(conflict),
        2,
        copied,
        example,
        inputs.evidence,
        check="agree",
        marks=card_marks(inputs.card),
    )
    assert not verdict.ok and verdict.code == GuardReason.UNGROUNDED

    # A grounded text arguing the key is refused too: the card's passages
    # decide another choice (the card shows the conflict itself).
    quote = "2. 발판과 벽과의 사이는 15센티미터 이상의 간격을 유지할 것"
    text = (
        "정답은 2번(발판과 벽과의 사이는 15cm 이상의 간격을 유지할 것)입니다. "
        f'[조문]은 "{quote}"라고 정합니다. 2번은 조문의 간격 기준과 같습니다.'
    )
    data = {
        **example,
        "explanation_md": text,
        "evidence": [{"source": "D1", "quote": quote}],
    }
    verdict = reply_guard(
        view(conflict),
        2,
        text,
        data,
        inputs.evidence,
        check="agree",
        marks=card_marks(inputs.card),
        card_verdict=inputs.card.verdict,
    )
    assert not verdict.ok and verdict.code == GuardReason.TEXT_CONTRADICTS_CARD


def test_a_long_lines_quote_keeps_the_words_marked_for_the_key():
    from study.ai.explanations import EXAMPLE_QUOTE_CHARS, _trim_quote

    line = (
        "② 제1항의 압력방출장치는 매년 1회 이상 국가교정기관에서 교정을 받은 "
        "압력계를 이용하여 설정압력에서 압력방출장치가 적정하게 작동하는지를 "
        "검사한 후 납으로 봉인하여 사용하여야 한다. 다만, 공정안전보고서 "
        "이행상태 평가결과가 우수한 사업장은 4년마다 1회 이상 검사할 수 있다."
    )
    quote = _trim_quote(line, line.index("납으로"))
    assert "납으로 봉인" in quote and quote in line
    assert len(quote) <= EXAMPLE_QUOTE_CHARS
    assert (
        _trim_quote("폭은 30센티미터 이상으로 할 것")
        == "폭은 30센티미터 이상으로 할 것"
    )


def test_the_guard_refuses_a_statute_the_passages_do_not_hold(ladder):
    """A real reply (2016-1-117) named "건설안전보건법 시행규칙 제43조제2항",
    which no passage holds; citing the passage's own article is fine."""
    from study.ai.guard import law_citation_outside

    inputs = explanation_inputs(ladder)
    sources = [f"{e.title} {e.text}" for e in inputs.evidence if e.kind != "question"]
    invented = "이는 건설안전보건법 시행규칙 제43조제2항에서 정합니다."
    assert law_citation_outside(invented, sources, ladder.stem) == (
        "건설안전보건법 시행규칙 제43조"
    )
    assert (
        law_citation_outside("시험안전규칙 제24조에 따라", sources, ladder.stem) is None
    )
    # the statute of the passages, another article of it
    sources = ["산업안전보건법 시행령 제42조(유해위험방지계획서 제출 대상) ③ …"]
    assert law_citation_outside("산업안전보건법 시행령 제42조 ③", sources, "") is None
    assert (
        law_citation_outside("산업안전보건법 시행령 제99조에 따라", sources, "")
        == "산업안전보건법 시행령 제99조"
    )

    quote = "5. 사다리식 통로의 기울기는 75도 이하로 할 것"
    text = (
        "정답은 1번(사다리식 통로의 기울기는 60°이하로 할 것)입니다. [조문]은 "
        f'"{quote}"라고 정합니다. 건설안전보건법 제43조에 따라 1번은 틀렸습니다.'
    )
    data = {
        "answer_choice": 1,
        "explanation_md": text,
        "confidence": "high",
        "evidence": [{"source": "D1", "quote": quote}],
    }
    verdict = reply_guard(
        view(ladder),
        1,
        text,
        data,
        inputs.evidence,
        check="agree",
        marks=card_marks(inputs.card),
    )
    assert not verdict.ok and verdict.code == GuardReason.UNGROUNDED
    assert "건설안전보건법 제43조" in verdict.detail


def _chunk_queries(captured) -> list[str]:
    return [q["sql"] for q in captured if "study_documentchunk" in q["sql"]]


def test_a_job_with_its_card_cached_searches_no_document(ladder, topic):
    """The card computed ahead is the job's retrieval: with it cached, the
    prompt's evidence costs no search of the documents, whether the card has
    passages (they are the evidence) or not (the same search found none)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from study.ai.explanations import explanation_candidates
    from study.evidence.services import evidence_card_get

    unrelated = make_question(
        topic,
        2,
        stem="원심력에 의한 회전체의 파괴를 막는 방법은?",
        choice_1="덮개",
        choice_2="방호울",
        choice_3="속도 제한",
        choice_4="균형 시험",
        correct_choice=4,
    )
    for question, has_passages in ((ladder, True), (unrelated, False)):
        assert evidence_card_get(question=question).has_passages is has_passages
        with CaptureQueriesContext(connection) as captured:
            card, evidence = explanation_candidates(question)
        assert card.has_passages is has_passages
        assert _chunk_queries(captured) == []
        kinds = {e.kind for e in evidence}
        assert ("document" in kinds) is has_passages


@pytest.mark.parametrize(
    ("title", "short"),
    [
        (
            "산업안전보건법 시행령 제42조(유해위험방지계획서 제출 대상)",
            "산업안전보건법 시행령 제42조",
        ),
        (
            "산업안전보건기준에 관한 규칙 제39조의2(작업지휘자의 지정)",
            "산업안전보건기준에 관한 규칙 제39조의2",
        ),
        ("산업안전보건법 시행규칙 › 별표 1", "산업안전보건법 시행규칙 › 별표 1"),
        ("중대재해 처벌 등에 관한 법률", "중대재해 처벌 등에 관한 법률"),
        ("안전 교재(2판)", "안전 교재(2판)"),
    ],
)
def test_a_passage_is_named_by_its_citation_without_the_heading(title, short):
    from study.ai.explanations import short_citation

    assert short_citation(title) == short


def test_a_shown_text_reads_the_prompts_section_labels_as_words():
    """The small model echoed "[조문]은 …" into texts it wrote; the shown
    text says "조문은 …" (the particle already fits the word). Labels exam
    papers print themselves stay."""
    from study.ai.envelope import cap_text

    said = (
        '정답은 2번입니다. [조문]은 "방호조치를 하여야 한다"라고 정합니다. '
        "[보기별 대조]와 같이 [자료]에 없는 보기는 틀립니다. "
        "[보기]의 ㉠은 [문제]와 같습니다."
    )
    assert cap_text(said) == (
        '정답은 2번입니다. 조문은 "방호조치를 하여야 한다"라고 정합니다. '
        "보기별 대조와 같이 자료에 없는 보기는 틀립니다. "
        "[보기]의 ㉠은 [문제]와 같습니다."
    )
