"""Binding SELECT: clauses in PostgreSQL's logical order, into a plan tree.

    FROM/JOIN -> WHERE -> GROUP BY/aggregates -> HAVING -> window functions
    -> select list -> DISTINCT -> ORDER BY -> LIMIT/OFFSET

Aggregation is bound in two steps: every expression of the select list, HAVING
and ORDER BY is first bound against the input (aggregates allowed), then
"lifted": sub-expressions equal to a GROUP BY expression become references to
the group column, aggregate calls become references to aggregate outputs, and
any other input column left over is error ``42803``. ORDER BY may name an
output column (by alias or ordinal) or any input expression; the latter rides
along as a hidden column that a final projection drops.
"""
from __future__ import annotations

import re

from sqlglot import exp

from ... import errors, types
from ...deep import deep
from ...plan.expr import AggCall, Call, Case, ColRef, Const, Expr, Param, transform
from ...plan.logical import (LogicalAggregate, LogicalDistinct, LogicalDistinctOn, LogicalFilter,
                             LogicalLimit,
                             LogicalNode, LogicalProject, LogicalProjectSet, LogicalSort,
                             LogicalValues)
from ..parse import DIALECT, OID_ARRAY, position_of
from .bind_expr import ExprBinder
from .json_equality import require_equality, require_ordering
from .bind_from import bind_from
from .bind_locks import bind_locks, lockable_table, wait_policy, with_rowid
from .coerce import common_type, adapt
from .scope import Scope
from . import sort_keys
from .bind_expr import _retype
from .bind_expr import _OID_OUT, _object_identifier
from .bind_grouping_sets import expand_group_by
from .bind_sample import bind_sample
from .bind_grouping_sets import aggregate_grouping_sets
from .functional_dependency import with_dependent_columns
from .with_ties import keep_ties, with_ties
from .type_modifiers import user_type_name


@deep
def bind_query(stmt, node: exp.Expression, parent: Scope | None) -> LogicalNode:
    """Any query expression: SELECT, set operation, VALUES, parenthesised query."""
    with_ = node.args.get("with_") or node.args.get("with")
    if with_ is not None:
        return stmt.bind_with(node, with_, parent)
    if isinstance(node, exp.Select):
        return bind_select(stmt, node, parent)
    if isinstance(node, exp.Subquery):
        plan = bind_query(stmt, node.this, parent)
        if any(node.args.get(k) is not None for k in ("order", "limit", "offset")):
            from .bind_setop import order_and_limit   # (SELECT ...) ORDER BY ... LIMIT ...
            plan = order_and_limit(stmt, node, plan)
        return plan
    if isinstance(node, exp.Values):
        from .bind_setop import order_and_limit
        return order_and_limit(stmt, node, bind_values(stmt, node, parent))
    if isinstance(node, (exp.Union, exp.Intersect, exp.Except)):
        return stmt.bind_set_operation(node, parent)
    raise errors.not_supported(f"query {node.sql(dialect='postgres')!r}")


def bind_values(stmt, node: exp.Values, parent: Scope | None) -> LogicalNode:
    binder = ExprBinder(stmt, Scope(parent=parent))
    rows = [[binder.bind(v) for v in t.expressions] for t in node.expressions]
    width = len(rows[0])
    if any(len(r) != width for r in rows):
        raise errors.syntax_error("VALUES lists must all be the same length",
                                  position=position_of(node))
    col_types = [common_type([r[i] for r in rows], "VALUES") for i in range(width)]
    col_types = [types.TEXT if t == types.NULL else t for t in col_types]
    rows = [[_settle(e, t) for e, t in zip(r, col_types)] for r in rows]
    names = [f"column{i + 1}" for i in range(width)]
    return LogicalValues(list(zip(names, col_types)), rows)


def _settle(e: Expr, t: str) -> Expr:
    return _retype(e, t)


def bind_select(stmt, node: exp.Select, parent: Scope | None) -> LogicalNode:
    locks = node.args.get("locks")
    if locks:
        lockable_table(stmt, node)
    plan, scope = bind_from(stmt, node, parent)
    rowid_item = None
    if locks and wait_policy(node) == "skip":
        plan, rowid_item = with_rowid(plan, scope)    # SKIP LOCKED locks what it returns
    sample = node.args.get("sample")
    if sample is not None:         # DuckDB's USING SAMPLE: the FROM result, before WHERE
        plan = bind_sample(stmt, sample, plan, default_method="system")
    where = node.args.get("where")
    if where is not None:
        pred = ExprBinder(stmt, scope, clause="WHERE").bind_boolean(where.this, "WHERE",
                                                                    reuse=True)
        plan = LogicalFilter(plan.columns, plan, pred)

    items, names = _select_items(stmt, node, scope)
    if rowid_item is not None:
        items.append(rowid_item)
        names.append("_rowid")
    group_nodes = _group_nodes(node)
    having = node.args.get("having")
    agg_binder = ExprBinder(stmt, scope, aggregates=True, windows=True, clause="SELECT")
    select_exprs = [agg_binder.bind_piece(i) if not isinstance(i, Expr) else i for i in items]
    if node is stmt.ast:
        select_exprs = _object_names_out(agg_binder, items, select_exprs)
    order_specs = _order_specs(stmt, node, scope, names, select_exprs, agg_binder)
    on = node.args["distinct"].args.get("on") if node.args.get("distinct") else None
    on_keys = None if on is None else \
        stmt.distinct_on_positions(on, names, select_exprs, agg_binder.bind)
    # DISTINCT ON keys outside the select list ride beside QUALIFY's condition through the
    # aggregate lift and the window binding, then come back as bound expressions.
    on_exprs = [k for k in on_keys or () if not isinstance(k, int)]
    qualify = node.args.get("qualify")
    # DuckDB's QUALIFY: a filter after the windows are computed, carried through the
    # aggregate lift and the window binding beside the select list.
    extra = [] if qualify is None else [ExprBinder(
        stmt, scope, aggregates=True, windows=True, clause="QUALIFY").bind_boolean(
            _with_aliases(qualify.this, node, scope), "QUALIFY")]

    # One walk over the bound expressions for what the steps below look for: aggregate
    # calls, window calls, set-returning functions (lifting creates none of them).
    kinds, fns = _census(select_exprs + extra + on_exprs +
                         [s[1] for s in order_specs if s[0] == "expr"],
                         getattr(stmt, "expr_memo", None)
                         if getattr(stmt, "clauses_checked", False) else None)
    has_aggs = AggCall in kinds
    if group_nodes or having is not None or has_aggs:
        groups, sets = _bind_groups(stmt, group_nodes, scope, select_exprs, names)
        require_equality([g.type for g in groups])
        if group_nodes:
            # GROUP BY a set-returning function (or a select item that is one): its rows
            # are made below the aggregate, as PostgreSQL's ProjectSet under Agg does
            plan, swap = _srfs_below_groups(plan, groups)
            if swap is not None:
                groups = [transform(g, swap) for g in groups]
                select_exprs = [transform(e, swap) for e in select_exprs]
                extra = [transform(e, swap) for e in extra]
                on_exprs = [transform(e, swap) for e in on_exprs]
                order_specs = [(k, transform(e, swap) if k == "expr" else e, d, nf)
                               for k, e, d, nf in order_specs]
        having_expr = (ExprBinder(stmt, scope, aggregates=True, clause="HAVING")
                       .bind_boolean(having.this, "HAVING") if having is not None else None)
        if sets is None and groups:
            groups = with_dependent_columns(
                stmt, plan, scope, groups, select_exprs + extra + on_exprs + [having_expr] +
                [s[1] for s in order_specs if s[0] == "expr"])
        plan, lift = _aggregate(plan, groups, select_exprs + extra + on_exprs, having_expr,
                                order_specs, sets)
        select_exprs = [lift(e) for e in select_exprs]
        extra = [lift(e) for e in extra]
        on_exprs = [lift(e) for e in on_exprs]
        order_specs = [(k, lift(e) if k == "expr" else e, d, nf) for k, e, d, nf in order_specs]
        if having_expr is not None:
            plan = LogicalFilter(plan.columns, plan, lift(having_expr))

    windows = any(k.__name__ == "WindowCall" for k in kinds) and \
        stmt_has_windows(select_exprs + extra + on_exprs, order_specs)
    if extra and not windows:
        raise errors.sql_error("42P20", "QUALIFY needs a window function in the select list or "
                               "in QUALIFY", position=position_of(qualify),
                               hint="Without one, write the condition in WHERE or HAVING.")
    if windows:
        plan, select_exprs, order_specs = stmt.bind_windows(
            plan, select_exprs + extra + on_exprs, order_specs)
        select_exprs, extra, on_exprs = (select_exprs[:len(names)],
                                         select_exprs[len(names):len(select_exprs) - len(on_exprs)],
                                         select_exprs[len(select_exprs) - len(on_exprs):])
    if extra:
        plan = LogicalFilter(plan.columns, plan, extra[0])

    if on_exprs:
        rest = iter(on_exprs)
        on_keys = [k if isinstance(k, int) else next(rest) for k in on_keys]
    plan = _finish(stmt, node, plan, select_exprs, names, order_specs, scope.parent,
                   on_keys, srf=bool(fns & _SRF_NAMES))
    if locks:       # SELECT ... FOR UPDATE / SHARE
        plan = bind_locks(stmt, node, plan)
    return plan


def _with_aliases(cond: exp.Expression, node: exp.Select, scope: Scope) -> exp.Expression:
    """``cond`` with bare names of select-list aliases (``QUALIFY rn = 1``) replaced by
    the aliased expressions, as DuckDB reads them; a column of the FROM items wins."""
    aliases = {e.alias: e.this for e in node.expressions if isinstance(e, exp.Alias)}
    if not aliases:
        return cond

    def swap(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and not n.table and n.name in aliases \
                and not scope.find(n.name):
            return aliases[n.name].copy()
        return n
    return cond.copy().transform(swap)


# bind_array.SRF_ROW (not imported here: bind_array imports this module), the wrapper of
# a set-returning call in the select list.
_SRF_NAMES = frozenset({"srf_row"})


def _census(exprs, memo=None) -> tuple[set, set]:
    """(the node classes, the names of the calls) in ``exprs``. ``memo``: the session's
    reused pieces (sql/bind/reuse.py), which remember each expression's own census (for
    a statement assembled from pieces, whose bound items recur as objects)."""
    kinds: set = set()
    fns: set = set()
    for e in exprs:
        if memo is not None:
            k, f = memo.census_of(e, _census_one)
            kinds |= k
            fns |= f
            continue
        for n in e.walk():
            k = type(n)
            kinds.add(k)
            if k is Call:
                fns.add(n.fn)
    return kinds, fns


def _census_one(e) -> tuple[frozenset, frozenset]:
    kinds, fns = _census((e,))
    return frozenset(kinds), frozenset(fns)


def stmt_has_windows(select_exprs, order_specs) -> bool:
    for e in list(select_exprs) + [s[1] for s in order_specs if s[0] == "expr"]:
        for n in e.walk():
            if type(n).__name__ == "WindowCall":
                return True
    return False


# ---- select list ------------------------------------------------------------------------

def _select_items(stmt, node: exp.Select, scope: Scope) -> tuple[list, list[str]]:
    """Select-list entries (sqlglot nodes, or ColRefs for expanded stars) and names."""
    items, names = [], []
    earlier: dict = {}          # alias -> expression, for DuckDB's lateral column aliases
    for e in node.expressions:
        if earlier:
            e = _lateral_aliases(e, earlier, scope)
        if isinstance(e, exp.Alias) and e.alias and not isinstance(e.this, exp.Star):
            earlier.setdefault(e.alias, e.this)
        if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star)):
            table = e.table if isinstance(e, exp.Column) else None
            idxs = scope.star(table or None)
            if not idxs and not scope.columns:
                raise errors.syntax_error("SELECT * with no tables specified is not valid",
                                          position=position_of(e))
            star = e if isinstance(e, exp.Star) else e.this
            excluded, replaced = _star_modifiers(star, [scope.columns[i].name for i in idxs])
            expansion = []
            for i in idxs:
                c = scope.columns[i]
                if c.name in excluded:
                    continue
                items.append(replaced.get(c.name) or ColRef(i, c.type, c.name))
                names.append(c.name)
                expansion.append((c.table, c.name, replaced.get(c.name)))
            stars = getattr(stmt, "star_expansions", None)
            if stars is not None:        # CREATE VIEW fixes its columns (view_stars.py)
                stars[id(e)] = expansion
            continue
        if isinstance(e, exp.Dot) and isinstance(e.expression, exp.Star) and \
                isinstance(e.this, exp.Paren):
            # (x).*: each field of the composite value x, named as the field
            inner = e.this.this
            value = ExprBinder(stmt, scope, aggregates=True, windows=True,
                               clause="SELECT").bind(inner)
            for name in stmt.composite_field_names(value, e):
                items.append(exp.Dot(this=exp.Paren(this=inner.copy()),
                                     expression=exp.to_identifier(name)))
                names.append(name)
            continue
        memo = getattr(stmt, "expr_memo", None)
        # a piece (sql/pieces.py) with a reuse key holds no COLUMNS(...): the walk is spared
        if (memo is None or not getattr(stmt, "clauses_checked", False)
                or memo.key_of(e) is None) and e.find(exp.Columns) is not None:
            # DuckDB's COLUMNS('regex'), COLUMNS(*)
            for name, item in _columns_expansion(e, scope):
                names.append(name)
                items.append(item)
            continue
        names.append(output_name(e))
        items.append(e.this if isinstance(e, exp.Alias) else e)
    return items, names


def _lateral_aliases(e: exp.Expression, earlier: dict, scope: Scope) -> exp.Expression:
    """DuckDB's lateral column aliases: ``SELECT max(x) AS m, m + 1`` reads an earlier
    select item by its alias where no column of that name is in reach (PostgreSQL would
    say 42703; a real column always wins). Subqueries keep their own names."""
    def visible(name: str) -> bool:
        s = scope
        while s is not None:
            if s.find(name):
                return True
            s = s.parent
        return False

    def swap(n):
        if isinstance(n, exp.Column) and not n.table and isinstance(n.this, exp.Identifier) \
                and n.name in earlier and not visible(n.name) and \
                n.find_ancestor(exp.Subquery, exp.Select) is None:
            return exp.Paren(this=earlier[n.name].copy())
        return n
    if not any(isinstance(c, exp.Column) and c.name in earlier for c in e.find_all(exp.Column)):
        return e
    return e.copy().transform(swap)


def _columns_expansion(e: exp.Expression, scope: Scope) -> list[tuple[str, exp.Expression]]:
    """DuckDB's ``COLUMNS(...)`` in a select-list entry: the entry once per matching
    column (``min(COLUMNS(*))``, ``COLUMNS('^price') * 2``), named by the column (or by
    the entry's alias). COLUMNS takes a regular expression (searched in the name), a list
    of names, or ``*`` with EXCLUDE / REPLACE."""
    specs = list(e.find_all(exp.Columns))
    spec = specs[0].this
    if any(s.this != spec for s in specs[1:]):
        raise errors.not_supported("different COLUMNS(...) in one select-list entry")
    idxs = scope.star(None)
    names = [scope.columns[i].name for i in idxs]
    replaced: dict = {}
    if isinstance(spec, exp.Literal) and spec.is_string:
        try:
            pattern = re.compile(spec.this)
        except re.error as exc:
            raise errors.sql_error("2201B", f"invalid regular expression in COLUMNS: {exc}",
                                   position=position_of(spec)) from None
        chosen = [i for i, n in zip(idxs, names) if pattern.search(n)]
    elif isinstance(spec, exp.Star):
        excluded, replaced = _star_modifiers(spec, names)
        chosen = [i for i, n in zip(idxs, names) if n not in excluded]
    elif isinstance(spec, exp.Array) and all(isinstance(x, exp.Literal) and x.is_string
                                             for x in spec.expressions):
        wanted = [x.this for x in spec.expressions]
        missing = [w for w in wanted if w not in names]
        if missing:
            raise errors.sql_error("42703", f'column "{missing[0]}" does not exist',
                                   position=position_of(spec))
        chosen = [i for i, n in zip(idxs, names) if n in wanted]     # in column order
    else:
        raise errors.not_supported(f"COLUMNS({spec.sql(dialect='postgres')})",
                                   hint="COLUMNS takes a regular expression, a list of "
                                        "names, or * [EXCLUDE (...)] [REPLACE (...)].")
    if not chosen:
        raise errors.sql_error("42703", "no column matches "
                               f"COLUMNS({spec.sql(dialect='postgres')})",
                               position=position_of(e))
    alias = e.alias if isinstance(e, exp.Alias) else None
    body = e.this if isinstance(e, exp.Alias) else e
    out = []
    for i in chosen:
        c = scope.columns[i]
        ref = replaced.get(c.name) or exp.column(c.name, table=c.table, quoted=True)
        item = body.copy().transform(
            lambda n: ref.copy() if isinstance(n, exp.Columns) else n)
        out.append((alias or c.name, item))
    return out


def _star_modifiers(star: exp.Star, columns: list[str]) -> tuple[set[str], dict]:
    """DuckDB's ``* EXCLUDE (a, b)`` and ``* REPLACE (expr AS a)``: the names left out
    and, by name, the expressions standing in the column's place (and under its name).
    A name the star does not expand to is 42703, as DuckDB refuses it too."""
    excluded = {c.name for c in star.args.get("except_") or ()}
    replaced = {r.alias: r.this for r in star.args.get("replace") or ()}
    for name in [*excluded, *replaced]:
        if name not in columns:
            raise errors.sql_error("42703", f'column "{name}" in * EXCLUDE/REPLACE does not '
                                   "exist among the columns * expands to",
                                   position=position_of(star))
    if excluded & set(replaced):
        raise errors.sql_error("42701", "a column cannot be both excluded and replaced in *",
                               position=position_of(star))
    return excluded, replaced


@deep
def output_name(e: exp.Expression) -> str:
    """The column name PostgreSQL gives a select-list entry."""
    if isinstance(e, exp.Alias):
        return e.alias
    if isinstance(e, exp.Column):
        return e.name
    if isinstance(e, exp.Trim):             # trim(...) is btrim, ltrim or rtrim
        where = (e.args.get("position") or "").upper()
        return {"LEADING": "ltrim", "TRAILING": "rtrim"}.get(where, "btrim")
    written = e._meta.get("written") if e._meta else None
    if written is not None:                 # a call: its name as written (sql/parse.py)
        return written
    if isinstance(e, (exp.Cast, exp.TryCast)):
        return _cast_name(e)[0]
    if isinstance(e, (exp.Paren, exp.Collate, exp.Window, exp.Filter, exp.WithinGroup)):
        return output_name(e.this)       # row_number() OVER (...) is named row_number
    if isinstance(e, exp.Anonymous):      # date_part is renamed when parsed (sql/parse.py)
        return "date_part" if e.name.lower() == "pg_date_part" else e.name.lower()
    if isinstance(e, (exp.StartsWith, exp.MatchAgainst)):
        return "?column?"                    # written as a call they are named above (^@, @@)
    if isinstance(e, exp.AtTimeZone):
        return "timezone"                    # PostgreSQL's grammar makes it timezone(z, x)
    if isinstance(e, exp.Overlaps):
        return "overlaps"                    # and (a, b) OVERLAPS (c, d) overlaps(a, b, c, d)
    if isinstance(e, exp.StrPosition):      # position(a IN b); strpos(b, a) is written
        return "position"
    if isinstance(e, exp.Bracket):          # (array[...])[i] is named as what it indexes
        return output_name(e.this)
    if isinstance(e, exp.Dot) and isinstance(e.expression, exp.Identifier):
        return e.expression.name              # (t).c is named c
    if isinstance(e, exp.Dot) and isinstance(e.expression, exp.Func):
        return output_name(e.expression)      # pg_catalog.version() is named version
    if isinstance(e, exp.Case):
        return _case_name(e)[0]
    if isinstance(e, exp.Interval):          # interval '90 minutes'
        return "interval"
    if isinstance(e, (exp.CurrentTimestamp,)):
        return "now" if e.args.get("sysdate") is None else "current_timestamp"
    if isinstance(e, exp.CurrentDate):
        return "current_date"
    if isinstance(e, exp.Exists):
        return "exists"
    if isinstance(e, exp.Subquery):
        inner = e.this
        if isinstance(inner, exp.Select) and len(inner.expressions) == 1:
            return output_name(inner.expressions[0])
        return "?column?"
    if isinstance(e, exp.Func) and not isinstance(e, (exp.Binary,)):
        name = e.sql_name().lower()
        return {"logical_and": "bool_and", "logical_or": "bool_or", "group_concat": "string_agg",
                "bitwise_and_agg": "bit_and", "bitwise_or_agg": "bit_or",
                "bitwise_xor_agg": "bit_xor",
                "if": "case"}.get(name, name)
    return "?column?"


def _strong_name(e: exp.Expression) -> tuple[str, int]:
    """PostgreSQL's FigureColname strength: 2 for a name of its own (a column's, a
    call's), 1 for a type's name from a cast or ``case``, 0 for ``?column?``."""
    while isinstance(e, exp.Paren):
        e = e.this
    if isinstance(e, (exp.Cast, exp.TryCast)):
        return _cast_name(e)
    if isinstance(e, exp.Case):
        return _case_name(e)
    if isinstance(e, exp.Interval):            # interval '1 day' is a cast of a literal
        return "interval", 1
    name = output_name(e)
    return name, (0 if name == "?column?" else 2)


def _cast_name(e: exp.Cast) -> tuple[str, int]:
    """A cast keeps the name of what it casts only when that name is strong; a literal,
    an inner cast's type, ``case`` or an operator give way to the cast's type."""
    inner = e.this
    while isinstance(inner, exp.Paren):
        inner = inner.this
    if isinstance(inner, (exp.Literal, exp.Boolean, exp.Null)):
        return _type_output_name(e.to), 1
    name, strength = _strong_name(inner)
    return (name, 2) if strength == 2 else (_type_output_name(e.to), 1)


def _case_name(e: exp.Case) -> tuple[str, int]:
    """CASE is named by its ELSE when that has a strong name, else ``case``."""
    default = e.args.get("default")
    if default is not None:
        name, strength = _strong_name(default)
        if strength == 2:
            return name, 2
    return "case", 1


_T = exp.DataType.Type
# PostgreSQL's internal names of the types a cast may be written with
_WRITTEN_TYPE_NAMES = {_T.SMALLINT: "int2", _T.INT: "int4", _T.BIGINT: "int8",
                       _T.FLOAT: "float4", _T.DOUBLE: "float8", _T.DECIMAL: "numeric",
                       _T.VARCHAR: "varchar", _T.CHAR: "bpchar", _T.JSON: "json",
                       _T.JSONB: "jsonb", _T.TIMESTAMPTZ: "timestamptz", _T.TEXT: "text",
                       _T.BOOLEAN: "bool", _T.TIMESTAMP: "timestamp", _T.DATE: "date"}


def _type_output_name(dt: exp.DataType) -> str:
    oid_type = _object_identifier(dt)
    if oid_type is not None:              # 'x'::regclass is named regclass
        return oid_type.lower()
    if isinstance(dt, exp.ObjectIdentifier):    # 'english'::regconfig
        return dt.name.lower()
    user = user_type_name(dt)
    if user == OID_ARRAY:                 # x::oid[], x::regtype[] (sql/parse.py)
        return "oid"
    if user is not None:                  # 'ok'::mood is named mood (or 42704 when binding it)
        return user
    if dt.this == exp.DataType.Type.ARRAY and dt.expressions and \
            user_type_name(dt.expressions[0]) is not None:
        return user_type_name(dt.expressions[0])      # '{...}'::pair[] is named pair
    if dt.this == exp.DataType.Type.ARRAY and dt.expressions:
        return _type_output_name(dt.expressions[0])      # '{1,2}'::int[] is named int4
    written = _WRITTEN_TYPE_NAMES.get(dt.this)
    if written is not None:               # as written: 'x'::int is int4 (stored as int8)
        return written
    name = types.normalize_type_name(dt.sql(dialect=DIALECT))
    return {"INTEGER": "int8", "FLOAT": "float8", "TEXT": "text", "BOOLEAN": "bool",
            "TIMESTAMP": "timestamp", "DATE": "date", "UUID": "uuid", "JSON": "jsonb",
            "JSONT": "json", "INTERVAL": "interval", "TIME": "time",
            "BYTEA": "bytea"}.get(name, name.lower())


# ---- GROUP BY and the aggregate lift ---------------------------------------------------------

def _group_nodes(node: exp.Select) -> list:
    """The GROUP BY items; for DuckDB's ``GROUP BY ALL``, every select-list item that
    holds no aggregate and no window function (none: one group, as with no GROUP BY)."""
    group = node.args.get("group")
    if group is None:
        return []
    if not group.args.get("all"):
        return group.expressions
    items = [e.this if isinstance(e, exp.Alias) else e for e in node.expressions]
    return [e for e in items if not isinstance(e, exp.Star) and not any(
        isinstance(n, (exp.AggFunc, exp.Window)) for n in e.walk())]


def _bind_groups(stmt, group_nodes, scope: Scope, select_exprs, names):
    """(group expressions, grouping sets or None): see bind_grouping_sets.py."""
    binder = ExprBinder(stmt, scope, clause="GROUP BY")

    def bind_one(g) -> Expr:
        if isinstance(g, exp.Literal) and not g.is_string:
            k = int(g.this)
            if not 1 <= k <= len(select_exprs):
                raise errors.sql_error("42P10", f"GROUP BY position {k} is not in select list",
                                       position=position_of(g))
            return select_exprs[k - 1]
        if isinstance(g, exp.Column) and not g.table and not scope.find(g.name) \
                and g.name in names:
            return select_exprs[names.index(g.name)]
        return binder.bind(g)
    return expand_group_by(group_nodes, bind_one)


def _aggregate(plan: LogicalNode, groups: list[Expr], select_exprs, having, order_specs,
               sets=None):
    aggs: list[AggCall] = []
    for e in list(select_exprs) + ([having] if having is not None else []) + \
            [s[1] for s in order_specs if s[0] == "expr"]:
        for n in e.walk():
            if isinstance(n, AggCall) and n not in aggs:
                aggs.append(n)
    ng = len(groups)
    columns = [(_group_name(g, i), g.type) for i, g in enumerate(groups)] + \
        [(a.fn, a.type) for a in aggs]
    if sets is not None or any(a.fn == "grouping" for a in aggs):
        agg_plan = aggregate_grouping_sets(plan, groups, sets, aggs, columns)
    else:
        agg_plan = LogicalAggregate(columns, plan, groups, aggs)

    def lift(e: Expr) -> Expr:
        def visit(n: Expr) -> Expr:
            return n
        return _lift(e, groups, aggs, ng)
    return agg_plan, lift


def _group_name(g: Expr, i: int) -> str:
    return g.name if isinstance(g, ColRef) else f"group{i + 1}"


def _lift(e: Expr, groups, aggs, ng) -> Expr:
    if e in groups:
        i = groups.index(e)
        return ColRef(i, e.type, _group_name(e, i))
    if isinstance(e, AggCall):
        j = aggs.index(e)
        return ColRef(ng + j, e.type, e.fn)
    if isinstance(e, ColRef):
        raise errors.sql_error(
            "42803", f'column "{e.name}" must appear in the GROUP BY clause or be used in an '
                     f'aggregate function')
    if isinstance(e, (Const, Param)):
        return e
    import dataclasses
    changes = {}
    for f in dataclasses.fields(e):
        v = getattr(e, f.name)
        if isinstance(v, Expr):
            changes[f.name] = _lift(v, groups, aggs, ng)
        elif isinstance(v, tuple) and v and any(isinstance(x, (Expr, tuple)) for x in v):
            changes[f.name] = tuple(_lift_item(x, groups, aggs, ng) for x in v)
    return dataclasses.replace(e, **changes) if changes else e


def _lift_item(x, groups, aggs, ng):
    if isinstance(x, Expr):
        return _lift(x, groups, aggs, ng)
    if isinstance(x, tuple):
        return tuple(_lift_item(y, groups, aggs, ng) for y in x)
    return x


# ---- ORDER BY ---------------------------------------------------------------------------------

def _order_specs(stmt, node, scope, names, select_exprs, binder) -> list:
    """[(kind, target, desc, nulls_first)]: kind 'out' (output position) or 'expr'."""
    order = node.args.get("order")
    every = order_by_all(order)
    if every is not None:
        return [("out", i, desc, nulls_first) for i in range(len(names))
                for desc, nulls_first in [every]]
    specs = []
    for o in (order.expressions if order else []):
        e = o.this
        desc = bool(o.args.get("desc"))
        nf = o.args.get("nulls_first")
        nulls_first = desc if nf is None else bool(nf)
        # sqlglot fills nulls_first from the dialect default; PostgreSQL: NULLS LAST for ASC.
        if not _explicit_nulls(o):
            nulls_first = desc
        if isinstance(e, exp.Literal) and not e.is_string:
            k = int(e.this)
            if not 1 <= k <= len(names):
                raise errors.sql_error("42P10", f"ORDER BY position {k} is not in select list",
                                       position=position_of(e))
            specs.append(("out", k - 1, desc, nulls_first))
        elif isinstance(e, exp.Column) and not e.table and e.name in names:
            # an output column's name wins over an input column's (SQL92's rule, as
            # PostgreSQL's findTargetlistEntrySQL92); two outputs of that name that are
            # different expressions make it ambiguous
            at = [i for i, n in enumerate(names) if n == e.name]
            if any(select_exprs[i] != select_exprs[at[0]] for i in at[1:]):
                raise errors.sql_error("42702", f'ORDER BY "{e.name}" is ambiguous',
                                       position=position_of(e))
            specs.append(("out", at[0], desc, nulls_first))
        else:
            bound = binder.bind(e)
            if bound in select_exprs:
                specs.append(("out", select_exprs.index(bound), desc, nulls_first))
            else:
                specs.append(("expr", bound, desc, nulls_first))
    return specs


def order_by_all(order: exp.Order | None) -> tuple[bool, bool] | None:
    """(descending, nulls first) for DuckDB's ``ORDER BY ALL [ASC | DESC] [NULLS ...]``
    (every output column, left to right), or None. ``all`` is reserved in PostgreSQL, so
    an unquoted ``all`` as the only key can name no column."""
    if order is None or len(order.expressions) != 1:
        return None
    o = order.expressions[0]
    e = o.this
    if not (isinstance(e, exp.Column) and not e.table and e.name == "all"
            and not e.this.args.get("quoted")):
        return None
    desc = bool(o.args.get("desc"))
    return desc, bool(o.args.get("nulls_first")) if _explicit_nulls(o) else desc


def _explicit_nulls(o: exp.Ordered) -> bool:
    """Whether the NULLS order differs from PostgreSQL's default (NULLS FIRST exactly for
    DESC): what sqlglot's PostgreSQL generator writes out as NULLS FIRST/LAST, decided
    from the node instead of generating the whole key's SQL text."""
    return bool(o.args.get("nulls_first")) != bool(o.args.get("desc"))


# ---- projection, DISTINCT, ORDER BY, LIMIT ------------------------------------------------------

def _finish(stmt, node, plan, select_exprs, names, order_specs,
            parent: Scope | None = None, on_keys: list | None = None,
            srf: bool = True) -> LogicalNode:
    """``on_keys``: the DISTINCT ON keys, if any (output positions, or bound expressions
    computed as hidden columns); ``srf``: whether a set-returning function may be in the
    select list (False: the caller walked it and found none)."""
    hidden = [s[1] for s in order_specs if s[0] == "expr"]
    distinct = node.args.get("distinct")
    if hidden and distinct is not None and not distinct.args.get("on"):
        raise errors.sql_error("42P10", "for SELECT DISTINCT, ORDER BY expressions must appear "
                                        "in select list")
    n_order = len(hidden)
    if on_keys is not None:
        on_keys = [k if isinstance(k, int) else _hidden_position(hidden, k, len(names))
                   for k in on_keys]
        _check_distinct_on_order(on_keys, order_specs, len(names))
    exprs = list(select_exprs) + hidden
    cols = [(n, e.type if e.type != types.NULL else types.TEXT) for n, e in zip(names, select_exprs)]
    cols += [(f"?order{i}" if i < n_order else f"?on{i - n_order}", e.type)
             for i, e in enumerate(hidden)]
    exprs = [_null_as_text(e) for e in exprs]
    plan = LogicalProject(cols, plan, exprs)
    if srf:
        plan, cols = _project_set(plan, cols, exprs)
    if distinct is not None:
        require_equality([t for _, t in (plan.columns if on_keys is None else
                                        [plan.columns[k] for k in on_keys])])
        if on_keys is not None:
            plan = LogicalDistinctOn(plan.columns, plan, [
                ColRef(k, plan.columns[k][1], plan.columns[k][0]) for k in on_keys])
        else:
            plan = LogicalDistinct(plan.columns, plan)
    keys, h = [], 0
    for kind, target, desc, nulls_first in order_specs:
        if kind == "out":
            t = plan.columns[target][1]
            key = ColRef(target, t, plan.columns[target][0])
        else:
            pos = len(names) + h
            h += 1
            key = ColRef(pos, plan.columns[pos][1])
        require_ordering(key.type)
        keys.append((sort_keys.sort_key(stmt.functions, key), desc, nulls_first))
    ties = with_ties(node)
    if ties:
        plan = keep_ties(stmt, node, plan, keys, _limit_count(node.args["limit"]), parent)
    if keys:
        plan = LogicalSort(plan.columns, plan, keys)
    plan = _limit(stmt, node, plan, parent, count=not ties)
    if hidden:
        plan = LogicalProject(cols[:len(names)], plan,
                              [ColRef(i, t, n) for i, (n, t) in enumerate(cols[:len(names)])])
    return plan


def _hidden_position(hidden: list, expr, width: int) -> int:
    """The output position of a DISTINCT ON key outside the select list: the hidden
    ORDER BY column computing the same expression, else a new hidden column."""
    if expr not in hidden:
        hidden.append(expr)
    return width + hidden.index(expr)


def _check_distinct_on_order(on_keys: list[int], order_specs, width: int) -> None:
    """PostgreSQL's rule: the leading ORDER BY keys are the DISTINCT ON keys (in any order);
    a key that is not one of them may follow only once all of them have come."""
    waiting, h = set(on_keys), 0
    for kind, target, _desc, _nulls in order_specs:
        if kind == "out":
            pos = target
        else:
            pos, h = width + h, h + 1
        if pos in waiting:
            waiting.discard(pos)
        elif waiting:
            raise errors.sql_error("42P10", "SELECT DISTINCT ON expressions must match initial "
                                            "ORDER BY expressions")


def _project_set(plan, cols, exprs):
    """Set-returning functions of the select list (bind_array.bind_select_list_srf).

    Each SRF call sits in an ``srf_row`` wrapper. When every wrapper is a whole select
    item, the projection computes the calls' arrays and ``LogicalProjectSet`` expands
    them in place. When one is inside an expression (``(regexp_matches(s, p))[1]``),
    as PostgreSQL's ProjectSet does, an inner projection passes the input columns
    through beside the calls' arrays, the ProjectSet expands those, and the select list
    is computed over its output with each wrapper replaced by its expanded column."""
    from .bind_array import SRF_ROW
    if not any(isinstance(n, Call) and n.fn == SRF_ROW for e in exprs for n in e.walk()):
        return plan, cols
    _refuse_conditional_srf(exprs)
    top = [isinstance(e, Call) and e.fn == SRF_ROW for e in exprs]
    nested = any(isinstance(n, Call) and n.fn == SRF_ROW
                 for e, t in zip(exprs, top) for n in (e.args[0] if t else e).walk())
    if not nested:
        positions = [i for i, t in enumerate(top) if t]
        inner = [e.args[0] if t else e for e, t in zip(exprs, top)]
        project = LogicalProject([(n, inner[i].type) if i in positions else (n, t)
                                  for i, (n, t) in enumerate(cols)], plan.child, inner)
        return LogicalProjectSet(cols, project, positions), cols
    child = plan.child
    width = len(child.columns)
    calls: list = []

    def lift(n):
        if isinstance(n, Call) and n.fn == SRF_ROW:
            calls.append(n.args[0])
            return ColRef(width + len(calls) - 1, n.type, f"?srf{len(calls) - 1}")
        return n

    outer = [transform(e, lift) for e in exprs]
    return LogicalProject(cols, _expanded(child, calls), outer), cols


def _expanded(child: LogicalNode, calls: list) -> LogicalNode:
    """``child``'s columns passed through, then one column per set-returning call (its
    array per row), expanded by a ``LogicalProjectSet`` into one row per element."""
    width = len(child.columns)
    through = [ColRef(i, t, n) for i, (n, t) in enumerate(child.columns)]
    inner_cols = list(child.columns) + [(f"?srf{k}", c.type) for k, c in enumerate(calls)]
    project = LogicalProject(inner_cols, child, through + calls)
    positions = list(range(width, width + len(calls)))
    set_cols = [(n, types.element_type(t)) if i in positions else (n, t)
                for i, (n, t) in enumerate(inner_cols)]
    return LogicalProjectSet(set_cols, project, positions)


def _srfs_below_groups(plan: LogicalNode, groups: list):
    """(plan, swap): the set-returning calls of the GROUP BY expressions expanded over
    ``plan`` (``_expanded``), and the transform that puts each expanded column in its
    call's place wherever the call appears; (plan, None) when the groups hold none."""
    wrappers: list = []
    for g in groups:
        for n in g.walk():
            if isinstance(n, Call) and n.fn in _SRF_NAMES and n not in wrappers:
                wrappers.append(n)
    if not wrappers:
        return plan, None
    width = len(plan.columns)
    expanded = _expanded(plan, [w.args[0] for w in wrappers])

    def swap(n):
        if isinstance(n, Call) and n.fn in _SRF_NAMES and n in wrappers:
            k = wrappers.index(n)
            return ColRef(width + k, n.type, f"?srf{k}")
        return n
    return expanded, swap


def _refuse_conditional_srf(exprs) -> None:
    """PostgreSQL refuses a set-returning function under CASE or COALESCE (whose
    branches are evaluated lazily, so the function might not run for every row)."""
    from .bind_array import SRF_ROW
    for e in exprs:
        for n in e.walk():
            kind = "CASE" if isinstance(n, Case) else "COALESCE" \
                if isinstance(n, Call) and n.fn == "coalesce" else None
            if kind and any(isinstance(m, Call) and m.fn == SRF_ROW
                            for c in n.children() for m in c.walk()):
                raise errors.sql_error(
                    "0A000", f"set-returning functions are not allowed in {kind}",
                    hint="You might be able to move the set-returning function into a "
                         "LATERAL FROM item.")


# A bare NULL in a select list, typed text: one object, so that null_outputs tells it
# from NULL::text (the same constant by value), which stays text as in PostgreSQL.
_UNTYPED_NULL = Const(None, types.TEXT)


def _null_as_text(e: Expr) -> Expr:
    if isinstance(e, Const) and e.type == types.NULL:
        return _UNTYPED_NULL
    return e


def null_outputs(plan: LogicalNode) -> frozenset[int]:
    """The output positions of a SELECT that are a bare NULL (typed text, as PostgreSQL
    types an unknown output). Where the SELECT feeds a set operation or an INSERT, such
    a column takes the other side's or the target's type instead, as in PostgreSQL:
    ``SELECT 1, NULL UNION SELECT 2, 3`` and ``INSERT INTO t SELECT 1, NULL``."""
    while isinstance(plan, (LogicalSort, LogicalLimit, LogicalDistinct)):
        plan = plan.child
    if not isinstance(plan, LogicalProject):
        return frozenset()
    return frozenset(i for i, e in enumerate(plan.exprs[:len(plan.columns)])
                     if e is _UNTYPED_NULL and plan.columns[i][1] == types.TEXT)


def _limit(stmt, node, plan: LogicalNode, parent: Scope | None = None,
           count: bool = True) -> LogicalNode:
    """LIMIT/OFFSET: constants, parameters, or (LATERAL, correlated) outer columns.
    ``count`` False: the OFFSET only (WITH TIES cut the rows already: with_ties.py)."""
    limit = node.args.get("limit") if count else None
    offset = node.args.get("offset")
    if limit is None and offset is None:
        return plan
    binder = ExprBinder(stmt, Scope(parent=parent), clause="LIMIT")
    lim = _count_expr(binder, _limit_count(limit), "LIMIT")
    off = _count_expr(binder, offset.expression if offset is not None else None, "OFFSET")
    return LogicalLimit(plan.columns, plan, lim, off)


def _limit_count(limit) -> exp.Expression | None:
    """The row count of LIMIT n, or of FETCH FIRST [n] ROW(S) ONLY (n defaults to 1)."""
    if limit is None:
        return None
    if isinstance(limit, exp.Fetch):
        return limit.args.get("count") or exp.Literal.number(1)
    count = limit.expression
    if isinstance(count, exp.Var) and count.name.upper() == "ALL":     # LIMIT ALL
        return None
    return count


def _count_expr(binder: ExprBinder, node, what: str) -> Expr | None:
    if node is None:
        return None
    e = adapt(binder.bind(node), types.INTEGER)
    if e.type not in (types.INTEGER, types.NULL):
        raise errors.datatype_mismatch(f"argument of {what} must be type bigint, not type "
                                       f"{e.type.lower()}", position=position_of(node))
    if isinstance(e, Const):
        if e.value is not None and e.value < 0:
            raise errors.sql_error("2201W" if what == "LIMIT" else "2201X",
                                   f"{what} must not be negative")
        # A LIMIT constant shapes the plan (top-k, index order): never lifted.
        return Const(e.value, e.type)
    return e


def _object_names_out(binder: ExprBinder, items: list, exprs: list) -> list:
    """The statement's own select list: ``conrelid::regclass`` (a regclass, regtype or
    regnamespace value) is shown by name, as PostgreSQL's output function writes it
    (psql's ``\\d`` footers, BI tools' catalog queries); inside the query it stays an oid,
    so it still compares and joins as one."""
    out = list(exprs)
    for i, item in enumerate(items):
        inner = item.this if isinstance(item, exp.Alias) else item
        if isinstance(inner, exp.Cast):
            kind = _object_identifier(inner.to)
            if kind in _OID_OUT and out[i].type == types.INTEGER:
                out[i] = binder.call(_OID_OUT[kind], [out[i]], inner)
    return out
