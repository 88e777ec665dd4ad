"""The handler's Lambda asset, staged at synth without Docker and without the network.

The asset holds the handler package (shipped in this package as `glue_label_import._handler`,
staged as `glue_label_import_handler/`), the one-line `index.py` that Lambda's `index.handler`
finds, and crhelper, copied from its installed distribution together with its licence files.
crhelper is located, never imported: it imports boto3, a dependency of the handler at run time
(the Lambda runtime provides it), not of synth. Nothing that varies between
two synths of the same tree (`__pycache__`, timestamps) reaches it, so its hash stays the same.
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata
import importlib.util
import shutil
import tempfile
from pathlib import Path

import glue_label_import._handler as handler_package

_CRHELPER_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyi", "py.typed")
STAGED_PACKAGE = "glue_label_import_handler"
"""The handler package's name in the asset (its modules import each other relatively)."""
ENTRY_MODULE = f'''"""Lambda's entry point, handler "index.handler": the handler package's."""

from {STAGED_PACKAGE}.index import handler

__all__ = ["handler"]
'''
_LICENCE_FILES = ("LICENSE", "NOTICE")


def handler_dir() -> Path:
    """The folder of the handler's source modules, found from this installation, not the cwd."""
    return Path(handler_package.__file__).parent


def crhelper_dir() -> Path:
    """The folder of the installed crhelper package, found without executing it (nor boto3)."""
    spec = importlib.util.find_spec("crhelper")
    if spec is None or spec.origin is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "crhelper is not installed: the handler's Lambda asset needs it (pip install 'crhelper>=2.0.12,<2.1')",
            name="crhelper",
        )
    return Path(spec.origin).parent


@functools.cache
def handler_asset_dir() -> str:
    """Stage the asset once per process and return its folder (removed when the process ends)."""
    staging = Path(tempfile.mkdtemp(prefix="glue-label-import-handler-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    package = staging / STAGED_PACKAGE
    package.mkdir()
    for module in sorted(handler_dir().glob("*.py")):
        shutil.copyfile(module, package / module.name)
    (staging / "index.py").write_text(ENTRY_MODULE)
    crhelper_copy = staging / "crhelper"
    shutil.copytree(crhelper_dir(), crhelper_copy, ignore=_CRHELPER_IGNORE)
    distribution = importlib.metadata.distribution("crhelper")
    for file in distribution.files or ():
        if file.name in _LICENCE_FILES:
            shutil.copyfile(str(distribution.locate_file(file)), crhelper_copy / file.name)
    return str(staging)
