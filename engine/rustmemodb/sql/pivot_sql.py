"""The SELECTs that PIVOT and UNPIVOT stand for, built from their parsed parts.

Shared by the PIVOT/UNPIVOT statements (rustmemodb/pivot.py, which first reads the
distinct ON values when no IN list names them) and by ``FROM t PIVOT (agg FOR col IN
(...))`` inside a query (sql/bind/bind_pivot.py). A pivoted column is ``agg FILTER
(WHERE on = value)``; names follow DuckDB: the value (several ON values joined by
``_``), suffixed ``_<alias or aggregate>`` when there are several aggregates.
"""
from __future__ import annotations

from sqlglot import exp

from .. import errors

# One ON value of one output column: (cast applied to the ON expression, SQL literal
# it is compared with, text it names the column by).
Value = tuple[str, str, str]


def split_on(node: exp.Pivot) -> tuple[list, list]:
    """(ON expressions, their IN lists or None) of a PIVOT statement."""
    ons, lists = [], []
    for e in node.expressions:
        if isinstance(e, exp.In):
            ons.append(e.this)
            lists.append(list(e.expressions))
        else:
            ons.append(e)
            lists.append(None)
    return ons, lists


def listed_values(lists: list) -> list[list[Value]]:
    """The cross product of IN lists, each value compared as written."""
    combos: list[list[Value]] = [[]]
    for values in lists:
        combos = [c + [("", v.sql(dialect="postgres"), v.name if isinstance(v, exp.Literal)
                        else v.sql(dialect="postgres"))] for c in combos for v in values]
    return combos


def names_in(node) -> set[str]:
    return {c.name for c in node.find_all(exp.Column)} if node is not None else set()


def default_keys(columns: list[str], ons: list, aggs: list) -> list[str]:
    """Without GROUP BY: every source column that neither ON nor the aggregates name."""
    used = set().union(*(names_in(o) for o in ons), *(names_in(a) for a in aggs))
    return [quote_ident(c) for c in columns if c not in used]


def pivot_query(source: str, keys: list[str], ons: list, combos: list[list[Value]],
                aggs: list) -> str:
    aggs = aggs or [exp.Count(this=exp.Star())]
    outputs = list(keys)
    for values in combos:
        label = "_".join(text for _, _, text in values)
        cond = " AND ".join(f"({on.sql(dialect='postgres')}){cast} = {value}"
                            for on, (cast, value, _) in zip(ons, values))
        for agg in aggs:
            inner, alias = (agg.this, agg.alias) if isinstance(agg, exp.Alias) else (agg, None)
            name = label if len(aggs) == 1 else \
                f"{label}_{alias or inner.sql(dialect='duckdb', normalize_functions='lower')}"
            outputs.append(f"{inner.sql(dialect='postgres')} FILTER (WHERE {cond}) "
                           f"AS {quote_ident(name)}")
    if not outputs:
        raise errors.sql_error("42P10", "PIVOT has no columns: no ON values and nothing "
                                        "to group by")
    query = f"SELECT {', '.join(outputs)} FROM {source} AS s"
    return query + (f" GROUP BY {', '.join(keys)}" if keys else "")


def quote_ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="postgres")


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def unpivot_query(source: str, columns: list[str], chosen: list[str], name_col: str,
                  value_col: str) -> str:
    """A row per source row and chosen column (NULL values left out): LATERAL VALUES."""
    missing = [c for c in chosen if c not in columns]
    if missing:
        raise errors.sql_error("42703", f'column "{missing[0]}" does not exist')
    if not chosen:
        raise errors.sql_error("42P10", "UNPIVOT needs at least one column")
    keep = [f"s.{quote_ident(c)}" for c in columns if c not in chosen]
    pairs = ", ".join(f"({literal(c)}, s.{quote_ident(c)})" for c in chosen)
    select = ", ".join(keep + [f"u.{quote_ident(name_col)}", f"u.{quote_ident(value_col)}"])
    return (f"SELECT {select} FROM {source} AS s CROSS JOIN LATERAL (VALUES {pairs}) "
            f"AS u({quote_ident(name_col)}, {quote_ident(value_col)}) "
            f"WHERE u.{quote_ident(value_col)} IS NOT NULL")
