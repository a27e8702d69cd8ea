from study.models import QuizMode, QuizSession
from study.services.quiz_sessions import (
    QuizRequest,
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


def start(user, topic, **kwargs) -> QuizSession:
    kwargs.setdefault("mode", QuizMode.STAGE)
    if kwargs["mode"] == QuizMode.STAGE:
        kwargs.setdefault("stage", "intro")
    return quiz_session_start(user=user, topic=topic, request=QuizRequest(**kwargs))


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
