"""Synth assertions on stacks that use LabelImport: what `cdk synth` gives a user."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import CfnParameter, Duration, Stack
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from glue_label_import import LabelImport, LabelingSetGeneration, LabelSource, TaskRunProvider, TransformEvaluation
from glue_label_import.testing.examples import find_matches_transform
from support import glue_role, handler_statements, new_stack, resources_of

WATCH_ACTIONS = ["glue:GetMLTaskRun", "glue:GetMLTaskRuns", "glue:CancelMLTaskRun", "glue:GetMLTransform"]


def test_custom_resource_properties_and_service_timeout(three_imports: tuple[Stack, Template]) -> None:
    _, template = three_imports
    template.has_resource_properties(
        "Custom::GlueImportLabels",
        {
            "TransformId": {"Ref": Match.string_like_regexp("^First")},
            "InputS3Path": {"Fn::Sub": Match.string_like_regexp(r"^s3://cdk-.*\.csv$")},
            "ReplaceAllLabels": False,
            "ServiceTimeout": "3600",
        },
    )
    template.has_resource_properties(
        "Custom::GlueImportLabels",
        {
            "TransformId": {"Ref": Match.string_like_regexp("^Second")},
            "InputS3Path": "s3://my-labels/round-2.csv",
            "ReplaceAllLabels": True,
            "ServiceTimeout": "1200",
        },
    )
    template.has_resource_properties(
        "Custom::GlueImportLabels",
        {"TransformId": "tfm-0123456789abcdef", "InputS3Path": "s3://team-labels/r3.csv"},
    )


def test_task_run_id_is_the_resource_attribute(three_imports: tuple[Stack, Template]) -> None:
    _, template = three_imports
    (by_id,) = [
        logical_id
        for logical_id, resource in resources_of(template, "Custom::GlueImportLabels").items()
        if resource["Properties"]["TransformId"] == "tfm-0123456789abcdef"
    ]
    template.has_output("TaskRunId", {"Value": {"Fn::GetAtt": [by_id, "TaskRunId"]}})


def test_glue_access_is_scoped_to_the_imported_transforms(three_imports: tuple[Stack, Template]) -> None:
    stack, template = three_imports
    (watch,) = [s for s in handler_statements(template) if "glue:GetMLTaskRun" in s["Action"]]
    (start,) = [s for s in handler_statements(template) if "glue:StartImportLabelsTaskRun" in s["Action"]]
    assert watch["Action"] == WATCH_ACTIONS and start["Action"] == "glue:StartImportLabelsTaskRun"
    assert start["Resource"] == watch["Resource"]
    arns = [stack.resolve(arn) for arn in watch["Resource"]]
    rendered = json.dumps(arns)
    assert (
        '"Ref": "First' in rendered and '"Ref": "Second' in rendered and ":mlTransform/tfm-0123456789abcdef" in rendered
    )
    assert len(arns) == 3
    for arn in arns:
        assert ":glue:" in json.dumps(arn) and ":mlTransform/" in json.dumps(arn)
    for statement in handler_statements(template):
        assert statement["Resource"] != "*", statement


def test_transform_role_may_read_exactly_the_label_object(labels_csv: str) -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    key = kms.Key(stack, "Key")
    bucket = s3.Bucket(stack, "Bucket", encryption_key=key)
    role = glue_role(stack)
    imports = [
        LabelImport(stack, "FromAsset", transform=transform, source=LabelSource.from_asset(labels_csv)),
        LabelImport(stack, "FromS3", transform=transform, source=LabelSource.from_s3_path("s3://my-labels/a/b.csv")),
        LabelImport(
            stack, "FromBucket", transform="tfm-1", source=LabelSource.from_bucket(bucket, "l.csv"), transform_role=role
        ),
    ]
    template = Template.from_stack(stack)

    grants = {
        json.dumps(stack.resolve(s["Resource"])): s["Action"]
        for policy in resources_of(template, "AWS::IAM::Policy").values()
        if policy["Properties"].get("Roles") == ["GlueFindMatches"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    }
    assert (
        grants.pop(json.dumps({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::my-labels/a/b.csv"]]}))
        == "s3:GetObject"
    )
    (asset_object,) = [arn for arn in grants if ".csv" in arn and "Bucket" not in arn]
    assert grants.pop(asset_object) == "s3:GetObject" and "cdk-" in asset_object
    (bucket_object,) = [arn for arn in grants if "/l.csv" in arn]
    assert grants.pop(bucket_object) == "s3:GetObject"
    assert list(grants.values()) == ["kms:Decrypt"]
    # the grants are in place before each import starts
    # both imports into the CfnMLTransform share one imported role, so one policy
    transform_role = stack.node.find_child("GlueLabelImportProvider").node.find_child("TransformRole1")
    for label_import, holder in zip(imports, [transform_role, transform_role, role], strict=True):
        policy_id = stack.resolve(holder.node.find_child("Policy").node.default_child.logical_id)  # type: ignore[union-attr]
        resource_id = stack.resolve(label_import.node.find_child("Resource").node.default_child.logical_id)  # type: ignore[union-attr]
        assert policy_id in resources_of(template, "Custom::GlueImportLabels")[resource_id]["DependsOn"]


def test_tokens_are_not_checked_at_synth() -> None:
    stack = new_stack()
    transform_id = CfnParameter(stack, "TransformId").value_as_string
    path = CfnParameter(stack, "LabelsPath").value_as_string
    LabelImport(stack, "Labels", transform=transform_id, source=LabelSource.from_s3_path(path))
    Template.from_stack(stack).has_resource_properties(
        "Custom::GlueImportLabels", {"TransformId": {"Ref": "TransformId"}, "InputS3Path": {"Ref": "LabelsPath"}}
    )


@pytest.mark.parametrize(
    ("transform_id", "message"),
    [("", r"transform id '' must be 1 to 255 characters long, got 0"), ("t" * 256, r"transform id 't{10}.* got 256")],
)
def test_bad_transform_id(transform_id: str, message: str, labels_csv: str) -> None:
    with pytest.raises(ValueError, match=message):
        LabelImport(new_stack(), "Labels", transform=transform_id, source=LabelSource.from_asset(labels_csv))


@pytest.mark.parametrize(
    ("s3_path", "message"),
    [
        ("labels/file.csv", r"'labels/file.csv' must start with s3://"),
        ("https://bucket/file.csv", r"'https://bucket/file.csv' must start with s3://"),
        ("s3://bucket", r"'s3://bucket' has no object key"),
        ("s3://bucket/", r"'s3://bucket/' has no object key"),
        ("s3://My_Bucket/file.csv", r"bucket name 'My_Bucket' is not a valid S3 bucket name"),
        ("s3://ab/file.csv", r"bucket name 'ab' is not a valid"),
        ("s3://192.168.1.1/file.csv", r"bucket name '192.168.1.1' is not a valid"),
        ("s3://my..bucket/file.csv", r"bucket name 'my..bucket' is not a valid"),
    ],
)
def test_bad_s3_path(s3_path: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LabelSource.from_s3_path(s3_path)


def test_missing_label_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"label file '.*nope\.csv' does not exist"):
        LabelSource.from_asset(str(tmp_path / "nope.csv"))


def test_label_file_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"label file '.*' is not a file"):
        LabelSource.from_asset(str(tmp_path))


def test_empty_bucket_key() -> None:
    bucket = s3.Bucket.from_bucket_name(new_stack(), "Bucket", "team-labels")
    with pytest.raises(ValueError, match=r"label object key '' must be non-empty and not start with /"):
        LabelSource.from_bucket(bucket, "")
    with pytest.raises(ValueError, match=r"label object key '/round-1.csv' must be non-empty and not start with /"):
        LabelSource.from_bucket(bucket, "/round-1.csv")


def test_fractional_timeout(labels_csv: str) -> None:
    with pytest.raises(ValueError, match=r"timeout of 90.5 seconds must be a whole number of seconds"):
        LabelImport(
            new_stack(),
            "Labels",
            transform="tfm-1",
            source=LabelSource.from_asset(labels_csv),
            timeout=Duration.seconds(90.5),
        )


@pytest.mark.parametrize(
    ("timeout", "shown"),
    [(Duration.seconds(59), "59 seconds"), (Duration.minutes(61), "1 hour 1 minute"), (Duration.hours(2), "2 hours")],
)
def test_timeout_outside_one_minute_to_one_hour(timeout: Duration, shown: str, labels_csv: str) -> None:
    with pytest.raises(ValueError, match=rf"timeout {shown} must be between 1 minute and 1 hour"):
        LabelImport(
            new_stack(), "Labels", transform="tfm-1", source=LabelSource.from_asset(labels_csv), timeout=timeout
        )


@pytest.mark.parametrize("timeout", [Duration.minutes(1), Duration.hours(1)])
def test_timeout_bounds_are_accepted(timeout: Duration, labels_csv: str) -> None:
    stack = new_stack()
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(labels_csv), timeout=timeout)
    Template.from_stack(stack).has_resource_properties(
        "Custom::GlueImportLabels", {"ServiceTimeout": str(int(timeout.to_seconds()))}
    )


@pytest.mark.parametrize(
    ("keyword", "make_value", "message"),
    [
        ("transform", lambda _: 42, r"^transform must be a CfnMLTransform or a TransformId string, got int 42$"),
        ("source", lambda _: "labels.csv", r"^source must be a LabelSource .*, got str 'labels\.csv'$"),
        ("source", lambda _: None, r"^source must be a LabelSource .*, got NoneType None$"),
        ("replace_all_labels", lambda _: "yes", r"^replace_all_labels must be True or False, got str 'yes'$"),
        ("replace_all_labels", lambda _: 1, r"^replace_all_labels must be True or False, got int 1$"),
        ("replace_all_labels", lambda _: None, r"^replace_all_labels must be True or False, got NoneType None$"),
        ("timeout", lambda _: 600, r"^timeout must be an aws_cdk\.Duration .*, got int 600$"),
        ("timeout", lambda _: 1.5, r"^timeout must be an aws_cdk\.Duration .*, got float 1\.5$"),
        (
            "transform_role",
            lambda _: "arn:aws:iam::123456789012:role/Glue",
            r"^transform_role must be an aws_iam\.IRole .*, got str 'arn:aws:iam::123456789012:role/Glue'$",
        ),
        (
            "transform_role",
            lambda stack: iam.User(stack, "User"),
            r"^transform_role must be an aws_iam\.IRole .*, got User ",
        ),
        (
            "transform_role",
            lambda _: iam.ServicePrincipal("glue.amazonaws.com"),
            r"^transform_role must be an aws_iam\.IRole .*, got ServicePrincipal ",
        ),
    ],
)
def test_a_wrong_type_is_a_type_error_naming_the_argument_and_leaving_nothing(
    keyword: str, make_value: Any, message: str, labels_csv: str
) -> None:
    stack = new_stack()
    value = make_value(stack)
    arguments: dict[str, Any] = {"transform": "tfm-1", "source": LabelSource.from_asset(labels_csv), keyword: value}
    before = [child.node.id for child in stack.node.children]
    with pytest.raises(TypeError, match=message):
        LabelImport(stack, "Labels", **arguments)
    assert [child.node.id for child in stack.node.children] == before  # not even a provider


@pytest.mark.parametrize(
    "make_role",
    [
        lambda stack: iam.Role.from_role_arn(stack, "Imported", "arn:aws:iam::123456789012:role/service-role/Glue"),
        lambda stack: iam.Role.from_role_name(stack, "Imported", "Glue"),
        lambda stack: iam.Role(stack, "Glue", assumed_by=iam.ServicePrincipal("glue.amazonaws.com")),
        lambda stack: iam.LazyRole(stack, "Glue", assumed_by=iam.ServicePrincipal("glue.amazonaws.com")),
    ],
    ids=["from_role_arn", "from_role_name", "Role", "LazyRole"],
)
def test_any_kind_of_role_is_a_transform_role(make_role: Any, labels_csv: str) -> None:
    stack = new_stack()
    role = make_role(stack)
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(labels_csv), transform_role=role)
    roles = stack.resolve(role.role_name)
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {"Roles": [roles], "PolicyDocument": {"Statement": [Match.object_like({"Action": "s3:GetObject"})]}},
    )


def test_replace_all_labels_may_be_a_token(labels_csv: str) -> None:
    stack = new_stack()
    replace = CfnParameter(stack, "ReplaceAllLabels", allowed_values=["true", "false"]).value_as_string
    LabelImport(
        stack,
        "Labels",
        transform="tfm-1",
        source=LabelSource.from_asset(labels_csv),
        replace_all_labels=replace,  # type: ignore[arg-type]
    )
    Template.from_stack(stack).has_resource_properties(
        "Custom::GlueImportLabels", {"ReplaceAllLabels": {"Ref": "ReplaceAllLabels"}}
    )


def test_a_transform_role_given_by_name_gets_the_grant(labels_csv: str) -> None:
    stack = new_stack()
    LabelImport(
        stack,
        "Labels",
        transform=find_matches_transform(stack, role="GlueFindMatches"),
        source=LabelSource.from_asset(labels_csv),
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "Roles": ["GlueFindMatches"],
            "PolicyDocument": {"Statement": [Match.object_like({"Action": "s3:GetObject"})]},
        },
    )


def test_a_role_of_the_stack_gets_the_grant_itself_path_and_all(labels_csv: str) -> None:
    stack = new_stack()
    role = iam.Role(stack, "GlueRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"), path="/service-role/")
    label_import = LabelImport(
        stack,
        "Labels",
        transform=find_matches_transform(stack, role=role.role_arn),
        source=LabelSource.from_asset(labels_csv),
    )
    template = Template.from_stack(stack)
    role_id = stack.resolve(role.node.default_child.logical_id)  # type: ignore[union-attr]
    (policy_id,) = [
        logical_id
        for logical_id, policy in resources_of(template, "AWS::IAM::Policy").items()
        if policy["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    assert "s3:GetObject" in json.dumps(resources_of(template, "AWS::IAM::Policy")[policy_id])
    resource_id = stack.resolve(label_import.node.find_child("Resource").node.default_child.logical_id)  # type: ignore[union-attr]
    assert policy_id in resources_of(template, "Custom::GlueImportLabels")[resource_id]["DependsOn"]


def test_an_unknown_transform_role_is_a_warning_not_a_guess(labels_csv: str) -> None:
    stack = new_stack()
    role = CfnParameter(stack, "GlueRoleArn").value_as_string
    LabelImport(
        stack, "Labels", transform=find_matches_transform(stack, role=role), source=LabelSource.from_asset(labels_csv)
    )
    template = Template.from_stack(stack)
    handler_role = stack.resolve(TaskRunProvider.of(stack).role.role_name)
    policies = resources_of(template, "AWS::IAM::Policy").values()
    assert not any("s3:GetObject" in json.dumps(p) for p in policies if p["Properties"]["Roles"] != [handler_role])
    (warning,) = Annotations.from_stack(stack).find_warning("/Labels/Labels", Match.any_value())
    shown = warning.entry.data
    assert "cannot tell the role of transform Labels/Transform" in shown and "pass transform_role=" in shown
    assert "Ref" not in shown and "{" not in shown  # the transform's path, not a CloudFormation dict


def test_a_transform_id_without_transform_role_is_a_warning_that_says_how(labels_csv: str) -> None:
    stack = new_stack()
    LabelImport(stack, "ById", transform="tfm-1", source=LabelSource.from_asset(labels_csv))
    LabelImport(
        stack, "WithRole", transform="tfm-1", source=LabelSource.from_asset(labels_csv), transform_role=glue_role(stack)
    )
    annotations = Annotations.from_stack(stack)
    (warning,) = annotations.find_warning("/Labels/ById", Match.any_value())
    assert "its transform is a TransformId" in warning.entry.data and "grants that role nothing" in warning.entry.data
    assert "pass transform_role=iam.Role.from_role_arn(" in warning.entry.data
    assert "so that it may read the label file" in warning.entry.data
    assert "glue-label-import:transform-role" in warning.entry.data  # the id to acknowledge it by
    assert annotations.find_warning("/Labels/WithRole", Match.any_value()) == []


def test_a_second_replacing_import_on_a_transform_is_a_warning_naming_both(labels_csv: str) -> None:
    stack = new_stack()
    transform, other = find_matches_transform(stack), find_matches_transform(stack, "Other")
    source = LabelSource.from_asset(labels_csv)
    LabelImport(stack, "Round1", transform=transform, source=source, replace_all_labels=True)
    LabelImport(stack, "Appended", transform=transform, source=source)
    LabelImport(stack, "Elsewhere", transform=other, source=source, replace_all_labels=True)
    LabelImport(stack, "Round2", transform=transform, source=source, replace_all_labels=True)
    annotations = Annotations.from_stack(stack)
    annotations.has_warning(
        "/Labels/Round2",
        Match.string_like_regexp(r"replaces all labels of its transform, and so does Labels/Round1, imported before"),
    )
    for path in ("/Labels/Round1", "/Labels/Appended", "/Labels/Elsewhere"):
        assert annotations.find_warning(path, Match.any_value()) == []


@pytest.mark.parametrize("construct", ["LabelImport", "TransformEvaluation", "LabelingSetGeneration"])
def test_a_transform_that_is_not_find_matches_is_refused_at_the_call_naming_it(construct: str, labels_csv: str) -> None:
    stack = new_stack()
    transform = glue.CfnMLTransform(
        stack,
        "Lookup",
        role="arn:aws:iam::123456789012:role/Glue",
        input_record_tables=glue.CfnMLTransform.InputRecordTablesProperty(
            glue_tables=[glue.CfnMLTransform.GlueTablesProperty(database_name="crm", table_name="customers")]
        ),
        transform_parameters=glue.CfnMLTransform.TransformParametersProperty(transform_type="LOOKUP"),
    )
    make = {
        "LabelImport": lambda: LabelImport(stack, "It", transform=transform, source=LabelSource.from_asset(labels_csv)),
        "TransformEvaluation": lambda: TransformEvaluation(stack, "It", transform=transform, min_f1=0.7),
        "LabelingSetGeneration": lambda: LabelingSetGeneration(
            stack, "It", transform=transform, output_bucket=s3.Bucket(stack, "Bucket")
        ),
    }[construct]
    with pytest.raises(ValueError, match=r"^transform Labels/Lookup is not a FIND_MATCHES transform: .*'LOOKUP'"):
        make()
    assert stack.node.try_find_child("It") is None


def test_a_refused_transform_or_timeout_leaves_nothing_in_the_stack(labels_csv: str) -> None:
    stack = new_stack()
    with pytest.raises(ValueError, match="transform id ''"):
        LabelImport(stack, "Labels", transform="", source=LabelSource.from_asset(labels_csv))
    with pytest.raises(ValueError, match="timeout 2 hours"):
        LabelImport(
            stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(labels_csv), timeout=Duration.hours(2)
        )
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(labels_csv))  # the id is still free
    Template.from_stack(stack).resource_count_is("Custom::GlueImportLabels", 1)


def test_a_changed_label_file_is_a_new_input_path_and_so_an_update(tmp_path: Path) -> None:
    def input_path(text: str) -> Any:
        labels = tmp_path / "labels.csv"
        labels.write_text(text)
        stack = new_stack()
        LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(str(labels)))
        (resource,) = resources_of(Template.from_stack(stack), "Custom::GlueImportLabels").values()
        return resource["Properties"]["InputS3Path"]

    first = "labeling_set_id,label,customer_id\ns1,A,1\ns1,A,2\n"
    assert input_path(first) == input_path(first)
    assert input_path(first) != input_path(first + "s1,B,3\n")


def test_the_handler_may_read_exactly_the_label_objects_to_check_their_header(labels_csv: str) -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    bucket = s3.Bucket(stack, "Bucket", encryption_key=key)
    LabelImport(stack, "FromS3", transform="tfm-1", source=LabelSource.from_s3_path("s3://my-labels/a/b.csv"))
    LabelImport(stack, "FromBucket", transform="tfm-1", source=LabelSource.from_bucket(bucket, "l.csv"))
    template = Template.from_stack(stack)
    handler_role = stack.resolve(TaskRunProvider.of(stack).role.role_name)
    statements = [
        statement
        for policy in resources_of(template, "AWS::IAM::Policy").values()
        if policy["Properties"]["Roles"] == [handler_role]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    reads = [json.dumps(s["Resource"]) for s in statements if s["Action"] == "s3:GetObject"]
    assert len(reads) == 2 and "my-labels/a/b.csv" in reads[0] and "/l.csv" in reads[1]
    (decrypt,) = [s for s in statements if "kms:Decrypt" in s["Action"]]
    assert decrypt["Resource"] == {"Fn::GetAtt": [stack.resolve(key.node.default_child.logical_id), "Arn"]}  # type: ignore[union-attr]
