"""Every row of the pattern-rule table, and the window bookkeeping."""

import pytest

from study.models import Pattern
from study.services.patterns import (
    PATTERN_RULES,
    History,
    history_push,
    pattern_classify,
)

C, W, U = "correct", "wrong", "unsure"

CASES = [
    # window (oldest first), correct before, wrong before -> pattern
    ((), False, False, Pattern.UNATTEMPTED),
    ((W, W), False, False, Pattern.CHRONIC_WRONG),
    ((C, W, W), False, False, Pattern.CHRONIC_WRONG),  # chronic beats regressed
    ((W, U, W), False, False, Pattern.CHRONIC_WRONG),
    ((W, W, U), True, False, Pattern.CHRONIC_WRONG),
    ((C, W), False, False, Pattern.REGRESSED),
    ((U, C, W), False, False, Pattern.REGRESSED),
    ((W,), True, False, Pattern.REGRESSED),  # correct before the window counts
    ((W,), False, False, Pattern.UNSTABLE),  # one wrong alone is never regressed
    ((U, W), False, False, Pattern.UNSTABLE),
    ((C, C, C), False, True, Pattern.STABLE),
    ((C, C, C), False, False, Pattern.STABLE),
    ((W, C, C), False, False, Pattern.RECOVERED),
    ((W, W, C), False, False, Pattern.RECOVERED),  # last correct: not chronic
    ((U, C), False, False, Pattern.RECOVERED),
    ((C, C), False, True, Pattern.RECOVERED),
    ((U,), False, False, Pattern.UNSURE),
    ((C, U), False, False, Pattern.UNSURE),
    ((C,), False, False, Pattern.UNSTABLE),
    ((C, C), False, False, Pattern.UNSTABLE),  # stable needs three in a row
]


@pytest.mark.parametrize(
    ("window", "correct_before", "wrong_before", "expected"), CASES
)
def test_pattern_rules(window, correct_before, wrong_before, expected):
    assert pattern_classify(History(window, correct_before, wrong_before)) == expected


def test_every_rule_is_exercised():
    used = {case[3] for case in CASES}
    assert used == {rule[0] for rule in PATTERN_RULES}


def test_history_push_keeps_three_and_remembers_what_fell_out():
    h = History(())
    for outcome in (W, C, C, C):
        h = history_push(h.window, h.correct_before, h.wrong_before, outcome)
    assert h.window == (C, C, C) and h.wrong_before and not h.correct_before
    h = history_push(h.window, h.correct_before, h.wrong_before, W)
    assert h.window == (C, C, W) and h.correct_before
    assert pattern_classify(h) == Pattern.REGRESSED
