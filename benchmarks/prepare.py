"""Build (or reuse) the dataset of a scale and clone it for one run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.management import call_command
from django.db import connections
from django.db.migrations.loader import MigrationLoader

from benchmarks import database
from benchmarks.dataset import DatasetBuilder, relations_version
from benchmarks.scales import Scale


@dataclass
class Dataset:
    database: str
    template: str
    reused: bool
    build_s: float
    clone_s: float
    meta: dict

    def as_dict(self) -> dict:
        return {
            "database": self.database,
            "template": self.template,
            "reused": self.reused,
            "build_s": self.build_s,
            "clone_s": self.clone_s,
            "rows": self.meta.get("rows", {}),
            "big_topic_questions": self.meta.get("big_topic_questions"),
        }


def migration_leaves() -> list[str]:
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return [f"{app}.{name}" for app, name in graph.leaf_nodes()]


def dataset_prepare(
    *, scale: Scale, rebuild: bool, log, run: str | None = None
) -> Dataset:
    template = f"gichul_bench_{scale.name}_tpl"
    run = run or f"gichul_bench_{scale.name}"
    fingerprint = scale.fingerprint(migration_leaves(), relations_version())
    # Concurrent runs (two test sessions) take turns building and cloning.
    with database.advisory_lock(template):
        stored = None if rebuild else database.read_fingerprint(template)
        reused = stored is not None and stored.get("fingerprint") == fingerprint
        if stored is not None and reused:
            meta = stored["meta"]
            log(f"dataset {template}: reused (fingerprint {fingerprint})")
        else:
            log(f"dataset {template}: building ({scale.name}) …")
            meta = _build(scale, template, fingerprint, log)
        started = time.monotonic()
        database.clone(template, run)
    clone_s = round(time.monotonic() - started, 1)
    log(f"dataset cloned into {run} in {clone_s} s")
    return Dataset(run, template, reused, meta["build_s"], clone_s, meta)


def _build(scale: Scale, template: str, fingerprint: str, log) -> dict:
    started = time.monotonic()
    database.drop(template)
    database.create(template)
    with database.use_database(template):
        call_command("migrate", interactive=False, verbosity=0)
    connections.close_all()
    with database.connect(template, autocommit=True) as conn:
        meta = DatasetBuilder(scale, conn, log).build()
        meta["build_s"] = round(time.monotonic() - started, 1)
        with conn.cursor() as cursor:
            database.write_fingerprint(
                cursor,
                {
                    "fingerprint": fingerprint,
                    "params": scale.dataset_params(),
                    "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "meta": meta,
                },
            )
    log(f"dataset built in {meta['build_s']} s")
    return meta
