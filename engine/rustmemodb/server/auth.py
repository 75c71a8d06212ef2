"""Password authentication for the wire server: SCRAM-SHA-256 via scramp (the default),
md5 and cleartext ``password`` when asked for.

Passwords are turned into SCRAM verifiers (salt, StoredKey, ServerKey, iterations:
what PostgreSQL keeps in pg_authid) and md5 hashes (``md5(password || user)``, what
PostgreSQL's md5 method compares with) when the server starts; the clear text is not
kept. A cleartext password is checked against the SCRAM verifier. An unknown user runs the same exchange against a random verifier, so a
client learns only "password authentication failed" (28P01) either way.
"""
from __future__ import annotations

import hashlib
import hmac
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
        self._md5 = {name: hashlib.md5((pw + name).encode()).hexdigest()
                     for name, pw in users.items()}

    def __contains__(self, user: str) -> bool:
        return user in self._info

    def server_for(self, user: str):
        """A scramp server exchange for ``user`` (a decoy one for unknown users)."""
        info = self._info.get(user, self._decoy)
        return self.mechanism.make_server(lambda _name: info)


    def check_md5(self, user: str, salt: bytes, answer: str) -> bool:
        """The md5 method: the client sends ``"md5" + md5(md5(password || user) || salt)``."""
        inner = self._md5.get(user, os.urandom(16).hex())
        expected = "md5" + hashlib.md5(inner.encode() + salt).hexdigest()
        return hmac.compare_digest(expected, answer) and user in self._md5

    def check_password(self, user: str, password: str) -> bool:
        """A cleartext password against the user's SCRAM verifier."""
        salt, stored_key, _server_key, iterations = self._info.get(user, self._decoy)
        salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key) \
            and user in self._info


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
