"""Latency summaries."""

from __future__ import annotations

import numpy as np


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
