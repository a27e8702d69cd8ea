"""Quiz sessions: start in one of the modes, answer slot by slot, finalize."""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from study import rounds
from study.ai import explanation_jobs, session_analysis
from study.db.prepared import prepared_cursor
from study.evidence.services import session_cards_compute_enqueue
from study.forecast.snapshots import forecast_snapshot_changed
from study.models import (
    UNSURE_CHOICE,
    Attempt,
    Feedback,
    Outcome,
    Question,
    QuizMode,
    QuizSession,
    QuizStatus,
    Topic,
)
from study.selectors import quiz_selection as sel
from study.selectors.exam_spec import (
    PaperFill,
    paper_fill,
    session_paper,
    topic_bank,
)
from study.selectors.results import (
    GRADING_FIELDS,
    MAX_SLOT,
    AnswerSlot,
    answer_slot_from,
    answer_slot_query,
)
from study.selectors.scores import paper_score
from study.services.bulk_insert import unnest_columns, unnest_insert_sql
from study.services.progress import progress_apply_session

logger = logging.getLogger(__name__)
ATTEMPT_FIELDS = tuple(f.attname for f in Attempt._meta.concrete_fields)
# What finalize reads of each answered question (progress_apply_session: its
# topic; mock_exam_score: its subject).
FINALIZE_FIELDS = ("id", "topic_id", "subject")
PAPER_GRADING_FIELDS = (
    "id",
    "topic_id",
    "subject",
    "correct_choice",
    "accepted_choices",
)
MAX_TIME_MS = 60 * 60 * 1000
# A submission that left the browser at zero may arrive a little late; answers
# it carries still count. After that only the saved drafts do.
SUBMIT_GRACE = timedelta(seconds=60)


class AnswerRejected(Exception):
    """An answer that cannot be recorded; the message is shown to the learner."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class AnswerKey:
    """What a device adds to an answer: its idempotency key and, for an answer
    that waited offline, when it was given (kept within the session's span)."""

    client_key: uuid.UUID
    given_at: datetime | None = None

    def attempt_fields(self, session: QuizSession) -> dict:
        fields: dict = {"client_key": self.client_key}
        if self.given_at is not None:
            fields["created_at"] = min(
                max(self.given_at, session.started_at), timezone.now()
            )
        return fields


@dataclass(frozen=True)
class QuizRequest:
    mode: str
    stage: str = ""
    size: int = 20
    round_key: str = ""
    subjects: tuple[str, ...] = ()
    per_subject: int | None = None  # mock: None takes the paper's size
    tab: str = ""
    feedback: str = Feedback.END  # a mock is always scored at submission
    # Leave out questions flagged 개정됨/삭제됨 (issue 26; the mock's default).
    skip_amended: bool = False


class MockTooLarge(sel.NotEnoughQuestions):
    def __init__(self, fill: PaperFill, wanted: int) -> None:
        super().__init__(fill.largest, wanted)
        short = ", ".join(
            _("%(subject)s %(n)d문제") % {"subject": name, "n": n}
            for name, n in fill.short_subjects
        )
        if fill.largest:
            tail = _("과목당 %(n)d문제까지 볼 수 있습니다.") % {"n": fill.largest}
        else:
            tail = _("문제가 없는 과목이 있어 모의고사를 볼 수 없습니다.")
        self.args = (
            _("과목당 %(wanted)d문제를 채울 수 없습니다 (%(short)s). %(tail)s")
            % {"wanted": wanted, "short": short, "tail": tail},
        )


def quiz_session_start(
    *, user: User, topic: Topic, request: QuizRequest, rng: sel.Rng = random
) -> QuizSession:
    """Pick the questions and create the session (raises NotEnoughQuestions)."""
    params: dict = {}
    if request.mode == QuizMode.STAGE:
        ids = sel.select_for_stage(
            user=user,
            topic=topic,
            stage=request.stage,
            size=request.size,
            rng=rng,
            skip_amended=request.skip_amended,
        )
        params = {"size": request.size}
    elif request.mode == QuizMode.ROUND:
        year, session = rounds.round_key_parse(request.round_key)
        ids = sel.select_for_round(
            topic=topic, year=year, session=session, skip_amended=request.skip_amended
        )
        params = {"round": request.round_key}
    elif request.mode == QuizMode.SUBJECT:
        ids = sel.select_for_subjects(
            user=user,
            topic=topic,
            subjects=request.subjects,
            size=request.size,
            rng=rng,
            skip_amended=request.skip_amended,
        )
        params = {"subjects": list(request.subjects), "size": request.size}
    elif request.mode == QuizMode.MOCK:
        return _mock_start(user=user, topic=topic, request=request, rng=rng)
    elif request.mode == QuizMode.REVIEW:
        ids = sel.select_for_review_tab(
            user=user, topic=topic, tab=request.tab, size=request.size
        )
        params = {"tab": request.tab}
    else:
        raise ValueError(f"unknown mode {request.mode}")
    if request.feedback == Feedback.EACH:
        params["feedback"] = Feedback.EACH
    if request.skip_amended:
        params["skip_amended"] = True
    return quiz_session_create(
        user=user,
        topic=topic,
        mode=request.mode,
        stage=request.stage if request.mode == QuizMode.STAGE else "",
        params=params,
        question_ids=ids,
    )


def quiz_session_create(**fields: Any) -> QuizSession:
    """A new session (quiz, mock, the day's plan) with the background task
    that computes the cards of its questions, the pages about to be seen:
    both written in one transaction, one commit (on the ORM broker the task
    is a row of it, study.jobs.queue)."""
    with transaction.atomic(savepoint=False):
        session = QuizSession.objects.create(**fields)
        session_cards_compute_enqueue(session=session)
    return session


def _mock_start(
    *, user: User, topic: Topic, request: QuizRequest, rng: sel.Rng
) -> QuizSession:
    bank = topic_bank(topic=topic)
    paper = bank.paper
    fill = paper_fill(topic=topic, paper=paper, cells=bank.cells)
    per_subject = request.per_subject or fill.default_size
    if not fill.available or per_subject > fill.largest or per_subject < 1:
        raise MockTooLarge(fill, max(per_subject, 1))
    ids = sel.select_for_mock(
        topic=topic,
        subjects=paper.subjects,
        per_subject=per_subject,
        rng=rng,
        skip_amended=request.skip_amended,
    )
    minutes = paper.minutes_for(per_subject)
    return quiz_session_create(
        user=user,
        topic=topic,
        mode=QuizMode.MOCK,
        params={
            "per_subject": per_subject,
            "subjects": {name: per_subject for name in paper.subjects},
            "minutes": minutes,
            "skip_amended": request.skip_amended,
        },
        question_ids=ids,
        deadline_at=timezone.now() + timedelta(minutes=minutes),
    )


def _outcome_for(question: Question, choice: int) -> tuple[str, int | None]:
    if choice == UNSURE_CHOICE:
        return Outcome.UNSURE, None
    return (Outcome.CORRECT if question.is_correct(choice) else Outcome.WRONG), choice


def quiz_answer_record(
    *,
    session: QuizSession,
    position: int,
    question_id: int,
    choice: int,
    time_taken_ms: int | None,
    answer_key: AnswerKey | None = None,
    question: Question | None = None,
) -> Attempt:
    """Record the answer of one slot; the last one finalizes the session.

    The slot is claimed and the attempt inserted in one statement (an UPDATE
    on answered_count feeding the INSERT), so a double click or a replay
    cannot record two attempts for one slot and an answer is never half
    written. Nothing else is written per answer: progress, patterns and
    schedules are derived from the attempts when the session is finalized
    (progress_apply_session). An answer_key (the device's idempotency key and
    the time the answer was given) is stored on the attempt; the database
    keeps each key once (a repeated key fails the whole statement: no slot is
    claimed). `question` is the answered question when the caller has read
    it already (quiz_answer_submit's statement); its key is all that is
    read of it.
    """
    if not 1 <= choice <= UNSURE_CHOICE:
        raise AnswerRejected(_("보기는 1~5 중에서 고르세요."))
    if session.is_timed:
        raise AnswerRejected(_("모의고사는 답안을 제출할 때 채점합니다."), status=409)
    if (
        not 0 <= position < session.size
        or session.question_ids[position] != question_id
    ):
        raise AnswerRejected(_("이 세션의 문제가 아닙니다."))
    if question is None or question.pk != question_id:
        question = Question.objects.only(*GRADING_FIELDS).get(pk=question_id)
    outcome, selected = _outcome_for(question, choice)
    attempt = Attempt(
        user_id=session.user_id,
        session=session,
        question=question,
        position=position,
        outcome=outcome,
        selected_choice=selected,
        time_taken_ms=_time_taken(session, time_taken_ms),
        **(answer_key.attempt_fields(session) if answer_key else {}),
    )
    # An answer given offline keeps its own time; the session was active now.
    offline = answer_key is not None and answer_key.given_at is not None
    activity_at = timezone.now() if offline else attempt.created_at
    last = position + 1 >= session.size
    # The last answer and the finalize commit together (or neither does).
    with transaction.atomic() if last else nullcontext():
        if not _claim_and_insert(session, attempt, activity_at=activity_at):
            raise _why_not_claimed(session, position)
        if last:
            quiz_session_finalize(session=session, status=QuizStatus.FINISHED)
    return attempt


# One statement, atomic without a transaction of its own: the conditional
# UPDATE claims the slot and the INSERT runs only on the row it returns.
_CLAIM_AND_INSERT = """
WITH claimed AS (
    UPDATE {session_table}
    SET answered_count = answered_count + 1, last_activity_at = %s
    WHERE id = %s AND status = %s AND answered_count = %s
    RETURNING id
)
INSERT INTO {attempt_table} ({columns})
SELECT {values} FROM claimed
RETURNING id
"""


def _claim_and_insert(
    session: QuizSession, attempt: Attempt, *, activity_at: datetime
) -> bool:
    """Claim the attempt's slot and insert it; False when the slot was taken."""
    fields, sql = _claim_and_insert_sql()
    values = [f.get_db_prep_save(f.pre_save(attempt, True), connection) for f in fields]
    params: list[Any] = [activity_at, session.pk, QuizStatus.ACTIVE, attempt.position]
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *values])
            row = cursor.fetchone()
    except IntegrityError as exc:  # the slot claim makes this a last line of defence
        raise AnswerRejected(_("이미 답한 문제입니다."), status=409) from exc
    if row is None:
        return False
    attempt.pk = row[0]
    attempt._state.adding = False
    session.answered_count = attempt.position + 1
    session.last_activity_at = activity_at
    return True


@cache
def _claim_and_insert_sql() -> tuple[list[models.Field], str]:
    """Every column of Attempt (a field added later is written too), built once."""
    fields = [
        f
        for f in Attempt._meta.concrete_fields
        if isinstance(f, models.Field) and not f.primary_key
    ]
    quote = connection.ops.quote_name
    sql = _CLAIM_AND_INSERT.format(
        session_table=quote(QuizSession._meta.db_table),
        attempt_table=quote(Attempt._meta.db_table),
        columns=", ".join(quote(f.column or f.attname) for f in fields),
        values=", ".join(f"%s::{f.cast_db_type(connection)}" for f in fields),
    )
    return fields, sql


@dataclass(frozen=True)
class AnswerRecorded:
    """An answer recorded by quiz_answer_submit: the session after it, the
    attempt with its graded question, and the question of the next slot."""

    session: QuizSession
    attempt: Attempt
    next_question: Question | None


def quiz_answer_submit(
    *,
    user: User,
    session_id: int,
    position: int,
    question_id: int,
    choice: int,
    time_taken_ms: int | None,
    answer_key: AnswerKey | None = None,
) -> AnswerRecorded:
    """Record an answer posted to the quiz (the web's answer path), in one
    statement when it can be: the slot read (selectors.results.answer_slot_query)
    with the claim and the insert of _claim_and_insert in front of it, the
    outcome graded in SQL from the key (_IS_CORRECT_SQL, held to
    Question.is_correct by tests).

    The statement claims only an answer quiz_answer_record would accept and
    record alone: a choice of 1–5 and a reported time, no offline time, an
    active untimed session of the user's own or shared topic, the slot's
    question, the slot the session is at, and not the last slot (that one is
    finalized in the same transaction). Anything else is left unclaimed, and
    the slot the same statement read goes to quiz_answer_record, which
    rejects it or records it exactly as before. A slot claimed concurrently
    fails the claim's condition on the row's newest version, so the answer
    goes there too and is rejected as answered. 404 for another user's
    session or a topic no longer visible.
    """
    fields, sql = _submit_sql()
    query = answer_slot_query()
    now = timezone.now()
    quick = (
        1 <= choice <= UNSURE_CHOICE
        and 0 <= position < MAX_SLOT
        and 0 < question_id < 2**63
        and 0 < session_id < 2**63
        and time_taken_ms is not None
        and 0 <= time_taken_ms <= MAX_TIME_MS
        and (answer_key is None or answer_key.given_at is None)
    )
    # Unclaimable values stay out of the typed columns (an int beyond their
    # range fails a statement that would only read).
    sid, slot_at, asked, picked = (
        (session_id, position, question_id, choice) if quick else (0, 0, 0, 0)
    )
    attempt = Attempt(
        user_id=user.pk,
        session_id=sid,
        question_id=asked,
        position=slot_at,
        outcome=Outcome.UNSURE,  # graded by the statement
        selected_choice=None if picked in (UNSURE_CHOICE, 0) else picked,
        time_taken_ms=time_taken_ms if quick and time_taken_ms is not None else 0,
        created_at=now,
        **({"client_key": answer_key.client_key} if answer_key else {}),
    )
    values = [
        f.get_db_prep_save(f.pre_save(attempt, True), connection)
        for f in fields
        if f.attname != "outcome"
    ]
    claim: list[Any] = [now, quick, sid, user.pk, QuizStatus.ACTIVE, slot_at]
    claim += [slot_at + 1, slot_at + 1, asked]
    grade: list[Any] = [picked == UNSURE_CHOICE, Outcome.UNSURE, picked, picked]
    grade += [Outcome.CORRECT, Outcome.WRONG]
    slot = query.params(session_id, user.pk, position)
    try:
        with prepared_cursor() as cursor:
            cursor.execute(sql, [*claim, *values, *grade, *slot])
            row = cursor.fetchone()
    except IntegrityError as exc:  # a key already recorded: nothing was claimed
        raise AnswerRejected(_("이미 답한 문제입니다."), status=409) from exc
    if row is None:
        raise Http404
    found: AnswerSlot = answer_slot_from(user, query, row)
    session = found.session
    attempt_id, outcome = row[query.width :]
    if attempt_id is None:  # not claimed here: the one answer service decides
        attempt = quiz_answer_record(
            session=session,
            position=position,
            question_id=question_id,
            choice=choice,
            time_taken_ms=time_taken_ms,
            answer_key=answer_key,
            question=found.answered,
        )
        return AnswerRecorded(session, attempt, found.next_question)
    attempt.pk = attempt_id
    attempt._state.adding = False
    attempt.outcome = outcome
    attempt.session = session
    assert found.answered is not None  # the claim joined it
    attempt.question = found.answered
    session.answered_count = position + 1
    session.last_activity_at = now
    return AnswerRecorded(session, attempt, found.next_question)


# Question.is_correct in SQL, on the claimed row's key (k): the accepted
# choices when any are listed ("1,3"), otherwise the one key.
_IS_CORRECT_SQL = (
    "CASE WHEN k.accepted_choices <> '' "
    "THEN %s = ANY(string_to_array(k.accepted_choices, ',')::int[]) "
    "ELSE k.correct_choice = %s END"
)

# The claim of _CLAIM_AND_INSERT with quiz_answer_record's checks in its
# condition, the insert graded from the key the claim returns, and the slot
# read (answer_slot_query) after them. The read sees the rows as they were
# before the statement; the claim sees the newest version of the session.
_SUBMIT = """
WITH claimed AS (
    UPDATE {session_table} u
    SET answered_count = u.answered_count + 1, last_activity_at = %s
    FROM {topic_table} tk, {question_table} k
    WHERE %s AND u.id = %s AND u.user_id = %s AND u.status = %s
      AND u.deadline_at IS NULL AND u.answered_count = %s
      AND cardinality(u.question_ids) > %s
      AND k.id = u.question_ids[%s] AND k.id = %s
      AND tk.id = u.topic_id AND (tk.owner_id = u.user_id OR tk.is_shared)
    RETURNING k.correct_choice, k.accepted_choices
), recorded AS (
    INSERT INTO {attempt_table} ({columns})
    SELECT {values} FROM claimed k
    RETURNING id, outcome
)
SELECT {slot_columns}, r.id, r.outcome
FROM {slot_tables} LEFT JOIN recorded r ON true
WHERE {slot_where}
"""


@cache
def _submit_sql() -> tuple[list[models.Field], str]:
    fields, _sql = _claim_and_insert_sql()
    quote = connection.ops.quote_name
    values = [
        f"CASE WHEN %s THEN %s WHEN {_IS_CORRECT_SQL} THEN %s ELSE %s END"
        if f.attname == "outcome"
        else f"%s::{f.cast_db_type(connection)}"
        for f in fields
    ]
    outcome_at = [f.attname for f in fields].index("outcome")
    if outcome_at != len(fields) - 1:  # the grade's parameters come last
        values.append(values.pop(outcome_at))
        fields = [*fields[:outcome_at], *fields[outcome_at + 1 :], fields[outcome_at]]
    query = answer_slot_query()
    sql = _SUBMIT.format(
        session_table=quote(QuizSession._meta.db_table),
        topic_table=quote(Topic._meta.db_table),
        question_table=quote(Question._meta.db_table),
        attempt_table=quote(Attempt._meta.db_table),
        columns=", ".join(quote(f.column or f.attname) for f in fields),
        values=", ".join(values),
        slot_columns=query.columns,
        slot_tables=query.tables,
        slot_where=query.where,
    )
    return fields, sql


def _why_not_claimed(session: QuizSession, position: int) -> AnswerRejected:
    current = QuizSession.objects.get(pk=session.pk)
    if current.status != QuizStatus.ACTIVE:
        return AnswerRejected(_("이미 끝난 세션입니다."), status=409)
    if position < current.answered_count:
        return AnswerRejected(_("이미 답한 문제입니다."), status=409)
    return AnswerRejected(_("아직 풀 차례가 아닌 문제입니다."), status=409)


def _time_taken(session: QuizSession, reported_ms: int | None) -> int:
    if reported_ms is not None and 0 <= reported_ms <= MAX_TIME_MS:
        return reported_ms
    elapsed = timezone.now() - session.last_activity_at
    return min(MAX_TIME_MS, max(0, int(elapsed.total_seconds() * 1000)))


@transaction.atomic
def quiz_session_finalize(*, session: QuizSession, status: str) -> QuizSession:
    """Close the session, upsert progress and score a mock."""
    locked = QuizSession.objects.select_for_update().get(pk=session.pk)
    if locked.finished_at is not None:
        return locked
    _finalize_locked(locked, status)
    session.refresh_from_db()
    return locked


def _finalize_locked(
    locked: QuizSession, status: str, attempts: list[Attempt] | None = None
) -> None:
    """quiz_session_finalize's work on a session row this transaction holds
    locked and has not finished; its unsaved changes are saved with it.
    `attempts`: every attempt of the session in position order, each with its
    question's topic and subject, when the caller has just written them (a
    mock's paper); read here otherwise."""
    if attempts is None:
        # Of each question only what progress (its topic) and a mock's score
        # (its subject) read: a mock's 120 full question rows cost more than
        # the rest.
        attempts = list(
            locked.attempts.select_related("question")
            .only(*ATTEMPT_FIELDS, *(f"question__{name}" for name in FINALIZE_FIELDS))
            .order_by("position")
        )
    progress_apply_session(user_id=locked.user_id, attempts=attempts)
    locked.status = status
    locked.finished_at = timezone.now()
    if locked.mode == QuizMode.MOCK:
        subjects = [a.question.subject for a in attempts]
        locked.result = mock_exam_score(
            attempts, paper=session_paper(session=locked, subjects=subjects)
        )
    locked.save()
    forecast_snapshot_changed(user_id=locked.user_id, topic_id=locked.topic_id)
    _enqueue_ai_work(locked, attempts)


def _enqueue_ai_work(session: QuizSession, attempts: list[Attempt]) -> None:
    """Prefetch explanations of wrong/unsure answers and queue the session analysis.
    Best effort: a failure here never breaks finalize (its savepoint rolls back)."""
    missed = missed_in_card_order(attempts)
    try:
        with transaction.atomic():
            explanation_jobs.explanation_jobs_enqueue(
                user_id=session.user_id, question_ids=missed
            )
            if attempts:
                session_analysis.session_job_enqueue(session=session)
    except Exception:
        logger.exception("could not enqueue AI work for session %s", session.pk)


def missed_in_card_order(attempts: list[Attempt]) -> list[int]:
    """Question ids in the order the results page shows their cards: wrong
    answers, then 모르겠음, each in question order. Prefetch runs in this order."""
    rank: dict[str, int] = {Outcome.WRONG: 0, Outcome.UNSURE: 1}
    missed = [a for a in attempts if a.outcome in rank]
    missed.sort(key=lambda a: (rank[a.outcome], a.position))
    return [a.question_id for a in missed]


def session_explanations_backfill(*, session: QuizSession) -> int:
    """The learner's explicit request (a POST) to queue what is still missing
    (≤ 30, in card order; recent failures wait out their backoff)."""
    missed = missed_in_card_order(list(session.attempts.order_by("position")))
    try:
        with transaction.atomic():
            return explanation_jobs.explanation_jobs_enqueue(
                user_id=session.user_id,
                question_ids=missed,
                max_count=explanation_jobs.BACKFILL_MAX,
            )
    except Exception:
        logger.exception("explanation backfill for session %s failed", session.pk)
        return 0


def quiz_session_abandon(*, session: QuizSession) -> QuizSession:
    """Stop early; what was answered still counts (a mock is submitted as saved)."""
    if session.status != QuizStatus.ACTIVE:
        raise AnswerRejected(_("이미 끝난 세션입니다."), status=409)
    if session.is_timed:
        return mock_submit(session=session, answers={})
    return quiz_session_finalize(session=session, status=QuizStatus.ABANDONED)


def mock_exam_score(attempts: list[Attempt], *, paper: Sequence[str] = ()) -> dict:
    """Per-subject scores out of 100 and the pass decision (study.selectors.scores)."""
    rows = [(a.question.subject, a.outcome == Outcome.CORRECT) for a in attempts]
    return paper_score(rows, paper=paper).as_dict()


def _check_open(session: QuizSession, *, grace: timedelta = timedelta(0)) -> None:
    if session.status != QuizStatus.ACTIVE:
        raise AnswerRejected(_("이미 제출한 시험입니다."), status=409)
    if session.deadline_at and timezone.now() > session.deadline_at + grace:
        raise AnswerRejected(_("시험 시간이 끝났습니다. 제출해 주세요."), status=409)


@transaction.atomic
def mock_draft_save(
    *, session: QuizSession, position: int, choice: int | None, marked: bool | None
) -> QuizSession:
    """Keep an answer (choice 0 clears it) or a review mark until submission.
    Nothing is scored here and nothing about correctness is returned."""
    if not session.is_timed:
        raise AnswerRejected(_("모의고사가 아닙니다."))
    locked = QuizSession.objects.select_for_update().get(pk=session.pk)
    _check_open(locked)
    if not 0 <= position < locked.size:
        raise AnswerRejected(_("이 시험의 문제가 아닙니다."))
    if choice is not None:
        if not 0 <= choice <= UNSURE_CHOICE:
            raise AnswerRejected(_("보기는 1~5 중에서 고르세요."))
        if choice:
            locked.drafts[str(position)] = choice
        else:
            locked.drafts.pop(str(position), None)
    if marked is not None:
        rest = [p for p in locked.marked if p != position]
        locked.marked = sorted(rest + [position]) if marked else rest
    locked.last_activity_at = timezone.now()
    locked.save(update_fields=["drafts", "marked", "last_activity_at"])
    return locked


def mock_submit(*, session: QuizSession, answers: dict[int, int]) -> QuizSession:
    """Score the paper once: answers sent with the submission (until shortly after
    the deadline) over the saved drafts; unanswered slots count as 모르겠음.
    A second submission finds the session closed and records nothing."""
    with transaction.atomic():
        locked = QuizSession.objects.select_for_update().get(pk=session.pk)
        if locked.status != QuizStatus.ACTIVE or not locked.is_timed:
            return locked
        choices = {int(k): v for k, v in locked.drafts.items()}
        deadline = locked.deadline_at
        if deadline is not None and timezone.now() <= deadline + SUBMIT_GRACE:
            choices.update(
                {p: c for p, c in answers.items() if 1 <= c <= UNSURE_CHOICE}
            )
        attempts = _record_paper(locked, choices)
        # The row is locked and still open: finish it in the same UPDATE that
        # keeps the paper's answers (no second lock, read or write of it), on
        # the attempts just written (no second read of the 120 answers).
        _finalize_locked(locked, QuizStatus.FINISHED, attempts)
    # The caller's copy as stored: the row read under the lock, saved whole by
    # the finish (no second read of it).
    for field in QuizSession._meta.concrete_fields:
        setattr(session, field.attname, getattr(locked, field.attname))
    return locked


def _record_paper(session: QuizSession, choices: dict[int, int]) -> list[Attempt]:
    """Write the paper's answers (a slot left blank is 모르겠음) and return the
    attempts in position order, each with its question's grading fields."""
    # Grading reads the key; nothing else of the 120 questions is needed here.
    questions = Question.objects.only(*PAPER_GRADING_FIELDS).in_bulk(
        session.question_ids
    )
    elapsed = timezone.now() - session.started_at
    per_question = _time_taken_split(elapsed, session.size)
    attempts = []
    for position, qid in enumerate(session.question_ids):
        outcome, selected = _outcome_for(
            questions[qid], choices.get(position, UNSURE_CHOICE)
        )
        attempts.append(
            _new_attempt(
                questions[qid],
                user_id=session.user_id,
                session_id=session.pk,
                question_id=qid,
                position=position,
                outcome=outcome,
                selected_choice=selected,
                time_taken_ms=per_question,
            )
        )
    _insert_attempts(attempts)
    session.answered_count = session.size  # saved as the session is finished
    session.drafts = {str(p): c for p, c in choices.items()}
    return attempts


@cache
def _attempt_layout() -> tuple[tuple[str, models.Field], ...]:
    return tuple(
        (f.attname, f)
        for f in Attempt._meta.concrete_fields
        if isinstance(f, models.Field)
    )


def _new_attempt(question: Question, **values: Any) -> Attempt:
    """An unsaved attempt built positionally (Model.__init__'s fast path, half
    the time of keywords and foreign-key objects for a paper's 120), the
    fields not given at their defaults, its question's fields at hand."""
    attempt = Attempt(
        *(
            values[name] if name in values else field.get_default()
            for name, field in _attempt_layout()
        )
    )
    Attempt._meta.get_field("question").set_cached_value(attempt, question)
    return attempt


def _insert_attempts(attempts: list[Attempt]) -> None:
    """One INSERT … SELECT FROM unnest(…) for the paper; each attempt gets its id."""
    fields, sql = unnest_insert_sql(Attempt, returning=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, unnest_columns(fields, attempts))
        ids = [row[0] for row in cursor.fetchall()]
    for attempt, pk in zip(attempts, ids, strict=True):
        attempt.pk = pk
        attempt._state.adding = False


def _time_taken_split(elapsed: timedelta, size: int) -> int:
    total_ms = int(elapsed.total_seconds() * 1000)
    return min(MAX_TIME_MS, max(0, total_ms // max(1, size)))
