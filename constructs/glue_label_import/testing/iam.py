"""IAM at work in the Glue ML emulation: a synthesized template's roles and policies, enforced by moto.

moto's access control (``settings.INITIAL_NO_AUTH_ACTION_COUNT``) checks every request made with
the credentials of a role against that role's policies. This module makes that real for a stack
of this library, with no AWS account:

* ``template_roles(template).create(iam)`` creates the template's roles (``AWS::IAM::Role``) and their policies
  (inline ``Policies`` and ``AWS::IAM::Policy``) in moto's IAM, resolving ``Ref``, ``Fn::GetAtt``,
  ``Fn::Join`` and ``Fn::Sub``; a role a policy names that the template does not create (an
  imported one, such as a transform's role) is created with a trust policy for Glue;
* ``TemplateRoles.credentials`` assumes a role (STS in moto): boto3 clients made with these
  credentials act as that role, the handler's, say;
* ``enforced_iam`` turns the checks on, for every request, and counts them;
* the emulated Glue (``glue_label_import.testing``) then names the transform's ARN as the
  resource of Glue ML actions, as IAM does, and reads label files and writes labeling sets as the
  transform's role (``transform_role_denial``): a label file that role may not read is refused at
  start (``InvalidInputException``, "Cannot access the label file at ..."), a labeling set it may
  not write fails the run, with the denial as the run's ``ErrorString``;
* ``grants_of`` and ``without_grant`` list a template's grants and remove one, so that a test can
  show that every grant is needed.

    with mock_aws():
        roles = template_roles(template, refs={"Transform": transform_id})
        roles.create(boto3.client("iam"))
        handler = boto3.Session(**roles.credentials(boto3.client("sts"), "HandlerServiceRole"))
        with enforced_iam() as checks:
            ...  # calls made with handler.client("glue") are allowed only as its policies say
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import IAMPolicy, IAMRequestBase, PermissionResult
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends

from .template_values import TemplateValues

__all__ = [
    "Grant",
    "IamChecks",
    "TemplateRoles",
    "enforced_iam",
    "grants_of",
    "template_roles",
    "transform_role_denial",
    "without_grant",
]

ACCOUNT_ID = "123456789012"
"""moto's default account."""
GLUE_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
_ROLE_TYPES = ("AWS::IAM::Role",)
_POLICY_TYPES = ("AWS::IAM::Policy",)


@dataclass(frozen=True)
class Grant:
    """One action granted by one statement of a template's policy."""

    logical_id: str  # the AWS::IAM::Policy, or the AWS::IAM::Role of an inline policy
    policy_index: int  # which of the role's inline Policies; 0 for an AWS::IAM::Policy
    statement_index: int
    action: str


@dataclass
class IamChecks:
    """What moto's access control judged while ``enforced_iam`` was on."""

    allowed: int = 0
    denied: list[str] = field(default_factory=list)  # "User: ... is not authorized to perform: ACTION on resource: ..."

    @property
    def checked(self) -> int:
        return self.allowed + len(self.denied)


@dataclass
class TemplateRoles:
    """The template's roles as created in moto's IAM: role name by logical id (or by name, imported).

    ``resolve`` resolves the template's values as the roles' policies were, with the same ``refs``
    and ``attributes`` (both mutable: add a custom resource's attributes once it answered).
    """

    template: dict[str, Any]
    names: dict[str, str]
    resolve: TemplateValues
    account_id: str = ACCOUNT_ID

    def create(self, iam: Any) -> None:
        """Create the roles and their policies in moto's IAM, through the boto3 client ``iam``; a role a
        policy names that the template does not create (an imported one) is created too.

        Call it before ``enforced_iam`` (creating roles is not among the grants checked), once what
        the policies refer to is in ``resolve.refs`` (a transform's id, say). A role of the same name
        already in moto's IAM (an earlier stack's, in this process) is replaced.
        """
        resources: Mapping[str, Any] = self.template.get("Resources", {})
        for logical_id, name in list(self.names.items()):
            properties = resources[logical_id].get("Properties", {})
            trust = self.resolve(properties.get("AssumeRolePolicyDocument", GLUE_TRUST_POLICY))
            _new_role(iam, name, trust)
            for policy in properties.get("Policies", []):
                document = json.dumps(self.resolve(policy["PolicyDocument"]))
                iam.put_role_policy(RoleName=name, PolicyName=policy["PolicyName"], PolicyDocument=document)
        for logical_id, resource in resources.items():
            if resource["Type"] not in _POLICY_TYPES:
                continue
            properties = self.resolve(resource["Properties"])
            for role_name in properties.get("Roles", []):
                if role_name not in self.names.values():  # an imported role: the transform's, say
                    self.names[role_name] = role_name
                    _new_role(iam, role_name, GLUE_TRUST_POLICY)
                iam.put_role_policy(
                    RoleName=role_name,
                    PolicyName=properties.get("PolicyName", logical_id),
                    PolicyDocument=json.dumps(properties["PolicyDocument"]),
                )

    def arn(self, logical_id: str) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.names[logical_id]}"

    def credentials(self, sts: Any, logical_id: str) -> dict[str, str]:
        """Keyword arguments of ``boto3.Session`` (or a client) acting as the role: STS AssumeRole in moto."""
        response = sts.assume_role(RoleArn=self.arn(logical_id), RoleSessionName=f"{self.names[logical_id]}-session")
        credentials = response["Credentials"]
        return {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }


def grants_of(template: Mapping[str, Any]) -> list[Grant]:
    """Every action every policy of the template grants (Allow statements), in template order."""
    grants = []
    for logical_id, policy_index, document in _documents(template):
        for statement_index, statement in enumerate(_statements(document)):
            if statement.get("Effect") == "Allow":
                actions = statement.get("Action", [])
                for action in [actions] if isinstance(actions, str) else actions:
                    grants.append(Grant(logical_id, policy_index, statement_index, action))
    return grants


def without_grant(template: Mapping[str, Any], grant: Grant) -> dict[str, Any]:
    """A copy of the template without ``grant``'s action (a statement left with none is dropped)."""
    copied = copy.deepcopy(dict(template))
    for logical_id, policy_index, document in _documents(copied):
        if (logical_id, policy_index) != (grant.logical_id, grant.policy_index):
            continue
        statements = _statements(document)
        statement = statements[grant.statement_index]
        actions = statement["Action"]
        remaining = [a for a in ([actions] if isinstance(actions, str) else actions) if a != grant.action]
        if remaining:
            statement["Action"] = remaining
        else:
            statements.pop(grant.statement_index)
        document["Statement"] = statements
    return copied


def template_roles(
    template: Mapping[str, Any],
    *,
    refs: Mapping[str, str] | None = None,
    attributes: Mapping[tuple[str, str], str] | None = None,
    account_id: str = ACCOUNT_ID,
    region: str = "us-east-1",
    stack_id: str | None = None,
) -> TemplateRoles:
    """The template's roles, their names and a resolver of its values; ``TemplateRoles.create`` creates them.

    :param refs: what ``Ref`` gives for the template's other resources and parameters (a
        transform's id, a bucket's name); default: the logical id (for a bucket, its ``BucketName``
        or the logical id in lower case; its ``Arn`` follows).
    :param attributes: what ``Fn::GetAtt`` gives for them (``("Key", "Arn")``); default: an ARN
        ending in the logical id.
    :param stack_id: what ``AWS::StackId`` gives (``AWS::StackName`` is its name); default: a stack
        named ``Stack`` in ``account_id`` and ``region``.
    """
    stack_id = (
        stack_id or f"arn:aws:cloudformation:{region}:{account_id}:stack/Stack/00000000-0000-0000-0000-000000000000"
    )
    resources: Mapping[str, Any] = template.get("Resources", {})
    buckets = {
        logical_id: resource.get("Properties", {}).get("BucketName") or logical_id.lower()
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::S3::Bucket"
    }
    buckets.update({logical_id: name for logical_id, name in (refs or {}).items() if logical_id in buckets})
    names = {
        logical_id: resource.get("Properties", {}).get("RoleName") or logical_id[:64]
        for logical_id, resource in resources.items()
        if resource["Type"] in _ROLE_TYPES
    }
    resolve = TemplateValues(
        {
            **buckets,
            "AWS::AccountId": account_id,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": stack_id,
            "AWS::StackName": stack_id.split("/")[1],
            **names,
            **(refs or {}),
        },
        {
            **{(logical_id, "Arn"): f"arn:aws:iam::{account_id}:role/{name}" for logical_id, name in names.items()},
            **{(logical_id, "Arn"): f"arn:aws:s3:::{name}" for logical_id, name in buckets.items()},
            **(attributes or {}),
        },
        account_id,
        region,
    )
    return TemplateRoles(dict(template), names, resolve, account_id)


_checks: list[IamChecks] = []


@contextmanager
def enforced_iam() -> Iterator[IamChecks]:
    """Have moto check every request against the caller's IAM policies; count what it checked.

    In process: ``mock_aws()`` and ``ThreadedMotoServer`` both honour it. Requests with credentials
    that moto's IAM does not know (``testing``) are refused while it is on.
    """
    checks = IamChecks()
    saved = settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count
    original = IAMRequestBase.check_action_permitted
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    IAMRequestBase.check_action_permitted = _counting(original, checks)  # type: ignore[method-assign]
    _checks.append(checks)
    try:
        yield checks
    finally:
        _checks.remove(checks)
        IAMRequestBase.check_action_permitted = original  # type: ignore[method-assign]
        settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = saved


def _counting(original: Any, checks: IamChecks) -> Any:
    def check_action_permitted(self: IAMRequestBase, resource: str) -> None:
        try:
            original(self, resource)
        except Exception:
            principal = self._access_key.arn
            checks.denied.append(
                f"User: {principal} is not authorized to perform: {self._action} on resource: {resource}"
            )
            raise
        checks.allowed += 1

    return check_action_permitted


def transform_role_denial(account_id: str, role_arn: str, action: str, resource: str) -> str | None:
    """Why the transform's role may not do ``action`` on ``resource``, as AWS words it; None when it may,
    or when ``enforced_iam`` is off."""
    if not _checks:
        return None
    role_name = role_arn.rsplit("/", 1)[-1]
    principal = f"arn:aws:sts::{account_id}:assumed-role/{role_name}/GlueMLTaskRun"
    denial = f"User: {principal} is not authorized to perform: {action} on resource: {resource}"
    backend = iam_backends[account_id]["aws"]
    try:
        role = backend.get_role(role_name)
    except NotFoundException:
        return f"{denial} (no role {role_name})"
    documents: list[Any] = [
        document if isinstance(document, str) else json.dumps(document) for document in role.policies.values()
    ]
    documents += list(role.managed_policies.values())
    permitted = False
    for document in documents:
        result = IAMPolicy(document).is_action_permitted(action, resource)
        if result == PermissionResult.DENIED:
            permitted = False
            break
        permitted = permitted or result == PermissionResult.PERMITTED
    for checks in _checks:
        if permitted:
            checks.allowed += 1
        else:
            checks.denied.append(denial)
    return None if permitted else denial


def _new_role(iam: Any, name: str, trust: Mapping[str, Any]) -> None:
    """Create the role ``name``, replacing one of that name and its inline policies."""
    try:
        policies = iam.list_role_policies(RoleName=name)["PolicyNames"]
    except iam.exceptions.NoSuchEntityException:
        policies = None
    if policies is not None:
        for policy in policies:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        iam.delete_role(RoleName=name)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))


def _documents(template: Mapping[str, Any]) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """(logical id, index of the inline policy, policy document) of every policy in the template."""
    for logical_id, resource in template.get("Resources", {}).items():
        properties = resource.get("Properties", {})
        if resource["Type"] in _POLICY_TYPES:
            yield logical_id, 0, properties["PolicyDocument"]
        elif resource["Type"] in _ROLE_TYPES:
            for index, policy in enumerate(properties.get("Policies", [])):
                yield logical_id, index, policy["PolicyDocument"]


def _statements(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return list(statements) if isinstance(statements, list) else [statements]
