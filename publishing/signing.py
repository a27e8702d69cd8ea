"""Body encoding and the HMAC signature the viewer checks (docs/publishing.md)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

SIGNATURE_HEADER = "X-Gichul-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
DEFAULT_TOLERANCE_S = 300


def encode_body(payload: dict) -> bytes:
    return json.dumps(
        payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    ).encode("utf-8")


def signature(*, body: bytes, secret: str, timestamp: int) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    mac = hmac.new(
        secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256
    )
    return f"t={timestamp},v1={mac.hexdigest()}"


def signature_verify(
    *,
    body: bytes,
    header: str,
    secret: str,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> bool:
    """What a receiver does: recompute, compare in constant time, bound the age."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    raw = parts.get("t", "")
    if not (raw.isascii() and raw.isdigit()):
        return False
    timestamp = int(raw)
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = signature(body=body, secret=secret, timestamp=timestamp)
    return hmac.compare_digest(expected, f"t={parts['t']},v1={parts.get('v1', '')}")
