"""Prompt templates from prompts/, rendered without HTML escaping."""

from __future__ import annotations

import functools
import re
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


@functools.cache
def prompt_instructions(name: str) -> str:
    """The fixed instruction text of a template (everything before its first
    data section, every optional hint included, placeholders removed): what a
    reply that only echoes the prompt repeats."""
    source = (PROMPTS_DIR / name).read_text()
    head = source.split("\n[문제]", 1)[0]
    return re.sub(r"\{\{.*?\}\}|\{%.*?%\}", " ", head)
