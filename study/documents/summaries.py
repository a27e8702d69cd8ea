"""The optional LLM summary of a ready document (background priority)."""

from __future__ import annotations

import logging

from django_q.tasks import async_task

from study.ai.envelope import EnvelopeInvalid, cap_text, envelope_text
from study.llm.calls import llm_json
from study.llm.client import LLMError, llm_configured
from study.llm.gate import Priority
from study.llm.prompts import render_prompt
from study.models import Document, DocumentStatus
from study.services.ai_budget import ai_spender

logger = logging.getLogger(__name__)


def document_summary_enqueue(document_id: int) -> None:
    if not llm_configured():
        return
    try:
        async_task("study.tasks.document_summarize_task", document_id)
    except Exception:
        logger.warning("could not enqueue summary of document %s", document_id)


SUMMARY_SCHEMA = {
    "type": "object",
    "properties": {"summary_md": {"type": "string"}},
    "required": ["summary_md"],
}


def document_summarize(*, document_id: int) -> Document:
    """Optional LLM summary of a ready document (background priority)."""
    document = Document.objects.get(pk=document_id)
    if document.status != DocumentStatus.READY or not llm_configured():
        return document
    chunks = list(
        document.chunks.order_by("ordinal").values_list("text", flat=True)[:6]
    )
    try:
        with ai_spender(user_id=document.owner_id):  # the uploader's budget
            reply = llm_json(
                priority=Priority.BACKGROUND,
                system="너는 학습 자료 요약가다. JSON 객체 하나만 출력한다.",
                user=render_prompt(
                    "study_document_summary.txt", title=document.title, chunks=chunks
                ),
                schema=SUMMARY_SCHEMA,
                schema_name="summary",
                max_tokens=400,
            )
        document.summary = cap_text(envelope_text(reply.data, "summary_md"), 600)
    except (LLMError, EnvelopeInvalid):
        logger.info("summary of document %s not available", document_id, exc_info=True)
        return document
    document.save(update_fields=["summary"])
    return document
