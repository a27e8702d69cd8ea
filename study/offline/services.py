"""Answers that waited on a device, recorded exactly once, in slot order.

Each answer goes through the one answer service (quiz_answer_record), graded
on arrival with the key the server has then. The device's key makes a retry
harmless: a key the server has seen reports what it recorded the first time,
whenever and however often it comes back. See docs/offline.md for the
outcomes of each conflict.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from study.models import Attempt, Question, QuizSession, QuizStatus
from study.models.question import UNSHOWN_FIELDS
from study.offline.parsing import OfflineAnswer
from study.offline.selectors import key_version
from study.services.quiz_sessions import AnswerRejected, quiz_answer_record


class SyncStatus(models.TextChoices):
    """What became of one waiting answer; every status but NOT_YET is final
    (the device forgets the answer)."""

    RECORDED = "recorded", _("기록됨")
    DUPLICATE = "duplicate", _("이미 기록됨")
    ANSWERED_ELSEWHERE = "answered_elsewhere", _("다른 기기에서 먼저 답함")
    SESSION_CLOSED = "session_closed", _("세션이 이미 끝남")
    SESSION_GONE = "session_gone", _("세션이 삭제됨")
    NOT_YET = "not_yet", _("앞 문제를 기다림")
    INVALID = "invalid", _("기록할 수 없는 답")


FINAL = frozenset(SyncStatus.values) - {SyncStatus.NOT_YET}


@dataclass
class AnswerOutcome:
    key: str
    status: str
    attempt_id: int | None = None
    key_changed: bool = False

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "status": self.status,
            "final": self.status in FINAL,
            "attempt_id": self.attempt_id,
            "key_changed": self.key_changed,
        }


@dataclass
class SyncReport:
    session_id: int
    session_status: str
    answered_count: int
    outcomes: list[AnswerOutcome] = field(default_factory=list)

    def counts(self) -> Counter:
        return Counter(o.status for o in self.outcomes)

    @property
    def key_changed(self) -> int:
        return sum(o.key_changed for o in self.outcomes)

    def notices(self) -> list[str]:
        """What the learner is told about answers that did not simply land."""
        return sync_notices(self.counts(), key_changed=self.key_changed)


def sync_notices(counts: Counter, *, key_changed: int = 0) -> list[str]:
    """One sentence per kind of answer that did not simply land, in the
    order the learner meets them."""
    texts = []
    if n := counts.get(SyncStatus.ANSWERED_ELSEWHERE, 0):
        texts.append(
            ngettext(
                "%(n)d문제는 다른 기기나 탭에서 먼저 답해, "
                "먼저 도착한 답을 남겼습니다.",
                "%(n)d문제는 다른 기기나 탭에서 먼저 답해, "
                "먼저 도착한 답을 남겼습니다.",
                n,
            )
            % {"n": n}
        )
    if n := counts.get(SyncStatus.SESSION_CLOSED, 0):
        texts.append(
            ngettext(
                "세션이 다른 곳에서 끝나 이 기기의 답 %(n)d개는 기록하지 않았습니다.",
                "세션이 다른 곳에서 끝나 이 기기의 답 %(n)d개는 기록하지 않았습니다.",
                n,
            )
            % {"n": n}
        )
    if n := counts.get(SyncStatus.SESSION_GONE, 0):
        texts.append(
            ngettext(
                "세션이 삭제되어 이 기기에 남은 답 %(n)d개를 기록하지 못했습니다.",
                "세션이 삭제되어 이 기기에 남은 답 %(n)d개를 기록하지 못했습니다.",
                n,
            )
            % {"n": n}
        )
    if n := counts.get(SyncStatus.INVALID, 0):
        texts.append(
            ngettext(
                "이 세션의 문제가 아닌 답 %(n)d개는 기록하지 않았습니다.",
                "이 세션의 문제가 아닌 답 %(n)d개는 기록하지 않았습니다.",
                n,
            )
            % {"n": n}
        )
    if key_changed:
        texts.append(
            ngettext(
                "기다리는 동안 정답이 고쳐진 %(n)d문제는 고친 정답으로 채점했습니다.",
                "기다리는 동안 정답이 고쳐진 %(n)d문제는 고친 정답으로 채점했습니다.",
                key_changed,
            )
            % {"n": key_changed}
        )
    return texts


def offline_answers_sync(
    *, session: QuizSession, answers: list[OfflineAnswer]
) -> SyncReport:
    """Record waiting answers in slot order, each once (see the module doc)."""
    keys = [a.key for a in answers]
    seen = _recorded_by_key(session.user_id, keys)
    questions = Question.objects.defer(*UNSHOWN_FIELDS).in_bulk(
        {a.question_id for a in answers}
    )
    outcomes = []
    for answer in answers:
        if answer.key in seen:
            outcomes.append(_duplicate(answer, seen[answer.key], session))
        else:
            outcomes.append(_record(session, answer, questions.get(answer.question_id)))
    session.refresh_from_db(fields=["status", "answered_count"])
    return SyncReport(
        session_id=session.pk,
        session_status=session.status,
        answered_count=session.answered_count,
        outcomes=outcomes,
    )


def offline_answers_session_gone(*, answers: list[OfflineAnswer]) -> SyncReport:
    """The device's session no longer exists for this learner (deleted, or its
    topic taken away): nothing can be recorded, and the device is told so."""
    return SyncReport(
        session_id=0,
        session_status="gone",
        answered_count=0,
        outcomes=[
            AnswerOutcome(key=str(a.key), status=SyncStatus.SESSION_GONE)
            for a in answers
        ],
    )


def _recorded_by_key(
    user_id: int, keys: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    rows = Attempt.objects.filter(user_id=user_id, client_key__in=keys).values_list(
        "client_key", "id", "session_id"
    )
    return {
        key: (attempt_id, session_id)
        for key, attempt_id, session_id in rows
        if key is not None
    }


def _duplicate(
    answer: OfflineAnswer, seen: tuple[int, int], session: QuizSession
) -> AnswerOutcome:
    attempt_id, session_id = seen
    if session_id != session.pk:  # a key reused for another session's slot
        return AnswerOutcome(key=str(answer.key), status=SyncStatus.INVALID)
    return AnswerOutcome(
        key=str(answer.key), status=SyncStatus.DUPLICATE, attempt_id=attempt_id
    )


def _record(
    session: QuizSession, answer: OfflineAnswer, question: Question | None
) -> AnswerOutcome:
    key = str(answer.key)
    if answer.problem or not _is_slot_of(session, answer):
        return AnswerOutcome(key=key, status=SyncStatus.INVALID)
    try:
        attempt = quiz_answer_record(
            session=session,
            position=answer.position,
            question_id=answer.question_id,
            choice=answer.choice,
            time_taken_ms=answer.elapsed_ms,
            answer_key=answer.answer_key,
            question=question,  # read once for the batch: its key grades
        )
    except AnswerRejected:
        return AnswerOutcome(key=key, status=_why_not_recorded(session, answer))
    changed = (
        question is not None
        and bool(answer.key_version)
        and answer.key_version != key_version(question)
    )
    return AnswerOutcome(
        key=key,
        status=SyncStatus.RECORDED,
        attempt_id=attempt.pk,
        key_changed=changed,
    )


def _is_slot_of(session: QuizSession, answer: OfflineAnswer) -> bool:
    return (
        0 <= answer.position < session.size
        and session.question_ids[answer.position] == answer.question_id
    )


def _why_not_recorded(session: QuizSession, answer: OfflineAnswer) -> str:
    """The slot was not claimed: by this very key in a concurrent request (the
    other tab's sync won the race), by another answer, or the session closed."""
    current = QuizSession.objects.get(pk=session.pk)
    if Attempt.objects.filter(
        user_id=session.user_id, client_key=answer.key, session_id=session.pk
    ).exists():
        return SyncStatus.DUPLICATE
    if answer.position < current.answered_count:
        return SyncStatus.ANSWERED_ELSEWHERE
    if current.status != QuizStatus.ACTIVE:
        return SyncStatus.SESSION_CLOSED
    return SyncStatus.NOT_YET
