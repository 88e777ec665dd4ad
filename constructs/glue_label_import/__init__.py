"""Declarative AWS Glue FindMatches label imports for AWS CDK.

    from glue_label_import import LabelImport, LabelSource

    LabelImport(self, "Labels", transform=transform, source=LabelSource.from_asset("labels.csv"))
"""

from glue_label_import.label_import import LabelImport
from glue_label_import.label_source import LabelLocation, LabelSource

__all__ = ["LabelImport", "LabelLocation", "LabelSource"]
