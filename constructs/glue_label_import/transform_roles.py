"""The role Glue runs a transform as, found in the stack or imported once per stack, for grants to it."""

from __future__ import annotations

from typing import Optional, Union

from aws_cdk import Annotations, Stack, Token
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from constructs import Construct


class TransformRoles:
    """The transform roles of a stack: its own `iam.Role`s, and the roles transforms name by ARN or
    name, imported once into `holder` (so that every grant to one role lands in one policy, well
    inside IAM's limits)."""

    def __init__(self, holder: Construct) -> None:
        self._holder = holder
        self._imported: dict[str, iam.IRole] = {}
        self._stack_roles: dict[str, iam.Role] = {}

    def of(self, scope: Construct, transform: Union[glue.CfnMLTransform, str], purpose: str) -> Optional[iam.IRole]:
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
            return self._imported_role(role)
        reference = Stack.of(scope).resolve(role)
        if isinstance(reference, dict) and reference.get("Fn::GetAtt", [None, None])[1] == "Arn":
            stack_role = self._stack_role(reference["Fn::GetAtt"][0])  # grant to it, paths and all
            if stack_role is not None:
                return stack_role
        Annotations.of(scope).add_warning_v2(
            "glue-label-import:transform-role",
            f"cannot tell the role of transform {transform.node.path} (its role is known only at deploy time): "
            f"pass transform_role= {purpose}",
        )
        return None

    def _imported_role(self, role: str) -> iam.IRole:
        """The role a transform names by ARN or name, imported once per stack."""
        if role not in self._imported:
            construct_id = f"TransformRole{len(self._imported) + 1}"
            if role.startswith("arn:"):
                self._imported[role] = iam.Role.from_role_arn(self._holder, construct_id, role)
            else:
                self._imported[role] = iam.Role.from_role_name(self._holder, construct_id, role)
        return self._imported[role]

    def _stack_role(self, logical_id: str) -> iam.Role | None:
        """The `iam.Role` of this stack whose CloudFormation logical id is `logical_id`, if any."""
        if logical_id not in self._stack_roles:  # look again: roles may have come since the last look
            stack = Stack.of(self._holder)
            self._stack_roles = {
                stack.resolve(element.logical_id): element.node.scope
                for element in stack.node.find_all()
                if isinstance(element, iam.CfnRole) and isinstance(element.node.scope, iam.Role)
            }
        return self._stack_roles.get(logical_id)
