"""The LLM latency shown beside a spinner: the median of the latest finished
calls, read once per LATENCY_MEMO_S in a process (reading it scans every
completed job, and every question page shows it)."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from study.ai import states
from study.models import JobStatus, QuestionJob
from tests.conftest import make_question

pytestmark = pytest.mark.django_db


def _completed(question, user, latency_s: float) -> QuestionJob:
    return QuestionJob.objects.create(
        question=question,
        user=user,
        status=JobStatus.COMPLETED,
        completed_at=timezone.now(),
        payload={"latency_s": latency_s},
    )


def test_the_estimate_is_read_once_per_memo_period(user, topic):
    question = make_question(topic)
    _completed(question, user, 2.0)
    _completed(question, user, 4.0)
    assert states.recent_llm_latency_s() == 3.0
    _completed(question, user, 30.0)
    with CaptureQueriesContext(connection) as captured:
        assert states.recent_llm_latency_s() == 3.0  # the process's memo
    assert len(captured) == 0
    # once the period is over, the next read sees the new call
    read_at, median = states._latency_memo
    states._latency_memo = (time.monotonic() - states.LATENCY_MEMO_S - 1, median)
    assert states.recent_llm_latency_s() == 4.0
