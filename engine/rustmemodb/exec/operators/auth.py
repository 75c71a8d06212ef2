"""Operator of role and privilege statements: auth/statements.py applied in the txn."""
from __future__ import annotations

import pyarrow as pa

from ...plan.auth import LogicalRoleStatement
from ..run import operator

_NOTHING = pa.table({})


@operator(LogicalRoleStatement)
def role_statement(node: LogicalRoleStatement, ctx) -> pa.Table:
    from ...auth.statements import apply
    apply(node.statement, node.actor, ctx.txn)
    return _NOTHING
