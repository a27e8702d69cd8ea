"""Shared by the export tests: a figure, an evidence-backed question, and
reading an .apkg back with SQLite."""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import zipfile
from pathlib import Path

from django.core.files.base import ContentFile
from PIL import Image

from study.models import AIExplanationStatus

CITATION = "산업안전보건기준에 관한 규칙 제42조(추락의 방지) ①"
PASSAGE = (
    "사업주는 작업장에서 근로자가 추락할 위험이 있는 장소에는 안전난간을 설치해야 한다."
)


def png_bytes(color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


def give_figure(question, data: bytes | None = None) -> bytes:
    data = data or png_bytes()
    question.figure.save(f"fig-{question.pk}.png", ContentFile(data), save=True)
    return data


def give_evidence(question) -> None:
    question.ai_explanation = "안전난간을 설치해야 하므로 정답은 2번이다."
    question.ai_explanation_status = AIExplanationStatus.READY
    question.ai_explanation_evidence = [
        {"kind": "question", "ref": "q:1", "title": "다른 문제", "quote": "무시"},
        {"kind": "document", "ref": "doc:1#3", "title": CITATION, "quote": PASSAGE},
    ]
    question.save()


def read_apkg(data: bytes) -> dict:
    """Notes (fields by name), media files by name, deck names and card count,
    read from the collection's SQLite file as Anki would."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    media_map = json.loads(archive.read("media"))
    media = {name: archive.read(index) for index, name in media_map.items()}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "collection.anki2"
        path.write_bytes(archive.read("collection.anki2"))
        db = sqlite3.connect(path)
        models = json.loads(db.execute("select models from col").fetchone()[0])
        decks = json.loads(db.execute("select decks from col").fetchone()[0])
        notes = []
        for mid, flds, tags, guid in db.execute(
            "select mid, flds, tags, guid from notes"
        ):
            names = [f["name"] for f in models[str(mid)]["flds"]]
            notes.append(
                {
                    **dict(zip(names, flds.split("\x1f"), strict=True)),
                    "_tags": tags.split(),
                    "_guid": guid,
                }
            )
        cards = db.execute("select count(*) from cards").fetchone()[0]
        db.close()
    return {
        "notes": notes,
        "media": media,
        "decks": sorted(d["name"] for d in decks.values()),
        "cards": cards,
        "models": models,
    }
