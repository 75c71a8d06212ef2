"""Binding text search's operators: ``@@`` between documents and queries, ``!!``.

sqlglot reads every ``@@`` as one node (MatchAgainst), shared with jsonb's path match
(bind_jsonb.py, which hands text search here). PostgreSQL's text-search ``@@`` takes
tsvector @@ tsquery (either order), text @@ tsquery (the text read by to_tsvector) and
text @@ text (plainto_tsquery of the right side); a quoted literal beside a tsvector is
a tsquery, beside a tsquery on its right a tsvector, on its left text (PostgreSQL's
unknown prefers text); two literals are text @@ text. ``!!q`` (tsquery's NOT)
reaches us as NOT NOT q: NOT of a tsquery is PostgreSQL's 42804, so a double NOT around
a tsquery can only mean ``!!``. ``ts_stat('SELECT tsv FROM docs' [, weights])`` in FROM
is the query it names, its lexemes unnested and counted (ndoc: documents, nentry:
occurrences, a lexeme without positions once).
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.expr import Const
from ..parse import parse_one
from .coerce import adapt

_TS = (types.TSVECTOR, types.TSQUERY)


def is_text_search(doc, query) -> bool:
    """Whether ``doc @@ query`` (bound) is text search rather than a jsonb path match."""
    if doc.type in _TS or query.type in _TS:
        return True
    both_literals = isinstance(doc, Const) and isinstance(query, Const)
    return doc.type == types.TEXT and query.type == types.TEXT and (
        both_literals or not isinstance(doc, Const))


def bind_match(binder, doc, query, node):
    """``doc @@ query`` as ts_match with PostgreSQL's operand types."""
    if doc.type == types.TSVECTOR or query.type == types.TSVECTOR:
        vector, other = (doc, query) if doc.type == types.TSVECTOR else (query, doc)
        other = adapt(other, types.TSQUERY)
        args = [vector, other] if vector is doc else [other, vector]
    elif doc.type == types.TSQUERY:         # tsquery @@ tsvector
        args = [doc, adapt(query, types.TSVECTOR)]
    elif query.type == types.TSQUERY:       # text @@ tsquery: a literal stays text
        args = [doc, query]
    else:
        args = [doc, query]
    return binder.call("ts_match", args, node)


def bind_double_not(binder, inner_node, node):
    """NOT NOT x: ``!!x`` when x is a tsquery, else None (two boolean NOTs)."""
    inner = binder.bind(inner_node)
    if inner.type != types.TSQUERY:
        return None, inner
    return binder.call("tsquery_not", [inner], node), inner


def is_ts_stat(func) -> bool:
    return isinstance(func, exp.Anonymous) and func.name.lower() == "ts_stat"


def _literal_args(func) -> list[str]:
    args = list(func.expressions)
    if len(args) not in (1, 2) or not all(isinstance(a, exp.Literal) and a.is_string
                                          for a in args):
        raise errors.not_supported("ts_stat of anything but literal query text",
                                   hint="ts_stat('SELECT tsv FROM docs' [, 'ab'])")
    return [a.this for a in args]


def ts_stat_source(func) -> exp.Expression:
    """The query ts_stat names, parsed."""
    return parse_one(_literal_args(func)[0])


def check_ts_stat_source(columns) -> None:
    if len(columns) != 1 or columns[0][1] != types.TSVECTOR:
        raise errors.sql_error("22023", "ts_stat query must return one tsvector column")


def ts_stat_query(func, source: exp.Expression) -> exp.Expression:
    """ts_stat as a grouped query over the named one (its one column renamed ``v``)."""
    args = _literal_args(func)
    vector = "s.v"
    if len(args) == 2:       # only positions of these weights count ('ab')
        letters = ",".join(c for c in args[1].lower() if c in "abcd")
        vector = f"ts_filter(s.v, '{{{letters}}}')"
    query = parse_one(
        "SELECT u.lexeme AS word, count(*) AS ndoc, "
        "sum(coalesce(array_length(u.positions, 1), 1)) AS nentry "
        f"FROM (SELECT 1) AS s(v) CROSS JOIN LATERAL unnest({vector}) AS u "
        "GROUP BY u.lexeme")
    derived = query.find(exp.Subquery)
    derived.set("this", source.copy())
    return query
