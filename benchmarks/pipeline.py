"""Prefetch pickup latency and pipeline overhead with a real django-q2 cluster.

A `manage.py qcluster` subprocess runs against the bench database with the
LLM pointed at a fake OpenAI-compatible server of fixed latency. A learner
finishes a session with wrong answers; the pickup latency runs from the
session's finalize (just before its commit) to the first explanation job's
started_at. The overhead is the time the session's prefetch takes beyond the
LLM's own time: (wall time from the first job's start to the last job's end −
time the fake LLM spent serving in that window) / that LLM time.
"""

from __future__ import annotations

import statistics
import time
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.test.utils import override_settings
from django_q.models import OrmQ
from django_q.tasks import async_task, result

from benchmarks.processes import child_env, manage, running, tail
from study.models import (
    JobKind,
    JobStatus,
    Question,
    QuestionJob,
    QuizSession,
    SessionJob,
    Topic,
)
from study.services.quiz_sessions import quiz_answer_record
from tests.fakes.openai_server import FakeOpenAI

MISSED_PER_SESSION = 5
SESSION_SIZE = 20
ACTIVE = (JobStatus.PENDING, JobStatus.PROCESSING)
# One reply that satisfies both the explanation and the session-analysis schema.
ENVELOPE = {
    "answer_choice": 2,
    "explanation_md": "**정답 2번.** 근거 자료에 따르면 보기 2가 기준에 맞습니다.",
    "confidence": "high",
    "evidence": [],
    "summary_md": "오답은 주로 법규 과목에서 나왔습니다.",
    "weak_subjects": ["관계법규"],
    "patterns": ["수치 기준 혼동"],
    "next_steps": ["법규 수치 기준 복습"],
}


def ping() -> str:
    """A task that proves a worker is taking work."""
    return "pong"


def fake_llm_class():
    class TimedFakeOpenAI(FakeOpenAI):
        """Records when each chat completion was served (server side)."""

        def __init__(self) -> None:
            super().__init__()
            self.served: list[tuple[float, float]] = []

        def respond(self, path, body):
            started = time.time()
            response = super().respond(path, body)
            if path.split("?", 1)[0].rstrip("/").endswith("/chat/completions"):
                self.served.append((started, time.time()))
            return response

    return TimedFakeOpenAI


def measure_pickup(
    *, scale, meta: dict, dbname: str, workdir: Path, llm_latency_s: float, log
) -> dict:
    fake_class = fake_llm_class()
    _clear_backlog()
    with fake_class() as fake:
        fake.delay(llm_latency_s)
        fake.reply_json(ENVELOPE, default=True)
        env = child_env(
            dbname,
            LLM_BASE_URL=fake.base_url,
            LLM_MODEL="fake-model",
            LLM_TIMEOUT_S="30",
        )
        log_path = workdir / "qcluster.log"
        with (
            override_settings(LLM_BASE_URL=fake.base_url, LLM_MODEL="fake-model"),
            running(manage("qcluster"), env=env, log_path=log_path) as process,
        ):
            ready_s = _wait_until_ready(process, log_path)
            log(f"  qcluster ready in {ready_s:.1f} s")
            rounds = []
            total = scale.pickup_warmup_rounds + scale.pickup_rounds
            for index in range(total):
                result = _one_round(meta, fake, llm_latency_s)
                warm = index >= scale.pickup_warmup_rounds
                log(
                    f"  {'round' if warm else 'warm-up'} {index + 1}: pickup "
                    f"{result['pickup_s']:.3f} s, pipeline overhead "
                    f"{result['window_overhead_pct']:.1f} %, per job "
                    f"{result['overhead_pct']:.1f} %"
                )
                if warm:
                    rounds.append(result)
    return _summary(rounds, llm_latency_s, ready_s)


def _clear_backlog() -> None:
    QuestionJob.objects.filter(status__in=ACTIVE).update(status=JobStatus.SKIPPED)
    SessionJob.objects.filter(status__in=ACTIVE).update(status=JobStatus.SKIPPED)
    OrmQ.objects.all().delete()


def _wait_until_ready(process, log_path: Path, timeout_s: float = 120) -> float:
    started = time.monotonic()
    task_id = async_task("benchmarks.pipeline.ping")
    while time.monotonic() - started < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"qcluster exited: {tail(log_path)}")
        if result(task_id) == "pong":
            return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"qcluster did not take a task in {timeout_s} s")


def _fresh_questions(topic: Topic, count: int) -> list[int]:
    """Questions the prefetch will explain: keyed 2 (the fake's answer), none yet."""
    return list(
        Question.objects.quizzable()
        .filter(topic=topic, correct_choice=2, ai_explanation_status="none")
        .filter(accepted_choices="")
        .exclude(jobs__isnull=False)
        .order_by("?")
        .values_list("pk", flat=True)[:count]
    )


def _one_round(meta: dict, fake, llm_latency_s: float) -> dict:
    user = get_user_model().objects.get(pk=meta["learner_id"])
    topic = Topic.objects.get(pk=meta["big_topic_id"])
    missed = _fresh_questions(topic, MISSED_PER_SESSION)
    others = list(
        Question.objects.quizzable()
        .filter(topic=topic)
        .exclude(pk__in=missed)
        .order_by("?")
        .values_list("pk", "correct_choice")[: SESSION_SIZE - len(missed)]
    )
    choices = {qid: 1 for qid in missed} | dict(others)  # 1 is wrong for those
    ids = [*missed[:-1], *(qid for qid, _ in others), missed[-1]]
    session = QuizSession.objects.create(
        user=user,
        topic=topic,
        mode="stage",
        stage="pre_exam",
        params={"size": SESSION_SIZE},
        question_ids=ids,
    )
    served_before = len(fake.served)
    for position, qid in enumerate(ids):
        quiz_answer_record(
            session=session,
            position=position,
            question_id=qid,
            choice=choices[qid],
            time_taken_ms=5000,
        )
    session.refresh_from_db()
    jobs = _wait_for_jobs(session, missed, timeout_s=120 + 20 * len(missed))
    return _round_figures(session, jobs, fake.served[served_before:])


def _wait_for_jobs(session: QuizSession, missed: list[int], timeout_s: float):
    deadline = time.monotonic() + timeout_s
    since = session.finished_at - timedelta(seconds=1)
    while time.monotonic() < deadline:
        jobs = list(
            QuestionJob.objects.filter(
                question_id__in=missed, kind=JobKind.EXPLANATION, created_at__gte=since
            )
        )
        session_busy = SessionJob.objects.filter(
            session=session, status__in=ACTIVE
        ).exists()
        done = len(jobs) >= len(missed) and all(job.is_terminal for job in jobs)
        if done and not session_busy:
            return jobs
        time.sleep(0.05)
    statuses = sorted(job.status for job in jobs)
    raise RuntimeError(
        f"explanation jobs of session {session.pk} did not finish in "
        f"{timeout_s:.0f} s: {statuses}, session job busy: {session_busy}"
    )


def _round_figures(session: QuizSession, jobs: list, served: list) -> dict:
    starts = [job.started_at for job in jobs if job.started_at]
    pickup_s = (min(starts) - session.finished_at).total_seconds()
    walls, llm = [], []
    for job in jobs:
        latency = (job.payload or {}).get("latency_s")
        if job.status == JobStatus.COMPLETED and latency and job.completed_at:
            walls.append((job.completed_at - job.started_at).total_seconds())
            llm.append(float(latency))
    overhead = (sum(walls) - sum(llm)) / sum(llm) * 100 if llm else float("nan")
    window_start = min(starts).timestamp()
    ends = [job.completed_at for job in jobs if job.completed_at]
    window_end = max(ends).timestamp() if ends else window_start
    llm_busy = sum(
        min(end, window_end) - max(start, window_start)
        for start, end in served
        if end > window_start and start < window_end
    )
    return {
        "pickup_s": pickup_s,
        "overhead_pct": overhead,
        "job_wall_s": walls,
        "job_llm_s": llm,
        "statuses": sorted(job.status for job in jobs),
        "window_s": window_end - window_start,
        "llm_busy_s": llm_busy,
        "window_overhead_pct": (window_end - window_start - llm_busy) / llm_busy * 100
        if llm_busy
        else float("nan"),
        "llm_calls": len(served),
    }


def _summary(rounds: list[dict], llm_latency_s: float, ready_s: float) -> dict:
    pickups = [r["pickup_s"] for r in rounds]
    walls = [w for r in rounds for w in r["job_wall_s"]]
    llm = [s for r in rounds for s in r["job_llm_s"]]
    window = sum(r["window_s"] for r in rounds)
    busy = sum(r["llm_busy_s"] for r in rounds)
    return {
        "pickup_latency_s": round(statistics.median(pickups), 3),
        "pickup_max_s": round(max(pickups), 3),
        "pickups_s": [round(p, 3) for p in pickups],
        # The session's prefetch from its first job's start to its last job's
        # end, against the time the LLM was serving within that window.
        "pipeline_overhead_pct": round((window - busy) / busy * 100, 2)
        if busy
        else None,
        "pipeline_window_s": round(window, 3),
        "llm_busy_s": round(busy, 3),
        # Per job, wall time includes waiting at the LLM gate behind the other
        # worker's call (LLM_CONCURRENCY=1), so it is not the pipeline's cost.
        "per_job_overhead_pct": round((sum(walls) - sum(llm)) / sum(llm) * 100, 2)
        if llm
        else None,
        "llm_latency_s": llm_latency_s,
        "jobs": len(walls),
        "job_statuses": sorted({s for r in rounds for s in r["statuses"]}),
        "cluster_ready_s": round(ready_s, 1),
    }
