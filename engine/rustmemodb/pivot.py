"""DuckDB's PIVOT and UNPIVOT statements, rewritten into plain SELECTs.

``PIVOT src ON col [IN (v, ...)] [USING agg [AS name], ...] [GROUP BY g, ...]
[ORDER BY ...] [LIMIT n]`` turns the distinct values of ``col`` into columns (the
SELECT is built by sql/pivot_sql.py), grouped by ``g`` -- or, without GROUP BY, by
every column of ``src`` that neither ON nor USING mentions. Without IN the values are
the column's distinct non-NULL values, read by a first query, as DuckDB does: the
statement's shape depends on the data, so it is planned anew each time. Without USING
the aggregate is ``count(*)``.

``UNPIVOT src ON c1, c2 | COLUMNS(* EXCLUDE (...)) [INTO NAME n VALUE v]`` turns those
columns into (name, value) rows beside the other columns, a row per source row and
column, NULL values left out; it is a LATERAL VALUES join.

They are utility statements (sql/dispatch.py peels them off by their first word), run
through the session as ordinary queries, so privileges, snapshots and errors are those
of the SELECT they become.
"""
from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.tokens import TokenType

from . import errors
from .sql import pivot_sql as P
from .sql.parse import DIALECT, parse_one

_TAIL = (TokenType.ORDER_BY, TokenType.LIMIT, TokenType.OFFSET, TokenType.FETCH)


def run(session, sql: str):
    """Run a PIVOT or UNPIVOT statement: its SELECT through ``session.execute``."""
    return session.execute(rewrite(session, sql))


def rewrite(session, sql: str) -> str:
    """The SELECT a PIVOT / UNPIVOT statement stands for."""
    body, tail = _split_tail(sql)
    try:
        node = parse_one(body)
    except errors.Error:
        try:    # a PIVOT statement as the source: DuckDB's grammar reads it, PostgreSQL's not
            node = sqlglot.parse_one(body, read="duckdb")
        except ParseError:
            raise errors.syntax_error(f"syntax error in {body.split()[0].upper()} statement",
                                      hint="PIVOT src ON col [IN (...)] [USING agg, ...] "
                                           "[GROUP BY ...]; UNPIVOT src ON col, ... "
                                           "[INTO NAME n VALUE v]") from None
    if not isinstance(node, exp.Pivot):
        raise errors.syntax_error("expected PIVOT or UNPIVOT")
    query = _query(session, node)
    return f"SELECT * FROM ({query}) AS pivot_result {tail}".rstrip() if tail else query


def _query(session, node: exp.Pivot) -> str:
    source = _source_sql(session, node.this)
    return _unpivot(session, node, source) if node.args.get("unpivot") else \
        _pivot(session, node, source)


def _split_tail(sql: str) -> tuple[str, str]:
    """``(statement, "ORDER BY ... LIMIT ...")``: sqlglot's PIVOT statement stops before
    a trailing ORDER BY / LIMIT, which then applies to the pivoted rows."""
    depth = 0
    for tok in DIALECT.tokenizer().tokenize(sql):
        if tok.token_type is TokenType.L_PAREN:
            depth += 1
        elif tok.token_type is TokenType.R_PAREN:
            depth -= 1
        elif depth == 0 and tok.token_type in _TAIL:
            return sql[:tok.start], sql[tok.start:].strip().rstrip(";")
    return sql.strip().rstrip(";"), ""


def _source_sql(session, node) -> str:
    if isinstance(node, exp.Subquery) and isinstance(node.this, exp.Pivot):
        return f"({_query(session, node.this)})"
    if isinstance(node, exp.Subquery):
        return f"({node.this.sql(dialect='postgres')})"
    if isinstance(node, exp.Table):
        return node.sql(dialect="postgres")
    raise errors.syntax_error("PIVOT / UNPIVOT need a table name or a (query)")


def _columns(session, source: str) -> list[str]:
    from .describe import _output_columns
    return [name for name, _ in _output_columns(session, f"SELECT * FROM {source} AS s")]


# ---- PIVOT ---------------------------------------------------------------------------------

def _pivot(session, node: exp.Pivot, source: str) -> str:
    ons, lists = P.split_on(node)
    aggs = list(node.args.get("using") or [])
    group = node.args.get("group")
    keys = [g.sql(dialect="postgres") for g in group.expressions] if group is not None \
        else P.default_keys(_columns(session, source), ons, aggs)
    combos = P.listed_values(lists) if all(v is not None for v in lists) else \
        _present_values(session, source, ons)
    return P.pivot_query(source, keys, ons, combos, aggs)


def _present_values(session, source: str, ons: list) -> list[list]:
    """The distinct non-NULL combinations of the ON expressions in the data, in order,
    compared and named as text."""
    exprs = [o.sql(dialect="postgres") for o in ons]
    typed = ", ".join(f"({e})" for e in exprs)
    texts = ", ".join(f"({e})::text" for e in exprs)
    nonnull = " AND ".join(f"({e}) IS NOT NULL" for e in exprs)
    order = ", ".join(str(i + 1) for i in range(len(exprs)))
    found = session.execute(f"SELECT DISTINCT {typed}, {texts} FROM {source} AS s "
                            f"WHERE {nonnull} ORDER BY {order}").arrow()
    n = len(exprs)
    names = [found.column(n + i).to_pylist() for i in range(n)]
    return [[("::text", P.literal(text), text) for text in row] for row in zip(*names)]


# ---- UNPIVOT -------------------------------------------------------------------------------

def _unpivot(session, node: exp.Pivot, source: str) -> str:
    columns = _columns(session, source)
    chosen: list[str] = []
    for e in node.expressions:
        if isinstance(e, exp.Columns):       # COLUMNS(* EXCLUDE (a, b))
            star = e.this
            if not isinstance(star, exp.Star):
                raise errors.not_supported("UNPIVOT ON COLUMNS(...) other than "
                                           "COLUMNS(* EXCLUDE (...))")
            skip = {c.name for c in star.args.get("except_") or []}
            chosen += [c for c in columns if c not in skip]
        elif isinstance(e, exp.Column):
            chosen.append(e.name)
        else:
            raise errors.not_supported(f"UNPIVOT ON {e.sql(dialect='postgres')}",
                                       hint="Name the columns to unpivot.")
    name_col, value_col = "name", "value"
    into = node.args.get("into")
    if into is not None:
        name_col = into.this.name
        if len(into.expressions) != 1:
            raise errors.not_supported("UNPIVOT into several VALUE columns")
        value_col = into.expressions[0].name
    return P.unpivot_query(source, columns, chosen, name_col, value_col)
