"""Whether an Update is part of a rollback: what CloudFormation says, not state the handler left behind.

During a rollback CloudFormation sends each resource an Update back to its old properties, and
the stack's status is UPDATE_ROLLBACK_IN_PROGRESS. A nested stack is rolled back because its root
stack is (AWS: "rolling back the parent stack will attempt to roll back all the child stacks as
well"), and while the root rolls back the nested stack itself may show a status of its own
(UPDATE_IN_PROGRESS as its parent updates it back). So for a nested stack (DescribeStacks names
a RootId) the root's status is read as well, and a rollback status of either means rollback.
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .retries import Clock, error_code, with_retries

LOGGER = logging.getLogger(__name__)

LOOKUP_S = 15.0  # how long reading the statuses may retry


class Rollback(enum.Enum):
    """What CloudFormation says of the stack while it sends an Update."""

    NO = "no"
    YES = "yes"
    UNKNOWN = "unknown"  # the status could not be read: handled as a rollback, which never fails


def is_rollback_status(status: str) -> bool:
    """UPDATE_ROLLBACK_IN_PROGRESS, ROLLBACK_IN_PROGRESS, IMPORT_ROLLBACK_IN_PROGRESS."""
    return status.endswith("ROLLBACK_IN_PROGRESS")


def rollback_of(cloudformation: Any, stack_id: str, *, clock: Clock) -> Rollback:
    """Whether the stack (or the root stack of a nested one) is rolling back; UNKNOWN logged at ERROR."""
    retry_until = clock.now() + LOOKUP_S
    try:
        stack = _describe(cloudformation, stack_id, retry_until=retry_until, clock=clock)
        statuses = {stack_id: str(stack.get("StackStatus", ""))}
        root_id = stack.get("RootId")
        if root_id and root_id != stack_id:
            root = _describe(cloudformation, str(root_id), retry_until=retry_until, clock=clock)
            statuses[str(root_id)] = str(root.get("StackStatus", ""))
    except (BotoCoreError, ClientError, LookupError) as error:
        LOGGER.error(
            {"action": "stack status", "error": error_code(error), "result": "unknown: no gate fails this Update"}
        )
        return Rollback.UNKNOWN
    rollback = any(is_rollback_status(status) for status in statuses.values())
    LOGGER.info({"action": "stack status", "statuses": list(statuses.values()), "rollback": rollback})
    return Rollback.YES if rollback else Rollback.NO


def _describe(cloudformation: Any, stack_id: str, *, retry_until: float, clock: Clock) -> dict[str, Any]:
    response = with_retries(
        lambda: cloudformation.describe_stacks(StackName=stack_id),
        retry_until=retry_until,
        clock=clock,
        what="DescribeStacks",
    )
    stack: dict[str, Any] = response["Stacks"][0]
    return stack
