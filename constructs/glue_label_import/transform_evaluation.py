"""TransformEvaluation: a quality gate on a Glue FindMatches transform, as a CloudFormation resource."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional, Union

from aws_cdk import Annotations, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_glue as glue
from constructs import Construct

from glue_label_import import arguments
from glue_label_import._handler.metrics_log import DIMENSION as METRIC_DIMENSION
from glue_label_import._handler.metrics_log import NAMESPACE as METRIC_NAMESPACE
from glue_label_import._task_run import _FollowingTaskRun

RESOURCE_TYPE = "Custom::GlueEvaluateTransform"


class TransformEvaluation(_FollowingTaskRun):
    """Evaluates a FindMatches transform after its labels change, and fails the deploy when quality drops.

    Create and Update run StartMLEvaluationTaskRun once the resources it follows are done, wait for
    it, and answer with the transform's metrics (attributes ``f1``, ``precision``, ``recall``,
    ``area_under_pr_curve``), or fail naming every gate the metrics did not pass. The evaluation
    runs again exactly when one of the resources it follows ran (their task run ids are a
    property). Delete cancels an evaluation still in flight.

    Each evaluation that passes its gates also logs its metrics in CloudWatch's embedded metric
    format: ``F1``, ``Precision``, ``Recall`` and ``AreaUnderPRCurve`` in the namespace
    ``GlueLabelImport``, dimension ``TransformId`` (``metric_f1()`` and the like).
    """

    _RESOURCE_TYPE = RESOURCE_TYPE
    _START_ACTION = "glue:StartMLEvaluationTaskRun"
    _NEEDS_LABELS = True

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        transform: Union[glue.CfnMLTransform, str],
        after: Optional[Sequence[Construct]] = None,
        min_f1: Optional[float] = None,
        min_precision: Optional[float] = None,
        min_recall: Optional[float] = None,
        min_area_under_pr_curve: Optional[float] = None,
        max_f1_drop: Optional[float] = None,
        timeout: Optional[Duration] = None,
    ) -> None:
        """
        :param transform: the FindMatches transform: a ``CfnMLTransform`` of this app, or a
            TransformId (a string or a token).
        :param after: the resources of this library it follows (``LabelImport`` and the like):
            their task run ids are its ``After`` property, so it runs again exactly when one of
            them ran. Default: every ``LabelImport`` on the same transform in the stack, declared
            before or after it. Whatever ``after``, it runs after every import on its transform
            in the stack. Without ``after``, on a transform no ``LabelImport`` of the app imports
            into, synth warns (``glue-label-import:no-label-import``): Glue evaluates only a
            transform with labels.
        :param min_f1: the lowest F1 the deploy accepts, from 0 to 1 (default: none).
        :param min_precision: the lowest precision (default: none).
        :param min_recall: the lowest recall (default: none).
        :param min_area_under_pr_curve: the lowest area under the precision-recall curve (default: none).
        :param max_f1_drop: how much lower than before this evaluation F1 may be (default: any);
            checked when the transform had metrics before. With no threshold at all the gate
            gates nothing: synth warns (``glue-label-import:no-threshold``).
        :param timeout: how long CloudFormation waits for the evaluation, a ``Duration`` from 1
            minute to 1 hour. Default (None): 1 hour. The run is cancelled and the deploy fails
            just before.
        :raises TypeError: an argument of the wrong type, naming it and what it got.
        :raises ValueError: a threshold outside 0 to 1, a timeout outside 1 minute to 1 hour, a
            bad TransformId, a ``CfnMLTransform`` that is not FIND_MATCHES, or an ``after``
            resource on another transform.
        """

        def checked_thresholds() -> dict[str, Optional[float]]:
            return {
                name: arguments.check_fraction(value, argument)
                for argument, name, value in (
                    ("min_f1", "MinF1", min_f1),
                    ("min_precision", "MinPrecision", min_precision),
                    ("min_recall", "MinRecall", min_recall),
                    ("min_area_under_pr_curve", "MinAreaUnderPRCurve", min_area_under_pr_curve),
                    ("max_f1_drop", "MaxF1Drop", max_f1_drop),
                )
            }

        super().__init__(
            scope, construct_id, transform=transform, timeout=timeout, check_own=checked_thresholds, after=after
        )
        thresholds = checked_thresholds()
        self._start({name: str(value) for name, value in thresholds.items() if value is not None})
        if all(value is None for value in thresholds.values()):
            Annotations.of(self).add_warning_v2(
                "glue-label-import:no-threshold",
                "it has no threshold (min_f1, min_precision, min_recall, min_area_under_pr_curve, max_f1_drop), "
                "so it evaluates the transform but never fails the deploy",
            )

    @property
    def f1(self) -> str:
        """The transform's F1 from the last evaluation (a token: GetAtt F1)."""
        return self._resource.get_att_string("F1")

    @property
    def precision(self) -> str:
        """The transform's precision from the last evaluation (a token: GetAtt Precision)."""
        return self._resource.get_att_string("Precision")

    @property
    def recall(self) -> str:
        """The transform's recall from the last evaluation (a token: GetAtt Recall)."""
        return self._resource.get_att_string("Recall")

    @property
    def area_under_pr_curve(self) -> str:
        """The area under the precision-recall curve from the last evaluation (a token: GetAtt AreaUnderPRCurve)."""
        return self._resource.get_att_string("AreaUnderPRCurve")

    def metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        """A metric of this transform's evaluations: namespace ``GlueLabelImport``, dimension ``TransformId``.

        :param metric_name: ``F1``, ``Precision``, ``Recall`` or ``AreaUnderPRCurve``.
        :param props: ``aws_cloudwatch.MetricOptions`` (``period``, ``statistic``, ``label``,
            ``color``, ``unit``, ``dimensions_map``, ...) to override the defaults: the
            transform's dimension, CloudWatch's average over 5 minutes.
        """
        options: dict[str, Any] = {"dimensions_map": {METRIC_DIMENSION: self.transform_id}, **props}
        return cloudwatch.Metric(namespace=METRIC_NAMESPACE, metric_name=metric_name, **options)

    def metric_f1(self, **props: Any) -> cloudwatch.Metric:
        """F1 of each evaluation of the transform (``props``: ``MetricOptions`` overrides, as ``metric()``)."""
        return self.metric("F1", **props)

    def metric_precision(self, **props: Any) -> cloudwatch.Metric:
        """Precision of each evaluation of the transform (``props``: ``MetricOptions`` overrides)."""
        return self.metric("Precision", **props)

    def metric_recall(self, **props: Any) -> cloudwatch.Metric:
        """Recall of each evaluation of the transform (``props``: ``MetricOptions`` overrides)."""
        return self.metric("Recall", **props)

    def metric_area_under_pr_curve(self, **props: Any) -> cloudwatch.Metric:
        """Area under the precision-recall curve of each evaluation (``props``: ``MetricOptions`` overrides)."""
        return self.metric("AreaUnderPRCurve", **props)
