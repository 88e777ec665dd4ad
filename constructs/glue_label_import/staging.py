"""Label files as Glue reads them, written into the cloud assembly's working area before they become assets.

A staged file is ``<staging>/<sha256 of its content>/<name>``: the same content always gives the
same path and the same bytes, so its asset hash follows the bytes Glue reads. The staging folder
is in the app's (the stage's) output directory, which CDK owns: a fresh one per app, never a
fixed temporary path (see ``label_source``). Nothing here imports the CDK: the command line
merges files with it too, and writes its label files whole or not at all (``replaced_whole``).
"""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO, TypeVar

from glue_label_import.label_file import glue_column_order

STAGING_FOLDER = "glue-label-import"
"""The folder of the staged label files in the cloud assembly's output directory."""

_Written = TypeVar("_Written")


def stage_file(staging: Path, name: str, write: Callable[[Path], _Written]) -> tuple[Path, _Written]:
    """Have `write` write a file, and move it to ``staging/<sha256 of its content>/name``.

    Returns the staged path and what `write` returned. A `write` that raises leaves nothing behind.
    """
    staging.mkdir(parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(prefix=".staging-", suffix=".csv", dir=staging)
    os.close(descriptor)
    temporary = Path(temporary_name)
    try:
        written = write(temporary)
        digest = hashlib.sha256()
        with open(temporary, "rb") as content:
            for chunk in iter(lambda: content.read(1 << 16), b""):
                digest.update(chunk)
        folder = staging / digest.hexdigest()
        folder.mkdir(exist_ok=True)
        path = folder / name
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path, written


@contextmanager
def replaced_whole(out: Path) -> Iterator[TextIO]:
    """Open a temporary text file next to ``out`` that replaces ``out`` when the block ends without raising.

    UTF-8, no newline translation. ``out`` is replaced whole or not at all: a block that raises
    (or a failed rename) removes the temporary file and leaves ``out`` as it was.
    """
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as text:
            yield text
        os.replace(temporary, out)
    except BaseException:
        os.unlink(temporary)
        raise


def write_in_glue_order(source: Path, output: Path) -> None:
    """Write the CSV `source` to `output` with ``labeling_set_id,label`` first and the other columns in their order.

    Records are written with the :mod:`csv` module (minimal quoting, ``\\n`` line endings); a
    blank line stays a blank line, so the rows keep their line numbers. `source` must be a valid
    label file (every record as long as the header).
    """
    with (
        open(source, encoding="utf-8", newline="") as text,
        open(output, "w", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out, lineterminator="\n")
        order: list[int] | None = None
        for record in csv.reader(text, strict=True):
            if not record:
                out.write("\n")
                continue
            if order is None:
                order = glue_column_order(record)
            writer.writerow([record[index] for index in order])
