#!/usr/bin/env python3
"""Integration test for a real account, first step: a new FindMatches transform and its first label round.

The stack creates the transform, imports ``round-1.csv``, evaluates the transform and generates
the first labeling set; the assertions (round_assertions.py) then ask AWS what the round left.
The next step, integ_next_label_round.py, deploys this test's snapshot and updates it.

The snapshot (integ_label_round.py.snapshot/) is compared offline in `make test`;
`make integ-snapshots` writes it again without deploying, `make integ` deploys it.
"""

from __future__ import annotations

from aws_cdk import App
from aws_cdk import integ_tests_alpha as integ
from label_round_stack import CONTEXT, STACK_NAME, LabelRoundStack
from round_assertions import assert_round

app = App(context=CONTEXT)
stack = LabelRoundStack(app, "FirstRound", stack_name=STACK_NAME, label_files="round-1.csv")
assert_round(integ.IntegTest(app, "LabelRound", test_cases=[stack], diff_assets=True), stack)
app.synth()
