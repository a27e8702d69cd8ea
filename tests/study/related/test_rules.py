"""What makes a pair a REPEAT rather than only SIMILAR."""

import pytest

from study.related.rules import (
    KEY_CONFLICT,
    KEY_OTHER,
    KEY_SAME,
    QuestionText,
    decisive_difference,
    embedding_text,
    stem_terms_differ,
)
from study.related.thresholds import (
    REPEAT,
    SIMILAR,
    UNCALIBRATED_THRESHOLDS,
    classify_pair,
    current_thresholds,
    pair_verdict_for,
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


def verdict(a, b, similarity=VERY_CLOSE):
    found = pair_verdict_for(similarity, a, b, current_thresholds())
    return found.kind, found.key


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


def test_the_same_question_with_another_key_is_a_repeat_with_a_key_conflict():
    """2016-2-93 and 2018-3-89 print the same question and options and key
    different options: a repeat, whose keys contradict each other."""
    a = text("재해예방의 4원칙이 아닌 것은?", correct=2)
    b = text("재해예방의 4원칙이 아닌 것은?", correct=3)
    assert decisive_difference(a, b) is None
    assert verdict(a, b) == (REPEAT, KEY_CONFLICT)


def test_a_replaced_distractor_is_a_repeat_whose_key_is_another_option():
    """2017-1-11 and 2020-4-4: the keyed distractor was replaced; the three
    true options are the same."""
    replaced = [
        "손실우연의 원칙",
        "사실확인의 원칙",
        "원인계기의 원칙",
        "대책선정의 원칙",
    ]
    a = text("재해예방의 4원칙이 아닌 것은?")
    b = text("재해예방의 4원칙이 아닌 것은?", choices=replaced)
    assert verdict(a, b) == (REPEAT, KEY_OTHER)


def test_a_reworded_which_is_not_with_its_true_options_in_common_is_a_repeat():
    a = text(
        "보일러 과열의 원인이 아닌 것은?",
        choices=[
            "수관과 본체의 청소 불량",
            "관수 부족 시 보일러의 가동",
            "드럼내의 물의 감소",
            "수격작용이 발생될 때",
        ],
        correct=4,
    )
    b = text(
        "보일러에서 압력이 규정 압력이상으로 상승하여 과열되는 원인으로 "
        "가장 관계가 적은 것은?",
        choices=[
            "수관 및 본체의 청소 불량",
            "관수가 부족할 때 보일러 가동",
            "절탄기의 미부착",
            "수면계의 고장으로 인한 드럼내의 물의 감소",
        ],
        correct=3,
    )
    assert verdict(a, b, 0.965) == (REPEAT, KEY_OTHER)


def test_relabelled_steps_and_a_garbled_copy_are_the_same_question():
    stem = (
        "다음 ( ㉠ ), ( ㉡ )에 알맞은 것은? "
        "작업발판의 폭은 ( ㉠ ) 이상, 틈은 ( ㉡ ) 이하"
    )
    options = [
        "㉠ 40cm, ㉡ 3cm",
        "㉠ 30cm, ㉡ 3cm",
        "㉠ 40cm, ㉡ 5cm",
        "㉠ 30cm, ㉡ 5cm",
    ]
    relabelled = text(
        stem.replace("㉠", "A").replace("㉡", "B"),
        choices=[o.replace("㉠", "A:").replace("㉡", "B:") for o in options],
        correct=1,
    )
    garbled = text(
        stem.replace("작업발판의", "작업 발 판의").replace("이상", "이 상"),
        choices=options,
        correct=1,
    )
    original = text(stem, choices=options, correct=1)
    assert verdict(original, relabelled, 0.95) == (REPEAT, KEY_SAME)
    assert verdict(original, garbled, 0.92) == (REPEAT, KEY_SAME)


@pytest.mark.parametrize(
    ("clean", "lost"),
    [
        (
            "보일러 압력방출장치의 종류에 해당하지 않는 것은?",
            "보일러 압력방출장치의 종류에 해당하□ □는 것은?",
        ),
        (
            "보일러 압력방출장치의 종류에 해당하지 않는 것은?",
            "보일러 압력방출장치의 종류에 해당하지 않? 것은?",
        ),
        (
            "다음 중 헤드십에 관한 설명과 가장 거리가 먼 것은?",
            "다음 중 헤드십에 관한 설명과 가장 거리가 � 것은?",
        ),
        ("다음 가스 중 가장 독성이 큰 것은?", "다음 가스 중 가□ 독성이 큰 것은?"),
    ],
)
def test_an_ask_that_lost_a_character_is_still_the_same_ask(clean, lost):
    """A copy that lost a glyph of its negation or superlative (□, �, a ? in
    the words) is read as the other copy, not as the opposite question."""
    a, b = text(clean), text(lost)
    assert decisive_difference(a, b) is None
    assert verdict(a, b) == (REPEAT, KEY_SAME)


def test_a_syllable_no_exam_prints_is_read_as_a_lost_character():
    """ "아륓" is a misprint of an ask, not another ask: 륓 is none of KS X
    1001's 2,350 syllables; a common syllable misprinted stays a difference."""
    clean = text("차량계 건설기계 작업계획서 내용에 포함되는 사항이 아닌 것은?")
    misprinted = text("차량계 건설기계 작업계획서 내용에 포함되는 사항톭 아륓 것은?")
    assert decisive_difference(clean, misprinted) is None
    assert verdict(clean, misprinted) == (REPEAT, KEY_SAME)
    common = text("차량계 건설기계 작업계획서 내용에 포함되는 사항이 아는 것은?")
    assert decisive_difference(clean, common) == "negation"


def test_a_unit_lost_after_a_number_leaves_the_numbers_alike():
    clean = text(
        "1일 노출회수가 100일 때 최대 음압수준이 몇 dB(A)를 초과하면 안 되는가?"
    )
    lost = text("1일 노출회수가 100□ 때 최대 음압수준이 몇 dB(A)를 초과하면 안 되는가?")
    assert decisive_difference(clean, lost) is None
    other = text(
        "1일 노출회수가 1□00 때 최대 음압수준이 몇 dB(A)를 초과하면 안 되는가?"
    )
    assert decisive_difference(clean, other) == "numbers"  # a value differs


def test_letters_lost_close_together_add_no_term_and_a_short_key_still_reads():
    """ "반응하였을 □ 생?되는" is "반응하였을 때 생성되는", and "수?" is "수소"."""
    choices = ["산소", "수소", "메탄", "에탄"]
    stem = "알루미늄분이 고온의 물과 반응하였을 때 생성되는 가스는?"
    lost_stem = "알루미늄분이고온의물과 반응하였을 □ 생?되는 가스는?"
    assert stem_terms_differ(stem, lost_stem) == ""
    clean = text(stem, choices=choices, correct=2)
    lost = text(lost_stem, choices=["산소", "수?", "메탄", "에탄"], correct=2)
    assert verdict(clean, lost, 0.95) == (REPEAT, KEY_SAME)


def test_lost_characters_do_not_hide_an_opposite_ask():
    """A copy that lost a glyph elsewhere still asks the other way round."""
    a = text("보일러 압력방출장치의 종류에 해당하는 것은?")
    b = text("보□러 압력방출장치의 종류에 해당하지 않는 것은?")
    assert decisive_difference(a, b) == "negation"
    assert kind(a, b) == SIMILAR


def test_a_keyed_answer_that_lost_a_character_is_still_the_keyed_answer():
    """'220mA, ?험' is '220mA, 위험' (not '22mA, 위험'), and a stem that lost a
    glyph adds no term of its own."""
    stem = (
        "220V 전압에 접촉된 사람의 인체저항이 약 1000Ω일 때 "
        "인체 전류와 그 결과 값의 위험성 여부로 알맞은 것은?"
    )
    options = ["22mA, 안전", "220mA, 안전", "22mA, 위험", "220mA, 위험"]
    clean = text(stem, choices=options, correct=4)
    lost = text(
        stem.replace("여부로", "여?로"),
        choices=[*options[:3], "220mA, ?험"],
        correct=4,
    )
    assert verdict(clean, lost) == (REPEAT, KEY_SAME)
    assert verdict(clean, text(stem, choices=options, correct=3)) == (
        REPEAT,
        KEY_CONFLICT,
    )


def test_the_stems_own_question_mark_is_not_a_lost_character():
    a = text("다음 중 옳은 것은? (단, 상시근로자 50명 이상인 사업장)")
    b = text("다음 중 옳은 것은?(단, 상시근로자 50명 이상인 사업장)")
    assert decisive_difference(a, b) is None
    assert verdict(a, b) == (REPEAT, KEY_SAME)


def test_numbers_in_words_are_the_same_numbers():
    a = text("무재해 운동을 추진하기 위한 조직의 3기둥으로 볼 수 없는 것은?")
    b = text("무재해 운동을 추진하기 위한 조직의 세 기둥으로 볼 수 없는 것은?")
    assert decisive_difference(a, b) is None


def test_a_percentage_is_the_same_however_it_is_spaced():
    """ "5%NaOH" is 5 % of NaOH, not 5 of a unit "%NaOH"; "vol%" stays one unit."""
    stem = "5% NaOH 수용액과 10% NaOH 수용액을 혼합하여 6% 100kg의 수용액을 만들려면?"
    a, b = text(stem), text(stem.replace("% ", "%"))
    assert decisive_difference(a, b) is None
    c = text("폭발범위가 2.2~9.5vol%인 가스의 위험도는?")
    d = text("폭발범위가 2.2~9.5%인 가스의 위험도는?")
    assert decisive_difference(c, d) == "numbers"


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        (
            "다음 중 인화점이 가장 낮은 물질은?",
            "다음 중 인화점이 가장 높은 물질은?",
            "direction",
        ),
        (
            "B = f(P · E)에서 변수 'E'가 의미하는 것은?",
            "B = f(P · E)에서 변수 'P'가 의미하는 것은?",
            "symbols",
        ),
    ],
)
def test_another_direction_or_symbol_asked_is_not_a_repeat(first, second, why):
    a, b = text(first), text(second)
    assert decisive_difference(a, b) == why
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


def test_the_same_printed_question_with_another_key_is_a_conflict_however_short():
    """A stem that says little ("다음 중 … 알맞은 것은?") over the same four
    statements is the same question: its other key is a key conflict."""
    stem = "다음 중 전압을 구분한 것으로 알맞은 것은?"
    statements = [
        "저압이란 교류 600V 이하인 전압을 말한다.",
        "고압이란 교류 7000V 이하의 전압을 말한다.",
        "특고압이란 7000V를 초과하는 전압을 말한다.",
        "고압이란 교류, 직류 모두 7500V를 넘지 않는 전압을 말한다.",
    ]
    a = text(stem, choices=statements, correct=3)
    b = text(stem, choices=statements[::-1], correct=1)
    assert verdict(a, b, 0.92) == (REPEAT, KEY_CONFLICT)


def test_answers_with_the_same_digits_are_not_the_same_answer():
    stem = "다음 중 인화점이 가장 낮은 물질은?"
    a = text(stem, choices=["CS$_2$", "CO$_2$", "CO", "NH$_3$"], correct=1)
    b = text(stem, choices=["CS$_2$", "CO$_2$", "CO", "NH$_3$"], correct=2)
    assert verdict(a, b) == (REPEAT, KEY_CONFLICT)  # the same printed question
    # A bare "몇 m 이상인가?" says nothing of what is asked, and shared values
    # are no evidence: not the same question.
    assert (
        kind(
            text("몇 m 이상인가?", choices=["2m", "3m", "4m", "5m"], correct=1),
            text("몇 m 이상인가?", choices=["2", "3", "4", "5"], correct=2),
        )
        == SIMILAR
    )


def test_similarity_decides_where_the_text_does_not():
    """Reworded stems with the same keyed answer: a repeat only from the
    repeat threshold; below, similar, then unrelated."""
    thresholds = current_thresholds()
    a = text(
        "관로의 방향을 바꿀 때 쓰는 부속품은?",
        choices=["엘보", "소켓", "플러그", "캡"],
        correct=1,
    )
    b = text(
        "배관의 진행 방향을 변경하는 이음쇠는?",
        choices=["니플", "엘보", "유니온", "밸브"],
        correct=2,
    )
    assert kind(a, b, thresholds.repeat) == REPEAT
    between = (thresholds.repeat + thresholds.similar) / 2
    assert kind(a, b, between) == SIMILAR
    assert kind(a, b, thresholds.similar - 0.001) is None
    # The same printed question is a repeat down to the floor, not below it.
    same = text("재해예방의 4원칙이 아닌 것은?")
    assert kind(same, same, thresholds.floor) == REPEAT
    assert kind(same, same, thresholds.floor - 0.001) is None


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
