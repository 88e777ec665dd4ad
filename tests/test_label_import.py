"""Synth assertions on stacks that use LabelImport: what `cdk synth` gives a user."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import CfnOutput, CfnParameter, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from glue_label_import import LabelImport, LabelSource
from stacks import find_matches_transform, glue_role, new_stack

GLUE_ACTIONS = [
    "glue:StartImportLabelsTaskRun",
    "glue:GetMLTaskRun",
    "glue:GetMLTaskRuns",
    "glue:CancelMLTaskRun",
    "glue:GetMLTransform",
]


@pytest.fixture
def labels_csv(tmp_path: Path) -> str:
    path = tmp_path / "labels.csv"
    path.write_text("labeling_set_id,label,customer_id,name\ns1,A,1,Ann\ns1,A,2,Anne\ns1,B,3,Bob\n")
    return str(path)


@pytest.fixture(scope="module")
def three_imports() -> tuple[Stack, Template]:
    """Two transforms, three imports: one from an asset, one from S3, one from a bucket."""
    stack = new_stack()
    first = find_matches_transform(stack, "First")
    second = find_matches_transform(stack, "Second")
    labels = Path(__file__).parent.parent / "labels" / "round-1.csv"
    LabelImport(stack, "FromAsset", transform=first, source=LabelSource.from_asset(str(labels)))
    LabelImport(
        stack,
        "FromS3",
        transform=second,
        source=LabelSource.from_s3_path("s3://my-labels/round-2.csv"),
        replace_all_labels=True,
        timeout=Duration.minutes(20),
    )
    by_id = LabelImport(
        stack,
        "ById",
        transform="tfm-0123456789abcdef",
        source=LabelSource.from_bucket(s3.Bucket.from_bucket_name(stack, "Bucket", "team-labels"), "r3.csv"),
    )
    CfnOutput(stack, "TaskRunId", value=by_id.task_run_id)
    return stack, Template.from_stack(stack)


def _resources(template: Template, type_: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(type_)
    return found


def test_one_handler_function_serves_every_import(three_imports: tuple[Stack, Template]) -> None:
    _, template = three_imports
    template.resource_count_is("Custom::GlueImportLabels", 3)
    functions = _resources(template, "AWS::Lambda::Function")
    assert len(functions) == 1
    (handler_id,) = functions
    for resource in _resources(template, "Custom::GlueImportLabels").values():
        assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": [handler_id, "Arn"]}


def test_handler_runtime_timeout_and_log_retention(three_imports: tuple[Stack, Template]) -> None:
    _, template = three_imports
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Runtime": "python3.14", "Handler": "index.handler", "Timeout": 900, "LoggingConfig": Match.any_value()},
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    template.has_resource_properties("AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 0})


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
        for logical_id, resource in _resources(template, "Custom::GlueImportLabels").items()
        if resource["Properties"]["TransformId"] == "tfm-0123456789abcdef"
    ]
    template.has_output("TaskRunId", {"Value": {"Fn::GetAtt": [by_id, "TaskRunId"]}})


def _handler_statements(template: Template) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    for policy in _resources(template, "AWS::IAM::Policy").values():
        if "GlueLabelImportProvider" in json.dumps(policy["Properties"]["Roles"]):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def test_glue_access_is_scoped_to_the_imported_transforms(three_imports: tuple[Stack, Template]) -> None:
    stack, template = three_imports
    (glue_statement,) = [s for s in _handler_statements(template) if "glue:GetMLTaskRun" in s["Action"]]
    assert glue_statement["Action"] == GLUE_ACTIONS
    arns = [stack.resolve(arn) for arn in glue_statement["Resource"]]
    rendered = json.dumps(arns)
    assert (
        '"Ref": "First' in rendered and '"Ref": "Second' in rendered and ":mlTransform/tfm-0123456789abcdef" in rendered
    )
    assert len(arns) == 3
    for arn in arns:
        assert ":glue:" in json.dumps(arn) and ":mlTransform/" in json.dumps(arn)
    for statement in _handler_statements(template):
        assert statement["Resource"] != "*", statement


def test_hand_over_may_invoke_only_the_handler_itself(three_imports: tuple[Stack, Template]) -> None:
    _, template = three_imports
    (handler_id,) = _resources(template, "AWS::Lambda::Function")
    invoke = [s for s in _handler_statements(template) if s["Action"] == "lambda:InvokeFunction"]
    assert invoke == [
        {"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": {"Fn::GetAtt": [handler_id, "Arn"]}}
    ]
    (policy_id,) = [
        logical_id
        for logical_id, policy in _resources(template, "AWS::IAM::Policy").items()
        if "lambda:InvokeFunction" in json.dumps(policy)
    ]
    for resource in _resources(template, "Custom::GlueImportLabels").values():
        assert policy_id in resource["DependsOn"]


def test_handler_logs_only_to_its_log_group(three_imports: tuple[Stack, Template]) -> None:
    _, template = three_imports
    (log_group_id,) = _resources(template, "AWS::Logs::LogGroup")
    (logs,) = [s for s in _handler_statements(template) if "logs:PutLogEvents" in s["Action"]]
    assert logs["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    template.has_resource_properties("AWS::Lambda::Function", {"LoggingConfig": {"LogGroup": {"Ref": log_group_id}}})
    assert not _resources(template, "AWS::IAM::Role")[next(iter(_resources(template, "AWS::IAM::Role")))][
        "Properties"
    ].get("ManagedPolicyArns")


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
        for policy in _resources(template, "AWS::IAM::Policy").values()
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
        assert policy_id in _resources(template, "Custom::GlueImportLabels")[resource_id]["DependsOn"]


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


def test_transform_of_the_wrong_type(labels_csv: str) -> None:
    with pytest.raises(TypeError, match="transform must be a CfnMLTransform or a TransformId string, got 42"):
        LabelImport(new_stack(), "Labels", transform=42, source=LabelSource.from_asset(labels_csv))  # type: ignore[arg-type]


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
        for logical_id, policy in _resources(template, "AWS::IAM::Policy").items()
        if policy["Properties"]["Roles"] == [{"Ref": role_id}]
    ]
    assert "s3:GetObject" in json.dumps(_resources(template, "AWS::IAM::Policy")[policy_id])
    resource_id = stack.resolve(label_import.node.find_child("Resource").node.default_child.logical_id)  # type: ignore[union-attr]
    assert policy_id in _resources(template, "Custom::GlueImportLabels")[resource_id]["DependsOn"]


def test_an_unknown_transform_role_is_a_warning_not_a_guess(labels_csv: str) -> None:
    stack = new_stack()
    role = CfnParameter(stack, "GlueRoleArn").value_as_string
    LabelImport(
        stack, "Labels", transform=find_matches_transform(stack, role=role), source=LabelSource.from_asset(labels_csv)
    )
    template = Template.from_stack(stack)
    assert not any("s3:GetObject" in json.dumps(p) for p in _resources(template, "AWS::IAM::Policy").values())
    Annotations.from_stack(stack).has_warning("/Labels/Labels", Match.string_like_regexp("pass transform_role="))


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
        (resource,) = _resources(Template.from_stack(stack), "Custom::GlueImportLabels").values()
        return resource["Properties"]["InputS3Path"]

    first = "labeling_set_id,label,customer_id\ns1,A,1\ns1,A,2\n"
    assert input_path(first) == input_path(first)
    assert input_path(first) != input_path(first + "s1,B,3\n")
