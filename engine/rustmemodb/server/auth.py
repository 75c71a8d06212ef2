"""Password authentication for the wire server against the database's durable roles:
SCRAM-SHA-256 via scramp (the default), md5 and cleartext ``password`` when asked for.

The verifiers are the roles' own (``pg_authid.rolpassword`` format, auth/verifier.py),
read from the served database's current roles catalog at each login, so CREATE
ROLE / ALTER ROLE ... PASSWORD take effect for the next connection. As in
PostgreSQL: with ``md5`` configured a role whose password is stored as a SCRAM
verifier is asked for SCRAM instead (md5 cannot be checked against it); a role with
an md5-stored password (``password_encryption = md5``) cannot use SCRAM. An unknown
user runs the same exchange against a random verifier, so a client learns only
"password authentication failed" (28P01) either way; a role without LOGIN is 28000.
"""
from __future__ import annotations

import os

from .. import errors
from ..auth import verifier


def _mechanism():
    try:
        from scramp import ScramMechanism
    except ImportError as exc:   # optional extra: rustmemodb[server]
        raise errors.NotSupportedError(
            "SCRAM authentication needs the 'scramp' package",
            hint="pip install 'rustmemodb[server]'") from exc
    return ScramMechanism("SCRAM-SHA-256")


def ensure_users(database, users: dict[str, str], method: str) -> None:
    """The server's configured users (``--user``/``--password``, ``serve(users=...)``)
    as SUPERUSER LOGIN roles of the database: created if missing, their password set
    to the one given (the command line is authoritative) if present."""
    from dataclasses import replace

    from ..storage.roles import Role
    md5 = method == "md5"          # PostgreSQL's password_encryption = md5
    txn = database.begin()
    try:
        cat = txn.working.auth
        for name, password in users.items():
            role = cat.role(name)
            if role is not None and role.superuser and role.login and role.password \
                    and role.password.startswith("md5") == md5 \
                    and verifier.check_clear(role.password, name, password):
                continue                        # already as configured: nothing to log
            if role is None:
                role = Role(name, cat.next_oid)
            stored = verifier.make(password, name, "md5" if md5 else "scram-sha-256")
            cat = cat.with_role(replace(role, superuser=True, login=True, password=stored))
        if cat is not txn.working.auth:
            txn.set_auth(cat)
        database.commit(txn)
    except BaseException:
        database.end(txn)
        raise


class Verifiers:
    """Looks roles up in the served database's roles catalog at each login."""

    def __init__(self, database) -> None:
        self.database = database
        self.mechanism = _mechanism()
        self._decoy = self.mechanism.make_auth_info(os.urandom(16).hex(),
                                                    iteration_count=verifier.ITERATIONS)

    def role(self, user: str):
        return self.database.head.auth.role(user)

    def active(self) -> bool:
        return self.database.head.auth.active

    def stored(self, user: str) -> str | None:
        role = self.role(user)
        return role.password if role is not None else None

    def uses_scram(self, user: str) -> bool:
        """md5 configured: PostgreSQL switches to SCRAM for SCRAM-stored passwords."""
        return verifier.scram_info(self.stored(user)) is not None

    def server_for(self, user: str):
        """A scramp server exchange for ``user`` (a decoy one for unknown users)."""
        info = verifier.scram_info(self.stored(user)) or self._decoy
        return self.mechanism.make_server(lambda _name: info)

    def check_md5(self, user: str, salt: bytes, answer: str) -> bool:
        return verifier.check_md5_answer(self.stored(user), salt, answer)

    def check_password(self, user: str, password: str) -> bool:
        return verifier.check_clear(self.stored(user), user, password)


def set_client_first(server, client_first: str) -> None:
    """libpq sends an empty SCRAM user name (``n=,r=...``; the startup packet names the
    user). scramp rejects it, so parse a patched copy and then restore the exact bytes
    the client signed: the proof covers client-first-message-bare."""
    parts = client_first.split(",")
    if len(parts) > 2 and parts[2] == "n=":
        server.set_client_first(",".join(parts[:2] + ["n=pg"] + parts[3:]))
        server.client_first_bare = ",".join(parts[2:])
    else:
        server.set_client_first(client_first)
