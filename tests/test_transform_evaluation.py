"""Synth assertions on TransformEvaluation: the gate's resource, its order after the imports, its grants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk.assertions import Template

from glue_label_import import LabelImport, LabelSource, TransformEvaluation
from support import LABELS, find_matches_transform, new_stack


@pytest.fixture
def labels(tmp_path: Path) -> LabelSource:
    path = tmp_path / "labels.csv"
    path.write_text(LABELS)
    return LabelSource.from_asset(str(path))


def resources(stack: Stack, resource_type: str) -> dict[str, dict[str, Any]]:
    return dict(Template.from_stack(stack).find_resources(resource_type))


def logical_id(stack: Stack, construct: Any) -> str:
    return str(stack.resolve(construct.node.find_child("Resource").node.default_child.logical_id))


def test_the_gate_follows_the_imports_declared_before_it_on_its_transform(labels: LabelSource) -> None:
    stack = new_stack()
    transform, other = find_matches_transform(stack), find_matches_transform(stack, "Other")
    first = LabelImport(stack, "First", transform=transform, source=labels, replace_all_labels=True)
    elsewhere = LabelImport(stack, "Elsewhere", transform=other, source=labels)
    second = LabelImport(stack, "Second", transform=transform, source=labels)
    gate = TransformEvaluation(stack, "Quality", transform=transform, min_f1=0.8, max_f1_drop=0.05)
    assert gate.after == [first, second]

    (evaluation,) = resources(stack, "Custom::GlueEvaluateTransform").values()
    assert evaluation["Properties"]["TransformId"] == {"Ref": "Transform"}
    assert evaluation["Properties"]["After"] == [
        {"Fn::GetAtt": [logical_id(stack, first), "TaskRunId"]},
        {"Fn::GetAtt": [logical_id(stack, second), "TaskRunId"]},
    ]
    assert evaluation["Properties"]["MinF1"] == "0.8" and evaluation["Properties"]["MaxF1Drop"] == "0.05"
    assert "MinRecall" not in evaluation["Properties"]
    assert {logical_id(stack, first), logical_id(stack, second)} <= set(evaluation["DependsOn"])
    assert logical_id(stack, elsewhere) not in evaluation["DependsOn"]
    assert evaluation["UpdateReplacePolicy"] == "Delete" and evaluation["Properties"]["ServiceTimeout"] == "3600"


def test_a_resource_declared_after_the_gate_runs_after_it(labels: LabelSource) -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    LabelImport(stack, "First", transform=transform, source=labels)
    gate = TransformEvaluation(stack, "Quality", transform=transform, timeout=Duration.minutes(30))
    later = LabelImport(stack, "Later", transform=transform, source=labels)
    imports = resources(stack, "Custom::GlueImportLabels")
    assert logical_id(stack, gate) in imports[logical_id(stack, later)]["DependsOn"]


def test_an_explicit_after_is_followed(labels: LabelSource) -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    LabelImport(stack, "First", transform=transform, source=labels)
    second = LabelImport(stack, "Second", transform=transform, source=labels)
    gate = TransformEvaluation(stack, "Quality", transform=transform, after=[second])
    (evaluation,) = resources(stack, "Custom::GlueEvaluateTransform").values()
    assert evaluation["Properties"]["After"] == [{"Fn::GetAtt": [logical_id(stack, second), "TaskRunId"]}]
    assert gate.after == [second]


def test_the_gate_may_evaluate_only_its_own_transform(labels: LabelSource) -> None:
    stack = new_stack()
    transform, imported_only = find_matches_transform(stack), find_matches_transform(stack, "ImportOnly")
    LabelImport(stack, "Labels", transform=transform, source=labels)
    LabelImport(stack, "OtherLabels", transform=imported_only, source=labels)
    TransformEvaluation(stack, "Quality", transform=transform)
    statements = [
        statement
        for policy in resources(stack, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "glue:StartMLEvaluationTaskRun" in statement["Action"]
    ]
    (evaluate,) = statements
    assert evaluate["Action"] == "glue:StartMLEvaluationTaskRun"  # nothing on the transform but the run: no tags
    assert "Ref" in json.dumps(evaluate["Resource"]) and '"Transform"' in json.dumps(evaluate["Resource"])
    assert "ImportOnly" not in json.dumps(evaluate["Resource"])


def test_the_metrics_are_attributes(labels: LabelSource) -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    LabelImport(stack, "Labels", transform=transform, source=labels)
    gate = TransformEvaluation(stack, "Quality", transform=transform)
    gate_id = logical_id(stack, gate)
    for attribute, name in [
        (gate.f1, "F1"),
        (gate.precision, "Precision"),
        (gate.recall, "Recall"),
        (gate.area_under_pr_curve, "AreaUnderPRCurve"),
        (gate.task_run_id, "TaskRunId"),
    ]:
        assert stack.resolve(attribute) == {"Fn::GetAtt": [gate_id, name]}


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"min_f1": 1.5}, ValueError, r"min_f1 must be a number from 0 to 1, got float 1\.5"),
        ({"min_recall": -0.1}, ValueError, r"min_recall must be a number from 0 to 1, got float -0\.1"),
        ({"max_f1_drop": "0.05"}, TypeError, r"max_f1_drop must be a number from 0 to 1, got str '0\.05'"),
        ({"min_precision": True}, TypeError, r"min_precision must be a number from 0 to 1, got bool True"),
        ({"after": "Labels"}, TypeError, r"after must be a list of constructs of this library"),
        ({"after": [object()]}, TypeError, r"after must hold constructs of this library"),
        ({"timeout": 600}, TypeError, r"timeout"),
        ({"transform": 42}, TypeError, r"transform"),
    ],
)
def test_a_bad_argument_is_refused_at_the_call_leaving_nothing(
    arguments: dict[str, Any], error: type[Exception], match: str
) -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    before = len(stack.node.children)
    with pytest.raises(error, match=match):
        TransformEvaluation(stack, "Quality", **{"transform": transform, **arguments})
    assert len(stack.node.children) == before


def test_after_a_resource_on_another_transform_is_refused(labels: LabelSource) -> None:
    stack = new_stack()
    elsewhere = LabelImport(stack, "Elsewhere", transform="tfm-other", source=labels)
    with pytest.raises(ValueError, match=r"after: Labels/Elsewhere is on transform str 'tfm-other', not on"):
        TransformEvaluation(stack, "Quality", transform=find_matches_transform(stack), after=[elsewhere])


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_threshold_that_is_not_finite_is_refused_before_it_reaches_jsii(value: float) -> None:
    stack = new_stack()
    with pytest.raises(ValueError, match=r"min_f1 must be a number from 0 to 1, got float (nan|inf)"):
        TransformEvaluation(stack, "Quality", transform=find_matches_transform(stack), min_f1=value)
    TransformEvaluation(stack, "Still", transform="tfm-1", min_f1=0.5)  # the jsii kernel is still alive
