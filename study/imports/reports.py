"""Reading an import report (the dict ImportReport.as_dict stores): the
rejected rows and the counts per reason in the active language, and the
report file that `import_questions --report` writes and the web offers.
A pure core."""

from __future__ import annotations

import json
from collections import Counter

from study.imports.reasons import RejectionReason

_REPORT_KEYS = ("files", "rows", "imported", "updated", "unchanged", "needs_figure")
# What the import says about subjects (issue 27): aliases applied, names new
# to the bank, rounds numbered by subject.
_SUBJECT_KEYS = ("subjects_renamed", "subjects_new", "rounds_by_subject")


def report_rejections(report: dict) -> list[dict]:
    """The listed rejected rows with their reasons in the active language.

    A report stored by an older version has a reason text and no code: that
    text is shown as it is."""
    rows = []
    for r in report["rejected"]:
        code = r.get("code") or r.get("reason", "")
        reason = RejectionReason(code, r.get("params") or {})
        rows.append(
            {
                "file": r["file"],
                "line": r["line"],
                "code": code,
                "reason": reason.text,
                "kind": reason.kind,
            }
        )
    return rows


def report_reason_counts(report: dict) -> list[tuple[str, str, int]]:
    """(code, kind in words, rows) for every reason, most rows first."""
    counts = report.get("reasons")
    if counts is None:  # an older report: count what it lists
        counts = Counter(r["code"] for r in report_rejections(report))
    labelled = [(code, RejectionReason(code, {}).kind, n) for code, n in counts.items()]
    return sorted(labelled, key=lambda item: (-item[2], item[0]))


def report_rejected_count(report: dict) -> int:
    return report.get("rejected_count", len(report["rejected"]))


def report_json(report: dict) -> str:
    """The report file, as `--report` writes it and the web offers it, with the
    reasons in the active language (in one key order: a report read back from
    a jsonb column comes with its keys sorted)."""
    ordered = {key: report.get(key, 0) for key in _REPORT_KEYS}
    ordered["rejected_count"] = report_rejected_count(report)
    ordered["reasons"] = [
        {"code": code, "reason": kind, "rows": n}
        for code, kind, n in report_reason_counts(report)
    ]
    ordered["rejected"] = [
        {key: r[key] for key in ("file", "line", "code", "reason")}
        for r in report_rejections(report)
    ]
    for key in _SUBJECT_KEYS:
        if key in report:
            ordered[key] = report[key]
    return json.dumps(ordered, ensure_ascii=False, indent=2)
