"""Binding UNION / INTERSECT / EXCEPT (not implemented yet)."""
from ... import errors


def bind_set_operation(stmt, node, parent):
    raise errors.not_supported("UNION/INTERSECT/EXCEPT")
