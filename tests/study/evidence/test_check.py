"""The per-choice check (study/evidence/check.py): a pure function of the
question and the passage texts, read the way a careful reader would."""

import pytest

from study.evidence.check import (
    ABSENT,
    DIFFER,
    MATCH,
    NEGATIVE,
    POSITIVE,
    PassageText,
    QuestionText,
    check_choices,
    choice_parts,
    polarity,
    slots_of,
)
from study.evidence.history import DIFFERENT, SAME, UNKNOWN, Asked, agreement
from study.evidence.text import flatten, quantities

LADDER = PassageText(
    citation="시험규칙 제24조(사다리식 통로 등의 구조)",
    text="""제24조(사다리식 통로 등의 구조)
① 사업주는 사다리식 통로 등을 설치하는 경우 다음 각 호의 사항을 준수하여야 한다.
  1. 견고한 구조로 할 것
  2. 발판과 벽과의 사이는 15센티미터 이상의 간격을 유지할 것
  3. 폭은 30센티미터 이상으로 할 것
  4. 사다리의 상단은 걸쳐놓은 지점으로부터 60센티미터 이상 올라가도록 할 것
  5. 사다리식 통로의 길이가 10미터 이상인 경우에는 5미터 이내마다 계단참을 설치할 것
  6. 사다리식 통로의 기울기는 75도 이하로 할 것""",
)
BOILER = PassageText(
    citation="시험규칙 제119조(폭발위험의 방지)",
    text="제119조(폭발위험의 방지)\n사업주는 보일러의 폭발 사고를 예방하기 위하여 "
    "압력방출장치, 압력제한스위치, 고저수위 조절장치, 화염 검출기 등의 기능이 "
    "정상적으로 작동될 수 있도록 유지ㆍ관리하여야 한다.",
)
SWITCH = PassageText(
    citation="시험규칙 제117조(압력제한스위치)",
    text="제117조(압력제한스위치)\n사업주는 보일러의 과열을 방지하기 위하여 "
    "최고사용압력과 상용압력 사이에서 보일러의 버너 연소를 차단할 수 있도록 "
    "압력제한스위치를 부착하여 사용하여야 한다.",
)


def q(stem, *choices, key=1):
    return QuestionText(stem=stem, choices=tuple(choices), accepted=frozenset({key}))


def marks(check):
    return [m.mark for m in check.marks]


# -- numbers, units and bounds ------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("1.5 m 이상", "1.5미터 이상"),
        ("100분의 5", "5퍼센트"),
        ("15cm", "15센티미터"),
        ("127 kPa 초과", "127킬로파스칼을 초과하는"),
        ("2년", "24개월"),
        ("3만제곱미터", "30,000㎡"),
    ],
)
def test_quantities_compare_after_normalising_units_and_bounds(a, b):
    (x,), (y,) = quantities(a), quantities(b)
    assert x.same(y)


def test_a_point_value_satisfies_a_bound_and_a_bound_differs_from_another():
    (value,) = quantities("지상높이가 31m인 건축물")
    (bound,) = quantities("지상높이가 31미터 이상인 건축물")
    (short,) = quantities("깊이가 8m인 굴착")
    (deep,) = quantities("깊이 10미터 이상인 굴착")
    assert value.within(bound) and not short.within(deep)
    (under,) = quantities("10미터 미만")
    (over,) = quantities("10미터 초과")
    assert not under.same(over) and not under.within(over)


def test_article_and_item_numbers_are_not_quantities():
    assert quantities("법 제42조제1항제3호에 따른 공사") == []


def test_words_compare_without_particles_spacing_and_glosses():
    assert (
        flatten("방유제(防油堤)를 설치하여야").text == flatten("방유제 설치하여야").text
    )
    assert flatten("설비의 상단에").text == flatten("설비 상단").text


# -- polarity -----------------------------------------------------------------


def test_polarity_is_read_from_the_asking_sentence_only():
    assert polarity("다음 중 보일러 방호장치가 아닌 것은?") == NEGATIVE
    assert polarity("사다리식 통로의 기준으로 틀린 것은?") == NEGATIVE
    preamble = (
        "사업주는 안전밸브 전단에 차단밸브를 설치해서는 아니 된다. "
        "다음 중 자물쇠형 차단밸브를 설치할 수 있는 경우는?"
    )
    assert polarity(preamble) == POSITIVE
    assert polarity("전기위험 방지 조치를 취하지 않아도 되는 전압은?") == POSITIVE


# -- statements -------------------------------------------------------------


def test_a_list_question_singles_out_the_item_the_passage_does_not_have():
    check = check_choices(
        q(
            "보일러의 폭발위험 방지를 위한 방호장치가 아닌 것은?",
            "급정지장치",
            "압력제한스위치",
            "압력방출장치",
            "고저수위 조절장치",
        ),
        [BOILER],
    )
    assert marks(check) == [ABSENT, MATCH, MATCH, MATCH]
    assert check.verdict == 1 and check.deciding == 0


def test_a_wrong_value_differs_and_is_the_one_singled_out():
    check = check_choices(
        q(
            "사다리식 통로를 설치하는 경우 준수해야 할 기준으로 틀린 것은?",
            "사다리식 통로의 기울기는 60°이하로 할 것",
            "발판과 벽과의 사이는 15cm 이상의 간격을 유지할 것",
            "사다리의 상단은 걸쳐놓은 지점으로부터 60cm 이상 올라가도록 할 것",
            "폭은 30cm 이상으로 할 것",
        ),
        [LADDER],
    )
    assert marks(check) == [DIFFER, MATCH, MATCH, MATCH]
    assert check.verdict == 1
    assert "75도 이하" in check.marks[0].detail


def test_the_opposite_statement_differs():
    passage = PassageText(
        citation="시험규칙 제283조",
        text="3. 위험물 건조설비를 사용하여 가열건조하는 건조물은 "
        "쉽게 이탈되지 않도록 할 것",
    )
    check = check_choices(
        q(
            "건조설비의 준수사항으로 옳지 않은 것은?",
            "위험물 건조설비를 사용하여 가열건조하는 건조물은 쉽게 이탈되도록 할 것",
            "가",
            "나",
            "다",
        ),
        [passage],
    )
    assert check.marks[0].mark == DIFFER


@pytest.mark.parametrize(
    "choice",
    [
        "밝지 않은 장소에서 작업하도록 하여야 한다",  # the word before the aligned
        "근로자가 밝은 장소에서 작업하지 않도록 하여야 한다",  # inside them
        "근로자가 밝은 장소에서 작업하도록 하지 말 것",  # after them
    ],
)
def test_a_negation_in_the_choices_clause_differs_wherever_it_sits(choice):
    passage = PassageText(
        citation="시험규칙 제8조",
        text="제8조(조도)\n사업주는 근로자가 밝은 장소에서 작업하도록 하여야 한다.",
    )
    check = check_choices(
        q("조도 기준으로 틀린 것은?", choice, "가", "나", "다"), [passage]
    )
    assert check.marks[0].mark == DIFFER


def test_no_verdict_when_the_text_does_not_single_out_one_choice():
    check = check_choices(
        q(
            "사다리식 통로의 기준으로 틀린 것은?",
            "사다리식 통로의 기울기는 60°이하로 할 것",
            "폭은 20cm 이상으로 할 것",
            "견고한 구조로 할 것",
            "발판과 벽과의 사이는 15cm 이상의 간격을 유지할 것",
        ),
        [LADDER],
    )
    assert marks(check) == [DIFFER, DIFFER, MATCH, MATCH]
    assert check.verdict is None


def test_no_passage_no_verdict():
    check = check_choices(q("옳은 것은?", "가", "나", "다", "라"), [])
    assert check.verdict is None and marks(check) == [ABSENT] * 4


def test_a_which_is_not_question_keeps_to_the_one_list_it_asks_about():
    committee = PassageText(
        citation="시험령 제35조(위원회의 구성)",
        text="""제35조(위원회의 구성)
① 위원회의 근로자위원은 다음 각 호의 사람으로 구성한다.
  1. 근로자대표
  2. 근로자대표가 지명하는 1명 이상의 명예산업안전감독관
② 위원회의 사용자위원은 다음 각 호의 사람으로 구성한다.
  1. 해당 사업의 대표자
  2. 안전관리자 1명
  3. 보건관리자 1명
  4. 산업보건의""",
    )
    check = check_choices(
        q(
            "위원회의 사용자위원에 해당하지 않는 사람은?",
            "안전관리자",
            "산업보건의",
            "명예산업안전감독관",
            "보건관리자",
        ),
        [committee],
    )
    assert marks(check) == [MATCH, MATCH, ABSENT, MATCH]
    assert check.verdict == 3


DUTIES = [
    PassageText(
        citation="시험령 제22조(보건관리자의 업무 등)",
        text="""제22조(보건관리자의 업무 등)
① 보건관리자의 업무는 다음 각 호와 같다.
8. 작업장 내에서 사용되는 전체 환기장치 및 국소 배기장치 등에 관한 설비의 점검
9. 사업장 순회점검, 지도 및 조치 건의
11. 산업재해에 관한 통계의 유지ㆍ관리ㆍ분석을 위한 보좌 및 지도ㆍ조언""",
    ),
    PassageText(
        citation="시험령 제18조(안전관리자의 업무 등)",
        text="""제18조(안전관리자의 업무 등)
① 안전관리자의 업무는 다음 각 호와 같다.
 4. 해당 사업장 안전교육계획의 수립 및 안전교육 실시에 관한 보좌 및 지도ㆍ조언
 5. 사업장 순회점검, 지도 및 조치 건의
 7. 산업재해에 관한 통계의 유지ㆍ관리ㆍ분석을 위한 보좌 및 지도ㆍ조언""",
    ),
]


def test_of_lists_stated_alike_the_one_named_by_the_question_is_asked_about():
    # Two choices are duties of both; one is only the 보건관리자's, one only
    # the 안전관리자's: the question names the 안전관리자.
    check = check_choices(
        q(
            "산업안전보건법상 안전관리자가 수행해야 할 업무가 아닌 것은?",
            "사업장 순회점검·지도 및 조치의 건의",
            "산업재해에 관한 통계의 유지·관리·분석을 위한 보좌 및 조언·지도",
            "작업장 내에서 사용되는 전체 환기장치 및 국소 배기장치 등에 관한 "
            "설비의 점검",
            "해당 사업장 안전교육계획의 수립 및 안전교육 실시에 관한 보좌 및 조언·지도",
            key=3,
        ),
        DUTIES,
    )
    assert marks(check) == [MATCH, MATCH, ABSENT, MATCH]
    assert check.verdict == 3


def test_the_list_the_question_names_wins_over_a_longer_one():
    certified = PassageText(
        citation="시험규칙 제107조(안전인증대상기계등)",
        text="""제107조(안전인증대상기계등)
안전인증대상기계등이란 다음 각 호의 기계 및 설비를 말한다.
 1. 설치ㆍ이전하는 경우 안전인증을 받아야 하는 기계
 가. 크레인
 나. 리프트
 다. 곤돌라
 2. 주요 구조 부분을 변경하는 경우 안전인증을 받아야 하는 기계 및 설비
 가. 프레스
 나. 크레인
 다. 리프트
 라. 고소(高所)작업대
 마. 곤돌라""",
    )
    check = check_choices(
        q(
            "설치·이전하는 경우 안전인증을 받아야 하는 기계·기구에 해당되지 않는 것은?",
            "크레인",
            "리프트",
            "곤돌라",
            "고소작업대",
            key=4,
        ),
        [certified],
    )
    assert marks(check) == [MATCH, MATCH, MATCH, ABSENT]
    assert check.verdict == 4


def test_of_terms_stated_the_one_in_the_line_the_question_describes_answers():
    # 제119조 names all the boiler's devices in passing; 제117조 is the line
    # the question paraphrases, and it names the 압력제한스위치.
    check = check_choices(
        q(
            "산업안전보건법령상 보일러의 과열을 방지하기 위하여 최고사용압력과 "
            "상용압력 사이에서 보일러의 버너 연소를 차단하여 정상 압력으로 "
            "유도하는 방호장치로 가장 적절한 것은?",
            "압력방출장치",
            "고저수위조절장치",
            "언로우드밸브",
            "압력제한스위치",
            key=4,
        ),
        [SWITCH, BOILER],
    )
    assert check.verdict == 4
    assert marks(check)[3] == MATCH
    assert MATCH not in marks(check)[:3]
    # The card shows the sentence that states it, not the article's title
    # "제117조(압력제한스위치)", which names it as fully.
    (start, end), *_ = check.marks[3].spans
    assert start > SWITCH.text.index("\n")
    assert SWITCH.text[start:end].startswith("압력제한스위치")
    # A question that describes no line leaves every stated term stated.
    vague = check_choices(
        q(
            "보일러의 방호장치로 옳은 것은?",
            "압력방출장치",
            "고저수위조절장치",
            "x",
            "y",
        ),
        [BOILER],
    )
    assert marks(vague)[:2] == [MATCH, MATCH] and vague.verdict is None


def test_a_positive_question_stated_in_one_sentence_marks_the_others_different():
    check = check_choices(
        q(
            "보일러의 버너 연소를 차단하도록 부착하여야 하는 장치는?",
            "압력방출장치",
            "압력제한스위치",
            "고저수위 조절장치",
            "화염 검출기",
        ),
        [SWITCH],
    )
    assert check.verdict == 2
    assert marks(check) == [DIFFER, MATCH, DIFFER, DIFFER]


# -- blanks and question words ------------------------------------------------


def test_a_blank_is_filled_with_what_the_passage_has_between_its_words():
    check = check_choices(
        q(
            "다음 ( ) 안에 들어갈 용어로 알맞은 것은?\n\n사업주는 보일러의 과열을 "
            "방지하기 위하여 최고사용압력과 상용압력 사이에서 보일러의 버너 연소를 "
            "차단할 수 있도록 ( )을(를) 부착하여 사용하여야 한다.",
            "고저수위 조절장치",
            "압력방출장치",
            "압력제한스위치",
            "파열판",
            key=3,
        ),
        [SWITCH],
    )
    assert check.mode == "slot"
    assert marks(check) == [DIFFER, DIFFER, MATCH, DIFFER]
    assert check.verdict == 3
    (span,) = check.marks[2].spans
    assert SWITCH.text[span[0] : span[1]].startswith("압력제한스위치")


def test_a_question_word_is_a_blank_and_bare_numbers_take_its_unit():
    check = check_choices(
        q(
            "사다리식 통로의 길이가 10미터 이상인 경우에는 몇 m 이내마다 계단참을 "
            "설치하여야 하는가?",
            "3",
            "5",
            "7",
            "10",
            key=2,
        ),
        [LADDER],
    )
    assert check.mode == "slot"
    assert marks(check) == [DIFFER, MATCH, DIFFER, DIFFER]
    assert check.verdict == 2


def test_two_blanks_are_read_in_order():
    passage = PassageText(
        citation="시험규칙 제286조",
        text="② 발생기실은 건물의 최상층에 위치하여야 하며, 화기를 사용하는 설비로부터 "
        "3미터를 초과하는 장소에 설치하여야 한다.\n③ 발생기실을 옥외에 설치한 경우에는 "
        "그 개구부를 다른 건축물로부터 1.5미터 이상 떨어지도록 하여야 한다.",
    )
    stem = (
        "A, B에 들어갈 내용으로 옳은 것은?\n\n- 발생기실은 건물의 최상층에 위치하여야 "
        "하며, 화기를 사용하는 설비로부터 ( A )를 초과하는 장소에 설치하여야 한다.\n"
        "- 발생기실을 옥외에 설치한 경우에는 그 개구부를 다른 건축물로부터 ( B )이상 "
        "떨어지도록 하여야 한다."
    )
    check = check_choices(
        q(stem, "A: 1.5m, B: 3m", "A: 2m, B: 4m", "A: 3m, B: 1.5m", "A: 4m, B: 2m"),
        [passage],
    )
    assert marks(check) == [DIFFER, DIFFER, MATCH, DIFFER]
    assert check.verdict == 3


def test_choice_parts_follow_the_blanks_labels():
    slots = slots_of("( ㉠ )건 이상, ( ㉡ )배 이상인 경우 ( )에 알맞은 것은?")
    assert slots is not None and len(slots.blanks) == 2
    assert choice_parts("㉠ 3, ㉡ 2", slots) == ["3", "2"]
    assert choice_parts("통풍, 세척", slots) == ["통풍", "세척"]


# -- one function, two versions of a statute ---------------------------------------


def test_the_same_question_read_against_two_versions_of_its_article():
    """What the issue on statute versions compares: the marks under the text
    in force then and the text in force now."""
    question = q(
        "사다리식 통로의 기울기는 몇 도 이하로 하여야 하는가?",
        "60",
        "75",
        "80",
        "90",
        key=1,
    )
    old = PassageText(
        citation="제24조", text="6. 사다리식 통로의 기울기는 60도 이하로 할 것"
    )
    assert check_choices(question, [old]).verdict == 1
    now = check_choices(question, [LADDER])
    assert now.verdict == 2 and now.verdict not in question.accepted
    assert check_choices(question, [LADDER]) == now  # nothing but its arguments


# -- history -------------------------------------------------------------------


def test_a_repeat_with_the_choices_reordered_agrees_or_disagrees_by_its_key():
    mine = Asked(
        "보일러 방호장치가 아닌 것은?",
        ("가스", "나무", "다리", "라디오"),
        frozenset({2}),
    )
    same = Asked(
        "보일러 방호장치가 아닌 것은?",
        ("라디오", "나무", "가스", "다리"),
        frozenset({2}),
    )
    other = Asked(
        "보일러 방호장치가 아닌 것은?",
        ("라디오", "나무", "가스", "다리"),
        frozenset({4}),
    )
    assert agreement(mine, same) == SAME
    assert agreement(mine, other) == DIFFERENT


def test_a_variant_asked_the_other_way_or_with_other_choices_is_not_compared():
    mine = Asked(
        "보일러 방호장치가 아닌 것은?",
        ("가스", "나무", "다리", "라디오"),
        frozenset({2}),
    )
    flipped = Asked(
        "보일러 방호장치인 것은?", ("가스", "나무", "다리", "라디오"), frozenset({1})
    )
    changed = Asked(
        "보일러 방호장치가 아닌 것은?",
        ("하늘", "바다", "구름", "라디오"),
        frozenset({1}),
    )
    assert agreement(mine, flipped) == UNKNOWN
    assert agreement(mine, changed) == UNKNOWN


def test_another_question_over_the_same_choices_is_not_compared():
    days = ("15일", "30일", "45일", "60일")
    plan = Asked(
        "개선계획서는 명령을 받은 날부터 며칠 이내에 제출하는가?", days, frozenset({4})
    )
    report = Asked(
        "유해위험방지계획서는 작업 시작 며칠 전까지 제출하는가?", days, frozenset({1})
    )
    assert agreement(plan, report) == UNKNOWN


def test_a_which_is_not_question_whose_false_statement_changed_is_no_conflict():
    # Two rounds of one question (15 real rounds: 2016-1-102 / 2019-3-114):
    # each keys its own false statement, and the options they share are
    # true in both. Neither key is wrong, so no 정답 다름.
    stem = (
        "근로자의 추락 등의 위험을 방지하기 위한 안전난간의 설치기준으로 "
        "옳지 않은 것은?"
    )
    strong = (
        "안전난간은 가장 취약한 지점에서 100kg 이상의 하중에 견딜 수 있는 구조일 것"
    )
    older = Asked(
        stem,
        (
            "상부 난간대와 중간 난간대는 바닥면등과 평행을 유지할 것",
            "발끝막이판은 바닥면등으로부터 20cm 이하의 높이를 유지할 것",
            "난간대는 지름 2.7cm 이상의 금속제 파이프일 것",
            strong,
        ),
        frozenset({2}),
    )
    newer = Asked(
        stem,
        (
            "상부난간대는 바닥면으로부터 90cm 이상 지점에 설치할 것",
            "발끝막이판은 바닥면 등으로부터 10cm 이상의 높이를 유지할 것",
            "난간대는 지름 1.5cm 이상의 금속제파이프일 것",
            strong,
        ),
        frozenset({3}),
    )
    assert agreement(older, newer) == UNKNOWN
    assert agreement(newer, older) == UNKNOWN
    # The same paper keyed otherwise still is one.
    assert agreement(older, Asked(stem, older.choices, frozenset({3}))) == DIFFERENT


def test_a_shared_option_keyed_otherwise_beside_changed_options_is_no_conflict():
    # 이동식 크레인 (2018-1-120) and 크레인 (2016-1-108): the 트롤리 rail is
    # no check of the mobile crane and one of the crane; the other options
    # differ, so these are two lists, not one paper with two keys.
    rail = "주행로의 상측 및 트롤리가 횡행하는 레일의 상태"
    mobile = Asked(
        "이동식 크레인을 사용하여 작업을 할 때 작업시작 전 점검사항이 아닌 것은?",
        (
            rail,
            "권과방지장치 그 밖의 경보장치의 기능",
            "브레이크·클러치 및 조정장치의 기능",
            "와이어로프가 통하고 있는 곳 및 작업장소의 지반상태",
        ),
        frozenset({1}),
    )
    crane = Asked(
        "크레인을 사용하여 작업을 하는 때 작업시작 전 점검 사항이 아닌 것은?",
        (
            "권과방지장치ㆍ브레이크ㆍ클러치 및 운전장치의 기능",
            "방호장치의 이상유무",
            "와이어로프가 통하고 있는 곳의 상태",
            rail,
        ),
        frozenset({2}),
    )
    assert agreement(mobile, crane) == UNKNOWN


def test_the_same_keyed_answer_among_other_distractors_agrees():
    low = Asked(
        "다음 중 인화점이 가장 낮은 물질은?",
        ("등유", "아세톤", "이황화탄소", "아세트산"),
        frozenset({3}),
    )
    other_round = Asked(
        "다음 물질 중 인화점이 가장 낮은 물질은?",
        ("이황화탄소", "아세톤", "크실렌", "경유"),
        frozenset({1}),
    )
    assert agreement(low, other_round) == SAME


REDUCER = Asked(
    "다음 중 관의 지름을 변경하고자 할 때 필요한 관 부속품은?",
    ("reducer", "elbow", "plug", "valve"),
    frozenset({1}),
)
REDUCER_REWORDED = Asked(
    "다음 중 관의 지름을 변경하는데 사용되는 관의 부속품으로 가장 적절한 것은?",
    ("엘보우(Elbow)", "커플링(Coupling)", "유니온(Union)", "리듀서(Reducer)"),
    frozenset({4}),
)


def test_a_repeat_the_rules_found_is_compared_however_reworded():
    # Stems too unlike for the history to call them one question by itself;
    # the related-questions rules did (a repeat), so the keys are compared.
    assert agreement(REDUCER, REDUCER_REWORDED) == UNKNOWN
    assert agreement(REDUCER, REDUCER_REWORDED, same_question=True) == SAME


# -- what decides a verdict (CHECK_VERSION 10) ---------------------------------

LEAKAGE = PassageText(
    citation="시험규칙 제304조(누전차단기에 의한 감전방지)",
    text="제304조(누전차단기에 의한 감전방지)\n"
    "⑤ 사업주는 제1항에 따라 설치한 누전차단기를 접속하는 경우에 정격전류가 "
    "50암페어를 초과하는 전기기계ㆍ기구에 접속되는 누전차단기는 오작동을 "
    "방지하기 위하여 작동시간은 0.1초 이내로 할 수 있다.",
)
SAW = PassageText(
    citation="시험규칙 제105조(둥근톱기계의 반발예방장치)",
    text="제105조(둥근톱기계의 반발예방장치)\n사업주는 목재가공용 둥근톱기계에 "
    "분할날 등 반발예방장치를 설치하여야 한다.",
)
STEEL_LADDER = PassageText(
    citation="시험규칙 제381조(승강로의 설치)",
    text="제381조(승강로의 설치)\n사업주는 근로자가 수직방향으로 이동하는 "
    "철골부재(鐵骨部材)에는 답단(踏段) 간격이 30센티미터 이내인 고정된 승강로를 "
    "설치하여야 한다.",
)


def test_a_bare_value_is_no_term_found_anywhere_in_a_line():
    # "5" is not the start of "50암페어", and a value a line states about
    # another point (a 정격전류, not the 정격감도전류 asked) answers nothing.
    check = check_choices(
        q(
            "샤워시설이 있는 욕실에 콘센트를 시설하는 경우 인체감전보호용 "
            "누전차단기의 정격감도전류는 몇 mA 이하인가?",
            "5",
            "15",
            "30",
            "50",
            key=2,
        ),
        [LEAKAGE],
    )
    assert check.verdict is None
    assert marks(check) == [ABSENT] * 4


def test_a_value_read_where_the_question_asks_it_in_another_word_order():
    # The blank's anchors are short (간격 … 이내), and the line holds the
    # question's words in another order than the question's.
    check = check_choices(
        q(
            "철골작업시 철골부재에서 근로자가 수직방향으로 이동하는 경우에 설치하여야 "
            "하는 고정된 승강로의 최소 답단 간격은 얼마 이내인가?",
            "20cm",
            "25cm",
            "30cm",
            "40cm",
            key=3,
        ),
        [STEEL_LADDER],
    )
    assert check.mode == "slot"
    assert check.verdict == 3
    assert marks(check) == [DIFFER, DIFFER, MATCH, DIFFER]


def test_a_positive_verdict_needs_a_passage_about_what_the_question_asks():
    # The article states 반발예방장치 for a 둥근톱기계; the question asks what a
    # 롤러기 must have, and the article shares only the verb with it.
    off = check_choices(
        q(
            "다음 중 롤러기에 설치하여야 할 방호장치는?",
            "반발예방장치",
            "급정지장치",
            "접촉예방장치",
            "파열판장치",
            key=2,
        ),
        [SAW],
    )
    assert off.verdict is None
    # What the saw's article states says nothing of a 롤러기's devices.
    assert marks(off) == [ABSENT] * 4
    on = check_choices(
        q(
            "다음 중 목재가공용 둥근톱기계에 설치하여야 할 방호장치는?",
            "반발예방장치",
            "급정지장치",
            "접촉예방장치",
            "파열판장치",
            key=1,
        ),
        [SAW],
    )
    assert on.verdict == 1


HANGING = PassageText(
    citation="시험규칙 제66조의2(걸침비계의 구조)",
    text="제66조의2(걸침비계의 구조)\n"
    "사업주는 선박 및 보트 건조작업에서 걸침비계를 설치하는 경우에는 다음 각 호의 "
    "사항을 준수하여야 한다.\n"
    " 1. 지지점이 되는 매달림부재의 고정부는 구조물로부터 이탈되지 않도록 견고히 "
    "고정할 것\n"
    " 2. 비계재료 간에는 서로 움직임, 뒤집힘 등이 없어야 하고, 재료가 분리되지 "
    "않도록 철물 또는 철선으로 충분히 결속할 것. 다만, 작업발판 밑 부분에 띠장 및 "
    "장선으로 사용되는 수평부재 간의 결속은 철선을 사용하지 않을 것\n"
    " 3. 매달림부재의 안전율은 4 이상일 것",
)
PLAN = PassageText(
    citation="시험규칙 제50조(공정안전보고서의 세부 내용 등)",
    text="""제50조(공정안전보고서의 세부 내용 등)
① 공정안전보고서에 포함해야 할 세부내용은 다음 각 호와 같다.
3. 안전운전계획
 가. 안전운전지침서
 나. 설비점검ㆍ검사 및 보수계획, 유지계획 및 지침서
 다. 안전작업허가
 라. 가동 전 점검지침
4. 비상조치계획
 가. 비상조치를 위한 장비ㆍ인력 보유현황
 나. 비상조치계획에 따른 교육계획""",
)
MEMBERS = (
    "비계의 부재 중 기둥과 기둥을 연결시키는 부재가 아닌 것은?",
    "띠장",
    "장선",
    "가새",
    "작업발판",
)


def test_a_verdict_against_the_key_needs_a_passage_about_the_question():
    # A 걸침비계 line names three of the four members (작업발판, 띠장, 장선)
    # but says nothing of which members join 기둥 to 기둥: it may not
    # overturn the key (작업발판).
    against = check_choices(q(*MEMBERS, key=4), [HANGING])
    assert against.verdict is None
    # What the line states is still shown, choice by choice.
    assert marks(against) == [MATCH, MATCH, ABSENT, MATCH]
    # The same marks agreeing with the key claim nothing new: kept.
    assert check_choices(q(*MEMBERS, key=3), [HANGING]).verdict == 3


def test_a_passage_holding_what_the_question_asks_overturns_an_old_key():
    # 안전작업허가 is in today's 안전운전계획; 비상조치계획에 따른 교육계획 is
    # under 비상조치계획: the key printed in 2016 (1) is contradicted.
    check = check_choices(
        q(
            "다음 중 산업안전보건법령상 공정안전보고서의 안전운전 계획에 "
            "포함되지 않는 항목은?",
            "안전작업허가",
            "안전운전지침서",
            "가동 전 점검지침",
            "비상조치계획에 따른 교육계획",
            key=1,
        ),
        [PLAN],
    )
    assert check.verdict == 4
    assert marks(check) == [MATCH, MATCH, MATCH, ABSENT]


NOT_ASKED = "다음 중 준수사항으로 옳지 않은 것은?"
GRINDER = PassageText(
    citation="시험규칙 제122조(연삭숫돌의 덮개 등)",
    text="제122조(연삭숫돌의 덮개 등)\n"
    "① 사업주는 회전 중인 연삭숫돌이 근로자에게 위험을 미칠 우려가 있는 경우에 "
    "그 부위에 덮개를 설치하여야 한다.\n"
    "④ 사업주는 연삭숫돌의 최고 사용회전속도를 초과하여 사용하도록 해서는 아니 "
    "된다.",
)
ACETYLENE = PassageText(
    citation="시험규칙 제285조(압력의 제한)",
    text="제285조(압력의 제한)\n사업주는 아세틸렌 용접장치를 사용하여 금속의 "
    "용접ㆍ용단 또는 가열작업을 하는 경우에는 게이지 압력이 127킬로파스칼을 "
    "초과하는 압력의 아세틸렌을 발생시켜 사용해서는 아니 된다.",
)
GAS_PIPES = PassageText(
    citation="시험규칙 제293조(가스집합용접장치의 배관)",
    text="제293조(가스집합용접장치의 배관)\n사업주는 가스집합용접장치의 배관을 하는 "
    "경우에는 다음 각 호의 사항을 준수하여야 한다.\n"
    " 2. 주관 및 분기관에는 안전기를 설치할 것. 이 경우 하나의 취관에 2개 이상의 "
    "안전기를 설치하여야 한다.",
)


@pytest.mark.parametrize(
    ("choice", "passage"),
    [
        # The statute's "shall not let it be used" is the choice's "shall not
        # be used".
        ("연삭숫돌의 최고 사용회전속도를 초과하여 사용하여서는 안 된다.", GRINDER),
        (
            "아세틸렌 용접장치를 사용하여 용접작업을 할 경우 게이지 압력이 127kPa을 "
            "초과하는 압력의 아세틸렌을 발생시켜 사용해서는 아니 된다.",
            ACETYLENE,
        ),
        # A list item's "할 것" is the choice's "해야 하며".
        (
            "주관 및 분기관에 안전기를 설치해야 하며 이 경우 하나의 취관에 2개 이상의 "
            "안전기를 설치해야 한다.",
            GAS_PIPES,
        ),
    ],
)
def test_a_predicate_in_another_form_is_the_same_statement(choice, passage):
    check = check_choices(q(NOT_ASKED, choice, "가", "나", "다", key=1), [passage])
    assert marks(check)[0] == MATCH


@pytest.mark.parametrize(
    "choice",
    [
        "회전 중인 연삭숫돌이 근로자에게 위험을 미칠 우려가 있는 경우에 그 부위에 "
        "덮개를 설치할 수 있다.",
        "연삭숫돌의 최고 사용회전속도를 초과하여 사용할 수 있다.",
        "주관 및 분기관에는 안전기를 설치하지 않으며 이 경우 하나의 취관에 2개 이상의 "
        "안전기를 설치해야 한다.",
    ],
)
def test_may_where_the_statute_says_must_or_a_negation_differs(choice):
    passages = [GRINDER, GAS_PIPES]
    check = check_choices(q(NOT_ASKED, choice, "가", "나", "다", key=1), passages)
    assert marks(check)[0] == DIFFER
