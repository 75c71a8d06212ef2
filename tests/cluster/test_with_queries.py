"""WITH queries on the cluster (``cluster/ctes.py``): every shape gives the single
engine's rows; a CTE that can be inlined is written into the statement (as the table it
filters, or a derived table) and the statement splits; one that must be computed once
(volatile, LIMIT read twice, MATERIALIZED of such a body) runs first and travels as a
VALUES table, or, when it reads one table row by row keeping its partition key and the
statement joins it on that key, is computed once by each shard over its own rows;
recursive and data-modifying ones keep their old, gathered way."""
from __future__ import annotations


import pytest

import rustmemodb
from rustmemodb import cluster
from rustmemodb.cluster.ctes import CTE_ROWS, inline_ctes, with_of
from rustmemodb.cluster.wire import table_to_ipc
from rustmemodb.sql.parse import parse_one
from .same_rows import same_rows as _same

N = 2000


def _setup(shards=3, backend="local", address=None):
    c = cluster.connect(backend, shards=shards, address=address)
    s = rustmemodb.connect()
    for x in (c, s):
        x.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT, name TEXT)")
        x.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, g INTEGER, name TEXT)")
        x.execute("CREATE TABLE tree (id INTEGER PRIMARY KEY, parent INTEGER)")
        x.execute("CREATE TABLE tot (g INTEGER, n INTEGER, s FLOAT)")
        x.executemany("INSERT INTO a VALUES (?, ?, ?, ?)",
                      [(i, i % 13, (i * 7 % 101) * 0.5, f"n{i % 7}" if i % 11 else None)
                       for i in range(N)])
        x.executemany("INSERT INTO b VALUES (?, ?, ?)",
                      [(i * 2, i % 17, f"n{i % 5}") for i in range(N // 2)])
        x.executemany("INSERT INTO tree VALUES (?, ?)",
                      [(i, (i - 1) // 2 if i else None) for i in range(300)])
    return c, s


# (query, how the cluster runs it now)
SPLIT = [
    # a CTE used once, over one sharded table: aggregated, filtered, ordered
    "WITH t AS (SELECT g, sum(v) AS s, count(*) AS n FROM a GROUP BY g) "
    "SELECT * FROM t ORDER BY s DESC, g",
    "WITH t AS (SELECT id, v FROM a WHERE g < 5) SELECT count(*), sum(v) FROM t",
    "WITH t AS (SELECT id, name FROM a WHERE v > 20) SELECT id, name FROM t "
    "ORDER BY id DESC LIMIT 7",
    # used twice: a self-join of the CTE
    "WITH t AS (SELECT id, v FROM a WHERE g < 5) "
    "SELECT count(*), sum(x.v) FROM t x JOIN t y ON x.id = y.id",
    # over a sharded table, joined to another sharded table
    "WITH t AS (SELECT id, g FROM a WHERE v > 10) "
    "SELECT t.g, count(*) FROM t JOIN b ON t.id = b.id GROUP BY t.g ORDER BY 1",
    "WITH r AS (SELECT id, g FROM b WHERE g > 3) "
    "SELECT a.g, count(*), sum(a.v) FROM a JOIN r ON r.id = a.id GROUP BY a.g ORDER BY 1",
    # a chain: the second CTE reads the first
    "WITH t AS (SELECT id, g, v FROM a WHERE g < 9), u AS (SELECT g, max(v) AS m FROM t "
    "GROUP BY g) SELECT * FROM u ORDER BY g",
    # grouped and windowed
    "WITH t AS (SELECT id, g, v FROM a WHERE v < 40) "
    "SELECT g, count(*), avg(v) FROM t GROUP BY g HAVING count(*) > 10 ORDER BY g",
    "WITH t AS (SELECT id, g, v FROM a WHERE v < 40) SELECT id, "
    "rank() OVER (PARTITION BY g ORDER BY v DESC, id) AS r FROM t ORDER BY r, id LIMIT 9",
    # the CTE's name hides a table of the same name
    "WITH a AS (SELECT id, g, name FROM b WHERE g < 3) SELECT g, count(*) FROM a "
    "GROUP BY g ORDER BY g",
    # MATERIALIZED / NOT MATERIALIZED of a deterministic body
    "WITH t AS MATERIALIZED (SELECT id, v FROM a WHERE g = 4) SELECT count(*), max(v) FROM t",
    "WITH t AS NOT MATERIALIZED (SELECT id, v FROM a) SELECT count(*) FROM t WHERE v > 3",
    # column names given to the CTE, a WITH in a derived table and in a subquery
    "WITH t(k, total) AS (SELECT g, sum(v) FROM a GROUP BY g) "
    "SELECT k, total FROM t WHERE total > 100 ORDER BY k",
    "SELECT count(*) FROM (WITH t AS (SELECT id FROM a WHERE g < 3) SELECT id FROM t) q",
    "SELECT count(*) FROM a WHERE id IN "
    "(WITH t AS (SELECT id FROM b WHERE g < 3) SELECT id FROM t)",
]

RUN_FIRST = [
    # a LIMIT read twice: computed once, its rows written into the statement
    "WITH t AS (SELECT id, g FROM a ORDER BY v DESC, id LIMIT 20) "
    "SELECT count(*) FROM t x JOIN t y ON x.g = y.g",
    "WITH t AS MATERIALIZED (SELECT id, name FROM a ORDER BY id DESC LIMIT 5) "
    "SELECT x.id, y.name FROM t x, t y WHERE x.id = y.id ORDER BY 1",
    "WITH t AS (SELECT g, count(*) AS n FROM a GROUP BY g ORDER BY n DESC, g LIMIT 4) "
    "SELECT b.id, t.n FROM b JOIN t ON b.g = t.g ORDER BY b.id LIMIT 6",
    # no rows
    "WITH t AS (SELECT id FROM a WHERE g = 100 LIMIT 3) SELECT count(*) FROM t x, t y",
]

KEPT = [
    # recursive: over a sharded table, and a constant one beside an inlined CTE
    "WITH RECURSIVE up(id, depth) AS (SELECT id, 0 FROM tree WHERE id = 250 UNION ALL "
    "SELECT t.parent, up.depth + 1 FROM tree t JOIN up ON t.id = up.id "
    "WHERE t.parent IS NOT NULL) SELECT * FROM up ORDER BY depth",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5), "
    "t AS (SELECT g FROM a WHERE id < 5) SELECT count(*) FROM r JOIN t ON r.n = t.g",
]


def test_with_queries_split_and_match_the_single_engine():
    c, s = _setup()
    try:
        for q in SPLIT:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            plan = c.last_plan
            assert plan["strategy"] != "gather", q
            assert plan.get("ctes_inlined"), q
    finally:
        c.close()


def test_ctes_computed_once_run_first_as_values():
    c, s = _setup()
    try:
        for q in RUN_FIRST:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            plan = c.last_plan
            assert plan.get("ctes_first"), q
            assert plan["strategy"] != "gather", q
    finally:
        c.close()


def test_recursive_ctes_match_the_single_engine():
    c, s = _setup()
    try:
        for q in KEPT:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    finally:
        c.close()


def test_a_volatile_cte_is_computed_once():
    """Inlined twice, ``gen_random_uuid()`` would differ between the two readings and the
    self-join would lose its rows; computed once, every row meets itself."""
    c, _ = _setup()
    try:
        small = ("WITH t AS (SELECT id, gen_random_uuid() AS r FROM a WHERE g = 1) "
                 "SELECT count(*) FROM t x JOIN t y ON x.id = y.id AND x.r = y.r")
        assert c.execute(small).fetchall() == [(len(range(1, N, 13)),)]
        assert c.last_plan.get("cte_on_shards")   # (each shard's rows, computed there)
        placed = ("WITH t AS (SELECT g, gen_random_uuid() AS r FROM a WHERE id < 50) "
                  "SELECT count(*) FROM t x JOIN t y ON x.g = y.g AND x.r = y.r")
        assert c.execute(placed).fetchall() == [(50,)]   # (not by its key: VALUES)
        assert c.last_plan.get("ctes_first")
        big = ("WITH t AS (SELECT id, gen_random_uuid() AS r FROM a) "   # (more than CTE_ROWS)
               "SELECT count(*) FROM t x JOIN t y ON x.id = y.id AND x.r = y.r")
        assert N > CTE_ROWS
        assert c.execute(big).fetchall() == [(N,)]
        # used once, still not inlined (PostgreSQL does not inline a volatile CTE)
        once = "WITH t AS (SELECT id, gen_random_uuid() AS r FROM a) SELECT count(*) FROM t"
        assert c.execute(once).fetchall() == [(N,)]
        assert not c.last_plan.get("ctes_inlined")
    finally:
        c.close()


def test_a_limit_read_twice_is_one_set_of_rows():
    c, _ = _setup()
    try:
        q = ("WITH t AS (SELECT id FROM a LIMIT 10) "
             "SELECT count(*) FROM t x JOIN t y ON x.id = y.id")
        assert c.execute(q).fetchall() == [(10,)]
    finally:
        c.close()


@pytest.mark.parametrize("q", [
    # ``g`` is b's: written as ``a AS t``, a's g would make it ambiguous
    "WITH t AS (SELECT id FROM a WHERE v < 20) "
    "SELECT t.id, g FROM t JOIN b ON t.id = b.id ORDER BY 1",
    # ``*`` must stay the CTE's columns
    "WITH t AS (SELECT name, id FROM a WHERE g = 2) SELECT * FROM t ORDER BY id LIMIT 5",
    # the right side of a LEFT JOIN: the CTE's filter belongs to the ON
    "WITH t AS (SELECT id, g FROM a WHERE g = 3) "
    "SELECT b.id, t.g FROM b LEFT JOIN t ON t.id = b.id ORDER BY b.id LIMIT 20",
    # the CTE is the preserved side of a RIGHT JOIN
    "WITH t AS (SELECT id, g FROM a WHERE g = 3) "
    "SELECT b.id, t.g FROM b RIGHT JOIN t ON t.id = b.id ORDER BY t.id LIMIT 20",
    # a WITH inside redefines the name
    "WITH t AS (SELECT id FROM a WHERE g = 1) SELECT (SELECT count(*) FROM t), "
    "(SELECT count(*) FROM (WITH t AS (SELECT id FROM b) SELECT * FROM t) q)",
    # a CTE whose name is a table, read by a later CTE
    "WITH b AS (SELECT id, g FROM a WHERE g < 2), c AS (SELECT id FROM b WHERE g = 1) "
    "SELECT count(*) FROM c",
    # a OR in the outer WHERE meets the CTE's filter
    "WITH t AS (SELECT id, g FROM a WHERE g < 4) "
    "SELECT count(*) FROM t WHERE g = 1 OR id > 1990",
])
def test_inlining_keeps_the_names_a_query_sees(q):
    c, s = _setup()
    try:
        _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    finally:
        c.close()


def test_inline_ctes_rewrites_and_leaves_what_it_must():
    columns = {"a": ["id", "g", "v", "name"]}.get

    def sql(q):
        tree, names = inline_ctes(parse_one(q), lambda name: False, columns)
        return tree.sql(dialect="postgres"), names

    text, names = sql("WITH t AS (SELECT id, v FROM a WHERE g < 5) SELECT sum(v) FROM t")
    assert names == ["t"] and "WITH" not in text
    assert "FROM a AS t WHERE t.g < 5" in text
    text, names = sql("WITH t AS (SELECT g, count(*) AS n FROM a GROUP BY g) "
                      "SELECT * FROM t")
    assert names == ["t"] and "FROM (SELECT g, COUNT(*) AS n FROM a GROUP BY g) AS t" in text
    for kept in ("WITH t AS (SELECT id FROM a LIMIT 3) SELECT * FROM t x, t y",
                 "WITH t AS (SELECT id, row_number() OVER (ORDER BY id) FROM a) "
                 "SELECT * FROM t x, t y",
                 "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
                 "WHERE n < 3) SELECT * FROM r",
                 "WITH t AS (SELECT gen_random_uuid() AS x) SELECT * FROM t",
                 "WITH d AS (DELETE FROM a RETURNING id) SELECT * FROM d"):
        text, names = sql(kept)
        assert names == [] and with_of(parse_one(text)) is not None, kept
    # LIMIT read once (or NOT MATERIALIZED) is inlined: one reading, one set of rows
    text, names = sql("WITH t AS NOT MATERIALIZED (SELECT id FROM a LIMIT 3) "
                      "SELECT * FROM t x, t y")
    assert names == ["t"]


def test_with_writes_match_the_single_engine():
    c, s = _setup()
    try:
        for q in [
            "WITH t AS (SELECT g, count(*) AS n, sum(v) AS s FROM a GROUP BY g) "
            "INSERT INTO tot SELECT g, n, s FROM t",
            "INSERT INTO tot WITH t AS (SELECT g, count(*) AS n FROM b GROUP BY g) "
            "SELECT g, n, 0.5 FROM t",
            "WITH t AS (SELECT id FROM b WHERE g = 3) "
            "UPDATE a SET v = v + 1 WHERE id IN (SELECT id FROM t)",
            "WITH t AS (SELECT id FROM b WHERE g = 4) "
            "DELETE FROM a WHERE id IN (SELECT id FROM t)",
            "WITH t AS (SELECT g, max(v) AS m FROM a GROUP BY g) "
            "UPDATE tot SET s = t.m FROM t WHERE tot.g = t.g",
            "WITH d AS (DELETE FROM b WHERE g = 5 RETURNING id) "
            "INSERT INTO tot SELECT id, 0, 0 FROM d",
        ]:
            assert c.execute(q).rowcount == s.execute(q).rowcount, q
        for t in ("a", "b", "tot"):
            q = f"SELECT * FROM {t} ORDER BY 1, 2, 3"
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
    finally:
        c.close()


def test_a_with_query_ships_its_partials_not_the_table():
    c, _ = _setup()
    try:
        size = len(table_to_ipc(c.execute("SELECT * FROM a").arrow()))
        for q in ["WITH t AS (SELECT g, sum(v) AS s FROM a GROUP BY g) "
                  "SELECT * FROM t ORDER BY s DESC LIMIT 3",
                  "WITH t AS (SELECT id, v FROM a WHERE g < 5) "
                  "SELECT count(*) FROM t x JOIN t y ON x.id = y.id"]:
            lines = [r[0] for r in c.execute("EXPLAIN ANALYZE " + q).fetchall()]
            shipped = next(ln for ln in lines if "through the coordinator" in ln
                           and ln.startswith("Execution"))
            through = int(shipped.split(", ")[-1].split()[0])
            assert through < size / 10, (q, shipped)
            assert "gather" not in lines[0], q
    finally:
        c.close()


def test_explain_tells_how_each_cte_ran():
    c, _ = _setup()
    try:
        text = "\n".join(r[0] for r in c.execute(
            "EXPLAIN WITH t AS (SELECT id, v FROM a WHERE g < 5), "
            "top AS (SELECT id FROM a ORDER BY v DESC, id LIMIT 3) "
            "SELECT count(*) FROM t JOIN top ON t.id = top.id JOIN top t2 ON t2.id = t.id"
        ).fetchall())
        assert "WITH: t written into the statement" in text
        assert "WITH: CTE computed once, run first" in text and "LIMIT 3" in text
        assert "gather" not in text.split("\n")[0]
    finally:
        c.close()


# a volatile CTE over more than CTE_ROWS rows that reads one table row by row and keeps
# its partition key: each shard computes it once over its own rows, in its partial
CTE_ON_SHARDS = [
    "WITH t AS (SELECT id, gen_random_uuid() AS r FROM a) SELECT count(*) FROM t x "
    "JOIN t y ON x.id = y.id AND x.r = y.r",
    "WITH t AS (SELECT id, g, random() AS r FROM a WHERE v > 3) SELECT count(*), "
    "count(DISTINCT x.g) FROM t x JOIN t y ON x.id = y.id WHERE x.r = y.r",
    "WITH t AS (SELECT id, g, random() AS r FROM a) SELECT g, count(*) FROM t "
    "WHERE r < 2 GROUP BY g ORDER BY g",
    "WITH t AS (SELECT id, v * 2 AS w, random() AS r FROM a) SELECT x.id, x.w FROM t x "
    "JOIN a ON a.id = x.id WHERE a.g = 3 ORDER BY 1 LIMIT 5",
    "WITH t AS MATERIALIZED (SELECT a.id, a.name, random() AS r FROM a) SELECT count(*), "
    "count(x.name) FROM t x JOIN t y ON x.id = y.id WHERE x.r = y.r",
]


def test_a_large_volatile_cte_is_computed_once_on_each_shard():
    c, s = _setup()
    try:
        size = len(table_to_ipc(c.execute("SELECT * FROM a").arrow()))
        for q in CTE_ON_SHARDS:
            coord0 = c.cluster.coordinator_bytes
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            plan = c.last_plan
            assert plan["strategy"] == "split" and plan["cte_on_shards"] == ("t", ["id"]), q
            assert plan["partial"].startswith("WITH t AS"), q
            assert c.cluster.coordinator_bytes - coord0 < size / 10, q
        # the CTE's rows are not placed by the key the statement joins on: as before
        for q in ["WITH t AS (SELECT id, random() AS r FROM a) SELECT count(*) FROM t x "
                  "JOIN t y ON x.id = y.id + 1",
                  "WITH t AS (SELECT g, random() AS r FROM a) SELECT count(*) FROM t x "
                  "JOIN t y ON x.g = y.g AND x.r = y.r"]:
            _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
            assert "cte_on_shards" not in c.last_plan, q
    finally:
        c.close()


# Statement tables (``cluster/held.py``): a CTE computed once with more than CTE_ROWS
# rows, read in a way ``CTE_ON_SHARDS`` does not cover, is held on the shards for the
# statement; the statement then plans over it as over a sharded table.
HELD_ON_SHARDS = [
    # a volatile CTE joined off its partition key
    "WITH t AS (SELECT id, random() AS r FROM a) SELECT count(*) FROM t x "
    "JOIN t y ON x.id = y.id + 1 WHERE x.r >= 0",
    # ... under an outer join, in a set operation, read by a subquery
    "WITH t AS (SELECT id, random() AS r FROM a) SELECT count(*), count(t.r) FROM b "
    "LEFT JOIN t ON t.id = b.id + 1",
    "WITH t AS (SELECT id, g, random() AS r FROM a) SELECT g, count(*) FROM t WHERE r >= 0 "
    "GROUP BY g UNION ALL SELECT g, count(*) FROM t GROUP BY g ORDER BY 1, 2",
    # the CTE placed by its whole row (its key not kept), joined on a column
    "WITH t AS (SELECT g, v, random() AS r FROM a WHERE v > 3) SELECT x.g, count(*) "
    "FROM t x JOIN t y ON x.g = y.g AND x.r = y.r GROUP BY x.g ORDER BY 1",
    # a window's rows (read twice: computed once), its partials kept on the shards
    "WITH t AS (SELECT id, g, row_number() OVER (PARTITION BY g ORDER BY v, id) AS rn "
    "FROM a) SELECT count(*), max(x.rn) FROM t x JOIN t y ON x.id = y.id + 1 "
    "AND x.rn = y.rn",
]
HELD_RUN_FIRST = [
    # a LIMIT over CTE_ROWS read twice
    "WITH t AS (SELECT id, g, v FROM a ORDER BY v DESC, id LIMIT 1500) "
    "SELECT count(*), sum(x.v) FROM t x JOIN t y ON x.id = y.id",
    # ... read once beside a table read directly (a derived table with a LIMIT there)
    "WITH t AS (SELECT id, g, v FROM a ORDER BY v DESC, id LIMIT 1500) "
    "SELECT x.g, count(*) FROM t x JOIN b ON b.id = x.id GROUP BY x.g ORDER BY 1",
    # a CTE another CTE wraps, grouped
    "WITH t AS (SELECT id, g, v FROM a WHERE g < 9 ORDER BY id LIMIT 1200), "
    "u AS (SELECT g, count(*) AS n FROM t GROUP BY g) "
    "SELECT t.g, u.n, count(*) FROM t JOIN u ON u.g = t.g GROUP BY 1, 2 ORDER BY 1",
    # aggregates with a LIMIT, MATERIALIZED, read twice
    "WITH t AS MATERIALIZED (SELECT id % 1700 AS k, count(*) AS n, sum(v) AS s FROM a "
    "GROUP BY 1 ORDER BY s DESC, k LIMIT 1600) "
    "SELECT count(*), sum(x.n) FROM t x JOIN t y ON x.k = y.k",
    # read by a correlated EXISTS
    "WITH t AS (SELECT id, g, v, name FROM a ORDER BY v DESC, id LIMIT 1400) "
    "SELECT name, count(*) FROM t x WHERE EXISTS (SELECT 1 FROM t y WHERE y.id = x.id + 1) "
    "GROUP BY name ORDER BY 1",
]


def _held_setup():
    c, s = _setup()
    for x in (c, s):   # (more rows: a LIMIT of 1,500 is a small part of the table)
        x.executemany("INSERT INTO a VALUES (?, ?, ?, ?)",
                      [(i, i % 13, (i * 7 % 101) * 0.5, f"n{i % 7}")
                       for i in range(N, 6 * N)])
    return c, s


def _released(c):
    hosts = getattr(c.cluster.backend, "hosts", [])
    assert not any(h.held for h in hosts)
    assert not c._held and not any(n.startswith("__held_") for n in c.catalog)
    assert not any(n.startswith("__held_") for n in c.mirror._registered)


def test_a_cte_computed_once_is_held_on_the_shards():
    """Each gave every table it read to the coordinator; now the CTE's rows are held on
    the shards: computed there (a volatile CTE over one table: nothing but the answer
    reaches the coordinator) or run first (a LIMIT, aggregates: its rows pass the
    coordinator, the tables do not)."""
    c, s = _held_setup()
    try:
        size = len(table_to_ipc(c.execute("SELECT * FROM a").arrow()))
        for queries, bound, how in ((HELD_ON_SHARDS, size / 50, "computed on the shards"),
                                    (HELD_RUN_FIRST, size / 2, "run first")):
            for q in queries:
                coord0 = c.cluster.coordinator_bytes
                _same(c.execute(q).fetchall(), s.execute(q).fetchall(), q)
                through = c.cluster.coordinator_bytes - coord0
                plan = c.last_plan
                assert plan["strategy"] != "gather" and plan["ctes_held"], q
                assert how in plan["ctes_held"][0], (q, plan["ctes_held"])
                assert through < bound, (q, through, size)
                _released(c)
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + HELD_ON_SHARDS[0]).fetchall())
        assert "gather" not in text.split("\n")[0]
        assert "WITH: t (computed on the shards): computed once, its rows held" in text
        _released(c)
    finally:
        c.close()


def test_held_ctes_in_transactions_and_errors():
    c, s = _held_setup()
    try:
        q = ("WITH t AS (SELECT id, random() AS r FROM a) SELECT count(*) FROM t x "
             "JOIN t y ON x.id = y.id + 1")
        c.execute("BEGIN READ ONLY")   # nothing is written: a read-only one runs it
        assert c.execute(q).fetchall() == [(6 * N - 1,)] and c.last_plan["ctes_held"]
        c.execute("COMMIT")
        c.execute("BEGIN")   # the transaction's own rows are the CTE's
        c.execute(f"INSERT INTO a VALUES ({6 * N}, 1, 1.0, 'x')")
        assert c.execute(q).fetchall() == [(6 * N,)]
        c.execute("ROLLBACK")
        assert c.execute(q).fetchall() == [(6 * N - 1,)]
        with pytest.raises(rustmemodb.DataError):   # released when the statement fails
            c.execute(q.replace("count(*)", "count(*) / 0"))
        _released(c)
        # untyped in Arrow (a UUID would bind as TEXT): the old way, VALUES or gathered
        u = ("WITH t AS (SELECT id, gen_random_uuid() AS r FROM a) SELECT count(*) "
             "FROM t x JOIN t y ON x.id = y.id + 1 AND x.r <> y.r")
        assert c.execute(u).fetchall() == [(6 * N - 1,)]
        assert "ctes_held" not in c.last_plan
    finally:
        c.close()


def test_a_large_limit_of_few_rows_that_cannot_be_held_still_travels_as_values():
    """A LIMIT over CTE_ROWS is held rather than run first, but a UUID column cannot be
    held (it would bind as TEXT): such a CTE still runs first and, with fewer rows than
    CTE_ROWS, goes into the statement as VALUES."""
    c, s = _setup()
    try:
        q = ("WITH t AS (SELECT id, gen_random_uuid() AS r FROM a WHERE g = 1 "
             "ORDER BY id LIMIT 5000) SELECT count(*) FROM t x JOIN t y ON x.r = y.r")
        assert c.execute(q).fetchall() == [(len(range(1, N, 13)),)]
        assert c.last_plan.get("ctes_first") and c.last_plan["strategy"] != "gather"
    finally:
        c.close()
