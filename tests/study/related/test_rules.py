"""What makes a pair a REPEAT rather than only SIMILAR."""

import pytest

from study.related.rules import (
    QuestionText,
    decisive_difference,
    embedding_text,
)
from study.related.thresholds import (
    REPEAT,
    SIMILAR,
    UNCALIBRATED_THRESHOLDS,
    classify_pair,
    current_thresholds,
    thresholds_for,
)

CHOICES = ["손실우연의 원칙", "사전준비의 원칙", "원인계기의 원칙", "대책선정의 원칙"]
VERY_CLOSE = 0.99


def text(stem, choices=CHOICES, correct=2, accepted=""):
    return QuestionText.build(
        stem=stem, choices=choices, correct_choice=correct, accepted_choices=accepted
    )


def kind(a, b, similarity=VERY_CLOSE):
    return classify_pair(similarity, a, b, current_thresholds())


def test_it_calls_the_same_question_in_another_round_a_repeat():
    question = text("재해예방의 4원칙이 아닌 것은?")
    assert kind(question, question) == REPEAT


@pytest.mark.parametrize(
    ("asked", "flipped"),
    [
        ("다음 중 옳은 것은?", "다음 중 옳지 않은 것은?"),
        (
            "안전관리자의 업무에 해당하는 것은?",
            "안전관리자의 업무에 해당하지 않는 것은?",
        ),
        ("방호장치에 관한 설명으로 맞는 것은?", "방호장치에 관한 설명으로 틀린 것은?"),
        ("원인과 관계가 깊은 것은?", "원인과 가장 거리가 먼 것은?"),
        ("4원칙에 해당하는 것은?", "4원칙이 아닌 것은?"),
        ("대책으로 적절한 것은?", "대책으로 적절하지 않은 것은?"),
    ],
)
def test_a_flipped_negation_is_at_most_similar(asked, flipped):
    a, b = text(asked), text(flipped)
    assert decisive_difference(a, b) == "negation"
    assert kind(a, b) == SIMILAR


def test_negation_is_read_from_the_ask_not_from_the_body():
    body = "방호되지 않은 충전전로 인근에서 몇 cm 이내로 접근할 수 없도록 하는가?"
    assert kind(text(body), text(body.replace("방호되지 않은", "노출된"))) == REPEAT


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (
            "높이가 2m 이상인 장소의 작업발판 폭은?",
            "높이가 3m 이상인 장소의 작업발판 폭은?",
        ),
        ("정격전압이 50V인 기기의 누설전류는?", "정격전류가 50A인 기기의 누설전류는?"),
        (
            "인체저항 500Ω일 때 심실세동 에너지는?",
            "인체저항 1000Ω일 때 심실세동 에너지는?",
        ),
    ],
)
def test_different_numbers_or_units_in_the_stem_are_at_most_similar(first, second):
    a, b = text(first), text(second)
    assert decisive_difference(a, b) == "numbers"
    assert kind(a, b) == SIMILAR


def test_the_same_number_spelled_with_a_korean_unit_is_still_a_repeat():
    a = text("높이 8미터 이상인 비계다리에는 몇 미터마다 계단참을 두는가?")
    b = text("높이 8m 이상인 비계다리에는 몇 m마다 계단참을 두는가?")
    assert kind(a, b) == REPEAT


def test_a_choice_position_note_does_not_count_as_a_number():
    note = "(개정 전 문제로 여기서는 기존 정답인 {}번을 누르면 정답 처리됩니다.)"
    a = text("강관비계의 준수사항으로 옳지 않은 것은?" + note.format(2))
    b = text("강관비계의 준수사항으로 옳지 않은 것은?" + note.format(3))
    assert kind(a, b) == REPEAT


def test_a_different_keyed_answer_is_at_most_similar():
    a = text("재해예방의 4원칙이 아닌 것은?", correct=2)
    b = text("재해예방의 4원칙이 아닌 것은?", correct=3)
    assert decisive_difference(a, b) == "answer"
    assert kind(a, b) == SIMILAR


def test_a_replaced_keyed_choice_is_at_most_similar():
    replaced = [
        "손실우연의 원칙",
        "사실확인의 원칙",
        "원인계기의 원칙",
        "대책선정의 원칙",
    ]
    a = text("재해예방의 4원칙이 아닌 것은?")
    b = text("재해예방의 4원칙이 아닌 것은?", choices=replaced)
    assert kind(a, b) == SIMILAR


def test_reordered_choices_with_the_same_keyed_text_are_a_repeat():
    reordered = [CHOICES[3], CHOICES[1], CHOICES[0], CHOICES[2]]
    a = text("재해예방의 4원칙이 아닌 것은?", correct=2)
    b = text("재해예방의 4원칙이 아닌 것은?", choices=reordered, correct=2)
    assert kind(a, b) == REPEAT
    assert embedding_text(stem="문제", choices=CHOICES) == embedding_text(
        stem="문제", choices=reordered
    )


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [
        ("물림점(nip point)", "물림점"),
        ("127", "127 kPa"),
        ("Top 사상", "Top사상"),
        ("조명시설의 이상 유무", "환기 또는 조명시설의 이상 유무"),
    ],
)
def test_a_keyed_answer_written_slightly_differently_is_the_same(mine, theirs):
    stem = "다음 중 해당하는 것은?"
    a = text(stem, choices=[mine, "협착점", "끼임점", "절단점"], correct=1)
    b = text(stem, choices=["절단점", "협착점", theirs, "끼임점"], correct=3)
    assert kind(a, b) == REPEAT


def test_answers_with_the_same_digits_are_not_the_same_answer():
    stem = "다음 중 인화점이 가장 낮은 물질은?"
    a = text(stem, choices=["CS$_2$", "CO$_2$", "CO", "NH$_3$"], correct=1)
    b = text(stem, choices=["CS$_2$", "CO$_2$", "CO", "NH$_3$"], correct=2)
    assert kind(a, b) == SIMILAR
    assert (
        kind(
            text("몇 m 이상인가?", choices=["2m", "3m", "4m", "5m"], correct=1),
            text("몇 m 이상인가?", choices=["2", "3", "4", "5"], correct=2),
        )
        == SIMILAR
    )


def test_similarity_decides_between_repeat_similar_and_unrelated():
    thresholds = current_thresholds()
    question = text("재해예방의 4원칙이 아닌 것은?")
    assert kind(question, question, thresholds.repeat) == REPEAT
    between = (thresholds.repeat + thresholds.similar) / 2
    assert kind(question, question, between) == SIMILAR
    assert kind(question, question, thresholds.similar - 0.001) is None


def test_thresholds_are_kept_per_embedding_model_and_versioned(settings):
    default = current_thresholds()
    other = thresholds_for("openai:some-other-model")
    assert (other.repeat, other.similar) == UNCALIBRATED_THRESHOLDS
    assert other.version != default.version
    settings.RELATED_THRESHOLDS = {default.model: (0.97, 0.95)}
    changed = current_thresholds()
    assert (changed.repeat, changed.similar) == (0.97, 0.95)
    assert changed.version != default.version
    assert len(changed.version) <= 40  # fits Question.related_threshold_version
