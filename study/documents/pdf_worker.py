"""PDF text extraction in a child process (no Django): run by
``study.services.extraction`` under CPU-time and memory limits.

Reads the PDF from stdin, writes one JSON object to stdout:
``{"text": …}`` or ``{"error": "reason code", "detail": …}``.
Arguments: max pages, max characters.
"""

from __future__ import annotations

import io
import json
import sys

from pypdf import PdfReader


def main() -> int:
    max_pages, max_chars = int(sys.argv[1]), int(sys.argv[2])
    data = sys.stdin.buffer.read()
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return _reply({"error": "encrypted"})
        pages = len(reader.pages)
        if pages > max_pages:
            return _reply({"error": "pages", "detail": pages})
        parts: list[str] = []
        size = 0
        for page in reader.pages:
            text = page.extract_text() or ""
            size += len(text)
            if size > max_chars:
                return _reply({"error": "chars", "detail": size})
            parts.append(text)
    except MemoryError:
        return _reply({"error": "memory"})
    except Exception as exc:  # any parser failure is a reason, not a crash
        return _reply({"error": "unreadable", "detail": f"{type(exc).__name__}: {exc}"})
    return _reply({"text": "\n\n".join(parts), "pages": pages})


def _reply(payload: dict) -> int:
    sys.stdout.write(json.dumps(payload, ensure_ascii=False))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
