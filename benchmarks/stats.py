"""Latency summaries, and the seeded draws the measures make."""

from __future__ import annotations

import random
from collections.abc import Iterable

import numpy as np


def seeded_sample(ids: Iterable[int], count: int, rng: random.Random) -> list[int]:
    """`count` of `ids` drawn by `rng` (SQL's random() ignores any seed, so a
    measure drawing with ORDER BY random() picks other rows every run, and a
    test of it passes or fails by chance)."""
    pool = sorted(ids)
    return rng.sample(pool, min(count, len(pool)))


def summarize(durations_s: list[float], *, busy_s: float | None = None) -> dict:
    """p50/p95/p99 in ms and requests per second over the time spent serving."""
    if not durations_s:
        return {"n": 0}
    ms = np.asarray(durations_s) * 1000.0
    busy = sum(durations_s) if busy_s is None else busy_s
    return {
        "n": len(durations_s),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
        "max_ms": round(float(ms.max()), 2),
        "rps": round(len(durations_s) / busy, 1) if busy > 0 else None,
    }
