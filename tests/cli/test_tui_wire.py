"""`rustmemodb cli postgresql://...`: the same client through psycopg, against PostgreSQL 15."""
from __future__ import annotations

import asyncio
import threading

import pytest

pytest.importorskip("textual")

from rustmemodb.cli.tui.app import RustMemoApp, SqlEditor  # noqa: E402
from rustmemodb.cli.tui.grid import ArrowGrid  # noqa: E402
from rustmemodb.cli.tui.session import WireSession, open_session  # noqa: E402


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))


@pytest.fixture
def wire(pg_url):
    session = open_session(pg_url)
    assert isinstance(session, WireSession)
    session.run("DROP TABLE IF EXISTS wt")
    yield session
    session.close()


def test_statements_errors_and_catalog(wire):
    assert wire.run("CREATE TABLE wt (id int PRIMARY KEY, v text)").status == "CREATE TABLE"
    assert wire.run("INSERT INTO wt VALUES (1, 'a'), (2, NULL)").status == "INSERT 0 2"
    out = wire.run("SELECT id, v FROM wt ORDER BY id")
    assert out.kind == "rows" and out.table.to_pylist() == [{"id": 1, "v": "a"}, {"id": 2, "v": None}]
    assert out.columns == [("id", "INT4"), ("v", "TEXT")]
    err = wire.run("SELECT id,\n  nope FROM wt").error
    assert (err.sqlstate, err.message, err.position) == ("42703", 'column "nope" does not exist', 13)
    assert {"table": "wt", "rows": 2} in wire.run("\\dt").table.to_pylist()
    assert wire.run("\\d wt").table.to_pylist() == [{"column": "id", "type": "integer"},
                                                   {"column": "v", "type": "text"}]
    refused = wire.run("\\fork x").error.message
    assert "branches are not available over the wire" in refused and "postgres@" in refused


def test_values_arrow_cannot_type_come_as_text(wire):
    out = wire.run("SELECT int4range(1, 5) AS r, ARRAY[1, 2] AS a, NULL::text AS n")
    assert out.table.to_pylist() == [{"r": "[1, 5)", "a": [1, 2], "n": None}]


def test_cancel_over_the_wire(wire):
    threading.Timer(0.5, wire.cancel).start()
    out = wire.run("SELECT pg_sleep(30)")
    assert out.error.sqlstate == "57014" and out.elapsed < 10
    assert wire.run("SELECT 1 AS ok").table.to_pylist() == [{"ok": 1}]


def test_the_app_on_postgresql(wire):
    wire.run("CREATE TABLE wt (id int PRIMARY KEY, v text)")
    wire.run("INSERT INTO wt VALUES (1, 'x')")
    app = RustMemoApp(wire)

    async def main():
        async with app.run_test(size=(120, 40)) as pilot:
            editor = app.query_one("#editor", SqlEditor)
            editor.load_text("SELECT * FROM w")
            editor.move_cursor(editor.document.end)
            await pilot.press("tab")
            assert editor.text == "SELECT * FROM wt"
            await pilot.press("ctrl+e")
            await pilot.pause()
            await app.workers.wait_for_complete()
            await pilot.pause()
            grid = app.query_one("#grid", ArrowGrid)
            assert [list(map(str, grid.get_row_at(0)))] == [["1", "x"]]
            assert "postgresql://postgres@" in str(app.query_one("#status").render())
    asyncio.run(main())
