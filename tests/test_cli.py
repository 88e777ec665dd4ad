"""The command line offline: ``glue-label-import validate PATH...`` on files and folders, and ``--version``.

The rest of the command line: ``fetch``, ``export`` and ``history`` in test_cli_aws.py, ``label`` in
test_label_command.py (and its interface in test_labeler.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from glue_label_import.__main__ import main

HEADER = "labeling_set_id,label,id,name\n"
ROUND = HEADER + "s1,A,1,a\ns1,B,2,b\ns2,A,3,c\ns2,A,4,d\n"


def folder_of(tmp_path: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (name: content) into the folder ``labels`` under ``tmp_path``."""
    folder = tmp_path / "labels"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, list[str], str]:
    """Run the command line in process; return its exit status, stdout lines and stderr."""
    status = main(["validate", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def test_a_folder_is_reported_per_file_and_merged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = folder_of(tmp_path, {"round-2.csv": ROUND.replace("s2", "s3"), "round-1.csv": ROUND, "x.txt": ""})
    status, out, err = run(capsys, folder, "--primary-key", "id")
    assert (status, err) == (0, "")
    assert out == [
        f"{folder / 'round-1.csv'}: 2 labeling sets, 4 rows",
        f"{folder / 'round-2.csv'}: 2 labeling sets, 4 rows",
        "merged: 2 files, 4 labeling sets, 8 rows, 166 bytes",
        "merged: 1 labeling set id in more than one file, made unique by prefixing each with its file's name "
        "and '/': 's1'",
    ]


def test_files_and_folders_mix_and_the_pattern_chooses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = folder_of(tmp_path, {"round-1.csv": ROUND, "draft.csv": "broken"})
    other = tmp_path / "extra.csv"
    other.write_text(ROUND.replace("s1", "t1").replace("s2", "t2"), encoding="utf-8")
    status, out, _ = run(capsys, folder, other, "--pattern", "round-*.csv")
    assert status == 0
    assert out == [
        f"{folder / 'round-1.csv'}: 2 labeling sets, 4 rows",
        f"{other}: 2 labeling sets, 4 rows",
        "merged: 2 files, 4 labeling sets, 8 rows, 158 bytes",
    ]


def test_a_missing_column_shows_what_the_header_holds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = folder_of(
        tmp_path, {"a.csv": ROUND, "b.csv": ROUND.replace("labeling_set_id,label,", "labeling_set_id,Label,")}
    )
    status, out, _ = run(capsys, folder)
    assert status == 1
    assert out == [
        f"{folder / 'a.csv'}: 2 labeling sets, 4 rows",
        f"{folder / 'b.csv'}: 2 labeling sets, 4 rows",
        "error: line 1: header has no 'label' column; it holds: labeling_set_id, Label, id, name",
        "merged: not built, 1 of 2 files cannot be imported",
    ]


def test_files_with_other_columns_fail_the_merge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = ROUND.replace(",id,name\n", ",id,full_name\n")
    folder = folder_of(tmp_path, {"a.csv": ROUND, "b.csv": other})
    status, out, _ = run(capsys, folder)
    assert status == 1
    assert out[-1] == (
        f"merged: error: label file {folder / 'b.csv'} has other columns than {folder / 'a.csv'}: "
        "it lacks name and has besides full_name (every file of a folder needs the same columns, in any order)"
    )


def test_a_file_whose_first_columns_are_not_glues_is_valid_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "round-1.csv"
    path.write_text("id,name,labeling_set_id,label\n1,a,s1,A\n2,b,s1,B\n", encoding="utf-8")
    status, out, _ = run(capsys, path)
    assert (status, out) == (
        0,
        [
            f"{path}: 1 labeling set, 2 rows",
            "warning: Glue requires labeling_set_id,label as the first two columns, and the header starts with"
            " id,name: LabelSource.from_asset and from_directory put them first when they stage the file; a file"
            " imported from S3 must have them first",
        ],
    )


def test_a_folder_without_label_files_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = folder_of(tmp_path, {"notes.txt": ""})
    status, out, err = run(capsys, folder)
    assert (status, out) == (1, [])
    assert err == f"error: label folder {str(folder)!r} has no file matching '*.csv'\n"


def test_the_example_labels_validate_from_the_console_script() -> None:
    labels = Path(__file__).parent.parent / "labels"
    result = subprocess.run(
        [sys.executable, "-m", "glue_label_import", "validate", str(labels), "--primary-key", "customer_id"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"{labels / 'round-1.csv'}: 5 labeling sets, 60 rows",
        f"{labels / 'round-2.csv'}: 5 labeling sets, 59 rows",
        "merged: 2 files, 10 labeling sets, 119 rows, 14,984 bytes",
    ]
    assert lines[3].endswith("'set-01', 'set-02', 'set-03', 'set-04', 'set-05'")


@pytest.mark.parametrize(
    ("prog", "command"),
    [
        ("glue-label-import", [str(Path(sys.executable).parent / "glue-label-import")]),
        ("python -m glue_label_import", [sys.executable, "-m", "glue_label_import"]),
    ],
)
def test_version_prints_the_installed_version(prog: str, command: list[str]) -> None:
    from glue_label_import import __version__

    result = subprocess.run([*command, "--version"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{prog} {__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__), __version__
