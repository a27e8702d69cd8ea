"""Memory models for simulated learners, as arrays (learners × items).

The forecast assumes FSRS-6. To see it being wrong, simulated learners may
remember by other models from the literature:

- ``fsrs``: FSRS-6 with py-fsrs' default parameters and a per-learner factor
  on every stability (how fast this learner forgets), as before.
- ``actr``: ACT-R declarative memory with the spacing effect (Pavlik &
  Anderson 2005, "Practice and forgetting effects on vocabulary memory: an
  activation-based model of the spacing effect"). Every study leaves a trace;
  activation m(t) = ln Σ_j (t − t_j)^(−d_j), and a trace's decay grows with
  the activation when it was laid down, d_j = c·e^(m(t_j)) + a, with a
  per-learner decay intercept a (some learners forget faster). Recall with
  P = 1 / (1 + e^((τ − m)/s)).
- ``hlr``: half-life regression (Settles & Meeder 2016, "A trainable spaced
  repetition model for language learning"): P = 2^(−Δ/h), h = 2^(θ·x), with
  x the learner's right and wrong answers to the item (√(1 + n)), the item's
  own difficulty and a per-learner bias.

Days are the unit of time. The arrays are updated in place for a batch of
(learner, item) pairs at once, so a day of every learner is a few numpy calls.
FSRS here is py-fsrs' review_card with no learning steps, written for arrays
(checked against py-fsrs in the tests); it also serves the simulation's copy
of what the app sees.
"""

from __future__ import annotations

import numpy as np
from fsrs.scheduler import DEFAULT_PARAMETERS

W = np.array(DEFAULT_PARAMETERS, dtype=float)
DECAY = W[20]
FACTOR = 0.9 ** (-1 / DECAY) - 1
STABILITY_MIN = 0.001


def fsrs_initial(good: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(stability, difficulty) after a first answer (Good or Again)."""
    rating = np.where(good, 3.0, 1.0)
    stability = np.where(good, W[2], W[0])
    difficulty = np.clip(W[4] - np.exp(W[5] * (rating - 1)) + 1, 1.0, 10.0)
    return stability, difficulty


def fsrs_review(
    stability: np.ndarray,
    difficulty: np.ndarray,
    elapsed: np.ndarray,
    good: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """py-fsrs' review of a card in the Review state (whole days elapsed)."""
    days = np.floor(np.maximum(elapsed, 0.0))
    rating = np.where(good, 3.0, 1.0)
    r = (1 + FACTOR * days / stability) ** (-DECAY)
    recall = stability * (
        1
        + np.exp(W[8])
        * (11 - difficulty)
        * stability ** (-W[9])
        * (np.exp((1 - r) * W[10]) - 1)
    )
    forget = np.minimum(
        W[11]
        * difficulty ** (-W[12])
        * ((stability + 1) ** W[13] - 1)
        * np.exp((1 - r) * W[14]),
        stability / np.exp(W[17] * W[18]),
    )
    growth = np.exp(W[17] * (rating - 3 + W[18])) * stability ** (-W[19])
    short = stability * np.where(good, np.maximum(growth, 1.0), growth)
    new_stability = np.where(days < 1, short, np.where(good, recall, forget))
    easy = W[4] - np.exp(W[5] * 3) + 1
    damped = difficulty + (10 - difficulty) * (-W[6] * (rating - 3)) / 9
    new_difficulty = np.clip(W[7] * easy + (1 - W[7]) * damped, 1.0, 10.0)
    return np.maximum(new_stability, STABILITY_MIN), new_difficulty


def fsrs_retrievability(stability: np.ndarray, elapsed: np.ndarray) -> np.ndarray:
    return (1 + FACTOR * np.maximum(elapsed, 0.0) / stability) ** (-DECAY)


def fsrs_interval(stability: np.ndarray, desired_retention: float) -> np.ndarray:
    """py-fsrs' next interval in whole days (≥ 1)."""
    days = stability / FACTOR * (desired_retention ** (-1 / DECAY) - 1)
    return np.maximum(np.round(days), 1.0)


class MemoryModel:
    """A learner population's true memory of items: recall and study."""

    name = ""

    def __init__(self, learners: int, items: int, rng: np.random.Generator) -> None:
        self.seen = np.zeros((learners, items), dtype=bool)

    def recall(self, learner: np.ndarray, item: np.ndarray, at: float) -> np.ndarray:
        raise NotImplementedError

    def study(
        self,
        learner: np.ndarray,
        item: np.ndarray,
        at: float,
        recalled: np.ndarray,
        known_before: np.ndarray,
    ) -> None:
        """Each pair answered at `at` with the key shown after (a study).
        known_before: first sight of an item the learner already knew."""
        raise NotImplementedError


class FsrsMemory(MemoryModel):
    name = "fsrs"

    def __init__(self, learners: int, items: int, rng: np.random.Generator) -> None:
        super().__init__(learners, items, rng)
        self.factor = np.exp(rng.normal(0.0, 0.4, size=learners))
        self.stability = np.ones((learners, items))
        self.difficulty = np.full((learners, items), 5.0)
        self.last = np.zeros((learners, items))

    def recall(self, learner: np.ndarray, item: np.ndarray, at: float) -> np.ndarray:
        return fsrs_retrievability(
            self.stability[learner, item] * self.factor[learner],
            at - self.last[learner, item],
        )

    def study(
        self,
        learner: np.ndarray,
        item: np.ndarray,
        at: float,
        recalled: np.ndarray,
        known_before: np.ndarray,
    ) -> None:
        first = ~self.seen[learner, item]
        s0, d0 = fsrs_initial(recalled)
        s1, d1 = fsrs_review(
            self.stability[learner, item],
            self.difficulty[learner, item],
            at - self.last[learner, item],
            recalled,
        )
        self.stability[learner, item] = np.where(first, s0, s1)
        self.difficulty[learner, item] = np.where(first, d0, d1)
        self.last[learner, item] = at
        self.seen[learner, item] = True


class ActrMemory(MemoryModel):
    """Pavlik & Anderson (2005) with days as the unit of time."""

    name = "actr"
    TRACES = 16  # the most recent traces kept per item (older ones add little)
    SPACING = 0.2  # c: decay grows with the activation at study (massed practice)
    THRESHOLD = -0.6  # τ
    NOISE = 0.35  # s
    LAG = 0.01  # days added to every age (a trace is never infinitely strong)
    PRIOR_AGE = 30.0  # a question known at first sight: a trace this old

    def __init__(self, learners: int, items: int, rng: np.random.Generator) -> None:
        super().__init__(learners, items, rng)
        self.intercept = rng.uniform(0.18, 0.4, size=learners)  # a, per learner
        self.times = np.full((learners, items, self.TRACES), np.nan)
        self.decays = np.zeros((learners, items, self.TRACES))
        self.count = np.zeros((learners, items), dtype=int)

    def activation(
        self, learner: np.ndarray, item: np.ndarray, at: float
    ) -> np.ndarray:
        ages = at - self.times[learner, item] + self.LAG
        with np.errstate(invalid="ignore"):
            strength = np.where(
                np.isnan(ages),
                0.0,
                np.maximum(ages, self.LAG) ** -self.decays[learner, item],
            ).sum(axis=-1)
        with np.errstate(divide="ignore"):
            return np.log(strength)

    def recall(self, learner: np.ndarray, item: np.ndarray, at: float) -> np.ndarray:
        m = self.activation(learner, item, at)
        return 1 / (1 + np.exp((self.THRESHOLD - m) / self.NOISE))

    def _add(
        self,
        learner: np.ndarray,
        item: np.ndarray,
        at_times: np.ndarray,
        activation: np.ndarray,
    ) -> None:
        decay = (
            self.SPACING * np.exp(np.minimum(activation, 3.0)) + self.intercept[learner]
        )
        slot = self.count[learner, item] % self.TRACES
        self.times[learner, item, slot] = at_times
        self.decays[learner, item, slot] = decay
        self.count[learner, item] += 1

    def study(
        self,
        learner: np.ndarray,
        item: np.ndarray,
        at: float,
        recalled: np.ndarray,
        known_before: np.ndarray,
    ) -> None:
        prior = known_before & ~self.seen[learner, item]
        if prior.any():
            self._add(
                learner[prior],
                item[prior],
                np.full(prior.sum(), at - self.PRIOR_AGE),
                np.full(prior.sum(), -np.inf),
            )
        self._add(
            learner, item, np.full(learner.size, at), self.activation(learner, item, at)
        )
        self.seen[learner, item] = True


class HlrMemory(MemoryModel):
    """Settles & Meeder (2016): half-life 2^(θ·x) days."""

    name = "hlr"
    RIGHT = 2.5  # θ for √(1 + right answers)
    WRONG = -0.5  # θ for √(1 + wrong answers)
    DIFFICULTY = -0.7  # θ for the item's difficulty (standard normal per item)

    def __init__(self, learners: int, items: int, rng: np.random.Generator) -> None:
        super().__init__(learners, items, rng)
        self.bias = rng.normal(-0.5, 0.5, size=learners)  # per learner
        self.item_difficulty = rng.normal(0.0, 1.0, size=items)
        self.right = np.zeros((learners, items))
        self.wrong = np.zeros((learners, items))
        self.last = np.zeros((learners, items))

    def half_life(self, learner: np.ndarray, item: np.ndarray) -> np.ndarray:
        return 2.0 ** (
            self.bias[learner]
            + self.RIGHT * np.sqrt(1 + self.right[learner, item])
            + self.WRONG * np.sqrt(1 + self.wrong[learner, item])
            + self.DIFFICULTY * self.item_difficulty[item]
        )

    def recall(self, learner: np.ndarray, item: np.ndarray, at: float) -> np.ndarray:
        lag = np.maximum(at - self.last[learner, item], 0.0)
        return 2.0 ** (-lag / self.half_life(learner, item))

    def study(
        self,
        learner: np.ndarray,
        item: np.ndarray,
        at: float,
        recalled: np.ndarray,
        known_before: np.ndarray,
    ) -> None:
        self.right[learner, item] += recalled
        self.wrong[learner, item] += ~recalled
        self.last[learner, item] = at
        self.seen[learner, item] = True


MODELS: dict[str, type[MemoryModel]] = {
    cls.name: cls for cls in (FsrsMemory, ActrMemory, HlrMemory)
}
