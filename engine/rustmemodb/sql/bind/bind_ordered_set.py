"""Ordered-set aggregates: ``percentile_cont``, ``percentile_disc`` and ``mode`` WITHIN GROUP.

``percentile_cont(0.5) WITHIN GROUP (ORDER BY x)`` is an ``AggCall`` over ``x`` whose
``extra`` carries what the per-group body needs: the fraction(s), the sort
direction and NULL placement (NULL inputs are skipped anyway, as PostgreSQL does).
The bodies live in exec/functions/ordered_set.py. As in PostgreSQL:

* the fraction is a constant (or an array of them, giving an array), between 0 and 1
  (``22003`` otherwise);
* ``percentile_cont`` interpolates numbers and returns FLOAT; ``percentile_disc``
  returns the first value whose position reaches the fraction, in the input's type;
* ``mode()`` returns the most frequent value, the first in sort order on a tie;
* exactly one ORDER BY key.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.expr import AggCall, Cast, Const
from ..parse import position_of
from .bind_aggregate_ext import _arg_binder, _check_allowed
from .bind_select import _explicit_nulls

_KINDS = {exp.PercentileCont: "percentile_cont", exp.PercentileDisc: "percentile_disc"}


def bind_within_group(stmt, binder, node: exp.WithinGroup) -> AggCall:
    fn = node.this
    name = _KINDS.get(type(fn))
    if name is None and isinstance(fn, exp.Mode) or \
            (isinstance(fn, exp.Anonymous) and fn.name.lower() == "mode"):
        name = "mode"
    if name is None and isinstance(fn, exp.Anonymous) and \
            fn.name.lower() in ("percentile_cont", "percentile_disc"):
        name = fn.name.lower()
    if name is None:
        raise errors.not_supported(f"{fn.sql(dialect='postgres')} WITHIN GROUP",
                                   position=position_of(node))
    _check_allowed(binder, node)
    inner = _arg_binder(stmt, binder)
    order = node.expression.expressions if isinstance(node.expression, exp.Order) else []
    if len(order) != 1:
        raise errors.undefined_function(f"function {name} with {len(order)} ORDER BY keys "
                                        "does not exist", position=position_of(node))
    key = order[0]
    value = inner.bind(key.this)
    desc = bool(key.args.get("desc"))
    nulls_first = bool(key.args.get("nulls_first")) if _explicit_nulls(key) else desc
    if name == "mode":
        if fn.expressions if isinstance(fn, exp.Anonymous) else fn.this is not None:
            raise errors.undefined_function("function mode with arguments does not exist",
                                            position=position_of(node))
        t = value.type if value.type != types.NULL else types.TEXT
        return AggCall("mode", (value,), t, extra=(None, desc, nulls_first))
    arg_node = fn.expressions[0] if isinstance(fn, exp.Anonymous) else fn.this
    fraction = inner.bind(arg_node)
    fractions, many = _fractions(fraction, arg_node)
    if name == "percentile_cont":
        if value.type == types.NUMERIC:      # interpolated as float8, as PostgreSQL's
            value = Cast(value, types.FLOAT)
        if value.type not in (types.INTEGER, types.FLOAT, types.NULL):
            raise errors.undefined_function(
                f"function percentile_cont(double precision ORDER BY {value.type.lower()}) "
                "does not exist", position=position_of(node),
                hint="percentile_cont interpolates numbers; use percentile_disc.")
        t = types.FLOAT
    else:
        t = value.type if value.type != types.NULL else types.TEXT
        if types.is_array(t):
            raise errors.not_supported("percentile_disc of arrays", position=position_of(node))
    return AggCall(name, (value,), types.array_of(t) if many else t,
                   extra=(fractions if many else fractions[0], desc, nulls_first))


def _fractions(e, node) -> tuple[tuple, bool]:
    if not isinstance(e, Const):
        raise errors.not_supported("a non-constant percentile fraction",
                                   position=position_of(node))
    many = types.is_array(e.type)
    element = types.element_type(e.type) if many else e.type
    if element == types.NUMERIC:            # 0.5: a numeric literal, read as float8
        e = Const(None if e.value is None else
                  [None if v is None else types.numeric.to_float(types.numeric.decode(v))
                   for v in e.value] if many else
                  types.numeric.to_float(types.numeric.decode(e.value)), types.FLOAT)
        element = types.FLOAT
    if element not in (types.INTEGER, types.FLOAT, types.NULL):
        raise errors.undefined_function(f"function percentile({e.type.lower()}) does not exist",
                                        position=position_of(node))
    values = list(e.value) if many else [e.value]
    for v in values:
        if v is not None and not 0 <= v <= 1:
            raise errors.sql_error("22003", f"percentile value {v} is not between 0 and 1",
                                   position=position_of(node))
    return tuple(None if v is None else float(v) for v in values), many
