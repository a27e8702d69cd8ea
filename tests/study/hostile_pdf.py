"""Tiny PDFs whose content expands hugely, written byte by byte (no PDF library)."""

from __future__ import annotations

import zlib


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    packed = zlib.compress(data, 9)
    return (
        b"<< /Length %d /Filter /FlateDecode %s>>\nstream\n" % (len(packed), extra)
        + packed
        + b"\nendstream"
    )


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def inflating_stream_pdf(megabytes: int = 16) -> bytes:
    """One page whose content stream inflates to `megabytes` of text operators."""
    line = b"BT /F1 9 Tf 10 10 Td (AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA) Tj ET\n"
    content = line * (megabytes * 1024 * 1024 // len(line))
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
            _stream(content),
            FONT,
        ]
    )


def nested_forms_pdf(levels: int = 6, fanout: int = 10) -> bytes:
    """Form n draws form n-1 `fanout` times: fanout**levels text runs, a few KB."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"",  # the page, filled in below
        FONT,
    ]
    text = b"BT /F1 9 Tf 10 10 Td (Nested form text here) Tj ET\n"
    objects.append(
        _stream(
            text,
            b"/Type /XObject /Subtype /Form /BBox [0 0 9 9] "
            b"/Resources << /Font << /F1 4 0 R >> >> ",
        )
    )
    for _ in range(levels):
        inner = len(objects)  # object number of the previous form
        draws = b"/X Do\n" * fanout
        objects.append(
            _stream(
                draws,
                b"/Type /XObject /Subtype /Form /BBox [0 0 9 9] "
                b"/Resources << /XObject << /X %d 0 R >> >> " % inner,
            )
        )
    top = len(objects)
    objects.append(_stream(b"/X Do\n"))
    objects[2] = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /XObject << /X %d 0 R >> >> /Contents %d 0 R >>"
        % (top, len(objects))
    )
    return _pdf(objects)
