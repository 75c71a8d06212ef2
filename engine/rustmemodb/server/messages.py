"""PostgreSQL protocol 3.0 framing: reading frontend messages, building backend ones.

Only bytes in, bytes out; no I/O and no engine. A frame that does not parse
raises ``ProtocolViolation`` (SQLSTATE 08P01), after which the connection is
closed: past a broken frame there is no way to find the next message.
"""
from __future__ import annotations

import struct

from .. import errors

_I32 = struct.Struct("!i")
_I16 = struct.Struct("!h")
_H = struct.Struct("!H")


class ProtocolViolation(errors.OperationalError):
    sqlstate = "08P01"


class Reader:
    """Bounds-checked reads from one message body."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _need(self, n: int) -> None:
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolViolation("invalid message format: truncated message")

    def int32(self) -> int:
        self._need(4)
        v = _I32.unpack_from(self.data, self.pos)[0]
        self.pos += 4
        return v

    def int16(self) -> int:
        self._need(2)
        v = _I16.unpack_from(self.data, self.pos)[0]
        self.pos += 2
        return v

    def int16s(self, n: int) -> list[int]:
        if not n:
            return []
        self._need(2 * n)
        v = list(struct.unpack_from(f"!{n}h", self.data, self.pos))
        self.pos += 2 * n
        return v

    def uint32(self) -> int:
        return self.int32() & 0xFFFFFFFF

    def byte(self) -> bytes:
        self._need(1)
        self.pos += 1
        return self.data[self.pos - 1:self.pos]

    def bytes(self, n: int) -> bytes:
        self._need(n)
        self.pos += n
        return self.data[self.pos - n:self.pos]

    def cstring(self) -> str:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise ProtocolViolation("invalid message format: unterminated string")
        text = self.data[self.pos:end]
        self.pos = end + 1
        try:
            return text.decode()
        except UnicodeDecodeError:
            raise ProtocolViolation("invalid byte sequence for encoding \"UTF8\"") from None

    def rest(self) -> bytes:
        out = self.data[self.pos:]
        self.pos = len(self.data)
        return out

    def count(self, what: str, limit: int = 65535) -> int:
        n = self.int16()
        if n < 0 or n > limit:
            raise ProtocolViolation(f"invalid message format: bad {what} count {n}")
        return n


def _truncated() -> ProtocolViolation:
    return ProtocolViolation("invalid message format: truncated message")


def _text(data: bytes) -> str:
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise ProtocolViolation("invalid byte sequence for encoding \"UTF8\"") from None


def parse_bind(data: bytes) -> tuple[str, str, list[int], list, list[int]]:
    """A Bind body: (portal, statement, parameter format codes, raw parameter values
    (bytes, None for NULL), result format codes). The same checks and messages as
    ``Reader``, in one function: Bind comes with every execution of a prepared
    statement."""
    size = len(data)
    a = data.find(b"\x00")
    b = data.find(b"\x00", a + 1) if a >= 0 else -1
    if b < 0:
        raise ProtocolViolation("invalid message format: unterminated string")
    portal, name = _text(data[:a]), _text(data[a + 1:b])
    pos = b + 1
    lists = []
    for what in ("parameter format", None, "result format"):
        if pos + 2 > size:
            raise _truncated()
        n = _I16.unpack_from(data, pos)[0]
        pos += 2
        if n < 0:
            raise ProtocolViolation(f"invalid message format: bad "
                                    f"{what or 'parameter'} count {n}")
        if what is not None:
            if pos + 2 * n > size:
                raise _truncated()
            lists.append(list(struct.unpack_from(f"!{n}h", data, pos)) if n else [])
            pos += 2 * n
            continue
        raw = []
        for _ in range(n):
            if pos + 4 > size:
                raise _truncated()
            length = _I32.unpack_from(data, pos)[0]
            pos += 4
            if length < 0:
                if length < -1:
                    raise ProtocolViolation(f"invalid parameter length {length}")
                raw.append(None)
                continue
            end = pos + length
            if end > size:
                raise _truncated()
            raw.append(data[pos:end])
            pos = end
        lists.append(raw)
    return portal, name, lists[0], lists[1], lists[2]


def frame(kind: bytes, payload: bytes = b"") -> bytes:
    return kind + _I32.pack(len(payload) + 4) + payload


def cstr(text: str) -> bytes:
    return text.encode() + b"\x00"


def auth(code: int, extra: bytes = b"") -> bytes:
    return frame(b"R", _I32.pack(code) + extra)


def parameter_status(name: str, value: str) -> bytes:
    return frame(b"S", cstr(name) + cstr(value))


def notification(pid: int, channel: str, payload: str) -> bytes:
    """NotificationResponse: a NOTIFY delivered to a listening client (LISTEN)."""
    return frame(b"A", struct.pack("!i", pid) + cstr(channel) + cstr(payload))


def backend_key(pid: int, secret: int) -> bytes:
    return frame(b"K", struct.pack("!ii", pid, secret))


# ReadyForQuery goes out after every Sync and Query: its three forms are built once.
_READY = {status: b"Z\x00\x00\x00\x05" + status for status in (b"I", b"T", b"E")}
# CommandComplete by tag: a workload repeats a few tags ("SELECT 1", "UPDATE 1") with
# every statement, so they are built once; bounded, since row counts vary.
_COMPLETE: dict[str, bytes] = {}


def ready(status: bytes) -> bytes:
    return _READY[status]


def command_complete(tag: str) -> bytes:
    message = _COMPLETE.get(tag)
    if message is None:
        message = frame(b"C", cstr(tag))
        if len(_COMPLETE) < 256:
            _COMPLETE[tag] = message
    return message


def row_description(fields: list[tuple]) -> bytes:
    """fields: (name, type oid, typlen, format code[, table oid, attnum])."""
    out = [_H.pack(len(fields))]
    for name, oid, typlen, fmt, *source in fields:
        table, attnum = source if source else (0, 0)
        out.append(cstr(name) + struct.pack("!ihihih", table, attnum, oid, typlen, -1, fmt))
    return frame(b"T", b"".join(out))


def parameter_description(oids: list[int]) -> bytes:
    return frame(b"t", _H.pack(len(oids)) + b"".join(struct.pack("!I", o) for o in oids))


def data_row(cells: list[bytes | None]) -> bytes:
    parts = [_H.pack(len(cells))]
    for c in cells:
        if c is None:
            parts.append(b"\xff\xff\xff\xff")
        else:
            parts.append(_I32.pack(len(c)))
            parts.append(c)
    return frame(b"D", b"".join(parts))


def error_fields(severity: str, sqlstate: str, message: str, detail: str | None = None,
                 hint: str | None = None, position: int | None = None,
                 where: str | None = None) -> bytes:
    parts = [b"S" + cstr(severity), b"V" + cstr(severity), b"C" + cstr(sqlstate),
             b"M" + cstr(message)]
    if detail:
        parts.append(b"D" + cstr(detail))
    if hint:
        parts.append(b"H" + cstr(hint))
    if position is not None:
        parts.append(b"P" + cstr(str(position)))
    if where:
        parts.append(b"W" + cstr(where))
    return b"".join(parts) + b"\x00"


def error_response(exc: BaseException, severity: str = "ERROR") -> bytes:
    if isinstance(exc, errors.Error):
        pos = exc.position + 1 if exc.position is not None else None   # 1-based on the wire
        body = error_fields(severity, exc.sqlstate or "XX000", exc.message, exc.detail,
                            exc.hint, pos, getattr(exc, "where", None))
    else:
        body = error_fields(severity, "XX000", f"internal error: {type(exc).__name__}: {exc}")
    return frame(b"E", body)


def notice(message: str, sqlstate: str = "00000", severity: str = "NOTICE") -> bytes:
    return frame(b"N", error_fields(severity, sqlstate, message))


PARSE_COMPLETE = frame(b"1")
BIND_COMPLETE = frame(b"2")
CLOSE_COMPLETE = frame(b"3")
NO_DATA = frame(b"n")
EMPTY_QUERY = frame(b"I")
PORTAL_SUSPENDED = frame(b"s")
