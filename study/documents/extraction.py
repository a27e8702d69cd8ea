"""Text out of an uploaded file, bounded: the kind sniffed from the bytes, and
PDF text extracted by pypdf in a child process (``pdf_worker.py``) under CPU,
memory, wall-time, page, character and expansion limits, after a cheap check of
the content streams in this process. A small hostile file fails fast."""

from __future__ import annotations

import io
import json
import re
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import PdfObject, StreamObject

from study.imports.parsing import decode_bytes
from study.models.document import DocumentError, document_error_text

PDF_WORKER = Path(__file__).with_name("pdf_worker.py")


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


class DocumentRejected(ValueError):
    """A file that cannot become a study document: a DocumentError code and
    its parameters; the message (in the active language) says why."""

    def __init__(self, code: DocumentError, **params: object) -> None:
        self.code, self.params = code, params
        super().__init__(document_error_text(code, params))


def sniff_kind(name: str, head: bytes) -> str:
    """What the bytes are, whatever the name claims."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if name.lower().endswith(".pdf"):
        raise DocumentRejected(DocumentError.NOT_A_PDF)
    if b"\x00" in head[:4096]:
        raise DocumentRejected(DocumentError.UNSUPPORTED_TYPE)
    return "markdown" if name.lower().endswith((".md", ".markdown")) else "text"


def extract_text(kind: str, data: bytes) -> str:
    if kind == "pdf":
        return _pdf_text(data)
    text = decode_bytes(data)
    if "\ufffd" in text and text.count("\ufffd") > len(text) // 100:
        raise DocumentRejected(DocumentError.UNKNOWN_ENCODING)
    if len(text) > MAX_TEXT_CHARS:
        raise DocumentRejected(
            DocumentError.TEXT_TOO_LONG,
            n_text=f"{len(text):,}",
            max_text_chars=f"{MAX_TEXT_CHARS:,}",
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
            # -I: isolated, so the worker's folder is not on sys.path (its
            # selectors.py would shadow the standard library's) and no PYTHON*
            # variable reaches the parser.
            [sys.executable, "-I", str(PDF_WORKER), str(MAX_PDF_PAGES), str(max_chars)],
            input=data,
            capture_output=True,
            timeout=EXTRACT_WALL_S,
            preexec_fn=limits,  # noqa: PLW1509 (no threads started before exec)
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise DocumentRejected(
            DocumentError.PDF_TIMEOUT, extract_wall_s=EXTRACT_WALL_S
        ) from exc
    try:
        reply = json.loads(proc.stdout.decode("utf-8") or "{}")
    except ValueError:
        reply = {}
    if "text" in reply:
        return reply["text"]
    error = reply.get("error")
    if error == "encrypted":
        raise DocumentRejected(DocumentError.PDF_ENCRYPTED)
    if error == "pages":
        raise DocumentRejected(
            DocumentError.PDF_TOO_MANY_PAGES,
            reply=reply.get("detail"),
            max_pdf_pages=MAX_PDF_PAGES,
        )
    if error == "chars":
        raise DocumentRejected(
            DocumentError.PDF_INFLATED_TEXT,
            n_data=f"{len(data):,}",
            max_chars=f"{max_chars:,}",
        )
    if error == "unreadable":
        raise DocumentRejected(
            DocumentError.PDF_UNREADABLE, reply=reply.get("detail", "")[:200]
        )
    if error == "memory" or proc.returncode in (-signal.SIGKILL, -signal.SIGXCPU):
        raise DocumentRejected(
            DocumentError.PDF_LIMITS,
            extract_cpu_s=EXTRACT_CPU_S,
            extract_memory_bytes=EXTRACT_MEMORY_BYTES // 2**20,
        )
    raise DocumentRejected(DocumentError.PDF_EXIT, returncode=proc.returncode)


def _pdf_precheck(data: bytes) -> None:
    """Cheap checks in this process before the bounded child extracts: an
    encrypted or unreadable file, or content that would inflate too far."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentRejected(DocumentError.PDF_ENCRYPTED)
        pdf_check_content_size(reader)
    except DocumentRejected:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentRejected(DocumentError.PDF_BROKEN, exc=str(exc)[:200]) from exc


_DO = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+Do\b")

MAX_FORM_DEPTH = 8


def pdf_check_content_size(reader: PdfReader) -> None:
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
                DocumentError.PDF_PAGE_TOO_BIG,
                number=number,
                cost=f"{cost:,}",
                page_limit=f"{page_limit:,}",
            )
        total += cost
        if total > settings.PDF_MAX_CONTENT_BYTES:
            raise DocumentRejected(DocumentError.PDF_TOO_BIG)


def _content_cost(
    stream: StreamObject | None, resources: PdfObject | None, depth: int
) -> int:
    if stream is None:
        return 0
    if depth > MAX_FORM_DEPTH:
        raise DocumentRejected(DocumentError.PDF_TOO_DEEP)
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


def _resolve(value: object) -> Any:
    # What a reference points to: a dictionary, a stream or a plain value, as
    # the file says (pypdf types it as a bare PdfObject).
    return value.get_object() if hasattr(value, "get_object") else value


def normalise_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
