"""The Textual client, driven with Textual's Pilot: typing, Tab, Ctrl+E, history, cancel, branches."""
from __future__ import annotations

import asyncio
import time

import pytest

pytest.importorskip("textual")

from rustmemodb.cli.tui.app import RustMemoApp, SqlEditor, statement_at  # noqa: E402
from rustmemodb.cli.tui.grid import PAGE, ArrowGrid  # noqa: E402
from rustmemodb.cli.tui.history import History  # noqa: E402
from rustmemodb.cli.tui.session import EmbeddedSession  # noqa: E402


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg"


def drive(scenario, session=None, size=(120, 40)):
    """Run ``scenario(app, pilot)`` inside a headless app; return the app afterwards."""
    app = RustMemoApp(session or EmbeddedSession())

    async def main():
        async with app.run_test(size=size) as pilot:
            await scenario(app, pilot)

    asyncio.run(main())
    return app


async def run_sql(app, pilot, text: str, *, replace: bool = True):
    editor = app.query_one("#editor", SqlEditor)
    if replace:
        editor.load_text(text)
        editor.move_cursor(editor.document.end)
    await pilot.press("ctrl+e")
    await pilot.pause()              # the run starts from the editor's queue (call_later)
    await app.workers.wait_for_complete()
    await pilot.pause()


def message(app) -> str:
    return str(app.query_one("#message").render())


def status(app) -> str:
    return str(app.query_one("#status").render())


def grid_rows(app) -> list[list[str]]:
    grid = app.query_one("#grid", ArrowGrid)
    return [[str(c) for c in grid.get_row_at(i)] for i in range(grid.row_count)]


def test_typing_and_ctrl_e_runs_the_statement():
    async def scenario(app, pilot):
        await pilot.press(*"SELECT", "space", "4", "2", "space", *"AS", "space", "x")
        assert app.query_one("#editor").text == "SELECT 42 AS x"
        await pilot.press("ctrl+e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert grid_rows(app) == [["42"]] and "(1 row)" in message(app)
        assert "1 row" in status(app) and "main" in status(app)
    drive(scenario)


def test_ctrl_e_runs_only_the_statement_under_the_cursor_or_the_selection():
    async def scenario(app, pilot):
        editor = app.query_one("#editor", SqlEditor)
        editor.load_text("SELECT 1 AS a;\nSELECT 2 AS b;\nSELECT 3 AS c;")
        editor.move_cursor((1, 3))
        await run_sql(app, pilot, "", replace=False)
        assert grid_rows(app) == [["2"]]
        editor.selection = type(editor.selection)((2, 0), (2, 13))
        await run_sql(app, pilot, "", replace=False)
        assert grid_rows(app) == [["3"]]
    drive(scenario)


def test_a_selection_of_several_statements_runs_them_all_and_stops_at_an_error():
    session = EmbeddedSession()
    out = session.run("CREATE TABLE t (id INTEGER); INSERT INTO t VALUES (1), (2); SELECT count(*) AS n FROM t")
    assert out.table.to_pylist() == [{"n": 2}]
    out = session.run("INSERT INTO t VALUES (3); SELECT nope FROM t; INSERT INTO t VALUES (4)")
    assert out.error.sqlstate == "42703" and out.source == "SELECT nope FROM t" and out.error.position == 7
    assert session.run("SELECT count(*) AS n FROM t").table.to_pylist() == [{"n": 3}]


def test_statement_at():
    text = "select 1;\n\\dt\nselect\n  2"
    assert statement_at(text, 3) == ("select 1", 0)
    assert statement_at(text, 11) == ("\\dt", 10)
    assert statement_at(text, len(text)) == ("select\n  2", 14)


def test_tab_completes_keywords_tables_columns_by_alias_functions_and_branches():
    async def scenario(app, pilot):
        await run_sql(app, pilot, "CREATE TABLE trades (id INTEGER PRIMARY KEY, symbol TEXT, price FLOAT)")
        editor = app.query_one("#editor", SqlEditor)

        async def tab(text: str) -> str:
            editor.load_text(text)
            editor.move_cursor(editor.document.end)
            await pilot.press("tab")
            await pilot.pause()
            return editor.text

        assert await tab("SELE") == "SELECT"
        assert await tab("SELECT * FROM tra") == "SELECT * FROM trades"
        assert await tab("SELECT t.sy") == "SELECT t.sy"           # no alias t yet: nothing
        editor.load_text("SELECT t.sy FROM trades t")
        editor.move_cursor((0, 11))
        await pilot.press("tab")
        assert editor.text == "SELECT t.symbol FROM trades t"
        editor.load_text("SELECT pri FROM trades")
        editor.move_cursor((0, 10))
        await pilot.press("tab")                                    # columns come first
        assert editor.text == "SELECT price FROM trades"
        await pilot.press("tab")                                    # then the keyword PRIMARY
        assert editor.text == "SELECT primary FROM trades"
        assert await tab("SELECT abs") == "SELECT abs"              # function names complete too
        assert "abs" in app.catalog.functions and "count" in app.catalog.functions
        assert "add" not in app.catalog.functions              # the + operator's implementation
        assert await tab("SELECT cou") == "SELECT count"
        await run_sql(app, pilot, "\\fork what_if")
        assert await tab("\\checkout wh") == "\\checkout what_if"
        assert await tab("\\chec") == "\\checkout"
    drive(scenario)


def test_tab_with_several_candidates_extends_then_cycles():
    async def scenario(app, pilot):
        await run_sql(app, pilot, "CREATE TABLE sales_2023 (id INTEGER)")
        await run_sql(app, pilot, "CREATE TABLE sales_2024 (id INTEGER)")
        editor = app.query_one("#editor", SqlEditor)
        editor.load_text("SELECT * FROM sa")
        editor.move_cursor(editor.document.end)
        await pilot.press("tab")
        assert editor.text == "SELECT * FROM sales_202"
        assert "sales_2023" in status(app) and "sales_2024" in status(app)
        await pilot.press("tab")
        assert editor.text == "SELECT * FROM sales_2023"
        await pilot.press("tab")
        assert editor.text == "SELECT * FROM sales_2024"
    drive(scenario)


def test_errors_show_sqlstate_caret_and_hint():
    async def scenario(app, pilot):
        await run_sql(app, pilot, "CREATE TABLE t (id INTEGER)")
        await run_sql(app, pilot, "SELECT id,\n       nope FROM t")
        text = message(app).splitlines()
        assert text[0] == 'ERROR 42703: column "nope" does not exist'
        assert text[1] == "LINE 2:        nope FROM t"
        assert text[2] == " " * len("LINE 2:        ") + "^"
        await run_sql(app, pilot, "SELECT 'a' + 1")
        assert "ERROR 42" in message(app) and "^" in message(app)
        await run_sql(app, pilot, "INSERT INTO t VALUES ('42')")
        assert "42804" in message(app) and "HINT" in message(app)
        assert app.session.active.execute("SELECT count(*) FROM t").fetchall() == [(0,)]
    drive(scenario)


def test_history_is_kept_across_restarts(data_home):
    async def first(app, pilot):
        await run_sql(app, pilot, "SELECT 7 AS seven")
    drive(first)
    path = data_home / "rustmemodb" / "history.jsonl"
    assert path.exists() and "SELECT 7 AS seven" in path.read_text()

    async def second(app, pilot):
        log = app.query_one("#history")
        assert any("SELECT 7 AS seven" in str(line.text) for line in log.lines)
        await pilot.press("ctrl+up")
        assert app.query_one("#editor").text == "SELECT 7 AS seven"
        await pilot.press("ctrl+e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert grid_rows(app) == [["7"]]
    drive(second)
    assert len(History(path).entries) == 2


def test_a_damaged_history_line_is_skipped(data_home):
    path = data_home / "rustmemodb" / "history.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('{"source": "SELECT 1", "summary": "1 row", "at": ""}\nnot json\n')
    assert [e.source for e in History(path).entries] == ["SELECT 1"]


def test_ctrl_c_cancels_a_running_statement_and_the_client_stays():
    session = EmbeddedSession()

    async def scenario(app, pilot):
        editor = app.query_one("#editor", SqlEditor)
        # minutes of work unless cancelled
        editor.load_text("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
                         "WHERE n < 100000000) SELECT count(*) FROM r")
        await pilot.press("ctrl+e")
        await pilot.pause(0.3)
        assert app.running and "running" in status(app)
        await pilot.press("ctrl+c")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "ERROR 57014" in message(app) and not app.running
        assert app.is_running                                  # still there
        await run_sql(app, pilot, "SELECT 1 AS ok")
        assert grid_rows(app) == [["1"]]
    drive(scenario, session)


def test_branch_commands():
    async def scenario(app, pilot):
        await run_sql(app, pilot, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        await run_sql(app, pilot, "INSERT INTO t VALUES (1, 'a'), (2, 'b')")
        await run_sql(app, pilot, "\\fork exp")
        assert "forked main as exp" in message(app)
        await run_sql(app, pilot, "\\checkout exp")
        assert "exp ·" in status(app)
        await run_sql(app, pilot, "UPDATE t SET v = 'z' WHERE id = 1")
        await run_sql(app, pilot, "\\branches")
        assert message(app).splitlines() == ["  main   (t 2)", "*   exp   (t 2)"]
        await run_sql(app, pilot, "\\diff main exp t")
        assert grid_rows(app) == [["changed", "1", "z", "['v']"]]
        await run_sql(app, pilot, "\\checkout main")
        await run_sql(app, pilot, "\\merge exp")
        assert "merged exp into main" in message(app)
        await run_sql(app, pilot, "SELECT v FROM t ORDER BY id")
        assert grid_rows(app) == [["z"], ["b"]]
        await run_sql(app, pilot, "\\undo")
        await run_sql(app, pilot, "SELECT v FROM t ORDER BY id")
        assert grid_rows(app) == [["a"], ["b"]]
        await run_sql(app, pilot, "\\fork bad,name")
        assert "42601" in message(app) and "invalid branch name" in message(app)
        await run_sql(app, pilot, "\\checkout nowhere")
        assert "unknown branch 'nowhere'" in message(app)
    drive(scenario)


def test_d_dt_timing_and_expanded():
    async def scenario(app, pilot):
        await run_sql(app, pilot, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        await run_sql(app, pilot, "INSERT INTO t VALUES (1, 'a')")
        await run_sql(app, pilot, "\\dt")
        assert grid_rows(app) == [["t", "1"]]
        await run_sql(app, pilot, "\\d t")
        assert grid_rows(app) == [["id", "integer"], ["v", "text"]]
        await run_sql(app, pilot, "\\timing")
        assert "Timing is on." in message(app)
        await run_sql(app, pilot, "SELECT * FROM t")
        assert "Time:" in message(app) and " ms" in message(app)
        await run_sql(app, pilot, "\\x")
        assert grid_rows(app) == [["1", "id", "1"], ["", "v", "a"]]
        await run_sql(app, pilot, "\\nope")
        assert "unknown command \\nope" in message(app)
    drive(scenario)


def test_explain_analyze_is_a_tree_with_the_slowest_node_marked():
    async def scenario(app, pilot):
        await run_sql(app, pilot, "CREATE TABLE t AS SELECT g AS id, g % 7 AS k FROM generate_series(1, 5000) g")
        await run_sql(app, pilot, "EXPLAIN ANALYZE SELECT k, count(*) FROM t WHERE id > 10 GROUP BY k ORDER BY k")
        lines = message(app).splitlines()
        assert sum("◀ slowest" in line for line in lines) == 1
        assert any(line.lstrip().startswith("└─ ") for line in lines)
        assert all("[self " in line for line in lines)
    drive(scenario)


def test_a_million_rows_are_paged_not_converted():
    async def scenario(app, pilot):
        await run_sql(app, pilot, "SELECT g AS n FROM generate_series(1, 1000000) g")
        grid = app.query_one("#grid", ArrowGrid)
        assert grid.total == 1_000_000 and grid.loaded == PAGE and grid.row_count == PAGE
        assert "(1,000,000 rows)" in message(app)
        grid.focus()
        for _ in range(8):                       # scrolling near the end loads the next page
            await pilot.press("pagedown")
        await pilot.pause()
        assert grid.loaded == 2 * PAGE
        await pilot.press("ctrl+end")            # and again from its end
        await pilot.pause()
        assert grid.loaded == 3 * PAGE == grid.row_count
        assert grid_rows(app)[grid.loaded - 1] == [str(grid.loaded)]
        await run_sql(app, pilot, "\\fork after_big")          # a result without rows next
        assert grid.row_count == 0 and "forked main as after_big" in message(app)
        await run_sql(app, pilot, "SELECT g AS a, g AS b FROM generate_series(1, 500) g")
        assert grid.row_count == PAGE and len(grid.columns) == 2
    drive(scenario)


def test_escape_quits():
    async def scenario(app, pilot):
        await pilot.press("escape")
        await pilot.pause()
        assert not app.is_running
    drive(scenario)


@pytest.mark.timeout(120)     # without the cancel, quitting waits minutes for the statement
def test_escape_while_a_statement_runs_cancels_it_and_quits():
    session = EmbeddedSession()

    async def scenario(app, pilot):
        editor = app.query_one("#editor", SqlEditor)
        editor.load_text("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
                         "WHERE n < 100000000) SELECT count(*) FROM r")
        await pilot.press("ctrl+e")
        await pilot.pause(0.3)
        assert app.running
        await pilot.press("escape")
        await pilot.pause()
    app = drive(scenario, session)
    # the statement was cancelled, not left running (it would run for minutes)
    assert [w for w in app.workers if not w.is_finished] == []


def test_svg_screenshot(tmp_path):
    out = {}

    async def scenario(app, pilot):
        await run_sql(app, pilot, "CREATE TABLE trades (id INTEGER PRIMARY KEY, sym TEXT, px FLOAT)")
        await run_sql(app, pilot, "INSERT INTO trades VALUES (1, 'AAPL', 189.5), (2, 'MSFT', 411.2)")
        await run_sql(app, pilot, "SELECT * FROM trades ORDER BY id")
        assert grid_rows(app)[0][1] == "AAPL"
        # the grid paints on a later refresh: seconds on a loaded CI box (5 s were once
        # not enough), so wait for it up to a generous deadline
        deadline = time.monotonic() + 60
        while "AAPL" not in app.export_screenshot() and time.monotonic() < deadline:
            await pilot.pause(0.05)
        out["path"] = app.save_screenshot(filename="tui.svg", path=str(tmp_path))
    drive(scenario)
    svg = open(out["path"], encoding="utf-8").read()
    assert svg.startswith("<svg") and "AAPL" in svg and "MSFT" in svg
    import shutil
    import subprocess
    if shutil.which("rsvg-convert"):          # rasterised, as looked at during development
        png = tmp_path / "tui.png"
        subprocess.run(["rsvg-convert", "-o", str(png), out["path"]], check=True)
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_a_directory_database_keeps_its_data_and_forks_stay_in_memory(tmp_path):
    from rustmemodb.cli.tui.session import open_session
    path = str(tmp_path / "db")
    session = open_session(path, "async")
    assert session.label == f"embedded {path}"
    session.run("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    session.run("INSERT INTO t VALUES (1)")
    session.run("\\fork scratch")
    session.run("\\checkout scratch")
    session.run("INSERT INTO t VALUES (2)")            # on the in-memory branch only
    session.close()
    again = open_session(path, "async")
    assert again.run("SELECT id FROM t").table.to_pylist() == [{"id": 1}]
    again.close()


def test_help_lists_every_backslash_command():
    out = EmbeddedSession().run("\\?")
    for command in ("\\fork NAME", "\\checkout NAME", "\\branches", "\\diff A B [TABLE]", "\\merge SOURCE",
                    "\\undo", "\\drop-branch NAME", "\\d [TABLE]", "\\dt", "\\timing", "\\x"):
        assert command in out.text
