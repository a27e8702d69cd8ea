"""A retry runs when the runner said it would (issue 29), on both brokers.

A real `qcluster` (two workers) runs against a fake LLM that answers 429 with
Retry-After, then 200. Nothing kicks the cluster and no schedule exists: the
first call can only come from the worker's own start (a restarted worker
drains what is due at once), and the second only from the waiter the retry
started. The card shows the retry time while the job waits; the second call
comes within 2 s of it.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.db import connection
from django_q.models import OrmQ, Schedule

from benchmarks.processes import child_env, manage, running, tail
from study.ai.explanation_jobs import job_enqueue
from study.ai.states import explanation_state_one
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


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_a_retry_runs_at_the_time_its_card_shows(
    broker, request, user, topic, fake_llm, settings, tmp_path
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
    }
    if broker == "redis":
        env["Q_REDIS_URL"] = request.getfixturevalue("redis_url")
    retry_at = []
    with ExitStack() as stack:
        cluster = _cluster(stack, **env)

        def waiting_to_retry() -> bool:
            _alive(cluster)
            state = explanation_state_one(question)
            if state.retry_at is not None:
                retry_at.append(state.retry_at)
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
    assert abs(second.received_at - retry_at[0].timestamp()) <= SLACK_S
    question.refresh_from_db()
    assert question.ai_explanation_status == AIExplanationStatus.READY
