"""Synth assertions on TransformEvaluation: the gate's resource, its grants, the misuses synth warns about.

Its order after the imports, however declared: test_rounds.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk.assertions import Annotations, Match, Template
from aws_cdk.aws_cloudwatch import ComparisonOperator, Unit

from glue_label_import import LabelImport, LabelSource, TransformEvaluation
from glue_label_import._handler import metrics_log
from glue_label_import.testing.examples import find_matches_transform
from support import logical_id, new_stack


def resources(stack: Stack, resource_type: str) -> dict[str, dict[str, Any]]:
    return dict(Template.from_stack(stack).find_resources(resource_type))


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


def test_an_explicit_after_is_followed(labels: LabelSource) -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    LabelImport(stack, "First", transform=transform, source=labels)
    second = LabelImport(stack, "Second", transform=transform, source=labels)
    gate = TransformEvaluation(stack, "Quality", transform=transform, after=[second])
    (evaluation,) = resources(stack, "Custom::GlueEvaluateTransform").values()
    assert evaluation["Properties"]["After"] == [{"Fn::GetAtt": [logical_id(stack, second), "TaskRunId"]}]
    assert gate.after == [second]


def test_a_gate_without_threshold_gates_nothing_and_says_so_at_synth(labels: LabelSource) -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    LabelImport(stack, "Labels", transform=transform, source=labels)
    TransformEvaluation(stack, "Watch", transform=transform)
    TransformEvaluation(stack, "DropOnly", transform=transform, max_f1_drop=0.05)
    annotations = Annotations.from_stack(stack)
    annotations.has_warning("/Labels/Watch", Match.string_like_regexp(r"has no threshold .* never fails the deploy"))
    assert annotations.find_warning("/Labels/DropOnly", Match.any_value()) == []


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
    with pytest.raises(
        ValueError, match=r"^after: Labels/Elsewhere is on transform 'tfm-other', not on Labels/Transform$"
    ):
        TransformEvaluation(stack, "Quality", transform=find_matches_transform(stack), after=[elsewhere])


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_threshold_that_is_not_finite_is_refused_before_it_reaches_jsii(value: float) -> None:
    stack = new_stack()
    with pytest.raises(ValueError, match=r"min_f1 must be a number from 0 to 1, got float (nan|inf)"):
        TransformEvaluation(stack, "Quality", transform=find_matches_transform(stack), min_f1=value)
    TransformEvaluation(stack, "Still", transform="tfm-1", min_f1=0.5)  # the jsii kernel is still alive


def test_the_metric_methods_name_the_evaluations_metrics_of_this_transform() -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    gate = TransformEvaluation(stack, "Quality", transform=transform)
    methods = {
        "F1": gate.metric_f1,
        "Precision": gate.metric_precision,
        "Recall": gate.metric_recall,
        "AreaUnderPRCurve": gate.metric_area_under_pr_curve,
    }
    for name, method in methods.items():
        metric = method()
        assert (metric.namespace, metric.metric_name) == (metrics_log.NAMESPACE, name)  # what the handler logs
        assert stack.resolve(metric.dimensions) == {metrics_log.DIMENSION: {"Ref": "Transform"}}
        assert (metric.statistic, metric.period.to_seconds()) == ("Average", 300)  # CloudWatch's defaults


def test_the_metric_methods_take_metric_options_as_aws_cdk_constructs_do() -> None:
    stack = new_stack()
    gate = TransformEvaluation(stack, "Quality", transform="tfm-0123456789abcdef")
    metric = gate.metric_recall(
        period=Duration.hours(6), statistic="Minimum", label="recall", color="#2ca02c", unit=Unit.NONE
    )
    assert (metric.period.to_seconds(), metric.statistic, metric.label, metric.color, metric.unit) == (
        6 * 3600,
        "Minimum",
        "recall",
        "#2ca02c",
        Unit.NONE,
    )
    assert metric.dimensions == {"TransformId": "tfm-0123456789abcdef"}
    with pytest.raises(TypeError, match="periodd"):
        gate.metric_f1(periodd=Duration.hours(1))


def test_an_alarm_on_f1_is_on_the_metric_the_evaluation_logs() -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    gate = TransformEvaluation(stack, "Quality", transform=transform, min_f1=0.8)
    gate.metric_f1(statistic="Minimum", period=Duration.days(1)).create_alarm(
        stack, "LowF1", threshold=0.8, evaluation_periods=1, comparison_operator=ComparisonOperator.LESS_THAN_THRESHOLD
    )
    Template.from_stack(stack).has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "GlueLabelImport",
            "MetricName": "F1",
            "Dimensions": [{"Name": "TransformId", "Value": {"Ref": "Transform"}}],
            "Statistic": "Minimum",
            "Period": 86400,
            "Threshold": 0.8,
            "ComparisonOperator": "LessThanThreshold",
        },
    )
