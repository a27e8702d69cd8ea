"""Forms posted the way a browser posts them."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http.response import HttpResponseBase
from django.test import Client


def form_post(
    client: Client, url: str, data: dict, headers: dict | None = None
) -> HttpResponseBase:
    """POST `data` urlencoded, as a browser (or htmx) sends a form without a
    file; the test client's default, multipart, is what only upload forms
    send, and parsing it costs the view more (about 10 ms for a mock's 120
    answers)."""
    return client.post(
        url,
        urlencode(data),
        content_type="application/x-www-form-urlencoded",
        secure=True,
        headers=headers or {},
    )
