"""``'infinity'`` and ``'-infinity'`` of date, timestamp and timestamptz.

PostgreSQL keeps them as the extremes of the stored integer (INT32 min/max days for a
date, INT64 min/max microseconds for a timestamp): values no finite date reaches, so
comparisons, ordering, min/max, grouping and joins need nothing special. Arrow stores
dates and timestamps as the same integers, so the engine does the same; Python's
``date``/``datetime`` cannot hold them, so in Python form (rows, row functions,
parameters) an infinity is one of the six singletons below:

* an ``int`` subclass holding the Arrow sentinel, so that ``pa.array(values,
  type=timestamp)`` and ``pa.scalar`` store it as the sentinel with no conversion;
* ordered after (before) every ``date``/``datetime`` and equal only to itself, so that
  Python comparisons and sorts of a row path column agree with Arrow's;
* ``+``/``-`` an interval or a number of days keeps it as it is, as PostgreSQL's
  arithmetic does; subtracting two timestamps where one is infinite is ``22008``.

Arrow hands these values to Python only through ``pylist``/``pyscalar`` (pyarrow's own
``to_pylist`` raises OverflowError on them). The DB-API hands ``datetime.max``/``min``
(``date.max``/``min``) to the user, as asyncpg does (``python_value``); the wire server
sends PostgreSQL's own bytes (``'infinity'``, or the sentinel in binary).
"""
from __future__ import annotations

import datetime as _dt

from . import errors

INT32_MAX, INT32_MIN = 2 ** 31 - 1, -(2 ** 31)
INT64_MAX, INT64_MIN = 2 ** 63 - 1, -(2 ** 63)
_UTC = _dt.timezone.utc


class Infinite(int):
    """One of ``±infinity`` of one temporal type (see the module docstring)."""

    kind = ""                  # "DATE", "TIMESTAMP" or "TIMESTAMPTZ" (types' names)
    tzinfo = None

    @property
    def positive(self) -> bool:
        return int(self) > 0

    def __str__(self) -> str:
        return "infinity" if self.positive else "-infinity"

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __bool__(self) -> bool:
        return True

    # ---- order: after (before) every finite value, equal only to the same infinity ----
    def _key(self, other) -> int | None:
        """-1/0/1: self compared with other, or None when other is not temporal."""
        if isinstance(other, Infinite):
            a, b = self.positive, other.positive
            return 0 if a == b else (1 if a else -1)
        if isinstance(other, (_dt.date, _dt.datetime)):
            return 1 if self.positive else -1
        return None

    def __eq__(self, other) -> bool:
        return isinstance(other, Infinite) and self.positive == other.positive

    def __ne__(self, other) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(("infinity", self.positive))

    def __lt__(self, other):
        k = self._key(other)
        return NotImplemented if k is None else k < 0

    def __le__(self, other):
        k = self._key(other)
        return NotImplemented if k is None else k <= 0

    def __gt__(self, other):
        k = self._key(other)
        return NotImplemented if k is None else k > 0

    def __ge__(self, other):
        k = self._key(other)
        return NotImplemented if k is None else k >= 0

    # ---- arithmetic: an interval or a day count leaves it infinite ----------------------
    def __add__(self, other):
        if isinstance(other, (_dt.date, _dt.datetime, Infinite)):
            return NotImplemented
        return self

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, (_dt.date, _dt.datetime, Infinite)):
            raise subtract_error(self.kind)
        return self

    def __rsub__(self, other):
        raise subtract_error(self.kind)

    def __neg__(self):
        raise TypeError("an infinite date/time has no negation")

    def __reduce__(self):
        return _of, (self.kind, self.positive)


def subtract_error(kind: str) -> errors.Error:
    """PostgreSQL's error for ``a - b`` where one of the two is infinite."""
    what = "dates" if kind == "DATE" else "timestamps"
    return errors.sql_error("22008", f"cannot subtract infinite {what}")


class _Date(Infinite):
    kind = "DATE"


class _Timestamp(Infinite):
    kind = "TIMESTAMP"


class _Timestamptz(Infinite):
    kind = "TIMESTAMPTZ"
    tzinfo = _UTC


DATE_INF, DATE_NINF = _Date(INT32_MAX), _Date(INT32_MIN)
TS_INF, TS_NINF = _Timestamp(INT64_MAX), _Timestamp(INT64_MIN)
TSTZ_INF, TSTZ_NINF = _Timestamptz(INT64_MAX), _Timestamptz(INT64_MIN)
_BY_KIND = {("DATE", True): DATE_INF, ("DATE", False): DATE_NINF,
            ("TIMESTAMP", True): TS_INF, ("TIMESTAMP", False): TS_NINF,
            ("TIMESTAMPTZ", True): TSTZ_INF, ("TIMESTAMPTZ", False): TSTZ_NINF}


def _of(kind: str, positive: bool) -> Infinite:
    return _BY_KIND[(kind, positive)]


def of(kind: str, positive: bool) -> Infinite:
    """``+infinity`` (``positive``) or ``-infinity`` of type ``kind`` (DATE, TIMESTAMP,
    TIMESTAMPTZ)."""
    return _BY_KIND[(kind, positive)]


def as_kind(value: Infinite, kind: str) -> Infinite:
    """The same infinity as a value of another temporal type (a cast)."""
    return _BY_KIND[(kind, value.positive)]


_WORDS = {"infinity": True, "-infinity": False}


def read(text: str, kind: str) -> Infinite | None:
    """The infinity ``text`` spells (``infinity`` or ``-infinity``, any case, blanks
    around; PostgreSQL refuses ``+infinity``), or None."""
    if len(text) > 20 or "nf" not in text.lower():
        return None
    positive = _WORDS.get(text.strip().lower())
    return None if positive is None else _BY_KIND[(kind, positive)]


def python_value(value):
    """What the DB-API hands out for a value of a temporal column: an infinity becomes
    ``date.max``/``min`` or ``datetime.max``/``min`` (aware for timestamptz), as asyncpg
    maps them; every other value is returned as it is."""
    if not isinstance(value, Infinite):
        return value
    if value.kind == "DATE":
        return _dt.date.max if value.positive else _dt.date.min
    ts = _dt.datetime.max if value.positive else _dt.datetime.min
    return ts.replace(tzinfo=_UTC) if value.kind == "TIMESTAMPTZ" else ts


# ---- Arrow -> Python: pyarrow's to_pylist refuses the sentinels ---------------------------

def arrow_kind(arrow_type) -> str | None:
    """DATE/TIMESTAMP/TIMESTAMPTZ for an Arrow date32/timestamp type, else None."""
    import pyarrow as pa
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP" if arrow_type.tz is None else "TIMESTAMPTZ"
    if pa.types.is_date32(arrow_type):
        return "DATE"
    return None


def pylist(array) -> list:
    """``array.to_pylist()``, with a date/timestamp sentinel as its infinity."""
    try:
        return array.to_pylist()
    except OverflowError:
        return _pylist_slow(array)


def _pylist_slow(array) -> list:
    import pyarrow as pa
    import pyarrow.compute as pc
    kind = arrow_kind(array.type)
    if kind is None:
        if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
            return [pylist(v.values) if v.is_valid else None for v in _scalars(array)]
        raise_out_of_range()
    raw = pc.cast(array, pa.int32() if kind == "DATE" else pa.int64()).to_pylist()
    top = INT32_MAX if kind == "DATE" else INT64_MAX
    low = INT32_MIN if kind == "DATE" else INT64_MIN
    sentinel = [v in (top, low) for v in raw]
    finite = pc.if_else(pa.array(sentinel, pa.bool_()), pa.scalar(None, array.type), array)
    try:
        values = finite.to_pylist()
    except OverflowError:
        raise_out_of_range()
    pos, neg = _BY_KIND[(kind, True)], _BY_KIND[(kind, False)]
    for i, v in enumerate(raw):
        if v == top:
            values[i] = pos
        elif v == low:
            values[i] = neg
    return values


def _scalars(array):
    return array if not hasattr(array, "chunks") else [v for c in array.chunks for v in c]


def pyscalar(scalar):
    """``scalar.as_py()``, with a date/timestamp sentinel as its infinity."""
    try:
        return scalar.as_py()
    except OverflowError:
        import pyarrow as pa
        return pylist(pa.array([scalar], scalar.type) if scalar.is_valid else
                      pa.nulls(1, scalar.type))[0]


def raise_out_of_range():
    raise errors.sql_error("22008", "timestamp out of range")


def in_arrow(value) -> bool:
    """Whether an Arrow date/timestamp array or scalar holds an infinity (vectorised
    kernels that compute with the integers, casts and arithmetic, must not see them)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    kind = arrow_kind(value.type)
    if kind is None:
        return False
    top, low = (INT32_MAX, INT32_MIN) if kind == "DATE" else (INT64_MAX, INT64_MIN)
    raw = pc.cast(value, pa.int32() if kind == "DATE" else pa.int64())
    if isinstance(raw, pa.Scalar):
        return raw.is_valid and raw.as_py() in (top, low)
    if len(raw) == 0:
        return False
    mm = pc.min_max(raw)
    return mm["max"].as_py() == top or mm["min"].as_py() == low
