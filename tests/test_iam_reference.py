"""Every IAM action the library grants, against the IAM service authorization reference, and parliament.

The stacks use all three constructs, every LabelSource, a KMS-encrypted bucket, and a transform
both as a CfnMLTransform and as a TransformId (a token). Each policy the stacks hold (the
handler's and the grants to the transform's role) is resolved to plausible ARNs, then each of
its actions must be granted only on a resource type that the reference (policy_sentry's copy of
it) lists for the action, matched by its ARN pattern, or on "*" only where it lists none. And
parliament, which reads the same reference, finds nothing in them.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnParameter, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from policy_sentry.querying.actions import get_action_data
from policy_sentry.querying.all import get_all_actions

from glue_label_import import LabelImport, LabelingSetGeneration, LabelSource, TransformEvaluation
from glue_label_import.testing.examples import GLUE_ROLE_ARN, LABELS, find_matches_transform

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
TRANSFORM_ID = "tfm-0123456789abcdef0123456789abcdef"


def library_stacks(tmp_path: Path) -> list[Stack]:
    """Stacks using every construct and every LabelSource: a CfnMLTransform of the stack, and a TransformId."""
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "round-1.csv").write_text(LABELS)
    app = App(outdir=str(tmp_path / "out"))

    owned = Stack(app, "Owned")
    role = iam.Role(owned, "GlueRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    transform = find_matches_transform(owned, role=role.role_arn)
    encrypted = s3.Bucket(owned, "Encrypted", encryption_key=kms.Key(owned, "Key"))
    sources = {
        "Asset": LabelSource.from_asset(str(labels / "round-1.csv")),
        "Directory": LabelSource.from_directory(labels),
        "S3Path": LabelSource.from_s3_path("s3://team-labels/round-2.csv"),
        "Bucket": LabelSource.from_bucket(encrypted, "labels/round-3.csv"),
    }
    for name, source in sources.items():
        LabelImport(owned, name, transform=transform, source=source)
    TransformEvaluation(owned, "Quality", transform=transform, min_f1=0.8)
    LabelingSetGeneration(owned, "NextRound", transform=transform, output_bucket=encrypted)

    by_id = Stack(app, "ById")
    transform_id = CfnParameter(by_id, "TransformId").value_as_string
    glue_role = iam.Role.from_role_arn(by_id, "GlueRole", GLUE_ROLE_ARN)
    bucket = s3.Bucket(by_id, "Encrypted", encryption_key=kms.Key(by_id, "Key"))
    LabelImport(by_id, "Labels", transform=transform_id, source=sources["S3Path"], transform_role=glue_role)
    LabelImport(
        by_id,
        "More",
        transform=transform_id,
        source=LabelSource.from_bucket(bucket, "more.csv"),
        transform_role=glue_role,
    )
    TransformEvaluation(by_id, "Quality", transform=transform_id)
    LabelingSetGeneration(by_id, "NextRound", transform=transform_id, output_bucket=bucket, transform_role=glue_role)
    return [owned, by_id]


def resolved_policies(stack: Stack) -> dict[str, dict[str, Any]]:
    """Each IAM policy document of the stack (by logical id), with plausible values for its tokens."""
    template = stack.node.root.synth().get_stack_by_name(stack.stack_name).template
    resolve = functools.partial(_resolved, template, stack.stack_name)
    return {
        logical_id: resolve(resource["Properties"]["PolicyDocument"])
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] in {"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}
    }


def _name(logical_id: str) -> str:
    return logical_id.lower()[:40]


_ARN_OF_TYPE = {
    "AWS::IAM::Role": lambda name: f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
    "AWS::KMS::Key": lambda name: f"arn:{PARTITION}:kms:{REGION}:{ACCOUNT}:key/0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    "AWS::S3::Bucket": lambda name: f"arn:{PARTITION}:s3:::{name}",
    "AWS::Lambda::Function": lambda name: f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{name}",
    "AWS::Logs::LogGroup": lambda name: f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
    "AWS::DynamoDB::Table": lambda name: f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
    "AWS::Glue::MLTransform": lambda name: f"arn:{PARTITION}:glue:{REGION}:{ACCOUNT}:mlTransform/{TRANSFORM_ID}",
}


def _pseudo(name: str, stack_name: str) -> str:
    return {
        "AWS::Partition": PARTITION,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{stack_name}/5b6e1a40-0a6b-11ef",
    }[name]


def _ref(template: dict[str, Any], stack_name: str, name: str) -> str:
    if name.startswith("AWS::"):
        return _pseudo(name, stack_name)
    if name in template.get("Parameters", {}):
        return TRANSFORM_ID if "TransformId" in name else str(template["Parameters"][name].get("Default", name))
    kind = template["Resources"][name]["Type"]
    return TRANSFORM_ID if kind == "AWS::Glue::MLTransform" else _name(name)


def _resolved(template: dict[str, Any], stack_name: str, value: Any) -> Any:
    """`value` with CloudFormation's intrinsic functions replaced by plausible values; unknown ones raise."""
    resolve = functools.partial(_resolved, template, stack_name)
    if isinstance(value, list):
        return [resolve(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1 or not next(iter(value)).startswith(("Ref", "Fn::")):
        return {key: resolve(item) for key, item in value.items()}
    ((function, argument),) = value.items()
    if function == "Ref":
        return _ref(template, stack_name, argument)
    if function == "Fn::GetAtt":
        logical_id, attribute = argument
        assert attribute == "Arn", f"no plausible value for {value}"
        return _ARN_OF_TYPE[template["Resources"][logical_id]["Type"]](_name(logical_id))
    if function == "Fn::Join":
        separator, parts = argument
        return separator.join(resolve(parts))
    if function == "Fn::Select":
        index, items = argument
        return resolve(items)[int(index)]
    if function == "Fn::Split":
        separator, text = argument
        return resolve(text).split(separator)
    if function == "Fn::Sub":
        return re.sub(r"\$\{([^}]+)\}", lambda match: _ref(template, stack_name, match.group(1)), argument)
    raise AssertionError(f"no plausible value for {value}")


def granted(policies: dict[str, dict[str, Any]]) -> Iterator[tuple[str, str, str]]:
    """(policy, action, resource) of every Allow statement, wildcard actions expanded with the reference."""
    for name, document in policies.items():
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow" and "NotAction" not in statement and "NotResource" not in statement
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in actions:
                for expanded in _expanded(action):
                    for resource in resources:
                        yield name, expanded, resource


def _expanded(action: str) -> list[str]:
    if "*" not in action:
        return [action]
    pattern = re.compile(re.escape(action).replace(r"\*", ".*"), re.IGNORECASE)
    matches = [known for known in _all_actions() if pattern.fullmatch(known)]
    assert matches, f"{action} names no action of the reference"
    return matches


@functools.cache
def _all_actions() -> list[str]:
    return sorted(get_all_actions())


def authorization_problem(action: str, resource: str) -> str | None:
    """Why the reference does not authorize `action` on `resource`, or None when it does."""
    service, name = action.split(":", 1)
    entries = get_action_data(service, name).get(service, [])
    if not entries:
        return f"{action} is not in the IAM service authorization reference"
    formats = {entry["resource_arn_format"] for entry in entries}
    if resource == "*":
        return None if formats == {"*"} else f"{action} granted on '*', but the reference lists {sorted(formats)}"
    if any(_overlap(_tokens(resource, grant=True), _tokens(arn_format, grant=False)) for arn_format in formats - {"*"}):
        return None
    return f"{action} granted on {resource}, which is none of its resource types: {sorted(formats)}"


# An ARN as tokens: (characters it may be, whether it repeats). A grant's "*" is any text; a
# resource type's ${Variable} is one or more characters other than ":".
_ANY, _NOT_COLON = "any", "not colon"


def _tokens(arn: str, *, grant: bool) -> tuple[tuple[str, bool], ...]:
    tokens: list[tuple[str, bool]] = []
    for part in re.split(r"(\$\{[^}]+\}|\*)", arn):
        if part == "*" and grant:
            tokens.append((_ANY, True))
        elif part.startswith("${") and not grant:
            tokens += [(_NOT_COLON, False), (_NOT_COLON, True)]
        else:
            tokens += [(character, False) for character in part]
    return tuple(tokens)


def _meet(first: str, second: str) -> bool:
    if _ANY in (first, second):
        return True
    if _NOT_COLON in (first, second):
        return ":" not in (first, second)
    return first == second


def _overlap(grant: tuple[tuple[str, bool], ...], arn_format: tuple[tuple[str, bool], ...]) -> bool:
    """Whether some ARN matches both the grant and the resource type's format."""

    @functools.cache
    def from_here(i: int, j: int) -> bool:
        if i == len(grant) and j == len(arn_format):
            return True
        if i < len(grant) and grant[i][1] and from_here(i + 1, j):
            return True
        if j < len(arn_format) and arn_format[j][1] and from_here(i, j + 1):
            return True
        if i == len(grant) or j == len(arn_format) or not _meet(grant[i][0], arn_format[j][0]):
            return False
        if grant[i][1] and arn_format[j][1]:
            return False  # both repeat: skipping one of them (above) covers it
        return from_here(i if grant[i][1] else i + 1, j if arn_format[j][1] else j + 1)

    return from_here(0, 0)


def _parliament() -> types.ModuleType:
    """parliament 1.6.4 (its latest) finds its data files with pkg_resources, which setuptools 81 removed:
    lend it that one function, answered by importlib.resources."""
    if "pkg_resources" not in sys.modules:
        try:
            import pkg_resources  # noqa: F401
        except ModuleNotFoundError:
            shim = types.ModuleType("pkg_resources")
            shim.resource_filename = lambda package, name: str(importlib.resources.files(package) / name)  # type: ignore[attr-defined]
            sys.modules["pkg_resources"] = shim
    import parliament

    return parliament


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    stacks = library_stacks(tmp_path_factory.mktemp("iam"))
    return {f"{stack.stack_name}/{name}": doc for stack in stacks for name, doc in resolved_policies(stack).items()}


def test_the_stacks_grant_glue_on_transforms_and_s3_kms_on_label_files(policies: dict[str, dict[str, Any]]) -> None:
    services = {action.split(":")[0] for _, action, _ in granted(policies)}
    assert {"glue", "s3", "kms", "logs", "lambda"} <= services
    glue = {(action, resource) for _, action, resource in granted(policies) if action.startswith("glue:")}
    assert ("glue:StartMLEvaluationTaskRun", f"arn:aws:glue:{REGION}:{ACCOUNT}:mlTransform/{TRANSFORM_ID}") in glue


def test_every_action_is_granted_only_on_resource_types_the_reference_lists_for_it(
    policies: dict[str, dict[str, Any]],
) -> None:
    problems = [
        f"{policy}: {problem}"
        for policy, action, resource in granted(policies)
        if (problem := authorization_problem(action, resource))
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("action", "resource", "expected"),
    [
        ("glue:GetTags", f"arn:aws:glue:{REGION}:{ACCOUNT}:mlTransform/{TRANSFORM_ID}", "none of its resource types"),
        ("glue:GetMLTaskRuns", "*", "granted on '*'"),
        ("glue:GetMLTaskRuns", f"arn:aws:glue:{REGION}:{ACCOUNT}:mlTransform/*", None),
        ("logs:PutLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:handler:*", None),
        ("glue:StartMLEvaluationTaskRun", f"arn:aws:glue:{REGION}:{ACCOUNT}:table/crm/customers", "none of its"),
        ("s3:GetObject", "arn:aws:s3:::bucket", "none of its resource types"),
        ("glue:NoSuchThing", "*", "not in the IAM service authorization reference"),
    ],
)
def test_the_check_refuses_a_grant_the_reference_does_not_authorize(
    action: str, resource: str, expected: str | None
) -> None:
    problem = authorization_problem(action, resource)
    assert (problem is None) if expected is None else (problem is not None and expected in problem), problem


def test_parliament_finds_nothing_in_the_librarys_policies(policies: dict[str, dict[str, Any]]) -> None:
    parliament = _parliament()
    findings = {
        name: [
            f"{finding.issue} {finding.detail}"
            for finding in parliament.analyze_policy_string(json.dumps(doc)).findings
        ]
        for name, doc in policies.items()
    }
    assert {name: found for name, found in findings.items() if found} == {}


def test_parliament_is_really_checking() -> None:
    wrong = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a-bucket-not-an-object"}
    findings = _parliament().analyze_policy_string(json.dumps({"Version": "2012-10-17", "Statement": [wrong]})).findings
    assert [finding.issue for finding in findings] == ["RESOURCE_MISMATCH"]
