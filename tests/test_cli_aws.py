"""The AWS commands in process on moto: `fetch` a generated labeling set, `export` a transform's labels,
`history` of its runs, and the errors AWS gives them (credentials, region, the boto3 extra)."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

import glue_label_import
import glue_label_import._handler.rules as rules
import glue_label_import.aws_commands as aws_commands
import glue_label_import.glue_output as glue_output
from glue_label_import.__main__ import main
from glue_label_import.testing import GlueMLTaskRuns
from glue_label_import.testing.examples import LABELS
from glue_label_import.testing.requests import BUCKET, create_transform
from support import FakeClock

ROUND = f"s3://{BUCKET}/labeling-sets/round-1/"
EXPORTS = f"s3://{BUCKET}/exports/"
HEADER = "labeling_set_id,label,id"  # a generation writes the transform's schema; moto's has no table: ["id"]


@pytest.fixture
def clock(task_runs: GlueMLTaskRuns, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """One fake clock for Glue's runs and the export's wait: the wait's sleeps move it on at once."""
    fake = FakeClock()
    task_runs.clock = fake
    monkeypatch.setattr(aws_commands, "clock", fake)
    monkeypatch.setattr(aws_commands, "sleep", fake.sleep)
    return fake


@pytest.fixture
def aws(clock: FakeClock) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def s3(aws: None) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def glue(aws: None) -> Any:
    return boto3.client("glue")


@pytest.fixture
def transform_id(glue: Any) -> str:
    return create_transform(glue)


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, list[str], str]:
    """Run the command line in process; return its exit status, stdout lines and stderr."""
    status = main([str(arg) for arg in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return status, out.splitlines(), err


def finish_runs(glue: Any, clock: FakeClock, transform_id: str) -> None:
    """Let the transform's runs succeed and apply what they did (GetMLTransform applies it)."""
    clock.now += 60
    glue.get_ml_transform(TransformId=transform_id)


def generate(glue: Any, clock: FakeClock, transform_id: str, output: str = ROUND) -> None:
    """A labeling-set generation into ``output`` that has succeeded: its part files are there."""
    glue.start_ml_labeling_set_generation_task_run(TransformId=transform_id, OutputS3Path=output)
    finish_runs(glue, clock, transform_id)


def import_labels(glue: Any, s3: Any, clock: FakeClock, transform_id: str, labels: str = LABELS) -> None:
    """Labels on the transform, imported from a file as Glue does."""
    s3.put_object(Bucket=BUCKET, Key="round-0.csv", Body=labels.encode())
    glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=f"s3://{BUCKET}/round-0.csv")
    finish_runs(glue, clock, transform_id)


def part(s3: Any, key: str) -> str:
    return str(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode())


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_fetch_merges_the_part_files_under_one_header(
    s3: Any, glue: Any, clock: FakeClock, transform_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generate(glue, clock, transform_id)
    out = tmp_path / "round-1.csv"

    status, lines, err = run(capsys, "fetch", ROUND.rstrip("/"), out)  # a prefix without "/" is the folder

    assert (status, err) == (0, "")
    assert lines == [f"fetched 30 rows in 3 labeling sets from 2 files (1 empty skipped) under {ROUND} into {out}"]
    first, second = (part(s3, f"labeling-sets/round-1/part-0000{n}.csv") for n in (0, 1))
    assert first.startswith(HEADER + "\n") and second.startswith(HEADER + "\n")
    assert out.read_text() == first + second.removeprefix(HEADER + "\n")
    assert [path.name for path in tmp_path.iterdir()] == ["round-1.csv"]  # no temporary file left


def test_fetch_walks_every_page_of_the_listing(
    s3: Any,
    glue: Any,
    clock: FakeClock,
    transform_id: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    generate(glue, clock, transform_id)
    monkeypatch.setattr(glue_output, "PAGE_SIZE", 1)  # one key a page: three pages

    status, lines, _ = run(capsys, "fetch", ROUND, tmp_path / "out.csv")

    assert status == 0
    assert lines[0].startswith("fetched 30 rows in 3 labeling sets from 2 files (1 empty skipped)")


def test_fetch_takes_only_the_folders_own_parts(s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for key, body in {
        "part-00000": "labeling_set_id,label,id\ns1,,1\ns1,,2\n",  # no extension: still a part
        "_SUCCESS": "not,a,part\n",
        ".part-00000.crc": "checksum",
        "round-2/part-00000.csv": "labeling_set_id,label,id\ns9,,9\n",  # a subfolder: another round
    }.items():
        s3.put_object(Bucket=BUCKET, Key=f"labeling-sets/round-1/{key}", Body=body.encode())
    out = tmp_path / "out.csv"

    status, lines, _ = run(capsys, "fetch", ROUND, out)

    assert status == 0
    assert lines == [f"fetched 2 rows in 1 labeling set from 1 file under {ROUND} into {out}"]
    assert out.read_text() == "labeling_set_id,label,id\ns1,,1\ns1,,2\n"


def test_fetch_refuses_an_existing_file_before_calling_aws_and_overwrites_it_with_force(
    s3: Any, glue: Any, clock: FakeClock, transform_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "round-1.csv"
    out.write_text("my labels\n")

    # The bucket does not exist: an AWS call would fail with NoSuchBucket.
    status, lines, err = run(capsys, "fetch", "s3://no-such-bucket/labeling-sets/", out)
    assert (status, lines, err) == (1, [], f"error: {out} exists; use --force to overwrite\n")
    assert out.read_text() == "my labels\n"

    generate(glue, clock, transform_id)
    status, lines, err = run(capsys, "fetch", ROUND, out, "--force")
    assert (status, err) == (0, "")
    assert out.read_text().startswith(HEADER + "\n")


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (
            {"part-00000.csv": "labeling_set_id,label,id\ns1,,1\n", "part-00001.csv": "labeling_set_id,id\ns2,2\n"},
            f"{ROUND}part-00001.csv has the header labeling_set_id,id, not labeling_set_id,label,id as "
            f"{ROUND}part-00000.csv",
        ),
        (
            {"part-00000.csv": "labeling_set_id,label,id\ns1,,1\n,,2\n"},
            f"{ROUND}part-00000.csv line 3: empty 'labeling_set_id'",
        ),
        (
            {"part-00000.csv": "id,label\n1,\n"},
            f"{ROUND}part-00000.csv has no 'labeling_set_id' column; its header holds: id, label",
        ),
        ({"part-00000.csv": ""}, f"no CSV files in {ROUND}, only 1 empty object"),
        (
            {"round-2/part-00000.csv": HEADER + "\ns1,,1\n"},
            f"no CSV files in {ROUND}; it holds the folders {ROUND}round-2/",
        ),
    ],
    ids=["other-header", "no-labeling-set-id", "no-labeling-set-id-column", "only-empty", "only-subfolders"],
)
def test_fetch_of_parts_that_are_no_labeling_set_names_the_object_and_writes_nothing(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], parts: dict[str, str], message: str
) -> None:
    for key, body in parts.items():
        s3.put_object(Bucket=BUCKET, Key=f"labeling-sets/round-1/{key}", Body=body.encode())

    status, lines, err = run(capsys, "fetch", ROUND, tmp_path / "out.csv")

    assert (status, lines, err) == (1, [], f"error: {message}\n")
    assert list(tmp_path.iterdir()) == []


def test_fetch_from_a_missing_bucket_shows_the_aws_error(
    s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "fetch", "s3://no-such-bucket/labeling-sets/", tmp_path / "out.csv")
    assert status == 1
    assert err == (
        "error: NoSuchBucket: The specified bucket does not exist (ListObjectsV2 on s3://no-such-bucket/labeling-sets/)\n"
    )


def test_export_writes_the_transforms_labels_into_a_new_folder_and_one_label_file(
    s3: Any,
    glue: Any,
    clock: FakeClock,
    transform_id: str,
    task_runs: GlueMLTaskRuns,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import_labels(glue, s3, clock, transform_id)
    task_runs.running_seconds = 6  # RUNNING at three polls
    out = tmp_path / "round-0.csv"

    status, lines, err = run(capsys, "export", transform_id, EXPORTS, out)

    (start,) = task_runs.calls_to("StartExportLabelsTaskRun")
    folder = start["OutputS3Path"]
    assert re.fullmatch(rf"{EXPORTS}export-\d{{8}}T\d{{6}}Z/", folder)
    (run_id,) = {call["TaskRunId"] for call in task_runs.calls_to("GetMLTaskRun")}
    assert status == 0
    assert lines == [f"exported 3 labels in 1 labeling set of transform {transform_id} via {folder} into {out}"]
    # One line per status change (stderr is no terminal), polled every POLL_SECONDS on the clock.
    assert err.splitlines() == [
        f"export {run_id}: STARTING, 0 s",
        f"export {run_id}: RUNNING, 2 s",
        f"export {run_id}: SUCCEEDED, 8 s",
    ]
    header, *rows = rows_of(out.read_text())
    assert header == rows_of(LABELS)[0]
    assert sorted(rows) == sorted(rows_of(LABELS)[1:])


def test_export_of_labels_glue_cannot_import_shows_the_report_and_fails(
    s3: Any, glue: Any, clock: FakeClock, transform_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_labels(glue, s3, clock, transform_id, "labeling_set_id,label,customer_id\ns1,A,1\ns1,,2\n")
    out = tmp_path / "round-0.csv"

    status, lines, err = run(capsys, "export", transform_id, EXPORTS, out)

    assert status == 1
    assert lines[0] == f"{out}: 1 labeling set, 2 rows"
    assert lines[1].startswith("error: line ") and lines[1].endswith(": empty 'label'")
    assert err.splitlines()[-1] == f"error: {out} is not a label file Glue can import: see its errors above"


def test_export_of_a_transform_without_labels_shows_glues_error(
    s3: Any, transform_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, lines, err = run(capsys, "export", transform_id, EXPORTS, tmp_path / "out.csv")

    assert (status, lines) == (1, [])
    assert err == (
        f"error: EntityNotFoundException: No labelset exists for transformId {transform_id} "
        f"in account id 123456789012. (StartExportLabelsTaskRun on transform {transform_id})\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_export_of_an_unknown_transform_shows_glues_error(
    s3: Any, glue: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "export", "tfm-unknown", EXPORTS, tmp_path / "out.csv")
    assert status == 1
    assert err.startswith("error: EntityNotFoundException: ")
    assert "tfm-unknown" in err


def test_a_failed_export_run_shows_glues_error_string(
    s3: Any,
    glue: Any,
    clock: FakeClock,
    transform_id: str,
    task_runs: GlueMLTaskRuns,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import_labels(glue, s3, clock, transform_id)
    task_runs.script_next_run(final_status="FAILED", error_string="Access Denied on s3://labels-bucket/exports/")

    status, _, err = run(capsys, "export", transform_id, EXPORTS, tmp_path / "out.csv")

    assert status == 1
    last = err.splitlines()[-1]
    assert re.fullmatch(
        rf"error: export task run tsk\w+ of transform {transform_id} ended FAILED: "
        r"Access Denied on s3://labels-bucket/exports/ \(log group /aws-glue/ml-transforms\)",
        last,
    )


def a_label_history(glue: Any, s3: Any, clock: FakeClock, task_runs: GlueMLTaskRuns, transform_id: str) -> list[str]:
    """Runs a minute apart: an import replacing the labels, an evaluation, a generation, an export (not
    label history), a failed import appending. Returns the task run ids of the label history, oldest first."""
    s3.put_object(Bucket=BUCKET, Key="round-1.csv", Body=LABELS.encode())
    started = [
        glue.start_import_labels_task_run(
            TransformId=transform_id, InputS3Path=f"s3://{BUCKET}/round-1.csv", ReplaceAllLabels=True
        )
    ]
    finish_runs(glue, clock, transform_id)
    started.append(glue.start_ml_evaluation_task_run(TransformId=transform_id))
    finish_runs(glue, clock, transform_id)
    started.append(glue.start_ml_labeling_set_generation_task_run(TransformId=transform_id, OutputS3Path=ROUND))
    finish_runs(glue, clock, transform_id)
    glue.start_export_labels_task_run(TransformId=transform_id, OutputS3Path=EXPORTS)
    finish_runs(glue, clock, transform_id)
    s3.put_object(Bucket=BUCKET, Key="round-2.csv", Body=LABELS.encode())
    task_runs.script_next_run(final_status="FAILED", error_string="bad label file")
    started.append(
        glue.start_import_labels_task_run(TransformId=transform_id, InputS3Path=f"s3://{BUCKET}/round-2.csv")
    )
    finish_runs(glue, clock, transform_id)
    return [response["TaskRunId"] for response in started]


def shown(clock: FakeClock, minutes_ago: int) -> str:
    """How the table shows a run started ``minutes_ago`` minutes before the clock's time."""
    return f"{datetime.fromtimestamp(clock.now - 60 * minutes_ago, tz=timezone.utc):%Y-%m-%d %H:%M:%S}"


def test_history_shows_imports_evaluations_and_labeling_sets_newest_first_from_every_page(
    glue: Any,
    s3: Any,
    clock: FakeClock,
    task_runs: GlueMLTaskRuns,
    transform_id: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    imported, evaluated, generated, failed = a_label_history(glue, s3, clock, task_runs, transform_id)
    monkeypatch.setattr(rules, "TASK_RUNS_PAGE_SIZE", 2)  # five runs: three pages
    task_runs.calls.clear()

    status, lines, err = run(capsys, "history", transform_id)

    assert (status, err) == (0, "")
    assert [line.split() for line in lines] == [
        ["STARTED", "(UTC)", "TASK", "STATUS", "TASK", "RUN", "ID", "LABELS"],
        [*shown(clock, 1).split(), "import", "FAILED", failed, "append", f"s3://{BUCKET}/round-2.csv"],
        [*shown(clock, 3).split(), "labeling", "set", "SUCCEEDED", generated, ROUND],
        [*shown(clock, 4).split(), "evaluation", "SUCCEEDED", evaluated],
        [*shown(clock, 5).split(), "import", "SUCCEEDED", imported, "replace", f"s3://{BUCKET}/round-1.csv"],
    ]
    assert len({line.index("SUCCEEDED") for line in lines if "SUCCEEDED" in line}) == 1  # aligned columns
    pages = task_runs.calls_to("GetMLTaskRuns")
    assert len(pages) == 3 and "NextToken" not in pages[0]
    assert all(page["NextToken"] for page in pages[1:]) and {page["MaxResults"] for page in pages} == {2}


def test_history_as_json(
    glue: Any,
    s3: Any,
    clock: FakeClock,
    task_runs: GlueMLTaskRuns,
    transform_id: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    imported, evaluated, generated, failed = a_label_history(glue, s3, clock, task_runs, transform_id)

    status, lines, err = run(capsys, "history", transform_id, "--json")

    assert (status, err) == (0, "")
    started = [datetime.fromtimestamp(clock.now - 60 * n, tz=timezone.utc).isoformat() for n in (1, 3, 4, 5)]
    assert json.loads("\n".join(lines)) == [
        {
            "started": started[0],
            "task": "import",
            "status": "FAILED",
            "task_run_id": failed,
            "input_s3_path": f"s3://{BUCKET}/round-2.csv",
            "replace": False,
            "error": "bad label file",
        },
        {
            "started": started[1],
            "task": "labeling set",
            "status": "SUCCEEDED",
            "task_run_id": generated,
            "output_s3_path": ROUND,
        },
        {"started": started[2], "task": "evaluation", "status": "SUCCEEDED", "task_run_id": evaluated},
        {
            "started": started[3],
            "task": "import",
            "status": "SUCCEEDED",
            "task_run_id": imported,
            "input_s3_path": f"s3://{BUCKET}/round-1.csv",
            "replace": True,
        },
    ]


def test_the_history_of_a_new_transform_is_empty(transform_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "history", transform_id) == (
        0,
        [f"transform {transform_id} has no label imports, evaluations or labeling sets"],
        "",
    )
    assert run(capsys, "history", transform_id, "--json") == (0, ["[]"], "")


def test_the_history_of_an_unknown_transform_is_one_error_line(glue: Any, capsys: pytest.CaptureFixture[str]) -> None:
    status, lines, err = run(capsys, "history", "tfm-unknown")
    assert (status, lines) == (1, [])
    assert err.startswith("error: EntityNotFoundException: ") and err.endswith(
        " (GetMLTaskRuns on transform tfm-unknown)\n"
    )
    assert err.count("\n") == 1


def test_history_help_lists_the_iam_permission(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["history", "--help"])
    assert "glue:GetMLTaskRuns   on the transform" in capsys.readouterr().out


@pytest.fixture
def no_aws_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials and no region anywhere boto3 looks (outside moto, which would set fake ones)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "empty-aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.parametrize("command", [["fetch", ROUND], ["export", "tfm-1", EXPORTS]], ids=["fetch", "export"])
def test_missing_credentials_are_one_clear_line(
    no_aws_configuration: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    status, lines, err = run(capsys, *command, tmp_path / "out.csv")
    assert (status, lines) == (1, [])
    assert err == (
        "error: no AWS credentials found: configure them (aws configure, AWS_PROFILE, or environment variables) "
        "or pass --profile\n"
    )


def test_a_missing_region_and_an_unknown_profile_are_one_clear_line(
    no_aws_configuration: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    out = tmp_path / "out.csv"

    assert run(capsys, "export", "tfm-1", EXPORTS, out)[::2] == (
        1,
        "error: no AWS region: pass --region, or set AWS_DEFAULT_REGION or a profile's region\n",
    )
    assert run(capsys, "fetch", ROUND, out, "--profile", "nope")[::2] == (
        1,
        "error: The config profile (nope) could not be found\n",
    )


def test_without_boto3_the_aws_commands_say_which_extra_to_install(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 raises ModuleNotFoundError
    monkeypatch.delitem(sys.modules, "glue_label_import.aws_commands")  # imported again, ...
    monkeypatch.delattr(glue_label_import, "aws_commands")  # ... not found on its package

    status, lines, err = run(capsys, "fetch", ROUND, tmp_path / "out.csv")

    assert (status, lines) == (1, [])
    assert err == "error: fetch needs boto3: pip install 'cdk-glue-label-import[aws]'\n"


@pytest.mark.parametrize(
    "argv", [["validate", "labels.csv"], ["fetch", "--help"], ["export", "--help"], ["history", "--help"]]
)
def test_validate_and_help_import_neither_boto3_nor_the_cdk(tmp_path: Path, argv: list[str]) -> None:
    (tmp_path / "labels.csv").write_text(LABELS)
    script = (
        "import sys\n"
        "from glue_label_import.__main__ import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'boto3', 'botocore', 'aws_cdk', 'jsii'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[-1] == "[]"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_progress_line_is_rewritten_in_place() -> None:
    stream = _Terminal()
    progress = aws_commands._Progress("export tsk1", stream)
    for status, elapsed in [("STARTING", 0.0), ("RUNNING", 2.5), ("RUNNING", 10.0), ("SUCCEEDED", 12.0)]:
        progress.show(status, elapsed)
    progress.close()
    assert stream.getvalue() == (
        "\rexport tsk1: STARTING, 0 s"
        "\rexport tsk1: RUNNING, 2 s "
        "\rexport tsk1: RUNNING, 10 s"
        "\rexport tsk1: SUCCEEDED, 12 s\n"
    )
