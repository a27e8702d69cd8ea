"""How a command names its topic: --topic NAME, and --owner USERNAME when
owners share the name. One lookup for every command (never the first match)."""

from __future__ import annotations

from django.core.management.base import CommandError

from study.models import Topic
from study.selectors.topics import topic_get_by_name

OWNER_HELP = "같은 이름의 토픽이 여럿일 때 소유자 username"


def topic_from_options(options: dict, *, name: str | None = None) -> Topic:
    try:
        return topic_get_by_name(
            name=name if name is not None else options["topic"],
            owner_username=options.get("owner"),
        )
    except LookupError as exc:
        raise CommandError(str(exc)) from exc
