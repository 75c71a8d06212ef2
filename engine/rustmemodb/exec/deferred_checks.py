"""Foreign-key checks put off until COMMIT: DEFERRABLE constraints and SET CONSTRAINTS.

PostgreSQL checks a DEFERRABLE INITIALLY DEFERRED foreign key (or one SET CONSTRAINTS
made DEFERRED) at COMMIT instead of after each statement, so a transaction may insert a
child before its parent, or remove a parent key and put it back, as ORMs that declare
their keys so (Django, Rails) rely on. Only the NO ACTION checks are put off, as in
PostgreSQL: that a child's key exists in the parent, and that no child still refers to a
parent key a DELETE or UPDATE removed; RESTRICT, CASCADE and SET NULL act at once.

``exec/constraints.py`` asks ``deferred_now`` before raising 23503, and instead of
raising records an entry on the transaction (``Transaction.deferred_checks``, truncated by
savepoints and failed statements like its other changes):

    ("child", child table, constraint name, key)           the key must exist in the parent
    ("parent", parent table, constraint name, child table, key)
                                                           no child may still refer to it

``constraints.run_deferred`` checks them against the transaction's working root: at COMMIT
(``Session._commit_txn``, before the commit's conflict checks; a failure rolls the
transaction back with the 23503 PostgreSQL gives) and for the constraints SET
CONSTRAINTS ... IMMEDIATE names. A child row deleted or given another key since needs
nothing; a parent key found is noted as read (``note_fk_read``), so a concurrent
transaction that removes it conflicts with this one at commit, as for an immediate check.
Outside a transaction block nothing is deferred: the statement is its transaction.
"""
from __future__ import annotations

from .. import errors
from ..storage.namespaces import split


def deferred_now(txn, fk) -> bool:
    """Whether ``fk``'s NO ACTION checks wait for COMMIT in ``txn``."""
    if not fk.deferrable or not getattr(txn, "explicit", False):
        return False
    modes = txn.constraint_modes
    if modes:
        for name in (fk.name, _bare(fk.name)):
            if name in modes:
                return modes[name]
        if None in modes:
            return modes[None]
    return fk.deferred


def defer(txn, entry: tuple) -> None:
    checks = txn.deferred_checks
    if checks is None:
        checks = txn.deferred_checks = []
    checks.append(entry)


def set_modes(txn, names: list[str] | None, deferred: bool):
    """SET CONSTRAINTS {ALL | name, ...} {DEFERRED | IMMEDIATE} in ``txn``: the modes
    for the rest of it. Returns which constraints it named (a predicate over foreign
    keys; None: all), whose checks put off so far IMMEDIATE runs at once
    (``constraints.run_deferred``)."""
    if names is None:
        txn.constraint_modes = {None: deferred}
        return None
    matched = _named(txn.working, names)
    modes = dict(txn.constraint_modes or {})
    for fk_name in matched:
        modes[fk_name] = deferred
    txn.constraint_modes = modes
    wanted = set(matched)
    return lambda fk: fk.name in wanted


def _named(root, names: list[str]) -> list[str]:
    """The foreign keys' names the SET CONSTRAINTS list means: 42704 for a name no
    constraint has, 42809 for one that is not deferrable (any other kind of constraint
    here: only foreign keys are deferrable)."""
    out = []
    schemas = root.auth.schemas
    for name in names:
        schema, _, bare = name.rpartition(".")
        deferrable, other = [], False
        for table, version in root.tables.items():
            if schema and split(table, schemas)[0] != schema:
                continue
            s = version.schema
            for fk in s.foreign_keys:
                if _bare(fk.name) == bare:
                    if fk.deferrable:
                        deferrable.append(fk.name)
                    else:
                        other = True
            other = other or any(_bare(c.name) == bare for c in (*s.uniques, *s.checks))
        if other:
            raise errors.sql_error("42809", f'constraint "{bare}" is not deferrable')
        if not deferrable:
            raise errors.sql_error("42704", f'constraint "{bare}" does not exist')
        out.extend(deferrable)
    return out


def _bare(name: str) -> str:
    return name.rsplit(".", 1)[-1]
