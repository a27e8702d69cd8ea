"""Fixtures of the AI job tests: a grounded topic and a log of consumer wake-ups."""

import pytest

from study.jobs import runner as job_runner
from tests.conftest import make_document
from tests.study.ai_jobs_helpers import DOC


@pytest.fixture
def docs(user, topic, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return make_document(user, topic, DOC, title="노트")


@pytest.fixture
def woken(monkeypatch):
    """Wake-ups of the consumer, recorded instead of sent to the broker."""
    calls = []
    monkeypatch.setattr(job_runner, "wake_consumer", lambda: calls.append(1))
    return calls
