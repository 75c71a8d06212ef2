"""Range types through the embedded API: ``Range`` values in and out of the DB-API,
their text in ``.df()`` (ordered bytes in ``.arrow()``), the ordered byte form they are stored in, and a
database with range columns surviving a crash, a checkpoint and a reopen."""
from __future__ import annotations

import datetime as dt

import pytest

import rustmemodb
from rustmemodb import errors, ranges
from rustmemodb.durability.open import DurableDatabase
from rustmemodb.ranges import Range, algebra

K = ranges.KINDS
UTC = dt.timezone.utc


def _r(kind: str, text: str) -> Range:
    return ranges.parse_range(K[kind], text)


def test_bytes_order_is_postgresql_range_order():
    # empty first; lower bound (-inf, then [ before ( at one value); then upper bound
    texts = ["empty", "(,0)", "(,5]", "[-3,1)", "[1,2)", "[1,2]", "[1,)", "(1,2)", "[2,3)"]
    kind = K["NUMRANGE"]
    values = [ranges.parse_range(kind, t) for t in texts]
    encoded = [ranges.encode(kind, v) for v in values]
    assert sorted(encoded) == encoded
    for a in values:
        for b in values:
            cmp = (ranges.encode(kind, a) > ranges.encode(kind, b)) - \
                (ranges.encode(kind, a) < ranges.encode(kind, b))
            assert cmp == ranges.value.cmp_ranges(a, b), (a, b)
    negative = [ranges.encode(kind, ranges.construct(kind, v, None)) for v in
                (float("-inf"), -1e300, -2.5, -0.0, 0.0, 1e-300, 3.0, float("inf"))]
    assert negative == sorted(negative) and negative[3] == negative[4]   # -0 is 0


def test_codec_round_trips_and_refuses_damage():
    for kind, text in [("INT4RANGE", "[1,5)"), ("INT8RANGE", "(,-9000000000000)"),
                       ("DATERANGE", "[2020-01-01,)"), ("TSRANGE", "[2020-01-01,2020-01-02]"),
                       ("TSTZRANGE", "(2020-01-01 10:00+02,)"), ("NUMRANGE", "empty")]:
        value = _r(kind, text)
        data = ranges.encode(K[kind], value)
        assert ranges.decode(K[kind], data) == value
        assert ranges.codec.valid(K[kind], data)
        assert not ranges.codec.valid(K[kind], data + b"\x00")
    assert not ranges.codec.valid(K["INT4RANGE"], b"\x01\x01\x80")


def test_algebra_follows_rangetypes_c():
    k = K["INT4RANGE"]
    assert str(algebra.union(k, _r("INT4RANGE", "[1,3)"), _r("INT4RANGE", "[3,5)"))) == "[1,5)"
    assert str(algebra.difference(k, _r("INT4RANGE", "[1,9)"), _r("INT4RANGE", "[5,)"))) \
        == "[1,5)"
    with pytest.raises(errors.DataError) as info:
        algebra.union(k, _r("INT4RANGE", "[1,3)"), _r("INT4RANGE", "[4,5)"))
    assert info.value.sqlstate == "22000"
    assert algebra.adjacent(k, _r("INT4RANGE", "[1,3]"), _r("INT4RANGE", "[4,5)"))
    n = K["NUMRANGE"]
    assert not algebra.adjacent(n, _r("NUMRANGE", "[1,3]"), _r("NUMRANGE", "[4,5)"))


def test_dbapi_takes_and_returns_range_objects():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, r int8range, d daterange, "
                 "z tstzrange)")
    conn.execute("INSERT INTO t VALUES (?, ?, ?, ?)",
                 [1, Range(1, 5, "(]"), Range(dt.date(2020, 1, 1), None),
                  Range(dt.datetime(2020, 1, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                        None)])
    conn.execute("INSERT INTO t VALUES (?, ?, ?, ?)", [2, "[7,9)", "empty", None])
    rows = conn.execute("SELECT * FROM t ORDER BY id").fetchall()
    assert rows[0][1] == Range(2, 6) and str(rows[0][1]) == "[2,6)"
    assert rows[0][2].lower == dt.date(2020, 1, 1) and rows[0][2].upper_inf
    assert rows[0][3].lower == dt.datetime(2020, 1, 1, 10, tzinfo=UTC)
    assert rows[1][2].isempty and rows[1][2].bounds is None
    assert conn.execute("SELECT id FROM t WHERE r && ?", [Range(5, 8)]).fetchall() == \
        [(1,), (2,)]
    frame = conn.execute("SELECT r, d FROM t ORDER BY id").df()
    assert list(frame["r"]) == ["[2,6)", "[7,9)"]
    assert list(frame["d"]) == ["[2020-01-01,)", "empty"]
    raw = conn.execute("SELECT r FROM t ORDER BY id").arrow().column("r").to_pylist()
    assert [str(ranges.decode(K["INT8RANGE"], v)) for v in raw] == ["[2,6)", "[7,9)"]
    with pytest.raises(errors.Error) as info:
        conn.execute("INSERT INTO t VALUES (?, ?, NULL, NULL)", [3, Range(5, 1)])
    assert info.value.sqlstate == "22000"
    assert conn.execute("SELECT count(*) FROM t").fetchall() == [(2,)]


def test_unique_violation_shows_the_range_text():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE s (span int4range UNIQUE)")
    conn.execute("INSERT INTO s VALUES ('[1,5)')")
    with pytest.raises(errors.IntegrityError) as info:
        conn.execute("INSERT INTO s VALUES ('[1,4]')")
    assert info.value.detail == "Key (span)=([1,5)) already exists."


@pytest.mark.parametrize("checkpoint", [False, True])
def test_range_columns_survive_crash_and_reopen(tmp_path, checkpoint):
    path = tmp_path / "db"
    db = rustmemodb.Database.open(path, durability="sync")
    conn = db.connect()
    conn.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, during tsrange, seats int4range "
                 "UNIQUE, price numrange, days daterange, at tstzrange)")
    conn.execute("INSERT INTO b VALUES (1, '[2020-01-01 10:00,2020-01-01 12:00)', '[1,10)', "
                 "'[1.5,2.5]', '[2020-01-01,2020-01-05)', '[2020-01-01 10:00+00,)'), "
                 "(2, NULL, 'empty', '(,3)', 'empty', NULL)")
    conn.execute("UPDATE b SET seats = seats + '[10,12)' WHERE id = 1")
    if checkpoint:
        conn.execute("CHECKPOINT")
        conn.execute("INSERT INTO b VALUES (3, '(,)', '[20,30)', NULL, NULL, NULL)")
    before = conn.execute("SELECT id, during::text, seats::text, price::text, days::text, "
                          "at::text FROM b ORDER BY b.seats").fetchall()
    assert isinstance(db, DurableDatabase)
    db._abandon()
    db = rustmemodb.Database.open(path, durability="sync")
    conn = db.connect()
    after = conn.execute("SELECT id, during::text, seats::text, price::text, days::text, "
                         "at::text FROM b ORDER BY b.seats").fetchall()
    assert after == before
    assert after[1][2] == "[1,12)"
    assert conn.execute("SELECT id FROM b WHERE seats @> 11").fetchall() == [(1,)]
    with pytest.raises(errors.IntegrityError):
        conn.execute("INSERT INTO b (id, seats) VALUES (9, '[1,11]')")
    db.close()


def test_prepared_statement_takes_a_range_argument():
    conn = rustmemodb.connect()
    conn.execute("CREATE TABLE p (id INTEGER, r int4range)")
    conn.execute("INSERT INTO p VALUES (1, '[5,6)'), (2, '[1,2)')")
    conn.execute("PREPARE q(int4range) AS SELECT id FROM p WHERE r = $1")
    assert conn.execute("EXECUTE q(int4range(5, 6))").fetchall() == [(1,)]
    assert conn.execute("EXECUTE q('[1,2)')").fetchall() == [(2,)]
    with pytest.raises(errors.Error) as info:
        conn.execute("SELECT id FROM p WHERE r = ?", [b"\x01junk"])
    assert info.value.sqlstate == "42804"


def test_rows_read_from_disk_with_a_malformed_range_are_refused():
    from rustmemodb.durability import tables
    from rustmemodb.storage.schema import Column, TableSchema
    schema = TableSchema("t", (Column("r", "INT4RANGE"),))
    good = ranges.encode(K["INT4RANGE"], _r("INT4RANGE", "[1,5)"))
    tables.check_rows(schema, [(good,), (None,)])
    with pytest.raises(ValueError):
        tables.check_rows(schema, [(good[:-3],)])


def test_bytewise_predicates_agree_with_the_reference_algebra():
    import random
    from rustmemodb.ranges import bytewise
    rnd = random.Random(7)
    for name in ("INT4RANGE", "NUMRANGE"):
        kind = K[name]
        pool = [ranges.parse_range(kind, "empty")]
        for _ in range(60):
            lo, hi = sorted(rnd.randint(0, 6) for _ in range(2))
            flags = rnd.choice(["[]", "[)", "(]", "()"])
            lower = None if rnd.random() < 0.15 else lo
            upper = None if rnd.random() < 0.15 else hi
            if name == "NUMRANGE":
                lower = None if lower is None else float(lower)
                upper = None if upper is None else float(upper)
            pool.append(ranges.construct(kind, lower, upper, flags))
        stored = [ranges.encode(kind, r) for r in pool]
        for a, ea in zip(pool, stored):
            for b, eb in zip(pool, stored):
                assert bytewise.overlaps(ea, eb) == algebra.overlaps(a, b), (a, b)
                assert bytewise.contains(ea, eb) == algebra.contains(a, b), (a, b)
            assert (bytewise.lower(kind, ea), bytewise.upper(kind, ea)) == (a.lower, a.upper)
            for v in range(-1, 8):
                v = float(v) if name == "NUMRANGE" else v
                assert bytewise.contains_elem(kind, ea, v) == algebra.contains_elem(a, v), (a, v)
