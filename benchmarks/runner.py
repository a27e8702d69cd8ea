"""One benchmark run: dataset, measurements, result dict of issue 8's shape."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.core.management import call_command
from django.test.utils import override_settings

from benchmarks import batch, database, load, pipeline, report
from benchmarks.import_bounds import measure_import_bounds
from benchmarks.ingest import measure_ingest
from benchmarks.paths import URLCONF, HotPaths
from benchmarks.prepare import dataset_prepare
from benchmarks.scales import Scale
from studyproj.gc_policy import freeze_startup_heap
from tests.fakes.openai_server import FakeOpenAI

QUIET_LOGGERS = ("django-q", "httpx")
MEASUREMENTS = (
    "pickup",
    "paths",
    "import",
    "embed",
    "related",
    "load",
    "ingest",
    "import_bounds",
)
FIGURE_OF = {
    "pickup": ("pickup_latency_s", "pipeline_overhead_pct", "pipeline_job_overhead_s"),
    "import": ("import_rows_per_s",),
    "embed": ("embed_questions_per_s",),
    "related": ("related_7000_s", "related_7000_with_embeddings_s"),
    "load": ("load_test",),
    "ingest": ("ingest_s",),
    "import_bounds": ("import_worker_peak_mb",),
}


def empty_result(scale: Scale) -> dict:
    info = report.machine()
    postgres = database.server_info()
    return {
        "scale": scale.name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": report.machine_line(info, postgres),
        "machine_info": {**info, "postgres": postgres},
        "settings": {
            "module": settings.SETTINGS_MODULE,
            "debug": settings.DEBUG,
            "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
        },
        "paths": {name: None for name in report.REQUIRED_PATHS},
        **{figure: None for figure in report.FIGURES},
        "load_test": None,
        "sections": {},
        "skipped": {},
    }


@contextmanager
def _section(result: dict, name: str) -> Iterator[None]:
    """Record how long a part of the run took and the 1-minute load average
    at its end, so that every figure can be read beside the load it was
    measured at (issue 30) and the whole run's time is accounted for."""
    started = time.monotonic()
    try:
        yield
    finally:
        result["sections"][name] = {
            "seconds": round(time.monotonic() - started, 1),
            "load1_end": round(os.getloadavg()[0], 2),
        }


def benchmark_run(
    *,
    scale: Scale,
    only: set[str],
    rebuild: bool = False,
    llm_latency_s: float = 0.5,
    keep_workdir: bool = False,
    drop_after: bool = False,
    documents_dir: Path | None = None,
    embed_limit: int | None = None,
    log: Callable[[str], None] = print,
) -> dict:
    started = time.monotonic()
    for name in QUIET_LOGGERS:  # a line per task or request drowns the progress
        logging.getLogger(name).setLevel(logging.WARNING)
    result = empty_result(scale)
    if settings.DEBUG:
        log("warning: DEBUG is on; every query is recorded, figures run slow")
    if "ingest" in only and (scale.name != "tiny" or only == {"ingest"}):
        # Needs no synthetic dataset: runs in a rolled-back transaction.
        log("ingest …")
        with _section(result, "ingest"):
            _ingest(result, documents_dir, log)
    elif "ingest" in only:
        result["skipped"]["ingest_s"] = "tiny scale (run --only ingest)"
    if only <= {"ingest"}:
        for name in MEASUREMENTS:
            if name != "ingest":
                for figure in FIGURE_OF.get(name, (name,)):
                    result["skipped"][figure] = "not selected (--only)"
        result["machine_info"]["loadavg_at_end"] = [
            round(x, 2) for x in os.getloadavg()
        ]
        result["machine_info"]["cpu_reference_ms_end"] = report.cpu_reference_ms()
        result["duration_s"] = round(time.monotonic() - started, 1)
        result["targets"] = report.targets(result)
        return result
    # A clone that is dropped afterwards gets a name of its own, so that
    # concurrent runs (two test sessions) never share one.
    run_name = f"gichul_bench_{scale.name}_{os.getpid()}" if drop_after else None
    with _section(result, "dataset"):
        dataset = dataset_prepare(scale=scale, rebuild=rebuild, log=log, run=run_name)
    result["dataset"] = {**dataset.as_dict(), "params": scale.dataset_params()}
    meta = dataset.meta
    workdir = Path(tempfile.mkdtemp(prefix=f"gichul-bench-{scale.name}-"))
    failed = False
    try:
        with database.use_database(dataset.database), ExitStack() as stack:
            env_extra = stack.enter_context(_static_files(workdir))
            steps = _steps(
                scale,
                meta,
                dataset.database,
                workdir,
                env_extra,
                llm_latency_s,
                log,
                embed_limit,
            )
            for name in MEASUREMENTS:
                if name == "ingest":
                    continue  # measured above
                if name not in only:
                    for figure in FIGURE_OF.get(name, ()):
                        result["skipped"][figure] = "not selected (--only)"
                    continue
                log(f"{name} …")
                try:
                    with _section(result, name):
                        steps[name](result)
                except Exception as exc:
                    failed = True
                    log(traceback.format_exc())
                    for figure in FIGURE_OF.get(name, ("paths",)):
                        result["skipped"][figure] = (
                            f"failed: {type(exc).__name__}: {exc}"
                        )
    finally:
        if drop_after:
            database.drop(dataset.database)
        if keep_workdir or failed:
            log(f"work files kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if "paths" not in only:
        result["skipped"]["paths"] = "not selected (--only)"
    result["machine_info"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["machine_info"]["cpu_reference_ms_end"] = report.cpu_reference_ms()
    result["duration_s"] = round(time.monotonic() - started, 1)
    result["targets"] = report.targets(result)
    return result


def _ingest(result: dict, documents_dir: Path | None, log) -> None:
    try:
        figures, reason = measure_ingest(documents_dir=documents_dir, log=log)
    except Exception as exc:
        log(traceback.format_exc())
        figures, reason = None, f"failed: {type(exc).__name__}: {exc}"
    result["ingest"] = figures
    history = figures is not None and figures["target_s"] != figures.get("six_target_s")
    result["ingest_s"] = figures["seconds"] if figures and not history else None
    result["ingest_history_s"] = figures["seconds"] if figures and history else None
    if reason:
        result["skipped"]["ingest_s"] = reason


def _steps(
    scale, meta, dbname, workdir, env_extra, llm_latency_s, log, embed_limit=None
) -> dict:
    def paths(result: dict) -> None:
        measured = _hot_paths(scale, meta, log)
        result["paths"].update(measured["paths"])
        result["skipped"].update(measured["skipped"])

    def pickup(result: dict) -> None:
        figures = pipeline.measure_pickup(
            scale=scale,
            meta=meta,
            dbname=dbname,
            workdir=workdir,
            llm_latency_s=llm_latency_s,
            log=log,
        )
        result["pickup_latency_s"] = figures["pickup_latency_s"]
        result["pipeline_overhead_pct"] = figures["pipeline_overhead_pct"]
        result["pipeline_job_overhead_s"] = figures["job_overhead_s"]
        result["pipeline"] = figures

    def imports(result: dict) -> None:
        result.update(
            batch.measure_import(scale=scale, meta=meta, workdir=workdir, log=log)
        )

    def embed(result: dict) -> None:
        result.update(batch.measure_embedding(scale=scale, meta=meta, log=log))

    def related(result: dict) -> None:
        figures, reason = batch.measure_related(
            meta=meta, log=log, embed_limit=embed_limit or scale.related_embed_limit
        )
        if reason:
            result["skipped"]["related_7000_s"] = reason
        result.update(figures)

    def load_test(result: dict) -> None:
        result["load_test"] = load.measure_load(
            scale=scale,
            meta=meta,
            dbname=dbname,
            workdir=workdir,
            env_extra=env_extra,
            log=log,
        )

    def import_bounds(result: dict) -> None:
        result.update(
            measure_import_bounds(
                scale=scale, meta=meta, dbname=dbname, workdir=workdir, log=log
            )
        )

    # The pickup runs first: the hot paths leave explanation jobs queued.
    return {
        "pickup": pickup,
        "paths": paths,
        "import": imports,
        "embed": embed,
        "related": related,
        "load": load_test,
        "import_bounds": import_bounds,
    }


def _hot_paths(scale, meta, log) -> dict:
    with ExitStack() as stack:
        fake = stack.enter_context(FakeOpenAI())
        llm = {"LLM_BASE_URL": fake.base_url, "LLM_MODEL": "fake-model"}
        stack.enter_context(override_settings(ROOT_URLCONF=URLCONF, **llm))
        bench = HotPaths(scale=scale, meta=meta, log=log)
        # The requests run in this process: its heap is set up as a server
        # process sets up its own (studyproj/wsgi.py).
        freeze_startup_heap()
        paths: dict[str, dict | None] = dict(bench.run_all())
    for name in report.REQUIRED_PATHS:
        paths.setdefault(name, None)
    return {"paths": paths, "skipped": bench.skipped}


@contextmanager
def _static_files(workdir: Path) -> Iterator[dict]:
    """With manifest storage, collect static files into a bench-owned root."""

    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        yield {}
        return
    root = workdir / "static"
    with override_settings(STATIC_ROOT=str(root)):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield {"STATIC_ROOT": str(root)}
