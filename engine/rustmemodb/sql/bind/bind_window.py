"""Binding window functions and DISTINCT ON (not implemented yet)."""
from ... import errors


def bind_window_call(stmt, binder, node):
    raise errors.not_supported("window functions")


def bind_windows(stmt, plan, select_exprs, order_specs):
    raise errors.not_supported("window functions")


def bind_distinct_on(stmt, plan, on, names, select_exprs):
    raise errors.not_supported("DISTINCT ON")
