"""The handler's Lambda asset: the handler modules plus crhelper, stable across synths."""

from __future__ import annotations

import py_compile
import subprocess
import sys
from pathlib import Path

from glue_label_import import LabelImport, LabelSource
from glue_label_import.handler_asset import handler_dir
from stacks import find_matches_transform, handler_asset_path, new_stack

REPO = Path(__file__).parent.parent
LABELS = REPO / "labels" / "round-1.csv"
HANDLER_MODULES = {"index.py", "glue_runs.py", "request.py", "retries.py"}

SYNTH_S3_KEY = f"""
import sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from aws_cdk.assertions import Template
from stacks import new_stack
from glue_label_import import LabelImport, LabelSource
stack = new_stack()
LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset({str(LABELS)!r}))
(function,) = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
print(function["Properties"]["Code"]["S3Key"])
"""


def synthesized_handler_asset(outdir: Path) -> Path:
    """Synthesize a stack with one LabelImport into `outdir`; return the handler's asset folder."""
    stack = new_stack(str(outdir))
    LabelImport(stack, "Labels", transform=find_matches_transform(stack), source=LabelSource.from_asset(str(LABELS)))
    stack.node.root.synth()
    return handler_asset_path(outdir, stack.stack_name)


def test_asset_holds_the_handler_and_crhelper_and_nothing_else(tmp_path: Path) -> None:
    asset = synthesized_handler_asset(tmp_path)
    files = {str(path.relative_to(asset)) for path in asset.rglob("*") if path.is_file()}
    assert files >= HANDLER_MODULES
    assert {"crhelper/__init__.py", "crhelper/resource_helper.py", "crhelper/LICENSE", "crhelper/NOTICE"} <= files
    assert "__init__.py" not in files
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]
    assert {name.split("/")[0] for name in files} == HANDLER_MODULES | {"crhelper"}
    for module in HANDLER_MODULES:
        assert (asset / module).read_bytes() == (handler_dir() / module).read_bytes()


def test_same_asset_hash_on_two_synths_even_with_a_pycache(tmp_path: Path) -> None:
    def s3_key() -> str:
        return subprocess.run(
            [sys.executable, "-c", SYNTH_S3_KEY], check=True, capture_output=True, text=True, cwd=tmp_path
        ).stdout.strip()

    first = s3_key()
    pycache = handler_dir() / "__pycache__"
    existed = pycache.exists()
    stray = pycache / "request.stray-for-test.pyc"  # a name no interpreter writes
    py_compile.compile(str(handler_dir() / "request.py"), cfile=str(stray))
    try:
        assert s3_key() == first
    finally:
        stray.unlink()
        if not existed:
            pycache.rmdir()
    assert first.endswith(".zip") and len(first) == len("0" * 64 + ".zip")
