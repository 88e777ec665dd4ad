"""The handler's Lambda asset, staged at synth without Docker and without the network.

The asset holds the project's handler modules (shipped in this package as
`glue_label_import._handler`) and crhelper, copied from its installed distribution together with
its licence files. Nothing that varies between two synths of the same tree (`__pycache__`,
timestamps) reaches it, so its hash stays the same.
"""

from __future__ import annotations

import atexit
import functools
import importlib.metadata
import shutil
import tempfile
from pathlib import Path

import crhelper

import glue_label_import._handler as handler_package

_CRHELPER_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyi", "py.typed")
_LICENCE_FILES = ("LICENSE", "NOTICE")


def handler_dir() -> Path:
    """The folder of the handler's source modules, found from this installation, not the cwd."""
    return Path(handler_package.__file__).parent


@functools.cache
def handler_asset_dir() -> str:
    """Stage the asset once per process and return its folder (removed when the process ends)."""
    staging = Path(tempfile.mkdtemp(prefix="glue-label-import-handler-"))
    atexit.register(shutil.rmtree, staging, ignore_errors=True)
    for module in sorted(handler_dir().glob("*.py")):
        if module.name != "__init__.py":
            shutil.copyfile(module, staging / module.name)
    crhelper_dir = staging / "crhelper"
    shutil.copytree(Path(crhelper.__file__).parent, crhelper_dir, ignore=_CRHELPER_IGNORE)
    distribution = importlib.metadata.distribution("crhelper")
    for file in distribution.files or ():
        if file.name in _LICENCE_FILES:
            shutil.copyfile(str(distribution.locate_file(file)), crhelper_dir / file.name)
    return str(staging)
