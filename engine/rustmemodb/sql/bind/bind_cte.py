"""Binding WITH [RECURSIVE] (not implemented yet)."""
from ... import errors


def bind_with(stmt, node, with_, parent):
    raise errors.not_supported("WITH queries")


def cte_plan(stmt, cte):
    raise errors.not_supported("WITH queries")
