"""P(합격) over the days to the exam as server-rendered SVG geometry."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from study.forecast.reliability import Bin

WIDTH, HEIGHT = 340, 190
LEFT, RIGHT, TOP, BOTTOM = 40, 14, 12, 30


@dataclass
class Chart:
    width: int
    height: int
    paced: str  # polyline points
    idle: str
    grid: list[tuple[float, str]]  # (y, label)
    x_labels: list[tuple[float, str, str]]  # (x, label, anchor)
    last_x: float
    last_y: float
    last_label: str
    left: int = LEFT
    right: float = WIDTH - RIGHT
    bottom: float = HEIGHT - BOTTOM


def _x(i: int, n: int) -> float:
    inner = WIDTH - LEFT - RIGHT
    return LEFT + (inner * i / (n - 1) if n > 1 else inner)


def _y(p: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - min(max(p, 0.0), 1.0))


def pass_chart(
    days: Sequence[date], paced: Sequence[float], idle: Sequence[float]
) -> Chart | None:
    n = len(days)
    if n == 0:
        return None

    def points(values: Sequence[float]) -> str:
        return " ".join(f"{_x(i, n):.1f},{_y(v):.1f}" for i, v in enumerate(values))

    labels = [(_x(0, n), f"{days[0].month}/{days[0].day}", "start")]
    if n > 1:
        labels.append((_x(n - 1, n), f"{days[-1].month}/{days[-1].day}", "end"))
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        paced=points(paced),
        idle=points(idle),
        grid=[(_y(v), f"{round(v * 100)}%") for v in (0.0, 0.5, 1.0)],
        x_labels=labels,
        last_x=_x(n - 1, n),
        last_y=_y(paced[-1]),
        last_label=f"{round(paced[-1] * 100)}%",
    )


SIDE = 220
MARGIN = 36


@dataclass
class ReliabilityPoint:
    x: float
    y: float
    r: float
    label: str


@dataclass
class ReliabilityChart:
    """Forecast (x) against what happened (y), one dot per group of
    forecasts (its area grows with how many), and the diagonal where a
    forecast of p comes true p of the time."""

    size: int
    low: float
    high: float
    points: list[ReliabilityPoint]
    ticks: list[tuple[float, str]]

    @property
    def span(self) -> float:
        return self.high - self.low


def _scale(value: float) -> float:
    return MARGIN + (SIDE - 2 * MARGIN) * min(max(value, 0.0), 1.0)


def reliability_chart(bins: Sequence[Bin]) -> ReliabilityChart | None:
    """bins: reliability.Bin with at least one forecast."""
    shown = [
        (b.n, b.mean_forecast, b.pass_rate)
        for b in bins
        if b.n and b.mean_forecast is not None and b.pass_rate is not None
    ]
    if not shown:
        return None
    most = max(n for n, _, _ in shown)
    return ReliabilityChart(
        size=SIDE,
        low=_scale(0.0),
        high=_scale(1.0),
        points=[
            ReliabilityPoint(
                x=round(_scale(forecast), 1),
                y=round(SIDE - _scale(passed), 1),
                r=round(3 + 7 * (n / most) ** 0.5, 1),
                label=f"{round(100 * forecast)}% → {round(100 * passed)}%",
            )
            for n, forecast, passed in shown
        ],
        ticks=[(_scale(v), f"{round(v * 100)}%") for v in (0.0, 0.5, 1.0)],
    )
