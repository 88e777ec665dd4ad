"""TransformEvaluation: a quality gate on a Glue FindMatches transform, as a CloudFormation resource."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional, Union

from aws_cdk import Duration
from aws_cdk import aws_glue as glue
from constructs import Construct

from glue_label_import import arguments
from glue_label_import.arguments import MAX_TIMEOUT
from glue_label_import.provider import LabelImportProvider

RESOURCE_TYPE = "Custom::GlueEvaluateTransform"


class TransformEvaluation(Construct):
    """Evaluates a FindMatches transform after its labels change, and fails the deploy when quality drops.

    Create and Update run StartMLEvaluationTaskRun once the resources it follows are done, wait for
    it, and answer with the transform's metrics (attributes ``f1``, ``precision``, ``recall``,
    ``area_under_pr_curve``), or fail naming every gate the metrics did not pass. The evaluation
    runs again exactly when one of the resources it follows ran (their task run ids are a
    property). Delete cancels an evaluation still in flight.
    """

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
        timeout: Duration = MAX_TIMEOUT,
    ) -> None:
        """
        :param transform: the FindMatches transform: a ``CfnMLTransform`` of this app, or a
            TransformId (a string or a token).
        :param after: the resources of this library it follows (``LabelImport`` and the like).
            Default: every resource of this library on the same transform declared before it.
        :param min_f1: the lowest F1 the deploy accepts, from 0 to 1 (default: none).
        :param min_precision: the lowest precision (default: none).
        :param min_recall: the lowest recall (default: none).
        :param min_area_under_pr_curve: the lowest area under the precision-recall curve (default: none).
        :param max_f1_drop: how much lower than before this evaluation F1 may be (default: any);
            checked when the transform had metrics before.
        :param timeout: how long CloudFormation waits for the evaluation, 1 minute to 1 hour
            (default). The run is cancelled and the deploy fails just before.
        :raises TypeError: an argument of the wrong type, naming it and what it got.
        :raises ValueError: a threshold outside 0 to 1, a timeout outside 1 minute to 1 hour, a
            bad TransformId, or an ``after`` resource on another transform.
        """
        transform_id = arguments.transform_id(transform)
        thresholds = {
            name: arguments.check_fraction(value, argument)
            for argument, name, value in (
                ("min_f1", "MinF1", min_f1),
                ("min_precision", "MinPrecision", min_precision),
                ("min_recall", "MinRecall", min_recall),
                ("min_area_under_pr_curve", "MinAreaUnderPRCurve", min_area_under_pr_curve),
                ("max_f1_drop", "MaxF1Drop", max_f1_drop),
            )
        }
        arguments.check_timeout(timeout)
        following = LabelImportProvider.to_follow(scope, transform_id, after)
        super().__init__(scope, construct_id)
        provider = LabelImportProvider.of(self)
        self.transform_id: str = transform_id
        """The TransformId it evaluates (the transform's Ref for a CfnMLTransform)."""
        self.after: list[Construct] = following
        """The resources it follows."""
        self._resource = provider.add_task(
            self,
            transform_id=transform_id,
            resource_type=RESOURCE_TYPE,
            start_actions=["glue:StartMLEvaluationTaskRun"],
            timeout=timeout,
            after=following,
            properties={
                **{name: str(value) for name, value in thresholds.items() if value is not None},
            },
        )

    @property
    def task_run_id(self) -> str:
        """The Glue TaskRunId of the last evaluation (a token: GetAtt TaskRunId)."""
        return self._resource.get_att_string("TaskRunId")

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
