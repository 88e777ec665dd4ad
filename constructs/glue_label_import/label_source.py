"""Where a label file comes from: a local CSV uploaded as an asset, or an object already in S3."""

from __future__ import annotations

import abc
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from aws_cdk import Fn, Stack, Stage, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from glue_label_import import arguments
from glue_label_import._handler.rules import s3_uri_problem, split_s3_uri
from glue_label_import.label_file import check_label_file, in_glue_order, read_header, validate_label_file
from glue_label_import.label_set import DEFAULT_PATTERN, label_files_in, stage_merged_label_files
from glue_label_import.staging import STAGING_FOLDER, stage_file, write_in_glue_order


@dataclass(frozen=True)
class LabelLocation:
    """A label file as the stack sees it once bound to a LabelImport."""

    s3_path: str
    """`s3://bucket/key` of the file, handed to Glue as InputS3Path."""
    object_arn: str
    """ARN of the S3 object, for `s3:GetObject` grants."""
    encryption_key: Optional[kms.IKey] = None
    """KMS key of the bucket, when the construct knows one."""
    local_path: Optional[Path] = None
    """The local file behind an asset, for checks at synth."""
    shown_as: Optional[str] = None
    """How messages name the file, when not by `local_path` (a folder's merged files)."""
    label_files: tuple[Path, ...] = ()
    """The user's files merged into `local_path` (a folder's): checks at synth read these, so that
    a message names the user's file and a line of it, never a line of the merged file."""


class LabelSource(abc.ABC):
    """A label file for a LabelImport. Create one with the `from_*` factories."""

    @staticmethod
    def from_asset(path: str | os.PathLike[str]) -> LabelSource:
        """A local CSV file, uploaded by `cdk deploy` as an S3 asset.

        A changed file gets a new S3 key, so the import runs again on the next deploy. Glue
        requires ``labeling_set_id,label`` as the first two columns: a valid file whose header
        has them elsewhere is uploaded as a copy with them first (the other columns in the
        file's order), staged in the cloud assembly; the asset is the copy's bytes.

        :param path: path of the CSV file, relative to the current directory or absolute.
        :raises TypeError: ``path`` is not a ``str`` or path.
        :raises ValueError: the file does not exist or is a folder.
        """
        return _AssetSource(path)

    @staticmethod
    def from_directory(path: str | os.PathLike[str], *, pattern: str = DEFAULT_PATTERN) -> LabelSource:
        """Every label file of a local folder, merged at synth into one CSV uploaded as an S3 asset.

        The files matching ``pattern`` (default ``"*.csv"``; subfolders are not searched) are
        checked one by one as :meth:`from_asset` checks a file, then merged in name order into
        one file: one header, then every row. Each labeling set id is prefixed with its file's
        name without the extension and a ``/`` (set ``s1`` of ``round-1.csv`` becomes
        ``round-1/s1``), so rows of different files never share a labeling set. The files
        need the same columns, in any order; the merged file has ``labeling_set_id,label`` first, as
        Glue requires, then the first file's other columns in its order. The
        merged file is the same bytes for the same files, so its S3 key changes, and the
        import runs again, exactly when a file is added, removed or changed.

        With ``replace_all_labels=True`` the transform holds exactly the folder's labels after
        each deploy.

        :param path: the folder, relative to the current directory or absolute.
        :param pattern: a file name pattern (``glob``) of the label files in it.
        :raises TypeError: ``path`` is not a ``str`` or path, or ``pattern`` not a ``str``.
        :raises ValueError: the folder does not exist, is not a folder or has no file
            matching ``pattern``; at synth, a file Glue cannot import, a file whose columns
            differ from the first file's, or a merged file over Glue's 10 MB limit.
        """
        return _DirectorySource(path, pattern=pattern)

    @staticmethod
    def from_s3_path(s3_path: str) -> LabelSource:
        """A CSV file already in S3, as `s3://bucket/key` (a token is accepted unchecked).

        :raises TypeError: ``s3_path`` is not a string.
        :raises ValueError: the path is not `s3://bucket/key` with a valid bucket name and a key.
        """
        return _S3PathSource(s3_path)

    @staticmethod
    def from_bucket(bucket: s3.IBucket, key: str) -> LabelSource:
        """A CSV file in a bucket of this app (or imported into it), under `key`.

        :raises ValueError: the key is empty or starts with "/".
        """
        return _BucketSource(bucket, key)

    def bind(self, scope: Construct, *, handler_role: iam.IRole) -> LabelLocation:
        """Create what the source needs in `scope` (an asset, say), say where the file is, and let
        the handler (`handler_role`) read it: ``s3:GetObject`` on exactly that object, and
        ``kms:Decrypt`` on its bucket's key when the source knows one. The handler reads the
        file's header, to check it against the transform's schema before a run starts."""
        location = self._locate(scope)
        handler_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[location.object_arn])
        )
        if location.encryption_key:
            location.encryption_key.grant_decrypt(handler_role)
        return location

    @abc.abstractmethod
    def _locate(self, scope: Construct) -> LabelLocation:
        """Create what the source needs in `scope` (an asset, say) and say where the file is."""


class _AssetSource(LabelSource):
    def __init__(self, path: str | os.PathLike[str]) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"label file path must be a path (str or os.PathLike), got {arguments.shown(path)}")
        file = Path(path)
        if not file.exists():
            raise ValueError(f"label file {path!r} does not exist (resolved to {file.resolve()})")
        if not file.is_file():
            raise ValueError(f"label file {path!r} is not a file")
        self._path = file

    def _locate(self, scope: Construct) -> LabelLocation:
        path = self._path
        header = read_header(path)
        # A file Glue cannot import stays as it is, for LabelImport's check to name its lines.
        if header is not None and not in_glue_order(header) and validate_label_file(path).ok:
            path, _ = stage_file(
                staging_folder(scope), path.name, lambda output: write_in_glue_order(self._path, output)
            )
        asset = s3_assets.Asset(scope, "LabelFile", path=str(path))
        return LabelLocation(
            s3_path=asset.s3_object_url,
            object_arn=asset.bucket.arn_for_objects(asset.s3_object_key),
            local_path=path,
            shown_as=str(self._path) if path != self._path else None,
            label_files=(self._path,) if path != self._path else (),  # checks read and name the user's file
        )


class _DirectorySource(LabelSource):
    def __init__(self, path: str | os.PathLike[str], *, pattern: str) -> None:
        self._files = label_files_in(path, pattern=pattern)

    def _locate(self, scope: Construct) -> LabelLocation:
        for file in self._files:
            check_label_file(file)
        merged = stage_merged_label_files(self._files, staging_folder(scope))
        asset = s3_assets.Asset(scope, "LabelFile", path=str(merged.path))
        return LabelLocation(
            s3_path=asset.s3_object_url,
            object_arn=asset.bucket.arn_for_objects(asset.s3_object_key),
            local_path=merged.path,
            shown_as=f"the merged label files of {self._files[0].parent} ({', '.join(f.name for f in self._files)})",
            label_files=tuple(self._files),
        )


def staging_folder(scope: Construct) -> Path:
    """Where the label files of `scope` are staged: a folder of its stage's (its app's) output directory."""
    stage = Stage.of(scope)
    if stage is None:
        raise ValueError(f"{scope.node.path} is not in an App or a Stage: its label files have nowhere to be staged")
    return Path(stage.outdir) / STAGING_FOLDER


class _S3PathSource(LabelSource):
    def __init__(self, s3_path: str) -> None:
        if not isinstance(s3_path, str):
            raise TypeError(
                f"label S3 path must be a string such as 's3://bucket/key.csv', got {arguments.shown(s3_path)}"
            )
        problem = None if Token.is_unresolved(s3_path) else s3_uri_problem(s3_path)
        if problem:
            raise ValueError(f"label S3 path {arguments.quoted(s3_path)} {problem}")
        self._s3_path = s3_path

    def _locate(self, scope: Construct) -> LabelLocation:
        if Token.is_unresolved(self._s3_path):
            bucket_and_key = Fn.select(1, Fn.split("s3://", self._s3_path, 2))
        else:
            bucket_and_key = "/".join(split_s3_uri(self._s3_path))
        partition = Stack.of(scope).partition
        return LabelLocation(s3_path=self._s3_path, object_arn=f"arn:{partition}:s3:::{bucket_and_key}")


class _BucketSource(LabelSource):
    def __init__(self, bucket: s3.IBucket, key: str) -> None:
        if not Token.is_unresolved(key) and (not key or key.startswith("/")):
            raise ValueError(f"label object key {arguments.quoted(key)} must be non-empty and not start with /")
        self._bucket = bucket
        self._key = key

    def _locate(self, scope: Construct) -> LabelLocation:
        return LabelLocation(
            s3_path=self._bucket.s3_url_for_object(self._key),
            object_arn=self._bucket.arn_for_objects(self._key),
            encryption_key=self._bucket.encryption_key,
        )
