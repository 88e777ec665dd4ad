"""The other services the handler calls, as the emulation adjusts them in moto: CloudFormation's
DescribeStacks reports the stacks a test sets (``stacks``), and moto's access control judges
DynamoDB and CloudFormation requests against the table's and the stack's ARN, as IAM does."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from moto.cloudformation.models import CloudFormationBackend
from moto.cloudformation.responses import CloudFormationResponse
from moto.dynamodb.responses import DynamoHandler

__all__ = ["StackStatuses", "stacks"]


class StackStatuses:
    """CloudFormation's DescribeStacks for the stacks a test sets (``stacks``, reset by ``reset()``).

    ``set(stack_id, status, root_id=None)`` makes DescribeStacks(StackName=stack_id) report the
    stack at ``status``, with ``RootId`` and ``ParentId`` when it is nested in ``root_id``. Stacks
    not set are moto's own (an unknown one is moto's ValidationError).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stacks: dict[str, _ReportedStack] = {}

    def reset(self) -> None:
        with self._lock:
            self._stacks.clear()

    def set(self, stack_id: str, status: str, *, root_id: str | None = None) -> None:
        stack = _ReportedStack(
            stack_id=stack_id,
            stack_name=stack_id.split("/")[1] if stack_id.count("/") >= 2 else stack_id,
            stack_status=status,
            root_id=root_id,
            parent_id=root_id,
        )
        with self._lock:
            self._stacks[stack_id] = stack

    def get(self, stack_id: str) -> _ReportedStack | None:
        with self._lock:
            return self._stacks.get(stack_id)


@dataclass(frozen=True)
class _ReportedStack:
    """A stack as DescribeStacks reports it (moto's serializer reads these attributes)."""

    stack_id: str
    stack_name: str
    stack_status: str
    root_id: str | None
    parent_id: str | None
    creation_time: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc)
    tags: dict[str, str] = field(default_factory=dict)


stacks = StackStatuses()


def describing_set_stacks(describe: Callable[..., Any]) -> Callable[..., Any]:
    """DescribeStacks that answers for the stacks set in ``stacks`` first."""

    @functools.wraps(describe)
    def wrapper(self: CloudFormationBackend, name_or_stack_id: str) -> Any:
        stack = stacks.get(name_or_stack_id) if name_or_stack_id else None
        return [stack] if stack is not None else describe(self, name_or_stack_id)

    return wrapper


def dynamodb_table_arn(self: DynamoHandler) -> str:
    """The ARN of the table a DynamoDB request names (``*`` for a request without one)."""
    try:
        body = self.body if isinstance(self.body, dict) else json.loads(self.body or "{}")
    except ValueError:
        return "*"
    table = body.get("TableName")
    return f"arn:{self.partition}:dynamodb:{self.region}:{self.current_account}:table/{table}" if table else "*"


def cloudformation_stack_arn(self: CloudFormationResponse) -> str:
    """The stack a CloudFormation request names by its ARN (a StackId), as IAM judges it; else ``*``."""
    stack = self._get_param("StackName")
    return stack if isinstance(stack, str) and stack.startswith("arn:") else "*"
