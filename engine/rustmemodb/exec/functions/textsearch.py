"""PostgreSQL's full-text search functions and operators over TSVECTOR and TSQUERY.

The logic lives in ``rustmemodb.textsearch``; this module registers it: to_tsvector,
to_tsquery, plainto/phraseto/websearch_to_tsquery (with a configuration, or the
session's default_text_search_config read when they run: those overloads are volatile,
so no plan folds one session's configuration), the ``@@`` match (``ts_match``), ts_rank,
ts_rank_cd, ts_headline, setweight, strip, length, numnode, querytree, ``||`` of two
tsvectors or tsqueries, ``&&`` and ``!!`` of tsqueries (``tsquery_and``/``tsquery_not``),
tsquery_phrase, ts_lexize, ts_delete, ts_filter, array_to_tsvector, tsvector_to_array and
get_current_ts_config. Values arrive and leave as canonical text, parsed through caches.
"""
from __future__ import annotations

import json

from ... import errors, statement_limits, types
from ...textsearch import configs, documents, headline, match, rank, tsquery as Q, \
    tsvector as V
from ..expr.rowwise import map_rows
from .registry import ScalarFunction, fixed

TSV, TSQ, T, I, F, B = (types.TSVECTOR, types.TSQUERY, types.TEXT, types.INTEGER,
                        types.FLOAT, types.BOOLEAN)
TA, FA = types.array_of(T), types.array_of(F)


def _vector(row_fn, ret: str):
    def vec(*args):
        return map_rows(row_fn, args, out_type=types.arrow_type(ret))
    return vec


def _default(fn):
    """``fn(config, ...)`` with the session's default configuration."""
    return lambda *args: fn(statement_limits.text_search_config(), *args)


def _q(text: str):
    return Q.parse(text)


def _vq_match(vector: str, query: str) -> bool:
    return match.stored_matches(vector, _q(query))


def _text_match(config: str, text: str, query: str) -> bool:
    return match.matches(match.Doc(documents.to_tsvector(config, text)), _q(query))


def _text_text_match(config: str, text: str, query: str) -> bool:
    return match.matches(match.Doc(documents.to_tsvector(config, text)),
                         documents.plainto_tsquery(config, query))


def _rank(fn):
    def row(*args):
        weights = None
        if isinstance(args[0], list):
            weights, args = args[0], args[1:]
        vector, query = args[0], args[1]
        method = args[2] if len(args) > 2 else 0
        return fn(vector, _q(query), weights, method)
    return row


def _stat_source(arg_types) -> str:
    if len(arg_types) == 1 and arg_types[0] in (TSV, types.NULL):
        return TSV
    raise errors.sql_error("22023", "ts_stat query must return one tsvector column")


def _lexemes_of(query_text: str) -> set:
    return {op[1] for op in Q.operands(_q(query_text))}


def _length(vector: str) -> int:
    return len(V.parse(vector))


def _lexize(dictionary: str, word: str):
    return configs.lexize(dictionary, word)


def register(reg) -> None:
    def add(name, signatures, row, ret, volatile=False):
        reg.add(ScalarFunction(name, fixed(*signatures), _vector(row, ret), row,
                               volatile=volatile))

    fmt_v, fmt_q = V.format, Q.format
    add("to_tsvector", [(T, T, TSV)], lambda c, s: fmt_v(documents.to_tsvector(c, s)), TSV)
    add("to_tsvector", [(T, TSV)], _default(lambda c, s: fmt_v(documents.to_tsvector(c, s))),
        TSV, volatile=True)
    J = types.JSON
    add("to_tsvector", [(T, J, TSV)],
        lambda c, doc: fmt_v(documents.json_to_tsvector(c, json.loads(doc))), TSV)
    add("to_tsvector", [(J, TSV)], _default(
        lambda c, doc: fmt_v(documents.json_to_tsvector(c, json.loads(doc)))), TSV,
        volatile=True)
    for name in ("to_tsquery", "plainto_tsquery", "phraseto_tsquery", "websearch_to_tsquery"):
        fn = getattr(documents, name)
        add(name, [(T, T, TSQ)], lambda c, s, fn=fn: fmt_q(fn(c, s)), TSQ)
        add(name, [(T, TSQ)], _default(lambda c, s, fn=fn: fmt_q(fn(c, s))), TSQ,
            volatile=True)
    add("ts_match", [(TSV, TSQ, B)], _vq_match, B)
    add("ts_match", [(TSQ, TSV, B)], lambda q, v: _vq_match(v, q), B)
    add("ts_match", [(T, TSQ, B)], _default(_text_match), B, volatile=True)
    add("ts_match", [(T, T, B)], _default(_text_text_match), B, volatile=True)
    for name, fn in (("ts_rank", rank.ts_rank), ("ts_rank_cd", rank.ts_rank_cd)):
        add(name, [(TSV, TSQ, F), (TSV, TSQ, I, F), (FA, TSV, TSQ, F), (FA, TSV, TSQ, I, F)],
            _rank(fn), F)
    add("ts_headline", [(T, T, TSQ, T), (T, T, TSQ, T, T)],
        lambda c, doc, q, opts=None: headline.headline(configs.config_name(c), doc, _q(q),
                                                       opts), T)
    add("ts_headline", [(T, TSQ, T), (T, TSQ, T, T)],
        _default(lambda c, doc, q, opts=None: headline.headline(c, doc, _q(q), opts)), T,
        volatile=True)
    add("setweight", [(TSV, T, TSV)], lambda v, w: fmt_v(V.setweight(V.parse(v), w)), TSV)
    add("setweight", [(TSV, T, TA, TSV)],
        lambda v, w, only: fmt_v(V.setweight(V.parse(v), w, only)), TSV)
    add("strip", [(TSV, TSV)], lambda v: fmt_v(V.strip(V.parse(v))), TSV)
    add("length", [(TSV, I)], _length, I)
    add("numnode", [(TSQ, I)], lambda q: Q.numnode(_q(q)), I)
    add("querytree", [(TSQ, T)], lambda q: Q.querytree(_q(q)), T)
    add("concat_op", [(TSV, TSV, TSV)],
        lambda a, b: fmt_v(V.concat(V.parse(a), V.parse(b))), TSV)
    add("concat_op", [(TSQ, TSQ, TSQ)], lambda a, b: fmt_q(Q.or_(_q(a), _q(b))), TSQ)
    # tsquery && tsquery (sqlglot reads && as the array overlap operator)
    for name in ("tsquery_and", "array_overlaps"):
        add(name, [(TSQ, TSQ, TSQ)], lambda a, b: fmt_q(Q.and_(_q(a), _q(b))), TSQ)
    add("tsquery_not", [(TSQ, TSQ)], lambda a: fmt_q(Q.not_(_q(a))), TSQ)
    # tsquery @> tsquery / <@: every lexeme of the contained query is in the other
    add("array_contains_all", [(TSQ, TSQ, B)],
        lambda a, b: _lexemes_of(b) <= _lexemes_of(a), B)
    add("array_contained_by", [(TSQ, TSQ, B)],
        lambda a, b: _lexemes_of(a) <= _lexemes_of(b), B)
    add("tsquery_phrase", [(TSQ, TSQ, TSQ), (TSQ, TSQ, I, TSQ)],
        lambda a, b, d=1: fmt_q(Q.phrase(_q(a), _q(b), d)), TSQ)
    add("ts_lexize", [(T, T, TA)], _lexize, TA)
    # ts_stat's named query must give one tsvector column (sql/parse.py's rewrite)
    reg.add(ScalarFunction("ts_stat_source", _stat_source, _vector(lambda v: v, TSV),
                           lambda v: v))
    add("regconfig_in", [(T, T)], configs.config_name, T)
    add("regdictionary_in", [(T, T)], configs.dictionary_name, T)
    add("ts_delete", [(TSV, T, TSV), (TSV, TA, TSV)],
        lambda v, lex: fmt_v(V.delete(V.parse(v), [lex] if isinstance(lex, str) else
                                      [x for x in lex if x is not None])), TSV)
    add("ts_filter", [(TSV, TA, TSV)], lambda v, ws: fmt_v(V.filter_weights(V.parse(v), ws)),
        TSV)
    add("array_to_tsvector", [(TA, TSV)], lambda a: fmt_v(V.from_array(a)), TSV)
    add("tsvector_to_array", [(TSV, TA)], lambda v: [lex for lex, _ in V.parse(v)], TA)
    reg.add(ScalarFunction("get_current_ts_config", fixed((T,)),
                           lambda *a: _scalar_config(), lambda: statement_limits.
                           text_search_config(), volatile=True))


def _scalar_config():
    import pyarrow as pa
    return pa.scalar(statement_limits.text_search_config(), pa.large_string())

