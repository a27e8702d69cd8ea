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

# A statute passage and a question it decides: the question's 근거 카드
# (study/evidence/) is what an exported card shows on its back.
STATUTE = """제24조(사다리식 통로 등의 구조)
① 사업주는 사다리식 통로 등을 설치하는 경우 다음 각 호의 사항을 준수하여야 한다.
1. 견고한 구조로 할 것
2. 발판과 벽과의 사이는 15센티미터 이상의 간격을 유지할 것
3. 폭은 30센티미터 이상으로 할 것
5. 사다리식 통로의 기울기는 75도 이하로 할 것
"""
CITATION = "시험안전규칙 제24조"
LADDER = {
    "stem": "산업안전보건법령에 따라 사다리식 통로를 설치하는 경우 "
    "준수해야 할 기준으로 틀린 것은?",
    # the key (2) is the choice the statute states otherwise (75도 이하)
    "choices": [
        "발판과 벽과의 사이는 15cm 이상의 간격을 유지할 것",
        "사다리식 통로의 기울기는 60°이하로 할 것",
        "폭은 30cm 이상으로 할 것",
        "견고한 구조로 할 것",
    ],
}


def png_bytes(color=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


def give_figure(question, data: bytes | None = None) -> bytes:
    data = data or png_bytes()
    question.figure.save(f"fig-{question.pk}.png", ContentFile(data), save=True)
    return data


def give_evidence(question, owner) -> None:
    """A statute in the question's topic that decides it, and the question's
    근거 카드 computed and cached (as its first view does)."""
    from study.evidence.services import evidence_card_get
    from tests.conftest import make_document

    make_document(owner, question.topic, STATUTE, title="시험안전규칙")
    question.stem = LADDER["stem"]
    for number, text in enumerate(LADDER["choices"], 1):
        setattr(question, f"choice_{number}", text)
    question.save()
    card = evidence_card_get(question=question)
    assert card.verdict == 2 and card.lead_citation == CITATION, card


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
