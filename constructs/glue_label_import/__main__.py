"""Command line: ``glue-label-import validate FILE [--primary-key COLUMN]``.

The same as ``python -m glue_label_import``; the console script ``glue-label-import`` runs
:func:`console_main`.

Prints the validation report and exits 0 when Glue can import the file (warnings
allowed), 1 when it cannot or the file cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from glue_label_import.label_file import validate_label_file

MODULE_PROG = "python -m glue_label_import"
SCRIPT_PROG = "glue-label-import"


def _parser(prog: str) -> argparse.ArgumentParser:
    """Return the parser of the command line, whose usage names it ``prog``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Tools for AWS Glue FindMatches label files.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate",
        help="check that a label file is one Glue can import",
        description="Check that FILE is a CSV label file AWS Glue FindMatches can import.",
    )
    validate.add_argument("file", metavar="FILE", help="the label file (CSV)")
    validate.add_argument("--primary-key", metavar="COLUMN", help="a column the file must also have")
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str = MODULE_PROG) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    args = _parser(prog).parse_args(argv)
    try:
        report = validate_label_file(args.file, primary_key=args.primary_key)
    except OSError as error:
        print(f"error: cannot read {args.file}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(report.format())
    return 0 if report.ok else 1


def console_main() -> int:
    """Entry point of the console script ``glue-label-import``: :func:`main` on ``sys.argv[1:]``."""
    return main(prog=SCRIPT_PROG)


if __name__ == "__main__":
    sys.exit(main())
