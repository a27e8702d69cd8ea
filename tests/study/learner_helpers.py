from study.models import QuizMode, QuizSession
from study.services.quiz_sessions import (
    QuizRequest,
    mock_submit,
    quiz_answer_record,
    quiz_session_start,
)
from tests.conftest import make_question


def make_bank(
    topic, *, rounds=(("2022", "1"), ("2023", "1")), subjects=3, per_subject=5
):
    """rounds × subjects × per_subject questions; correct answer is always 2."""
    questions = []
    for year, session in rounds:
        number = 0
        for s in range(subjects):
            for _ in range(per_subject):
                number += 1
                questions.append(
                    make_question(
                        topic,
                        number,
                        year=int(year),
                        session=session,
                        subject=f"과목{s + 1}",
                        stem=f"{year}-{session} {number}번 문제",
                    )
                )
    return questions


def start(user, topic, *, rng=None, **kwargs) -> QuizSession:
    """Start a session; pass a seeded rng for a reproducible pick."""
    import random

    kwargs.setdefault("mode", QuizMode.STAGE)
    if kwargs["mode"] == QuizMode.STAGE:
        kwargs.setdefault("stage", "intro")
    return quiz_session_start(
        user=user, topic=topic, request=QuizRequest(**kwargs), rng=rng or random
    )


def answer_all(session: QuizSession, choices) -> QuizSession:
    """Answer every slot; `choices` maps position -> choice or is a callable."""
    for position, qid in enumerate(session.question_ids):
        choice = choices(position, qid) if callable(choices) else choices
        quiz_answer_record(
            session=session,
            position=position,
            question_id=qid,
            choice=choice,
            time_taken_ms=1000,
        )
    session.refresh_from_db()
    return session


def submit_mock(session: QuizSession, choices) -> QuizSession:
    """Submit a mock paper; `choices` maps (position, qid) -> choice (0 = none)."""
    answers = {}
    for position, qid in enumerate(session.question_ids):
        choice = choices(position, qid) if callable(choices) else choices
        if choice:
            answers[position] = choice
    mock_submit(session=session, answers=answers)
    session.refresh_from_db()
    return session


def pretend_answered_days_ago(user, days: int = 1) -> None:
    """Move the learner's answers back in time: answers on one day count as one
    piece of evidence, so a history spanning days needs earlier days."""
    from datetime import timedelta

    from django.db.models import F

    from study.models import Attempt, QuestionProgress

    shift = timedelta(days=days)
    QuestionProgress.objects.filter(user=user).update(
        last_attempted_at=F("last_attempted_at") - shift
    )
    Attempt.objects.filter(user=user).update(created_at=F("created_at") - shift)


def page_counts(html: str) -> dict[str, int]:
    """Every count a page marks with data-count="name" data-n="value"."""
    import re

    return {
        name: int(n)
        for name, n in re.findall(r'data-count="([^"]+)" data-n="(\d+)"', html)
    }
