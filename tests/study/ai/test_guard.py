"""The text guard, rule by rule, on hand-written texts (no database, no LLM).

The same guard runs over the real model's stored replies in
test_explanation_labels.py."""

import pytest

from study.ai.envelope import CheckedQuotes
from study.ai.guard import (
    QuestionView,
    calculation_result,
    choice_value,
    declared_answers,
    explanation_text_guard,
    is_negative_question,
    missing_document_hint,
    note_text_guard,
    numeric_values,
    relevant_quotes,
)
from study.llm.prompts import prompt_instructions

REST = (
    "A작업의 평균 에너지소비량이 6 kcal/min이고 기준이 5 kcal/min이므로 "
    "초과분만큼 휴식이 필요합니다."
)
REST_Q = QuestionView(
    stem="A작업의 평균에너지소비량이 6 kcal/min일 때 60분간 총 작업시간 내에 "
    "포함되어야 하는 휴식시간은 약 몇 분인가? (단, 기초대사를 포함한 작업에 대한 "
    "평균에너지소비량의 상한은 5 kcal/min, 휴식 중 에너지소비량은 1.5 kcal/min)",
    choices=("10.3", "11.3", "12.3", "13.3"),
    accepted=frozenset({4}),
)
LADDER_Q = QuestionView(
    stem="사다리식 통로 등을 설치하는 경우 준수해야 할 기준으로 틀린 것은?",
    choices=(
        "사다리의 상단은 걸쳐놓은 지점으로부터 60cm 이상 올라가도록 할 것",
        "발판의 간격은 일정하게 할 것",
        "사다리식 통로의 길이가 10m 이상인 경우에는 3m 이내마다 계단참을 설치할 것",
        "폭은 30cm 이상으로 할 것",
    ),
    accepted=frozenset({3}),
)
GAS_Q = QuestionView(
    stem="다음 중 독성이 가장 큰 물질은?",
    choices=("암모니아", "염화수소", "포스겐(COCl2)", "일산화탄소"),
    accepted=frozenset({3}),
)
LADDER_QUOTE = {
    "kind": "document",
    "ref": "doc:1#2",
    "title": "기준규칙 제24조",
    "quote": "사다리식 통로의 길이가 10미터 이상인 경우에는 5미터 이내마다 "
    "계단참을 설치할 것",
}
COLD_QUOTE = {
    "kind": "document",
    "ref": "doc:1#9",
    "title": "기준규칙 제563조(한랭장해 예방 조치)",
    "quote": "사업주는 근로자가 한랭작업을 하는 경우에 동상 등의 건강장해를 "
    "예방하기 위하여",
}


def guard(q, text, kept=(), dropped=0, evidence_sent=True):
    quotes = CheckedQuotes(kept=list(kept), dropped=dropped)
    return explanation_text_guard(
        q=q, text=text, quotes=quotes, evidence_sent=evidence_sent
    )


# -- question shape ---------------------------------------------------------


@pytest.mark.parametrize(
    "stem",
    [
        "다음 중 옳지 않은 것은?",
        "양중기에 해당하지 않는 것은?",
        "감전방지 대책이 아닌 것은?",
        "정전기 재해방지 대책으로 틀린 것은?",
        "구비조건과 가장 거리가 먼 것은?",
        "보일러 운전 시 안전수칙으로 가장 적절하지 않은 것은?",
        "위험물로 적합하지 않은 것은?",
    ],
)
def test_negative_questions_are_recognised(stem):
    assert is_negative_question(stem)


@pytest.mark.parametrize(
    "stem",
    ["다음 중 옳은 것은?", "독성이 가장 큰 것은?", "방폭구조의 기호는?"],
)
def test_positive_questions_are_not_negative(stem):
    assert not is_negative_question(stem)


def test_numeric_choices_are_values_with_units():
    assert choice_value("13.3 분") == 13.3
    assert choice_value("약 2.5m") == 2.5
    assert choice_value("1,200 kg") == 1200
    assert choice_value("3.45 ~ 9.11") is None  # a range is not one value
    assert choice_value("발판의 간격은 일정하게 할 것") is None
    assert numeric_values(REST_Q.choices) == [10.3, 11.3, 12.3, 13.3]
    assert numeric_values(GAS_Q.choices) is None


# -- names the keyed choice, and no other -----------------------------------


def test_a_text_that_names_the_key_and_argues_for_it_passes():
    verdict = guard(
        LADDER_Q,
        "정답은 3번입니다. 기준규칙 제24조에 따르면 사다리식 통로의 길이가 10m "
        "이상이면 5m 이내마다 계단참을 설치해야 하므로 3m라고 한 3번이 틀린 "
        "설명입니다.",
        kept=[LADDER_QUOTE],
    )
    assert verdict.ok, verdict


def test_text_naming_another_choice_as_the_answer_fails():
    # The security review's reply: answer_choice 3, text "정답은 2번".
    verdict = guard(GAS_Q, "정답은 **2번**입니다. 염화수소는 독성이 매우 크다.")
    assert (verdict.ok, verdict.code) == (False, "text_names_other_choice")


def test_another_choice_named_by_its_text_as_the_answer_fails():
    verdict = guard(GAS_Q, "정답은 암모니아입니다. 암모니아는 자극성이 강한 가스다.")
    assert verdict.code == "text_names_other_choice"


def test_text_that_names_both_the_key_and_another_as_the_answer_fails():
    text = "정답은 3번입니다. 포스겐은 맹독성이다. 따라서 정답은 1번입니다."
    assert guard(GAS_Q, text).code == "text_names_other_choice"


def test_the_questions_own_words_declare_an_answer_too():
    q = QuestionView(
        stem="다음 중 정전기의 재해방지 대책으로 틀린 것은?",
        choices=(
            "도체 부분을 접지",
            "정전화를 착용",
            "습도를 30% 이하로 유지",
            "유속제한",
        ),
        accepted=frozenset({3}),
    )
    text = (
        "정답은 3번(습도를 30% 이하로 유지)입니다. 배관 내 액체의 유속제한에 "
        "대한 설명으로 틀린 것은 4번입니다."
    )
    assert guard(q, text, evidence_sent=False).code == "text_names_other_choice"


def test_a_correction_that_ends_on_the_key_passes():
    text = (
        "정답은 1번이 아니라 3번입니다. 포스겐은 허용농도가 0.1ppm으로 "
        "보기 중 가장 낮아 독성이 가장 큽니다."
    )
    assert guard(GAS_Q, text, evidence_sent=False).ok


def test_text_arguing_the_key_is_not_the_answer_fails():
    # One of the five: "COCl2 가장 독성이 큰 것은 아니다", key COCl2.
    text = "정답은 3번(포스겐)입니다. 포스겐(COCl2)은 가장 독성이 큰 물질이 아닙니다."
    assert guard(GAS_Q, text).code == "text_denies_key"


def test_repeating_the_stems_own_negated_words_is_not_a_denial():
    q = QuestionView(
        stem="자극-반응 조합의 관계에서 인간의 기대와 모순되지 않는 성질을 "
        "무엇이라 하는가?",
        choices=("양립성", "적응성", "변별성", "신뢰성"),
        accepted=frozenset({1}),
    )
    said = (
        "정답은 1번입니다. 표시장치와 조종장치의 배치처럼 자극과 반응의 관계가 "
        "공간·운동·개념 면에서 인간의 기대와 모순되지 않는 성질이 양립성입니다."
    )
    assert guard(q, said, evidence_sent=False).ok
    denied = "정답은 1번입니다. 양립성은 인간의 기대와 모순되지 않는 성질이 아닙니다."
    assert guard(q, denied, evidence_sent=False).code == "text_denies_key"


def test_negative_question_read_the_wrong_way_round_fails():
    text = (
        "정답은 3번입니다. 사다리식 통로의 길이가 10m 이상인 경우에는 3m 이내마다 "
        "계단참을 설치할 것은 옳은 설명입니다."
    )
    assert guard(LADDER_Q, text, kept=[LADDER_QUOTE]).code == "text_denies_key"


def test_text_that_never_names_the_key_fails():
    text = "사다리식 통로는 추락을 막기 위해 여러 기준을 지켜야 하는 시설입니다."
    assert guard(LADDER_Q, text, kept=[LADDER_QUOTE]).code == "text_not_key"


def test_keyed_choice_named_by_its_value_counts():
    text = (
        "$T = 60(E-5)/(E-1.5) = 60 \\times 1 / 4.5 = 13.33$ 이므로 "
        "정답은 13.3분입니다. " + REST
    )
    found = declared_answers(text, REST_Q)
    assert any(4 in refs for refs, _ in found)
    assert guard(REST_Q, text, evidence_sent=False).ok


# -- calculations -----------------------------------------------------------


def test_calculation_arriving_at_another_number_fails():
    # The reply: "(6 * 60) / 6 = 60분", key 13.3.
    text = "정답은 4번입니다. " + REST + " 휴식시간은 (6 * 60) / 6 = 60분입니다."
    verdict = guard(REST_Q, text, evidence_sent=False)
    assert (verdict.ok, verdict.code) == (False, "result_not_key")
    assert "60" in verdict.detail


def test_calculation_result_is_the_last_equation_not_a_choice_number():
    text = "정답은 4번입니다. $60 \\times 1 / 4.5 = 13.33$ 분이므로 4번이 맞습니다."
    assert calculation_result(text) == "13.33"
    assert guard(REST_Q, text + " " + REST, evidence_sent=False).ok


def test_rounding_within_the_keyed_precision_only():
    ok = "정답은 4번입니다. " + REST + " T = 60/4.5 ≈ 13.34"
    bad = "정답은 4번입니다. " + REST + " T = 60/4.5 = 13.2"
    assert guard(REST_Q, ok, evidence_sent=False).ok
    assert guard(REST_Q, bad, evidence_sent=False).code == "result_not_key"


# -- quotes -----------------------------------------------------------------


def test_verbatim_quote_about_something_else_is_dropped():
    checked, irrelevant = relevant_quotes(
        CheckedQuotes(kept=[COLD_QUOTE, LADDER_QUOTE]), LADDER_Q
    )
    assert irrelevant == 1
    assert [q["ref"] for q in checked.kept] == ["doc:1#2"]


def test_explanation_whose_only_quotes_were_dropped_is_ungrounded():
    text = (
        "정답은 3번입니다. 사다리식 통로가 길면 일정 간격마다 계단참을 두어야 "
        "하는데 3번은 그 간격을 잘못 적었습니다."
    )
    assert guard(LADDER_Q, text, kept=[COLD_QUOTE]).code == "ungrounded"
    assert guard(LADDER_Q, text, dropped=2).code == "ungrounded"
    # With the deciding article quoted it passes.
    assert guard(LADDER_Q, text, kept=[COLD_QUOTE, LADDER_QUOTE]).ok
    # Evidence was sent and nothing was quoted: ungrounded too.
    assert guard(LADDER_Q, text).code == "ungrounded"


def test_a_quote_about_the_stem_only_does_not_ground_the_choice():
    # "양중기란 다음 각 호의 기계를 말한다" is about the question's subject but
    # decides nothing between 크레인, 리프트, 체인블럭 and 곤돌라.
    q = QuestionView(
        stem="양중기에 해당하지 않는 것은?",
        choices=("크레인", "리프트", "체인블럭", "곤돌라"),
        accepted=frozenset({3}),
    )
    header = {
        "kind": "document",
        "ref": "d",
        "title": "t",
        "quote": "양중기란 다음 각 호의 기계를 말한다",
    }
    listing = {**header, "quote": "크레인[호이스트(hoist)를 포함한다]"}
    text = (
        "정답은 3번입니다. 양중기는 크레인, 리프트, 곤돌라, 승강기를 말하며 "
        "체인블럭은 목록에 없습니다."
    )
    assert guard(q, text, kept=[header]).code == "ungrounded"
    assert guard(q, text, kept=[header, listing]).ok


def test_a_quote_naming_a_choice_without_content_words_grounds_it():
    # Choices such as "3개" or "T" have no content words of their own; a
    # quote that contains a choice's whole text still speaks about them.
    q = QuestionView(
        stem="동바리로 사용하는 파이프 서포트는 최대 몇 개 이상 이어서 "
        "사용하지 않아야 하는가?",
        choices=("2개", "3개", "4개", "5개"),
        accepted=frozenset({2}),
    )
    rule = {
        "kind": "document",
        "ref": "d",
        "title": "t",
        "quote": "파이프 서포트를 3개 이상 이어서 사용하지 않도록 할 것",
    }
    stem_only = {**rule, "quote": "동바리로 사용하는 파이프 서포트의 경우"}
    assert guard(q, "정답은 2번입니다.", kept=[rule]).ok
    assert guard(q, "정답은 2번입니다.", kept=[stem_only]).code == "ungrounded"
    # A rule naming another choice's value is no reasoning for the key.
    other = {**rule, "quote": "파이프 서포트를 4개 이상의 볼트로 이을 것"}
    assert guard(q, "정답은 2번입니다.", kept=[other]).code == "no_reasoning"


def test_a_text_that_only_repeats_the_keyed_choice_has_no_reasoning():
    text = "정답은 3번(포스겐(COCl2))입니다. 독성이 가장 큰 물질은 포스겐(COCl2)입니다."
    assert guard(GAS_Q, text, evidence_sent=False).code == "no_reasoning"


def test_echoing_the_prompts_own_instructions_is_no_reasoning():
    # A real reply (2020-3-53) named the key and then copied the prompt's
    # hint for "which is NOT" questions; the quote shares only 기능 with it.
    q = QuestionView(
        stem="컨베이어를 사용하여 작업을 할 때 작업시작 전 점검사항으로 "
        "가장 거리가 먼 것은?",
        choices=(
            "원동기 및 풀리(pulley) 기능의 이상 유무",
            "이탈 등의 방지장치 기능의 이상 유무",
            "유압장치의 기능의 이상 유무",
            "비상정지장치 기능의 이상 유무",
        ),
        accepted=frozenset({3}),
    )
    quote = {
        "kind": "question",
        "ref": "q",
        "title": "t",
        "quote": "압력방출장치의 기능",
    }
    echo = (
        "정답은 3번(유압장치의 기능의 이상 유무)입니다. 이 문제는 옳지 않은(해당하지 "
        "않는) 것을 묻습니다: 정답 보기가 왜 틀렸는지(해당하지 않는지)를 설명하세요."
    )
    instructions = prompt_instructions("study_explanation.txt")
    verdict = explanation_text_guard(
        q=q,
        text=echo,
        quotes=CheckedQuotes(kept=[quote]),
        evidence_sent=True,
        instructions=instructions,
    )
    assert verdict.code == "no_reasoning"
    reasoned = (
        "정답은 3번입니다. 컨베이어의 작업시작 전 점검은 원동기·풀리, 이탈방지장치, "
        "비상정지장치, 원동기·회전축·기어·풀리의 덮개나 울을 살피며, 유압장치 "
        "점검은 프레스나 크레인 쪽 항목입니다."
    )
    assert explanation_text_guard(
        q=q,
        text=reasoned,
        quotes=CheckedQuotes(kept=[quote]),
        evidence_sent=True,
        instructions=instructions,
    ).ok


def test_pasting_another_questions_stem_and_key_is_no_reasoning():
    # A real reply (2020-4-26): the key, then another round's question and
    # its key, quoted verbatim. A precedent is not a reason; a statute quote
    # stating the same value is.
    q = QuestionView(
        stem="유해위험방지계획서의 제출 대상 제조업은 전기 계약 용량이 얼마 "
        "이상인 경우에 해당되는가?",
        choices=("50kW", "100kW", "200kW", "300kW"),
        accepted=frozenset({4}),
    )
    pasted = (
        "유해위험방지계획서의 제출대상 사업은 해당 사업으로서 전기 계약용량이 "
        "얼마 이상인 사업을 말하는가? 정답: 300kW"
    )
    text = f"정답은 4번(300kW)입니다. {pasted}"
    precedent = {"kind": "question", "ref": "q:1", "title": "t", "quote": pasted}
    assert guard(q, text, kept=[precedent]).code == "no_reasoning"
    rule = {
        **precedent,
        "kind": "document",
        "quote": "전기 계약용량이 300킬로와트 이상인 경우",
    }
    assert guard(q, "정답은 4번(300kW)입니다.", kept=[rule]).ok


# -- subject notes ------------------------------------------------------------


def test_subject_note_may_not_declare_an_answer():
    note = "- 사다리식 통로는 계단참 기준이 중요하다.\n- 정답은 언제나 3번이다."
    verdict = note_text_guard(text=note, quotes=CheckedQuotes(), q=LADDER_Q)
    assert (verdict.ok, verdict.code) == (False, "note_names_answer")
    other = note_text_guard(
        text="이 유형은 정답이 2번인 경우가 많다.", quotes=CheckedQuotes(), q=LADDER_Q
    )
    assert other.code == "text_names_other_choice"


def test_subject_note_with_relevant_quotes_passes_and_irrelevant_quotes_go():
    note = "- 사다리식 통로의 길이가 길면 계단참을 둔다.\n- 발판 간격은 일정하게."
    verdict = note_text_guard(
        text=note, quotes=CheckedQuotes(kept=[COLD_QUOTE, LADDER_QUOTE]), q=LADDER_Q
    )
    assert verdict.ok and [q["ref"] for q in verdict.quotes.kept] == ["doc:1#2"]
    only_cold = note_text_guard(
        text=note, quotes=CheckedQuotes(kept=[COLD_QUOTE]), q=LADDER_Q
    )
    assert only_cold.code == "ungrounded"


# -- what would help ----------------------------------------------------------


def test_missing_document_hint_names_the_act_the_stem_names():
    hint = missing_document_hint(
        "안전관리론", "산업재해보상보험법상 보험급여의 종류가 아닌 것은?"
    )
    assert hint.startswith("산업재해보상보험법")
    hint = missing_document_hint(
        "건설안전기술",
        "건설업 산업안전보건관리비 계상 및 사용기준(고용노동부 고시)에 따른 "
        "계상 기준으로 옳은 것은?",
    )
    assert "고시" in hint or "기준" in hint
    assert "인간공학" in missing_document_hint(
        "인간공학 및 시스템안전공학", "인간과오의 분류 중 생략 오류는?"
    )


def test_the_hint_never_asks_for_an_act_the_topic_already_holds():
    stem = "산업안전보건법령상 유기화합물용 방독마스크의 시험가스로 옳지 않은 것은?"
    loaded = ["산업안전보건법-시행규칙", "산업안전보건기준에 관한 규칙"]
    hint = missing_document_hint("안전관리론", stem, loaded)
    assert hint.startswith("산업안전보건법의 별표나 고시") and "찾지 못했습니다" in hint
    assert missing_document_hint("안전관리론", stem, ["중대재해처벌법"]).startswith(
        "산업안전보건법 원문"
    )


# -- text against the 근거 카드's marks ------------------------------------------

CARD_MARKS = {1: "match", 2: "match", 3: "differ", 4: "match"}


def card_check(text: str, marks: dict[int, str] = CARD_MARKS) -> str | None:
    from study.ai.guard import card_contradiction

    return card_contradiction(text, LADDER_Q, marks)


def test_text_that_agrees_with_the_cards_marks_is_not_held_against():
    text = (
        "정답은 3번(사다리식 통로의 길이가 10m 이상인 경우에는 3m 이내마다 계단참을 "
        "설치할 것)입니다. 규칙은 5미터 이내마다 계단참을 두라고 하므로 3번은 조문과 "
        "다릅니다. 1번과 4번은 조문에 규정되어 있습니다."
    )
    assert card_check(text) is None


def test_text_that_calls_a_different_choice_stated_is_refused():
    text = "정답은 3번입니다. 3번은 규칙에 규정되어 있는 내용과 일치합니다."
    assert card_check(text) == "3번은 규칙에 규정되어 있는 내용과 일치합니다."


def test_text_that_calls_a_stated_choice_missing_is_refused():
    text = "정답은 3번입니다. 4번은 조문에 없습니다."
    assert card_check(text) == "4번은 조문에 없습니다."


def test_an_absent_mark_is_not_held_against_the_text():
    marks = {**CARD_MARKS, 2: "absent"}
    assert (
        card_check("정답은 3번입니다. 2번은 조문에 규정되어 있습니다.", marks) is None
    )


def test_the_whole_guard_refuses_a_text_contradicting_the_card():
    from study.ai.explanations import reply_guard

    text = (
        "정답은 3번(사다리식 통로의 길이가 10m 이상인 경우에는 3m 이내마다 계단참을 "
        "설치할 것)입니다. 4번 폭은 30cm 이상이라는 내용은 조문에 없습니다. "
        "계단참 간격을 따로 정한 규정을 확인해야 합니다."
    )
    data = {"evidence": []}
    verdict = reply_guard(LADDER_Q, 3, text, data, [], marks=CARD_MARKS)
    assert not verdict.ok and verdict.code == "text_contradicts_card"


# -- the key restated, the prompt echoed (a reply read in the llm_e2e run) ----

ROBOT_Q = QuestionView(
    stem="산업안전보건법령에 따라 산업용 로봇의 작동범위에서 교시 등의 작업을 하는 "
    "경우에 로봇에 의한 위험을 방지하기 위한 조치사항으로 틀린 것은?",
    choices=(
        "2명 이상의 근로자에게 작업을 시킬 경우의 신호방법을 정한다.",
        "작업 중의 매니플레이터 속도에 관한 지침을 정하고 그 지침에 따라 작업한다.",
        "작업을 하는 동안 다른 작업자가 작동시킬 수 없도록 기동스위치에 작업 중 "
        "표시를 한다.",
        "작업에 종사하고 있는 근로자가 이상을 발견하면 즉시 안전담당자에게 "
        "보고하고 계속해서 로봇을 운전한다.",
    ),
    accepted=frozenset({4}),
)
SIGNAL_QUOTE = {
    "kind": "document",
    "ref": "card:162:3",
    "title": "산업안전보건기준에 관한 규칙 제40조(신호)",
    "quote": "② 운전자나 근로자는 제1항에 따른 신호방법이 정해진 경우 이를 "
    "준수하여야 한다.",
}
STOP_QUOTE = {
    "kind": "document",
    "ref": "card:162:0",
    "title": "산업안전보건기준에 관한 규칙 제222조(교시 등)",
    "quote": "2. 작업에 종사하고 있는 근로자 또는 그 근로자를 감시하는 사람은 "
    "이상을 발견하면 즉시 로봇의 운전을 정지시키기 위한 조치를 할 것",
}
# Shown as ready, confidence high, in the llm_e2e run of 2026-12-06: the
# bracket holds another question's sentence (화물자동차 승강설비, sent as a
# "similar question"), the quote is about 신호, and the last sentence is the
# prompt's instruction.
ROBOT_REPLY = (
    "정답은 4번(작업에 종사하고 있는 근로자가 바닥과 적재함의 짐 윗면간을 "
    '안전하게 오르내리기 위한 설비를 설치하여야 한다.)입니다. [조문]은 "② '
    "운전자나 근로자는 제1항에 따른 신호방법이 정해진 경우 이를 준수하여야 "
    '한다."라고 정합니다. 이 구절이 정답 보기와 어떻게 이어지는지 쓰세요.'
)
CARD_INSTRUCTIONS = prompt_instructions("study_explanation_card.txt")


def card_guard(text, kept):
    return explanation_text_guard(
        q=ROBOT_Q,
        text=text,
        quotes=CheckedQuotes(kept=list(kept)),
        evidence_sent=True,
        instructions=CARD_INSTRUCTIONS,
    )


def test_a_key_restated_with_another_texts_words_is_refused():
    verdict = card_guard(ROBOT_REPLY, [SIGNAL_QUOTE])
    assert not verdict.ok and verdict.code == "key_misstated"
    assert "적재함" in verdict.detail


def test_an_echoed_instruction_is_refused_when_the_key_is_restated_faithfully():
    text = ROBOT_REPLY.replace(
        "작업에 종사하고 있는 근로자가 바닥과 적재함의 짐 윗면간을 안전하게 "
        "오르내리기 위한 설비를 설치하여야 한다.",
        ROBOT_Q.choices[3],
    )
    verdict = card_guard(text, [SIGNAL_QUOTE])
    assert not verdict.ok and verdict.code == "text_echoes_prompt"
    assert verdict.detail == "이 구절이 정답 보기와 어떻게 이어지는지 쓰세요."


@pytest.mark.parametrize(
    "restated",
    [
        "작업에 종사하고 있는 근로자가 이상을 발견하면 즉시 안전담당자에게 "
        "보고하고 계속해서 로봇을 운전한다.",
        "이상을 발견하고도 계속해서 로봇을 운전",
        "계속 운전",
    ],
)
def test_a_key_restated_in_its_own_words_and_explained_is_shown(restated):
    text = (
        f'정답은 4번({restated})입니다. [조문]은 "2. 작업에 종사하고 있는 근로자 '
        "또는 그 근로자를 감시하는 사람은 이상을 발견하면 즉시 로봇의 운전을 "
        '정지시키기 위한 조치를 할 것"이라고 정합니다. 이상을 발견하면 운전을 '
        "정지시켜야 하므로, 보고만 하고 계속 운전한다는 4번은 조문과 다릅니다. "
        "교시 작업 전에 조문을 다시 확인하세요."
    )
    assert card_guard(text, [STOP_QUOTE]).ok


def test_a_quote_stating_the_keyed_value_after_its_item_label_is_the_reason():
    """2019-3-53 in the llm_e2e run: refused as no_reasoning because the
    statute line's label "5." was read as the value of choice 2."""
    hook = QuestionView(
        stem="레버풀러 또는 체인블록을 사용하는 경우 훅의 입구 간격이 제조자가 "
        "제공하는 제품사양서 기준으로 몇 % 이상 벌어진 것은 폐기하여야 하는가?",
        choices=("3", "5", "7", "10"),
        accepted=frozenset({4}),
    )
    quote = {
        "kind": "document",
        "ref": "card:173:0",
        "title": "산업안전보건기준에 관한 규칙 제96조(레버풀러 등의 사용)",
        "quote": "5. 훅의 입구(hook mouth) 간격이 제조자가 제공하는 제품사양서 "
        "기준으로 10퍼센트 이상 벌어진 것은 폐기할 것",
    }
    text = (
        '정답은 4번(10)입니다. [조문]은 "5. 훅의 입구(hook mouth) 간격이 제조자가 '
        '제공하는 제품사양서 기준으로 10퍼센트 이상 벌어진 것은 폐기할 것"라고 '
        "정합니다."
    )
    verdict = explanation_text_guard(
        q=hook, text=text, quotes=CheckedQuotes(kept=[quote]), evidence_sent=True
    )
    assert verdict.ok, verdict
    unlabelled = {**quote, "quote": quote["quote"].replace("10퍼센트", "5퍼센트")}
    assert not explanation_text_guard(
        q=hook, text=text, quotes=CheckedQuotes(kept=[unlabelled]), evidence_sent=True
    ).ok


def test_a_text_that_pastes_the_prompts_evidence_block_is_refused():
    """2020-1-62 in the llm_e2e run: shown as ready with the prompt's
    "<<D1: …>>" block pasted after the key."""
    text = (
        "정답은 4번(작업에 종사하고 있는 근로자가 이상을 발견하면 즉시 안전담당자에게 "
        "보고하고 계속해서 로봇을 운전한다.)입니다. <<D1: 산업안전보건기준에 관한 "
        "규칙 제222조(교시 등)>>\n2. 작업에 종사하고 있는 근로자 또는 그 근로자를 "
        "감시하는 사람은 이상을 발견하면 즉시 로봇의 운전을 정지시키기 위한 조치를 "
        "할 것\n<</D1>>"
    )
    verdict = card_guard(text, [STOP_QUOTE])
    assert not verdict.ok and verdict.code == "text_echoes_prompt"
    assert "<<D1" in verdict.detail
