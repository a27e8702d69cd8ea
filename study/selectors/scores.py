"""Scores: 정답률 and 100-point scores per subject, judged by the pass rule of
``study.exam_rules``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext

from study.exam_rules import PASS_SUBJECT_MIN, passes
from study.models import Attempt, Outcome, Question, QuizMode, QuizSession
from study.rounds import round_key_parse, round_label
from study.selectors.review_queue import TABS
from study.subjects import subject_key


@dataclass(frozen=True)
class SubjectScore:
    subject: str
    correct: int
    total: int

    @property
    def exact(self) -> float:
        """The 100-point score unrounded: what the pass rule judges."""
        return 100 * self.correct / self.total if self.total else 0.0

    @property
    def score(self) -> float:
        return round(self.exact, 1)

    @property
    def failing(self) -> bool:
        return self.exact < PASS_SUBJECT_MIN


@dataclass(frozen=True)
class PaperScore:
    subjects: tuple[SubjectScore, ...]
    # Subjects of the session that are not on the exam's current paper: shown,
    # but neither averaged nor judged (an old round's retired subjects).
    off_paper: tuple[SubjectScore, ...] = ()
    # Subjects of the exam's paper the session has no question of (a round
    # the bank holds in part): no pass or fail can be told without them.
    missing: tuple[str, ...] = ()

    @property
    def exact_average(self) -> float:
        if not self.subjects:
            return 0.0
        return sum(s.exact for s in self.subjects) / len(self.subjects)

    @property
    def average(self) -> float:
        """Shown to one decimal; the mean of the unrounded subject scores."""
        return round(self.exact_average, 1)

    @property
    def failing_subjects(self) -> list[str]:
        return [s.subject for s in self.subjects if s.failing]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def passed(self) -> bool:
        """The pass rule on the unrounded scores (a mean of 59.96 is not 60),
        and never with a subject of the paper missing."""
        return self.complete and passes(
            subject_scores=[s.exact for s in self.subjects],
            average=self.exact_average,
        )

    def as_dict(self) -> dict:
        return {
            "subjects": [
                {
                    "subject": s.subject,
                    "correct": s.correct,
                    "total": s.total,
                    "score": s.score,
                }
                for s in self.subjects
            ],
            "average": self.average,
            "failing_subjects": self.failing_subjects,
            "missing_subjects": list(self.missing),
            "passed": self.passed,
        }


def paper_score(
    rows: Iterable[tuple[str, bool]], *, paper: Sequence[str] = ()
) -> PaperScore:
    """(subject, correct?) per question, in exam order. With the exam's current
    subjects (`paper`), those come first in paper order and only they are
    judged; the session's other subjects are kept apart in `off_paper`, and
    the paper's subjects it has none of are `missing`."""
    tally: dict[str, list[int]] = {}
    for subject, correct in rows:
        stats = tally.setdefault(subject_key(subject), [0, 0])
        stats[0] += bool(correct)
        stats[1] += 1
    scores = [SubjectScore(n, c, t) for n, (c, t) in tally.items()]
    on_paper = set(paper)
    if not on_paper.intersection(tally):
        return PaperScore(tuple(scores))
    rank = {name: i for i, name in enumerate(paper)}
    judged = sorted(
        (s for s in scores if s.subject in on_paper), key=lambda s: rank[s.subject]
    )
    return PaperScore(
        tuple(judged),
        tuple(s for s in scores if s.subject not in on_paper),
        missing=tuple(name for name in paper if name not in tally),
    )


@dataclass(frozen=True)
class SessionScore:
    title: str
    answered: int
    correct: int
    paper: PaperScore
    # Whole rounds and mocks are judged by the pass rule; practice sets are not.
    judged: bool

    @property
    def accuracy(self) -> float:
        return round(100 * self.correct / self.answered, 1) if self.answered else 0.0


def session_title(session: QuizSession) -> str:
    """The mode and what was asked: "2021년 2회 전체", "모의고사 · 3과목 × 20문제"."""
    params = session.params or {}
    if session.mode == QuizMode.ROUND and params.get("round"):
        year, session_label = round_key_parse(params["round"])
        return gettext("%(round)s 전체") % {"round": round_label(year, session_label)}
    if session.mode == QuizMode.MOCK:
        counts = params.get("subjects") or {}
        per = params.get("per_subject", 0)
        return gettext("모의고사 · %(subjects)d과목 × %(per)d문제") % {
            "subjects": len(counts),
            "per": per,
        }
    if session.mode == QuizMode.STAGE and session.stage:
        return gettext("단계별 · %(stage)s %(n)d문제") % {
            "stage": session.get_stage_display(),
            "n": session.size,
        }
    if session.mode == QuizMode.SUBJECT and params.get("subjects"):
        names = params["subjects"]
        if len(names) > 1:
            return gettext("과목별 · %(subject)s 외 %(more)d과목") % {
                "subject": names[0],
                "more": len(names) - 1,
            }
        return gettext("과목별 · %(subject)s") % {"subject": names[0]}
    if session.mode == QuizMode.REVIEW and params.get("tab") in TABS:
        return gettext("복습 · %(tab)s") % {"tab": TABS[params["tab"]]}
    return session.get_mode_display()


def session_score(*, session: QuizSession, paper: Sequence[str] = ()) -> SessionScore:
    """Scores over the whole paper for rounds and mocks (unanswered count as
    wrong), over what was answered for practice sets; judged on the exam's
    current subjects (`paper`, exam_paper_for_topic) when given."""
    judged = session.mode in (QuizMode.ROUND, QuizMode.MOCK)
    answers = Attempt.objects.filter(session=session, question=OuterRef("pk"))
    by_question = {
        qid: (subject, outcome)
        for qid, subject, outcome in Question.objects.filter(
            pk__in=session.question_ids
        )
        .annotate(outcome=Subquery(answers.values("outcome")[:1]))
        .values_list("id", "subject", "outcome")
    }
    outcomes = [by_question.get(qid, ("", None)) for qid in session.question_ids]
    rows = [
        (subject, outcome == Outcome.CORRECT)
        for subject, outcome in outcomes
        if judged or outcome is not None
    ]
    answered = [o for _, o in outcomes if o is not None]
    correct = sum(1 for o in answered if o == Outcome.CORRECT)
    return SessionScore(
        title=session_title(session),
        answered=len(answered),
        correct=correct,
        paper=paper_score(rows, paper=paper),
        judged=judged,
    )
