"""AI explanations: one code path for on-demand clicks and background prefetch."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from study.ai.answer_check import CheckResult, answer_check
from study.ai.envelope import (
    CONFIDENCE_LEVELS,
    EXPLANATION_SCHEMA,
    EnvelopeInvalid,
    cap_text,
    check_quotes,
    envelope_answer_choice,
    envelope_text,
    normalise_confidence,
    normalise_ws,
)
from study.ai.guard import (
    GuardReason,
    GuardVerdict,
    QuestionView,
    act_loaded,
    card_contradiction,
    explanation_text_guard,
    is_negative_question,
    law_citation_outside,
    misattributed_passage,
    missing_document_hint,
    named_act,
    numeric_values,
)
from study.documents.retrieval import (
    Evidence,
    annex_notes,
    question_query_text,
    similar_questions,
)
from study.evidence.selectors import CardView
from study.evidence.services import evidence_card_get
from study.llm.budget import estimate_tokens, pack_best_first, prompt_budget
from study.llm.calls import llm_json
from study.llm.client import (
    LLMError,
    LLMNotConfigured,
    LLMParseError,
    LLMReply,
    llm_configured,
)
from study.llm.gate import Priority
from study.llm.prompts import prompt_instructions, render_prompt
from study.models import (
    AIExplanationStatus,
    Document,
    DocumentStatus,
    JobError,
    Question,
)
from study.services.ai_budget import BUDGET_EXCEEDED, ai_budget_check, ai_spender
from study.services.rate_limits import ai_rate_limit_consume
from study.signals import explanation_ready

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = "너는 자격시험 해설가다. 요청된 JSON 객체 하나만 출력한다."
CARD_TEMPLATE = "study_explanation_card.txt"
PLAIN_TEMPLATE = "study_explanation.txt"
MARK_WORDS = {"match": "조문과 일치", "differ": "조문과 다름", "absent": "조문에 없음"}
RAW_PREVIEW_CHARS = 1000
CONTENT_CHANGED = gettext_lazy(
    "생성하는 동안 문제(정답·보기)가 수정되어, "
    "옛 내용으로 쓴 해설은 저장하지 않았습니다."
)


class ExplanationBusy(Exception):
    """Another request is generating this explanation right now (HTTP 409)."""


class RegenerateForbidden(Exception):
    """Only the topic's owner and staff may replace AI text everyone reads (403)."""

    message = gettext_lazy("다시 생성은 토픽 소유자와 관리자만 할 수 있습니다.")


@dataclass
class GenerationResult:
    status: Literal["ready", "failed", "skipped"]
    error_code: str = ""
    message: str = ""
    text: str = ""
    evidence: list = field(default_factory=list)
    model: str = ""
    payload: dict = field(default_factory=dict)
    # The question's answer-defining content the generation started from.
    fingerprint: str = ""
    retry_after_s: float | None = None
    # What the card shows with the text (Question.ai_explanation_meta).
    meta: dict = field(default_factory=dict)


def evidence_sources(evidence: list[Evidence]) -> dict[str, dict]:
    """Labels as the prompt shows them: D1.. for documents, Q1.. for questions."""
    labels: dict[str, dict] = {}
    counters = {"D": 0, "Q": 0}
    for item in evidence:  # annex notes are listed with the documents
        prefix = "Q" if item.kind == "question" else "D"
        counters[prefix] += 1
        labels[f"{prefix}{counters[prefix]}"] = item.as_dict()
    return labels


def _prompt(
    question: Question, evidence: list[Evidence], card: CardView | None = None
) -> str:
    accepted = sorted(question.accepted_set)
    documents = [e for e in evidence if e.kind != "question"]
    source, quote = (
        example_quote(card, question.correct_choice, documents)
        if card is not None
        else ("", "")
    )
    return render_prompt(
        CARD_TEMPLATE if card is not None else PLAIN_TEMPLATE,
        marks=card_mark_lines(card) if card is not None else [],
        verdict=card.verdict if card is not None else None,
        example_source=source,
        # the passage the example quotes, named as the card names it
        example_citation=json.dumps(
            short_citation(documents[int(source[1:]) - 1].title) if quote else "",
            ensure_ascii=False,
        )[1:-1],
        # inside the example's JSON strings
        example_quote=json.dumps(quote, ensure_ascii=False)[1:-1],
        example_key_text=json.dumps(
            question.choices[question.correct_choice - 1], ensure_ascii=False
        )[1:-1],
        stem=question.stem,
        correct_text=question.choices[question.correct_choice - 1],
        negative=is_negative_question(question.stem),
        numeric=numeric_values(question.choices) is not None,
        question_only=not evidence,
        choice_1=question.choice_1,
        choice_2=question.choice_2,
        choice_3=question.choice_3,
        choice_4=question.choice_4,
        correct_choice=question.correct_choice,
        accepted_note=(
            f"복수 정답 인정: {', '.join(map(str, accepted))}번"
            if len(accepted) > 1
            else ""
        ),
        documents=documents,
        questions=[e for e in evidence if e.kind == "question"],
    )


EXAMPLE_QUOTE_CHARS = 120

# "산업안전보건법 시행령 제42조(유해위험방지계획서 제출 대상)": the article's
# heading after its number.
_ARTICLE_HEADING = re.compile(r"(제\s*\d+\s*조(?:\s*의\s*\d+)?)\s*\([^()]*\)\s*$")


def short_citation(title: str) -> str:
    """A passage's citation without its article's heading ("산업안전보건법
    시행령 제42조"), as a sentence names it; other titles as they are."""
    return _ARTICLE_HEADING.sub(r"\1", title.strip())


def example_quote(
    card: CardView, key: int, documents: list[Evidence]
) -> tuple[str, str]:
    """(label, line) for the prompt's example reply, taken from this
    question's own passages as the prompt carries them: the line the card
    marked for the keyed choice, else one it marked for any choice, else the
    first line of D1. A small model copies the example it is shown (an
    example from another question was copied into every reply), so a line is
    offered only when the card's verdict is the key (verdicts were right
    56/56 on the labelled set); otherwise ("D1", "") and the example shows
    the reply's form only, and a copied form quotes nothing (the guard
    refuses it)."""
    if not card.verdict_is_key:
        return "D1", ""
    keyed: list[tuple[str, int]] = []  # (line, where the marked words start)
    marked: list[tuple[str, int]] = []
    for passage in card.passages:
        for line in passage.focus:
            raw = "".join(part[0] for part in line["parts"])
            text = raw.strip()
            lead = len(raw) - len(raw.lstrip())
            found = {"key": -1, "any": -1}
            offset = 0
            for piece, choices in line["parts"]:
                if key in choices and found["key"] < 0:
                    found["key"] = offset - lead
                if choices and found["any"] < 0:
                    found["any"] = offset - lead
                offset += len(piece)
            if found["key"] >= 0:
                keyed.append((text, found["key"]))
            elif found["any"] >= 0:
                marked.append((text, found["any"]))
    first_lines = [
        (next((ln.strip() for ln in d.text.splitlines() if ln.strip()), ""), 0)
        for d in documents[:1]
    ]
    for line, at in keyed + marked + first_lines:
        for n, document in enumerate(documents, 1):
            if line and line in document.text:
                return f"D{n}", _trim_quote(line, max(0, at))
    return "D1", ""


def _trim_quote(line: str, at: int = 0) -> str:
    """At most EXAMPLE_QUOTE_CHARS of the line around position `at` (the
    marked words), cut at spaces, so the words that decide stay in it
    (still verbatim)."""
    if len(normalise_ws(line)) <= EXAMPLE_QUOTE_CHARS:
        return normalise_ws(line)
    start = max(0, min(at - EXAMPLE_QUOTE_CHARS // 3, len(line) - EXAMPLE_QUOTE_CHARS))
    if start > 0 and " " in line[start:at]:
        start = line.index(" ", start) + 1  # begin at a word
    window = line[start : start + EXAMPLE_QUOTE_CHARS]
    if start + EXAMPLE_QUOTE_CHARS < len(line) and " " in window:
        window = window.rsplit(" ", 1)[0]  # end at a word
    return normalise_ws(window)


def _failed(
    code: str,
    message: str,
    raw: str = "",
    reason: str = "",
    retry_after_s: float | None = None,
) -> GenerationResult:
    payload = {}
    if raw or reason:
        payload = {
            "debug_raw_preview": raw[:RAW_PREVIEW_CHARS],
            "parse_fail_reason": reason,
        }
    return GenerationResult(
        status="failed",
        error_code=code,
        message=message,
        payload=payload,
        retry_after_s=retry_after_s,
    )


def card_mark_lines(card: CardView) -> list[str]:
    """The card's per-choice marks as the prompt states them."""
    lines = []
    for choice in card.choices:
        detail = (
            f" (조문: {choice.detail})"
            if choice.detail and choice.detail != "—"
            else ""
        )
        lines.append(f"{choice.number}번: {MARK_WORDS[choice.mark]}{detail}")
    return lines


def card_evidence(card: CardView) -> list[Evidence]:
    """The card's passages as prompt evidence, the deciding one first: the
    lines that matter (with their lead), or the whole passage when none was
    marked."""
    items = []
    for n, passage in enumerate(card.passages):
        focus = "\n".join(
            "".join(part[0] for part in line["parts"]) for line in passage.focus
        )
        items.append(
            Evidence(
                kind="document",
                ref=f"card:{card.question_id}:{n}",
                title=passage.citation,
                text=focus or passage.text,
                score=2.0 if passage.decides else 1.0 + passage.score,
            )
        )
    return items


@dataclass
class ExplanationInputs:
    prompt: str
    evidence: list[Evidence]  # what the prompt carries
    card: CardView
    candidates: int  # evidence items before the prompt budget


def explanation_candidates(question: Question) -> tuple[CardView, list[Evidence]]:
    """The question's 근거 카드 and the evidence the prompt may carry: the
    card's passages (and similar questions) when it has passages; otherwise
    the annexes the documents list without a body, and similar questions.

    A card without passages is the answer of the same document search the
    prompt would run (the question's query, the relevance cut, the same k),
    so it is not run a second time: with the card computed ahead, a job
    searches no document at all."""
    card = evidence_card_get(question=question)
    if card.has_passages:
        return card, card_evidence(card) + similar_questions(question=question)
    return card, annex_notes(
        topic_ids=[question.topic_id], query=question_query_text(question)
    ) + similar_questions(question=question)


def explanation_inputs(
    question: Question,
    found: tuple[CardView, list[Evidence]] | None = None,
) -> ExplanationInputs:
    """The prompt and the evidence it carries, built from the question's 근거
    카드 when the card has passages (its passages, marks and verdict), from
    the retrieved evidence otherwise."""
    card, candidates = found or explanation_candidates(question)
    if card.has_passages:
        prompt, packed = explanation_prompt(question, candidates, card=card)
    else:
        prompt, packed = explanation_prompt(question, candidates)
    return ExplanationInputs(prompt, packed, card, len(candidates))


def explanation_prompt(
    question: Question, evidence: list[Evidence], card: CardView | None = None
) -> tuple[str, list[Evidence]]:
    """The user prompt and the evidence it carries: whole evidence items packed
    best-first (documents by relevance, then related questions) into the
    prompt budget (LLM_PROMPT_TOKENS within LLM_CONTEXT_TOKENS)."""
    base = estimate_tokens(SYSTEM_PROMPT) + estimate_tokens(_prompt(question, [], card))
    ordered = (
        sorted((e for e in evidence if e.kind == "document"), key=lambda e: -e.score)
        + [e for e in evidence if e.kind == "annex"]
        + [e for e in evidence if e.kind == "question"]
    )
    packed = pack_best_first(
        ordered,
        cost=lambda e: estimate_tokens(f"<<D9: {e.title}>>\n{e.text}\n<</D9>>\n"),
        budget=prompt_budget() - base,
    )
    return _prompt(question, packed, card), packed


def explanation_generate(*, question: Question, priority: Priority) -> GenerationResult:
    """Gather evidence, ask the LLM through the gate, and guard the reply."""
    result = _generate(question, priority)
    result.fingerprint = question.answer_fingerprint()
    return result


def _generate(question: Question, priority: Priority) -> GenerationResult:
    stages: dict[str, float] = {}  # seconds per step, kept in the job's payload
    with stage_timer(stages, "retrieval"):  # the card, computed or cached
        found = explanation_candidates(question)
    with stage_timer(stages, "prompt"):
        inputs = explanation_inputs(question, found)
    prompt, evidence, card = inputs.prompt, inputs.evidence, inputs.card
    topic = question.topic
    if not evidence and not topic.ai_question_only:
        return _evidence_missing(question, stages)
    check = None
    if topic.ai_independent_check:
        with stage_timer(stages, "check"):
            check = answer_check(question=question, priority=priority)
    try:
        with stage_timer(stages, "llm"):
            reply = llm_json(
                priority=priority,
                system=SYSTEM_PROMPT,
                user=prompt,
                schema=EXPLANATION_SCHEMA,
                schema_name="explanation",
            )
    except LLMParseError as exc:
        result = _failed(
            JobError.PARSE_FAIL, str(exc), raw=exc.raw, reason="not_json_object"
        )
    except LLMNotConfigured as exc:
        result = _failed(JobError.NOT_CONFIGURED, str(exc))
    except LLMError as exc:
        result = _failed(
            exc.code, str(exc), retry_after_s=getattr(exc, "retry_after_s", None)
        )
    else:
        with stage_timer(stages, "guard"):
            result = _guarded(question, reply, evidence, check, card)
    if check is not None:
        result.payload = {**result.payload, **check.as_payload()}
    result.payload = {**result.payload, "stages_s": stages}
    return result


def _evidence_missing(question: Question, stages: dict) -> GenerationResult:
    """자료 부족, with what would help. A question naming an act the topic
    already holds is told so: the act's articles were searched and none
    decides it, so uploading the act again would not help (the hint names
    its annexes and 고시 instead)."""
    loaded = list(
        Document.objects.filter(
            topics=question.topic_id, status=DocumentStatus.READY, in_force=True
        ).values_list("title", flat=True)
    )
    hint = missing_document_hint(question.subject, question.stem, loaded)
    searched = act_loaded(named_act(question.stem), loaded)
    lead = (
        gettext("올린 자료에서 이 문제를 가르는 구절을 찾지 못했습니다 (자료 부족).")
        if searched
        else gettext("이 토픽에 근거로 쓸 자료나 다른 문제가 없습니다 (자료 부족).")
    )
    return GenerationResult(
        status="skipped",
        error_code=JobError.EVIDENCE_MISSING,
        message=lead + " " + gettext("도움이 될 자료: %(hint)s") % {"hint": hint},
        payload={"missing_hint": hint, "stages_s": stages},
        meta={"missing_hint": hint, "act_loaded": searched},
    )


@contextmanager
def stage_timer(stages: dict[str, float], name: str) -> Iterator[None]:
    """Add the block's wall time to stages[name] (seconds, rounded)."""
    started = time.monotonic()
    try:
        yield
    finally:
        spent = stages.get(name, 0.0) + time.monotonic() - started
        stages[name] = round(spent, 4)


def grounding_of(evidence: list[Evidence]) -> str:
    """documents | questions | none: the best kind of evidence sent."""
    kinds = {e.kind for e in evidence}
    if "document" in kinds:
        return "documents"
    if kinds:
        return "questions"
    return "none"


def capped_confidence(
    claimed: str | None, *, grounding: str, cited_document: bool
) -> str:
    """The confidence shown: the model's claim, never raised, capped by the
    evidence: an explanation that cites a document may say high; evidence from
    other questions (or documents it did not cite) at most medium; no evidence
    at all, low. A missing claim counts as low."""
    if cited_document:
        cap = "high"
    elif grounding in ("documents", "questions"):
        cap = "medium"
    else:
        cap = "low"
    order = {level: n for n, level in enumerate(CONFIDENCE_LEVELS)}  # high=0
    claim = claimed or "low"
    return claim if order[claim] >= order[cap] else cap


def _guard_failed(code: str, detail: str, raw: str, extra: dict) -> GenerationResult:
    result = _failed(JobError.GUARD_FAIL, f"{code}: {detail}", raw=raw)
    result.payload = {
        **result.payload,
        **extra,
        "guard_reason": code,
        "guard_detail": detail[:300],
    }
    return result


def reply_guard(
    q: QuestionView,
    answer: int,
    text: str,
    data: dict,
    evidence: list[Evidence],
    check: str = "off",
    marks: dict[int, str] | None = None,
    card_verdict: int | None = None,
) -> GuardVerdict:
    """The whole guard on a parsed reply: the answer field is the key, then
    every check on the text (study.ai.guard) against the evidence sent.
    Without evidence nothing can ground the text, so when the independent
    check ran (`check`: agree | disagree | unknown | off) it must agree.
    With the 근거 카드's `marks` (choice → match | differ | absent), a text
    that says the opposite of a mark is refused too."""
    if answer not in q.accepted:
        return GuardVerdict(
            False, GuardReason.ANSWER_NOT_KEY, f"answer_choice={answer} != key {q.key}"
        )
    if card_verdict is not None and card_verdict not in q.accepted:
        # The card's passages single out another choice: a text arguing the
        # key from them is wrong or argues against today's statute (a reply
        # to 2016-2-93 quoted the list that holds the key as the reason the
        # key is "not in" it). The card itself shows the conflict.
        return GuardVerdict(
            False,
            GuardReason.TEXT_CONTRADICTS_CARD,
            f"the card's passages decide {card_verdict}, not the key",
        )
    if not evidence and check not in ("agree", "off"):
        return GuardVerdict(
            False,
            GuardReason.UNVERIFIED_WITHOUT_EVIDENCE,
            f"no evidence and the independent check was {check}",
        )
    verdict = explanation_text_guard(
        q=q,
        text=text,
        quotes=check_quotes(data, evidence_sources(evidence)),
        evidence_sent=bool(evidence),
        instructions=prompt_instructions(CARD_TEMPLATE if marks else PLAIN_TEMPLATE),
    )
    if not verdict.ok:
        return verdict

    def refused(code: str, detail: str) -> GuardVerdict:
        # the text's own checks passed: their kept quotes stay on the verdict
        return GuardVerdict(
            False, code, detail, verdict.quotes, verdict.quotes_irrelevant
        )

    documents = [(e.title, e.text) for e in evidence if e.kind != "question"]
    if documents:
        misattributed = misattributed_passage(text, documents, q.choices)
        if misattributed is not None:
            return refused(GuardReason.PASSAGE_MISATTRIBUTED, misattributed[:300])
    if marks:
        cited = law_citation_outside(
            text, [f"{title} {body}" for title, body in documents], q.stem
        )
        if cited is not None:
            return refused(
                GuardReason.UNGROUNDED,
                f"cites a statute the passages do not hold: {cited}",
            )
        sentence = card_contradiction(text, q, marks)
        if sentence is not None:
            return refused(GuardReason.TEXT_CONTRADICTS_CARD, sentence[:300])
    return verdict


def card_marks(card: CardView | None) -> dict[int, str] | None:
    """The marks a reply is held to, when the card has passages."""
    if card is None or not card.has_passages:
        return None
    return {choice.number: choice.mark for choice in card.choices}


def _guarded(
    question: Question,
    reply: LLMReply,
    evidence: list[Evidence],
    check: CheckResult | None = None,
    card: CardView | None = None,
) -> GenerationResult:
    try:
        answer = envelope_answer_choice(reply.data)
        text = envelope_text(reply.data, "explanation_md")
    except EnvelopeInvalid as exc:
        reason = (
            "invalid_answer_choice"
            if "answer_choice" in str(exc)
            else "empty_explanation_md"
        )
        return _failed(JobError.PARSE_FAIL, str(exc), raw=reply.raw, reason=reason)
    base = {"evidence_sent": len(evidence), "latency_s": round(reply.latency_s, 3)}
    verdict = reply_guard(
        QuestionView.of(question),
        answer,
        text,
        reply.data,
        evidence,
        check=check.outcome if check is not None else "off",
        marks=card_marks(card),
        card_verdict=card.verdict if card is not None and card.has_passages else None,
    )
    base["quotes_irrelevant"] = verdict.quotes_irrelevant
    if not verdict.ok:
        return _guard_failed(verdict.code, verdict.detail, reply.raw, base)
    if (
        check is not None
        and check.outcome == "disagree"
        and (question.topic.ai_disagreement_hide)
    ):
        return _guard_failed(
            GuardReason.CHECK_DISAGREES,
            f"without the key the model chose {check.model_answer}",
            reply.raw,
            base,
        )
    quotes = verdict.quotes
    grounding = grounding_of(evidence)
    claimed = normalise_confidence(reply.data.get("confidence"))
    confidence = capped_confidence(
        claimed,
        grounding=grounding,
        cited_document=any(q["kind"] == "document" for q in quotes.kept),
    )
    saved = cap_text(text)
    return GenerationResult(
        status="ready",
        text=saved,
        evidence=quotes.kept,
        model=reply.model,
        meta={
            "confidence": confidence,
            "grounding": grounding,
            "check": check.outcome if check is not None else "off",
            "check_answer": check.model_answer if check is not None else None,
        },
        payload={
            **base,
            "confidence": confidence,
            "model_confidence_raw": claimed,
            "grounding": grounding,
            "explanation_len_original": len(text),
            "explanation_len_saved": len(saved),
            "explanation_capped": len(saved) < len(text),
            "quotes_kept": len(quotes.kept),
            "quotes_dropped": quotes.dropped,
        },
    )


# The key of Question.ai_explanation_meta that says why the last generation
# failed (kept beside the old text's own keys; a ready text replaces it).
FAILURE_META = "failure"


@transaction.atomic
def explanation_save(*, question_id: int, result: GenerationResult) -> Question:
    """Write a generation result onto the question (a failure keeps the old text).

    A result is written only if the question's answer-defining content is what
    the generation started from: an explanation of the old key is never saved
    as ready. The result then becomes a `content_changed` failure (retried)."""
    question = Question.objects.select_for_update().get(pk=question_id)
    now = timezone.now()
    if result.fingerprint and result.fingerprint != question.answer_fingerprint():
        result.status, result.error_code = "failed", JobError.CONTENT_CHANGED
        result.message, result.text = str(CONTENT_CHANGED), ""
        question.ai_explanation_status = _status_untouched(question)
    elif result.error_code == BUDGET_EXCEEDED:
        # The asker's budget, not the question's fault: nothing to show others.
        question.ai_explanation_status = _status_untouched(question)
    elif result.status == "ready":
        question.ai_explanation = result.text
        question.ai_explanation_status = AIExplanationStatus.READY
        question.ai_explanation_generated_at = now
        question.ai_explanation_model = result.model
        question.ai_explanation_evidence = result.evidence
        question.ai_explanation_meta = result.meta
    elif result.status == "skipped":
        question.ai_explanation_status = AIExplanationStatus.SKIPPED
        if not question.ai_explanation:
            question.ai_explanation_meta = result.meta
    else:
        question.ai_explanation_status = AIExplanationStatus.FAILED
        # Why, for the card after a reload (a click leaves no job row): the
        # code and the guard's reason, worded when shown (study.ai.states).
        question.ai_explanation_meta = {
            **question.ai_explanation_meta,
            FAILURE_META: {
                "code": result.error_code,
                "guard_reason": str(result.payload.get("guard_reason", "")),
            },
        }
    question.ai_explanation_started_at = None
    question.save(
        update_fields=[
            "ai_explanation",
            "ai_explanation_status",
            "ai_explanation_generated_at",
            "ai_explanation_model",
            "ai_explanation_evidence",
            "ai_explanation_meta",
            "ai_explanation_started_at",
            "updated_at",
        ]
    )
    if result.status == "ready":
        explanation_ready.send(sender=Question, question=question)
    return question


def _status_untouched(question: Question) -> str:
    """What the question shows when a generation left nothing of its own."""
    if question.ai_explanation:
        return AIExplanationStatus.STALE
    return AIExplanationStatus.NONE


def pending_stale_after() -> timedelta:
    return timedelta(seconds=settings.LLM_TIMEOUT_S + settings.LLM_GATE_WAIT_S + 30)


def explanation_claim(*, question_id: int) -> bool:
    """Race-safe: of two simultaneous clicks exactly one moves the row to pending."""
    now = timezone.now()
    return bool(
        Question.objects.filter(pk=question_id, deleted_at__isnull=True)
        .filter(
            ~Q(ai_explanation_status=AIExplanationStatus.PENDING)
            | Q(ai_explanation_started_at__lt=now - pending_stale_after())
            | Q(ai_explanation_started_at__isnull=True)
        )
        .update(
            ai_explanation_status=AIExplanationStatus.PENDING,
            ai_explanation_started_at=now,
        )
    )


@dataclass
class ExplanationResponse:
    question: Question
    from_cache: bool
    result: GenerationResult | None = None
    # Someone else (a prefetch job or another click) is generating it now:
    # the caller waits for that generation instead of starting a second one.
    in_progress: bool = False

    @property
    def is_stale(self) -> bool:
        return self.question.ai_explanation_status == AIExplanationStatus.STALE


def explanation_request(
    *, question: Question, user: User, regenerate: bool = False
) -> ExplanationResponse:
    """The learner's click: cached text at once, else one foreground generation.

    Replacing cached text is for the topic's owner and staff, and every
    generation counts against the user's AI rate limit (RateLimited)."""
    cached = question.ai_explanation_status in (
        AIExplanationStatus.READY,
        AIExplanationStatus.STALE,
    )
    if cached and question.ai_explanation:
        if not regenerate:
            return ExplanationResponse(question=question, from_cache=True)
        if not question.topic.can_regenerate_ai(user):
            raise RegenerateForbidden(RegenerateForbidden.message)
    if not llm_configured():
        raise LLMNotConfigured("LLM_BASE_URL is not set")
    action = "regenerate" if regenerate else "explanation"
    ai_budget_check(user_id=user.pk)
    ai_rate_limit_consume(user=user, action=action)
    if not explanation_claim(question_id=question.pk):
        question.refresh_from_db()
        return ExplanationResponse(
            question=question, from_cache=False, in_progress=True
        )
    try:
        with ai_spender(user_id=user.pk):
            result = explanation_generate(
                question=question, priority=Priority.FOREGROUND
            )
    except Exception as exc:  # never leave the row stuck in pending
        logger.exception("on-demand explanation of question %s failed", question.pk)
        result = _failed(JobError.UNKNOWN, f"{type(exc).__name__}: {exc}")
    saved = explanation_save(question_id=question.pk, result=result)
    return ExplanationResponse(question=saved, from_cache=False, result=result)
