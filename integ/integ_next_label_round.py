#!/usr/bin/env python3
"""Integration test for a real account, second step: a round of labels added to the transform, as an update.

A user labels the set the first round generated and adds ``round-2.csv`` to the folder. This
test's pre-deploy hook deploys the first step as integ_label_round.py's snapshot holds it (the
cloud assembly integ-runner keeps, assets included) under the same stack name; integ-runner then
deploys this stack as an update of it: the import runs again with both files, the evaluation
follows it, and a new labeling set is generated into a new folder. The assertions check the
update's runs (the newest, after those of the first step) and labels.

This stack is never deployed from its own snapshot (its earlier state is the first step), so
integ-runner's update workflow is off for it and its snapshot keeps no assets of it.
"""

from __future__ import annotations

from aws_cdk import App
from aws_cdk import cloud_assembly_schema as schema
from aws_cdk import integ_tests_alpha as integ
from label_round_stack import CONTEXT, STACK_NAME, LabelRoundStack
from round_assertions import assert_round

FIRST_STEP = "cdk deploy --app integ_label_round.py.snapshot --require-approval never --no-notices FirstRound"
"""The first step's stack, deployed from its snapshot (integ-runner runs hooks in integ/)."""

app = App(context=CONTEXT)
stack = LabelRoundStack(app, "NextRound", stack_name=STACK_NAME, label_files="round-*.csv")
test = integ.IntegTest(
    app,
    "NextLabelRound",
    test_cases=[stack],
    diff_assets=True,
    stack_update_workflow=False,
    hooks=schema.Hooks(pre_deploy=[FIRST_STEP]),
)
assert_round(test, stack, rounds_before=1)
app.synth()
