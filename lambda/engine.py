"""One engine for every resource that is a Glue ML task run: start or adopt it, wait, answer.

What differs between resource types (how to start the run, how to recognize the run a lost start
reply started, when there is nothing new to do, what to answer) is a `Task`. The engine does the
rest the same way for all of them, with the run ledger (ledger.py) as its memory:

- a request is claimed in the ledger before its run starts; a duplicate delivery finds the claim
  and adopts the run it names (or, answered already, starts nothing and answers the same);
- a start whose reply was lost looks for the run it started (GetMLTaskRuns may list it only
  seconds later) before starting again: a request leaves at most one run of its own;
- the wait (GetMLTaskRun) is handed over to a fresh invocation before the Lambda's limit, and the
  run is cancelled before the resource's ServiceTimeout;
- an Update that CloudFormation sends while the stack rolls back (stack_status.py) never fails:
  it runs without gates, and a failure is logged at ERROR and answered SUCCESS with the Data the
  resource had before the Update being rolled back; a task that `reuses_answers` answers that
  Data without a run;
- a Delete marks the resource deleted and cancels the run the ledger names, within 2 s.

A resource adopts, cancels and answers only runs it started itself: the ledger's run id, or the
run of its own lost start reply. When the ledger is out of reach the handler falls back (logged
WARNING): Create and Update go on without it, a Delete answers SUCCESS.
"""

from __future__ import annotations

import abc
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, ClassVar, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .answers import TaskFailed, failure_reason, fit_reason, strict_json
from .deadline import within
from .glue_runs import Run, TaskRuns, started_on
from .ledger import Ledger, LedgerUnavailable, resource_key
from .request import InvalidProperty
from .retries import (
    CALL_DEADLINE_S,
    FIRST_DELAY_S,
    MAX_DELAY_S,
    Clock,
    effect_unknown,
    error_code,
    surely_did_nothing,
    with_retries,
)
from .stack_status import Rollback, rollback_of

LOGGER = logging.getLogger(__name__)

HANDOVER_KEY = "GlueTaskRunHandover"
HANDOVER_MARGIN_S = 30.0  # left in an invocation to hand the wait over, slow calls and all
DEADLINE_MARGIN_S = 30.0  # left before ServiceTimeout to cancel the run and answer
CANCEL_RETRY_S = 5.0
HANDOVER_RETRY_S = 5.0
DELETE_BUDGET_S = 2.0  # a Delete's whole work, whatever AWS does: it answers within 3 s
LOST_REPLY_LAG_S = 10.0  # how long after a lost start reply GetMLTaskRuns may take to list the run
CLOCK_SKEW_S = 5.0  # a run Glue says started this much before the start call is still the call's
DUPLICATE_WAIT_S = 10.0  # how long a duplicate delivery waits for the first one to name its run

T = TypeVar("T", bound="Task")
R = TypeVar("R")


class Task(abc.ABC):
    """One resource's Glue ML task run: the part of the lifecycle that differs per resource type."""

    task_run_type: ClassVar[str]
    """The TaskRunType GetMLTaskRuns reports for runs of this kind."""
    start_operation: ClassVar[str]
    """The Glue operation that starts a run, for messages."""
    reuses_answers: ClassVar[bool] = False
    """Whether the Data answered before for the same inputs is answered again without a run: in a
    rollback (for the restored properties) and for an Update that is `unchanged`."""

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

    def started_by(self, run: Run, attempt_at: float) -> bool:
        """Whether `run` is the one a start at `attempt_at` (whose reply was lost) started: by default a
        run of these properties that Glue says started then or later."""
        started = started_on(run)
        return self.is_ours(run) and started is not None and started >= attempt_at - CLOCK_SKEW_S

    def unchanged(self, old: Task) -> bool:
        """Whether an Update from `old` changes nothing the run depends on (for `reuses_answers`)."""
        return False

    def fallback(self, runs: TaskRuns, run_id: str) -> dict[str, Any]:
        """The Data of a rollback whose run failed and that answered nothing before: the run id."""
        return {"TaskRunId": run_id}

    @abc.abstractmethod
    def start(self, glue: Any, now: float) -> Any:
        """Start the run at `now` (epoch seconds); return Glue's TaskRunId (checked by the engine)."""

    @abc.abstractmethod
    def outputs(self, runs: TaskRuns, run: Run, before: Mapping[str, Any]) -> dict[str, Any]:
        """The Data of the SUCCESS answer for a run that SUCCEEDED; raise TaskFailed for a failed check.

        `before` is what `check` noted before the run started (nothing for a run done already),
        and `Gated`: False in a rollback, whose answer no check may fail.
        """

    def done_already(self, runs: TaskRuns, event: Mapping[str, Any], *, retry_until: float) -> Run | None:
        """A run that already did what this request asks, so that no new run is needed; None by default."""
        return None

    def check(self, runs: TaskRuns, s3: Any, event: Mapping[str, Any], *, retry_until: float) -> dict[str, Any]:
        """Before a run starts: raise TaskFailed for what Glue would refuse minutes later, and return what
        `outputs` needs to know of the time before the run (JSON, carried across hand-overs); {} by default."""
        return {}


class Engine:
    """Runs `Task`s to their end and cancels them, through Glue, Lambda, S3, CloudFormation and the ledger."""

    def __init__(
        self,
        runs: TaskRuns,
        delete_runs: TaskRuns,
        *,
        lambda_client: Any,
        s3: Any,
        cloudformation: Any,
        ledger: Ledger | None,
        clock: Clock,
    ) -> None:
        self.runs = runs
        self.delete_runs = delete_runs  # a client with short timeouts, for a Delete
        self.lambda_client = lambda_client
        self.s3 = s3
        self.cloudformation = cloudformation
        self.ledger = ledger  # None: no table configured, the fallbacks apply
        self.clock = clock

    def run(self, task: Task, event: dict[str, Any], context: Any) -> dict[str, Any] | None:
        """Run the task to its end and return the SUCCESS answer's Data, or None when another
        invocation answers (handed over, or the first delivery of a duplicate).

        :raises TaskFailed: the run failed, timed out or failed a check (never in a rollback).
        """
        handover = event.get(HANDOVER_KEY) or {}
        if "Rollback" in handover:
            rollback = Rollback(handover["Rollback"])
        elif event.get("RequestType") == "Update":
            rollback = rollback_of(self.cloudformation, str(event["StackId"]), clock=self.clock)
        else:
            rollback = Rollback.NO
        if rollback is Rollback.NO:
            return self._run(task, event, context, rollback)
        # A rollback, or maybe one (its status unreadable): it never fails, whatever goes wrong.
        resource, rolled_back = resource_key(event), event.get("OldResourceProperties") or {}
        previous = self._ledger("previous answer", lambda ledger: ledger.rollback_answer(resource, rolled_back))
        if previous is not None and task.reuses_answers:
            LOGGER.info({"action": "rollback", "answer": "the previous Data, without a run"})
            return previous
        try:
            return self._run(task, event, context, rollback)
        except Exception as error:  # a rollback never fails: whatever went wrong, the stack can go back
            LOGGER.error(
                {
                    "action": "rollback",
                    "failed": str(error) if isinstance(error, TaskFailed) else error_code(error),
                    "answer": "SUCCESS: a rollback never fails",
                }
            )
            if previous is not None:
                return previous
            return task.fallback(self.runs, error.run_id if isinstance(error, TaskFailed) else "")

    def _run(self, task: Task, event: dict[str, Any], context: Any, rollback: Rollback) -> dict[str, Any] | None:
        handover = event.get(HANDOVER_KEY) or {}
        now = self.clock.now()
        window = _Window(
            started_at=float(handover["StartedAt"]) if handover else now,
            invocation_end=now + context.get_remaining_time_in_millis() / 1000 - HANDOVER_MARGIN_S,
            service_timeout_s=task.service_timeout_s,
        )
        state: dict[str, Any] = {"StartedAt": window.started_at, "Rollback": rollback.value}
        if handover.get("TaskRunId"):
            run_id, before = str(handover["TaskRunId"]), dict(handover.get("Before", {}))
            if self._deleted_since(event, window.started_at):
                LOGGER.info({"action": "stop waiting", "reason": "the resource was deleted", "TaskRunId": run_id})
                self._cancel(task.transform_id, run_id)
                return None
        else:  # a new request, or one handed over while it waited for Glue's capacity
            if window.deadline <= now:
                raise TaskFailed(
                    f"ServiceTimeout {task.service_timeout_s} s leaves no time for a task run: "
                    f"it must be more than {DEADLINE_MARGIN_S:g} s"
                )
            claim = None if handover else self._claim(event)
            if claim is None:
                begun = self._begin(task, event, context, rollback, window, state)
            else:  # a duplicate delivery of a request claimed before
                begun = self._adopt(event, claim, window)
            if not isinstance(begun, tuple):
                return begun
            run_id, before, window = begun
            state["StartedAt"] = window.started_at
        return self._wait(task, event, context, run_id, before, window, state)

    def _begin(
        self,
        task: Task,
        event: dict[str, Any],
        context: Any,
        rollback: Rollback,
        window: _Window,
        state: dict[str, Any],
    ) -> dict[str, Any] | tuple[str, dict[str, Any], _Window] | None:
        """A request's first delivery: the Data when there is nothing new to do, None once handed
        over (waiting for capacity), or the run it started (its id, `before`, the window)."""
        unchanged = self._unchanged_answer(task, event)
        if unchanged is not None:
            LOGGER.info({"action": "nothing new", "answer": "the previous Data"})
            return unchanged
        gated = rollback is Rollback.NO
        try:
            done = task.done_already(self.runs, event, retry_until=window.until)
            if done:
                LOGGER.info({"action": "nothing new", "TransformId": task.transform_id, "TaskRunId": done["TaskRunId"]})
                return task.outputs(self.runs, done, {"Gated": gated})
            before = {**task.check(self.runs, self.s3, event, retry_until=window.until), "Gated": gated}
            run_id = self._start(task, retry_until=window.until)
        except ClientError as error:  # Glue refused before any run started
            if surely_did_nothing(error) and window.invocation_end < window.deadline:  # no capacity yet: wait on
                LOGGER.info(
                    {"action": "wait for capacity", "TransformId": task.transform_id, "error": error_code(error)}
                )
                self._hand_over(event, context, state)
                return None
            message = str(error.response.get("Error", {}).get("Message", error))
            raise TaskFailed(
                fit_reason(f"{error_code(error)}: ", message, f" (transform {task.transform_id[:100]})")
            ) from None
        request_id, resource = str(event["RequestId"]), resource_key(event)
        self._ledger(
            "record run", lambda ledger: ledger.record_run(request_id, resource, run_id, task.transform_id, before)
        )
        return run_id, before, window

    def _wait(
        self,
        task: Task,
        event: dict[str, Any],
        context: Any,
        run_id: str,
        before: dict[str, Any],
        window: _Window,
        state: dict[str, Any],
    ) -> dict[str, Any] | None:
        """Wait for the run and answer its Data, or hand the wait over (None)."""
        try:
            run = self.runs.wait(task.transform_id, run_id, started_at=window.started_at, stop_at=window.until)
            if run is None and window.invocation_end < window.deadline:
                self._hand_over(event, context, {**state, "TaskRunId": run_id, "Before": before})
                return None
        except Exception:
            self._cancel(task.transform_id, run_id)  # an answer that gives up on the run leaves none behind
            raise
        if run is None:
            outcome = "cancelled" if self._cancel(task.transform_id, run_id) else "could not be cancelled"
            raise TaskFailed(
                f"timed out after {task.service_timeout_s / 60:g} minutes; task run {run_id} {outcome}", run_id=run_id
            )
        if run["Status"] != "SUCCEEDED":
            raise TaskFailed(failure_reason(run), run_id=run_id)
        try:
            return task.outputs(self.runs, run, before)
        except TaskFailed as failure:
            raise TaskFailed(str(failure), run_id=run_id) from None

    def answer(self, event: Mapping[str, Any], answer: dict[str, Any]) -> dict[str, Any]:
        """Record a Create's or Update's answer (Status, Reason, Data, PhysicalResourceId) before it
        is sent; return the answer that stands: the first one recorded for the request.

        A SUCCESS is also remembered as the resource's Data for these properties (what a rollback
        to them answers), and the resource's run is no longer in flight.
        """
        request_id, resource = str(event.get("RequestId", "")), resource_key(event)
        standing = self._ledger("record answer", lambda ledger: ledger.record_answer(request_id, answer)) or answer
        if standing == answer and answer.get("Status") == "SUCCESS":
            self._ledger("remember answer", lambda ledger: ledger.remember_answer(*_answer_key(event), answer["Data"]))
        self._ledger("run finished", lambda ledger: ledger.finished(resource, request_id))
        return standing

    def cancel(self, event: Mapping[str, Any]) -> None:
        """Delete: mark the resource deleted and cancel the run it has in flight; never fail.

        Call it under a deadline of DELETE_BUDGET_S (index.py does): whatever AWS does, a Delete
        answers SUCCESS within 3 s.
        """
        in_flight = self._ledger("mark deleted", lambda ledger: ledger.mark_deleted(resource_key(event)))
        if not in_flight:
            LOGGER.info({"action": "delete", "result": "no run in flight"})
            return
        try:
            self.delete_runs.cancel(
                str(in_flight["TransformId"]),
                str(in_flight["RunId"]),
                retry_until=self.clock.now() + DELETE_BUDGET_S,
            )
        except (BotoCoreError, ClientError) as error:  # a Delete never fails: whatever went wrong, the stack can go
            LOGGER.warning({"action": "delete", "nothing cancelled": error_code(error)})

    def _claim(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """Claim the request in the ledger: None when this is its first delivery (or the ledger is out of reach)."""
        claimant = str(uuid.uuid4())
        return self._ledger(
            "claim", lambda ledger: ledger.claim(str(event["RequestId"]), resource_key(event), claimant)
        )

    def _adopt(
        self, event: Mapping[str, Any], claim: dict[str, Any], window: _Window
    ) -> dict[str, Any] | tuple[str, dict[str, Any], _Window] | None:
        """A duplicate delivery: once the claim names the first delivery's answer, its Data (the same
        answer goes out again: see `answer`); once it names its run, that run to wait for; None
        (logged) when it names neither within DUPLICATE_WAIT_S: the first delivery answers."""
        request_id = str(event["RequestId"])
        wait_until = min(window.until, self.clock.now() + DUPLICATE_WAIT_S)
        while "Answer" not in claim and "RunId" not in claim:
            if self.clock.now() >= wait_until:
                LOGGER.warning({"action": "duplicate delivery", "result": "left to the first delivery"})
                return None
            self.clock.sleep(1.0)
            claim = self._ledger("read claim", lambda ledger: ledger.request(request_id) or {}) or claim
        if "Answer" in claim:
            LOGGER.info({"action": "duplicate delivery", "result": "answered already: the same answer"})
            return dict(claim["Answer"].get("Data") or {})
        LOGGER.info({"action": "duplicate delivery", "result": "adopt", "TaskRunId": claim["RunId"]})
        adopted = replace(window, started_at=float(claim["ClaimedAt"]))
        return str(claim["RunId"]), dict(claim.get("Before") or {}), adopted

    def _unchanged_answer(self, task: Task, event: Mapping[str, Any]) -> dict[str, Any] | None:
        """For a task that `reuses_answers`, an Update that changes nothing: the Data answered before."""
        old = task.from_old_properties(event) if task.reuses_answers else None
        if old is None or not task.unchanged(old):
            return None
        resource, old_properties = resource_key(event), event.get("OldResourceProperties") or {}
        return self._ledger("previous answer", lambda ledger: ledger.previous_answer(resource, old_properties))

    def _deleted_since(self, event: Mapping[str, Any], since: float) -> bool:
        resource = self._ledger("read resource", lambda ledger: ledger.resource(resource_key(event))) or {}
        return float(resource.get("DeletedAt", float("-inf"))) >= since

    def _ledger(self, what: str, operation: Callable[[Ledger], R]) -> R | None:
        """A ledger operation, or None (logged WARNING) when the ledger is out of reach."""
        if self.ledger is None:
            return None
        try:
            return operation(self.ledger)
        except LedgerUnavailable as error:
            LOGGER.warning({"action": what, "ledger": f"unavailable ({error}): falling back"})
            return None

    def _start(self, task: Task, *, retry_until: float) -> str:
        """Start the run; after a lost reply, find the run that start started before starting again.

        :raises TaskFailed: Glue's answer had no TaskRunId (the run it started is cancelled).
        :raises ClientError: Glue refused, and retrying did not mend it.
        """
        delay = FIRST_DELAY_S
        while True:
            attempt_at = self.clock.now()
            try:
                run_id = within(lambda: task.start(self.runs.glue, attempt_at), CALL_DEADLINE_S)  # noqa: B023
            except (BotoCoreError, ClientError) as error:
                if effect_unknown(error):
                    LOGGER.warning(
                        {"action": "start", "TransformId": task.transform_id, "reply lost": error_code(error)}
                    )
                    found = self._find_started(task, attempt_at, until=min(retry_until, attempt_at + LOST_REPLY_LAG_S))
                    if found is not None:
                        LOGGER.info({"action": "adopt", "TransformId": task.transform_id, "TaskRunId": found})
                        return found
                elif not surely_did_nothing(error):
                    raise
                if self.clock.now() + delay > retry_until:
                    if effect_unknown(error):  # the last start may have started a run: leave none behind
                        raise TaskFailed(self._cancel_lost_run(task, attempt_at, error)) from None
                    raise
                LOGGER.warning(
                    {"action": "retry", "operation": task.start_operation, "error": error_code(error), "delay_s": delay}
                )
                self.clock.sleep(delay)
                delay = min(MAX_DELAY_S, delay * 2)
                continue
            if not isinstance(run_id, str) or not run_id:
                problem = f"{task.start_operation}: it answered without a usable TaskRunId ({run_id!r})"
                found = self._find_started(task, attempt_at, until=self.clock.now() + CANCEL_RETRY_S)
                if found is None:
                    raise TaskFailed(f"{problem}; no run of it found")
                outcome = "cancelled" if self._cancel(task.transform_id, found) else "could not be cancelled"
                raise TaskFailed(f"{problem}; task run {found} {outcome}")
            LOGGER.info({"action": "start", "TransformId": task.transform_id, "TaskRunId": run_id})
            return run_id

    def _cancel_lost_run(self, task: Task, attempt_at: float, error: Exception) -> str:
        """After the last start's reply was lost: cancel the run it started, once listed; the Reason."""
        problem = f"{task.start_operation}: its reply was lost ({error_code(error)})"
        found = self._find_started(task, attempt_at, until=attempt_at + LOST_REPLY_LAG_S)
        if found is None:
            return f"{problem}; no run of it found"
        outcome = "cancelled" if self._cancel(task.transform_id, found) else "could not be cancelled"
        return f"{problem}; task run {found} {outcome}"

    def _find_started(self, task: Task, attempt_at: float, *, until: float) -> str | None:
        """The id of the run a start at `attempt_at` started, looked for until `until` (listing lag)."""
        while True:
            try:
                for run in self.runs.history(task.transform_id, task.task_run_type, retry_until=until):
                    started = started_on(run)
                    if started is not None and started < attempt_at - CLOCK_SKEW_S:
                        break  # newest first: the rest started before the call
                    if task.started_by(run, attempt_at):
                        return str(run["TaskRunId"])
            except (BotoCoreError, ClientError) as error:
                LOGGER.warning({"action": "find started run", "error": error_code(error)})
            now = self.clock.now()
            if now >= until:
                return None
            self.clock.sleep(min(1.0, until - now))

    def _hand_over(self, event: dict[str, Any], context: Any, state: dict[str, Any]) -> None:
        """Let a fresh invocation of this function go on waiting and answer in this one's place.

        An Invoke whose effect is unknown (a server fault, a lost reply) probably queued the
        event: it counts as handed over, so that CloudFormation never hears twice. Should it not
        have been queued, the resource's ServiceTimeout ends the wait.
        :raises TaskFailed: the Invoke surely did nothing (its error code only: Lambda's error
            messages may quote the payload, ResponseURL and all).
        """
        payload = strict_json({**event, HANDOVER_KEY: state}).encode()
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
                if state.get("TaskRunId"):
                    self._cancel(str(event["ResourceProperties"].get("TransformId")), str(state["TaskRunId"]))
                raise TaskFailed(f"Invoke refused to hand the wait over: {error_code(error)}") from None
            LOGGER.warning({**log, "result": f"unknown ({error_code(error)}): taken as handed over"})
            return
        LOGGER.info(log)

    def _cancel(self, transform_id: str, run_id: str) -> bool:
        """Cancel the run if Glue lets us; say whether it did."""
        try:
            self.runs.cancel(transform_id, run_id, retry_until=self.clock.now() + CANCEL_RETRY_S)
        except (BotoCoreError, ClientError) as error:
            LOGGER.warning(
                {"action": "cancel", "TransformId": transform_id, "TaskRunId": run_id, "error": error_code(error)}
            )
            return False
        return True


@dataclass(frozen=True)
class _Window:
    """The time a request has: from its start to its ServiceTimeout, and this invocation's share."""

    started_at: float
    invocation_end: float  # when this invocation must hand the wait over
    service_timeout_s: int

    @property
    def deadline(self) -> float:
        """When the run must be cancelled to answer before CloudFormation's ServiceTimeout."""
        return self.started_at + self.service_timeout_s - DEADLINE_MARGIN_S

    @property
    def until(self) -> float:
        """What this invocation may spend on the request."""
        return min(self.deadline, self.invocation_end)


def _answer_key(event: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """The resource and the properties a remembered answer is filed under."""
    return resource_key(event), event.get("ResourceProperties") or {}
