"""django-q tasks a transaction queues, to run once it has committed.

On the ORM broker (the default: Q_CLUSTER["orm"], the app's own database) the
task's row is written in the transaction itself. The cluster sees it exactly
when it sees the data it works on, and the one commit stores both: a task
sent after the commit was an autocommit INSERT of its own, a second disk
flush (about 4 ms each on the benchmark machine; a finished mock exam queued
two). On any other broker (Redis) the task is sent after the commit, as
on_commit does. Either way a task is queued once per transaction: a second
identical one in the same block (or an inner one) is not queued again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, transaction
from django_q.brokers import Broker, get_broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.tasks import async_task

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Queued:
    """An on_commit hook: sends the task, or (written in the transaction
    already) marks it queued. Django drops the hooks of a savepoint rolled
    back, as the database drops the task's row."""

    func: str
    args: tuple
    options: tuple[tuple[str, Any], ...]
    sent: bool = field(compare=False)

    def __call__(self) -> None:
        if not self.sent:
            _send(self, None)


def task_after_commit(func: str, *args: Any, **options: Any) -> None:
    """Queue `func(*args)` (with async_task's `options`) to run after the
    commit; outside a transaction it is sent now. Best effort as on_commit
    was: a broker that fails is logged and the schedules pick the work up."""
    connection = transaction.get_connection()
    queued = _Queued(func, args, tuple(sorted(options.items())), sent=False)
    if not connection.in_atomic_block:
        _send(queued, None)
        return
    current = set(connection.savepoint_ids)
    # run_on_commit holds (savepoint ids, hook, robust): a hook registered in
    # this block or an enclosing one survives whenever a new one would.
    for savepoints, hook, _robust in connection.run_on_commit:
        if hook == queued and savepoints <= current:
            return
    broker = get_broker()
    if isinstance(broker, ORM) and connection.alias == Conf.ORM:
        _send(queued, broker)
        queued = _Queued(func, args, queued.options, sent=True)
    transaction.on_commit(queued)


def _send(queued: _Queued, broker: Broker | None) -> None:
    options = dict(queued.options)
    if broker is not None:
        options["broker"] = broker
    try:
        async_task(queued.func, *queued.args, **options)
    except DatabaseError:
        if broker is not None:
            # Written in the transaction: it cannot go on and fails as a
            # whole (nothing it wrote is kept; the request can be resent).
            raise
        logger.exception("could not queue %s", queued.func)
    except Exception:
        logger.exception("could not queue %s", queued.func)
