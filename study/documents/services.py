"""Study documents: create, update, remove, and ingest (text, chunks, embeddings)
with a heartbeat so a document whose worker died is taken over."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_q.tasks import async_task

from study.documents.chunking import Chunk, FrontMatter, chunk_text, split_front_matter
from study.documents.extraction import (
    DocumentRejected,
    extract_text,
    normalise_text,
    sniff_kind,
)
from study.documents.quotas import document_quota_check, document_size_check
from study.documents.summaries import document_summary_enqueue
from study.llm.embeddings import EmbeddingError, get_embedder
from study.models import (
    Document,
    DocumentChunk,
    DocumentError,
    DocumentStatus,
    Topic,
)

logger = logging.getLogger(__name__)

MAX_CHUNKS = 5000
# Embedding: batches small enough to report progress every few seconds.
EMBED_BATCH = 32
# What is embedded per chunk: its citation and the start of its text (see
# docs/documents.md for the measurements behind this cut).
EMBED_KEY_CHARS = 64
HEARTBEAT_STALE_MINUTES = 10
FILE_SUFFIXES = (".md", ".markdown", ".txt", ".pdf")
MAX_ATTEMPTS = 3


def split_chunks(text: str) -> list[Chunk]:
    """Structure-aware chunks of a body (see study.documents.chunking), exact
    duplicates dropped (repeated boilerplate is embedded once, not N times)."""
    seen: set[str] = set()
    unique: list[Chunk] = []
    for chunk in chunk_text(text):
        key = re.sub(r"\s+", " ", chunk.text).strip()
        if key in seen:
            continue
        seen.add(key)
        unique.append(chunk)
    return unique


def embedding_key(document_title: str, chunk: Chunk) -> str:
    """The text embedded for a chunk: where it is and how it starts.

    Lexical retrieval reads the whole chunk; the vector only has to place the
    chunk by topic, and e5 cost grows with tokens (see docs/documents.md)."""
    body = chunk.text
    if chunk.citation and body.startswith(chunk.citation.split(" ")[0]):
        body = body.split("\n", 1)[-1]
    head = " ".join(p for p in (document_title, chunk.citation) if p)
    return f"{head}\n{body}"[: len(head) + 1 + EMBED_KEY_CHARS]


@transaction.atomic
def document_create(
    *,
    owner,
    topics: list[Topic],
    title: str,
    upload: UploadedFile,
    material_type: str = "other",
    jurisdiction: str = "",
    year: int | None = None,
    enqueue: bool = True,
) -> Document:
    size = upload.size or 0
    document_size_check(size=size)
    document_quota_check(owner=owner, incoming_bytes=size)
    head = upload.read(8192)
    upload.seek(0)
    kind = sniff_kind(upload.name or "", head)
    document = Document.objects.create(
        owner=owner,
        title=title.strip() or upload.name or "",
        file=upload,
        file_kind=kind,
        material_type=material_type,
        jurisdiction=jurisdiction,
        year=year,
    )
    document.topics.set(topics)
    if enqueue:
        transaction.on_commit(lambda: document_ingest_enqueue(document.pk))
    return document


@transaction.atomic
def document_remove_from_topic(*, document: Document, topic: Topic) -> bool:
    """Take the document out of the topic; one in no topic is deleted with its
    chunks. Returns whether it was deleted."""
    document.topics.remove(topic)
    if document.topics.exists():
        return False
    document.delete()
    return True


def document_ingest_enqueue(document_id: int) -> None:
    """Queue the document's ingest; call it on commit. Best effort: the
    every-minute safety net (documents_ingest_pending) catches a lost one."""
    try:
        async_task("study.tasks.document_ingest_task", document_id)
    except Exception:  # the safety-net schedule picks it up later
        logger.exception("could not enqueue ingest of document %s", document_id)


def document_retry(*, document: Document) -> Document:
    """A failed (or stuck) document goes back to the queue, text re-extracted."""
    updated = Document.objects.filter(
        pk=document.pk, status__in=[DocumentStatus.FAILED, DocumentStatus.PENDING]
    ).update(
        status=DocumentStatus.PENDING,
        error_code="",
        error_params={},
        text="",
        attempts=0,
        pieces_done=0,
        pieces_total=0,
    )
    if updated:
        transaction.on_commit(lambda: document_ingest_enqueue(document.pk))
    document.refresh_from_db()
    return document


def documents_reprocess(*, document_ids: list[int]) -> int:
    """Admin action: ready or failed documents are extracted and embedded again."""
    document_ids = list(
        Document.objects.filter(pk__in=document_ids)
        .exclude(status=DocumentStatus.PROCESSING)
        .values_list("id", flat=True)
    )
    count = Document.objects.filter(pk__in=document_ids).update(
        status=DocumentStatus.PENDING,
        text="",
        error_code="",
        error_params={},
        attempts=0,
        pieces_done=0,
        pieces_total=0,
    )
    for pk in document_ids:
        transaction.on_commit(partial(document_ingest_enqueue, pk))
    return count


# What a curator may change on a document (Django admin), and what its chunks
# and their vectors are made of: a change there means processing it again.
DOCUMENT_EDITABLE_FIELDS = (
    "owner",
    "title",
    "file",
    "material_type",
    "jurisdiction",
    "year",
    "summary",
)
DOCUMENT_SOURCE_FIELDS = frozenset({"file", "title"})


@transaction.atomic
def document_update(*, document: Document, data: dict) -> set[str]:
    """Apply an edit; a new file or title is extracted and embedded again (the
    old chunks were made from the old file, their vectors carry the title)."""
    locked = Document.objects.select_for_update().get(pk=document.pk)
    changed = {
        key
        for key, value in data.items()
        if key in DOCUMENT_EDITABLE_FIELDS and getattr(locked, key) != value
    }
    if "file" in changed and data["file"]:
        document_size_check(size=data["file"].size)
        document_quota_check(
            owner=locked.owner, incoming_bytes=data["file"].size, replacing=locked
        )
    for key in changed:
        setattr(locked, key, data[key])
    if "file" in changed and locked.file:
        head = locked.file.read(8192)
        locked.file.seek(0)
        locked.file_kind = sniff_kind(locked.file.name or "", head)
    if changed:
        locked.save()
    if changed & DOCUMENT_SOURCE_FIELDS:
        documents_reprocess(document_ids=[locked.pk])
    document.refresh_from_db()
    return changed


def _stale_before():
    return timezone.now() - timedelta(minutes=HEARTBEAT_STALE_MINUTES)


def document_ingest(
    *, document_id: int, progress: Callable[[int, int], None] | None = None
) -> Document:
    """Extract, chunk and embed; the document ends ready or failed with a reason.

    A document left "processing" by a worker that died (no heartbeat for
    HEARTBEAT_STALE_MINUTES) is claimed again; after MAX_ATTEMPTS it fails.
    """
    now = timezone.now()
    claimable = Q(status__in=[DocumentStatus.PENDING, DocumentStatus.FAILED]) | Q(
        status=DocumentStatus.PROCESSING, heartbeat_at__lt=_stale_before()
    )
    claimed = (
        Document.objects.filter(claimable, pk=document_id)
        .filter(attempts__lt=MAX_ATTEMPTS)
        .update(
            status=DocumentStatus.PROCESSING,
            error_code="",
            error_params={},
            attempts=F("attempts") + 1,
            pieces_done=0,
            pieces_total=0,
            started_at=now,
            heartbeat_at=now,
        )
    )
    document = Document.objects.get(pk=document_id)
    if not claimed:
        if document.status == DocumentStatus.PROCESSING and (
            document.heartbeat_at and document.heartbeat_at < _stale_before()
        ):
            return _fail(
                document, DocumentError.WORKER_STOPPED, max_attempts=MAX_ATTEMPTS
            )
        return document
    try:
        chunks = _prepare_chunks(document)
        _store_chunks(document, chunks)
        embedder = get_embedder()
        _embed_chunks(document, embedder, progress)
    except DocumentRejected as exc:
        return _fail(document, exc.code, **exc.params)
    except EmbeddingError as exc:
        return _fail(document, DocumentError.EMBEDDING_FAILED, detail=str(exc)[:300])
    except Exception as exc:
        logger.exception("ingest of document %s failed", document_id)
        return _fail(document, DocumentError.INGEST_ERROR, name=type(exc).__name__)
    document.status = DocumentStatus.READY
    document.chunk_count = document.pieces_done = len(chunks)
    document.processed_at = timezone.now()
    document.save(
        update_fields=[
            "status",
            "chunk_count",
            "pieces_done",
            "processed_at",
            "error_code",
            "error_params",
        ]
    )
    transaction.on_commit(lambda: document_summary_enqueue(document.pk))
    return document


def _store_chunks(document: Document, chunks: list[Chunk]) -> None:
    """Chunks are written first (no vectors yet); the document is not READY,
    so retrieval does not see them until every vector is in."""
    with transaction.atomic():
        document.chunks.all().delete()
        DocumentChunk.objects.bulk_create(
            DocumentChunk(
                document=document,
                ordinal=i,
                text=chunk.text,
                citation=chunk.citation[:300],
                section=chunk.section[:500],
                article=chunk.article[:30],
            )
            for i, chunk in enumerate(chunks)
        )
        document.pieces_total = len(chunks)
        document.pieces_done = 0
        document.heartbeat_at = timezone.now()
        document.save(
            update_fields=[
                "text",
                "title",
                "promulgated_on",
                "effective_on",
                "source_url",
                "annexes",
                "front_matter",
                "pieces_total",
                "pieces_done",
                "heartbeat_at",
            ]
        )


def _embed_chunks(document: Document, embedder, progress) -> None:
    rows = list(
        document.chunks.order_by("ordinal").only("id", "text", "citation", "article")
    )
    done = 0
    for start in range(0, len(rows), EMBED_BATCH):
        batch = rows[start : start + EMBED_BATCH]
        keys = [
            embedding_key(document.title, Chunk(c.text, c.citation, article=c.article))
            for c in batch
        ]
        vectors = embedder.embed_passages(keys)
        for chunk, vector in zip(batch, vectors, strict=True):
            chunk.embedding, chunk.embedding_model = vector, embedder.name
        DocumentChunk.objects.bulk_update(batch, ["embedding", "embedding_model"])
        done += len(batch)
        Document.objects.filter(pk=document.pk).update(
            pieces_done=done, heartbeat_at=timezone.now()
        )
        if progress:
            progress(done, len(rows))


def _prepare_chunks(document: Document) -> list[Chunk]:
    if not document.text:
        with document.file.open("rb") as handle:
            data = handle.read()
        raw = extract_text(document.file_kind, data)
        meta, body = split_front_matter(raw.replace("\r\n", "\n"))
        document.text = normalise_text(body)
        _apply_front_matter(document, meta)
    if not document.text.strip():
        raise DocumentRejected(DocumentError.NO_TEXT)
    chunks = split_chunks(document.text)
    if len(chunks) > MAX_CHUNKS:
        raise DocumentRejected(
            DocumentError.TOO_MANY_CHUNKS, n_chunks=len(chunks), max_chunks=MAX_CHUNKS
        )
    return chunks


def _apply_front_matter(document: Document, meta: FrontMatter) -> None:
    document.front_matter = meta.fields
    document.promulgated_on = meta.promulgated[:40]
    document.effective_on = meta.effective[:40]
    url = meta.source_url
    document.source_url = url[:500] if url.startswith(("http://", "https://")) else ""
    document.annexes = meta.annexes
    # A title the user typed wins; a file name stand-in gives way to the act's name.
    if meta.title and (
        not document.title
        or document.title == _file_name(document)
        or document.title.lower().endswith(FILE_SUFFIXES)
    ):
        document.title = meta.title[:300]


def _file_name(document: Document) -> str:
    return (document.file.name or "").rsplit("/", 1)[-1]


def _fail(document: Document, code: DocumentError, **params: object) -> Document:
    document.status = DocumentStatus.FAILED
    document.error_code, document.error_params = code, params
    document.processed_at = timezone.now()
    document.save(
        update_fields=["status", "error_code", "error_params", "processed_at", "text"]
    )
    return document


def documents_reembed(*, model_name: str | None = None) -> int:
    """Re-embed every chunk not made by the current embedder (after a model change)."""
    embedder = get_embedder()
    stale = DocumentChunk.objects.exclude(embedding_model=embedder.name)
    if model_name:
        stale = stale.filter(embedding_model=model_name)
    done = 0
    ids = list(stale.values_list("id", flat=True))
    for start in range(0, len(ids), 256):
        batch = list(
            DocumentChunk.objects.filter(
                id__in=ids[start : start + 256]
            ).select_related("document")
        )
        vectors = embedder.embed_passages(
            [
                embedding_key(
                    c.document.title, Chunk(c.text, c.citation, article=c.article)
                )
                for c in batch
            ]
        )
        for chunk, vector in zip(batch, vectors, strict=True):
            chunk.embedding, chunk.embedding_model = vector, embedder.name
        DocumentChunk.objects.bulk_update(batch, ["embedding", "embedding_model"])
        done += len(batch)
    return done
