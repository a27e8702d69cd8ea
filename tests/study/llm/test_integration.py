"""Opt-in: the explanation flow against a real local model (../shared/tools/local-llm).

    eval "$(../shared/tools/local-llm env)"
    LLM_INTEGRATION=1 make test PYTEST_ARGS="-m llm"

The model is small and weak at Korean, so only the shape of the outcome is checked:
every reply ends in a status with a reason, and a wrong answer is never shown.
"""

import os

import pytest

from study.ai.explanations import explanation_request
from study.models import AIExplanationStatus
from tests.conftest import make_document, make_question

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(
        os.environ.get("LLM_INTEGRATION") != "1" or not os.environ.get("LLM_BASE_URL"),
        reason="opt-in: set LLM_INTEGRATION=1 and LLM_BASE_URL (local-llm env)",
    ),
]


def test_a_real_model_gives_a_guarded_explanation(user, topic, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.LLM_BASE_URL = os.environ["LLM_BASE_URL"]
    settings.LLM_MODEL = os.environ.get("LLM_MODEL", "local")
    settings.LLM_TIMEOUT_S = 180
    text = "인터록 장치는 가드가 열리면 기계가 작동하지 않도록 하는 방호장치이다. " * 8
    make_document(user, topic, text, title="노트")
    question = make_question(
        topic,
        1,
        stem="가드가 열리면 기계가 멈추도록 하는 방호장치는?",
        choice_1="비상정지",
        choice_2="인터록",
        choice_3="덮개",
        choice_4="울",
    )
    response = explanation_request(question=question, user=user)
    q = response.question
    assert q.ai_explanation_status in (
        AIExplanationStatus.READY,
        AIExplanationStatus.FAILED,
    )
    if q.ai_explanation_status == AIExplanationStatus.READY:
        assert q.ai_explanation.strip() and len(q.ai_explanation) <= 1201
    else:
        assert response.result.error_code in {"guard_fail", "parse_fail", "llm_timeout"}
        assert not q.ai_explanation
