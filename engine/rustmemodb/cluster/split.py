"""Split one SELECT into a per-shard partial query and a merge query (SQL level).

The engine's parser (sqlglot, postgres dialect) gives the statement tree; the engine's
binder has already checked the statement on the coordinator's schema-only mirror (so
names and types are right before any shard is touched). This module rewrites the tree:

* the **partial** runs on every shard over its own rows: FROM, joins that are local
  (partition key = partition key, or a REPLICATED table) and WHERE unchanged; for an
  aggregate query, GROUP BY the group keys plus the arguments of DISTINCT aggregates and
  partial aggregates (COUNT → count, SUM → sum, AVG → sum + count, STDDEV/VARIANCE →
  count + sum + sum of squares, MIN/MAX/BOOL_AND/BOOL_OR as themselves); for a plain
  query, the output expressions plus the sort keys, with ORDER BY … LIMIT n+offset
  pushed down (top-k on each shard);
* the **merge** runs on the coordinator over the union of the partials (table
  ``__partials``): the original SELECT list, HAVING, ORDER BY, LIMIT and OFFSET with
  group keys and aggregates replaced by their merged forms.

So the bytes shipped per query are the partial results (one row per group and shard,
or k rows per shard), not the table. ``plan_select`` returns ``None`` when the statement
is outside what this split handles; the caller then gathers (``connect.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from ..plan.internal_functions import call_node
from .ctes import with_of

PARTIALS = "__partials"

_SIMPLE = {exp.Sum: "SUM", exp.Min: "MIN", exp.Max: "MAX",
           exp.LogicalAnd: "BOOL_AND", exp.LogicalOr: "BOOL_OR"}
_SPREAD = (exp.Stddev, exp.StddevSamp, exp.StddevPop, exp.Variance, exp.VariancePop)
_SPREAD_NAMES = {exp.Stddev: "stddev", exp.StddevSamp: "stddev_samp",
                 exp.StddevPop: "stddev_pop", exp.Variance: "var_samp",
                 exp.VariancePop: "var_pop"}
_AGGS = (exp.Count, exp.Avg, *_SIMPLE, *_SPREAD)


@dataclass
class DistPlan:
    partial: str                    # SQL run on every shard
    merge: str                      # SQL run on the coordinator over __partials
    kind: str                       # "aggregate" | "scan" | "top-k"
    keys: list = field(default_factory=list)   # group key columns of the partial
    notes: list = field(default_factory=list)


class _Unsupported(Exception):
    pass


def _strip_tables(node: exp.Expression) -> exp.Expression:
    node = node.copy()
    for col in node.find_all(exp.Column):
        col.set("table", None)
    return node


def _has_forbidden(tree: exp.Expression, windows: bool = False) -> bool:
    """Anything the split cannot run per shard (``windows``: window functions are
    allowed, the caller made sure each window partition is whole on one shard; what
    is inside a window's call and spec is then not looked at as an aggregate)."""
    inside = (lambda n: isinstance(n, exp.Window)) if windows else None
    for n in tree.walk(prune=inside):
        if windows and isinstance(n, exp.Window):
            if any(isinstance(m, (exp.Subquery, exp.Select, exp.Exists)) for m in n.walk()):
                return True
            continue
        if isinstance(n, (exp.Window, exp.Subquery, exp.Exists, exp.Select, exp.Union,
                          exp.Intersect, exp.Except, exp.Lateral, exp.Cube, exp.Rollup,
                          exp.GroupingSets, exp.WithinGroup)) and n is not tree:
            return True
        if isinstance(n, exp.AggFunc) and not isinstance(n, _AGGS):
            return True
        if isinstance(n, exp.Anonymous) and str(n.this).lower() in (
                "every", "string_agg", "array_agg", "json_agg", "jsonb_agg", "grouping",
                "range_intersect_agg",
                "random", "row_number", "nextval", "setval", "currval", "lastval",
                "pg_get_serial_sequence"):     # sequences live on the coordinator
            return True
        if isinstance(n, (exp.Rand, exp.GroupConcat, exp.ArrayAgg)):
            return True
    return False


def plan_select(tree: exp.Select, star_columns: list | None,
                windows: bool = False, where_subqueries: bool = False,
                subqueries: bool = False) -> DistPlan | None:
    """The split of ``tree`` (a SELECT whose FROM/WHERE can run on each shard alone).
    ``windows``: the caller checked that every window partition of ``tree`` is whole
    on each shard (partitioned by the shard key, or repartitioned by the window's
    PARTITION BY), so a query computing window functions over rows (no aggregate
    outside them) splits as a scan: the windows on the shards, ORDER BY/LIMIT merged.
    ``where_subqueries``: the caller checked that the subqueries of the WHERE run on
    each shard alone (they stay in the partial's WHERE); ``subqueries``: those of the
    SELECT list too (``correlated.py`` placed their rows), which then stay in the
    partial's output expressions of a query that does not aggregate."""
    if not isinstance(tree, exp.Select) or with_of(tree) is not None or tree.args.get("distinct") \
            and tree.args["distinct"].args.get("on"):
        return None
    checked = tree
    if where_subqueries or subqueries:
        checked = tree.copy()
        checked.set("where", None)
    if subqueries:
        listed = [n for n in checked.find_all(exp.Subquery, exp.Exists)
                  if not isinstance(n.parent, (exp.From, exp.Join))]
        if listed and (checked.args.get("group") or checked.args.get("having")):
            return None
        for n in listed:
            n.replace(exp.Null())
        if listed and any(isinstance(n, _AGGS) for e in checked.expressions
                          for n in e.walk()):
            return None   # (the aggregate split would look inside the subqueries)
    if _has_forbidden(checked, windows) or tree.args.get("locks") or tree.args.get("qualify"):
        return None
    if windows:
        outside = [n for n in tree.walk(prune=lambda n: isinstance(n, exp.Window))
                   if isinstance(n, exp.AggFunc) and not isinstance(n.parent, exp.Window)]
        if outside or tree.args.get("group") or tree.args.get("having"):
            return None
    try:
        select = _expand_star(tree, star_columns)
        if windows:
            return _scan(select)
        looked = checked if subqueries else select   # (subqueries' aggregates are theirs)
        if looked.args.get("group") or looked.args.get("having") or any(
                isinstance(n, _AGGS) for e in looked.expressions for n in e.walk()):
            return _aggregate(select)
        return _scan(select)
    except _Unsupported:
        return None


def _expand_star(tree: exp.Select, star_columns: list | None) -> exp.Select:
    tree = tree.copy()
    items = []
    for e in tree.expressions:
        if isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star)):
            if star_columns is None:
                raise _Unsupported("star over a join")
            # Names (one table) or (alias, name) pairs (a join: qualified, in FROM order).
            only = e.table if isinstance(e, exp.Column) else None
            for c in star_columns:
                if isinstance(c, tuple):
                    if only is None or c[0] == only:
                        items.append(exp.column(c[1], table=c[0], quoted=True))
                else:
                    items.append(exp.column(c, quoted=True))
        else:
            items.append(e)
    tree.set("expressions", items)
    return tree


def _output_exprs(select: exp.Select) -> list[tuple[str | None, exp.Expression]]:
    out = []
    for e in select.expressions:
        if isinstance(e, exp.Alias):
            out.append((e.alias, e.this))
        else:
            out.append((None, e))
    return out


def _limits(select: exp.Select) -> tuple[int | None, int]:
    limit = select.args.get("limit")
    offset = select.args.get("offset")

    def value(node) -> int | None:
        if node is None:
            return None
        v = node.expression if isinstance(node, (exp.Limit, exp.Offset)) else node
        if isinstance(v, exp.Literal) and not v.is_string and v.this.isdigit():
            return int(v.this)
        if isinstance(v, exp.Null):
            return None
        raise _Unsupported("non-constant LIMIT/OFFSET")
    return value(limit), value(offset) or 0


def _order_target(item: exp.Expression, outputs, lookup) -> str:
    """The partial column an ORDER BY expression refers to."""
    if isinstance(item, exp.Literal) and not item.is_string:
        k = int(item.this)
        if not 1 <= k <= len(outputs):
            raise _Unsupported("bad ORDER BY position")
        return f"c{k - 1}"
    if isinstance(item, exp.Column) and not item.table:
        for i, (alias, _) in enumerate(outputs):
            if alias is not None and alias.lower() == item.name.lower():
                return f"c{i}"
    key = _strip_tables(item)
    for i, (_, e) in enumerate(outputs):
        if _strip_tables(e) == key:
            return f"c{i}"
    return lookup(item)


def merge_on_shards(merge_sql: str) -> DistPlan | None:
    """Split an aggregate's merge (over ``__partials``) once more, for when the partials
    are repartitioned by their group keys: every group is then whole on one shard, so
    the grouped merge (with HAVING) runs there and only its output rows, plus the sort
    keys (top-k when there is a LIMIT), are gathered; the coordinator sorts and limits."""
    import sqlglot
    tree = sqlglot.parse_one(merge_sql, read="postgres")
    try:
        return _scan(tree, keep=("group", "having"))
    except _Unsupported:
        return None


def _scan(select: exp.Select, keep: tuple = ()) -> DistPlan:
    outputs = _output_exprs(select)
    distinct = select.args.get("distinct") is not None
    extra: list[exp.Expression] = []

    def lookup(item):
        if distinct:
            raise _Unsupported("ORDER BY outside a DISTINCT list")
        extra.append(item)
        return f"o{len(extra) - 1}"

    order = select.args.get("order")
    order_items = []
    if order is not None:
        for o in order.expressions:
            order_items.append((_order_target(o.this, outputs, lookup), o))
    limit, offset = _limits(select)
    cols = [exp.alias_(e.copy(), f"c{i}") for i, (_, e) in enumerate(outputs)]
    cols += [exp.alias_(e.copy(), f"o{i}") for i, e in enumerate(extra)]
    partial = exp.Select(expressions=cols)
    for arg in ("from_", "joins", "where", "distinct", "windows") + keep:
        if select.args.get(arg) is not None:
            partial.set(arg, select.args[arg].copy() if arg != "joins"
                        else [j.copy() for j in select.args[arg]])
    merge_order = None
    if order_items:
        merge_order = exp.Order(expressions=[_ordered(t, o) for t, o in order_items])
        if limit is not None:
            partial.set("order", merge_order.copy())
            partial.set("limit", exp.Limit(expression=exp.Literal.number(limit + offset)))
    merge = exp.Select(expressions=[exp.column(f"c{i}") for i in range(len(outputs))])
    merge.set("from_", exp.From(this=exp.to_table(PARTIALS)))
    if distinct:
        merge.set("distinct", exp.Distinct())
    if merge_order is not None:
        merge.set("order", merge_order)
    _copy_limits(select, merge)
    kind = "top-k" if order_items and limit is not None else "scan"
    return DistPlan(partial.sql(dialect="postgres"), merge.sql(dialect="postgres"), kind)


def _ordered(target: str, o: exp.Ordered) -> exp.Ordered:
    new = o.copy()
    new.set("this", exp.column(target))
    return new


def _copy_limits(select: exp.Select, merge: exp.Select) -> None:
    for arg in ("limit", "offset"):
        if select.args.get(arg) is not None:
            merge.set(arg, select.args[arg].copy())


def _aggregate(select: exp.Select) -> DistPlan:
    outputs = _output_exprs(select)
    group = select.args.get("group")
    keys: list[exp.Expression] = []
    if group is not None:
        if group.args.get("rollup") or group.args.get("cube") or group.args.get("grouping_sets"):
            raise _Unsupported("grouping sets")
        for g in group.expressions:
            if isinstance(g, exp.Tuple) and not g.expressions:
                continue   # GROUP BY (): one group, as without GROUP BY
            if isinstance(g, exp.Literal) and not g.is_string:
                keys.append(outputs[int(g.this) - 1][1])
                continue
            if isinstance(g, exp.Column) and not g.table:
                aliased = [e for a, e in outputs if a is not None and a.lower() == g.name.lower()]
                if aliased and not any(isinstance(n, exp.Column) and n.name.lower() == g.name.lower()
                                       for n in aliased[0].walk()):
                    keys.append(aliased[0])
                    continue
            keys.append(g)
    partial_cols: list[exp.Expression] = []
    key_names = []
    for i, k in enumerate(keys):
        partial_cols.append(exp.alias_(k.copy(), f"k{i}"))
        key_names.append((_strip_tables(k), f"k{i}"))
    distinct_args: list[tuple[exp.Expression, str]] = []
    agg_count = [0]

    def partial(expr: exp.Expression) -> str:
        name = f"a{agg_count[0]}"
        agg_count[0] += 1
        partial_cols.append(exp.alias_(expr, name))
        return name

    def distinct_col(arg: exp.Expression) -> str:
        key = _strip_tables(arg)
        for e, n in distinct_args:
            if e == key:
                return n
        name = f"d{len(distinct_args)}"
        distinct_args.append((key, name))
        partial_cols.append(exp.alias_(arg.copy(), name))
        return name

    def merged(agg: exp.Expression, filt: exp.Expression | None) -> exp.Expression:
        def wrap(e):   # the partial aggregate, with the original FILTER if any
            return exp.Filter(this=e, expression=filt.copy()) if filt is not None else e
        arg = agg.this
        if isinstance(arg, exp.Distinct):
            if filt is not None or not isinstance(agg, (exp.Count, exp.Sum, exp.Avg, exp.Min,
                                                        exp.Max)):
                raise _Unsupported("DISTINCT aggregate with FILTER")
            inner = arg.expressions
            if len(inner) != 1:
                raise _Unsupported("multi-argument DISTINCT")
            col = exp.column(distinct_col(inner[0]))
            new = agg.copy()
            new.set("this", exp.Distinct(expressions=[col]))
            if isinstance(agg, exp.Count):
                return new
            return new
        if isinstance(agg, exp.Count):
            a = partial(wrap(agg.copy()))
            return exp.func("COALESCE", exp.func("SUM", exp.column(a)), exp.Literal.number(0))
        for cls, fn in _SIMPLE.items():
            if isinstance(agg, cls):
                a = partial(wrap(agg.copy()))
                return exp.func(fn, exp.column(a))
        if isinstance(agg, exp.Avg):
            # arg * 1::numeric, not a cast: an integer becomes a numeric of scale 0 (exact
            # sums, no integer division in the merge: the quotient's scale is then
            # numeric_avg's), a numeric keeps its scale (* 1.0 added a digit), a float
            # stays a float and an interval an interval (avg of intervals = sum / count)
            one = exp.cast(exp.Literal.number(1), "NUMERIC")
            scaled = exp.Mul(this=exp.paren(arg.copy()), expression=one)
            s = partial(wrap(exp.func("SUM", scaled)))
            c = partial(wrap(exp.func("COUNT", arg.copy())))
            # typed: sqlglot would cast the sum to a float for "true division", which an
            # interval is not (the sum is already a float or an interval)
            return exp.Div(this=exp.func("SUM", exp.column(s)),
                           expression=exp.func("NULLIF", exp.func("SUM", exp.column(c)),
                                               exp.Literal.number(0)), typed=True)
        if isinstance(agg, _SPREAD):
            # x * 1::numeric: integers and numerics summed exactly as numerics (the merge
            # finishes them as PostgreSQL's numeric stddev/variance), floats stay floats
            one = exp.cast(exp.Literal.number(1), "NUMERIC")
            x = exp.Mul(this=exp.paren(arg.copy()), expression=one)
            c = partial(wrap(exp.func("COUNT", arg.copy())))
            s = partial(wrap(exp.func("SUM", x)))
            q = partial(wrap(exp.func("SUM", exp.Mul(this=exp.paren(x.copy()),
                                                      expression=exp.paren(x.copy())))))
            fn = _SPREAD_NAMES[type(agg)]
            return call_node("spread_merge", [
                exp.Literal.string(fn), exp.func("SUM", exp.column(c)),
                exp.func("SUM", exp.column(s)), exp.func("SUM", exp.column(q))])
        raise _Unsupported(type(agg).__name__)

    def rewrite(e: exp.Expression) -> exp.Expression:
        def fn(node):
            if isinstance(node, exp.Filter) and isinstance(node.this, _AGGS):
                return merged(node.this, node.expression)
            if isinstance(node, _AGGS):
                return merged(node, None)
            stripped = _strip_tables(node)
            for k, name in key_names:
                if stripped == k:
                    return exp.column(name)
            return node
        return e.copy().transform(fn, copy=False) if False else _transform(e.copy(), fn)

    merge_items = []
    for alias, e in outputs:
        new = rewrite(e)
        merge_items.append(exp.alias_(new, alias, quoted=True) if alias is not None else new)
    merge = exp.Select(expressions=merge_items)
    merge.set("from_", exp.From(this=exp.to_table(PARTIALS)))
    if select.args.get("distinct") is not None:
        merge.set("distinct", exp.Distinct())
    if keys:
        merge.set("group", exp.Group(expressions=[exp.column(n) for _, n in key_names]))
    if select.args.get("having") is not None:
        merge.set("having", exp.Having(this=rewrite(select.args["having"].this)))
    order = select.args.get("order")
    if order is not None:
        items = []
        for o in order.expressions:
            new = o.copy()
            t = o.this
            if isinstance(t, exp.Literal) and not t.is_string or (
                    isinstance(t, exp.Column) and not t.table and any(
                        a is not None and a.lower() == t.name.lower() for a, _ in outputs)):
                new.set("this", t.copy())
            else:
                new.set("this", rewrite(t))
            items.append(new)
        merge.set("order", exp.Order(expressions=items))
    _copy_limits(select, merge)
    allowed = {n for _, n in key_names} | {n for _, n in distinct_args} | \
        {f"a{i}" for i in range(agg_count[0])} | {a.lower() for a, _ in outputs if a}
    for col in merge.find_all(exp.Column):
        if col.name.lower() not in allowed or col.table:
            raise _Unsupported(f"column {col.sql()} outside the group keys")
    partial_sel = exp.Select(expressions=partial_cols or [exp.alias_(exp.Literal.number(1), "one")])
    for arg in ("from_", "joins", "where"):
        if select.args.get(arg) is not None:
            partial_sel.set(arg, select.args[arg].copy() if arg != "joins"
                            else [j.copy() for j in select.args[arg]])
    group_cols = [exp.column(f"k{i}") for i in range(len(keys))] + \
        [exp.column(n) for _, n in distinct_args]
    if group_cols:
        # Group by the partial's own output positions: the key expressions themselves.
        partial_sel.set("group", exp.Group(expressions=[
            exp.Literal.number(i + 1) for i in range(len(keys))] + [
            exp.Literal.number(_position(partial_cols, n)) for _, n in distinct_args]))
    return DistPlan(partial_sel.sql(dialect="postgres"), merge.sql(dialect="postgres"),
                    "aggregate", keys=[f"k{i}" for i in range(len(keys))])


def _position(cols: list, name: str) -> int:
    for i, c in enumerate(cols):
        if c.alias == name:
            return i + 1
    raise _Unsupported(name)


def _transform(node: exp.Expression, fn) -> exp.Expression:
    """Top-down replace: a node ``fn`` replaces is not descended into."""
    new = fn(node)
    if new is not node:
        return new
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            node.set(key, _transform(value, fn))
        elif isinstance(value, list):
            node.set(key, [_transform(v, fn) if isinstance(v, exp.Expression) else v
                           for v in value])
    return node
