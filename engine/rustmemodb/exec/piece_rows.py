"""Rows of a statement planned from its pieces, made from the pieces' values (issue 11).

A file of distinct one-table SELECTs (SQLite's select1-5.test corpus, a notebook, a
test suite) computes the same select items and conditions over the same rows again
and again in different combinations. sql/piece_plan.py plans such a statement from
plans of its pieces; this module runs it from their values: each piece's expressions
evaluated once on every live row of its table and kept for the versions of the tables
it reads (immutable objects: a new version is new data), then per statement only

    the conditions' values joined as their filters are (three-valued AND/OR, as the
    row path's ``lazy_pair`` joins them), the rows where that is true, the items'
    values there, sorted as the statement says.

A piece whose values cannot be had (one of its expressions does not compile to the
row path, or raises or declines on some row: an error a statement may never meet,
when the row is one its WHERE leaves out or its AND/OR never evaluates it on) sends
the statement to its plan compiled as any other (exec/fast_select.py), which computes
only what it needs and so raises exactly when the statement must; so does a table
past the row path's size.
"""
from __future__ import annotations

import weakref
from operator import attrgetter
from typing import Callable

from .. import errors
from ..plan.expr import ColRef
from ..result import Result
from . import row_ops
from .expr.row import compile_row
from .fast_select import _Env, sorter
from .row_ops import SMALL_ROWS, StatementParams, table_rows


def compile_piece_rows(prepared, compile_fast: Callable) -> Callable:
    """The fast path of ``prepared`` (planned from pieces: ``prepared.pieces``): fn(ctx)
    -> Result, or None for the vectorised path. ``compile_fast(prepared)``: its plan
    compiled as any other, made the first time a run needs it."""
    items, conds, ops, sort_keys, table, width = prepared.pieces
    columns = prepared.plan.columns
    sort = _sorter(sort_keys) if sort_keys else None
    compiled: list = []
    # Not ``prepared`` itself, whose ``fast`` this is: a cycle through it would leave
    # every one-off statement's plan to the cyclic collector (a copy is compiled)
    fields = _copied(prepared)
    make = type(prepared)

    def fallback(ctx):
        if not compiled:
            compiled.append(compile_fast(make(**dict(zip(_COPIED, fields)))) or _declines)
        return compiled[0](ctx)

    def run(ctx):
        root = ctx.root
        version = root.tables.get(table)
        if version is None or version.live_rows > SMALL_ROWS:
            return fallback(ctx)
        rows = table_rows(version, width)
        if conds:
            vals = []
            for piece in conds:
                got = values(piece, root, rows, ctx)
                if got is None:
                    return fallback(ctx)
                vals.append(got[0])
            keep = [i for i, v in enumerate(_joined(vals, ops)) if v is True]
        cols = []
        for piece in items:
            got = values(piece, root, rows, ctx)
            if got is None:
                return fallback(ctx)
            cols += got
        if not cols:
            return fallback(ctx)
        if conds:
            out = list(zip(*[[c[i] for i in keep] for c in cols]))
        else:
            out = list(zip(*cols))
        if sort is not None:
            out = sort(out, ctx.params)
        return Result(columns, rows=out, rowcount=len(out), kind="SELECT")
    return run


# The fields of a Prepared its compiled fast path reads (exec/fast_select.py).
_COPIED = ("text", "placeholders", "kind", "bound", "plan", "functions_version",
           "param_types", "exact_types", "sizes", "lifted")
_copied = attrgetter(*_COPIED)


# ORDER BY output positions ((position, descending, nulls first), ...) -> their sort:
# a function of those alone (sorter's closures for output columns read nothing else),
# and a file of one-off statements writes few of them. Bounded; a race makes one twice.
_SORTS: dict = {}


def _sorter(sort_keys: tuple):
    if any(type(e) is not ColRef for e, _, _ in sort_keys):
        return sorter(sort_keys, compile_row)
    key = tuple((e.index, desc, nulls_first) for e, desc, nulls_first in sort_keys)
    sort = _SORTS.get(key)
    if sort is None:
        if len(_SORTS) >= 256:
            _SORTS.clear()
        sort = _SORTS[key] = sorter(sort_keys, compile_row)
    return sort


def values(piece, root, rows: list, ctx) -> list | None:
    """The values of ``piece``'s expressions (``value_exprs``) on every row of ``rows``
    (the live rows of its table in ``root``), one list per expression, or None (see the
    module doc). Kept on the piece for the versions of the tables it reads."""
    tables = root.tables
    memo = piece.memo
    if memo is not None:
        for name, ref in memo[0]:
            if tables.get(name) is not ref():
                break
        else:
            return memo[1]
    fns = piece.fns
    if fns is None:
        fns = piece.fns = _compile(piece)
    vals = None
    if fns is not False:
        p = StatementParams(ctx.params, ctx) if piece.subqueries else ctx.params
        try:
            vals = [[f(r, p) for r in rows] for f in fns]
        except errors.Error as exc:
            if exc.sqlstate[:2] in ("53", "54", "57"):
                raise     # cancelled, out of memory, too complex: the statement's answer
        except Exception:
            pass          # the row path declined (TooMany), or failed: run as compiled
    refs = []
    for name in piece.tables:
        version = tables.get(name)
        if version is None:
            return vals
        refs.append((name, weakref.ref(version)))
    piece.memo = (tuple(refs), vals)
    return vals


def _compile(piece):
    """The row closures of ``piece``'s expressions (as the row path compiles them in a
    statement without parameters), or False; notes whether they hold a subquery."""
    prepared = piece.prepared
    env = _Env(sizes=prepared.sizes, nested=prepared.bound.nested)
    try:
        fns = [env.row_fn(e) for e in piece.value_exprs]
    except row_ops.Unsupported:
        return False
    piece.subqueries = env.subqueries
    return fns


def _declines(ctx):
    return None


def _joined(vals: list, ops: tuple) -> list:
    """Per row, the conditions' values joined as sql/piece_plan.py joins their filters
    (AND before OR, both from the left), each AND and OR three-valued as
    ``exec.expr.row.lazy_pair`` evaluates it."""
    terms = []
    current = vals[0]
    for op, v in zip(ops, vals[1:]):
        if op == "and":
            current = [False if x is False or y is False else
                       None if x is None or y is None else True
                       for x, y in zip(current, v)]
        else:
            terms.append(current)
            current = v
    terms.append(current)
    out = terms[0]
    for v in terms[1:]:
        out = [True if x is True or y is True else
               None if x is None or y is None else False
               for x, y in zip(out, v)]
    return out
