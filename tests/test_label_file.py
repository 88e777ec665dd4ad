"""Tests of glue_label_import.label_file and its command line."""

from __future__ import annotations

import re
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from glue_label_import.label_file import (
    MAX_PROBLEMS_IN_ERROR_MESSAGE,
    MAX_REPORTED_PROBLEMS,
    LabelFileError,
    LabelFileReport,
    Problem,
    check_label_file,
    validate_label_file,
)

HEADER = b"id,name,labeling_set_id,label\n"


def set_rows(set_id: str, size: int, first_id: int = 1, label: str = "A") -> bytes:
    """Return ``size`` CSV rows of labeling set ``set_id``, all with ``label``."""
    return b"".join(f"{first_id + n},name {first_id + n},{set_id},{label}\n".encode() for n in range(size))


def write(tmp_path: Path, content: bytes, name: str = "labels.csv") -> Path:
    """Write ``content`` to a file ``name`` in ``tmp_path`` and return its path."""
    path = tmp_path / name
    path.write_bytes(content)
    return path


def validate(tmp_path: Path, content: bytes, primary_key: str | None = None) -> LabelFileReport:
    """Validate ``content`` written to a file."""
    return validate_label_file(write(tmp_path, content), primary_key=primary_key)


def only_error(report: LabelFileReport) -> Problem:
    """Return the one error of ``report``, failing if it has another number of them."""
    assert len(report.errors) == 1, report.format()
    return report.errors[0]


VALID = HEADER + set_rows("s1", 3, 1) + set_rows("s1", 2, 4, "B") + set_rows("s2", 10, 6)


def test_valid_file_passes_with_counts(tmp_path: Path) -> None:
    report = validate(tmp_path, VALID)
    assert report.ok
    assert report.errors == ()
    assert report.warnings == ()
    assert report.columns == ("id", "name", "labeling_set_id", "label")
    assert (report.rows, report.labeling_sets) == (15, 2)
    assert report.format() == f"{tmp_path / 'labels.csv'}: 2 labeling sets, 15 rows"
    assert str(report) == report.format()


def test_crlf_line_endings_and_quoted_newlines_keep_physical_line_numbers(
    tmp_path: Path,
) -> None:
    content = b'id,name,labeling_set_id,label\r\n1,"two\r\nlines",s1,A\r\n2,b,s1,A\r\n3,c,s1\r\n'
    report = validate(tmp_path, content)
    assert str(only_error(report)) == "line 5: expected 4 fields, got 3"
    assert report.rows == 3


def test_blank_lines_are_skipped_but_counted_as_lines(tmp_path: Path) -> None:
    content = b"\n" + HEADER + b"1,a,s1,A\n\n\n2,b,s1,A\n3,c,,A\n\n"
    report = validate(tmp_path, content)
    assert (report.rows, report.labeling_sets) == (3, 1)
    assert str(only_error(report)) == "line 7: empty 'labeling_set_id'"


def test_invalid_utf8_reports_line_and_byte(tmp_path: Path) -> None:
    content = HEADER + b"1,a,s1,A\n2,Caf\xe9,s1,A\n3,c,s1,A\n"
    error = only_error(validate(tmp_path, content))
    assert error.line == 3
    assert error.message == "not valid UTF-8: byte 0xE9 at column 6"


def test_invalid_utf8_deep_in_a_large_file_reports_its_line(tmp_path: Path) -> None:
    rows = b"".join(set_rows(f"s{n}", 10, 10 * n) for n in range(10_000))
    content = HEADER + rows + b"100000,na\xefve,last,A\n" + set_rows("last", 1, 100_001)
    error = only_error(validate(tmp_path, content))
    assert error.line == 100_002
    assert "not valid UTF-8" in error.message


def test_multibyte_utf8_is_valid(tmp_path: Path) -> None:
    content = HEADER + "1,Zoë Çelik,s1,A\n2,東京,s1,A\n".encode()
    assert validate(tmp_path, content).ok


def test_byte_order_mark_is_an_error_on_line_1(tmp_path: Path) -> None:
    report = validate(tmp_path, b"\xef\xbb\xbf" + VALID)
    error = only_error(report)
    assert error.line == 1
    assert "byte-order mark" in error.message
    assert report.columns[2:] == ("labeling_set_id", "label")


def test_empty_file(tmp_path: Path) -> None:
    report = validate(tmp_path, b"")
    error = only_error(report)
    assert error == Problem(None, "file is empty: it has no header row")
    assert str(error) == "file is empty: it has no header row"
    assert (report.columns, report.rows, report.labeling_sets) == ((), 0, 0)


def test_file_of_blank_lines_is_empty(tmp_path: Path) -> None:
    assert only_error(validate(tmp_path, b"\n\r\n\n")).message.startswith("file is empty")


def test_header_without_data_rows(tmp_path: Path) -> None:
    report = validate(tmp_path, HEADER + b"\n")
    assert str(only_error(report)) == "line 1: no data rows after the header"
    assert report.columns == ("id", "name", "labeling_set_id", "label")


@pytest.mark.parametrize(
    ("header", "column"),
    [(b"id,name,set,label\n", "labeling_set_id"), (b"id,name,labeling_set_id,verdict\n", "label")],
)
def test_missing_required_column(tmp_path: Path, header: bytes, column: str) -> None:
    report = validate(tmp_path, header + set_rows("s1", 2))
    holds = header.decode().strip().replace(",", ", ")
    assert str(only_error(report)) == f"line 1: header has no '{column}' column; it holds: {holds}"


@pytest.mark.parametrize(("row", "column"), [(b"2,b,,A\n", "labeling_set_id"), (b"2,b,s1, \n", "label")])
def test_empty_required_value(tmp_path: Path, row: bytes, column: str) -> None:
    report = validate(tmp_path, HEADER + set_rows("s1", 2) + row + set_rows("s1", 1, 3))
    assert str(only_error(report)) == f"line 4: empty '{column}'"


@pytest.mark.parametrize(("row", "got"), [(b"3,c,s1\n", 3), (b"3,c,d,s1,A\n", 5)])
def test_wrong_number_of_fields(tmp_path: Path, row: bytes, got: int) -> None:
    report = validate(tmp_path, HEADER + set_rows("s1", 2) + row)
    assert str(only_error(report)) == f"line 4: expected 4 fields, got {got}"
    assert report.rows == 3


def test_malformed_quoting_is_reported_and_parsing_goes_on(tmp_path: Path) -> None:
    content = HEADER + b'1,"a"b,s1,A\n2,b,s1,A\n3,c,s1\n'
    report = validate(tmp_path, content)
    assert [problem.line for problem in report.errors] == [2, 4]
    assert report.errors[0].message.startswith("malformed CSV")


@pytest.mark.parametrize("size", [2, 10, 30])
def test_acceptable_set_sizes_are_clean(tmp_path: Path, size: int) -> None:
    report = validate(tmp_path, HEADER + set_rows("s1", size))
    assert report.ok
    assert report.warnings == ()


def test_single_row_set_warns(tmp_path: Path) -> None:
    report = validate(tmp_path, HEADER + set_rows("s1", 2) + set_rows("lonely", 1, 3))
    assert report.ok
    assert [str(warning) for warning in report.warnings] == [
        (
            "line 4: labeling set 'lonely' has 1 row, fewer than the 2-30 Glue accepts; "
            "it cannot learn from a single-row set"
        )
    ]


@pytest.mark.parametrize("size", [31, 50])
def test_large_set_warns(tmp_path: Path, size: int) -> None:
    report = validate(tmp_path, HEADER + set_rows("s1", 2) + set_rows("big", size, 3))
    assert report.ok
    assert [str(warning) for warning in report.warnings] == [
        (f"line 4: labeling set 'big' has {size} rows, more than the 2-30 Glue accepts; the import may fail")
    ]


def test_set_over_50_rows_is_an_error_at_its_first_row(tmp_path: Path) -> None:
    content = HEADER + set_rows("s1", 2) + set_rows("huge", 40, 3) + set_rows("huge", 11, 43, "B")
    report = validate(tmp_path, content)
    assert not report.ok
    assert report.warnings == ()
    assert str(only_error(report)) == ("line 4: labeling set 'huge' has 51 rows; Glue may fail on sets of more than 50")


def test_interleaved_sets_are_counted_together(tmp_path: Path) -> None:
    content = HEADER + set_rows("a", 1) + set_rows("b", 2, 2) + set_rows("a", 1, 4)
    report = validate(tmp_path, content)
    assert (report.labeling_sets, report.warnings) == (2, ())


def test_primary_key_present(tmp_path: Path) -> None:
    assert validate(tmp_path, VALID, primary_key="id").ok


def test_primary_key_missing(tmp_path: Path) -> None:
    report = validate(tmp_path, VALID, primary_key="customer_id")
    assert str(only_error(report)) == (
        "line 1: header has no 'customer_id' primary key column; it holds: id, name, labeling_set_id, label"
    )


def test_problems_beyond_the_limit_are_counted_not_kept(tmp_path: Path) -> None:
    bad_rows = MAX_REPORTED_PROBLEMS + 50
    report = validate(tmp_path, HEADER + b"1,a,,A\n" * bad_rows)
    assert len(report.errors) == MAX_REPORTED_PROBLEMS
    assert report.omitted_errors == 50
    assert report.errors[-1].line == MAX_REPORTED_PROBLEMS + 1
    assert report.format().splitlines()[-1] == "error: ... and 50 more"


def test_large_file_validates(tmp_path: Path) -> None:
    sets = 20_000
    rows = b"".join(set_rows(f"set-{n}", 10, 10 * n, "AB"[n % 2]) for n in range(sets))
    report = validate(tmp_path, HEADER + rows)
    assert report.ok
    assert report.warnings == ()
    assert (report.rows, report.labeling_sets) == (10 * sets, sets)


def test_check_label_file_returns_report_with_warnings(tmp_path: Path) -> None:
    report = check_label_file(write(tmp_path, HEADER + set_rows("s1", 1)))
    assert report.ok
    assert len(report.warnings) == 1


def test_check_label_file_raises_value_error_listing_first_errors(tmp_path: Path) -> None:
    extra = 5
    path = write(tmp_path, HEADER + b"1,a,s1,\n" * (MAX_PROBLEMS_IN_ERROR_MESSAGE + extra))
    with pytest.raises(ValueError, match="not a valid Glue label file") as raised:
        check_label_file(path)
    assert isinstance(raised.value, LabelFileError)
    lines = str(raised.value).splitlines()
    assert lines[0] == f"{path} is not a valid Glue label file (15 errors):"
    assert lines[1] == "  line 2: empty 'label'"
    assert lines[MAX_PROBLEMS_IN_ERROR_MESSAGE] == "  line 11: empty 'label'"
    assert lines[-1] == f"  ... and {extra} more"
    assert raised.value.report is not None
    assert raised.value.report.rows == 15


def test_check_label_file_counts_errors_omitted_from_the_report(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + b"1,a,,A\n" * (MAX_REPORTED_PROBLEMS + 7))
    with pytest.raises(LabelFileError) as raised:
        check_label_file(path)
    lines = str(raised.value).splitlines()
    assert lines[0].endswith("(107 errors):")
    assert lines[-1] == f"  ... and {107 - MAX_PROBLEMS_IN_ERROR_MESSAGE} more"


def test_check_label_file_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    with pytest.raises(FileNotFoundError):
        validate_label_file(path)
    with pytest.raises(LabelFileError, match=r"absent\.csv") as raised:
        check_label_file(path)
    assert raised.value.report is None


def test_check_label_file_directory(tmp_path: Path) -> None:
    with pytest.raises(LabelFileError, match=re.escape(str(tmp_path))):
        check_label_file(tmp_path)


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m glue_label_import`` with ``args``."""
    return subprocess.run(
        [sys.executable, "-m", "glue_label_import", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


ORDER_WARNING = (
    "warning: Glue requires labeling_set_id,label as the first two columns, and the header starts with id,name:"
    " LabelSource.from_asset and from_directory put them first when they stage the file; a file imported from S3"
    " must have them first"
)


def test_cli_valid_file_exits_0(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + set_rows("s1", 3) + set_rows("s2", 1, 4))
    result = run_cli("validate", path, "--primary-key", "id")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{path}: 2 labeling sets, 4 rows",
        (
            "warning: line 5: labeling set 's2' has 1 row, fewer than the 2-30 Glue accepts; "
            "it cannot learn from a single-row set"
        ),
        ORDER_WARNING,
    ]


def test_cli_invalid_file_exits_1(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + set_rows("s1", 3) + b"4,d,s1\n")
    result = run_cli("validate", path, "--primary-key", "customer_id")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}: 1 labeling set, 4 rows",
        "error: line 1: header has no 'customer_id' primary key column; it holds: id, name, labeling_set_id, label",
        "error: line 5: expected 4 fields, got 3",
        ORDER_WARNING,
    ]


def test_cli_missing_file_exits_1(tmp_path: Path) -> None:
    result = run_cli("validate", tmp_path / "absent.csv")
    assert result.returncode == 1
    assert "absent.csv" in result.stderr
    assert result.stdout == ""


def test_validation_streams_a_file_far_larger_than_the_memory_it_uses(tmp_path: Path) -> None:
    padding = "x" * 480
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as file:
        file.write("id,name,labeling_set_id,label\n")
        for n in range(40_000):
            file.write(f"{n},{padding},s{n // 10},A\n")
    tracemalloc.start()
    try:
        report = validate_label_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.ok and report.rows == 40_000 and report.labeling_sets == 4_000
    assert path.stat().st_size > 19_000_000
    assert peak < 4_000_000  # a small fraction of the 19 MB file: it was never read whole


def test_a_header_that_repeats_a_column_is_an_error_naming_it_and_its_places(tmp_path: Path) -> None:
    report = validate(tmp_path, b"id,name,labeling_set_id,label,name\n" + b"1,a,s1,A,b\n2,b,s1,A,c\n")
    assert (
        str(only_error(report)) == "line 1: header repeats column 'name' (columns 2, 5); each column must be named once"
    )
    with pytest.raises(LabelFileError, match=r"line 1: header repeats column 'id' \(columns 1, 4\)"):
        check_label_file(write(tmp_path, b"id,labeling_set_id,label,id\n1,s1,A,1\n2,s1,A,2\n", "again.csv"))


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (HEADER + b'1,"a,s1,A\n2,b,s1,A\n', 2),  # the only data row never ends: no "no data rows" besides
        (HEADER + set_rows("s1", 2) + b'3,"c,s1,A\n4,d,s1,A\n', 4),
        (b'"id,name,labeling_set_id,label\n1,a,s1,A\n', 1),  # the header never ends: no "file is empty" besides
    ],
)
def test_an_unterminated_quote_is_one_error_at_the_line_it_opens(tmp_path: Path, content: bytes, line: int) -> None:
    report = validate(tmp_path, content)
    assert (
        str(only_error(report)) == f"line {line}: malformed CSV: a quoted field opens on this line and is never closed"
    )
