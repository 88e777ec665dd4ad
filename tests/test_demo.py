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
    header, *rows = [line for line in lines if line.startswith("history ")]
    assert header.split()[1:5] == ["STARTED", "(UTC)", "TASK", "STATUS"]
    tasks = [next(task for task in ("import", "evaluation", "labeling set") if f" {task} " in row) for row in rows]
    assert tasks == ["evaluation", "import"] * 2 + ["labeling set", "evaluation", "import"] * 2  # newest first
    assert all(" SUCCEEDED " in row for row in rows)  # the evaluation below the gate ran to its end too
    imported = [row.split()[-1] for row, task in zip(rows, tasks, strict=True) if task == "import"]
    assert imported[0] == imported[2] != imported[1]  # the rollback imported rounds 1-3 again
    assert [line.split()[-1] for line in lines if line.startswith("label set ")] == [
        "labels/{round-1.csv+round-2.csv}",
        "labels/{round-1.csv+round-2.csv+round-3.csv}",
        "labels/{round-1.csv+round-2.csv+round-3.csv+round-4.csv}",
    ]
