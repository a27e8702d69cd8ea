"""What the AI job tests share: a good reply, a question, time passing."""

import time

from study.models import QuestionJob
from tests.conftest import make_question

DOC = "인터록 장치는 가드가 열리면 기계가 작동하지 않도록 하는 방호장치이다. " * 15


def good(
    answer=2,
    text=(
        "정답은 2번, 인터록입니다. 가드가 열리면 기계가 작동하지 않게 막는 장치입니다."
    ),
):
    return {
        "answer_choice": answer,
        "explanation_md": text,
        "confidence": "medium",
        "evidence": [{"source": "D1", "quote": "인터록 장치는 가드가 열리면"}],
    }


def q(topic, n=1, **kw):
    kw.setdefault("stem", "가드가 열리면 기계가 멈추는 방호장치는?")
    kw.setdefault("choice_2", "인터록")
    return make_question(topic, n, **kw)


def due_now():
    """Time passes: every job waiting out its backoff is due."""
    QuestionJob.objects.update(run_after=None)


def wait_for(condition, timeout_s=180):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def run_due_jobs() -> int:
    """A worker's turn: every due job runs (what study.tasks.ai_jobs_consume
    does when woken); returns how many ran."""
    from study.jobs.runner import jobs_consume

    total = 0
    while done := jobs_consume(batch=10):
        total += done
    return total
