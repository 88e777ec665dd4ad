"""The handler's Lambda asset: the handler modules plus crhelper, stable across synths."""

from __future__ import annotations

import py_compile
from pathlib import Path

from aws_cdk.assertions import Template

from glue_label_import import LabelImport, LabelSource
from glue_label_import.handler_asset import ENTRY_MODULE, STAGED_PACKAGE, handler_asset_dir, handler_dir
from glue_label_import.testing.examples import LABELS, find_matches_transform
from glue_label_import.testing.requests import handler_asset_path
from support import new_stack

HANDLER_MODULES = {path.name for path in handler_dir().glob("*.py")}


def synthesized_handler_asset(outdir: Path) -> Path:
    """Synthesize a stack with one LabelImport into `outdir`; return the handler's asset folder."""
    labels = outdir.parent / "labels.csv"
    labels.write_text(LABELS)
    stack = new_stack(str(outdir))
    LabelImport(stack, "Labels", transform=find_matches_transform(stack), source=LabelSource.from_asset(str(labels)))
    stack.node.root.synth()
    return handler_asset_path(outdir, stack.stack_name)


def handler_s3_key(tmp_path: Path) -> str:
    """The S3 key (content hash) of the handler's asset in a stack staged afresh."""
    handler_asset_dir.cache_clear()  # stage the asset again, as a new `cdk synth` process would
    stack = new_stack()
    (tmp_path / "labels.csv").write_text(LABELS)
    LabelImport(stack, "Labels", transform="tfm-1", source=LabelSource.from_asset(str(tmp_path / "labels.csv")))
    (function,) = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
    return str(function["Properties"]["Code"]["S3Key"])


def test_asset_holds_the_handler_package_its_entry_and_crhelper_and_nothing_else(tmp_path: Path) -> None:
    asset = synthesized_handler_asset(tmp_path)
    files = {str(path.relative_to(asset)) for path in asset.rglob("*") if path.is_file()}
    assert {"crhelper/__init__.py", "crhelper/resource_helper.py", "crhelper/LICENSE", "crhelper/NOTICE"} <= files
    assert not [name for name in files if "__pycache__" in name or name.endswith(".pyc")]
    assert {name for name in files if not name.startswith("crhelper/")} == {
        "index.py",
        *(f"{STAGED_PACKAGE}/{module}" for module in HANDLER_MODULES),
    }
    assert f"{STAGED_PACKAGE}/__init__.py" in files
    for module in HANDLER_MODULES:
        assert (asset / STAGED_PACKAGE / module).read_bytes() == (handler_dir() / module).read_bytes()
    assert (asset / "index.py").read_text() == ENTRY_MODULE


def test_same_asset_hash_on_two_synths_even_with_a_pycache(tmp_path: Path) -> None:
    first = handler_s3_key(tmp_path)
    pycache = handler_dir() / "__pycache__"
    existed = pycache.exists()
    stray = pycache / "request.stray-for-test.pyc"  # a name no interpreter writes
    py_compile.compile(str(handler_dir() / "request.py"), cfile=str(stray))
    try:
        assert handler_s3_key(tmp_path) == first
    finally:
        stray.unlink()
        if not existed:
            pycache.rmdir()
    assert first.endswith(".zip") and len(first) == len("0" * 64 + ".zip")
