"""Where a topic's other-round pairs fall by similarity, split by whether the
rules tell them apart: the histograms the thresholds are calibrated from
(manage.py calibrate_related, docs/related.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from study.related.rules import decisive_difference
from study.related.services import TopicVectors
from study.related.thresholds import Thresholds, current_thresholds
from study.related.vectors import candidate_blocks


@dataclass(frozen=True)
class SimilarityBin:
    low: float
    high: float
    nearest: int  # questions whose nearest other-round question is this close
    same_answer: int  # other-round pairs this close that nothing tells apart
    different: int  # … that differ in what decides the answer


@dataclass(frozen=True)
class SimilarityDistribution:
    questions: int
    thresholds: Thresholds
    bins: list[SimilarityBin]
    nearest_below: int  # nearest neighbour under the first bin (or none at all)


def topic_similarity_distribution(
    *, topic_id: int, start: float = 0.9, step: float = 0.005
) -> SimilarityDistribution:
    """Where other-round pairs fall, for calibrating the thresholds."""
    thresholds = current_thresholds()
    topic = TopicVectors.load(topic_id=topic_id, model=thresholds.model)
    rows = topic.rows
    edges = np.append(np.arange(start, 1.0, step), 1.0 + 1e-9)
    nearest: list[float] = []
    same: list[float] = []
    different: list[float] = []
    for first, sims in candidate_blocks(topic.matrix, topic.rounds):
        nearest.extend(sims.max(axis=1, initial=-np.inf).tolist())
        for i, j in zip(*np.nonzero(sims >= start), strict=True):
            if first + i < j:  # each pair once
                verdict = decisive_difference(rows[first + i].text, rows[j].text)
                (same if verdict is None else different).append(float(sims[i, j]))
    counts = [np.histogram(v, bins=edges)[0] for v in (nearest, same, different)]
    bins = [
        SimilarityBin(float(lo), min(float(hi), 1.0), int(n), int(s), int(d))
        for lo, hi, n, s, d in zip(edges[:-1], edges[1:], *counts, strict=True)
    ]
    below = sum(1 for value in nearest if value < start)
    return SimilarityDistribution(len(rows), thresholds, bins, below)
