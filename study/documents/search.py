"""Document search: LLM query rewriting into variants, each retrieved in turn, fused."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.utils.translation import gettext

from study.documents.retrieval import DocumentFilters, Evidence, rrf_fuse, search_chunks
from study.llm.calls import llm_json
from study.llm.client import LLMError, llm_configured
from study.llm.gate import Priority
from study.llm.prompts import render_prompt
from study.services.ai_budget import ai_budget_check, ai_spender
from study.services.rate_limits import RateLimited, ai_rate_limit_consume

logger = logging.getLogger(__name__)
MAX_VARIANTS = 3
REWRITE_SCHEMA = {
    "type": "object",
    "properties": {"queries": {"type": "array", "items": {"type": "string"}}},
    "required": ["queries"],
}


def query_variants(query: str, *, user: User) -> list[str]:
    """The query itself plus up to three rewrites (none when no LLM or it fails).

    Rewriting counts against the user's AI rate limit; over it, RateLimited."""
    variants = [query]
    if not llm_configured():
        return variants
    ai_budget_check(user_id=user.pk)
    ai_rate_limit_consume(user=user, action="search")
    try:
        with ai_spender(user_id=user.pk):
            reply = llm_json(
                priority=Priority.FOREGROUND,
                wait_timeout_s=20,
                system="검색어 재작성기. JSON 객체 하나만 출력.",
                user=render_prompt("study_search_rewrite.txt", query=query),
                schema=REWRITE_SCHEMA,
                schema_name="rewrite",
                max_tokens=200,
            )
    except LLMError:
        logger.info("query rewrite unavailable; searching the query alone")
        return variants
    rewrites = reply.data.get("queries")
    for item in rewrites if isinstance(rewrites, list) else []:
        text = str(item).strip()[:200]
        if text and text not in variants:
            variants.append(text)
    return variants[: MAX_VARIANTS + 1]


@dataclass
class SearchResult:
    variants: list[str]
    results: list[Evidence]
    notice: str = ""  # why the search ran without rewriting, if it did


def document_search(
    *, topic_id: int, query: str, filters: DocumentFilters, user: User, k: int = 10
) -> SearchResult:
    """Every variant is retrieved on its own, one after another on this connection
    (never two queries at once on one connection), with the same filters. Over
    the AI limit the query is searched alone and the notice says why."""
    notice = ""
    try:
        variants = query_variants(query, user=user)
    except RateLimited as exc:
        variants, notice = (
            [query],
            gettext("%(exc)s 입력한 검색어로만 찾았습니다.") % {"exc": exc},
        )
    per_variant = [
        search_chunks(topic_ids=[topic_id], query=v, k=k, filters=filters)
        for v in variants
    ]
    by_ref = {e.ref: e for results in per_variant for e in results}
    fused = rrf_fuse([[e.ref for e in results] for results in per_variant])
    ranked = sorted(fused, key=lambda ref: fused[ref], reverse=True)[:k]
    return SearchResult(variants, [by_ref[ref] for ref in ranked], notice)
