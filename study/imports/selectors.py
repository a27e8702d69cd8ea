"""What the import pages show about a QuestionImport."""

from __future__ import annotations

from typing import Any

from study import rounds
from study.imports.reasons import failure_text
from study.imports.reports import (
    report_reason_counts,
    report_rejected_count,
    report_rejections,
)
from study.models import QuestionImport

FIRST_REJECTIONS = 20


def import_summary(*, run: QuestionImport, urls: dict[str, str]) -> dict[str, Any]:
    """The run, its current report (final, else the dry run's) and the first
    rejected rows, with every reason in the active language."""
    report = run.report or run.dry_run_report
    files = list(run.files.order_by("position").values("name", "size", "file"))
    rejected = report_rejected_count(report) if report else 0
    first = report_rejections(report)[:FIRST_REJECTIONS] if report else []
    return {
        "run": run,
        "urls": urls,
        "files": files,
        "files_size": sum(f["size"] for f in files),
        "files_gone": any(not f["file"] for f in files),
        "error": failure_text(run.error_code, run.error_params, run.error),
        "report": report,
        "rejected": rejected,
        "needs_figure": report.get("needs_figure", 0) if report else 0,
        "reasons": [(kind, n) for _, kind, n in report_reason_counts(report)]
        if report
        else [],
        "first_rejected": first,
        "listed": len(report["rejected"]) if report else 0,
        "more_rejected": max(0, rejected - len(first)),
        "rounds_by_subject": _round_labels(report.get("rounds_by_subject", []))
        if report
        else [],
    }


def _round_labels(keys: list[str]) -> list[str]:
    return [rounds.round_label(*rounds.round_key_parse(key)) for key in keys]
