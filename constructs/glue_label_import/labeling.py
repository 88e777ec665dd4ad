"""The labels a person gives a fetched labeling set: read, resumed, and written as a label file.

What ``glue-label-import label`` edits, without its terminal interface (which needs Textual): the
fetched file's labeling sets in file order, the label of each row, which values of a set stand
out from its other rows, and the output file, holding only the fully labelled sets.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from glue_label_import._handler.rules import LABEL_COLUMN, LABELING_SET_ID_COLUMN
from glue_label_import.label_file import LabelFileReport, counted, validate_label_file
from glue_label_import.staging import replaced_whole


class LabelingError(ValueError):
    """A fetched file, or an output to resume, that cannot be labelled: one line saying why."""


class Value(Enum):
    """How a value compares with the same field of the other rows of its labeling set."""

    SAME = "same"
    """Every row of the set holds it."""
    ODD = "odd"
    """More than half of the rows hold one other value: this one differs from them."""
    SHARED = "shared"
    """Rows hold no value in majority, and another row holds this one too: the rows holding it may match."""
    OTHER = "other"
    """Nothing to note: the value most rows hold, or one that no other row holds."""


@dataclass
class LabelingSet:
    """One labeling set: its id, the values of its rows (the fields, in order) and their labels."""

    set_id: str
    records: list[tuple[str, ...]]
    labels: list[str]
    """One per row, empty for a row still to label."""

    @property
    def labelled(self) -> int:
        """The rows of the set that have a label."""
        return sum(bool(label) for label in self.labels)

    @property
    def complete(self) -> bool:
        """Whether every row of the set has a label."""
        return self.labelled == len(self.records)

    def values(self) -> list[list[Value]]:
        """Per row, per field: how its value compares with the same field of the other rows of the set."""
        kinds: list[list[Value]] = [[] for _ in self.records]
        for column in zip(*self.records, strict=True):
            counts = Counter(column)
            common, most = counts.most_common(1)[0]
            for row, value in enumerate(column):
                if len(counts) == 1:
                    kind = Value.SAME
                elif most > len(column) / 2:
                    kind = Value.OTHER if value == common else Value.ODD
                else:
                    kind = Value.SHARED if counts[value] > 1 else Value.OTHER
                kinds[row].append(kind)
        return kinds


@dataclass(frozen=True)
class Written:
    """What a write put into the output file."""

    sets: int
    rows: int


@dataclass
class Labeling:
    """The labeling sets of a fetched file, with their labels, and the output file they go to."""

    out: Path
    fields: tuple[str, ...]
    sets: list[LabelingSet]
    written_sets: int = 0
    """The labeling sets the output file holds: those resumed from it, or last written to it."""
    last_write: Written | None = None
    """What the last write put into the output file, if one did."""

    @classmethod
    def load(cls, fetched: str | os.PathLike[str], out: str | os.PathLike[str]) -> Labeling:
        """Read the labeling sets of ``fetched``, and the labels ``out`` holds when it exists.

        Labels already in ``fetched`` are kept; those of ``out`` (its rows matched on their
        labeling set id and fields) take their place.

        :raises LabelingError: ``fetched`` is not a labeling set, ``out`` is ``fetched`` or not
            a label file of it (one line, from the validator where it found the problem).
        """
        fetched_path, out_path = Path(fetched), Path(out)
        if out_path.resolve() == fetched_path.resolve():
            raise LabelingError(
                f"{out_path} is the fetched file itself: write the labels to another file, "
                "as it gets only the fully labelled sets"
            )
        report = _validated(fetched_path, to_label=True)
        fields = tuple(column for column in report.columns if column not in {LABELING_SET_ID_COLUMN, LABEL_COLUMN})
        sets: dict[str, LabelingSet] = {}
        for set_id, label, record in _rows(fetched_path, report.columns, fields):
            labeling_set = sets.setdefault(set_id, LabelingSet(set_id, [], []))
            labeling_set.records.append(record)
            labeling_set.labels.append(label.strip())
        labeling = cls(out=out_path, fields=fields, sets=list(sets.values()))
        if out_path.exists():
            labeling._resume(fetched_path)
        return labeling

    @property
    def header(self) -> list[str]:
        """The output's columns: ``labeling_set_id``, ``label``, then the fetched file's other columns."""
        return [LABELING_SET_ID_COLUMN, LABEL_COLUMN, *self.fields]

    @property
    def rows(self) -> int:
        """The rows of every labeling set."""
        return sum(len(labeling_set.records) for labeling_set in self.sets)

    @property
    def labelled_rows(self) -> int:
        """The rows that have a label."""
        return sum(labeling_set.labelled for labeling_set in self.sets)

    @property
    def complete_sets(self) -> list[LabelingSet]:
        """The fully labelled sets, in file order: what a write puts into the output."""
        return [labeling_set for labeling_set in self.sets if labeling_set.complete]

    def labels(self) -> list[list[str]]:
        """Every label, per set: to tell later whether any changed."""
        return [list(labeling_set.labels) for labeling_set in self.sets]

    def write(self) -> Written:
        """Write the fully labelled sets to the output file, replacing it whole or not at all.

        Nothing is written when no set is fully labelled (a label file needs rows).
        """
        complete = self.complete_sets
        if not complete:
            return Written(sets=0, rows=0)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        with replaced_whole(self.out) as text:
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(self.header)
            for labeling_set in complete:
                for label, record in zip(labeling_set.labels, labeling_set.records, strict=True):
                    writer.writerow([labeling_set.set_id, label, *record])
        self.written_sets = len(complete)
        self.last_write = Written(sets=len(complete), rows=sum(len(labeling_set.records) for labeling_set in complete))
        return self.last_write

    def summary(self) -> str:
        """Say what the output file holds and how many labeling sets remain to label."""
        left = len(self.sets) - self.written_sets
        remain = "no set remains" if not left else f"{counted(left, 'set')} {'remains' if left == 1 else 'remain'}"
        total = counted(len(self.sets), "labeling set")
        if self.last_write is not None:
            rows = counted(self.last_write.rows, "row")
            return f"wrote {self.last_write.sets} of {total} ({rows}) to {self.out}; {remain}"
        if self.written_sets:
            return f"{self.out} not changed: it holds {self.written_sets} of {total}; {remain}"
        return f"nothing written to {self.out}: no labeling set is fully labelled; {remain}"

    def _resume(self, fetched: Path) -> None:
        """Take the labels of the existing output file, whose every row must be one of ``fetched``."""
        report = _validated(self.out, to_label=False)
        if list(report.columns) != self.header:
            raise LabelingError(
                f"{self.out} is not a label file of this labeling set: its columns are "
                f"{','.join(report.columns)}, not {','.join(self.header)}"
            )
        resumed: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for set_id, label, record in _rows(self.out, report.columns, self.fields):
            resumed.setdefault((set_id, record), []).append(label)
        for labeling_set in self.sets:
            matched = 0
            for index, record in enumerate(labeling_set.records):
                labels = resumed.get((labeling_set.set_id, record))
                if labels:
                    labeling_set.labels[index] = labels.pop(0)
                    matched += 1
            self.written_sets += matched == len(labeling_set.records)
        unmatched = sum(len(labels) for labels in resumed.values())
        if unmatched:
            raise LabelingError(
                f"{self.out} holds {counted(unmatched, 'row')} that {fetched} does not: "
                "is it the label file of another labeling set?"
            )


def _validated(path: Path, *, to_label: bool) -> LabelFileReport:
    """The validator's report of ``path``, or its first error as a :class:`LabelingError`."""
    try:
        report = validate_label_file(path, to_label=to_label)
    except OSError as error:
        raise LabelingError(f"cannot read {path}: {error.strerror or error}") from error
    if not report.ok:
        more = len(report.errors) - 1 + report.omitted_errors
        and_more = f" (and {counted(more, 'more error')})" if more else ""
        raise LabelingError(f"{path}: {report.errors[0]}{and_more}")
    return report


def _rows(path: Path, columns: Sequence[str], fields: Sequence[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """The labeling set id, label (empty without a label column) and fields of each row of a valid file."""
    set_index = columns.index(LABELING_SET_ID_COLUMN)
    label_index = columns.index(LABEL_COLUMN) if LABEL_COLUMN in columns else None
    field_indexes = [columns.index(name) for name in fields]
    with path.open(encoding="utf-8", newline="") as text:
        records = [record for record in csv.reader(text) if record][1:]
    return [
        (
            record[set_index],
            "" if label_index is None else record[label_index],
            tuple(record[index] for index in field_indexes),
        )
        for record in records
    ]
