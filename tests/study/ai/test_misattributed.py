"""A text that gives one article's wording as another's is refused.

From the real small model (docs/llm-time-model.md, run 3): asked which
device 특수화학설비 need to catch an abnormal state early (key 자동경보장치,
규칙 제274조), it quoted 제274조's heading and then gave 제269조's words
(화염방지기) as what 제274조 says. The text was shown, confidence high.
"""

from __future__ import annotations

import re

import pytest

from study.ai.guard import misattributed_passage
from tests.shared_data import SHARED_DOCUMENTS, needs_shared

pytestmark = needs_shared

RULES = "산업안전보건기준에관한규칙"


def article(number: str) -> tuple[str, str]:
    """(title, text) of an article of the rules, as the card sends it."""
    source = (SHARED_DOCUMENTS / f"{RULES}.md").read_text(encoding="utf-8")
    found = re.search(
        rf"^##### (제{number}조) \((.+?)\)\n(.*?)(?=^#####|\Z)",
        source,
        re.M | re.S,
    )
    assert found, number
    heading, name, body = found.groups()
    return f"{RULES} {heading}({name})", f"{heading}({name})\n{body.strip()}"


@pytest.fixture(scope="module")
def passages() -> list[tuple[str, str]]:
    return [article(n) for n in ("274", "275", "273", "269")]


# The reply's explanation_md, as the model wrote it.
MISATTRIBUTED = (
    '정답은 1번(자동경보장치)입니다. [조문]은 "제274조(자동경보장치의 설치 등)"'
    "라고 정합니다. 제274조는 사업주는 인화성 액체 및 인화성 가스를 저장ㆍ취급하는 "
    "화학설비에서 증기나 가스를 대기로 방출하는 경우에는 외부로부터의 화염을 "
    "방지하기 위하여 화염방지기를 그 설비 상단에 설치해야 한다. 다만, 대기로 "
    "연결된 통기관에 화염방지 기능이 있는 통기밸브가 설치되어 있거나, 인화점이 "
    "섭씨 38도 이상 60도 이하인 인화성 액체를 저장ㆍ취급할 때에 화염방지 기능을 "
    "가지는 인화방지망을 설치한 경우에는 그렇지 않다."
)


def test_another_articles_words_given_as_the_keyed_article_are_refused(passages):
    sentence = misattributed_passage(MISATTRIBUTED, passages)
    assert sentence is not None
    assert sentence.startswith("제274조는") and "화염방지기" in sentence


def test_the_keyed_articles_own_words_pass(passages):
    text = (
        "정답은 1번(자동경보장치)입니다. 제274조는 사업주는 특수화학설비를 설치하는 "
        "경우에는 그 내부의 이상 상태를 조기에 파악하기 위하여 필요한 "
        "자동경보장치를 설치하여야 한다고 정합니다."
    )
    assert misattributed_passage(text, passages) is None


def test_an_article_named_inside_the_copied_words_is_the_passages_own(passages):
    # 제269조 ② refers to its own 제1항; a text copying it names no article
    # of its own outside the copied run.
    text = (
        "정답은 1번입니다. 규칙은 사업주는 제1항의 화염방지기를 설치하는 경우에는 "
        "한국산업표준에서 정하는 화염방지장치 기준에 적합한 것을 설치하여야 "
        "한다고 정합니다."
    )
    assert misattributed_passage(text, passages) is None


def test_words_copied_under_their_own_article_pass(passages):
    text = (
        "참고로 제269조는 외부로부터의 화염을 방지하기 위하여 화염방지기를 그 설비 "
        "상단에 설치해야 한다고 정하고, 제274조는 자동경보장치를 정합니다."
    )
    assert misattributed_passage(text, passages) is None


def test_a_text_that_copies_nothing_long_is_not_judged(passages):
    text = "정답은 1번입니다. 제274조는 특수화학설비의 자동경보장치를 정합니다."
    assert misattributed_passage(text, passages) is None


def test_the_reply_guard_refuses_the_real_reply(passages):
    from study.ai.explanations import reply_guard
    from study.ai.guard import GuardReason, QuestionView
    from study.documents.retrieval import Evidence

    q = QuestionView(
        stem=(
            "산업안전보건법령에 따라 사업주가 특수화학설비를 설치하는 때에 그 "
            "내부의 이상상태를 조기에 파악하기 위하여 설치하여야 하는 장치는?"
        ),
        choices=("자동경보장치", "긴급차단장치", "자동문개폐장치", "스크러버개방장치"),
        accepted=frozenset({1}),
    )
    evidence = [
        Evidence(kind="document", ref=f"doc:1#{n}", title=title, text=text)
        for n, (title, text) in enumerate(passages)
    ]
    data = {
        "answer_choice": 1,
        "explanation_md": MISATTRIBUTED,
        "confidence": "high",
        "evidence": [{"source": "D1", "quote": "제274조(자동경보장치의 설치 등)"}],
    }
    verdict = reply_guard(q, 1, MISATTRIBUTED, data, evidence)
    assert not verdict.ok
    assert verdict.code == GuardReason.PASSAGE_MISATTRIBUTED
    # The same reply without the pasted article passes the guard.
    honest = MISATTRIBUTED.split(" 제274조는")[0] + (
        " 제274조는 특수화학설비의 내부 이상 상태를 조기에 파악하기 위하여 "
        "자동경보장치를 설치하도록 합니다."
    )
    verdict = reply_guard(q, 1, honest, {**data, "explanation_md": honest}, evidence)
    assert verdict.ok, verdict


# llm_e2e run 4 (2019-3 45, 승강기의 종류에 해당하지 않는 것, key 리프트): the
# definition of 승강기 (제132조 ② 5호) given as what 리프트 is.
LIFT_CHOICES = ("리프트", "승용 승강기", "에스컬레이터", "화물용 승강기")
LIFT_REPLY = (
    '정답은 1번(리프트)입니다. [조문]은 "리프트"라고 정합니다. 리프트는 '
    "건축물이나 고정된 시설물에 설치되어 일정한 경로에 따라 사람이나 화물을 "
    "승강장으로 옮기는 데에 사용되는 설비로서 다음 각 목의 것을 말한다. "
    "마. 에스컬레이터: 일정한 경사로 또는 수평로를 따라 위ㆍ아래 또는 옆으로 "
    "움직이는 디딤판을 통해 사람이나 화물을 승강장으로 운송시키는 설비"
)


def test_another_terms_definition_given_to_a_choice_is_refused():
    passages = [article("132")]
    sentence = misattributed_passage(LIFT_REPLY, passages, LIFT_CHOICES)
    assert sentence is not None and sentence.startswith("리프트는 건축물이나")


def test_a_choices_own_definition_passes():
    passages = [article("132")]
    text = (
        "정답은 1번(리프트)입니다. 리프트는 동력을 사용하여 사람이나 화물을 "
        "운반하는 것을 목적으로 하는 기계설비로서 승강기와 따로 정의됩니다. "
        "에스컬레이터: 일정한 경사로 또는 수평로를 따라 위ㆍ아래 또는 옆으로 "
        "움직이는 디딤판을 통해 사람이나 화물을 승강장으로 운송시키는 설비입니다."
    )
    assert misattributed_passage(text, passages, LIFT_CHOICES) is None
    # without the choices, only the articles are compared
    assert misattributed_passage(LIFT_REPLY, passages) is None
