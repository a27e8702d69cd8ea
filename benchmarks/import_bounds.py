"""Hostile question uploads (issue 24, N1): the worker's peak memory and the
time to refusal or completion for each shape of a large hostile file.

Each file is uploaded through the web's service (stored, counted, queued for
the background), then its dry run runs in a fresh Python process, as a
django-q2 worker would run it; that process reports its own peak resident
memory (VmHWM) before and after the step. Target: ≤ 300 MB for 100 MB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.test.utils import override_settings
from django_q.models import OrmQ

from benchmarks.processes import child_env
from study.imports.runs import question_import_create
from study.models import QuestionImport, Topic

TARGET_MB = 300
HEADER = (
    "Test Name,Year,Session,Subject,Number,Question,Question_image,"
    "Option 1,Option 2,Option 3,Option 4,Answer\n"
)
_CHUNK = 1 << 20

CHILD = r"""
import json, sys, time
import django
django.setup()
from study.imports.runs import question_import_check

def peak_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)

before = peak_mb()
started = time.perf_counter()
run = question_import_check(import_id=int(sys.argv[1]))
print(json.dumps({
    "seconds": round(time.perf_counter() - started, 2),
    "baseline_mb": before,
    "peak_mb": peak_mb(),
    "status": run.status,
    "error_code": run.error_code,
    "rows": run.rows_read,
    "report": {k: v for k, v in (run.dry_run_report or {}).items()
               if k not in ("rejected", "reasons")},
}))
"""


def _write(path: Path, size: int, head: str, piece: Callable[[int], str]) -> Path:
    """`head`, then pieces until the file is `size` bytes (about), written a
    megabyte at a time."""
    per_block = max(1, _CHUNK // len(piece(0).encode()))
    written, n = 0, 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(head)
        written += len(head.encode())
        while written < size:
            block = "".join(piece(n + i) for i in range(per_block))
            n += per_block
            out.write(block)
            written += len(block.encode())
    return path


def _valid_row(n: int) -> str:
    year, rest = 1950 + n % 151, n // 151
    session, number = 1 + rest % 3, 1 + rest // 3
    return (
        f"산업안전기사,{year},{session},안전관리론,{number},"
        f"문제 {n}: 다음 중 옳은 것은?,,가,나,다,라,2\n"
    )


def _long_row(n: int) -> str:
    # Each stem its own (the same stem and choices in a round is a duplicate).
    stem = f"{n:06d}" + "가" * 130_000
    return f"산업안전기사,2020,1,안전관리론,{n + 1},{stem},,가,나,다,라,2\n"


def hostile_files(directory: Path, size: int) -> dict[str, Path]:
    """The shapes, each about `size` bytes."""
    deep = "[" * 2000 + "]" * 2000 + "\n"
    return {
        # N1's file: the header, then "x" on every line.
        "x_lines": _write(directory / "x.csv", size, HEADER, lambda n: "x\n"),
        # An unclosed quote and the rest of the file on one line.
        "one_line": _write(
            directory / "line.csv", size, HEADER + '"', lambda n: "x" * 1000
        ),
        # Good rows, all different: past the rows per upload.
        "valid_rows": _write(directory / "valid.csv", size, HEADER, _valid_row),
        # Rows of the longest fields allowed, each imported.
        "long_fields": _write(directory / "long.csv", size, HEADER, _long_row),
        # JSON Lines nested 2,000 deep, every line.
        "deep_jsonl": _write(directory / "deep.jsonl", size, "", lambda n: deep),
        # Short lines and no header: nothing to import, all to read.
        "no_header": _write(directory / "junk.csv", size, "", lambda n: "a,b\n"),
    }


def _upload(topic: Topic, path: Path) -> tuple[QuestionImport, float]:
    started = time.perf_counter()
    with path.open("rb") as handle:
        run = question_import_create(
            topic=topic,
            user=topic.owner,
            uploads=[UploadedFile(handle, name=path.name, size=path.stat().st_size)],
        )
    return run, time.perf_counter() - started


def _check_in_a_worker(run: QuestionImport, dbname: str, media: Path) -> dict:
    env = child_env(dbname, MEDIA_ROOT=str(media))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(run.pk)],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_import_bounds(
    *, scale, meta: dict, dbname: str, workdir: Path, log
) -> dict:
    size = scale.hostile_upload_mb * 2**20
    directory = workdir / "hostile"
    media = workdir / "media"
    directory.mkdir(exist_ok=True)
    media.mkdir(exist_ok=True)
    load_before = [round(x, 2) for x in os.getloadavg()]
    files = hostile_files(directory, size)
    owner = get_user_model().objects.get(pk=meta["owner_id"])
    topic = Topic.objects.create(name="bench hostile imports", owner=owner)
    shapes: dict[str, dict] = {}
    overrides = override_settings(
        MEDIA_ROOT=str(media),
        QUESTION_IMPORT_QUOTA_BYTES=10 * size,
        QUESTION_IMPORT_MAX_BYTES=2 * size,
    )
    try:
        with overrides:
            for name, path in files.items():
                run, store_s = _upload(topic, path)
                figures = _check_in_a_worker(run, dbname, media)
                figures.update(
                    file_mb=round(path.stat().st_size / 2**20, 1),
                    store_s=round(store_s, 2),
                )
                shapes[name] = figures
                log(f"  {name}: {_outcome(figures)}")
                path.unlink()
    finally:
        _forget_queued_checks()
        topic.delete()
    peak = max(f["peak_mb"] for f in shapes.values())
    return {
        "import_worker_peak_mb": peak,
        "import_bounds": {
            "upload_mb": scale.hostile_upload_mb,
            "max_rows": settings.QUESTION_IMPORT_MAX_ROWS,
            "shapes": shapes,
            "target_mb": TARGET_MB,
            "loadavg_before": load_before,
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        },
    }


def _forget_queued_checks() -> None:
    """The uploads queued their dry run for a cluster; the worker here ran it."""
    for task in OrmQ.objects.all():
        if task.func() == "study.tasks.question_import_check_task":
            task.delete()


def _outcome(f: dict) -> str:
    why = f" ({f['error_code']})" if f["error_code"] else ""
    return (
        f"{f['file_mb']} MB → {f['status']}{why} in {f['seconds']} s, worker peak "
        f"{f['peak_mb']} MB (baseline {f['baseline_mb']} MB)"
    )


def table(figures: dict | None) -> list[str]:
    if not figures:
        return ["hostile imports           —"]
    lines = [
        f"hostile imports, {figures['upload_mb']} MB each (worker peak RSS; "
        f"target ≤ {figures['target_mb']} MB; load {figures['loadavg_before']} → "
        f"{figures['loadavg_after']})",
        f"  {'shape':<14}{'MB':>7}{'store s':>9}{'check s':>9}{'peak MB':>9}"
        f"{'base MB':>9}  outcome",
    ]
    for name, f in figures["shapes"].items():
        outcome = f["status"] + (f" ({f['error_code']})" if f["error_code"] else "")
        report = f.get("report") or {}
        if report:
            outcome += (
                f": {report.get('rows', 0):,} rows, "
                f"{report.get('imported', 0):,} to add, "
                f"{report.get('rejected_count', 0):,} rejected"
            )
        lines.append(
            f"  {name:<14}{f['file_mb']:>7}{f['store_s']:>9}{f['seconds']:>9}"
            f"{f['peak_mb']:>9}{f['baseline_mb']:>9}  {outcome}"
        )
    return lines
