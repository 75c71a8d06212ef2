"""CHECK and FOREIGN KEY constraints: errors carry SQLSTATEs and failed statements change nothing."""
import pytest

import rustmemodb


def state(conn, *tables):
    return {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


def err(conn, sql, params=None):
    with pytest.raises(rustmemodb.Error) as e:
        conn.execute(sql, params)
    return e.value


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT)")
    c.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p (id) "
              "ON DELETE CASCADE, n INTEGER CHECK (n > 0))")
    c.execute("CREATE TABLE g (id INTEGER PRIMARY KEY, cid INTEGER REFERENCES c ON DELETE SET NULL)")
    c.execute("INSERT INTO p VALUES (1, 'a'), (2, 'b')")
    c.execute("INSERT INTO c VALUES (10, 1, 1), (11, 1, 2), (12, 2, 3)")
    c.execute("INSERT INTO g VALUES (100, 10), (101, 12)")
    return c


def test_check_row_and_bulk_paths(conn):
    e = err(conn, "INSERT INTO c VALUES (13, 1, 0)")
    assert e.sqlstate == "23514" and "c_n_check" in e.message
    assert err(conn, "UPDATE c SET n = -1 WHERE id = ?", (10,)).sqlstate == "23514"   # fast path
    assert err(conn, "UPDATE c SET n = n - 2").sqlstate == "23514"                       # generic
    conn.register("src", __import__("pyarrow").table({"id": list(range(20, 6000)),
                                                      "pid": [1] * 5980, "n": [1] * 5979 + [0]}))
    assert err(conn, "INSERT INTO c SELECT * FROM src").sqlstate == "23514"              # Arrow path
    assert conn.execute("SELECT count(*) FROM c").fetchone() == (3,)


def test_fk_child_side(conn):
    before = state(conn, "c")
    assert err(conn, "INSERT INTO c VALUES (13, 3, 1)").sqlstate == "23503"
    assert err(conn, "UPDATE c SET pid = 9 WHERE id = 10").sqlstate == "23503"
    assert err(conn, "INSERT INTO c VALUES (13, 1, 1), (14, 7, 1)").sqlstate == "23503"
    conn.execute("INSERT INTO c VALUES (13, NULL, 1)")          # NULL is not checked
    assert len(state(conn, "c")["c"]) == len(before["c"]) + 1


def test_cascade_then_set_null(conn):
    conn.execute("DELETE FROM p WHERE id = ?", (1,))             # fast delete path
    assert state(conn, "c")["c"] == [(12, 2, 3)]
    assert state(conn, "g")["g"] == [(100, None), (101, 12)]


def test_no_action_on_parent_update_and_delete():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    c.execute("CREATE TABLE k (pid INTEGER REFERENCES p (id))")
    c.execute("INSERT INTO p VALUES (1), (2)")
    c.execute("INSERT INTO k VALUES (1)")
    assert err(c, "DELETE FROM p WHERE id = 1").sqlstate == "23503"
    assert err(c, "DELETE FROM p").sqlstate == "23503"
    assert err(c, "UPDATE p SET id = 5 WHERE id = 1").sqlstate == "23503"
    c.execute("UPDATE p SET id = 5 WHERE id = 2")
    c.execute("DELETE FROM k")
    c.execute("DELETE FROM p WHERE id = 1")
    assert state(c, "p")["p"] == [(5,)]


def test_failed_cascade_leaves_no_trace():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE p (id INTEGER PRIMARY KEY)")
    c.execute("CREATE TABLE a (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p ON DELETE CASCADE)")
    c.execute("CREATE TABLE b (aid INTEGER NOT NULL REFERENCES a ON DELETE SET NULL)")
    c.execute("INSERT INTO p VALUES (1)")
    c.execute("INSERT INTO a VALUES (1, 1)")
    c.execute("INSERT INTO b VALUES (1)")
    before = state(c, "p", "a", "b")
    assert err(c, "DELETE FROM p WHERE id = 1").sqlstate == "23502"   # SET NULL on NOT NULL
    assert state(c, "p", "a", "b") == before


def test_self_reference():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE emp (id INTEGER PRIMARY KEY, boss INTEGER REFERENCES emp (id) "
              "ON DELETE CASCADE)")
    c.execute("INSERT INTO emp VALUES (1, NULL), (2, 1), (3, 2)")
    assert err(c, "INSERT INTO emp VALUES (4, 99)").sqlstate == "23503"
    c.execute("INSERT INTO emp VALUES (5, 6), (6, 1)")                 # same statement counts
    c.execute("DELETE FROM emp WHERE id = 2")                          # cascades down to 3
    assert state(c, "emp")["emp"] == [(1, None), (5, 6), (6, 1)]


def test_definition_errors():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, t TEXT)")
    assert err(c, "CREATE TABLE x (a INTEGER REFERENCES nope (id))").sqlstate == "42P01"
    assert err(c, "CREATE TABLE x (a INTEGER REFERENCES p (t))").sqlstate == "42830"
    assert err(c, "CREATE TABLE x (a TEXT REFERENCES p (id))").sqlstate == "42804"
    assert err(c, "CREATE TABLE x (a INTEGER CHECK (a + 1))").sqlstate == "42804"
    c.execute("CREATE TABLE x (a INTEGER REFERENCES p)")
    assert err(c, "DROP TABLE p").sqlstate == "2BP01"


def test_rollback_of_constraint_changes(conn):
    conn.execute("BEGIN")
    conn.execute("ALTER TABLE c DROP CONSTRAINT c_n_check")
    conn.execute("INSERT INTO c VALUES (50, 1, -5)")
    conn.execute("ROLLBACK")
    assert err(conn, "INSERT INTO c VALUES (50, 1, -5)").sqlstate == "23514"


def test_a_check_follows_the_user_function_it_calls():
    import rustmemodb as _r
    c = _r.connect()
    c.register_function("small", lambda x: x < 10, ["INTEGER"], "BOOLEAN")
    c.execute("CREATE TABLE ck (x INTEGER CHECK (small(x)))")
    c.execute("INSERT INTO ck VALUES (5)")
    with pytest.raises(_r.IntegrityError):
        c.execute("INSERT INTO ck VALUES (50)")
    c.register_function("small", lambda x: x < 100, ["INTEGER"], "BOOLEAN")   # replaced
    c.execute("INSERT INTO ck VALUES (50)")
    assert c.execute("SELECT count(*) FROM ck").fetchone() == (2,)
