"""Synth assertions on LabelingSetGeneration: the next round's resource, its order, its grants."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from glue_label_import import LabelImport, LabelingSetGeneration, LabelSource, TransformEvaluation
from glue_label_import.testing.examples import find_matches_transform
from support import logical_id, new_stack


def statements(stack: Stack) -> list[tuple[list[str], dict[str, Any]]]:
    """(roles, statement) of every IAM policy statement in the stack."""
    template = Template.from_stack(stack)
    return [
        (policy["Properties"]["Roles"], statement)
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def a_round(stack: Stack, labels: LabelSource, **kwargs: Any) -> tuple[Any, Any, LabelingSetGeneration]:
    role = iam.Role(stack, "GlueRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    transform = find_matches_transform(stack, role=role.role_arn)
    bucket = kwargs.pop("bucket", None) or s3.Bucket(stack, "Bucket")
    imported = LabelImport(stack, "Labels", transform=transform, source=labels, replace_all_labels=True)
    gate = TransformEvaluation(stack, "Quality", transform=transform, min_f1=0.7)
    return (
        imported,
        gate,
        LabelingSetGeneration(stack, "NextRound", transform=transform, output_bucket=bucket, **kwargs),
    )


def test_the_next_round_follows_the_imports_beside_the_gate(labels: LabelSource) -> None:
    stack = new_stack()
    imported, gate, next_round = a_round(stack, labels)
    assert next_round.after == [imported]
    (generation,) = Template.from_stack(stack).find_resources("Custom::GlueGenerateLabelingSet").values()
    properties = generation["Properties"]
    assert properties["After"] == [{"Fn::GetAtt": [logical_id(stack, imported), "TaskRunId"]}]
    assert "/labeling-sets/" in json.dumps(properties["OutputS3Path"])
    assert logical_id(stack, imported) in generation["DependsOn"]
    assert logical_id(stack, gate) not in generation["DependsOn"]
    assert stack.resolve(next_round.output_s3_path) == {"Fn::GetAtt": [logical_id(stack, next_round), "OutputS3Path"]}
    assert stack.resolve(next_round.task_run_id) == {"Fn::GetAtt": [logical_id(stack, next_round), "TaskRunId"]}


def test_the_transform_role_may_write_read_list_and_delete_exactly_under_the_prefix_before_the_run(
    labels: LabelSource,
) -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    bucket = s3.Bucket(stack, "Bucket", encryption_key=key)
    _, _, next_round = a_round(stack, labels, bucket=bucket, output_prefix="rounds")
    bucket_arn = {"Fn::GetAtt": [stack.resolve(bucket.node.default_child.logical_id), "Arn"]}
    key_arn = {"Fn::GetAtt": [stack.resolve(key.node.default_child.logical_id), "Arn"]}
    on_the_output = [
        (roles, statement)
        for roles, statement in statements(stack)
        if any(str(arn["Fn::GetAtt"][0]) in json.dumps(statement["Resource"]) for arn in (bucket_arn, key_arn))
    ]
    assert all("GlueRole" in json.dumps(roles) for roles, _ in on_the_output)
    assert [statement for _, statement in on_the_output] == [
        {
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"],
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [bucket_arn, "/rounds/*"]]},
        },
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringLike": {"s3:prefix": "rounds/*"}},
            "Effect": "Allow",
            "Resource": bucket_arn,
        },
        {"Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"], "Effect": "Allow", "Resource": key_arn},
    ]
    generation = Template.from_stack(stack).find_resources("Custom::GlueGenerateLabelingSet")[
        logical_id(stack, next_round)
    ]
    assert any("GlueRoleDefaultPolicy" in dependency for dependency in generation["DependsOn"])


def test_a_bucket_without_a_key_gets_no_key_grant(labels: LabelSource) -> None:
    stack = new_stack()
    a_round(stack, labels)
    glue_role = [s for roles, s in statements(stack) if "GlueRole" in json.dumps(roles)]
    assert not any("kms:" in json.dumps(statement["Action"]) for statement in glue_role)
    assert [s["Action"] for s in glue_role if "s3:ListBucket" in s["Action"]] == ["s3:ListBucket"]


def test_the_handler_may_generate_only_for_its_transform(labels: LabelSource) -> None:
    stack = new_stack()
    a_round(stack, labels)
    LabelImport(stack, "Elsewhere", transform=find_matches_transform(stack, "Other"), source=labels)
    (generate,) = [s for _, s in statements(stack) if "glue:StartMLLabelingSetGenerationTaskRun" in s["Action"]]
    assert generate["Action"] == "glue:StartMLLabelingSetGenerationTaskRun"
    assert '"Transform"' in json.dumps(generate["Resource"]) and '"Other"' not in json.dumps(generate["Resource"])


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"output_bucket": "my-bucket"}, TypeError, r"output_bucket must be an aws_s3\.IBucket, got str 'my-bucket'"),
        ({"output_prefix": "/rounds/"}, ValueError, r"output_prefix '/rounds/' must not start with /"),
        ({"output_prefix": 3}, TypeError, r"output_prefix must be a string"),
        ({"after": "Labels"}, TypeError, r"after must be a list"),
    ],
)
def test_a_bad_argument_is_refused_at_the_call(arguments: dict[str, Any], error: type[Exception], match: str) -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    bucket = s3.Bucket(stack, "Bucket")
    before = len(stack.node.children)
    with pytest.raises(error, match=match):
        LabelingSetGeneration(stack, "NextRound", **{"transform": transform, "output_bucket": bucket, **arguments})
    assert len(stack.node.children) == before
