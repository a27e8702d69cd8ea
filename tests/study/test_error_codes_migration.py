"""Migration 0018 turns stored error text into codes plus parameters: what the
old words say becomes the code, any other text is kept and shown as it was."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from study.ai.states import subject_note_reason
from study.models import Document, SubjectNote

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("study", "0017_offline_answers")]
AFTER = [("study", "0018_vocabulary_and_jobs")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_stored_error_text_becomes_codes_and_parameters(user):
    old = _migrate(BEFORE)
    topic = old.get_model("study", "Topic").objects.create(name="t", owner_id=user.pk)
    notes = old.get_model("study", "SubjectNote").objects
    notes.create(
        topic=topic,
        subject="a",
        status="failed",
        error="AI 설명이 검사를 통과하지 못해 저장하지 않았습니다 "
        "(guard_fail:note_names_answer)",
    )
    notes.create(topic=topic, subject="b", status="skipped", error="자료 부족: …")
    notes.create(
        topic=topic, subject="c", status="failed", error="생성하지 못했습니다: x"
    )
    documents = old.get_model("study", "Document").objects
    documents.create(
        owner_id=user.pk,
        title="scan",
        status="failed",
        error="텍스트를 추출할 수 없습니다 (스캔 이미지로 된 PDF일 수 있습니다).",
    )
    documents.create(owner_id=user.pk, title="odd", status="failed", error="이상함")
    _migrate(AFTER)
    _migrate([("study", max_leaf())])

    guard, missing, other = SubjectNote.objects.order_by("subject")
    assert (guard.error_code, guard.error_params) == (
        "guard_fail",
        {"guard_reason": "note_names_answer"},
    )
    assert missing.error_code == "evidence_missing"
    assert (other.error_code, subject_note_reason(other)) == (
        "",
        "생성하지 못했습니다: x",
    )
    scan, odd = (Document.objects.get(title=t) for t in ("scan", "odd"))
    assert scan.error_code == "no_text" and "스캔 이미지" in scan.error
    assert odd.error_code == "" and odd.error == "이상함"


def max_leaf() -> str:
    executor = MigrationExecutor(connection)
    return next(
        name for app, name in executor.loader.graph.leaf_nodes() if app == "study"
    )
