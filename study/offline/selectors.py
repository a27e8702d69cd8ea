"""What a device stores to keep answering offline: a session's questions
without their keys (docs/offline.md)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from study.models import Question, QuizMode, QuizSession, Topic

# The mock exam stays online: its deadline is the server's.
OFFLINE_MODES = frozenset(QuizMode.values) - {QuizMode.MOCK}
KEY_VERSION_SALT = "study.offline.key_version"


def session_works_offline(session: QuizSession) -> bool:
    return session.mode in OFFLINE_MODES and not session.is_timed


def key_version(question: Question) -> str:
    """A tag that changes when the question's key changes, which the device
    cannot turn back into the key (an HMAC under the site's secret)."""
    accepted = ",".join(str(c) for c in sorted(question.accepted_set))
    digest = salted_hmac(
        KEY_VERSION_SALT, f"{question.pk}:{accepted}", algorithm="sha256"
    )
    return digest.hexdigest()[:20]


def offline_bundle(*, session: QuizSession) -> dict:
    """The unanswered slots of an active session, with what the quiz card shows
    (stem, choices, subject, round, figure) and nothing that tells the answer."""
    ids = session.question_ids[session.answered_count :]
    questions = Question.objects.in_bulk(ids)
    return {
        "session": _session_part(session),
        "questions": [
            _question_part(position, questions[qid])
            for position, qid in enumerate(ids, start=session.answered_count)
        ],
    }


def _session_part(session: QuizSession) -> dict:
    mode = session.kind_label
    return {
        "id": session.pk,
        "user_id": session.user_id,
        "topic": session.topic.name,
        "topic_url": reverse("study:topic", args=[session.topic_id]),
        "mode": mode,
        "size": session.size,
        "answered_count": session.answered_count,
        "status": session.status,
        "quiz_url": reverse("study:quiz", args=[session.pk]),
        "results_url": reverse("study:results", args=[session.pk]),
        "sync_url": reverse("study:offline_sync", args=[session.pk]),
        "bundle_url": reverse("study:offline_bundle", args=[session.pk]),
    }


def _question_part(position: int, question: Question) -> dict:
    label = ""
    if question.has_round:
        label = _("%(round)s %(number)s번") % {
            "round": question.round_label,
            "number": question.number,
        }
    return {
        "position": position,
        "id": question.pk,
        "stem": question.stem,
        "choices": question.choices,
        "subject": question.subject,
        "round": label,
        "figure_url": (
            reverse("study:question_figure", args=[question.pk])
            if question.figure
            else ""
        ),
        "key_version": key_version(question),
    }


def session_find_for_user(*, user: User, session_id: int) -> QuizSession | None:
    """The learner's session as the results page finds it, or None when it is
    gone (deleted, or its topic no longer visible to them)."""
    return (
        QuizSession.objects.select_related("topic")
        .filter(pk=session_id, user=user, topic__in=Topic.objects.visible_to(user))
        .first()
    )
