"""The one handler function that serves every LabelImport of a stack, and how to configure it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any, Optional, Union

import jsii
from aws_cdk import Annotations, CustomResource, Duration, IStableNumberProducer, Lazy, RemovalPolicy, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct, Node

from glue_label_import import arguments
from glue_label_import.handler_asset import handler_asset_dir
from glue_label_import.label_source import LabelLocation
from glue_label_import.rounds import Follows, Rounds

WATCH_ACTIONS = ("glue:GetMLTaskRun", "glue:GetMLTaskRuns", "glue:CancelMLTaskRun", "glue:GetMLTransform")
"""What the handler does on every transform it serves: find, watch and cancel runs, read the transform."""
LEDGER_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
"""The item actions the handler uses on its run ledger, the only ones granted on it."""
LEDGER_KEY = "Id"
LEDGER_TTL_ATTRIBUTE = "ExpiresAt"
DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH
DEFAULT_LOG_REMOVAL_POLICY = RemovalPolicy.RETAIN
_VPC_MEMBERS = ("vpc_id", "select_subnets")
_SECURITY_GROUP_MEMBERS = ("security_group_id", "connections")


@dataclass(frozen=True)
class _Settings:
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
    ) -> _Settings:
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

    def differences(self, other: _Settings) -> list[str]:
        """`other`'s settings that differ from these, as `name=value (it has value)`."""
        return [
            f"{field.name}={_shown(getattr(other, field.name))} (it has {_shown(getattr(self, field.name))})"
            for field in fields(self)
            if getattr(self, field.name) != getattr(other, field.name)
        ]


def _stack_ids(stack: Stack) -> list[str]:
    """The ARN (StackId) of the stack, and of its root stack when it is nested."""
    root = stack
    while root.nested_stack_parent is not None:
        root = root.nested_stack_parent
    return [stack.stack_id] if root is stack else [stack.stack_id, root.stack_id]


def _shown(value: Any) -> str:
    if isinstance(value, Enum):
        return f"{type(value).__name__}.{value.name}"
    if isinstance(value, tuple):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    if isinstance(getattr(value, "node", None), Node):  # a construct: its path
        return str(value.node.path)
    return repr(value)


@jsii.implements(IStableNumberProducer)
class _MaxEventAge:
    """The largest ServiceTimeout among the resources the handler serves, in seconds.

    The handler hands a long wait over to an asynchronous invocation of itself. An event that
    waited in Lambda's queue longer than the resource's ServiceTimeout would run after
    CloudFormation has given up on the resource, so the events may not get older than that. One
    setting covers every resource of the stack: the largest timeout (1 hour when a timeout is a
    token, or when there is none yet). Timeouts are 1 minute to 1 hour, inside Lambda's range
    for MaximumEventAgeInSeconds (60 seconds to 6 hours).
    """

    def __init__(self) -> None:
        self.timeouts: list[Duration] = []

    def produce(self) -> int:
        if not self.timeouts or any(timeout.is_unresolved() for timeout in self.timeouts):
            return int(arguments.MAX_TIMEOUT.to_seconds())
        return max(int(timeout.to_seconds()) for timeout in self.timeouts)


class LabelImportProvider(Construct):
    """What every LabelImport of a stack shares: the handler Lambda, its log group and role,
    the order of imports per transform, and the transform roles imported by ARN or name.

    There is one per stack, made by the first LabelImport with `LabelImportProvider.of(scope)`.
    To set it up otherwise (log retention, the log group's removal policy, a VPC), call
    `LabelImportProvider.configure(stack, ...)` before the first LabelImport of the stack.
    Reach it for alarms and log subscriptions with `LabelImportProvider.of(stack)`:

    - ``function``: the handler's ``aws_lambda.Function``;
    - ``log_group``: its ``aws_logs.ILogGroup`` (JSON lines);
    - ``role``: the ``aws_iam.IRole`` it runs as;
    - ``ledger``: the run ledger, an ``aws_dynamodb.Table`` of the handler's own (what it must
      remember between invocations: the run each resource has in flight, each request's claim
      and answer), so that nothing is written on the user's transforms.
    """

    ID = "GlueLabelImportProvider"

    @classmethod
    def of(cls, scope: Construct) -> LabelImportProvider:
        """The provider of `scope`'s stack, created with the default settings on first use."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(cls.ID)
        if isinstance(existing, cls):
            return existing
        return cls(stack, cls.ID)

    @classmethod
    def configure(
        cls,
        scope: Construct,
        *,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
        log_removal_policy: RemovalPolicy = DEFAULT_LOG_REMOVAL_POLICY,
        vpc: Optional[ec2.IVpc] = None,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        security_groups: Optional[Sequence[ec2.ISecurityGroup]] = None,
    ) -> LabelImportProvider:
        """Create the provider of `scope`'s stack with these settings; call it before the first
        LabelImport of the stack. Calling it again with the same settings returns the provider.

        :param log_retention: how long the handler's logs are kept (default one month).
        :param log_removal_policy: what becomes of the log group when it leaves the stack
            (default ``RemovalPolicy.RETAIN``: the logs outlive ``cdk destroy``).
        :param vpc: run the handler in this VPC. It then reaches Glue, Lambda (to hand a long
            wait over to itself) and S3 (the label files and CloudFormation's ResponseURL)
            through VPC endpoints or a NAT gateway: see the README.
        :param vpc_subnets: where in the VPC (default: its private subnets).
        :param security_groups: the handler's security groups (default: a new one that allows
            all outbound traffic).
        :raises TypeError: an argument of the wrong type, naming it and what it got.
        :raises ValueError: ``vpc_subnets`` or ``security_groups`` without ``vpc``.
        :raises RuntimeError: the stack's provider exists already with other settings (a
            LabelImport made it, or an earlier ``configure``).
        """
        settings = _Settings.checked(log_retention, log_removal_policy, vpc, vpc_subnets, security_groups)
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(cls.ID)
        if isinstance(existing, cls):
            differences = existing._settings.differences(settings)
            if differences:
                raise RuntimeError(
                    f"LabelImportProvider.configure({', '.join(differences)}) comes too late: the provider "
                    f"of stack {stack.node.path!r} exists already; call configure before the stack's first LabelImport"
                )
            return existing
        return cls(
            stack,
            cls.ID,
            log_retention=log_retention,
            log_removal_policy=log_removal_policy,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
        )

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        log_retention: logs.RetentionDays = DEFAULT_LOG_RETENTION,
        log_removal_policy: RemovalPolicy = DEFAULT_LOG_REMOVAL_POLICY,
        vpc: Optional[ec2.IVpc] = None,
        vpc_subnets: Optional[ec2.SubnetSelection] = None,
        security_groups: Optional[Sequence[ec2.ISecurityGroup]] = None,
    ) -> None:
        """Use `of` or `configure` instead, which find the stack's one provider (the arguments
        are those of `configure`)."""
        settings = _Settings.checked(log_retention, log_removal_policy, vpc, vpc_subnets, security_groups)
        self._settings = settings
        super().__init__(scope, construct_id)
        self.log_group: logs.ILogGroup = logs.LogGroup(
            self, "Logs", retention=settings.log_retention, removal_policy=settings.log_removal_policy
        )
        """The handler's log group: JSON lines, one per event of a request."""
        # An explicit role instead of AWSLambdaBasicExecutionRole: logs go to this log group only.
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        if settings.vpc is not None:  # the network interfaces of a function in a VPC
            role.add_managed_policy(
                iam.ManagedPolicy.from_aws_managed_policy_name("service-role/AWSLambdaVPCAccessExecutionRole")
            )
        self.role: iam.IRole = role
        """The role the handler runs as."""
        self.log_group.grant_write(role)
        self._max_event_age = _MaxEventAge()
        self.function = lambda_.Function(
            self,
            "Handler",
            description="Runs AWS Glue FindMatches task runs (label imports, evaluations) for CloudFormation",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_asset(handler_asset_dir()),
            timeout=Duration.minutes(15),
            memory_size=256,
            retry_attempts=0,  # a retried asynchronous hand-over would answer CloudFormation twice
            max_event_age=Duration.seconds(Lazy.number(self._max_event_age)),
            log_group=self.log_group,
            role=role,
            vpc=settings.vpc,
            vpc_subnets=settings.vpc_subnets,
            security_groups=list(settings.security_groups) if settings.security_groups is not None else None,
        )
        """The handler: the ServiceToken of every resource the provider serves."""
        self.rounds = Rounds(self)
        """The order of the resources on each transform: the imports, then what follows them."""
        self.ledger = dynamodb.Table(
            self,
            "Ledger",
            partition_key=dynamodb.Attribute(name=LEDGER_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=LEDGER_TTL_ATTRIBUTE,
            removal_policy=RemovalPolicy.DESTROY,  # only in-flight state: nothing to keep once the stack goes
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
        )
        """The run ledger: one table per stack, deleted with it; items expire (TTL ``ExpiresAt``)."""
        self.function.add_environment("LEDGER_TABLE", self.ledger.table_name)
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=list(LEDGER_ACTIONS), resources=[self.ledger.table_arn])
        )
        # "Rollback" is what CloudFormation says: the stack's status, and for a nested stack its root's.
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=_stack_ids(Stack.of(self)))
        )
        self._transform_roles: dict[str, iam.IRole] = {}
        self._stack_roles: dict[str, iam.Role] = {}
        self._glue_access: dict[tuple[str, ...], iam.PolicyStatement] = {}
        # A wait that outlasts one invocation goes on in an asynchronous invocation of the same
        # function. The grant names the function's own ARN, so it lives in a policy of its own
        # that the function does not depend on (the role's default policy would make a cycle).
        self.hand_over_policy = iam.Policy(
            self,
            "HandOverPolicy",
            statements=[iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.function.function_arn])],
            roles=[role],
        )

    @property
    def service_token(self) -> str:
        """The ServiceToken of the custom resources this provider serves."""
        return self.function.function_arn

    def add_task(
        self,
        owner: Construct,
        *,
        transform_id: str,
        resource_type: str,
        start_actions: Sequence[str],
        timeout: Duration,
        properties: dict[str, Any],
        follows: Optional[Follows] = None,
    ) -> CustomResource:
        """The custom resource of a task-run construct (`owner`) on a transform, served by this handler.

        The handler may call `start_actions` (and watch runs) on this transform only, and the
        resource runs after the hand-over grant. Without `follows` it is an import: it runs after
        the imports on the transform declared before it. With `follows` it runs after every import
        on the transform, whenever declared (CloudFormation runs resources without a dependency
        between them in parallel, and a replacing import must not race an evaluation), and after
        `follows.after`; the task run ids it follows are its `After` property, so that it runs
        again exactly when one of them ran.
        """
        if follows is not None:
            properties = {**properties, "After": self.rounds.after_property(owner)}
        self._grant(transform_id, WATCH_ACTIONS)
        self._grant(transform_id, tuple(start_actions))
        self._max_event_age.timeouts.append(timeout)
        resource = CustomResource(
            owner,
            "Resource",
            resource_type=resource_type,
            service_token=self.service_token,
            service_timeout=timeout,
            properties={"TransformId": transform_id, **properties},
        )
        resource.node.add_dependency(self.hand_over_policy)
        if follows is None:
            self.rounds.add_import(owner, resource, transform_id)
        else:
            self.rounds.add_follower(owner, resource, transform_id, follows)
        return resource

    def _grant(self, transform_id: str, actions: tuple[str, ...]) -> None:
        """Let the handler call `actions` on this transform (one statement per set of actions)."""
        if actions not in self._glue_access:
            self._glue_access[actions] = iam.PolicyStatement(actions=list(actions))
            self.function.add_to_role_policy(self._glue_access[actions])
        transform_arn = Stack.of(self).format_arn(service="glue", resource="mlTransform", resource_name=transform_id)
        self._glue_access[actions].add_resources(transform_arn)

    def grant_read_label_file(self, location: LabelLocation) -> None:
        """Let the handler read the label file's header: exactly that object, and its bucket's key if known."""
        self.function.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=[location.object_arn]))
        if location.encryption_key:
            location.encryption_key.grant_decrypt(self.function)

    def role_of(
        self, scope: Construct, transform: Union[glue.CfnMLTransform, str], purpose: str
    ) -> Optional[iam.IRole]:
        """The role a CfnMLTransform runs as, as something grants can go to; None when unknown.

        When the stack cannot tell (a TransformId, or a role known only at deploy time), `scope`
        gets a warning asking for ``transform_role=`` `purpose` ("so that it may read the label file").
        """
        if not isinstance(transform, glue.CfnMLTransform):
            Annotations.of(scope).add_warning_v2(
                "glue-label-import:transform-role",
                "its transform is a TransformId, so the stack cannot tell the role Glue runs it as and grants "
                "that role nothing: pass transform_role=iam.Role.from_role_arn(self, 'TransformRole', "
                f"'<the transform's role ARN>') {purpose}",
            )
            return None
        role = transform.role
        if not Token.is_unresolved(role):  # CloudFormation takes a role's ARN or its name
            return self.transform_role(role)
        reference = Stack.of(scope).resolve(role)
        if isinstance(reference, dict) and reference.get("Fn::GetAtt", [None, None])[1] == "Arn":
            stack_role = self.stack_role(reference["Fn::GetAtt"][0])  # grant to it, paths and all
            if stack_role is not None:
                return stack_role
        Annotations.of(scope).add_warning_v2(
            "glue-label-import:transform-role",
            f"cannot tell the role of transform {transform.node.path} (its role is known only at deploy time): "
            f"pass transform_role= {purpose}",
        )
        return None

    def transform_role(self, role: str) -> iam.IRole:
        """The role a transform names by ARN or name, imported once per stack.

        Every import's grants to one role then land in one policy, well inside IAM's limits.
        """
        if role not in self._transform_roles:
            construct_id = f"TransformRole{len(self._transform_roles) + 1}"
            if role.startswith("arn:"):
                self._transform_roles[role] = iam.Role.from_role_arn(self, construct_id, role)
            else:
                self._transform_roles[role] = iam.Role.from_role_name(self, construct_id, role)
        return self._transform_roles[role]

    def stack_role(self, logical_id: str) -> iam.Role | None:
        """The `iam.Role` of this stack whose CloudFormation logical id is `logical_id`, if any."""
        if logical_id not in self._stack_roles:  # look again: roles may have come since the last look
            stack = Stack.of(self)
            self._stack_roles = {
                stack.resolve(element.logical_id): element.node.scope
                for element in stack.node.find_all()
                if isinstance(element, iam.CfnRole) and isinstance(element.node.scope, iam.Role)
            }
        return self._stack_roles.get(logical_id)
