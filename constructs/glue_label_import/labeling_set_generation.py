"""LabelingSetGeneration: the next labeling set of a Glue FindMatches transform, generated on deploy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional, Union

from aws_cdk import Duration, Token
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from glue_label_import import arguments
from glue_label_import._task_run import _FollowingTaskRun

RESOURCE_TYPE = "Custom::GlueGenerateLabelingSet"
DEFAULT_PREFIX = "labeling-sets/"


class LabelingSetGeneration(_FollowingTaskRun):
    """Asks Glue for the next labeling set (StartMLLabelingSetGenerationTaskRun) after the round's imports.

    Each run writes CSV files into a new folder under ``output_prefix`` of ``output_bucket``, named
    by the time it started (so rounds sort in time order); ``output_s3_path`` is that folder. It
    runs again exactly when one of the resources it follows ran. Glue writes the set as a Spark
    job, as the transform's role: temporary files under the output that it lists, reads back,
    copies and deletes. The role is granted, before the run, ``s3:GetObject``, ``s3:PutObject``,
    ``s3:AbortMultipartUpload`` and ``s3:DeleteObject`` on exactly ``bucket/prefix*``,
    ``s3:ListBucket`` on the bucket for ``s3:prefix`` values under the prefix, and
    ``kms:Decrypt``, ``kms:Encrypt`` and ``kms:GenerateDataKey`` on the bucket's key, if it has
    one; nothing outside the prefix. Delete
    cancels a run in flight; the files already written stay. Fetch a set with
    ``glue-label-import fetch <output_s3_path> labels/round-N.csv``.

    By default it runs beside the round's gate, after the same imports: Glue runs the evaluation
    and the generation at once (3 task runs per transform may run together), so a round's deploy
    takes the import plus the longer of the two instead of their sum. A failed gate still fails
    the deploy, and CloudFormation rolls the generation back with everything else (its rollback
    answers the previous folder without a run); but the labeling set was generated from labels
    the gate then refused, and Glue's run is spent. ``after=[gate]`` keeps the strict order: the
    next set only from labels that passed the gate, for a deploy as long as the sum.
    """

    _RESOURCE_TYPE = RESOURCE_TYPE
    _START_ACTION = "glue:StartMLLabelingSetGenerationTaskRun"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        transform: Union[glue.CfnMLTransform, str],
        output_bucket: s3.IBucket,
        output_prefix: str = DEFAULT_PREFIX,
        after: Optional[Sequence[Construct]] = None,
        timeout: Optional[Duration] = None,
        transform_role: Optional[iam.IRole] = None,
    ) -> None:
        """
        :param transform: the FindMatches transform: a ``CfnMLTransform`` of this app, or a
            TransformId (a string or a token).
        :param output_bucket: the bucket the labeling sets go to.
        :param output_prefix: the key prefix of the rounds' folders (default ``labeling-sets/``;
            a missing trailing ``/`` is added).
        :param after: the resources of this library it follows: their task run ids are its
            ``After`` property, so it runs again exactly when one of them ran. Default: every
            ``LabelImport`` on the same transform in the stack, declared before or after it, so
            it runs beside the gate; ``after=[gate]`` runs it only once the gate passed (see
            above). Whatever ``after``, it runs after every import on its transform in the stack.
        :param timeout: how long CloudFormation waits for the generation, a ``Duration`` from 1
            minute to 1 hour. Default (None): 1 hour. The run is cancelled and the deploy fails
            just before.
        :param transform_role: the role the transform runs as, which Glue writes the files with.
            Default: the ``role`` of a ``CfnMLTransform``; none for a TransformId (then grant it
            what the class describes yourself).
        :raises TypeError: an argument of the wrong type, naming it and what it got.
        :raises ValueError: a prefix that starts with ``/``, a timeout outside 1 minute to 1 hour,
            a bad TransformId, a ``CfnMLTransform`` that is not FIND_MATCHES, or an ``after``
            resource on another transform.
        """

        def check_own() -> None:
            if not arguments.has_members(output_bucket, ("bucket_name", "grant_put", "s3_url_for_object")):
                raise TypeError(f"output_bucket must be an aws_s3.IBucket, got {arguments.shown(output_bucket)}")
            _checked_prefix(output_prefix)

        super().__init__(
            scope,
            construct_id,
            transform=transform,
            timeout=timeout,
            check_own=check_own,
            transform_role=transform_role,
            after=after,
        )
        prefix = _checked_prefix(output_prefix)
        self._start({"OutputS3Path": output_bucket.s3_url_for_object(prefix)})
        role = self._transform_role("so that it may write the labeling sets")
        if role:
            self._grant_before_run(_output_grants(role, output_bucket, prefix))

    @property
    def output_s3_path(self) -> str:
        """The folder of the last round's labeling set, ``s3://bucket/prefix/<time>/`` (GetAtt OutputS3Path)."""
        return self._resource.get_att_string("OutputS3Path")


OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject")
"""What Glue's Spark job does with the objects under the output prefix: write, read back, copy, delete."""
KEY_ACTIONS = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
"""The use of the bucket's key, for objects encrypted with it."""


def _output_grants(role: iam.IRole, bucket: s3.IBucket, prefix: str) -> list[iam.Grant]:
    """What the transform's role needs to write a labeling set under `prefix`, and nothing outside it."""
    grants = [
        iam.Grant.add_to_principal(
            grantee=role, actions=list(OBJECT_ACTIONS), resource_arns=[bucket.arn_for_objects(f"{prefix}*")]
        ),
        iam.Grant.add_to_principal(
            grantee=role,
            actions=["s3:ListBucket"],
            resource_arns=[bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": f"{prefix}*"}},
        ),
    ]
    if bucket.encryption_key:
        grants.append(
            iam.Grant.add_to_principal(
                grantee=role, actions=list(KEY_ACTIONS), resource_arns=[bucket.encryption_key.key_arn]
            )
        )
    return grants


def _checked_prefix(prefix: object) -> str:
    if not isinstance(prefix, str):
        raise TypeError(f"output_prefix must be a string such as 'labeling-sets/', got {arguments.shown(prefix)}")
    if Token.is_unresolved(prefix):
        return prefix
    if prefix.startswith("/"):
        raise ValueError(f"output_prefix {arguments.quoted(prefix)} must not start with /")
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"
