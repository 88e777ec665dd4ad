"""TaskRunProvider, the handler of every resource of a stack: its public surface, its old name
(deprecated), `configure` too late naming what made it; and a label source's own grant to it."""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from constructs import Construct

import glue_label_import
from glue_label_import import LabelImport, LabelingSetGeneration, LabelSource, TaskRunProvider, TransformEvaluation
from support import new_stack

PROVIDER_API = {"ID", "of", "configure", "function", "role", "log_group", "service_token"}
"""What the README documents of the provider; everything else is the library's own."""


def public_names(value: Any) -> set[str]:
    """The public names of `value` beyond those of every construct (node, with, to_string, ...)."""
    return {name for name in dir(value) if not name.startswith("_")} - set(dir(Construct))


def test_the_provider_shows_exactly_its_documented_api() -> None:
    stack = new_stack()
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_s3_path("s3://label-bucket/labels.csv"))
    assert public_names(TaskRunProvider.of(stack)) == PROVIDER_API
    assert public_names(TaskRunProvider) == PROVIDER_API - {"function", "role", "log_group"}  # set per instance


@pytest.mark.parametrize(
    ("construct", "api"),
    [
        (LabelImport, {"transform_id", "task_run_id"}),
        (TransformEvaluation, {"transform_id", "task_run_id", "after", "f1", "precision", "recall"}),
        (LabelingSetGeneration, {"transform_id", "task_run_id", "after", "output_s3_path"}),
    ],
)
def test_the_resources_show_their_own_api_and_no_plumbing_of_their_base(construct: type, api: set[str]) -> None:
    names = public_names(construct)
    assert api <= names
    assert not names & {"start", "provider", "resource", "transform", "rounds", "grant_before_run"}


def test_the_old_name_warns_and_is_the_same_class() -> None:
    stack = new_stack()
    with pytest.warns(DeprecationWarning, match="LabelImportProvider is deprecated.*use TaskRunProvider"):
        from glue_label_import import LabelImportProvider  # the import is what warns
    with pytest.warns(DeprecationWarning, match="TaskRunProvider"):
        old_provider = glue_label_import.provider.LabelImportProvider
    assert LabelImportProvider is TaskRunProvider is old_provider
    provider = LabelImportProvider.configure(stack, log_retention=logs.RetentionDays.ONE_YEAR)
    assert isinstance(provider, LabelImportProvider)
    assert isinstance(TaskRunProvider.of(stack), LabelImportProvider)
    assert LabelImportProvider.of(stack) is provider
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name warns of nothing
        assert glue_label_import.TaskRunProvider.of(stack) is provider


@pytest.mark.parametrize(
    ("make_provider", "creator"),
    [
        (
            lambda stack: LabelImport(
                stack, "Labels", transform="tfm-1", source=LabelSource.from_s3_path("s3://label-bucket/labels.csv")
            ),
            "LabelImport Labels/Labels created it",
        ),
        (
            lambda stack: TransformEvaluation(stack, "Gate", transform="tfm-1", min_f1=0.5),
            "TransformEvaluation Labels/Gate created it",
        ),
        (TaskRunProvider.configure, "an earlier configure created it"),
        (TaskRunProvider.of, "TaskRunProvider.of('Labels') created it"),
    ],
)
def test_configure_too_late_names_what_created_the_provider(make_provider: Any, creator: str) -> None:
    stack = new_stack()
    make_provider(stack)
    with pytest.raises(RuntimeError, match=r"comes too late: .*: " + re.escape(creator)):
        TaskRunProvider.configure(stack, log_retention=logs.RetentionDays.ONE_YEAR)


def test_a_label_source_grants_the_handler_its_own_read_object_and_key() -> None:
    stack = new_stack()
    bucket = s3.Bucket(stack, "Labels", encryption_key=kms.Key(stack, "Key"))
    handler = iam.Role(stack, "Handler", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    location = LabelSource.from_bucket(bucket, "round-1.csv").bind(stack, handler_role=handler)
    role = handler.node.default_child
    assert isinstance(role, iam.CfnRole)
    [policy] = Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
    assert policy["Properties"]["Roles"] == [{"Ref": stack.get_logical_id(role)}]
    granted = {
        statement["Action"]: statement["Resource"] for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    }
    assert granted == {
        "s3:GetObject": stack.resolve(location.object_arn),
        "kms:Decrypt": stack.resolve(bucket.encryption_key.key_arn),  # type: ignore[union-attr]
    }
