"""The branch-command grammar, shared by the notebook's ``%sql`` options and the TUI.

One table of verbs (``fork``, ``checkout``, ``branches``, ``drop-branch``, ``diff``,
``merge``, ``undo``) with their arguments and help, and the rules about them
(branch names, ``diff A B [TABLE]``, merge's ``--into``/``--ours``/``--theirs``).
The lab builds its ``--fork NAME`` ... magic options from :data:`VERBS` and
checks them with these functions; the TUI parses ``\\fork NAME`` ... lines with
:func:`parse_backslash`. Both therefore accept exactly the same commands.

Pure parsing: nothing here touches a database. Errors are
:class:`BranchCommandError` (a ``ValueError``) worded with the caller's prefix
(``--`` in the notebook, ``\\`` in the TUI).
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-/]*$")


class BranchCommandError(ValueError):
    """A branch command that does not follow the grammar (a usage error)."""


@dataclass(frozen=True)
class Verb:
    """One branch command: ``name`` and how many values it takes.

    ``nargs``: 0 for a flag, 1 for one value, ``"+"`` for one or more (``diff``).
    """

    name: str
    metavar: str | None
    nargs: int | str
    help: str

    @property
    def dest(self) -> str:
        return self.name.replace("-", "_")


VERBS: tuple[Verb, ...] = (
    Verb("fork", "NAME", 1, "fork the current branch as NAME (O(1))"),
    Verb("checkout", "NAME", 1, "make NAME the current branch"),
    Verb("branches", None, 0, "show the branch tree"),
    Verb("drop-branch", "NAME", 1, "forget branch NAME"),
    Verb("diff", "A B [TABLE]", "+", "row-level diff from branch A to branch B"),
    Verb("merge", "SOURCE", 1, "three-way merge SOURCE into the current branch (or --into)"),
    Verb("undo", None, 0, "return the current branch to its state before the last change"),
)
BY_NAME = {v.name: v for v in VERBS}

# Options that modify ``merge``: (flag, metavar, help).
MERGE_OPTIONS: tuple[tuple[str, str | None, str], ...] = (
    ("into", "TARGET", "with merge: the branch that receives the changes"),
    ("ours", None, "with merge: resolve conflicts with the target's values"),
    ("theirs", None, "with merge: resolve conflicts with the source's values"),
)


@dataclass(frozen=True)
class BranchCommand:
    """One parsed command. ``args`` are its values (``diff``: A, B[, TABLE])."""

    verb: str
    args: tuple[str, ...] = ()
    into: str | None = None
    strategy: str = "abort"        # merge conflicts: 'abort', 'ours' or 'theirs'

    @property
    def name(self) -> str | None:
        return self.args[0] if self.args else None

    @property
    def diff(self) -> tuple[str, str, str | None]:
        return self.args[0], self.args[1], self.args[2] if len(self.args) > 2 else None


def check_name(name: str) -> None:
    """Branch names: letters, digits, ``_ . - /``; no commas (``--on`` splits on them)."""
    if not _NAME_RE.match(name):
        raise BranchCommandError(
            f"invalid branch name {name!r}: use letters, digits, '_', '.', '-' or '/'")


def diff_args(values: list[str] | tuple[str, ...], prefix: str = "--") -> tuple[str, str, str | None]:
    """``A B [TABLE]`` of a diff command."""
    if len(values) not in (2, 3):
        raise BranchCommandError(f"{prefix}diff takes two branches and an optional table: "
                                 f"{prefix}diff A B [TABLE]")
    return values[0], values[1], values[2] if len(values) == 3 else None


def merge_strategy(ours: bool, theirs: bool) -> str:
    """How merge resolves conflicts: 'abort' (report them), 'ours' or 'theirs'."""
    if ours and theirs:
        raise BranchCommandError("choose one of --ours and --theirs")
    return "ours" if ours else "theirs" if theirs else "abort"


def check_merge_options(merge: str | None, into: str | None, strategy: str, prefix: str = "--") -> None:
    if (into or strategy != "abort") and not merge:
        raise BranchCommandError(f"--into, --ours and --theirs go with {prefix}merge SOURCE")


def is_branch_command(line: str) -> bool:
    """Whether ``line`` is ``\\verb ...`` for one of :data:`VERBS`."""
    word = line.strip().split(None, 1)[0] if line.strip() else ""
    return word.startswith("\\") and word[1:] in BY_NAME


def parse_backslash(line: str) -> BranchCommand:
    """``\\fork NAME``, ``\\diff A B [TABLE]``, ``\\merge SRC [--into T] [--ours|--theirs]``..."""
    try:
        words = _words(line.strip())
    except ValueError as exc:
        raise BranchCommandError(f"cannot read {line.strip()!r}: {exc}") from None
    if not words or not words[0].startswith("\\") or words[0][1:] not in BY_NAME:
        known = ", ".join("\\" + v.name for v in VERBS)
        raise BranchCommandError(f"not a branch command: {line.strip()!r}; branch commands: {known}")
    verb = BY_NAME[words[0][1:]]
    values, into, ours, theirs = [], None, False, False
    rest = iter(words[1:])
    for word in rest:
        if word == "--into":
            into = next(rest, None)
            if into is None:
                raise BranchCommandError("--into needs a branch name")
        elif word == "--ours":
            ours = True
        elif word == "--theirs":
            theirs = True
        elif word.startswith("--"):
            raise BranchCommandError(f"unknown option {word} for \\{verb.name}")
        else:
            values.append(word)
    strategy = merge_strategy(ours, theirs)
    check_merge_options(verb.name if verb.name == "merge" else None, into, strategy, prefix="\\")
    usage = f"\\{verb.name}" + (f" {verb.metavar}" if verb.metavar else "")
    if verb.nargs == "+":
        values = list(diff_args(values, prefix="\\"))
        if values[2] is None:
            values.pop()
    elif len(values) != verb.nargs:
        raise BranchCommandError(f"usage: {usage}")
    if verb.name in ("fork",):
        check_name(values[0])
    return BranchCommand(verb.name, tuple(values), into=into, strategy=strategy)


def _words(text: str) -> list[str]:
    """Whitespace-separated words, quotes grouping; backslashes are plain characters."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.escape = ""
    lexer.commenters = ""
    return list(lexer)


def usage_lines(prefix: str = "\\") -> list[str]:
    """One help line per verb (for ``\\?`` in the TUI)."""
    lines = []
    for v in VERBS:
        head = f"{prefix}{v.name}" + (f" {v.metavar}" if v.metavar else "")
        if v.name == "merge":
            head += " [--into TARGET] [--ours|--theirs]"
        lines.append(f"{head:<44} {v.help}")
    return lines
