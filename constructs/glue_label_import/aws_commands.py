"""The commands that call AWS: ``fetch`` (a generated labeling set), ``export`` (a transform's labels)
and ``history`` (a transform's imports, evaluations and labeling sets).

Imported by the command line only when one of them runs, since it needs boto3 (the ``aws``
extra); ``validate`` and synth never import it. Credentials and region come from boto3's
standard chain, or ``--profile`` and ``--region``. An expected failure (no credentials, no
region, an AWS error, output that is not a label file) is one ``error:`` line on stderr and
exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError, PartialCredentialsError

from glue_label_import._handler.rules import FINAL_STATUSES, transform_id_problem
from glue_label_import.glue_output import OutputError, S3Folder, merge_parts
from glue_label_import.label_file import counted, validate_label_file
from glue_label_import.label_history import history_json, history_table, label_history

POLL_SECONDS = 2.0
"""Seconds between two GetMLTaskRun calls while an export runs."""

clock: Callable[[], float] = time.monotonic
"""The clock the wait for an export measures elapsed time on (tests replace it)."""
sleep: Callable[[float], None] = time.sleep
"""How the wait for an export pauses between polls (tests replace it)."""

NO_CREDENTIALS = (
    "no AWS credentials found: configure them (aws configure, AWS_PROFILE, or environment variables) or pass --profile"
)
NO_REGION = "no AWS region: pass --region, or set AWS_DEFAULT_REGION or a profile's region"


class CommandError(Exception):
    """An expected failure of a command: its message is shown after ``error:``."""


def run(args: argparse.Namespace) -> int:
    """Run ``fetch``, ``export`` or ``history`` as parsed into ``args``; return the exit status."""
    commands: dict[str, Callable[[argparse.Namespace], str]] = {"fetch": _fetch, "export": _export, "history": _history}
    try:
        done = commands[args.command](args)
    except (CommandError, OutputError) as error:
        message = str(error)
    except (NoCredentialsError, PartialCredentialsError):
        message = NO_CREDENTIALS
    except NoRegionError:
        message = NO_REGION
    except BotoCoreError as error:  # ProfileNotFound, EndpointConnectionError, ...: their messages say it
        message = str(error)
    else:
        print(done)
        return 0
    print(f"error: {message}", file=sys.stderr)
    return 1


def _fetch(args: argparse.Namespace) -> str:
    """Merge the labeling set in ``args.s3_path`` into ``args.out``; return the line saying so."""
    out = _writable(Path(args.out), force=args.force)
    folder = _folder(args.s3_path)
    s3 = _session(args).client("s3")
    with _aws_errors(folder.url()):
        merged = merge_parts(s3, folder, out)
    return f"fetched {merged.summary()} into {out}"


def _export(args: argparse.Namespace) -> str:
    """Export the labels of ``args.transform_id`` into a new folder of ``args.s3_prefix``, then into ``args.out``."""
    out = _writable(Path(args.out), force=args.force)
    transform_id = _transform_id(args)
    folder = _folder(args.s3_prefix).subfolder(f"export-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}")
    session = _session(args)
    glue, s3 = session.client("glue"), session.client("s3")
    with _aws_errors(f"transform {transform_id}"):
        run_id: str = glue.start_export_labels_task_run(TransformId=transform_id, OutputS3Path=folder.url())[
            "TaskRunId"
        ]
        task_run = _wait(glue, transform_id, run_id)
    if task_run["Status"] != "SUCCEEDED":
        reason = task_run.get("ErrorString") or "Glue gave no reason"
        raise CommandError(
            f"export task run {run_id} of transform {transform_id} ended {task_run['Status']}: {reason} "
            f"(log group {task_run.get('LogGroupName', '/aws-glue/ml-transforms')})"
        )
    with _aws_errors(folder.url()):
        merged = merge_parts(s3, folder, out)
    report = validate_label_file(out)
    if report.errors or report.warnings:
        print(report.format())
    if not report.ok:
        raise CommandError(f"{out} is not a label file Glue can import: see its errors above")
    return (
        f"exported {counted(merged.rows, 'label')} in {counted(merged.labeling_sets, 'labeling set')} "
        f"of transform {transform_id} via {folder.url()} into {out}"
    )


def _history(args: argparse.Namespace) -> str:
    """The label history of ``args.transform_id``, newest first: a table, or JSON with ``args.json``."""
    transform_id = _transform_id(args)
    glue = _session(args).client("glue")
    with _aws_errors(f"transform {transform_id}"):
        entries = label_history(glue, transform_id)
    if args.json:
        return history_json(entries)
    if not entries:
        return f"transform {transform_id} has no label imports, evaluations or labeling sets"
    return history_table(entries)


def _transform_id(args: argparse.Namespace) -> str:
    """``args.transform_id`` if it is one Glue could have, or :class:`CommandError` saying what is wrong."""
    transform_id: str = args.transform_id
    problem = transform_id_problem(transform_id)
    if problem:
        raise CommandError(f"TRANSFORM_ID {transform_id!r} {problem}")
    return transform_id


def _writable(out: Path, *, force: bool) -> Path:
    """Return ``out`` if the command may write it: a new file in an existing folder, or any file with ``force``."""
    if out.is_dir():
        raise CommandError(f"{out} is a folder; name the CSV file to write")
    if out.exists() and not force:
        raise CommandError(f"{out} exists; use --force to overwrite")
    if not out.parent.is_dir():
        raise CommandError(f"folder {out.parent} of {out} does not exist")
    return out


def _folder(url: str) -> S3Folder:
    """The S3 folder ``url`` names, or :class:`CommandError` saying what is wrong with it."""
    try:
        return S3Folder.parse(url)
    except ValueError as error:
        raise CommandError(str(error)) from error


def _session(args: argparse.Namespace) -> Any:
    """A boto3 session with ``--profile`` and ``--region``, or the standard chain's."""
    return boto3.Session(profile_name=args.profile, region_name=args.region)


@contextmanager
def _aws_errors(target: str) -> Iterator[None]:
    """Turn an AWS error response into a :class:`CommandError`: its code and message, the call and ``target``."""
    try:
        yield
    except ClientError as error:
        details = error.response.get("Error", {})
        code = details.get("Code", "error")
        message = details.get("Message") or "no message"
        raise CommandError(f"{code}: {message} ({error.operation_name} on {target})") from error


def _wait(glue: Any, transform_id: str, run_id: str) -> dict[str, Any]:
    """Poll the task run ``run_id`` until it ends, showing its status on stderr; return the last GetMLTaskRun."""
    started = clock()
    progress = _Progress(f"export {run_id}", sys.stderr)
    while True:
        task_run: dict[str, Any] = glue.get_ml_task_run(TransformId=transform_id, TaskRunId=run_id)
        progress.show(task_run["Status"], clock() - started)
        if task_run["Status"] in FINAL_STATUSES:
            progress.close()
            return task_run
        sleep(POLL_SECONDS)


class _Progress:
    """A progress line: rewritten in place on a terminal, else one line per status change."""

    def __init__(self, label: str, stream: TextIO) -> None:
        self._label = label
        self._stream = stream
        self._terminal = stream.isatty()
        self._status: str | None = None
        self._width = 0

    def show(self, status: str, elapsed: float) -> None:
        """Show ``status`` after ``elapsed`` seconds."""
        line = f"{self._label}: {status}, {int(elapsed)} s"
        if self._terminal:
            self._stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        elif status != self._status:
            self._stream.write(line + "\n")
        self._status = status
        self._stream.flush()

    def close(self) -> None:
        """End the line on a terminal."""
        if self._terminal:
            self._stream.write("\n")
            self._stream.flush()
