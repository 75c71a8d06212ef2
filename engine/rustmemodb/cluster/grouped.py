"""Window functions over aggregates, aggregate first: ``rank() OVER (ORDER BY sum(x))``.

A grouped SELECT with window functions computes its windows over the *groups*, which
are usually few. ``split_grouped`` rewrites it into two queries:

* the **grouped** query: every group key and every aggregate (``__k0``, ``__a0``, ...)
  with the statement's FROM, WHERE, GROUP BY and HAVING. The coordinator runs it as a
  SELECT of its own, which splits over the shards like any aggregate (partials on the
  shards, merged: only the groups reach the coordinator, never the table);
* the **outer** query over its result (``FROM __grouped``): the SELECT list, windows,
  DISTINCT, ORDER BY and LIMIT with each aggregate and group key replaced by its
  column. It runs on the coordinator over those few rows.

The caller binds ``SELECT … FROM (grouped) AS __grouped`` on the mirror first: a column
the rewrite missed (a group key spelled differently in the SELECT list) fails to bind
there and the statement takes another plan.
"""
from __future__ import annotations

from sqlglot import exp

from .ctes import with_of

GROUPED = "__grouped"


def aggregate_calls(node: exp.Expression, out: list) -> None:
    """Append to ``out`` the aggregate calls of ``node`` outside window functions (a
    window function's own argument may be one: ``sum(sum(x)) OVER ()``), outermost
    first, each with its FILTER / WITHIN GROUP wrapper. ValueError: ``node`` holds a
    subquery (the caller takes another plan)."""
    if isinstance(node, exp.Window):
        for child in [*node.this.iter_expressions(),
                      *(c for c in node.iter_expressions() if c is not node.this)]:
            aggregate_calls(child, out)
        return
    if isinstance(node, (exp.Filter, exp.WithinGroup)) and isinstance(node.this, exp.AggFunc):
        out.append(node)
        return
    if isinstance(node, exp.AggFunc):
        out.append(node)
        return
    if isinstance(node, (exp.Subquery, exp.Select)):   # its aggregates are its own
        raise ValueError("a subquery")
    for child in node.iter_expressions():
        aggregate_calls(child, out)


def split_grouped(tree: exp.Select) -> tuple[exp.Select, exp.Select] | None:
    """``(grouped, outer)`` for a grouped SELECT with window functions, None for other
    shapes (no window, no aggregate, subqueries, GROUPING SETS, DISTINCT ON)."""
    if not isinstance(tree, exp.Select) or with_of(tree) is not None or \
            not any(isinstance(n, exp.Window) and n.find_ancestor(exp.Select) is tree
                    for n in tree.walk()):
        return None   # (windows only inside a derived table: that is not this shape)
    group = tree.args.get("group")
    if group is not None and any(group.args.get(a) for a in ("grouping_sets", "cube",
                                                              "rollup")):
        return None
    distinct = tree.args.get("distinct")
    if distinct is not None and distinct.args.get("on"):
        return None
    if tree.args.get("qualify") is not None or tree.args.get("windows"):
        return None
    items = tree.expressions
    keys = []
    for g in (group.expressions if group is not None else []):
        if isinstance(g, exp.Literal) and not g.is_string and g.this.isdigit():
            i = int(g.this) - 1
            if not 0 <= i < len(items):
                return None
            g = items[i].this if isinstance(items[i], exp.Alias) else items[i]
        keys.append(g)
    aggs: list = []
    try:
        for e in items:
            aggregate_calls(e, aggs)
        order = tree.args.get("order")
        if order is not None:
            aggregate_calls(order, aggs)
    except ValueError:
        return None
    if not aggs and not keys:
        return None
    distinct_aggs: list = []
    for a in aggs:
        if a not in distinct_aggs:
            distinct_aggs.append(a)
    grouped = exp.Select(expressions=[
        *(exp.alias_(k.copy(), f"__k{i}") for i, k in enumerate(keys)),
        *(exp.alias_(a.copy(), f"__a{j}") for j, a in enumerate(distinct_aggs))])
    for arg in ("from_", "joins", "where", "group", "having"):
        if tree.args.get(arg) is not None:
            grouped.set(arg, tree.args[arg].copy())

    def swap(node):
        for j, a in enumerate(distinct_aggs):
            if node == a:
                return exp.column(f"__a{j}")
        if not isinstance(node, exp.Literal):
            for i, k in enumerate(keys):
                if node == k:
                    return exp.column(f"__k{i}")
        return node

    outer = exp.Select(expressions=[_swap_item(e, swap) for e in items])
    outer.set("from_", exp.From(this=exp.to_table(GROUPED)))
    if distinct is not None:
        outer.set("distinct", distinct.copy())
    if tree.args.get("order") is not None:
        # ORDER BY an output name means that output (PostgreSQL), even when a group
        # key has the same name: those stay as they are.
        outputs = {e.alias for e in items if isinstance(e, exp.Alias)}

        def swap_order(node):
            if isinstance(node, exp.Column) and not node.table and node.name in outputs:
                return node
            return swap(node)

        outer.set("order", exp.Order(expressions=[
            o.copy() if isinstance(o.this, exp.Column) and not o.this.table and
            o.this.name in outputs else o.copy().transform(swap_order)
            for o in tree.args["order"].expressions]))
    for arg in ("limit", "offset"):
        if tree.args.get(arg) is not None:
            outer.set(arg, tree.args[arg].copy())
    return grouped, outer


def _swap_item(item: exp.Expression, swap) -> exp.Expression:
    """One SELECT item rewritten, keeping the output name the statement gives it (a
    bare ``g`` stays named ``g``, ``sum(x)`` stays ``sum``)."""
    if isinstance(item, exp.Alias):
        return exp.alias_(item.this.copy().transform(swap), item.args["alias"].copy())
    new = item.copy().transform(swap)
    if new is item or new == item:
        return new
    name = item.output_name
    if isinstance(item, exp.Column) and name:
        return exp.alias_(new, exp.to_identifier(name, quoted=item.this.quoted))
    return new
