"""Synth assertions on the order of a label round: the imports, then the gate and the generation, however declared."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Stack
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from glue_label_import import LabelImport, LabelingSetGeneration, LabelSource, TransformEvaluation
from glue_label_import.testing.examples import find_matches_transform
from support import logical_id, new_stack


def labels(name: str) -> LabelSource:
    return LabelSource.from_s3_path(f"s3://team-labels/{name}.csv")


def custom_resources(stack: Stack) -> dict[str, dict[str, Any]]:
    return {
        logical: resource
        for logical, resource in Template.from_stack(stack).to_json()["Resources"].items()
        if resource["Type"].startswith("Custom::Glue")
    }


def run_ids(stack: Stack, *constructs: Any) -> list[dict[str, Any]]:
    return [{"Fn::GetAtt": [logical_id(stack, construct), "TaskRunId"]} for construct in constructs]


def test_a_gate_and_a_generation_declared_first_still_follow_every_import() -> None:
    stack = new_stack()
    transform, other = find_matches_transform(stack), find_matches_transform(stack, "Other")
    gate = TransformEvaluation(stack, "Quality", transform=transform, min_f1=0.7)
    next_round = LabelingSetGeneration(stack, "NextRound", transform=transform, output_bucket=s3.Bucket(stack, "B"))
    first = LabelImport(stack, "First", transform=transform, source=labels("a"), replace_all_labels=True)
    elsewhere = LabelImport(stack, "Elsewhere", transform=other, source=labels("b"))
    second = LabelImport(stack, "Second", transform=transform.ref, source=labels("c"))  # the same, by its Ref

    resources = custom_resources(stack)
    assert gate.after == [first, second] and next_round.after == [first, second]
    for follower in (gate, next_round):
        resource = resources[logical_id(stack, follower)]
        assert resource["Properties"]["After"] == run_ids(stack, first, second)
        assert {logical_id(stack, first), logical_id(stack, second)} <= set(resource["DependsOn"])
        assert logical_id(stack, elsewhere) not in resource["DependsOn"]
    # the imports run one after another in declaration order, and never wait for what follows them
    assert logical_id(stack, first) in resources[logical_id(stack, second)]["DependsOn"]
    for label_import in (first, second):
        depends_on = set(resources[logical_id(stack, label_import)]["DependsOn"])
        assert not depends_on & {logical_id(stack, gate), logical_id(stack, next_round)}


def test_an_explicit_after_sets_the_after_property_and_the_imports_still_come_first() -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    gate = TransformEvaluation(stack, "Quality", transform=transform, min_f1=0.7, after=[])
    later = LabelImport(stack, "Later", transform=transform, source=labels("a"))
    resource = custom_resources(stack)[logical_id(stack, gate)]
    assert resource["Properties"]["After"] == [] and gate.after == []
    assert logical_id(stack, later) in resource["DependsOn"]


def test_the_next_labeling_set_is_generated_beside_the_gate_by_default() -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    imported = LabelImport(stack, "Labels", transform=transform, source=labels("a"), replace_all_labels=True)
    gate = TransformEvaluation(stack, "Quality", transform=transform, min_f1=0.7)
    bucket = s3.Bucket(stack, "Bucket")
    beside = LabelingSetGeneration(stack, "Beside", transform=transform, output_bucket=bucket)
    strict = LabelingSetGeneration(stack, "Strict", transform=transform, output_bucket=bucket, after=[gate])

    resources = custom_resources(stack)
    assert resources[logical_id(stack, beside)]["Properties"]["After"] == run_ids(stack, imported)
    assert logical_id(stack, gate) not in resources[logical_id(stack, beside)]["DependsOn"]
    assert resources[logical_id(stack, strict)]["Properties"]["After"] == run_ids(stack, gate)
    strict_depends_on = set(resources[logical_id(stack, strict)]["DependsOn"])
    assert {logical_id(stack, gate), logical_id(stack, imported)} <= strict_depends_on


def test_a_gate_on_a_transform_without_label_import_is_a_synth_warning() -> None:
    stack = new_stack()
    transform = find_matches_transform(stack)
    TransformEvaluation(stack, "Quality", transform=transform, min_f1=0.7)
    TransformEvaluation(stack, "Told", transform=transform, min_f1=0.7, after=[])  # labels from elsewhere
    LabelingSetGeneration(stack, "FirstRound", transform=transform, output_bucket=s3.Bucket(stack, "B"))
    annotations = Annotations.from_stack(stack)
    annotations.has_warning(
        "/Labels/Quality",
        Match.string_like_regexp(r"no LabelImport of the app imports labels into its transform.*NOT_READY"),
    )
    assert annotations.find_warning("/Labels/Told", Match.any_value()) == []
    assert annotations.find_warning("/Labels/FirstRound", Match.any_value()) == []  # a first round needs no labels


def test_an_import_declared_later_or_in_another_stack_of_the_app_silences_the_warning() -> None:
    app = App()
    stack, labelling = Stack(app, "Gates"), Stack(app, "Labelling")
    LabelImport(labelling, "Labels", transform="tfm-shared", source=labels("a"))
    TransformEvaluation(stack, "Quality", transform="tfm-shared", min_f1=0.7)
    transform = find_matches_transform(stack)
    TransformEvaluation(stack, "Local", transform=transform, min_f1=0.7)
    LabelImport(stack, "Later", transform=transform, source=labels("b"))
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp("no LabelImport"))
    assert warnings == []
