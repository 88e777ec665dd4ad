"""Declarative AWS Glue FindMatches label imports for AWS CDK.

from glue_label_import import LabelImport, LabelSource, TaskRunProvider

LabelImport(self, "Labels", transform=transform, source=LabelSource.from_asset("labels.csv"))
TaskRunProvider.of(self).function  # the handler, for alarms; TaskRunProvider.configure sets it up

``LabelImportProvider`` is the deprecated old name of ``TaskRunProvider`` (a DeprecationWarning on use).
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from glue_label_import.label_file import LabelFileError
    from glue_label_import.label_import import LabelImport
    from glue_label_import.label_source import LabelLocation, LabelSource
    from glue_label_import.labeling_set_generation import LabelingSetGeneration
    from glue_label_import.provider import TaskRunProvider
    from glue_label_import.transform_evaluation import TransformEvaluation

__all__ = [
    "LabelFileError",
    "LabelImport",
    "LabelLocation",
    "LabelSource",
    "LabelingSetGeneration",
    "TaskRunProvider",
    "TransformEvaluation",
    "__version__",
]

DISTRIBUTION = "cdk-glue-label-import"

try:  # the version in pyproject.toml, as installed: the one source of truth
    __version__: str = importlib.metadata.version(DISTRIBUTION)
except importlib.metadata.PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "0+unknown"

_MODULES = {
    "LabelFileError": "glue_label_import.label_file",
    "LabelImport": "glue_label_import.label_import",
    "LabelingSetGeneration": "glue_label_import.labeling_set_generation",
    "LabelLocation": "glue_label_import.label_source",
    "LabelSource": "glue_label_import.label_source",
    "TaskRunProvider": "glue_label_import.provider",
    "TransformEvaluation": "glue_label_import.transform_evaluation",
}


def __getattr__(name: str) -> Any:
    """Import the CDK classes on first use, so `python -m glue_label_import` starts no Node.js."""
    if name in _MODULES:
        return getattr(importlib.import_module(_MODULES[name]), name)
    if name == "LabelImportProvider":  # deprecated: TaskRunProvider's old name, for one release
        return importlib.import_module("glue_label_import.provider").deprecated_alias(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
