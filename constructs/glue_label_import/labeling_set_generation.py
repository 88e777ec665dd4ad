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
from glue_label_import.arguments import MAX_TIMEOUT
from glue_label_import.provider import LabelImportProvider

RESOURCE_TYPE = "Custom::GlueGenerateLabelingSet"
DEFAULT_PREFIX = "labeling-sets/"


class LabelingSetGeneration(Construct):
    """Asks Glue for the next labeling set (StartMLLabelingSetGenerationTaskRun) after the round's imports and gate.

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
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        transform: Union[glue.CfnMLTransform, str],
        output_bucket: s3.IBucket,
        output_prefix: str = DEFAULT_PREFIX,
        after: Optional[Sequence[Construct]] = None,
        timeout: Duration = MAX_TIMEOUT,
        transform_role: Optional[iam.IRole] = None,
    ) -> None:
        """
        :param transform: the FindMatches transform: a ``CfnMLTransform`` of this app, or a
            TransformId (a string or a token).
        :param output_bucket: the bucket the labeling sets go to.
        :param output_prefix: the key prefix of the rounds' folders (default ``labeling-sets/``;
            a missing trailing ``/`` is added).
        :param after: the resources of this library it follows. Default: every resource of this
            library on the same transform declared before it (its imports and its gate).
        :param timeout: how long CloudFormation waits for the generation, 1 minute to 1 hour
            (default). The run is cancelled and the deploy fails just before.
        :param transform_role: the role the transform runs as, which Glue writes the files with.
            Default: the ``role`` of a ``CfnMLTransform``; none for a TransformId (then grant it
            what the class describes yourself).
        :raises TypeError: an argument of the wrong type, naming it and what it got.
        :raises ValueError: a prefix that starts with ``/``, a timeout outside 1 minute to 1 hour,
            a bad TransformId, or an ``after`` resource on another transform.
        """
        transform_id = arguments.transform_id(transform)
        if not arguments.has_members(output_bucket, ("bucket_name", "grant_put", "s3_url_for_object")):
            raise TypeError(f"output_bucket must be an aws_s3.IBucket, got {arguments.shown(output_bucket)}")
        prefix = _checked_prefix(output_prefix)
        arguments.check_timeout(timeout)
        arguments.check_role(transform_role, "transform_role")
        following = LabelImportProvider.to_follow(scope, transform_id, after)
        super().__init__(scope, construct_id)
        self.transform_id: str = transform_id
        """The TransformId it generates labeling sets for."""
        self.after: list[Construct] = following
        """The resources it follows."""
        provider = LabelImportProvider.of(self)
        self._resource = provider.add_task(
            self,
            transform_id=transform_id,
            resource_type=RESOURCE_TYPE,
            start_actions=["glue:StartMLLabelingSetGenerationTaskRun"],
            timeout=timeout,
            after=following,
            properties={
                "OutputS3Path": output_bucket.s3_url_for_object(prefix),
            },
        )
        role = transform_role or provider.role_of(self, transform, "so that it may write the labeling sets")
        if role:
            for grant in _output_grants(role, output_bucket, prefix):
                grant.apply_before(self._resource)

    @property
    def task_run_id(self) -> str:
        """The Glue TaskRunId of the last generation (a token: GetAtt TaskRunId)."""
        return self._resource.get_att_string("TaskRunId")

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
        raise ValueError(f"output_prefix {prefix!r} must not start with /")
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"
