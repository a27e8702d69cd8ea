"""Tasks queued for after a commit (study.jobs.queue): on the ORM broker they
are part of the transaction, once each; elsewhere they are sent after it."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_q.brokers.redis_broker import Redis
from django_q.models import OrmQ

from study.jobs import queue
from study.jobs.queue import task_after_commit

TASK = "study.tasks.forecast_snapshot_refresh_task"


def _queued() -> list[tuple]:
    return [(task.func(), task.args()) for task in OrmQ.objects.order_by("pk")]


@pytest.mark.django_db
def test_a_task_is_written_in_the_transaction_and_rolled_back_with_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        task_after_commit(TASK, 1, 2)
        assert _queued() == [(TASK, (1, 2))]  # before the commit, in it
        raise RuntimeError("the work fails")
    assert _queued() == []


@pytest.mark.django_db
def test_a_task_is_queued_once_per_transaction_but_again_after_a_rollback():
    with transaction.atomic():
        task_after_commit(TASK, 1, 2)
        task_after_commit(TASK, 1, 2)  # the same again: nothing more
        task_after_commit(TASK, 1, 3)  # another one
        with transaction.atomic():
            task_after_commit(TASK, 1, 2)  # inside: the outer one holds
    assert _queued() == [(TASK, (1, 2)), (TASK, (1, 3))]
    OrmQ.objects.all().delete()
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            task_after_commit(TASK, 5, 6)
            raise RuntimeError("the inner block fails")
        task_after_commit(TASK, 5, 6)  # its task went with it: queued again
    assert _queued() == [(TASK, (5, 6))]


@pytest.mark.django_db
def test_another_broker_gets_the_task_after_the_commit(
    monkeypatch, django_capture_on_commit_callbacks
):
    # A Redis broker (Q_REDIS_URL): nothing of the task is in the transaction.
    monkeypatch.setattr(queue, "get_broker", lambda: Redis(list_key="gichul"))
    with django_capture_on_commit_callbacks() as callbacks:
        task_after_commit(TASK, 1, 2)
        task_after_commit(TASK, 1, 2)
    assert _queued() == [] and len(callbacks) == 1
    callbacks[0]()  # the commit sends it (here to the ORM broker of the tests)
    assert _queued() == [(TASK, (1, 2))]
