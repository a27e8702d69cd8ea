from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from study.models import Topic
from study.signals import topic_publication_changed

AI_SETTINGS = ("ai_question_only", "ai_independent_check", "ai_disagreement_hide")


@transaction.atomic
def topic_create(
    *,
    owner: User,
    name: str,
    description: str = "",
    is_shared: bool = False,
    is_published: bool = False,
) -> Topic:
    topic = Topic(
        owner=owner,
        name=name.strip(),
        description=description,
        is_shared=is_shared,
        is_published=is_published,
    )
    topic.full_clean()
    topic.save()
    if topic.is_published:
        topic_publishing_changed(topic=topic)
    return topic


@transaction.atomic
def topic_update(
    *,
    topic: Topic,
    name: str,
    description: str,
    is_shared: bool,
    is_published: bool | None = None,
    **ai_settings: bool,
) -> Topic:
    """`ai_settings`: ai_question_only, ai_independent_check,
    ai_disagreement_hide (docs/explanations.md); omitted ones are kept."""
    was_published = Topic.objects.select_for_update().get(pk=topic.pk).is_published
    topic.name = name.strip()
    topic.description = description
    topic.is_shared = is_shared
    if is_published is not None:
        topic.is_published = is_published
    for name, value in ai_settings.items():
        if name not in AI_SETTINGS:
            raise TypeError(f"unknown topic setting {name!r}")
        setattr(topic, name, value)
    topic.full_clean()
    topic.save()
    if topic.is_published != was_published:
        topic_publishing_changed(topic=topic)
    return topic


def topic_publishing_changed(*, topic: Topic) -> None:
    """Announce the flag's change: publishing sends the topic to the viewer, or
    tombstones when it was unmarked.

    Called in the transaction that saved the flag (service and admin alike)."""
    topic_publication_changed.send(sender=Topic, topic=topic)
