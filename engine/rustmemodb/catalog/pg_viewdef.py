"""A view's query as PostgreSQL 15's ``pg_get_viewdef(oid, true)`` prints it, and a
CHECK's condition as ``pg_get_constraintdef`` does (``pretty_condition``).

PostgreSQL keeps a view as a parse tree and prints it back: each select-list item on
its own line, every column qualified by its table (``b.id``), ``FROM``/``WHERE``/
``GROUP BY``/``ORDER BY`` on lines of their own, right-aligned, a string constant with
its type (``'x'::text``). psql's ``\\d+ v`` and ``\\sv v``, pg_views.definition and
SQLAlchemy's ``get_view_definition`` show that text. The engine keeps the query as
written (normalised by sqlglot), so this module prints the common shapes the same way:
one SELECT over tables of the database (joined or not) with plain columns, calls,
aggregates, comparisons, AND/OR/NOT, arithmetic and IS [NOT] NULL, where the operands'
types agree (or a constant takes a numeric column's type: ``0::numeric``). Anything
else (subqueries, CASE, casts, mixed types PostgreSQL would convert, set operations,
CTEs, window functions...) returns None and the caller shows the query as written
rather than a guess.

          SELECT b.id,                  <- "SELECT " then ",\\n    " between items
             b.name
            FROM b                      <- "\\n   FROM "
           WHERE b.qty > 0;             <- "\\n  WHERE ", "\\n  GROUP BY ", "\\n  ORDER BY "
"""
from __future__ import annotations

import sqlglot
from sqlglot import exp

from ..storage.namespaces import split
from .pg_keywords import quote_ident

# Binary operators PostgreSQL prints infix (AND/OR are chains: _chain); where an operand
# gets parentheses is _wrap's
_BINARY = {exp.EQ: "=", exp.NEQ: "<>", exp.LT: "<", exp.GT: ">", exp.LTE: "<=", exp.GTE: ">=",
           exp.DPipe: "||", exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/",
           exp.Mod: "%"}
_AGGREGATES = {exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min",
               exp.Max: "max"}


class _Scope(dict):
    """FROM name -> {column name: Column}; ``parens``: every operation parenthesized
    (pg_get_viewdef without pretty); ``qualify``: columns named with their table (a
    view's), or bare (a CHECK's)."""
    parens = False
    qualify = True


class _Unsupported(Exception):
    """A shape this printer does not know: the caller keeps the query as written."""


def pretty_viewdef(sql: str, tables: dict, schemas: dict, pretty: bool = True) -> str | None:
    """``sql`` (a stored view query) as PostgreSQL prints it, or None for a shape this
    module does not print. ``tables``: catalog key -> table version (its columns);
    ``schemas``: the database's schemas (``s.t`` keys). Without ``pretty``
    (``pg_get_viewdef(oid)``, pg_views) every operation is parenthesized:
    ``WHERE (b.qty > 0)``."""
    try:
        tree = sqlglot.parse_one(sql, read="postgres")
        return _select(tree, tables, schemas, not pretty) + ";"
    except (_Unsupported, sqlglot.errors.ParseError):
        return None


def pretty_condition(sql: str, columns, pretty: bool) -> str | None:
    """A CHECK constraint's condition over ``columns`` (a table's) as PostgreSQL's
    pg_get_constraintdef prints it inside ``CHECK (...)``: columns bare; without
    ``pretty`` every operation parenthesized. None for a shape not printed here."""
    scope = _Scope()
    scope["_"] = {c.name: c for c in columns}
    scope.parens, scope.qualify = not pretty, False
    try:
        node = sqlglot.parse_one(sql, read="postgres")
        return _expr(node, scope, None)
    except (_Unsupported, sqlglot.errors.ParseError):
        return None


def _select(node, tables: dict, schemas: dict, parens: bool) -> str:
    given = {k for k, v in node.args.items() if v}
    if not isinstance(node, exp.Select) or given - {
            "expressions", "from", "from_", "joins", "where", "group", "order"}:
        raise _Unsupported
    from_ = node.args.get("from_") or node.args.get("from")
    sources = [from_.this] if from_ else []
    joins = node.args.get("joins") or []
    sources += [j.this for j in joins]
    scope = _Scope()
    scope.parens = parens
    shown_from = []
    for src in sources:
        if not isinstance(src, exp.Table) or src.args.get("joins") or src.db \
                or src.args.get("only"):
            raise _Unsupported
        key = src.name
        version = tables.get(key)
        if version is None:
            raise _Unsupported
        schema, bare = split(key, schemas)
        alias = src.alias or bare
        scope[alias] = {c.name: c for c in version.schema.columns}
        text = bare if schema == "public" else f"{schema}.{bare}"
        shown_from.append(text if alias == bare else f"{text} {alias}")
    if not scope:
        raise _Unsupported

    def expr(e) -> str:
        return _expr(e, scope, None)

    items = []
    for item in node.expressions:
        if isinstance(item, exp.Star):
            items += [f"{a}.{c}" for a, cols in scope.items() for c in cols]
            continue
        alias = item.alias if isinstance(item, exp.Alias) else None
        inner = item.this if isinstance(item, exp.Alias) else item
        text = expr(inner)
        if isinstance(inner, exp.Column):
            if alias and alias != inner.name:
                text += f" AS {alias}"
        else:
            text += f" AS {alias or _implicit_name(inner)}"
        items.append(text)
    out = "SELECT " + ",\n    ".join(items)
    source = shown_from[0]
    for join, shown in zip(joins, shown_from[1:]):
        side = (join.args.get("side") or "").upper()
        on = join.args.get("on")
        if join.args.get("kind") or join.args.get("using") or on is None:
            raise _Unsupported
        word = {"": "JOIN", "LEFT": "LEFT JOIN", "RIGHT": "RIGHT JOIN",
                "FULL": "FULL JOIN"}.get(side)
        if word is None:
            raise _Unsupported
        if parens:      # not pretty: each join and its condition parenthesized
            source = f"({source}\n     {word} {shown} ON ({expr(on)}))"
        else:
            source += f"\n     {word} {shown} ON {expr(on)}"
    out += "\n   FROM " + source
    if node.args.get("where"):
        out += "\n  WHERE " + expr(node.args["where"].this)
    if node.args.get("group"):
        group = node.args["group"]
        if {k for k, v in group.args.items() if v} - {"expressions"}:
            raise _Unsupported
        out += "\n  GROUP BY " + ", ".join(expr(g) for g in group.expressions)
    if node.args.get("order"):
        parts = []
        for o in node.args["order"].expressions:
            nulls = o.args.get("nulls_first")
            desc = bool(o.args.get("desc"))
            if nulls is not None and nulls != desc:     # not the default for the order
                raise _Unsupported
            parts.append(expr(o.this) + (" DESC" if desc else ""))
        out += "\n  ORDER BY " + ", ".join(parts)
    return " " + out


def _implicit_name(node) -> str:
    """The output name PostgreSQL gives an unnamed expression: a call's function name."""
    for cls, name in _AGGREGATES.items():
        if isinstance(node, cls):
            return name
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    raise _Unsupported


def _expr(e, scope: dict, parent) -> str:
    """``e`` printed; ``parent``: (the enclosing operation, whether ``e`` is its left
    operand), None at the top or inside a call's parentheses."""
    if isinstance(e, exp.Paren):
        return _expr(e.this, scope, parent)
    if isinstance(e, exp.Column):
        if e.table:
            if e.table not in scope or e.name not in scope[e.table]:
                raise _Unsupported
            return _column(e.table, e.name, scope)
        owners = [a for a, cols in scope.items() if e.name in cols]
        if len(owners) != 1:
            raise _Unsupported
        return _column(owners[0], e.name, scope)
    if isinstance(e, exp.Literal):
        if e.is_string:
            return "'" + e.this.replace("'", "''") + "'::text"
        if not e.this.lstrip("-").isdigit():
            raise _Unsupported         # 2.5 is numeric: PostgreSQL prints it with a cast
        return e.this
    if isinstance(e, exp.Boolean):
        return "true" if e.this else "false"
    if isinstance(e, exp.Null):
        return "NULL"
    if type(e) in (exp.And, exp.Or):
        # PostgreSQL's parser makes ``a OR b OR c`` one OR of three (its left operand
        # joins the chain even when parenthesized)
        kind = "and" if type(e) is exp.And else "or"
        text = f" {kind.upper()} ".join(_expr(p, scope, (kind, False)) for p in _chain(e))
        return _wrap(text, kind, parent, scope)
    for cls, op in _BINARY.items():
        if type(e) is cls:
            sides = []
            for a, b, left in ((e.this, e.expression, True), (e.expression, e.this, False)):
                if not isinstance(a, exp.Literal) and not isinstance(b, exp.Literal) and (
                        _kind(a, scope) is None or _kind(a, scope) != _kind(b, scope)):
                    raise _Unsupported    # PostgreSQL would print a conversion of one side
                if isinstance(a, exp.Literal) and _kind(a, scope) != _kind(b, scope):
                    # the constant takes the column's type, and PostgreSQL prints the
                    # cast: ``price >= 0::numeric``, ``d > 2.5::double precision``
                    sides.append(_cast_constant(a, b, scope))
                else:
                    sides.append(_expr(a, scope, (op, left)))
            text = f"{sides[0]} {op} {sides[1]}"
            return _wrap(text, op, parent, scope)
    if isinstance(e, exp.Not):
        inner = e.this
        return _wrap("NOT " + _expr(inner, scope, ("not", False)), "not", parent, scope)
    if isinstance(e, exp.Is) and isinstance(e.expression, exp.Null):
        text = f"{_expr(e.this, scope, ('isnull', False))} IS " \
               f"{'NOT ' if e.args.get('negate') else ''}NULL"
        return _wrap(text, "isnull", parent, scope)
    if isinstance(e, exp.Count):
        arg = e.this
        if isinstance(arg, exp.Star) or arg is None:
            return "count(*)"
        if isinstance(arg, exp.Distinct):
            raise _Unsupported
        return f"count({_expr(arg, scope, None)})"
    for cls, name in _AGGREGATES.items():
        if type(e) is cls:
            if isinstance(e.this, exp.Distinct):
                raise _Unsupported
            return f"{name}({_expr(e.this, scope, None)})"
    if isinstance(e, (exp.Lower, exp.Upper, exp.Abs, exp.Length)):
        name = {exp.Lower: "lower", exp.Upper: "upper", exp.Abs: "abs",
                exp.Length: "length"}[type(e)]
        return f"{name}({_expr(e.this, scope, None)})"
    raise _Unsupported


def _column(table: str, name: str, scope) -> str:
    column = quote_ident(name)
    return f"{quote_ident(table)}.{column}" if scope.qualify else column


_ARITH_LOW, _ARITH_HIGH = ("+", "-"), ("*", "/", "%")


def _wrap(text: str, kind: str, parent, scope) -> str:
    """``text`` of an operation of ``kind`` (an operator, "and", "or", "not", "isnull")
    in parentheses where PostgreSQL puts them: always without pretty; pretty, where its
    ruleutils.c isSimpleNode says the operation is not simple under its parent."""
    if parent is None:
        return f"({text})" if scope.parens else text
    if scope.parens:
        return f"({text})"
    outer, is_left = parent
    bools = ("and", "or", "not")
    if kind in bools:
        simple = outer in bools and (kind in ("not", "and") and outer in ("and", "or")
                                     or kind == "or" and outer == "or")
    elif kind == "isnull":
        simple = outer in bools
    elif outer in bools:
        simple = True                       # an operator under AND/OR/NOT
    elif outer == "isnull":
        simple = False
    elif kind in _ARITH_LOW + _ARITH_HIGH and outer in _ARITH_LOW + _ARITH_HIGH:
        if kind in _ARITH_HIGH and outer in _ARITH_LOW:
            simple = True
        elif kind in _ARITH_LOW and outer in _ARITH_HIGH:
            simple = False
        else:
            simple = is_left                # (a - b) - c, not a - (b - c)
    else:
        simple = False                      # a comparison or || under another operator
    return text if simple else f"({text})"


def _chain(e) -> list:
    """The operands of an AND or OR chain, its left operands flattened."""
    left = e.this
    while isinstance(left, exp.Paren):
        left = left.this
    head = _chain(left) if type(left) is type(e) else [e.this]
    return head + [e.expression]


def _cast_constant(literal, other, scope: dict) -> str:
    """A number beside a numeric, real or double precision column, as PostgreSQL prints
    it once converted (``0::numeric``; unpretty ``(0)::numeric``); other mixes are not
    printed here."""
    while isinstance(other, exp.Paren):
        other = other.this
    if literal.is_string or not isinstance(other, exp.Column):
        raise _Unsupported
    owners = [cols[other.name] for a, cols in scope.items()
              if other.name in cols and (not other.table or a == other.table)]
    if len(owners) != 1 or owners[0].type not in ("FLOAT", "NUMERIC"):
        raise _Unsupported
    typmod = owners[0].typmod or ()
    # real beside a constant compares as double precision (PostgreSQL's float48 operators);
    # a FLOAT column with a numeric typmod is a database from when NUMERIC was float8
    target = "numeric" if owners[0].type == "NUMERIC" or typmod[:1] == ("numeric",) \
        else "double precision"
    text = literal.this
    if not text.replace(".", "", 1).isdigit():
        raise _Unsupported
    if target == "numeric" and "." in text:
        return text                    # already a numeric constant
    return f"({text})::{target}" if scope.parens else f"{text}::{target}"


def _kind(e, scope: dict) -> str | None:
    """The type class of an operand, as far as this printer follows PostgreSQL's type
    resolution: 'int' (smallint, bigint and integer constants), 'text', 'numeric',
    'float8', 'float4', 'bool', another column type by name; None when unknown."""
    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, exp.Literal):
        return "text" if e.is_string else "int" if e.this.isdigit() else None
    if isinstance(e, exp.Boolean):
        return "bool"
    if type(e) in (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod):
        kinds = {_kind(e.this, scope), _kind(e.expression, scope)}
        return kinds.pop() if len(kinds) == 1 else None
    if type(e) in (exp.EQ, exp.NEQ, exp.LT, exp.GT, exp.LTE, exp.GTE, exp.And, exp.Or,
                   exp.Not, exp.Is):
        return "bool"
    if isinstance(e, (exp.Lower, exp.Upper)):
        return "text"
    if isinstance(e, (exp.Count, exp.Length)):
        return "int"
    if isinstance(e, (exp.Abs, exp.Min, exp.Max)):
        return _kind(e.this, scope)
    if isinstance(e, exp.Column):
        owners = [cols[e.name] for a, cols in scope.items()
                  if e.name in cols and (not e.table or a == e.table)]
        if len(owners) == 1:
            c = owners[0]
            if c.type == "INTEGER" and c.typmod in (None, ("int2",), ("int4",)):
                return "int"
            if c.type == "TEXT" and c.typmod is None:
                return "text"
            if c.type == "FLOAT":
                mod = (c.typmod or ("float8",))[0]
                return {"numeric": "numeric", "float4": "float4"}.get(mod, "float8")
            if c.type == "BOOLEAN":
                return "bool"
            if c.type == "NUMERIC" and (c.typmod is None or c.typmod[:1] == ("numeric",)):
                return "numeric"
            return f"{c.type}{c.typmod}"
    return None
