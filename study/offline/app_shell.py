"""The installable app: what the service worker keeps (the app shell) and the
web app manifest, in the page's language."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

# Static files every page loads, the offline page's own, and the icons.
SHELL_STATIC = (
    "css/app.css",
    "vendor/katex/katex.min.css",
    "js/htmx.min.js",
    "vendor/katex/katex.min.js",
    "vendor/katex/auto-render.min.js",
    "js/app.js",
    "js/offline.js",
    "favicon.svg",
    "icons/icon-192.png",
    "icons/icon-512.png",
)
KATEX_FONTS = "vendor/katex/fonts"
THEME_COLOR = "#1f5fbf"
BACKGROUND_COLOR = "#ffffff"
# Figures of downloaded sessions: offline.js fills this cache, the worker reads it.
FIGURE_CACHE = "gichul-figures"
FIGURE_PATTERN = r"^/study-questions/\d+/figure$"


def shell_static_paths() -> list[str]:
    """SHELL_STATIC and KaTeX's woff2 fonts (what a modern browser fetches)."""
    fonts_dir = finders.find(KATEX_FONTS)
    fonts = sorted(Path(fonts_dir).glob("*.woff2")) if fonts_dir else []
    return [*SHELL_STATIC, *(f"{KATEX_FONTS}/{font.name}" for font in fonts)]


def service_worker_context() -> dict:
    """The values sw.js is rendered with, as JSON literals (no HTML escaping
    applies to a script)."""
    paths = shell_static_paths()
    version = _fresh(paths) if settings.DEBUG else shell_version(tuple(paths))
    return {
        "config_json": json.dumps(
            {
                "version": version,
                "precache": [
                    *(static(path) for path in paths),
                    reverse("javascript-catalog"),
                ],
                "offlineUrl": reverse("study:offline_page"),
                "staticPrefix": static(""),
                "figureCache": FIGURE_CACHE,
                "figurePattern": FIGURE_PATTERN,
            }
        )
    }


@lru_cache(maxsize=4)
def shell_version(paths: tuple[str, ...]) -> str:
    """Changes whenever a cached file does: a new version replaces the cache."""
    return _fresh(list(paths))


def _fresh(paths: list[str]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.encode())
        found = finders.find(path)
        if found:
            digest.update(Path(found).read_bytes())
    digest.update(_sw_template_bytes())
    return digest.hexdigest()[:16]


def _sw_template_bytes() -> bytes:
    template = Path(__file__).resolve().parents[2] / "templates" / "study" / "sw.js"
    return template.read_bytes() if template.exists() else b""


def web_app_manifest() -> dict:
    """The manifest in the active language (Korean by default, English on request)."""
    return {
        "id": "/",
        "lang": get_language() or settings.LANGUAGE_CODE,
        "name": _("기출 — 자격시험 필기 공부"),
        "short_name": pgettext("brand", "기출"),
        "description": _(
            "기출문제로 자격시험 필기를 공부하고, 연결이 끊겨도 이어서 풉니다."
        ),
        "start_url": reverse("study:home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {
                "src": static("icons/icon-192.png"),
                "sizes": "192x192",
                "type": "image/png",
            },
            {
                "src": static("icons/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
            },
            {
                "src": static("icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
