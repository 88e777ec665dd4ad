"""Command line: ``glue-label-import validate|fetch|export|history|label``.

The same as ``python -m glue_label_import``; the console script ``glue-label-import`` runs
:func:`console_main`.

``validate PATH... [--primary-key COLUMN] [--pattern GLOB]``: each PATH is a label file or a
folder of them (its files matching ``--pattern``, default ``*.csv``, in name order, as
``LabelSource.from_directory`` takes them). Prints the validation report of each file and, for
more than one file, what merging them gives: the labeling sets and rows of the merged set and
the labeling set ids found in several files, which the merge makes unique by prefixing each
with its file's name. Exits 0 when Glue can import every file and their merge (warnings
allowed), 1 when it cannot or a path cannot be read. A file whose first two columns are not
``labeling_set_id,label`` gets a warning: Glue requires them first, ``from_asset`` and
``from_directory`` put them first when they stage it, a file imported from S3 must have them first. ``--version``
prints the installed version.

``fetch S3_PATH OUT.csv``, ``export TRANSFORM_ID S3_PREFIX OUT.csv`` and ``history TRANSFORM_ID
[--json]`` call AWS: they live in
:mod:`glue_label_import.aws_commands`, imported only when they run, as they need boto3 (the
``aws`` extra). ``label FETCHED.csv --out OUT.csv`` opens a terminal interface: it lives in
:mod:`glue_label_import.label_command`, whose interface needs Textual (the ``label`` extra).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from glue_label_import import __version__, label_command
from glue_label_import.label_file import LabelFileReport, column_order_warning, counted, validate_label_file
from glue_label_import.label_set import DEFAULT_PATTERN, MergedLabelSet, label_files_in, merge_label_files

MODULE_PROG = "python -m glue_label_import"
SCRIPT_PROG = "glue-label-import"

AWS_EXTRA = "pip install 'cdk-glue-label-import[aws]'"

FETCH_DESCRIPTION = """\
Download the CSV part files AWS Glue wrote into the folder S3_PATH (a labeling set from
StartMLLabelingSetGenerationTaskRun), merge them into OUT.csv with one header, and check that
the header has a label column and every row a labeling_set_id. The parts are the objects directly
in the folder whose names do not start with _ or . (with or without .csv), in key order; empty
ones are skipped.
"""

FETCH_HELP = "download a labeling set Glue generated, merged into one file ready to label"
FETCH_PERMISSIONS = """\
AWS credentials and region: boto3's standard chain (environment, AWS_PROFILE, ~/.aws), or
--profile and --region. IAM permissions it needs:
  s3:ListBucket   on the bucket (for the folder's prefix)
  s3:GetObject    on the objects in the folder
"""

EXPORT_DESCRIPTION = """\
Export the labels of the FindMatches transform TRANSFORM_ID (StartExportLabelsTaskRun) into a
new folder export-<UTC time>/ under S3_PREFIX, wait for the task run, then download and merge
the export into OUT.csv and validate it as a label file: how a transform trained in the console
starts doing labels as code.
"""

EXPORT_HELP = "export a transform's labels into one label file"
EXPORT_PERMISSIONS = """\
AWS credentials and region: boto3's standard chain (environment, AWS_PROFILE, ~/.aws), or
--profile and --region. IAM permissions it needs:
  glue:StartExportLabelsTaskRun, glue:GetMLTaskRun   on the transform
  s3:ListBucket   on the bucket (for the prefix)
  s3:GetObject    on the objects under the prefix
Glue writes the export as the transform's role, which needs s3:PutObject under S3_PREFIX.
"""

HISTORY_DESCRIPTION = """\
The label history of the FindMatches transform TRANSFORM_ID, newest first: its label imports
(when, the file, replace or append, status, task run id), evaluations (when, status, task run id)
and labeling set generations (when, the folder), from GetMLTaskRuns, as a table or as JSON.
"""

HISTORY_HELP = "list a transform's label imports, evaluations and labeling sets, newest first"
HISTORY_PERMISSIONS = """\
AWS credentials and region: boto3's standard chain (environment, AWS_PROFILE, ~/.aws), or
--profile and --region. IAM permissions it needs:
  glue:GetMLTaskRuns   on the transform
"""

MAX_LISTED_SHARED_IDS = 10
"""Labeling set ids found in several files that the summary spells out; further ones are counted."""


def _parser(prog: str) -> argparse.ArgumentParser:
    """Return the parser of the command line, whose usage names it ``prog``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Tools for AWS Glue FindMatches label files.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate",
        help="check that label files are ones Glue can import",
        description=(
            "Check that each PATH, a CSV label file or a folder of them, is one AWS Glue FindMatches "
            "can import, and, for several files, what merging them (as LabelSource.from_directory "
            "does) gives."
        ),
    )
    validate.add_argument("paths", nargs="+", metavar="PATH", help="a label file (CSV), or a folder of them")
    validate.add_argument("--primary-key", metavar="COLUMN", help="a column every file must also have")
    validate.add_argument(
        "--pattern",
        default=DEFAULT_PATTERN,
        metavar="GLOB",
        help=f"the label files of a folder (default: {DEFAULT_PATTERN}; subfolders are not searched)",
    )
    fetch = _aws_parser(commands, "fetch", FETCH_HELP, FETCH_DESCRIPTION, FETCH_PERMISSIONS)
    fetch.add_argument("s3_path", metavar="S3_PATH", help="the folder Glue wrote to: s3://bucket/folder/")
    _add_output_arguments(fetch)
    export = _aws_parser(commands, "export", EXPORT_HELP, EXPORT_DESCRIPTION, EXPORT_PERMISSIONS)
    export.add_argument("transform_id", metavar="TRANSFORM_ID", help="the transform, tfm-...")
    export.add_argument("s3_prefix", metavar="S3_PREFIX", help="where Glue may write the export: s3://bucket/folder/")
    _add_output_arguments(export)
    history = _aws_parser(commands, "history", HISTORY_HELP, HISTORY_DESCRIPTION, HISTORY_PERMISSIONS)
    history.add_argument("transform_id", metavar="TRANSFORM_ID", help="the transform, tfm-...")
    history.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    for command in (fetch, export, history):
        _add_session_arguments(command)
    label_command.add_parser(commands)
    return parser


def _aws_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str,
    permissions: str,
) -> argparse.ArgumentParser:
    """Add the parser of a command that calls AWS: its summary, its description, the permissions it needs."""
    return commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=permissions,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_output_arguments(parser: argparse.ArgumentParser) -> None:
    """Add OUT.csv and --force, which fetch and export share."""
    parser.add_argument("out", metavar="OUT.csv", help="the label file to write")
    parser.add_argument("--force", action="store_true", help="overwrite OUT.csv if it exists")


def _add_session_arguments(parser: argparse.ArgumentParser) -> None:
    """Add --region and --profile."""
    parser.add_argument("--region", help="the AWS region (default: boto3's: AWS_DEFAULT_REGION or the profile's)")
    parser.add_argument("--profile", help="the AWS profile of ~/.aws/config (default: boto3's, such as AWS_PROFILE)")


def main(argv: Sequence[str] | None = None, *, prog: str = MODULE_PROG) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = _parser(prog).parse_args(argv)
    if args.command == "validate":
        return _validate(args)
    if args.command == "label":
        return label_command.run(args)
    return _aws_command(args)


def _aws_command(args: argparse.Namespace) -> int:
    """Run ``fetch``, ``export`` or ``history``, which need boto3; return the exit status."""
    try:
        from glue_label_import import aws_commands  # noqa: PLC0415  # boto3 only when a command calls AWS
    except ModuleNotFoundError as error:
        if error.name not in {"boto3", "botocore"}:
            raise
        print(f"error: {args.command} needs boto3: {AWS_EXTRA}", file=sys.stderr)
        return 1
    return aws_commands.run(args)


def _validate(args: argparse.Namespace) -> int:
    """Run ``validate``: report each label file and their merge; return the exit status."""
    files, ok = _files(args.paths, args.pattern)
    reports: list[LabelFileReport] = []
    for file in files:
        try:
            report = validate_label_file(file, primary_key=args.primary_key)
        except OSError as error:
            print(f"error: cannot read {file}: {error.strerror or error}", file=sys.stderr)
            ok = False
            continue
        print(report.format())
        order_warning = column_order_warning(report.columns)
        if order_warning:
            print(f"warning: {order_warning}")
        reports.append(report)
        ok = ok and report.ok
    if len(files) > 1:
        ok = _print_merge(files, reports, all_valid=ok) and ok
    return 0 if ok else 1


def _files(paths: Sequence[str], pattern: str) -> tuple[list[Path], bool]:
    """Return the label files ``paths`` name, and whether every path could be read."""
    files: list[Path] = []
    ok = True
    for path in paths:
        if os.path.isdir(path):
            try:
                files.extend(label_files_in(path, pattern=pattern))
            except ValueError as error:
                print(f"error: {error}", file=sys.stderr)
                ok = False
        else:
            files.append(Path(path))
    return files, ok


def _print_merge(files: Sequence[Path], reports: Sequence[LabelFileReport], *, all_valid: bool) -> bool:
    """Print what merging ``files`` gives; return whether Glue can import the merge."""
    if not all_valid:
        invalid = len(files) - sum(report.ok for report in reports)
        print(f"merged: not built, {invalid} of {counted(len(files), 'file')} cannot be imported")
        return False
    with tempfile.TemporaryDirectory(prefix="glue-label-import-") as folder:
        try:
            merged = merge_label_files(files, Path(folder) / "merged.csv")
        except ValueError as error:
            print(f"merged: error: {error}")
            return False
    print(_merge_summary(merged))
    return True


def _merge_summary(merged: MergedLabelSet) -> str:
    """Describe a merged set: files, labeling sets, rows, size and ids made unique."""
    lines = [
        f"merged: {counted(len(merged.files), 'file')}, {counted(merged.labeling_sets, 'labeling set')}, "
        f"{counted(merged.rows, 'row')}, {merged.size:,} bytes"
    ]
    shared = merged.shared_set_ids
    if shared:
        listed = ", ".join(repr(set_id) for set_id in shared[:MAX_LISTED_SHARED_IDS])
        more = f" and {len(shared) - MAX_LISTED_SHARED_IDS} more" if len(shared) > MAX_LISTED_SHARED_IDS else ""
        lines.append(
            f"merged: {counted(len(shared), 'labeling set id')} in more than one file, made unique by prefixing "
            f"each with its file's name and '/': {listed}{more}"
        )
    return "\n".join(lines)


def console_main() -> int:
    """Entry point of the console script ``glue-label-import``: :func:`main` on ``sys.argv[1:]``."""
    return main(prog=SCRIPT_PROG)


if __name__ == "__main__":
    sys.exit(main())
