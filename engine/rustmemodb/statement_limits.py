"""Per-statement limits: cancellation, ``statement_timeout`` and ``max_statement_memory``.

A statement can be stopped three ways, each with PostgreSQL's SQLSTATE:
``Connection.interrupt()`` from another thread (57014 "canceling statement due to user
request"), the session's ``statement_timeout`` (57014 "... due to statement timeout")
and the session's ``max_statement_memory`` (53200 "out of memory"). One
``StatementLimits`` object per session carries all three; ``Session.execute`` arms it at
the start of every statement and publishes it in a context variable, so code that has no
``ExecContext`` at hand (the binder, constant folding, ``generate_series`` built while
planning) reaches it through the module functions ``check()`` and ``charge()``.

Cancellation is cooperative: long loops call ``check()`` (cheap: an attribute test and,
with a timeout set, one clock read), and big allocations call ``charge(nbytes)`` first,
so a statement that would build a 7 TiB array fails at once instead of exhausting memory.
Memory is accounted where large arrays are built (series, repeat, join output, sort,
aggregation), not for every temporary: it is a guard against runaway statements, not an
allocator.
"""
from __future__ import annotations

import contextvars
import datetime as _dt
import os
import re
from time import monotonic
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import errors

# Without a max_statement_memory, a statement may still not account for more than half
# the machine's memory: refusing it up front turns the OOM killer (or an allocation
# failure half-way through a kernel) into 53200.
try:
    PHYSICAL_MEMORY = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
except (ValueError, OSError, AttributeError):   # pragma: no cover - non-POSIX
    PHYSICAL_MEMORY = 1 << 40

# PostgreSQL's limit for one field value (text, bytea): 1 GB.
MAX_VALUE_BYTES = (1 << 30) - 1

UTC = _dt.timezone.utc

# Cooperative checks run at least this often (rows) inside row-at-a-time loops.
CHECK_EVERY = 4096


class StatementLimits:
    """Cancel flag, deadline and memory budget of the statement running on a session.

    ``set()``/``is_set()``/``clear()`` keep the ``threading.Event``-like interface the
    executor already uses; a plain attribute is enough under the GIL.
    """

    __slots__ = ("_set", "timeout_ms", "memory_cap", "deadline", "used", "active", "notices",
                 "now", "txn_now", "statement_now", "zone", "zone_read", "backend", "ts_config",
                 "date_style", "date_order")

    def __init__(self) -> None:
        self._set = False
        self.active = False          # a statement is running (interrupt() only then)
        self.timeout_ms = 0          # 0: no statement timeout
        self.memory_cap = 0          # bytes; 0: no cap beyond physical memory
        self.deadline = 0.0
        self.used = 0
        self.notices: list | None = None    # the session's notices (notices.py)
        # now() is the transaction's start time in PostgreSQL: one value for a whole
        # statement, and for every statement of an explicit transaction. ``now`` is the
        # running statement's (read lazily: most statements never ask), ``txn_now`` the
        # open transaction's, ``statement_now`` statement_timestamp()'s.
        self.now = None
        self.txn_now = None
        self.statement_now = None
        # The session's TimeZone (SET TIME ZONE): timestamptz text is read and shown in
        # it. ``zone_read`` records that the running statement looked at it, so a plan
        # that folded a zone-dependent value is not cached for other sessions.
        self.zone = UTC
        self.zone_read = False
        # The session's backends.Backend (advisory locks, pg_stat_activity): set by the
        # session; functions that act for the session reach it here.
        self.backend = None
        # default_text_search_config: the configuration of to_tsvector(text) and kin
        # (textsearch/configs.py), read when they run, so a cached plan follows SET
        self.ts_config = "english"
        # DateStyle: output style (ISO only here) and the field order ambiguous date
        # input is read in (datetime_text.py)
        self.date_style = "ISO"
        self.date_order = "MDY"

    def set(self) -> None:
        if self.active:   # an interrupt between statements cancels nothing
            self._set = True

    def clear(self) -> None:
        self._set = False

    def is_set(self) -> bool:
        if self._set:
            return True
        return self.active and bool(self.deadline) and monotonic() >= self.deadline

    # ---- checks -------------------------------------------------------------------------------
    def check(self) -> None:
        if not self.active:
            return
        if self._set:
            raise errors.sql_error("57014", "canceling statement due to user request")
        if self.deadline and monotonic() >= self.deadline:
            raise errors.sql_error("57014", "canceling statement due to statement timeout")

    def charge(self, nbytes: int, what: str = "") -> None:
        """Account ``nbytes`` about to be allocated; 53200 when over the cap."""
        self.used += max(int(nbytes), 0)
        cap = self.memory_cap
        if (cap and self.used > cap) or self.used > PHYSICAL_MEMORY:
            used = self.used
            self.used = 0
            limit = cap if cap and used > cap else PHYSICAL_MEMORY
            raise errors.sql_error(
                "53200", "out of memory",
                detail=f"{what + ': ' if what else ''}the statement needs {format_bytes(used)}, "
                       f"over the limit of {format_bytes(limit)}",
                hint="SET max_statement_memory to raise the per-statement limit."
                if cap and used > cap else None)
        self.check()


_CURRENT: contextvars.ContextVar[StatementLimits | None] = contextvars.ContextVar(
    "rustmemodb_statement_limits", default=None)


def activate(limits: StatementLimits, in_transaction: bool = False):
    """Arm ``limits`` for a new statement and make it the current one; returns what
    ``deactivate`` needs. ``in_transaction``: the statement runs in an open transaction. Runs for every statement, point queries included, so the
    context variable is only set when it changes: a thread running one session's
    statements keeps it set (the object is disarmed between statements), and a nested
    statement of another session restores the outer one when it ends."""
    limits._set = False
    limits.used = 0
    limits.active = True
    if not in_transaction:          # the last transaction ended, however it ended
        limits.txn_now = None
    limits.now = limits.txn_now
    limits.statement_now = None
    limits.zone_read = False
    limits.deadline = monotonic() + limits.timeout_ms / 1000.0 if limits.timeout_ms else 0.0
    prev = _CURRENT.get()
    if prev is limits:
        return None
    if prev is None:
        _CURRENT.set(limits)
        return None
    return _CURRENT.set(limits)


def deactivate(limits: StatementLimits, token, in_transaction: bool = False) -> None:
    """Disarm ``limits``; ``in_transaction``: a transaction is still open, so now()
    keeps its value (the time of its first statement) until it ends."""
    if in_transaction and limits.txn_now is None:
        limits.txn_now = limits.now or clock()
    limits.active = False
    limits.deadline = 0.0
    limits._set = False
    if token is not None:
        _CURRENT.reset(token)


def current() -> StatementLimits | None:
    return _CURRENT.get()


def zone() -> _dt.tzinfo:
    """The running statement's session TimeZone (UTC outside a statement)."""
    lim = _CURRENT.get()
    if lim is None:
        return UTC
    lim.zone_read = True
    return lim.zone


def text_search_config() -> str:
    """The running statement's session default_text_search_config (``english``)."""
    lim = _CURRENT.get()
    return "english" if lim is None else lim.ts_config


def clock() -> _dt.datetime:
    """The wall clock in UTC, without a zone (timestamps here have none)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


def transaction_time() -> _dt.datetime:
    """now(), current_timestamp, localtimestamp: the running statement's transaction
    time (the wall clock when no statement is running)."""
    lim = _CURRENT.get()
    if lim is None or not lim.active:
        return clock()
    t = lim.now
    if t is None:
        t = lim.now = clock()
    return t


def statement_time() -> _dt.datetime:
    """statement_timestamp(): one value per statement, even inside a transaction."""
    lim = _CURRENT.get()
    if lim is None or not lim.active:
        return clock()
    t = lim.statement_now
    if t is None:
        t = lim.statement_now = lim.now if lim.now is not None and lim.txn_now is None \
            else clock()
    return t


def check() -> None:
    """Raise 57014 if the current statement was interrupted or timed out."""
    limits = _CURRENT.get()
    if limits is not None:
        limits.check()


_TICKS = [0]


def tick() -> None:
    """Count one unit of planning work; every 128th checks interrupt and timeout (for
    loops over the nodes of huge statements, where a check per node would cost; a unit
    may be a node bound or compiled, ~0.1 ms, so checks stay a few ms apart)."""
    _TICKS[0] += 1
    if not _TICKS[0] & 127:
        check()


def charge(nbytes: int, what: str = "") -> None:
    """Account an allocation of ``nbytes`` against the current statement (53200)."""
    limits = _CURRENT.get()
    if limits is not None:
        limits.charge(nbytes, what)
    elif nbytes > PHYSICAL_MEMORY:
        raise errors.sql_error("53200", "out of memory",
                               detail=f"{what + ': ' if what else ''}the statement needs "
                                      f"{format_bytes(nbytes)}")


def remaining() -> int:
    """Bytes the current statement may still allocate (physical memory without a cap)."""
    limits = _CURRENT.get()
    if limits is None:
        return PHYSICAL_MEMORY
    left = PHYSICAL_MEMORY - limits.used
    if limits.memory_cap:
        left = min(left, limits.memory_cap - limits.used)
    return left


def check_value_size(nbytes: int, what: str = "value") -> None:
    """54000 for one value over PostgreSQL's 1 GB field limit (before building it)."""
    if nbytes > MAX_VALUE_BYTES:
        raise errors.sql_error("54000", f"{what} too large",
                               detail=f"{format_bytes(nbytes)} exceeds the maximum of "
                                      f"{format_bytes(MAX_VALUE_BYTES + 1)} for one value")


# ---- the settings -------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_UNITS_B = {"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30, "tb": 1 << 40}
_SETTING = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_timeout(text: str, name: str = "statement_timeout") -> int:
    """``statement_timeout`` (or another time setting ``name``) as PostgreSQL reads it:
    integer ms, or a number with a unit."""
    m = _SETTING.match(text)
    unit = m.group(2).lower() if m else ""
    if not m or (unit and unit not in _UNITS_MS):
        raise errors.sql_error("22023", f'invalid value for parameter "{name}": "{text}"',
                               hint='Valid units for this parameter are "us", "ms", "s", '
                                    '"min", "h", and "d".')
    ms = float(m.group(1)) * _UNITS_MS[unit or "ms"]
    if ms < 0 or ms > 2_147_483_647:
        raise errors.sql_error("22023", f"{text} is outside the valid range for parameter "
                                        f'"{name}" (0 .. 2147483647)')
    return int(round(ms))


def parse_memory(text: str) -> int:
    """``max_statement_memory`` in bytes: a number with kB/MB/GB/TB (plain numbers are kB,
    as PostgreSQL's memory settings); 0 turns the cap off."""
    m = _SETTING.match(text)
    unit = m.group(2).lower() if m else ""
    if not m or (unit and unit not in _UNITS_B):
        raise errors.sql_error("22023", f'invalid value for parameter "max_statement_memory": '
                                        f'"{text}"',
                               hint='Valid units for this parameter are "B", "kB", "MB", "GB", '
                                    'and "TB".')
    value = float(m.group(1)) * _UNITS_B[unit or "kb"]
    if value < 0:
        raise errors.sql_error("22023", f'{text} is outside the valid range for parameter '
                                        '"max_statement_memory"')
    return int(value)


def show_timeout(ms: int) -> str:
    if ms == 0:
        return "0"
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def format_bytes(n: int) -> str:
    """PostgreSQL's memory units: exact in the largest unit that divides ``n``, else one
    decimal in the largest unit not above it."""
    if n == 0:
        return "0"
    units = (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10))
    for unit, size in units:
        if n >= size:
            return f"{n // size}{unit}" if n % size == 0 else f"{n / size:.1f}{unit}"
    return f"{n}B"


SETTINGS = ("statement_timeout", "max_statement_memory", "timezone", "default_text_search_config",
            "datestyle")

# POSIX-style names whose sign is the reverse of ISO's ("UTC+3" is three hours west)
_POSIX_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$", re.I)
_ISO_HOURS = re.compile(r"^([+-]?)(\d{1,2}(?:\.\d+)?)$")


def parse_zone(text: str) -> tuple[_dt.tzinfo, str]:
    """A TimeZone setting as PostgreSQL reads it: a zone name (``Europe/Paris``, ``UTC``),
    a number of hours east of UTC (``SET TIME ZONE -8``), or a POSIX spec (``UTC+3`` is
    UTC-3). Returns the zone and the text SHOW gives; 22023 for an unknown name."""
    name = text.strip().strip("'").strip()
    low = name.lower()
    if low in ("utc", "gmt", "z", "zulu", "etc/utc", "universal", "default", "local"):
        return UTC, {"gmt": "GMT", "etc/utc": "Etc/UTC", "universal": "Universal"}.get(
            low, "UTC")
    m = _ISO_HOURS.match(name)
    if m is not None:
        hours = float(m.group(2)) * (-1 if m.group(1) == "-" else 1)
        if abs(hours) < 24:
            return zone_of_offset(round(hours * 3600))
    m = _POSIX_OFFSET.match(re.sub(r"^<[^>]*>", "", name))   # SHOW's "<-08>+08" reads back
    # (a signed hh:mm that is no plain number of hours is POSIX too: '-03:30' is east)
    if m is not None:
        secs = (int(m.group(2)) * 3600 + int(m.group(3) or 0) * 60) * \
            (1 if m.group(1) == "-" else -1)
        return _dt.timezone(_dt.timedelta(seconds=secs)), name
    try:
        if "/" in name or re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name):   # EST5EDT too
            found = ZoneInfo(name)
            return found, found.key
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    raise errors.sql_error("22023", f'invalid value for parameter "TimeZone": "{name}"')


def zone_of_offset(seconds: int) -> tuple[_dt.tzinfo, str]:
    """A fixed zone ``seconds`` east of UTC (SET TIME ZONE 5, SET TIME ZONE INTERVAL
    '+02:00' HOUR TO MINUTE) and the text SHOW gives for it, PostgreSQL's POSIX
    spelling (``<+02>-02``, ``<-07:30>+07:30``)."""
    if abs(seconds) >= 86_400:
        raise errors.sql_error("22023", "time zone offset out of range",
                               hint="Python's fixed zones stay within 24 hours of UTC.")
    east = format_offset(seconds)
    west = format_offset(-seconds)
    return _dt.timezone(_dt.timedelta(seconds=seconds)), f"<{east}>{west}"


def format_offset(seconds: int) -> str:
    """A UTC offset as PostgreSQL prints it: ``+00``, ``+05:30``, ``-03:30``, with the
    seconds when there are some (``+00:09:21``, local mean time)."""
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    text = f"{seconds // 3600:02d}"
    if seconds % 3600:
        text += f":{seconds // 60 % 60:02d}"
        if seconds % 60:
            text += f":{seconds % 60:02d}"
    return sign + text


def apply_setting(limits: StatementLimits, name: str, value: str | None) -> str:
    """Validate and apply one of ``SETTINGS`` (None resets it); returns the SHOW text."""
    if name == "timezone":
        if value is None:
            limits.zone = UTC
            return "UTC"
        limits.zone, shown = parse_zone(value)
        return shown
    if name == "default_text_search_config":
        if value is None or value.lower() == "default":
            limits.ts_config = "english"
        else:
            from .textsearch.configs import config_name
            try:
                limits.ts_config = config_name(value)
            except errors.Error:
                raise errors.sql_error("22023", "invalid value for parameter "
                                       f'"default_text_search_config": "{value}"') from None
        return "pg_catalog." + limits.ts_config
    if name == "datestyle":
        limits.date_style, limits.date_order = ("ISO", "MDY") if value is None else \
            parse_datestyle(value, limits.date_style, limits.date_order)
        return f"{limits.date_style}, {limits.date_order}"
    if name == "statement_timeout":
        limits.timeout_ms = 0 if value is None or value.lower() == "default" else parse_timeout(value)
        return show_timeout(limits.timeout_ms)
    limits.memory_cap = 0 if value is None or value.lower() == "default" else parse_memory(value)
    return format_bytes(limits.memory_cap)


_STYLES = {"iso": "ISO", "sql": "SQL", "postgres": "Postgres", "german": "German"}
_ORDERS = {"ymd": "YMD", "dmy": "DMY", "euro": "DMY", "european": "DMY", "mdy": "MDY",
           "us": "MDY", "noneuro": "MDY", "noneuropean": "MDY"}


def parse_datestyle(value: str, style: str, order: str) -> tuple[str, str]:
    """SET DateStyle as PostgreSQL reads it (check_datestyle): words naming an output
    style and/or a field order, each keeping the current one when not named (German
    alone means DMY); 22023 for an unknown or conflicting word. Only the ISO output
    style is built: SQL, Postgres and German are 0A000 rather than accepted and
    ignored."""
    def invalid(detail: str) -> errors.Error:
        return errors.sql_error("22023", f'invalid value for parameter "DateStyle": '
                                         f'"{value}"', detail=detail)
    new_style = new_order = None
    for word in re.split(r"[\s,]+", value.strip()):
        low = word.lower()
        if not low:
            continue
        if low == "default":
            got_style, got_order = "ISO", "MDY"
        elif low in _STYLES:
            got_style, got_order = _STYLES[low], None
        elif low in _ORDERS:
            got_style, got_order = None, _ORDERS[low]
        else:
            raise invalid(f'Unrecognized key word: "{word}".')
        for got, have in ((got_style, new_style), (got_order, new_order)):
            if got is not None and have is not None and got != have:
                raise invalid('Conflicting "datestyle" specifications.')
        new_style = got_style or new_style
        new_order = got_order or new_order
    if new_style == "German" and new_order is None:
        new_order = "DMY"
    style, order = new_style or style, new_order or order
    if style != "ISO":
        raise errors.not_supported(f"DateStyle {style}",
                                   hint="Dates and times print in ISO 8601 here (DateStyle "
                                        "ISO); the input field order (DMY, MDY, YMD) applies.")
    return style, order


def date_order() -> str:
    """The running statement's DateStyle field order (``MDY``, ``DMY``, ``YMD``), for
    date text with the fields in an ambiguous order. A plan that folded such a value
    serves sessions reading dates the same way only (session.py ``_zone_fits``)."""
    lim = _CURRENT.get()
    if lim is None:
        return "MDY"
    lim.zone_read = True
    return lim.date_order


# ---- parameters ---------------------------------------------------------------------------

# PostgreSQL's protocol limit on parameters per statement.
MAX_PARAMS = 65535
