"""Worker-to-worker exchange (``cluster/exchange.py``): repartitioned batches go shard to
shard, the coordinator sends the plan and receives only the final partials."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import cluster
from rustmemodb.cluster.wire import table_to_ipc


def _pair(n_a=3000, n_b=2000, **kw):
    c = cluster.connect("local", shards=3, **kw)
    s = rustmemodb.connect()
    for x in (c, s):
        x.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT, pad TEXT)")
        x.execute("CREATE TABLE b (id INTEGER PRIMARY KEY, g INTEGER, name TEXT)")
        x.executemany("INSERT INTO a VALUES (?, ?, ?, ?)",
                      [(i, i % 101, i * 0.5, f"row-{i:06d}") for i in range(n_a)])
        x.executemany("INSERT INTO b VALUES (?, ?, ?)",
                      [(i, i % 89, f"n{i % 7}") for i in range(n_b)])
    return c, s


def _table_bytes(s, name: str) -> int:
    return len(table_to_ipc(s.execute(f"SELECT * FROM {name}").arrow()))


def test_a_shuffled_join_moves_no_table_sized_batch_through_the_coordinator():
    c, s = _pair(shuffle="always")
    try:
        q = ("SELECT b.name, count(*), sum(a.v), min(a.pad) FROM a JOIN b ON a.g = b.g "
             "GROUP BY b.name ORDER BY 1")
        coord0, c.cluster.largest_batch = c.cluster.coordinator_bytes, 0
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
        plan = c.last_plan
        assert plan["strategy"] == "shuffle"
        assert [t for t, _, _ in plan["exchanges"]] == ["a", "b"]
        through = c.cluster.coordinator_bytes - coord0
        smallest = min(_table_bytes(s, "a"), _table_bytes(s, "b"))
        # The rows moved between the shards (a good part of both tables) ...
        assert plan["shuffled_bytes"] > smallest / 2
        # ... while the coordinator saw only the partials: 7 groups per shard.
        assert c.cluster.largest_batch < smallest / 20
        assert through < smallest / 10
        assert plan["partial_rows"] == [7, 7, 7]
    finally:
        c.close()


def test_exchanged_batches_never_pass_through_the_coordinator_backend_calls():
    """The coordinator's calls carry no Arrow rows during a shuffle: every argument it
    sends is the plan (SQL, names, keys) or tokens (None on the local backend)."""
    c, s = _pair(shuffle="always")
    backend = c.cluster.backend
    seen = []
    real = backend.call_all

    def spy(shards, method, *args, per_shard_args=None):
        seen.append((method, args, per_shard_args))
        return real(shards, method, *args, per_shard_args=per_shard_args)

    backend.call_all = spy
    try:
        q = "SELECT a.id, b.id, b.name FROM a JOIN b ON a.g = b.g WHERE a.id < 40 ORDER BY 1, 2"
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
        methods = [m for m, _, _ in seen]
        assert "shuffle_out" in methods and "partial" in methods
        assert "take" not in methods and "receive" not in methods

        def payload(x) -> int:
            if isinstance(x, (bytes, bytearray)):
                return len(x)
            if isinstance(x, (list, tuple)):
                return sum(payload(y) for y in x)
            if isinstance(x, dict):
                return sum(payload(y) for y in x.values())
            return 0
        assert all(payload(a) == 0 and payload(p) == 0 for _, a, p in seen)
    finally:
        backend.call_all = real
        c.close()


def test_a_broadcast_goes_shard_to_shard_too():
    c, s = _pair(n_b=30)
    try:
        q = "SELECT b.name, count(*), max(a.pad) FROM a JOIN b ON a.g = b.g GROUP BY 1 ORDER BY 1"
        coord0 = c.cluster.coordinator_bytes
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
        plan = c.last_plan
        assert plan["strategy"] == "broadcast" and plan["broadcast"] == ["b"]
        # Each shard sent its rows of b to the 2 others: 2 copies of b moved, none
        # through the coordinator, which received the 7 groups of each shard.
        b_bytes = _table_bytes(s, "b")
        assert b_bytes < plan["shuffled_bytes"] < 4 * b_bytes
        assert c.cluster.coordinator_bytes - coord0 == sum(plan["partial_bytes"])
        text = "\n".join(r[0] for r in c.execute("EXPLAIN " + q).fetchall())
        assert "Exchange: broadcast b to every shard, shard to shard" in text
    finally:
        c.close()


@pytest.mark.parametrize("shuffle", ["auto", "always"])
def test_repartitioned_grouped_merge_goes_shard_to_shard(shuffle):
    c, s = _pair(shuffle=shuffle, shuffle_rows=100)
    try:
        q = ("SELECT id % 1000 AS k, count(*), avg(v), max(pad) FROM a GROUP BY 1 "
             "HAVING count(*) > 2 ORDER BY 3 DESC, 1 LIMIT 4")
        coord0, c.cluster.largest_batch = c.cluster.coordinator_bytes, 0
        got, want = c.execute(q).fetchall(), s.execute(q).fetchall()
        assert got == [tuple(pytest.approx(v) if isinstance(v, float) else v for v in r)
                       for r in want]
        plan = c.last_plan
        assert plan["repartitioned"] == ["k0"]
        assert plan["shuffled_bytes"] > 0
        # Only each shard's top 4 merged rows came back.
        assert c.cluster.coordinator_bytes - coord0 < plan["shuffled_bytes"] / 4
    finally:
        c.close()


def test_mixed_small_and_held_partials_all_repartition_on_the_shards():
    """One shard's partial under shuffle_rows came back whole, another's was held: the
    small one is repartitioned by its own shard (it kept a copy), not re-sent by the
    coordinator, and the answer is the single engine's."""
    c = cluster.connect("local", shards=3, shuffle_rows=60)
    s = rustmemodb.connect()
    try:
        for x in (c, s):
            x.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER) "
                      + ("PARTITION BY HASH (id)" if x is c else ""))
        # Keys that all land on shard 0 get many groups; the others only a few.
        rows = []
        from rustmemodb.cluster.partition import shard_of_key
        i = 0
        while len(rows) < 400:
            shard = shard_of_key((i,), 3)
            if shard == 0 or i % 9 == 0:
                rows.append((i, i if shard == 0 else i % 5))
            i += 1
        for x in (c, s):
            x.executemany("INSERT INTO t VALUES (?, ?)", rows)
        q = "SELECT k, count(*) FROM t GROUP BY k ORDER BY 2 DESC, 1 LIMIT 6"
        assert c.execute(q).fetchall() == s.execute(q).fetchall()
        plan = c.last_plan
        assert plan.get("repartitioned") == ["k0"]
        assert min(plan["partial_rows"]) <= 60 < max(plan["partial_rows"])
    finally:
        c.close()


def test_parallel_file_load_exchanges_shard_to_shard(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    for i in range(4):
        pq.write_table(pa.table({"id": list(range(i * 500, i * 500 + 500)),
                                 "v": [float(j) for j in range(500)]}),
                       tmp_path / f"part{i}.parquet")
    c = cluster.connect("local", shards=3)
    try:
        c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v FLOAT)")
        coord0 = c.cluster.coordinator_bytes
        c.execute(f"COPY t FROM '{tmp_path}/*.parquet' (FORMAT parquet)")
        assert c.last_plan["shuffled_bytes"] > 0
        assert c.cluster.coordinator_bytes == coord0   # nothing came to this process
        assert c.execute("SELECT count(*), sum(id) FROM t").fetchone() == (2000, 1999000)
        hosts = c.cluster.backend.hosts
        assert all(h.branches["main"].row_count("t") > 500 for h in hosts)
    finally:
        c.close()


def test_a_dead_target_during_an_exchange_is_08006_and_leaves_nothing_behind():
    c, _ = _pair(shuffle="always")
    try:
        c.cluster.backend.dead.add(2)   # shard 2 stops answering (sends to it fail too)
        with pytest.raises(rustmemodb.OperationalError) as err:
            c.execute("SELECT count(*) FROM a JOIN b ON a.g = b.g").fetchall()
        assert err.value.sqlstate == "08006"
        c.cluster.backend.dead.discard(2)
        hosts = c.cluster.backend.hosts
        assert all(not h.inbox and not h.stash for h in hosts)
        assert c.execute("SELECT count(*) FROM a JOIN b ON a.g = b.g").fetchone()[0] > 0
    finally:
        c.close()


def test_insert_select_runs_on_the_shards_and_routes_rows_shard_to_shard():
    c, s = _pair()
    try:
        for x in (c, s):
            x.execute("CREATE TABLE hot (id INTEGER PRIMARY KEY, g INTEGER, tag TEXT "
                      "DEFAULT 'new', v FLOAT CHECK (v >= 0))")
            x.execute("CREATE TABLE dim (id INTEGER PRIMARY KEY, label TEXT)"
                      + (" REPLICATED" if x is c else ""))
            x.executemany("INSERT INTO dim VALUES (?, ?)", [(i, f"l{i}") for i in range(13)])
        coord0 = c.cluster.coordinator_bytes
        q = ("INSERT INTO hot (id, g, v) SELECT a.id * 10 + 1, a.g, a.v FROM a "
             "JOIN dim ON dim.id = a.g WHERE dim.label <> 'l3'")
        assert c.execute(q).rowcount == s.execute(q).rowcount > 300
        plan = c.last_plan
        assert plan["strategy"] == "insert on shards" and plan["shuffled_bytes"] > 0
        assert c.cluster.coordinator_bytes == coord0   # no row came to the coordinator
        check = "SELECT count(*), sum(id), sum(g), sum(v), min(tag), max(tag) FROM hot"
        assert c.execute(check).fetchall() == s.execute(check).fetchall()
        # Every row sits on the shard of its key.
        from rustmemodb.cluster.partition import shard_of_key
        for i, h in enumerate(c.cluster.backend.hosts):
            ids = [r[0] for r in h.sessions[c.sid].execute("SELECT id FROM hot").fetchall()]
            assert ids and all(shard_of_key((k,), 3) == i for k in ids)
        # A REPLICATED source is read once, not once per shard.
        q = "INSERT INTO hot (id, g, v) SELECT id + 100000, id, 1.5 FROM dim"
        assert c.execute(q).rowcount == s.execute(q).rowcount == 13
        assert c.execute("SELECT count(*) FROM hot WHERE id >= 100000").fetchone() == (13,)
        # A duplicate key or a failed CHECK on any shard: 23505 / 23514, nothing inserted.
        before = c.execute("SELECT count(*) FROM hot").fetchone()
        with pytest.raises(rustmemodb.IntegrityError) as err:
            c.execute("INSERT INTO hot (id, g, v) SELECT id * 10 + 1, g, v FROM a WHERE id < 50")
        assert err.value.sqlstate == "23505"
        with pytest.raises(rustmemodb.IntegrityError) as err:
            c.execute("INSERT INTO hot (id, g, v) SELECT id + 500000, g, v - 100 FROM a")
        assert err.value.sqlstate == "23514"
        assert c.execute("SELECT count(*) FROM hot").fetchone() == before
        # Reading the target itself still works (it is not run on an emptied fork).
        q = "INSERT INTO hot (id, g, v) SELECT id + 1000000, g, v FROM hot WHERE id < 100"
        c.last_plan = None
        assert c.execute(q).rowcount == s.execute(
            "INSERT INTO hot (id, g, v) SELECT id + 1000000, g, v FROM hot WHERE id < 100"
        ).rowcount
        # Not run on the shards: the SELECT first (split: only its 100 rows reach the
        # coordinator, not the table), then routed.
        assert c.last_plan["strategy"] == "source first"
        assert c.last_plan["source"]["strategy"] == "split"
        check = "SELECT count(*), sum(id) FROM hot"
        assert c.execute(check).fetchall() == s.execute(check).fetchall()
    finally:
        c.close()


def test_writes_reading_other_sharded_tables_broadcast_shard_to_shard():
    c, s = _pair()
    try:
        statements = [
            "UPDATE a SET v = a.v + b.g FROM b WHERE a.g = b.id AND b.name = 'n2'",
            "DELETE FROM a WHERE v > (SELECT avg(v) * 1.5 FROM a)",
            "DELETE FROM b WHERE g IN (SELECT g FROM a WHERE id % 5 = 0) AND id = 12",
        ]
        for q in statements:
            coord0 = c.cluster.coordinator_bytes
            assert c.execute(q).rowcount == s.execute(q).rowcount, q
            assert c.cluster.coordinator_bytes == coord0, q   # no row through here
        for check in ["SELECT count(*), sum(v), sum(id) FROM a",
                      "SELECT count(*), sum(id) FROM b"]:
            assert c.execute(check).fetchall() == s.execute(check).fetchall()
        assert all(not h.inbox for h in c.cluster.backend.hosts)   # pinned: others dropped
        # A failing write leaves nothing behind either, and changes nothing.
        with pytest.raises(rustmemodb.Error):
            c.execute("UPDATE a SET v = 1 / (b.id - b.id) FROM b WHERE a.g = b.g")
        assert all(not h.inbox for h in c.cluster.backend.hosts)
        assert c.execute("SELECT count(*), sum(v) FROM a").fetchall() == \
            s.execute("SELECT count(*), sum(v) FROM a").fetchall()
    finally:
        c.close()


def test_an_update_of_the_partition_key_moves_rows_shard_to_shard():
    from rustmemodb.cluster.partition import shard_of_key
    c, s = _pair()
    try:
        for x in (c, s):
            x.execute("CREATE TABLE e (k INTEGER, tag TEXT, w FLOAT)"
                      + (" PARTITION BY HASH (k)" if x is c else ""))
            x.executemany("INSERT INTO e VALUES (?, ?, ?)",
                          [(i % 50 if i % 13 else None, f"t{i}", float(i)) for i in range(400)])
        coord0 = c.cluster.coordinator_bytes
        for q in ["UPDATE a SET id = id + 100000 WHERE g < 40",
                  "UPDATE a SET id = 200000 - id WHERE id > 100000 AND g < 3",   # swaps
                  "UPDATE e SET k = k + 7 WHERE w < 300",
                  "UPDATE e SET k = NULL WHERE k = 20",
                  "UPDATE e SET k = 1 WHERE k IS NULL AND w > 380"]:
            assert c.execute(q).rowcount == s.execute(q).rowcount > 0, q
        assert c.cluster.coordinator_bytes == coord0   # rows moved shard to shard only
        for check in ["SELECT count(*), sum(id), sum(v) FROM a",
                      "SELECT k, count(*), sum(w) FROM e GROUP BY k ORDER BY k"]:
            assert c.execute(check).fetchall() == s.execute(check).fetchall()
        for i, h in enumerate(c.cluster.backend.hosts):   # every row on its key's shard
            for table in ("a", "e"):
                col = "id" if table == "a" else "k"
                keys = [r[0] for r in h.sessions[c.sid].execute(
                    f"SELECT {col} FROM {table}").fetchall()]
                assert all(shard_of_key((k,), 3) == i for k in keys)
        # A moved key that collides on its new shard: 23505 and nothing changed.
        before = c.execute("SELECT count(*), sum(id) FROM a").fetchall()
        with pytest.raises(rustmemodb.IntegrityError) as err:
            c.execute("UPDATE a SET id = id + 1 WHERE id IN (50, 60)")   # 51, 61 exist
        assert err.value.sqlstate == "23505"
        assert c.execute("SELECT count(*), sum(id) FROM a").fetchall() == before
        assert all(not h.inbox for h in c.cluster.backend.hosts)
    finally:
        c.close()
