"""``glue-label-import label FETCHED.csv --out OUT.csv``: label a fetched labeling set in the terminal.

The command line's side of it: its arguments, the files read before the interface opens, and the
line it prints when it ends. The interface (:mod:`glue_label_import.labeler`) needs Textual, the
``label`` extra, and is imported only when this command runs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from glue_label_import.labeling import Labeling, LabelingError

LABEL_EXTRA = "pip install 'cdk-glue-label-import[label]'"

DESCRIPTION = """\
Label the labeling sets of FETCHED.csv (a file `glue-label-import fetch` wrote) in the terminal,
one set at a time, and write the fully labelled sets to OUT.csv as a label file: labeling_set_id,
label, then FETCHED.csv's other columns. An existing OUT.csv is resumed: its labels are shown and
its sets count as done.
"""

KEYS = """\
keys: a-z label the row with that upper-case letter and move on (j k n p q w are commands: type
J K N P W for those labels); arrows or j/k move; n/p next and previous set; w write; q quit (asks
when labels are unwritten); Q quit without writing.
"""


def add_parser(commands: Any) -> None:
    """Add the ``label`` command to ``commands``, the subparsers of the command line."""
    label = commands.add_parser(
        "label",
        help="label a fetched labeling set in the terminal",
        description=DESCRIPTION,
        epilog=KEYS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    label.add_argument("fetched", metavar="FETCHED.csv", help="the labeling set to label, as fetch wrote it")
    label.add_argument("--out", required=True, metavar="OUT.csv", help="the label file to write, or to resume")


def run(args: argparse.Namespace) -> int:
    """Run ``label``; return the exit status."""
    try:
        from glue_label_import.labeler import LabelerApp  # noqa: PLC0415  # Textual only for this command
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in {"textual", "rich"}:
            raise
        print(f"error: label needs Textual: {LABEL_EXTRA}", file=sys.stderr)
        return 1
    try:
        labeling = Labeling.load(args.fetched, args.out)
    except LabelingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    LabelerApp(labeling).run()
    print(labeling.summary())
    return 0
