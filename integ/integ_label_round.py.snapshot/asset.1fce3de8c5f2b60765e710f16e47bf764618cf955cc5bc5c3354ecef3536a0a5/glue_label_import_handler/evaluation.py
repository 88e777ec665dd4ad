"""Custom::GlueEvaluateTransform: a quality gate (StartMLEvaluationTaskRun) as a task of the engine.

The evaluation estimates the transform's quality from its labels; Glue writes the result to
GetMLTransform's `EvaluationMetrics.FindMatchesMetrics`. The gate fails the deploy when a metric
is below its minimum, or when F1 dropped more than allowed from what the transform had before. A
gate on a metric Glue did not report (or reported as NaN or infinite) fails, naming it; metrics
without a gate are answered when Glue reports them. In a rollback (the engine decides) nothing is
gated: the run only refreshes the transform's metrics, so that the next deploy's "F1 before" is right.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError

from . import metrics_log
from .answers import TaskFailed, fit_reason
from .glue_runs import Run, TaskRuns
from .request import optional_fraction, service_timeout_s, string_list, transform_id
from .retries import error_code
from .task import OwnAnswers, Task

LOGGER = logging.getLogger(__name__)

LOOKUP_S = 5.0  # how long a GetMLTransform may retry
METRICS = ("F1", "Precision", "Recall", "AreaUnderPRCurve")
MINIMUMS = {
    "MinF1": "F1",
    "MinPrecision": "Precision",
    "MinRecall": "Recall",
    "MinAreaUnderPRCurve": "AreaUnderPRCurve",
}


@dataclass(frozen=True)
class EvaluateTransform(Task):
    """One evaluation of a transform and the gates its metrics must pass."""

    task_run_type: ClassVar[str] = "EVALUATION"
    start_operation: ClassVar[str] = "StartMLEvaluationTaskRun"

    transform_id: str
    after: tuple[str, ...]  # the task run ids of the resources it follows: a change means labels changed
    minimums: tuple[tuple[str, float], ...]  # (metric, its minimum)
    max_f1_drop: float | None
    service_timeout_s: int

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> EvaluateTransform:
        """Read and check TransformId, After, the Min* thresholds, MaxF1Drop and ServiceTimeout."""
        minimums = ((metric, optional_fraction(properties, name)) for name, metric in MINIMUMS.items())
        return cls(
            transform_id=transform_id(properties),
            after=string_list(properties, "After"),
            minimums=tuple((metric, minimum) for metric, minimum in minimums if minimum is not None),
            max_f1_drop=optional_fraction(properties, "MaxF1Drop"),
            service_timeout_s=service_timeout_s(properties),
        )

    def fits(self, run: Run) -> bool:
        """Any evaluation: its run has no properties, so only its start time (`started_by`) tells it."""
        return True

    def start(self, glue: Any, now: float) -> Any:
        """StartMLEvaluationTaskRun."""
        return glue.start_ml_evaluation_task_run(TransformId=self.transform_id).get("TaskRunId")

    def answer_done(
        self, runs: TaskRuns, event: Mapping[str, Any], own: OwnAnswers, *, gated: bool, retry_until: float
    ) -> dict[str, Any] | None:
        """For an Update whose inputs (transform, the runs it follows) did not change: this resource's last
        evaluation (its current Data), gated again (thresholds may have changed) without a new run.

        Its metrics are those the resource answered: another resource's later evaluation of the
        transform is never answered or gated as its own.
        """
        old = self.from_old_properties(event)
        if old is None or (old.transform_id, old.after) != (self.transform_id, self.after):
            return None
        current = own.current or {}
        if not current.get("TaskRunId"):
            return None
        metrics = {metric: float(current[metric]) for metric in METRICS if isinstance(current.get(metric), float)}
        failures = self.gate_failures(metrics, None)
        if failures and gated:
            raise TaskFailed(fit_reason("", "; ".join(failures), f" (task run {current['TaskRunId']})"))
        return {"TaskRunId": str(current["TaskRunId"]), **_metric_data(metrics)}

    def check(self, runs: TaskRuns, s3: Any, event: Mapping[str, Any], *, retry_until: float) -> dict[str, Any]:
        """The transform must be READY; note its F1 before the run (None when it has none, or not a finite one)."""
        transform = runs.transform(self.transform_id, retry_until=retry_until)
        status = transform.get("Status")
        if status != "READY":
            raise TaskFailed(
                f"transform {self.transform_id[:100]} is {status}: Glue evaluates only a READY transform"
                " (one with labels); import labels first"
            )
        return {"F1": _metrics_of(transform).get("F1")}

    def outputs(self, runs: TaskRuns, run: Run, before: Mapping[str, Any]) -> dict[str, Any]:
        """TaskRunId and the metrics Glue reports; TaskFailed naming every gate that failed (unless not gated)."""
        metrics = _metrics_of(runs.transform(self.transform_id, retry_until=runs.clock.now() + LOOKUP_S))
        coordinates = f" (task run {run['TaskRunId']}, log group {run.get('LogGroupName', 'unknown')})"
        f1_before = before.get("F1")
        failures = self.gate_failures(metrics, f1_before if isinstance(f1_before, float) else None)
        if failures and before.get("Gated", True):
            raise TaskFailed(fit_reason("", "; ".join(failures), coordinates))
        if failures:
            LOGGER.warning({"action": "gates not applied (rollback)", "would fail": failures})
        LOGGER.info({"action": "metrics", "TransformId": self.transform_id, **metrics})
        metrics_log.publish(self.transform_id, metrics, task_run_id=run["TaskRunId"])
        return {"TaskRunId": run["TaskRunId"], **_metric_data(metrics)}

    def fallback(self, runs: TaskRuns, run_id: str) -> dict[str, Any]:
        """A rollback whose run failed: the run id and the metrics the transform has, those it has."""
        try:
            metrics = _metrics_of(runs.transform(self.transform_id, retry_until=runs.clock.now() + LOOKUP_S))
        except (BotoCoreError, ClientError) as error:
            LOGGER.warning({"action": "metrics", "TransformId": self.transform_id, "error": error_code(error)})
            metrics = {}
        return {"TaskRunId": run_id, **_metric_data(metrics)}

    def gate_failures(self, metrics: Mapping[str, float], f1_before: float | None) -> list[str]:
        """Each gate the metrics fail, with the metric, its value and the threshold; a gated metric
        that Glue did not report (or not as a finite number) fails too."""
        failures = []
        for metric, minimum in self.minimums:
            if metric not in metrics:
                failures.append(f"{metric} was not reported as a number: its minimum {_shown(minimum)} is unchecked")
            elif metrics[metric] < minimum:
                failures.append(f"{metric} {_shown(metrics[metric])} is below the minimum {_shown(minimum)}")
        if self.max_f1_drop is not None and f1_before is not None:
            if "F1" not in metrics:
                if not any(metric == "F1" for metric, _ in self.minimums):
                    failures.append(
                        f"F1 was not reported as a number: its drop of at most {_shown(self.max_f1_drop)} is unchecked"
                    )
            elif f1_before - metrics["F1"] > self.max_f1_drop:
                drop = f1_before - metrics["F1"]
                failures.append(
                    f"F1 dropped {_shown(drop)} from {_shown(f1_before)}, more than {_shown(self.max_f1_drop)}"
                )
        return failures


def _metrics_of(transform: Mapping[str, Any]) -> dict[str, float]:
    """The FindMatches metrics GetMLTransform reports as finite numbers (those it has: never NaN or infinity)."""
    reported = (transform.get("EvaluationMetrics") or {}).get("FindMatchesMetrics") or {}
    metrics = {}
    for metric in METRICS:
        try:
            value = float(reported[metric])
        except (KeyError, TypeError, ValueError):
            continue
        if math.isfinite(value):
            metrics[metric] = value
    return metrics


def _shown(number: float) -> str:
    """A metric as the Reason shows it: two decimals, more when they matter (0.80, 0.805)."""
    text = f"{number:.4f}".rstrip("0")
    return text + "0" * max(0, 2 - len(text.partition(".")[2]))


def _metric_data(metrics: Mapping[str, float]) -> dict[str, Any]:
    """The four metrics as the answer's Data: each rounded, or "" when Glue did not report it (as a
    finite number), so that a GetAtt on it (a stack output, say) still resolves."""
    return {metric: round(metrics[metric], 4) if metric in metrics else "" for metric in METRICS}
