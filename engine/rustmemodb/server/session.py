"""One client connection of the wire server: startup, authentication, the message loop.

Each client gets its own engine ``Connection`` (one engine session) on the
database its startup packet names. Engine calls are synchronous, so they run on
the server's worker threads while this coroutine waits: the event loop keeps
serving other clients, CancelRequests and slow readers meanwhile. Messages of
one client are handled strictly in order, which is all the protocol asks for.

Extended query state follows PostgreSQL: named and unnamed statements and
portals; Describe never executes (a statement is planned at Parse, which also
infers the types of its parameters, for clients such as asyncpg that Describe
before they Bind); after an error every message up to Sync is skipped.

Results go out a batch at a time (``ResultRows``, ``_send_rows``), waiting on the
socket as its buffer fills, so a slow reader costs a bounded buffer. A point SELECT
with a cached plan runs on the loop itself (a thread hop costs more than it does), and
so does an autocommit point write, whose fsync is awaited off the loop (durable.py).
Messages already received are parsed without awaiting, and a prepared point
statement's Bind [Describe] Execute Sync that arrived together (what drivers send for
each execution) runs as one step (``_point_group``): one reply, one socket write. Such
a group, or a Query of one point SELECT, arriving alone while the session waits for
input is answered in the read callback itself (``Protocol``, ``_answer_now``), without
waking this coroutine; a point write's reply then goes out when its fsync is done
(``_acked``), and input arriving meanwhile is held until then. A prepared point
SELECT's group whose fixed bytes match the ones kept with its statement is answered in
one step, without even that (``_read_now``, fastread.py).
``COPY ... FROM STDIN / TO STDOUT`` switches to the copy sub-protocol (copy.py);
notices a statement raised go out before its CommandComplete.
"""
from __future__ import annotations

import asyncio
import contextvars
import datetime as _dt
import os
import re
from dataclasses import dataclass, field

from .. import errors, types
from ..api.cursor import arrow_to_rows, rows_to_python
from ..api.guard import as_db_error
from ..auth.role_settings import apply_at_login
from ..sql.split import split_statements
from . import copy
from . import cursors
from . import messages as m
from . import pgtypes
from .auth import set_client_first
from .durable import ReplyLost
from .fastread import BindShape, PreparedRead, PreparedWrite, RowWriter
from .messages import _I32, ProtocolViolation, Reader

SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST, PROTOCOL_3 = 80877103, 80877104, 80877102, 196608
MAX_STARTUP = 10_000
_FRONTEND_TYPES = frozenset(b"QPBDECSHXFdcfp")
_DISCARD_ALL = re.compile(r"^\s*DISCARD\s+ALL\s*;?\s*$", re.I)
_DEALLOCATE = re.compile(r"^\s*DEALLOCATE\s+(?:PREPARE\s+)?(\w+|\"[^\"]+\")\s*;?\s*$", re.I)
_TXN_CONTROL = re.compile(r"^\s*(BEGIN|START|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|"
                          r"PREPARE\s+TRANSACTION)\b", re.I)
# Transaction control a light transaction runs on the loop (``_run_engine``); not the
# two-phase COMMIT/ROLLBACK PREPARED, which go to a worker thread as before.
_LIGHT_CONTROL = re.compile(r"^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK|ABORT|"
                            r"SAVEPOINT|RELEASE)\b(?!\s+PREPARED\b)", re.I)
_TO_SAVEPOINT = re.compile(r"^\s*ROLLBACK(?:\s+(?:WORK|TRANSACTION))?\s+TO\b", re.I)
_OPENS = frozenset(("BEGIN", "START"))
_ENDS = frozenset(("COMMIT", "END", "ROLLBACK", "ABORT"))
# Point statements a light transaction may run on the loop: its COMMIT (which, READ
# COMMITTED, may run them again) stays a bounded stall of the loop.
LIGHT_STATEMENTS = 64
_X, _S, _B, _D, _E = ord("X"), ord("S"), ord("B"), ord("D"), ord("E")
# What follows a Bind of the unnamed portal in a point group (_point_group): Describe of
# that portal (optional), Execute of it with no row limit, Sync.
_EXECUTE_SYNC = b"E\x00\x00\x00\x09\x00\x00\x00\x00\x00" + b"S\x00\x00\x00\x04"
_DESCRIBE_EXECUTE_SYNC = b"D\x00\x00\x00\x06P\x00" + _EXECUTE_SYNC
_EXECUTE_LEN, _DESCRIBE_LEN = len(_EXECUTE_SYNC), len(_DESCRIBE_EXECUTE_SYNC)
_READY_IDLE = m.ready(b"I")
_FORMAT_CODES = frozenset((0, 1))      # text and binary: all the protocol defines
_COUNTED = ("SELECT", "UPDATE", "DELETE", "MERGE", "COPY", "FETCH", "MOVE")


@dataclass
class Statement:
    sql: str
    param_oids: list[int]
    param_types: list[str]
    columns: list | None          # [(name, engine type)] or None (no rows)
    empty: bool = False
    # The engine's result columns when ``columns`` describes some as their table columns
    # were declared (int4, numeric, ...: ``_declared_widths``), else None.
    engine_columns: list | None = None
    # RowDescription messages by result formats: a client describing the same
    # statement for every execution (libpq does) gets them from here.
    descriptions: dict = field(default_factory=dict)
    # Per result column, (table oid, attnum) of the table column it passes through, or
    # None (RowDescription's fields: pgjdbc's getTableName, isNullable...).
    sources: list | None = None
    # An ordinary statement for the engine (not DEALLOCATE, a cursor statement or COPY):
    # Execute skips those checks, made once at Parse.
    plain: bool = False
    # fastread.RowWriter by result formats, for point SELECTs (_point_rows).
    encoders: dict = field(default_factory=dict)
    # A point statement's Bind decoded in one step, once made (fastread.PreparedRead:
    # a key probe's whole answer; PreparedWrite: a point write's parameters); False
    # when it cannot be (an unsupported format).
    fast: object = None


@dataclass
class Portal:
    statement: Statement
    params: list
    result_formats: list[int]
    columns: list | None = None
    rows: "ResultRows | None" = None
    tag: str = ""
    done: bool = False
    executed: bool = False


@dataclass
class _Outcome:
    columns: list | None
    rows: list | None
    tag: str
    extra: dict = field(default_factory=dict)


def command_tag(kind: str, rowcount: int) -> str:
    n = max(rowcount, 0)
    if kind == "INSERT":
        return f"INSERT 0 {n}"
    if kind in _COUNTED:
        return f"{kind} {n}"
    return kind or "OK"


def _formats(codes: list[int], n: int, what: str) -> list[int]:
    if not codes:
        return [0] * n
    if len(codes) == 1:
        return codes * n
    if len(codes) != n:
        raise ProtocolViolation(f"bind message has {len(codes)} {what} formats but {n} {what}s")
    return codes


class Protocol(asyncio.StreamReaderProtocol):
    """asyncio's stream protocol (the session reads and writes through its reader and
    writer), except that a prepared point statement's Bind [Describe] Execute Sync (or a
    Query of one point SELECT) that arrives whole while the session waits for input is
    answered in the callback that received it (``ClientSession._answer_now``). Anything
    else goes to the reader."""

    session: "ClientSession | None" = None
    # Input received while a point write answered here waits for its fsync: held, and
    # handled once its reply is out (``release``), so replies keep the messages' order.
    held: list | None = None
    eof_held = False

    def data_received(self, data: bytes) -> None:
        session = self.session
        if session is None:
            return super().data_received(data)
        durability = session.server.durability
        if durability.probe is not None:
            # Commits wait for the fsync helper: what it made durable is published
            # before this message is handled (it may come from a client the helper
            # already acknowledged a commit to), and a session whose reply the helper
            # sent may go on.
            durability.probe()
        if session._parked:
            if session._acking is not None:
                if session._lost is None:
                    self.held.append(data)
                    return
                session._reply_arrived()   # (input after a reply of unknown fate)
            if session._answer_now(data):
                return                   # (the next message's probe takes what follows)
            session._parked = False      # the reader has input: the message loop runs
        super().data_received(data)

    def eof_received(self):
        session = self.session
        if session is not None and session._acking is not None:
            self.eof_held = True         # after the held input
            return True
        return super().eof_received()

    def release(self) -> None:
        """A point write's reply went out: what arrived meanwhile, in order."""
        held, self.held = self.held or [], []
        session = self.session
        for i, data in enumerate(held):
            self.data_received(data)
            if session is not None and session._acking is not None:   # waits again
                self.held[:0] = held[i + 1:]
                return
        if self.eof_held:
            self.eof_held = False
            super().eof_received()       # (never over TLS here: it returns True)


# ParameterStatus names PostgreSQL 15 reports (GUC_REPORT) and the settings they show.
_REPORTED = (("application_name", "application_name"), ("client_encoding", "client_encoding"),
             ("DateStyle", "datestyle"), ("IntervalStyle", "intervalstyle"),
             ("standard_conforming_strings", "standard_conforming_strings"),
             ("session_authorization", "session_authorization"),
             ("default_transaction_read_only", "default_transaction_read_only"),
             ("in_hot_standby", "in_hot_standby"))

# Startup packet keys that are not parameters (``options`` is read by parse_options).
_NOT_SETTINGS = frozenset({"user", "database", "options", "replication"})


def parse_options(text: str) -> list[tuple[str, str]]:
    """The ``options`` startup parameter as PostgreSQL reads it: words split at blanks
    (a backslash keeps the next character, blank or not), each ``-c name=value``,
    ``-cname=value`` or ``--name=value``; 42601 for any other switch."""
    words, word, escaped, started = [], [], False, False
    for ch in text:
        if escaped:
            word.append(ch)
            escaped, started = False, True
        elif ch == "\\":
            escaped = True
        elif ch.isspace():
            if started:
                words.append("".join(word))
                word, started = [], False
        else:
            word.append(ch)
            started = True
    if started or escaped:
        words.append("".join(word))
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w == "-c" and i + 1 < len(words):
            setting = words[i + 1]
            i += 2
        elif w.startswith("-c") and len(w) > 2:
            setting, i = w[2:], i + 1
        elif w.startswith("--") and len(w) > 2:
            setting, i = w[2:], i + 1
        else:
            raise errors.sql_error("42601", f"invalid command-line argument for server "
                                            f"process: {w}",
                                   hint='Try "postgres --help" for more information.')
        name, eq, value = setting.partition("=")
        if not eq:
            raise errors.sql_error("42601", f"-c {name} requires a value")
        out.append((name.replace("-", "_"), value))
    return out


class ClientSession:
    def __init__(self, server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.out = bytearray()
        self.conn = None
        self.pid = 0
        self._reported: dict[str, str] = {}   # ParameterStatus values the client has
        self.secret = 0
        self.busy = False
        self.user = ""
        self.params: dict[str, str] = {}
        self.statements: dict[str, Statement] = {}
        self.portals: dict[str, Portal] = {}
        self.skip_until_sync = False
        self.encrypted = False
        # Bytes received and not yet parsed: one socket read usually brings a client's
        # whole Bind/Describe/Execute/Sync group, parsed here without awaiting each frame.
        self._inbuf = bytearray()
        self._inpos = 0
        # Extended protocol: Executes up to the next Sync outside BEGIN form one implicit
        # transaction (PostgreSQL), committed at Sync, rolled back there after an error.
        self.implicit = False
        # The explicit transaction this session began on the loop and has run only
        # point statements in since (``_light``, how many), or None (``_run_engine``).
        self._light_txn = None
        self._light = 0
        self.cursors: dict[str, cursors.Cursor] = {}     # DECLAREd, by name
        # Whether the message loop waits for input with nothing received unparsed: only
        # then may the protocol answer a point SELECT as it arrives (_answer_now).
        self._parked = False
        # A point write answered by _answer_now whose fsync is awaited: its future.
        self._acking: asyncio.Future | None = None
        # The socket's descriptor, for the fsync helper to send a durable point write's
        # reply itself (``_point_write``); -1: not a plain socket. ``_handed``: it did.
        sock = writer.get_extra_info("socket")
        try:
            self._fd = sock.fileno() if sock is not None else -1
        except (AttributeError, OSError):
            self._fd = -1
        self._handed = False
        self._lost = None            # timer: a reply the dying helper may not have sent
        self._protocol = writer.transport.get_protocol()
        if isinstance(self._protocol, Protocol):
            self._protocol.session = self
            self._protocol.held = []
        else:
            self._protocol = None

    # ---- plumbing ------------------------------------------------------------------------
    async def flush(self) -> None:
        if self._write():
            await self.writer.drain()

    def _reply(self) -> bool:
        """At the end of a reply (ReadyForQuery): ``_write``, unless another whole
        message has already been received, which then runs first, its reply joining
        this one in the same socket write (a pipelining client's Syncs cost one write
        per batch read, not one each). Nothing waits meanwhile: whatever awaits a
        thread, an fsync or input writes what is buffered first (``call``,
        ``_execute_here``, ``read_message``)."""
        buf, pos = self._inbuf, self._inpos
        if (len(buf) - pos >= 5 and len(self.out) < FLUSH_AT
                and pos + 1 + _I32.unpack_from(buf, pos + 1)[0] <= len(buf)):
            return False
        return self._write()

    def _write(self) -> bool:
        """Hand the buffered messages to the socket in one write; whether the caller
        must then wait on ``drain`` (the transport kept bytes the socket would not take,
        or the connection is going away and ``drain`` raises). A reply the socket takes
        whole, the common case, costs no coroutine."""
        if self.out:
            self.writer.write(bytes(self.out))
            self.out.clear()
        transport = self.writer.transport
        return bool(transport.get_write_buffer_size()) or transport.is_closing()

    async def call(self, fn, *args):
        """Run a blocking engine call on a worker thread (the loop keeps serving)."""
        if self.out:                     # replies held for a batch (_reply) go first
            self._write()
        self.busy = True
        session = self.conn._session if self.conn is not None else None
        if session is not None:          # a write race may sleep before its re-run here
            fn, args = _off_loop, (session, fn, *args)
        try:
            # in this connection's context: its TimeZone (pgtypes.WIRE_ZONE) goes along
            return await asyncio.get_running_loop().run_in_executor(
                self.server.executor, contextvars.copy_context().run, fn, *args)
        finally:
            self.busy = False

    def status(self) -> bytes:
        """The transaction status for ReadyForQuery; first reports a TimeZone the last
        statement changed (ParameterStatus, as PostgreSQL reports it)."""
        session = self.conn._session if self.conn is not None else None
        if session is None:
            return b"I"
        if session.cancel_event.zone is not self._zone:
            self._zone_changed(session)
        if session.settings_changed:
            self._report(session)
        txn = session.txn
        if txn is None:
            if session.backend.inbox:    # NOTIFYs go out between transactions (PostgreSQL)
                self.out += self._notifications(session.backend)
            return b"I"
        return b"E" if txn.failed else b"T"

    @staticmethod
    def _notifications(backend) -> bytes:
        """NotificationResponse messages of what was delivered to this session."""
        out = bytearray()
        inbox = backend.inbox
        while inbox:
            note = inbox.popleft()
            out += m.notification(note.pid, note.channel, note.payload)
        backend.arrived.clear()
        return bytes(out)

    def _wake(self) -> None:
        """On the loop, after another session's COMMIT delivered NOTIFYs here: sent now if
        this client is idle between transactions waiting for input, else with its next
        ReadyForQuery (``status``)."""
        conn = self.conn
        if conn is None or not self._parked or self._acking is not None or self.out:
            return
        session = conn._session
        if session.txn is not None or not session.backend.inbox:
            return
        transport = self.writer.transport
        if not transport.is_closing():
            transport.write(self._notifications(session.backend))

    _zone = _dt.timezone.utc

    def _zone_changed(self, session) -> None:
        self._zone = zone = session.cancel_event.zone
        pgtypes.WIRE_ZONE.set(zone)
        self.out += m.parameter_status("TimeZone", session.settings.get("timezone", "UTC"))

    def _reportable(self, session) -> dict[str, str]:
        """The GUC_REPORT parameters PostgreSQL 15 tells a client about, as this
        session has them (TimeZone aside: ``_zone_changed``)."""
        from ..utility import setting_value
        values = {name: setting_value(session, key) or "" for name, key in _REPORTED}
        values["is_superuser"] = setting_value(session, "is_superuser") or "off"
        return values

    def _report(self, session) -> None:
        """ParameterStatus for every reported parameter the last statement changed (SET,
        RESET, SET SESSION AUTHORIZATION, a ROLLBACK undoing them), as PostgreSQL
        sends it before ReadyForQuery: psycopg's ``info.parameter_status``, pgjdbc's
        and asyncpg's settings follow."""
        session.settings_changed = False
        for name, value in self._reportable(session).items():
            if self._reported.get(name) != value:
                self._reported[name] = value
                self.out += m.parameter_status(name, value)

    def _startup_settings(self, session) -> None:
        """What the startup packet sets besides its user and database, applied as
        PostgreSQL applies it, after the role's own settings (ALTER ROLE ... SET): the
        switches in ``options`` (``-c name=value``, ``--name=value``: a connection
        string's ``options=-c search_path=app``), then every other key (asyncpg's
        ``server_settings``, pgjdbc's DateStyle and extra_float_digits), each as SET
        would. An unknown parameter or a bad value refuses the login (FATAL 42704 /
        22023), as in PostgreSQL. TimeZone (``_startup_zone``), application_name and
        client_encoding (the server speaks UTF8 whatever a client's locale says) keep
        their own handling."""
        from ..utility import run_set
        pairs = parse_options(self.params.get("options", ""))
        pairs += [(k, v) for k, v in self.params.items() if k.lower() not in _NOT_SETTINGS]
        # what RESET returns to: the session's starting values, the role's overridden
        starts = dict(getattr(session, "start_values", None) or {})
        for name, value in pairs:
            low = name.lower()
            if low in ("timezone", "client_encoding"):
                continue
            if low == "application_name" or not value.strip():
                session.settings[low] = value
            else:
                run_set(session, f"{low} = {value}")
            starts[low] = value
        if starts:
            session.start_values = starts

    def _startup_zone(self, session) -> None:
        """A TimeZone in the startup packet (pgjdbc sends the JVM's) applies as SET would;
        one the engine does not know leaves UTC (PostgreSQL would refuse the login)."""
        zone = self.params.get("TimeZone") or self.params.get("timezone")
        if not zone:
            return
        try:
            self.conn.execute("SET TIME ZONE '" + zone.replace("'", "''") + "'")
        except errors.Error:
            return
        self._zone = session.cancel_event.zone
        pgtypes.WIRE_ZONE.set(self._zone)

    async def read_message(self) -> tuple[int, bytes]:
        buf = self._inbuf
        while True:
            message = self._take_message()
            if message is not None:
                return message
            if self._inpos:
                del buf[:self._inpos]
                self._inpos = 0
            if self.out:                 # replies held for a batch (_reply) never wait
                self._write()            # for input
            data = await self.reader.read(1 << 16)
            if not data:
                raise asyncio.IncompleteReadError(bytes(buf), None)
            buf += data

    def _take_message(self) -> tuple[int, bytes] | None:
        """The next message if it has been received whole, else None (nothing awaited:
        a client's Bind/Describe/Execute/Sync group, read at once, is parsed here)."""
        buf = self._inbuf
        pos = self._inpos
        if len(buf) - pos < 5:
            return None
        kind = buf[pos]
        length = _I32.unpack_from(buf, pos + 1)[0]
        # Checked before the body arrives: a hostile length never makes us wait
        # for (or buffer) gigabytes.
        if kind not in _FRONTEND_TYPES:
            raise ProtocolViolation(f"invalid frontend message type {kind}")
        if length < 4 or length - 4 > self.server.max_message_size:
            raise ProtocolViolation(f"invalid message length {length}")
        end = pos + 1 + length
        if end > len(buf):
            return None
        body = bytes(buf[pos + 5:end])
        if end == len(buf):
            buf.clear()
            self._inpos = 0
        else:
            self._inpos = end
        return kind, body

    # ---- life ------------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            if await self.startup():
                await self.serve()
        except ProtocolViolation as exc:
            self.out += m.error_response(exc, "FATAL")
            await self._try_flush()
        except errors.Error as exc:            # startup failures: auth, unknown database
            self.out += m.error_response(exc, "FATAL")
            await self._try_flush()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._parked = False
            if self._protocol is not None:    # input held for this session is dropped
                self._protocol.session = None
            if self._acking is not None:      # a commit in flight: finished before close
                try:
                    await asyncio.shield(self._acking)
                except BaseException:  # noqa: BLE001 - the client is gone; nobody to tell
                    pass
            if self._handed:                  # the fsync helper lets its socket go
                self.server.durability.forget(self.pid)
            self.server._forget(self)
            if self.conn is not None:
                conn, self.conn = self.conn, None
                conn.interrupt()
                try:   # a vanished client's open transaction is rolled back here
                    await asyncio.get_running_loop().run_in_executor(self.server.executor,
                                                                     conn.close)
                except (RuntimeError, asyncio.CancelledError):   # loop/executor shutting down
                    conn.close()
            try:
                self.writer.close()
            except Exception:   # noqa: BLE001 - the socket may already be gone
                pass

    async def _try_flush(self) -> None:
        try:
            await asyncio.wait_for(self.flush(), 5)
        except (ConnectionError, asyncio.TimeoutError):
            pass

    async def startup(self) -> bool:
        for _ in range(3):    # SSLRequest / GSSENCRequest may precede the startup packet
            head = await self.reader.readexactly(4)
            length = int.from_bytes(head, "big", signed=True)
            if length < 8 or length > MAX_STARTUP:
                raise ProtocolViolation(f"invalid length of startup packet {length}")
            r = Reader(await self.reader.readexactly(length - 4))
            code = r.int32()
            if code == SSL_REQUEST and self.server.tls is not None and not self.encrypted:
                self.writer.write(b"S")
                await self.writer.drain()
                await self.writer.start_tls(self.server.tls)
                self.encrypted = True
                continue
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                self.writer.write(b"N")   # not offered (GSSAPI never): continue in clear
                await self.writer.drain()
                continue
            if code == CANCEL_REQUEST:
                pid, secret = r.int32(), r.int32()
                self.server._cancel(pid, secret)
                return False
            if code != PROTOCOL_3:
                raise errors.sql_error("0A000", f"unsupported frontend protocol {code >> 16}."
                                                f"{code & 0xFFFF}: server supports 3.0")
            while True:
                key = r.cstring()
                if not key:
                    break
                self.params[key] = r.cstring()
            break
        else:
            raise ProtocolViolation("too many SSL/GSSENC requests")
        self.user = self.params.get("user", "")
        if not self.user:
            raise errors.sql_error("28000", "no PostgreSQL user name specified in startup packet")
        database = self.server._resolve(self.params.get("database") or self.user, self.user)
        await self.authenticate()
        role = self._login_role()
        self.conn = database.connect()
        self.pid, self.secret = self.server._register(self)
        engine_session = self.conn._session          # current_user, current_database()
        engine_session.user_name = self.user
        engine_session.auth_user = role              # privileges apply (auth/check.py)
        apply_at_login(engine_session, self.server.database.head.auth, role)   # ALTER ROLE SET
        engine_session.database_name = self.params.get("database") or self.user
        engine_session.backend_pid = self.pid
        # PostgreSQL's default isolation for a client's transactions (the server's
        # ``default_isolation``); the statements this session runs on the loop re-run a
        # lost write race at once (``call`` runs the others off it)
        engine_session.boot_isolation = self.server.default_isolation
        engine_session.on_loop = True
        self._describe_backend(engine_session.backend)   # pg_stat_activity, NOTIFY
        engine_session.open_cursors = self._open_cursors   # pg_cursors
        superuser = role is None or self.server.database.head.auth.is_superuser(role)
        self._startup_settings(engine_session)
        self._startup_zone(engine_session)
        # pg_settings.source 'client' for what the startup packet set (as PostgreSQL)
        engine_session.client_settings = {n: engine_session.settings[n] for n in (
            "application_name", "timezone") if n in engine_session.settings}
        status = self.server.parameter_status(self.params, superuser)
        status.update(self._reportable(engine_session))   # after the role's and startup's
        status["TimeZone"] = engine_session.settings.get("timezone", "UTC")
        self._reported = dict(status)
        engine_session.settings_changed = False
        for name, value in status.items():
            self.out += m.parameter_status(name, value)
        self.out += m.backend_key(self.pid, self.secret)
        self.out += m.ready(b"I")
        await self.flush()
        return True

    def _describe_backend(self, backend) -> None:
        """What pg_stat_activity and inet_client_addr() show of this client, and how
        pg_terminate_backend ends it (from any thread: on the loop, FATAL 57P01)."""
        transport = self.writer.transport
        for attr, key in (("client", "peername"), ("server", "sockname")):
            address = transport.get_extra_info(key)
            if isinstance(address, tuple) and len(address) >= 2:
                setattr(backend, attr, (str(address[0]), int(address[1])))
        backend.application_name = self.params.get("application_name", "")
        loop = asyncio.get_running_loop()
        backend.terminate = lambda: loop.call_soon_threadsafe(self._terminate)
        backend.wake = lambda: loop.call_soon_threadsafe(self._wake)

    def _terminate(self) -> None:
        """pg_terminate_backend: the client is told FATAL 57P01 and disconnected; its
        open transaction rolls back as for any vanished client (``run``)."""
        transport = self.writer.transport
        if transport.is_closing():
            return
        if self.out:
            self._write()
        transport.write(m.error_response(errors.sql_error(
            "57P01", "terminating connection due to administrator command"), "FATAL"))
        transport.close()

    def _login_role(self) -> str | None:
        """The role this connection runs as once authenticated: None when the served
        database has no roles (the implicit superuser); 28000 for a role without LOGIN
        (or, under trust, an unknown role)."""
        from ..auth.login import check_login, expired, failed
        cat = self.server.database.head.auth
        if not cat.active:
            return None
        role = cat.role(self.user)
        if role is None:
            raise errors.sql_error("28000", f'role "{self.user}" does not exist')
        if self.server.verifiers is not None and expired(role):   # VALID UNTIL passed
            raise failed(self.user)
        check_login(role)
        if role.connlimit >= 0 and not role.superuser:
            open_now = sum(1 for s in list(self.server._sessions.values())
                           if s is not self and s.user == role.name and s.conn is not None)
            if open_now >= role.connlimit:
                raise errors.sql_error("53300", f'too many connections for role "{role.name}"')
        return role.name

    async def authenticate(self) -> None:
        verifiers = self.server.verifiers
        if verifiers is None:                   # trust (only ever on loopback)
            self.out += m.auth(0)
            return
        fail = errors.sql_error("28P01", f'password authentication failed for user "{self.user}"')
        method = self.server.auth
        if method == "md5" and verifiers.uses_scram(self.user):
            method = "scram-sha-256"            # PostgreSQL does the same for SCRAM secrets
        if method in ("md5", "password"):
            salt = os.urandom(4)
            self.out += m.auth(5, salt) if method == "md5" else m.auth(3)
            await self.flush()
            kind, body = await self.read_message()
            if kind != ord("p"):
                raise ProtocolViolation("expected password response")
            answer = Reader(body).cstring()
            ok = (verifiers.check_md5(self.user, salt, answer) if method == "md5"
                  else verifiers.check_password(self.user, answer))
            if not ok:
                raise fail
            self.out += m.auth(0)
            return
        scram = verifiers.server_for(self.user)
        self.out += m.auth(10, b"SCRAM-SHA-256\x00\x00")
        await self.flush()
        kind, body = await self.read_message()
        if kind != ord("p"):
            raise ProtocolViolation("expected SASL response")
        r = Reader(body)
        if r.cstring() != "SCRAM-SHA-256":
            raise errors.sql_error("28000", "client selected an invalid SASL authentication "
                                            "mechanism")
        n = r.int32()
        first = r.bytes(n).decode("utf-8", "replace") if n >= 0 else ""
        try:
            set_client_first(scram, first)
            self.out += m.auth(11, scram.get_server_first().encode())
            await self.flush()
            kind, body = await self.read_message()
            if kind != ord("p"):
                raise ProtocolViolation("expected SASL response")
            scram.set_client_final(body.decode("utf-8", "replace"))
            final = scram.get_server_final()
        except ProtocolViolation:
            raise
        except Exception:   # noqa: BLE001 - any SCRAM failure is the same 28P01 to the client
            raise fail from None
        if verifiers.role(self.user) is None:   # a decoy verifier cannot pass; be sure
            raise fail
        self.out += m.auth(12, final.encode())
        self.out += m.auth(0)

    # ---- message loop ----------------------------------------------------------------------
    async def serve(self) -> None:
        handlers = {ord("Q"): self.on_query, ord("P"): self.on_parse,
                    ord("E"): self.on_execute}
        # Bind, Describe and Close never wait: plain calls, no coroutine each.
        immediate = {ord("B"): self.on_bind, ord("D"): self.on_describe,
                     ord("C"): self.on_close}
        while True:
            message = self._take_message()
            if message is None:
                message = await self._next_message()
            kind, body = message
            if kind == _B and not self.skip_until_sync:
                buf, pos = self._inbuf, self._inpos
                describe = buf.startswith(_DESCRIBE_EXECUTE_SYNC, pos)
                if ((describe or buf.startswith(_EXECUTE_SYNC, pos))
                        and self._read_now(body, 0, len(body), describe)):
                    end = pos + (_DESCRIBE_LEN if describe else _EXECUTE_LEN)
                    if end == len(buf):
                        buf.clear()
                        self._inpos = 0
                    else:
                        self._inpos = end
                    if self._reply():
                        await self.writer.drain()
                    continue
                group = self._point_group(body)
                if group is not None:
                    await self._run_point_group(*group)
                    continue
            handler = immediate.get(kind)
            if handler is not None:
                if self.skip_until_sync:
                    continue
                try:
                    handler(Reader(body))
                except ProtocolViolation:
                    raise
                except Exception as exc:  # noqa: BLE001 - errors.Error or an engine bug
                    self._fail(exc)
                continue
            handler = handlers.get(kind)
            if handler is not None:
                if self.skip_until_sync:
                    continue
                try:
                    await handler(Reader(body))
                except ProtocolViolation:
                    raise
                except errors.Error as exc:
                    self._fail(exc)
                except Exception as exc:  # noqa: BLE001 - an engine bug is this statement's error
                    self._fail(exc)
                if len(self.out) > 1 << 20:
                    await self.flush()
                continue
            if kind == _X:
                return
            if kind == _S:
                self.skip_until_sync = False
                if self.implicit:
                    await self._end_implicit()
                if self.status() == b"I":
                    self.portals.clear()       # portals end with their transaction
                    if self.cursors:
                        self._forget_cursors()
                self.out += m.ready(self.status())
                if self._reply():
                    await self.writer.drain()
                continue
            if kind == ord("H"):
                await self.flush()
                continue
            if kind in (ord("d"), ord("c"), ord("f")):   # COPY sub-protocol outside COPY: ignored
                continue
            if kind == ord("F"):
                if not self.skip_until_sync:
                    self._fail(errors.sql_error("0A000", "the function call protocol message "
                                                         "is not supported"))
                continue
            raise ProtocolViolation("unexpected SASL response after authentication")

    async def _next_message(self) -> tuple[int, bytes]:
        """The next message; inside a transaction, waiting at most
        ``idle_in_transaction_session_timeout`` (then FATAL 25P03, as PostgreSQL)."""
        limit = self._idle_limit() if self.status() != b"I" else 0
        if not limit:
            self._parked = True
            try:
                return await self.read_message()
            finally:
                self._parked = False
        try:
            return await asyncio.wait_for(self.read_message(), limit / 1000)
        except asyncio.TimeoutError:
            raise errors.sql_error("25P03", "terminating connection due to "
                                            "idle-in-transaction timeout") from None

    def _idle_limit(self) -> int:
        text = self.conn._session.settings.get("idle_in_transaction_session_timeout")
        if not text or text == "0":
            return 0
        from ..statement_limits import parse_timeout
        return parse_timeout(text, "idle_in_transaction_session_timeout")

    def _fail(self, exc: BaseException) -> None:
        self.out += m.error_response(exc)
        self.skip_until_sync = True

    # ---- simple query ------------------------------------------------------------------------
    async def on_query(self, r: Reader) -> None:
        sql = r.cstring()
        if self._query_now(sql):
            if self._reply():
                await self.writer.drain()
            return
        pieces = split_statements(sql) if sql.strip() else []
        if not pieces:
            self.out += m.EMPTY_QUERY
        # As PostgreSQL: several statements in one Query run as one implicit transaction
        # (all or nothing) unless they manage transactions themselves.
        implicit = (len(pieces) > 1 and self.status() == b"I"
                    and not any(_TXN_CONTROL.match(text) for text, _ in pieces))
        if implicit:
            await self.call(self.conn.begin)
        failed = False
        for text, offset in pieces:
            try:
                outcome = await self._run(text, None)
                self._notices()
                if outcome.columns is not None:
                    columns = declared_columns(self.conn, text, outcome.columns)
                    formats = [0] * len(columns)
                    self.out += _row_description(columns, formats)
                    await self._send_rows(outcome.rows, columns, formats, 0)
                self.out += m.command_complete(outcome.tag)
            except errors.Error as exc:
                self._notices()
                if exc.position is not None:     # positions count from the Query's start
                    exc.position += offset
                self.out += m.error_response(exc)
                failed = True
                break
            except Exception as exc:  # noqa: BLE001
                self.out += m.error_response(exc)
                failed = True
                break
            if len(self.out) > 1 << 20:
                await self.flush()
        if implicit and self.conn.in_transaction:
            await self.call(self.conn.rollback if failed else self.conn.commit)
        self.out += m.ready(self.status())
        if self._reply():
            await self.writer.drain()

    def _query_now(self, sql: str) -> bool:
        """A Query of one point SELECT (a cached plan with a fast path) answered up to
        ReadyForQuery without waiting, as ``on_query`` would; else False, nothing done."""
        try:                 # whatever fails here, the general way reports
            pieces = split_statements(sql)
            if len(pieces) != 1:
                return False
            text, offset = pieces[0]
            if self._simple_read(text):
                return True
            if self.conn._session.point_kind(text) != "SELECT":
                return False
        except Exception:  # noqa: BLE001
            return False
        out = self.out
        try:
            try:
                outcome = self._execute(text, None)
            finally:
                self._notices()
            if outcome.columns is not None:
                columns = declared_columns(self.conn, text, outcome.columns)
                formats = [0] * len(columns)
                rows = outcome.rows
                out += _row_description(columns, formats)
                out += _encode_rows(rows.take(rows.count), columns, formats)
            out += m.command_complete(outcome.tag)
        except errors.Error as exc:
            if exc.position is not None:     # positions count from the Query's start
                exc.position += offset
            out += m.error_response(exc)
        except Exception as exc:  # noqa: BLE001
            out += m.error_response(exc)
        out += m.ready(self.status())
        return True

    def _simple_read(self, text: str) -> bool:
        """A Query's one statement ``text`` whose plan (by its text or its shape) is a
        bare key probe, answered in one step up to ReadyForQuery (``Session.point_query``
        and the plan's reader; fastread.RowWriter); else False with nothing appended:
        the general way runs it and reports any error (a point read changes nothing)."""
        conn = self.conn
        session = conn._session
        if conn._closed or session.notices:
            return False
        found = session.point_query(text)
        if found is None:
            return False
        reader, values = found
        rows_out = reader.wire
        if rows_out is None:
            columns = declared_columns(conn, text, reader.columns)
            formats = [0] * len(columns)
            rows_out = reader.wire = RowWriter(columns, formats,
                                               _row_description(columns, formats))
        out = self.out
        mark = len(out)
        try:
            with conn._lock:
                rows = reader((), values)
            if rows is None:
                return False
            out += rows_out.description
            rows_out.write(rows, out)
        except Exception:  # noqa: BLE001 - the general way reports it
            del out[mark:]
            return False
        out += _READY_IDLE
        return True

    async def _run(self, sql: str, params) -> _Outcome:
        dealloc = _DEALLOCATE.match(sql)
        if dealloc is not None:       # protocol-level statements are also SQL-visible
            name = dealloc.group(1).strip('"')
            if name.upper() == "ALL":
                self.statements.clear()
                return _Outcome(None, None, "DEALLOCATE ALL")
            if name in self.statements:
                del self.statements[name]
                return _Outcome(None, None, "DEALLOCATE")
        if self.cursors or sql.lstrip()[:1] in "DdFfMmCc":
            kind = cursors.kind_of(sql)
            if kind is not None:
                return await self._cursor_statement(kind, sql, params)
        spec = copy.parse_copy(sql) if sql.lstrip()[:4].upper() == "COPY" else None
        if spec is not None:
            if params:
                raise errors.sql_error("42P02", "there is no parameter $1")
            run = copy.copy_in if spec.direction == "in" else copy.copy_out
            return _Outcome(None, None, await run(self, spec))
        outcome = await self._run_engine(sql, params)
        if _DISCARD_ALL.match(sql):   # the engine reset the session; the protocol's too
            self.statements.clear()
            self.cursors.clear()
        return outcome

    async def _run_engine(self, sql: str, params) -> _Outcome:
        """An ordinary statement: point ones on the loop, the rest on a worker thread.

        A *light* transaction runs on the loop whole: its BEGIN, up to
        ``LIGHT_STATEMENTS`` point statements, savepoints, and its COMMIT (whose fsync
        is awaited as an autocommit point write's: ``_execute_here``) or ROLLBACK. Why:
        a thread hop costs ~0.3-0.5 ms on an idle virtual CPU, paid by every statement
        of the transactions drivers and ORMs open (psycopg and JDBC without autocommit,
        pgbench's TPC-B: 5.1 ms per transaction for one client, 60 % of it hops). Once
        a transaction runs anything else (a scan, DDL, COPY, SET), the rest of it goes to
        the worker thread as before, COMMIT included. A REPEATABLE READ COMMIT that
        loses is 40001 at once; a READ COMMITTED transaction that loses a race (at a
        statement or at COMMIT) runs again on the newest data at once, on the loop (no
        backoff sleep there: ``Session.on_loop``), and once re-run (a new transaction
        object) goes on on the worker threads."""
        session = self.conn._session
        kind = session.point_kind(sql)
        if kind == "SELECT":             # a point read: no commit to wait for
            return self._execute(sql, params)
        txn = session.txn
        if kind is not None:
            if txn is None:              # autocommit point writes too
                return await self._execute_here(sql, params)
            if txn is self._light_txn and self._light < LIGHT_STATEMENTS:
                self._light += 1
                return self._execute(sql, params)
        elif txn is None or txn is self._light_txn:
            control = _LIGHT_CONTROL.match(sql)
            if control is not None:
                word = control.group(1).split()[0].upper()
                if txn is None:
                    if word in _OPENS:
                        outcome = self._execute(sql, params)
                        txn = session.txn
                        if txn is not None:
                            self._light_txn, self._light = txn, 0
                        return outcome
                elif word in _ENDS and not _TO_SAVEPOINT.match(sql):
                    self._light_txn = None
                    return await self._execute_here(sql, params)
                else:                    # SAVEPOINT, RELEASE
                    return self._execute(sql, params)
        self._light_txn = None
        return await self.call(self._execute, sql, params)

    async def _execute_here(self, sql: str, params) -> _Outcome:
        """A point statement on the loop itself (microseconds: cheaper than a thread
        hop). Its commit, if it must wait for an fsync, is handed to the server's
        group-commit thread (durable.py) and awaited: the loop keeps serving others."""
        db = self.conn._session.db        # the database this session commits to
        commits = db.deferring_durability()
        try:
            return self._execute(sql, params)
        finally:
            db.stop_deferring()
            if commits:
                if self.out:             # replies held for a batch (_reply) go first
                    self._write()
                waiting = self.server.durability.wait(db, commits)
                try:
                    await waiting
                except asyncio.CancelledError:
                    # the client went away as the fsync answered: nobody will read its
                    # error, so asyncio must not log it as never retrieved
                    if waiting.done() and not waiting.cancelled():
                        waiting.exception()
                    raise

    def _cursor(self, name: str) -> "cursors.Cursor":
        """A live cursor: WITH HOLD, or declared in the transaction still open."""
        cur = self.cursors.get(name)
        if cur is None or (cur.txn is not None and cur.txn is not self.conn._session.txn):
            self.cursors.pop(name, None)
            raise cursors.missing(name)
        return cur

    def _open_cursors(self) -> list[tuple]:
        """pg_cursors' rows: the cursors still open (WITH HOLD, or of the transaction
        running)."""
        txn = self.conn._session.txn if self.conn is not None else None
        return cursors.listing({n: c for n, c in self.cursors.items()
                                if c.txn is None or c.txn is txn})

    def _forget_cursors(self) -> None:
        """Drop the cursors whose transaction ended."""
        txn = self.conn._session.txn if self.conn is not None else None
        for name in [n for n, c in self.cursors.items() if c.txn is not None
                     and c.txn is not txn]:
            del self.cursors[name]

    async def _cursor_statement(self, kind: str, sql: str, params) -> _Outcome:
        if kind == "declare":
            name, query, hold, scroll = cursors.parse_declare(sql)
            txn = self.conn._session.txn
            if txn is None and not hold:
                raise errors.sql_error("25P01", "DECLARE CURSOR can only be used in "
                                                "transaction blocks")
            self._forget_cursors()
            if name in self.cursors:
                raise errors.sql_error("42P03", f'cursor "{name}" already exists')
            outcome = await self.call(self._execute, query, params)
            if outcome.columns is None:
                raise errors.sql_error("42P11", "cannot open a query that returns no rows "
                                                "as a cursor")
            self.cursors[name] = cursors.Cursor(outcome.columns, outcome.rows,
                                                None if hold else txn, scroll,
                                                statement=sql, created=_now())
            return _Outcome(None, None, "DECLARE CURSOR")
        if kind == "close":
            name = cursors.close_target(sql)
            if name is None:
                self.cursors.clear()
                return _Outcome(None, None, "CLOSE CURSOR ALL")
            self._cursor(name)
            del self.cursors[name]
            return _Outcome(None, None, "CLOSE CURSOR")
        verb, name, how, count = cursors.parse_fetch(sql)
        cur = self._cursor(name)
        first, got, step = cursors.move(cur, how, count)
        if verb == "MOVE":
            return _Outcome(None, None, f"MOVE {got}")
        return _Outcome(cur.columns, cursors.Window(cur.rows, first, got, step), f"FETCH {got}")

    def _notices(self) -> None:
        """NoticeResponse for what the statement raised without failing (notices.py)."""
        pending = self.conn._session.notices if self.conn is not None else None
        if pending:
            for n in pending:
                self.out += m.notice(n.message, n.sqlstate, n.severity)
            pending.clear()

    def _execute(self, sql: str, params) -> _Outcome:
        return _outcome(self._engine(sql, params), sql)

    def _engine(self, sql: str, params):
        """The engine's Result of one statement in this client's session."""
        conn = self.conn
        if conn._closed:
            raise errors.InterfaceError("connection is closed")
        try:
            with conn._lock:
                return conn._session.execute(sql, params)
        except errors.Error:
            raise
        except Exception as exc:   # a bug below: still a DB-API error (api/guard.py)
            raise as_db_error(exc) from exc

    async def _send_rows(self, rows: "ResultRows", columns: list, formats: list[int],
                         limit: int) -> int:
        """DataRows for up to ``limit`` (0: all) more rows of a result, converted and
        encoded a batch at a time and flushed as the buffer fills: the socket's
        back-pressure (drain) paces a big result, so a slow reader holds at most a batch
        and the transport's buffer here, never its whole result in wire form."""
        want = rows.count - rows.pos if limit <= 0 else min(limit, rows.count - rows.pos)
        if want <= SMALL_RESULT:        # a point query: no thread hop for a few rows
            self.out += _encode_rows(rows.take(want), columns, formats)
            return want
        sent = 0
        while sent < want:
            n = min(ROW_BATCH, want - sent)
            self.out += await self.call(_encode_batch, rows, n, columns, formats)
            sent += n
            if len(self.out) > FLUSH_AT:
                await self.flush()
        return want

    # ---- extended query ------------------------------------------------------------------------
    async def on_parse(self, r: Reader) -> None:
        name, sql = r.cstring(), r.cstring()
        oids = [r.uint32() for _ in range(r.count("parameter type"))]
        if name and name in self.statements:
            raise errors.sql_error("42P05", f'prepared statement "{name}" already exists')
        if self.conn._session.point_kind(sql) is not None or _LIGHT_CONTROL.match(sql):
            # a cached point plan or BEGIN/COMMIT: a lookup, cheaper than a thread hop
            # (drivers Parse an unnamed statement per execution: psycopg's first five,
            # JDBC's BEGIN)
            self.statements[name] = self._plan(sql, oids)
        else:
            self.statements[name] = await self.call(self._plan, sql, oids)
        self.out += m.PARSE_COMPLETE

    def _plan(self, sql: str, oids: list[int]) -> Statement:
        """Plan without executing: parameter types and result columns for Describe."""
        if not sql.strip() or not split_statements(sql):
            return Statement(sql, [], [], None, empty=True)
        if len(split_statements(sql)) > 1:
            raise errors.sql_error("42601", "cannot insert multiple commands into a prepared "
                                            "statement")
        if _DEALLOCATE.match(sql) or copy.parse_copy(sql) is not None:
            return Statement(sql, [], [], None)   # COPY STDIN/STDOUT: the copy sub-protocol
        kind = cursors.kind_of(sql)
        if kind == "declare":                     # the parameters of the cursor's query
            inner = self._plan(cursors.parse_declare(sql)[1], oids)
            return Statement(sql, inner.param_oids, inner.param_types, None)
        if kind == "fetch":                       # the cursor's rows, if it exists now
            verb, name, _, _ = cursors.parse_fetch(sql)
            found = self.cursors.get(name)
            return Statement(sql, [], [], found.columns if found is not None and
                             verb == "FETCH" else None)
        if kind == "close":
            return Statement(sql, [], [], None)
        session = self.conn._session
        with self.conn._lock:
            prepared = session._prepare(sql)
        count = prepared.placeholders.count
        slot_types = list(prepared.param_types or []) + ["UNKNOWN"] * count
        slot_types = slot_types[:count]
        columns = None
        util = prepared.utility
        if util is not None:
            if util.kind == "show":
                columns = [(util.arg.strip().lower() or "setting", "TEXT")]
        elif prepared.kind == "EXPLAIN" or prepared.bound is None:
            columns = [("QUERY PLAN", "TEXT")] if prepared.kind == "EXPLAIN" else None
        elif prepared.bound.returns_rows and prepared.plan is not None:
            columns = pgtypes.wire_columns(sql, list(prepared.plan.columns))
        described = _declared_widths(prepared, columns) if columns is not None else None
        return Statement(sql, pgtypes.parameter_oids(sql, slot_types, oids), slot_types,
                         described or columns, plain=True,
                         engine_columns=columns if described else None,
                         sources=_sources(prepared) if columns is not None else None)

    def on_bind(self, r: Reader) -> None:
        portal, name, codes, raw, result_codes = m.parse_bind(r.data)
        n = len(raw)
        stmt = self.statements.get(name)    # looked up after the frame parsed: 08P01 first
        if stmt is None:
            raise errors.sql_error("26000", f'prepared statement "{name}" does not exist'
                                   if name else "unnamed prepared statement does not exist")
        if n != len(stmt.param_oids):
            raise errors.sql_error("08P01", f"bind message supplies {n} parameters, but prepared "
                                            f"statement \"{name}\" requires {len(stmt.param_oids)}")
        fmts = _formats(codes, n, "parameter")
        if any(f not in (0, 1) for f in fmts + result_codes):
            raise errors.sql_error("22023", "unsupported format code")
        params = [pgtypes.decode_param(raw[i], fmts[i], stmt.param_oids[i],
                                       stmt.param_types[i], i) for i in range(n)]
        ncols = len(stmt.columns) if stmt.columns is not None else 0
        self.portals[portal] = Portal(stmt, params, _formats(result_codes, ncols, "result")
                                      if stmt.columns is not None or not result_codes
                                      else result_codes)
        self.out += m.BIND_COMPLETE

    def on_describe(self, r: Reader) -> None:
        what, name = r.byte(), r.cstring()
        if what == b"S":
            stmt = self.statements.get(name)
            if stmt is None:
                raise errors.sql_error("26000", f'prepared statement "{name}" does not exist')
            self.out += m.parameter_description(stmt.param_oids)
            self._describe_rows(stmt.columns, [0] * len(stmt.columns or []), stmt.descriptions,
                                stmt.sources)
        elif what == b"P":
            portal = self.portals.get(name)
            if portal is None and name in self.cursors:    # psycopg, after DECLARE
                cur = self._cursor(name)
                self._describe_rows(cur.columns, [0] * len(cur.columns))
                return
            if portal is None:
                raise errors.sql_error("34000", f'portal "{name}" does not exist')
            if portal.executed:
                stmt = portal.statement
                self._describe_rows(portal.columns, portal.result_formats, None,
                                    stmt.sources if portal.columns == stmt.columns else None)
            else:
                self._describe_rows(portal.statement.columns, portal.result_formats,
                                    portal.statement.descriptions, portal.statement.sources)
        else:
            raise ProtocolViolation(f"invalid DESCRIBE message subtype {what!r}")

    def _describe_rows(self, columns, formats, cache: dict | None = None,
                       sources: list | None = None) -> None:
        if columns is None:
            self.out += m.NO_DATA
            return
        key = tuple(formats)
        message = cache.get(key) if cache is not None else None
        if message is None:
            message = _row_description(columns, formats or [0] * len(columns), sources)
            if cache is not None and len(cache) < 8:
                cache[key] = message
        self.out += message

    async def on_execute(self, r: Reader) -> None:
        name, limit = r.cstring(), r.int32()
        portal = self.portals.get(name)
        if portal is None:
            raise errors.sql_error("34000", f'portal "{name}" does not exist')
        if portal.statement.empty:
            self.out += m.EMPTY_QUERY
            return
        if not portal.executed:
            sql = portal.statement.sql
            control = _TXN_CONTROL.match(sql) is not None
            if control:
                self.implicit = False         # BEGIN makes it explicit; COMMIT ends it
            elif not self.implicit and not self._sync_next() and self.status() == b"I":
                self.conn.begin()             # more than this statement before Sync
                self.implicit = True
            try:
                if portal.statement.plain:
                    outcome = await self._run_engine(sql, portal.params)
                else:
                    outcome = await self._run(sql, portal.params)
            finally:
                self._notices()
            portal.executed = True
            stmt = portal.statement
            portal.columns = pgtypes.described_as(outcome.columns, stmt.columns,
                                                  stmt.engine_columns)
            portal.rows, portal.tag = outcome.rows, outcome.tag
        if portal.done:
            self.out += m.command_complete(portal.tag)
            return
        if portal.rows is None:
            portal.done = True
            self.out += m.command_complete(portal.tag)
            return
        formats = portal.result_formats or [0] * len(portal.columns)
        if len(formats) != len(portal.columns):
            formats = _formats(formats[:1], len(portal.columns), "result")
        sent = await self._send_rows(portal.rows, portal.columns, formats, limit)
        if not portal.rows.done:
            self.out += m.PORTAL_SUSPENDED
            return
        portal.done = True
        portal.rows = None                 # the result's memory goes with it
        if portal.tag.startswith("SELECT"):
            portal.tag = f"SELECT {sent}"
        self.out += m.command_complete(portal.tag)

    # ---- a prepared point statement's Bind [Describe] Execute Sync, at once ---------------------
    def _point_group(self, body: bytes, whole: bool = False):
        """When this Bind (of the unnamed portal, to a prepared point statement: a
        SELECT, INSERT, UPDATE or DELETE with a compiled fast path) is followed, already
        received, by an optional Describe of that portal, its Execute (no row limit) and
        Sync, with no transaction open: what ``_run_point_group`` needs, with those
        messages consumed. Else None, nothing consumed, and the messages go their
        ordinary way (which also reports whatever made this decline: a bad frame, an
        unknown statement, a parameter that does not parse).

        This is what a driver sends for each execution of a prepared statement in
        autocommit (pgbench -M prepared, psycopg after its prepare threshold, JDBC):
        the same replies as the four handlers, without a portal, a Reader, a dispatch
        and a handler call per message. ``whole``: only a group whose Sync ends what was
        received (``_answer_now``)."""
        if self.implicit or self.cursors or self.conn._session.txn is not None:
            return None                  # (status() would say b"T" or b"E")
        buf, pos = self._inbuf, self._inpos
        if buf.startswith(_DESCRIBE_EXECUTE_SYNC, pos):
            describe, end = True, pos + len(_DESCRIBE_EXECUTE_SYNC)
        elif buf.startswith(_EXECUTE_SYNC, pos):
            describe, end = False, pos + len(_EXECUTE_SYNC)
        else:
            return None
        if whole and end != len(buf):
            return None
        try:
            portal, name, codes, raw, result_codes = m.parse_bind(body)
        except ProtocolViolation:
            return None
        stmt = self.statements.get(name)
        n = len(raw)
        if portal or stmt is None or not stmt.plain or n != len(stmt.param_oids):
            return None
        # Checked on the codes as sent (one C call each): _formats only repeats them.
        if not _FORMAT_CODES.issuperset(codes) or not _FORMAT_CODES.issuperset(result_codes):
            return None
        try:
            fmts = _formats(codes, n, "parameter")
            ncols = len(stmt.columns) if stmt.columns is not None else 0
            formats = _formats(result_codes, ncols, "result")
            decode, oids, slots = pgtypes.decode_param, stmt.param_oids, stmt.param_types
            params = [decode(raw[i], fmts[i], oids[i], slots[i], i) for i in range(n)]
        except Exception:  # noqa: BLE001 - the ordinary way reports it
            return None
        kind = self.conn._session.point_kind(stmt.sql)
        if kind is None:
            return None
        if end == len(buf):
            buf.clear()
            self._inpos = 0
        else:
            self._inpos = end
        return stmt, params, formats, describe, kind

    async def _run_point_group(self, stmt: Statement, params: list, formats: list[int],
                               describe: bool, kind: str) -> None:
        if kind == "SELECT":
            self._point_select(stmt, params, formats, describe)
            if self._reply():
                await self.writer.drain()
            return
        out = self._bound(stmt, formats, describe)
        try:
            try:
                outcome = await self._execute_here(stmt.sql, params)
            finally:
                self._notices()
            if outcome.rows is None:
                out += m.command_complete(outcome.tag)
            else:                            # RETURNING
                columns = pgtypes.described_as(outcome.columns, stmt.columns,
                                               stmt.engine_columns)
                if len(formats) != len(columns):
                    formats = _formats(formats[:1], len(columns), "result")
                await self._send_rows(outcome.rows, columns, formats, 0)
                out += m.command_complete(outcome.tag)
        except ProtocolViolation:
            raise
        except Exception as exc:  # noqa: BLE001 - errors.Error or an engine bug
            out += m.error_response(exc)
        out += m.ready(self.status())
        if self._reply():
            await self.writer.drain()

    def _bound(self, stmt: Statement, formats: list[int], describe: bool) -> bytearray:
        """BindComplete (and the row description) of a point group run; ``out``."""
        out = self.out
        out += m.BIND_COMPLETE
        if describe:
            self._describe_rows(stmt.columns, formats, stmt.descriptions, stmt.sources)
        self.portals.clear()                 # Bind replaced the unnamed portal; Sync ends it
        return out

    def _point_select(self, stmt: Statement, params: list, formats: list[int],
                      describe: bool) -> None:
        """A point SELECT's group run: its replies, up to ReadyForQuery, appended to
        ``out``. Never waits: the rows of a point statement are few, encoded here."""
        out = self._bound(stmt, formats, describe)
        try:
            try:
                result = self._engine(stmt.sql, params)
                self._notices()              # before the rows, as any statement's
                if not _point_rows(stmt, result, formats, out):
                    outcome = _outcome(result, stmt.sql)
                    if outcome.rows is None:
                        out += m.command_complete(outcome.tag)
                    else:
                        rows = outcome.rows
                        columns = pgtypes.described_as(outcome.columns, stmt.columns,
                                                       stmt.engine_columns)
                        if len(formats) != len(columns):
                            formats = _formats(formats[:1], len(columns), "result")
                        out += _encode_rows(rows.take(rows.count), columns, formats)
                        out += m.command_complete(outcome.tag)
            finally:
                self._notices()
        except Exception as exc:  # noqa: BLE001 - errors.Error or an engine bug
            out += m.error_response(exc)
        out += m.ready(self.status())

    def _answer_now(self, data: bytes) -> bool:
        """Called by the protocol with bytes just received while the message loop waits
        for input: when they are exactly a prepared point statement's Bind [Describe]
        Execute Sync (``_point_group``; a write's reply waits for its fsync, ``_acked``)
        or a Query of one point SELECT (``_query_now``),
        answer it here and now, in the loop's read callback, and return True; else False, with nothing consumed (the reader gets
        the bytes, the message loop wakes as usual).

        What it saves is the message loop's wake-up per transaction: the reader's
        buffer, a future, the task's step, the coroutines resumed and made again to
        read the next message; a fifth of the loop's CPU per pgbench -S -M prepared
        transaction. Taken only with nothing else pending (no reply buffered, no
        unparsed input, a transport that took every byte so far, no TLS): a client
        that does not read its replies soon sends through the message loop, which
        waits on the socket."""
        kind = data[:1]
        if (kind not in b"BQ" or self.out or self._inbuf or self.skip_until_sync
                or self.encrypted or self.conn is None or len(data) < 5):
            return False
        length = _I32.unpack_from(data, 1)[0]
        if length < 4 or length + 1 > len(data) or length - 4 > self.server.max_message_size:
            return False
        transport = self.writer.transport
        if transport.get_write_buffer_size() or transport.is_closing():
            return False
        if kind == b"Q":                 # a Query of one point SELECT (_query_now)
            if length + 1 != len(data) or data[-1] != 0:
                return False
            try:
                sql = data[5:data.index(b"\x00", 5)].decode()
                answered = self._query_now(sql)
            except Exception:  # noqa: BLE001 - the message loop reports it
                self.out.clear()
                return False
            if answered:
                transport.write(bytes(self.out))
                self.out.clear()
            return answered
        rest = len(data) - length - 1
        if ((rest == _DESCRIBE_LEN and data.endswith(_DESCRIBE_EXECUTE_SYNC))
                or (rest == _EXECUTE_LEN and data.endswith(_EXECUTE_SYNC))):
            if self._read_now(data, 5, length + 1, rest == _DESCRIBE_LEN, True):
                if self._acking is not None:
                    return True          # a write: the reply goes out with the fsync
                transport.write(bytes(self.out))
                self.out.clear()
                return True
        buf = self._inbuf
        buf += data
        self._inpos = length + 1
        try:
            group = self._point_group(data[5:length + 1], whole=True)
        except Exception:  # noqa: BLE001 - the message loop reports it
            group = None
        if group is None:
            buf.clear()
            self._inpos = 0
            return False
        if group[4] != "SELECT":
            self._point_write(*group[:4])
            if self._acking is not None:
                return True              # the reply goes out with the fsync (_acked)
        else:
            self._point_select(*group[:4])
        transport.write(bytes(self.out))
        self.out.clear()
        return True

    def _read_now(self, data, start: int, end: int, describe: bool,
                  writes: bool = False) -> bool:
        """A Bind (body ``data[start:end]``) [+ Describe] + Execute + Sync of a prepared
        point SELECT answered in one step (fastread.py): its replies up to
        ReadyForQuery appended to ``out``, True; else False, nothing appended, nothing
        consumed: the ordinary way runs it (and reports whatever made this decline).
        ``writes`` (the read callback, ``_answer_now``): a point INSERT/UPDATE/DELETE's
        parameters are decoded the same way and it runs as ``_point_write``."""
        if self.implicit or self.cursors or data[start] != 0:
            return False                 # (a named portal outlives Sync: not here)
        stop = data.find(b"\x00", start + 1, end)
        if stop < 0:
            return False
        try:
            stmt = self.statements.get(data[start + 1:stop].decode())
        except UnicodeDecodeError:
            return False
        if stmt is None or not stmt.plain:
            return False
        fast = stmt.fast
        if fast is False:
            return False
        out = self.out
        mark = len(out)
        conn = self.conn
        session = conn._session
        try:
            if fast is None:
                kind = session.point_kind(stmt.sql)
                if kind is None:
                    return False         # not planned yet, or no point statement
                if kind != "SELECT":     # a point write: the text decides, for good
                    shape = BindShape.of(stmt, bytes(data[start:end]))
                    stmt.fast = fast = False if shape is None else PreparedWrite(shape)
                    if fast is False:
                        return False
                else:
                    fast = PreparedRead.build(stmt, session, bytes(data[start:end]),
                                              _row_description)
                    if fast is None:
                        return False
                    stmt.fast = fast
            if type(fast) is PreparedWrite:
                if not writes or session.txn is not None or conn._closed:
                    return False
                params = fast.shape.params(data, start, end)
                if params is None:
                    return False
                writer = fast.writer
                if writer is None or writer.stale:
                    if session.point_kind(stmt.sql) is None:
                        return False
                    # (None: a fast path that needs a transaction; ``execute`` runs it)
                    writer = fast.writer = session.point_writer(stmt.sql)
            else:
                if conn._closed or session.notices:
                    return False
                with conn._lock:
                    done = fast.answer(data, start, end, describe, out)
                if not done:
                    if fast.reader.stale:   # DDL changed the plan: a new reader next time
                        stmt.fast = None
                    return False
                if self.portals:
                    self.portals.clear()     # Bind replaced the unnamed portal; Sync ends it
                return True
        except Exception:  # noqa: BLE001 - the ordinary way reports it
            del out[mark:]
            return False
        self._point_write(stmt, params, fast.shape.formats, describe, writer)
        return True

    def _point_write(self, stmt: Statement, params: list, formats: list[int],
                     describe: bool, writer=None) -> None:
        """An autocommit point INSERT/UPDATE/DELETE's group, answered as it arrived
        (``_answer_now``): the replies up to ReadyForQuery appended to ``out``, as
        ``_run_point_group`` would, or, when its commit waits for an fsync, its future in
        ``_acking`` and the reply held until ``_acked``: nothing is acknowledged before
        it is durable. ``writer``: the engine's ``PointWrite`` of the statement, tried
        first; whatever it declines runs through ``execute``."""
        out = self._bound(stmt, formats, describe)
        conn = self.conn
        db = conn._session.db
        commits = db.deferring_durability()
        try:
            try:
                result = None
                if writer is not None and not conn._closed:
                    with conn._lock:
                        result = writer(params)
                if result is None:
                    result = self._engine(stmt.sql, params)
            finally:
                db.stop_deferring()
                self._notices()
            if result.table is None and result.rows is None:
                reply = _write_complete(result.kind, result.rowcount)
            else:                            # RETURNING
                outcome = _outcome(result, stmt.sql)
                rows = outcome.rows
                columns = pgtypes.described_as(outcome.columns, stmt.columns,
                                               stmt.engine_columns)
                if len(formats) != len(columns):
                    formats = _formats(formats[:1], len(columns), "result")
                reply = _encode_rows(rows.take(rows.count), columns, formats)
                reply += m.command_complete(outcome.tag)
        except Exception as exc:  # noqa: BLE001 - errors.Error or an engine bug
            reply = m.error_response(exc)
        if not commits:
            out += reply
            out += m.ready(self.status())
            return
        durability = self.server.durability
        try:
            channel = durability.handoff(db) if self._fd >= 0 else None
            if channel is not None and self._can_hand_off(len(out) + len(reply)):
                # The fsync helper sends the whole reply once the commit is durable
                # (durable.py): the loop neither writes it nor reads the helper's answer.
                prefix = bytes(out)
                out.clear()
                self._handed = True
                self._acking = durability.wait(
                    db, commits, lambda error, rest=b"": self._sent(error, prefix, rest),
                    (self.pid, self._fd, b"".join((prefix, reply, _READY_IDLE))))
                return
            self._acking = durability.wait(
                db, commits, lambda error: self._acked(error, reply))
        except Exception as exc:  # noqa: BLE001 - the server is closing
            self._acking = None
            out += m.error_response(exc)
            out += m.ready(self.status())

    def _can_hand_off(self, size: int) -> bool:
        """Whether a point write's reply (``size`` bytes before ReadyForQuery) may be
        sent by the fsync helper: a plain socket whose transport holds nothing unsent
        (the helper's bytes must not overtake them), and a ReadyForQuery that carries
        nothing else (no NOTIFY to deliver, no TimeZone to report: ``status``)."""
        if self.encrypted or size > HANDOFF_MAX:
            return False
        session = self.conn._session
        if (session.txn is not None or session.backend.inbox
                or session.cancel_event.zone is not self._zone):
            return False
        transport = self.writer.transport
        return not transport.get_write_buffer_size() and not transport.is_closing()

    def _sent(self, error: BaseException | None, prefix: bytes, rest: bytes = b"") -> None:
        """A point write whose reply the fsync helper was to send: it did (``error``
        None), so this session may write again; or the log broke before its commit was
        durable, and the error goes out here; or the helper died maybe mid-reply, and
        the connection is closed (durable.py's ``ReplyLost``). ``rest``: the end of the
        reply the syncer could not send (io_uring: the socket would have blocked),
        written here before anything else."""
        self._acking = None
        transport = self.writer.transport
        protocol = self._protocol
        if rest and error is None and not transport.is_closing():
            transport.write(rest)
        if isinstance(error, ReplyLost):
            # Durable, but the helper died between sending the reply and counting it,
            # or while sending it. Input from the client shows that it got the reply
            # (a client sends its next request after the reply, unless it pipelines):
            # held already, or arriving within REPLY_LOST_WAIT; else the connection is
            # closed, the commit's outcome unknown to the client.
            if protocol is None:
                transport.abort()
                return
            if not (protocol.held or protocol.eof_held):
                loop = asyncio.get_running_loop()
                self._acking = loop.create_future()
                self._lost = loop.call_later(REPLY_LOST_WAIT, self._reply_lost)
                return
            error = None
        if error is not None:
            out = self.out
            out += prefix
            out += m.error_response(error)
            out += m.ready(self.status())
            if not transport.is_closing():
                transport.write(bytes(out))
            out.clear()
        if (protocol is not None and protocol.session is self
                and (protocol.held or protocol.eof_held)):
            protocol.release()

    def _acked(self, error: BaseException | None, reply: bytes) -> None:
        """The fsync of a point write answered as it arrived is done (``error`` None; the
        durability waiter calls this on the loop as soon as it learns so): its reply (or
        the log's error: then it was never published) goes out, then any input held."""
        self._acking = None
        out = self.out
        out += reply if error is None else m.error_response(error)
        out += m.ready(self.status())
        transport = self.writer.transport
        if not transport.is_closing():
            transport.write(bytes(out))
        out.clear()
        protocol = self._protocol
        if (protocol is not None and protocol.session is self
                and (protocol.held or protocol.eof_held)):
            protocol.release()

    def _reply_arrived(self) -> None:
        """Input after a reply of unknown fate (``_sent``): the client got it."""
        self._lost.cancel()
        self._lost = None
        waiting, self._acking = self._acking, None
        waiting.set_result(None)

    def _reply_lost(self) -> None:
        """No input since a reply of unknown fate (``_sent``): the connection closes."""
        self._lost = None
        waiting, self._acking = self._acking, None
        waiting.set_result(None)
        self.writer.transport.abort()

    def _sync_next(self) -> bool:
        """Whether the next message, already received, is Sync: then a statement
        executed now is alone in its implicit transaction (autocommit, as before)."""
        pos = self._inpos
        return len(self._inbuf) > pos and self._inbuf[pos] == _S

    async def _end_implicit(self) -> None:
        """Sync: commit the implicit transaction, or roll it back after an error."""
        self.implicit = False
        conn = self.conn
        if not conn.in_transaction:
            return
        if self.status() == b"E":
            await self.call(conn.rollback)
            return
        try:
            await self.call(conn.commit)
        except Exception as exc:  # noqa: BLE001 - e.g. 40001: the client hears it
            self.out += m.error_response(exc)

    def on_close(self, r: Reader) -> None:
        what, name = r.byte(), r.cstring()
        if what == b"S":
            self.statements.pop(name, None)
        elif what == b"P":
            self.portals.pop(name, None)
        else:
            raise ProtocolViolation(f"invalid CLOSE message subtype {what!r}")
        self.out += m.CLOSE_COMPLETE


SMALL_RESULT = 64           # rows encoded on the loop itself (cheaper than a thread hop)
ROW_BATCH = 2000            # rows converted and encoded per worker call
FLUSH_AT = 256 << 10        # bytes buffered before waiting for the socket
HANDOFF_MAX = 8 << 10       # reply bytes a point write may hand to the fsync helper
REPLY_LOST_WAIT = 2.0       # seconds a reply of unknown fate waits for the client (_sent)


def _now():
    """A cursor's creation time (pg_cursors.creation_time), in UTC."""
    from datetime import datetime, timezone
    return datetime.now(timezone.utc).replace(tzinfo=None)


_ENCODERS: dict = {}       # (column types, formats) -> [(index, encoder)]
_DESCRIPTIONS: dict = {}   # (columns, formats) -> RowDescription message


def _row_description(columns: list, formats: list[int], sources: list | None = None
                     ) -> bytes:
    """The RowDescription message of a result's columns: built once per column list,
    formats and column sources (a repeated statement's result describes itself the
    same way)."""
    key = (tuple(columns), tuple(formats), tuple(sources) if sources else None)
    message = _DESCRIPTIONS.get(key)
    if message is None:
        fields = []
        for i, ((name, t), fmt) in enumerate(zip(columns, formats)):
            oid = pgtypes.result_oid_of(t)
            src = sources[i] if sources and i < len(sources) else None
            fields.append((name, oid, pgtypes.TYPLEN.get(oid, -1), fmt) + (src or (0, 0)))
        message = m.row_description(fields)
        if len(_DESCRIPTIONS) > 1024:
            _DESCRIPTIONS.clear()
        _DESCRIPTIONS[key] = message
    return message


def _sources(prepared) -> list | None:
    """(pg_class oid, attnum) per result column passed straight from a table column
    (plan/provenance.py), None for the others; None when the plan is not a logical
    plan of this engine's tables."""
    from ..catalog.pg_catalog import relation_oid
    from ..plan.logical import LogicalNode
    from ..plan.provenance import output_sources
    plan = prepared.plan
    if not isinstance(plan, LogicalNode):
        return None
    reads = [(p[1], p[3]) for p in prepared.bound.privileges if p[0] == "table"]
    direct = {name for name, via in reads if via is None}
    hidden = frozenset(name for name, via in reads if via is not None and name not in direct)
    out = [None if s is None else (relation_oid("r", s[0]), s[1] + 1)
           for s in output_sources(plan, hidden)]
    return out if any(out) else None


def _off_loop(session, fn, *args):
    """``fn(*args)`` on a worker thread: the engine session knows it is off the loop
    (``Session.on_loop``) meanwhile."""
    session.on_loop = False
    try:
        return fn(*args)
    finally:
        session.on_loop = True


def _declared_widths(prepared, columns: list) -> list | None:
    """``columns`` with each one that is a table column declared smallint or integer
    (stored as INTEGER), numeric or real (FLOAT) or varchar (TEXT), passed straight
    through (plan/provenance.py), as PostgreSQL describes it: int2/int4, numeric, float4,
    varchar (``pgtypes.declared_type``); None when there is none. The values are the
    engine's, fitted to the declaration by every write (exec/typmods.py). An expression
    over such a column (``a + 1``, ``max(a)``) keeps the engine's type (int8, float8)."""
    from ..plan.expr import ColRef
    from ..plan.logical import LogicalDelete, LogicalInsert, LogicalNode, LogicalUpdate
    from ..plan.provenance import output_sources
    plan = prepared.plan
    if not isinstance(plan, LogicalNode) or not _DECLARABLE.intersection(t for _, t in columns):
        return None
    schemas = {name: schema for kind, name, schema in prepared.bound.deps if kind == "table"}
    if isinstance(plan, (LogicalInsert, LogicalUpdate, LogicalDelete)) and plan.returning:
        # RETURNING reads the written row: a column of it is that table column
        sources = [(plan.table, e.index) if isinstance(e, ColRef) else None
                   for e in plan.returning]
    else:
        sources = output_sources(plan)
    out = None
    for i, src in enumerate(sources):
        if src is None or i >= len(columns) or columns[i][1] not in _DECLARABLE:
            continue
        schema = schemas.get(src[0])
        if schema is None or src[1] >= len(schema.columns):
            continue
        column = schema.columns[src[1]]
        wire = pgtypes.declared_type(columns[i][1], column.typmod) \
            if column.type == columns[i][1] else None
        if wire is not None:
            out = out or list(columns)
            out[i] = (columns[i][0], wire)
    return out


# engine types a declaration can narrow (``_declared_widths``)
_DECLARABLE = frozenset((types.INTEGER, types.FLOAT, types.TEXT))
# id(Prepared) -> (the Prepared, the result columns, their ``_declared_widths`` or None)
_WIDTHS: dict = {}


def declared_columns(conn, sql: str, columns: list) -> list:
    """A result's ``columns`` (of statement ``sql``, just run on ``conn``) as the wire
    describes them (``_declared_widths``), worked out once per cached plan (the session's
    plan cache drops a plan whose tables changed). The same list when no column narrows."""
    if not _DECLARABLE.intersection(t for _, t in columns):
        return columns
    try:
        with conn._lock:
            prepared = conn._session._lookup(sql)[0]
    except Exception:  # noqa: BLE001 - it ran just now; a plan that fails here says int8
        return columns
    entry = _WIDTHS.get(id(prepared))
    if entry is None or entry[0] is not prepared:
        plan = prepared.plan
        described = None
        if prepared.bound is not None and plan is not None and \
                [tuple(c) for c in plan.columns] == [tuple(c) for c in columns]:
            described = _declared_widths(prepared, columns)
        if len(_WIDTHS) > 4096:
            _WIDTHS.clear()
        entry = _WIDTHS[id(prepared)] = (prepared, list(columns), described)
    return entry[2] if entry[2] is not None and columns == entry[1] else columns


_COMPLETES: dict = {}       # (kind, rowcount) -> CommandComplete of a write without rows


def _write_complete(kind: str, rowcount: int) -> bytes:
    """The CommandComplete of a write that returned no rows (``_point_write``): made
    once per kind and count (a point write's is one of a few)."""
    message = _COMPLETES.get((kind, rowcount))
    if message is None:
        message = m.command_complete(command_tag(kind, rowcount))
        if len(_COMPLETES) < 64:
            _COMPLETES[(kind, rowcount)] = message
    return message


def _outcome(result, sql: str = "") -> _Outcome:
    if result.table is None and result.rows is None:
        return _Outcome(None, None, command_tag(result.kind, result.rowcount))
    columns = list(result.columns)
    rows = ResultRows(result, columns)
    return _Outcome(pgtypes.wire_columns(sql, columns), rows, command_tag(result.kind, rows.count
                                               if result.kind == "SELECT"
                                               else result.rowcount))


def _point_rows(stmt: Statement, result, formats: list[int], out: bytearray) -> bool:
    """Append the DataRows and CommandComplete of a point SELECT's few row-path rows to
    ``out`` (straight into the reply: no buffer of their own), with the statement's
    encoders (by result formats); False, appending nothing, for any other result (the
    general way then sends it)."""
    rows = result.rows
    columns = stmt.columns
    if (result.table is not None or type(rows) is not list or len(rows) > SMALL_RESULT
            or result.kind != "SELECT" or result.columns != (stmt.engine_columns or columns)
            or len(formats) != len(columns)):
        return False
    key = tuple(formats)
    writer = stmt.encoders.get(key)
    if writer is None:
        writer = RowWriter(columns, formats)
        if len(stmt.encoders) < 8:
            stmt.encoders[key] = writer
    writer.write(rows, out)
    return True


class ResultRows:
    """A statement's rows, converted to Python values a batch at a time (``take``):
    the engine's Arrow result stays as it is, zero-copy, until sent."""

    __slots__ = ("result", "columns", "pos", "count")

    def __init__(self, result, columns: list) -> None:
        self.result = result
        self.columns = columns
        self.pos = 0
        if result.table is not None:
            self.count = result.table.num_rows
        else:
            if not isinstance(result.rows, list):
                result.rows = list(result.rows)
            self.count = len(result.rows)

    @property
    def done(self) -> bool:
        return self.pos >= self.count

    def take(self, n: int) -> list:
        start, end = self.pos, min(self.count, self.pos + n)
        self.pos = end
        return self.rows_at(start, end)

    def rows_at(self, start: int, end: int) -> list:
        """Rows ``start``..``end`` (0-based, end excluded) as Python values, wherever
        ``pos`` is (scrollable cursors read any range)."""
        r = self.result
        if r.table is not None:
            if start == 0 and end == self.count:
                return arrow_to_rows(r.table, pgtypes.conversion_columns(self.columns),
                                     python=False)
            return arrow_to_rows(r.table.slice(start, end - start),
                                 pgtypes.conversion_columns(self.columns), python=False)
        return rows_to_python(r.rows[start:end], pgtypes.conversion_columns(self.columns),
                              python=False)


def _encode_batch(rows: ResultRows, n: int, columns: list, formats: list[int]) -> bytes:
    return _encode_rows(rows.take(n), columns, formats)


def _encode_rows(rows: list, columns: list, formats: list[int]) -> bytes:
    """DataRow messages for ``rows`` (runs on a worker thread: big results are CPU work)."""
    key = (tuple(t for _, t in columns), tuple(formats))
    pairs = _ENCODERS.get(key)
    if pairs is None:
        pairs = _encoders(columns, formats)
        if len(_ENCODERS) > 1024:
            _ENCODERS.clear()
        _ENCODERS[key] = pairs
    out = bytearray()
    for row in rows:
        out += m.data_row([None if row[i] is None else enc(row[i]) for i, enc in pairs])
    return bytes(out)


def _encoders(columns: list, formats: list[int]) -> list:
    """[(column index, value -> bytes)] for the columns in their result formats."""
    return list(enumerate(pgtypes.binary_encoder(t) if f == 1 else pgtypes.text_encoder(t)
                          for (_, t), f in zip(columns, formats)))
