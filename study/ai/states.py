"""Live state of AI work for the cards that show it: explanations, the session
analysis and subject notes. One honest answer per card: 대기 중 (place in
line), 생성 중 (elapsed), 준비됨, 실패 (plain reason; retry time or a button),
자료 부족 (what to upload). Time estimates come from recently measured LLM
latency, never a fixed promise."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from study.models import (
    AIExplanationStatus,
    Attempt,
    JobKind,
    JobStatus,
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

REASONS = {
    "llm_timeout": gettext_lazy("LLM이 제한 시간 안에 답하지 않았습니다"),
    "gate_timeout": gettext_lazy("LLM이 다른 요청을 처리하느라 차례가 오지 않았습니다"),
    "llm_http_error": gettext_lazy("LLM 서버가 오류로 답했습니다"),
    "parse_fail": gettext_lazy("LLM의 답이 약속한 형식이 아니었습니다"),
    "guard_fail": gettext_lazy("LLM이 쓴 해설이 정답과 맞지 않아 보여 주지 않습니다"),
    "content_changed": gettext_lazy("생성 중에 문제가 수정되었습니다"),
    "stale_processing": gettext_lazy("작업하던 워커가 멈췄습니다"),
    "not_configured": gettext_lazy("LLM 서버가 설정되어 있지 않습니다"),
    "budget_exceeded": gettext_lazy("이 계정의 AI 사용 한도를 다 썼습니다"),
    "unknown": gettext_lazy("예상하지 못한 오류가 났습니다"),
}


def plain_reason(code: str) -> str:
    return str(REASONS.get(code, gettext_lazy("알 수 없는 이유로 실패했습니다")))


@dataclass
class AIState:
    # queued | running | ready | stale | failed | missing | held (the
    # viewer's AI budget is spent) | none
    state: str
    place: int | None = None  # 1 = next in line
    elapsed_s: int | None = None
    eta_s: int | None = None
    retry_at: datetime | None = None
    reason: str = ""

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


def recent_llm_latency_s() -> float | None:
    """Median duration of the latest LLM calls that finished, or None."""
    samples = []
    for model in (QuestionJob, SessionJob):
        rows = (
            model.objects.filter(
                status=JobStatus.COMPLETED, payload__has_key="latency_s"
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

    def _read_places(self) -> dict:
        now = timezone.now()
        due = Q(status=JobStatus.PENDING) & (
            Q(run_after__isnull=True) | Q(run_after__lte=now)
        )
        rows = [
            (created, 0, pk, ("q", qid))
            for pk, created, qid in QuestionJob.objects.filter(due)
            .filter(kind=JobKind.EXPLANATION)
            .order_by("created_at", "id")
            .values_list("id", "created_at", "question_id")[:QUEUE_LOOKAHEAD]
        ]
        rows += [
            (created, 1, pk, ("s", sid))
            for pk, created, sid in SessionJob.objects.filter(due)
            .order_by("created_at", "id")
            .values_list("id", "created_at", "session_id")[:QUEUE_LOOKAHEAD]
        ]
        rows.sort(key=lambda r: r[:3])
        return {row[3]: n for n, row in enumerate(rows, start=1)}

    def queued(self, key) -> AIState:
        place = self.place.get(key)
        eta = None
        if self.latency_s is not None:
            ahead = place if place is not None else QUEUE_LOOKAHEAD
            eta = int(self.latency_s * ahead / self.slots)
        return AIState("queued", place=place, eta_s=eta)

    def running(self, started: datetime | None) -> AIState:
        elapsed = int((timezone.now() - started).total_seconds()) if started else 0
        eta = None
        if self.latency_s is not None:
            eta = max(0, int(self.latency_s - elapsed))
        return AIState("running", elapsed_s=elapsed, eta_s=eta)


def _job_state(job, queue: Queue) -> AIState:
    if job.status == JobStatus.PROCESSING:
        return queue.running(job.started_at)
    if job.run_after and job.run_after > timezone.now():
        return AIState(
            "queued", retry_at=job.run_after, reason=plain_reason(job.error_code)
        )
    state = queue.queued(_queue_key(job))
    if job.error_code:  # a retry that is due again
        state.reason = plain_reason(job.error_code)
    return state


def _queue_key(job):
    if isinstance(job, SessionJob):
        return ("s", job.session_id)
    return ("q", job.question_id)


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
    for job in jobs.defer("payload"):  # one query: the active and the latest ended
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
    question, active_job, latest_job, *, queue: Queue, viewer_id: int | None = None
) -> AIState:
    status = question.ai_explanation_status
    if status == AIExplanationStatus.READY:
        return AIState("ready")
    if status == AIExplanationStatus.PENDING:  # a click or a job is generating
        return queue.running(question.ai_explanation_started_at)
    if active_job is not None:
        return _job_state(active_job, queue)
    if status == AIExplanationStatus.STALE:
        return AIState("stale")
    if status == AIExplanationStatus.SKIPPED:
        return AIState("missing")
    if status == AIExplanationStatus.FAILED:
        code = latest_job.error_code if latest_job else ""
        return AIState("failed", reason=plain_reason(code))
    if _held_for_budget(latest_job, viewer_id):
        return AIState("held", reason=plain_reason(BUDGET_EXCEEDED))
    return AIState("none")


def _held_for_budget(job, viewer_id: int | None) -> bool:
    """The viewer's own prefetch was skipped because their budget was spent
    (another learner's budget is no reason to show them)."""
    return (
        job is not None
        and viewer_id is not None
        and job.user_id == viewer_id
        and job.status == JobStatus.SKIPPED
        and job.error_code == BUDGET_EXCEEDED
    )


def explanation_state_one(question) -> AIState:
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
    *, session: QuizSession
) -> tuple[SessionAnalysis | None, AIState]:
    analysis = SessionAnalysis.objects.filter(session=session).first()
    if analysis is not None:
        return analysis, AIState("ready")
    job = SessionJob.objects.filter(session=session).order_by("-created_at").first()
    if job is None:
        return None, AIState("none")
    if job.status in ACTIVE:
        return None, _job_state(job, Queue())
    if job.status == JobStatus.FAILED:
        return None, AIState("failed", reason=plain_reason(job.error_code))
    if job.status == JobStatus.SKIPPED:
        return None, AIState("missing", reason=gettext("분석할 답안이 없습니다"))
    return None, AIState("none")


def subject_note_state(note: SubjectNote | None) -> AIState:
    if note is None:
        return AIState("none")
    if note.status == SubjectNoteStatus.PENDING:
        return Queue().running(note.started_at)
    if note.status == SubjectNoteStatus.READY:
        return AIState("ready")
    if note.status == SubjectNoteStatus.SKIPPED:
        return AIState("missing")
    if note.status == SubjectNoteStatus.FAILED:
        return AIState("failed", reason=note.error)
    return AIState("none")


def ai_panel_context(question) -> dict:
    """What the AI explanation panel needs besides the question."""
    return {
        "st": explanation_state_one(question),
        "latency_s": recent_llm_latency_s(),
    }
