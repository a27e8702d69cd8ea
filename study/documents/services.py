"""Study documents: create, update, remove, and ingest (text, chunks, embeddings)
with a heartbeat so a document whose worker died is taken over."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from study.documents.chunking import Chunk, FrontMatter, chunk_text, split_front_matter
from study.documents.extraction import (
    DocumentRejected,
    extract_text,
    normalise_text,
    sniff_kind,
)
from study.documents.files import FILE_SUFFIXES
from study.documents.quotas import document_quota_check, document_size_check
from study.documents.summaries import document_summary_enqueue
from study.documents.versions import (
    ActVersion,
    act_version,
    content_digest,
    searchable_version,
)
from study.evidence.services import (
    topic_cards_compute_enqueue,
    topic_cards_compute_enqueue_ids,
)
from study.llm.embeddings import Embedder, EmbeddingError, get_embedder
from study.models import (
    Document,
    DocumentChunk,
    DocumentError,
    DocumentStatus,
    EmbeddingCache,
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


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def embedding_key(document_title: str, chunk: Chunk) -> str:
    """The text embedded for a chunk: where it is and how it starts.

    Lexical retrieval reads the whole chunk; the vector only has to place the
    chunk by topic, and e5 cost grows with tokens (see docs/documents.md)."""
    body = chunk.text
    if chunk.citation and body.startswith(chunk.citation.split(" ")[0]):
        body = body.split("\n", 1)[-1]
    head = " ".join(p for p in (document_title, chunk.citation) if p)
    return f"{head}\n{body}"[: len(head) + 1 + EMBED_KEY_CHARS]


@dataclass(frozen=True)
class DocumentAdded:
    """What adding a file did: created a document, found the same version of
    the act already there (nothing to do), or replaced that version's text."""

    document: Document
    outcome: str  # "created" | "existing" | "replaced"

    @property
    def needs_ingest(self) -> bool:
        return self.outcome != "existing"


def document_create(**kwargs: Any) -> Document:
    return document_add(**kwargs).document


@transaction.atomic
def document_add(
    *,
    owner: User,
    topics: list[Topic],
    title: str,
    upload: UploadedFile,
    material_type: str = "other",
    jurisdiction: str = "",
    year: int | None = None,
    enqueue: bool = True,
) -> DocumentAdded:
    """A new document, or, for a statute whose front matter names an act and
    a version the owner already has, that document (in these topics too):
    the same version again is a no-op, new text for it replaces the old."""
    size = upload.size or 0
    document_size_check(size=size)
    head = upload.read(8192)
    upload.seek(0)
    kind = sniff_kind(upload.name or "", head)
    version, digest = _upload_version(upload, kind)
    if version is not None:
        existing = _same_version(owner, version)
        if existing is not None:
            return _version_again(existing, topics, upload, digest, size, enqueue)
    document_quota_check(owner=owner, incoming_bytes=size)
    try:
        with transaction.atomic():
            document = Document.objects.create(
                owner=owner,
                title=title.strip() or upload.name or "",
                file=upload,
                file_kind=kind,
                material_type=material_type,
                jurisdiction=jurisdiction,
                year=year,
                content_digest=digest,
                **_version_fields(version),
            )
    except IntegrityError:  # the same version added at the same moment
        existing = _same_version(owner, version) if version else None
        if existing is None:
            raise
        return _version_again(existing, topics, upload, digest, size, enqueue)
    document.topics.set(topics)
    if enqueue:
        transaction.on_commit(lambda: document_ingest_enqueue(document.pk))
    return DocumentAdded(document, "created")


# What a document waiting for its ingest again looks like (new text for a
# version, or a retry): pending, with no text, reason or progress left.
_INGEST_AGAIN: dict[str, object] = {
    "status": DocumentStatus.PENDING,
    "text": "",
    "error_code": "",
    "error_params": {},
    "attempts": 0,
    "pieces_done": 0,
    "pieces_total": 0,
}


def _upload_version(upload: UploadedFile, kind: str) -> tuple[ActVersion | None, str]:
    """The act and version a text file's front matter names, and a digest of
    its text; (None, "") for a PDF (its text is read by the ingest)."""
    if kind == "pdf":
        return None, ""
    data = upload.read()
    upload.seek(0)
    meta, body = split_front_matter(extract_text(kind, data).replace("\r\n", "\n"))
    return act_version(meta.fields, title=meta.title), content_digest(body)


def _version_fields(version: ActVersion | None) -> dict:
    if version is None:
        return {}
    return {
        "act_key": version.act,
        "effective_date": version.effective,
        "promulgation_no": version.number,
        "in_force": False,  # until the ingest finds it is the version in force
    }


def _same_version(owner: User, version: ActVersion) -> Document | None:
    return (
        Document.objects.select_for_update()
        .filter(
            owner=owner,
            act_key=version.act,
            effective_date=version.effective,
            promulgation_no=version.number,
        )
        .first()
    )


def _version_again(
    document: Document,
    topics: list[Topic],
    upload: UploadedFile,
    digest: str,
    size: int,
    enqueue: bool,
) -> DocumentAdded:
    document.topics.add(*topics)
    if document.content_digest == digest and document.status != DocumentStatus.FAILED:
        return DocumentAdded(document, "existing")
    document_quota_check(owner=document.owner, incoming_bytes=size)
    document.file = upload
    document.content_digest = digest
    document.save(update_fields=["file", "content_digest"])
    Document.objects.filter(pk=document.pk).update(**_INGEST_AGAIN)
    if enqueue:
        transaction.on_commit(lambda: document_ingest_enqueue(document.pk))
    document.refresh_from_db()
    return DocumentAdded(document, "replaced")


@transaction.atomic
def document_remove_from_topic(*, document: Document, topic: Topic) -> bool:
    """Take the document out of the topic; one in no topic is deleted with its
    chunks. Returns whether it was deleted."""
    document.topics.remove(topic)
    if document.status == DocumentStatus.READY and document.in_force:
        topic_cards_compute_enqueue(topic=topic)  # its passages leave the cards
    if document.topics.exists():
        return False
    owner_id, act = document.owner_id, document.act_key
    document.delete()
    if act:  # another version may be the one in force now
        transaction.on_commit(
            partial(act_versions_refresh_later, owner_id=owner_id, act_key=act)
        )
    return True


def act_versions_refresh_later(*, owner_id: int, act_key: str) -> None:
    """After a version is removed: the refresh may embed, so it runs in the
    background (best effort; the hourly refresh catches a lost one)."""
    try:
        async_task("study.tasks.act_versions_refresh_task", owner_id, act_key)
    except Exception:
        logger.exception("could not enqueue the versions of %s", act_key)


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
    count = Document.objects.filter(pk__in=document_ids).update(**_INGEST_AGAIN)
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


def _stale_before() -> datetime:
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
        if _wants_vectors(document):
            _embed_chunks(document, get_embedder(), progress)
        elif progress:
            progress(len(chunks), len(chunks))
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
    if document.act_key:
        act_versions_refresh(owner_id=document.owner_id, act_key=document.act_key)
        document.refresh_from_db()
    if document.in_force:
        transaction.on_commit(lambda: document_summary_enqueue(document.pk))
    # New passages for the topics' cards (a version not in force changes
    # none: the refresh above enqueued what a change of version needs).
    if document.in_force:
        topic_cards_compute_enqueue_ids(topic_ids=_topic_ids([document.pk]))
    return document


def _topic_ids(document_ids: list[int]) -> list[int]:
    return list(
        Topic.objects.filter(documents__in=document_ids)
        .distinct()
        .values_list("id", flat=True)
    )


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
                key_digest=key_digest(embedding_key(document.title, chunk)),
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
                "act_key",
                "effective_date",
                "promulgation_no",
                "in_force",
                "pieces_total",
                "pieces_done",
                "heartbeat_at",
            ]
        )


def _wants_vectors(document: Document) -> bool:
    """Vectors are for the version search reads: a document of no act, the
    version in force today among the owner's versions of its act (ready or
    on their way), or one still to come. An older version is read by act and
    article, never by vector, so it is not embedded at all."""
    if not document.act_key:
        return True
    today = timezone.localdate()
    if document.effective_date and document.effective_date > today:
        return True
    versions = Document.objects.filter(
        owner_id=document.owner_id, act_key=document.act_key
    )
    return _version_wanted(versions, today) == document.pk


def _embed_chunks(
    document: Document,
    embedder: Embedder,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Each distinct key of the document embedded once: keys another version
    (or document) already had come from the cache; the rest are embedded in
    batches that report progress. Vectors are then copied onto the chunks."""
    rows = list(
        document.chunks.order_by("ordinal").values_list(
            "key_digest", "text", "citation", "article"
        )
    )
    total = len(rows)
    missing = embedding_cache_missing(digests={r[0] for r in rows}, model=embedder.name)
    keys = {
        digest: embedding_key(document.title, Chunk(text, citation, article=article))
        for digest, text, citation, article in rows
        if digest in missing
    }
    per_key = {digest: 0 for digest in keys}
    for digest, *_ in rows:
        if digest in per_key:
            per_key[digest] += 1
    done = total - sum(per_key.values())
    pending = list(keys.items())
    for start in range(0, len(pending), EMBED_BATCH):
        batch = pending[start : start + EMBED_BATCH]
        vectors = embedder.embed_passages([key for _, key in batch])
        EmbeddingCache.objects.bulk_create(
            [
                EmbeddingCache(
                    key_digest=digest, embedding_model=embedder.name, embedding=vector
                )
                for (digest, _), vector in zip(batch, vectors, strict=True)
            ],
            ignore_conflicts=True,
        )
        done += sum(per_key[digest] for digest, _ in batch)
        Document.objects.filter(pk=document.pk).update(
            pieces_done=done, heartbeat_at=timezone.now()
        )
        if progress:
            progress(done, total)
    chunk_vectors_fill(document_ids=[document.pk], model=embedder.name)
    if progress and not pending:
        progress(total, total)


def embedding_cache_missing(*, digests: set[str], model: str) -> set[str]:
    """The digests the cache has no vector of for this embedder."""
    have = set(
        EmbeddingCache.objects.filter(
            embedding_model=model, key_digest__in=digests
        ).values_list("key_digest", flat=True)
    )
    return digests - have


def chunk_vectors_fill(*, document_ids: list[int], model: str) -> int:
    """Copy the cached vectors onto the documents' chunks (one UPDATE)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE study_documentchunk c
               SET embedding = e.embedding, embedding_model = e.embedding_model
              FROM study_embeddingcache e
             WHERE c.document_id = ANY(%s) AND e.key_digest = c.key_digest
               AND e.embedding_model = %s
               AND (c.embedding IS NULL OR c.embedding_model <> e.embedding_model)
            """,
            [document_ids, model],
        )
        return cursor.rowcount


def act_versions_refresh(
    *, owner_id: int, act_key: str, today: date | None = None
) -> int | None:
    """Make the version in force today the one search reads: its flag set and
    its chunks given their vectors (embedded first when the cache lacks
    some), every other version's flag cleared and its vectors dropped, in one
    transaction. Returns the id of that version (None when none is ready)."""
    today = today or timezone.localdate()
    versions = Document.objects.filter(owner_id=owner_id, act_key=act_key)
    current = searchable_version(
        versions.filter(status=DocumentStatus.READY).values_list(
            "id", "effective_date", "promulgation_no"
        ),
        today,
    )
    if current is not None and current == _version_wanted(versions, today):
        _vectors_ensure(Document.objects.get(pk=current))
    # else a newer version is still being processed: search reads the ready
    # one by text meanwhile, and the newer one brings its vectors.
    others = versions if current is None else versions.exclude(pk=current)
    with transaction.atomic():
        ids = list(versions.select_for_update().values_list("id", flat=True))
        changed = others.filter(in_force=True).update(in_force=False)
        DocumentChunk.objects.filter(
            document__in=others, embedding__isnull=False
        ).update(embedding=None, embedding_model="")
        if current is not None:
            changed += versions.filter(pk=current, in_force=False).update(in_force=True)
            chunk_vectors_fill(document_ids=[current], model=get_embedder().name)
        if changed:  # another version in force: the cards read other articles
            topic_cards_compute_enqueue_ids(topic_ids=_topic_ids(ids))
    return current


def _version_wanted(versions: QuerySet[Document], today: date) -> int | None:
    """The version that will be in force once every version on its way is
    ready (failed ones left out)."""
    return searchable_version(
        versions.exclude(status=DocumentStatus.FAILED).values_list(
            "id", "effective_date", "promulgation_no"
        ),
        today,
    )


def _vectors_ensure(document: Document) -> None:
    """Every key of the document in the cache (embedding what is missing)."""
    embedder = get_embedder()
    _digests_fill(document)
    digests = set(document.chunks.values_list("key_digest", flat=True))
    if embedding_cache_missing(digests=digests, model=embedder.name):
        _embed_chunks(document, embedder)


def _digests_fill(document: Document) -> None:
    """Chunks stored before keys had digests get theirs."""
    rows = list(
        document.chunks.filter(key_digest="").only("text", "citation", "article")
    )
    for chunk in rows:
        chunk.key_digest = key_digest(
            embedding_key(
                document.title, Chunk(chunk.text, chunk.citation, article=chunk.article)
            )
        )
    DocumentChunk.objects.bulk_update(rows, ["key_digest"], batch_size=500)


def act_versions_refresh_all() -> int:
    """The hourly task: the version in force changes at midnight of a 시행일;
    an act whose version did not change costs two UPDATEs that touch nothing."""
    acts = (
        Document.objects.filter(status=DocumentStatus.READY)
        .exclude(act_key="")
        .values_list("owner_id", "act_key")
        .distinct()
    )
    for owner_id, act in acts:
        act_versions_refresh(owner_id=owner_id, act_key=act)
    return len(acts)


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
    version = act_version(meta.fields, title=meta.title)
    if version is not None and not document.act_key:
        _claim_version(document, version)
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


def _claim_version(document: Document, version: ActVersion) -> None:
    """A document whose act and version only its text tells (a file replaced
    in the admin): it becomes that version unless the owner has it already."""
    taken = (
        Document.objects.filter(
            owner_id=document.owner_id,
            act_key=version.act,
            effective_date=version.effective,
            promulgation_no=version.number,
        )
        .exclude(pk=document.pk)
        .first()
    )
    if taken is not None:
        raise DocumentRejected(DocumentError.SAME_VERSION, title=taken.title)
    for name, value in _version_fields(version).items():
        setattr(document, name, value)


def _file_name(document: Document) -> str:
    return (document.file.name or "").rsplit("/", 1)[-1]


def _fail(document: Document, code: DocumentError, **params: object) -> Document:
    document.status = DocumentStatus.FAILED
    document.error_code, document.error_params = code, params
    document.processed_at = timezone.now()
    document.save(
        update_fields=["status", "error_code", "error_params", "processed_at", "text"]
    )
    if document.act_key:  # an older version may be the one in force after all
        try:
            act_versions_refresh(owner_id=document.owner_id, act_key=document.act_key)
        except EmbeddingError:
            logger.warning(
                "versions of %s left for the hourly refresh", document.act_key
            )
    return document


def documents_reembed(*, model_name: str | None = None) -> int:
    """Re-embed every chunk not made by the current embedder (after a model change)."""
    embedder = get_embedder()
    stale = DocumentChunk.objects.filter(document__in_force=True).exclude(
        embedding_model=embedder.name
    )
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
