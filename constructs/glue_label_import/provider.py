"""The one handler function that serves every resource of the library in a stack, and how to configure it."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Optional

import jsii
from aws_cdk import Duration, IStableNumberProducer, Lazy, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from glue_label_import import arguments
from glue_label_import.handler_asset import handler_asset_dir
from glue_label_import.provider_settings import DEFAULT_LOG_REMOVAL_POLICY, DEFAULT_LOG_RETENTION, Settings
from glue_label_import.rounds import Rounds
from glue_label_import.transform_roles import TransformRoles

WATCH_ACTIONS = ("glue:GetMLTaskRun", "glue:GetMLTaskRuns", "glue:CancelMLTaskRun", "glue:GetMLTransform")
"""What the handler does on every transform it serves: find, watch and cancel runs, read the transform."""
LEDGER_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
"""The item actions the handler uses on its run ledger, the only ones granted on it."""
LEDGER_KEY = "Id"
LEDGER_TTL_ATTRIBUTE = "ExpiresAt"
_RESOURCES = "LabelImport, TransformEvaluation or LabelingSetGeneration"
"""The resources of the library, each of which makes its stack's provider on first use."""


def _stack_ids(stack: Stack) -> list[str]:
    """The ARN (StackId) of the stack, and of its root stack when it is nested."""
    root = stack
    while root.nested_stack_parent is not None:
        root = root.nested_stack_parent
    return [stack.stack_id] if root is stack else [stack.stack_id, root.stack_id]


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


class TaskRunProvider(Construct):
    """The handler of every resource of this library in a stack: its label imports
    (``LabelImport``), evaluations (``TransformEvaluation``) and labeling-set generations
    (``LabelingSetGeneration``), each one Glue ML task run. One Lambda function, its log group,
    its role and its run ledger, per stack.

    The first resource of a stack makes it with ``TaskRunProvider.of(scope)``. To set it up
    otherwise (log retention, the log group's removal policy, a VPC), call
    ``TaskRunProvider.configure(stack, ...)`` before the first resource of the stack. Reach it
    for alarms and log subscriptions with ``TaskRunProvider.of(stack)``:

    - ``function``: the handler's ``aws_lambda.Function``;
    - ``log_group``: its ``aws_logs.ILogGroup`` (JSON lines);
    - ``role``: the ``aws_iam.IRole`` it runs as.
    """

    ID = "GlueLabelImportProvider"
    """Its construct id in the stack (kept from the first release: the logical ids stay)."""

    @classmethod
    def of(cls, scope: Construct) -> TaskRunProvider:
        """The provider of `scope`'s stack, created with the default settings on first use."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(cls.ID)
        if isinstance(existing, cls):
            return existing
        provider = cls(stack, cls.ID)
        provider._creator = f"TaskRunProvider.of({stack.node.path!r})" if scope is stack else arguments.shown(scope)
        return provider

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
    ) -> TaskRunProvider:
        """Create the provider of `scope`'s stack with these settings; call it before the first
        resource of the stack (LabelImport, TransformEvaluation, LabelingSetGeneration). Calling
        it again with the same settings returns the provider.

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
        :raises RuntimeError: the stack's provider exists already with other settings, naming
            what created it (the construct path of the resource that made it, or an earlier
            ``configure``).
        """
        settings = Settings.checked(log_retention, log_removal_policy, vpc, vpc_subnets, security_groups)
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(cls.ID)
        if isinstance(existing, cls):
            differences = existing._settings.differences(settings)
            if differences:
                raise RuntimeError(
                    f"TaskRunProvider.configure({', '.join(differences)}) comes too late: the provider "
                    f"of stack {stack.node.path!r} exists already; call configure before the stack's first "
                    f"{_RESOURCES}: {existing._creator} created it"
                )
            return existing
        provider = cls(
            stack,
            cls.ID,
            log_retention=log_retention,
            log_removal_policy=log_removal_policy,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=security_groups,
        )
        provider._creator = "an earlier configure"
        return provider

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
        settings = Settings.checked(log_retention, log_removal_policy, vpc, vpc_subnets, security_groups)
        self._settings = settings
        self._creator = f"TaskRunProvider({construct_id!r})"
        """What created it, as `configure` names it when it comes too late."""
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
            description="Runs AWS Glue FindMatches task runs (label imports, evaluations, labeling-set generations)",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_asset(handler_asset_dir()),
            timeout=Duration.minutes(15),
            memory_size=256,
            # Lambda retries an invocation that crashed (killed, out of memory): the retry finds the crashed
            # one's claim in the run ledger and takes the request over once that invocation is surely over.
            retry_attempts=2,
            max_event_age=Duration.seconds(Lazy.number(self._max_event_age)),
            log_group=self.log_group,
            role=role,
            vpc=settings.vpc,
            vpc_subnets=settings.vpc_subnets,
            security_groups=list(settings.security_groups) if settings.security_groups is not None else None,
        )
        """The handler: the ServiceToken of every resource the provider serves."""
        self._rounds = Rounds(self)
        """The order of the resources on each transform: the imports, then what follows them."""
        # The run ledger: what the handler must remember between invocations (the run each
        # resource has in flight, each request's claim and answer), so that nothing is written on
        # the user's transforms. One table per stack, deleted with it; items expire (TTL).
        ledger = dynamodb.Table(
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
        self.function.add_environment("LEDGER_TABLE", ledger.table_name)
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=list(LEDGER_ACTIONS), resources=[ledger.table_arn])
        )
        # "Rollback" is what CloudFormation says: the stack's status, and for a nested stack its root's.
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=_stack_ids(Stack.of(self)))
        )
        self._transform_roles = TransformRoles(self)
        self._glue_access: dict[tuple[str, ...], iam.PolicyStatement] = {}
        # A wait that outlasts one invocation goes on in an asynchronous invocation of the same
        # function. The grant names the function's own ARN, so it lives in a policy of its own
        # that the function does not depend on (the role's default policy would make a cycle).
        self._hand_over_policy = iam.Policy(
            self,
            "HandOverPolicy",
            statements=[iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.function.function_arn])],
            roles=[role],
        )

    @property
    def service_token(self) -> str:
        """The ServiceToken of the custom resources this provider serves: the function's ARN."""
        return self.function.function_arn

    def _serve(self, transform_id: str, start_action: str, timeout: Duration) -> None:
        """Let the handler start, watch and cancel runs on this transform, within `timeout`."""
        self._grant(transform_id, WATCH_ACTIONS)
        self._grant(transform_id, (start_action,))
        self._max_event_age.timeouts.append(timeout)

    def _grant(self, transform_id: str, actions: tuple[str, ...]) -> None:
        """Let the handler call `actions` on this transform (one statement per set of actions)."""
        if actions not in self._glue_access:
            self._glue_access[actions] = iam.PolicyStatement(actions=list(actions))
            self.function.add_to_role_policy(self._glue_access[actions])
        transform_arn = Stack.of(self).format_arn(service="glue", resource="mlTransform", resource_name=transform_id)
        self._glue_access[actions].add_resources(transform_arn)


def deprecated_alias(name: str) -> Any:
    """`TaskRunProvider` under its old name `name` (``LabelImportProvider``), with a DeprecationWarning."""
    warnings.warn(
        f"{name} is deprecated and will be removed in the next release: use TaskRunProvider "
        "(the same class: from glue_label_import import TaskRunProvider)",
        DeprecationWarning,
        stacklevel=3,
    )
    return TaskRunProvider


def __getattr__(name: str) -> Any:
    """The old name of `TaskRunProvider`, kept for one release."""
    if name == "LabelImportProvider":
        return deprecated_alias(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
