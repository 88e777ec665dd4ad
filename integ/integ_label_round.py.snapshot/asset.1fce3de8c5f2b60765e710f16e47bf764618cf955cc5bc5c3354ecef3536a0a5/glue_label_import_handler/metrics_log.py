"""An evaluation's metrics as CloudWatch metrics: one log record in the embedded metric format (EMF).

CloudWatch Logs extracts the metrics of a record whose `_aws` member says which of its members are
metrics (`F1`, `Precision`, `Recall`, `AreaUnderPRCurve`, namespace `GlueLabelImport`) and which
are their dimensions (`TransformId`): no PutMetricData call, no permission beyond the function's
own log group. The record must be the whole log line, so it is printed to stdout (Lambda ships
each line as it is), never through a logger that would wrap it in its own JSON.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Mapping
from typing import Any

NAMESPACE = "GlueLabelImport"
DIMENSION = "TransformId"
METRICS = ("F1", "Precision", "Recall", "AreaUnderPRCurve")


def emf_record(transform_id: str, metrics: Mapping[str, Any], *, task_run_id: str, now_s: float) -> str | None:
    """The EMF log line of an evaluation's metrics: those that are finite numbers (None if none is)."""
    values = {
        name: float(value)
        for name, value in metrics.items()
        if name in METRICS and isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    }
    if not values:
        return None
    directive = {
        "Namespace": NAMESPACE,
        "Dimensions": [[DIMENSION]],
        "Metrics": [{"Name": name, "Unit": "None"} for name in values],
    }
    record = {
        "_aws": {"Timestamp": int(now_s * 1000), "CloudWatchMetrics": [directive]},
        DIMENSION: transform_id,
        "TaskRunId": task_run_id,  # not a dimension: for Logs Insights, to find the run of a data point
        **values,
    }
    return json.dumps(record, allow_nan=False, separators=(",", ":"))


def publish(transform_id: str, metrics: Mapping[str, Any], *, task_run_id: str) -> None:
    """Print the EMF record of an evaluation's metrics to stdout as one line, if it has any."""
    line = emf_record(transform_id, metrics, task_run_id=task_run_id, now_s=time.time())
    if line is not None:
        print(line, file=sys.stdout, flush=True)
