"""A DataFrame queried by name is converted once and reused until it changes
(api/frame_cache.py): every kind of write to the frame must show in the next query."""
import gc

import numpy as np
import pandas as pd
import pytest

import rustmemodb
from rustmemodb.api import frame_cache
from rustmemodb.api.frame_cache import FrameCache

pytestmark = pytest.mark.skipif(not frame_cache._copy_on_write(pd),
                                reason="caching needs pandas Copy-on-Write")


def scanning(frames: dict):
    c = rustmemodb.connect()
    c.replacement_scan = frames.get
    return c


def test_same_frame_is_converted_once(monkeypatch):
    df = pd.DataFrame({"a": np.arange(10), "s": [f"x{i}" for i in range(10)]})
    c = scanning({"df": df})
    calls = []
    real = frame_cache.to_arrow_table
    monkeypatch.setattr(frame_cache, "to_arrow_table", lambda *a: calls.append(1) or real(*a))
    for _ in range(3):
        assert c.execute("SELECT sum(a), count(s) FROM df").fetchone() == (45, 10)
    assert len(calls) == 1


@pytest.mark.parametrize("write", [
    lambda df: df.loc.__setitem__((0, "a"), 100),
    lambda df: df.at.__setitem__((1, "s"), "changed"),
    lambda df: df.iloc.__setitem__((2, 0), 100),
    lambda df: df.__setitem__("a", df["a"] * 2),
    lambda df: df.__setitem__("b", 1),
    lambda df: df.drop(index=[3], inplace=True),
    lambda df: df.sort_values("a", ascending=False, inplace=True),
])
def test_every_write_to_the_frame_shows(write):
    df = pd.DataFrame({"a": np.arange(10), "s": [f"x{i}" for i in range(10)]})
    c = scanning({"df": df})
    query = "SELECT * FROM df"
    c.execute(query).fetchall()
    write(df)
    expected = [tuple(r) for r in df.itertuples(index=False, name=None)]
    got = c.execute(query).fetchall()
    assert [tuple(x.item() if hasattr(x, "item") else x for x in r) for r in got] == \
        [tuple(x.item() if hasattr(x, "item") else x for x in r) for r in expected]


def test_another_frame_under_the_same_name_is_seen():
    frames = {"df": pd.DataFrame({"a": [1, 2]})}
    c = scanning(frames)
    assert c.execute("SELECT sum(a) FROM df").fetchone() == (3,)
    frames["df"] = pd.DataFrame({"a": [5]})
    gc.collect()
    assert c.execute("SELECT sum(a) FROM df").fetchone() == (5,)


def test_entries_die_with_their_frames_and_are_bounded():
    cache = FrameCache()
    df = pd.DataFrame({"a": [1]})
    cache.arrow(df)
    assert len(cache._entries) == 1
    del df
    gc.collect()
    assert len(cache._entries) == 0
    keep = [pd.DataFrame({"a": [i]}) for i in range(frame_cache.MAX_FRAMES + 3)]
    for f in keep:
        cache.arrow(f)
    assert len(cache._entries) == frame_cache.MAX_FRAMES
