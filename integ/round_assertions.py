"""What AWS must report after a label round of a LabelRoundStack, as integ-tests-alpha assertions.

Each is an ``aws_api_call`` of the test's assertion stack, run once the round's stack is deployed:

* GetMLTransform: the transform is READY, holds the round's labels (LabelCount) and has the
  evaluation metrics of an evaluation run (a ConfusionMatrix; the gate passed, or the deploy
  would have failed);
* GetMLTaskRuns, newest first: the import and the evaluation this deploy answered for SUCCEEDED,
  after those of the rounds deployed before it;
* ListObjectsV2 under the folder the generation reported: the labeling set's files are there.
"""

from __future__ import annotations

from typing import Any, cast

from aws_cdk import CfnResource, Fn
from aws_cdk import integ_tests_alpha as integ
from label_round_stack import LABELING_SET_PREFIX, LabelRoundStack

SALT = "glue-label-import-integ"
"""The assertions' salt. integ-tests-alpha salts each call with the synth time, so that it runs again
when its assertion stack is updated; integ-runner creates these stacks anew on every run, so a
fixed salt loses nothing and keeps the snapshots free of time."""


def assert_round(test: integ.IntegTest, stack: LabelRoundStack, *, rounds_before: int = 0) -> None:
    """What AWS must report after the round of ``stack``: its labels, its runs, its labeling set.

    :param rounds_before: how many rounds were deployed on the transform before this one.
    """
    transform_id = stack.labels.transform_id
    _call(test, "Glue", "getMLTransform", {"TransformId": transform_id}).expect(
        integ.ExpectedResult.object_like(
            {
                "TransformId": transform_id,
                "Status": "READY",
                "LabelCount": stack.label_count,
                # ConfusionMatrix comes only from an evaluation run: the metrics are the gate's.
                "EvaluationMetrics": integ.Match.object_like(
                    {
                        "TransformType": "FIND_MATCHES",
                        "FindMatchesMetrics": integ.Match.object_like({"ConfusionMatrix": integ.Match.object_like({})}),
                    }
                ),
            }
        )
    )
    earlier = [integ.Match.object_like({"Status": "SUCCEEDED"})] * rounds_before
    for task_run_type, task_run_id in (
        ("IMPORT_LABELS", stack.labels.task_run_id),
        ("EVALUATION", stack.quality.task_run_id),
    ):
        _call(
            test,
            "Glue",
            "getMLTaskRuns",
            {
                "TransformId": transform_id,
                "Filter": {"TaskRunType": task_run_type},
                "Sort": {"Column": "STARTED", "SortDirection": "DESCENDING"},
            },
        ).expect(
            integ.ExpectedResult.object_like(
                {
                    "TaskRuns": integ.Match.array_with(
                        [integ.Match.object_like({"TaskRunId": task_run_id, "Status": "SUCCEEDED"}), *earlier]
                    )
                }
            )
        )
    # s3://bucket/labeling-sets/<folder>/: the folder is the 5th part when split on "/".
    folder = Fn.select(4, Fn.split("/", stack.next_round.output_s3_path))
    listing = _call(
        test,
        "S3",
        "listObjectsV2",
        {"Bucket": stack.bucket.bucket_name, "Prefix": Fn.join("", [LABELING_SET_PREFIX, folder, "/"])},
    )
    # The provider grants "s3:ListObjectsV2", named after the call: IAM knows it as s3:ListBucket.
    listing.provider.add_to_role_policy(
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [stack.bucket.bucket_arn]}
    )
    listing.expect(
        integ.ExpectedResult.object_like(
            {
                "Contents": integ.Match.array_with(
                    [integ.Match.object_like({"Key": integ.Match.string_like_regexp(r"/[^/_.][^/]*$")})]
                )
            }
        )
    )


def _call(test: integ.IntegTest, service: str, api: str, parameters: dict[str, Any]) -> integ.IApiCall:
    """An ``aws_api_call`` of the test's assertion stack, with the fixed salt."""
    call = test.assertions.aws_api_call(service, api, parameters)
    cast(CfnResource, call.node.find_child("Default").node.default_child).add_property_override("salt", SALT)
    return call
