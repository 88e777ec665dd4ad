"""Handing the wait for a run to a fresh invocation, and the time a request has across invocations.

An invocation waits for its run until shortly before the Lambda's limit (HANDOVER_MARGIN_S), then
invokes the function again with the event and its state under HANDOVER_KEY; the run is cancelled
shortly before the resource's ServiceTimeout (DEADLINE_MARGIN_S), whichever invocation waits then.

The margin holds, at worst, in this order: a start begun just before the invocation's share ended
(CALL_DEADLINE_S, 10 s) and the search for its run after a lost reply (10 s, and 5 s of listings
retried), the run's record in the ledger and a last GetMLTaskRun, the hand-over's Invoke and its
retries, and, should they fail, the run's cancel and the answer (ANSWER_RESERVE_S).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .answers import TaskFailed, strict_json
from .retries import Clock, error_code, with_retries

LOGGER = logging.getLogger(__name__)

HANDOVER_KEY = "GlueTaskRunHandover"
HANDOVER_MARGIN_S = 45.0  # left in an invocation to hand the wait over, slow calls and all (see above)
DEADLINE_MARGIN_S = 30.0  # left before ServiceTimeout to cancel the run and answer
HANDOVER_RETRY_S = 12.0  # two tries after a 5 s read timeout
ANSWER_RESERVE_S = 8.0  # kept from the Invoke's tries: to cancel the run and answer, should they fail


def hand_over(
    lambda_client: Any,
    clock: Clock,
    event: dict[str, Any],
    context: Any,
    state: dict[str, Any],
) -> None:
    """Let a fresh invocation of this function go on waiting and answer in this one's place.

    `state` names its turn (`Turn`): the invocation claims it, so that a second delivery of the
    event (Lambda's, or a retried Invoke's) stops. So an Invoke whose effect is unknown (a server
    fault, a lost reply) is tried again, and when no try is known to have queued the event, this
    invocation answers: a request is never left without an answer.
    :raises TaskFailed: the Invoke failed (its error code only: Lambda's error messages may quote
        the payload, ResponseURL and all); the caller cancels the run and answers.
    """
    payload = strict_json({**event, HANDOVER_KEY: state}).encode()
    log = {
        "action": "hand-over",
        "TransformId": event["ResourceProperties"].get("TransformId"),
        "TaskRunId": state.get("TaskRunId"),
    }
    remaining_s = context.get_remaining_time_in_millis() / 1000
    try:
        with_retries(
            lambda: lambda_client.invoke(
                FunctionName=context.invoked_function_arn, InvocationType="Event", Payload=payload
            ),
            retry_until=clock.now() + min(HANDOVER_RETRY_S, remaining_s - ANSWER_RESERVE_S),
            clock=clock,
            what="Invoke",
        )  # retried on any transient error, of unknown effect too: a second delivery of the turn stops
    except (BotoCoreError, ClientError) as error:
        LOGGER.warning({**log, "result": f"not handed over ({error_code(error)}): this invocation answers"})
        raise TaskFailed(f"Invoke could not hand the wait over: {error_code(error)}") from None
    LOGGER.info(log)


@dataclass(frozen=True)
class Window:
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
