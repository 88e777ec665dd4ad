"""`glue-label-import label` from the command line: odd files, the extra it needs, and a real terminal."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from glue_label_import.__main__ import main
from glue_label_import.label_file import validate_label_file
from glue_label_import.labeler import LabelerApp
from support import FETCHED, write_fetched


@pytest.fixture(autouse=True)
def no_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    """A command that should stop before its interface opens fails, not waits for a terminal."""

    def opened(self: LabelerApp) -> None:
        pytest.fail("the labeler opened")

    monkeypatch.setattr(LabelerApp, "run", opened)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("label,customer_id\n,1\n,2\n", "line 1: header has no 'labeling_set_id' column; it holds: label, customer_id"),
        ("", "file is empty: it has no header row"),
        (
            FETCHED.replace("Lisbon", "Lisb\udcf8n"),
            "line 2: not valid UTF-8: byte 0xF8 at column 37 (and 2 more errors)",
        ),
    ],
    ids=["no labeling_set_id", "empty", "not UTF-8"],
)
def test_a_file_that_is_not_a_labeling_set_gets_the_validators_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, error: str
) -> None:
    fetched = tmp_path / "fetched.csv"
    fetched.write_bytes(content.encode("utf-8", errors="surrogateescape"))
    assert main(["label", str(fetched), "--out", str(tmp_path / "out.csv")]) == 1
    assert capsys.readouterr().err == f"error: {fetched}: {error}\n"


def test_an_out_of_other_columns_is_not_resumed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.csv"
    out.write_text("labeling_set_id,label,customer_id\ns1,A,1\ns1,A,2\n", encoding="utf-8")
    assert main(["label", str(write_fetched(tmp_path)), "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"error: {out} is not a label file of this labeling set: its columns are labeling_set_id,label,customer_id, "
        "not labeling_set_id,label,customer_id,name,email,city\n"
    )


def test_an_out_with_rows_the_fetched_file_lacks_is_not_resumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.csv"
    labelled = FETCHED.replace(",,", ",A,")
    out.write_text(labelled.replace("Bergen", "Narvik"), encoding="utf-8")
    assert main(["label", str(write_fetched(tmp_path)), "--out", str(out)]) == 1
    assert capsys.readouterr().err == (
        f"error: {out} holds 1 row that {tmp_path / 'fetched.csv'} does not: "
        "is it the label file of another labeling set?\n"
    )


def test_out_may_not_be_the_fetched_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fetched = write_fetched(tmp_path)
    assert main(["label", str(fetched), "--out", str(tmp_path) + "/./fetched.csv"]) == 1
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'fetched.csv'} is the fetched file itself: write the labels to another file, "
        "as it gets only the fully labelled sets\n"
    )
    assert fetched.read_text(encoding="utf-8") == FETCHED


def run_python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=False)


def test_without_textual_label_names_the_extra(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "sys.modules['textual'] = None  # as if it were not installed\n"
        "from glue_label_import.__main__ import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    result = run_python(code, "label", str(write_fetched(tmp_path)), "--out", str(tmp_path / "out.csv"))
    assert (result.returncode, result.stderr) == (
        1,
        "error: label needs Textual: pip install 'cdk-glue-label-import[label]'\n",
    )


def test_the_package_and_the_other_commands_never_import_textual(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "import glue_label_import\n"
        "from glue_label_import.__main__ import main\n"
        "status = main(sys.argv[1:])\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in {'textual', 'rich'}))\n"
        "sys.exit(status)\n"
    )
    result = run_python(code, "validate", str(write_fetched(tmp_path, FETCHED.replace(",,", ",A,"))))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


class Terminal:
    """A tmux session on a socket of its own: keys in, the screen out."""

    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-S", str(self.socket), *args], capture_output=True, text=True, check=True
        ).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-t", "label")  # -J: wrapped lines joined

    def wait_for(self, text: str) -> str:
        """The screen once it shows ``text``; fails after a generous while."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        pytest.fail(f"the terminal never showed {text!r}; it shows:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", "-t", "label", key)


@pytest.fixture
def terminal(tmp_path: Path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (make setup installs it where apt-get can)")
    terminal = Terminal(tmp_path / "tmux.socket")
    yield terminal
    subprocess.run(["tmux", "-S", str(terminal.socket), "kill-server"], capture_output=True, check=False)


def test_label_in_a_real_terminal(tmp_path: Path, terminal: Terminal) -> None:
    fetched, out = write_fetched(tmp_path), tmp_path / "labels" / "round-3.csv"
    command = shlex.join([sys.executable, "-m", "glue_label_import", "label", str(fetched), "--out", str(out)])
    terminal.tmux("new-session", "-d", "-s", "label", "-x", "120", "-y", "30", "-c", str(tmp_path))
    terminal.keys(f"{command}; echo exit=$?", "Enter")
    screen = terminal.wait_for("0 of 9 rows labelled")
    assert "set 1/3 s1" in screen
    assert "Ana Sylva" in screen
    assert "a-z label row" in screen  # the footer shows the keys
    terminal.keys("a", "a", "b")
    screen = terminal.wait_for("3 of 9 rows labelled")
    assert "set 2/3 s2" in screen
    terminal.keys("c", "q")
    terminal.wait_for("Write the labels before quitting?")
    terminal.keys("y")
    screen = terminal.wait_for("exit=0")
    assert f"wrote 1 of 3 labeling sets (3 rows) to {out}; 2 sets remain" in screen
    report = validate_label_file(out)
    assert (report.ok, report.labeling_sets, report.rows) == (True, 1, 3)
