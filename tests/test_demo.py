"""`make demo`'s engine on the demo's steps: the example's label round on the local Glue."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

DEMO = Path(__file__).resolve().parent.parent / "scripts" / "demo.py"


def demo_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["demo"] = module
    spec.loader.exec_module(module)
    return module


def test_the_demo_plays_the_whole_round_with_one_answer_per_request() -> None:
    lines: list[str] = []
    tally = demo_module().run(say=lines.append)
    assert (tally.requests, tally.answers, tally.failed_as_expected) == (19, 19, 2)
    assert tally.iam_checked > 0 and tally.iam_denied == 0  # the handler ran as its role, every call allowed
    steps = [line for line in lines if line.startswith("-- ")]
    assert [step.split(":")[0] for step in steps] == [
        "-- deploy",
        "-- a new labeling round",
        "-- a round whose gate passes and whose later resource fails",
        "-- a round that lowers F1 below the gate",
        "-- destroy",
        "-- history",
    ]
    requests = [line.split(" [")[0] for line in lines if line.split()[0] in {"create", "update", "delete"}]
    assert [" ".join(line.split()[:3]) for line in requests] == [
        "create CustomerLabelsDBC9CDA1 (import):",
        "create QualityE01B7295 (evaluation):",
        "create NextRound7ED296EC (generation):",
        "update CustomerLabelsDBC9CDA1 (import):",
        "update QualityE01B7295 (evaluation):",
        "update NextRound7ED296EC (generation):",
        "update CustomerLabelsDBC9CDA1 (import):",
        "update QualityE01B7295 (evaluation):",  # the gate passes
        "update NextRound7ED296EC (generation):",  # FAILED: a later resource
        "update CustomerLabelsDBC9CDA1 (import):",  # the rollback restores the labels
        "update QualityE01B7295 (evaluation):",  # F1 down 0.06: not gated, SUCCESS
        "update NextRound7ED296EC (generation):",  # its previous folder, no run
        "update CustomerLabelsDBC9CDA1 (import):",
        "update QualityE01B7295 (evaluation):",  # FAILED: below the gate
        "update CustomerLabelsDBC9CDA1 (import):",  # the rollback
        "update QualityE01B7295 (evaluation):",
        "delete NextRound7ED296EC (generation):",
        "delete QualityE01B7295 (evaluation):",
        "delete CustomerLabelsDBC9CDA1 (import):",
    ]
    later, failed = [line for line in requests if " FAILED " in line]
    assert "FAILED: Access Denied writing the labeling set" in later
    assert "F1 0.61 is below the minimum 0.70; F1 dropped 0.19 from 0.80, more than 0.05" in failed
    (rolled_back,) = [line for line in requests if "F1=0.8 " in line or line.endswith("F1=0.8")]
    assert " ".join(rolled_back.split()[:4]) == "update QualityE01B7295 (evaluation): SUCCESS"  # F1 down 0.06
    _, round_2, rolled_back_set = [line for line in requests if "(generation): SUCCESS OutputS3Path" in line]
    assert rolled_back_set.split("OutputS3Path=")[1] == round_2.split("OutputS3Path=")[1]  # no run: the same folder
    assert "label     by hand: glue-label-import label fetched.csv --out labels/round-3.csv" in "\n".join(lines)
    header, *rows = [line for line in lines if line.startswith("history ")]
    assert header.split()[1:5] == ["STARTED", "(UTC)", "TASK", "STATUS"]
    imported = [row.split()[-1] for row in rows if " import " in row]  # newest first
    assert len(imported) == 6
    assert imported[0] == imported[2] == imported[4] != imported[1]  # each rollback imported rounds 1-3 again
