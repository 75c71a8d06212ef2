"""Loads on a cluster: Parquet globs read in parallel on the workers (SELECT split over
the files, COPY FROM and INSERT ... SELECT FROM read_parquet exchanged to the rows'
shards), COPY of one file and COPY TO, each compared with the single engine."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import rustmemodb
from rustmemodb import cluster


@pytest.fixture
def files(tmp_path):
    for f in range(5):
        n = 300 + f * 40
        pq.write_table(pa.table({"id": list(range(f * 10000, f * 10000 + n)),
                                 "g": [i % 7 for i in range(n)],
                                 "v": [i * 0.25 for i in range(n)]}),
                       tmp_path / f"p{f}.parquet")
    return str(tmp_path / "*.parquet")


@pytest.fixture
def pair():
    c, s = cluster.connect("local", shards=3), rustmemodb.connect()
    for x in (c, s):
        x.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, g INTEGER, v FLOAT NOT NULL, "
                  "note TEXT DEFAULT 'loaded' CHECK (g >= 0))")
    yield c, s
    c.close()


def same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x == pytest.approx(y, rel=1e-9)


def test_select_over_a_glob_reads_the_files_on_the_shards(pair, files):
    c, s = pair
    for q in [f"SELECT g, count(*), avg(v), stddev(v) FROM read_parquet('{files}') "
              "GROUP BY g ORDER BY g",
              f"SELECT * FROM read_parquet('{files}') ORDER BY v DESC, id LIMIT 3",
              f"SELECT count(*), min(id), max(id) FROM read_parquet('{files}') WHERE g = 3"]:
        same(c.execute(q).fetchall(), s.execute(q).fetchall())
        plan = c.last_plan
        assert plan["strategy"] == "files" and sum(plan["files"].values()) == 5
        assert len(plan["files"]) == 3   # every shard reads some of the files


def test_copy_and_insert_from_a_glob_route_rows_to_their_shards(pair, files):
    c, s = pair
    for q in [f"COPY t (id, g, v) FROM '{files}' (FORMAT parquet)",
              f"INSERT INTO t (id, g, v) SELECT id + 100000, g, v * 2 "
              f"FROM read_parquet('{files}') WHERE g < 3"]:
        assert c.execute(q).rowcount == s.execute(q).rowcount
        assert c.last_plan["strategy"] == "files" and c.last_plan["shuffled_bytes"] > 0
    q = "SELECT count(*), sum(v), count(DISTINCT id), min(note), max(note) FROM t"
    assert c.execute(q).fetchall() == s.execute(q).fetchall()
    # every row sits on the shard its key hashes to: point reads find them
    assert c.execute("SELECT v FROM t WHERE id = 40001").fetchone() == (0.25,)
    assert c.last_plan["strategy"] == "routed"
    counts = [h.branches["main"].row_count("t") for h in c.cluster.backend.hosts]
    assert all(n > 0 for n in counts) and sum(counts) == c.execute(
        "SELECT count(*) FROM t").fetchone()[0]


def test_a_failed_parallel_load_changes_nothing(pair, files):
    c, s = pair
    c.execute("INSERT INTO t (id, g, v) VALUES (20005, 1, 1)")   # inside p2.parquet
    with pytest.raises(rustmemodb.IntegrityError) as e:
        c.execute(f"COPY t (id, g, v) FROM '{files}' (FORMAT parquet)")
    assert e.value.sqlstate == "23505"
    with pytest.raises(rustmemodb.Error) as e:   # the engine's CHECK, run on the shards
        c.execute(f"INSERT INTO t (id, g, v) SELECT id + 500000, g - 5, v "
                  f"FROM read_parquet('{files}')")
    assert e.value.sqlstate == "23514"
    assert c.execute("SELECT count(*) FROM t").fetchone() == (1,)
    with pytest.raises(rustmemodb.Error) as e:
        c.execute(f"COPY nope FROM '{files}' (FORMAT parquet)")
    assert e.value.sqlstate == "42P01"


def test_copy_of_one_file_and_copy_to(pair, files, tmp_path):
    c, s = pair
    one = files.replace("*", "p1")
    for x in (c, s):
        x.execute(f"COPY t (id, g, v) FROM '{one}' (FORMAT parquet)")
    outs = [tmp_path / "cluster.csv", tmp_path / "single.csv"]
    counts = [x.execute(f"COPY (SELECT id, v FROM t WHERE g = 2 ORDER BY id) TO '{o}' "
                        "(FORMAT csv, HEADER)").rowcount for x, o in zip((c, s), outs)]
    assert counts[0] == counts[1] > 0
    assert outs[0].read_text() == outs[1].read_text()
    assert outs[0].read_text().splitlines()[1].startswith("10002,")


def test_explain_shows_the_files_per_shard(pair, files):
    c, _ = pair
    text = "\n".join(r[0] for r in c.execute(
        f"EXPLAIN ANALYZE SELECT g, count(*) FROM read_parquet('{files}') GROUP BY g"
    ).fetchall())
    assert "Distributed plan: files" in text and "Files read on the shards: shard 0:" in text
    assert "bytes shipped" in text
