"""IAM at work without AWS: a stack's deploy with the handler acting as its own role and Glue as the transform's.

The roles and policies are the synthesized template's (glue_label_import.testing.iam), moto checks
every call the handler makes, and the emulated Glue reads the label file and writes the labeling
set as the transform's role. Each grant the library writes is removed in turn: the deploy then
meets AccessDenied naming that action.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from glue_label_import import LabelImport, LabelingSetGeneration, LabelSource, TransformEvaluation
from glue_label_import._handler import index
from glue_label_import._handler.engine import Engine
from glue_label_import._handler.glue_runs import TaskRuns
from glue_label_import._handler.ledger import Ledger
from glue_label_import._handler.retries import Clock
from glue_label_import.testing import GlueMLTaskRuns
from glue_label_import.testing.examples import find_matches_transform
from glue_label_import.testing.iam import Grant, IamChecks, enforced_iam, grants_of, template_roles, without_grant
from glue_label_import.testing.requests import BUCKET, LEDGER_TABLE, STACK_ID, cfn_event
from handler_driver import Handler
from support import NO_RETRIES, catalog_table, glue_role, new_stack, share

# Grants no call of a deploy here makes: the Lambda runtime writes the logs, a hand-over Invokes
# (a recording client here), and Glue aborts a multipart upload only when writing a labeling set fails.
NOT_EXERCISED = frozenset(
    {"logs:CreateLogStream", "logs:PutLogEvents", "lambda:InvokeFunction", "s3:AbortMultipartUpload"}
)
HANDLER_ROLE = "GlueLabelImportProviderRoleA4A03DB1"
HANDLER_POLICY = "GlueLabelImportProviderRoleDefaultPolicyEA2996BB"
# Denials the deploy survives, by design: the handler's header check leaves an unreadable file to
# Glue, the run ledger falls back when it cannot be read or written, an unreadable stack status
# never fails a deploy on metrics (a rollback must never fail), and a Delete never fails.
SURVIVED = frozenset(
    (HANDLER_POLICY, action)
    for action in (
        "s3:GetObject",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "cloudformation:DescribeStacks",
        "glue:CancelMLTaskRun",
    )
)


@functools.cache
def template(*, imported_role: bool = False) -> dict[str, Any]:
    """A stack of all three constructs on one transform, whose role is the stack's (or imported by ARN)."""
    stack = new_stack()
    bucket = s3.Bucket(stack, "Labels", bucket_name=BUCKET)
    if imported_role:
        role = glue_role(stack)
    else:
        role = iam.Role(stack, "GlueRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    transform = find_matches_transform(stack, role=role.role_arn)
    LabelImport(stack, "Import", transform=transform, source=LabelSource.from_bucket(bucket, "round-1.csv"))
    TransformEvaluation(stack, "Quality", transform=transform, min_f1=0.5)
    LabelingSetGeneration(stack, "NextRound", transform=transform, output_bucket=bucket, output_prefix="sets/")
    return dict(Template.from_stack(stack).to_json())


def checked_grants() -> list[Grant]:
    return [grant for grant in grants_of(template()) if grant.action not in NOT_EXERCISED]


def deploy(
    handler: Handler, task_runs: GlueMLTaskRuns, stack: dict[str, Any]
) -> tuple[list[dict[str, Any]], IamChecks]:
    """Create the stack's roles, then its custom resources in order, and delete one whose run is in
    flight: the handler acting as its role. The answers CloudFormation got, and what IAM checked."""
    glue = handler.glue
    catalog_table(glue, ["customer_id"])
    roles = template_roles(stack, stack_id=STACK_ID)
    (ledger_id,) = [key for key, resource in stack["Resources"].items() if resource["Type"] == "AWS::DynamoDB::Table"]
    roles.resolve.attributes[(ledger_id, "Arn")] = f"arn:aws:dynamodb:us-east-1:123456789012:table/{LEDGER_TABLE}"
    transform_role = roles.resolve(stack["Resources"]["Transform"]["Properties"]["Role"])
    transform_id = glue.create_ml_transform(
        Name="customers",
        InputRecordTables=[{"DatabaseName": "crm", "TableName": "customers"}],
        Parameters={"TransformType": "FIND_MATCHES", "FindMatchesParameters": {"PrimaryKeyColumnName": "customer_id"}},
        Role=transform_role,
    )["TransformId"]
    roles.resolve.refs["Transform"] = transform_id
    roles.create(boto3.client("iam"))
    credentials = roles.credentials(boto3.client("sts"), HANDLER_ROLE)
    clock = Clock(handler.clock, handler.clock.sleep)
    runs = TaskRuns(boto3.client("glue", config=NO_RETRIES, **credentials), clock=clock)
    index.engine = Engine(
        runs,
        runs,
        lambda_client=handler.lambda_client,
        s3=boto3.client("s3", config=NO_RETRIES, **credentials),
        cloudformation=boto3.client("cloudformation", config=NO_RETRIES, **credentials),
        ledger=Ledger(boto3.client("dynamodb", config=NO_RETRIES, **credentials), LEDGER_TABLE, clock=clock),
        clock=clock,
    )
    answers = []
    with enforced_iam() as checks:
        for logical_id, resource in stack["Resources"].items():
            if resource["Type"].startswith("Custom::"):
                properties = roles.resolve(resource["Properties"])
                answer = handler(cfn_event("Create", properties, logical_id=logical_id, resource_type=resource["Type"]))
                assert answer is not None
                answers.append(answer)
                for name, value in answer.get("Data", {}).items():
                    roles.resolve.attributes[(logical_id, name)] = value
                changed = {  # an Update reads the stack's status; the import's reads its own runs on the transform
                    "Custom::GlueEvaluateTransform": {"MinF1": "0.5"},
                    "Custom::GlueImportLabels": {"ServiceTimeout": "1800"},
                }.get(resource["Type"])
                if changed:
                    update = cfn_event(
                        "Update",
                        {**properties, **changed},
                        logical_id=logical_id,
                        resource_type=resource["Type"],
                        physical_id=f"{logical_id}-1",
                        old_properties=properties,
                    )
                    answers.append(handler(update) or {})
        task_runs.running_seconds = 600
        in_flight = {
            "TransformId": transform_id,
            "InputS3Path": f"s3://{BUCKET}/round-1.csv",
            "ReplaceAllLabels": "true",
        }
        handler(cfn_event("Create", in_flight), remaining_s=share(10))  # hands its wait over: the run stays in flight
        answers.append(handler(cfn_event("Delete", in_flight, physical_id="labels-2")) or {})
    return answers, checks


def test_the_stack_deploys_with_exactly_its_grants_and_every_call_is_checked(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    answers, checks = deploy(handler, task_runs, template())

    assert [answer["Status"] for answer in answers] == ["SUCCESS"] * 6, answers
    assert checks.denied == []
    assert checks.checked >= 15
    assert len(task_runs.calls_to("CancelMLTaskRun")) == 1  # the Delete cancelled the run in flight
    granted = {grant.action for grant in grants_of(template())}
    assert granted - NOT_EXERCISED == {grant.action for grant in checked_grants()}
    assert granted >= NOT_EXERCISED  # each exception is one the library still writes


@pytest.mark.parametrize("grant", checked_grants(), ids=lambda grant: f"{grant.logical_id[:20]}-{grant.action}")
def test_without_a_grant_the_deploy_meets_access_denied_naming_its_action(
    handler: Handler, task_runs: GlueMLTaskRuns, grant: Grant
) -> None:
    answers, checks = deploy(handler, task_runs, without_grant(template(), grant))

    assert any(f"not authorized to perform: {grant.action}" in denial for denial in checks.denied), checks.denied
    assert all(f"perform: {grant.action}" in denial for denial in checks.denied)
    failed = [answer["Reason"] for answer in answers if answer["Status"] == "FAILED"]
    if (grant.logical_id, grant.action) in SURVIVED:
        assert failed == []
    else:
        assert failed and "is not authorized to perform: " in failed[0], failed  # the action may be cut off (256)


def test_an_imported_transform_role_is_created_with_the_grants_the_library_gives_it(
    handler: Handler, task_runs: GlueMLTaskRuns
) -> None:
    stack = template(imported_role=True)
    (put,) = [grant for grant in grants_of(stack) if grant.action == "s3:PutObject"]
    answers, checks = deploy(handler, task_runs, without_grant(stack, put))

    assert [answer["Status"] for answer in answers] == ["SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS", "FAILED", "SUCCESS"]
    assert answers[4]["Reason"].startswith(
        "FAILED: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/GlueFindMatches/"
    )
    assert [denial.split(" on resource: ")[0].rsplit(" ", 1)[-1] for denial in checks.denied] == ["s3:PutObject"]
