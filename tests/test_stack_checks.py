"""The checks CDK users already run: cdk-nag's AwsSolutions pack and cfn-lint."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk import Acknowledgment, App, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from cdk_nag import AwsSolutionsChecks

from glue_label_import import LabelImport, LabelingSetGeneration, LabelSource, TransformEvaluation
from glue_label_import.label_file import validate_label_file
from glue_label_import.testing.examples import find_matches_transform

REPO = Path(__file__).parent.parent


def nag_errors(outdir: Path, *, with_bare_bucket: bool = False) -> list[str]:
    """Synthesize a stack holding only LabelImports under AwsSolutionsChecks; list its errors."""
    app = App(outdir=str(outdir))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = Stack(app, "OnlyLabelImports")
    transform = find_matches_transform(stack)
    LabelImport(
        stack, "FromAsset", transform=transform, source=LabelSource.from_asset(str(REPO / "labels" / "round-1.csv"))
    )
    LabelImport(stack, "FromS3", transform="tfm-1", source=LabelSource.from_s3_path("s3://team-labels/round-2.csv"))
    if with_bare_bucket:
        s3.Bucket(stack, "BareBucket")
    return synth_errors(app, outdir)


def synth_errors(app: App, outdir: Path) -> list[str]:
    """Synthesize `app` under its validation plugins; list the errors they report, as `rule construct-path`."""
    try:
        app.synth()
    except RuntimeError as error:  # synth raises when a plugin reports errors
        assert "ValidationFailed" in str(error)
    report = json.loads((outdir / "validation-report.json").read_text())
    return [
        f"{rule['ruleName']} {construct['constructPath']}"
        for plugin in report["pluginReports"]
        for rule in plugin["violations"]
        if rule["severity"] == "error"
        for construct in rule["violatingConstructs"]
    ]


def label_round_nag_errors(outdir: Path, *, suppressed: bool) -> list[str]:
    """A whole label round on a transform whose role and (KMS-encrypted) bucket are the user's, under cdk-nag."""
    app = App(outdir=str(outdir))
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    stack = Stack(app, "LabelRound")
    role = iam.Role(stack, "GlueRole", assumed_by=iam.ServicePrincipal("glue.amazonaws.com"))
    transform = find_matches_transform(stack, role=role.role_arn)
    bucket = s3.Bucket(
        stack,
        "LabelingSets",
        encryption_key=kms.Key(stack, "Key", enable_key_rotation=True),
        enforce_ssl=True,
        server_access_logs_prefix="access-logs/",
    )
    labels = LabelImport(
        stack, "Labels", transform=transform, source=LabelSource.from_asset(str(REPO / "labels" / "round-1.csv"))
    )
    TransformEvaluation(stack, "Quality", transform=transform, after=[labels], min_f1=0.7)
    LabelingSetGeneration(stack, "NextRound", transform=transform, output_bucket=bucket, after=[labels])
    if suppressed:  # as the README says
        Validations.of(role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{stack.get_logical_id(bucket.node.default_child)}.Arn>/labeling-sets/*]",
                reason="Glue writes each labeling set under the output prefix, in folders it names",
            )
        )
    return synth_errors(app, outdir)


def test_cdk_nag_finds_no_errors_in_what_label_import_creates(tmp_path: Path) -> None:
    assert nag_errors(tmp_path) == []


def test_a_label_round_has_only_the_documented_cdk_nag_finding_and_its_suppression_clears_it(tmp_path: Path) -> None:
    assert label_round_nag_errors(tmp_path / "bare", suppressed=False) == [
        "AwsSolutions-IAM5[Resource::<LabelingSets061103C2.Arn>/labeling-sets/*]"
        " LabelRound/GlueRole/DefaultPolicy/Resource"
    ]
    assert label_round_nag_errors(tmp_path / "suppressed", suppressed=True) == []


def test_cdk_nag_is_really_checking(tmp_path: Path) -> None:
    errors = nag_errors(tmp_path, with_bare_bucket=True)
    assert errors and all("/BareBucket/" in error for error in errors)


@pytest.fixture(scope="module")
def example_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("example")
    subprocess.run([sys.executable, str(REPO / "app.py")], check=True, env={**os.environ, "CDK_OUTDIR": str(outdir)})
    return outdir / "GlueLabelImportExample.template.json"


def test_cfn_lint_reports_no_errors_on_the_example_template(example_template: Path) -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", str(example_template)],
        capture_output=True,
        text=True,
        check=False,  # cfn-lint exits non-zero for warnings too
    )
    assert result.returncode & 2 == 0, result.stdout + result.stderr  # exit bit 2: errors
    findings = json.loads(result.stdout or "[]")
    assert findings, "cfn-lint found nothing at all: is it reading the template?"  # CDK's own W3005 warnings
    assert [f for f in findings if f["Level"] == "Error"] == []


def test_example_template_holds_the_whole_findmatches_setup(example_template: Path) -> None:
    template = json.loads(example_template.read_text())
    resources = template["Resources"]
    types = sorted({r["Type"] for r in resources.values()})
    for expected in (
        "AWS::S3::Bucket",
        "Custom::CDKBucketDeployment",
        "AWS::Glue::Database",
        "AWS::Glue::Table",
        "AWS::Glue::MLTransform",
        "Custom::GlueImportLabels",
    ):
        assert expected in types
    ((transform_id, transform),) = [(i, r) for i, r in resources.items() if r["Type"] == "AWS::Glue::MLTransform"]
    assert (
        transform["Properties"]["TransformParameters"]["FindMatchesParameters"]["PrimaryKeyColumnName"] == "customer_id"
    )
    ((import_id, label_import),) = [(i, r) for i, r in resources.items() if r["Type"] == "Custom::GlueImportLabels"]
    assert label_import["Properties"]["TransformId"] == {"Ref": transform_id}
    assert template["Outputs"]["TransformId"]["Value"] == {"Ref": transform_id}
    assert template["Outputs"]["LabelImportTaskRunId"]["Value"] == {"Fn::GetAtt": [import_id, "TaskRunId"]}
    ((gate_id, gate),) = [(i, r) for i, r in resources.items() if r["Type"] == "Custom::GlueEvaluateTransform"]
    assert gate["Properties"]["After"] == [{"Fn::GetAtt": [import_id, "TaskRunId"]}] and import_id in gate["DependsOn"]
    assert (gate["Properties"]["MinF1"], gate["Properties"]["MaxF1Drop"]) == ("0.7", "0.05")
    for metric in ("F1", "Precision", "Recall", "AreaUnderPRCurve"):
        assert template["Outputs"][metric]["Value"] == {"Fn::GetAtt": [gate_id, metric]}
    ((round_id, next_round),) = [(i, r) for i, r in resources.items() if r["Type"] == "Custom::GlueGenerateLabelingSet"]
    assert next_round["Properties"]["After"] == [{"Fn::GetAtt": [import_id, "TaskRunId"]}]  # beside the gate
    assert import_id in next_round["DependsOn"] and gate_id not in next_round["DependsOn"]
    assert template["Outputs"]["NextLabelingSet"]["Value"] == {"Fn::GetAtt": [round_id, "OutputS3Path"]}
    glue_role_reads = [
        statement
        for policy in resources.values()
        if policy["Type"] == "AWS::IAM::Policy" and "GlueRole" in json.dumps(policy["Properties"]["Roles"])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert any("s3:GetObject*" in statement["Action"] for statement in glue_role_reads)  # the data
    assert any(statement["Action"] == "s3:GetObject" for statement in glue_role_reads)  # the label file


def test_the_example_alarms_on_f1_near_the_gate_and_charts_the_four_metrics(example_template: Path) -> None:
    resources = json.loads(example_template.read_text())["Resources"]
    ((transform_id, _),) = [(i, r) for i, r in resources.items() if r["Type"] == "AWS::Glue::MLTransform"]
    (alarm,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("GlueLabelImport", "F1")
    assert alarm["Dimensions"] == [{"Name": "TransformId", "Value": {"Ref": transform_id}}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("LessThanThreshold", 0.75)
    (dashboard,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Dashboard"]
    body = json.dumps(dashboard["DashboardBody"])
    for metric in ("F1", "Precision", "Recall", "AreaUnderPRCurve"):
        assert f'[\\"GlueLabelImport\\",\\"{metric}\\",\\"TransformId\\",' in body


def test_example_data_is_small_reproducible_and_labelled_in_about_10_sets(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    for script in ("generate_example_data.py", "example_variations.py", "example_vocabulary.py"):
        shutil.copy(REPO / "scripts" / script, tmp_path / "scripts")
    subprocess.run([sys.executable, str(tmp_path / "scripts" / "generate_example_data.py")], check=True)
    for name in ("data/customers.csv", "labels/round-1.csv", "labels/round-2.csv"):
        assert (tmp_path / name).read_bytes() == (REPO / name).read_bytes(), f"{name} differs from its generator"
    assert (REPO / "data" / "customers.csv").stat().st_size < 100_000
    reports = [validate_label_file(REPO / "labels" / f"round-{n}.csv", primary_key="customer_id") for n in (1, 2)]
    assert all(report.ok and report.warnings == () for report in reports)
    assert sum(report.labeling_sets for report in reports) == 10
