"""Password verifiers exactly as PostgreSQL stores them in ``pg_authid.rolpassword``.

A role's password is never kept in clear: ``PASSWORD 'x'`` becomes a SCRAM-SHA-256
verifier ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` (base64
parts, 16-byte salt, 4096 iterations: PostgreSQL's defaults), or with
``password_encryption = md5`` the legacy ``md5`` + md5(password || user). A value
that already has one of these forms is stored as given (``pg_dump`` output).
The wire server's SCRAM exchange reads the same verifier (``scram_info``), so a
role created over SQL can log in over the wire and the other way round.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re

ITERATIONS = 4096
_SCRAM = re.compile(r"^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$")
_MD5 = re.compile(r"^md5[0-9a-f]{32}$")


def _prep(password: str) -> bytes:
    """SASLprep as PostgreSQL applies it: the prepared form if the password is valid for
    it, else the raw bytes (PostgreSQL falls back the same way)."""
    if password.isascii():
        return password.encode()
    try:
        from scramp.utils import saslprep
        return saslprep(password).encode()
    except Exception:   # noqa: BLE001 - not SASLprep-able, or scramp missing: raw bytes
        return password.encode()


def scram_verifier(password: str, salt: bytes | None = None,
                   iterations: int = ITERATIONS) -> str:
    salt = os.urandom(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", _prep(password), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = lambda b: base64.b64encode(b).decode()   # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def md5_verifier(password: str, user: str) -> str:
    return "md5" + hashlib.md5((password + user).encode()).hexdigest()


def is_verifier(text: str) -> bool:
    return bool(_SCRAM.match(text) or _MD5.match(text))


def make(password: str, user: str, method: str = "scram-sha-256") -> str:
    """What ``PASSWORD 'text'`` stores for role ``user``."""
    if is_verifier(password):
        return password
    if method == "md5":
        return md5_verifier(password, user)
    return scram_verifier(password)


def scram_info(verifier: str | None):
    """(salt, stored_key, server_key, iterations) as scramp wants them, or None if the
    verifier is not SCRAM (no password, or an md5 hash)."""
    m = _SCRAM.match(verifier or "")
    if m is None:
        return None
    d = base64.b64decode
    return d(m.group(2)), d(m.group(3)), d(m.group(4)), int(m.group(1))


def check_clear(verifier: str | None, user: str, password: str) -> bool:
    """Does a cleartext ``password`` match the stored verifier?"""
    if not verifier:
        return False
    info = scram_info(verifier)
    if info is not None:
        salt, stored_key, _server, iterations = info
        salted = hashlib.pbkdf2_hmac("sha256", _prep(password), salt, iterations)
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        return hmac.compare_digest(hashlib.sha256(client_key).digest(), stored_key)
    if _MD5.match(verifier):
        return hmac.compare_digest(md5_verifier(password, user), verifier)
    return False


def check_md5_answer(verifier: str | None, salt: bytes, answer: str) -> bool:
    """The md5 method: the client sends ``"md5" + md5(md5(password || user) || salt)``;
    only an md5-stored password can be checked that way."""
    if not verifier or not _MD5.match(verifier):
        return False
    expected = "md5" + hashlib.md5(verifier[3:].encode() + salt).hexdigest()
    return hmac.compare_digest(expected, answer)
