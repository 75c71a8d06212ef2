"""Values <-> bytes for everything durability writes that is not an Arrow batch.

Log records and checkpoint sidecars carry small structures (tuples, dicts,
strings, numbers) and row values in their storage form (``types.py``: int,
float, str, bool, None, ``datetime.date``, ``datetime.datetime``). They are
written as MessagePack with every non-native value tagged explicitly as an
extension type, so reading a file can only ever produce these plain values:
no class is looked up by name, nothing is evaluated. Anything else is refused
when *writing* (a commit that cannot be logged fails instead of being logged
in a form that cannot be read back).

    ext 1  datetime.datetime   ISO 8601 text (exact: microseconds, tzinfo offset, fold)
    ext 2  datetime.date       ISO 8601 text
    ext 3  int outside int64   decimal text
    ext 4  uuid.UUID           16 bytes
    ext 5  decimal.Decimal     text
    ext 6  datetime.timedelta  "days,seconds,microseconds"
    ext 7  types.Interval      "months,days,microseconds" (Arrow's MonthDayNano too)
    ext 8  datetime.time       ISO 8601 text (a TIME; bytes, a BYTEA, are MessagePack's bin)

Arrays decode as tuples (rows are tuples), maps as dicts. ``unpack`` raises
``ValueError`` on anything malformed; callers turn that into XX001.
"""
from __future__ import annotations

import datetime as _dt
import decimal
import threading
import uuid
from typing import Any

import msgpack
import numpy as np

from ..types import Interval

_DATETIME, _DATE, _BIGINT, _UUID, _DECIMAL, _TIMEDELTA, _INTERVAL, _TIME = 1, 2, 3, 4, 5, 6, 7, 8
_INT64 = (-(1 << 63), (1 << 64) - 1)


def _default(value: Any) -> msgpack.ExtType:
    if isinstance(value, _dt.datetime):
        return msgpack.ExtType(_DATETIME, value.isoformat().encode())
    if isinstance(value, _dt.date):
        return msgpack.ExtType(_DATE, value.isoformat().encode())
    if isinstance(value, _dt.time):
        return msgpack.ExtType(_TIME, value.isoformat().encode())
    if isinstance(value, int):
        return msgpack.ExtType(_BIGINT, str(int(value)).encode())
    if isinstance(value, uuid.UUID):
        return msgpack.ExtType(_UUID, value.bytes)
    if isinstance(value, decimal.Decimal):
        return msgpack.ExtType(_DECIMAL, str(value).encode())
    if isinstance(value, _dt.timedelta):
        return msgpack.ExtType(_TIMEDELTA,
                               f"{value.days},{value.seconds},{value.microseconds}".encode())
    if isinstance(value, Interval) or type(value).__name__ == "MonthDayNano":  # (Arrow's)
        value = Interval.of(value)
        return msgpack.ExtType(_INTERVAL, f"{value.months},{value.days},{value.micros}".encode())
    if isinstance(value, np.generic):          # a numpy scalar: its Python value
        return value.item()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)          # type: ignore[return-value]
    raise TypeError(f"a value of type {type(value).__name__} cannot be written to disk")


def _ext(code: int, data: bytes) -> Any:
    if code == _UUID:
        return uuid.UUID(bytes=data)
    text = data.decode("ascii")
    if code == _DATETIME:
        return _dt.datetime.fromisoformat(text)
    if code == _DATE:
        return _dt.date.fromisoformat(text)
    if code == _TIME:
        return _dt.time.fromisoformat(text)
    if code == _BIGINT:
        if len(text) > 400:
            raise ValueError("integer too long")
        return int(text)
    if code == _DECIMAL:
        return decimal.Decimal(text)
    if code == _INTERVAL:
        months, days, micros = (int(p) for p in text.split(","))
        try:
            return Interval(months, days, micros)
        except Exception as exc:        # out of range: a damaged record
            raise ValueError(f"interval out of range: {text}") from exc
    if code == _TIMEDELTA:
        days, seconds, micros = (int(p) for p in text.split(","))
        return _dt.timedelta(days=days, seconds=seconds, microseconds=micros)
    raise ValueError(f"unknown value tag {code}")


_packers = threading.local()


def _packer() -> msgpack.Packer:
    """This thread's Packer (one is not thread-safe). ``msgpack.packb`` builds a new one
    for every call, as much work as packing a point UPDATE's commit record (~1 us of the
    ~2 us, measured): every commit is packed here."""
    packer = _packers.__dict__.get("packer")
    if packer is None:
        packer = _packers.packer = msgpack.Packer(default=_default, use_bin_type=True,
                                                  datetime=False)
    return packer


def pack(value: Any) -> bytes:
    """``value`` as bytes; TypeError for a value with no durable form."""
    packer = _packer()
    try:
        return packer.pack(value)      # (a failed pack leaves the packer empty)
    except OverflowError:     # an int beyond 64 bits somewhere: msgpack asks no default
        return packer.pack(_widen(value))


def _widen(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
        return msgpack.ExtType(_BIGINT, str(value).encode())
    if isinstance(value, (list, tuple)):
        return [_widen(v) for v in value]
    if isinstance(value, dict):
        return {_widen(k): _widen(v) for k, v in value.items()}
    return value


def unpack(data) -> Any:
    """The value ``pack`` wrote; ValueError for anything malformed."""
    try:
        return msgpack.unpackb(bytes(data), raw=False, use_list=False, ext_hook=_ext,
                               strict_map_key=False, timestamp=0)
    except ValueError:
        raise
    except Exception as exc:      # msgpack's own errors, UnicodeDecodeError, TypeError...
        raise ValueError(f"{type(exc).__name__}: {exc}") from None
