"""Backup and restore: `manage.py backup` then `manage.py restore` into a fresh
database and another media folder finds every answer, figure and document."""

from __future__ import annotations

import tarfile
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from study.backup import connection_env
from study.documents.services import document_create
from study.models import Attempt, Document, Question
from tests.study.exports.helpers import give_figure, png_bytes
from tests.study.learner_helpers import answer_all, make_bank, start

FRESH = f"test_gichul_restore_{uuid.uuid4().hex[:8]}"


def fresh_connection(name: str):
    env = connection_env({**settings.DATABASES["default"], "NAME": name})
    return psycopg.connect(
        dbname=name,
        host=env.get("PGHOST"),
        port=env.get("PGPORT"),
        user=env.get("PGUSER"),
        password=env.get("PGPASSWORD") or None,
    )


@pytest.fixture
def fresh_database():
    yield FRESH
    with fresh_connection("postgres") as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{FRESH}" WITH (FORCE)')


@pytest.mark.django_db(transaction=True)
def test_a_backup_restored_into_a_fresh_database_has_every_answer_figure_and_document(
    user, topic, settings, tmp_path, fresh_database
):
    settings.MEDIA_ROOT = tmp_path / "media"
    questions = make_bank(topic)
    figures = {
        q.pk: give_figure(q, png_bytes((i, 80, 160)))
        for i, q in enumerate(questions[:3])
    }
    document = document_create(
        owner=user,
        topics=[topic],
        title="안전보건 노트",
        upload=SimpleUploadedFile("notes.txt", "추락 방지: 안전난간".encode()),
        enqueue=False,
    )
    session = start(user, topic, size=12, rng=__import__("random").Random(8))
    answer_all(session, lambda position, qid: 1 + position % 4)
    answers = sorted(
        Attempt.objects.values_list(
            "session_id", "position", "question_id", "selected_choice", "outcome"
        )
    )
    assert len(answers) == 12

    archive = tmp_path / "backup.tar"
    call_command("backup", "--out", str(archive))
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "database.dump" in names and "gichul-backup.json" in names

    restored_media = tmp_path / "restored-media"
    call_command(
        "restore",
        str(archive),
        "--database-name",
        fresh_database,
        "--media-root",
        str(restored_media),
        "--create",
        "--yes",
    )

    with fresh_connection(fresh_database) as conn:
        restored_answers = sorted(
            conn.execute(
                "SELECT session_id, position, question_id, selected_choice, outcome "
                "FROM study_attempt"
            ).fetchall()
        )
        figure_rows = dict(
            conn.execute(
                "SELECT id, figure FROM study_question WHERE figure <> ''"
            ).fetchall()
        )
        document_rows = conn.execute(
            "SELECT id, title, file FROM study_document"
        ).fetchall()
        question_count = conn.execute("SELECT count(*) FROM study_question").fetchone()
    assert restored_answers == answers
    assert question_count == (Question.objects.count(),)
    assert set(figure_rows) == set(figures)
    for pk, name in figure_rows.items():
        assert (restored_media / name).read_bytes() == figures[pk]
    assert document_rows == [(document.pk, "안전보건 노트", document.file.name)]
    restored_document = restored_media / document_rows[0][2]
    assert restored_document.read_bytes() == "추락 방지: 안전난간".encode()
    assert Document.objects.count() == 1  # the source is untouched


def test_restore_refuses_a_file_that_is_no_backup(tmp_path):
    bogus = tmp_path / "not-a-backup.tar"
    with tarfile.open(bogus, "w") as tar:
        tar.add(__file__, arcname="whatever.py")
    with pytest.raises(CommandError, match="not a Gichul backup"):
        call_command("restore", str(bogus), "--yes")
    plain = tmp_path / "plain.txt"
    plain.write_text("hello")
    with pytest.raises(CommandError, match="not a Gichul backup"):
        call_command("restore", str(plain), "--yes")


def test_the_makefile_has_backup_and_restore_targets():
    makefile = (Path(settings.BASE_DIR) / "Makefile").read_text()
    assert "\nbackup: setup\n" in makefile and "\nrestore: setup\n" in makefile
