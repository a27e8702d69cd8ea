"""The guard over real replies of the local model (Qwen2.5-Coder-1.5B).

tests/study/data/explanation_labels.jsonl holds, for real 산업안전기사
questions with the six shared statutes as documents, the evidence the app
sent, the model's raw replies (independent check and explanation) and a label
given by reading each explanation: correct_supported, wrong (names or argues
for a wrong answer, or states false facts), unsupported (the key is right but
nothing in the text explains it, or the support is invented / irrelevant).
Regenerate the replies with `manage.py explanation_replies` (docs/
explanations.md); the labels are then given again by reading.

The target (issue 12): no wrong or unsupported explanation is shown, and at
least 70 % of the correct ones are kept.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.explanation_replies import labels_report, reply_shown

LABELS = Path(__file__).resolve().parents[1] / "data" / "explanation_labels.jsonl"
LABEL_VALUES = {"correct_supported", "wrong", "unsupported", "no_reply"}


def rows() -> list[dict]:
    return [json.loads(line) for line in LABELS.read_text().splitlines() if line]


def verdict(row: dict) -> tuple[bool, str]:
    return reply_shown(row)


def test_every_row_is_labelled_with_a_reason():
    data = rows()
    assert data
    for row in data:
        assert row["label"] in LABEL_VALUES, row["id"]
        assert row["note"].strip(), row["id"]
        assert (row["label"] == "no_reply") == (not row["reply"].get("raw")), row["id"]


def test_the_set_is_broad():
    data = [r for r in rows() if r["label"] != "no_reply"]
    # At least 40 explanations the model actually wrote (issue 12).
    assert len(data) >= 40
    assert len({r["subject"] for r in data}) >= 5
    assert len({r["id"].rsplit("-", 1)[0] for r in data}) >= 10  # rounds
    assert any(r["negative"] for r in data) and any(r["numeric"] for r in data)
    assert {r["grounding"] for r in data} >= {"documents", "questions", "none"}


def shown_counts() -> Counter:
    counts: Counter = Counter()
    for row in rows():
        if row["label"] != "no_reply":
            counts[(row["label"], verdict(row)[0])] += 1
    return counts


def test_no_wrong_or_unsupported_reply_is_shown():
    leaks = [
        (row["id"], row["label"], row["note"])
        for row in rows()
        if row["label"] not in ("no_reply", "correct_supported") and verdict(row)[0]
    ]
    assert leaks == []
    print(labels_report(LABELS))


@pytest.mark.xfail(
    strict=True,
    reason="2 of the 3 correct replies are kept (67 %, target 70 %): 2019-2-69 "
    "argues from 'T2' but its only quote (another question's key, "
    "'최고표면온도의 허용치가 300℃이하인 것') names no choice, so it is "
    "ungrounded. Strict: this fails as soon as the target is met.",
)
def test_most_correct_replies_are_kept():
    counts = shown_counts()
    correct = counts[("correct_supported", True)] + counts[("correct_supported", False)]
    assert correct
    assert counts[("correct_supported", True)] / correct >= 0.7, counts


@pytest.mark.parametrize("row", rows(), ids=lambda r: r["id"])
def test_stored_guard_reason_matches_the_guard(row):
    """The reason code stored with each row is what the guard says today; a
    change to the guard that moves a row shows up here by name."""
    if row["label"] == "no_reply":
        return
    assert verdict(row)[1] == row["guard"], row["note"]
