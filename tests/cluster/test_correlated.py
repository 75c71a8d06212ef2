"""Subqueries correlated off the partition key (``cluster/correlated.py``): the outer and
inner rows are placed by the correlation columns shard to shard, then each shard runs
the statement, subqueries included. Every answer is the single engine's (NULLs of NOT
IN / NOT EXISTS, empty groups of scalar subqueries), nothing table-sized passes through
the coordinator, and EXPLAIN names the exchanges."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import cluster

from bench.cluster import TPCH_CORRELATED

from .test_less_gathered import _check, _same, _table_bytes

N = 3000


def _setup(shuffle="auto", shards=3, backend="local", address=None, planner="plan"):
    """``o`` placed by its key ``ok``, ``l`` by ``lk`` (of a two-column key), ``cu`` by
    ``id``; the subqueries correlate on ``o.ck``, ``l.pk``, ``cu.nat``, ... (NULLs in
    ``o.ck`` and ``l.pk``)."""
    c = cluster.connect(backend, shards=shards, shuffle=shuffle, address=address,
                        planner=planner)
    s = rustmemodb.connect()
    for x in (c, s):
        x.execute("CREATE TABLE o (ok INTEGER PRIMARY KEY, ck INTEGER, pri TEXT, d INTEGER)")
        x.execute("CREATE TABLE l (lk INTEGER, ln INTEGER, pk INTEGER, c INTEGER, q FLOAT, "
                  "PRIMARY KEY (lk, ln))" + (" PARTITION BY HASH (lk)" if x is c else ""))
        x.execute("CREATE TABLE cu (id INTEGER PRIMARY KEY, nat INTEGER, bal FLOAT)")
        x.executemany("INSERT INTO o VALUES (?, ?, ?, ?)",
                      [(i, (i * 7) % 900 if i % 17 else None, f"p{i % 5}", i % 30)
                       for i in range(N)])
        x.executemany("INSERT INTO l VALUES (?, ?, ?, ?, ?)",
                      [(i % 3500, i // 3500, (i * 13) % 400 if i % 23 else None, i % 11,
                        (i % 50) * 1.5) for i in range(4 * N)])
        x.executemany("INSERT INTO cu VALUES (?, ?, ?)",
                      [(i, i % 25, (i % 97) * 10.0) for i in range(1000)])
    return c, s


CORRELATED = [
    # semi-join / anti-join on a column that is not the inner table's key
    ("SELECT count(*) FROM cu WHERE EXISTS (SELECT 1 FROM o WHERE o.ck = cu.id)", "shuffle"),
    ("SELECT count(*) FROM cu WHERE NOT EXISTS (SELECT * FROM o WHERE o.ck = cu.id "
     "AND o.d > 3)", "shuffle"),
    # correlated by columns that are nobody's key, NOT IN over a set holding NULLs
    ("SELECT id FROM cu WHERE id NOT IN (SELECT ck FROM o WHERE o.d = cu.nat) "
     "ORDER BY id LIMIT 20", "shuffle"),
    ("SELECT id, nat FROM cu WHERE nat IN (SELECT d FROM o WHERE o.ck = cu.id) ORDER BY id",
     "shuffle"),
    ("SELECT count(*) FROM o WHERE d NOT IN (SELECT c FROM l WHERE l.pk = o.ck)", "shuffle"),
    # a grouped aggregate joined back (TPC-H Q17), the outer and inner table the same
    ("SELECT count(*), sum(q) FROM l WHERE q < (SELECT 0.5 * avg(q) FROM l l2 "
     "WHERE l2.pk = l.pk)", "shuffle"),
    ("SELECT count(*) FROM cu WHERE bal > (SELECT avg(q) FROM l WHERE l.pk = cu.id)",
     "shuffle"),
    # scalar subqueries in the SELECT list: empty groups give 0 and NULL
    ("SELECT id, (SELECT count(*) FROM o WHERE o.ck = cu.id) AS n, "
     "(SELECT max(d) FROM o WHERE o.ck = cu.id) FROM cu ORDER BY id LIMIT 30", "shuffle"),
    ("SELECT ok, ck, (SELECT sum(q) FROM l WHERE l.pk = o.ck) FROM o WHERE ok < 60 "
     "ORDER BY ok", "shuffle"),
    # correlated off the key by an expression: the SQL-level path copies the inner
    # table to every shard, the plan split repartitions o by o.ck + 1
    ("SELECT count(*) FROM o WHERE EXISTS (SELECT 1 FROM cu WHERE cu.id = o.ck + 1)",
     "shuffle"),
    # nested: a NOT EXISTS inside an EXISTS, both tied by pk
    ("SELECT count(*) FROM cu WHERE EXISTS (SELECT 1 FROM l WHERE l.pk = cu.id AND "
     "NOT EXISTS (SELECT 1 FROM o WHERE o.ck = l.pk AND o.d = l.c))", "shuffle"),
    # a scalar subquery with its own ORDER BY … LIMIT, ALL, a correlation two levels
    # down, an expression IN, an aggregate of the outer table over itself
    ("SELECT id, (SELECT q FROM l WHERE l.pk = cu.id ORDER BY q DESC, lk LIMIT 1) FROM cu "
     "ORDER BY id LIMIT 25", "shuffle"),
    ("SELECT ok FROM o WHERE d > ALL (SELECT c FROM l WHERE l.pk = o.ck) ORDER BY ok "
     "LIMIT 10", "shuffle"),
    ("SELECT count(*) FROM o WHERE EXISTS (SELECT 1 FROM cu WHERE cu.id = o.ck AND EXISTS "
     "(SELECT 1 FROM l WHERE l.pk = o.ck AND l.c = cu.nat % 11))", "shuffle"),
    ("SELECT count(*) FROM o WHERE pri IN (SELECT 'p' || (c % 5) FROM l WHERE l.pk = o.ck)",
     "shuffle"),
    ("SELECT count(*) FROM o x WHERE x.d = (SELECT max(y.d) FROM o y WHERE y.ck = x.ck)",
     "shuffle"),
    ("SELECT count(*) FROM cu WHERE (SELECT sum(q) FROM l WHERE l.pk = cu.id) IS NULL",
     "shuffle"),
    # an inner join of two tables placed by one class (o.ck = cu.id) with a subquery
    ("SELECT cu.nat, count(*) FROM cu JOIN o ON o.ck = cu.id WHERE o.d > (SELECT "
     "min(l.c) FROM l WHERE l.pk = cu.id) GROUP BY cu.nat ORDER BY 1", "shuffle"),
]


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_correlated_subqueries_off_the_key_run_on_the_shards(shuffle):
    c, s = _setup(shuffle)
    try:
        _check(c, s, CORRELATED, _table_bytes(c, "l"))
    finally:
        c.close()


OUTER_JOINS = [
    "SELECT count(*) FROM o LEFT JOIN cu ON cu.id = o.ck WHERE EXISTS (SELECT 1 FROM l "
    "WHERE l.pk = o.ck)",
    "SELECT o.ok, cu.nat, (SELECT count(*) FROM l WHERE l.pk = cu.id) FROM o LEFT JOIN cu "
    "ON cu.id = o.ck WHERE o.ok < 100 ORDER BY 1",
    "SELECT count(*), count(cu.id) FROM cu RIGHT JOIN o ON cu.id = o.ck WHERE cu.id IS NULL "
    "OR NOT EXISTS (SELECT 1 FROM l WHERE l.pk = o.ck AND l.c > 8)",
    "SELECT count(*) FROM o FULL JOIN cu ON cu.id = o.ck WHERE cu.nat IS NULL OR cu.bal > "
    "(SELECT avg(q) FROM l WHERE l.pk = cu.id)",
]


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_outer_joins_with_correlated_subqueries(shuffle):
    # The statement's outer joins placed by their ON equality (the null-extended rows
    # stay where their preserved row is); WHERE IS NULL tests are not pushed into scans.
    c, s = _setup(shuffle)
    try:
        _check(c, s, [(q, "shuffle") for q in OUTER_JOINS], _table_bytes(c, "l"))
        assert c.last_plan["exchanges"][0][:2] == ("o", "ck")
    finally:
        c.close()


@pytest.mark.parametrize("planner", ["sql", "plan"])
def test_placement_follows_the_correlation_columns(planner):
    # The plan split places the decorrelated semi-join itself (planexchange.py); the
    # SQL-level path (correlated.py) places the subquery's tables by the same columns.
    c, s = _setup(planner=planner)
    try:
        q = CORRELATED[0][0]
        c.execute(q)
        assert c.last_plan["exchanges"][0][:2] == ("o", "ck")
        assert c.last_plan["in_place"] == ["cu"]
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + q).fetchall())
        assert "Exchange: repartition o by hash(ck)" in text
        if planner == "sql":
            assert "Subqueries on each shard" in text and "o.ck" in text
        else:
            assert "Planner: the engine's bound and optimized plan" in text
        q = next(q for q, _ in CORRELATED if "o.ck + 1" in q)
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + q).fetchall())
        if planner == "sql":
            assert "Exchange: broadcast cu to every shard" in text
        else:   # the plan split repartitions o by the computed key; cu stays
            assert "Exchange: repartition o by hash(jk)" in text
            assert '("s0"."ck" + 1) AS "jk"' in text
        analyzed = "\n".join(r[0] for r in c.execute("EXPLAIN ANALYZE " + CORRELATED[2][0])
                             .fetchall())
        assert "bytes shipped between shards" in analyzed
    finally:
        c.close()


def test_a_join_on_unqualified_partition_keys_splits():
    c, s = _setup()
    try:
        q = "SELECT pri, count(*), sum(q) FROM o JOIN l ON lk = ok GROUP BY pri ORDER BY pri"
        _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
        assert c.last_plan["strategy"] == "split" and c.last_plan["in_place"] == ["o", "l"]
    finally:
        c.close()


def test_scalar_subquery_of_several_rows_is_21000_and_empty_tables():
    c, s = _setup()
    try:
        q = "SELECT count(*) FROM cu WHERE bal > (SELECT q FROM l WHERE l.pk = cu.id)"
        for x in (c, s):
            with pytest.raises(rustmemodb.Error) as err:
                x.execute(q)
            assert err.value.sqlstate == "21000"
        for x in (c, s):
            x.execute("CREATE TABLE e (id INTEGER PRIMARY KEY, k INTEGER)")
        for q in ["SELECT count(*) FROM cu WHERE NOT EXISTS (SELECT 1 FROM e WHERE e.k = cu.nat)",
                  "SELECT count(*) FROM cu WHERE nat NOT IN (SELECT id FROM e WHERE e.k = cu.nat)",
                  "SELECT id, (SELECT count(*) FROM e WHERE e.k = cu.nat), (SELECT min(id) FROM e "
                  "WHERE e.k = cu.nat) FROM cu ORDER BY id LIMIT 3"]:
            assert c.execute(q).fetchall() == s.execute(q).fetchall(), q
            assert c.last_plan["strategy"] != "gather", q
    finally:
        c.close()


def test_long_in_lists_are_placed_not_gathered(monkeypatch):
    # An uncorrelated IN of more values than are written in as a list: a positive
    # conjunct links its column to the subquery's; the rest (NOT IN, IN in the SELECT
    # list) copy the subquery's table to every shard when that is cheaper than
    # gathering, with the one engine's NULL semantics either way.
    import importlib
    connect_mod = importlib.import_module("rustmemodb.cluster.select_plan")
    monkeypatch.setattr(connect_mod, "IN_LIST_ROWS", 50)
    c, s = _setup()
    try:
        queries = [
            ("SELECT pri, count(*) FROM o WHERE ck IN (SELECT pk FROM l WHERE c < 5) "
             "GROUP BY pri ORDER BY pri", "shuffle"),
            # (the plan split's semi-join: copying o's ck to every shard costs fewer
            # rows than moving l and o, by the same broadcast-vs-shuffle formula)
            ("SELECT count(*) FROM l WHERE pk IN (SELECT ck FROM o)", "broadcast"),
            ("SELECT count(*) FROM cu WHERE id IN (SELECT ck FROM o WHERE d < 10) AND "
             "nat IN (SELECT c FROM l)", None),
            ("SELECT count(*) FROM cu WHERE id NOT IN (SELECT ck FROM o)", None),
            ("SELECT count(*) FROM cu WHERE id NOT IN (SELECT ck FROM o WHERE ck IS NOT NULL)",
             None),
            ("SELECT id, id IN (SELECT ck FROM o) FROM cu ORDER BY id LIMIT 40", None),
            ("SELECT id, id NOT IN (SELECT ck FROM o WHERE ck IS NOT NULL), nat IN (SELECT "
             "pk FROM l) FROM cu ORDER BY id LIMIT 40", None),
            ("SELECT count(*) FROM o WHERE ck NOT IN (SELECT id FROM cu WHERE nat < 20) OR "
             "d < 3", None),
            ("SELECT count(*) FROM o WHERE ck NOT IN (SELECT id FROM cu WHERE nat < 20)",
             None),
            ("SELECT count(*) FROM o WHERE (ck IN (SELECT pk FROM l)) IS NULL", None),
        ]
        _check(c, s, queries, _table_bytes(c, "l"))
    finally:
        c.close()


def test_an_in_list_over_ten_thousand_values():
    c = cluster.connect("local", shards=3)
    s = rustmemodb.connect()
    try:
        for x in (c, s):
            x.execute("CREATE TABLE big (id INTEGER PRIMARY KEY, v INTEGER, pad TEXT)")
            x.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, v INTEGER)")
            x.executemany("INSERT INTO big VALUES (?, ?, ?)",
                          [(i, i * 3, f"pad-{i:06d}") for i in range(15_000)])
            x.executemany("INSERT INTO probe VALUES (?, ?)",
                          [(i, i if i % 5 else None) for i in range(20_000)])
        size = _table_bytes(c, "probe") + _table_bytes(c, "big")
        for q in ["SELECT count(*), sum(id) FROM probe WHERE v IN (SELECT v FROM big "
                  "WHERE id > 1000)",
                  "SELECT count(*), sum(id) FROM probe WHERE v NOT IN (SELECT v FROM big "
                  "WHERE id > 1000)",
                  "SELECT count(*) FROM probe WHERE v IN (SELECT v FROM big) IS NULL"]:
            coord0 = c.cluster.coordinator_bytes
            assert c.execute(q).fetchall() == s.execute(q).fetchall(), q
            assert c.last_plan["strategy"] == "shuffle", q
            # What still passes: the probe for a list (at most 10,001 values per shard
            # before it gives up), never the tables.
            assert c.cluster.coordinator_bytes - coord0 < size / 3, q
    finally:
        c.close()


def _tpch(shards=3, backend="local", address=None, rows=6000):
    from bench import engines as E
    from datasets import tpch
    data = tpch.generate(rows)
    placement = {"lineitem": " PARTITION BY HASH (l_orderkey)",
                 "orders": " PARTITION BY HASH (o_orderkey)",
                 "nation": " REPLICATED", "region": " REPLICATED"}
    c = cluster.connect(backend, shards=shards, address=address)
    s = rustmemodb.connect()
    for name, table in data.items():
        ddl = E.ddl(E.RUSTMEMODB, name, table.schema, tpch.PRIMARY_KEYS[name])
        c.execute(ddl + placement.get(name, ""))
        c.load_arrow(name, table)
        E.load(E.RUSTMEMODB, s, name, table, primary_key=tpch.PRIMARY_KEYS[name])
    return c, s


def test_tpch_correlated_shapes():
    c, s = _tpch()
    try:
        size = _table_bytes(c, "lineitem")
        for name, q in TPCH_CORRELATED.items():
            coord0 = c.cluster.coordinator_bytes
            got = c.execute(q).fetchall()
            _same(got, s.execute(q).fetchall(), name)
            assert c.last_plan["strategy"] != "gather", name
            assert c.cluster.coordinator_bytes - coord0 < size / 10, name
    finally:
        c.close()
