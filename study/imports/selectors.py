"""What the import pages show about a QuestionImport."""

from __future__ import annotations

from collections import Counter

from study import rounds
from study.models import QuestionImport

FIRST_REJECTIONS = 20


def rejection_kind(reason: str) -> str:
    """A reason without its particulars: `invalid answer: '5'` → `invalid answer`."""
    if reason.startswith("duplicate of "):
        return "duplicate"
    return reason.split(": ", 1)[0]


def rejection_counts(report: dict) -> list[tuple[str, int]]:
    """How many rows each kind of reason rejected, most first."""
    counts = Counter(rejection_kind(r["reason"]) for r in report["rejected"])
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def import_summary(*, run: QuestionImport, urls: dict) -> dict:
    """The run, its current report (final, else the dry run's) and the first
    rejected rows, for the status partial."""
    report = run.report or run.dry_run_report
    files = list(run.files.order_by("position").values("name", "size"))
    return {
        "run": run,
        "urls": urls,
        "files": files,
        "files_size": sum(f["size"] for f in files),
        "report": report,
        "reasons": rejection_counts(report) if report else [],
        "first_rejected": report["rejected"][:FIRST_REJECTIONS] if report else [],
        "more_rejected": max(0, len(report["rejected"]) - FIRST_REJECTIONS)
        if report
        else 0,
        "rounds_by_subject": _round_labels(report.get("rounds_by_subject", []))
        if report
        else [],
    }


def _round_labels(keys: list[str]) -> list[str]:
    return [rounds.round_label(*rounds.round_key_parse(key)) for key in keys]
