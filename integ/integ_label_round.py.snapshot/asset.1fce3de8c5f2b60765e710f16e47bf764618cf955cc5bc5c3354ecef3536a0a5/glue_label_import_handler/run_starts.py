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
from collections.abc import Callable, Iterator
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
LISTING_RETRY_S = 5.0  # how long past that a listing may fail before the search gives up


def start_run(
    runs: TaskRuns,
    clock: Clock,
    task: Task,
    *,
    retry_until: float,
    on_send: Callable[[], None] = lambda: None,
    on_nothing_started: Callable[[], None] = lambda: None,
) -> str:
    """Start the run; after a lost reply, find the run that start started before starting again.

    No attempt begins after `retry_until`: what follows one (its call, the search after a lost reply)
    fits in the hand-over margin. `on_send` is called before each attempt goes out, and
    `on_nothing_started` after one that surely started nothing (the run ledger notes both, for a
    takeover should this invocation die meanwhile).
    :raises TaskFailed: Glue's answer had no TaskRunId (the run it started is cancelled), or a lost
        reply's run cannot be told (more than one run fits, or the runs could not be listed).
    :raises ClientError: Glue refused, or lost the reply of a start that started nothing, and
        retrying did not mend it: no run of this request exists.
    :raises NoTimeToStart: `retry_until` passed before any attempt.
    """
    delay = FIRST_DELAY_S
    while True:
        attempt_at = clock.now()
        if attempt_at >= retry_until:
            raise NoTimeToStart(task.start_operation)
        on_send()
        try:
            run_id = within(lambda: task.start(runs.glue, attempt_at), CALL_DEADLINE_S)  # noqa: B023
        except (BotoCoreError, ClientError) as error:
            if effect_unknown(error):
                LOGGER.warning({"action": "start", "TransformId": task.transform_id, "reply lost": error_code(error)})
                cause = f"{task.start_operation}: its reply was lost ({error_code(error)})"
                call = Call(attempt_at, clock.now())
                found = run_of_lost_start(runs, clock, task, call, cause=cause, wait_until=retry_until)
                if found is not None:
                    return found
            elif not surely_did_nothing(error):
                raise
            on_nothing_started()
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


class NoTimeToStart(Exception):
    """The invocation's share of time ended before a start could begin: the next invocation starts."""


@dataclass(frozen=True)
class Call:
    """A start call whose reply was lost or unusable: when it went out and when it came back (at the
    latest: for a claimant that died during it, when its invocation was over)."""

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


class Unlisted(Exception):
    """GetMLTaskRuns could not be read once the call's runs were all listed: its error code."""


def run_of_lost_start(
    runs: TaskRuns, clock: Clock, task: Task, call: Call, *, cause: str, wait_until: float
) -> str | None:
    """The run a start call whose reply was lost (`cause`) started, adopted; None if it started none.

    :raises TaskFailed: more than one run fits: none is adopted or cancelled (see the module's
        docstring), and the answer waits until they ended (until `wait_until` at most), so that the
        request's own run is not left running unanswered; or the runs could not be listed.
    """
    try:
        found = _find_started(runs, clock, task, call)
    except AmbiguousStart as ambiguous:
        ended = _wait_for_all(runs, task, ambiguous.run_ids, stop_at=wait_until)
        raise TaskFailed(
            f"{cause}, and {len(ambiguous.run_ids)} runs started at that moment ({ambiguous}): another resource "
            f"started at least one of them, so none is adopted or cancelled ({ended}); deploy again"
        ) from None
    except Unlisted as unlisted:
        raise TaskFailed(
            f"{cause}, and GetMLTaskRuns could not list the runs it may have started ({unlisted}): "
            "none is adopted, and none is started again"
        ) from None
    if found is not None:
        LOGGER.info({"action": "adopt", "TransformId": task.transform_id, "TaskRunId": found})
    return found


def _wait_for_all(runs: TaskRuns, task: Task, run_ids: list[str], *, stop_at: float) -> str:
    """Wait until every run ended, or `stop_at`: what the answer says of them."""
    still: list[str] = []
    for run_id in run_ids:
        try:
            run = runs.wait(task.transform_id, run_id, started_at=runs.clock.now(), stop_at=stop_at)
        except (BotoCoreError, ClientError) as error:
            LOGGER.warning({"action": "wait", "TaskRunId": run_id, "error": error_code(error)})
            run = None
        if run is None:
            still.append(run_id)
    return f"still running: {', '.join(still)}" if still else "all of them have ended"


def _cancel_run_of(runs: TaskRuns, clock: Clock, task: Task, call: Call, problem: str) -> str:
    """Cancel the run the call started, if it started one that only it can have started; the Reason."""
    try:
        found = _find_started(runs, clock, task, call)
    except AmbiguousStart as ambiguous:
        return f"{problem}; runs {ambiguous} started at that moment, one of them another resource's: none cancelled"
    except Unlisted as unlisted:
        return f"{problem}; the runs could not be listed ({unlisted}): none cancelled"
    if found is None:
        return f"{problem}; no run of it found"
    outcome = "cancelled" if cancel_run(runs, clock, task.transform_id, found) else "could not be cancelled"
    return f"{problem}; task run {found} {outcome}"


def _find_started(runs: TaskRuns, clock: Clock, task: Task, call: Call) -> str | None:
    """The id of the run `call` started, from a listing made once every run it may have started is
    listed; None if it started none.

    :raises AmbiguousStart: more than one run fits.
    :raises Unlisted: no such listing could be read within LISTING_RETRY_S.
    """
    while True:
        listed_at = clock.now()
        try:
            found = [str(run["TaskRunId"]) for run in _runs_started_during(runs, task, call)]
        except (BotoCoreError, ClientError) as error:
            LOGGER.warning({"action": "find started run", "error": error_code(error)})
            if clock.now() >= call.listed_by + LISTING_RETRY_S:
                raise Unlisted(error_code(error)) from None
        else:
            if len(found) > 1:
                raise AmbiguousStart(found)
            if listed_at >= call.listed_by:
                return found[0] if found else None
        clock.sleep(max(0.1, min(1.0, call.listed_by - clock.now())))


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
