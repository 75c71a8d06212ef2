"""Binding CHECK and FOREIGN KEY constraints (CREATE TABLE and ALTER TABLE).

A CHECK is stored as SQL text in the schema (``CheckConstraint.sql``) and bound
here against the table's columns: once at definition time to validate it
(``42804`` if it is not boolean) and, by a database's ``CheckBinder``, once per
schema version and state of the database's functions for exec/constraints.py,
which gets it through the statement's context (``ctx.checks``) and never binds.

A FOREIGN KEY is resolved at definition time: the referenced table must exist
(``42P01``), the referenced columns must carry a PRIMARY KEY/UNIQUE constraint
or unique index (``42830``) and their types must match (``42804``). The
enforcement (23503 on a missing parent, NO ACTION/RESTRICT/CASCADE/SET NULL on
a parent's delete, NO ACTION on a parent's key update) is exec/constraints.py.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...storage.root import Root
from ...storage.schema import ForeignKey
from ..parse import parse_one, position_of
from .bind_expr import ExprBinder
from .bind_insert import default_expr
from .binder import StatementBinder
from .coerce import adapt
from .scope import Scope
from .type_modifiers import value_as

_ACTIONS = ("NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT")


def check_expr(stmt, schema, sql: str):
    """The bound boolean expression of a CHECK over the table's row (42804 if not boolean)."""
    return check_node(stmt, schema, parse_one(f"SELECT {sql}").expressions[0])


def check_node(stmt, schema, node):
    """``check_expr`` of an already parsed expression."""
    scope = Scope()
    for c in schema.columns:
        scope.add(schema.name, c.name, c.type)
    e = ExprBinder(stmt, scope, clause="CHECK constraint").bind(node)
    if e.type not in (types.BOOLEAN, types.NULL):
        raise errors.datatype_mismatch(
            f"argument of CHECK constraint must be type boolean, not type {e.type.lower()}")
    return e


def generated_expr(stmt, schema, i: int):
    """The bound expression of generated column ``i`` over the row's other columns: a
    generated column may not read another one (42P17), and its value must fit the
    column's type without an explicit cast (42804)."""
    column = schema.columns[i]
    scope = Scope()
    for c in schema.columns:
        scope.add(schema.name, c.name, c.type)
    node = parse_one(f"SELECT {column.generated}").expressions[0]
    for ref in node.find_all(exp.Column):
        pos = schema.position(ref.name)
        if pos is not None and schema.columns[pos].generated is not None:
            raise errors.sql_error("42P17", "cannot use generated column "
                                            f'"{ref.name}" in column generation expression',
                                   detail="A generated column cannot reference another "
                                          "generated column.")
    if node.find(exp.AggFunc, exp.Window, exp.Subquery, exp.Select) is not None:
        raise errors.sql_error("42P17", "generation expression is not immutable",
                               hint="Use the row's columns, constants and functions.")
    e = adapt(ExprBinder(stmt, scope, clause="column generation expression").bind(node),
              column.type)
    if e.type not in (column.type, types.NULL) and not (
            e.type == types.INTEGER and column.type == types.FLOAT):
        raise errors.datatype_mismatch(
            f'column "{column.name}" is of type {column.type.lower()} but default '
            f"expression is of type {e.type.lower()}")
    return e


def bind_generated(schema, functions, sql_functions=None) -> list[tuple[int, object]]:
    """[(column position, bound expression)] of the schema's generated columns."""
    stmt = StatementBinder(Root(functions=sql_functions) if sql_functions else None, functions)
    return [(i, generated_expr(stmt, schema, i)) for i, c in enumerate(schema.columns)
            if c.generated is not None]


def bind_checks(schema, functions, sql_functions=None) -> list[tuple[object, object]]:
    """[(constraint name, bound boolean expression)] of the schema's CHECKs; a CHECK may
    call the SQL functions of ``sql_functions`` (CREATE FUNCTION: they are inlined).
    Then the CHECKs of its columns' domains, VALUE read as the column, named
    ("domain", domain, constraint) (exec/constraints.py words their violation)."""
    stmt = StatementBinder(Root(functions=sql_functions) if sql_functions else None, functions)
    out: list = [(c.name, check_expr(stmt, schema, c.sql)) for c in schema.checks]
    for i, c in enumerate(schema.columns):
        if c.typmod is not None and c.typmod[0] == "domain":
            column = exp.column(exp.to_identifier(c.name, quoted=True))
            for cname, sql in c.typmod[4]:
                out.append((("domain", c.typmod[1], cname),
                            check_node(stmt, schema, value_as(sql, column))))
    return out


def domain_check_expr(stmt, base_type: str, sql: str):
    """A domain CHECK bound over one value of its base type (42804 if not boolean;
    a column reference other than VALUE is 42703, as PostgreSQL says)."""
    scope = Scope()
    scope.add("", "value", base_type)
    e = ExprBinder(stmt, scope, clause="CHECK constraint").bind(
        parse_one(f"SELECT {sql}").expressions[0])
    if e.type not in (types.BOOLEAN, types.NULL):
        raise errors.datatype_mismatch(
            f"argument of CHECK constraint must be type boolean, not type {e.type.lower()}")
    return e


class CheckBinder:
    """One per database: the bound CHECK expressions of each table schema, with their
    row closures (``compile_row``: exec's row compiler, handed in by the database).

    Bound once per schema object (schemas are immutable: ALTER makes a new one) and
    bound again when the database's functions change (a CHECK may call a user
    function that was replaced or dropped since: the registry's version moves, or a SQL
    function's definition: the root's functions are another dict then)."""

    _LIMIT = 4096

    def __init__(self, compile_row) -> None:
        self.compile_row = compile_row
        self._bound: dict = {}   # id(schema) -> (schema, functions, version, checks)

    def __call__(self, schema, functions, sql_functions=None,
                 kind: str = "check", root=None) -> list[tuple[object, object, object]]:
        """[(name, expression, row fn or None)] of ``schema``'s CHECKs; with ``kind``
        "generated", [(position, expression, row fn or None)] of its generated columns;
        with ``kind`` "defaults", [(position, expression, None)] of every column's
        DEFAULT, bound against ``root`` (a nextval() default names one of its sequences,
        so these are bound anew each time: only a foreign key's SET DEFAULT asks)."""
        if kind == "defaults":
            stmt = StatementBinder(root, functions)
            return [(i, default_expr(stmt, schema, i), None) for i in range(len(schema.columns))]
        key = (id(schema), kind)
        entry = self._bound.get(key)
        if entry is not None and entry[0] is schema and entry[1] is functions \
                and entry[2] == functions.version and entry[3] is sql_functions:
            return entry[4]
        bind = bind_generated if kind == "generated" else bind_checks
        out = [(name, e, self.compile_row(e))
               for name, e in bind(schema, functions, sql_functions)]
        if len(self._bound) > self._LIMIT:
            self._bound.clear()
        self._bound[key] = (schema, functions, functions.version, sql_functions, out)
        return out


def validate_constraints(stmt, schema) -> None:
    for check in schema.checks:
        check_expr(stmt, schema, check.sql)


def bind_reference(stmt, table: str, columns: tuple, ref, all_columns, name=None, fk_node=None
                   ) -> ForeignKey:
    target = ref.this
    ref_table = target.this.name if isinstance(target, exp.Schema) else target.name
    ref_names = tuple(e.name for e in target.expressions) if isinstance(target, exp.Schema) else ()
    if ref_table == table:   # self-reference: the table being defined
        ref_types = {c.name: c.type for c in all_columns}
        uniques = None
    else:
        version = stmt.root.tables.get(ref_table)
        if version is None:
            raise errors.undefined_table(ref_table, position_of(target))
        stmt.deps.append(("table", ref_table, version.schema))
        if hasattr(stmt, "references"):
            stmt.references.append(ref_table)
        ref_schema = version.schema
        ref_types = {c.name: c.type for c in ref_schema.columns}
        uniques = [tuple(ref_schema.columns[i].name for i in cols)
                   for cols in unique_keys(ref_schema)]
        if not ref_names:
            pk = ref_schema.primary_key
            if pk is None:
                raise errors.sql_error("42830", f'there is no primary key for referenced table '
                                                f'"{ref_table}"')
            ref_names = tuple(ref_schema.columns[i].name for i in pk.columns)
    if len(ref_names) != len(columns):
        raise errors.sql_error("42830", "number of referencing and referenced columns for "
                                        "foreign key disagree")
    for n in ref_names:
        if n not in ref_types:
            raise errors.sql_error("42703", f'column "{n}" referenced in foreign key constraint '
                                            f'does not exist')
    if uniques is not None and tuple(sorted(ref_names)) not in [tuple(sorted(u)) for u in uniques]:
        raise errors.sql_error("42830", f'there is no unique constraint matching given keys for '
                                        f'referenced table "{ref_table}"')
    local = [all_columns[c] for c in columns]
    fk_name = name or f"{table}_{'_'.join(c.name for c in local)}_fkey"
    for col, rn in zip(local, ref_names):
        rt = ref_types[rn]
        if col.type != rt and not (types.is_numeric(col.type) and types.is_numeric(rt)):
            raise errors.sql_error(
                "42804", f'foreign key constraint "{fk_name}" cannot be implemented',
                detail=f'Key columns "{col.name}" and "{rn}" are of incompatible types: '
                       f'{col.type.lower()} and {rt.lower()}.')
    on_delete = _action(ref, "DELETE")
    on_update = _action(ref, "UPDATE")
    if any(c.generated is not None for c in local):
        # an action would write the generated column (PostgreSQL 15's check, in its order)
        for event, action, bad in (("UPDATE", on_update, ("CASCADE", "SET NULL", "SET DEFAULT")),
                                   ("DELETE", on_delete, ("SET NULL", "SET DEFAULT"))):
            if action in bad:
                raise errors.syntax_error(f"invalid ON {event} action for foreign key "
                                          "constraint containing generated column")
    set_columns = _set_columns(ref, on_update, columns, all_columns)
    deferrable, deferred = _deferrability(ref)
    return ForeignKey(fk_name, tuple(columns), ref_table, ref_names, on_delete, on_update,
                      deferrable=deferrable, deferred=deferred, match_full=_match_full(ref),
                      delete_set_columns=set_columns)


def _set_columns(ref, on_update: str, columns, all_columns) -> tuple:
    """The positions ``ON DELETE SET NULL (a, ...)`` / ``SET DEFAULT (a, ...)`` names
    (sql/parse_pg15.py keeps the list), each once; () when no list is written. Only
    ON DELETE takes one (0A000), and only of the key's own columns (42P10)."""
    lists = ref.meta.get("set_columns") if ref.meta else None
    if not lists:
        return ()
    if "UPDATE" in lists:
        raise errors.sql_error("0A000", f"a column list with {on_update} is only supported "
                                        "for ON DELETE actions")
    positions = {c.name: i for i, c in enumerate(all_columns)}
    out: list = []
    for name in lists["DELETE"]:
        pos = positions.get(name)
        if pos is None:
            raise errors.sql_error("42703", f'column "{name}" referenced in foreign key '
                                            "constraint does not exist")
        if pos not in columns:
            raise errors.sql_error("42P10", f'column "{name}" referenced in ON DELETE SET '
                                            "action must be part of foreign key")
        if pos not in out:
            out.append(pos)
    return tuple(out)


def _match_full(ref) -> bool:
    """MATCH FULL (True), MATCH SIMPLE (the default); MATCH PARTIAL is not implemented in
    PostgreSQL either (0A000)."""
    for opt in ref.args.get("options") or []:
        text = " ".join(str(opt).upper().split())
        if text == "MATCH PARTIAL":
            raise errors.not_supported("MATCH PARTIAL")
        if text == "MATCH FULL":
            return True
    return False


def _deferrability(ref) -> tuple[bool, bool]:
    """(DEFERRABLE, INITIALLY DEFERRED) from a REFERENCES clause's options; INITIALLY
    DEFERRED alone makes the constraint deferrable, as in PostgreSQL."""
    deferrable = deferred = None
    for opt in ref.args.get("options") or []:
        text = " ".join(str(opt).upper().split())
        if text in ("DEFERRABLE", "NOT DEFERRABLE"):
            deferrable = text == "DEFERRABLE"
        elif text in ("INITIALLY DEFERRED", "INITIALLY IMMEDIATE"):
            deferred = text == "INITIALLY DEFERRED"
    if deferred and deferrable is False:
        raise errors.syntax_error("constraint declared INITIALLY DEFERRED must be DEFERRABLE")
    return bool(deferrable or deferred), bool(deferred)


def unique_keys(schema) -> list[tuple]:
    """Column-position tuples that are unique: PRIMARY KEY, UNIQUE, unique indexes."""
    keys = [tuple(u.columns) for u in schema.uniques]
    keys += [tuple(d.columns) for d in schema.indexes if d.unique and not d.keyed]
    return keys


def _action(ref, event: str) -> str:
    for opt in ref.args.get("options") or []:
        text = " ".join(str(opt).upper().split())
        if text.startswith(f"ON {event} "):
            action = text[len(f"ON {event} "):]
            if action not in _ACTIONS:
                raise errors.syntax_error(f"unknown referential action {action!r}")
            return action
    return "NO ACTION"
