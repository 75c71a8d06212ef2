"""ts_rank and ts_rank_cd: PostgreSQL's relevance formulas, to the last printed digit.

ts_rank (calc_rank): for an AND or phrase query, every pair of matched positions of two
different operands adds ``sqrt(w1 * w2 * word_distance(d))``, combined as independent
probabilities; otherwise (OR, a single term) each operand scores its positions by
``weight / i**2`` normalised by pi**2/6, averaged over the operands. ts_rank_cd sums, over
the query's minimal covers, the cover's density divided by the noise words inside it.
Normalization flags 1 2 4 8 16 32 as PostgreSQL's. PostgreSQL computes ts_rank in single
precision (float4 variables, double constants), so this module does the same with numpy
float32 where C does, and both return float4 values.
"""
from __future__ import annotations

import math

from .. import errors
from . import match, tsquery as Q, tsvector as V
from .match import Doc

DEFAULT_WEIGHTS = (0.1, 0.2, 0.4, 1.0)        # D, C, B, A
_MAX_POS = 16384                               # MAXENTRYPOS


def _f32():
    import numpy as np
    return np.float32


def as_real(x) -> float:
    """A float4 result as the float8 that prints as PostgreSQL prints the float4."""
    return float(str(_f32()(x)))


def weights_of(array) -> tuple:
    """A ts_rank weights array {D, C, B, A}: PostgreSQL's checks."""
    if array is None:
        return DEFAULT_WEIGHTS
    if len(array) < 4:
        raise errors.sql_error("2202E", "array of weight is too short")
    if any(w is None for w in array):
        raise errors.sql_error("22004", "array of weight must not contain nulls")
    out = []
    for w, default in zip(array[:4], DEFAULT_WEIGHTS):
        if w > 1.0:
            raise errors.sql_error("22023", "weight out of range")
        out.append(float(w) if w >= 0 else default)
    return tuple(out)


def _unique_operands(query) -> list:
    """The query's distinct operands (by lexeme and prefix), as SortAndUniqItems."""
    seen = {}
    for op in Q.operands(query):
        seen.setdefault((op[1], op[3]), op)
    return [seen[k] for k in sorted(seen, key=lambda k: (V.sort_key(k[0]), k[1]))]


def _word_distance(w: int):
    f32 = _f32()
    if w > 100:
        return f32(1e-30)
    return f32(1.0 / (1.005 + 0.05 * math.exp(float(f32(w)) / 1.5 - 2)))


def _rank_or(w, doc: Doc, query):
    f32 = _f32()
    items = _unique_operands(query)
    res = f32(0.0)
    for item in items:
        for _, ps in doc.entries(item):
            positions = ps or ((0, 0),)
            resj = f32(0.0)
            wjm = f32(-1.0)
            jm = 0
            for j, (_, weight) in enumerate(positions):
                resj = f32(resj + w[weight] / f32((j + 1) * (j + 1)))
                if w[weight] > wjm:
                    wjm = w[weight]
                    jm = j
            # (float arithmetic inside, the constant a double: as C evaluates it)
            inner = f32(f32(wjm + resj) - f32(wjm / f32((jm + 1) * (jm + 1))))
            res = f32(float(res) + float(inner) / 1.64493406685)
    if items:
        res = f32(res / f32(len(items)))
    return res


def _rank_and(w, doc: Doc, query):
    f32 = _f32()
    items = _unique_operands(query)
    if len(items) < 2:
        return _rank_or(w, doc, query)
    res = f32(-1.0)
    pos: list = [None] * len(items)
    null = ((_MAX_POS - 1, 0),)
    for i, item in enumerate(items):
        for _, ps in doc.entries(item):
            pos[i] = ps or null
            is_null_i = not ps
            for k in range(i):
                if pos[k] is None:
                    continue
                is_null_k = pos[k] is null
                for lp, lw in pos[i]:
                    for cp, cw in pos[k]:
                        dist = abs(lp - cp)
                        if dist or is_null_i or is_null_k:
                            if not dist:
                                dist = _MAX_POS
                            curw = f32(math.sqrt(float(w[lw] * w[cw] * _word_distance(dist))))
                            res = curw if res < 0 else f32(1.0 - (1.0 - float(res)) *
                                                           (1.0 - float(curw)))
    return res


def ts_rank(vector_text: str, query, weights=None, method: int = 0) -> float:
    f32 = _f32()
    w = tuple(f32(x) for x in weights_of(weights))
    doc = match.doc_of(vector_text)
    if not doc.vector or query is None:
        return 0.0
    if query[0] in ("and", "phrase"):
        res = _rank_and(w, doc, query)
    else:
        res = _rank_or(w, doc, query)
    if res < 0:
        res = f32(1e-20)
    length = V.total_length(doc.vector)
    size = len(doc.vector)
    if method & 1:
        res = f32(float(res) / (math.log(length + 1) / math.log(2.0)))
    if method & 2 and length > 0:
        res = f32(res / f32(length))
    if method & 8:
        res = f32(res / f32(size))
    if method & 16:
        res = f32(float(res) / (math.log(size + 1) / math.log(2.0)))
    if method & 32:
        res = f32(res / (res + f32(1)))
    return as_real(res)


# ---- cover density -------------------------------------------------------------------------

def _doc_representation(doc: Doc, operands: list) -> list:
    """[(position, weight, operand indexes)] sorted by position (get_docrep)."""
    rows = {}
    for idx, op in enumerate(operands):
        weights = op[2]
        for lexeme, ps in doc.entries(op):
            for p, wt in ps:            # a lexeme without positions is ignored
                if not weights or wt in weights:
                    key = (p, V.sort_key(lexeme))
                    if key in rows:
                        rows[key][2].append(idx)
                    else:
                        rows[key] = (p, wt, [idx])
    return [rows[k] for k in sorted(rows)]


def _covers(rep: list, query, operands: list):
    """Each cover (begin index, end index, p, q) in turn, as PostgreSQL's Cover()."""
    index_of = {}
    for idx, op in enumerate(operands):
        index_of.setdefault(id(op), idx)
    start = 0
    n = len(rep)
    while start < n:
        seen: dict[int, list] = {}

        def lookup(op, seen=seen):
            ps = seen.get(index_of[id(op)])
            return sorted(set(ps)) if ps else None

        end = None
        i = start
        while i < n:
            for idx in rep[i][2]:
                seen.setdefault(idx, []).append(rep[i][0])
            if match.evaluate(query, lookup):
                end = i
                break
            i += 1
        if end is None:
            return
        seen.clear()
        begin = None
        i = end
        while i >= start:
            for idx in rep[i][2]:
                seen.setdefault(idx, []).append(rep[i][0])
            if match.evaluate(query, lookup):
                begin = i
                break
            i -= 1
        if begin is not None and rep[begin][0] <= rep[end][0]:
            yield begin, end, rep[begin][0], rep[end][0]
            start = begin + 1
        else:
            start += 1


def ts_rank_cd(vector_text: str, query, weights=None, method: int = 0) -> float:
    f32 = _f32()
    invws = [1.0 / float(f32(x)) for x in weights_of(weights)]
    doc = match.doc_of(vector_text)
    if query is None:
        return 0.0
    operands = Q.operands(query)
    rep = _doc_representation(doc, operands)
    if not rep:
        return 0.0
    wdoc = 0.0
    sum_dist = 0.0
    prev_ext = 0.0
    extents = 0
    for begin, end, p, q in _covers(rep, query, operands):
        inv_sum = sum(invws[rep[i][1]] for i in range(begin, end + 1))
        cpos = (end - begin + 1) / inv_sum
        noise = (q - p) - (end - begin)
        if noise < 0:
            noise = (end - begin) // 2
        wdoc += cpos / (1 + noise)
        cur = (q + p) / 2.0
        if extents > 0 and cur > prev_ext:
            sum_dist += 1.0 / (cur - prev_ext)
        prev_ext = cur
        extents += 1
    length = V.total_length(doc.vector)
    size = len(doc.vector)
    if method & 1 and size > 0:     # (natural log here, log2 for flag 16: PostgreSQL's)
        wdoc /= math.log(length + 1)
    if method & 2 and length > 0:
        wdoc /= length
    if method & 4 and extents > 0 and sum_dist > 0:
        wdoc /= extents / sum_dist
    if method & 8 and size > 0:
        wdoc /= size
    if method & 16 and size > 0:
        wdoc /= math.log(size + 1) / math.log(2.0)
    if method & 32:
        wdoc /= wdoc + 1
    return as_real(wdoc)
