"""MERGE beyond its SQL file (tests/sql/dml/merge.test): privileges per action, foreign
keys through its deletes, and the whole statement undone by ROLLBACK or an error."""
from __future__ import annotations

import pytest

import rustmemodb
from rustmemodb import errors


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE p (id INTEGER PRIMARY KEY, v INTEGER)")
    c.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) "
              "ON DELETE CASCADE)")
    c.execute("INSERT INTO p VALUES (1, 10), (2, 20)")
    c.execute("INSERT INTO c VALUES (100, 1), (200, 2)")
    return c


def test_a_merge_delete_cascades_and_rolls_back_whole(conn):
    conn.execute("BEGIN")
    conn.execute("MERGE INTO p USING (VALUES (1), (3)) s(id) ON p.id = s.id "
                 "WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT VALUES (s.id, 30)")
    assert conn.execute("SELECT id FROM p ORDER BY id").fetchall() == [(2,), (3,)]
    assert conn.execute("SELECT id FROM c").fetchall() == [(200,)]
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT id FROM p ORDER BY id").fetchall() == [(1,), (2,)]
    assert conn.execute("SELECT count(*) FROM c").fetchall() == [(2,)]


def test_a_failing_action_undoes_the_others(conn):
    with pytest.raises(errors.IntegrityError):     # the insert of 2 clashes: 23505
        conn.execute("MERGE INTO p USING (VALUES (1, 5), (7, 2)) s(id, x) ON p.id = s.id "
                     "WHEN MATCHED THEN UPDATE SET v = s.x "
                     "WHEN NOT MATCHED THEN INSERT VALUES (s.x, 0)")
    assert conn.execute("SELECT * FROM p ORDER BY id").fetchall() == [(1, 10), (2, 20)]


def test_each_action_needs_its_privilege(conn):
    conn.execute("CREATE ROLE owner_role SUPERUSER LOGIN")
    conn.execute("CREATE ROLE clerk LOGIN")
    conn.execute("GRANT SELECT, INSERT ON p TO clerk")
    conn.execute("SET ROLE clerk")
    conn.execute("MERGE INTO p USING (VALUES (5)) s(id) ON p.id = s.id "
                 "WHEN NOT MATCHED THEN INSERT VALUES (s.id, 50)")
    with pytest.raises(errors.Error) as info:
        conn.execute("MERGE INTO p USING (VALUES (5)) s(id) ON p.id = s.id "
                     "WHEN MATCHED THEN UPDATE SET v = 0")
    assert info.value.sqlstate == "42501"
    conn.execute("RESET ROLE")
    assert conn.execute("SELECT v FROM p WHERE id = 5").fetchall() == [(50,)]
