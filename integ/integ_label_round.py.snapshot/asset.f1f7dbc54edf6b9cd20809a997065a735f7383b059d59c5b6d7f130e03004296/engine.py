"""One engine for every resource that is a Glue ML task run: start or adopt it, wait, answer.

What differs between resource types (how to start the run, how to recognize it among the
transform's runs, when there is nothing new to do, what to answer) is a `Task`. The engine does
the rest the same way for all of them: it adopts the same run already in flight instead of
starting a second one, waits with GetMLTaskRun, hands the wait over to a fresh invocation before
the Lambda's limit, cancels the run before the resource's ServiceTimeout, and on Delete cancels
the resource's run still in flight.
"""

from __future__ import annotations

import abc
import json
import logging
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from answers import TaskFailed, failure_reason, fit_reason
from glue_runs import NOT_FOUND, Run, TaskRuns
from request import InvalidProperty
from retries import Clock, effect_unknown, error_code, surely_did_nothing, with_retries

LOGGER = logging.getLogger(__name__)

HANDOVER_KEY = "GlueTaskRunHandover"
HANDOVER_MARGIN_S = 30.0  # left in an invocation to hand the wait over, slow calls and all
DEADLINE_MARGIN_S = 30.0  # left before ServiceTimeout to cancel the run and answer
CANCEL_RETRY_S = 5.0
HANDOVER_RETRY_S = 5.0
DELETE_BUDGET_S = 1.0  # with the quick client's timeouts, a Delete answers within 3 s whatever Glue does

T = TypeVar("T", bound="Task")


class Task(abc.ABC):
    """One resource's Glue ML task run: the part of the lifecycle that differs per resource type."""

    task_run_type: ClassVar[str]
    """The TaskRunType GetMLTaskRuns reports for runs of this kind."""
    start_operation: ClassVar[str]
    """The Glue operation that starts a run, for messages."""

    transform_id: str
    service_timeout_s: int

    @classmethod
    @abc.abstractmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> Task:
        """Read and check the resource's properties; raise InvalidProperty naming a bad one."""

    @classmethod
    def from_request(cls, event: Mapping[str, Any]) -> Task:
        """The task of a CloudFormation request: its properties (and what else of the request it needs)."""
        return cls.from_properties(event["ResourceProperties"])

    @classmethod
    def from_old_properties(cls: type[T], event: Mapping[str, Any]) -> T | None:
        """The task an Update's old properties described, or None (not an Update, or unreadable)."""
        if event.get("RequestType") != "Update":
            return None
        try:
            return cls.from_properties(event.get("OldResourceProperties") or {})  # type: ignore[return-value]
        except InvalidProperty:
            return None

    @abc.abstractmethod
    def is_ours(self, run: Run) -> bool:
        """Whether a run GetMLTaskRuns lists is one this request would start (its properties match in full)."""

    @abc.abstractmethod
    def start(self, glue: Any, now: float) -> Any:
        """Start the run at `now` (epoch seconds); return Glue's TaskRunId (checked by the engine)."""

    @abc.abstractmethod
    def outputs(self, runs: TaskRuns, run: Run, before: Mapping[str, Any]) -> dict[str, Any]:
        """The Data of the SUCCESS answer for a run that SUCCEEDED; raise TaskFailed for a failed check.

        `before` is what `check` noted before the run started (empty for a run done already).
        """

    def done_already(self, runs: TaskRuns, event: Mapping[str, Any], *, retry_until: float) -> Run | None:
        """A run that already did what this request asks, so that no new run is needed; None by default."""
        return None

    def in_flight(self, runs: TaskRuns, *, retry_until: float) -> Run | None:
        """This resource's run, if one is in flight: by default the newest run of its type that `is_ours`."""
        return runs.find(self.transform_id, self.task_run_type, self.is_ours, retry_until=retry_until)

    def check(self, runs: TaskRuns, s3: Any, event: Mapping[str, Any], *, retry_until: float) -> dict[str, Any]:
        """Before a run starts: raise TaskFailed for what Glue would refuse minutes later, and return what
        `outputs` needs to know of the time before the run (JSON, carried across hand-overs); {} by default."""
        return {}


class Engine:
    """Runs `Task`s to their end and cancels them, through Glue, Lambda and S3 clients."""

    def __init__(self, runs: TaskRuns, delete_runs: TaskRuns, *, lambda_client: Any, s3: Any, clock: Clock) -> None:
        self.runs = runs
        self.delete_runs = delete_runs  # a client with short timeouts: a Delete answers within 3 s
        self.lambda_client = lambda_client
        self.s3 = s3
        self.clock = clock

    def run(self, task: Task, event: dict[str, Any], context: Any) -> dict[str, Any] | None:
        """Run the task to its end and return the SUCCESS answer's Data, or None once handed over.

        :raises TaskFailed: the run failed, timed out or failed a check; the message is the Reason.
        """
        now = self.clock.now()
        handover = event.get(HANDOVER_KEY)
        started_at = float(handover["StartedAt"]) if handover else now
        deadline = started_at + task.service_timeout_s - DEADLINE_MARGIN_S
        invocation_end = now + context.get_remaining_time_in_millis() / 1000 - HANDOVER_MARGIN_S
        until = min(deadline, invocation_end)  # what this invocation may spend on the request
        if handover and handover.get("TaskRunId"):
            run_id, before = str(handover["TaskRunId"]), handover.get("Before", {})
        else:  # a new request, or one handed over while it waited for Glue's capacity
            if deadline <= now:
                raise TaskFailed(
                    f"ServiceTimeout {task.service_timeout_s} s leaves no time for a task run: "
                    f"it must be more than {DEADLINE_MARGIN_S:g} s"
                )
            try:
                done = task.done_already(self.runs, event, retry_until=until)
                if done:
                    LOGGER.info(
                        {"action": "nothing new", "TransformId": task.transform_id, "TaskRunId": done["TaskRunId"]}
                    )
                    return task.outputs(self.runs, done, {})
                before = task.check(self.runs, self.s3, event, retry_until=until)
                run_id = self._start(task, retry_until=until)
            except ClientError as error:  # Glue refused before any run started
                if surely_did_nothing(error) and invocation_end < deadline:  # no capacity yet: wait on
                    LOGGER.info(
                        {"action": "wait for capacity", "TransformId": task.transform_id, "error": error_code(error)}
                    )
                    self._hand_over(event, context, {"StartedAt": started_at})
                    return None
                message = str(error.response.get("Error", {}).get("Message", error))
                raise TaskFailed(
                    fit_reason(f"{error_code(error)}: ", message, f" (transform {task.transform_id[:100]})")
                ) from error

        try:
            run = self.runs.wait(task.transform_id, run_id, started_at=started_at, stop_at=until)
            if run is None and invocation_end < deadline:
                self._hand_over(event, context, {"TaskRunId": run_id, "StartedAt": started_at, "Before": before})
                return None
        except Exception:
            self._cancel(task.transform_id, run_id)  # an answer that gives up on the run leaves none behind
            raise
        if run is None:
            outcome = "cancelled" if self._cancel(task.transform_id, run_id) else "could not be cancelled"
            raise TaskFailed(f"timed out after {task.service_timeout_s / 60:g} minutes; task run {run_id} {outcome}")
        if run["Status"] != "SUCCEEDED":
            raise TaskFailed(failure_reason(run))
        return task.outputs(self.runs, run, before)

    def cancel(self, task: Task) -> None:
        """Delete: cancel the resource's run if one is still in flight; never fail."""
        retry_until = self.clock.now() + DELETE_BUDGET_S
        try:
            run = task.in_flight(self.delete_runs, retry_until=retry_until)
            if run:
                self.delete_runs.cancel(task.transform_id, run["TaskRunId"], retry_until=retry_until)
        except Exception as error:  # a Delete never fails: whatever went wrong, the stack can go
            level = logging.INFO if error_code(error) == NOT_FOUND else logging.WARNING
            LOGGER.log(level, {"action": "delete", "nothing cancelled": str(error)})

    def _start(self, task: Task, *, retry_until: float) -> str:
        """Start the run, or adopt the same run already in flight (a duplicate delivery).

        :raises TaskFailed: Glue's answer had no TaskRunId (the run it started is cancelled).
        :raises ClientError: Glue refused, and retrying did not mend it.
        """

        def adopt_or_start() -> tuple[Any, str]:
            # Retried as one: after a lost answer to a start, the retry adopts the run it started.
            in_flight = task.in_flight(self.runs, retry_until=retry_until)
            if in_flight:
                return in_flight["TaskRunId"], "adopt"
            return task.start(self.runs.glue, self.clock.now()), "start"

        try:
            run_id, action = with_retries(
                adopt_or_start, retry_until=retry_until, clock=self.clock, what=task.start_operation
            )
        except (BotoCoreError, ClientError) as error:
            if effect_unknown(error):  # the last start may have started a run: leave none behind
                self._cancel_unnamed_run(task, f"its answer was lost ({error_code(error)})")
            raise
        if not isinstance(run_id, str) or not run_id:
            raise TaskFailed(self._cancel_unnamed_run(task, f"it answered without a usable TaskRunId ({run_id!r})"))
        LOGGER.info({"action": action, "TransformId": task.transform_id, "TaskRunId": run_id})
        return run_id

    def _cancel_unnamed_run(self, task: Task, problem: str) -> str:
        """After a start that may have started a run nobody knows the id of: cancel it; the Reason to answer."""
        problem = f"{task.start_operation}: {problem}"
        try:
            run = task.in_flight(self.runs, retry_until=self.clock.now() + CANCEL_RETRY_S)
        except (BotoCoreError, ClientError) as error:
            LOGGER.warning({"action": "find unnamed run", "TransformId": task.transform_id, "error": str(error)})
            run = None
        if run is None:
            return f"{problem}; no run of it found in flight"
        outcome = "cancelled" if self._cancel(task.transform_id, run["TaskRunId"]) else "could not be cancelled"
        return f"{problem}; task run {run['TaskRunId']} {outcome}"

    def _hand_over(self, event: dict[str, Any], context: Any, state: dict[str, Any]) -> None:
        """Let a fresh invocation of this function go on waiting and answer in this one's place.

        An Invoke whose effect is unknown (a server fault, a lost reply) probably queued the
        event: it counts as handed over, so that CloudFormation never hears twice. Should it not
        have been queued, the resource's ServiceTimeout ends the wait.
        :raises: the Invoke's error when it surely did nothing.
        """
        payload = json.dumps({**event, HANDOVER_KEY: state}).encode()
        log = {
            "action": "hand-over",
            "TransformId": event["ResourceProperties"].get("TransformId"),
            "TaskRunId": state.get("TaskRunId"),
        }
        try:
            with_retries(
                lambda: self.lambda_client.invoke(
                    FunctionName=context.invoked_function_arn, InvocationType="Event", Payload=payload
                ),
                retry_until=self.clock.now() + HANDOVER_RETRY_S,
                clock=self.clock,
                what="Invoke",
                retry_if=surely_did_nothing,  # a second hand-over would mean a second answer
            )
        except (BotoCoreError, ClientError) as error:
            if not effect_unknown(error):
                raise
            LOGGER.warning({**log, "result": f"unknown ({error_code(error)}): taken as handed over"})
            return
        LOGGER.info(log)

    def _cancel(self, transform_id: str, run_id: str) -> bool:
        """Cancel the run if Glue lets us; say whether it did."""
        try:
            self.runs.cancel(transform_id, run_id, retry_until=self.clock.now() + CANCEL_RETRY_S)
        except (BotoCoreError, ClientError) as error:
            LOGGER.warning({"action": "cancel", "TransformId": transform_id, "TaskRunId": run_id, "error": str(error)})
            return False
        return True
