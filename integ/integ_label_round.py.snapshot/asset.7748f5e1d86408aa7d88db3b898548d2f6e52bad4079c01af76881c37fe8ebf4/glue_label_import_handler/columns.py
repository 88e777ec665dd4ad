"""Comparing a label file's columns with those the transform's data has.

Used by the handler (against GetMLTransform's Schema, at deploy) and by the construct (against a
`glue.CfnTable` of the app, at synth): one rule for both. Names are compared in lower case, as
Glue's catalog keeps them.
"""

from __future__ import annotations

from collections.abc import Iterable

LABEL_FILE_COLUMNS = ("labeling_set_id", "label")
"""What Glue's label files hold besides the data's columns."""


def column_mismatch(found: Iterable[str], expected: Iterable[str], *, elsewhere: str) -> str | None:
    """`missing a, b; not in <elsewhere> c`: the columns that differ, or None when they are the same."""
    found_names = {column.lower() for column in found}
    expected_names = {column.lower() for column in expected}
    problems = [
        f"{what} {', '.join(sorted(columns))}"
        for what, columns in (
            ("missing", expected_names - found_names),
            (f"not in {elsewhere}", found_names - expected_names),
        )
        if columns
    ]
    return "; ".join(problems) or None
