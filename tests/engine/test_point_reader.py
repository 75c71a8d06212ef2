"""Session.point_reader / point_query: a cached key probe's reader answers only what
``execute`` would answer the same way, and declines (None) everywhere else."""
from __future__ import annotations

import rustmemodb

SQL = "SELECT v FROM t WHERE id = $1"


def _conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    c.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
    return c


def test_no_reader_before_the_plan_is_cached_or_for_other_plans():
    c = _conn()
    s = c._session
    assert s.point_reader(SQL) is None                      # not planned yet
    c.execute(SQL, (1,))
    assert s.point_reader(SQL) is not None
    c.execute("SELECT v FROM t WHERE v = $1", ("a",))       # a scan, not a key probe
    assert s.point_reader("SELECT v FROM t WHERE v = $1") is None
    c.execute("UPDATE t SET v = $1 WHERE id = $2", ("x", 2))
    assert s.point_reader("UPDATE t SET v = $1 WHERE id = $2") is None


def test_reader_reads_the_newest_root_and_declines_in_a_transaction():
    c = _conn()
    s = c._session
    c.execute(SQL, (1,))
    read = s.point_reader(SQL)
    assert read([1]) == [("a",)] and read([9]) == [] and read([None]) == []
    other = c.database.connect()
    other.execute("UPDATE t SET v = 'new' WHERE id = 1")    # another session's commit
    assert read([1]) == [("new",)]
    c.execute("BEGIN")
    assert read([1]) is None                                # execute reads the transaction
    c.execute("ROLLBACK")
    assert read([1]) == [("new",)]


def test_reader_goes_stale_after_ddl():
    c = _conn()
    s = c._session
    c.execute(SQL, (1,))
    read = s.point_reader(SQL)
    c.execute("ALTER TABLE t ADD COLUMN w INTEGER")
    assert read([1]) is None and read.stale
    assert read([1]) is None                                # for good
    c.execute(SQL, (1,))
    assert s.point_reader(SQL)([1]) == [("a",)]


def test_reader_declines_with_temporary_tables_and_with_privileges_to_check():
    c = _conn()
    s = c._session
    c.execute(SQL, (1,))
    read = s.point_reader(SQL)
    c.execute("CREATE TEMP TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    assert read([1]) is None
    assert c.execute(SQL, (1,)).fetchall() == []            # the temporary table
    c.execute("DROP TABLE t")
    assert read([1]) == [("a",)]
    c.execute("CREATE ROLE alice")
    s.auth_user = "alice"
    assert read([1]) is None                                # execute checks privileges


def test_point_query_by_text_and_by_shape():
    c = _conn()
    s = c._session
    for k in (1, 2, 1):                                     # the shape's plan is made
        c.execute(f"SELECT v FROM t WHERE id = {k}")
    found = s.point_query("SELECT v FROM t WHERE id = 2")
    assert found is not None
    read, values = found
    assert read((), values) == [("b",)]
    read2, values2 = s.point_query("SELECT v FROM t WHERE id = 77")   # by shape
    assert read2 is read and read2((), values2) == []
    assert s.point_query("SELECT v FROM t WHERE id = $1") is None
    assert s.point_query("SELECT v FROM t") is None
