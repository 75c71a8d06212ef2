"""Binding ALTER TABLE into a ``LogicalAlterTable`` of steps (plan/ddl.py).

The actions of one statement apply in order, so the binder walks them over the
table's schema as each leaves it: it resolves columns, binds DEFAULT, USING and
CHECK expressions, resolves foreign keys and names, raises the errors that need no
data (``42701``, ``42703``, ``42704``, ``42710``, ``42P16``, ``42804``) and records
in each step the schema the table has after it. Nothing changes here: the executor
(exec/operators/alter.py) applies the steps inside the transaction, column by
column, and checks what needs the rows or the other tables (NOT NULL, CHECK,
UNIQUE and FOREIGN KEY over existing rows, dependent foreign keys, name clashes).

Actions: ADD COLUMN (DEFAULT backfilled, column constraints), DROP COLUMN,
RENAME COLUMN, RENAME TO, ALTER COLUMN TYPE [USING], SET/DROP DEFAULT, SET/DROP
NOT NULL, ADD CONSTRAINT (PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY) and DROP
CONSTRAINT.
"""
from __future__ import annotations

import dataclasses

from sqlglot import exp

from ... import errors, notices, types
from ...plan.ddl import (AddCheck, AddColumn, AddForeignKey, AddUnique, ChangeType, DropColumn,
                         DropUnique, LogicalAlterTable, RenameColumn, RenameConstraint,
                         RenameTable, SequenceChange, SetNotNull, SetSchema)
from ...plan.expr import Cast, ColRef, NextVal
from ...storage.root import owner_of_index, relation_exists
from ...storage.schema import Column, TableSchema
from ...storage.sequence_names import default_sequence, serial_default
from .. import parse_sequence
from ..parse import (altered_constraint, parse_one, position_of, renamed_constraint,
                     validated_constraint)
from .bind_constraints import check_expr
from .bind_ddl import (_column, _given_name, _table_constraint, default_text,
                       identity_definition)
from .type_modifiers import declared_type
from .bind_expr import ExprBinder
from .bind_insert import default_expr
from .coerce import adapt
from .scope import Scope
from .bind_constraints import generated_expr


def bind_alter(stmt, node: exp.Alter) -> LogicalAlterTable:
    if (node.args.get("kind") or "").upper() == "INDEX":
        return bind_alter_index(stmt, node)
    table_node = node.this
    if_exists = bool(node.args.get("exists"))
    name = table_node.name
    if if_exists and not stmt.has_table(name):
        return LogicalAlterTable([], name, (), True)
    schema = stmt.table(name, position_of(table_node)).schema
    steps: list = []
    not_valid = bool(node.args.get("not_valid"))
    for act in node.args.get("actions") or []:
        schema = _bind_action(stmt, schema, act, steps, not_valid)
    return LogicalAlterTable([], name, tuple(steps), if_exists)


def _bind_action(stmt, schema: TableSchema, act, steps: list,
                 not_valid: bool = False) -> TableSchema:
    """Append the steps of one action; returns the schema after them. ``not_valid``: the
    statement ends in NOT VALID (an added CHECK or FOREIGN KEY skips the existing rows)."""
    if isinstance(act, exp.ColumnDef):
        return add_column(stmt, schema, act, steps)
    if isinstance(act, exp.Drop) and (act.args.get("kind") or "").upper() == "COLUMN":
        return drop_column(schema, act, steps)
    if isinstance(act, exp.Drop):
        return drop_constraint(schema, act, steps)
    if isinstance(act, exp.RenameColumn):
        return rename_column(schema, act.this.name, act.args["to"].name, steps)
    if isinstance(act, exp.AlterRename):
        new = act.this.name
        fks = tuple(f.with_ref_table_renamed(schema.name, new) for f in schema.foreign_keys)
        out = schema.with_(name=new, foreign_keys=fks)
        steps.append(RenameTable(new, out))
        return out
    if isinstance(act, exp.AlterColumn):
        return alter_column(stmt, schema, act, steps)
    if isinstance(act, exp.AddConstraint):
        for c in act.expressions:
            schema = add_constraint(stmt, schema, c, steps, not_valid=not_valid)
        return schema
    if validated_constraint(act) is not None:
        return validate_constraint(stmt, schema, validated_constraint(act), steps)
    if renamed_constraint(act) is not None:
        return rename_constraint(stmt, schema, *renamed_constraint(act), steps)
    if altered_constraint(act) is not None:
        return alter_constraint(schema, *altered_constraint(act), steps)
    if isinstance(act, exp.SequenceProperties):       # sql/parse_sequence.py alter_identity
        return alter_identity(schema, act.args["column"].name, parse_sequence.options_of(act),
                              steps)
    raise errors.not_supported(f"ALTER TABLE {act.sql(dialect='postgres')}")


def _position(schema, name: str, missing_ok: bool = False):
    pos = schema.position(name)
    if pos is None and not missing_ok:
        raise errors.sql_error("42703", f'column "{name}" of relation "{schema.name}" does not exist')
    return pos


# ---- ADD COLUMN ------------------------------------------------------------------------------

def add_column(stmt, schema, node: exp.ColumnDef, steps: list) -> TableSchema:
    if schema.position(node.name) is not None:
        if node.args.get("exists"):
            return schema
        raise errors.sql_error("42701", f'column "{node.name}" of relation "{schema.name}" '
                                        f'already exists')
    column, extra = _column(stmt, schema.name, node, len(schema.columns))
    made = [payload[0] for kind, payload in extra if kind == "sequence"]
    steps.extend(SequenceChange(payload[0], definition=payload[1])   # SERIAL or identity:
                 for kind, payload in extra if kind == "sequence")  # first, the rows draw
    extra = [e for e in extra if e[0] != "sequence"]
    new = schema.with_(columns=schema.columns + (column,))
    default = None
    if made:        # the sequence is made by the step above: not there to bind against yet
        default = NextVal(made[0])
    elif column.default_sql is not None or (column.typmod is not None
                                            and column.typmod[0] == "domain"):
        default = default_expr(stmt, new, len(new.columns) - 1)   # a domain's, if none
    elif column.generated is not None:    # computed for the stored rows (exec/operators/alter.py)
        default = generated_expr(stmt, new, len(new.columns) - 1)
    steps.append(AddColumn(column, default, new))
    positions = {c.name: i for i, c in enumerate(new.columns)}
    for item in extra:
        new = add_constraint(stmt, new, item, steps, positions=positions)
    return new


# ---- DROP COLUMN -----------------------------------------------------------------------------

def drop_column(schema, node: exp.Drop, steps: list) -> TableSchema:
    name = node.this.name if node.this is not None else node.args["tables"][0].name
    pos = _position(schema, name, missing_ok=bool(node.args.get("exists")))
    if pos is None:
        return schema
    users = [c.name for c in schema.columns
             if c.generated is not None and name in _identifiers(c.generated)]
    if users:
        raise errors.sql_error("2BP01", f"cannot drop column {name} of table {schema.name} "
                                        "because other objects depend on it",
                               detail=f"column {users[0]} of table {schema.name} depends on "
                                      f"column {name}",
                               hint="Drop the generated column first.")
    remap = {old: (old if old < pos else old - 1) for old in range(len(schema.columns)) if old != pos}
    keep = lambda cols: all(c != pos for c in cols)  # noqa: E731
    columns = tuple(c for i, c in enumerate(schema.columns) if i != pos)
    new = schema.with_(
        columns=columns,
        uniques=tuple(_remapped(u, remap) for u in schema.uniques if keep(u.columns)),
        # an index reading the column (key, expression or predicate) goes with it, as in
        # PostgreSQL; INCLUDE columns are part of the index too
        indexes=tuple(_remapped(d, remap) for d in schema.indexes
                      if keep(d.columns) and keep(d.include)
                      and not (d.predicate and name in _identifiers(d.predicate))),
        foreign_keys=tuple(_remapped(f, remap) for f in schema.foreign_keys if keep(f.columns)),
        checks=tuple(c for c in schema.checks if name not in _identifiers(c.sql)))
    steps.append(DropColumn(pos, name, bool(node.args.get("cascade")), new))
    return new


def _remapped(obj, remap):
    out = dataclasses.replace(obj, columns=tuple(remap[c] for c in obj.columns))
    if getattr(obj, "include", ()):
        out = dataclasses.replace(out, include=tuple(remap[c] for c in obj.include))
    if getattr(obj, "delete_set_columns", ()):
        out = dataclasses.replace(out, delete_set_columns=tuple(
            remap[c] for c in obj.delete_set_columns))
    return out


def _identifiers(sql: str) -> set[str]:
    node = parse_one(f"SELECT {sql}")
    return {c.name for c in node.find_all(exp.Column)}


# ---- RENAME ----------------------------------------------------------------------------------

_INDEX_SQL = {"normalize_functions": "lower"}   # as bind_index.expr_sql spells it
# ADD GENERATED ... AS IDENTITY: the sequence is AS the column's declared width
_IDENTITY_AS = {("int2",): "smallint", ("int4",): "integer"}


def rename_column(schema, old: str, new: str, steps: list) -> TableSchema:
    pos = _position(schema, old)
    if schema.position(new) is not None:
        raise errors.sql_error("42701", f'column "{new}" of relation "{schema.name}" already exists')
    columns = tuple(dataclasses.replace(c, name=new) if i == pos else c
                    for i, c in enumerate(schema.columns))
    checks = tuple(type(c)(c.name, _rename_in_sql(c.sql, old, new)) for c in schema.checks)
    fks = tuple(f.with_ref_column_renamed(schema.name, old, new) for f in schema.foreign_keys)
    # an index's expressions and predicate name the column too (PostgreSQL stores them
    # parsed; the text here is rewritten as a CHECK's is)
    indexes = tuple(dataclasses.replace(
        d, exprs=tuple(_rename_in_sql(e, old, new, **_INDEX_SQL) for e in d.exprs),
        predicate=d.predicate and _rename_in_sql(d.predicate, old, new, **_INDEX_SQL))
        for d in schema.indexes)
    out = schema.with_(columns=columns, checks=checks, foreign_keys=fks, indexes=indexes)
    steps.append(RenameColumn(old, new, out))
    return out


def _rename_in_sql(sql: str, old: str, new: str, **style) -> str:
    node = parse_one(f"SELECT {sql}").expressions[0]

    def swap(n):
        if isinstance(n, exp.Column) and n.name == old:
            return exp.column(new)
        return n
    return node.transform(swap).sql(dialect="postgres", **style)


# ---- ALTER COLUMN ---------------------------------------------------------------------------

def alter_column(stmt, schema, node: exp.AlterColumn, steps: list) -> TableSchema:
    pos = _position(schema, node.this.name)
    col = schema.columns[pos]
    if node.args.get("dtype") is not None:
        return change_type(stmt, schema, pos, node, steps)
    if node.args.get("allow_null") is False:
        out = _with_column(schema, pos, dataclasses.replace(col, not_null=True))
        steps.append(SetNotNull(pos, out))
        return out
    if node.args.get("allow_null") is True:
        pk = schema.primary_key
        if pk is not None and pos in pk.columns:
            raise errors.sql_error("42P16", f'column "{col.name}" is in a primary key')
        out = _with_column(schema, pos, dataclasses.replace(col, not_null=False))
    elif node.args.get("default") is not None:
        out = _with_column(schema, pos, dataclasses.replace(
            col, default_sql=default_text(node.args["default"])))
        default_expr(stmt, out, pos)    # 42804 on a mistyped default
    elif node.args.get("drop"):
        out = _with_column(schema, pos, dataclasses.replace(col, default_sql=None))
    else:
        raise errors.not_supported(f"ALTER COLUMN {node.sql(dialect='postgres')}")
    steps.append(SetSchema(out))
    return out


# ---- identity columns ------------------------------------------------------------------------

def alter_identity(schema, name: str, options: dict, steps: list) -> TableSchema:
    """ALTER COLUMN c ADD GENERATED ... AS IDENTITY / SET GENERATED / SET option /
    RESTART / DROP IDENTITY, with PostgreSQL's checks and messages."""
    pos = _position(schema, name)
    col = schema.columns[pos]
    where = f'column "{name}" of relation "{schema.name}"'
    if "add" in options:
        if col.type != types.INTEGER:
            raise errors.sql_error("22023", "identity column type must be smallint, integer, "
                                            "or bigint")
        if col.identity is not None:
            raise errors.sql_error("55000", f"{where} is already an identity column")
        if col.default_sql is not None:
            raise errors.sql_error("55000", f"{where} already has a default value")
        if not col.not_null:
            raise errors.sql_error("55000", f"{where} must be declared NOT NULL before "
                                            "identity can be added")
        seq = f"{schema.name}_{name}_seq"
        spec = identity_definition({k: v for k, v in options.items() if k != "add"},
                                   _IDENTITY_AS.get(col.typmod, "bigint"),
                                   (schema.name, name))
        out = _with_column(schema, pos, dataclasses.replace(
            col, identity=(options["add"], spec.start), default_sql=serial_default(seq)))
        steps.append(SequenceChange(seq, definition=spec))
        steps.append(SetSchema(out))
        return out
    if col.identity is None:
        if options.get("drop") == "if exists":
            notices.emit(f"{where} is not an identity column, skipping")
            return schema
        raise errors.sql_error("55000", f"{where} is not an identity column")
    seq = default_sequence(col.default_sql, owned=True)
    if "drop" in options:
        out = _with_column(schema, pos, dataclasses.replace(col, identity=None,
                                                             default_sql=None))
        steps.append(SetSchema(out))
        if seq is not None:
            steps.append(SequenceChange(seq, drop=True))
        return out
    out = schema
    if "generated" in options:
        out = _with_column(schema, pos, dataclasses.replace(
            col, identity=(options["generated"], col.identity[1])))
        steps.append(SetSchema(out))
    changes = {k: v for k, v in options.items() if k != "generated"}
    if changes and seq is not None:
        steps.append(SequenceChange(seq, options=changes))
    return out


def _with_column(schema, pos: int, column: Column) -> TableSchema:
    return schema.with_(columns=tuple(column if i == pos else c
                                      for i, c in enumerate(schema.columns)))


_TIMESTAMPS = frozenset({types.TIMESTAMP, types.TIMESTAMPTZ})
_JSONS = frozenset(types.JSON_TYPES)      # json <-> jsonb: an assignment cast


def change_type(stmt, schema, pos: int, node: exp.AlterColumn, steps: list) -> TableSchema:
    col = schema.columns[pos]
    target, typmod = declared_type(stmt, node.args["dtype"], node)
    using = node.args.get("using") or None   # sqlglot gives False when absent
    if using is not None:
        expr = _using_expr(stmt, schema, using, target, col)
    elif col.type == target or (types.is_numeric(col.type) and types.is_numeric(target)) \
            or target == types.TEXT or {col.type, target} in (_TIMESTAMPS, _JSONS):
        # timestamp <-> timestamptz through the session's zone, as PostgreSQL's implicit
        # cast (a column declared timestamptz before the type existed moves so, in UTC)
        expr = ColRef(pos, col.type, col.name) if col.type == target else \
            Cast(ColRef(pos, col.type, col.name), target)
    else:
        raise errors.datatype_mismatch(
            f'column "{col.name}" cannot be cast automatically to type '
            f'{types.shown_type(target)}',
            hint=f'You might need to specify "USING {col.name}::{types.shown_type(target)}".')
    out = _with_column(schema, pos, dataclasses.replace(
        col, type=target, typmod=typmod))
    if col.default_sql is not None:
        out = _converted_default(stmt, out, pos, col)
    steps.append(ChangeType(pos, expr, out))
    return out


def _converted_default(stmt, schema, pos: int, old):
    """The column's DEFAULT after ALTER COLUMN TYPE: converted as well, as PostgreSQL
    converts it (an assignment cast: to text from anything, between numbers), else 42804."""
    try:
        default_expr(stmt, schema, pos)
        return schema
    except errors.Error as exc:
        if getattr(exc, "sqlstate", None) != "42804":
            raise
    col = schema.columns[pos]
    if not (col.type == types.TEXT or (types.is_numeric(col.type) and
                                       types.is_numeric(old.type))):
        raise errors.datatype_mismatch(f'default for column "{col.name}" cannot be cast '
                                       f"automatically to type {col.type.lower()}")
    out = _with_column(schema, pos, dataclasses.replace(
        col, default_sql=f"CAST(({old.default_sql}) AS {col.type})"))
    default_expr(stmt, out, pos)
    return out


def _using_expr(stmt, schema, using, target: str, col):
    scope = Scope()
    for c in schema.columns:
        scope.add(schema.name, c.name, c.type)
    e = adapt(ExprBinder(stmt, scope, clause="USING").bind(using), target)
    if e.type == target:
        return e
    if e.type == types.NULL or (types.is_numeric(e.type) and types.is_numeric(target)) \
            or target == types.TEXT:
        return Cast(e, target)
    raise errors.datatype_mismatch(f'result of USING clause for column "{col.name}" cannot be '
                                   f'cast automatically to type {target.lower()}')


# ---- ADD / DROP CONSTRAINT --------------------------------------------------------------------

def constraint_names(schema) -> set[str]:
    return ({u.name for u in schema.uniques} | {c.name for c in schema.checks}
            | {f.name for f in schema.foreign_keys})


def add_constraint(stmt, schema, item, steps: list, positions=None,
                   not_valid: bool = False) -> TableSchema:
    positions = positions or {c.name: i for i, c in enumerate(schema.columns)}
    kind, payload = _table_constraint(stmt, schema.name, item, positions, list(schema.columns))
    taken = constraint_names(schema)
    if _given_name(item) is None and payload.name in taken:   # a default name: numbered
        n = 1
        while f"{payload.name}{n}" in taken:
            n += 1
        payload = dataclasses.replace(payload, name=f"{payload.name}{n}")
    if kind == "unique" and payload.name in {u.name for u in schema.uniques}:
        raise errors.sql_error("42P07", f'relation "{payload.name}" already exists')
    if payload.name in taken:
        raise errors.sql_error("42710", f'constraint "{payload.name}" for relation '
                                        f'"{schema.name}" already exists')
    if not_valid:
        if kind == "unique":
            what = "PRIMARY KEY" if payload.primary else "UNIQUE"
            raise errors.sql_error(
                "0A000", f"{what} constraints cannot be marked NOT VALID",
                hint="Only CHECK and FOREIGN KEY constraints can skip the existing rows.")
        payload = dataclasses.replace(payload, validated=False)
    if kind == "unique":
        out = schema
        if payload.primary:
            if schema.primary_key is not None:
                raise errors.sql_error("42P16", f'multiple primary keys for table '
                                                f'"{schema.name}" are not allowed')
            out = out.with_(columns=tuple(
                dataclasses.replace(col, not_null=True) if i in payload.columns
                else col for i, col in enumerate(schema.columns)))
        out = out.with_(uniques=out.uniques + (payload,))
        steps.append(AddUnique(payload, out))
        return out
    if kind == "check":
        expr = check_expr(stmt, schema, payload.sql)
        out = schema.with_(checks=schema.checks + (payload,))
        steps.append(AddCheck(payload, expr, out))
        return out
    out = schema.with_(foreign_keys=schema.foreign_keys + (payload,))
    steps.append(AddForeignKey(payload, out))
    return out


def validate_constraint(stmt, schema, name: str, steps: list) -> TableSchema:
    """VALIDATE CONSTRAINT: a NOT VALID CHECK or FOREIGN KEY checked against every row
    (the same step that adds one: 23514 / 23503 if a row fails), then marked valid."""
    check = next((c for c in schema.checks if c.name == name), None)
    fk = next((f for f in schema.foreign_keys if f.name == name), None)
    if check is None and fk is None:
        if name in constraint_names(schema):
            raise errors.sql_error("42809", f'constraint "{name}" of relation "{schema.name}" '
                                            f'is not a foreign key or check constraint')
        raise errors.sql_error("42704", f'constraint "{name}" of relation "{schema.name}" '
                                        f'does not exist')
    if (check or fk).validated:
        return schema               # already valid: nothing to check (as PostgreSQL)
    if check is not None:
        valid = dataclasses.replace(check, validated=True)
        out = schema.with_(checks=tuple(valid if c is check else c for c in schema.checks))
        steps.append(AddCheck(valid, check_expr(stmt, schema, check.sql), out))
        return out
    valid = dataclasses.replace(fk, validated=True)
    out = schema.with_(foreign_keys=tuple(valid if f is fk else f for f in schema.foreign_keys))
    steps.append(AddForeignKey(valid, out))
    return out


def alter_constraint(schema, name: str, options: str, steps: list) -> TableSchema:
    """ALTER CONSTRAINT c [NOT] DEFERRABLE [INITIALLY DEFERRED | IMMEDIATE] of a foreign
    key (exec/deferred_checks.py): what is not written is NOT DEFERRABLE / INITIALLY
    IMMEDIATE, as PostgreSQL reads it; only the schema changes."""
    fk = next((f for f in schema.foreign_keys if f.name == name), None)
    if fk is None:
        if name in constraint_names(schema):
            raise errors.sql_error("42809", f'constraint "{name}" of relation "{schema.name}" '
                                            f'is not a foreign key constraint')
        raise errors.sql_error("42704", f'constraint "{name}" of relation "{schema.name}" '
                                        f'does not exist')
    deferred = "INITIALLY DEFERRED" in options
    if deferred and "NOT DEFERRABLE" in options:
        raise errors.syntax_error("constraint declared INITIALLY DEFERRED must be DEFERRABLE")
    deferrable = deferred or ("DEFERRABLE" in options.replace("NOT DEFERRABLE", ""))
    changed = dataclasses.replace(fk, deferrable=deferrable, deferred=deferred)
    out = schema.with_(foreign_keys=tuple(changed if f is fk else f
                                          for f in schema.foreign_keys))
    steps.append(SetSchema(out))
    return out


def drop_constraint(schema, node: exp.Drop, steps: list) -> TableSchema:
    name = node.this.name if node.this is not None else node.args["tables"][0].name
    if name not in constraint_names(schema):
        if node.args.get("exists"):
            return schema
        raise errors.sql_error("42704", f'constraint "{name}" of relation "{schema.name}" '
                                        f'does not exist')
    unique = next((u for u in schema.uniques if u.name == name), None)
    if unique is not None:
        out = schema.with_(uniques=tuple(u for u in schema.uniques if u.name != name))
        steps.append(DropUnique(unique, bool(node.args.get("cascade")), out))
        return out
    out = schema.with_(checks=tuple(c for c in schema.checks if c.name != name),
                       foreign_keys=tuple(f for f in schema.foreign_keys if f.name != name))
    steps.append(SetSchema(out))
    return out


# ---- RENAME CONSTRAINT / ALTER INDEX ... RENAME ------------------------------------------------

def bind_alter_index(stmt, node: exp.Alter) -> LogicalAlterTable:
    """ALTER INDEX [IF EXISTS] i RENAME TO j: a step of its table's ALTER (the index of a
    PRIMARY KEY or UNIQUE constraint renames the constraint too, as in PostgreSQL)."""
    actions = node.args.get("actions") or []
    if len(actions) != 1 or not isinstance(actions[0], exp.AlterRename):
        words = node.sql(dialect="postgres").split()[3:5]    # after ALTER INDEX name
        raise errors.not_supported("ALTER INDEX ... " + " ".join(words).upper(),
                                   hint="Only ALTER INDEX ... RENAME TO is supported.")
    name, new = node.this.name, actions[0].this.name
    owner = owner_of_index(stmt.root, name)
    if owner is None:
        if node.args.get("exists"):     # the ALTER's NOTICE: relation ... skipping
            return LogicalAlterTable([], name, (), True)
        raise errors.undefined_table(name)
    table = owner[0]
    steps: list = []
    rename_constraint(stmt, stmt.root.tables[table].schema, name, new, steps, index=True)
    return LogicalAlterTable([], table, tuple(steps))


def rename_constraint(stmt, schema: TableSchema, old: str, new: str, steps: list,
                      index: bool = False) -> TableSchema:
    """A constraint (or, ``index``, an index) of ``schema`` called ``new``: a PRIMARY KEY or
    UNIQUE constraint and its index share the name, as in PostgreSQL. 42704 (42P01 for an
    index) when there is none called ``old``; 42710, or 42P07 when the name is an index's
    and another relation has it."""
    groups = ("uniques", "indexes") if index else ("uniques", "checks", "foreign_keys")
    where = next((g for g in groups if any(c.name == old for c in getattr(schema, g))), None)
    if where is None:
        if index:
            raise errors.undefined_table(old)
        raise errors.sql_error("42704", f'constraint "{old}" for table "{schema.name}" '
                                        f'does not exist')
    if where in ("uniques", "indexes"):
        if relation_exists(stmt.root, new):
            raise errors.sql_error("42P07", f'relation "{new}" already exists')
    elif any(c.name == new for items in (schema.uniques, schema.checks, schema.foreign_keys)
             for c in items):
        raise errors.sql_error("42710", f'constraint "{new}" for relation "{schema.name}" '
                                        f'already exists')
    renamed = tuple(dataclasses.replace(c, name=new) if c.name == old else c
                    for c in getattr(schema, where))
    out = schema.with_(**{where: renamed})
    steps.append(RenameConstraint(old, new, out))
    return out
