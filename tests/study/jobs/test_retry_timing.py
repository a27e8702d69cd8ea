"""A retry runs when the runner said it would (issue 29), on both brokers.

A real `qcluster` (two workers) runs against a fake LLM that answers 429 with
Retry-After, then 200. Nothing kicks the cluster and no schedule exists: the
first call can only come from the worker's own start (a restarted worker
drains what is due at once), and the second only from the waiter the retry
started. The card shows the retry time while the job waits; the second call
comes within 2 s of it.
"""

from __future__ import annotations

import re
import tempfile
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from benchmarks.processes import child_env, manage, running, tail
from study.ai.explanation_jobs import job_enqueue
from study.ai.states import explanation_state_one
from study.llm.embeddings import get_embedder
from study.models import AIExplanationStatus, JobStatus, QuestionJob, Topic
from tests.conftest import make_document
from tests.study.ai_jobs_helpers import DOC, good, q, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

RETRY_AFTER_S = 4
SLACK_S = 2


def _cluster(stack: ExitStack, **env: str):
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    environment = child_env(connection.settings_dict["NAME"], Q_WORKERS="2", **env)
    if "Q_REDIS_URL" not in env:
        environment.pop("Q_REDIS_URL", None)  # the ORM broker
    log_path = workdir / "qcluster.log"
    process = stack.enter_context(
        running(manage("qcluster"), env=environment, log_path=log_path)
    )
    return process, log_path


def _alive(cluster) -> None:
    process, log_path = cluster
    assert process.poll() is None, tail(log_path)


@pytest.fixture
def fast_embedder(fake_llm, settings):
    """Embeddings from the fake server: the job's own work before its LLM call
    takes milliseconds, so the test times the runner, not a busy CPU."""
    settings.EMBEDDING_BASE_URL = fake_llm.base_url
    settings.EMBEDDING_MODEL = "fake-embedding"
    get_embedder.cache_clear()
    yield {"EMBEDDING_BASE_URL": fake_llm.base_url, "EMBEDDING_MODEL": "fake-embedding"}
    get_embedder.cache_clear()


def _card_retry_time(client, question) -> str | None:
    """The retry time the learner's explanation panel shows (HH:MM:SS)."""
    html = client.get(reverse("study:ai_panel", args=[question.pk])).content.decode()
    found = re.search(r"(\d\d:\d\d:\d\d)에 다시 시도합니다", html)
    return found.group(1) if found else None


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_a_retry_runs_at_the_time_its_card_shows(
    broker, request, client, user, topic, fake_llm, fast_embedder, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    Topic.objects.filter(pk=topic.pk).update(ai_independent_check=False)
    make_document(user, topic, DOC, title="노트")
    question = q(topic)
    fake_llm.reply_status(429, "slow down", headers={"Retry-After": str(RETRY_AFTER_S)})
    fake_llm.reply_json(good(), default=True)
    assert job_enqueue(question_id=question.pk, user_id=user.pk)
    # No tick and no wake-up left in the queue: only the cluster itself moves.
    Schedule.objects.all().delete()
    OrmQ.objects.all().delete()
    env = {
        "LLM_BASE_URL": fake_llm.base_url,
        "LLM_MODEL": "fake-model",
        "STUDY_JOB_RETRY_BASE_S": "0.5",
        "MEDIA_ROOT": str(tmp_path),
        **fast_embedder,
    }
    if broker == "redis":
        env["Q_REDIS_URL"] = request.getfixturevalue("redis_url")
    client.force_login(user)
    retry_at, shown = [], []
    with ExitStack() as stack:
        cluster = _cluster(stack, **env)

        def waiting_to_retry() -> bool:
            _alive(cluster)
            state = explanation_state_one(question)
            if state.retry_at is not None:
                retry_at.append(state.retry_at)
                shown.append(_card_retry_time(client, question))
            return bool(retry_at)

        wait_for(waiting_to_retry)
        wait_for(
            lambda: (
                _alive(cluster)
                or QuestionJob.objects.filter(status=JobStatus.COMPLETED).exists()
            )
        )
    job = QuestionJob.objects.get()
    assert job.attempts == 2  # one 429, one answer: nothing claimed twice
    chats = [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]
    assert len(chats) == 2
    first, second = chats
    assert second.received_at - first.received_at >= RETRY_AFTER_S
    # Claimed when due (the runner's part), and the call made right after.
    assert abs(job.started_at.timestamp() - retry_at[0].timestamp()) <= SLACK_S
    assert abs(second.received_at - retry_at[0].timestamp()) <= SLACK_S
    # What the card says is that time, to the second, in the learner's zone.
    card = datetime.strptime(shown[0], "%H:%M:%S").time()
    zone = timezone.get_current_timezone()
    happened = datetime.fromtimestamp(second.received_at, zone)
    on_card = datetime.combine(happened.date(), card, tzinfo=zone)
    assert abs((happened - on_card).total_seconds()) <= SLACK_S
    question.refresh_from_db()
    assert question.ai_explanation_status == AIExplanationStatus.READY
