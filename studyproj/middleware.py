"""Response headers Django does not set itself, and the client address for throttles."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

logger = logging.getLogger(__name__)


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
    hops = forwarded_hops(request)
    if count > 0 and len(hops) >= count:
        return hops[-count]
    return request.META.get("REMOTE_ADDR", "")


def forwarded_hops(request: HttpRequest) -> list[str]:
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return [h.strip() for h in forwarded.split(",") if h.strip()]


class ProxyHeaderCheckMiddleware:
    """With TRUSTED_PROXY_COUNT set, every request should come through that
    many proxies, each adding to X-Forwarded-For. The first request after
    start-up that does not is logged as a warning: the app is then reachable
    without the proxy, and a client can write the address the login lockout
    keys on (README, "Throttles and the client address")."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.warned = False

    def __call__(self, request: HttpRequest) -> HttpResponse:
        count = settings.TRUSTED_PROXY_COUNT
        if count > 0 and not self.warned and len(forwarded_hops(request)) < count:
            self.warned = True
            logger.warning(
                "TRUSTED_PROXY_COUNT=%s but a request from %s came with %s "
                "X-Forwarded-For address(es): either it did not pass the proxy "
                "(then clients can forge the address login lockouts key on) or "
                "the setting is wrong. Set TRUSTED_PROXY_COUNT to the number of "
                "proxies in front of the app (0 for none).",
                count,
                request.META.get("REMOTE_ADDR", "?"),
                len(forwarded_hops(request)),
            )
        return self.get_response(request)
