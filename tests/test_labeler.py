"""`glue-label-import label`'s terminal interface, driven key by key with Textual's headless pilot."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO

import pytest
from rich.style import Style
from rich.text import Text
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from glue_label_import.label_file import validate_label_file
from glue_label_import.labeler import STYLES, LabelerApp, LabelScreen, QuitScreen
from glue_label_import.labeling import Labeling, Value
from support import write_fetched

Steps = Callable[[Pilot[None], LabelScreen], Awaitable[None]]


def drive(tmp_path: Path, steps: Steps, *, size: tuple[int, int] = (120, 30)) -> Labeling:
    """Open the labeler on the fetched set (and `out.csv` of `tmp_path`), then run `steps` on it."""
    labeling = Labeling.load(write_fetched(tmp_path), tmp_path / "out.csv")

    async def run() -> None:
        app = LabelerApp(labeling)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            screen = app.screen_stack[1]
            assert isinstance(screen, LabelScreen)
            await steps(pilot, screen)

    asyncio.run(run())
    return labeling


def header(screen: LabelScreen) -> str:
    return str(screen.query_one("#header", Static).render())


def labels_shown(screen: LabelScreen) -> list[str]:
    table: DataTable[Text] = screen.query_one(DataTable)
    return [table.get_cell_at(Coordinate(row, 0)).plain for row in range(table.row_count)]


def out_rows(tmp_path: Path) -> list[list[str]]:
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as text:
        return list(csv.reader(text))


def test_the_header_shows_the_set_its_position_and_the_progress(tmp_path: Path) -> None:
    async def steps(pilot: Pilot[None], screen: LabelScreen) -> None:
        assert header(screen).startswith("set 1/3 s1")
        assert "0 of 9 rows labelled" in header(screen)
        await pilot.press("a", "a")
        assert "2 of 9 rows labelled" in header(screen)

    drive(tmp_path, steps)


def test_a_letter_labels_the_row_upper_case_and_moves_on_to_the_next_set(tmp_path: Path) -> None:
    async def steps(pilot: Pilot[None], screen: LabelScreen) -> None:
        await pilot.press("a")
        assert screen.query_one(DataTable).cursor_row == 1
        await pilot.press("a", "b")
        assert header(screen).startswith("set 2/3 s2")  # the set is complete: on to the next
        await pilot.press("p")
        assert labels_shown(screen) == ["A", "A", "B"]

    labeling = drive(tmp_path, steps)
    assert labeling.sets[0].labels == ["A", "A", "B"]


def test_command_letters_label_with_their_upper_case(tmp_path: Path) -> None:
    async def steps(pilot: Pilot[None], screen: LabelScreen) -> None:
        await pilot.press("J", "W", "z")

    assert drive(tmp_path, steps).sets[0].labels == ["J", "W", "Z"]


def test_arrows_and_j_k_move_and_n_p_change_sets(tmp_path: Path) -> None:
    async def steps(pilot: Pilot[None], screen: LabelScreen) -> None:
        table = screen.query_one(DataTable)
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("down")
        assert table.cursor_row == 2
        await pilot.press("up", "up")
        assert table.cursor_row == 0
        await pilot.press("p")
        assert header(screen).startswith("set 1/3")  # no set before the first
        await pilot.press("n", "n")
        assert header(screen).startswith("set 3/3 s3")
        await pilot.press("n")
        assert header(screen).startswith("set 3/3")
        await pilot.press("p", "c")
        assert header(screen).startswith("set 2/3 s2")

    assert drive(tmp_path, steps).sets[1].labels == ["C", "", "", ""]


def test_values_that_differ_from_the_other_rows_stand_out(tmp_path: Path) -> None:
    async def steps(pilot: Pilot[None], screen: LabelScreen) -> None:
        table: DataTable[Text] = screen.query_one(DataTable)

        def looks(column: int) -> list[Style | str]:
            return [table.get_cell_at(Coordinate(row, column)).style for row in range(table.row_count)]

        odd, same, other = (STYLES[kind] for kind in (Value.ODD, Value.SAME, Value.OTHER))
        # set s1: label, customer_id, name, email, city
        assert looks(1) == [other, other, other]  # all different: nothing stands out
        assert looks(2) == [other, other, odd]  # Ana Sylva
        assert looks(3) == [other, odd, other]  # ana.silva@
        assert looks(4) == [same, same, same]  # Lisbon in every row
        await pilot.press("n")
        assert looks(4) == [other, odd, other, other]  # Bergen

    drive(tmp_path, steps)


def test_values_some_rows_share_are_coloured(tmp_path: Path) -> None:
    content = "labeling_set_id,label,name,city\n" + "".join(
        f"s1,,{name},{city}\n" for name, city in [("Ana", "Oslo"), ("Bo", "Rome"), ("Ana", "Bern"), ("Cy", "Kyiv")]
    )
    labeling = Labeling.load(write_fetched(tmp_path, content), tmp_path / "out.csv")
    shared, other = Value.SHARED, Value.OTHER
    assert labeling.sets[0].values() == [[shared, other], [other, other], [shared, other], [other, other]]


def test_w_writes_only_the_fully_labelled_sets_as_a_valid_label_file(tmp_path: Path) -> None:
    async def steps(pilot: Pilot[None], screen: LabelScreen) -> None:
        await pilot.press("w")
        assert not (tmp_path / "out.csv").exists()  # no set is complete: nothing to write
        await pilot.press("a", "a", "b", "a", "w")
        assert "1 of 3 sets in out.csv" in header(screen)

    labeling = drive(tmp_path, steps)
    assert out_rows(tmp_path) == [
        ["labeling_set_id", "label", "customer_id", "name", "email", "city"],
        ["s1", "A", "1", "Ana Silva", "ana@example.com", "Lisbon"],
        ["s1", "A", "2", "Ana Silva", "ana.silva@example.com", "Lisbon"],
        ["s1", "B", "3", "Ana Sylva", "ana@example.com", "Lisbon"],
    ]
    assert validate_label_file(tmp_path / "out.csv").ok
    assert labeling.summary() == f"wrote 1 of 3 labeling sets (3 rows) to {tmp_path / 'out.csv'}; 2 sets remain"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fetched.csv", "out.csv"]  # no temporary left


def test_an_existing_out_resumes_at_the_first_set_to_label(tmp_path: Path) -> None:
    (tmp_path / "out.csv").write_text(
        "labeling_set_id,label,customer_id,name,email,city\n"
        "s1,A,1,Ana Silva,ana@example.com,Lisbon\n"
        "s1,B,2,Ana Silva,ana.silva@example.com,Lisbon\n"
        "s1,A,3,Ana Sylva,ana@example.com,Lisbon\n",
        encoding="utf-8",
    )

    async def steps(pilot: Pilot[None], screen: LabelScreen) -> None:
        assert header(screen).startswith("set 2/3 s2")
        assert "3 of 9 rows labelled  ·  1 of 3 sets in out.csv" in header(screen)
        await pilot.press("p")
        assert labels_shown(screen) == ["A", "B", "A"]
        await pilot.press("n", "a", "a", "b", "a", "w")

    drive(tmp_path, steps)
    assert [row[:2] for row in out_rows(tmp_path)[1:]] == [
        ["s1", "A"],
        ["s1", "B"],
        ["s1", "A"],
        *[["s2", x] for x in "AABA"],
    ]


def test_q_with_unwritten_labels_asks_and_escape_goes_back(tmp_path: Path) -> None:
    async def steps(pilot: Pilot[None], screen: LabelScreen) -> None:
        await pilot.press("a", "q")
        assert isinstance(pilot.app.screen, QuitScreen)
        await pilot.press("a", "escape")  # the question takes no label
        assert pilot.app.screen is screen
        assert pilot.app.is_running

    assert drive(tmp_path, steps).sets[0].labels == ["A", "", ""]


def test_q_asks_about_labels_of_sets_not_fully_labelled_after_a_write(tmp_path: Path) -> None:
    async def steps(pilot: Pilot[None], screen: LabelScreen) -> None:
        await pilot.press("a", "a", "b", "c", "w", "q")
        question = pilot.app.screen
        assert isinstance(question, QuitScreen)
        assert "1 set not fully labelled will not be" in str(question.query_one("#question", Static).render())

    drive(tmp_path, steps)


def test_q_then_y_writes_and_quits(tmp_path: Path) -> None:
    async def steps(pilot: Pilot[None], screen: LabelScreen) -> None:
        await pilot.press("a", "b", "c", "q", "y")
        assert not pilot.app.is_running

    drive(tmp_path, steps)
    assert [row[1] for row in out_rows(tmp_path)[1:]] == ["A", "B", "C"]


def test_q_then_n_quits_without_writing(tmp_path: Path) -> None:
    async def steps(pilot: Pilot[None], screen: LabelScreen) -> None:
        await pilot.press("a", "b", "c", "q", "n")
        assert not pilot.app.is_running

    drive(tmp_path, steps)
    assert not (tmp_path / "out.csv").exists()


def test_q_without_unwritten_labels_and_shift_q_quit_at_once(tmp_path: Path) -> None:
    async def quit_written(pilot: Pilot[None], screen: LabelScreen) -> None:
        await pilot.press("a", "b", "c", "w", "q")
        assert not pilot.app.is_running

    async def quit_unwritten(pilot: Pilot[None], screen: LabelScreen) -> None:
        await pilot.press("p", "a", "a", "a", "Q")
        assert not pilot.app.is_running

    drive(tmp_path, quit_written)
    drive(tmp_path, quit_unwritten)
    assert [row[1] for row in out_rows(tmp_path)[1:]] == ["A", "B", "C"]  # Q wrote nothing


def test_a_terminal_too_small_says_so(tmp_path: Path) -> None:
    async def steps(pilot: Pilot[None], screen: LabelScreen) -> None:
        message = screen.query_one("#too-small", Static)
        assert message.display
        assert not screen.query_one(DataTable).display
        assert "The terminal is too small: 50x8" in str(message.render())
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert not message.display
        assert screen.query_one(DataTable).display

    drive(tmp_path, steps, size=(50, 8))


def test_a_failed_write_leaves_the_previous_output_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    labeling = Labeling.load(write_fetched(tmp_path), tmp_path / "out.csv")
    labeling.sets[0].labels = ["A", "A", "B"]
    labeling.write()
    before = (tmp_path / "out.csv").read_bytes()
    labeling.sets[1].labels = ["A", "A", "B", "A"]

    real_writer = csv.writer

    class FullDisk:
        """A CSV writer whose disk fills up at the second set."""

        def __init__(self, text: TextIO, **options: str) -> None:
            self.writer = real_writer(text, **options)

        def writerow(self, row: list[str]) -> None:
            if row[0] == "s2":
                raise OSError(28, "No space left on device")
            self.writer.writerow(row)

    monkeypatch.setattr(csv, "writer", FullDisk)
    with pytest.raises(OSError, match="No space left"):
        labeling.write()
    assert (tmp_path / "out.csv").read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fetched.csv", "out.csv"]
