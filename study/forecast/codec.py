"""Dataclasses to JSON and back, for the forecast snapshots.

What a forecast selector returns (study.forecast.model.Forecast, plan.Plan,
calibration.CalibrationReport, …) is stored as it is: each dataclass as an
object tagged with its class name, dates, times and tuples tagged too, numpy
values as plain numbers. Only the classes passed to `decode` are rebuilt, so
stored JSON never names code to run. `shape_version` changes whenever one of
those classes gains, loses or renames a field: a snapshot of another shape
is then never read (it is recomputed).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

CLASS_KEY = "__class__"
DATE_KEY = "__date__"
DATETIME_KEY = "__datetime__"
TUPLE_KEY = "__tuple__"


class ShapeError(ValueError):
    """Stored JSON that the current classes cannot rebuild."""


def encode(value: Any) -> Any:
    """A JSON-ready copy of `value` (dataclasses, lists, dicts, dates, numbers)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: encode(getattr(value, f.name)) for f in _init_fields(value)}
        return {CLASS_KEY: type(value).__name__, **fields}
    if isinstance(value, datetime):  # before date: a datetime is a date
        return {DATETIME_KEY: value.isoformat()}
    if isinstance(value, date):
        return {DATE_KEY: value.isoformat()}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return {TUPLE_KEY: [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    return value


def decode(data: Any, classes: Iterable[type]) -> Any:
    """Rebuild what `encode` wrote; raises ShapeError on an unknown class."""
    known = {cls.__name__: cls for cls in classes}
    return _decode(data, known)


def _decode(data: Any, known: dict[str, type]) -> Any:
    if isinstance(data, list):
        return [_decode(v, known) for v in data]
    if not isinstance(data, dict):
        return data
    if DATETIME_KEY in data:
        return datetime.fromisoformat(data[DATETIME_KEY])
    if DATE_KEY in data:
        return date.fromisoformat(data[DATE_KEY])
    if TUPLE_KEY in data:
        return tuple(_decode(v, known) for v in data[TUPLE_KEY])
    if CLASS_KEY not in data:
        return {k: _decode(v, known) for k, v in data.items()}
    cls = known.get(data[CLASS_KEY])
    if cls is None:
        raise ShapeError(f"unknown class {data[CLASS_KEY]!r}")
    values = {k: _decode(v, known) for k, v in data.items() if k != CLASS_KEY}
    try:
        return cls(**values)
    except TypeError as exc:
        raise ShapeError(str(exc)) from exc


def shape_version(classes: Iterable[type]) -> str:
    """Short and new whenever a class's name or init fields change."""
    shape = sorted(
        f"{cls.__module__}.{cls.__name__}({','.join(_field_names(cls))})"
        for cls in classes
    )
    return hashlib.sha1("|".join(shape).encode()).hexdigest()[:16]


def _field_names(cls: type) -> list[str]:
    return [f.name for f in _init_fields(cls)]


def _init_fields(value: Any) -> list[dataclasses.Field]:
    return [f for f in dataclasses.fields(value) if f.init]
