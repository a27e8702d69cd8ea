"""JSON from outside (request bodies, lines of an import file, LLM replies)
read within bounds: a size, a nesting depth, and every failure one exception.

json.loads raises RecursionError on deep nesting and a plain ValueError on an
integer of more than 4,300 digits; callers that catch only JSONDecodeError
crash on both. Here each is a JSONInputError with a code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable


class JSONInputError(ValueError):
    """Not acceptable JSON; `code` says why: invalid, too_deep or too_large."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def json_depth_exceeds(value: object, max_depth: int) -> bool:
    """True when containers nest deeper than max_depth (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def json_loads_bounded(
    data: str | bytes, *, max_depth: int, max_bytes: int | None = None
) -> object:
    """The parsed value, or JSONInputError. Depth counts containers: `{}` is 1."""
    if max_bytes is not None and len(data) > max_bytes:
        raise JSONInputError("too_large", f"more than {max_bytes} bytes")
    try:
        value = json.loads(data)
    except RecursionError as exc:
        raise JSONInputError("too_deep", "nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, huge integers, bad UTF-8
        message = getattr(exc, "msg", None) or str(exc)
        raise JSONInputError("invalid", message[:200]) from exc
    if json_depth_exceeds(value, max_depth):
        raise JSONInputError("too_deep", f"nested deeper than {max_depth}")
    return value
