"""The one handler function that serves every LabelImport of a stack."""

from __future__ import annotations

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from glue_label_import.handler_asset import handler_asset_dir

GLUE_ACTIONS = (
    "glue:StartImportLabelsTaskRun",
    "glue:GetMLTaskRun",
    "glue:GetMLTaskRuns",
    "glue:CancelMLTaskRun",
    "glue:GetMLTransform",
)


class LabelImportProvider(Construct):
    """What every LabelImport of a stack shares: the handler Lambda, its log group and role,
    the order of imports per transform, and the transform roles imported by ARN or name.

    Use `LabelImportProvider.of(scope)`; each LabelImport then calls `grant_import` for its
    transform, so the role reaches exactly the transforms the stack imports into.
    """

    ID = "GlueLabelImportProvider"

    @classmethod
    def of(cls, scope: Construct) -> LabelImportProvider:
        """The stack's provider, created on first use."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(cls.ID)
        if isinstance(existing, cls):
            return existing
        return cls(stack, cls.ID)

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.ONE_MONTH)
        # An explicit role instead of AWSLambdaBasicExecutionRole: logs go to this log group only.
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        log_group.grant_write(role)
        self.function = lambda_.Function(
            self,
            "Handler",
            description="Imports AWS Glue FindMatches labels for Custom::GlueImportLabels resources",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_asset(handler_asset_dir()),
            timeout=Duration.minutes(15),
            memory_size=256,
            retry_attempts=0,  # a retried asynchronous hand-over would answer CloudFormation twice
            log_group=log_group,
            role=role,
        )
        self._last_import: dict[str, CustomResource] = {}
        self._transform_roles: dict[str, iam.IRole] = {}
        self._stack_roles: dict[str, iam.Role] = {}
        self._glue_access = iam.PolicyStatement(actions=list(GLUE_ACTIONS))
        self.function.add_to_role_policy(self._glue_access)
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

    def grant_import(self, transform_id: str) -> None:
        """Let the handler import labels into, watch and cancel runs of this transform."""
        transform_arn = Stack.of(self).format_arn(service="glue", resource="mlTransform", resource_name=transform_id)
        self._glue_access.add_resources(transform_arn)

    def queue_import(self, transform_key: str, resource: CustomResource) -> None:
        """Run `resource` after the import declared before it into the same transform, if any.

        A replacing import and a later appending one must not race: CloudFormation runs
        resources without a dependency between them in parallel.
        """
        previous = self._last_import.get(transform_key)
        if previous is not None:
            resource.node.add_dependency(previous)
        self._last_import[transform_key] = resource

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
