"""Indexes on expressions and partial UNIQUE indexes (storage/index.py KeyedUniqueIndex):
every way rows arrive is checked against them (bulk Arrow loads, executemany, the append
fast path, COPY), concurrent transactions conflict on their keys, and they survive a
reopen (log and checkpoint), forks and a branch merge. The SQL surface is in
tests/sql/index/expression_index.test.
"""
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.branch import merge


def users(conn=None):
    c = conn or rustmemodb.connect()
    c.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT, deleted BOOLEAN)")
    c.execute("CREATE UNIQUE INDEX u_email ON u (lower(email))")
    c.execute("CREATE UNIQUE INDEX u_live ON u (email) WHERE NOT deleted")
    c.execute("INSERT INTO u VALUES (1, 'Ann', false), (2, 'bob', true)")
    return c


def count(c) -> int:
    return c.execute("SELECT count(*) FROM u").fetchone()[0]


def violation(c, sql, params=None) -> str:
    with pytest.raises(rustmemodb.IntegrityError) as info:
        c.execute(sql, params)
    assert info.value.sqlstate == "23505"
    return str(info.value)


def test_message_names_the_expression():
    c = users()
    text = violation(c, "INSERT INTO u VALUES (3, 'ANN', true)")
    assert 'unique constraint "u_email"' in text
    assert "Key (lower(email))=(ann) already exists." in text


def test_bulk_arrow_load_is_checked_whole():
    c = users()
    c.register("df", pa.table({"id": [3, 4], "email": ["x", "X"], "deleted": [True, True]}))
    violation(c, "INSERT INTO u SELECT * FROM df")
    c.register("ok", pa.table({"id": [3, 4], "email": ["x", "y"], "deleted": [False, False]}))
    c.execute("INSERT INTO u SELECT * FROM ok")
    c.register("dup", pa.table({"id": [5], "email": ["BOB"], "deleted": [True]}))
    violation(c, "INSERT INTO u SELECT * FROM dup")
    assert count(c) == 4


def test_executemany_and_append_rows():
    c = users()
    with pytest.raises(rustmemodb.IntegrityError):
        c.executemany("INSERT INTO u VALUES (?, ?, ?)", [(3, "c", False), (4, "C", False)])
    assert count(c) == 2
    c.execute("BEGIN")      # (the append path serves transactions only)
    with pytest.raises(rustmemodb.IntegrityError):
        c.append_rows("u", ("id", "email", "deleted"), [(5, "ann", True)])
    c.execute("ROLLBACK")
    c.execute("BEGIN")
    assert c.append_rows("u", ("id", "email", "deleted"), [(5, "zoe", False)])
    c.execute("COMMIT")
    assert count(c) == 3
    c.execute("DELETE FROM u WHERE id = 5")
    c.executemany("INSERT INTO u VALUES (?, ?, ?)", [(3, "c", False), (4, "d", False)])
    assert count(c) == 4


def test_copy_from_a_file(tmp_path):
    c = users()
    path = tmp_path / "rows.csv"
    path.write_text("3,carl,false\n4,CARL,false\n")
    with pytest.raises(rustmemodb.IntegrityError):
        c.execute(f"COPY u FROM '{path}' WITH (FORMAT csv)")
    assert count(c) == 2


def test_partial_index_leaves_rows_out_and_delete_frees_keys():
    c = users()
    c.execute("DROP INDEX u_email")
    c.execute("INSERT INTO u VALUES (3, 'bob', true), (4, 'Ann', true)")
    violation(c, "UPDATE u SET deleted = false WHERE id = 4")
    c.execute("UPDATE u SET deleted = false WHERE id = 3")      # one live 'bob' only
    violation(c, "UPDATE u SET deleted = false WHERE id = 2")
    c.execute("DELETE FROM u WHERE id IN (1, 3)")
    c.execute("UPDATE u SET deleted = false WHERE id IN (2, 4)")
    c.register("more", pa.table({"id": list(range(10, 60)), "email": ["ann"] * 50,
                                 "deleted": [True] * 50}))
    c.execute("INSERT INTO u SELECT * FROM more")               # set-based, all left out
    c.execute("DELETE FROM u WHERE id >= 10")
    assert count(c) == 2


def test_concurrent_transactions_conflict_on_the_computed_key():
    c = users()
    other = rustmemodb.connect(c)
    c.execute("BEGIN")
    other.execute("BEGIN")
    c.execute("INSERT INTO u VALUES (3, 'Zed', false)")
    other.execute("INSERT INTO u VALUES (4, 'zED', false)")
    c.execute("COMMIT")
    with pytest.raises(rustmemodb.Error) as info:
        other.execute("COMMIT")
    assert info.value.sqlstate in ("23505", "40001")
    assert c.execute("SELECT id FROM u WHERE lower(email) = 'zed'").fetchall() == [(3,)]


@pytest.mark.parametrize("checkpoint", [False, True])
def test_durable_across_reopen(tmp_path, checkpoint):
    db = rustmemodb.Database.open(tmp_path / "db")
    c = users(db.connect())
    c.execute("CREATE INDEX u_cover ON u (id) INCLUDE (email)")
    if checkpoint:
        c.execute("CHECKPOINT")
    c.execute("INSERT INTO u VALUES (3, 'carl', false)")
    defs = c.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'u' "
                     "ORDER BY 1").fetchall()
    db._abandon()                 # as kill -9: no flush, no checkpoint
    again = rustmemodb.Database.open(tmp_path / "db")
    c2 = again.connect()
    assert c2.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'u' "
                      "ORDER BY 1").fetchall() == defs
    violation(c2, "INSERT INTO u VALUES (4, 'CARL', true)")
    violation(c2, "INSERT INTO u VALUES (4, 'ann', true)")
    c2.execute("INSERT INTO u VALUES (4, 'dan', true), (5, 'DAN2', true)")
    c2.execute("CHECKPOINT")
    again.close()
    third = rustmemodb.Database.open(tmp_path / "db")
    violation(third.connect(), "INSERT INTO u VALUES (6, 'Dan', true)")
    third.close()


def test_forks_are_independent_and_merge_keeps_the_index():
    c = users()
    f = c.fork()
    f.execute("INSERT INTO u VALUES (3, 'carl', false)")
    c.execute("INSERT INTO u VALUES (3, 'dave', false)")       # same id, other key: fine
    violation(f, "INSERT INTO u VALUES (4, 'CARL', false)")
    assert c.execute("SELECT email FROM u WHERE id = 3").fetchone() == ("dave",)
    g = c.fork()
    g.execute("INSERT INTO u VALUES (10, 'eve', false)")
    assert merge(g, c).applied
    violation(c, "INSERT INTO u VALUES (11, 'EVE', false)")
    g.execute("DROP INDEX u_email")
    g.execute("INSERT INTO u VALUES (11, 'EVE', true)")
    violation(c, "INSERT INTO u VALUES (11, 'EVE', true)")


def test_alter_table_keeps_the_key_function_in_step():
    c = users()
    c.execute("ALTER TABLE u ADD COLUMN note TEXT")
    c.execute("ALTER TABLE u DROP COLUMN note")
    c.execute("ALTER TABLE u RENAME COLUMN email TO mail")
    violation(c, "INSERT INTO u VALUES (3, 'ANN', true)")
    c.execute("ALTER TABLE u RENAME TO people")
    violation(c, "INSERT INTO people VALUES (3, 'ANN', true)")
    c.execute("ALTER TABLE people DROP COLUMN mail")
    assert c.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'people'"
                     ).fetchone() == (1,)


def plan_of(c, sql, params=None) -> str:
    return "\n".join(r[0] for r in c.execute("EXPLAIN " + sql, params).fetchall())


def test_planner_reads_an_index_only_where_it_holds_every_answer():
    """``lower(email) = $1`` probes the expression index; a partial index only when the
    filter has its predicate; ``email = $1`` never probes the index on lower(email)."""
    c = rustmemodb.connect()
    c.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT, deleted BOOLEAN)")
    c.execute("INSERT INTO u SELECT g, 'Mail' || (g % 1000), g > 1000 "
              "FROM generate_series(1, 5000) g")
    c.execute("CREATE UNIQUE INDEX u_live ON u (email) WHERE NOT deleted")
    c.execute("CREATE TABLE v (id INTEGER PRIMARY KEY, email TEXT)")
    c.execute("INSERT INTO v SELECT g, 'Mail' || g FROM generate_series(1, 5000) g")
    c.execute("CREATE UNIQUE INDEX v_lower ON v (lower(email))")
    q = "SELECT id FROM v WHERE lower(email) = $1"
    assert "Index Scan using v_lower" in plan_of(c, q, ["mail7"])
    assert c.execute(q, ["mail7"]).fetchall() == [(7,)]
    assert c.execute("SELECT id FROM v WHERE email = 'mail7'").fetchall() == []
    assert "v_lower" not in plan_of(c, "SELECT id FROM v WHERE email = 'mail7'")
    q = "SELECT id FROM u WHERE email = $1 AND NOT deleted"
    assert "Index Scan using u_live" in plan_of(c, q, ["Mail7"])
    assert c.execute(q, ["Mail7"]).fetchall() == [(7,)]
    q = "SELECT id FROM u WHERE email = $1"
    assert "u_live" not in plan_of(c, q, ["Mail7"])
    assert sorted(c.execute(q, ["Mail7"]).fetchall()) == [(7,), (1007,), (2007,), (3007,),
                                                           (4007,)]


def test_user_functions_are_refused_in_keys_and_unique_predicates():
    """A key function is compiled again on reopen and after ALTER, apart from any one
    statement: built-in functions only (a Python UDF's volatility is unknown: 42P17; a
    SQL function: 0A000). A plain partial index, which covers every row, keeps taking
    them in its predicate, as before."""
    c = rustmemodb.connect()
    c.execute("CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT)")
    c.execute("CREATE FUNCTION norm(x text) RETURNS text IMMUTABLE LANGUAGE sql "
              "RETURN lower(x)")
    c.register_function("pynorm", lambda s: s.lower(), ["TEXT"], "TEXT")
    with pytest.raises(rustmemodb.NotSupportedError):
        c.execute("CREATE UNIQUE INDEX a ON u (norm(email))")
    with pytest.raises(rustmemodb.NotSupportedError):
        c.execute("CREATE UNIQUE INDEX b ON u (email) WHERE norm(email) > 'a'")
    with pytest.raises(rustmemodb.Error) as info:
        c.execute("CREATE UNIQUE INDEX d ON u (pynorm(email))")
    assert info.value.sqlstate == "42P17"
    c.execute("CREATE INDEX e ON u (email) WHERE norm(email) > 'a'")
    assert c.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'u'"
                     ).fetchone() == (2,)


def test_an_index_on_a_constant_reads_no_column_and_still_reopens(tmp_path):
    """UNIQUE ((1)): at most one row; its definition lists no column, which the file
    format must still read back."""
    db = rustmemodb.Database.open(tmp_path / "db")
    c = db.connect()
    c.execute("CREATE TABLE one (id INTEGER PRIMARY KEY)")
    c.execute("CREATE UNIQUE INDEX one_only ON one ((1))")
    c.execute("INSERT INTO one VALUES (1)")
    c.execute("CHECKPOINT")
    db.close()
    again = rustmemodb.Database.open(tmp_path / "db")
    c = again.connect()
    violation(c, "INSERT INTO one VALUES (2)")
    assert c.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'one_only'"
                     ).fetchone() == ("CREATE UNIQUE INDEX one_only ON public.one USING btree "
                                      "((1))",)
    again.close()
