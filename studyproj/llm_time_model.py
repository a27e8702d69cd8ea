"""The one time model for LLM work (docs/llm-time-model.md), checked at start-up.

A background AI job is *queued* (pending) until a consumer holds an LLM slot;
only then is it claimed and *processing*. So the limits that matter are:

- ``LLM_TIMEOUT_S``: one LLM call, all response-format fallbacks included.
- ``LLM_TIMEOUT_OVERRUN_S``: how long the gate keeps a slot after a call timed
  out, because the server may still be working on it.
- ``STUDY_JOB_SLOT_WAIT_S``: how long a consumer waits for a slot before it
  gives up quietly (its jobs stay queued; nothing fails).
- ``Q_TIMEOUT_S``: django-q kills a task after this; it must cover a whole
  consumer run (slot waits and calls for every job of the batch).
- ``Q_RETRY_S``: django-q re-delivers an unacknowledged task after this; it
  must be longer than ``Q_TIMEOUT_S`` or a running task is started twice.
- ``STUDY_JOB_STALE_MINUTES``: a processing job older than this is taken to
  have lost its worker; it must be longer than one call can take.
- ``STUDY_JOB_WAIT_AHEAD_S``: the waiter task sleeps up to this long for a
  retry to become due; it must end before ``Q_TIMEOUT_S`` kills it.

Nothing here imports Django: settings.py calls it while it is being read.
"""

from __future__ import annotations

# Time a job needs besides its LLM call: retrieval, embedding the query,
# guarding and saving the reply. Generous: a slow CPU also embeds slowly.
JOB_OVERHEAD_S = 60


def consumer_run_max_s(
    *, llm_timeout_s: float, slot_wait_s: float, batch: int
) -> float:
    """The longest one consumer task can run: per job a slot wait and a call."""
    return batch * (slot_wait_s + llm_timeout_s + JOB_OVERHEAD_S)


def default_q_timeout_s(*, llm_timeout_s: float, slot_wait_s: float, batch: int) -> int:
    run = consumer_run_max_s(
        llm_timeout_s=llm_timeout_s, slot_wait_s=slot_wait_s, batch=batch
    )
    return int(run) + 60


def time_model_errors(
    *,
    llm_timeout_s: float,
    overrun_s: float,
    gate_wait_s: float,
    slot_wait_s: float,
    batch: int,
    q_timeout_s: float,
    q_retry_s: float,
    stale_minutes: float,
    wait_ahead_s: float = 0.0,
) -> list[str]:
    """Every way these limits contradict each other, as messages that say which
    setting to change and to what."""
    errors = []
    positive = {
        "LLM_TIMEOUT_S": llm_timeout_s,
        "LLM_GATE_WAIT_S": gate_wait_s,
        "STUDY_JOB_SLOT_WAIT_S": slot_wait_s,
        "STUDY_JOB_BATCH_SIZE": batch,
        "Q_TIMEOUT_S": q_timeout_s,
        "STUDY_JOB_STALE_MINUTES": stale_minutes,
    }
    errors += [
        f"{name}={value:g} must be positive."
        for name, value in positive.items()
        if value <= 0
    ]
    if overrun_s < 0:
        errors.append(f"LLM_TIMEOUT_OVERRUN_S={overrun_s:g} must not be negative.")
    if errors:
        return errors
    run = consumer_run_max_s(
        llm_timeout_s=llm_timeout_s, slot_wait_s=slot_wait_s, batch=batch
    )
    if q_timeout_s < run:
        errors.append(
            f"Q_TIMEOUT_S={q_timeout_s:g} would kill AI job consumers that are still "
            f"working: one run can take STUDY_JOB_BATCH_SIZE={batch} x "
            f"(STUDY_JOB_SLOT_WAIT_S={slot_wait_s:g} + LLM_TIMEOUT_S={llm_timeout_s:g}"
            f" + {JOB_OVERHEAD_S}) = {run:g} s. Set Q_TIMEOUT_S to at least "
            f"{run:g}, or unset it to use the computed default, or lower the others."
        )
    if q_retry_s <= q_timeout_s:
        errors.append(
            f"Q_RETRY_S={q_retry_s:g} must be longer than Q_TIMEOUT_S={q_timeout_s:g}:"
            " otherwise django-q hands a task that is still running to a second "
            "worker. Unset Q_RETRY_S to use Q_TIMEOUT_S + 60."
        )
    if wait_ahead_s < 0 or wait_ahead_s + JOB_OVERHEAD_S > q_timeout_s:
        errors.append(
            f"STUDY_JOB_WAIT_AHEAD_S={wait_ahead_s:g} must be between 0 and "
            f"Q_TIMEOUT_S={q_timeout_s:g} - {JOB_OVERHEAD_S}: the waiter for a "
            "retry would be killed while it waits."
        )
    if stale_minutes * 60 <= llm_timeout_s + JOB_OVERHEAD_S:
        need = (llm_timeout_s + JOB_OVERHEAD_S) / 60
        errors.append(
            f"STUDY_JOB_STALE_MINUTES={stale_minutes:g} is shorter than one job can "
            f"run (LLM_TIMEOUT_S={llm_timeout_s:g} + {JOB_OVERHEAD_S} s): running "
            f"jobs would be taken for dead and run twice. Set it above {need:.1f}."
        )
    return errors
