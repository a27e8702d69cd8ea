"""The repeat-kinds measure (benchmarks/repeat_kinds.py): each change is the
one it names, and the command reports every kind on real rounds."""

import random
from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command

from benchmarks.repeat_kinds import Copy, _Changes
from tests.shared_data import SHARED_EXAMS, needs_shared

QUESTION = Copy(
    stem="다음 ( ㉠ )에 해당하지 않는 것은?",
    choices=("스프링식", "중추식", "플런저식", "지렛대식"),
    correct=3,
    subject="기계",
    key="2020-1-1",
)
OTHER = Copy(
    stem="방호장치가 아닌 것은?",
    choices=("덮개", "울", "칩 브레이커", "슬라이드"),
    correct=4,
    subject="기계",
    key="2020-1-2",
)


@pytest.fixture
def changes():
    return _Changes([QUESTION, OTHER], random.Random(3))


def keyed(copy: Copy) -> str:
    return copy.choices[copy.correct - 1]


def test_each_change_is_the_one_it_names(changes):
    reordered = changes.reorder(QUESTION)
    assert reordered.choices != QUESTION.choices
    assert sorted(reordered.choices) == sorted(QUESTION.choices)
    assert keyed(reordered) == keyed(QUESTION)

    conflict = changes.conflict(QUESTION)
    assert conflict.choices == QUESTION.choices
    assert conflict.correct != QUESTION.correct

    replaced = changes.distractor(QUESTION)
    differ = [i for i in range(4) if replaced.choices[i] != QUESTION.choices[i]]
    assert len(differ) == 1 and differ[0] != QUESTION.correct - 1
    assert replaced.choices[differ[0]] in OTHER.choices

    reworded = changes.options(
        replace(QUESTION, choices=("A 및 B", "C한다.", "D", "E F"))
    )
    assert reworded.choices[0] == "A, B" and reworded.choices[2:] == ("D", "EF")
    assert reworded.choices[1] in {"C함", "C함.", "C한다"}
    assert reworded.correct == QUESTION.correct

    relabelled = changes.steps(QUESTION)
    assert relabelled is not None and "(A)" in relabelled.stem
    assert changes.steps(OTHER) is None  # no step labels to print otherwise
    hangul = changes.steps(replace(OTHER, stem="(가), (나)의 순서는?"))
    assert hangul is not None and hangul.stem == "㉠, ㉡의 순서는?"

    lost = changes.lost(QUESTION)
    assert lost.correct == QUESTION.correct
    glyphs = sum(lost.stem.count(g) for g in "□?�") - QUESTION.stem.count("?")
    assert glyphs == 2  # two letters lost
    assert lost.stem.count(" ") == QUESTION.stem.count(" ") - 2  # two spaces
    changed = [a for a, b in zip(lost.choices, QUESTION.choices, strict=True) if a != b]
    assert len(changed) == 1 and any(g in changed[0] for g in "□?�")


@needs_shared
def test_the_command_reports_every_kind_on_real_rounds(capsys):
    files = sorted(SHARED_EXAMS.glob("ind-safety-2019-*.csv"))
    call_command("measure_repeat_kinds", *map(str, files), "--sample", "6")
    out = capsys.readouterr().out
    assert "6 of " in out and "seed 2" in out
    for kind in ("reorder", "conflict", "reword", "options", "distractor", "lost"):
        assert f"| {kind} | " in out
    # Reordered options and another key are the same question, always.
    assert "| reorder | 6 / 6 | 1.000 |" in out
    assert "| conflict | 6 / 6 | 1.000 |" in out


def test_a_distractor_comes_from_another_subject_when_its_own_has_none():
    alone = _Changes([QUESTION, replace(OTHER, subject="전기")], random.Random(1))
    changed = alone.distractor(QUESTION)
    assert changed is not None and changed.choices != QUESTION.choices
    assert _Changes([QUESTION], random.Random(1)).distractor(QUESTION) is None


def test_the_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("measure_repeat_kinds", str(tmp_path / "none.csv"))
