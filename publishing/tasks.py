"""django-q2 entry points for publishing: thin, one service each."""

from __future__ import annotations

from publishing.relay import outbox_relay


def relay_outbox() -> dict:
    """Woken after each commit that enqueued events, and every minute by schedule."""
    return outbox_relay().as_dict()
