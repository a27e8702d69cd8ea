"""Real-model replies for the explanation guard's labelled set.

For a deterministic, broad sample of a topic's questions (spread over rounds
and subjects by a hash of the round id, so nobody picks the easy ones), this
asks the configured LLM exactly what the app asks: the independent check
(the question without the key) and then the explanation, with the evidence
the app would send (relevance cut, prompt budget). A question with no
evidence passing the cut is asked from the question alone, as a topic that
allows it would. Each row is appended to a JSON Lines file as soon as it
arrives, with both raw replies and their latencies; labels (correct_supported
/ wrong / unsupported, with a one-line note) are added by a person reading
the reply, in the same file.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from study.llm.budget import prompt_budget
from study.llm.client import LLMClient, LLMError, LLMParseError
from study.llm.envelope import EXPLANATION_SCHEMA
from study.llm.text_guard import is_negative_question, numeric_values
from study.models import Question, Topic
from study.services.answer_check import CHECK_SCHEMA, CHECK_SYSTEM, check_prompt
from study.services.explanations import SYSTEM_PROMPT, explanation_prompt
from study.services.retrieval import explanation_evidence


def round_id(q: Question) -> str:
    return f"{q.exam_year}-{q.exam_session}-{q.number}"


def sample_questions(
    topic: Topic, *, count: int, per_round: int = 4, per_subject: int | None = None
) -> list[Question]:
    """A spread sample: questions ordered by a hash of their round id, at most
    `per_round` from one round and `per_subject` from one subject."""
    rows = list(Question.objects.quizzable().filter(topic=topic))
    rows.sort(key=lambda q: hashlib.sha256(round_id(q).encode()).hexdigest())
    subjects = {q.subject for q in rows}
    per_subject = per_subject or -(-count // max(1, len(subjects)))
    by_round: Counter = Counter()
    by_subject: Counter = Counter()
    picked = []
    for q in rows:
        r = (q.exam_year, q.exam_session)
        if by_round[r] >= per_round or by_subject[q.subject] >= per_subject:
            continue
        if q.needs_figure:  # the model sees no figure
            continue
        picked.append(q)
        by_round[r] += 1
        by_subject[q.subject] += 1
        if len(picked) == count:
            break
    return picked


def _ask(client: LLMClient, *, system, user, schema, name, max_tokens) -> dict:
    started = time.monotonic()
    try:
        reply = client.chat_json(
            system=system,
            user=user,
            schema=schema,
            schema_name=name,
            max_tokens=max_tokens,
        )
        return {
            "raw": reply.raw,
            "data": reply.data,
            "latency_s": round(reply.latency_s, 2),
            "model": reply.model,
        }
    except LLMParseError as exc:
        return {"raw": exc.raw, "error": "parse_fail", "latency_s": _since(started)}
    except LLMError as exc:
        return {"raw": "", "error": exc.code, "latency_s": _since(started)}


def _since(started: float) -> float:
    return round(time.monotonic() - started, 2)


def replies_generate(
    *,
    topic: Topic,
    questions: list[Question],
    out: Path,
    log: Callable[[str], None],
    client: LLMClient | None = None,
) -> int:
    done = set()
    if out.exists():
        done = {json.loads(line)["id"] for line in out.read_text().splitlines() if line}
    client = client or LLMClient()
    written = 0
    for q in questions:
        if round_id(q) in done:
            continue
        evidence = explanation_evidence(question=q)
        prompt, packed = explanation_prompt(q, evidence)
        check = _ask(
            client,
            system=CHECK_SYSTEM,
            user=check_prompt(q),
            schema=CHECK_SCHEMA,
            name="answer_check",
            max_tokens=24,
        )
        explanation = _ask(
            client,
            system=SYSTEM_PROMPT,
            user=prompt,
            schema=EXPLANATION_SCHEMA,
            name="explanation",
            max_tokens=1024,
        )
        row = {
            "id": round_id(q),
            "subject": q.subject,
            "stem": q.stem,
            "choices": q.choices,
            "key": q.correct_choice,
            "accepted": sorted(q.accepted_set),
            "negative": is_negative_question(q.stem),
            "numeric": numeric_values(q.choices) is not None,
            "grounding": _grounding(packed),
            "prompt_budget": prompt_budget(),
            "evidence": [{**e.as_dict(), "score": e.score} for e in packed],
            "check": check,
            "reply": explanation,
            "label": "",
            "note": "",
        }
        with out.open("a") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        written += 1
        log(
            f"{row['id']} {row['grounding']}: check {check.get('data')} "
            f"({check['latency_s']} s), explanation {explanation['latency_s']} s"
        )
    return written


def _grounding(evidence) -> str:
    kinds = {e.kind for e in evidence}
    if kinds & {"document", "annex"}:
        return "documents"
    return "questions" if kinds else "none"
