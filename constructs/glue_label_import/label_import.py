"""LabelImport: a Glue FindMatches label import as a CloudFormation resource."""

from __future__ import annotations

from typing import Optional, Union

from aws_cdk import Annotations, Duration, Stack, Token
from aws_cdk import aws_glue as glue
from aws_cdk import aws_iam as iam
from constructs import Construct

from glue_label_import import arguments
from glue_label_import._handler.rules import LABEL_COLUMN, LABELING_SET_ID_COLUMN
from glue_label_import._task_run import _TaskRunResource
from glue_label_import.label_file import check_label_file
from glue_label_import.label_source import LabelLocation, LabelSource
from glue_label_import.transform_table import input_table_columns, table_mismatch

RESOURCE_TYPE = "Custom::GlueImportLabels"


class LabelImport(_TaskRunResource):
    """Imports a labels CSV into a Glue FindMatches ML transform on every deploy that changes it.

    Create and Update run StartImportLabelsTaskRun and wait for the task run to end; a failed
    run fails the deploy with Glue's own error. Delete cancels a run still in flight and leaves
    the imported labels in place.
    """

    _RESOURCE_TYPE = RESOURCE_TYPE
    _START_ACTION = "glue:StartImportLabelsTaskRun"

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        transform: Union[glue.CfnMLTransform, str],
        source: LabelSource,
        replace_all_labels: bool = False,
        timeout: Optional[Duration] = None,
        transform_role: Optional[iam.IRole] = None,
    ) -> None:
        """
        :param transform: the FindMatches transform: a ``CfnMLTransform`` of this app, or a
            TransformId (a string or a token).
        :param source: the labels: ``LabelSource.from_asset`` (one local CSV),
            ``.from_directory`` (every CSV of a local folder, merged), ``.from_s3_path`` or
            ``.from_bucket`` (a CSV in S3).
        :param replace_all_labels: Glue's ReplaceAllLabels: True replaces the transform's
            labels with the file's, False (default) adds the file's labels to them. A ``bool``
            (``1`` or ``"yes"`` is a TypeError), or a string token such as a CfnParameter's value.
            A second replacing import on one transform replaces what the first imported: synth
            warns (``glue-label-import:replaced-import``), naming both.
        :param timeout: how long CloudFormation waits for the import (its ServiceTimeout), a
            ``Duration`` from 1 minute to 1 hour. Default (None): 1 hour. The run is cancelled
            and the deploy fails just before.
        :param transform_role: the role the transform runs as, which Glue uses to read the
            label file. Default: the ``role`` of a ``CfnMLTransform``; none for a TransformId
            (synth then warns, ``glue-label-import:transform-role``: no grant is written).
            When known, it is granted ``s3:GetObject`` on the label object (and ``kms:Decrypt``
            on the key of a ``from_bucket`` bucket) before the import starts.
        :raises TypeError: an argument of the wrong type (naming it and what it got): a
            ``transform`` that is neither a ``CfnMLTransform`` nor a string, a ``source`` that is
            not a ``LabelSource``, a ``replace_all_labels`` that is not a ``bool``, a ``timeout``
            that is not a ``Duration``, a ``transform_role`` that is not an ``iam.IRole``.
        :raises ValueError: a resolved TransformId that is empty or over 255 characters, a
            ``CfnMLTransform`` that is not FIND_MATCHES, a bad label source, a local label file
            Glue would refuse (``LabelFileError``, naming the line), or a timeout outside 1 minute
            to 1 hour.
        """

        def check_own() -> None:
            arguments.check_instance(
                source, "source", LabelSource, "a LabelSource such as LabelSource.from_asset('labels.csv')"
            )
            arguments.check_bool(replace_all_labels, "replace_all_labels")

        super().__init__(
            scope,
            construct_id,
            transform=transform,
            timeout=timeout,
            check_own=check_own,
            transform_role=transform_role,
        )
        self.replace_all_labels: Union[bool, str] = replace_all_labels
        """Whether it replaces the transform's labels (a string when a token)."""

        # The handler reads the file's header, to check it against the transform's schema.
        location = source.bind(self, handler_role=self._provider.role)
        if location.local_path:
            self._check_label_files(location, transform)
        if replace_all_labels is True:
            self._warn_of_replacing_imports_before(self._provider._rounds.imports_on(self, self.transform_id))
        self._start({"InputS3Path": location.s3_path, "ReplaceAllLabels": replace_all_labels})

        role = self._transform_role("so that it may read the label file")
        if role:
            # Glue reads the file as the transform's role: exactly this object, and its key if any.
            reads = [("s3:GetObject", location.object_arn)]
            if location.encryption_key:
                reads.append(("kms:Decrypt", location.encryption_key.key_arn))
            self._grant_before_run(
                [
                    iam.Grant.add_to_principal(grantee=role, actions=[action], resource_arns=[arn])
                    for action, arn in reads
                ]
            )

    def _warn_of_replacing_imports_before(self, imports: list[Construct]) -> None:
        """Each deploy that runs them replaces the labels of the replacing imports declared before this one."""
        replaced = [
            label_import.node.path
            for label_import in imports
            if isinstance(label_import, LabelImport) and label_import.replace_all_labels is True
        ]
        if replaced:
            Annotations.of(self).add_warning_v2(
                "glue-label-import:replaced-import",
                f"it replaces all labels of its transform, and so does {', '.join(replaced)}, imported before it: "
                "what that import brings is replaced by this file. Pass replace_all_labels=False to add to "
                "those labels, or keep the rounds in one folder (LabelSource.from_directory) and import it once",
            )

    def _check_label_files(self, location: LabelLocation, transform: Union[glue.CfnMLTransform, str]) -> None:
        """Refuse at synth what Glue would refuse at deploy; warn about what it may not learn from.

        A folder's files are checked one by one, so that every message names the user's file and a
        line of it; the columns they share are checked against the transform's input table.
        """
        primary_key = _primary_key(self, transform)
        files = location.label_files or (location.local_path,)
        reports = [check_label_file(file, primary_key=primary_key) for file in files if file]
        table_columns = input_table_columns(transform) if isinstance(transform, glue.CfnMLTransform) else None
        mismatch = table_mismatch(reports[0].columns, table_columns) if table_columns else None
        if mismatch:
            raise ValueError(
                f"{location.shown_as or location.local_path}: the label file's columns after "
                f"{LABELING_SET_ID_COLUMN},{LABEL_COLUMN} must be those of the transform's input table "
                f"({', '.join(table_columns or [])}): {mismatch}"
            )
        for report in reports:
            for warning in report.warnings:
                Annotations.of(self).add_warning_v2("glue-label-import:label-file", f"{report.path}: {warning}")


def _primary_key(scope: Construct, transform: Union[glue.CfnMLTransform, str]) -> Optional[str]:
    """The transform's primary key column, when the stack states it."""
    if not isinstance(transform, glue.CfnMLTransform):
        return None
    parameters = Stack.of(scope).resolve(transform.transform_parameters)
    if not isinstance(parameters, dict) or not isinstance(parameters.get("findMatchesParameters"), dict):
        return None
    key = parameters["findMatchesParameters"].get("primaryKeyColumnName")
    return key if isinstance(key, str) and not Token.is_unresolved(key) else None
