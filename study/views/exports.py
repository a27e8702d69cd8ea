"""Downloads that take a learner's study elsewhere: Anki decks of a topic, a
round or the review queue (docs/your-data.md)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from study import rounds
from study.exports.anki import anki_deck_write
from study.exports.selectors import (
    review_questions_for_export,
    topic_questions_for_export,
)
from study.selectors.review_queue import TABS
from study.selectors.topics import topic_get_for_user

APKG = "application/octet-stream"


@login_required
@require_GET
def topic_anki(request, topic_id: int):
    """The topic's questions, or one round's (?round=2022-1), as an Anki deck."""
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
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
def review_anki(request, topic_id: int):
    """The questions of one tab of the learner's review queue as an Anki deck."""
    topic = topic_get_for_user(user=request.user, topic_id=topic_id)
    tab = request.GET.get("tab", "due_today")
    if tab not in TABS:
        raise Http404
    questions = review_questions_for_export(user=request.user, topic=topic, tab=tab)
    title = f"{topic.name} · {TABS[tab]}"
    key = f"review:{topic.pk}:{request.user.pk}:{tab}"
    return _deck_response(title, key, questions, f"{topic.pk}-review-{tab}")


def _deck_response(title: str, key: str, questions, name: str) -> FileResponse:
    handle = tempfile.NamedTemporaryFile(prefix="gichul-", suffix=".apkg")
    anki_deck_write(title=title, deck_key=key, questions=questions, out=Path(handle.name))
    handle.seek(0)
    filename = f"gichul-{slugify(name) or 'deck'}.apkg"
    # FileResponse closes the handle when sent, which deletes the file.
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=APKG)
