"""json[b]_object_agg(key, value), written in terms of aggregates every path already runs.

The call pairs the array of the group's keys (as text) with the JSON array of its values:
``json_object_from(array_agg(key::text), to_jsonb(array_agg(value)))``, each under the
call's own FILTER (a NULL value is JSON null, a NULL key 22023). The rewrite happens
before binding, so the pieces group with Arrow's hash aggregation like any array_agg.
(corr/covar/regr_* and arg_max/arg_min are two-argument aggregates of their own:
bind_aggregate_ext.py and exec/functions/aggregate_pairs.py.)
"""
from __future__ import annotations

import functools

from sqlglot import exp

from ... import errors
from ...plan.internal_functions import INTERNAL_SCHEMA
from ..parse import parse_one, position_of

# Markers standing for the arguments in the templates (never valid user names).
_Y, _X, _F = "__stat_y", "__stat_x", "__stat_f"

TEMPLATES = {
    # jsonb_object_agg(key, value): the keys and the values as JSON, paired per group
    # (only the call's own FILTER drops rows: a NULL value is JSON null, a NULL key 22023)
    "jsonb_object_agg": INTERNAL_SCHEMA + ".json_object_from(array_agg(({y})::text) "
                        "FILTER (WHERE {f}), to_jsonb(array_agg({x}) FILTER (WHERE {f})))",
    # json_object_agg(key, value): each value's json text as it comes, every pair kept,
    # written as PostgreSQL's json_object_agg writes them (exec/functions/json_out.py)
    "json_object_agg": INTERNAL_SCHEMA + ".json_object_agg_out(array_agg(({y})::text) "
                       "FILTER (WHERE {f}), "
                       "array_agg(to_json({x})) FILTER (WHERE {f}))",
}

CLASSES = {exp.JSONBObjectAgg: "jsonb_object_agg", exp.JSONObjectAgg: "json_object_agg"}


@functools.lru_cache(maxsize=None)
def _template(name: str) -> exp.Expression:
    """The parsed template of ``name`` with the argument markers in place."""
    text = TEMPLATES[name]
    text = text.format(x=_X, y=_Y, f=_F)
    return parse_one("SELECT " + text).expressions[0]


def bind_object_agg(binder, node: exp.Expression, condition: exp.Expression | None = None):
    """``jsonb_object_agg(k, v) [FILTER (WHERE condition)]``, bound as its expression."""
    name = CLASSES[type(node)]
    y, x = (node.this, node.expression) if not isinstance(node, exp.JSONObjectAgg) else \
        (tuple(node.expressions) + (None, None))[:2]
    if isinstance(y, exp.Distinct) or isinstance(x, exp.Distinct):
        raise errors.not_supported(f"DISTINCT in {name}", position=position_of(node))
    if y is None or x is None:
        raise errors.undefined_function(f"function {name} takes two arguments",
                                        position=position_of(node))
    # json_object_agg(k, v ORDER BY o): sqlglot hangs the ORDER BY on the last argument;
    # both arrays are ordered by it, so keys and values stay paired (a repeated key: the
    # last in that order wins, as in jsonb)
    keys = None
    if isinstance(x, exp.Order):
        keys, x = x.expressions, x.this

    def fill(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and not n.table:
            if n.name == _X:
                return exp.paren(x.copy())
            if n.name == _Y:
                return exp.paren(y.copy())
            if n.name == _F:
                return exp.paren(condition.copy()) if condition is not None else exp.true()
        return n

    def ordered(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.ArrayAgg):
            return exp.ArrayAgg(this=exp.Order(this=n.this, expressions=[k.copy() for k in keys]))
        return n
    tree = _template(name).copy().transform(fill)
    return binder.bind(tree.transform(ordered) if keys else tree)
