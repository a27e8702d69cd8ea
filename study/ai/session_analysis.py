"""Session analysis (Phase 4-B): weak subjects, patterns and next steps, with the
model's confidence calibrated against the evidence it actually had."""

from __future__ import annotations

import logging

from django.db.models import Q

from study.ai.envelope import EnvelopeInvalid, cap_text, envelope_text
from study.documents.retrieval import search_chunks
from study.jobs import runner as job_runner
from study.llm.calls import llm_json
from study.llm.client import LLMError, LLMParseError, llm_configured
from study.llm.gate import Priority
from study.llm.prompts import render_prompt
from study.models import (
    AIExplanationStatus,
    JobError,
    JobStatus,
    Outcome,
    QuizSession,
    SessionAnalysis,
    SessionJob,
)
from study.subjects import subject_key

logger = logging.getLogger(__name__)
LEVELS = ("low", "medium", "high")
SCHEMA = {
    "type": "object",
    "properties": {
        "summary_md": {"type": "string"},
        "weak_subjects": {"type": "array", "items": {"type": "string"}},
        "patterns": {"type": "array", "items": {"type": "string"}},
        "next_steps": {"type": "array", "items": {"type": "string"}},
        "confidence": {"type": "string", "enum": list(LEVELS)},
    },
    "required": ["summary_md", "weak_subjects", "patterns", "next_steps", "confidence"],
}


def normalise_confidence(value: object) -> str:
    """Invalid or missing values become the most conservative level."""
    text = str(value or "").strip().lower()
    return text if text in LEVELS else "low"


def calibrate_confidence(
    value: object, *, ctx_docs_count: int, ready_explanation_count: int
) -> str:
    """No documents and no explanations → at most low; explanations only → at most
    medium; documents → the model's value. A more conservative value is kept."""
    level = normalise_confidence(value)
    if ctx_docs_count == 0 and ready_explanation_count == 0:
        cap = "low"
    elif ctx_docs_count == 0:
        cap = "medium"
    else:
        return level
    return min(level, cap, key=LEVELS.index)


def session_job_enqueue(*, session: QuizSession) -> bool:
    """True when a new active analysis job was created."""
    if not llm_configured():
        return False
    return bool(
        job_runner.jobs_insert_pending(
            SessionJob, [{"session_id": session.pk, "user_id": session.user_id}]
        )
    )


def session_analysis_retry(*, session: QuizSession) -> bool:
    """The learner's 다시 시도 on a failed analysis: a new job row."""
    if SessionAnalysis.objects.filter(session=session).exists():
        return False
    latest = SessionJob.objects.filter(session=session).order_by("-created_at").first()
    if latest is not None and latest.status != JobStatus.FAILED:
        return False
    return session_job_enqueue(session=session)


def _prompt_attempts(session: QuizSession) -> list[dict]:
    rows = session.attempts.select_related("question").order_by("position")
    return [
        {
            "subject": subject_key(a.question.subject),
            "outcome": a.outcome,
            "stem": a.question.stem[:160],
            "ai_explanation": (
                a.question.ai_explanation[:500]
                if a.outcome != Outcome.CORRECT
                and a.question.ai_explanation_status == AIExplanationStatus.READY
                else ""
            ),
        }
        for a in rows
    ]


def run_session_analysis_job(job: SessionJob) -> None:
    """One analysis job: every branch ends the job or leaves an error code."""
    session = QuizSession.objects.select_related("topic").get(pk=job.session_id)
    if SessionAnalysis.objects.filter(session=session).exists():
        job_runner.job_finish(job, JobStatus.COMPLETED)
        return
    attempts = _prompt_attempts(session)
    valid = [a for a in attempts if a["outcome"] in Outcome.values]
    if not valid:
        job_runner.job_finish(job, JobStatus.SKIPPED, JobError.NO_ATTEMPTS)
        return
    weak = sorted({a["subject"] for a in valid if a["outcome"] != Outcome.CORRECT})
    query = " ".join(weak) or session.topic.name
    documents = search_chunks(topic_ids=[session.topic_id], query=query, k=4)
    ready_count = sum(1 for a in attempts if a["ai_explanation"])
    try:
        reply = llm_json(
            priority=Priority.BACKGROUND,
            system="너는 학습 코치다. JSON 객체 하나만 출력한다.",
            user=render_prompt(
                "study_session_analysis.txt", attempts=valid, documents=documents
            ),
            schema=SCHEMA,
            schema_name="session_analysis",
        )
        summary = envelope_text(reply.data, "summary_md")
    except LLMParseError as exc:
        job_runner.job_error(job, JobError.PARSE_FAIL, str(exc))
        job.payload = {**job.payload, "debug_raw_preview": exc.raw[:1000]}
        return
    except EnvelopeInvalid as exc:
        job_runner.job_error(job, JobError.PARSE_FAIL, str(exc))
        return
    except LLMError as exc:
        job_runner.job_error(
            job, exc.code, str(exc), retry_after_s=getattr(exc, "retry_after_s", None)
        )
        return
    raw_confidence = reply.data.get("confidence")
    calibrated = calibrate_confidence(
        raw_confidence,
        ctx_docs_count=len(documents),
        ready_explanation_count=ready_count,
    )
    summary = cap_text(summary)
    SessionAnalysis.objects.update_or_create(
        session=session,
        defaults={
            "summary_md": summary,
            "weak_subjects": _strings(reply.data.get("weak_subjects")),
            "patterns": _strings(reply.data.get("patterns")),
            "next_steps": _strings(reply.data.get("next_steps")),
            "confidence": calibrated,
            "model": reply.model,
        },
    )
    job.payload = {
        **job.payload,
        "ctx_docs_count": len(documents),
        "ready_explanation_count": ready_count,
        "model_confidence_raw": raw_confidence,
        "calibrated_confidence": calibrated,
        "prompt_attempts": len(attempts),
        "valid_attempts_total": len(valid),
        "summary_len": len(summary),
        "latency_s": round(reply.latency_s, 3),
    }
    job_runner.job_finish(job, JobStatus.COMPLETED)


def _strings(value: object) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(v)[:200] for v in value if str(v).strip()][:8]


job_runner.job_kind_register(
    job_runner.JobKindSpec(
        name="session_analysis",
        model=SessionJob,
        filter=Q(),
        run=run_session_analysis_job,
        rank=1,
        over_budget="wait",  # the learner's own analysis: later, not never
    )
)
