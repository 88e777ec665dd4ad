"""Starting a Glue ML task run so that a request leaves at most one run of its own, and cancelling one.

A start whose reply was lost (a timeout, a server fault) may have started a run: GetMLTaskRuns is
searched for it until it surely lists it (LOST_REPLY_LAG_S), even past the invocation's share of
time (its hand-over margin holds the search), and the run is adopted; only when the call started
none is the start tried again, or, out of time, its error raised: no run of the request is left.

The run of a lost reply is one the task recognizes (`Task.started_by`) that Glue says started
while the call was out. Another resource may start a run of the same kind at that very moment
(two stacks on one transform): when two runs fit, neither is adopted nor cancelled, and the
request fails, saying so, rather than take or stop another resource's work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from .answers import TaskFailed
from .deadline import within
from .glue_runs import Run, TaskRuns, started_on
from .retries import CALL_DEADLINE_S, FIRST_DELAY_S, MAX_DELAY_S, Clock, effect_unknown, error_code, surely_did_nothing
from .task import CLOCK_SKEW_S, Task

LOGGER = logging.getLogger(__name__)

CANCEL_RETRY_S = 5.0
LOST_REPLY_LAG_S = 10.0  # how long after a lost start reply GetMLTaskRuns may take to list the run


def start_run(runs: TaskRuns, clock: Clock, task: Task, *, retry_until: float) -> str:
    """Start the run; after a lost reply, find the run that start started before starting again.

    :raises TaskFailed: Glue's answer had no TaskRunId (the run it started is cancelled), or more
        than one run fits a lost reply.
    :raises ClientError: Glue refused, or lost the reply of a start that started nothing, and
        retrying did not mend it: no run of this request exists.
    """
    delay = FIRST_DELAY_S
    while True:
        attempt_at = clock.now()
        try:
            run_id = within(lambda: task.start(runs.glue, attempt_at), CALL_DEADLINE_S)  # noqa: B023
        except (BotoCoreError, ClientError) as error:
            if effect_unknown(error):
                LOGGER.warning({"action": "start", "TransformId": task.transform_id, "reply lost": error_code(error)})
                found = _started_by_call(runs, clock, task, Call(attempt_at, clock.now()), error)
                if found is not None:
                    LOGGER.info({"action": "adopt", "TransformId": task.transform_id, "TaskRunId": found})
                    return found
            elif not surely_did_nothing(error):
                raise
            if clock.now() + delay > retry_until:
                raise
            LOGGER.warning(
                {"action": "retry", "operation": task.start_operation, "error": error_code(error), "delay_s": delay}
            )
            clock.sleep(delay)
            delay = min(MAX_DELAY_S, delay * 2)
            continue
        if not isinstance(run_id, str) or not run_id:
            problem = f"{task.start_operation}: it answered without a usable TaskRunId ({run_id!r})"
            raise TaskFailed(_cancel_run_of(runs, clock, task, Call(attempt_at, clock.now()), problem))
        LOGGER.info({"action": "start", "TransformId": task.transform_id, "TaskRunId": run_id})
        return run_id


@dataclass(frozen=True)
class Call:
    """A start call whose reply was lost or unusable: when it went out and when it came back."""

    sent_at: float
    returned_at: float

    @property
    def listed_by(self) -> float:
        """When GetMLTaskRuns lists any run the call started (Glue's listing lag)."""
        return self.returned_at + LOST_REPLY_LAG_S


class AmbiguousStart(Exception):
    """More than one run fits a lost start reply: at least one of them is another resource's."""

    def __init__(self, run_ids: list[str]) -> None:
        super().__init__(", ".join(run_ids))
        self.run_ids = run_ids


def _started_by_call(runs: TaskRuns, clock: Clock, task: Task, call: Call, error: Exception) -> str | None:
    """The run the call started, once the listing lag is over; None if it started none.

    :raises TaskFailed: more than one run fits (none is adopted: see the module's docstring).
    """
    try:
        return _find_started(runs, clock, task, call)
    except AmbiguousStart as ambiguous:
        raise TaskFailed(
            f"{task.start_operation}: its reply was lost ({error_code(error)}), and {len(ambiguous.run_ids)} "
            f"runs started at that moment ({ambiguous}): another resource started at least one of them, so "
            "none is adopted or cancelled; deploy again"
        ) from None


def _cancel_run_of(runs: TaskRuns, clock: Clock, task: Task, call: Call, problem: str) -> str:
    """Cancel the run the call started, if it started one that only it can have started; the Reason."""
    try:
        found = _find_started(runs, clock, task, call)
    except AmbiguousStart as ambiguous:
        return f"{problem}; runs {ambiguous} started at that moment, one of them another resource's: none cancelled"
    if found is None:
        return f"{problem}; no run of it found"
    outcome = "cancelled" if cancel_run(runs, clock, task.transform_id, found) else "could not be cancelled"
    return f"{problem}; task run {found} {outcome}"


def _find_started(runs: TaskRuns, clock: Clock, task: Task, call: Call) -> str | None:
    """The id of the run `call` started, looked for until every run it may have started is listed.

    :raises AmbiguousStart: more than one run fits.
    """
    found: list[str] = []
    while True:
        try:
            found = [str(run["TaskRunId"]) for run in _runs_started_during(runs, task, call)]
        except (BotoCoreError, ClientError) as error:
            LOGGER.warning({"action": "find started run", "error": error_code(error)})
        if len(found) > 1:
            raise AmbiguousStart(found)
        now = clock.now()
        if now >= call.listed_by:
            return found[0] if found else None
        clock.sleep(min(1.0, call.listed_by - now))


def _runs_started_during(runs: TaskRuns, task: Task, call: Call) -> Iterator[Run]:
    """The runs GetMLTaskRuns lists now that the task recognizes as started by `call`."""
    for run in runs.history(task.transform_id, task.task_run_type, retry_until=call.listed_by):
        started = started_on(run)
        if started is not None and started < call.sent_at - CLOCK_SKEW_S:
            return  # newest first: the rest started before the call
        if task.started_by(run, call.sent_at, call.returned_at):
            yield run


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
