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
    assert (tally.requests, tally.answers, tally.failed_as_expected) == (13, 13, 1)
    steps = [line for line in lines if line.startswith("-- ")]
    assert [step.split(":")[0] for step in steps] == [
        "-- deploy",
        "-- a new labeling round",
        "-- a round that lowers F1 below the gate",
        "-- destroy",
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
        "update QualityE01B7295 (evaluation):",  # FAILED: below the gate
        "update CustomerLabelsDBC9CDA1 (import):",  # the rollback
        "update QualityE01B7295 (evaluation):",
        "delete NextRound7ED296EC (generation):",
        "delete QualityE01B7295 (evaluation):",
        "delete CustomerLabelsDBC9CDA1 (import):",
    ]
    (failed,) = [line for line in requests if " FAILED " in line]
    assert "F1 0.61 is below the minimum 0.70; F1 dropped 0.23 from 0.84, more than 0.05" in failed
    assert "label     by hand: glue-label-import label fetched.csv --out labels/round-3.csv" in "\n".join(lines)
    history = [line for line in lines if line.startswith("history")]
    assert history[1].split("(")[1] == history[3].split("(")[1]  # the rollback imported round 1-3 again
