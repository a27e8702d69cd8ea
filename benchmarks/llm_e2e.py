"""End to end with a real LLM: a learner's session, prefetched to the last card.

In a throwaway database: a topic with one or more statute documents and one
or more real exam rounds, made ready as a real topic is before a learner
starts (questions embedded, the related-questions analysis run, so repeats
and similars exist); a session picked by the app's own selection
(`quiz_session_start`, seeded) with `missed` wrong or 모르겠음 answers at
seeded positions (`miss_plan`), optionally `statute_misses` of them on
questions whose stem names a statute that is loaded, so that the path a
learner cares about (passages on the card, the gate, the guard, the write)
is exercised; a real `manage.py qcluster` with the app's default time
limits. From the session's finalize we watch what the learner's results
page would show, every two seconds, until every card (each explanation and
the session analysis) is resolved: ready, failed with a reason, or 자료 부족.

Reported: time to the first explanation, time until every card is resolved,
and the counts that must be zero: silent failures (a card that ends with no
explanation and no failure shown), tasks killed (django-q timeouts or
failures), double generations (more than one LLM answer saved for a
question); and per missed question what decided its card (`question_rows`):
the 근거 카드's passages and verdict, the similar questions, the evidence
sent, the job's outcome and the guard's reason, and the text the learner is
shown.
"""

from __future__ import annotations

import os
import random
import subprocess
import time
from collections.abc import Callable, Sequence
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
from study.ai.guard import act_loaded, named_act
from study.ai.states import AIState, explanation_states, session_analysis_state
from study.documents.retrieval import similar_questions
from study.documents.services import document_create, document_ingest
from study.evidence.services import evidence_card_get
from study.imports.services import questions_import
from study.models import (
    Document,
    JobKind,
    JobStatus,
    Outcome,
    Question,
    QuestionJob,
    QuizMode,
    QuizSession,
    Topic,
)
from study.related.embeddings import questions_embed
from study.related.services import topic_related_compute
from study.services.quiz_sessions import (
    UNSURE_CHOICE,
    QuizRequest,
    quiz_answer_record,
    quiz_session_start,
)

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


def names_loaded_statute(stem: str, loaded: Sequence[str]) -> bool:
    """True when the act the stem names ("산업안전보건법령상" names
    산업안전보건법) is one of the loaded documents, or the head of one (its
    시행령 or 시행규칙)."""
    return act_loaded(named_act(stem), loaded)


def miss_plan(
    stems: Sequence[str],
    *,
    missed: int,
    statute_misses: int = 0,
    loaded: Sequence[str] = (),
    seed: int = 0,
) -> dict[int, str]:
    """Which positions of the session the learner misses: position →
    "wrong" | "unsure". Seeded, spread over the session as a learner's
    misses are (not every other question); `statute_misses` of them fall on
    questions whose stem names a loaded statute, as far as the session has
    them (chosen by what the question asks, never by what its card found).
    A third of the misses (at least one) are 모르겠음."""
    rng = random.Random(seed)
    positions = range(len(stems))
    statute = [i for i in positions if names_loaded_statute(stems[i], loaded)]
    forced = rng.sample(statute, min(statute_misses, len(statute), missed))
    rest = [i for i in positions if i not in forced]
    chosen = sorted(forced + rng.sample(rest, min(missed - len(forced), len(rest))))
    unsure = set(rng.sample(chosen, min(len(chosen), max(1, missed // 3))))
    return {i: "unsure" if i in unsure else "wrong" for i in chosen}


def llm_e2e_run(
    *,
    base_url: str,
    model: str,
    exams: Sequence[Path],
    documents: Sequence[Path],
    missed: int,
    size: int,
    timeout_s: float,
    workdir: Path,
    log: Callable[[str], None],
    statute_misses: int = 0,
    seed: int = 0,
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
                exams=exams,
                documents=documents,
                missed=missed,
                size=size,
                timeout_s=timeout_s,
                workdir=workdir,
                log=log,
                statute_misses=statute_misses,
                seed=seed,
            )
    finally:
        database.drop(name)


def _topic_ready(user, exams, documents, log) -> Topic:
    """The topic as a learner finds it: documents ingested, rounds imported,
    questions embedded and related (the queue's work done now, in order)."""
    topic = Topic.objects.create(name="산업안전기사 (e2e)", owner=user)
    started = time.monotonic()
    for document in documents:
        doc = document_create(
            owner=user,
            topics=[topic],
            # untitled, as a learner uploads it: the act's name comes from
            # the file's front matter ("산업안전보건법 시행령", not the file's
            # "산업안전보건법-시행령"), and passages are cited by it
            title="",
            upload=SimpleUploadedFile(document.name, document.read_bytes()),
        )
        doc = document_ingest(document_id=doc.pk)
        log(
            f"document {document.name}: {doc.status}, {doc.chunk_count} chunks "
            f"at {time.monotonic() - started:.0f} s"
        )
    report = questions_import(topic=topic, paths=list(exams))
    log(f"{len(exams)} round(s): {report}")
    questions_embed(question_ids=list(topic.questions.values_list("pk", flat=True)))
    relations = topic_related_compute(topic_id=topic.pk)
    log(
        f"related: {relations.with_repeat} with a repeat, "
        f"{relations.with_similar} with a similar question"
    )
    # Nothing left in the task queue (the documents' optional summaries and
    # the topic's card warm-up are not part of what is measured: the
    # session's own card warm-up, enqueued by its start, is).
    OrmQ.objects.all().delete()
    log(f"topic ready in {time.monotonic() - started:.0f} s")
    return topic


def _run(
    *,
    name,
    base_url,
    model,
    exams,
    documents,
    missed,
    size,
    timeout_s,
    workdir,
    log,
    statute_misses,
    seed,
):
    user = get_user_model().objects.create_user("e2e-learner", password="x")
    topic = _topic_ready(user, exams, documents, log)
    session = quiz_session_start(
        user=user,
        topic=topic,
        request=QuizRequest(mode=QuizMode.STAGE, stage="pre_exam", size=size),
        rng=random.Random(seed),
    )
    questions = Question.objects.in_bulk(session.question_ids)
    picked = [questions[qid] for qid in session.question_ids]
    loaded = list(Document.objects.filter(topics=topic).values_list("title", flat=True))
    plan = miss_plan(
        [q.stem for q in picked],
        missed=missed,
        statute_misses=statute_misses,
        loaded=loaded,
        seed=seed,
    )
    log(
        f"session of {len(picked)}: {len(plan)} missed, "
        f"{sum(names_loaded_statute(picked[i].stem, loaded) for i in plan)} "
        "of them on a loaded statute"
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
        for position, question in enumerate(picked):
            miss = plan.get(position)
            if miss == "unsure":
                choice = UNSURE_CHOICE
            elif miss == "wrong":
                choice = question.correct_choice % 4 + 1
            else:
                choice = question.correct_choice
            quiz_answer_record(
                session=session,
                position=position,
                question_id=question.pk,
                choice=choice,
                time_taken_ms=5000,
            )
        session.refresh_from_db()
        t0 = time.monotonic()
        log(f"session finished at {session.finished_at:%H:%M:%S}; load {load_before}")
        timeline = _watch(session, process, log_path, t0, timeout_s, log)
        load_after = load_average()
    figures = _figures(session, timeline, log_path, load_before, load_after)
    figures["setup"] = {
        "documents": [d.name for d in documents],
        "exams": [e.name for e in exams],
        "questions": topic.questions.count(),
        "size": len(picked),
        "missed": len(plan),
        "statute_misses_asked": statute_misses,
        "seed": seed,
    }
    figures["questions"] = question_rows(session, loaded)
    return figures


def question_rows(session: QuizSession, loaded: Sequence[str]) -> list[dict]:
    """Per missed question, in card order: what its card held, what the job
    did with it, and what the learner is shown."""
    attempts = list(
        session.attempts.exclude(outcome=Outcome.CORRECT)
        .select_related("question")
        .order_by("position")
    )
    states = explanation_states(attempts=attempts)
    rows = []
    for attempt in attempts:
        question = attempt.question
        question.refresh_from_db()
        card = evidence_card_get(question=question)
        jobs = list(
            QuestionJob.objects.filter(
                question=question, kind=JobKind.EXPLANATION
            ).order_by("id")
        )
        job = jobs[-1] if jobs else None
        payload = job.payload if job else {}
        state = states[question.pk]
        rows.append(
            {
                "question": question.pk,
                "round": f"{question.round_label_site} {question.number}번",
                "subject": question.subject,
                "outcome": attempt.outcome,
                "stem": question.stem[:80],
                "named_act": named_act(question.stem),
                "names_loaded_statute": names_loaded_statute(question.stem, loaded),
                "key": question.correct_choice,
                "card_passages": [p.data_citation for p in card.passages],
                "card_deciding": card.deciding.data_citation if card.deciding else "",
                "card_verdict": card.verdict,
                "card_annexes": [a.get("title", "") for a in card.annexes],
                "relations": len(question.related_repeat or [])
                + len(question.related_similar or []),
                "similar_questions": [
                    e.title for e in similar_questions(question=question)
                ],
                "jobs": len(jobs),
                "job_status": job.status if job else "",
                "error_code": job.error_code if job else "",
                "message": (job.error_message if job else "")[:300],
                "evidence_sent": payload.get("evidence_sent"),
                "guard_reason": payload.get("guard_reason", ""),
                "guard_detail": payload.get("guard_detail", ""),
                "reply_preview": payload.get("debug_raw_preview", "")[:600],
                "latency_s": payload.get("latency_s"),
                "stages_s": payload.get("stages_s", {}),
                "job_s": (
                    round((job.completed_at - job.started_at).total_seconds(), 1)
                    if job and job.completed_at and job.started_at
                    else None
                ),
                "state": state.state,
                "reason": state.reason,
                "shown": question.ai_explanation,
                "shown_evidence": [
                    e.get("title", "") for e in question.ai_explanation_evidence or []
                ],
                "confidence": (question.ai_explanation_meta or {}).get("confidence"),
            }
        )
    return rows


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
