"""Prefetch pickup latency and pipeline overhead with a real django-q2 cluster.

A `manage.py qcluster` subprocess runs against the bench database with the
LLM pointed at a fake OpenAI-compatible server of fixed latency. The fake
reads its prompt as a capable model would (`guarded_reply`): it answers the
independent check with the key, and writes an explanation that declares the
keyed choice and quotes the evidence it was sent, verbatim, where it speaks
of the choices — so the app's text guard passes it and every job completes
the whole path (retrieval, prompt, check, LLM, guard, write).

A learner starts a session (its 근거 카드 computed ahead by the cluster, as
starting one does in the product; the round waits for that, untimed), then
finishes it with wrong answers; the pickup latency runs from
the session's finalize (just before its commit) to the first explanation
job's started_at. Per job, the overhead is its run time minus the fake LLM's
latency (both calls), split by the stages the job records
(`payload["stages_s"]`). The window overhead is the time the session's
prefetch takes beyond the LLM's own time: (wall time from the first job's
start to the last job's end − time the fake LLM spent serving in that
window) / that LLM time.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.test.utils import override_settings
from django_q.models import OrmQ
from django_q.tasks import async_task, result

from benchmarks.processes import child_env, manage, running, tail
from benchmarks.stats import seeded_sample
from study.ai.guard import content_words, shares_content
from study.evidence.selectors import questions_cards_due
from study.evidence.services import session_cards_compute_enqueue
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
# The session analysis's reply (the explanation's is written per prompt).
ANALYSIS = {
    "summary_md": "오답은 주로 법규 과목에서 나왔습니다.",
    "weak_subjects": ["관계법규"],
    "patterns": ["수치 기준 혼동"],
    "next_steps": ["법규 수치 기준 복습"],
    "confidence": "medium",
}
QUOTE_CHARS = 120
_BLOCK = re.compile(r"<<([DQ]\d+): [^\n]*>>\n(.*?)\n<</\1>>", re.S)


def guarded_reply(body: dict, keys: dict[str, int]) -> str:
    """What a capable model answers to the app's prompt (JSON content)."""
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get(
        "name", ""
    )
    prompt = str((body.get("messages") or [{}])[-1].get("content", ""))
    if schema == "answer_check":
        stem = _section(prompt, "문제").strip()
        return json.dumps({"answer_choice": keys.get(stem, 1)})
    if schema != "explanation":
        return json.dumps(ANALYSIS, ensure_ascii=False)
    found = re.search(r"\[정답\]\s*(\d)", prompt)
    if found is None:
        raise ValueError("the explanation prompt names no key")
    key = int(found.group(1))
    choices = re.findall(r"^[1-4]\. (.*)$", _section(prompt, "보기"), re.M)
    label, quote, context = _quote_about(prompt, choices)
    text = f"정답은 {key}번({choices[key - 1]})입니다."
    if quote:
        text += (
            f"\n\n{label}에는 “{quote}”라고 나옵니다. 같은 자료의 “{context}” "
            "부분도 함께 읽으면 판단 근거가 분명해집니다."
        )
    evidence = [{"source": label, "quote": quote}] if quote else []
    reply = {
        "answer_choice": key,
        "explanation_md": text,
        "confidence": "high",
        "evidence": evidence,
    }
    return json.dumps(reply, ensure_ascii=False)


def _section(prompt: str, name: str) -> str:
    match = re.search(rf"\[{name}\]\n(.*?)(?:\n\[|\Z)", prompt, re.S)
    return match.group(1) if match else ""


def _quote_about(prompt: str, choices: list[str]) -> tuple[str, str, str]:
    """A verbatim piece of the evidence that speaks of the choices (a content
    word they share, or a whole choice; documents first), and a piece of a
    document for the explanation's own words. A pasted question is neither."""
    words = content_words(" ".join(choices))
    blocks = sorted(_BLOCK.findall(prompt), key=lambda block: block[0][0] != "D")
    pieces = [
        (label, line[start : start + QUOTE_CHARS].strip())
        for label, text in blocks
        for line in text.splitlines()
        if not line.startswith("문제:")
        for start in range(0, max(1, len(line)), QUOTE_CHARS // 2)
    ]
    pieces = [(label, piece) for label, piece in pieces if len(piece) >= 4]
    for label, piece in pieces:
        whole = any(c.strip() and c.strip() in piece for c in choices)
        if whole or shares_content(piece, words):
            context = next(
                (other for name, other in pieces if other != piece and name[0] == "D"),
                next((other for _, other in pieces if other != piece), piece),
            )
            return label, piece, context[: QUOTE_CHARS // 2]
    return "", "", ""


def ping() -> str:
    """A task that proves a worker is taking work."""
    return "pong"


def fake_llm_class():
    class TimedFakeOpenAI(FakeOpenAI):
        """Records when each chat completion was served (server side)."""

        def __init__(self) -> None:
            super().__init__()
            self.served: list[tuple[float, float]] = []
            self.keys: dict[str, int] = {}  # stem -> key, for the check
            self.reply_function = lambda body: guarded_reply(body, self.keys)

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
            rng = random.Random(scale.seed)
            total = scale.pickup_warmup_rounds + scale.pickup_rounds
            for index in range(total):
                result = _one_round(meta, fake, llm_latency_s, rng)
                warm = index >= scale.pickup_warmup_rounds
                log(
                    f"  {'round' if warm else 'warm-up'} {index + 1}: pickup "
                    f"{result['pickup_s']:.3f} s, pipeline overhead "
                    f"{result['window_overhead_pct']:.1f} %, per job "
                    f"{result['overhead_pct']:.1f} %, jobs {result['statuses']}, "
                    f"cards warmed in {result['cards_s']:.1f} s (untimed)"
                    + (f" {result['guard_reasons']}" if result["guard_reasons"] else "")
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


def _fresh_questions(topic: Topic, count: int, rng: random.Random) -> list[int]:
    """Questions the prefetch will explain: none explained yet."""
    ids = (
        Question.objects.quizzable()
        .filter(topic=topic, ai_explanation_status="none")
        .filter(accepted_choices="")
        .exclude(jobs__isnull=False)
        .values_list("pk", flat=True)
    )
    return seeded_sample(ids, count, rng)


def _one_round(meta: dict, fake, llm_latency_s: float, rng: random.Random) -> dict:
    user = get_user_model().objects.get(pk=meta["learner_id"])
    topic = Topic.objects.get(pk=meta["big_topic_id"])
    missed = _fresh_questions(topic, MISSED_PER_SESSION, rng)
    keys = dict(
        Question.objects.filter(pk__in=missed).values_list("pk", "correct_choice")
    )
    fake.keys.update(
        {
            stem.strip(): keys[pk]
            for pk, stem in Question.objects.filter(pk__in=missed).values_list(
                "pk", "stem"
            )
        }
    )
    pool = dict(
        Question.objects.quizzable()
        .filter(topic=topic)
        .exclude(pk__in=missed)
        .values_list("pk", "correct_choice")
    )
    drawn = seeded_sample(pool, SESSION_SIZE - len(missed), rng)
    others = [(qid, pool[qid]) for qid in drawn]
    # A wrong choice for each missed question, the key for the others.
    choices = {qid: keys[qid] % 4 + 1 for qid in missed} | dict(others)
    ids = [*missed[:-1], *(qid for qid, _ in others), missed[-1]]
    session = QuizSession.objects.create(
        user=user,
        topic=topic,
        mode="stage",
        stage="pre_exam",
        params={"size": SESSION_SIZE},
        question_ids=ids,
    )
    # What starting a session does in the product (quiz_start): the cluster
    # computes its questions' 근거 카드 while the learner answers. A learner
    # takes minutes over 20 questions; this one answers at once, so the
    # round waits for the warm-up (untimed) and the jobs find the cards as a
    # learner's would. What computing a card costs is question_card_computed.
    cards_s = _warm_session_cards(session)
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
    return {
        **_round_figures(session, jobs, fake.served[served_before:]),
        "cards_s": cards_s,
    }


def _warm_session_cards(session: QuizSession, timeout_s: float = 600) -> float:
    """Enqueue the session's card warm-up as quiz_start does and wait until
    the cluster has computed every card of the session (seconds taken)."""
    started = time.monotonic()
    session_cards_compute_enqueue(session=session)
    while time.monotonic() - started < timeout_s:
        due = questions_cards_due(
            topic_id=session.topic_id, question_ids=session.question_ids
        )
        if not due:
            return time.monotonic() - started
        time.sleep(0.2)
    raise RuntimeError(
        f"the cards of session {session.pk} were not computed in {timeout_s:.0f} s"
    )


def _wait_for_jobs(session: QuizSession, missed: list[int], timeout_s: float):
    deadline = time.monotonic() + timeout_s
    assert session.finished_at is not None  # the session was submitted
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
    walls, llm, overheads = [], [], []
    stages: dict[str, list[float]] = defaultdict(list)
    for job in jobs:
        payload = job.payload or {}
        latency = float(payload.get("latency_s") or 0) + float(
            payload.get("check_latency_s") or 0
        )
        # Jobs that ran the whole path: explained, or stopped by the guard.
        ran = job.status == JobStatus.COMPLETED or job.error_code == "guard_fail"
        if ran and latency and job.completed_at:
            wall = (job.completed_at - job.started_at).total_seconds()
            walls.append(wall)
            llm.append(latency)
            overheads.append(float(payload.get("run_s") or wall) - latency)
            for name, seconds in (payload.get("stages_s") or {}).items():
                stages[name].append(float(seconds))
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
        "job_overhead_s": overheads,
        "stages": dict(stages),
        "statuses": sorted(job.status for job in jobs),
        "guard_reasons": sorted(
            (job.payload or {}).get("guard_reason", "")
            for job in jobs
            if job.status != JobStatus.COMPLETED
        ),
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
    overheads = [o for r in rounds for o in r["job_overhead_s"]]
    stages: dict[str, list[float]] = defaultdict(list)
    for r in rounds:
        for name, values in r["stages"].items():
            stages[name] += values
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
        # Per job that ran the whole path (explained, or stopped by the guard):
        # its run time minus the fake LLM's latency (the check and the
        # explanation), and the mean of each recorded stage.
        "job_overhead_s": round(statistics.mean(overheads), 4) if overheads else None,
        "job_overhead_p95_s": round(_p95(overheads), 4) if overheads else None,
        "stages_s": {
            name: round(statistics.mean(values), 4)
            for name, values in sorted(stages.items())
        },
        "jobs": len(walls),
        "jobs_measured": len(overheads),
        "jobs_completed": sum(r["statuses"].count(JobStatus.COMPLETED) for r in rounds),
        "jobs_total": sum(len(r["statuses"]) for r in rounds),
        "guard_reasons": sorted({g for r in rounds for g in r["guard_reasons"]}),
        "job_statuses": sorted({s for r in rounds for s in r["statuses"]}),
        "cluster_ready_s": round(ready_s, 1),
        # The untimed wait for the session's card warm-up, per round.
        "cards_warm_s": [round(r["cards_s"], 1) for r in rounds],
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
