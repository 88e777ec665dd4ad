"""A transform as Glue reports it (``Status``, ``EvaluationMetrics``, ``Schema``), and the
``FindMatchesMetrics`` an evaluation run writes to it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.glue.exceptions import EntityNotFoundException
from moto.glue.models import FakeMLTransform

from .runs import DEFAULT_METRICS


def as_glue_reports(
    as_dict: Callable[[FakeMLTransform], dict[str, Any]],
) -> Callable[[FakeMLTransform], dict[str, Any]]:
    """Report a transform as Glue does: ``Status`` READY once it has labels (NOT_READY before),
    its ``EvaluationMetrics`` once evaluated, and its ``Schema``: the columns of its input table,
    when the catalog has it."""

    @functools.wraps(as_dict)
    def wrapper(self: FakeMLTransform) -> dict[str, Any]:
        response = as_dict(self)
        response["Status"] = "READY" if self.label_count else "NOT_READY"
        metrics = getattr(self, "evaluation_metrics", None)
        if metrics:
            response["EvaluationMetrics"] = metrics
        tables = self.input_record_tables
        try:
            table = self.backend.get_table(tables[0]["DatabaseName"], tables[0]["TableName"])
        except (EntityNotFoundException, IndexError, KeyError):
            return response
        columns = table.as_dict()["StorageDescriptor"].get("Columns", [])
        response["Schema"] = [{"Name": column["Name"], "DataType": column.get("Type", "string")} for column in columns]
        return response

    return wrapper


def _confusion_matrix(precision: Any, recall: Any) -> dict[str, Any]:
    """``{"ConfusionMatrix": ...}`` of 100 true pairs that agrees with precision and recall; nothing when
    a test scripted either as missing or not a number from 0 to 1 (no matrix agrees with it)."""
    if not all(isinstance(value, (int, float)) and 0 <= value <= 1 for value in (precision, recall)):
        return {}
    true_positives = round(100 * recall)
    false_positives = round(true_positives * (1 - precision) / precision) if precision else 100
    return {
        "ConfusionMatrix": {
            "NumTruePositives": true_positives,
            "NumFalsePositives": false_positives,
            "NumTrueNegatives": 1000,
            "NumFalseNegatives": 100 - true_positives,
        }
    }


def find_matches_metrics(transform: Any, scripted: dict[str, Any]) -> dict[str, Any]:
    """An evaluation's ``FindMatchesMetrics``: the scripted ones over ``DEFAULT_METRICS``, a
    ``ConfusionMatrix`` of 100 true pairs that agrees with their precision and recall, and the
    ``ColumnImportances`` of the transform's columns but its primary key (the first most important)."""
    metrics = {**DEFAULT_METRICS, **scripted}
    columns = [column["Name"] for column in transform.as_dict().get("Schema", [])]
    primary_key = transform.parameters.get("FindMatchesParameters", {}).get("PrimaryKeyColumnName")
    scored = [column for column in columns if column != primary_key]
    return {
        **_confusion_matrix(metrics.get("Precision"), metrics.get("Recall")),
        "ColumnImportances": [
            {"ColumnName": column, "Importance": round(1 / (rank + 2), 4)} for rank, column in enumerate(scored)
        ],
        **metrics,
    }
