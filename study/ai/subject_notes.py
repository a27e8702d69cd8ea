"""모르겠음 help: a note on the question's subject and scope, cached per topic."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

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
from study.documents.retrieval import Evidence, question_as_evidence, search_chunks
from study.llm.calls import llm_json
from study.llm.client import LLMError, LLMNotConfigured, llm_configured
from study.llm.gate import Priority
from study.llm.prompts import render_prompt
from study.models import AIExplanationStatus, Question, SubjectNote, SubjectNoteStatus
from study.services.ai_budget import ai_budget_check, ai_spender
from study.services.rate_limits import ai_rate_limit_consume

logger = logging.getLogger(__name__)
# A note the text guard stopped: the error starts with this and the reason
# code, which the health report counts.
NOTE_GUARD_PREFIX = "guard_fail:"
NOTE_SYSTEM = "너는 자격시험 강사다. 요청된 JSON 객체 하나만 출력한다."


def subject_note_get(*, question: Question) -> SubjectNote | None:
    return SubjectNote.objects.filter(
        topic_id=question.topic_id, subject=question.subject, scope=question.scope
    ).first()


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
    key: dict[str, Any] = {
        "topic_id": question.topic_id,
        "subject": question.subject,
        "scope": question.scope,
    }
    try:
        with transaction.atomic():
            SubjectNote.objects.get_or_create(**key)
    except IntegrityError:
        pass
    stale = timezone.now() - pending_stale_after()
    claimed = (
        SubjectNote.objects.filter(**key)
        .filter(~Q(status=SubjectNoteStatus.PENDING) | Q(started_at__lt=stale))
        .update(status=SubjectNoteStatus.PENDING, started_at=timezone.now(), error="")
    )
    if not claimed:
        raise ExplanationBusy
    return SubjectNote.objects.get(**key)


def subject_note_request(
    *, question: Question, user, regenerate: bool = False
) -> SubjectNote:
    """Cached note at once; a new one (owner/staff to replace one) counts against
    the user's AI rate limit."""
    note = subject_note_get(question=question)
    if note and note.status == SubjectNoteStatus.READY and note.text:
        if not regenerate:
            return note
        if not question.topic.can_regenerate_ai(user):
            raise RegenerateForbidden(RegenerateForbidden.message)
    if not llm_configured():
        raise LLMNotConfigured("LLM_BASE_URL is not set")
    ai_budget_check(user_id=user.pk)
    ai_rate_limit_consume(user=user, action="subject_note")
    note = _claim(question)
    evidence = _note_evidence(question)
    if not evidence:
        return _finish(
            note,
            status=SubjectNoteStatus.SKIPPED,
            error=gettext("자료 부족: 이 과목의 자료나 해설된 문제가 없습니다."),
        )
    prompt = render_prompt(
        "study_subject_note.txt",
        subject=question.subject,
        scope=question.scope,
        stem=question.stem,
        documents=[e for e in evidence if e.kind == "document"],
        questions=[e for e in evidence if e.kind == "question"],
    )
    try:
        with ai_spender(user_id=user.pk):
            reply = llm_json(
                priority=Priority.FOREGROUND,
                system=NOTE_SYSTEM,
                user=prompt,
                schema=NOTE_SCHEMA,
                schema_name="note",
            )
        text = envelope_text(reply.data, "note_md")
    except (LLMError, EnvelopeInvalid) as exc:
        return _finish(
            note,
            status=SubjectNoteStatus.FAILED,
            error=gettext("생성하지 못했습니다: %(exc)s") % {"exc": exc},
        )
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
        return _finish(
            note,
            status=SubjectNoteStatus.FAILED,
            error=gettext("AI 설명이 검사를 통과하지 못해 저장하지 않았습니다")
            + f" ({NOTE_GUARD_PREFIX}{verdict.code})",
        )
    quotes = verdict.quotes
    note.text, note.evidence, note.model = cap_text(text), quotes.kept, reply.model
    note.generated_at = timezone.now()
    return _finish(note, status=SubjectNoteStatus.READY, error="")


def _finish(note: SubjectNote, *, status: SubjectNoteStatus, error: str) -> SubjectNote:
    note.status, note.error, note.started_at = status, error, None
    note.save()
    return note
