"""Downloads that take a learner's study elsewhere: Anki decks of a topic, a
round or the review queue, and the learner's own history (README, "Your
data")."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from study import rounds
from study.exports.anki import anki_deck_write
from study.exports.learner_data import learner_data_csv_zip, learner_data_json
from study.exports.selectors import (
    review_questions_for_export,
    topic_questions_for_export,
)
from study.exports.transfer import TopicImportError, topic_export_write, topic_import
from study.models import Question
from study.selectors.review_queue import TABS
from study.selectors.topics import topic_get_editable, topic_get_for_user

APKG = "application/octet-stream"


@login_required
@require_GET
def topic_anki(request: HttpRequest, topic_id: int) -> HttpResponseBase:
    """The topic's questions, or one round's (?round=2022-1), as an Anki deck."""
    topic = topic_get_for_user(user=_learner(request), topic_id=topic_id)
    round_key = request.GET.get("round", "")
    try:
        questions = topic_questions_for_export(topic=topic, round_key=round_key)
    except rounds.SessionLabelError as exc:
        raise Http404(_("그런 회차가 없습니다.")) from exc
    title, key = topic.name, f"topic:{topic.pk}"
    if round_key:
        year, session = rounds.round_key_parse(round_key)
        title = f"{topic.name} · {rounds.round_label(year, session)}"
        key = f"{key}:{round_key}"
    return _deck_response(title, key, questions, f"{topic.pk}-{round_key or 'all'}")


@login_required
@require_GET
def review_anki(request: HttpRequest, topic_id: int) -> HttpResponseBase:
    """The questions of one tab of the learner's review queue as an Anki deck."""
    topic = topic_get_for_user(user=_learner(request), topic_id=topic_id)
    tab = request.GET.get("tab", "due_today")
    if tab not in TABS:
        raise Http404
    questions = review_questions_for_export(
        user=_learner(request), topic=topic, tab=tab
    )
    title = f"{topic.name} · {TABS[tab]}"
    key = f"review:{topic.pk}:{request.user.pk}:{tab}"
    return _deck_response(title, key, questions, f"{topic.pk}-review-{tab}")


def _deck_response(
    title: str, key: str, questions: Iterable[Question], name: str
) -> FileResponse:
    handle = _spool(".apkg")
    anki_deck_write(
        title=title, deck_key=key, questions=questions, out=Path(handle.name)
    )
    handle.seek(0)
    filename = f"gichul-{slugify(name) or 'deck'}.apkg"
    # FileResponse closes the handle when sent, which deletes the file.
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type=APKG
    )


@login_required
@require_GET
def my_data(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """The learner's own history: JSON, or a zip of CSV tables."""
    stamp = timezone.localdate().isoformat()
    if fmt == "json":
        data, kind = learner_data_json(user=_learner(request)), "application/json"
        name = f"gichul-my-data-{stamp}.json"
    else:
        data, kind = learner_data_csv_zip(user=_learner(request)), "application/zip"
        name = f"gichul-my-data-{stamp}-csv.zip"
    response = HttpResponse(data, content_type=kind)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_GET
def topic_export(request: HttpRequest, topic_id: int) -> HttpResponseBase:
    """The owner's topic (questions, figures, documents) for another instance."""
    topic = topic_get_editable(user=_learner(request), topic_id=topic_id)
    handle = _spool(".zip")
    topic_export_write(topic=topic, out=handle)
    handle.seek(0)
    filename = f"gichul-topic-{topic.pk}-{timezone.localdate().isoformat()}.zip"
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type="application/zip"
    )


@login_required
@require_POST
def topic_import_view(request: HttpRequest) -> HttpResponseBase:
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("가져올 zip 파일을 고르세요."))
        return redirect("study:home")
    try:
        summary = topic_import(
            owner=_learner(request), archive=upload, name=request.POST.get("name", "")
        )
    except TopicImportError as exc:
        messages.error(request, str(exc))
        return redirect("study:home")
    messages.success(
        request,
        _("문제 %(q)d개, 그림 %(f)d개, 학습 자료 %(d)d개를 가져왔습니다.")
        % {"q": summary.questions, "f": summary.figures, "d": summary.documents},
    )
    return redirect("study:topic", topic_id=summary.topic.pk)


def _spool(suffix: str) -> IO[bytes]:
    """A temporary file that FileResponse closes (and so deletes) once sent."""
    return tempfile.NamedTemporaryFile(prefix="gichul-", suffix=suffix)  # noqa: SIM115


def _learner(request: HttpRequest) -> User:
    """The signed-in learner (login_required let no one else through)."""
    return cast(User, request.user)
