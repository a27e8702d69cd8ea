"""Study documents: upload, text extraction, chunking, embedding."""

from __future__ import annotations

import io
import logging
import re

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from study.llm.embeddings import EmbeddingError, get_embedder
from study.models import Document, DocumentChunk, DocumentStatus, Topic
from study.services.question_parsing import decode_bytes

logger = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
MAX_CHUNKS = 5000
CHUNK_TARGET = 700
CHUNK_MAX = 1000
CHUNK_OVERLAP = 120
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|(?<=다\.)\s*|\n+")


class DocumentRejected(ValueError):
    """A file that cannot become a study document; the message says why."""


def sniff_kind(name: str, head: bytes) -> str:
    """What the bytes are, whatever the name claims."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if name.lower().endswith(".pdf"):
        raise DocumentRejected("PDF라고 되어 있지만 PDF 파일이 아닙니다.")
    if b"\x00" in head[:4096]:
        raise DocumentRejected(
            "지원하지 않는 파일 형식입니다 (PDF, Markdown, 텍스트만)."
        )
    return "markdown" if name.lower().endswith((".md", ".markdown")) else "text"


def extract_text(kind: str, data: bytes) -> str:
    if kind == "pdf":
        return _pdf_text(data)
    text = decode_bytes(data)
    if "\ufffd" in text and text.count("\ufffd") > len(text) // 100:
        raise DocumentRejected("텍스트 인코딩을 알 수 없습니다 (UTF-8 또는 CP949).")
    return text


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentRejected("암호가 걸린 PDF는 읽을 수 없습니다.")
        pdf_check_content_size(reader)
        return "\n\n".join((page.extract_text() or "") for page in reader.pages)
    except DocumentRejected:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentRejected(f"PDF를 읽을 수 없습니다: {exc}") from exc


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
                f"PDF {number}쪽의 내용이 너무 큽니다 (압축을 푼 크기 {cost:,}바이트, "
                f"한 쪽 최대 {page_limit:,}바이트)."
            )
        total += cost
        if total > settings.PDF_MAX_CONTENT_BYTES:
            raise DocumentRejected("PDF 내용이 너무 큽니다. 나눠서 올려 주세요.")


def _content_cost(stream, resources, depth: int) -> int:
    if stream is None:
        return 0
    if depth > MAX_FORM_DEPTH:
        raise DocumentRejected("PDF 구조가 너무 깊게 중첩되어 있습니다.")
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
    text = text.replace("\r\n", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def split_chunks(text: str) -> list[str]:
    """~700-character chunks on sentence boundaries, overlapping by ~120 characters."""
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
    chunks: list[str] = []
    current = ""
    for sentence in sentences:
        while len(sentence) > CHUNK_MAX:  # a run-on line: hard cut
            head, sentence = sentence[:CHUNK_MAX], sentence[CHUNK_MAX - CHUNK_OVERLAP :]
            chunks.append(head)
        if current and len(current) + len(sentence) + 1 > CHUNK_TARGET:
            chunks.append(current)
            current = current[-CHUNK_OVERLAP:].lstrip() + " " + sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        chunks.append(current)
    return chunks


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
) -> Document:
    if upload.size > MAX_BYTES:
        raise DocumentRejected("파일이 너무 큽니다 (최대 20MB).")
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
    transaction.on_commit(lambda: _enqueue_ingest(document.pk))
    return document


def document_quota_check(*, owner, incoming_bytes: int) -> None:
    """Per-user limits: documents being processed at once, count and bytes stored.

    Processing happens in shared workers, so one user may queue only a few at a
    time; the rest wait until theirs are done."""
    mine = Document.objects.filter(owner=owner)
    busy = mine.filter(status__in=[DocumentStatus.PENDING, DocumentStatus.PROCESSING])
    if busy.count() >= settings.DOCUMENT_MAX_PROCESSING:
        raise DocumentRejected(
            f"처리 중인 자료가 {settings.DOCUMENT_MAX_PROCESSING}개 있습니다. "
            "처리가 끝난 뒤에 올려 주세요."
        )
    names = list(mine.exclude(file="").values_list("file", flat=True))
    if len(names) >= settings.DOCUMENT_QUOTA_COUNT:
        raise DocumentRejected(
            f"자료는 {settings.DOCUMENT_QUOTA_COUNT}개까지 올릴 수 있습니다. "
            "쓰지 않는 자료를 뺀 뒤 올려 주세요."
        )
    if _stored_bytes(names) + incoming_bytes > settings.DOCUMENT_QUOTA_BYTES:
        quota = settings.DOCUMENT_QUOTA_BYTES // (1024 * 1024)
        raise DocumentRejected(
            f"자료 저장 한도({quota}MB)를 넘습니다. 쓰지 않는 자료를 뺀 뒤 올려 주세요."
        )


def _stored_bytes(names: list[str]) -> int:
    total = 0
    for name in names:
        try:
            total += default_storage.size(name)
        except OSError:  # a file gone from disk takes no space
            continue
    return total


def _enqueue_ingest(document_id: int) -> None:
    from django_q.tasks import async_task

    try:
        async_task("study.tasks.document_ingest_task", document_id)
    except Exception:  # the safety-net schedule picks it up later
        logger.exception("could not enqueue ingest of document %s", document_id)


def document_ingest(*, document_id: int) -> Document:
    """Extract, chunk and embed; the document ends ready or failed with a reason."""
    claimed = Document.objects.filter(
        pk=document_id, status__in=[DocumentStatus.PENDING, DocumentStatus.FAILED]
    ).update(status=DocumentStatus.PROCESSING, error="")
    document = Document.objects.get(pk=document_id)
    if not claimed:
        return document
    try:
        chunks = _prepare_chunks(document)
        embedder = get_embedder()
        vectors = embedder.embed_passages(chunks)
    except (DocumentRejected, EmbeddingError) as exc:
        return _fail(document, str(exc))
    except Exception as exc:
        logger.exception("ingest of document %s failed", document_id)
        return _fail(document, f"처리 중 오류가 났습니다: {type(exc).__name__}")
    with transaction.atomic():
        document.chunks.all().delete()
        DocumentChunk.objects.bulk_create(
            DocumentChunk(
                document=document,
                ordinal=i,
                text=t,
                embedding=v,
                embedding_model=embedder.name,
            )
            for i, (t, v) in enumerate(zip(chunks, vectors, strict=True))
        )
        document.status = DocumentStatus.READY
        document.chunk_count = len(chunks)
        document.processed_at = timezone.now()
        document.save(
            update_fields=["text", "status", "chunk_count", "processed_at", "error"]
        )
        transaction.on_commit(lambda: _enqueue_summary(document.pk))
    return document


def _enqueue_summary(document_id: int) -> None:
    from django_q.tasks import async_task

    from study.llm.client import llm_configured

    if not llm_configured():
        return
    try:
        async_task("study.tasks.document_summarize_task", document_id)
    except Exception:
        logger.warning("could not enqueue summary of document %s", document_id)


def _prepare_chunks(document: Document) -> list[str]:
    if not document.text:
        with document.file.open("rb") as handle:
            data = handle.read()
        document.text = normalise_text(extract_text(document.file_kind, data))
    if not document.text.strip():
        raise DocumentRejected(
            "텍스트를 추출할 수 없습니다 (스캔 이미지로 된 PDF일 수 있습니다)."
        )
    chunks = split_chunks(document.text)
    if len(chunks) > MAX_CHUNKS:
        raise DocumentRejected(
            f"자료가 너무 깁니다 ({len(chunks)}조각, 최대 {MAX_CHUNKS}). "
            "나눠서 올려 주세요."
        )
    return chunks


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
        batch = list(DocumentChunk.objects.filter(id__in=ids[start : start + 256]))
        vectors = embedder.embed_passages([c.text for c in batch])
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
    from study.llm.calls import llm_json
    from study.llm.client import LLMError, llm_configured
    from study.llm.envelope import EnvelopeInvalid, cap_text, envelope_text
    from study.llm.gate import Priority
    from study.llm.prompts import render_prompt

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
