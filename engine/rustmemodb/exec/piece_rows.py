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
from itertools import compress, repeat
from operator import attrgetter, is_, itemgetter
from typing import Callable

from .. import errors
from ..plan.expr import ColRef
from ..result import Result
from . import row_ops
from .expr.row import compile_row
from .fast_select import sorted_with_nulls
from .fast_select import _PLAIN_KEYS, _PLAIN_OR_NULL, _Env, sorter
from .row_ops import SMALL_ROWS, StatementParams, table_rows


def compile_piece_rows(prepared, compile_fast: Callable) -> Callable:
    """The fast path of ``prepared`` (planned from pieces: ``prepared.pieces``): fn(ctx)
    -> Result, or None for the vectorised path. ``compile_fast(prepared)``: its plan
    compiled as any other, made the first time a run needs it."""
    return _PieceRun(prepared, compile_fast)


class _PieceRun:
    """A statement planned from pieces, run (``__call__(ctx)``). One object rather than
    closures: a one-off statement makes and frees one of these, where two closures took
    a dozen cells more."""

    __slots__ = ("pieces", "sort", "plain_sort", "fields", "make", "compile_fast",
                 "compiled")

    def __init__(self, prepared, compile_fast: Callable) -> None:
        self.pieces = pieces = prepared.pieces
        sort_keys = pieces.sort_keys
        # ORDER BY output columns in one direction (ORDER BY 1, 2, 3): sorted as ``sort``
        # sorts them once it has checked the output rows' values, per statement, whenever
        # the pieces' values over the whole table (made once per table version:
        # ``values``) already say what that check would find (``plain_sort``)
        self.sort, self.plain_sort = _sorter(sort_keys) if sort_keys else (None, None)
        # Not ``prepared`` itself, whose ``fast`` this is: a cycle through it would leave
        # every one-off statement's plan to the cyclic collector (a copy is compiled, its
        # plan read from the bound statement's: made only now, sql/piece_plan.py)
        self.fields = _copied(prepared)
        self.make = type(prepared)
        self.compile_fast = compile_fast
        self.compiled = None

    def fallback(self, ctx):
        compiled = self.compiled
        if compiled is None:
            copy = dict(zip(_COPIED, self.fields))
            copy["plan"] = copy["bound"].plan
            compiled = self.compiled = self.compile_fast(self.make(**copy)) or _declines
        return compiled(ctx)

    def __call__(self, ctx):
        items, conds, ops, _, table, width, columns = self.pieces
        root = ctx.root
        version = root.tables.get(table)
        if version is None or version.live_rows > SMALL_ROWS:
            return self.fallback(ctx)
        rows = table_rows(version, width)
        if conds:
            vals = []
            for piece in conds:
                got = values(piece, root, rows, ctx)
                if got is None:
                    return self.fallback(ctx)
                vals.append(got[0][0])
            keep = _joined(vals, ops) if len(vals) > 1 else vals[0]
        cols = []
        kinds = []
        for piece in items:
            got = values(piece, root, rows, ctx)
            if got is None:
                return self.fallback(ctx)
            cols += got[0]
            kinds += got[1]
        if not cols:
            return self.fallback(ctx)
        if conds:
            # the rows where the WHERE is true: ``is True``, as the row path's filter
            # tests (a function's value might be truthy and still no True)
            out = list(compress(zip(*cols), map(is_, keep, repeat(True))))
        else:
            out = list(zip(*cols))
        sort = self.sort
        if sort is not None:
            plain_sort = self.plain_sort
            kind = _OTHER if plain_sort is None else max([kinds[i] for i in plain_sort[0]])
            if kind == _OTHER or len(out) < 2:
                out = sort(out, ctx.params)
            elif kind == _PLAIN:
                out.sort(key=plain_sort[1], reverse=plain_sort[2])
            else:
                out = sorted_with_nulls(out, plain_sort[3], plain_sort[2])
        return Result(columns, rows=out, rowcount=len(out), kind="SELECT")


def _plain_sort(sort_keys: tuple):
    """(output positions, their item getter, descending, per key from the last: (its
    item getter, its position, NULLs first)) for sort keys in one direction, else None.
    ``sort_keys``: ((output position, descending, nulls first), ...)."""
    if len({bool(desc) for _, desc, _ in sort_keys}) != 1:
        return None
    cols = tuple(i for i, _, _ in sort_keys)
    passes = tuple((itemgetter(i), i, bool(nf)) for i, _, nf in reversed(sort_keys))
    return cols, itemgetter(*cols), bool(sort_keys[0][1]), passes


# What a list of values holds, for sorting (fast_select.sorter's test, made once per
# value list): plain values only (their own Python order is SQL's), plain values and
# NULLs, anything else (a NaN, another type). Ordered: a statement's sort columns take
# the largest.
_PLAIN, _NULLS, _OTHER = 0, 1, 2


def _kind(vals: list) -> int:
    kinds = set(map(type, vals))
    if float in kinds and any(v != v for v in vals):
        return _OTHER
    return _PLAIN if kinds <= _PLAIN_KEYS else _NULLS if kinds <= _PLAIN_OR_NULL else _OTHER




# The fields of a Prepared its compiled fast path reads (exec/fast_select.py), its plan
# apart.
_COPIED = ("text", "placeholders", "kind", "bound", "functions_version",
           "param_types", "exact_types", "sizes", "lifted")
_copied = attrgetter(*_COPIED)


# ORDER BY output positions ((position, descending, nulls first), ...) -> their sort
# and ``_plain_sort``: functions of those alone (sorter's closures for output columns
# read nothing else), and a file of one-off statements writes few of them. Bounded; a
# race makes one twice.
_SORTS: dict = {}


def _sorter(sort_keys: tuple) -> tuple:
    got = _SORTS.get(sort_keys)
    if got is None:
        if len(_SORTS) >= 256:
            _SORTS.clear()
        # (an output column's sort reads its position only: sorter's ``_column``)
        by = [(ColRef(i, None, None), desc, nulls_first) for i, desc, nulls_first in sort_keys]
        got = _SORTS[sort_keys] = (sorter(by, compile_row), _plain_sort(sort_keys))
    return got


def values(piece, root, rows: list, ctx) -> tuple | None:
    """The values of ``piece``'s expressions (``value_exprs``) on every row of ``rows``
    (the live rows of its table in ``root``), one list per expression, and for each list
    whether it is ``_plain``; or None (see the module doc). Kept on the piece for the
    versions of the tables it reads."""
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
    got = vals = None
    if fns is not False:
        p = StatementParams(ctx.params, ctx) if piece.subqueries else ctx.params
        try:
            vals = [[f(r, p) for r in rows] for f in fns]
        except errors.Error as exc:
            if exc.sqlstate[:2] in ("53", "54", "57"):
                raise     # cancelled, out of memory, too complex: the statement's answer
        except Exception:
            pass          # the row path declined (TooMany), or failed: run as compiled
    if vals is not None:
        got = (vals, tuple(map(_kind, vals)))
    refs = []
    for name in piece.tables:
        version = tables.get(name)
        if version is None:
            return got
        refs.append((name, weakref.ref(version)))
    piece.memo = (tuple(refs), got)
    return got


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
