"""Binding CREATE [UNIQUE] INDEX and DROP INDEX into plan nodes (plan/ddl.py).

The columns are resolved and a default name chosen here; building the index over
the live rows, and the existence checks, happen at execution inside the
transaction (exec/operators/ddl.py, storage/index_define.py), so a rolled-back
CREATE INDEX never existed and forks that never saw it share nothing new.

Index names share one namespace with tables, views and constraint indexes
(PostgreSQL's relation names): a clash is ``42P07``.

A key of plain columns is a column index; a key with an expression (``lower(email)``),
or a partial UNIQUE index, is *keyed* (storage/schema.py ``IndexDef``): its parts and
predicate are kept as SQL text, checked here as PostgreSQL checks them (only the row's
columns and immutable built-in functions: ``42P17``), and bound again by
``bind_key_parts`` whenever the key function is compiled (index_keys.py). ``INCLUDE``
columns are stored with the definition and shown; they take no part in the key.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.ddl import LogicalCreateIndex, LogicalDropIndex
from ...storage.root import relation_exists
from ...plan.expr import Param
from ...storage.schema import IndexDef
from ..parse import parse_one, position_of
from .bind_expr import ExprBinder
from .bind_select import bind_query
from .scope import Scope


# Operator classes an index on a plain column may name: the btree defaults and the
# pattern classes (LIKE-prefix ordering); any other is 0A000 rather than ignored.
_OPCLASSES = frozenset({"varchar_pattern_ops", "text_pattern_ops", "bpchar_pattern_ops",
                        "text_ops", "varchar_ops", "bpchar_ops", "int2_ops", "int4_ops",
                        "int8_ops", "float4_ops", "float8_ops", "numeric_ops", "bool_ops",
                        "date_ops", "timestamp_ops", "timestamptz_ops", "time_ops",
                        "uuid_ops", "bytea_ops", "interval_ops"})


def _check_opclass(node: exp.Opclass) -> None:
    name = node.expression.name.lower() if node.expression is not None else ""
    if name not in _OPCLASSES:
        raise errors.not_supported(f"operator class {name}",
                                   hint="Index the plain column: CREATE INDEX i ON t (a).")


# Key types PostgreSQL has a default gin / gist operator class for (of those we have).
_METHOD_TYPES = {"gin": lambda t: t in (types.TSVECTOR, types.JSON) or types.is_array(t),
                 "gist": lambda t: t in (types.TSVECTOR, types.TSQUERY)}


def _check_method_types(stmt, schema, params, parts) -> str:
    """``USING gin`` / ``gist``: accepted where PostgreSQL has a default operator class
    for the key (tsvector, arrays, jsonb; tsvector and tsquery for gist), else 42704. The
    index kept is an ordinary one on the same key: queries it cannot serve (``@@``)
    scan, and get the same answers."""
    using = params.args.get("using") if params is not None else None
    method = using.name.lower() if using is not None else "btree"
    allowed = _METHOD_TYPES.get(method)
    if allowed is None:
        return "btree"
    bound, _ = bind_key_parts(stmt, schema, tuple(expr_sql(p) for p in parts), None)
    for e in bound:
        if not allowed(e.type):
            shown = e.type.lower()
            raise errors.sql_error(
                "42704", f'data type {shown} has no default operator class for access '
                         f'method "{method}"',
                hint="You must specify an operator class for the index or define a default "
                     "operator class for the data type.")
    return method


def bind_create_index(stmt, node: exp.Create):
    index = node.this
    table_node = index.args.get("table")
    version = stmt.table(table_node.name, position_of(table_node))
    schema = version.schema
    params = index.args.get("params")
    parts: list[exp.Expression] = []
    options: list[int] = []
    for item in (params.args.get("columns") or []) if params is not None else []:
        col = item.this if isinstance(item, exp.Ordered) else item
        if isinstance(item, exp.Ordered):      # sqlglot fills in NULLS' default per order
            options.append((1 if item.args.get("desc") else 0) |
                           (2 if item.args.get("nulls_first") else 0))
        else:
            options.append(0)
        if isinstance(col, exp.Opclass):
            # ``(name varchar_pattern_ops)`` (Django makes one for every indexed text
            # column): the operator class only picks which operators the index serves;
            # the index here is the column's own, and LIKE 'prefix%' scans as before
            _check_opclass(col)
            col = col.this
        while isinstance(col, exp.Paren):
            col = col.this
        if isinstance(col, exp.Column) and schema.position(col.name) is None:
            raise errors.sql_error("42703", f'column "{col.name}" does not exist',
                                   position=position_of(col))
        parts.append(col)
    if not parts:
        raise errors.syntax_error("CREATE INDEX needs at least one column")
    method = _check_method_types(stmt, schema, params, parts)
    unique = bool(node.args.get("unique"))
    # NULLS NOT DISTINCT (sql/parse_pg15.py keeps it): NULL keys clash in a unique index
    nulls_not_distinct = bool(node.meta.get("nulls_not_distinct")) if node._meta else False
    where = params.args.get("where") if params is not None else None
    pred = where.this if isinstance(where, exp.Where) else where
    include = _include(schema, params.args.get("include") or [] if params is not None else [])
    plain = all(isinstance(p, exp.Column) for p in parts)
    predicate = None
    if pred is not None:
        bind_query(stmt, exp.select("1").from_(table_node.copy()).where(pred.copy()), None)
        predicate = expr_sql(pred)
        bind_key_parts(stmt, schema, (), predicate,      # 42P17 for now(), random()
                       compiled=not plain or unique)
    if plain and (predicate is None or not unique):
        # a key of plain columns: the column index (a partial one covers every row,
        # which answers the same queries: an index only ever narrows what is read)
        columns = tuple(schema.position(p.name) for p in parts)
        for c in columns:     # json has no equality or ordering (json_equality.py)
            if schema.columns[c].type == types.JSONT:
                raise errors.sql_error("42704", "data type json has no default operator "
                                                'class for access method "btree"',
                                       hint="You must specify an operator class for the "
                                            "index or define a default operator class for "
                                            "the data type.")
        name = index.name or _default_name(schema, [schema.columns[c].name for c in columns],
                                           stmt.root)
        definition = IndexDef(name, columns, unique, predicate=predicate, include=include,
                              method=method, options=_options(options),
                              nulls_not_distinct=nulls_not_distinct)
    else:
        exprs = tuple(expr_sql(p) for p in parts)
        bind_key_parts(stmt, schema, exprs, predicate)
        reads = sorted({schema.position(c.name) for p in parts + ([pred] if pred else [])
                        for c in ([p] if isinstance(p, exp.Column) else p.find_all(exp.Column))})
        name = index.name or _default_name(schema, [_name_part(p) for p in parts], stmt.root)
        definition = IndexDef(name, tuple(reads), unique, exprs=exprs, predicate=predicate,
                              include=include, method=method, options=_options(options),
                              nulls_not_distinct=nulls_not_distinct)
    if_not_exists = bool(node.args.get("exists"))
    return LogicalCreateIndex([], schema.name, definition, if_not_exists)


def _options(options: list[int]) -> tuple[int, ...]:
    """IndexDef.options: () when every key part is ASC NULLS LAST (the default)."""
    return tuple(options) if any(options) else ()


def _include(schema, items) -> tuple[int, ...]:
    """INCLUDE (a, b): positions of columns stored beside the key (42703 if unknown)."""
    out = []
    for item in items:
        name = item.name
        pos = schema.position(name)
        if pos is None:
            raise errors.sql_error("42703", f'column "{name}" does not exist',
                                   position=position_of(item))
        out.append(pos)
    return tuple(out)


def expr_sql(node: exp.Expression) -> str:
    """An index key part or predicate as stored and shown: PostgreSQL's spelling as far as
    sqlglot gives it (function names lower case, no outer parentheses)."""
    while isinstance(node, exp.Paren):
        node = node.this
    return node.sql(dialect="postgres", normalize_functions="lower")


def _name_part(node: exp.Expression) -> str:
    """The default name's word for a key part, as PostgreSQL picks it: a column's name,
    a function's name, else ``expr``."""
    if isinstance(node, exp.Column):
        return node.name
    if isinstance(node, exp.Func) and not isinstance(node, exp.Cast):
        return (node.sql_name() if not isinstance(node, exp.Anonymous) else node.name).lower()
    return "expr"


def bind_key_parts(stmt, schema, exprs: tuple[str, ...], predicate: str | None,
                   compiled: bool = True):
    """(bound key parts, bound predicate or None) of a keyed index over ``schema``'s row:
    only the row's columns, constants and immutable built-in functions (42P17), no
    aggregate (42803), window (42P20) or subquery (0A000). ``compiled`` False: the
    predicate of an index that covers every row (never evaluated), where a user
    function is let through as before; only volatile ones are 42P17."""
    scope = Scope()
    for c in schema.columns:
        scope.add(schema.name, c.name, c.type)
    bound = []
    for sql, what in [(e, "expression") for e in exprs] + (
            [(predicate, "predicate")] if predicate is not None else []):
        node = parse_one(f"SELECT {sql}").expressions[0]
        if node.find(exp.Subquery, exp.Select, exp.Exists) is not None:
            raise errors.not_supported(f"subquery in index {what}")
        if node.find(exp.AggFunc) is not None:
            raise errors.sql_error("42803", f"aggregate functions are not allowed in index "
                                            f"{what}s")
        if node.find(exp.Window) is not None:
            raise errors.sql_error("42P20", f"window functions are not allowed in index "
                                            f"{what}s")
        sql_functions = stmt.root.functions if stmt.root is not None else {}
        if compiled and any(f.name.lower() in sql_functions
                            for f in node.find_all(exp.Anonymous)):
            # (the key function is compiled again on reopen and after ALTER, apart from
            # any one statement: built-in functions only)
            raise errors.not_supported(f"user-defined functions in an index {what}",
                                       hint="Write the function's body in the index.")
        binder = ExprBinder(stmt, scope, clause=f"index {what}")
        e = binder.bind_boolean(node, "WHERE") if what == "predicate" else binder.bind(node)
        if any(isinstance(x, Param) for x in e.walk()) or any(
                getattr(getattr(x, "impl", None), "volatile", False)
                or (compiled and getattr(getattr(x, "impl", None), "user", False))
                for x in e.walk()):
            raise errors.sql_error("42P17", f"functions in index {what} must be marked "
                                            "IMMUTABLE")
        bound.append(e)
    return (bound[:len(exprs)], bound[len(exprs)] if predicate is not None else None)


def _default_name(schema, words, root) -> str:
    base = f"{schema.name}_{'_'.join(words)}_idx"
    name, i = base, 0
    while relation_exists(root, name):
        i += 1
        name = f"{base}{i}"
    return name


def bind_drop_index(stmt, node: exp.Drop):
    names = [t.name for t in (node.args.get("tables") or
                              ([node.this] if node.this is not None else []))]
    return LogicalDropIndex([], tuple(names), bool(node.args.get("exists")))
