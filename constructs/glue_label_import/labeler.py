"""The terminal interface of ``glue-label-import label``: a Textual app to label labeling sets.

Imported only by that command, as it needs Textual (the ``label`` extra). One labeling set at a
time is a table of its rows, the label first; in each field a value that differs from what most
rows of the set hold stands out, values that some rows share are coloured, and fields whose rows
all agree are dimmed.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Static

from glue_label_import._handler.rules import LABEL_COLUMN
from glue_label_import.label_file import counted
from glue_label_import.labeling import Labeling, LabelingSet, Value

COMMAND_KEYS = frozenset("jknpqw")
"""Letters that are commands, not labels: type their upper-case letter to give that label."""

LABEL_KEYS = [letter for letter in "abcdefghijklmnopqrstuvwxyz" if letter not in COMMAND_KEYS]
"""Lower-case letters that label the current row with their upper-case letter."""

UPPER_LABEL_KEYS = [letter.upper() for letter in "abcdefghijklmnopqrstuvwxyz" if letter != "q"]
"""Upper-case letters that label the current row (``Q`` quits without writing)."""

MIN_WIDTH, MIN_HEIGHT = 60, 10
"""The smallest terminal the table fits in; a smaller one is told so."""

STYLES = {
    Value.ODD: Style(bold=True, color="black", bgcolor="yellow"),
    Value.SHARED: Style(color="cyan"),
    Value.SAME: Style(dim=True),
    Value.OTHER: Style(),
}
"""How a value looks: one that differs from what most rows hold stands out, those that some rows share
are coloured, and fields whose rows all agree are dimmed."""

LABELLED = Style(bold=True, color="green")
"""A label."""

UNLABELLED = "·"
"""What an unlabelled row shows in the label column."""


class QuitScreen(ModalScreen[str]):
    """Asks what to do with unwritten labels before quitting: ``write``, ``discard`` or ``stay``."""

    DEFAULT_CSS = """
    QuitScreen { align: center middle; }
    QuitScreen > Vertical { width: 72; height: auto; border: thick $warning; background: $surface; padding: 1 2; }
    """
    BINDINGS = [  # noqa: RUF012  # Textual's declaration
        Binding("y", "choose('write')", "write and quit"),
        Binding("n", "choose('discard')", "quit without writing"),
        Binding("escape", "choose('stay')", "go back"),
    ]

    def __init__(self, question: str) -> None:
        """Ask ``question``."""
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        """The question and its answers."""
        with Vertical():
            yield Static(self._question, id="question")
            yield Static("\n[b]y[/b] write and quit   [b]n[/b] quit without writing   [b]esc[/b] go back")

    def action_choose(self, choice: str) -> None:
        """Answer ``choice``."""
        self.dismiss(choice)


class LabelScreen(Screen[None]):
    """One labeling set as a table, a header with the position and progress, and the keys."""

    DEFAULT_CSS = """
    #header { dock: top; height: 1; background: $primary; color: $text; text-style: bold; padding: 0 1; }
    #too-small { display: none; padding: 1 2; }
    LabelScreen.too-small #too-small { display: block; }
    LabelScreen.too-small DataTable { display: none; }
    """
    BINDINGS = [  # noqa: RUF012  # Textual's declaration
        Binding(LABEL_KEYS[0], f"label('{LABEL_KEYS[0].upper()}')", "label row", key_display="a-z"),
        *(Binding(key, f"label('{key.upper()}')", show=False) for key in LABEL_KEYS[1:]),
        *(Binding(key, f"label('{key}')", show=False) for key in UPPER_LABEL_KEYS),
        Binding("j", "move(1)", "move", key_display="j/k ↓↑"),
        Binding("k", "move(-1)", show=False),
        Binding("n", "set(1)", "set", key_display="n/p"),
        Binding("p", "set(-1)", show=False),
        Binding("w", "write", "write"),
        Binding("q", "quit_asking", "quit"),
        Binding("Q", "quit_now", "quit without writing"),
    ]

    def __init__(self, labeling: Labeling) -> None:
        """Label the sets of ``labeling``, starting at the first one not fully labelled."""
        super().__init__()
        self.labeling = labeling
        self.set_index = next((i for i, s in enumerate(labeling.sets) if not s.complete), 0)
        self.written_labels = labeling.labels()

    def compose(self) -> ComposeResult:
        """The header, the table, the message for a small terminal, and the footer."""
        yield Static(id="header")
        yield DataTable(cursor_type="row", zebra_stripes=True)
        yield Static(id="too-small")
        yield Footer()

    def on_mount(self) -> None:
        """Show the first set to label, at its first unlabelled row."""
        self.show_set(self.set_index)
        labels = self.current.labels
        self.table.move_cursor(row=labels.index("") if "" in labels else 0, animate=False)

    @property
    def table(self) -> DataTable[Text]:
        """The table of the current set."""
        return self.query_one(DataTable)

    @property
    def current(self) -> LabelingSet:
        """The labeling set shown."""
        return self.labeling.sets[self.set_index]

    @property
    def unwritten(self) -> bool:
        """Whether a label changed since the labeler opened, and is not in the output file."""
        return self.labeling.labels() != self.written_labels

    def show_set(self, index: int) -> None:
        """Show the labeling set at ``index``, its cursor on the first row."""
        self.set_index = index
        table = self.table
        table.clear(columns=True)
        table.add_columns(LABEL_COLUMN, *self.labeling.fields)
        for label, record, kinds in zip(self.current.labels, self.current.records, self.current.values(), strict=True):
            cells = [Text(value, style=STYLES[kind]) for value, kind in zip(record, kinds, strict=True)]
            table.add_row(self._label_cell(label), *cells)
        self.update_header()

    def update_header(self) -> None:
        """Show the set, its position and the progress."""
        labeling = self.labeling
        unwritten = "  ·  unwritten labels" if self.unwritten else ""
        self.query_one("#header", Static).update(
            f"set {self.set_index + 1}/{len(labeling.sets)} {self.current.set_id}  ·  "
            f"{labeling.labelled_rows} of {counted(labeling.rows, 'row')} labelled  ·  "
            f"{labeling.written_sets} of {counted(len(labeling.sets), 'set')} in {labeling.out.name}{unwritten}"
        )

    def on_resize(self, event: events.Resize) -> None:
        """Say so when the terminal is too small for the table."""
        width, height = event.size
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(small, "too-small")
        self.query_one("#too-small", Static).update(
            f"The terminal is too small: {width}x{height}. glue-label-import label needs at least "
            f"{MIN_WIDTH}x{MIN_HEIGHT}: enlarge the window, or press q to quit."
        )

    def action_label(self, label: str) -> None:
        """Give the current row ``label`` and move on: to the next row, or the next set after the last."""
        row = self.table.cursor_row
        self.current.labels[row] = label
        self.table.update_cell_at(Coordinate(row, 0), self._label_cell(label))
        if row + 1 < len(self.current.records):
            self.table.move_cursor(row=row + 1, animate=False)
        elif self.current.complete and self.set_index + 1 < len(self.labeling.sets):
            self.show_set(self.set_index + 1)
        self.update_header()

    def action_move(self, rows: int) -> None:
        """Move the cursor ``rows`` down (up when negative)."""
        self.table.move_cursor(row=self.table.cursor_row + rows, animate=False)

    def action_set(self, step: int) -> None:
        """Show the next (``step`` 1) or previous (-1) labeling set."""
        index = self.set_index + step
        if 0 <= index < len(self.labeling.sets):
            self.show_set(index)

    def action_write(self) -> None:
        """Write the fully labelled sets to the output file, and say what was written."""
        self.app.notify(self.write())

    def write(self) -> str:
        """Write the fully labelled sets; return what the output file holds."""
        if self.labeling.write().sets:  # only the complete sets are in the file now
            self.written_labels = [
                list(s.labels) if s.complete else before
                for s, before in zip(self.labeling.sets, self.written_labels, strict=True)
            ]
            self.update_header()
        return self.labeling.summary()

    def action_quit_asking(self) -> None:
        """Quit; with unwritten labels, ask first."""
        if not self.unwritten:
            self.app.exit()
            return
        partial = sum(0 < s.labelled < len(s.records) for s in self.labeling.sets)
        lost = (
            f" Only full sets are written: {counted(partial, 'set')} not fully labelled will not be." if partial else ""
        )
        self.app.push_screen(QuitScreen(f"Write the labels before quitting?{lost}"), self._quit_answered)

    def _quit_answered(self, choice: str | None) -> None:
        """Act on the answer of the quit question."""
        if choice == "write":
            self.write()
            self.app.exit()
        elif choice == "discard":
            self.app.exit()

    def action_quit_now(self) -> None:
        """Quit without writing."""
        self.app.exit()

    @staticmethod
    def _label_cell(label: str) -> Text:
        return Text(label, style=LABELLED) if label else Text(UNLABELLED, style=STYLES[Value.SAME])


class LabelerApp(App[None]):
    """``glue-label-import label``: label the sets of ``labeling``, writing them to its output file."""

    TITLE = "glue-label-import label"
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, labeling: Labeling) -> None:
        """Label ``labeling``."""
        super().__init__()
        self.labeling = labeling

    def on_mount(self) -> None:
        """Open the labeling screen."""
        self.push_screen(LabelScreen(self.labeling))
