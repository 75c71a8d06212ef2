"""The plan node of a role or privilege statement (CREATE ROLE, GRANT, REVOKE, ...).

Like the DDL nodes (plan/ddl.py) it is decided at bind time and applied by the
executor (``exec/operators/auth.py`` → ``auth/statements.py``) inside the
statement's transaction. ``actor`` is who runs it, taken from the session when the
statement is bound (such plans are never cached): the role whose rights apply,
the logged-in role and user name, and ``password_encryption``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .logical import LogicalNode


@dataclass(frozen=True)
class Actor:
    role: str | None              # SET ROLE's role, else None
    auth_user: str | None         # the role logged in as (None: implicit superuser)
    user_name: str | None         # the user name the session reports
    settings: dict = field(default_factory=dict)


@dataclass
class LogicalRoleStatement(LogicalNode):
    statement: Any                # a sql/parse_roles.py statement
    actor: Any                    # Actor

    def describe(self) -> str:
        return self.statement.kind
