"""The pass forecast: P(correct) per question → score per subject → P(합격).

A learner's exam is a paper drawn like the real one: for each subject of the
exam spec, ``n`` questions. Every question of the bank gets

    p = R + (1 − R) · 1/4          if the learner has studied it, where R is its
                                   FSRS retrievability on the exam date
    p = a_subject (≥ 1/4)          otherwise: the learner's accuracy on questions
                                   of that subject they saw for the first time

and a weight from how often questions like it recur across rounds (the repeat
grades): a 단골 question is likelier to be on the paper than a one-off.

The learner keeps studying until the exam: at the pace of the last two weeks
(new questions per day, per subject), the highest-weighted questions not yet
seen are met before the exam, half-way on average, and are then remembered
like the questions already studied in that subject (their median stability).

A subject's ``n`` questions are ``n`` slots, each a question drawn from the
subject's bank with its weight, so each slot is right with the weighted mean
p of the bank. The number right is the sum of the slots — a Poisson-binomial
distribution, computed exactly by dynamic programming (the slots of a paper
that is already drawn, e.g. a mock, carry their own p). Subjects are
independent; P(합격) sums the joint probability of every score combination in
which each subject is ≥ 40 and the mean is ≥ 60.

Uncertainty: the unseen-question accuracy of each subject is a Beta posterior,
and the memory model may be off for this learner: a factor on all FSRS
stabilities, with a log-normal prior, whose posterior is computed from how the
learner's own repeat answers went against what FSRS predicted for them
(``memory_posterior``). The forecast averages P(합격) over seeded draws of
both; the 10th and 90th percentiles of the draws are the interval shown.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from study.exam_rules import PASS_AVERAGE_MIN, PASS_SUBJECT_MIN
from study.forecast.papers import NO_NEW_QUESTIONS, NewShare

GUESS = 0.25  # four choices; a learner who does not know still guesses
# FSRS-6 default forgetting curve, R(t) = (1 + FACTOR·t/S)^(−DECAY), as py-fsrs.
FSRS_DECAY = 0.1542
FSRS_FACTOR = 0.9 ** (-1 / FSRS_DECAY) - 1
# Unseen-question accuracy prior: a learner who has answered nothing yet.
PRIOR_MEAN = 0.40
PRIOR_STRENGTH = 10.0  # pseudo-answers behind the learner-wide mean
SUBJECT_STRENGTH = 8.0  # pseudo-answers pulling a subject to the learner mean
# The memory model's own uncertainty for one learner: σ of log-stability.
MEMORY_LOG_SD = 0.35
# How far the memory model is off for this learner in one subject: a shift
# on the logit scale of what memory gives (the studied questions). Its prior
# is a scale mixture: usually small (SHIFT_SD), now and then large
# (SHIFT_WIDE_SD, e.g. a learner who forgets far faster than FSRS says), so
# that a routine mock moves it little and a surprising one — a subject failed
# on questions the model thought known — moves it far. Mocks and whole rounds
# the learner sat (Sittings) are its evidence.
SHIFT_SD = 0.3
SHIFT_WIDE_SD = 1.0
SHIFT_WIDE_SHARE = 0.2
SHIFT_GRID = np.linspace(-4.0, 4.0, 161)
DRAWS = 64
TYPICAL_STABILITY = 1.0  # days; for a subject with nothing studied yet
INTERVAL = (0.10, 0.90)
SEED = 20261129


def recurrence_weight(round_count: int) -> float:
    """Weight of a question on a drawn paper by its repeat grade (rounds seen in)."""
    if round_count >= 7:  # 단골
        return 3.0
    if round_count >= 5:  # 잘 나오는 반복 출제
        return 2.5
    if round_count >= 3:  # 반복 출제
        return 2.0
    if round_count == 2:  # 신출 / 빈출
        return 1.5
    return 1.0


def retrievability(stability: ArrayLike, elapsed_days: ArrayLike) -> np.ndarray:
    """FSRS forgetting curve (vectorised); elapsed < 0 counts as just reviewed."""
    t = np.maximum(np.asarray(elapsed_days, dtype=float), 0.0)
    return (1.0 + FSRS_FACTOR * t / np.asarray(stability, dtype=float)) ** (-FSRS_DECAY)


def p_from_retrievability[R: (np.ndarray, float)](r: R) -> R:
    return r + (1.0 - r) * GUESS


@dataclass(frozen=True)
class SubjectInput:
    """One subject of the exam: its question count and the learner's bank."""

    name: str
    questions: int
    weights: np.ndarray  # per bank question
    stability: np.ndarray  # days; NaN when never studied
    last_review_day: np.ndarray  # day number of the last answer; NaN if unseen
    unseen_correct: float = 0.0  # first answers: correct + 1/4 per 모르겠음
    unseen_answered: int = 0
    pace: float = 0.0  # new questions of this subject per day, lately
    # The share of the real paper's questions that no round asked before.
    new_share: NewShare = NO_NEW_QUESTIONS
    # Mocks and whole rounds the learner sat: direct evidence of the shift.
    sittings: tuple[Sitting, ...] = ()

    @classmethod
    def build(
        cls,
        name: str,
        questions: int,
        rows: Sequence[tuple[float, float | None, float | None]] = (),
        unseen_correct: float = 0.0,
        unseen_answered: int = 0,
        pace: float = 0.0,
        new_share: NewShare = NO_NEW_QUESTIONS,
        sittings: Sequence[Sitting] = (),
    ) -> SubjectInput:
        """rows: (weight, stability or None, last review day or None)."""
        nan = float("nan")
        return cls(
            name=name,
            questions=questions,
            weights=np.array([r[0] for r in rows], dtype=float),
            stability=np.array(
                [nan if r[1] is None else r[1] for r in rows], dtype=float
            ),
            last_review_day=np.array(
                [nan if r[2] is None else r[2] for r in rows], dtype=float
            ),
            unseen_correct=unseen_correct,
            unseen_answered=unseen_answered,
            pace=pace,
            new_share=new_share,
            sittings=tuple(sittings),
        )

    @property
    def studied(self) -> np.ndarray:
        return ~np.isnan(self.stability)


@dataclass(frozen=True)
class Sitting:
    """One subject of a mock or a whole round the learner sat, and what the
    model would have said of it just before: the sum of P(right) over the
    questions the learner had studied (from memory), how many they had never
    seen (at the learner's first-sight accuracy, as now estimated), and what
    happened (right answers; a 모르겠음 counts 1/4, as on the real exam, where
    a question not known is guessed). Older sittings weigh less."""

    remembered: float
    unseen: int
    right: float
    asked: int
    weight: float = 1.0

    def predicted(
        self, accuracy: float, shift: np.ndarray | float = 0.0
    ) -> np.ndarray | float:
        """The expected share right, the memory part moved by `shift`."""
        studied = self.asked - self.unseen
        memory = (
            shifted(self.remembered / studied, shift) * studied if studied > 0 else 0.0
        )
        return (memory + self.unseen * max(accuracy, GUESS)) / max(self.asked, 1)


def _logit(p: np.ndarray | float) -> np.ndarray:
    q = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(q / (1 - q))


def _normal_on_grid(sd: float) -> np.ndarray:
    density = np.exp(-0.5 * (SHIFT_GRID / sd) ** 2)
    return density / density.sum()


def shift_prior() -> np.ndarray:
    return (1 - SHIFT_WIDE_SHARE) * _normal_on_grid(
        SHIFT_SD
    ) + SHIFT_WIDE_SHARE * _normal_on_grid(SHIFT_WIDE_SD)


def shift_posterior(sittings: Sequence[Sitting], accuracy: float) -> np.ndarray:
    """Posterior weights over SHIFT_GRID for one subject, from its sittings:
    right answers ~ Binomial(asked, predicted), the memory part of the
    prediction moved by the shift, the rest at the learner's first-sight
    accuracy as now estimated (so what that estimate explains is no evidence
    that memory is off)."""
    log_post = np.log(shift_prior())
    for sitting in sittings:
        if sitting.asked <= sitting.unseen:
            continue  # nothing from memory: first-sight accuracy's evidence
        q = np.clip(sitting.predicted(accuracy, SHIFT_GRID), 1e-9, 1 - 1e-9)
        log_post += sitting.weight * (
            sitting.right * np.log(q) + (sitting.asked - sitting.right) * np.log1p(-q)
        )
    weights = np.exp(log_post - log_post.max())
    return weights / weights.sum()


SITTING_HALF_LIFE = 21.0  # days: a sitting three weeks old counts half
SITTING_WINDOW = 120.0  # days: older sittings are not evidence any more
SITTING_MAX = 8  # the most recent sittings count


def sitting_weight(age_days: float) -> float:
    return 0.5 ** (max(age_days, 0.0) / SITTING_HALF_LIFE)


def sitting_memory(
    stability: np.ndarray,
    last_review_day: np.ndarray,
    *,
    at_day: float,
    memory: float,
) -> tuple[float, int]:
    """Of one subject's questions of a sitting, just before it: the sum of
    P(right) over those studied (from memory; NaN stability: never seen) and
    how many were never seen."""
    stability = np.asarray(stability, dtype=float)
    studied = ~np.isnan(stability)
    if not studied.any():
        return 0.0, int(stability.size)
    r = retrievability(
        stability[studied] * memory,
        at_day - np.asarray(last_review_day, dtype=float)[studied],
    )
    return float(p_from_retrievability(r).sum()), int((~studied).sum())


def memory_mean(weights: np.ndarray) -> float:
    """The posterior mean (geometric) of the learner's stability factor."""
    return float(np.exp((np.log(MEMORY_GRID) * weights).sum()))


def shift_mean(sittings: Sequence[Sitting], accuracy: float) -> float:
    if not sittings:
        return 0.0
    return float((shift_posterior(sittings, accuracy) * SHIFT_GRID).sum())


def shifted(p: np.ndarray | float, shift: np.ndarray | float) -> np.ndarray:
    """A subject's mean P(right) moved by a logit shift (never below a guess)."""
    return np.clip(1 / (1 + np.exp(-(_logit(p) + shift))), GUESS, 1.0)


MEMORY_GRID = np.exp(np.linspace(-2.0, 2.0, 41))


@dataclass(frozen=True)
class MemoryEvidence:
    """Repeat answers: the FSRS stability before each, days since the previous
    answer, whether it was right, and the chance of a right answer without
    recall on a quiz (a guess when 모르겠음 was not pressed)."""

    stability: np.ndarray
    elapsed: np.ndarray
    correct: np.ndarray
    guess: float = GUESS

    @classmethod
    def build(
        cls, rows: Iterable[Sequence[float]], guess: float = GUESS
    ) -> MemoryEvidence:
        """rows: (stability before, elapsed days, correct)."""
        arr = np.array(list(rows), dtype=float).reshape(-1, 3)
        return cls(arr[:, 0], arr[:, 1], arr[:, 2].astype(bool), guess)


def memory_posterior(evidence: MemoryEvidence | None) -> np.ndarray:
    """Posterior weights over MEMORY_GRID (the learner's stability factor)."""
    log_prior = -0.5 * (np.log(MEMORY_GRID) / MEMORY_LOG_SD) ** 2
    log_post = log_prior.copy()
    if evidence is not None and evidence.correct.size:
        r = retrievability(
            evidence.stability[None, :] * MEMORY_GRID[:, None],
            evidence.elapsed[None, :],
        )
        p = np.clip(r + (1 - r) * evidence.guess, 1e-6, 1 - 1e-6)
        log_post += np.where(evidence.correct, np.log(p), np.log1p(-p)).sum(axis=1)
    weights = np.exp(log_post - log_post.max())
    return weights / weights.sum()


def guess_rate(wrong: int, unsure: int) -> float:
    """Chance of a right answer without recall on a quiz, from the learner's
    mix of wrong answers and 모르겠음 (not recalled → 모르겠음 with chance u,
    else a guess, wrong 3 times in 4)."""
    if wrong + unsure == 0:
        return GUESS
    u = 0.75 * unsure / (0.75 * unsure + wrong)
    return GUESS * (1 - u)


PACE_DAYS = 14
PACE_MIN_DAYS = 7


def pace(first_seen_days: Sequence[float], *, now: float, started: float) -> float:
    """New questions per day over the last PACE_DAYS (since the learner
    started when that is more recent, but over at least a week: one keen
    first evening is not a pace)."""
    span = min(PACE_DAYS, max(now - started, PACE_MIN_DAYS))
    return sum(1 for d in first_seen_days if now - d <= span) / span


def unseen_posteriors(subjects: Sequence[SubjectInput]) -> list[tuple[float, float]]:
    """Beta(α, β) per subject for accuracy on questions never seen before.

    Two levels of shrinkage: the learner-wide mean is pulled to PRIOR_MEAN,
    each subject to the learner-wide mean, so one subject with three answers
    does not swing the forecast.
    """
    total_c = sum(s.unseen_correct for s in subjects)
    total_n = sum(s.unseen_answered for s in subjects)
    learner_mean = (total_c + PRIOR_MEAN * PRIOR_STRENGTH) / (total_n + PRIOR_STRENGTH)
    out = []
    for s in subjects:
        alpha = learner_mean * SUBJECT_STRENGTH + s.unseen_correct
        beta = (1 - learner_mean) * SUBJECT_STRENGTH + (
            s.unseen_answered - s.unseen_correct
        )
        out.append((alpha, max(beta, 1e-6)))
    return out


def question_probabilities(
    subject: SubjectInput,
    *,
    exam_day: float,
    unseen_accuracy: float,
    memory: float = 1.0,
    today: float | None = None,
) -> np.ndarray:
    """P(correct on the exam day) for each bank question of the subject.

    With `today`, the questions the learner will meet before the exam at their
    pace count as met half-way to the exam (see the module docstring).
    """
    unseen_p = max(unseen_accuracy, GUESS)
    p = np.full(subject.weights.shape, unseen_p)
    studied = subject.studied
    if studied.any():
        r = retrievability(
            subject.stability[studied] * memory,
            exam_day - subject.last_review_day[studied],
        )
        p[studied] = p_from_retrievability(r)
    if today is not None and subject.pace > 0 and exam_day > today:
        unseen = np.flatnonzero(~studied)
        met = min(subject.pace * (exam_day - today), float(unseen.size))
        if met > 0:
            typical = (
                float(np.median(subject.stability[studied]))
                if studied.any()
                else TYPICAL_STABILITY
            )
            r_met = retrievability(typical * memory, (exam_day - today) / 2)
            p_met = max(float(p_from_retrievability(r_met)), unseen_p)
            order = unseen[np.argsort(-subject.weights[unseen], kind="stable")]
            whole = int(met)
            p[order[:whole]] = p_met
            if whole < order.size:
                frac = met - whole
                p[order[whole]] = frac * p_met + (1 - frac) * unseen_p
    return p


def paper_probabilities(
    p: np.ndarray,
    weights: np.ndarray,
    n: int,
    *,
    new_share: float = 0.0,
    new_p: float = GUESS,
    shift: float = 0.0,
) -> np.ndarray:
    """The n slots of a real paper: each is a question never asked before
    with chance new_share (right with new_p, the first-sight accuracy), else
    a bank question drawn by weight (right with the bank's weighted mean p,
    moved by shift: what the learner's sittings said of their memory)."""
    if n <= 0:
        return np.zeros(0)
    if p.size == 0 or weights.sum() <= 0:
        bank = max(new_p, GUESS)
    else:
        bank = float((p * weights).sum() / weights.sum())
        if shift:
            bank = float(shifted(bank, shift))
    mean = (1 - new_share) * bank + new_share * max(new_p, GUESS)
    return np.full(n, mean)


def poisson_binomial(probabilities: Sequence[float] | np.ndarray) -> np.ndarray:
    """P(exactly k successes) for k = 0..len(ps), exactly (O(n²) DP; equal
    probabilities, the common case, take the binomial closed form)."""
    ps = np.asarray(probabilities, dtype=float)
    if ps.size and np.all(ps == ps[0]):
        return _binomial(ps.size, float(ps[0]))
    dist = np.zeros(len(ps) + 1)
    dist[0] = 1.0
    for i, p in enumerate(ps):
        dist[1 : i + 2] = dist[1 : i + 2] * (1 - p) + dist[: i + 1] * p
        dist[0] *= 1 - p
    return dist


@functools.lru_cache(maxsize=64)
def _binomial_coefficients(n: int) -> tuple[np.ndarray, np.ndarray]:
    ks = np.arange(n + 1)
    return ks, np.array([math.comb(n, int(k)) for k in ks], dtype=float)


def _binomial(n: int, p: ArrayLike) -> np.ndarray:
    """P(k right of n), k = 0..n; p may be an array (the result gets a last axis)."""
    ks, combs = _binomial_coefficients(n)
    p = np.asarray(p, dtype=float)[..., None]
    return combs * np.power(p, ks) * np.power(1.0 - p, n - ks)


def pass_probability(dists: Sequence[np.ndarray]) -> float:
    """P(every subject ≥ 40 and mean ≥ 60) for independent subjects.

    dists[s][k] = P(k right out of len(dists[s]) − 1) in subject s.
    """
    return float(pass_probabilities(dists))


def pass_probabilities(dists: Sequence[np.ndarray]) -> np.ndarray:
    """pass_probability for a batch: dists[s] has shape (..., n_s + 1) and the
    result has the leading shape (one P(합격) per draw and exam day).

    Scores are added on an exact integer grid (1/L of a subject's 100 points,
    L the least common multiple of the question counts): the distribution
    of the total is the convolution of the subjects' distributions with the
    scores below 40 (과락) taken out, and 합격 is its mass at mean ≥ 60.
    """
    if not dists:
        return np.zeros(())
    counts = [d.shape[-1] - 1 for d in dists]
    batch = np.broadcast_shapes(*(d.shape[:-1] for d in dists))
    if min(counts) <= 0:
        return np.zeros(batch)
    grid = math.lcm(*counts)
    spreads = []
    for dist, n in zip(dists, counts, strict=True):
        step = grid // n
        low = math.ceil(PASS_SUBJECT_MIN * n / 100 - 1e-9)  # 과락 below this
        spread = np.zeros((*dist.shape[:-1], grid + 1))
        spread[..., low * step :: step] = dist[..., low:]
        spreads.append(spread)
    if batch:
        # Many papers at once (draws × exam days): the convolutions are a
        # product of Fourier transforms, long enough not to wrap around.
        size = len(spreads) * grid + 1
        product = np.ones((*batch, size // 2 + 1), dtype=complex)
        for spread in spreads:
            product = product * np.fft.rfft(spread, n=size)
        total = np.fft.irfft(product, n=size)
    else:  # one paper (the daily plan asks often): exact convolution
        total = np.ones(1)
        for spread in spreads:
            total = np.convolve(total, spread)
    need = math.ceil(PASS_AVERAGE_MIN * len(dists) * grid / 100 - 1e-9)
    return np.clip(total[..., need:].sum(axis=-1), 0.0, 1.0)


@dataclass
class SubjectForecast:
    name: str
    questions: int
    expected_score: float  # out of 100
    fail_probability: float  # P(score < 40): 과락
    distribution: list[float]  # P(k right), k = 0..questions
    unseen_accuracy: float
    studied: int
    bank: int
    new_share: float = 0.0  # expected share of never-asked questions
    shift: float = 0.0  # what the sittings said (logit; < 0: worse than memory)
    sittings: int = 0


@dataclass
class Forecast:
    pass_probability: float
    low: float
    high: float
    memory: float = 1.0  # the learner's stability factor (posterior mean)
    subjects: list[SubjectForecast] = field(default_factory=list)
    new_share: float = 0.0  # expected share of never-asked questions on the paper

    @property
    def most_at_risk(self) -> SubjectForecast | None:
        if not self.subjects:
            return None
        return max(self.subjects, key=lambda s: (s.fail_probability, -s.expected_score))


class _Prepared:
    """One subject's bank reduced to what a paper's mean p depends on, for
    one or more exam days at once: the same numbers as question_probabilities
    followed by paper_probabilities, for a batch of uncertainty draws (rows)
    and exam days (columns) in a few array operations."""

    def __init__(
        self,
        subject: SubjectInput,
        *,
        exam_days: float | Sequence[float],
        today: float | None,
    ) -> None:
        self.subject = subject
        days = np.atleast_1d(np.asarray(exam_days, dtype=float))
        w = subject.weights
        self.total = float(w.sum())
        studied = subject.studied
        self.w_studied = w[studied]
        self.stab = subject.stability[studied]
        self.elapsed = days[:, None] - subject.last_review_day[studied][None, :]
        unseen = np.flatnonzero(~studied)
        self.w_unseen = float(w[unseen].sum())
        self.w_met = np.zeros(days.size)
        self.half_way = np.zeros(days.size)
        self.typical = (
            float(np.median(self.stab)) if self.stab.size else TYPICAL_STABILITY
        )
        if today is not None and subject.pace > 0:
            ahead = np.maximum(days - today, 0.0)
            met = np.minimum(subject.pace * ahead, float(unseen.size))
            # The most often repeated unseen questions are met first; a
            # fraction of a question counts that fraction of its weight.
            order = unseen[np.argsort(-w[unseen], kind="stable")]
            cumulative = np.concatenate([[0.0], np.cumsum(w[order])])
            self.w_met = np.interp(met, np.arange(cumulative.size), cumulative)
            self.half_way = ahead / 2
        self._studied_sum: dict[float, np.ndarray] = {}

    def _studied(self, memory: float) -> np.ndarray:
        """Weighted P(right) summed over the studied questions, per exam day."""
        if memory not in self._studied_sum:
            r = retrievability(self.stab[None, :] * memory, self.elapsed)
            self._studied_sum[memory] = (
                p_from_retrievability(r) * self.w_studied[None, :]
            ).sum(axis=1)
        return self._studied_sum[memory]

    def mean_p(
        self,
        *,
        accuracy: ArrayLike,
        memory: ArrayLike,
        new_share: ArrayLike | None = None,
        shift: ArrayLike | None = None,
    ) -> np.ndarray:
        """(draws, days): a paper slot's P(right) per draw of the unseen
        accuracy, the memory factor, the share of new questions and the
        shift (arrays of one value per draw): new with that share, else the
        bank's weighted mean. The shift moves what memory gives (the studied
        questions and those met at the learner's pace): it is what the
        learner's sittings said of their memory; first-sight accuracy has its
        own evidence."""
        accuracy = np.atleast_1d(np.asarray(accuracy, dtype=float))
        memory = np.atleast_1d(np.asarray(memory, dtype=float))
        days = self.elapsed.shape[0]
        if self.total <= 0:
            return np.full((accuracy.size, days), GUESS)
        unseen_p = np.maximum(accuracy, GUESS)[:, None]
        studied = np.empty((memory.size, days))
        for value in np.unique(memory):  # memory draws sit on MEMORY_GRID
            studied[memory == value] = self._studied(float(value))
        r_met = retrievability(self.typical * memory[:, None], self.half_way[None, :])
        p_met = np.maximum(p_from_retrievability(r_met), unseen_p)
        remembered = studied + self.w_met * p_met
        if shift is not None:
            held = self.w_studied.sum() + self.w_met
            mean = remembered / np.where(held > 0, held, 1.0)
            shift = np.asarray(shift, dtype=float).reshape(-1, 1)
            remembered = np.where(held > 0, shifted(mean, shift) * held, remembered)
        total = remembered + (self.w_unseen - self.w_met) * unseen_p
        bank = total / self.total
        if new_share is None:
            return bank
        share = np.atleast_1d(np.asarray(new_share, dtype=float))[:, None]
        return (1 - share) * bank + share * unseen_p

    def dist(
        self,
        *,
        accuracy: ArrayLike,
        memory: ArrayLike,
        shift: ArrayLike | None = None,
        new_share: ArrayLike | None = None,
    ) -> np.ndarray:
        """(draws, days, n + 1): P(k right) on the subject's paper."""
        n = self.subject.questions
        p = np.clip(
            self.mean_p(
                accuracy=accuracy, memory=memory, new_share=new_share, shift=shift
            ),
            0.0,
            1.0,
        )
        if n <= 0:
            return np.ones((*p.shape, 1))
        return _binomial(n, p)


@dataclass(frozen=True)
class Draws:
    """Seeded draws of what the model does not know (one row per draw)."""

    memory: np.ndarray  # (draws,) the learner's stability factor
    accuracy: np.ndarray  # (draws, subjects) unseen-question accuracy
    shift: np.ndarray  # (draws, subjects) model error on the logit scale
    new_share: np.ndarray  # (draws, subjects) share of never-asked questions


def _grid_draws(weights: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Draws from a distribution on SHIFT_GRID by its inverse CDF."""
    cdf = np.cumsum(weights)
    index = np.searchsorted(cdf / cdf[-1], uniforms, side="right")
    return SHIFT_GRID[np.minimum(index, SHIFT_GRID.size - 1)]


def uncertainty_draws(
    subjects: Sequence[SubjectInput], memory_weights: np.ndarray, draws: int
) -> Draws:
    posteriors = unseen_posteriors(subjects)
    rng = np.random.default_rng(SEED)
    alpha = np.array([a for a, _ in posteriors], dtype=float)
    beta = np.array([b for _, b in posteriors], dtype=float)
    memory = rng.choice(MEMORY_GRID, size=draws, p=memory_weights)
    accuracy = rng.beta(alpha, beta, size=(draws, len(subjects)))
    uniforms = rng.random((draws, len(subjects)))
    shift = (
        np.column_stack(
            [
                _grid_draws(
                    shift_posterior(s.sittings, float(alpha[i] / (alpha[i] + beta[i]))),
                    uniforms[:, i],
                )
                for i, s in enumerate(subjects)
            ]
        )
        if subjects
        else np.zeros((draws, 0))
    )
    share_alpha = np.array([max(s.new_share.alpha, 1e-9) for s in subjects])
    share_beta = np.array([max(s.new_share.beta, 1e-9) for s in subjects])
    has_new = np.array([s.new_share.alpha > 0 for s in subjects], dtype=bool)
    new_share = rng.beta(share_alpha, share_beta, size=(draws, len(subjects)))
    return Draws(
        memory=memory,
        accuracy=accuracy,
        shift=shift,
        new_share=np.where(has_new, new_share, 0.0),
    )


def pass_samples(
    subjects: Sequence[SubjectInput],
    *,
    exam_days: float | Sequence[float],
    today: float | None = None,
    draws: int = DRAWS,
    memory_weights: np.ndarray | None = None,
) -> np.ndarray:
    """(draws, days): P(합격) per uncertainty draw if the exam were on each of
    exam_days. The same draws serve every day (a smooth curve)."""
    if memory_weights is None:
        memory_weights = memory_posterior(None)
    drawn = uncertainty_draws(subjects, memory_weights, draws)
    dists = [
        _Prepared(s, exam_days=exam_days, today=today).dist(
            accuracy=drawn.accuracy[:, i],
            memory=drawn.memory,
            shift=drawn.shift[:, i],
            new_share=drawn.new_share[:, i],
        )
        for i, s in enumerate(subjects)
    ]
    days = np.atleast_1d(np.asarray(exam_days)).size
    if not dists:
        return np.zeros((draws, days))
    return pass_probabilities(dists)


def point_pass_probability(
    subjects: Sequence[SubjectInput],
    *,
    exam_day: float,
    today: float | None = None,
    accuracies: Sequence[float] | None = None,
) -> float:
    """P(합격) at the posterior means (no uncertainty draws): fast, for planning."""
    if accuracies is None:
        accuracies = [a / (a + b) for a, b in unseen_posteriors(subjects)]
    return pass_probability(
        [
            _Prepared(s, exam_days=exam_day, today=today).dist(
                accuracy=acc, memory=1.0, new_share=s.new_share.mean
            )[0, 0]
            for s, acc in zip(subjects, accuracies, strict=True)
        ]
    )


def forecast(
    subjects: Sequence[SubjectInput],
    *,
    exam_day: float,
    today: float | None = None,
    draws: int = DRAWS,
    evidence: MemoryEvidence | None = None,
    memory_weights: np.ndarray | None = None,
) -> Forecast:
    """P(합격) on exam_day (a day number on the same clock as last_review_day).

    With `today`, the learner keeps meeting new questions at their pace until
    the exam; without it, the forecast is for what they know now.
    memory_weights (memory_posterior(evidence)) may be passed in when several
    forecasts share the evidence.
    """
    if memory_weights is None:
        memory_weights = memory_posterior(evidence)
    memory_factor = memory_mean(memory_weights)
    samples = pass_samples(
        subjects,
        exam_days=exam_day,
        today=today,
        draws=draws,
        memory_weights=memory_weights,
    )[:, 0]
    posteriors = unseen_posteriors(subjects)
    reports = []
    for s, (a, b) in zip(subjects, posteriors, strict=True):
        acc = a / (a + b)
        shifts = shift_posterior(s.sittings, acc)
        dist = subject_distribution(
            _Prepared(s, exam_days=exam_day, today=today),
            accuracy=acc,
            memory=memory_factor,
            new_share=s.new_share.mean,
            shifts=shifts,
        )
        n = s.questions
        ks = np.arange(n + 1)
        below = ks * 100.0 < PASS_SUBJECT_MIN * n - 1e-9
        reports.append(
            SubjectForecast(
                name=s.name,
                questions=n,
                expected_score=float((dist * ks).sum() * 100.0 / n) if n else 0.0,
                fail_probability=float(dist[below].sum()),
                distribution=[float(x) for x in dist],
                unseen_accuracy=max(acc, GUESS),
                studied=int(s.studied.sum()),
                bank=int(s.weights.size),
                new_share=s.new_share.mean,
                shift=float((shifts * SHIFT_GRID).sum()),
                sittings=len(s.sittings),
            )
        )
    return Forecast(
        new_share=paper_new_share(subjects),
        memory=memory_factor,
        pass_probability=float(samples.mean()) if samples.size else 0.0,
        low=float(np.quantile(samples, INTERVAL[0])) if samples.size else 0.0,
        high=float(np.quantile(samples, INTERVAL[1])) if samples.size else 0.0,
        subjects=reports,
    )


def subject_distribution(
    prepared: _Prepared,
    *,
    accuracy: float,
    memory: float,
    new_share: float,
    shifts: np.ndarray,
) -> np.ndarray:
    """P(k right) on the subject's paper at the posterior means, averaged over
    the posterior of the shift (so a subject the learner just failed in a
    mock carries that chance of 과락)."""
    keep = shifts > 1e-6 * shifts.max()
    grid = prepared.dist(
        accuracy=accuracy, memory=memory, shift=SHIFT_GRID[keep], new_share=new_share
    )[:, 0, :]
    weights = shifts[keep] / shifts[keep].sum()
    return (weights[:, None] * grid).sum(axis=0)


def paper_new_share(subjects: Sequence[SubjectInput]) -> float:
    total = sum(s.questions for s in subjects)
    if not total:
        return 0.0
    return sum(s.new_share.mean * s.questions for s in subjects) / total


def pass_curve(
    subjects: Sequence[SubjectInput],
    *,
    days: Sequence[float],
    today: float | None = None,
    draws: int = DRAWS,
    evidence: MemoryEvidence | None = None,
    memory_weights: np.ndarray | None = None,
) -> list[float]:
    """P(합격) if the exam were on each of `days` (at the learner's pace when
    `today` is given, else with no more study): one batch of array operations
    for all the days, with the same draws as the forecast."""
    if memory_weights is None:
        memory_weights = memory_posterior(evidence)
    samples = pass_samples(
        subjects,
        exam_days=days,
        today=today,
        draws=draws,
        memory_weights=memory_weights,
    )
    return [float(x) for x in samples.mean(axis=0)]
