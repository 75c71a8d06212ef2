"""Window functions against a brute-force reference, plus NULL/empty corner cases and DISTINCT ON."""
import random

import pytest

import rustmemodb


def brute(rows, part, order_key, frame, fn):
    """rows: list of (id, g, k, v); returns {id: value} for fn over frame (ROWS mode)."""
    out = {}
    groups = {}
    for r in rows:
        groups.setdefault(r[part], []).append(r)
    for members in groups.values():
        members.sort(key=lambda r: (r[order_key] is None, r[order_key], r[0]))
        m = len(members)
        for i, r in enumerate(members):
            lo = max(0, i - frame[0]) if frame[0] is not None else 0
            hi = min(m - 1, i + frame[1]) if frame[1] is not None else m - 1
            vals = [x[3] for x in members[lo:hi + 1] if x[3] is not None]
            if fn == "sum":
                out[r[0]] = sum(vals) if vals else None
            elif fn == "count":
                out[r[0]] = len(vals)
            elif fn == "min":
                out[r[0]] = min(vals) if vals else None
            elif fn == "max":
                out[r[0]] = max(vals) if vals else None
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("fn", ["sum", "count", "min", "max"])
@pytest.mark.parametrize("frame", [(None, 0), (2, 1), (0, None), (None, None), (1, 3)])
def test_rows_frames_match_reference(seed, fn, frame):
    rnd = random.Random(seed)
    rows = [(i, rnd.choice([1, 2, 3, None]), rnd.randint(0, 20),
             rnd.choice([None, rnd.randint(-50, 50)])) for i in range(60)]
    c = rustmemodb.connect()
    c.execute("CREATE TABLE w (id INTEGER, g INTEGER, k INTEGER, v INTEGER)")
    c.executemany("INSERT INTO w VALUES (?, ?, ?, ?)", rows)
    start = "UNBOUNDED PRECEDING" if frame[0] is None else f"{frame[0]} PRECEDING"
    end = "UNBOUNDED FOLLOWING" if frame[1] is None else (
        "CURRENT ROW" if frame[1] == 0 else f"{frame[1]} FOLLOWING")
    if frame[0] == 0:
        start = "CURRENT ROW"
    got = dict(c.execute(f"SELECT id, {fn}(v) OVER (PARTITION BY g ORDER BY k, id ROWS BETWEEN "
                         f"{start} AND {end}) FROM w").fetchall())
    lo = None if frame[0] is None else frame[0]
    assert got == brute(rows, 1, 2, (lo, frame[1]), fn)


def test_ranking_and_empty_input():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE s (g TEXT, v INTEGER)")
    assert c.execute("SELECT rank() OVER (ORDER BY v) FROM s").fetchall() == []
    c.execute("INSERT INTO s VALUES (NULL, 1), (NULL, 1), ('a', NULL), ('a', 2)")
    got = c.execute("SELECT g, v, rank() OVER (PARTITION BY g ORDER BY v), "
                    "percent_rank() OVER (PARTITION BY g ORDER BY v), "
                    "cume_dist() OVER (PARTITION BY g ORDER BY v) FROM s ORDER BY g, v").fetchall()
    assert got == [("a", 2, 1, 0.0, 0.5), ("a", None, 2, 1.0, 1.0),
                   (None, 1, 1, 0.0, 1.0), (None, 1, 1, 0.0, 1.0)]


def test_running_max_text_and_nth_value():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (i INTEGER, s TEXT)")
    c.execute("INSERT INTO t VALUES (1, 'b'), (2, 'a'), (3, NULL), (4, 'c')")
    got = c.execute("SELECT i, max(s) OVER (ORDER BY i), min(s) OVER (ORDER BY i), "
                    "nth_value(s, 2) OVER (ORDER BY i) FROM t ORDER BY i").fetchall()
    assert got == [(1, "b", "b", None), (2, "b", "a", "a"), (3, "b", "a", "a"),
                   (4, "c", "a", "a")]


def test_ntile_errors_and_window_in_where():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (i INTEGER)")
    c.execute("INSERT INTO t VALUES (1), (2)")
    with pytest.raises(rustmemodb.Error) as info:
        c.execute("SELECT ntile(0) OVER () FROM t")
    assert info.value.sqlstate == "22014"
    with pytest.raises(rustmemodb.Error) as info:
        c.execute("SELECT i FROM t WHERE rank() OVER () = 1")
    assert info.value.sqlstate == "42P20"


def test_distinct_on_takes_first_in_order():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (g TEXT, v INTEGER)")
    c.execute("INSERT INTO t VALUES ('a', 3), ('a', 1), ('b', 5), (NULL, 2), (NULL, 1)")
    got = c.execute("SELECT DISTINCT ON (g) g, v FROM t ORDER BY g, v DESC").fetchall()
    assert got == [("a", 3), ("b", 5), (None, 2)]
