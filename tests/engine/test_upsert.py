"""INSERT ... ON CONFLICT, UPDATE ... FROM and DELETE ... USING beyond what the .test files
can show: concurrent transactions, rowids kept by in-place upserts, prepared reuse with
parameters, bulk inputs, forks, durability, and the failed-statement-leaves-no-trace rule.

The SQL semantics themselves (checked against PostgreSQL) are in tests/sql/dml/.
"""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import errors


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER, tag TEXT UNIQUE)")
    c.execute("INSERT INTO kv VALUES (1, 10, 'a'), (2, 20, 'b')")
    return c


def rows(c, sql="SELECT k, v, tag FROM kv ORDER BY k"):
    return c.execute(sql).fetchall()


def rowids(c) -> dict:
    version = c.database.root.tables["kv"]
    return {r["k"]: r["_rowid"] for r in version.to_arrow(with_rowid=True).to_pylist()}


def test_do_update_keeps_the_rowid(conn):
    before = rowids(conn)
    conn.execute("INSERT INTO kv VALUES (1, 0, 'z') ON CONFLICT (k) DO UPDATE SET v = kv.v + 1")
    after = rowids(conn)
    assert after[1] == before[1]
    assert rows(conn)[0] == (1, 11, "a")


def test_rowcount_counts_inserted_and_updated(conn):
    cur = conn.cursor()
    cur.execute("INSERT INTO kv VALUES (1, 0, 'x'), (3, 0, 'c'), (2, 0, 'y') "
                "ON CONFLICT (k) DO UPDATE SET v = excluded.v WHERE kv.k = 1")
    assert cur.rowcount == 2      # 1 updated, 3 inserted, 2 filtered out by WHERE
    cur.execute("INSERT INTO kv VALUES (1, 0, 'x') ON CONFLICT DO NOTHING")
    assert cur.rowcount == 0


def test_prepared_with_parameters_reused(conn):
    sql = ("INSERT INTO kv VALUES (?, ?, ?) ON CONFLICT (k) "
           "DO UPDATE SET v = kv.v + excluded.v WHERE kv.v < ? RETURNING k, v")
    assert conn.execute(sql, (1, 5, "q", 100)).fetchall() == [(1, 15)]
    assert conn.execute(sql, (1, 5, "q", 100)).fetchall() == [(1, 20)]
    assert conn.execute(sql, (1, 5, "q", 0)).fetchall() == []
    assert conn.execute(sql, (7, 5, "q", 0)).fetchall() == [(7, 5)]


@pytest.mark.parametrize("first,second,check,kept", [
    # a new key inserted by both: the first committer's row stays
    ("(5, 1, 'e')", "(5, 2, 'f')", "SELECT k, v, tag FROM kv WHERE k = 5", [(5, 1, "e")]),
    # an existing row updated by both: the first committer's update stays
    ("(1, 1, 'x')", "(1, 1, 'x')", "SELECT v FROM kv WHERE k = 1", [(11,)]),
])
def test_concurrent_upserts_of_one_key_conflict_at_commit(conn, first, second, check, kept):
    db = conn.database
    a, b = db.connect(), db.connect()
    a.execute("BEGIN")
    b.execute("BEGIN")
    a.execute(f"INSERT INTO kv VALUES {first} ON CONFLICT (k) DO UPDATE SET v = kv.v + 1")
    b.execute(f"INSERT INTO kv VALUES {second} ON CONFLICT (k) DO UPDATE SET v = kv.v + 100")
    a.execute("COMMIT")
    with pytest.raises(rustmemodb.SerializationFailure) as e:
        b.execute("COMMIT")
    assert e.value.sqlstate == "40001"
    assert rows(conn, check) == kept


def test_concurrent_upserts_of_different_rows_both_commit(conn):
    db = conn.database
    a, b = db.connect(), db.connect()
    a.execute("BEGIN")
    b.execute("BEGIN")
    a.execute("INSERT INTO kv VALUES (1, 0, 'x') ON CONFLICT (k) DO UPDATE SET v = kv.v + 1")
    b.execute("INSERT INTO kv VALUES (2, 0, 'x') ON CONFLICT (k) DO UPDATE SET v = kv.v + 1")
    b.execute("INSERT INTO kv VALUES (9, 9, 'i') ON CONFLICT DO NOTHING")
    a.execute("COMMIT")
    b.execute("COMMIT")
    assert rows(conn) == [(1, 11, "a"), (2, 21, "b"), (9, 9, "i")]


def test_failed_upsert_leaves_no_trace(conn):
    before_rows, before_ids = rows(conn), rowids(conn)
    version = conn.database.root.tables["kv"]
    with pytest.raises(errors.Error) as e:   # row 3 inserted, row 1 updated, then 23505
        conn.execute("INSERT INTO kv VALUES (3, 3, 'c'), (1, 0, 'x'), (4, 4, 'c') "
                     "ON CONFLICT (k) DO UPDATE SET v = 99")
    assert e.value.sqlstate == "23505"
    assert conn.database.root.tables["kv"] is version
    assert rows(conn) == before_rows and rowids(conn) == before_ids


def test_bulk_insert_select(conn):
    conn.execute("CREATE TABLE src (k INTEGER, v INTEGER)")
    conn.execute("INSERT INTO src SELECT g, g FROM generate_series(1, 12000) AS s(g)")
    cur = conn.cursor()
    cur.execute("INSERT INTO kv (k, v) SELECT k, v FROM src "
                "ON CONFLICT (k) DO UPDATE SET v = kv.v + excluded.v")
    assert cur.rowcount == 12000
    assert rows(conn, "SELECT count(*), sum(v) FROM kv") == [(12000, 12000 * 12001 // 2 + 30)]
    cur.execute("INSERT INTO kv (k, v) SELECT k, v FROM src ON CONFLICT DO NOTHING")
    assert cur.rowcount == 0


def test_fork_is_independent(conn):
    other = conn.fork()
    other.execute("INSERT INTO kv VALUES (1, 0, 'x') ON CONFLICT (k) DO UPDATE SET v = -1")
    assert rows(other, "SELECT v FROM kv WHERE k = 1") == [(-1,)]
    assert rows(conn, "SELECT v FROM kv WHERE k = 1") == [(10,)]


def test_foreign_keys_checked_for_inserted_and_updated_rows_only():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    c.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, p INTEGER REFERENCES parent (id))")
    c.execute("INSERT INTO parent VALUES (1)")
    c.execute("INSERT INTO child VALUES (1, 1)")
    # the skipped row's dangling reference is never written, so it is not checked
    c.execute("INSERT INTO child VALUES (1, 42) ON CONFLICT DO NOTHING")
    with pytest.raises(errors.Error) as e:
        c.execute("INSERT INTO child VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET p = 42")
    assert e.value.sqlstate == "23503"
    # a referenced parent key cannot be moved away by an upsert
    with pytest.raises(errors.Error) as e:
        c.execute("INSERT INTO parent VALUES (1) ON CONFLICT (id) DO UPDATE SET id = 2")
    assert e.value.sqlstate == "23503"


def test_durable_upsert_survives_reopen(tmp_path):
    path = str(tmp_path / "db")
    c = rustmemodb.connect(path)
    c.execute("CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER)")
    c.execute("INSERT INTO kv VALUES (1, 1), (2, 2)")
    c.execute("INSERT INTO kv VALUES (1, 5), (3, 3) ON CONFLICT (k) DO UPDATE SET v = excluded.v")
    c.execute("CREATE TABLE o (k INTEGER, v INTEGER)")
    c.execute("INSERT INTO o VALUES (2, 20)")
    c.execute("UPDATE kv SET v = o.v FROM o WHERE kv.k = o.k")
    c.execute("DELETE FROM kv USING o WHERE kv.k = o.k + 1")
    c.close()
    again = rustmemodb.connect(path)
    assert again.execute("SELECT k, v FROM kv ORDER BY k").fetchall() == [(1, 5), (2, 20)]
    again.close()


def test_update_from_picks_the_first_match_once():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)")
    c.execute("CREATE TABLE o (id INTEGER, v INTEGER)")
    c.execute("INSERT INTO t VALUES (1, 0), (2, 0)")
    c.execute("INSERT INTO o VALUES (1, 5), (1, 6), (1, 7)")
    cur = c.cursor()
    cur.execute("UPDATE t SET v = t.v + o.v FROM o WHERE t.id = o.id")
    assert cur.rowcount == 1              # each target row at most once
    (v,), = c.execute("SELECT v FROM t WHERE id = 1").fetchall()
    assert v in (5, 6, 7)                 # one of the matches, never their sum
    cur.execute("DELETE FROM t USING o WHERE t.id = o.id RETURNING t.id")
    assert cur.fetchall() == [(1,)] and cur.rowcount == 1


def test_explain_shows_the_plans(conn):
    conn.execute("CREATE TABLE o (k INTEGER, v INTEGER)")
    text = "\n".join(r[0] for r in conn.execute(
        "EXPLAIN INSERT INTO kv VALUES (1, 1, 'a') ON CONFLICT (k) DO UPDATE "
        "SET v = excluded.v WHERE kv.v < excluded.v").fetchall())
    assert "Insert on kv on conflict (k) do update, arbiter kv_pkey" in text
    assert "filter: (kv.v < excluded.v)" in text
    text = "\n".join(r[0] for r in conn.execute(
        "EXPLAIN UPDATE kv SET v = o.v FROM o WHERE kv.k = o.k").fetchall())
    assert text.splitlines()[0].startswith("Update on kv")
    assert "Hash Join" in text and "Seq Scan on o" in text
    text = "\n".join(r[0] for r in conn.execute(
        "EXPLAIN DELETE FROM kv USING o WHERE kv.k = o.k").fetchall())
    assert text.splitlines()[0].startswith("Delete on kv") and "Hash Join" in text


def test_generic_update_and_delete_of_no_rows(conn):
    """The vector operators (not the point fast paths) with an empty source and RETURNING."""
    assert rows(conn, "UPDATE kv SET v = 0 WHERE v > 1000 RETURNING k, v") == []
    assert rows(conn, "DELETE FROM kv WHERE v > 1000 RETURNING k") == []
    conn.execute("CREATE TABLE o (k INTEGER, v INTEGER)")
    assert rows(conn, "UPDATE kv SET v = o.v FROM o WHERE kv.k = o.k RETURNING *") == []
    assert rows(conn, "DELETE FROM kv USING o WHERE kv.k = o.k RETURNING *") == []
    assert rows(conn) == [(1, 10, "a"), (2, 20, "b")]
