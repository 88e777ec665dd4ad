"""Validate AWS Glue FindMatches label files before they are imported.

Glue's labeling file format (AWS Glue Developer Guide, "Labeling File Format") is CSV in
UTF-8 without a byte-order mark. Its header holds a ``labeling_set_id`` and a ``label``
column next to the source table's columns. Rows of one labeling set that share a label
match; rows of the same set with different labels do not. Glue recommends 10-20 rows per
labeling set, accepts 2-30 and may fail on sets of more than 50.

The file is streamed: it is read one line at a time, and beyond the current row only the
row count of each labeling set (and the line of its first row) is kept, so memory grows
with the number of labeling sets, not the size of the file. Line numbers are physical lines of the
file, counted from 1; a row whose quoted field spans several lines is reported at the line
it starts on. Blank lines are skipped wherever they appear: they are neither the header
nor rows, so they are not counted and cannot be malformed. Each line holding bytes that are
not UTF-8 is an error at that line, naming the first such byte, and validation goes on.
"""

from __future__ import annotations

import csv
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from glue_label_import._handler.rules import LABEL_COLUMN, LABEL_FILE_COLUMNS, LABELING_SET_ID_COLUMN

MAX_ROWS_PER_SET = 50
"""Labeling sets with more rows than this may make the Glue import fail: an error."""

ACCEPTABLE_ROWS_PER_SET = range(2, 31)
"""Row counts Glue accepts per labeling set; other counts up to the maximum are warnings."""

MAX_REPORTED_PROBLEMS = 100
"""Errors, and separately warnings, kept in a report; further ones are only counted."""

MAX_PROBLEMS_IN_ERROR_MESSAGE = 10
"""Errors spelled out in a :class:`LabelFileError` message; further ones are only counted."""

_BYTE_ORDER_MARK = "\ufeff"

_END_OF_DATA = "unexpected end of data"
"""What :mod:`csv` says of a quoted field still open at the end of the file."""

# Decoded with errors="surrogateescape", each byte that is not valid UTF-8 becomes a lone
# surrogate U+DC80..U+DCFF, which valid UTF-8 can never produce.
_UNDECODABLE_BYTE = re.compile("[\udc80-\udcff]")
_SURROGATE_ESCAPE_OFFSET = 0xDC00


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a label file, at a line of it when there is one."""

    line: int | None
    message: str

    def __str__(self) -> str:
        """Return ``"line 7: message"``, or just the message when there is no line."""
        return self.message if self.line is None else f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class LabelFileReport:
    """What validating a label file found.

    ``errors`` and ``warnings`` hold at most :data:`MAX_REPORTED_PROBLEMS` problems each;
    ``omitted_errors`` and ``omitted_warnings`` count those found beyond them.
    """

    path: str
    columns: tuple[str, ...]
    rows: int
    labeling_sets: int
    errors: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    omitted_errors: int = 0
    omitted_warnings: int = 0

    @property
    def ok(self) -> bool:
        """Whether Glue can import the file: it has no errors, though it may have warnings."""
        return not self.errors

    def format(self) -> str:
        """Return a short human report: a summary line, then one line per problem."""
        summary = f"{self.path}: {counted(self.labeling_sets, 'labeling set')}, {counted(self.rows, 'row')}"
        return "\n".join(
            [
                summary,
                *_problem_lines(self.errors, self.omitted_errors, "error: "),
                *_problem_lines(self.warnings, self.omitted_warnings, "warning: "),
            ]
        )

    def __str__(self) -> str:
        """Return :meth:`format`."""
        return self.format()


class LabelFileError(ValueError):
    """A label file that Glue cannot import, or that cannot be read at all."""

    def __init__(self, message: str, report: LabelFileReport | None = None) -> None:
        """Carry ``message`` and, when the file could be read, its ``report``."""
        super().__init__(message)
        self.report = report


def validate_label_file(
    path: str | os.PathLike[str], *, primary_key: str | None = None, to_label: bool = False
) -> LabelFileReport:
    """Check that ``path`` is a label file Glue can import, and report what is wrong.

    ``primary_key``, when given, is a column the header must have. ``to_label`` (default
    False) checks a labeling set still to label, as ``glue-label-import fetch`` writes it: its
    ``label`` column may be empty, or missing. Problems in the file
    are reported, never raised; a file that cannot be opened raises the usual
    :class:`OSError` (such as :class:`FileNotFoundError` or :class:`IsADirectoryError`).
    """
    path_text = os.fspath(path)
    scan = _Scan(primary_key, to_label=to_label)
    with open(path_text, encoding="utf-8", errors="surrogateescape", newline="") as text:
        scan.run(text)
    return scan.report(path_text)


def check_label_file(path: str | os.PathLike[str], *, primary_key: str | None = None) -> LabelFileReport:
    """Validate ``path`` like :func:`validate_label_file`, raising if Glue cannot import it.

    Returns the report, warnings included, of a valid file. Raises :class:`LabelFileError`
    naming the file and its first errors, or naming the file when it cannot be read.
    """
    path_text = os.fspath(path)
    try:
        report = validate_label_file(path_text, primary_key=primary_key)
    except OSError as error:
        raise LabelFileError(f"cannot read label file {path_text}: {error.strerror or error}") from error
    if not report.ok:
        raise LabelFileError(_error_message(report), report)
    return report


def non_blank_records(path: str | os.PathLike[str]) -> Iterator[list[str]]:
    """Yield the non-blank CSV records of ``path`` (UTF-8, strict), header first."""
    with open(path, encoding="utf-8", newline="") as text:
        for record in csv.reader(text, strict=True):
            if record:
                yield record


def read_header(path: str | os.PathLike[str]) -> list[str] | None:
    """The first non-blank CSV record of ``path`` (its header), or None when it cannot be read as one."""
    try:
        return next(non_blank_records(path), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return None


def in_glue_order(columns: Sequence[str]) -> bool:
    """Whether a header starts with ``labeling_set_id,label``, as Glue requires."""
    return tuple(columns[: len(LABEL_FILE_COLUMNS)]) == LABEL_FILE_COLUMNS


def column_order_warning(columns: Sequence[str]) -> str | None:
    """What to tell of a header that has ``labeling_set_id`` and ``label`` but not as its first two columns."""
    if not set(LABEL_FILE_COLUMNS) <= set(columns) or in_glue_order(columns):
        return None
    return (
        f"Glue requires {','.join(LABEL_FILE_COLUMNS)} as the first two columns, and the header starts with "
        f"{','.join(columns[: len(LABEL_FILE_COLUMNS)])}: LabelSource.from_asset and from_directory put them first "
        "when they stage the file; a file imported from S3 must have them first"
    )


def glue_column_order(columns: Sequence[str]) -> list[int]:
    """The indexes of ``columns`` in Glue's order: ``labeling_set_id``, ``label`` (those present), then the rest
    in their order."""
    first = [columns.index(name) for name in LABEL_FILE_COLUMNS if name in columns]
    return first + [index for index in range(len(columns)) if index not in first]


def _error_message(report: LabelFileReport) -> str:
    """Describe why Glue cannot import the file of ``report``."""
    total = len(report.errors) + report.omitted_errors
    shown = report.errors[:MAX_PROBLEMS_IN_ERROR_MESSAGE]
    return "\n".join(
        [
            f"{report.path} is not a valid Glue label file ({counted(total, 'error')}):",
            *_problem_lines(shown, total - len(shown), "  "),
        ]
    )


def _problem_lines(problems: Sequence[Problem], omitted: int, prefix: str) -> list[str]:
    """Return a ``prefix``-ed line per problem, then one counting the ``omitted`` ones."""
    lines = [f"{prefix}{problem}" for problem in problems]
    if omitted:
        lines.append(f"{prefix}... and {omitted} more")
    return lines


def counted(number: int, noun: str) -> str:
    """Return ``"1 row"``, ``"2 rows"`` and so on."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


class _Problems:
    """Problems of one kind: the first :data:`MAX_REPORTED_PROBLEMS` kept, all counted."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.omitted = 0

    def add(self, line: int | None, message: str) -> None:
        """Record a problem at ``line``."""
        if len(self.kept) < MAX_REPORTED_PROBLEMS:
            self.kept.append(Problem(line, message))
        else:
            self.omitted += 1


class _Scan:
    """One pass over a label file, collecting its counts and problems."""

    def __init__(self, primary_key: str | None, *, to_label: bool) -> None:
        self._primary_key = primary_key
        self._required = (LABELING_SET_ID_COLUMN,) if to_label else (LABELING_SET_ID_COLUMN, LABEL_COLUMN)
        self._errors = _Problems()
        self._warnings = _Problems()
        self._columns: tuple[str, ...] = ()
        self._header_line = 0
        self._required_indexes: dict[str, int] = {}
        self._rows = 0
        self._malformed = False
        self._set_sizes: dict[str, int] = {}
        self._set_first_lines: dict[str, int] = {}

    def run(self, text: Iterable[str]) -> None:
        """Check the lines of a label file, as read with ``newline=""``."""
        records = self._records(text)
        header = next(records, None)
        if header is None:
            if not self._malformed:  # a quote never closed took every line: that is the one error
                self._errors.add(None, "file is empty: it has no header row")
            return
        self._read_header(*header)
        for line, record in records:
            self._read_row(line, record)
        if not self._rows and not self._malformed:
            self._errors.add(self._header_line, "no data rows after the header")
        self._check_set_sizes()

    def report(self, path: str) -> LabelFileReport:
        """Return the report of what :meth:`run` found in the file at ``path``."""
        return LabelFileReport(
            path=path,
            columns=self._columns,
            rows=self._rows,
            labeling_sets=len(self._set_sizes),
            errors=tuple(self._errors.kept),
            warnings=tuple(self._warnings.kept),
            omitted_errors=self._errors.omitted,
            omitted_warnings=self._warnings.omitted,
        )

    def _records(self, text: Iterable[str]) -> Iterator[tuple[int, list[str]]]:
        """Yield each non-blank CSV record with the line it starts on.

        Malformed CSV is reported at the line where the parser gave up, and parsing goes on
        from the next line; a quote never closed is reported once, at the line it opens on.
        """
        reader = csv.reader(self._decoded_lines(text), strict=True)
        while True:
            start = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                self._malformed = True
                if str(error) == _END_OF_DATA:
                    self._errors.add(start, "malformed CSV: a quoted field opens on this line and is never closed")
                    return
                self._errors.add(reader.line_num, f"malformed CSV: {error}")
                continue
            if record:
                yield start, record

    def _decoded_lines(self, text: Iterable[str]) -> Iterator[str]:
        """Yield the lines of ``text``, reporting a byte-order mark and bytes not UTF-8."""
        for number, raw in enumerate(text, start=1):
            line = raw
            if number == 1 and raw.startswith(_BYTE_ORDER_MARK):
                self._errors.add(number, "file starts with a UTF-8 byte-order mark; Glue needs UTF-8 without one")
                line = raw[len(_BYTE_ORDER_MARK) :]
            undecodable = _UNDECODABLE_BYTE.search(line)
            if undecodable:
                byte = ord(undecodable.group()) - _SURROGATE_ESCAPE_OFFSET
                self._errors.add(
                    number,
                    f"not valid UTF-8: byte 0x{byte:02X} at column {undecodable.start() + 1}",
                )
            yield line

    def _read_header(self, line: int, record: list[str]) -> None:
        """Take ``record`` as the header, checking it has the columns Glue needs."""
        self._columns = tuple(record)
        self._header_line = line
        holds = f"; it holds: {', '.join(record)}"
        for name, count in Counter(record).items():
            if count > 1:
                places = ", ".join(str(index + 1) for index, column in enumerate(record) if column == name)
                self._errors.add(
                    line, f"header repeats column {name!r} (columns {places}); each column must be named once"
                )
        for name in self._required:
            if name in record:
                self._required_indexes[name] = record.index(name)
            else:
                self._errors.add(line, f"header has no {name!r} column{holds}")
        if self._primary_key is not None and self._primary_key not in record:
            self._errors.add(line, f"header has no {self._primary_key!r} primary key column{holds}")

    def _read_row(self, line: int, record: list[str]) -> None:
        """Check a data row and count it in its labeling set."""
        self._rows += 1
        if len(record) != len(self._columns):
            self._errors.add(line, f"expected {len(self._columns)} fields, got {len(record)}")
            return
        for name, index in self._required_indexes.items():
            if not record[index].strip():
                self._errors.add(line, f"empty {name!r}")
        set_index = self._required_indexes.get(LABELING_SET_ID_COLUMN)
        if set_index is not None and record[set_index].strip():
            self._count_in_set(record[set_index], line)

    def _count_in_set(self, set_id: str, line: int) -> None:
        """Count a row at ``line`` in labeling set ``set_id``."""
        size = self._set_sizes.get(set_id, 0)
        if not size:
            self._set_first_lines[set_id] = line
        self._set_sizes[set_id] = size + 1

    def _check_set_sizes(self) -> None:
        """Report labeling sets of sizes Glue may not learn from or may fail on."""
        acceptable = f"{ACCEPTABLE_ROWS_PER_SET.start}-{ACCEPTABLE_ROWS_PER_SET.stop - 1}"
        for set_id, size in self._set_sizes.items():
            line = self._set_first_lines[set_id]
            rows = counted(size, "row")
            if size > MAX_ROWS_PER_SET:
                self._errors.add(
                    line,
                    f"labeling set {set_id!r} has {rows}; Glue may fail on sets of more than {MAX_ROWS_PER_SET}",
                )
            elif size < ACCEPTABLE_ROWS_PER_SET.start:
                self._warnings.add(
                    line,
                    f"labeling set {set_id!r} has {rows}, fewer than the {acceptable} "
                    "Glue accepts; it cannot learn from a single-row set",
                )
            elif size not in ACCEPTABLE_ROWS_PER_SET:
                self._warnings.add(
                    line,
                    f"labeling set {set_id!r} has {rows}, more than the {acceptable} Glue accepts; the import may fail",
                )
