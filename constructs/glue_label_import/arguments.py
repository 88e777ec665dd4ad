"""Checks of the arguments the constructs share, made at the call, before a construct joins the tree.

A wrong type is a `TypeError` and a bad value a `ValueError`, each naming the argument and what it
got. Only resolved values are checked: a token is known at deploy time only and passes unchecked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, Optional, Union

from aws_cdk import CfnElement, Duration, Stack, Token
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from constructs import Construct

from glue_label_import._handler.rules import transform_id_problem

FIND_MATCHES = "FIND_MATCHES"
"""The one transform type Glue has, and the one labels are for."""
MIN_TIMEOUT = Duration.minutes(1)
MAX_TIMEOUT = Duration.hours(1)
"""A custom resource's ServiceTimeout: CloudFormation accepts 1 second to 1 hour; under a minute
leaves the handler no time to cancel the run and answer."""

# jsii interfaces such as iam.IRole are typing Protocols that are not runtime-checkable
# (`isinstance(role, iam.IRole)` raises TypeError), and a role made in JavaScript
# (`Role.from_role_arn`, `Role.from_role_name`) comes back as a dynamic proxy that is an instance
# of no Python class of IRole. So a role is recognized by the members of IRole the grants use.
_ROLE_MEMBERS = ("role_arn", "role_name", "grant_principal")


MAX_SHOWN = 80
"""Characters of a value an error message shows; a longer value is cut, ending in "..."."""


def quoted(value: Any) -> str:
    """A value as an error message shows it: its repr, cut to :data:`MAX_SHOWN` characters."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


def shown(value: Any) -> str:
    """A wrong argument as an error message shows it: its type and its repr, cut short; a construct's
    construct path instead of its repr (``<aws_cdk... object at 0x...>``)."""
    if isinstance(value, Construct):
        return f"{type(value).__name__} {value.node.path}"
    return f"{type(value).__name__} {quoted(value)}"


def transform_named(transform_id: str, stack: Stack) -> str:
    """How a message names a transform: the construct path of what its id refers to (a
    ``CfnMLTransform``, a ``CfnParameter``), else the id itself, cut short."""
    resolved = stack.resolve(transform_id)
    if isinstance(resolved, dict) and list(resolved) == ["Ref"]:
        for element in stack.node.find_all():
            if isinstance(element, CfnElement) and stack.resolve(element.logical_id) == resolved["Ref"]:
                return element.node.path
    return quoted(resolved if isinstance(resolved, str) else json.dumps(resolved))


def transform_id(transform: Union[glue.CfnMLTransform, str], name: str = "transform") -> str:
    """The TransformId of a `CfnMLTransform` (its Ref) or of a TransformId string or token.

    :raises ValueError: a CfnMLTransform whose resolved transform_type is not FIND_MATCHES.
    """
    if isinstance(transform, glue.CfnMLTransform):
        parameters = Stack.of(transform).resolve(transform.transform_parameters)
        transform_type = parameters.get("transformType") if isinstance(parameters, dict) else None
        if isinstance(transform_type, str) and transform_type != FIND_MATCHES:
            raise ValueError(
                f"{name} {transform.node.path} is not a {FIND_MATCHES} transform: its transform_type is "
                f"{shown(transform_type)}, and only a {FIND_MATCHES} transform learns from labels"
            )
        return transform.ref
    if not isinstance(transform, str):
        raise TypeError(f"{name} must be a CfnMLTransform or a TransformId string, got {shown(transform)}")
    problem = None if Token.is_unresolved(transform) else transform_id_problem(transform)
    if problem:
        raise ValueError(f"transform id {quoted(transform)} {problem}")
    return transform


def check_timeout(timeout: Any, name: str = "timeout") -> Duration:
    """A ServiceTimeout: a `Duration` of whole seconds from 1 minute to 1 hour (a token passes), or
    None for the default, 1 hour."""
    if timeout is None:
        return MAX_TIMEOUT
    if not isinstance(timeout, Duration):
        raise TypeError(f"{name} must be an aws_cdk.Duration such as Duration.minutes(30), got {shown(timeout)}")
    if timeout.is_unresolved():
        return timeout
    seconds = timeout.to_seconds(integral=False)
    if seconds != int(seconds):
        raise ValueError(f"{name} of {seconds:g} seconds must be a whole number of seconds")
    if not MIN_TIMEOUT.to_seconds() <= seconds <= MAX_TIMEOUT.to_seconds():
        raise ValueError(f"{name} {timeout.to_human_string()} must be between 1 minute and 1 hour")
    return timeout


def check_bool(value: Any, name: str) -> Union[bool, str]:
    """A real `bool` (not 1, not "yes"), or a string token resolved at deploy time."""
    if isinstance(value, bool) or (isinstance(value, str) and Token.is_unresolved(value)):
        return value
    raise TypeError(f"{name} must be True or False, got {shown(value)}")


def has_members(value: Any, members: tuple[str, ...]) -> bool:
    """Whether `value` has every one of `members`: how a jsii interface is recognized (see above)."""
    return all(hasattr(value, member) for member in members)


def check_role(value: Any, name: str) -> Optional[iam.IRole]:
    """An `iam.IRole` (an `iam.Role`, an imported role, any other IRole) or None."""
    if value is None or has_members(value, _ROLE_MEMBERS):
        return value  # type: ignore[no-any-return]
    raise TypeError(f"{name} must be an aws_iam.IRole (an iam.Role, or Role.from_role_arn(...)), got {shown(value)}")


def check_instance(value: Any, name: str, expected: type, described: str) -> None:
    """`value` is an instance of `expected`, or a TypeError says it should be `described`."""
    if not isinstance(value, expected):
        raise TypeError(f"{name} must be {described}, got {shown(value)}")


def check_fraction(value: Any, name: str) -> Optional[float]:
    """An optional threshold: None, or a number from 0 to 1 (a token is taken unchecked)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number from 0 to 1, got {shown(value)}")
    # isfinite first: jsii cannot carry NaN or infinity to Token.is_unresolved
    if not math.isfinite(value) or (not Token.is_unresolved(value) and not 0 <= value <= 1):
        raise ValueError(f"{name} must be a number from 0 to 1, got {shown(value)}")
    return float(value)


def check_after(after: Any, transform_id: str, scope: Construct, name: str = "after") -> Optional[list[Construct]]:
    """None, or a list of this library's task-run constructs (each has a `task_run_id`) on this transform.

    :raises TypeError: not a list of constructs of this library.
    :raises ValueError: one of them is on another transform, naming it.
    """
    if after is None:
        return None
    if isinstance(after, (str, bytes)) or not isinstance(after, Sequence):
        raise TypeError(f"{name} must be a list of constructs of this library (LabelImport, ...), got {shown(after)}")
    for item in after:
        if not isinstance(item, Construct) or not has_members(item, ("task_run_id", "transform_id")):
            raise TypeError(f"{name} must hold constructs of this library (LabelImport, ...), got {shown(item)}")
    stack = Stack.of(scope)
    for resource in after:
        theirs = getattr(resource, "transform_id")  # noqa: B009  # checked above
        if json.dumps(stack.resolve(theirs)) != json.dumps(stack.resolve(transform_id)):
            raise ValueError(
                f"{name}: {resource.node.path} is on transform {transform_named(theirs, stack)}, "
                f"not on {transform_named(transform_id, stack)}"
            )
    return list(after)
