"""Synth assertions on the one handler a stack's resources share (the provider): its function, role,
log group, network and configure, as `cdk synth` gives them to a user.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import CfnParameter, Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template

from glue_label_import import LabelImport, LabelSource, TaskRunProvider
from support import handler_statements, new_stack, resources_of


def test_one_handler_function_serves_every_import(three_imports: tuple[Stack, Template]) -> None:
    _, template = three_imports
    template.resource_count_is("Custom::GlueImportLabels", 3)
    functions = resources_of(template, "AWS::Lambda::Function")
    assert len(functions) == 1
    (handler_id,) = functions
    for resource in resources_of(template, "Custom::GlueImportLabels").values():
        assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": [handler_id, "Arn"]}


def test_handler_runtime_timeout_and_log_retention(three_imports: tuple[Stack, Template]) -> None:
    _, template = three_imports
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Runtime": "python3.14", "Handler": "index.handler", "Timeout": 900, "LoggingConfig": Match.any_value()},
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})
    # the largest timeout of the three imports is 1 hour: no hand-over runs after that
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig", {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}
    )


def test_hand_over_may_invoke_only_the_handler_itself(three_imports: tuple[Stack, Template]) -> None:
    _, template = three_imports
    (handler_id,) = resources_of(template, "AWS::Lambda::Function")
    invoke = [s for s in handler_statements(template) if s["Action"] == "lambda:InvokeFunction"]
    assert invoke == [
        {"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": {"Fn::GetAtt": [handler_id, "Arn"]}}
    ]
    (policy_id,) = [
        logical_id
        for logical_id, policy in resources_of(template, "AWS::IAM::Policy").items()
        if "lambda:InvokeFunction" in json.dumps(policy)
    ]
    for resource in resources_of(template, "Custom::GlueImportLabels").values():
        assert policy_id in resource["DependsOn"]


def test_handler_logs_only_to_its_log_group(three_imports: tuple[Stack, Template]) -> None:
    _, template = three_imports
    (log_group_id,) = resources_of(template, "AWS::Logs::LogGroup")
    (logs,) = [s for s in handler_statements(template) if "logs:PutLogEvents" in s["Action"]]
    assert logs["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    template.has_resource_properties("AWS::Lambda::Function", {"LoggingConfig": {"LogGroup": {"Ref": log_group_id}}})
    assert not resources_of(template, "AWS::IAM::Role")[next(iter(resources_of(template, "AWS::IAM::Role")))][
        "Properties"
    ].get("ManagedPolicyArns")


def test_the_handler_log_group_is_kept_30_days_and_retained_by_default(labels_csv: str) -> None:
    stack = new_stack()
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(labels_csv))
    Template.from_stack(stack).has_resource(
        "AWS::Logs::LogGroup",
        {"Properties": {"RetentionInDays": 30}, "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"},
    )


def test_configure_sets_log_retention_and_removal_policy(labels_csv: str) -> None:
    stack = new_stack()
    provider = TaskRunProvider.configure(
        stack, log_retention=logs.RetentionDays.ONE_YEAR, log_removal_policy=RemovalPolicy.DESTROY
    )
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(labels_csv))
    LabelImport(stack, "More", transform="tfm-2", source=LabelSource.from_asset(labels_csv))
    assert TaskRunProvider.of(stack) is provider
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Logs::LogGroup", 1)
    template.resource_count_is("AWS::Lambda::Function", 1)
    template.has_resource(
        "AWS::Logs::LogGroup",
        {"Properties": {"RetentionInDays": 365}, "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"},
    )


def test_configure_after_the_provider_exists_is_refused_unless_it_changes_nothing(labels_csv: str) -> None:
    stack = new_stack()
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(labels_csv))
    provider = TaskRunProvider.of(stack)
    assert TaskRunProvider.configure(stack) is provider  # the defaults: nothing to change
    too_late = (
        r"configure\(log_retention=RetentionDays\.ONE_YEAR \(it has RetentionDays\.ONE_MONTH\)\) comes too late: "
        r"the provider of stack 'Labels' exists already; call configure before the stack's first LabelImport"
    )
    with pytest.raises(RuntimeError, match=too_late):
        TaskRunProvider.configure(stack, log_retention=logs.RetentionDays.ONE_YEAR)
    with pytest.raises(RuntimeError, match=r"vpc=Labels/Vpc \(it has None\)"):
        TaskRunProvider.configure(stack, vpc=ec2.Vpc(stack, "Vpc"))


@pytest.mark.parametrize(
    ("keyword", "make_value", "error", "message"),
    [
        (
            "log_retention",
            lambda _: 30,
            TypeError,
            r"^log_retention must be an aws_logs\.RetentionDays .*, got int 30$",
        ),
        (
            "log_removal_policy",
            lambda _: "destroy",
            TypeError,
            r"^log_removal_policy must be an aws_cdk\.RemovalPolicy .*, got str 'destroy'$",
        ),
        ("vpc", lambda _: "vpc-0123", TypeError, r"^vpc must be an aws_ec2\.IVpc, got str 'vpc-0123'$"),
        (
            "security_groups",
            lambda _: "sg-0123",
            TypeError,
            r"^security_groups must be a list of aws_ec2\.ISecurityGroup, got str 'sg-0123'$",
        ),
        (
            "security_groups",
            lambda stack: [ec2.SecurityGroup.from_security_group_id(stack, "Group", "sg-0123")],
            ValueError,
            r"^security_groups needs vpc: the handler is in a VPC only when vpc is given$",
        ),
        (
            "vpc_subnets",
            lambda _: {"subnet_type": "PRIVATE"},
            TypeError,
            r"^vpc_subnets must be an aws_ec2\.SubnetSelection, got dict \{'subnet_type': 'PRIVATE'\}$",
        ),
        (
            "vpc_subnets",
            lambda _: ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            ValueError,
            r"^vpc_subnets needs vpc",
        ),
    ],
)
def test_configure_refuses_a_wrong_argument_and_leaves_nothing(
    keyword: str, make_value: Any, error: type[Exception], message: str
) -> None:
    stack = new_stack()
    value = make_value(stack)
    with pytest.raises(error, match=message):
        TaskRunProvider.configure(stack, **{keyword: value})
    assert stack.node.try_find_child(TaskRunProvider.ID) is None


def test_security_groups_must_be_security_groups() -> None:
    stack = new_stack()
    vpc = ec2.Vpc(stack, "Vpc")
    with pytest.raises(TypeError, match=r"^security_groups must hold aws_ec2\.ISecurityGroup, got str 'sg-0123'$"):
        TaskRunProvider.configure(stack, vpc=vpc, security_groups=["sg-0123"])  # type: ignore[list-item]
    assert stack.node.try_find_child(TaskRunProvider.ID) is None


def test_the_handler_function_and_log_group_are_reachable_for_alarms(labels_csv: str) -> None:
    stack = new_stack()
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(labels_csv))
    provider = TaskRunProvider.of(stack)
    assert isinstance(provider.function, lambda_.Function)
    provider.function.metric_errors().create_alarm(stack, "HandlerErrors", threshold=1, evaluation_periods=1)
    logs.MetricFilter(
        stack,
        "FailedImports",
        log_group=provider.log_group,
        filter_pattern=logs.FilterPattern.string_value("$.status", "=", "FAILED"),
        metric_namespace="GlueLabelImport",
        metric_name="FailedImports",
    )
    template = Template.from_stack(stack)
    (function_id,) = resources_of(template, "AWS::Lambda::Function")
    (log_group_id,) = resources_of(template, "AWS::Logs::LogGroup")
    (role_id,) = resources_of(template, "AWS::IAM::Role")
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {"MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function_id}}]},
    )
    template.has_resource_properties("AWS::Logs::MetricFilter", {"LogGroupName": {"Ref": log_group_id}})
    assert stack.resolve(provider.role.role_arn) == {"Fn::GetAtt": [role_id, "Arn"]}


def test_the_handler_can_run_in_a_vpc(labels_csv: str) -> None:
    stack = new_stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    group = ec2.SecurityGroup(stack, "HandlerGroup", vpc=vpc)
    TaskRunProvider.configure(
        stack,
        vpc=vpc,
        vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        security_groups=[group],
    )
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(labels_csv))
    template = Template.from_stack(stack)
    private_subnets = [stack.resolve(subnet.subnet_id) for subnet in vpc.private_subnets]
    group_id = stack.resolve(group.security_group_id)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"VpcConfig": {"SubnetIds": private_subnets, "SecurityGroupIds": [group_id]}},
    )
    # a function in a VPC needs to create its network interfaces
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Principal": {"Service": "lambda.amazonaws.com"}})]}
            ),
            "ManagedPolicyArns": [
                {
                    "Fn::Join": [
                        "",
                        [
                            "arn:",
                            {"Ref": "AWS::Partition"},
                            ":iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
                        ],
                    ]
                }
            ],
        },
    )


def test_the_handler_is_outside_any_vpc_by_default(three_imports: tuple[Stack, Template]) -> None:
    _, template = three_imports
    template.has_resource_properties("AWS::Lambda::Function", {"VpcConfig": Match.absent()})


@pytest.mark.parametrize(
    ("timeouts", "max_event_age"),
    [
        ([Duration.minutes(20), Duration.minutes(5)], 1200),
        ([Duration.minutes(1)], 60),
        ([Duration.minutes(5), Duration.minutes(60)], 3600),
        ([Duration.minutes(5), "token"], 3600),
    ],
    ids=["largest-20-minutes", "1-minute", "1-hour", "a-token-timeout"],
)
def test_a_hand_over_never_runs_after_the_resource_timed_out(
    timeouts: list[Any], max_event_age: int, labels_csv: str
) -> None:
    stack = new_stack()
    for number, given in enumerate(timeouts):
        timeout = given
        if given == "token":
            timeout = Duration.seconds(CfnParameter(stack, "Timeout", type="Number").value_as_number)
        LabelImport(
            stack, f"Labels{number}", transform="tfm-1", source=LabelSource.from_asset(labels_csv), timeout=timeout
        )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Lambda::EventInvokeConfig", 1)
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": max_event_age, "Qualifier": "$LATEST"},
    )
