"""How the stack's handler is set up (`TaskRunProvider.configure`): the settings, their checks and defaults."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, Optional

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Node

from glue_label_import import arguments

DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DEFAULT_LOG_REMOVAL_POLICY = RemovalPolicy.RETAIN
_VPC_MEMBERS = ("vpc_id", "select_subnets")
_SECURITY_GROUP_MEMBERS = ("security_group_id", "connections")


@dataclass(frozen=True)
class Settings:
    """How the handler is set up: fixed once the provider exists (a function's VPC cannot change)."""

    log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION
    log_removal_policy: RemovalPolicy = DEFAULT_LOG_REMOVAL_POLICY
    vpc: Optional[ec2.IVpc] = None
    vpc_subnets: Optional[ec2.SubnetSelection] = None
    security_groups: Optional[tuple[ec2.ISecurityGroup, ...]] = None

    @classmethod
    def checked(
        cls,
        log_retention: Any,
        log_removal_policy: Any,
        vpc: Any,
        vpc_subnets: Any,
        security_groups: Any,
    ) -> Settings:
        arguments.check_instance(
            log_retention,
            "log_retention",
            logs.RetentionDays,
            "an aws_logs.RetentionDays such as RetentionDays.ONE_YEAR",
        )
        arguments.check_instance(
            log_removal_policy,
            "log_removal_policy",
            RemovalPolicy,
            "an aws_cdk.RemovalPolicy such as RemovalPolicy.DESTROY",
        )
        if vpc is not None and not arguments.has_members(vpc, _VPC_MEMBERS):
            raise TypeError(f"vpc must be an aws_ec2.IVpc, got {arguments.shown(vpc)}")
        if vpc_subnets is not None:
            arguments.check_instance(vpc_subnets, "vpc_subnets", ec2.SubnetSelection, "an aws_ec2.SubnetSelection")
        if security_groups is not None:
            if isinstance(security_groups, (str, bytes)) or not isinstance(security_groups, Sequence):
                raise TypeError(
                    f"security_groups must be a list of aws_ec2.ISecurityGroup, got {arguments.shown(security_groups)}"
                )
            for group in security_groups:
                if not arguments.has_members(group, _SECURITY_GROUP_MEMBERS):
                    raise TypeError(f"security_groups must hold aws_ec2.ISecurityGroup, got {arguments.shown(group)}")
            security_groups = tuple(security_groups)
        if vpc is None and (vpc_subnets is not None or security_groups is not None):
            given = "vpc_subnets" if vpc_subnets is not None else "security_groups"
            raise ValueError(f"{given} needs vpc: the handler is in a VPC only when vpc is given")
        return cls(log_retention, log_removal_policy, vpc, vpc_subnets, security_groups)

    def differences(self, other: Settings) -> list[str]:
        """`other`'s settings that differ from these, as `name=value (it has value)`."""
        return [
            f"{field.name}={_shown(getattr(other, field.name))} (it has {_shown(getattr(self, field.name))})"
            for field in fields(self)
            if getattr(self, field.name) != getattr(other, field.name)
        ]


def _shown(value: Any) -> str:
    if isinstance(value, Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    if isinstance(getattr(value, "node", None), Node):  # a construct: its path
        return str(value.node.path)
    return repr(value)
