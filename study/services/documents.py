"""Study documents: upload, text extraction, chunking, embedding."""

from __future__ import annotations

import io
import json
import logging
import re
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext
from django_q.tasks import async_task
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from study.llm.calls import llm_json
from study.llm.client import LLMError, llm_configured
from study.llm.embeddings import EmbeddingError, get_embedder
from study.llm.envelope import EnvelopeInvalid, cap_text, envelope_text
from study.llm.gate import Priority
from study.llm.prompts import render_prompt
from study.models import Document, DocumentChunk, DocumentStatus, Topic
from study.services.chunking import Chunk, FrontMatter, chunk_text, split_front_matter
from study.services.question_parsing import decode_bytes

logger = logging.getLogger(__name__)
PDF_WORKER = Path(__file__).with_name("pdf_worker.py")

MAX_BYTES = 20 * 1024 * 1024
MAX_CHUNKS = 5000
# Extraction bounds: a small hostile file must fail fast, not hold a worker.
MAX_PDF_PAGES = 2000
MAX_TEXT_CHARS = 3_000_000
# Compressed PDF streams rarely expand past ~20 characters of text per byte of
# file; a 3.7 KB PDF that "contains" 489k characters is a decompression bomb.
MAX_CHARS_PER_BYTE = 40
EXPANSION_FLOOR_CHARS = 200_000
EXTRACT_CPU_S = 30
EXTRACT_WALL_S = 60
EXTRACT_MEMORY_BYTES = 1024 * 1024 * 1024
# Embedding: batches small enough to report progress every few seconds.
EMBED_BATCH = 32
# What is embedded per chunk: its citation and the start of its text (see
# docs/documents.md for the measurements behind this cut).
EMBED_KEY_CHARS = 64
HEARTBEAT_STALE_MINUTES = 10
FILE_SUFFIXES = (".md", ".markdown", ".txt", ".pdf")
MAX_ATTEMPTS = 3


class DocumentRejected(ValueError):
    """A file that cannot become a study document; the message says why."""


def sniff_kind(name: str, head: bytes) -> str:
    """What the bytes are, whatever the name claims."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if name.lower().endswith(".pdf"):
        raise DocumentRejected(gettext("PDF라고 되어 있지만 PDF 파일이 아닙니다."))
    if b"\x00" in head[:4096]:
        raise DocumentRejected(
            gettext("지원하지 않는 파일 형식입니다 (PDF, Markdown, 텍스트만).")
        )
    return "markdown" if name.lower().endswith((".md", ".markdown")) else "text"


def extract_text(kind: str, data: bytes) -> str:
    if kind == "pdf":
        return _pdf_text(data)
    text = decode_bytes(data)
    if "\ufffd" in text and text.count("\ufffd") > len(text) // 100:
        raise DocumentRejected(
            gettext("텍스트 인코딩을 알 수 없습니다 (UTF-8 또는 CP949).")
        )
    if len(text) > MAX_TEXT_CHARS:
        raise DocumentRejected(
            gettext(
                "자료가 너무 깁니다 (%(n_text)s자, 최대 %(max_text_chars)s자). "
                "나눠서 올려 주세요."
            )
            % {"n_text": f"{len(text):,}", "max_text_chars": f"{MAX_TEXT_CHARS:,}"}
        )
    return text


def _pdf_text(data: bytes) -> str:
    """pypdf in a child process with CPU-time, memory, page and size limits."""
    max_chars = min(
        MAX_TEXT_CHARS, max(EXPANSION_FLOOR_CHARS, MAX_CHARS_PER_BYTE * len(data))
    )

    def limits() -> None:  # runs in the child before exec
        resource.setrlimit(resource.RLIMIT_CPU, (EXTRACT_CPU_S, EXTRACT_CPU_S + 1))
        resource.setrlimit(
            resource.RLIMIT_AS, (EXTRACT_MEMORY_BYTES, EXTRACT_MEMORY_BYTES)
        )

    _pdf_precheck(data)
    try:
        proc = subprocess.run(
            [sys.executable, str(PDF_WORKER), str(MAX_PDF_PAGES), str(max_chars)],
            input=data,
            capture_output=True,
            timeout=EXTRACT_WALL_S,
            preexec_fn=limits,  # noqa: PLW1509 (no threads started before exec)
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DocumentRejected(
            gettext("PDF 텍스트 추출이 %(extract_wall_s)s초 안에 끝나지 않았습니다.")
            % {"extract_wall_s": EXTRACT_WALL_S}
        ) from exc
    try:
        reply = json.loads(proc.stdout.decode("utf-8") or "{}")
    except ValueError:
        reply = {}
    if "text" in reply:
        return reply["text"]
    error = reply.get("error")
    if error == "encrypted":
        raise DocumentRejected(gettext("암호가 걸린 PDF는 읽을 수 없습니다."))
    if error == "pages":
        raise DocumentRejected(
            gettext("PDF 쪽수가 너무 많습니다 (%(reply)s쪽, 최대 %(max_pdf_pages)s쪽).")
            % {"reply": reply.get("detail"), "max_pdf_pages": MAX_PDF_PAGES}
        )
    if error == "chars":
        raise DocumentRejected(
            gettext(
                "PDF에서 나온 텍스트가 너무 깁니다 (파일 크기 "
                "%(n_data)s바이트에 %(max_chars)s자 초과). 비정상적으로 "
                "부풀려진 PDF일 수 있습니다."
            )
            % {"n_data": f"{len(data):,}", "max_chars": f"{max_chars:,}"}
        )
    if error == "unreadable":
        raise DocumentRejected(
            gettext("PDF를 읽을 수 없습니다: %(reply)s")
            % {"reply": reply.get("detail", "")[:200]}
        )
    if error == "memory" or proc.returncode in (-signal.SIGKILL, -signal.SIGXCPU):
        raise DocumentRejected(
            gettext(
                "PDF 텍스트 추출이 허용된 CPU 시간이나 메모리를 넘었습니다 "
                "(CPU %(extract_cpu_s)s초, 메모리 %(extract_memory_bytes)sMB)."
            )
            % {
                "extract_cpu_s": EXTRACT_CPU_S,
                "extract_memory_bytes": EXTRACT_MEMORY_BYTES // 2**20,
            }
        )
    raise DocumentRejected(
        gettext("PDF를 읽을 수 없습니다 (추출 프로세스 종료 코드 %(returncode)s).")
        % {"returncode": proc.returncode}
    )


def _pdf_precheck(data: bytes) -> None:
    """Cheap checks in this process before the bounded child extracts: an
    encrypted or unreadable file, or content that would inflate too far."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentRejected(gettext("암호가 걸린 PDF는 읽을 수 없습니다."))
        pdf_check_content_size(reader)
    except DocumentRejected:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentRejected(
            gettext("PDF를 읽을 수 없습니다: %(exc)s") % {"exc": exc}
        ) from exc


_DO = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+Do\b")
MAX_FORM_DEPTH = 8


def pdf_check_content_size(reader) -> None:
    """Refuse, before extracting, a PDF whose text operators would be too many.

    A few KB can hold a content stream that inflates to megabytes, or forms that
    draw other forms many times; extraction time grows faster than linearly with
    that, so a tiny upload could hold a worker for many minutes. Each page's
    cost is its content plus every form it draws, counted per use.
    """
    page_limit = settings.PDF_MAX_PAGE_CONTENT_BYTES
    total = 0
    for number, page in enumerate(reader.pages, start=1):
        cost = _content_cost(page.get_contents(), page.get("/Resources"), 0)
        if cost > page_limit:
            raise DocumentRejected(
                gettext(
                    "PDF %(number)s쪽의 내용이 너무 큽니다 (압축을 푼 크기 "
                    "%(cost)s바이트, 한 쪽 최대 %(page_limit)s바이트). "
                    "비정상적으로 부풀려진 PDF일 수 있습니다."
                )
                % {
                    "number": number,
                    "cost": f"{cost:,}",
                    "page_limit": f"{page_limit:,}",
                }
            )
        total += cost
        if total > settings.PDF_MAX_CONTENT_BYTES:
            raise DocumentRejected(
                gettext("PDF 내용이 너무 큽니다. 나눠서 올려 주세요.")
            )


def _content_cost(stream, resources, depth: int) -> int:
    if stream is None:
        return 0
    if depth > MAX_FORM_DEPTH:
        raise DocumentRejected(gettext("PDF 구조가 너무 깊게 중첩되어 있습니다."))
    data = stream.get_data()
    cost = len(data)
    if cost > settings.PDF_MAX_PAGE_CONTENT_BYTES:
        return cost
    xobjects = _resolve(_resolve(resources or {}).get("/XObject")) or {}
    for name, uses in _count_uses(data).items():
        form = _resolve(xobjects.get(f"/{name}"))
        if form is None or form.get("/Subtype") != "/Form":
            continue
        cost += uses * _content_cost(
            form, form.get("/Resources") or resources, depth + 1
        )
        if cost > settings.PDF_MAX_PAGE_CONTENT_BYTES:
            break
    return cost


def _count_uses(data: bytes) -> dict[str, int]:
    uses: dict[str, int] = {}
    for match in _DO.finditer(data):
        name = match.group(1).decode("latin-1")
        uses[name] = uses.get(name, 0) + 1
    return uses


def _resolve(value):
    return value.get_object() if hasattr(value, "get_object") else value


def normalise_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def split_chunks(text: str) -> list[Chunk]:
    """Structure-aware chunks of a body (see study.services.chunking), exact
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
    if upload.size > MAX_BYTES:
        raise DocumentRejected(gettext("파일이 너무 큽니다 (최대 20MB)."))
    document_quota_check(owner=owner, incoming_bytes=upload.size)
    head = upload.read(8192)
    upload.seek(0)
    kind = sniff_kind(upload.name, head)
    document = Document.objects.create(
        owner=owner,
        title=title.strip() or upload.name,
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


def document_quota_check(*, owner, incoming_bytes: int) -> None:
    """Per-user limits: documents being processed at once, count and bytes stored.

    Processing happens in shared workers, so one user may queue only a few at a
    time; the rest wait until theirs are done."""
    mine = Document.objects.filter(owner=owner)
    busy = mine.filter(status__in=[DocumentStatus.PENDING, DocumentStatus.PROCESSING])
    if busy.count() >= settings.DOCUMENT_MAX_PROCESSING:
        raise DocumentRejected(
            gettext(
                "처리 중인 자료가 %(document_max_processing)s개 있습니다. "
                "처리가 끝난 뒤에 올려 주세요."
            )
            % {"document_max_processing": settings.DOCUMENT_MAX_PROCESSING}
        )
    names = list(mine.exclude(file="").values_list("file", flat=True))
    if len(names) >= settings.DOCUMENT_QUOTA_COUNT:
        raise DocumentRejected(
            gettext(
                "자료는 %(document_quota_count)s개까지 올릴 수 있습니다. 쓰지 "
                "않는 자료를 뺀 뒤 올려 주세요."
            )
            % {"document_quota_count": settings.DOCUMENT_QUOTA_COUNT}
        )
    if _stored_bytes(names) + incoming_bytes > settings.DOCUMENT_QUOTA_BYTES:
        quota = settings.DOCUMENT_QUOTA_BYTES // (1024 * 1024)
        raise DocumentRejected(
            gettext(
                "자료 저장 한도(%(quota)sMB)를 넘습니다. 쓰지 않는 자료를 뺀 "
                "뒤 올려 주세요."
            )
            % {"quota": quota}
        )


def _stored_bytes(names: list[str]) -> int:
    total = 0
    for name in names:
        try:
            total += default_storage.size(name)
        except OSError:  # a file gone from disk takes no space
            continue
    return total


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
        error="",
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
        error="",
        attempts=0,
        pieces_done=0,
        pieces_total=0,
    )
    for pk in document_ids:
        transaction.on_commit(lambda pk=pk: document_ingest_enqueue(pk))
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
    for key in changed:
        setattr(locked, key, data[key])
    if "file" in changed and locked.file:
        head = locked.file.read(8192)
        locked.file.seek(0)
        locked.file_kind = sniff_kind(locked.file.name, head)
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
            error="",
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
                document,
                gettext(
                    "처리 작업이 %(max_attempts)s번 중단되었습니다 (작업자 종료). "
                    "다시 시도해 주세요."
                )
                % {"max_attempts": MAX_ATTEMPTS},
            )
        return document
    try:
        chunks = _prepare_chunks(document)
        _store_chunks(document, chunks)
        embedder = get_embedder()
        _embed_chunks(document, embedder, progress)
    except (DocumentRejected, EmbeddingError) as exc:
        return _fail(document, str(exc))
    except Exception as exc:
        logger.exception("ingest of document %s failed", document_id)
        return _fail(
            document,
            gettext("처리 중 오류가 났습니다: %(name)s") % {"name": type(exc).__name__},
        )
    document.status = DocumentStatus.READY
    document.chunk_count = document.pieces_done = len(chunks)
    document.processed_at = timezone.now()
    document.save(
        update_fields=["status", "chunk_count", "pieces_done", "processed_at", "error"]
    )
    transaction.on_commit(lambda: _enqueue_summary(document.pk))
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


def _enqueue_summary(document_id: int) -> None:
    if not llm_configured():
        return
    try:
        async_task("study.tasks.document_summarize_task", document_id)
    except Exception:
        logger.warning("could not enqueue summary of document %s", document_id)


def _prepare_chunks(document: Document) -> list[Chunk]:
    if not document.text:
        with document.file.open("rb") as handle:
            data = handle.read()
        raw = extract_text(document.file_kind, data)
        meta, body = split_front_matter(raw.replace("\r\n", "\n"))
        document.text = normalise_text(body)
        _apply_front_matter(document, meta)
    if not document.text.strip():
        raise DocumentRejected(
            gettext("텍스트를 추출할 수 없습니다 (스캔 이미지로 된 PDF일 수 있습니다).")
        )
    chunks = split_chunks(document.text)
    if len(chunks) > MAX_CHUNKS:
        raise DocumentRejected(
            gettext(
                "자료가 너무 깁니다 (%(n_chunks)s조각, 최대 %(max_chunks)s). "
                "나눠서 올려 주세요."
            )
            % {"n_chunks": len(chunks), "max_chunks": MAX_CHUNKS}
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


def _fail(document: Document, reason: str) -> Document:
    document.status = DocumentStatus.FAILED
    document.error = reason
    document.processed_at = timezone.now()
    document.save(update_fields=["status", "error", "processed_at", "text"])
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


SUMMARY_SCHEMA = {
    "type": "object",
    "properties": {"summary_md": {"type": "string"}},
    "required": ["summary_md"],
}


def document_summarize(*, document_id: int) -> Document:
    """Optional LLM summary of a ready document (background priority)."""
    document = Document.objects.get(pk=document_id)
    if document.status != DocumentStatus.READY or not llm_configured():
        return document
    chunks = list(
        document.chunks.order_by("ordinal").values_list("text", flat=True)[:6]
    )
    try:
        reply = llm_json(
            priority=Priority.BACKGROUND,
            system="너는 학습 자료 요약가다. JSON 객체 하나만 출력한다.",
            user=render_prompt(
                "study_document_summary.txt", title=document.title, chunks=chunks
            ),
            schema=SUMMARY_SCHEMA,
            schema_name="summary",
            max_tokens=400,
        )
        document.summary = cap_text(envelope_text(reply.data, "summary_md"), 600)
    except (LLMError, EnvelopeInvalid):
        logger.info("summary of document %s not available", document_id, exc_info=True)
        return document
    document.save(update_fields=["summary"])
    return document
