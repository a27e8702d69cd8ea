"""The choice check on real questions against the real statute text
(../shared/data): a choice that states a provision in another order, or
next to another item's 금지, is not "조문과 다름"; an opposite in the same
clause still is."""

from __future__ import annotations

import csv
from functools import cache

import pytest

from study.documents.chunking import split_front_matter
from study.documents.extraction import normalise_text
from study.documents.services import split_chunks
from study.evidence.check import (
    ABSENT,
    DIFFER,
    MATCH,
    Check,
    PassageText,
    QuestionText,
    check_choices,
)
from study.evidence.passages import article_text
from tests.shared_data import SHARED_DOCUMENTS, SHARED_EXAMS, needs_shared

pytestmark = needs_shared
RULES = "산업안전보건기준에관한규칙"


@cache
def _articles(document: str) -> dict[str, str]:
    """article key → the article as the card puts it together from its
    stored chunks."""
    text = (SHARED_DOCUMENTS / f"{document}.md").read_text("utf-8")
    _, body = split_front_matter(normalise_text(text))
    chunks: dict[str, list[str]] = {}
    for chunk in split_chunks(body):
        if chunk.article:
            chunks.setdefault(chunk.article, []).append(chunk.text)
    return {
        key: article_text(texts, heading=texts[0].split("\n")[0])
        for key, texts in chunks.items()
    }


def _question(round_id: str) -> QuestionText:
    year, session, number = round_id.split("-")
    for path in sorted(SHARED_EXAMS.glob(f"ind-safety-{year}-*.csv")):
        with path.open(encoding="utf-8") as rows:
            for row in csv.DictReader(rows):
                if (row["Session"], row["Number"]) == (session, number):
                    return QuestionText(
                        stem=row["Question"],
                        choices=tuple(row[f"Option {n}"] for n in range(1, 5)),
                        accepted=frozenset({int(row["Answer"])}),
                    )
    raise AssertionError(f"{round_id} is not in the shared rounds")


def _check(round_id: str, *articles: str) -> Check:
    passages = [PassageText(citation=a, text=_articles(RULES)[a]) for a in articles]
    return check_choices(_question(round_id), passages)


def _marks(check: Check) -> list[str]:
    return [m.mark for m in check.marks]


def test_a_choice_stating_an_item_in_another_order_is_not_marked_different():
    """2019-3-42 choice 3 says 제222조 3호 in another order ("다른 작업자가
    작동시킬 수 없도록 기동스위치에 작업 중 표시를 한다"): its 수 없도록 is the
    호's own, later in the sentence, so it neither differs by negation nor by
    the words between. Choice 4 ("계속해서 로봇을 운전한다" where 2호 says
    stop it) still differs."""
    check = _check("2019-3-42", "제222조", "제224조", "제223조", "제40조")
    marks = _marks(check)
    assert marks[2] != DIFFER
    assert marks[0] == MATCH and marks[3] == DIFFER
    assert check.verdict in (None, 4)  # never another choice than the key


@pytest.mark.parametrize(
    ("round_id", "choice", "key"), [("2017-3-118", 1, 3), ("2020-1,2-115", 3, 1)]
)
def test_the_next_items_prohibition_is_not_the_choices_negation(
    round_id: str, choice: int, key: int
):
    """ "수직보호망 설치" is 제14조 ②: "낙하물 방지망, 수직보호망 또는 방호선반의
    설치, 출입금지구역의 설정": the 금지 after the comma belongs to the next
    item, so the choice matches and the list question singles out its key."""
    check = _check(round_id, "제14조")
    assert _marks(check)[choice - 1] == MATCH
    assert check.verdict == key


def test_a_condition_before_the_stated_words_is_not_read_as_their_negation():
    """2019-2-47 choice 1 "조명이 없는 장소에서 작업 시 전조등과 후미등을 갖출
    것" against 제184조 4호 "전조등과 후미등을 갖출 것. 다만, … 조명이 있는
    장소에서 … 그러하지 아니하다": the choice's 없는 qualifies words the line
    does not align, so it is no negation of what the 호 states."""
    check = _check("2019-2-47", "제184조")
    assert _marks(check)[0] != DIFFER
    assert check.verdict in (None, 3)


def test_an_opposite_in_the_same_clause_still_differs():
    """ "쉽게 이탈되도록" against 제283조 "쉽게 이탈되지 않도록 할 것"."""
    check = _check("2017-1-92", "제283조")
    assert _marks(check)[1] == DIFFER
    assert check.verdict == 2


def test_a_moved_clause_with_the_opposite_negation_is_not_stated():
    """The same words as 2019-3-42 choice 3 with the negation turned
    ("작동시킬 수 있도록"): the line says 수 없도록, so the clause is not
    read as the item's in another order, and the choice is never a match."""
    q = _question("2019-3-42")
    turned = q.choices[2].replace("수 없도록", "수 있도록")
    assert turned != q.choices[2]
    choices = (q.choices[0], q.choices[1], turned, q.choices[3])
    check = check_choices(
        QuestionText(q.stem, choices, q.accepted),
        [PassageText("제222조", _articles(RULES)["제222조"])],
    )
    assert check.marks[2].mark in (DIFFER, ABSENT)
    assert check.verdict is None
