"""Binding text search's operators: ``@@`` between documents and queries, ``!!``.

sqlglot reads every ``@@`` as one node (MatchAgainst), shared with jsonb's path match
(bind_jsonb.py, which hands text search here). PostgreSQL's text-search ``@@`` takes
tsvector @@ tsquery (either order), text @@ tsquery (the text read by to_tsvector) and
text @@ text (plainto_tsquery of the right side); a quoted literal beside a tsvector is
a tsquery, beside a tsquery on its right a tsvector, on its left text (PostgreSQL's
unknown prefers text); two literals are text @@ text. ``!!q`` (tsquery's NOT)
reaches us as NOT NOT q: NOT of a tsquery is PostgreSQL's 42804, so a double NOT around
a tsquery can only mean ``!!``. (``ts_stat`` in FROM is rewritten by sql/parse.py.)
"""
from __future__ import annotations

from ... import types
from ...plan.expr import Const
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

