"""A DataFrame queried by name is converted to Arrow once, not on every query.

A notebook's replacement scan hands the session the same pandas DataFrame again and
again; converting it costs ~1 s per query at 5M rows (object columns such as dates
are walked value by value). ``FrameCache`` keeps the Arrow table per frame, keyed on
the frame's identity (checked through a weak reference, so a reused ``id`` never
matches) plus a cheap version check that relies on pandas' Copy-on-Write (always on
since pandas 3): the cache holds a shallow copy of the frame, which shares its
blocks, so any later write to the frame (``loc``/``at``/``iloc`` setitem, an in-place
method, a new or dropped column) makes pandas give the frame new block arrays. The
version is the identities of those arrays (kept alive by the shallow copy, so they
cannot be reused), the column labels and the shape. Without Copy-on-Write (pandas
< 3 with the mode off) frames are converted every time, as before.

One cache per session, holding at most ``MAX_FRAMES`` frames (least recently used
dropped first); an entry dies with its frame.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict

from ..lazy_import import arrow as pa

from .arrow_io import to_arrow_table

MAX_FRAMES = 8


def _copy_on_write(pd) -> bool:
    try:
        if int(pd.__version__.split(".")[0]) >= 3:
            return True
        return pd.get_option("mode.copy_on_write") is True
    except Exception:  # noqa: BLE001 - an unknown pandas: do not cache
        return False


def _version(frame) -> tuple | None:
    """What changes whenever the frame's data does (see the module docstring)."""
    try:
        blocks = frame._mgr.blocks
    except AttributeError:
        return None
    return (tuple(id(b.values) for b in blocks), tuple(frame.columns), frame.shape)


class FrameCache:
    """Arrow tables of recently queried pandas DataFrames (see the module docstring)."""

    def __init__(self) -> None:
        # id(frame) -> (weakref to frame, version, shallow copy keeping it valid, table)
        self._entries: OrderedDict[int, tuple] = OrderedDict()

    def arrow(self, obj, name: str | None = None) -> pa.Table:
        """``obj`` (queried as ``name``) as an Arrow table; a pandas DataFrame seen before
        and unchanged since comes from the cache."""
        module = type(obj).__module__.split(".")[0]
        if module != "pandas":
            return to_arrow_table(obj, name)
        import pandas as pd
        if not isinstance(obj, pd.DataFrame) or not _copy_on_write(pd):
            return to_arrow_table(obj, name)
        key = id(obj)
        entry = self._entries.get(key)
        version = _version(obj)
        if entry is not None:
            ref, seen, _, table = entry
            if ref() is obj and version is not None and version == seen:
                self._entries.move_to_end(key)
                return table
            del self._entries[key]
        table = to_arrow_table(obj, name)
        if version is None:
            return table
        try:
            ref = weakref.ref(obj, lambda r, k=key, c=self._entries:
                              c.pop(k) if c.get(k, (None,))[0] is r else None)
        except TypeError:
            return table
        self._entries[key] = (ref, version, obj.copy(deep=False), table)
        while len(self._entries) > MAX_FRAMES:
            self._entries.popitem(last=False)
        return table

    def clear(self) -> None:
        self._entries.clear()
