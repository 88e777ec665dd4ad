"""A folder of label files merged into one: the labels of a transform declared as a set.

Every file matching a pattern in a folder (not its subfolders), in name order, becomes one
CSV file Glue can import: one header, then every row of every file. Labels mean something
only inside their labeling set, and two labeling rounds can reuse a ``labeling_set_id``, so
each id is prefixed with the name of its file without the extension and a ``/``: set ``s1`` of
``round-1.csv`` becomes ``round-1/s1``. Two files of one folder cannot have the same name,
so rows of different files never share a labeling set.

The merge streams: one row at a time is held, plus the labeling set ids of each file. Its
output depends only on the files' names and content, so the same folder always gives the
same bytes (and the same asset hash).
"""

from __future__ import annotations

import csv
import dataclasses
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from glue_label_import._handler.rules import LABELING_SET_ID_COLUMN
from glue_label_import.label_file import glue_column_order, non_blank_records
from glue_label_import.staging import stage_file

DEFAULT_PATTERN = "*.csv"
"""The files of a folder that are label files, unless told otherwise."""

MAX_LABEL_FILE_BYTES = 10_000_000
"""Glue's limit on a label file, 10 MB: a merged file larger than this is refused."""

SET_ID_SEPARATOR = "/"
"""Between a file's name and a labeling set id of it, in a merged file."""


@dataclass(frozen=True)
class MergedLabelSet:
    """What merging label files produced."""

    path: Path
    """The merged file."""
    files: tuple[Path, ...]
    """The files merged, in order."""
    columns: tuple[str, ...]
    """The merged file's header: ``labeling_set_id,label``, then the norm's other columns in their first order."""
    rows: int
    """Data rows of all files."""
    labeling_sets: int
    """Labeling sets of the merged file (each file's sets, made unique by the prefix)."""
    shared_set_ids: tuple[str, ...]
    """Labeling set ids found in more than one file, made unique by the prefix; sorted."""
    size: int
    """Bytes of the merged file."""


def label_files_in(folder: str | os.PathLike[str], *, pattern: str = DEFAULT_PATTERN) -> list[Path]:
    """Return the files of ``folder`` matching ``pattern`` (default ``*.csv``), in name order.

    Subfolders are not searched, and folders matching the pattern are left out.

    :raises TypeError: ``folder`` is not a path or ``pattern`` not a string.
    :raises ValueError: ``folder`` does not exist or is not a folder, ``pattern`` is empty or
        holds a path separator, or no file matches.
    """
    if not isinstance(folder, (str, os.PathLike)):
        raise TypeError(f"label folder must be a path (str or os.PathLike), got {type(folder).__name__}: {folder!r}")
    if not isinstance(pattern, str):
        raise TypeError(f"pattern must be a str, got {type(pattern).__name__}: {pattern!r}")
    if not pattern or "/" in pattern or os.sep in pattern:
        raise ValueError(f"pattern {pattern!r} must be a non-empty file name pattern, without a path separator")
    path = Path(folder)
    if not path.exists():
        raise ValueError(f"label folder {os.fspath(folder)!r} does not exist (resolved to {path.resolve()})")
    if not path.is_dir():
        raise ValueError(f"label folder {os.fspath(folder)!r} is not a folder")
    files = sorted((file for file in path.glob(pattern) if file.is_file()), key=lambda file: file.name)
    if not files:
        raise ValueError(f"label folder {os.fspath(folder)!r} has no file matching {pattern!r}")
    return files


def set_id_prefix(file: Path) -> str:
    """Return what the labeling set ids of ``file`` are prefixed with: ``round-1/`` for ``round-1.csv``."""
    return f"{file.stem}{SET_ID_SEPARATOR}"


def merge_label_files(
    files: Sequence[Path],
    output: Path,
    *,
    max_bytes: int = MAX_LABEL_FILE_BYTES,
) -> MergedLabelSet:
    """Write ``files`` merged into one label file at ``output``, and describe it.

    The files must be label files Glue can import (see
    :func:`~glue_label_import.label_file.check_label_file`). Each labeling set id is prefixed
    by :func:`set_id_prefix`. The columns most files have (in any order; on a tie, the first
    file's) are the norm. The merged file starts with ``labeling_set_id,label``, as Glue
    requires, then the norm's other columns in the order of the first file that has them; each
    file's columns are put in that order. Rows are written with the :mod:`csv` module (minimal
    quoting, ``\\n`` line endings); blank lines are left out.

    :raises ValueError: no files; two files of the same name but for the extension (their
        ids would get the same prefix); a file whose columns are not the norm (naming the file,
        the columns it lacks and those it has besides, and files that have the norm); or a merged file larger than
        ``max_bytes`` (default :data:`MAX_LABEL_FILE_BYTES`; stating both sizes).
    """
    if not files:
        raise ValueError("no label files to merge")
    _check_prefixes_differ(files)
    headers = [_header(file) for file in files]
    norm, norm_files = _norm(files, headers)
    columns = tuple(norm[index] for index in glue_column_order(norm))
    orders = [_column_order(file, header, columns, norm_files) for file, header in zip(files, headers, strict=True)]
    if LABELING_SET_ID_COLUMN not in columns:
        raise ValueError(f"label file {norm_files[0]} has no {LABELING_SET_ID_COLUMN!r} column")
    set_index = columns.index(LABELING_SET_ID_COLUMN)
    rows = 0
    labeling_sets = 0
    files_of_id: Counter[str] = Counter()
    with open(output, "w", encoding="utf-8", newline="") as text:
        writer = _CountingWriter(text, max_bytes)
        csv_writer = csv.writer(writer, lineterminator="\n")
        csv_writer.writerow(columns)
        for file, order in zip(files, orders, strict=True):
            records = non_blank_records(file)
            next(records, None)  # the header
            prefix = set_id_prefix(file)
            set_ids: set[str] = set()
            for record in records:
                row = [record[index] for index in order]
                set_ids.add(row[set_index])
                row[set_index] = prefix + row[set_index]
                csv_writer.writerow(row)
                rows += 1
            labeling_sets += len(set_ids)
            files_of_id.update(set_ids)
    if writer.size > max_bytes:
        raise ValueError(
            f"the label files merged would be {writer.size:,} bytes, over Glue's label file limit "
            f"of {max_bytes:,} bytes (10 MB): {', '.join(str(file) for file in files)}"
        )
    return MergedLabelSet(
        path=output,
        files=tuple(files),
        columns=columns,
        rows=rows,
        labeling_sets=labeling_sets,
        shared_set_ids=tuple(sorted(set_id for set_id, count in files_of_id.items() if count > 1)),
        size=writer.size,
    )


def stage_merged_label_files(
    files: Sequence[Path], staging: Path, *, max_bytes: int = MAX_LABEL_FILE_BYTES
) -> MergedLabelSet:
    """Merge ``files`` (see :func:`merge_label_files`) into a file under the folder ``staging``.

    The merged file is ``staging/<sha256 of its content>/<name of the files' folder>.csv``:
    the same files always give the same path and the same bytes.
    """
    name = f"{files[0].resolve().parent.name or 'labels'}.csv"
    path, merged = stage_file(staging, name, lambda output: merge_label_files(files, output, max_bytes=max_bytes))
    return dataclasses.replace(merged, path=path)


def _check_prefixes_differ(files: Sequence[Path]) -> None:
    """Raise when two of ``files`` would prefix their labeling set ids alike."""
    first_of_prefix: dict[str, Path] = {}
    for file in files:
        other = first_of_prefix.setdefault(set_id_prefix(file), file)
        if other is not file:
            raise ValueError(
                f"label files {other} and {file} have the same name but for the extension, so the "
                f"labeling set ids of both would be prefixed {set_id_prefix(file)!r}: rename one"
            )


def _header(file: Path) -> tuple[str, ...]:
    """Return the header of ``file``: its first non-blank CSV record."""
    return tuple(next(non_blank_records(file), []))


def _norm(files: Sequence[Path], headers: Sequence[tuple[str, ...]]) -> tuple[tuple[str, ...], list[Path]]:
    """Return the columns most ``files`` have (on a tie, the first file's), and the files that have them.

    The columns are in the order of the first file that has them.
    """
    kinds = Counter(tuple(sorted(header)) for header in headers)
    most = max(kinds.values())
    norm = next(kind for kind in (tuple(sorted(header)) for header in headers) if kinds[kind] == most)
    norm_files = [file for file, header in zip(files, headers, strict=True) if tuple(sorted(header)) == norm]
    return headers[files.index(norm_files[0])], norm_files


MAX_NAMED_FILES = 3
"""Files that have the usual columns, named in the error about a file that has others."""


def _column_order(
    file: Path, header: tuple[str, ...], columns: tuple[str, ...], norm_files: Sequence[Path]
) -> list[int]:
    """Return, for each of ``columns``, its index in ``header`` of ``file``; raise if they differ.

    The error names ``file`` and the files that have ``columns`` (the first few of them).
    """
    missing = Counter(columns) - Counter(header)
    extra = Counter(header) - Counter(columns)
    if missing or extra:
        differences = []
        if missing:
            differences.append(f"lacks {', '.join(sorted(missing.elements()))}")
        if extra:
            differences.append(f"has besides {', '.join(sorted(extra.elements()))}")
        named = [str(other) for other in norm_files[:MAX_NAMED_FILES]]
        if len(norm_files) > MAX_NAMED_FILES:
            named.append(f"{len(norm_files) - MAX_NAMED_FILES} more")
        raise ValueError(
            f"label file {file} has other columns than {_listed(named)}: "
            f"it {' and '.join(differences)} (every file of a folder needs the same columns, in any order)"
        )
    unused = list(range(len(header)))
    order = []
    for name in columns:
        index = next(i for i in unused if header[i] == name)
        unused.remove(index)
        order.append(index)
    return order


def _listed(names: Sequence[str]) -> str:
    """Return ``"a"``, ``"a and b"``, ``"a, b and c"``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


class _CountingWriter:
    """A text sink for :func:`csv.writer` that counts UTF-8 bytes and stops writing past a limit."""

    def __init__(self, output: IO[str], max_bytes: int) -> None:
        self._output = output
        self._max_bytes = max_bytes
        self.size = 0

    def write(self, text: str) -> int:
        """Count ``text``, and write it while the total is within the limit."""
        self.size += len(text.encode("utf-8"))
        if self.size <= self._max_bytes:
            self._output.write(text)
        return len(text)
