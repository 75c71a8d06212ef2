"""``check(path)`` and ``repair(path)``: what is wrong with a database directory, and
the one explicit action that cuts damage away.

    >>> report = rustmemodb.check("./data")        # doctest: +SKIP
    >>> report.ok, report.status, report.problem   # doctest: +SKIP
    (False, 'damaged', 'the write-ahead log is damaged in the middle: ...')
    >>> rustmemodb.repair("./data")                # doctest: +SKIP

``check`` runs exactly the analysis opening runs (``recover.analyse``: every
checksum, the manifest, Arrow validation, the whole log and its replay) and
reports instead of raising. It modifies nothing, takes no lock and may run
while the database is open elsewhere (it then sees a moment of it).

``repair`` takes the directory's lock, and while the analysis finds log damage
it cuts the log there: the damaged segment is copied whole into
``<path>/repair-backup-<UTC time>/`` and truncated at the damaged frame, later
segments are moved there. Torn tails are cut the same way, a damaged newest
checkpoint that the previous one stands in for is moved there too. Commits
after the damage are lost by design: that is the choice repair makes for you,
which opening never does. Damage that cutting the log cannot fix (a checkpoint
with nothing to fall back on) stays XX001.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import errors
from . import open as opening
from .checkpoint import Files
from .damage import Damage
from .problems import io_error, object_in_use
from .recover import analyse
from .wal import (FRAME, MARK_OFFSET, SEGMENT_HEADER_SIZE, create_segment, cut_segment,
                  list_segments, mark_bytes)


@dataclass
class Report:
    """What ``check`` found. ``status``: 'ok', 'torn-tail' (opening will cut a torn log
    tail), 'fallback' (opening will use the previous checkpoint), 'damaged' (opening
    fails with ``sqlstate``) or 'not-a-database'."""
    path: str
    ok: bool
    status: str
    problem: str | None = None
    sqlstate: str | None = None
    file: str | None = None
    offset: int | None = None
    repairable: bool = False
    checkpoint: dict | None = None
    log: dict | None = None
    warnings: list = field(default_factory=list)
    actions: list = field(default_factory=list)    # what repair did
    backup: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        lines = [f"{self.path}: {self.status}"]
        if self.problem:
            lines.append(f"  {self.sqlstate or ''} {self.problem}".rstrip())
        lines += [f"  warning: {w}" for w in self.warnings]
        lines += [f"  repaired: {a}" for a in self.actions]
        return "\n".join(lines)


def check(path) -> Report:
    """Verify a database directory without modifying anything; see the module docstring."""
    directory = Path(os.fspath(path)).expanduser().resolve()
    problem = _marker_problem(directory)
    if problem:
        return Report(str(directory), False, "not-a-database", problem, "58030")
    try:
        rec = analyse(directory, Files())
    except Damage as damage:
        return Report(str(directory), False, "damaged", damage.error().message, "XX001",
                      str(damage.file) if damage.file else None, damage.offset,
                      repairable=damage.cut is not None)
    except OSError as exc:
        return Report(str(directory), False, "damaged", f"cannot read the files: {exc}",
                      "58030")
    status = "fallback" if rec.fallback_from else "torn-tail" if rec.cuts else "ok"
    manifest = rec.manifest
    return Report(
        str(directory), True, status, warnings=list(rec.warnings), repairable=status != "ok",
        checkpoint=None if manifest is None else {
            "manifest": manifest["name"], "lsn": manifest["lsn"],
            "version": manifest["version"], "tables": len(manifest["tables"])},
        log={"segments": len(list_segments(directory / "wal")), "replayed": rec.replayed,
             "last_lsn": rec.last_lsn, "torn_bytes": rec.torn_bytes},
    )


def _marker_problem(directory: Path) -> str | None:
    marker = directory / opening.MARKER
    try:
        content = json.loads(marker.read_text())
    except (OSError, ValueError):
        return f'"{directory}" is not a rustmemodb database directory'
    if not isinstance(content, dict) or content.get("format") != "rustmemodb":
        return f'"{directory}" is not a rustmemodb database directory'
    if content.get("version") != opening.MARKER_CONTENT["version"]:
        return f'"{directory}" was written by an incompatible rustmemodb ' \
               f'(format {content.get("version")!r})'
    return None


def repair(path) -> Report:
    """Cut the damage out of a database directory, keeping a backup of everything cut.
    Returns the ``check`` report of the repaired directory, with ``actions`` and
    ``backup`` filled in. Raises XX001 if the damage cannot be cut away."""
    directory = Path(os.fspath(path)).expanduser().resolve()
    problem = _marker_problem(directory)
    if problem:
        raise io_error(problem)
    with opening._open_lock:
        if str(directory) in opening._open:
            raise object_in_use(f'database "{directory}" is open in this process',
                                hint="Close it first.")
        lock = opening._lock(directory)
    actions: list[str] = []
    backup = directory / time.strftime("repair-backup-%Y%m%dT%H%M%SZ", time.gmtime())
    try:
        for _ in range(1000):
            try:
                rec = analyse(directory, Files())
            except Damage as damage:
                if damage.cut is None:
                    raise damage.error() from None
                _cut(directory, damage, backup, actions)
                continue
            for seg, offset in rec.cuts:
                _save(seg, backup, actions)
                cut_segment(seg, offset)
                actions.append(f"cut the torn tail of {seg.name} at byte offset {offset}")
            if rec.fallback_from:
                damaged = directory / rec.fallback_from
                if damaged.exists():
                    _save(damaged, backup, actions, move=True)
            break
        else:  # pragma: no cover - each round removes something
            raise errors.InternalError("repair did not converge", sqlstate="XX001")
    finally:
        os.close(lock)
    report = check(directory)
    report.actions = actions
    report.backup = str(backup) if backup.exists() else None
    return report


def _save(path: Path, backup: Path, actions: list, move: bool = False) -> None:
    target = backup / path.parent.name / path.name if path.parent.name == "wal" \
        else backup / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    if move:
        os.replace(path, target)
        actions.append(f"moved {path.name} to {target}")
    elif not target.exists():          # keep the first, untouched copy
        shutil.copy2(path, target)


def _cut(directory: Path, damage: Damage, backup: Path, actions: list) -> None:
    where, offset = damage.cut
    wal_dir = directory / "wal"
    if where == wal_dir:             # the segment continuing the checkpoint is missing
        wal_dir.mkdir(exist_ok=True)
        for first, seg in list_segments(wal_dir):
            if first > offset:
                _save(seg, backup, actions, move=True)
        os.close(create_segment(wal_dir, offset))
        actions.append(f"created an empty log segment at LSN {offset} ({damage.message})")
        return
    first = int(where.stem)
    for f, seg in list_segments(wal_dir):
        if f > first:
            _save(seg, backup, actions, move=True)
    if offset <= SEGMENT_HEADER_SIZE:
        _save(where, backup, actions, move=True)
        actions.append(f"removed {where.name} ({damage.message})")
        return
    _save(where, backup, actions)
    cut_segment(where, offset)
    fd = os.open(where, os.O_WRONLY)
    try:
        # nothing recorded durable any more, and zeros after what is kept: it reads as
        # the open segment a crash left (wal.py), not as one truncated after its records
        os.pwrite(fd, mark_bytes(first, 0), MARK_OFFSET)
        os.pwrite(fd, bytes(FRAME.size), offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    actions.append(f"cut {where.name} at byte offset {offset} ({damage.message})")
