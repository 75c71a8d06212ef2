"""Snapshots of an app's collections, and restoring them under a conflict policy.

``app.snapshot()`` is an O(1) fork of the database (the fork shares every
table's immutable data; nothing is copied). ``app.snapshot(path)`` also writes
each collection as a Parquet file plus ``manifest.json`` (format, time, the
database version, and each collection's schema version and model description),
so a snapshot outlives the process and can be read by any Arrow tool.

``app.restore(snapshot, policy)`` puts a snapshot's entities back, in one
transaction with an audit record per entity written:

* ``"fail_fast"``: an entity whose ``_id`` exists already aborts the restore
  (``ConflictError(kind="unique")``); nothing changes;
* ``"skip_existing"``: existing entities are left as they are;
* ``"overwrite"``: existing entities take the snapshot's field values, with a new
  ``_version`` (current + 1) so optimistic readers notice.

Entities created after the snapshot are kept: restore fills in, it does not roll
back (``Database.restore(root)`` is the whole-database rollback).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path

from .errors import ConflictError, ValidationError
from .schema import SYSTEM_COLUMNS, SYSTEM_DDL, ddl_type, quote

FORMAT = 1
POLICIES = ("fail_fast", "skip_existing", "overwrite")
_SYSTEM_TYPES = {"_id": "UUID", "_version": "INTEGER", "_schema_version": "INTEGER",
                 "_created_at": "TIMESTAMP", "_updated_at": "TIMESTAMP"}


class Snapshot:
    """A frozen copy of an app's collections: a database fork and/or files on disk."""

    def __init__(self, collections: dict, rows_of, *, version: int,
                 created_at: dt.datetime, database=None, path: Path | None = None) -> None:
        self.collections = collections      # name -> {"schema_version", "model"}
        self._rows_of = rows_of
        self.version = version
        self.created_at = created_at
        self.database = database            # the fork (None when loaded from files)
        self.path = path

    def rows(self, name: str) -> list[dict]:
        """The entities of one collection as column dicts (typed Python values)."""
        return self._rows_of(name)

    def connect(self):
        if self.database is None:
            raise ValidationError("a snapshot loaded from files has no database; "
                                  "restore it into an app to query it")
        return self.database.connect()

    @classmethod
    def of_fork(cls, fork) -> "Snapshot":
        conn = fork.connect()
        meta = conn.execute('SELECT "name", "schema_version", "model" FROM '
                            '"_persist_collections"').fetchall()
        collections = {n: {"schema_version": v, "model": m} for n, v, m in meta}

        def rows_of(name):
            cur = conn.execute(f"SELECT * FROM {quote(name)}")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]
        return cls(collections, rows_of, version=fork.root.version,
                   created_at=dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
                   database=fork)

    def write(self, path) -> "Snapshot":
        """Parquet per collection plus manifest.json in directory ``path`` (new or empty)."""
        import pyarrow.parquet as pq
        directory = Path(os.fspath(path))
        directory.mkdir(parents=True, exist_ok=True)
        if any(directory.iterdir()):
            raise ValidationError(f"snapshot directory {directory} is not empty")
        conn = self.connect()
        manifest = {"format": FORMAT, "created_at": self.created_at.isoformat(),
                    "database_version": self.version, "collections": {}}
        for name, meta in sorted(self.collections.items()):
            table = conn.execute(f"SELECT * FROM {quote(name)}").arrow()
            pq.write_table(table, directory / f"{name}.parquet")
            manifest["collections"][name] = {**meta, "file": f"{name}.parquet",
                                             "rows": table.num_rows}
        tmp = directory / "manifest.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=1))
        tmp.replace(directory / "manifest.json")      # the manifest marks it complete
        self.path = directory
        return self

    @classmethod
    def load(cls, path) -> "Snapshot":
        import pyarrow.parquet as pq
        directory = Path(os.fspath(path))
        try:
            manifest = json.loads((directory / "manifest.json").read_text())
        except FileNotFoundError:
            raise ValidationError(f"{directory} holds no snapshot (no manifest.json)") from None
        if manifest.get("format") != FORMAT:
            raise ValidationError(f"unknown snapshot format {manifest.get('format')!r}")
        collections = {n: {"schema_version": m["schema_version"], "model": m["model"]}
                       for n, m in manifest["collections"].items()}

        def rows_of(name):
            types = column_types(collections[name]["model"])
            table = pq.read_table(directory / manifest["collections"][name]["file"])
            return [{k: _from_arrow(v, types.get(k)) for k, v in row.items()}
                    for row in table.to_pylist()]
        return cls(collections, rows_of, version=manifest["database_version"],
                   created_at=dt.datetime.fromisoformat(manifest["created_at"]),
                   path=directory)


def column_types(model: dict) -> dict:
    types = dict(_SYSTEM_TYPES)
    types.update({name: sql for name, sql, _required in model["fields"]})
    return types


def _from_arrow(value, sql_type):
    """Arrow carries UUID and JSON as text; give them back their Python form."""
    if value is None or not isinstance(value, str):
        return value
    if sql_type == "UUID":
        return uuid.UUID(value)
    if sql_type == "JSON":
        return json.loads(value)
    return value


def restore(app, snapshot: Snapshot, policy: str) -> dict:
    """Put the snapshot's entities back under ``policy``; returns counts per outcome."""
    if policy not in POLICIES:
        raise ValidationError(f"restore policy {policy!r}: use one of {', '.join(POLICIES)}")
    from .collection import _now

    def body(conn):
        counts = {"inserted": 0, "skipped": 0, "overwritten": 0}
        for name, meta in sorted(snapshot.collections.items()):
            if name not in app.database.root.tables:
                _create_table(conn, name, meta)
            table = quote(name)
            have = {d[0] for d in conn.execute(f"SELECT * FROM {table} LIMIT 0").description}
            for row in snapshot.rows(name):
                row = {k: v for k, v in row.items() if k in have}
                current = conn.execute(f'SELECT "_version" FROM {table} WHERE "_id" = ?',
                                       (row["_id"],)).fetchone()
                now = _now()
                if current is None:
                    cols = ", ".join(map(quote, row))
                    conn.execute(f"INSERT INTO {table} ({cols}) VALUES "
                                 f"({', '.join('?' * len(row))})", tuple(row.values()))
                    _audit(app, conn, name, row["_id"], None, row["_version"], row, now)
                    counts["inserted"] += 1
                elif policy == "fail_fast":
                    raise ConflictError(f"{name} {row['_id']} exists; restore aborted",
                                        kind="unique", entity_id=row["_id"],
                                        hint="Use policy='skip_existing' or 'overwrite'.")
                elif policy == "skip_existing":
                    counts["skipped"] += 1
                else:
                    fields = {k: v for k, v in row.items() if k not in SYSTEM_COLUMNS}
                    version = current[0] + 1
                    sets = "".join(f"{quote(k)} = ?, " for k in fields)
                    conn.execute(f'UPDATE {table} SET {sets}"_version" = ?, '
                                 f'"_updated_at" = ? WHERE "_id" = ?',
                                 (*fields.values(), version, now, row["_id"]))
                    _audit(app, conn, name, row["_id"], current[0], version, fields, now)
                    counts["overwritten"] += 1
        return counts

    return app._run(body)


def _create_table(conn, name: str, meta: dict) -> None:
    fields = meta["model"]["fields"]
    cols = ", ".join([SYSTEM_DDL] + [f"{quote(n)} {ddl_type(t)}" + (" NOT NULL" if req else "")
                                     for n, t, req in fields])
    conn.execute(f"CREATE TABLE {quote(name)} ({cols})")
    for unique in meta["model"].get("unique", []):
        conn.execute(f"CREATE UNIQUE INDEX {quote(name + '_' + '_'.join(unique) + '_key')} "
                     f"ON {quote(name)} ({', '.join(map(quote, unique))})")
    conn.execute('INSERT INTO "_persist_collections" VALUES (?, ?, ?)',
                 (name, meta["schema_version"], meta["model"]))


def _audit(app, conn, name, entity_id, before, after, fields, at) -> None:
    from .collection import next_seq
    changed = sorted(k for k in fields if k not in SYSTEM_COLUMNS)
    app._write_audit(conn, next_seq(), name, entity_id, "restore", at, before, after,
                     changed)
