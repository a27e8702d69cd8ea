"""What the file-loading commands (import_questions, add_documents) share:
the files must exist, and the topic is found by name or created."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from study.imports.services import topic_get_or_create_for_import
from study.models import Topic


def files_and_topic(options: dict) -> tuple[list[Path], Topic]:
    paths: list[Path] = options["paths"]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise CommandError(f"파일이 없습니다: {', '.join(missing)}")
    try:
        topic = topic_get_or_create_for_import(
            name=options["topic"], owner_username=options["owner"]
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    return paths, topic
