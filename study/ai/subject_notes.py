"""모르겠음 help: a note on the question's subject and scope, cached per topic.

The learner's click only asks for it: a `subject_note` job, run by the job
runner (study.jobs.runner) like every other LLM work, ahead of prefetch since
the learner is looking at the card. The card polls the job's honest state:
queued (place in line), generating, ready, failed (reason), missing material.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from study.ai.envelope import (
    NOTE_SCHEMA,
    EnvelopeInvalid,
    cap_text,
    check_quotes,
    envelope_text,
)
from study.ai.explanations import (
    ExplanationBusy,
    RegenerateForbidden,
    evidence_sources,
    pending_stale_after,
)
from study.ai.guard import QuestionView, note_text_guard
from study.ai.states import subject_note_active_job
from study.documents.retrieval import Evidence, question_as_evidence, search_chunks
from study.jobs import runner as job_runner
from study.llm.calls import llm_json
from study.llm.client import LLMError, LLMNotConfigured, llm_configured
from study.llm.gate import Priority
from study.llm.prompts import render_prompt
from study.models import (
    AIExplanationStatus,
    JobError,
    JobKind,
    JobStatus,
    Question,
    QuestionJob,
    SubjectNote,
    SubjectNoteStatus,
)
from study.services.ai_budget import ai_budget_check
from study.services.rate_limits import ai_rate_limit_consume

logger = logging.getLogger(__name__)
NOTE_SYSTEM = "너는 자격시험 강사다. 요청된 JSON 객체 하나만 출력한다."
# A learner asked and is looking at the card: a failure is shown at once with
# 다시 시도 rather than retried behind their back.
NOTE_MAX_ATTEMPTS = 1


def _key(question: Question) -> dict[str, Any]:
    return {
        "topic_id": question.topic_id,
        "subject": question.subject,
        "scope": question.scope,
    }


def subject_note_get(*, question: Question) -> SubjectNote | None:
    return SubjectNote.objects.filter(**_key(question)).first()


def subject_note_request(
    *, question: Question, user: Any, regenerate: bool = False
) -> SubjectNote | None:
    """The click: the cached note at once; else a note job is queued (one per
    note; owner/staff to replace one), counted against the user's AI rate
    limit. Returns the note as it stands."""
    note = subject_note_get(question=question)
    if note and note.status == SubjectNoteStatus.READY and note.text:
        if not regenerate:
            return note
        if not question.topic.can_regenerate_ai(user):
            raise RegenerateForbidden(RegenerateForbidden.message)
    if not llm_configured():
        raise LLMNotConfigured("LLM_BASE_URL is not set")
    if subject_note_active_job(question=question) is not None:
        return note  # already asked for: the card shows that job
    ai_budget_check(user_id=user.pk)
    ai_rate_limit_consume(user=user, action="subject_note")
    job_runner.jobs_insert_pending(
        QuestionJob,
        [
            {
                "question_id": question.pk,
                "user_id": user.pk,
                "kind": JobKind.SUBJECT_NOTE,
            }
        ],
        payload={"regenerate": regenerate},
        max_attempts=NOTE_MAX_ATTEMPTS,
    )
    return note


def _note_evidence(question: Question) -> list[Evidence]:
    query = f"{question.subject} {question.scope} {question.stem}".strip()
    documents = search_chunks(topic_ids=[question.topic_id], query=query)
    explained = (
        Question.objects.alive()
        .filter(
            topic_id=question.topic_id,
            subject=question.subject,
            ai_explanation_status=AIExplanationStatus.READY,
        )
        .exclude(pk=question.pk)
        .order_by("-ai_explanation_generated_at")[:3]
    )
    return documents + [question_as_evidence(q) for q in explained]


def _claim(question: Question) -> SubjectNote:
    """Two jobs for one note (asked from two questions) never generate twice."""
    key: dict[str, Any] = _key(question)
    try:
        with transaction.atomic():
            SubjectNote.objects.get_or_create(**key)
    except IntegrityError:
        pass
    stale = timezone.now() - pending_stale_after()
    claimed = (
        SubjectNote.objects.filter(**key)
        .filter(~Q(status=SubjectNoteStatus.PENDING) | Q(started_at__lt=stale))
        .update(status=SubjectNoteStatus.PENDING, started_at=timezone.now())
    )
    if not claimed:
        raise ExplanationBusy
    return SubjectNote.objects.get(**key)


def run_subject_note_job(job: QuestionJob) -> None:
    """One note job: every branch ends the job or leaves an error code, and
    the note says why it is not ready."""
    question = (
        Question.objects.select_related("topic").filter(pk=job.question_id).first()
    )
    if question is None or question.deleted_at is not None:
        job_runner.job_finish(
            job, JobStatus.SKIPPED, JobError.EVIDENCE_MISSING, "question deleted"
        )
        return
    note = subject_note_get(question=question)
    ready = note is not None and note.status == SubjectNoteStatus.READY and note.text
    if ready and not job.payload.get("regenerate"):
        job_runner.job_finish(job, JobStatus.COMPLETED)
        return
    try:
        note = _claim(question)
    except ExplanationBusy:
        job_runner.job_error(job, JobError.BUSY, "another job is writing this note")
        return
    _generate(job, question, note)


def _generate(job: QuestionJob, question: Question, note: SubjectNote) -> None:
    evidence = _note_evidence(question)
    if not evidence:
        _finish(note, SubjectNoteStatus.SKIPPED, JobError.EVIDENCE_MISSING)
        job_runner.job_finish(job, JobStatus.SKIPPED, JobError.EVIDENCE_MISSING)
        return
    try:
        reply = llm_json(
            priority=Priority.FOREGROUND,
            system=NOTE_SYSTEM,
            user=_prompt(question, evidence),
            schema=NOTE_SCHEMA,
            schema_name="note",
        )
        text = envelope_text(reply.data, "note_md")
    except (LLMError, EnvelopeInvalid) as exc:
        code = exc.code if isinstance(exc, LLMError) else JobError.PARSE_FAIL
        _finish(note, SubjectNoteStatus.FAILED, code)
        job_runner.job_error(
            job, code, str(exc), retry_after_s=getattr(exc, "retry_after_s", None)
        )
        return
    verdict = note_text_guard(
        text=text,
        quotes=check_quotes(reply.data, evidence_sources(evidence)),
        q=QuestionView.of(question),
    )
    if not verdict.ok:
        logger.info(
            "subject note for question %s failed the guard: %s (%s)",
            question.pk,
            verdict.code,
            verdict.detail,
        )
        params = {"guard_reason": verdict.code}
        _finish(note, SubjectNoteStatus.FAILED, JobError.GUARD_FAIL, params)
        job.payload = {**job.payload, **params, "guard_detail": verdict.detail}
        job_runner.job_finish(job, JobStatus.FAILED, JobError.GUARD_FAIL)
        return
    note.text, note.evidence, note.model = (
        cap_text(text),
        verdict.quotes.kept,
        reply.model,
    )
    note.generated_at = timezone.now()
    _finish(note, SubjectNoteStatus.READY, "")
    job.payload = {**job.payload, "latency_s": round(reply.latency_s, 3)}
    job_runner.job_finish(job, JobStatus.COMPLETED)


def _prompt(question: Question, evidence: list[Evidence]) -> str:
    return render_prompt(
        "study_subject_note.txt",
        subject=question.subject,
        scope=question.scope,
        stem=question.stem,
        documents=[e for e in evidence if e.kind == "document"],
        questions=[e for e in evidence if e.kind == "question"],
    )


def _finish(
    note: SubjectNote,
    status: SubjectNoteStatus,
    code: str,
    params: dict[str, Any] | None = None,
) -> None:
    note.status, note.error_code, note.started_at = status, code, None
    note.error_params = params or {}
    note.save()


def subject_note_job_failed(job: QuestionJob) -> None:
    """A job that failed for good (its worker died, say) leaves no note stuck
    in generating: the note shows the failure."""
    question = Question.objects.filter(pk=job.question_id).first()
    if question is None:
        return
    SubjectNote.objects.filter(
        **_key(question), status__in=[SubjectNoteStatus.NONE, SubjectNoteStatus.PENDING]
    ).update(
        status=SubjectNoteStatus.FAILED, error_code=job.error_code, started_at=None
    )


job_runner.job_kind_register(
    job_runner.JobKindSpec(
        name=JobKind.SUBJECT_NOTE,
        model=QuestionJob,
        filter=Q(kind=JobKind.SUBJECT_NOTE),
        run=run_subject_note_job,
        on_failed=subject_note_job_failed,
        urgent=True,
        over_budget="wait",  # a learner asked for it: it runs once the budget frees
    )
)
