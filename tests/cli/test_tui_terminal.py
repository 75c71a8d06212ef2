"""The real `rustmemodb cli` program in a real terminal (tmux): keys in, screen text out."""
from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

import rustmemodb

pytest.importorskip("textual")
if shutil.which("tmux") is None:
    pytest.skip("tmux is not installed", allow_module_level=True)

ENGINE = str(Path(rustmemodb.__file__).resolve().parents[1])


class Terminal:
    def __init__(self, name: str) -> None:
        self.name = name

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", *args], capture_output=True, text=True, check=check)

    def type(self, text: str) -> None:
        # "--": text may start with "-"; a trailing ";" would end tmux's command: escape it
        if text.endswith(";"):
            text = text[:-1] + "\\;"
        self.tmux("send-keys", "-t", self.name, "-l", "--", text)

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.name, *keys)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name).stdout

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; screen:\n{self.screen()}")

    def wait_until(self, ready, what: str, timeout: float = 60.0) -> str:
        """The screen once ``ready(screen)`` holds: the program redraws on its own time
        (a grid sizes its columns after the status line already says "(2 rows)")."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if ready(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{what} never appeared; screen:\n{self.screen()}")

    def alive(self) -> bool:
        return self.tmux("has-session", "-t", self.name, check=False).returncode == 0


@pytest.fixture
def terminal(tmp_path):
    name = f"rmdb-{uuid.uuid4().hex[:8]}"
    env = f"XDG_DATA_HOME={tmp_path / 'xdg'} PYTHONPATH={ENGINE} TERM=xterm-256color"
    # Textual obeys COLUMNS/LINES when set (pytest sets them): the terminal decides here.
    command = f"env -u COLUMNS -u LINES {env} {sys.executable} -m rustmemodb.cli"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "120", "-y", "40", command], check=True)
    term = Terminal(name)
    # A tmux server started earlier may size new windows its own way: fix it at 120x40.
    term.tmux("set-option", "-t", name, "window-size", "manual", check=False)
    term.tmux("resize-window", "-t", name, "-x", "120", "-y", "40", check=False)
    try:
        term.wait_for("Ctrl+E run")
        yield term
    finally:
        term.tmux("kill-session", "-t", name, check=False)


def run(term: Terminal, sql: str, expect: str) -> str:
    term.type(sql)
    term.keys("Enter")
    term.keys("C-e")
    return term.wait_for(expect)


def test_the_program_in_a_terminal(terminal, tmp_path):
    run(terminal, "CREATE TABLE trades (id INTEGER PRIMARY KEY, sym TEXT);", "│ CREATE TABLE")
    run(terminal, "INSERT INTO trades VALUES (1, 'AAPL'), (2, 'MSFT');", "INSERT 0 2")
    run(terminal, "SELECT sym FROM trades ORDER BY id;", "(2 rows)")
    screen = terminal.wait_until(
        lambda text: any("│AAPL" in line or "│ AAPL" in line for line in text.splitlines()),
        "the grid row AAPL")
    assert screen.index("AAPL") < screen.index("MSFT")
    assert "main · embedded in-memory │ 2 rows" in screen

    screen = run(terminal, "SELECT nope FROM trades;", "LINE 1: SELECT nope FROM trades")
    lines = screen.splitlines()
    i = next(n for n, line in enumerate(lines) if "LINE 1: SELECT nope FROM trades" in line)
    line_col = lines[i].index("LINE 1: SELECT nope")
    caret = lines[i + 1].index("^", line_col)      # the message pane, right of the history
    assert caret == line_col + len("LINE 1: SELECT "), "\n".join(lines[i:i + 2])

    terminal.type("SELECT * FROM tr")
    terminal.keys("Tab")
    terminal.wait_for("SELECT * FROM trades")

    assert max(len(line) for line in screen.splitlines()) == 120

    terminal.keys("Escape")
    deadline = time.monotonic() + 10
    while terminal.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not terminal.alive(), "Esc did not quit"
    history = (tmp_path / "xdg" / "rustmemodb" / "history.jsonl").read_text()
    assert "SELECT sym FROM trades ORDER BY id" in history and "42703" in history
