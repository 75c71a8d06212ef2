"""Collection: CRUD over one table of versioned entities, through SQL.

Each entity is a row (system columns ``_id``, ``_version``, ``_schema_version``,
``_created_at``, ``_updated_at`` plus one column per model field; nested data
in JSON columns), so a collection is queryable as plain SQL and forks, diffs and
undo work on it like on any table. Every mutation runs in one transaction with
its audit record and, when given an idempotency key, the key and the original
result: a crash can never leave a change without its key (a retried request then
replays) or a key without its change.

Optimistic concurrency: ``expected_version`` is checked inside the transaction
that makes the change, and the engine's first-committer-wins check (40001 on
two commits updating the same row) catches the race between the check and the
commit; the app retries such write-write conflicts, and the retry sees the new
version, so a stale ``expected_version`` then fails as ``kind="version"``.
"""
from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
import re
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..auth.check import require_table_privilege
from .app import as_system
from .errors import ConflictError, IdempotencyError, NotFoundError, ValidationError
from .ids import uuid4
from .schema import (SYSTEM_COLUMNS, SYSTEM_DDL, ModelAdapter, adapter_for, ddl_type,
                     json_default, quote, to_json_value)

_SYSTEM_TYPES = {"_id": "UUID", "_version": "INTEGER", "_schema_version": "INTEGER",
                 "_created_at": "TIMESTAMP", "_updated_at": "TIMESTAMP"}
_ORDER_ITEM = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(ASC|DESC)?\s*$", re.IGNORECASE)


@dataclass
class Page:
    """One page of a query: ``total`` matching entities, ``items`` on this page."""
    total: int
    items: list
    page: int = 1
    size: int = 50

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size)) if self.size else 1

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class AuditRecord:
    collection: str
    entity_id: uuid.UUID
    operation: str              # create | patch | apply:<command> | delete
    at: dt.datetime             # UTC
    actor: str | None
    version_before: int | None
    version_after: int | None
    changed: list = field(default_factory=list)


_seq_lock = threading.Lock()
_last_seq = 0


def next_seq() -> int:
    """Audit order: wall-clock nanoseconds, forced strictly increasing in this process."""
    global _last_seq
    with _seq_lock:
        _last_seq = max(_last_seq + 1, time.time_ns())
        return _last_seq


class BatchStep:
    """A migration step over all rows at once, as an Arrow table (``batch_step(fn)``).

    ``fn`` gets a ``pyarrow.Table`` of the stored fields (one row per entity, in a
    fixed order) and returns a table with the same number of rows, in the same order,
    holding the new model's fields (vectorised work: ``pyarrow.compute`` over columns).
    """

    def __init__(self, fn: Callable) -> None:
        self.fn = fn

    def run(self, datas: list[dict]) -> list[dict]:
        import pyarrow as pa
        out = self.fn(pa.Table.from_pylist(datas))
        if out.num_rows != len(datas):
            raise ValidationError(f"a batch migration step returned {out.num_rows} rows "
                                  f"for {len(datas)}")
        return out.to_pylist()


def batch_step(fn: Callable) -> BatchStep:
    """Mark ``fn(pyarrow.Table) -> pyarrow.Table`` as an Arrow-batch migration step."""
    return BatchStep(fn)


_SYSTEM_STORED = (0, 1, 2, 3, 4)     # positions of SYSTEM_COLUMNS in a created row


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _uuid(value) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(f"{value!r} is not an entity id (UUID)") from None


class Collection:
    def __init__(self, app, name: str, model, *, unique=(), index=(), schema_version: int = 1,
                 migrations: dict[int, Callable[[dict], dict]]) -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
            raise ValidationError(f"collection name {name!r}: use letters, digits and _")
        self.app = app
        self.name = name
        self.model = model
        self.adapter: ModelAdapter = adapter_for(model)
        self.schema_version = schema_version
        self.unique = tuple(dict.fromkeys(
            [_as_tuple(u) for u in unique] + list(getattr(self.adapter, "unique", ()))))
        self.index = tuple(_as_tuple(i) for i in index)
        self._types = dict(_SYSTEM_TYPES)
        self._types.update({f.name: f.sql_type for f in self.adapter.fields})
        for cols in self.unique + self.index:
            for c in cols:
                if c not in self._types:
                    raise ValidationError(f"{name}: no field {c!r} to index")
        self._table = quote(name)
        self._insert_sql: dict[tuple, str] = {}
        self._create_shape: dict[tuple, tuple] = {}
        # pydantic adapters always build a new instance in validate(), so a create can
        # hand that instance back; others may return the caller's own object
        self._fresh_entities = self.adapter.kind in ("pydantic", "union")
        app._run(lambda conn: self._ensure_table(conn, migrations))

    # ---- table setup and migrations ---------------------------------------------------
    def _ensure_table(self, conn, migrations) -> None:
        stored = conn.execute('SELECT "schema_version" FROM "_persist_collections" '
                              'WHERE "name" = ?', (self.name,)).fetchone()
        if self.name not in self.app.database.root.tables:
            cols = ", ".join([SYSTEM_DDL] + [f.ddl for f in self.adapter.fields])
            conn.execute(f"CREATE TABLE {self._table} ({cols})")
            for cols in self.unique:
                name = quote(f"{self.name}_{'_'.join(cols)}_key")
                conn.execute(f"CREATE UNIQUE INDEX {name} ON {self._table} "
                             f"({', '.join(map(quote, cols))})")
            for cols in self.index:
                name = quote(f"{self.name}_{'_'.join(cols)}_idx")
                conn.execute(f"CREATE INDEX {name} ON {self._table} "
                             f"({', '.join(map(quote, cols))})")
        else:
            migrating = stored is not None and stored[0] < self.schema_version and any(
                stored[0] < v <= self.schema_version for v in migrations)
            self._add_new_columns(conn, migrating)
        if stored is None:
            conn.execute('INSERT INTO "_persist_collections" VALUES (?, ?, ?)',
                         (self.name, self.schema_version, self._model_json()))
            return
        old = stored[0]
        if old > self.schema_version:
            raise ValidationError(f"{self.name} is at schema version {old}, newer than "
                                  f"this model's {self.schema_version}")
        if old < self.schema_version:
            self._migrate(conn, old, migrations)
        conn.execute('UPDATE "_persist_collections" SET "schema_version" = ?, "model" = ? '
                     'WHERE "name" = ?', (self.schema_version, self._model_json(), self.name))

    def _model_json(self):
        return {"kind": self.adapter.kind, "fields": self.adapter.schema_json(),
                "unique": [list(u) for u in self.unique]}

    def _add_new_columns(self, conn, migrating: bool) -> None:
        """An optional field the stored table lacks is an ALTER TABLE, not a migration.

        A new required field needs a migration step to fill it: its column is then
        added nullable (the model, not the column, requires it), as PostgreSQL cannot
        add a NOT NULL column without a default to a table that has rows.
        """
        cur = conn.execute(f"SELECT * FROM {self._table} LIMIT 0")
        have = {d[0] for d in cur.description}
        for f in self.adapter.fields:
            if f.name in have:
                continue
            if f.required and not migrating:
                raise ValidationError(
                    f"{self.name}: new required field {f.name!r} needs a default or a "
                    "migration step", hint="Make it optional, or bump schema_version "
                    "and add a migration that fills it.")
            conn.execute(f"ALTER TABLE {self._table} ADD COLUMN {quote(f.name)} "
                         f"{ddl_type(f.sql_type)}")

    def _migrate(self, conn, old: int, migrations) -> None:
        steps = [v for v in sorted(migrations) if old < v <= self.schema_version]
        if not steps:
            conn.execute(f'UPDATE {self._table} SET "_schema_version" = ?',
                         (self.schema_version,))
            return
        rows = self._select(conn, "", ())
        datas = [{k: row[k] for k in self.adapter.field_names if k in row} for row in rows]
        for v in steps:
            step = migrations[v]
            if isinstance(step, BatchStep):
                datas = step.run(datas)
            else:
                datas = [step(dict(d)) for d in datas]
        for row, data in zip(rows, datas):
            entity = self.adapter.validate(data)
            values = self.adapter.column_values(entity)
            sets = ", ".join(f"{quote(k)} = ?" for k in values)
            conn.execute(f'UPDATE {self._table} SET {sets}, "_schema_version" = ? '
                         f'WHERE "_id" = ?',
                         (*values.values(), self.schema_version, row["_id"]))

    # ---- reading ----------------------------------------------------------------------
    def _select(self, conn, clause: str, params: tuple) -> list[dict]:
        cur = conn.execute(f"SELECT * FROM {self._table} {clause}", params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    def _row(self, conn, entity_id) -> dict | None:
        rows = self._select(conn, 'WHERE "_id" = ?', (_uuid(entity_id),))
        return rows[0] if rows else None

    def get(self, entity_id):
        """The entity with this id, or None."""
        row = self.app._read(lambda conn: self._lookup(conn, entity_id))
        return None if row is None else self.adapter.from_row(row)

    def _lookup(self, conn, entity_id) -> dict | None:
        """``_row`` by the engine's primary-key probe when it can stand in for the
        SELECT (outside a transaction, no role: ``Connection.lookup``), else by SQL."""
        found = conn.lookup(self.name, _uuid(entity_id))
        return self._row(conn, entity_id) if found is False else found

    def _where(self, where, equals: dict) -> tuple[str, list]:
        parts, params = [], []
        if isinstance(where, dict):
            equals = {**where, **equals}
        elif isinstance(where, str):
            parts.append(f"({where})")
        elif isinstance(where, tuple) and len(where) == 2 and isinstance(where[0], str):
            parts.append(f"({where[0]})")
            params.extend(where[1])
        elif where is not None:
            raise ValidationError("where is a dict of field values, SQL text, or "
                                  "(SQL text, parameters)")
        for k, v in equals.items():
            if k not in self._types:
                raise ValidationError(f"{self.name} has no field {k!r}")
            if v is None:
                parts.append(f"{quote(k)} IS NULL")
            else:
                parts.append(f"{quote(k)} = ?")
                if self._types[k] == "JSON":
                    v = to_json_value(v)
                elif isinstance(v, enum.Enum):
                    v = v.value
                params.append(v)
        return (" WHERE " + " AND ".join(parts)) if parts else "", params

    def _order(self, order_by) -> str:
        if order_by is None:
            return ' ORDER BY "_created_at", "_id"'
        items = order_by.split(",") if isinstance(order_by, str) else list(order_by)
        out = []
        for item in items:
            m = _ORDER_ITEM.match(item)
            if not m or m.group(1) not in self._types:
                raise ValidationError(f"order_by {item!r}: use 'field' or 'field DESC' "
                                      f"with a field of {self.name}")
            out.append(quote(m.group(1)) + (" DESC" if (m.group(2) or "").upper() == "DESC"
                                            else ""))
        return " ORDER BY " + ", ".join(out + ['"_id"'])

    def query(self, where=None, order_by=None, page: int = 1, size: int = 50,
              **equals) -> Page:
        """Entities matching ``where`` (dict, SQL text, or (SQL, params)), one page."""
        if page < 1 or size < 1:
            raise ValidationError("page and size start at 1")
        clause, params = self._where(where, equals)
        order = self._order(order_by)

        def body(conn):
            total = conn.execute(f"SELECT count(*) FROM {self._table}{clause}",
                                 params).fetchone()[0]
            rows = self._select(conn, f"{clause}{order} LIMIT {int(size)} "
                                      f"OFFSET {int((page - 1) * size)}", tuple(params))
            return total, rows

        total, rows = self.app._run(body)
        return Page(total, [self.adapter.from_row(r) for r in rows], page, size)

    def find_first(self, where=None, order_by=None, **equals):
        page = self.query(where, order_by, 1, 1, **equals)
        return page.items[0] if page.items else None

    def list_page(self, offset: int = 0, limit: int = 50, order_by=None) -> list:
        if offset < 0 or limit < 0:
            raise ValidationError("offset and limit are not negative")
        order = self._order(order_by)
        rows = self.app._read(lambda conn: self._select(
            conn, f"{order} LIMIT {int(limit)} OFFSET {int(offset)}", ()))
        return [self.adapter.from_row(r) for r in rows]

    def count(self, where=None, **equals) -> int:
        clause, params = self._where(where, equals)
        return self.app._read(lambda conn: conn.execute(
            f"SELECT count(*) FROM {self._table}{clause}", params).fetchone()[0])

    def __len__(self) -> int:
        return self.count()

    def audits(self, entity_id) -> list[AuditRecord]:
        """The audit trail of one entity, oldest first."""
        eid = _uuid(entity_id)

        def body(conn):
            # an entity's trail is as readable as the entity (SELECT on the collection)
            require_table_privilege(conn._session, self.name, "SELECT")
            with as_system(conn):
                cur = conn.execute('SELECT "collection", "entity_id", "operation", "at", '
                                   '"actor", "version_before", "version_after", "changed", '
                                   '"seq" FROM "_persist_audit" WHERE "entity_id" = ? AND '
                                   '"collection" = ?', (eid, self.name))
                return cur.fetchall()

        rows = sorted(self.app._read(body), key=lambda r: r[8])
        return [AuditRecord(*r[:7], changed=list(r[7] or [])) for r in rows]

    # ---- writing ----------------------------------------------------------------------
    def create(self, data, idempotency_key: str | None = None, validated=None):
        """Insert a new entity (version 1); returns it with ``_id`` and ``_version``.

        ``validated``: what ``self.adapter.validate(data)`` returned for this very
        ``data``, when the caller has it already (the REST layer validates a body
        before it creates): it is stored and returned instead of validating again."""
        if idempotency_key is None:
            return self.app._run(lambda conn: self._create(conn, data, None, validated))
        return self.app._run(lambda conn: self._idempotent(
            conn, "create", idempotency_key, data,
            lambda: self._create(conn, data, None, validated)))

    def create_many(self, items: Iterable) -> list:
        """Insert all or none."""
        items = list(items)
        return self.app._run(lambda conn: [self._create(conn, d) for d in items])

    def patch(self, entity_id, changes: dict, expected_version: int | None = None,
              idempotency_key: str | None = None):
        """Change some fields; ``expected_version`` guards against lost updates."""
        payload = {"id": str(entity_id), "changes": changes, "expected": expected_version}
        return self.app._run(lambda conn: self._idempotent(
            conn, "patch", idempotency_key, payload,
            lambda: self._patch(conn, entity_id, expected_version, "patch",
                                lambda e: self.adapter.merge(e, dict(changes)))))

    def patch_many(self, changes: Iterable) -> list:
        """``[(id, changes) or (id, changes, expected_version), ...]``, all or none."""
        items = [tuple(c) for c in changes]
        return self.app._run(lambda conn: [
            self._patch(conn, c[0], c[2] if len(c) > 2 else None, "patch",
                        lambda e, ch=c[1]: self.adapter.merge(e, dict(ch)))
            for c in items])

    def apply(self, entity_id, command, *args, expected_version: int | None = None,
              idempotency_key: str | None = None, **kwargs):
        """Run a model method (by name, or a function of the entity) and store the result.

        The method may change the entity in place or return a new instance.
        """
        label = command if isinstance(command, str) else getattr(command, "__name__", "fn")

        def change(entity):
            fn = getattr(entity, command) if isinstance(command, str) else \
                (lambda *a, **k: command(entity, *a, **k))
            result = fn(*args, **kwargs)
            target = result if isinstance(result, type(entity)) else entity
            return self.adapter.validate(self.adapter.values(target))

        payload = {"id": str(entity_id), "command": label, "args": to_json_value(list(args)),
                   "kwargs": to_json_value(kwargs), "expected": expected_version}
        return self.app._run(lambda conn: self._idempotent(
            conn, "apply", idempotency_key, payload,
            lambda: self._patch(conn, entity_id, expected_version, f"apply:{label}", change)))

    def delete(self, entity_id, expected_version: int | None = None,
               idempotency_key: str | None = None):
        """Remove the entity; returns its last state."""
        payload = {"id": str(entity_id), "expected": expected_version}
        return self.app._run(lambda conn: self._idempotent(
            conn, "delete", idempotency_key, payload,
            lambda: self._delete(conn, entity_id, expected_version)))

    def delete_many(self, ids: Iterable) -> list:
        """``[id or (id, expected_version), ...]``, all or none."""
        items = [i if isinstance(i, tuple) else (i, None) for i in ids]
        return self.app._run(lambda conn: [self._delete(conn, i, v) for i, v in items])

    # ---- the mutations themselves (inside a transaction) ------------------------------
    def _create(self, conn, data, entity_id=None, validated=None) -> Any:
        parts = self._create_parts(data, entity_id, validated)
        # Row and audit record straight into the transaction as one statement (the
        # INSERT's conversions and constraints, without its SQL round); SQL when the
        # connection cannot (a role, READ COMMITTED, a table whose columns moved).
        if not conn.append([(self.name, parts[4], [parts[5]], _SYSTEM_STORED), parts[6]]):
            self._create_sql(conn, parts)
        return self._created(parts)

    def create_batch(self, items: list) -> list:
        """``[(data, validated), ...]`` created in one transaction (all or none), their
        rows and audit records appended as one statement: what ``create`` does for
        each, at a fraction of the cost per entity (the REST layer's group of
        concurrent unkeyed creates: rest/inline.py). ``validated`` as for ``create``
        (or None)."""
        return self.app._run(lambda conn: self._create_batch(conn, items))

    def _create_batch(self, conn, items: list) -> list:
        parts = [self._create_parts(d, None, v) for d, v in items]
        columns = parts[0][4]
        audit = parts[0][6]
        if not all(p[4] == columns for p in parts) or not conn.append([
                (self.name, columns, [p[5] for p in parts], _SYSTEM_STORED),
                (audit[0], audit[1], [p[6][2][0] for p in parts], audit[3])]):
            for p in parts:
                if not conn.append([(self.name, p[4], [p[5]], _SYSTEM_STORED), p[6]]):
                    self._create_sql(conn, p)
        return [self._created(p) for p in parts]

    def _create_parts(self, data, entity_id, validated) -> tuple:
        """(entity, column values, now, id, columns, row, audit batch) of a create."""
        entity = self.adapter.validate(data) if validated is None else validated
        values = self.adapter.column_values(entity)
        now = _now()
        # A caller-chosen id (the entity runtime's create commands, replayed from the
        # journal, must recreate the same entity); otherwise a new random one.
        eid = uuid4() if entity_id is None else _uuid(entity_id)
        names = tuple(values)
        shape = self._create_shape.get(names)
        if shape is None:
            columns = SYSTEM_COLUMNS + names
            shape = self._create_shape[names] = (columns, sorted(names))
        columns, changed = shape
        # The system columns are made here, in storage form (the id as text, naive UTC
        # clock): only the model's fields go through the engine's parameter conversion.
        item = (str(eid), 1, self.schema_version, now, now, *values.values())
        audit = self.app._audit_batch(next_seq(), self.name, eid, "create", now, None, 1,
                                      changed)
        return entity, values, now, eid, columns, item, audit

    def _create_sql(self, conn, parts) -> None:
        """A create's row and audit record as SQL (see ``_create``)."""
        eid, columns, item, audit = parts[3], parts[4], parts[5], parts[6]
        sql = self._insert_sql.get(columns)
        if sql is None:
            sql = self._insert_sql[columns] = (
                f"INSERT INTO {self._table} ({', '.join(map(quote, columns))}) "
                f"VALUES ({', '.join('?' * len(columns))})")
        conn.execute(sql, (eid, *item[1:]))
        with as_system(conn):       # the record is the app's, whatever the role
            if not conn.append([audit]):
                self.app._audit_sql(conn, audit)

    def _created(self, parts):
        """The entity a create returns."""
        entity, values, now, eid = parts[0], parts[1], parts[2], parts[3]
        if self._fresh_entities:
            # validate() made this instance from the data: it is the result (the
            # stored row would only validate back into the same values)
            set_attr = object.__setattr__
            set_attr(entity, "_id", eid)
            set_attr(entity, "_version", 1)
            set_attr(entity, "_schema_version", self.schema_version)
            set_attr(entity, "_created_at", now)
            set_attr(entity, "_updated_at", now)
            return entity
        return self.adapter.from_row({"_id": eid, "_version": 1,
                                      "_schema_version": self.schema_version,
                                      "_created_at": now, "_updated_at": now, **values})

    def _current(self, conn, entity_id, expected_version) -> dict:
        row = self._row(conn, entity_id)
        if row is None:
            raise NotFoundError(f"{self.name} has no entity {entity_id}")
        if expected_version is not None and row["_version"] != expected_version:
            raise ConflictError(
                f"{self.name} {entity_id} is at version {row['_version']}, not the expected "
                f"{expected_version}", kind="version", entity_id=row["_id"],
                expected_version=expected_version, actual_version=row["_version"],
                hint="Re-read the entity and apply the change again.")
        return row

    def _patch(self, conn, entity_id, expected_version, operation: str, change):
        row = self._current(conn, entity_id, expected_version)
        entity = change(self.adapter.from_row(row))
        values = self.adapter.column_values(entity)
        changed = {k: v for k, v in values.items() if row.get(k) != v}
        now = _now()
        version = row["_version"] + 1
        sets = "".join(f"{quote(k)} = ?, " for k in changed)
        conn.execute(f'UPDATE {self._table} SET {sets}"_version" = ?, "_updated_at" = ? '
                     f'WHERE "_id" = ?', (*changed.values(), version, now, row["_id"]))
        self._audit(conn, row["_id"], operation, row["_version"], version, sorted(changed), now)
        if self._fresh_entities:     # validated once already, by merge() or apply()
            set_attr = object.__setattr__
            for name in SYSTEM_COLUMNS:
                set_attr(entity, name, row.get(name))
            set_attr(entity, "_version", version)
            set_attr(entity, "_updated_at", now)
            return entity
        return self.adapter.from_row({**row, **values, "_version": version, "_updated_at": now})

    def _delete(self, conn, entity_id, expected_version):
        row = self._current(conn, entity_id, expected_version)
        conn.execute(f'DELETE FROM {self._table} WHERE "_id" = ?', (row["_id"],))
        self._audit(conn, row["_id"], "delete", row["_version"], None, [], _now())
        return self.adapter.from_row(row)

    def _audit(self, conn, entity_id, operation, before, after, changed, at) -> None:
        with as_system(conn):
            self.app._write_audit(conn, next_seq(), self.name, entity_id, operation, at,
                                  before, after, changed)

    # ---- idempotency ------------------------------------------------------------------
    def _idempotent(self, conn, operation: str, key: str | None, payload, run,
                    encode=None, decode=None):
        """``run()`` once per (collection, operation, key); a replay returns the stored
        result. ``encode``/``decode`` (JSON-ready value <-> result) default to entities;
        the REST layer's ``_bulk`` stores its JSON response instead."""
        if key is None:
            return run()
        scope = f"{self.name}\x1f{operation}\x1f{key}"
        if self.app.role is not None:     # one role's key never replays another's result
            scope += f"\x1f{self.app.role}"
        digest = hashlib.sha256(json.dumps(to_json_value(payload), sort_keys=True,
                                           default=json_default).encode()).hexdigest()
        now = _now()
        with as_system(conn):
            hit = conn.execute('SELECT "payload_hash", "result", "expires_at" FROM '
                               '"_persist_idempotency" WHERE "scope" = ?', (scope,)).fetchone()
        if hit is not None:
            if hit[2] > now:
                if hit[0] != digest:
                    raise IdempotencyError(
                        f"idempotency key {key!r} was used for {self.name}.{operation} "
                        "with a different payload",
                        hint="Use a new key for a different request.")
                return (decode or self._decode)(hit[1])
            with as_system(conn):
                conn.execute('DELETE FROM "_persist_idempotency" WHERE "scope" = ?', (scope,))
        result = run()
        expires = now + dt.timedelta(seconds=self.app.idempotency_ttl_s)
        with as_system(conn):
            conn.execute('INSERT INTO "_persist_idempotency" VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                         (scope, self.name, operation, key, digest,
                          (encode or self._encode)(result), now, expires))
        return result

    def _encode(self, entity) -> dict:
        row = {k: getattr(entity, k, None) for k in SYSTEM_COLUMNS}
        row.update(self.adapter.column_values(entity))
        return to_json_value(row)

    def _decode(self, stored: dict):
        row = {}
        for k, v in stored.items():
            typ = self._types.get(k)
            if v is not None and typ == "UUID":
                v = uuid.UUID(v)
            elif v is not None and typ == "TIMESTAMP":
                v = dt.datetime.fromisoformat(v)
            elif v is not None and typ == "DATE":
                v = dt.date.fromisoformat(v)
            row[k] = v
        return self.adapter.from_row(row)

    # ---- change feed ------------------------------------------------------------------
    def watch(self, callback):
        """Call ``callback(diff)`` after each commit that changed this collection.

        ``diff`` is a ``branch.diff.Diff`` of the table between the roots before and
        after the commit (added / removed / changed rows keyed by ``_id``), read from
        the rows the commit wrote (``Changed.rowids``, the live grid's delta path), so
        a 1-row change costs one row on each side whatever the collection's size; a
        commit without a row list (DDL, a restore) is diffed chunk by chunk. Runs in the committing thread, outside the commit lock. Returns the
        ``Subscription``; a bound-method callback is held weakly.
        """
        from ..branch.diff import diff_rows, diff_versions
        if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
            ref = weakref.WeakMethod(callback)
        else:
            ref = lambda: callback  # noqa: E731 - a strong reference, same call shape
        name = self.name
        sub = None

        def on_commit(old, new, tables):
            if name not in tables:
                return
            cb = ref()
            if cb is None:
                sub.cancel()
                return
            va, vb = old.tables.get(name), new.tables.get(name)
            rowids = tables.rowids(name) if hasattr(tables, "rowids") else None
            found = diff_rows(name, va, vb, rowids)
            cb(found if found is not None else diff_versions(name, va, vb))

        sub = self.app.database.subscribe(on_commit)
        return sub

    def __repr__(self) -> str:
        return f"<Collection {self.name} of {self.adapter.describe()}>"


def _as_tuple(cols) -> tuple:
    return (cols,) if isinstance(cols, str) else tuple(cols)
