"""``FROM t PIVOT (agg [AS a], ... FOR col IN (v, ...) [GROUP BY g])`` and ``FROM t
UNPIVOT (value FOR name IN (c1, c2))`` inside a query: the FROM item is rewritten into
the subquery the PIVOT / UNPIVOT statements also run (sql/pivot_sql.py), which
bind_from.py then binds as any derived table. Here the IN list must name the values;
the PIVOT statement also reads them from the data.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors
from .. import pivot_sql as P
from ..parse import parse_one


def pivot_subquery(item: exp.Expression, source_columns) -> exp.Subquery:
    """The derived table ``item`` (a FROM item carrying one PIVOT/UNPIVOT) stands for;
    ``source_columns(item_without_pivot)`` gives the names of the source's columns."""
    pivots = item.args.get("pivots") or []
    if len(pivots) != 1:
        raise errors.not_supported("several PIVOT/UNPIVOT clauses on one FROM item")
    pivot = pivots[0]
    source_item = item.copy()
    source_item.set("pivots", None)
    columns = source_columns(source_item)
    source = f"({_item_query(source_item)})"
    fields = pivot.args.get("fields") or []
    if len(fields) != 1 or not isinstance(fields[0], exp.In) or not fields[0].expressions:
        raise errors.not_supported("PIVOT/UNPIVOT in a query without an IN list",
                                   hint="List the values (FOR col IN (v1, v2)), or use "
                                        "the PIVOT statement, which reads them from the data.")
    field = fields[0]
    if pivot.args.get("unpivot"):
        values = pivot.expressions
        if len(values) != 1:
            raise errors.not_supported("UNPIVOT into several value columns")
        query = P.unpivot_query(source, columns, [c.name for c in field.expressions],
                                field.this.name, values[0].name)
    else:
        ons, aggs = [field.this], list(pivot.expressions)
        group = pivot.args.get("group")
        keys = [g.sql(dialect="postgres") for g in group.expressions] if group is not None \
            else P.default_keys(columns, ons, aggs)
        query = P.pivot_query(source, keys, ons, P.listed_values([field.expressions]), aggs)
    alias = pivot.args.get("alias") or item.args.get("alias")
    return exp.Subquery(this=parse_one(query), alias=alias.copy() if alias else None)


def _item_query(item: exp.Expression) -> str:
    """``SELECT * FROM`` the FROM item without its alias (the PIVOT's own names it)."""
    bare = item.copy()
    bare.set("alias", None)
    if isinstance(bare, exp.Subquery):
        return bare.this.sql(dialect="postgres")
    return f"SELECT * FROM {bare.sql(dialect='postgres')}"
