"""Starting a Glue ML task run so that a request leaves at most one run of its own, and cancelling one.

A start whose reply was lost (a timeout, a server fault) may have started a run: GetMLTaskRuns is
searched for it (it may list the run only seconds later) before starting again, and when no start
is left in the time, the run the last one started is cancelled rather than left unanswered.
"""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError

from .answers import TaskFailed
from .deadline import within
from .glue_runs import TaskRuns, started_on
from .retries import CALL_DEADLINE_S, FIRST_DELAY_S, MAX_DELAY_S, Clock, effect_unknown, error_code, surely_did_nothing
from .task import CLOCK_SKEW_S, Task

LOGGER = logging.getLogger(__name__)

CANCEL_RETRY_S = 5.0
LOST_REPLY_LAG_S = 10.0  # how long after a lost start reply GetMLTaskRuns may take to list the run


def start_run(runs: TaskRuns, clock: Clock, task: Task, *, retry_until: float) -> str:
    """Start the run; after a lost reply, find the run that start started before starting again.

    :raises TaskFailed: Glue's answer had no TaskRunId (the run it started is cancelled).
    :raises ClientError: Glue refused, and retrying did not mend it.
    """
    delay = FIRST_DELAY_S
    while True:
        attempt_at = clock.now()
        try:
            run_id = within(lambda: task.start(runs.glue, attempt_at), CALL_DEADLINE_S)  # noqa: B023
        except (BotoCoreError, ClientError) as error:
            if effect_unknown(error):
                LOGGER.warning({"action": "start", "TransformId": task.transform_id, "reply lost": error_code(error)})
                found = _find_started(
                    runs, clock, task, attempt_at, until=min(retry_until, attempt_at + LOST_REPLY_LAG_S)
                )
                if found is not None:
                    LOGGER.info({"action": "adopt", "TransformId": task.transform_id, "TaskRunId": found})
                    return found
            elif not surely_did_nothing(error):
                raise
            if clock.now() + delay > retry_until:
                if effect_unknown(error):  # the last start may have started a run: leave none behind
                    raise TaskFailed(_cancel_lost_run(runs, clock, task, attempt_at, error)) from None
                raise
            LOGGER.warning(
                {"action": "retry", "operation": task.start_operation, "error": error_code(error), "delay_s": delay}
            )
            clock.sleep(delay)
            delay = min(MAX_DELAY_S, delay * 2)
            continue
        if not isinstance(run_id, str) or not run_id:
            problem = f"{task.start_operation}: it answered without a usable TaskRunId ({run_id!r})"
            found = _find_started(runs, clock, task, attempt_at, until=clock.now() + CANCEL_RETRY_S)
            if found is None:
                raise TaskFailed(f"{problem}; no run of it found")
            outcome = "cancelled" if cancel_run(runs, clock, task.transform_id, found) else "could not be cancelled"
            raise TaskFailed(f"{problem}; task run {found} {outcome}")
        LOGGER.info({"action": "start", "TransformId": task.transform_id, "TaskRunId": run_id})
        return run_id


def _cancel_lost_run(runs: TaskRuns, clock: Clock, task: Task, attempt_at: float, error: Exception) -> str:
    """After the last start's reply was lost: cancel the run it started, once listed; the Reason."""
    problem = f"{task.start_operation}: its reply was lost ({error_code(error)})"
    found = _find_started(runs, clock, task, attempt_at, until=attempt_at + LOST_REPLY_LAG_S)
    if found is None:
        return f"{problem}; no run of it found"
    outcome = "cancelled" if cancel_run(runs, clock, task.transform_id, found) else "could not be cancelled"
    return f"{problem}; task run {found} {outcome}"


def _find_started(runs: TaskRuns, clock: Clock, task: Task, attempt_at: float, *, until: float) -> str | None:
    """The id of the run a start at `attempt_at` started, looked for until `until` (listing lag)."""
    while True:
        try:
            for run in runs.history(task.transform_id, task.task_run_type, retry_until=until):
                started = started_on(run)
                if started is not None and started < attempt_at - CLOCK_SKEW_S:
                    break  # newest first: the rest started before the call
                if task.started_by(run, attempt_at):
                    return str(run["TaskRunId"])
        except (BotoCoreError, ClientError) as error:
            LOGGER.warning({"action": "find started run", "error": error_code(error)})
        now = clock.now()
        if now >= until:
            return None
        clock.sleep(min(1.0, until - now))


def cancel_run(runs: TaskRuns, clock: Clock, transform_id: str, run_id: str) -> bool:
    """Cancel the run if Glue lets us; say whether it did."""
    try:
        runs.cancel(transform_id, run_id, retry_until=clock.now() + CANCEL_RETRY_S)
    except (BotoCoreError, ClientError) as error:
        LOGGER.warning(
            {"action": "cancel", "TransformId": transform_id, "TaskRunId": run_id, "error": error_code(error)}
        )
        return False
    return True
