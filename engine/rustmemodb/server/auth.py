"""Password authentication for the wire server: SCRAM-SHA-256 via scramp.

Passwords are turned into SCRAM verifiers (salt, StoredKey, ServerKey, iterations:
what PostgreSQL keeps in pg_authid) when the server starts; the clear text is not
kept. An unknown user runs the same exchange against a random verifier, so a
client learns only "password authentication failed" (28P01) either way.
"""
from __future__ import annotations

import os

from .. import errors


def _mechanism():
    try:
        from scramp import ScramMechanism
    except ImportError as exc:   # optional extra: rustmemodb[server]
        raise errors.NotSupportedError(
            "SCRAM authentication needs the 'scramp' package",
            hint="pip install 'rustmemodb[server]'") from exc
    return ScramMechanism("SCRAM-SHA-256")


class Verifiers:
    """user name -> SCRAM auth info (salt, stored_key, server_key, iterations)."""

    def __init__(self, users: dict[str, str], iterations: int = 4096) -> None:
        self.mechanism = _mechanism()
        self._info = {name: self.mechanism.make_auth_info(pw, iteration_count=iterations)
                      for name, pw in users.items()}
        self._decoy = self.mechanism.make_auth_info(os.urandom(16).hex(),
                                                    iteration_count=iterations)

    def __contains__(self, user: str) -> bool:
        return user in self._info

    def server_for(self, user: str):
        """A scramp server exchange for ``user`` (a decoy one for unknown users)."""
        info = self._info.get(user, self._decoy)
        return self.mechanism.make_server(lambda _name: info)


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
