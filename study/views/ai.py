from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from study.ai.explanations import (
    ExplanationBusy,
    RegenerateForbidden,
    explanation_request,
)
from study.ai.states import (
    ai_panel_context,
    plain_reason,
    subject_note_context,
)
from study.ai.subject_notes import subject_note_request
from study.json_input import JSONInputError, json_loads_bounded
from study.llm.client import LLMNotConfigured, llm_configured
from study.selectors.topics import question_get_for_user
from study.services.rate_limits import RateLimited
from study.templatetags.study_markdown import render_markdown

NOT_CONFIGURED = _("AI 해설을 사용할 수 없습니다.")
NOT_CONFIGURED_STAFF = _(
    "AI 해설을 사용할 수 없습니다. 환경 변수 LLM_BASE_URL (예: "
    "http://127.0.0.1:8080/v1)과 LLM_MODEL 을 설정하고 다시 시작하세요."
)


def _not_configured(request: HttpRequest) -> str:
    """Operator settings are named to staff only."""
    return str(NOT_CONFIGURED_STAFF if request.user.is_staff else NOT_CONFIGURED)


# The body is at most {"regenerate": true}.
BODY_MAX_BYTES = 4096
BODY_MAX_DEPTH = 4
BUSY = _("다른 요청이 이 해설을 만들고 있습니다. 잠시 후 다시 보세요.")


@login_required
@require_POST
def explanation_api(request, question_id: int):
    """POST /api/study-questions/<id>/ai-explanation → JSON."""
    question = question_get_for_user(user=request.user, question_id=question_id)
    try:
        body = json_loads_bounded(
            request.body or b"{}", max_depth=BODY_MAX_DEPTH, max_bytes=BODY_MAX_BYTES
        )
    except JSONInputError as exc:
        return JsonResponse({"error": "invalid_json", "reason": exc.code}, status=400)
    regenerate = bool(body.get("regenerate")) if isinstance(body, dict) else False
    try:
        response = explanation_request(
            question=question, user=request.user, regenerate=regenerate
        )
    except LLMNotConfigured:
        return JsonResponse(
            {"error": "llm_not_configured", "message": _not_configured(request)},
            status=503,
        )
    except ExplanationBusy:
        return JsonResponse({"error": "pending", "message": BUSY}, status=409)
    except RegenerateForbidden as exc:
        return JsonResponse({"error": "forbidden", "message": str(exc)}, status=403)
    except RateLimited as exc:
        return _rate_limited(
            JsonResponse({"error": "rate_limited", "message": str(exc)}, status=429),
            exc,
        )
    if response.in_progress:  # a prefetch job or another click is on it
        return JsonResponse(
            {**_explanation_json(response), "status": "pending", "message": BUSY},
            status=202,
        )
    return JsonResponse(_explanation_json(response))


def _rate_limited(response: HttpResponse, exc: RateLimited) -> HttpResponse:
    response.status_code = 429
    response["Retry-After"] = str(exc.retry_after_s)
    return response


def _explanation_json(response) -> dict:
    q, result = response.question, response.result
    return {
        "question_id": q.pk,
        "status": q.ai_explanation_status,
        "is_stale": response.is_stale,
        "from_cache": response.from_cache,
        "explanation_md": q.ai_explanation,
        "explanation_html": render_markdown(q.ai_explanation),
        "evidence": q.ai_explanation_evidence,
        "model": q.ai_explanation_model,
        "generated_at": q.ai_explanation_generated_at,
        "error_code": result.error_code if result else "",
        "message": result.message if result else "",
    }


def _panel_context(question, **extra) -> dict:
    return {"question": question, **ai_panel_context(question), **extra}


@login_required
@require_POST
def explanation_htmx(request, question_id: int):
    """The click: generate now, or, if a job or another click is generating
    it, show that generation's progress (the panel polls until it lands)."""
    question = question_get_for_user(user=request.user, question_id=question_id)
    extra: dict[str, Any] = {}
    try:
        response = explanation_request(
            question=question,
            user=request.user,
            regenerate=request.POST.get("regenerate") == "1",
        )
        question, result = response.question, response.result
        if result is not None and result.status == "failed":
            reason = plain_reason(result.error_code, result.payload.get("guard_reason"))
            extra.update(result=result, result_reason=reason)
    except LLMNotConfigured:
        extra["error"] = _not_configured(request)
    except (ExplanationBusy, RegenerateForbidden, RateLimited) as exc:
        extra["error"] = str(exc) or str(BUSY)
    # 200 even when refused: htmx swaps the panel with the message in it.
    return render(
        request, "study/_ai_explanation.html", _panel_context(question, **extra)
    )


@login_required
@require_GET
def explanation_panel(request, question_id: int):
    """GET: the current state of the AI panel (polled while queued or running)."""
    question = question_get_for_user(user=request.user, question_id=question_id)
    return render(request, "study/_ai_explanation.html", _panel_context(question))


@login_required
def subject_note_panel(request, question_id: int) -> HttpResponse:
    """GET: the note card's state (polled while queued or generating); POST:
    ask for the note (a job; the card then shows its place in line)."""
    question = question_get_for_user(user=request.user, question_id=question_id)
    extra: dict[str, Any] = {"llm_enabled": llm_configured()}
    if request.method == "POST":
        try:
            subject_note_request(
                question=question,
                user=request.user,
                regenerate=request.POST.get("regenerate") == "1",
            )
        except LLMNotConfigured:
            extra["error"] = _not_configured(request)
        except (RegenerateForbidden, RateLimited) as exc:
            extra["error"] = str(exc)
    context = {"question": question, **subject_note_context(question=question)}
    return render(request, "study/_subject_note.html", {**context, **extra})
