"""Reliability of probability forecasts: forecasts grouped by value, against
how often the event happened in each group (a reliability diagram)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    n: int
    mean_forecast: float | None
    pass_rate: float | None

    def as_dict(self) -> dict:
        return {
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "mean_forecast": self.mean_forecast,
            "pass_rate": self.pass_rate,
        }


def reliability_bins(pairs: Sequence[tuple[float, bool]], bins: int = 10) -> list[Bin]:
    """(forecast, happened) pairs in `bins` equal groups of the forecast; the
    last group includes 1.0."""
    out = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [
            (f, y) for f, y in pairs if low <= f < high or (b == bins - 1 and f == high)
        ]
        n = len(inside)
        out.append(
            Bin(
                low=low,
                high=high,
                n=n,
                mean_forecast=sum(f for f, _ in inside) / n if n else None,
                pass_rate=sum(bool(y) for _, y in inside) / n if n else None,
            )
        )
    return out
