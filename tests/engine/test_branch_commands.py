"""The branch-command grammar shared by the lab's %sql options and the TUI's backslash commands."""
from __future__ import annotations

import pytest

from rustmemodb.branch.commands import (BranchCommand, BranchCommandError, VERBS, is_branch_command,
                                        parse_backslash, usage_lines)


@pytest.mark.parametrize(("line", "expected"), [
    ("\\fork what_if", BranchCommand("fork", ("what_if",))),
    ("  \\checkout  main ", BranchCommand("checkout", ("main",))),
    ("\\branches", BranchCommand("branches")),
    ("\\drop-branch x/y.1", BranchCommand("drop-branch", ("x/y.1",))),
    ("\\diff main b", BranchCommand("diff", ("main", "b"))),
    ("\\diff main b trades", BranchCommand("diff", ("main", "b", "trades"))),
    ("\\merge b", BranchCommand("merge", ("b",))),
    ("\\merge b --into main --theirs", BranchCommand("merge", ("b",), into="main", strategy="theirs")),
    ("\\undo", BranchCommand("undo")),
])
def test_parses(line, expected):
    assert is_branch_command(line)
    assert parse_backslash(line) == expected


@pytest.mark.parametrize(("line", "message"), [
    ("\\fork", "usage: \\fork NAME"),
    ("\\fork a b", "usage: \\fork NAME"),
    ("\\fork bad,name", "invalid branch name"),
    ("\\diff main", "\\diff takes two branches"),
    ("\\diff a b c d", "\\diff takes two branches"),
    ("\\merge a --ours --theirs", "choose one of --ours and --theirs"),
    ("\\merge a --into", "--into needs a branch name"),
    ("\\fork x --ours", "go with \\merge SOURCE"),
    ("\\undo now", "usage: \\undo"),
    ("\\checkout x --fast", "unknown option --fast"),
    ("\\forks x", "not a branch command"),
])
def test_errors(line, message):
    with pytest.raises(BranchCommandError, match=None) as exc:
        parse_backslash(line)
    assert message in str(exc.value)


def test_other_backslash_commands_are_not_branch_commands():
    assert not is_branch_command("\\dt") and not is_branch_command("SELECT 1") and not is_branch_command("")


def test_help_has_a_line_per_verb():
    lines = usage_lines()
    assert len(lines) == len(VERBS) and lines[0].startswith("\\fork NAME")
    assert any("--into TARGET" in line for line in lines)


def test_the_lab_options_come_from_the_same_table():
    pytest.importorskip("IPython")
    from rustmemodb_lab.magic import SqlMagics
    options = SqlMagics.sql.parser._option_string_actions
    for verb in VERBS:
        assert f"--{verb.name}" in options
