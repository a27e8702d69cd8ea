"""Live state of AI work for the cards that show it: explanations, the session
analysis and subject notes. One honest answer per card: 대기 중 (place in
line), 생성 중 (elapsed), 준비됨, 실패 (plain reason; retry time or a button),
자료 부족 (what to upload). Time estimates come from recently measured LLM
latency, never a fixed promise."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from study.ai.explanations import FAILURE_META
from study.ai.guard import GuardReason
from study.jobs.runner import jobs_due_in_order, spec_for
from study.models import (
    AIExplanationStatus,
    Attempt,
    JobError,
    JobKind,
    JobStatus,
    Question,
    QuestionJob,
    QuizSession,
    SessionAnalysis,
    SessionJob,
    SubjectNote,
    SubjectNoteStatus,
)
from study.models.jobs import ACTIVE
from study.services.ai_budget import BUDGET_EXCEEDED

QUEUE_LOOKAHEAD = 500  # places beyond this show as "500번째 이후"
LATENCY_SAMPLE = 20
# The latency sample is read among this many most recently created jobs of a
# kind: a bounded read (the primary key's last entries), whatever the history.
LATENCY_WINDOW = 1000


# Why the guard refused a text, in plain words (a job's payload and a note's
# error parameters keep the code as `guard_reason`; the message is chosen
# when the card is shown). A code not listed here reads as guard_fail's label.
GUARD_REASON_MESSAGES: dict[str, Any] = {
    GuardReason.TEXT_NAMES_OTHER_CHOICE: gettext_lazy(
        "정답이 아닌 보기를 답으로 들어 보여 주지 않습니다"
    ),
    GuardReason.TEXT_DENIES_KEY: gettext_lazy(
        "정답인 보기를 틀렸다고 해 보여 주지 않습니다"
    ),
    GuardReason.TEXT_NOT_KEY: gettext_lazy(
        "어느 보기가 정답인지 밝히지 않아 보여 주지 않습니다"
    ),
    GuardReason.RESULT_NOT_KEY: gettext_lazy(
        "계산한 값이 정답 보기의 값과 달라 보여 주지 않습니다"
    ),
    GuardReason.UNGROUNDED: gettext_lazy(
        "인용한 조문이 올린 자료에 없거나 보기와 관계없어 보여 주지 않습니다"
    ),
    GuardReason.NO_REASONING: gettext_lazy(
        "문제와 보기를 되풀이할 뿐 이유를 쓰지 않아 보여 주지 않습니다"
    ),
    GuardReason.NOTE_NAMES_ANSWER: gettext_lazy(
        "분야 설명이 어느 문제의 답을 말하고 있어 보여 주지 않습니다"
    ),
    GuardReason.ANSWER_NOT_KEY: gettext_lazy(
        "LLM이 고른 답이 정답과 달라 보여 주지 않습니다"
    ),
    GuardReason.CHECK_DISAGREES: gettext_lazy(
        "정답을 알려 주지 않고 물었을 때 LLM이 다른 보기를 골라 보여 주지 않습니다"
    ),
    GuardReason.UNVERIFIED_WITHOUT_EVIDENCE: gettext_lazy(
        "근거 자료가 없고 따로 확인해도 정답이 맞다고 나오지 않아 보여 주지 않습니다"
    ),
    GuardReason.TEXT_CONTRADICTS_CARD: gettext_lazy(
        "근거 카드의 조문 대조와 어긋나는 내용이 있어 보여 주지 않습니다"
    ),
    GuardReason.KEY_MISSTATED: gettext_lazy(
        "정답 보기의 내용을 잘못 옮겨 적어 보여 주지 않습니다"
    ),
    GuardReason.TEXT_ECHOES_PROMPT: gettext_lazy(
        "LLM에 준 지시문을 그대로 옮겨 적어 보여 주지 않습니다"
    ),
    GuardReason.PASSAGE_MISATTRIBUTED: gettext_lazy(
        "조문의 문구를 다른 조문이나 다른 용어의 것으로 옮겨 적어 보여 주지 않습니다"
    ),
}


def plain_reason(code: str, guard_reason: str | None = "") -> str:
    """The plain reason a card shows for a job's error code; a refusal by
    the guard says which of its checks refused the text (`guard_reason`)."""
    if code == JobError.GUARD_FAIL and guard_reason in GUARD_REASON_MESSAGES:
        return str(GUARD_REASON_MESSAGES[guard_reason])
    if code in JobError.values:
        return str(JobError(code).label)
    return str(gettext_lazy("알 수 없는 이유로 실패했습니다"))


def job_reason(job: QuestionJob | SessionJob) -> str:
    """The plain reason of a job's error: its code, and the guard's reason
    from its payload (read as the `guard_reason` annotation where the query
    left the payload out, see `with_guard_reason`)."""
    if hasattr(job, "guard_reason"):
        guard = job.guard_reason
    elif "payload" in job.get_deferred_fields():
        guard = ""
    else:
        guard = job.payload.get("guard_reason", "")
    return plain_reason(job.error_code, guard)


def with_guard_reason(jobs: Any) -> Any:
    """Jobs with the guard's reason read from the payload, not the payload."""
    return jobs.annotate(guard_reason=KeyTextTransform("guard_reason", "payload"))


class CardState(StrEnum):
    """The one state an AI card shows (templates compare the value)."""

    QUEUED = "queued"  # 대기 중: place in line, or the retry time and reason
    RUNNING = "running"  # 생성 중: elapsed and the expected remainder
    READY = "ready"
    STALE = "stale"  # an explanation of the question before an edit
    FAILED = "failed"  # a plain reason, and 다시 시도
    MISSING = "missing"  # 자료 부족: what to upload
    HELD = "held"  # not made ahead: the viewer's AI budget is spent
    NONE = "none"  # never asked for


@dataclass
class AIState:
    state: CardState
    place: int | None = None  # 1 = next in line
    elapsed_s: int | None = None
    eta_s: int | None = None
    retry_at: datetime | None = None
    reason: str = ""

    @property
    def active(self) -> bool:
        return self.state in (CardState.QUEUED, CardState.RUNNING)


# The median is an estimate shown beside a spinner; each process keeps it
# this long (a read looked at every completed job before it was bounded to the
# newest LATENCY_WINDOW: 10-30 ms at 50,000 jobs, on each question page).
LATENCY_MEMO_S = 30.0
_latency_memo: tuple[float, float | None] | None = None  # (read at, median)


def recent_llm_latency_s() -> float | None:
    """Median duration of the latest LLM calls that finished, or None (read
    at most once per LATENCY_MEMO_S in a process)."""
    global _latency_memo
    now = time.monotonic()
    if _latency_memo is not None and now - _latency_memo[0] < LATENCY_MEMO_S:
        return _latency_memo[1]
    median = _recent_llm_latency_read()
    _latency_memo = (now, median)
    return median


def _recent_llm_latency_read() -> float | None:
    """Only the LATENCY_WINDOW newest jobs of each kind are looked at, so a
    read stays the same size as the history grows (ordering every completed
    job by completed_at was a scan of the whole table: 38,670 rows at full
    scale, 779 buffers; the window is a range of the primary key, 37)."""
    samples = []
    for model in (QuestionJob, SessionJob):
        # The oldest id of the window (0 while there are fewer jobs): a range
        # of the primary key, which the planner walks instead of the table.
        oldest = model.objects.order_by("-pk").values("pk")[
            LATENCY_WINDOW - 1 : LATENCY_WINDOW
        ]
        rows = (
            model.objects.filter(
                pk__gte=Coalesce(Subquery(oldest), 0),
                status=JobStatus.COMPLETED,
                payload__has_key="latency_s",
            )
            .order_by("-completed_at")
            .values_list("payload__latency_s", flat=True)[:LATENCY_SAMPLE]
        )
        samples += [float(v) for v in rows if v is not None]
    return statistics.median(samples) if samples else None


class Queue:
    """The due pending jobs of every kind in the order the runner takes them.
    Read lazily: a page with nothing queued or running asks nothing."""

    def __init__(self) -> None:
        self._place: dict | None = None
        self._latency_s: float | None = None
        self._latency_read = False
        self.slots = max(1, int(settings.LLM_CONCURRENCY))

    @property
    def latency_s(self) -> float | None:
        if not self._latency_read:
            self._latency_s, self._latency_read = recent_llm_latency_s(), True
        return self._latency_s

    @property
    def place(self) -> dict:
        if self._place is None:
            self._place = self._read_places()
        return self._place

    def _read_places(self) -> dict[tuple[str, int], int]:
        """(kind, question or session id) → place, in the runner's own order."""
        due = jobs_due_in_order(limit=QUEUE_LOOKAHEAD)
        return {job.key: n for n, job in enumerate(due, start=1)}

    def queued(self, key: tuple[str, int]) -> AIState:
        place = self.place.get(key)
        eta = None
        if self.latency_s is not None:
            ahead = place if place is not None else QUEUE_LOOKAHEAD
            eta = int(self.latency_s * ahead / self.slots)
        return AIState(CardState.QUEUED, place=place, eta_s=eta)

    def running(self, started: datetime | None) -> AIState:
        elapsed = int((timezone.now() - started).total_seconds()) if started else 0
        eta = None
        if self.latency_s is not None:
            eta = max(0, int(self.latency_s - elapsed))
        return AIState(CardState.RUNNING, elapsed_s=elapsed, eta_s=eta)


def _job_state(job: QuestionJob | SessionJob, queue: Queue) -> AIState:
    if job.status == JobStatus.PROCESSING:
        return queue.running(job.started_at)
    if job.run_after and job.run_after > timezone.now():
        return AIState(
            CardState.QUEUED,
            retry_at=job.run_after,
            reason=job_reason(job),
        )
    state = queue.queued(_queue_key(job))
    if job.error_code:  # a retry that is due again
        state.reason = job_reason(job)
    return state


def _queue_key(job: QuestionJob | SessionJob) -> tuple[str, int]:
    spec = spec_for(job)
    return (spec.name, getattr(job, spec.about))


def explanation_states(
    *, attempts: list[Attempt], queue: Queue | None = None
) -> dict[int, AIState]:
    """question id → its AI explanation state."""
    questions = {a.question_id: a.question for a in attempts}
    if not questions:
        return {}
    queue = queue or Queue()
    jobs = QuestionJob.objects.filter(
        question_id__in=questions, kind=JobKind.EXPLANATION
    ).order_by("question_id", "-created_at", "-id")
    active: dict[int, QuestionJob] = {}
    latest: dict[int, QuestionJob] = {}
    # One query: the active and the latest ended.
    for job in with_guard_reason(jobs.defer("payload")):
        if job.status in ACTIVE:
            active.setdefault(job.question_id, job)
        else:
            latest.setdefault(job.question_id, job)
    viewer = attempts[0].user_id
    return {
        qid: explanation_state(
            question, active.get(qid), latest.get(qid), queue=queue, viewer_id=viewer
        )
        for qid, question in questions.items()
    }


def explanation_state(
    question: Question,
    active_job: QuestionJob | None,
    latest_job: QuestionJob | None,
    *,
    queue: Queue,
    viewer_id: int | None = None,
) -> AIState:
    status = question.ai_explanation_status
    if status == AIExplanationStatus.READY:
        return AIState(CardState.READY)
    if status == AIExplanationStatus.PENDING:  # a click or a job is generating
        return queue.running(question.ai_explanation_started_at)
    if active_job is not None:
        return _job_state(active_job, queue)
    if status == AIExplanationStatus.STALE:
        return AIState(CardState.STALE)
    if status == AIExplanationStatus.SKIPPED:
        return AIState(CardState.MISSING)
    if status == AIExplanationStatus.FAILED:
        return AIState(CardState.FAILED, reason=_failure_reason(question, latest_job))
    if _held_for_budget(latest_job, viewer_id):
        return AIState(CardState.HELD, reason=plain_reason(BUDGET_EXCEEDED))
    return AIState(CardState.NONE)


def _failure_reason(question: Question, latest_job: QuestionJob | None) -> str:
    """Why the question's last generation failed: as recorded on the question
    (a click's or a job's), else as its latest job says (rows from before the
    question kept it)."""
    failure = (question.ai_explanation_meta or {}).get(FAILURE_META)
    if isinstance(failure, dict) and failure.get("code"):
        return plain_reason(str(failure["code"]), str(failure.get("guard_reason", "")))
    return job_reason(latest_job) if latest_job else plain_reason("")


def _held_for_budget(job: QuestionJob | None, viewer_id: int | None) -> bool:
    """The viewer's own prefetch was skipped because their budget was spent
    (another learner's budget is no reason to show them)."""
    return (
        job is not None
        and viewer_id is not None
        and job.user_id == viewer_id
        and job.status == JobStatus.SKIPPED
        and job.error_code == BUDGET_EXCEEDED
    )


def explanation_state_one(question: Question) -> AIState:
    jobs = QuestionJob.objects.filter(
        question=question, kind=JobKind.EXPLANATION
    ).order_by("-created_at", "-id")
    return explanation_state(
        question,
        jobs.filter(status__in=ACTIVE).first(),
        jobs.exclude(status__in=ACTIVE).first(),
        queue=Queue(),
    )


def session_analysis_state(
    *, session: QuizSession, queue: Queue | None = None
) -> tuple[SessionAnalysis | None, AIState]:
    """The session's analysis and its card's state (`queue`: the page's Queue,
    shared with explanation_states so the line is read once per page)."""
    analysis = SessionAnalysis.objects.filter(session=session).first()
    if analysis is not None:
        return analysis, AIState(CardState.READY)
    job = SessionJob.objects.filter(session=session).order_by("-created_at").first()
    if job is None:
        return None, AIState(CardState.NONE)
    if job.status in ACTIVE:
        return None, _job_state(job, queue or Queue())
    if job.status == JobStatus.FAILED:
        return None, AIState(CardState.FAILED, reason=job_reason(job))
    if job.status == JobStatus.SKIPPED:
        return None, AIState(CardState.MISSING, reason=job_reason(job))
    return None, AIState(CardState.NONE)


def subject_note_active_job(*, question: Question) -> QuestionJob | None:
    """The queued or running job for this question's note (asked for from any
    question of the same subject and scope)."""
    return (
        QuestionJob.objects.filter(
            kind=JobKind.SUBJECT_NOTE,
            status__in=ACTIVE,
            question__topic_id=question.topic_id,
            question__subject=question.subject,
            question__scope=question.scope,
        )
        .order_by("-created_at")
        .first()
    )


def subject_note_state(*, question: Question, note: SubjectNote | None) -> AIState:
    job = subject_note_active_job(question=question)
    if job is not None and not (note and note.status == SubjectNoteStatus.PENDING):
        return _job_state(job, Queue())
    if note is None:
        return AIState(CardState.NONE)
    if note.status == SubjectNoteStatus.PENDING:
        return Queue().running(note.started_at)
    if note.status == SubjectNoteStatus.READY:
        return AIState(CardState.READY)
    if note.status == SubjectNoteStatus.SKIPPED:
        return AIState(CardState.MISSING, reason=subject_note_reason(note))
    if note.status == SubjectNoteStatus.FAILED:
        return AIState(CardState.FAILED, reason=subject_note_reason(note))
    return AIState(CardState.NONE)


def subject_note_reason(note: SubjectNote) -> str:
    """Why a note is not ready, in the reader's language (stored as a code)."""
    code = note.error_code
    if code == JobError.GUARD_FAIL:
        guard = note.error_params.get("guard_reason")
        if guard in GUARD_REASON_MESSAGES:
            return str(GUARD_REASON_MESSAGES[guard])
        return gettext("AI 설명이 검사를 통과하지 못해 저장하지 않았습니다")
    if code == JobError.EVIDENCE_MISSING:
        return gettext("자료 부족: 이 과목의 자료나 해설된 문제가 없습니다.")
    if not code and note.error_params.get("text"):
        return str(note.error_params["text"])  # written before codes were stored
    return gettext("생성하지 못했습니다: %(exc)s") % {"exc": plain_reason(code)}


def subject_note_context(*, question: Question) -> dict[str, Any]:
    """What the subject note card needs besides the question."""
    note = SubjectNote.objects.filter(
        topic_id=question.topic_id, subject=question.subject, scope=question.scope
    ).first()
    return {
        "note": note,
        "st": subject_note_state(question=question, note=note),
        "note_reason": subject_note_reason(note) if note is not None else "",
        "latency_s": recent_llm_latency_s(),
    }


class AIPanelContext(TypedDict):
    st: AIState
    latency_s: float | None


def ai_panel_context(question: Question) -> AIPanelContext:
    """What the AI explanation panel needs besides the question."""
    return {
        "st": explanation_state_one(question),
        "latency_s": recent_llm_latency_s(),
    }
