"""Ingest of real study documents (issue 11): the six shared statutes into one
topic, timed per document, inside a transaction that is rolled back (the
working data is left as it was; uploaded files go to a temporary folder)."""

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

from study.documents.services import (
    EMBED_BATCH,
    EMBED_KEY_CHARS,
    document_create,
    document_ingest,
)
from study.llm.embeddings import get_embedder
from study.models import DocumentStatus, MaterialType, Topic

TARGET_S = 120


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


def measure_ingest(*, documents_dir: Path | None, log) -> tuple[dict | None, str]:
    folder = documents_dir or default_documents_dir()
    if folder is None or not folder.is_dir():
        return None, "no statutes folder (../shared/data/documents); pass --documents"
    files = sorted(
        p for p in folder.iterdir() if p.suffix == ".md" and p.name != "README.md"
    )
    if not files:
        return None, f"no .md documents in {folder}"
    embedder = get_embedder()
    embedder.embed_passages(["warm-up"])  # model load is not ingest
    load_before = [round(x, 2) for x in os.getloadavg()]
    rows: list[dict] = []
    started = time.perf_counter()
    cpu_started = time.process_time()
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
                t0 = time.perf_counter()
                with path.open("rb") as handle:
                    document = document_create(
                        owner=owner,
                        topics=[topic],
                        title="",
                        upload=UploadedFile(
                            handle, name=path.name, size=path.stat().st_size
                        ),
                        material_type=MaterialType.LAW,
                        enqueue=False,
                    )
                document = document_ingest(document_id=document.pk)
                seconds = time.perf_counter() - t0
                rows.append(
                    {
                        "file": path.name,
                        "title": document.title,
                        "status": document.status,
                        "error": document.error,
                        "characters": len(document.text),
                        "chunks": document.chunk_count,
                        "seconds": round(seconds, 2),
                    }
                )
                log(
                    f"  {path.name}: {document.chunk_count} chunks, "
                    f"{len(document.text):,} chars, {seconds:.1f} s"
                )
            raise _Rollback
    except _Rollback:
        pass
    total = time.perf_counter() - started
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
            "per_document": rows,
            "embedder": embedder.name,
            "embed_batch": EMBED_BATCH,
            "embed_key_chars": EMBED_KEY_CHARS,
            "loadavg_before": load_before,
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "target_s": TARGET_S,
        },
        "",
    )


def table(figures: dict) -> list[str]:
    lines = [
        f"ingest: {figures['documents']} documents, {figures['characters']:,} chars, "
        f"{figures['chunks']:,} chunks in {figures['seconds']} s "
        f"({figures['characters_per_s']:,.0f} chars/s, {figures['chunks_per_s']} "
        f"chunks/s; load {figures['loadavg_before']} → {figures['loadavg_after']})",
    ]
    for row in figures["per_document"]:
        lines.append(
            f"  {row['file']:<34}{row['chunks']:>6} chunks"
            f"{row['characters']:>10,} chars{row['seconds']:>8.1f} s  {row['status']}"
        )
    return lines
