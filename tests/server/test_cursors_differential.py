"""SQL cursors (DECLARE / FETCH / MOVE / CLOSE) and psycopg's named cursors, against
PostgreSQL 15: the same rows, command tags and errors."""
from __future__ import annotations

import pytest

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def pair(dsn, pg_dsn):
    conns = [psycopg.connect(dsn, autocommit=True), psycopg.connect(pg_dsn, autocommit=True)]
    for c in conns:
        c.execute("DROP TABLE IF EXISTS cur_t")
        c.execute("CREATE TABLE cur_t (id BIGINT PRIMARY KEY, v TEXT)")
        c.execute("INSERT INTO cur_t SELECT i, 'v' || i FROM generate_series(1, 25) i")
    yield conns
    for c in conns:
        c.rollback()
        c.execute("DROP TABLE IF EXISTS cur_t")
        c.close()


def _script(conn, script: list[str]) -> list:
    out = []
    for sql in script:
        try:
            cur = conn.execute(sql)
            rows = cur.fetchall() if cur.description is not None else None
            out.append((cur.statusmessage, rows))
        except psycopg.Error as exc:
            out.append(("error", exc.sqlstate))
            conn.execute("ROLLBACK")
    return out


def test_declare_fetch_move_close(pair):
    script = ["BEGIN",
              "DECLARE c CURSOR FOR SELECT id, v FROM cur_t WHERE id <= 12 ORDER BY id",
              "FETCH 5 FROM c", "FETCH NEXT FROM c", "FETCH c", "MOVE 2 IN c",
              "FETCH FORWARD 2 FROM c", "FETCH ALL FROM c", "FETCH c", "CLOSE c",
              "FETCH c", "BEGIN", "DECLARE \"Mixed\" NO SCROLL CURSOR FOR SELECT v FROM cur_t "
              "ORDER BY id DESC", "FETCH FORWARD 3 FROM \"Mixed\"", "COMMIT",
              "FETCH 1 FROM \"Mixed\""]
    got = [_script(conn, script) for conn in pair]
    assert got[0] == got[1]
    assert got[0][2] == ("FETCH 5", [(i, f"v{i}") for i in range(1, 6)])
    assert got[0][5] == ("MOVE 2", None)
    assert got[0][10] == ("error", "34000")


def test_scroll_cursors_move_as_in_postgresql(pair):
    script = ["BEGIN",
              "DECLARE s SCROLL CURSOR FOR SELECT id, v FROM cur_t WHERE id <= 10 ORDER BY id",
              "FETCH 3 FROM s", "FETCH PRIOR FROM s", "FETCH BACKWARD 5 FROM s", "FETCH s",
              "FETCH LAST FROM s", "FETCH NEXT FROM s", "FETCH PRIOR FROM s",
              "FETCH ABSOLUTE 4 FROM s", "FETCH RELATIVE -2 FROM s", "FETCH RELATIVE 0 FROM s",
              "FETCH ABSOLUTE -3 FROM s", "FETCH ABSOLUTE 0 FROM s", "FETCH ABSOLUTE 99 FROM s",
              "FETCH BACKWARD ALL FROM s", "FETCH FIRST FROM s", "FETCH FORWARD ALL FROM s",
              "MOVE BACKWARD 4 IN s", "FETCH -2 FROM s", "MOVE ABSOLUTE 2 IN s", "FETCH 0 FROM s",
              "MOVE LAST IN s", "FETCH FORWARD 2 FROM s", "FETCH BACKWARD 2 FROM s", "COMMIT",
              # NO SCROLL: backward movement is 55000 and aborts the transaction
              "BEGIN", "DECLARE f NO SCROLL CURSOR FOR SELECT id FROM cur_t ORDER BY id",
              "FETCH 2 FROM f", "FETCH ABSOLUTE 5 FROM f", "FETCH PRIOR FROM f", "BEGIN",
              "DECLARE g NO SCROLL CURSOR FOR SELECT id FROM cur_t ORDER BY id",
              "FETCH ABSOLUTE 3 FROM g", "FETCH FIRST FROM g"]
    got = [_script(conn, script) for conn in pair]
    assert got[0] == got[1]
    assert got[0][3] == ("FETCH 1", [(2, "v2")])             # PRIOR from row 3
    assert [g for g in got[0] if g[0] == "error"] == [("error", "55000")] * 2


def test_cursor_errors(pair):
    script = ["DECLARE c CURSOR FOR SELECT 1",                  # outside a transaction
              "BEGIN", "DECLARE c CURSOR FOR SELECT 1", "DECLARE c CURSOR FOR SELECT 2",
              "BEGIN", "CLOSE nope",
              "BEGIN", "DECLARE h CURSOR WITH HOLD FOR SELECT id FROM cur_t ORDER BY id",
              "COMMIT", "FETCH 2 FROM h", "CLOSE ALL", "FETCH h"]
    got = [_script(conn, script) for conn in pair]
    assert got[0] == got[1]
    assert [g[1] for g in got[0] if g[0] == "error"] == ["25P01", "42P03", "34000", "34000"]


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_psycopg_named_cursor(pair, binary):
    out = []
    for conn in pair:
        with conn.transaction():
            with conn.cursor("named", binary=binary) as cur:
                cur.execute("SELECT id, v FROM cur_t WHERE id > %s ORDER BY id", (20,))
                first = cur.fetchone()
                some = cur.fetchmany(2)
                rest = cur.fetchall()
                names = [d.name for d in cur.description]
        out.append((first, some, rest, names))
    assert out[0] == out[1]
    assert out[0][0] == (21, "v21") and len(out[0][2]) == 2


def test_psycopg_named_cursor_with_hold_iterates_in_batches(pair):
    out = []
    for conn in pair:
        with conn.cursor("held", withhold=True) as cur:
            cur.itersize = 4
            cur.execute("SELECT id FROM cur_t ORDER BY id")
            out.append([r[0] for r in cur])
    assert out[0] == out[1] == list(range(1, 26))


def test_pg_cursors_lists_the_sessions_open_cursors(pair):
    """pg_cursors: this session's open cursors, as PostgreSQL lists them (a transaction's
    cursors go with it, WITH HOLD ones stay; BINARY and NO SCROLL show)."""
    listing = ("SELECT name, statement, is_holdable, is_binary, is_scrollable, "
               "creation_time IS NOT NULL FROM pg_cursors ORDER BY name")
    script = ["BEGIN",
              "DECLARE a SCROLL CURSOR FOR SELECT id FROM cur_t ORDER BY id",
              "DECLARE b NO SCROLL CURSOR WITH HOLD FOR SELECT v FROM cur_t ORDER BY id",
              "DECLARE c BINARY SCROLL CURSOR FOR SELECT id FROM cur_t ORDER BY id",
              listing, "CLOSE a", listing, "COMMIT", listing, "CLOSE b", listing]
    got = [_script(conn, script) for conn in pair]
    assert got[0] == got[1]
    assert [r[0] for r in got[0][4][1]] == ["a", "b", "c"]
    assert got[0][8][1] == [("b", "DECLARE b NO SCROLL CURSOR WITH HOLD FOR SELECT v FROM "
                                  "cur_t ORDER BY id", True, False, False, True)]
    assert got[0][10][1] == []
