"""Where ../shared/data is: beside the checkout (CI, make test) or beside a
git worktree's parent. Tests that read the sample rounds or statutes skip
without it, with a reason that says so."""

from __future__ import annotations

from pathlib import Path

import pytest


def _shared_data() -> Path:
    for parent in Path(__file__).resolve().parents[1:4]:
        if (parent / "shared" / "data").is_dir():
            return parent / "shared" / "data"
    return Path("/nonexistent/shared/data")


SHARED_DATA = _shared_data()
SHARED_EXAMS = SHARED_DATA / "exams"
SHARED_DOCUMENTS = SHARED_DATA / "documents"

needs_shared = pytest.mark.skipif(
    not (SHARED_EXAMS.is_dir() and SHARED_DOCUMENTS.is_dir()),
    reason="../shared/data is not beside the checkout",
)
