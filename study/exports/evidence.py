"""The back of an exported card: the citation and passage that decide the
question, when the app has one.

Until the answer card (근거 카드, issue 31: `study/evidence/`) lands, this
reads the passage a vetted AI explanation quoted from a study document. When
it lands, question_card_evidence returns what its selector gives for the
question's card (citation, passage) and nothing else here changes.
"""

from __future__ import annotations

from study.models import AIExplanationStatus, Question

DOCUMENT_KINDS = ("document", "annex")


def question_card_evidence(question: Question) -> tuple[str, str] | None:
    """(citation, passage) of the document passage behind the question's
    answer, or None when there is none."""
    if question.ai_explanation_status != AIExplanationStatus.READY:
        return None
    for item in question.ai_explanation_evidence or []:
        if not isinstance(item, dict) or item.get("kind") not in DOCUMENT_KINDS:
            continue
        citation = str(item.get("title") or "").strip()
        passage = str(item.get("quote") or "").strip()
        if citation and passage:
            return citation, passage
    return None
