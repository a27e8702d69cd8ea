"""Issue 24, N3: quotas hold when uploads arrive at the same time.

Each quota is checked and the upload stored in one transaction under the
user's lock. The proof runs two real transactions in threads against the
database: the first is held just after its check (inside its transaction);
the second must then wait for the lock, and is refused once the first
commits. Without the lock the second passes the same check and both are
stored. Nothing here sleeps: each step waits for a condition (an event, or
PostgreSQL reporting the second backend waiting on a lock).
"""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections

from study.documents.extraction import DocumentRejected
from study.documents.services import document_create
from study.imports.runs import ImportRejected, question_import_create
from study.models import Document, Question, QuestionImport, Topic
from study.services.figures import FigureRejected
from study.services.questions import question_update
from tests.conftest import make_question
from tests.study.imports.test_import_questions import HEADER, row

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_S = 60  # a bound on a broken test, never part of its outcome


@pytest.fixture
def owner(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return get_user_model().objects.create_user(username="racer", password="x")


class Racer(threading.Thread):
    """One upload in its own thread, with its own database connection."""

    def __init__(self, name, action):
        super().__init__(name=name, daemon=True)
        self.action, self.error, self.pid = action, None, None
        self.started_work = threading.Event()
        self.done = threading.Event()

    def run(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            self.started_work.set()
            self.action()
        except Exception as exc:
            self.error = exc
        finally:
            connections.close_all()
            self.started_work.set()
            self.done.set()


def waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s",
            [pid],
        )
        found = cursor.fetchone()
    return bool(found and found[0])


def race(monkeypatch, check_path: str, first_action, second_action):
    """Run `first_action` until just after its quota check, then
    `second_action` until it finishes or waits for a lock, then let the first
    commit. Returns both racers (each with its `error`, if any)."""
    in_window, release = threading.Event(), threading.Event()
    module, name = check_path.rsplit(".", 1)
    real_check = getattr(__import__(module, fromlist=[name]), name)

    def held_check(*args, **kwargs):
        real_check(*args, **kwargs)
        if threading.current_thread().name == "first":
            in_window.set()
            release.wait(WAIT_S)

    monkeypatch.setattr(check_path, held_check)
    first, second = Racer("first", first_action), Racer("second", second_action)
    first.start()
    assert in_window.wait(WAIT_S) or first.done.is_set()
    assert first.error is None, first.error
    second.start()
    second.started_work.wait(WAIT_S)
    while not second.done.wait(0.01):  # a condition: done, or blocked
        if second.pid and waiting_on_a_lock(second.pid):
            break
    release.set()
    first.join(WAIT_S)
    second.join(WAIT_S)
    assert not first.is_alive() and not second.is_alive()
    return first, second


def upload(name, size):
    return SimpleUploadedFile(name, b"x" * size)


def test_two_documents_at_once_cannot_both_pass_the_processing_limit(
    owner, settings, monkeypatch
):
    settings.DOCUMENT_MAX_PROCESSING = 1
    topic = Topic.objects.create(name="t", owner=owner)

    def add(name):
        return lambda: document_create(
            owner=owner,
            topics=[topic],
            title=name,
            upload=upload(f"{name}.txt", 10),
            enqueue=False,
        )

    first, second = race(
        monkeypatch,
        "study.documents.services.document_quota_check",
        add("a"),
        add("b"),
    )
    assert first.error is None
    assert isinstance(second.error, DocumentRejected)
    assert Document.objects.count() == 1


def test_two_documents_at_once_cannot_both_pass_the_bytes_quota(
    owner, settings, monkeypatch
):
    settings.DOCUMENT_QUOTA_BYTES = 1_000_000
    topic = Topic.objects.create(name="t", owner=owner)

    def add(name):
        return lambda: document_create(
            owner=owner,
            topics=[topic],
            title=name,
            upload=upload(f"{name}.txt", 600_000),
            enqueue=False,
        )

    first, second = race(
        monkeypatch,
        "study.documents.services.document_quota_check",
        add("a"),
        add("b"),
    )
    assert first.error is None and isinstance(second.error, DocumentRejected)
    assert Document.objects.count() == 1


def test_ten_parallel_uploads_keep_the_processing_limit(owner, settings):
    """The finding as reported: ten uploads at once with a limit of three."""
    settings.DOCUMENT_MAX_PROCESSING = 3
    topic = Topic.objects.create(name="t", owner=owner)
    start = threading.Barrier(10, timeout=WAIT_S)

    def add(n):
        def action():
            start.wait()
            document_create(
                owner=owner,
                topics=[topic],
                title=str(n),
                upload=upload(f"{n}.txt", 10),
                enqueue=False,
            )

        return action

    racers = [Racer(f"r{n}", add(n)) for n in range(10)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(WAIT_S)
    refused = [r for r in racers if isinstance(r.error, DocumentRejected)]
    assert [r.error for r in racers if r.error and r not in refused] == []
    assert Document.objects.count() == 3 and len(refused) == 7


def test_two_figures_at_once_cannot_both_pass_the_quota(owner, settings, monkeypatch):
    settings.FIGURE_QUOTA_BYTES = 1000
    topic = Topic.objects.create(name="t", owner=owner)
    one, two = make_question(topic, 1), make_question(topic, 2)

    def attach(question):
        return lambda: question_update(
            question=question,
            data={"figure": ContentFile(b"p" * 600, name="f.png")},
        )

    first, second = race(
        monkeypatch,
        "study.services.questions.figure_quota_check",
        attach(one),
        attach(two),
    )
    assert first.error is None and isinstance(second.error, FigureRejected)
    assert Question.objects.exclude(figure="").count() == 1


def test_two_imports_at_once_cannot_both_pass_the_stored_bytes_quota(
    owner, settings, monkeypatch
):
    data = ("\n".join([HEADER, *(row(n) for n in range(1, 20))]) + "\n").encode()
    settings.QUESTION_IMPORT_QUOTA_BYTES = len(data) + 100
    topic = Topic.objects.create(name="t", owner=owner)

    def start_import(name):
        return lambda: question_import_create(
            topic=topic, user=owner, uploads=[SimpleUploadedFile(name, data)]
        )

    first, second = race(
        monkeypatch,
        "study.imports.runs._check_quota",
        start_import("a.csv"),
        start_import("b.csv"),
    )
    assert first.error is None and isinstance(second.error, ImportRejected)
    assert QuestionImport.objects.count() == 1
