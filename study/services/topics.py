from __future__ import annotations

from django.db import transaction

from study.models import Topic


@transaction.atomic
def topic_create(
    *, owner, name: str, description: str = "", is_shared: bool = False
) -> Topic:
    topic = Topic(
        owner=owner, name=name.strip(), description=description, is_shared=is_shared
    )
    topic.full_clean()
    topic.save()
    return topic


@transaction.atomic
def topic_update(
    *, topic: Topic, name: str, description: str, is_shared: bool
) -> Topic:
    topic.name = name.strip()
    topic.description = description
    topic.is_shared = is_shared
    topic.full_clean()
    topic.save()
    return topic
