"""Study's content changes turn into outbox events (see study/signals.py for
the direction: publishing depends on study, study knows nothing of it)."""

from collections.abc import Iterable

from publishing import services
from study import signals
from study.models import Question, Topic


def on_question_changed(
    sender: type[Question], *, question: Question, **kwargs: object
) -> None:
    services.publish_question(question=question)


def on_questions_changed(
    sender: type[Question], *, questions: Iterable[Question], **kwargs: object
) -> None:
    services.publish_questions_bulk(questions=questions)


def on_explanation_ready(
    sender: type[Question], *, question: Question, **kwargs: object
) -> None:
    services.publish_explanation_ready(question=question)


def on_topic_publication_changed(
    sender: type[Topic], *, topic: Topic, **kwargs: object
) -> None:
    if topic.is_published:
        services.publish_topic(topic=topic)
    else:
        services.publish_topic_withdraw(topic=topic)


def connect() -> None:
    for signal, receiver in (
        (signals.question_changed, on_question_changed),
        (signals.questions_changed, on_questions_changed),
        (signals.explanation_ready, on_explanation_ready),
        (signals.topic_publication_changed, on_topic_publication_changed),
    ):
        signal.connect(receiver, dispatch_uid=f"publishing.{receiver.__name__}")
