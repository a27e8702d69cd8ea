"""Response headers Django does not set itself, and the client address for throttles."""

from __future__ import annotations

from django.conf import settings
from django.utils.cache import add_never_cache_headers


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; signed-in pages are never cached.

    A signed-in page carries the learner's answers and private topics, so a
    shared or back-button cache must not keep it (no-store). Static files are
    served by WhiteNoise before this runs and keep their long cache.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


def client_ip(request) -> str:
    """The client's address: the socket's, or the one TRUSTED_PROXY_COUNT proxies saw.

    Only addresses appended by our own proxies are trusted; anything further left
    in X-Forwarded-For was written by the client and could be forged.
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    if count > 0 and len(hops) >= count:
        return hops[-count]
    return request.META.get("REMOTE_ADDR", "")
