"""One engine for every resource that is a Glue ML task run: start or adopt it, wait, answer.

What differs between resource types (how to start the run, how to recognize the run a lost start
reply started, when there is nothing new to do, what to answer) is a `Task` (task.py). The engine does the
rest the same way for all of them, with the run ledger (ledger.py) as its memory:

- each delivery (a request's, or a hand-over's) is claimed in the ledger before it starts
  anything; a duplicate delivery never works beside the invocation that holds the claim
  (deliveries.py): answered already, it answers the same; handed over, it stops; once that
  invocation is surely over unanswered (a crash), it takes the claim over and goes on from the
  run the claim names, or from the start it was sending;
- a start whose reply was lost looks for the run it started (GetMLTaskRuns may list it only
  seconds later) before starting again: a request leaves at most one run of its own (run_starts.py);
- the wait (GetMLTaskRun) is handed over to a fresh invocation before the Lambda's limit, and the
  run is cancelled before the resource's ServiceTimeout (handover.py);
- an Update that CloudFormation sends while the stack rolls back (stack_status.py) never fails:
  it runs without gates, and a failure is logged at ERROR and answered SUCCESS with the Data the
  resource had before the Update being rolled back; a task that `reuses_answers` answers that
  Data without a run;
- a Delete marks the resource deleted and cancels the run the ledger names, within 2 s.

A resource adopts, cancels and answers only runs it started itself: the ledger's run id, or the
run of its own lost start reply; "nothing new to do" is judged from its own answers too. When the
ledger is out of reach the handler falls back (logged WARNING): Create and Update go on without it
(a duplicate delivery then adopts its request's run only when the task can tell it apart, as a
generation's folder does), a Delete answers SUCCESS.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .answers import TaskFailed, failure_reason, fit_reason
from .deliveries import Claim, Deliveries, Takeover, delivery_key
from .glue_runs import TaskRuns
from .handover import DEADLINE_MARGIN_S, HANDOVER_KEY, HANDOVER_MARGIN_S, Window, hand_over
from .ledger import Ledger, or_none, resource_key
from .retries import CALL_DEADLINE_S, Clock, error_code, is_transient
from .run_starts import Call, NoTimeToStart, cancel_run, run_of_lost_start, start_run
from .stack_status import Rollback, rollback_of
from .task import OwnAnswers, Task

LOGGER = logging.getLogger(__name__)

DELETE_BUDGET_S = 2.0  # a Delete's whole work, whatever AWS does: it answers within 3 s

R = TypeVar("R")


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
        self.deliveries = Deliveries(ledger, clock)
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
        if task.reuses_answers:  # nothing on record (the ledger out of reach): still no run
            LOGGER.warning({"action": "rollback", "answer": "no previous Data on record: the fallback, without a run"})
            return task.fallback(self.runs, "")
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
        window = Window(
            started_at=float(handover["StartedAt"]) if handover else now,
            invocation_end=now + context.get_remaining_time_in_millis() / 1000 - HANDOVER_MARGIN_S,
            service_timeout_s=task.service_timeout_s,
        )
        run_id, before = str(handover.get("TaskRunId") or ""), dict(handover.get("Before") or {})
        if not run_id and window.deadline <= now:
            raise TaskFailed(
                f"ServiceTimeout {task.service_timeout_s} s leaves no time for a task run: "
                f"it must be more than {DEADLINE_MARGIN_S:g} s"
            )
        claimant = uuid.uuid4().hex  # this invocation; it names the turn it hands over to, if it does
        claim = self.deliveries.claim(event, window, claimant)
        if isinstance(claim, dict):  # a duplicate delivery (of the request, or of a hand-over)
            taken = self.deliveries.after_claimant(event, claim, window, claimant)
            if not isinstance(taken, Takeover):
                return taken
            run_id, before, window = self._taken_over(task, event, taken, run_id, before)
        if run_id and self._deleted_since(event, window.started_at):
            LOGGER.info({"action": "stop waiting", "reason": "the resource was deleted", "TaskRunId": run_id})
            self._cancel(task.transform_id, run_id)
            return None
        state: dict[str, Any] = {"StartedAt": window.started_at, "Rollback": rollback.value, "Turn": claimant}
        if not run_id and claim is Claim.OUT_OF_REACH:  # a duplicate cannot be told: its own run, if a task can
            run_id = self._own_run(task, window)
        if run_id and not before:
            before = {"Gated": rollback is Rollback.NO}
        if not run_id:
            begun = self._begin(task, event, context, rollback, window, state)
            if not isinstance(begun, tuple):
                return begun
            run_id, before = begun
        return self._wait(task, event, context, run_id, before, window, state)

    def _taken_over(
        self, task: Task, event: Mapping[str, Any], taken: Takeover, run_id: str, before: dict[str, Any]
    ) -> tuple[str, dict[str, Any], Window]:
        """Where the work of a claimant that died stood: the run it recorded, or the run of the start
        it was sending (found as after a lost reply, and recorded), or none; `before`, the window."""
        run_id, before, window = run_id or taken.run_id, before or taken.before, taken.window
        if not run_id and taken.starting_at is not None:
            call = Call(taken.starting_at, taken.starting_at + CALL_DEADLINE_S)
            cause = "the invocation that claimed the request ended during its start"
            found = run_of_lost_start(self.runs, self.clock, task, call, cause=cause, wait_until=window.until)
            if found:
                self._record_run(event, task, found, before)
                run_id = found
        if not run_id and window.deadline <= self.clock.now():
            raise TaskFailed(f"timed out after {task.service_timeout_s / 60:g} minutes: no task run started")
        return run_id, before, window

    def _begin(
        self,
        task: Task,
        event: dict[str, Any],
        context: Any,
        rollback: Rollback,
        window: Window,
        state: dict[str, Any],
    ) -> dict[str, Any] | tuple[str, dict[str, Any]] | None:
        """Where a request's run starts: the Data when there is nothing new to do, None once handed
        over (waiting for capacity) or answered already, or the run it started (its id and `before`)."""
        unchanged = self._unchanged_answer(task, event)
        if unchanged is not None:
            LOGGER.info({"action": "nothing new", "answer": "the previous Data"})
            return unchanged
        if HANDOVER_KEY in event and self.deliveries.answered(event):  # the request gave up on its hand-over
            LOGGER.warning({"action": "start", "result": "none: the request was answered before this turn"})
            return None
        gated = rollback is Rollback.NO
        try:
            done = task.answer_done(self.runs, event, self._own_answers(event), gated=gated, retry_until=window.until)
            if done is not None:
                LOGGER.info({"action": "nothing new", "TransformId": task.transform_id, "TaskRunId": done["TaskRunId"]})
                return done
            before = {**task.check(self.runs, self.s3, event, retry_until=window.until), "Gated": gated}
            run_id = start_run(
                self.runs,
                self.clock,
                task,
                retry_until=window.until,
                on_send=lambda: self.deliveries.starting(event, before),
                on_nothing_started=lambda: self.deliveries.not_starting(event),
            )
        except (BotoCoreError, ClientError, NoTimeToStart) as error:  # no run of this request started (run_starts)
            if (isinstance(error, NoTimeToStart) or is_transient(error)) and window.invocation_end < window.deadline:
                LOGGER.info(
                    {"action": "wait for capacity", "TransformId": task.transform_id, "error": error_code(error)}
                )
                self._hand_over(event, context, state)
                return None
            if isinstance(error, NoTimeToStart):
                raise TaskFailed(
                    f"timed out after {task.service_timeout_s / 60:g} minutes: no task run started"
                ) from None
            message = error.response.get("Error", {}).get("Message", error) if isinstance(error, ClientError) else error
            raise TaskFailed(
                fit_reason(f"{error_code(error)}: ", str(message), f" (transform {task.transform_id[:100]})")
            ) from None
        self._record_run(event, task, run_id, before)
        return run_id, before

    def _record_run(self, event: Mapping[str, Any], task: Task, run_id: str, before: dict[str, Any]) -> None:
        """The run this delivery started (or took over): on its claim, and as the resource's run in flight."""
        key, request_id, resource = delivery_key(event), str(event["RequestId"]), resource_key(event)
        self._ledger(
            "record run",
            lambda ledger: ledger.record_run(key, request_id, resource, run_id, task.transform_id, before),
        )

    def _own_answers(self, event: Mapping[str, Any]) -> OwnAnswers:
        """What the resource answered before, from the run ledger (nothing when it is out of reach)."""
        resource, properties = resource_key(event), event.get("ResourceProperties") or {}
        return OwnAnswers(
            read_current=lambda: self._ledger("read resource", lambda ledger: ledger.resource(resource).get("Current")),
            read_for_these=lambda: self._ledger(
                "previous answer", lambda ledger: ledger.previous_answer(resource, properties)
            ),
        )

    def _wait(
        self,
        task: Task,
        event: dict[str, Any],
        context: Any,
        run_id: str,
        before: dict[str, Any],
        window: Window,
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
        recorded = self._ledger("record answer", lambda ledger: ledger.record_answer(request_id, answer))
        standing, first = recorded or (answer, True)
        if first and answer.get("Status") == "SUCCESS":  # a late duplicate changes nothing the ledger remembers
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

    def _own_run(self, task: Task, window: Window) -> str:
        """The run this request started, when the task can tell it apart from any other ("" if not)."""
        try:
            run = task.own_run(self.runs, retry_until=window.until)
        except (BotoCoreError, ClientError) as error:
            LOGGER.warning({"action": "find own run", "error": error_code(error)})
            return ""
        if run is None:
            return ""
        LOGGER.info({"action": "adopt", "TransformId": task.transform_id, "TaskRunId": run["TaskRunId"]})
        return str(run["TaskRunId"])

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
        return or_none(self.ledger, what, operation)

    def _cancel(self, transform_id: str, run_id: str) -> bool:
        """Cancel the run if Glue lets us; say whether it did."""
        return cancel_run(self.runs, self.clock, transform_id, run_id)

    def _hand_over(self, event: dict[str, Any], context: Any, state: dict[str, Any]) -> None:
        """Hand the request over to a fresh invocation (the turn `state` names); this delivery's duplicates stop."""
        hand_over(self.lambda_client, self.clock, event, context, state)
        self.deliveries.handed_over(event)


def _answer_key(event: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """The resource and the properties a remembered answer is filed under."""
    return resource_key(event), event.get("ResourceProperties") or {}
