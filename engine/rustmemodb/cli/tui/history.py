"""Past inputs and a one-line summary of their outcome, kept between runs.

Stored as JSON lines in ``$XDG_DATA_HOME/rustmemodb/history.jsonl`` (XDG's
default ``~/.local/share`` when unset), appended one entry per run and read
back at start; only the newest ``limit`` entries are loaded. The file is data:
a damaged line is skipped, never evaluated.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path


def data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rustmemodb"


@dataclass
class Entry:
    source: str
    summary: str
    at: str


class History:
    def __init__(self, path: Path | None = None, limit: int = 1000) -> None:
        self.path = path or data_dir() / "history.jsonl"
        self.limit = limit
        self.entries: list[Entry] = self._load()
        self._cursor: int | None = None           # position while recalling with Ctrl+Up/Down

    def _load(self) -> list[Entry]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        out = []
        for line in lines[-self.limit:]:
            try:
                d = json.loads(line)
                out.append(Entry(str(d["source"]), str(d.get("summary", "")), str(d.get("at", ""))))
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def add(self, source: str, summary: str) -> Entry:
        entry = Entry(source, summary, dt.datetime.now().isoformat(timespec="seconds"))
        self.entries.append(entry)
        self._cursor = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(entry.__dict__) + "\n")
        except OSError:
            pass      # a read-only home must not stop the client; the session keeps it
        return entry

    def previous(self) -> str | None:
        if not self.entries:
            return None
        self._cursor = len(self.entries) - 1 if self._cursor is None else max(0, self._cursor - 1)
        return self.entries[self._cursor].source

    def next(self) -> str | None:
        if self._cursor is None:
            return None
        if self._cursor >= len(self.entries) - 1:
            self._cursor = None
            return ""
        self._cursor += 1
        return self.entries[self._cursor].source
