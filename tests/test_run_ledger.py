"""Synth assertions on what the handler remembers and reads: its run ledger, the stack's status, no tags."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import NestedStack, Stack
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Match, Template

from glue_label_import import LabelImport, LabelingSetGeneration, LabelSource, TransformEvaluation
from glue_label_import.testing.examples import find_matches_transform
from glue_label_import.testing.requests import BUCKET
from support import new_stack


def label_round(stack: Stack, labels: LabelSource) -> None:
    transform = find_matches_transform(stack)
    imported = LabelImport(stack, "Labels", transform=transform, source=labels)
    TransformEvaluation(stack, "Quality", transform=transform, after=[imported], min_f1=0.8)
    LabelingSetGeneration(
        stack,
        "NextRound",
        transform=transform,
        output_bucket=s3.Bucket.from_bucket_name(stack, "Bucket", BUCKET),
        output_prefix="labeling-sets/",
        after=[imported],
    )


def statements(template: Template) -> list[dict[str, Any]]:
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions(statement: dict[str, Any]) -> list[str]:
    return [statement["Action"]] if isinstance(statement["Action"], str) else list(statement["Action"])


def test_the_ledger_is_one_on_demand_table_per_stack_that_goes_with_it(labels: LabelSource) -> None:
    stack = new_stack()
    label_round(stack, labels)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    (table_id,) = template.find_resources("AWS::DynamoDB::Table")
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "DeletionPolicy": "Delete",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "KeySchema": [{"AttributeName": "Id", "KeyType": "HASH"}],
                "TimeToLiveSpecification": {"AttributeName": "ExpiresAt", "Enabled": True},
                "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            },
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"LEDGER_TABLE": {"Ref": table_id}})}},
    )


def test_the_handler_may_only_read_and_write_items_of_its_ledger(labels: LabelSource) -> None:
    stack = new_stack()
    label_round(stack, labels)
    template = Template.from_stack(stack)
    (table_id,) = template.find_resources("AWS::DynamoDB::Table")
    on_dynamodb = [s for s in statements(template) if any(a.startswith("dynamodb:") for a in actions(s))]
    assert [(actions(s), s["Resource"]) for s in on_dynamodb] == [
        (["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], {"Fn::GetAtt": [table_id, "Arn"]})
    ]


def test_the_handler_reads_only_its_own_stacks_status(labels: LabelSource) -> None:
    stack = new_stack()
    label_round(stack, labels)
    template = Template.from_stack(stack)
    (describe,) = [s for s in statements(template) if "cloudformation:DescribeStacks" in actions(s)]
    assert actions(describe) == ["cloudformation:DescribeStacks"]
    assert describe["Resource"] == {"Ref": "AWS::StackId"}


def test_in_a_nested_stack_the_handler_reads_its_stacks_and_its_root_stacks_status(labels: LabelSource) -> None:
    root = new_stack()
    nested = NestedStack(root, "Round")
    label_round(nested, labels)
    template = Template.from_stack(nested)
    (describe,) = [s for s in statements(template) if "cloudformation:DescribeStacks" in actions(s)]
    own, root_id = describe["Resource"]
    assert own == {"Ref": "AWS::StackId"}
    assert "Ref" in root_id and root_id["Ref"].startswith("referencetoLabels")  # the root's StackId, passed in
    parameters = Template.from_stack(root).find_resources("AWS::CloudFormation::Stack")
    assert '"Ref": "AWS::StackId"' in json.dumps(parameters)


def test_nothing_is_granted_on_the_transforms_tags(labels: LabelSource) -> None:
    stack = new_stack()
    label_round(stack, labels)
    granted = [action for s in statements(Template.from_stack(stack)) for action in actions(s)]
    assert [action for action in granted if action.startswith("glue:") and "Tag" in action] == []
