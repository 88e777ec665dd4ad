"""Declarative AWS Glue FindMatches label imports for AWS CDK.

from glue_label_import import LabelImport, LabelImportProvider, LabelSource

LabelImport(self, "Labels", transform=transform, source=LabelSource.from_asset("labels.csv"))
LabelImportProvider.of(self).function  # the handler, for alarms; LabelImportProvider.configure sets it up
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
    from glue_label_import.provider import LabelImportProvider
    from glue_label_import.transform_evaluation import TransformEvaluation

__all__ = [
    "LabelFileError",
    "LabelImport",
    "LabelImportProvider",
    "LabelLocation",
    "LabelSource",
    "LabelingSetGeneration",
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
    "LabelImportProvider": "glue_label_import.provider",
    "LabelingSetGeneration": "glue_label_import.labeling_set_generation",
    "LabelLocation": "glue_label_import.label_source",
    "LabelSource": "glue_label_import.label_source",
    "TransformEvaluation": "glue_label_import.transform_evaluation",
}


def __getattr__(name: str) -> Any:
    """Import the CDK classes on first use, so `python -m glue_label_import` starts no Node.js."""
    if name in _MODULES:
        return getattr(importlib.import_module(_MODULES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
