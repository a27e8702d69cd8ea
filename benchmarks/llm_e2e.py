"""End to end with a real LLM: a learner's session, prefetched to the last card.

In a throwaway database: a topic with a statute document and a real exam
round; a 20-question session with `missed` wrong or 모르겠음 answers; a real
`manage.py qcluster` with the app's default time limits. From the session's
finalize we watch what the learner's results page would show, every two
seconds, until every card (each explanation and the session analysis) is
resolved: ready, failed with a reason, or 자료 부족.

Reported: time to the first explanation, time until every card is resolved,
and the counts that must be zero: silent failures (a card that ends with no
explanation and no failure shown), tasks killed (django-q timeouts or
failures), double generations (more than one LLM answer saved for a question).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test.utils import override_settings
from django.utils import timezone
from django_q.models import Failure, OrmQ

from benchmarks import database
from benchmarks.processes import child_env, manage, running, tail
from study.ai.states import AIState, explanation_states, session_analysis_state
from study.documents.services import document_create, document_ingest
from study.imports.services import questions_import
from study.models import JobStatus, Outcome, Question, QuestionJob, QuizSession, Topic
from study.related.embeddings import questions_embed
from study.services.quiz_sessions import UNSURE_CHOICE, quiz_answer_record

POLL_S = 2.0
RESOLVED = ("ready", "failed", "missing", "stale")


def load_average() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def local_llm_start(tool: Path, log: Callable[[str], None]) -> str:
    log(f"starting {tool} (first start takes about a minute)")
    done = subprocess.run(
        [str(tool), "start"], capture_output=True, text=True, timeout=900, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"local-llm did not start: {done.stderr[-2000:]}")
    base_url = done.stdout.strip().splitlines()[-1].strip()
    log(f"local LLM at {base_url}")
    return base_url


def local_llm_stop(tool: Path, log: Callable[[str], None]) -> None:
    subprocess.run([str(tool), "stop"], capture_output=True, timeout=120, check=False)
    log("local LLM stopped")


def llm_e2e_run(
    *,
    base_url: str,
    model: str,
    exam: Path,
    document: Path,
    missed: int,
    size: int,
    timeout_s: float,
    workdir: Path,
    log: Callable[[str], None],
) -> dict:
    name = f"gichul_llm_e2e_{os.getpid()}"
    database.drop(name)
    database.create(name)
    try:
        with (
            database.use_database(name),
            override_settings(LLM_BASE_URL=base_url, LLM_MODEL=model),
        ):
            call_command("migrate", verbosity=0)
            return _run(
                name=name,
                base_url=base_url,
                model=model,
                exam=exam,
                document=document,
                missed=missed,
                size=size,
                timeout_s=timeout_s,
                workdir=workdir,
                log=log,
            )
    finally:
        database.drop(name)


def _run(
    *, name, base_url, model, exam, document, missed, size, timeout_s, workdir, log
):
    user = get_user_model().objects.create_user("e2e-learner", password="x")
    topic = Topic.objects.create(name="산업안전기사 (e2e)", owner=user)
    started = time.monotonic()
    doc = document_create(
        owner=user,
        topics=[topic],
        title=document.stem,
        upload=SimpleUploadedFile(document.name, document.read_bytes()),
    )
    doc = document_ingest(document_id=doc.pk)
    log(f"document {document.name}: {doc.status} in {time.monotonic() - started:.0f} s")
    questions_import(topic=topic, paths=[exam])
    # The topic is ready before the learner starts, as in real use: questions
    # embedded, nothing left in the task queue (the document's optional
    # summary is not part of what is measured).
    questions_embed(question_ids=list(topic.questions.values_list("pk", flat=True)))
    OrmQ.objects.all().delete()
    log(f"topic ready in {time.monotonic() - started:.0f} s")
    ids = list(
        Question.objects.quizzable()
        .filter(topic=topic)
        .order_by("number")
        .values_list("pk", "correct_choice")[:size]
    )
    if len(ids) < size:
        raise RuntimeError(f"{exam} has only {len(ids)} usable questions")
    # Spread the misses over the session: every other question from the
    # second on, the last few answered 모르겠음.
    miss_positions = list(range(1, size, 2))[:missed]
    unsure = set(miss_positions[-max(1, missed // 3) :])
    session = QuizSession.objects.create(
        user=user,
        topic=topic,
        mode="stage",
        stage="pre_exam",
        params={"size": size},
        question_ids=[qid for qid, _ in ids],
    )
    env = child_env(
        name,
        LLM_BASE_URL=base_url,
        LLM_MODEL=model,
        Q_WORKERS=os.environ.get("Q_WORKERS", "2"),
    )
    for key in ("LLM_TIMEOUT_S", "Q_TIMEOUT_S", "Q_RETRY_S"):
        env.pop(key, None)  # the app's defaults are what is measured
    log_path = workdir / "qcluster.log"
    with running(manage("qcluster"), env=env, log_path=log_path) as process:
        load_before = load_average()
        for position, (qid, correct) in enumerate(ids):
            if position in unsure:
                choice = UNSURE_CHOICE
            elif position in miss_positions:
                choice = correct % 4 + 1
            else:
                choice = correct
            quiz_answer_record(
                session=session,
                position=position,
                question_id=qid,
                choice=choice,
                time_taken_ms=5000,
            )
        session.refresh_from_db()
        t0 = time.monotonic()
        log(f"session finished at {session.finished_at:%H:%M:%S}; load {load_before}")
        timeline = _watch(session, process, log_path, t0, timeout_s, log)
        load_after = load_average()
    return _figures(session, timeline, log_path, load_before, load_after)


def _card_states(session: QuizSession) -> tuple[dict, AIState]:
    attempts = list(
        session.attempts.exclude(outcome=Outcome.CORRECT).select_related("question")
    )
    return explanation_states(attempts=attempts), session_analysis_state(
        session=session
    )[1]


def _watch(session, process, log_path, t0, timeout_s, log) -> list:
    timeline = []
    last = None
    while time.monotonic() - t0 < timeout_s:
        if process.poll() is not None:
            raise RuntimeError(f"qcluster exited: {tail(log_path)}")
        states, analysis = _card_states(session)
        summary = sorted(s.state for s in states.values())
        now = time.monotonic() - t0
        timeline.append((now, {q: s.state for q, s in states.items()}, analysis.state))
        line = f"{', '.join(summary)} | analysis {analysis.state}"
        if line != last:
            log(f"  +{now:6.0f} s  {line}")
            last = line
        if all(s.state in RESOLVED for s in states.values()) and (
            analysis.state in RESOLVED
        ):
            break
        time.sleep(POLL_S)
    return timeline


def _figures(session, timeline, log_path, load_before, load_after) -> dict:
    first_ready = next(
        (t for t, states, _a in timeline if "ready" in states.values()), None
    )
    final_t, final_states, final_analysis = timeline[-1]
    resolved = all(s in RESOLVED for s in final_states.values()) and (
        final_analysis in RESOLVED
    )
    # A card that was shown as being worked on and then shows nothing.
    silent = sum(1 for s in final_states.values() if s == "none")
    silent += final_analysis == "none"
    qcluster_log = log_path.read_text(errors="replace")
    killed = Failure.objects.count() + qcluster_log.count("timed out")
    missed_ids = list(final_states)
    generations: dict[int, int] = {}
    for job in QuestionJob.objects.filter(question_id__in=missed_ids):
        if job.status == JobStatus.COMPLETED and "latency_s" in job.payload:
            generations[job.question_id] = generations.get(job.question_id, 0) + 1
    double = sum(max(0, n - 1) for n in generations.values())
    latencies = sorted(
        float(j.payload["latency_s"])
        for j in QuestionJob.objects.filter(question_id__in=missed_ids)
        if "latency_s" in j.payload
    )
    counts: dict[str, int] = {}
    for state in final_states.values():
        counts[state] = counts.get(state, 0) + 1
    base = session.finished_at

    def offset(moment):
        return round((moment - base).total_seconds(), 1) if moment else None

    jobs = [
        {
            "question": job.question_id,
            "status": job.status,
            "attempts": job.attempts,
            "error": job.error_code,
            "message": job.error_message[:160],
            "started_s": offset(job.started_at),
            "completed_s": offset(job.completed_at),
            "latency_s": job.payload.get("latency_s"),
        }
        for job in QuestionJob.objects.filter(question_id__in=missed_ids).order_by("id")
    ]
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "finished_at": timezone.localtime(session.finished_at).isoformat(),
        "cards": len(final_states) + 1,
        "first_explanation_s": first_ready,
        "all_resolved": resolved,
        "all_resolved_s": final_t if resolved else None,
        "final_states": counts,
        "analysis": final_analysis,
        "silent_failures": silent,
        "tasks_killed": killed,
        "double_generations": double,
        "llm_latency_s": latencies,
        "jobs": jobs,
        "load_before": load_before,
        "load_after": load_after,
    }
