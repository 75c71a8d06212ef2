"""Conditional evaluation over Arrow: each branch sees only the rows that reach it.

PostgreSQL evaluates a CASE arm, a later COALESCE argument or the right side of AND/OR
only for rows where it matters, so ``CASE WHEN a = 0 THEN 0 ELSE 100 / a END`` never
divides by zero. Evaluating every branch on every row and picking with ``if_else``
(Arrow's way) would raise 22012 for the rows the CASE protects. Here each branch is
evaluated on the subset of rows that reach it (``Table.filter`` by a mask), and the
pieces are scattered back into row order.

Branches that cannot raise (column references, constants, comparisons, boolean logic)
keep the single-pass ``if_else`` form, which is cheaper; ``can_raise`` decides.
"""
from __future__ import annotations

from ... import infinity, numeric_arrays

from ...lazy_import import arrow as pa, compute as pc, numpy as np
from ..arrays import contiguous

from ...plan.expr import Call, Case, ColRef, Const, Expr, OuterRef, Param

# Functions that never raise on any input of their types (no division, cast, parse,
# overflow, allocation or user code): a branch made only of these needs no mask.
_NEVER_RAISE = frozenset({
    "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "is_null", "is_not_null",
    "is_true", "is_false", "is_distinct", "is_not_distinct", "coalesce", "nullif",
    "greatest", "least",
})


def can_raise(e: Expr) -> bool:
    """Whether evaluating ``e`` on some row might raise. Post-order and iterative; the
    answer for each CASE is kept on the node, so the nested CASEs of a deep expression
    (each asked in turn as evaluation descends) cost one walk in all, not one each."""
    known: dict[int, bool] = {}
    stack = [(e, False)]
    while stack:
        n, done = stack.pop()
        kind = type(n)
        if kind is ColRef or kind is Const or kind is Param or kind is OuterRef:
            known[id(n)] = False
            continue
        if kind is Case:
            cached = n.__dict__.get("_can_raise")
            if cached is not None:
                known[id(n)] = cached
                continue
        elif not (kind is Call and n.fn in _NEVER_RAISE):
            known[id(n)] = True
            continue
        children = n.children()
        if not done:
            stack.append((n, True))
            stack.extend((c, False) for c in children)
            continue
        answer = any(known[id(c)] for c in children)
        known[id(n)] = answer
        if kind is Case:
            object.__setattr__(n, "_can_raise", answer)   # not a field: eq/hash unchanged
    return known[id(e)]


class _Pieces:
    """Values for subsets of rows, assembled into one array in row order."""

    def __init__(self, n: int, out_type: pa.DataType) -> None:
        self.n = n
        self.out_type = out_type
        self.positions: list = []
        self.values: list = []

    def add(self, positions: np.ndarray | None, value) -> None:
        count = self.n if positions is None else len(positions)
        if count == 0:
            return
        if isinstance(value, pa.Scalar):
            value = pa.repeat(numeric_arrays.cast_to(value, self.out_type)
                              if value.type != self.out_type else value, count)
        else:
            value = contiguous(value)
            if value.type != self.out_type:
                value = numeric_arrays.cast_to(value, self.out_type)
        self.positions.append(np.arange(self.n) if positions is None else positions)
        self.values.append(value)

    def result(self):
        if len(self.values) == 1 and len(self.positions[0]) == self.n:
            pos = self.positions[0]
            if self.n == 0 or (pos[0] == 0 and pos[-1] == self.n - 1):
                return self.values[0]
        filled = sum(len(p) for p in self.positions)
        if filled < self.n:   # rows no branch produced a value for are NULL
            covered = np.zeros(self.n, dtype=bool)
            for p in self.positions:
                covered[p] = True
            rest = np.nonzero(~covered)[0]
            self.positions.append(rest)
            self.values.append(pa.nulls(len(rest), self.out_type))
        positions = np.concatenate(self.positions)
        values = pa.concat_arrays(self.values)
        order = np.empty(self.n, dtype=np.int64)
        order[positions] = np.arange(len(positions))
        return values.take(pa.array(order))


def _mask(value, n: int) -> np.ndarray:
    """A boolean condition as a numpy mask, NULL as false."""
    if isinstance(value, pa.Scalar):
        return np.full(n, value.is_valid and bool(infinity.pyscalar(value)), dtype=bool)
    filled = pc.fill_null(value, False)
    filled = contiguous(filled)
    return filled.to_numpy(zero_copy_only=False).astype(bool, copy=False)


def _select(table: pa.Table, positions: np.ndarray | None, mask: np.ndarray):
    return table.filter(pa.array(mask)), (np.nonzero(mask)[0] if positions is None
                                          else positions[mask])


def case(expr: Case, table: pa.Table, ctx, evaluate, out_type: pa.DataType):
    n = table.num_rows
    out = _Pieces(n, out_type)
    sub, positions = table, None
    for cond, value in expr.whens:
        if sub.num_rows == 0:
            break
        hit = _mask(evaluate(cond, sub, ctx), sub.num_rows)
        if hit.any():
            taken, where = (sub, positions) if hit.all() else _select(sub, positions, hit)
            out.add(where, evaluate(value, taken, ctx))
            if hit.all():
                sub = sub.slice(0, 0)
                break
            sub, positions = _select(sub, positions, ~hit)
    if sub.num_rows:
        if expr.default is not None:
            out.add(positions, evaluate(expr.default, sub, ctx))
    return out.result()


def coalesce(args, table: pa.Table, ctx, evaluate, out_type: pa.DataType):
    n = table.num_rows
    out = _Pieces(n, out_type)
    sub, positions = table, None
    for i, arg in enumerate(args):
        if sub.num_rows == 0:
            break
        v = evaluate(arg, sub, ctx)
        if i == len(args) - 1:
            out.add(positions, v)
            break
        if isinstance(v, pa.Scalar):
            if v.is_valid:
                out.add(positions, v)
                break
            continue
        missing = v.is_null()
        missing = contiguous(missing)
        missing = missing.to_numpy(zero_copy_only=False).astype(bool, copy=False)
        if not missing.any():
            out.add(positions, v)
            break
        present = ~missing
        if present.any():
            out.add(np.nonzero(present)[0] if positions is None else positions[present],
                    (contiguous(v)).filter(
                        pa.array(present)))
        sub, positions = _select(sub, positions, missing)
    return out.result()


def and_or(fn: str, args, table: pa.Table, ctx, evaluate):
    """``a AND b`` evaluates ``b`` only where ``a`` is not false (OR: not true)."""
    n = table.num_rows
    left = evaluate(args[0], table, ctx)
    decided_value = fn == "or"          # AND: false decides; OR: true decides
    if isinstance(left, pa.Scalar):
        if left.is_valid and infinity.pyscalar(left) is decided_value:
            return left
        right = evaluate(args[1], table, ctx)
        return pc.and_kleene(left, right) if fn == "and" else pc.or_kleene(left, right)
    lv = contiguous(left)
    decided = pc.fill_null(pc.equal(lv, decided_value), False).to_numpy(
        zero_copy_only=False).astype(bool, copy=False)
    if not decided.any():
        right = evaluate(args[1], table, ctx)
        return pc.and_kleene(lv, right) if fn == "and" else pc.or_kleene(lv, right)
    out = _Pieces(n, pa.bool_())
    out.add(np.nonzero(decided)[0], pa.scalar(decided_value))
    rest = ~decided
    if rest.any():
        keep = pa.array(rest)
        sub = table.filter(keep)
        right = evaluate(args[1], sub, ctx)
        lsub = lv.filter(keep)
        out.add(np.nonzero(rest)[0],
                pc.and_kleene(lsub, right) if fn == "and" else pc.or_kleene(lsub, right))
    return out.result()
