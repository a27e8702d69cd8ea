"""Scale-out: AI jobs and the publishing relay with two `qcluster` processes on
a Redis broker (Q_REDIS_URL). Nothing runs twice.

The test starts Debian's `redis-server` itself on a free loopback port. Without
it the tests skip loudly, except under CI=true, where they fail (.ci/run
installs redis-server).
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
from django.db import connection
from django_q.brokers.redis_broker import Redis as RedisBroker
from django_q.tasks import async_task

from benchmarks.processes import child_env, manage, running, tail
from publishing.models import OutboxEvent
from study.models import (
    AIExplanationStatus,
    JobStatus,
    QuestionJob,
    QuizMode,
    SessionAnalysis,
    SessionJob,
    Topic,
)
from study.services.questions import question_update
from tests.conftest import make_document, make_question
from tests.publishing.helpers import SECRET, create
from tests.publishing.viewer import FakeViewer
from tests.study.ai_jobs_helpers import wait_for
from tests.study.learner_helpers import answer_all, start

pytestmark = pytest.mark.django_db(transaction=True)

DOC = "인터록 장치는 가드가 열리면 기계가 작동하지 않도록 하는 방호장치이다. " * 15
REPLY = {
    "answer_choice": 2,
    "explanation_md": (
        "정답은 2번, 인터록입니다. 가드가 열리면 기계가 작동하지 않게 막는 장치입니다."
    ),
    "confidence": "medium",
    "evidence": [{"source": "D1", "quote": "인터록 장치는 가드가 열리면"}],
    "summary_md": "복습하세요.",
    "weak_subjects": [],
    "patterns": [],
    "next_steps": [],
}


class _BrokerAt(RedisBroker):
    """The Redis broker at a given URL (this test process itself is
    configured with the ORM broker)."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__()

    def get_connection(self, list_key=None):
        return redis.from_url(self.url)


def two_clusters(stack: ExitStack, url: str, **env: str) -> list:
    """Two qcluster processes (two workers each) on the Redis broker."""
    workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    name = connection.settings_dict["NAME"]
    environment = child_env(name, Q_REDIS_URL=url, Q_WORKERS="2", **env)
    processes = []
    for index in range(2):
        log_path = workdir / f"qcluster{index}.log"
        process = stack.enter_context(
            running(manage("qcluster"), env=environment, log_path=log_path)
        )
        processes.append((process, log_path))
    return processes


def kick(url: str, func: str, times: int) -> None:
    broker = _BrokerAt(url)
    for _ in range(times):
        async_task(func, q_options={"broker": broker})


def assert_alive(processes) -> None:
    for process, log_path in processes:
        assert process.poll() is None, tail(log_path)


def test_ai_jobs_run_once_each_with_two_clusters_on_redis(
    redis_url, user, topic, fake_llm, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    make_document(user, topic, DOC, title="노트")
    for number in range(1, 7):
        make_question(
            topic,
            number,
            stem="가드가 열리면 기계가 멈추는 방호장치는?",
            choice_2="인터록",
        )
    session = answer_all(start(user, topic, mode=QuizMode.ROUND, round_key="2020-1"), 1)
    assert QuestionJob.objects.count() == 6 and SessionJob.objects.count() == 1
    fake_llm.reply_json(REPLY, default=True, delay_s=0.2)
    with ExitStack() as stack:
        clusters = two_clusters(
            stack,
            redis_url,
            LLM_BASE_URL=fake_llm.base_url,
            LLM_MODEL="fake-model",
            LLM_CONCURRENCY="2",
            MEDIA_ROOT=str(tmp_path),
        )
        kick(redis_url, "study.tasks.ai_jobs_consume", 4)
        wait_for(
            lambda: (
                assert_alive(clusters)
                or SessionAnalysis.objects.filter(session=session).exists()
                and not QuestionJob.objects.filter(
                    status__in=[JobStatus.PENDING, JobStatus.PROCESSING]
                ).exists()
            )
        )
    jobs = list(QuestionJob.objects.all())
    assert {(job.status, job.attempts) for job in jobs} == {(JobStatus.COMPLETED, 1)}
    assert SessionJob.objects.get().attempts == 1
    chats = [r for r in fake_llm.requests if r.path.endswith("/chat/completions")]
    assert len(chats) == 7  # six explanations and one analysis: nothing twice
    assert set(topic.questions.values_list("ai_explanation_status", flat=True)) == {
        AIExplanationStatus.READY
    }


def test_the_relay_delivers_each_event_once_with_two_clusters_on_redis(
    redis_url, topic, settings
):
    settings.STUDY_PUBLISH_ENABLED = True
    settings.PUBLISH_SIGNING_SECRET = SECRET
    # Only topics their owner marks for publishing reach the outbox.
    Topic.objects.filter(pk=topic.pk).update(is_shared=True, is_published=True)
    topic.refresh_from_db()
    viewer = FakeViewer(secret=SECRET, slow_s=1.0)
    viewer.start()
    viewer.delay_s = 0.03
    try:
        settings.PUBLISH_VIEWER_URL = viewer.url
        questions = [create(topic, n) for n in range(1, 7)]
        for question in questions:
            for n in (1, 2):
                question_update(question=question, data={"stem": f"{n}판"})
        total = OutboxEvent.objects.count()
        assert total == 18
        with ExitStack() as stack:
            clusters = two_clusters(
                stack,
                redis_url,
                STUDY_PUBLISH_ENABLED="true",
                PUBLISH_SIGNING_SECRET=SECRET,
                PUBLISH_VIEWER_URL=viewer.url,
            )
            kick(redis_url, "publishing.tasks.relay_outbox", 4)
            wait_for(
                lambda: (
                    assert_alive(clusters)
                    or not OutboxEvent.objects.filter(
                        delivered_at__isnull=True
                    ).exists()
                )
            )
        assert len(viewer.received) == total
        assert len({r["key"] for r in viewer.received}) == total
        assert viewer.max_in_flight_per_question == 1
        assert viewer.out_of_order == []
    finally:
        viewer.stop()
