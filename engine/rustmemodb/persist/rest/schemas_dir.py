"""Zero-code collections: every ``DIR/*.json`` JSON Schema served as a collection.

``SchemaDirectory(app, api, path).start()`` polls the directory (every
``interval`` seconds, by content, so an editor's save-by-rename is seen too) and
for each new or changed file:

* a new collection is created and its routes mounted on the running API;
* a compatible change is applied in place: an added optional field is an
  ``ALTER TABLE ADD COLUMN`` (persist's own rule), a required field made optional
  drops its ``NOT NULL``; the routes are replaced, and the OpenAPI document
  rebuilt;
* an incompatible change (a field's type changed, a field removed, a new required
  field, an optional field made required, a file that is not a JSON Schema) is
  refused with a message naming the file and the reason; the collection keeps its
  old model and routes.

The file name without ``.json`` is the collection name. A deleted file changes
nothing (the table holds data; dropping it is a deliberate SQL ``DROP TABLE``).
Messages go to the ``rustmemodb.persist.rest`` logger and to ``on_message``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from pathlib import Path
from typing import Callable

from ..schema import adapter_for, quote

log = logging.getLogger("rustmemodb.persist.rest")
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def incompatibilities(old: list, new: list) -> list[str]:
    """Why a table of ``old`` fields cannot serve ``new`` ones; [] when it can.

    Both are ``[(name, sql_type, required), ...]`` (a collection's stored form).
    """
    before = {n: (t, r) for n, t, r in old}
    after = {n: (t, r) for n, t, r in new}
    out = []
    for name, (typ, req) in before.items():
        if name not in after:
            out.append(f"field {name!r} removed (its stored values would be hidden)")
            continue
        ntyp, nreq = after[name]
        if ntyp != typ:
            out.append(f"field {name!r} changes type {typ} -> {ntyp}")
        elif nreq and not req:
            out.append(f"field {name!r} becomes required (stored entities may lack it)")
    for name, (typ, req) in after.items():
        if name not in before and req:
            out.append(f"new field {name!r} is required (stored entities have no value; "
                       "make it optional)")
    return out


class SchemaDirectory:
    """Keeps an API's collections in step with a directory of JSON Schema files."""

    def __init__(self, app, api, path, *, interval: float = 0.5,
                 on_message: Callable[[str], None] | None = None) -> None:
        self.app, self.api, self.path = app, api, Path(path)
        self.interval = interval
        self.on_message = on_message
        self._seen: dict[str, str] = {}       # file name -> digest of the last content
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _say(self, message: str, level: int = logging.INFO) -> None:
        log.log(level, message)
        if self.on_message is not None:
            self.on_message(message)

    # ---- one pass -----------------------------------------------------------------
    def scan(self) -> list[str]:
        """Apply every new or changed file once; returns the collections (re)mounted."""
        mounted = []
        for file in sorted(self.path.glob("*.json")):
            try:
                raw = file.read_bytes()
            except OSError:
                continue                      # removed or replaced between glob and read
            digest = hashlib.sha256(raw).hexdigest()
            if self._seen.get(file.name) == digest:
                continue
            self._seen[file.name] = digest
            if self._apply(file, raw):
                mounted.append(file.stem)
        return mounted

    def _refuse(self, file: Path, reasons: list[str]) -> bool:
        self._say(f"schemas: {file.name} refused: {'; '.join(reasons)}. The routes of "
                  f"{file.stem!r} stay as they were.", logging.WARNING)
        return False

    def _apply(self, file: Path, raw: bytes) -> bool:
        name = file.stem
        if not NAME.fullmatch(name) or name.startswith("_"):
            return self._refuse(file, ["a collection name is letters, digits and _, "
                                       "starting with a letter"])
        try:
            schema = json.loads(raw)
            if not isinstance(schema, dict):
                raise ValueError("not a JSON object")
            new = adapter_for(schema).schema_json()
        except Exception as exc:                    # noqa: BLE001 - any bad file
            return self._refuse(file, [f"not a usable JSON Schema ({exc})"])
        old = self._current_fields(name)
        if old is not None:
            reasons = incompatibilities(old, new)
            if reasons:
                return self._refuse(file, reasons)
        try:
            coll = self._migrate(name, schema, old or [], new)
        except Exception as exc:                    # noqa: BLE001 - refused, logged
            return self._refuse(file, [str(exc)])
        table = self.api.state.rest
        existed = name in table.collections
        table.mount(coll)
        added = sorted({f[0] for f in new} - {f[0] for f in (old or [])})
        what = "changed" if existed else "served"
        self._say(f"schemas: {file.name}: {name!r} {what}"
                  + (f" (added field(s) {', '.join(added)})" if old and added else ""))
        return True

    def _current_fields(self, name: str) -> list | None:
        coll = self.app._collections.get(name)
        if coll is not None:
            return coll.adapter.schema_json()
        row = self.app._read(lambda conn: conn.execute(
            'SELECT "model" FROM "_persist_collections" WHERE "name" = ?',
            (name,)).fetchone())
        return None if row is None else [tuple(f) for f in row[0]["fields"]]

    def _migrate(self, name: str, schema: dict, old: list, new: list):
        was_required = {n for n, _, req in old if req}
        relaxed = [n for n, _, req in new if not req and n in was_required]
        if relaxed:
            def drop_not_null(conn):
                for field in relaxed:
                    conn.execute(f"ALTER TABLE {quote(name)} ALTER COLUMN {quote(field)} "
                                 "DROP NOT NULL")
            self.app._run(drop_not_null)
        return self.app.collection(name, schema)

    # ---- the watcher thread ----------------------------------------------------------
    def start(self) -> "SchemaDirectory":
        self.scan()
        self._thread = threading.Thread(target=self._loop, name="rustmemodb-schemas",
                                        daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.scan()
            except Exception as exc:                # noqa: BLE001 - keep watching
                self._say(f"schemas: scan failed: {exc}", logging.ERROR)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


def watch_schemas(app, api, path, *, interval: float = 0.5,
                  on_message: Callable[[str], None] | None = None) -> SchemaDirectory:
    """Serve ``path/*.json`` on ``api`` (from ``create_app(app)``) and keep watching."""
    return SchemaDirectory(app, api, path, interval=interval, on_message=on_message).start()
