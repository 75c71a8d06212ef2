"""pgcli's completion against the wire server: pgcli fills its completer from the
catalog queries of ``pgcli.pgexecute.PGExecute`` (schemata, tables, views, columns,
functions, data types, foreign keys), run by its ``CompletionRefresher``; one failing
query there leaves pgcli with no completions at all. This drives that refresher, then
asks the completer what a user typing would see, as the same test does against
PostgreSQL 15 (the suggestions must agree)."""
from __future__ import annotations

import threading

import pytest

pytest.importorskip("pgcli")
from pgcli.completion_refresher import CompletionRefresher  # noqa: E402
from pgcli.pgexecute import PGExecute  # noqa: E402
from prompt_toolkit.document import Document  # noqa: E402

SCHEMA = ["DROP VIEW IF EXISTS pc_active", "DROP TABLE IF EXISTS pc_orders",
          "DROP TABLE IF EXISTS pc_users", "DROP FUNCTION IF EXISTS pc_add1",
          "CREATE TABLE pc_users (id bigint PRIMARY KEY, email text, created date)",
          "CREATE TABLE pc_orders (id bigint PRIMARY KEY, "
          "user_id bigint REFERENCES pc_users (id))",
          "CREATE VIEW pc_active AS SELECT id, email FROM pc_users",
          "CREATE FUNCTION pc_add1(x bigint) RETURNS bigint LANGUAGE sql "
          "AS 'SELECT x + 1'"]


def _completer(**conn):
    executor = PGExecute(database=conn["database"], user=conn["user"],
                         password=conn["password"], host=conn["host"], port=conn["port"],
                         dsn=None)
    for sql in SCHEMA:
        executor.conn.cursor().execute(sql)
    executor.conn.commit()
    done = threading.Event()
    got: list = []

    def ready(completer) -> None:
        got.append(completer)
        done.set()
    CompletionRefresher().refresh(executor, special=None, callbacks=ready,
                                  settings={"single_connection": True})
    assert done.wait(60), "pgcli's completion refresh never finished (a catalog query failed)"
    return got[0]


def _suggest(completer, text: str) -> list[str]:
    doc = Document(text, len(text))
    return sorted({c.text for c in completer.get_completions(doc, None)})


def _pg_login(pg_dsn: str) -> dict:
    parts = dict(p.split("=", 1) for p in pg_dsn.split())
    return {"database": parts["dbname"], "user": parts["user"], "password": parts.get(
        "password", ""), "host": parts["host"], "port": int(parts["port"])}


@pytest.mark.parametrize("typed, expected", [
    ("SELECT * FROM pc_", {"pc_users", "pc_orders", "pc_active"}),
    ("SELECT * FROM pc_users WHERE em", {"email"}),
    ("SELECT pc_add", {"pc_add1()"}),
    ("SELECT * FROM pc_orders JOIN ", {"pc_users ON pc_users.id = pc_orders.user_id"}),
])
def test_completion_as_on_postgresql(login, pg_dsn, typed, expected):
    ours = _suggest(_completer(**login), typed)
    theirs = _suggest(_completer(**_pg_login(pg_dsn)), typed)
    assert expected <= set(ours), ours
    wanted = {s for s in theirs if s.startswith(("pc_", "email", "pc_users ON"))}
    assert wanted <= set(ours), (wanted - set(ours))
