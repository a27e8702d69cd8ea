"""Ingest of real study documents (issue 11): the six shared statutes into one
topic, timed per document, inside a transaction that is rolled back (the
working data is left as it was; uploaded files go to a temporary folder).

Given a folder of statute versions (issue 26: ../shared/data/documents/history),
every version is loaded the way add_documents loads it (newest first per
act), then the whole folder again: the second run must be a no-op."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.test.utils import override_settings

from study.documents.files import document_files, newest_versions_first
from study.documents.services import (
    EMBED_BATCH,
    EMBED_KEY_CHARS,
    document_add,
    document_ingest,
)
from study.llm.embeddings import get_embedder
from study.models import (
    Document,
    DocumentChunk,
    DocumentStatus,
    EmbeddingCache,
    MaterialType,
    Topic,
)

TARGET_S = 120
HISTORY_TARGET_S = 600  # issue 26: every version of the six statutes


class _Rollback(Exception):
    pass


def default_documents_dir() -> Path | None:
    """../shared/data/documents beside the checkout (or beside its worktree folder)."""
    base = Path(settings.BASE_DIR).resolve()
    for parent in (base.parent, base.parent.parent):
        candidate = parent / "shared" / "data" / "documents"
        if candidate.is_dir():
            return candidate
    return None


def _files(folder: Path) -> list[Path]:
    """The folder's own statutes (the six current ones), or, when it has
    none, every document under it (a history folder of versions)."""
    top = sorted(
        p for p in folder.iterdir() if p.suffix == ".md" and p.name != "README.md"
    )
    return newest_versions_first(top or document_files([folder]))


def measure_ingest(*, documents_dir: Path | None, log) -> tuple[dict | None, str]:
    folder = documents_dir or default_documents_dir()
    if folder is None or not folder.is_dir():
        return None, "no statutes folder (../shared/data/documents); pass --documents"
    files = _files(folder)
    if not files:
        return None, f"no .md documents in {folder}"
    embedder = get_embedder()
    embedder.embed_passages(["warm-up"])  # model load is not ingest
    load_before = [round(x, 2) for x in os.getloadavg()]
    rows: list[dict] = []
    totals: dict = {}
    started = time.perf_counter()
    cpu_started = time.process_time()
    cache_before = EmbeddingCache.objects.filter(embedding_model=embedder.name).count()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="gichul-ingest-") as media,
            override_settings(MEDIA_ROOT=media),
            transaction.atomic(),
        ):
            owner = get_user_model().objects.create(
                username=f"bench-ingest-{os.getpid()}"
            )
            topic = Topic.objects.create(name="bench ingest", owner=owner)
            for path in files:
                rows.append(_load_one(path, owner, topic, log))
            totals["seconds"] = time.perf_counter() - started
            again = time.perf_counter()
            outcomes = [_add(path, owner, topic).outcome for path in files]
            totals["second_run_seconds"] = round(time.perf_counter() - again, 1)
            totals["second_run_outcomes"] = {
                o: outcomes.count(o) for o in set(outcomes)
            }
            totals.update(_stored(owner, embedder.name, cache_before))
            raise _Rollback
    except _Rollback:
        pass
    total = totals["seconds"]
    chars = sum(r["characters"] for r in rows)
    chunks = sum(r["chunks"] for r in rows)
    failed = [r["file"] for r in rows if r["status"] != DocumentStatus.READY]
    return (
        {
            "documents": len(rows),
            "failed": failed,
            "characters": chars,
            "chunks": chunks,
            "seconds": round(total, 1),
            "cpu_seconds_main_process": round(time.process_time() - cpu_started, 1),
            "characters_per_s": round(chars / total, 0),
            "chunks_per_s": round(chunks / total, 2),
            **{k: v for k, v in totals.items() if k != "seconds"},
            "per_document": rows,
            "embedder": embedder.name,
            "embed_batch": EMBED_BATCH,
            "embed_key_chars": EMBED_KEY_CHARS,
            "loadavg_before": load_before,
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "target_s": TARGET_S if len(rows) <= 10 else HISTORY_TARGET_S,
            "six_target_s": TARGET_S,
        },
        "",
    )


def _add(path: Path, owner, topic: Topic):
    with path.open("rb") as handle:
        return document_add(
            owner=owner,
            topics=[topic],
            title="",
            upload=UploadedFile(handle, name=path.name, size=path.stat().st_size),
            material_type=MaterialType.LAW,
            enqueue=False,
        )


def _load_one(path: Path, owner, topic: Topic, log) -> dict:
    t0 = time.perf_counter()
    document = _add(path, owner, topic).document
    document = document_ingest(document_id=document.pk)
    seconds = time.perf_counter() - t0
    log(
        f"  {path.parent.name}/{path.name}: {document.chunk_count} chunks, "
        f"{len(document.text):,} chars, {seconds:.1f} s"
    )
    return {
        "file": f"{path.parent.name}/{path.name}",
        "title": document.title,
        "status": document.status,
        "error": document.error,
        "in_force": document.in_force,
        "characters": len(document.text),
        "chunks": document.chunk_count,
        "seconds": round(seconds, 2),
    }


def _stored(owner, model: str, cache_before: int) -> dict:
    """What the load stored: chunk rows, distinct texts and keys, the keys
    embedded (new cache rows) and the chunks that carry vectors."""
    chunks = DocumentChunk.objects.filter(document__owner=owner)
    return {
        "versions_in_force": Document.objects.filter(
            owner=owner, in_force=True
        ).count(),
        "distinct_chunk_texts": chunks.values("text").distinct().count(),
        "distinct_embedding_keys": chunks.values("key_digest").distinct().count(),
        "keys_embedded": EmbeddingCache.objects.filter(embedding_model=model).count()
        - cache_before,
        "chunks_with_vectors": chunks.filter(embedding__isnull=False).count(),
    }


def table(figures: dict) -> list[str]:
    lines = [
        f"ingest: {figures['documents']} documents, {figures['characters']:,} chars, "
        f"{figures['chunks']:,} chunks in {figures['seconds']} s "
        f"({figures['characters_per_s']:,.0f} chars/s, {figures['chunks_per_s']} "
        f"chunks/s; load {figures['loadavg_before']} → {figures['loadavg_after']})",
        f"  distinct chunk texts {figures['distinct_chunk_texts']:,}, embedding keys "
        f"{figures['distinct_embedding_keys']:,}, keys embedded "
        f"{figures['keys_embedded']:,}, chunks with vectors "
        f"{figures['chunks_with_vectors']:,} ({figures['versions_in_force']} "
        "versions in force)",
        f"  second run: {figures['second_run_seconds']} s, "
        f"{figures['second_run_outcomes']}",
    ]
    by_act: dict[str, list[dict]] = {}
    for row in figures["per_document"]:
        by_act.setdefault(row["title"] or row["file"], []).append(row)
    for title, rows in by_act.items():
        failed = sum(r["status"] != DocumentStatus.READY for r in rows)
        lines.append(
            f"  {title[:34]:<34}{len(rows):>4} versions"
            f"{sum(r['chunks'] for r in rows):>8,} chunks"
            f"{sum(r['characters'] for r in rows):>12,} chars"
            f"{sum(r['seconds'] for r in rows):>8.1f} s"
            + (f"  {failed} failed" if failed else "")
        )
    return lines
