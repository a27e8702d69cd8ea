"""The 개정 flag of one question from two versions' articles (pure)."""

from __future__ import annotations

from study.amendments.compare import Article, word_diff
from study.amendments.detect import Pool, detect
from study.evidence.check import QuestionText

ACT = "산업안전보건법 시행규칙"

PLAN_THEN = (
    "제131조(안전보건개선계획 수립대상 사업장 등)\n"
    "③ 법 제50조제1항에 따른 안전보건개선계획의 수립ㆍ시행명령을 받은 사업주는 "
    "고용노동부장관이 정하는 바에 따라 안전보건개선계획서를 작성하여 그 명령을 "
    "받은 날부터 60일 이내에 관할 지방고용노동관서의 장에게 제출하여야 한다."
)
PLAN_RENUMBERED = (
    "제61조(안전보건개선계획의 제출 등)\n"
    "① 법 제50조제1항에 따른 안전보건개선계획의 수립ㆍ시행명령을 받은 사업주는 "
    "고용노동부장관이 정하는 바에 따라 안전보건개선계획서를 작성하여 그 명령을 "
    "받은 날부터 60일 이내에 관할 지방고용노동관서의 장에게 제출해야 한다."
)
PLAN_SHORTER = PLAN_RENUMBERED.replace("60일 이내", "30일 이내")
OTHER = (
    "제3조(적용범위)\n① 이 규칙은 사업의 종류와 규모에 따라 적용한다. "
    "상시 근로자 5명 미만의 사업에는 적용하지 아니한다."
)

QUESTION = QuestionText(
    stem=(
        "산업안전보건법상 안전보건개선계획의 수립ㆍ시행명령을 받은 사업주는 "
        "고용노동부장관이 정하는 바에 따라 안전보건개선계획서를 작성하여 그 "
        "명령을 받은 날부터 며칠 이내에 관할 지방고용노동관서의 장에게 "
        "제출해야 하는가?"
    ),
    choices=("15일", "30일", "45일", "60일"),
    accepted=frozenset({4}),
)


def _article(document_id: int, text: str) -> Article:
    heading = text.split("\n")[0]
    return Article(
        document_id=document_id,
        document=ACT,
        article=heading.split("(")[0],
        heading=heading,
        text=text,
    )


def _pool(document_id: int, *texts: str) -> Pool:
    return Pool([_article(document_id, t) for t in (OTHER, *texts)])


def test_a_renumbered_article_that_reads_the_same_is_unchanged() -> None:
    found = detect(QUESTION, then=_pool(1, PLAN_THEN), now=_pool(2, PLAN_RENUMBERED))
    assert found.status == "unchanged"
    assert found.then is not None and found.then.article == "제131조"
    assert found.now is not None and found.now.article == "제61조"  # by content
    assert found.key_now == 4
    assert not found.flagged


def test_a_changed_value_flags_the_question_with_todays_key() -> None:
    found = detect(QUESTION, then=_pool(1, PLAN_THEN), now=_pool(2, PLAN_SHORTER))
    assert found.status == "changed"
    assert found.reason == "marks_differ"
    assert found.key_then == 4
    assert found.key_now == 2
    data = found.data()
    changed_then = [t for t, changed in data["then"]["parts"] if changed]
    changed_now = [t for t, changed in data["now"]["parts"] if changed]
    assert any("60일" in t for t in changed_then)
    assert any("30일" in t for t in changed_now)


def test_a_provision_no_article_states_today_is_gone() -> None:
    found = detect(QUESTION, then=_pool(1, PLAN_THEN), now=_pool(2))
    assert found.status == "gone"
    assert found.flagged
    assert found.now is None


def test_no_deciding_article_then_is_unknown() -> None:
    found = detect(QUESTION, then=_pool(1), now=_pool(2, PLAN_SHORTER))
    assert found.status == "unknown"
    assert found.reason == "no_passage"


def test_the_same_version_then_and_now_is_unchanged() -> None:
    pool = _pool(1, PLAN_THEN)
    found = detect(QUESTION, then=pool, now=pool)
    assert (found.status, found.reason) == ("unchanged", "same_version")


def test_word_diff_marks_only_the_changed_words() -> None:
    left, right = word_diff("받은 날부터 60일 이내에", "받은 날부터 30일 이내에")
    assert [t for t, c in left if c] == ["60일"]
    assert [t for t, c in right if c] == ["30일"]
    assert "".join(t for t, _ in right) == "받은 날부터 30일 이내에"
