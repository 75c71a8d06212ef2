"""Implicit typing rules: where a value may take its type from its context.

PostgreSQL types a quoted literal as *unknown* until context decides. We keep
its strict subset (DESIGN.md): a quoted literal becomes a DATE, TIMESTAMP, UUID,
JSON or INTERVAL when the other side is one (``shipdate <= '1998-09-02'``), but
never a number or a boolean. NULL literals and parameters take the type of the
other side. INTEGER widens to FLOAT.
"""
from __future__ import annotations

from ... import composite, errors, types
from ...plan.expr import Cast, Const, Expr, Param
from ...exec.functions.array import parse_array_literal


def adapt(expr: Expr, target: str, *, context: str = "") -> Expr:
    """``expr`` retyped for a context expecting ``target``, when the rules allow."""
    if expr.type == target or target in (types.NULL, types.UNKNOWN):
        return expr
    if isinstance(expr, Const):
        if expr.value is None:
            return Const(None, target)
        # A lifted literal keeps its slot: sql/literals.convert repeats these conversions.
        if expr.type == types.TEXT and target in types.LITERAL_CONTEXT_TYPES:
            return Const(types.parse_literal_as(target, expr.value), target, expr.slot)
        if expr.type == types.INTEGER and target == types.FLOAT:
            return Const(float(expr.value), types.FLOAT, expr.slot)
        if expr.type == types.TEXT and composite.is_record(target):    # '(1,x)' as pair
            return Const(types.parse_literal_as(target, expr.value), target)
        if expr.type == types.INTEGER and target == types.NUMERIC:
            return Const(types.numeric.of_python(expr.value), target, expr.slot)
        if expr.type == types.NUMERIC and target == types.FLOAT:
            return Const(types.numeric.to_float(types.numeric.decode(expr.value)),
                         target, expr.slot)
        # Arrays: new constants, so a lifted literal read as one stays pinned (literals.py).
        if expr.type == types.TEXT and types.is_array(target) and \
                expr.value.lstrip().startswith("{"):               # '{1,2}' as INTEGER[]
            return Const(parse_array_literal(expr.value, types.element_type(target)), target)
        if expr.type == types.array_of(types.INTEGER) and target == types.array_of(types.FLOAT):
            return Const([None if v is None else float(v) for v in expr.value], target)
    if isinstance(expr, Param) and expr.type in (types.UNKNOWN, types.NULL):
        return Param(expr.slot, target)
    if composite.is_record(expr.type) and composite.is_record(target) and \
            composite.type_name(expr.type) == "record":
        have = [t for _, t in composite.fields_of(expr.type)]
        want = [t for _, t in composite.fields_of(target)]
        if have == want:
            # ROW(1, 'a') where a pair is expected: the same fields, so the same bytes
            return Const(expr.value, target) if isinstance(expr, Const) else Cast(expr, target)
        if len(have) == len(want) and all(a == b or (a, b) in _FIELD_CASTS
                                          for a, b in zip(have, want)):
            return Cast(expr, target)       # field by field (cast.py), as assignment casts
    return expr


# A ROW's field types a composite's fields take by assignment (ROW(1, 1.5) into a
# (int, float8) composite: 1.5 is numeric, as in PostgreSQL).
_FIELD_CASTS = frozenset({(types.NUMERIC, types.FLOAT), (types.INTEGER, types.NUMERIC),
                          (types.INTEGER, types.FLOAT), (types.NUMERIC, types.INTEGER)})


def unify_pair(left: Expr, right: Expr) -> tuple[Expr, Expr]:
    """Let each side of a binary operator take the other's type where allowed."""
    if left.type != right.type:
        left = adapt(left, right.type)
        right = adapt(right, left.type)
    return left, right


def common_type(exprs: list[Expr], what: str) -> str:
    """The one type of CASE branches, COALESCE args, VALUES columns, UNION sides."""
    known = [e.type for e in exprs if e.type not in (types.NULL, types.UNKNOWN)]
    if not known:
        return types.NULL
    if all(types.is_numeric(t) for t in known):
        return types.wider_number(known)
    # an unknown-typed literal follows a typed peer
    typed = [e.type for e in exprs if e.type not in (types.NULL, types.UNKNOWN)
             and not (isinstance(e, Const) and e.type == types.TEXT)]
    target = typed[0] if typed else known[0]
    for e in exprs:
        adapted = adapt(e, target)
        if adapted.type not in (target, types.NULL, types.UNKNOWN) and not (
                types.is_numeric(adapted.type) and types.is_numeric(target)):
            raise errors.datatype_mismatch(
                f"{what} types {types.sql_name(target)} and {types.sql_name(e.type)} cannot "
                "be matched")
    return target
