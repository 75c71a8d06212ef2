"""PostgreSQL's json has no equality or ordering operator: what needs one refuses it.

``json = json`` is refused by the comparison resolver (exec/functions/compare.py); this
covers what compares values without an operator the user wrote: DISTINCT, GROUP BY,
UNION/INTERSECT/EXCEPT (not ALL) and ORDER BY, which PostgreSQL refuses with 42883
"could not identify an equality (ordering) operator for type json". jsonb has both.
"""
from __future__ import annotations

from ... import errors, types


def _is_json_text(sql_type: str) -> bool:
    return sql_type == types.JSONT or sql_type == types.array_of(types.JSONT)


def require_equality(sql_types, position=None) -> None:
    """42883 when one of ``sql_types`` is json (or json[])."""
    for t in sql_types:
        if _is_json_text(t):
            raise errors.undefined_function(
                f"could not identify an equality operator for type {types.shown_type(t)}",
                position=position)


def require_ordering(sql_type: str, position=None) -> None:
    if _is_json_text(sql_type):
        raise errors.undefined_function(
            f"could not identify an ordering operator for type {types.shown_type(sql_type)}",
            position=position)
