"""The installable app and offline study: manifest, service worker, the page
shown without a connection, a session's questions for the device, and the
sync of answers that waited there (docs/offline.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from study.offline import app_shell
from study.offline import selectors as sel
from study.offline.parsing import PayloadError, offline_answers_parse
from study.offline.services import (
    SyncReport,
    offline_answers_session_gone,
    offline_answers_sync,
)

View = Callable[..., HttpResponse]


def _json_login_required(view: View) -> View:
    """A fetch from the device gets 401 JSON, not the login page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            message = _("다시 로그인하면 기다리는 답을 보냅니다.")
            return JsonResponse({"error": message, "login": True}, status=401)
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
def web_app_manifest(request: HttpRequest) -> HttpResponse:
    response = JsonResponse(
        app_shell.web_app_manifest(), json_dumps_params={"ensure_ascii": False}
    )
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
@never_cache
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the site's root so that its scope is every page."""
    context = app_shell.service_worker_context()
    return render(
        request, "study/sw.js", context, content_type="text/javascript; charset=utf-8"
    )


@require_GET
def offline_page(request: HttpRequest) -> HttpResponse:
    """The page the service worker shows for any page it cannot fetch; its
    script draws the learner's downloaded sessions from the device."""
    return render(request, "study/offline.html")


@_json_login_required
@require_GET
@never_cache
def offline_bundle(request: HttpRequest, session_id: int) -> HttpResponse:
    session = sel.session_find_for_user(
        user=cast(User, request.user), session_id=session_id
    )
    if session is None:
        return JsonResponse({"error": _("세션이 없습니다.")}, status=404)
    if not sel.session_works_offline(session):
        error = _("모의고사는 온라인에서만 풉니다 (시험 시간은 서버가 잽니다).")
        return JsonResponse({"error": error}, status=409)
    if not session.is_active:
        return JsonResponse({"error": _("이미 끝난 세션입니다.")}, status=409)
    return JsonResponse(sel.offline_bundle(session=session))


@_json_login_required
@require_POST
def offline_sync(request: HttpRequest, session_id: int) -> HttpResponse:
    try:
        answers = offline_answers_parse(json.loads(request.body))
    except (ValueError, PayloadError, RequestDataTooBig):
        error = _("보낸 답을 읽을 수 없습니다.")
        return JsonResponse({"error": error}, status=400)
    session = sel.session_find_for_user(
        user=cast(User, request.user), session_id=session_id
    )
    if session is None:
        report = offline_answers_session_gone(answers=answers)
    elif not sel.session_works_offline(session):
        error = _("모의고사는 온라인에서만 풉니다 (시험 시간은 서버가 잽니다).")
        return JsonResponse({"error": error}, status=409)
    else:
        report = offline_answers_sync(session=session, answers=answers)
    return JsonResponse(_report_for_device(request, report))


def _report_for_device(request: HttpRequest, report: SyncReport) -> dict:
    notices = report.notices()
    for notice in notices:  # shown again on the next page the learner opens
        messages.warning(request, notice)
    return {
        "session_status": report.session_status,
        "answered_count": report.answered_count,
        "answers": [outcome.as_dict() for outcome in report.outcomes],
        "notices": notices,
    }
