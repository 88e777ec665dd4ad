"""The README's screenshot of `glue-label-import label`: docs/label.svg, a set of the example being labelled.

    python scripts/label_screenshot.py

Blanks the labels of the example's labels/round-1.csv (a labeling set as `fetch` writes it), opens
the labeler on it in Textual's headless pilot, labels the first rows of its second set with the
letters a person would type, and saves the screen as an SVG.
"""

from __future__ import annotations

import asyncio
import csv
import sys
import tempfile
from pathlib import Path

from glue_label_import._handler.rules import LABEL_COLUMN
from glue_label_import.labeler import LabelerApp
from glue_label_import.labeling import Labeling

REPO = Path(__file__).resolve().parent.parent
SCREENSHOT = REPO / "docs" / "label.svg"
KEYS = ["n", "a", "b", "a", "c", "c", "d"]  # the second set: Olivia Clark twice, Logan Price twice, ...
SIZE = (164, 22)


def blanked(source: Path, fetched: Path) -> None:
    """Write ``source`` to ``fetched`` with an empty label column, as `fetch` writes a set to label."""
    with source.open(encoding="utf-8", newline="") as text:
        rows = list(csv.reader(text))
    label = rows[0].index(LABEL_COLUMN)
    with fetched.open("w", encoding="utf-8", newline="") as text:
        csv.writer(text, lineterminator="\n").writerows(
            [rows[0], *([*row[:label], "", *row[label + 1 :]] for row in rows[1:])]
        )


async def screenshot(labeling: Labeling) -> None:
    """Label with :data:`KEYS` and save the screen to :data:`SCREENSHOT`."""
    app = LabelerApp(labeling)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*KEYS)
        await pilot.pause()
        app.save_screenshot(filename=SCREENSHOT.name, path=str(SCREENSHOT.parent))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="glue-label-import-screenshot-") as folder:
        fetched = Path(folder) / "fetched.csv"
        blanked(REPO / "labels" / "round-1.csv", fetched)
        SCREENSHOT.parent.mkdir(exist_ok=True)
        asyncio.run(screenshot(Labeling.load(fetched, Path(folder) / "round-3.csv")))
    print(f"saved {SCREENSHOT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
