"""A transaction: a snapshot root, a private working root and a log of changes.

Snapshot isolation falls out of immutability. ``BEGIN`` keeps a reference to the
committed root (the snapshot); every write builds a new *private* root on top of
it, which only this transaction sees. Readers therefore never block writers and
never see uncommitted data: other sessions keep reading their own roots.

        committed roots:  R5 ──────── R6 (other txn) ──── R7 = rebase(ours, R6)
                           │                              ▲
        our transaction:   └─ W1 ── W2 (private) ─ COMMIT ┘

Besides the working root the transaction records *what* it did (``ops``), as
logical changes: rows inserted, rows updated in place, rowids deleted, tables
replaced by DDL. When
someone else committed since our snapshot, ``commit.py`` checks the two write
sets for overlap (first committer wins, ``40001``) and otherwise replays our ops
on the newer root. A failed statement truncates ``ops`` and restores the working
root to its value before the statement, so it leaves no trace.

Two more things are recorded for conflict checks (txn/commit.py): the parent keys
that foreign-key checks relied on (``fk_reads``) and the referenced keys this
transaction removed by deleting or re-keying parent rows (``fk_removed``), so a
child insert and a concurrent delete of its parent cannot both commit. A READ
COMMITTED transaction also keeps the statements it ran (``statements``), to run
them again on a newer root when a conflict would otherwise fail it
(txn/isolation.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace as replace_def
from typing import TYPE_CHECKING, Any

from .. import errors
from ..lazy_import import arrow as pa, numpy as np
from ..storage import sequence_defs
from ..storage.root import Root, ViewDef, replace, with_composite, with_domain, with_enum

if TYPE_CHECKING:
    from ..storage.table import TableVersion


@dataclass
class InsertOp:
    table: str
    rows: list          # row tuples in storage form
    rowids: list        # rowids given in the private version


@dataclass
class BulkInsertOp:
    table: str
    data: pa.Table
    rowids: np.ndarray


@dataclass
class DeleteOp:
    table: str
    rowids: list


@dataclass
class UpdateOp:
    """Rows changed in place: each keeps its rowid (TableVersion.update_rows)."""
    table: str
    rowids: list
    rows: list          # the new row tuples, in storage form
    # The rowids as a set while later UPDATEs of other rows may still extend this op
    # (Transaction.update_rows); None once built elsewhere (replay, the log).
    seen: set | None = field(default=None, repr=False, compare=False)


@dataclass
class BulkUpdateOp:
    """A set-based UPDATE in place (TableVersion.update_arrow): rowids keep their rows."""
    table: str
    rowids: np.ndarray  # ascending
    data: pa.Table      # the new rows, aligned with rowids


@dataclass
class ReplaceTableOp:
    """DDL: the table's new version (None = dropped). Conflicts with any concurrent touch."""
    table: str
    version: TableVersion | None


@dataclass
class ViewOp:
    name: str
    view: ViewDef | None


@dataclass
class AuthOp:
    """Roles, owners or grants changed: the whole new catalog (storage/roles.py; tiny).
    Conflicts with any concurrent change of the catalog (txn/commit.py)."""
    catalog: object


@dataclass
class LockOp:
    """SELECT ... FOR UPDATE / SHARE: rows this transaction locked. They change nothing
    and are not logged, but count as written in conflict checks (txn/commit.py), so a
    concurrent transaction that changes one of them and this one cannot both commit:
    first committer wins, the other gets 40001."""
    table: str
    rowids: list
    exclusive: bool = True      # FOR [NO KEY] UPDATE; False: FOR [KEY] SHARE


@dataclass
class FunctionOp:
    name: str
    function: Any                # storage.root.FunctionDef, or None: dropped


@dataclass
class EnumOp:
    """CREATE TYPE ... AS ENUM / ALTER TYPE (the new labels) or DROP TYPE (None)."""
    name: str
    labels: tuple | None


@dataclass
class CompositeOp:
    """CREATE TYPE ... AS (...) / ALTER TYPE (the new type string) or DROP TYPE (None)."""
    name: str
    sql_type: str | None


@dataclass
class DomainOp:
    """CREATE / ALTER DOMAIN (the new definition) or DROP DOMAIN (None)."""
    name: str
    domain: Any                  # storage.root.DomainDef, or None: dropped


@dataclass
class SequenceOp:
    name: str
    value: int | None            # None: the sequence was dropped


@dataclass
class SequenceDefOp:
    """CREATE/ALTER SEQUENCE options (storage/sequence_defs.py), or None: dropped."""
    name: str
    definition: Any


# Ops that later statements of the same kind on the same table extend in place.
_EXTENDED = (InsertOp, UpdateOp)


class _Pending:
    """Rows of single-row INSERTs into one table not yet applied to the working root
    (Transaction.insert_row_deferred), with the keys they take in each UNIQUE index."""

    __slots__ = ("table", "version", "rows", "keys")

    def __init__(self, table: str, version) -> None:
        self.table = table
        self.version = version      # the table as the rows will be applied to it
        self.rows: list = []
        self.keys = [(index, set()) for index in version.indexes.values()]

    def add(self, row: tuple) -> None:
        """Append ``row``, or raise 23505 (and append nothing) if it takes a key."""
        keys = []
        for index, taken in self.keys:
            key = index.stored_key(row)
            if key is not None:
                if key in taken or index.get(key) is not None:
                    raise self.version._unique_violation(index, key)
                keys.append(key)
            else:
                keys.append(None)
        for (_, taken), key in zip(self.keys, keys):
            if key is not None:
                taken.add(key)
        self.rows.append(row)

    def truncated(self, count: int) -> "_Pending | None":
        """Only the first ``count`` rows (a statement's rollback), or None if none."""
        if count < len(self.rows):
            for row in self.rows[count:]:
                for index, taken in self.keys:
                    taken.discard(index.stored_key(row))
            del self.rows[count:]
        return self if self.rows else None


class Transaction:
    """One unit of work against a Database; see the module docstring."""

    __slots__ = ("snapshot", "_working", "_ops", "_pending", "explicit", "failed",
                 "isolation", "statements", "queries", "fk_reads", "fk_removed", "drawn",
                 "read_only", "base_modes", "claims", "marks", "reset_sequences", "deferred_checks",
                 "constraint_modes", "__weakref__")

    def __init__(self, snapshot: Root, explicit: bool) -> None:
        self.snapshot = snapshot
        self._working = snapshot
        self._ops: list = []
        self._pending: _Pending | None = None   # single-row INSERTs not yet applied
        self.explicit = explicit      # BEGIN'd (else an autocommit statement)
        self.failed = False           # an error happened: only ROLLBACK is accepted
        self.isolation = "repeatable read"   # txn/isolation.py: the level in force
        self.read_only = False        # BEGIN READ ONLY / SET TRANSACTION READ ONLY: 25006
        # (isolation, read_only) an abort leaves: the modes it began with, not SET (session)
        self.base_modes = ("repeatable read", False)
        # READ COMMITTED only: (prepared, parameter values) of each statement run, so
        # the transaction can be run again on a newer root (None: not recorded).
        self.statements: list | None = None
        self.queries = 0              # statements run so far (SET TRANSACTION must be first)
        # (parent table, referenced columns, key): keys FK checks found in a parent, and
        # keys this transaction removed from a referenced table (None until the first).
        self.fk_reads: set | None = None
        self.fk_removed: set | None = None
        # The owning session's sequence -> last drawn value map (session.py), or None.
        self.drawn: dict | None = None
        # The Database's RowClaims (txn/row_claims.py) when registered as open, so
        # SKIP LOCKED and NOWAIT can see the other open transactions' claims.
        self.claims = None
        # The Database's SequenceMarks (txn/sequence_marks.py) when registered: nextval()
        # draws past every value handed out, as PostgreSQL's; and the sequences this
        # transaction set itself (setval, RESTART, CREATE, DROP), drawn from its own value.
        self.marks = None
        self.reset_sequences: set | None = None
        # Foreign-key checks a DEFERRABLE constraint put off until COMMIT (entries of
        # exec/deferred_checks.py), and SET CONSTRAINTS' modes: {name or None (ALL):
        # deferred?}, the later a setting the more it counts (None: none given).
        self.deferred_checks: list | None = None
        self.constraint_modes: dict | None = None

    # The working root and the ops, with any pending INSERTs applied first: whoever
    # reads either (the next statement, a commit, a catalog, a check) sees every row
    # inserted so far, so deferring them is invisible (see ``insert_row_deferred``).
    @property
    def working(self) -> Root:
        if self._pending is not None:
            self._apply_pending()
        return self._working

    @working.setter
    def working(self, root: Root) -> None:
        if self._pending is not None:
            self._apply_pending()
        self._working = root

    @property
    def ops(self) -> list:
        if self._pending is not None:
            self._apply_pending()
        return self._ops

    @ops.setter
    def ops(self, ops: list) -> None:
        if self._pending is not None:
            self._apply_pending()
        self._ops = ops

    @property
    def catalog_root(self) -> Root:
        """The working root for what pending INSERTs do not change (schemas, views,
        functions: a cached plan's validity), without applying them."""
        return self._working

    def schema(self, name: str):
        """A table's schema, without applying pending INSERTs (rows never change it)."""
        return self._working.tables[name].schema

    @property
    def has_changes(self) -> bool:
        return bool(self.ops)

    # ---- statement atomicity ---------------------------------------------------------
    def savepoint(self) -> tuple:
        statements = self.statements
        ops = self._ops
        last = ops[-1] if ops else None   # later statements may extend it: its length
        pending = self._pending           # left pending: the mark counts its rows
        deferred = self.deferred_checks
        return (self._working, len(ops), (len(statements) if statements is not None else 0),
                len(last.rows) if type(last) in _EXTENDED else -1,
                pending, len(pending.rows) if pending is not None else 0,
                len(deferred) if deferred is not None else 0)

    def restore(self, mark: tuple) -> None:
        self._working, n, k, extended, pending, count, checks = mark
        if self.deferred_checks is not None:
            del self.deferred_checks[checks:]
        # Pending rows up to the mark stay pending, those after it go; if they were
        # applied since, the restored working root has none of them, so the ones up to
        # the mark become pending again.
        self._pending = pending.truncated(count) if pending is not None else None
        del self._ops[n:]
        if extended >= 0:
            last = self._ops[n - 1]
            seen = getattr(last, "seen", None)
            if seen is not None:
                seen.difference_update(last.rowids[extended:])
            del last.rows[extended:]
            del last.rowids[extended:]
        if self.statements is not None:
            del self.statements[k:]

    # ---- foreign-key read and removal sets (conflict checks in txn/commit.py) ---------
    def note_fk_read(self, parent: str, columns: tuple, key: tuple) -> None:
        reads = self.fk_reads
        if reads is None:
            reads = self.fk_reads = set()
        reads.add((parent, columns, key))

    def note_fk_removed(self, parent: str, columns: tuple, keys) -> None:
        removed = self.fk_removed
        if removed is None:
            removed = self.fk_removed = set()
        removed.update((parent, columns, key) for key in keys)

    # ---- changes: each updates the working root and records the op ----------------------
    def table(self, name: str) -> TableVersion | None:
        return self.working.tables.get(name)

    def insert_row_deferred(self, name: str, row: tuple) -> None:
        """A single-row INSERT of an explicit transaction, checked now (UNIQUE, against
        the table and the rows pending before it) and applied with the rows inserted
        after it in one go, when anything next reads the working root or the ops:
        one new table version, one index update and one log op for a run of INSERTs
        instead of one per row. Rowids are those one-by-one inserts would give."""
        pending = self._pending
        if pending is not None and pending.table != name:
            self._apply_pending()
            pending = None
        if pending is None:
            pending = _Pending(name, self._working.tables[name])
        pending.add(row)
        self._pending = pending

    def _apply_pending(self) -> None:
        pending, self._pending = self._pending, None
        self._insert(pending.table, pending.rows)

    def insert_rows(self, name: str, rows: list[tuple]) -> list[int]:
        if self._pending is not None:
            self._apply_pending()
        return self._insert(name, rows)

    def _insert(self, name: str, rows: list[tuple]) -> list[int]:
        version, rowids = self._working.tables[name].insert_rows(rows)
        self._working = self._working.with_table(name, version)
        ops = self._ops
        last = ops[-1] if ops else None
        if type(last) is InsertOp and last.table == name and rowids \
                and last.rowids[-1] + 1 == rowids[0]:
            # Rows inserted one statement after another extend one op: a transaction of
            # many single-row INSERTs keeps two growing lists, not three objects the
            # garbage collector tracks per row (each full collection walks them all).
            last.rows.extend(rows)
            last.rowids.extend(rowids)
        else:
            ops.append(InsertOp(name, list(rows), list(rowids)))
        return rowids

    def insert_arrow(self, name: str, data: pa.Table) -> np.ndarray:
        version, rowids = self.working.tables[name].insert_arrow(data)
        self.working = self.working.with_table(name, version)
        self.ops.append(BulkInsertOp(name, data, rowids))
        return rowids

    def delete_rows(self, name: str, rowids: list[int] | np.ndarray) -> None:
        """Many rowids come as one numpy array (TableVersion.delete's bulk path) and are
        logged as that array."""
        version = self.working.tables[name].delete(rowids)
        self.working = self.working.with_table(name, version)
        self.ops.append(DeleteOp(name, rowids if isinstance(rowids, np.ndarray)
                                 else list(rowids)))

    def delete_row(self, name: str, version: TableVersion, rowid: int, row: tuple) -> None:
        """``delete_rows`` of one live row of ``version``, the table as the working root
        holds it, whose current value ``row`` the caller just read (a point DELETE)."""
        if self._pending is not None:     # (the caller's read of ``version`` applied them)
            self._apply_pending()
        self._working = self._working.with_table(name, version.delete_one(rowid, row))
        self._ops.append(DeleteOp(name, [rowid]))

    def update_row(self, name: str, version: TableVersion, rowid: int, old: tuple,
                   row: tuple, keyed: bool = True) -> None:
        """``update_rows`` of one live row of ``version``, the table as the working root
        holds it, whose current value ``old`` the caller just read (a point UPDATE);
        ``keyed``: see TableVersion.update_one."""
        if self._pending is not None:     # (the caller's read of ``version`` applied them)
            self._apply_pending()
        self._working = self._working.with_table(name, version.update_one(rowid, old, row, keyed))
        ops = self._ops
        last = ops[-1] if ops else None
        if type(last) is UpdateOp and last.table == name and last.seen is not None \
                and rowid not in last.seen:
            last.rowids.append(rowid)     # as update_rows: one op for a run of UPDATEs
            last.rows.append(row)
            last.seen.add(rowid)
        else:
            ops.append(UpdateOp(name, [rowid], [row], {rowid}))

    def update_rows(self, name: str, rowids: list[int], rows: list[tuple],
                    old_rows: list[tuple] | None = None,
                    columns: frozenset | None = None) -> list[int]:
        """Replace live rows by new versions in place (same rowids), one new root.
        ``old_rows``: the current rows, when the caller just read them; ``columns``:
        the positions the UPDATE assigns (see TableVersion.update_rows)."""
        version, done = self.working.tables[name].update_rows(rowids, rows, old_rows, columns)
        self.working = self.working.with_table(name, version)
        if len(done) != len(rows):   # skipped rowids: log exactly what was applied
            new_of = dict(zip(rowids, rows))
            rows = [new_of[r] for r in done]
        ops = self.ops
        last = ops[-1] if ops else None
        if type(last) is UpdateOp and last.table == name and last.seen is not None \
                and last.seen.isdisjoint(done):
            # As insert_rows: one op for a run of UPDATEs of distinct rows (a row updated
            # again starts a new op, so the log keeps each row's versions in order).
            last.rowids.extend(done)
            last.rows.extend(rows)
            last.seen.update(done)
        else:
            ops.append(UpdateOp(name, list(done), list(rows), set(done)))
        return done

    def update_arrow(self, name: str, rowids, data: pa.Table, old: pa.Table | None = None,
                     columns: frozenset | None = None) -> np.ndarray:
        """A set-based UPDATE in place: the rows keep their rowids (see
        TableVersion.update_arrow); returns the rowids updated."""
        version, done, data = self.working.tables[name].update_arrow(rowids, data, old, columns)
        self.working = self.working.with_table(name, version)
        if len(done):
            self.ops.append(BulkUpdateOp(name, done, data))
        return done

    def replace_table(self, name: str, version: TableVersion | None) -> None:
        if version is None:
            self.working = self.working.without_table(name)
        else:
            self.working = self.working.with_table(name, version, ddl=True)
        self.ops.append(ReplaceTableOp(name, version))

    def set_view(self, name: str, view: ViewDef | None) -> None:
        self.working = (self.working.with_view(view) if view is not None
                        else self.working.without_view(name))
        self.ops.append(ViewOp(name, view))

    def lock_rows(self, table: str, rowids: list, exclusive: bool = True) -> None:
        if rowids:
            self.ops.append(LockOp(table, list(rowids), exclusive))

    @property
    def raw_ops(self) -> list:
        """The ops without applying pending INSERTs first (another thread's look at
        what this transaction claimed: txn/row_claims.py; inserts claim nothing)."""
        return self._ops

    def set_function(self, name: str, function) -> None:
        """CREATE [OR REPLACE] FUNCTION (``function``) or DROP FUNCTION (None)."""
        funcs = dict(self.working.functions)
        if function is None:
            funcs.pop(name, None)
        else:
            funcs[name] = function
        self.working = replace(self.working, functions=funcs,
                               catalog_version=self.working.catalog_version + 1)
        self.ops.append(FunctionOp(name, function))

    def set_enum(self, name: str, labels: tuple | None) -> None:
        """CREATE TYPE name AS ENUM / ALTER TYPE (``labels``) or DROP TYPE (None)."""
        self.working = with_enum(self.working, name, labels)
        self.ops.append(EnumOp(name, labels))

    def set_composite(self, name: str, sql_type: str | None) -> None:
        """CREATE TYPE name AS (...) (``sql_type``: composite.py's string) or DROP (None)."""
        self.working = with_composite(self.working, name, sql_type)
        self.ops.append(CompositeOp(name, sql_type))

    def set_domain(self, name: str, domain) -> None:
        """CREATE / ALTER DOMAIN (``domain``: a DomainDef) or DROP DOMAIN (None)."""
        self.working = with_domain(self.working, name, domain)
        self.ops.append(DomainOp(name, domain))

    def set_auth(self, catalog) -> None:
        self.working = replace(self.working, auth=catalog,
                               catalog_version=self.working.catalog_version + 1)
        self.ops.append(AuthOp(catalog))

    def next_values(self, name: str, n: int) -> range | list:
        """Draw ``n`` values from a sequence: by its INCREMENT within its bounds, 2200H
        past one unless it CYCLEs; past every value any transaction of the database drew
        (txn/sequence_marks.py), so two open transactions never get the same value."""
        last = self.working.sequences.get(name)
        if last is None:
            raise errors.sql_error("42P01", f'relation "{name}" does not exist')
        spec = self.working.seqdefs.get(name)
        marks = self.marks
        if (marks is None or not n or (spec is not None and spec.cycle)
                or (self.reset_sequences is not None and name in self.reset_sequences)):
            return self._draw(name, last, n, spec)
        with marks.lock:
            ascending = spec is None or spec.increment > 0
            drawn = self._draw(name, marks.draw_from(name, last, ascending), n, spec)
            if len(drawn):
                marks.drew(name, drawn[-1])
        return drawn

    def _draw(self, name: str, last: int, n: int, spec) -> range | list:
        if spec is None or (spec.increment == 1 and spec.is_called
                            and spec.minvalue <= last + 1 and last + n <= spec.maxvalue):
            # counting up by 1 inside the bounds (every SERIAL): no per-value work
            if last + n <= 2 ** 63 - 1:
                self._drawn_to(name, last + n)
                self._note_drawn(name, n, last + n)
                return range(last + 1, last + n + 1)
            spec = sequence_defs.definition(self.working, name)
        drawn = sequence_defs.draws(spec, name, last, n)
        if not n:
            return drawn
        self._drawn_to(name, drawn[-1])
        if not spec.is_called and name in self.working.seqdefs:
            self.set_sequence_def(name, replace_def(spec, is_called=True), catalog=False)
        self._note_drawn(name, n, drawn[-1])
        return drawn

    def _note_drawn(self, name: str, n: int, value: int) -> None:
        if n and self.drawn is not None:
            self.drawn.pop(name, None)      # most recent last: lastval() reads the end
            self.drawn[name] = value

    def set_value(self, name: str, value: int, is_called: bool = True) -> int:
        """setval(): the sequence's next value is ``value + increment`` (``value`` itself
        when not ``is_called``); 22003 outside the sequence's bounds, as in PostgreSQL."""
        if name not in self.working.sequences:
            raise errors.sql_error("42P01", f'relation "{name}" does not exist')
        spec = sequence_defs.definition(self.working, name)
        sequence_defs.check_setval(spec, name, value)
        self.set_sequence(name, value if is_called else value - spec.increment)
        if name in self.working.seqdefs and spec.is_called != is_called:
            self.set_sequence_def(name, replace_def(spec, is_called=is_called), catalog=False)
        if is_called and self.drawn is not None:
            self.drawn.pop(name, None)
            self.drawn[name] = value
        return value

    def set_sequence_def(self, name: str, spec, catalog: bool = True) -> None:
        """A sequence's definition (None: dropped); ``catalog``: a DDL change, so plans
        are bound again (nextval's first call only marks the sequence called)."""
        defs = dict(self.working.seqdefs)
        if spec is None:
            defs.pop(name, None)
        else:
            defs[name] = spec
        self.working = replace(self.working, seqdefs=defs, catalog_version=(
            self.working.catalog_version + 1 if catalog else self.working.catalog_version))
        self.ops.append(SequenceDefOp(name, spec))

    def set_sequence(self, name: str, value: int) -> None:
        """Set a sequence's value (setval, CREATE, RESTART): draws of this transaction
        start from it, and its commit makes every draw start from it again."""
        self._reset(name)
        self._drawn_to(name, value)

    def _reset(self, name: str) -> None:
        if self.reset_sequences is None:
            self.reset_sequences = set()
        self.reset_sequences.add(name)

    def _drawn_to(self, name: str, value: int) -> None:
        seqs = dict(self.working.sequences)
        seqs[name] = value
        self.working = replace(self.working, sequences=seqs)
        self.ops.append(SequenceOp(name, value))

    def drop_sequence(self, name: str) -> None:
        self._reset(name)
        seqs = dict(self.working.sequences)
        seqs.pop(name, None)
        self.working = replace(self.working, sequences=seqs)
        self.ops.append(SequenceOp(name, None))
        if name in self.working.seqdefs:
            self.set_sequence_def(name, None)
