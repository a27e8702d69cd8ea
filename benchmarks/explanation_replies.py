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

from study.ai.answer_check import CHECK_SCHEMA, CHECK_SYSTEM, check_prompt
from study.ai.envelope import (
    EXPLANATION_SCHEMA,
    EnvelopeInvalid,
    envelope_answer_choice,
    envelope_text,
)
from study.ai.explanations import (
    SYSTEM_PROMPT,
    card_marks,
    explanation_inputs,
    reply_guard,
)
from study.ai.guard import QuestionView, is_negative_question, numeric_values
from study.documents.retrieval import Evidence
from study.llm.budget import prompt_budget
from study.llm.client import LLMClient, LLMError, LLMParseError, parse_json_reply
from study.models import Question, Topic


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
    check: bool = True,
) -> int:
    """Ask for every question not yet in `out`. `check=False` skips the
    independent check (it decides nothing when evidence is sent unless the
    topic hides disagreements; on a loaded machine it took as long as the
    explanation) and records it as skipped."""
    done = set()
    if out.exists():
        done = {json.loads(line)["id"] for line in out.read_text().splitlines() if line}
    client = client or LLMClient()
    written = 0
    for q in questions:
        if round_id(q) in done:
            continue
        inputs = explanation_inputs(q)
        prompt, packed = inputs.prompt, inputs.evidence
        check_reply = (
            _ask(
                client,
                system=CHECK_SYSTEM,
                user=check_prompt(q),
                schema=CHECK_SCHEMA,
                name="answer_check",
                max_tokens=24,
            )
            if check
            else {"raw": "", "error": "skipped", "latency_s": 0.0}
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
            # The 근거 카드 the prompt was built from (issue 31): its marks
            # are what the guard holds the text to.
            "card_marks": card_marks(inputs.card),
            "card_verdict": inputs.card.verdict,
            "check": check_reply,
            "reply": explanation,
            "label": "",
            "note": "",
        }
        with out.open("a") as fh:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        written += 1
        log(
            f"{row['id']} {row['grounding']}: check {check_reply.get('data')} "
            f"({check_reply['latency_s']} s), explanation {explanation['latency_s']} s"
        )
    return written


def _grounding(evidence) -> str:
    kinds = {e.kind for e in evidence}
    if kinds & {"document", "annex"}:
        return "documents"
    return "questions" if kinds else "none"


def reply_shown(row: dict) -> tuple[bool, str]:
    """(shown, reason) exactly as the app decides for a stored reply: parse,
    envelope, then the whole guard with the evidence that was sent and the
    independent check's outcome."""
    raw = (row["reply"].get("raw") or "").strip()
    if not raw:
        return False, row["reply"].get("error") or "no_reply"
    try:
        data = parse_json_reply(raw)
        answer = envelope_answer_choice(data)
        text = envelope_text(data, "explanation_md")
    except (LLMParseError, EnvelopeInvalid):
        return False, "parse_fail"
    q = QuestionView(
        stem=row["stem"],
        choices=tuple(row["choices"]),
        accepted=frozenset(row["accepted"]),
    )
    evidence = [
        Evidence(kind=e["kind"], ref=e["ref"], title=e["title"], text=e["text"])
        for e in row["evidence"]
    ]
    marks = row.get("card_marks")
    result = reply_guard(
        q,
        answer,
        text,
        data,
        evidence,
        check=check_outcome(row),
        marks={int(k): v for k, v in marks.items()} if marks else None,
    )
    return result.ok, result.code or "shown"


def check_outcome(row: dict) -> str:
    if row["check"].get("error") == "skipped":
        return "off"
    data = row["check"].get("data") or {}
    try:
        answer = envelope_answer_choice(data)
    except EnvelopeInvalid:
        return "unknown"
    return "agree" if answer in row["accepted"] else "disagree"


def labels_report(path: Path) -> dict:
    """The figures of docs/explanations.md from the labelled file."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line]
    table: Counter = Counter()
    reasons: Counter = Counter()
    checks: Counter = Counter()
    check_s, explanation_s = [], []
    for row in rows:
        shown, reason = reply_shown(row)
        table[(row["label"], "shown" if shown else "stopped")] += 1
        reasons[reason] += 1
        checks[check_outcome(row)] += 1
        check_s.append(row["check"]["latency_s"])
        explanation_s.append(row["reply"]["latency_s"])
    labelled = [r for r in rows if r["label"] != "no_reply"]

    def mean(values):
        return round(sum(values) / len(values), 1) if values else None

    return {
        "rows": len(rows),
        "explanations": len(labelled),
        "labels": dict(Counter(r["label"] for r in rows)),
        "shown_by_label": {f"{k[0]} {k[1]}": v for k, v in sorted(table.items())},
        "guard_reasons": dict(reasons.most_common()),
        "check": dict(checks),
        "check_agreement": round(checks["agree"] / max(1, len(rows)), 3),
        "mean_check_s": mean(check_s),
        "mean_explanation_s": mean(explanation_s),
        "check_share_of_time": round(
            sum(check_s) / max(1e-9, sum(check_s) + sum(explanation_s)), 3
        ),
    }
