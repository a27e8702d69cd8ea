"""The labelled set of old questions read against the text in force on their
exam date and today's (tests/study/data/amendment_labels.jsonl): every quote
is verbatim in the version and article it names, read from the shared
history folder, and every label is one the measurement knows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.shared_data import SHARED_DOCUMENTS, needs_shared

LABELS = Path(__file__).resolve().parents[1] / "data" / "amendment_labels.jsonl"
FOLDERS = {
    "산업안전보건법": "산업안전보건법",
    "산업안전보건법 시행령": "산업안전보건법-시행령",
    "산업안전보건법 시행규칙": "산업안전보건법-시행규칙",
    "산업안전보건기준에 관한 규칙": "산업안전보건기준에관한규칙",
}
_HEADING = re.compile(r"^#####\s+(제\d+조(?:의\d+)?)", re.MULTILINE)


def _rows() -> list[dict]:
    return [json.loads(line) for line in LABELS.read_text("utf-8").splitlines()]


def _article(document: str, version: str, article: str) -> str:
    path = SHARED_DOCUMENTS / "history" / FOLDERS[document] / f"{version}.md"
    text = path.read_text("utf-8")
    starts = [(m.group(1), m.start()) for m in _HEADING.finditer(text)]
    for i, (number, at) in enumerate(starts):
        if number == article:
            end = starts[i + 1][1] if i + 1 < len(starts) else len(text)
            return re.sub(r"\s+", " ", text[at:end])
    raise AssertionError(f"{document} {version} has no {article}")


def test_it_labels_enough_questions_across_the_rewrite() -> None:
    rows = _rows()
    assert len(rows) >= 50
    assert len({r["question"] for r in rows}) == len(rows)
    labels = {r["label"] for r in rows}
    assert labels == {"unchanged", "changed", "gone"}
    years = {int(r["question"].split("-")[0]) for r in rows}
    assert years == {2016, 2017, 2018, 2019, 2020}
    assert sum(r["label"] != "unchanged" for r in rows) >= 10


@needs_shared
@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["question"])
def test_it_quotes_each_version_verbatim(row: dict) -> None:
    then = row["then"]
    assert then["version"][:10] <= row["exam_date"]
    quote = re.sub(r"\s+", " ", then["quote"])
    assert quote in _article(then["document"], then["version"], then["article"])
    now = row["now"]
    if row["label"] == "gone":
        assert now is None
        return
    quote = re.sub(r"\s+", " ", now["quote"])
    assert quote in _article(now["document"], now["version"], now["article"])
    if row["label"] == "unchanged":
        assert row["decided_then"] == row["decided_now"]
