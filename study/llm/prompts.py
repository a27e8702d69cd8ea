"""Prompt templates from prompts/, rendered without HTML escaping."""

from __future__ import annotations

import functools
from pathlib import Path

from django.conf import settings
from django.template import Context, Engine

PROMPTS_DIR = Path(settings.BASE_DIR) / "prompts"


@functools.cache
def _engine() -> Engine:
    return Engine(dirs=[str(PROMPTS_DIR)], autoescape=False)


def render_prompt(name: str, **context) -> str:
    template = _engine().get_template(name)
    return template.render(Context(context, autoescape=False))
