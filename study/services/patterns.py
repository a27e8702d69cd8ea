"""Learning-pattern classes from the last three attempts and earlier history.

The rules are a table, evaluated top to bottom; the first match wins. The
window holds the last three pieces of evidence, oldest first, and the two
flags say whether a correct / wrong answer exists before the window.

One piece of evidence per question per day (local time): answers to a question
on the day it was last answered merge into that day's entry, which keeps the
worst outcome of the day (wrong > unsure > correct). Three wrong answers in one
evening are one bad day, not a chronic habit, and a right answer minutes after
reading the key does not undo the wrong one before it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from study.models import Outcome, Pattern

C, W, U = Outcome.CORRECT, Outcome.WRONG, Outcome.UNSURE
WINDOW = 3


@dataclass(frozen=True)
class History:
    window: tuple[str, ...]
    correct_before: bool = False
    wrong_before: bool = False

    @property
    def last(self) -> str | None:
        return self.window[-1] if self.window else None

    def wrong_in_window(self) -> int:
        return sum(1 for o in self.window if o == W)

    def correct_earlier(self) -> bool:
        return self.correct_before or C in self.window[:-1]

    def not_correct_earlier(self) -> bool:
        return self.wrong_before or any(o != C for o in self.window[:-1])

    def correct_streak(self) -> int:
        streak = 0
        for outcome in reversed(self.window):
            if outcome != C:
                break
            streak += 1
        return streak


Rule = tuple[Pattern, str, Callable[[History], bool]]

# (class, when, predicate) — priority chronic_wrong > regressed > recovered.
PATTERN_RULES: tuple[Rule, ...] = (
    (Pattern.UNATTEMPTED, "no attempts", lambda h: not h.window),
    (
        Pattern.CHRONIC_WRONG,
        "2+ wrong in the last 3 and the last is not correct",
        lambda h: h.wrong_in_window() >= 2 and h.last != C,
    ),
    (
        Pattern.REGRESSED,
        "last is wrong and a correct answer exists earlier",
        lambda h: h.last == W and h.correct_earlier(),
    ),
    (Pattern.STABLE, "the last 3 are correct", lambda h: h.correct_streak() >= WINDOW),
    (
        Pattern.RECOVERED,
        "last is correct after a wrong or unsure answer",
        lambda h: h.last == C and h.not_correct_earlier(),
    ),
    (Pattern.UNSURE, "last is unsure", lambda h: h.last == U),
    (
        Pattern.UNSTABLE,
        "anything else (e.g. one wrong, one or two correct)",
        lambda h: True,
    ),
)


def pattern_classify(history: History) -> Pattern:
    for pattern, _when, predicate in PATTERN_RULES:
        if predicate(history):
            return pattern
    raise AssertionError("the last rule always matches")


SEVERITY: dict[str, int] = {C: 0, U: 1, W: 2}


def history_merge_same_day(
    window: Sequence[str], correct_before: bool, wrong_before: bool, outcome: str
) -> History:
    """Fold another answer of the same day into the window's last entry."""
    if not window:
        return history_push(window, correct_before, wrong_before, outcome)
    last = max(window[-1], outcome, key=lambda o: SEVERITY[o])
    return History((*window[:-1], last), correct_before, wrong_before)


def history_push(
    window: Sequence[str], correct_before: bool, wrong_before: bool, outcome: str
) -> History:
    """Append an outcome; what falls out of the window feeds the 'before' flags."""
    items = [*window, outcome]
    while len(items) > WINDOW:
        dropped = items.pop(0)
        correct_before = correct_before or dropped == C
        wrong_before = wrong_before or dropped == W
    return History(tuple(items), correct_before, wrong_before)
