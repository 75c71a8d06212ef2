"""Live grids: ``rustmemodb_lab.live`` and ``%sql --live`` redraw after relevant commits."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest
import rustmemodb

import rustmemodb_lab
from rustmemodb_lab.errors import LabUsageError
from rustmemodb_lab.live import LiveFrame


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def conn():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)")
    c.execute("CREATE TABLE other (x INTEGER)")
    c.executemany("INSERT INTO items VALUES ($1, $2, $3)", [(i, f"n{i:03d}", (i * 37) % 101) for i in range(1, 121)])
    return c


@pytest.fixture
def grid(conn):
    frame = rustmemodb_lab.live("items", connection=conn, page_size=10)
    yield frame
    frame.close()


def test_first_page_and_tables(grid):
    assert isinstance(grid, LiveFrame)
    assert grid.tables == {"items"}
    assert list(grid.frame["id"]) == list(range(1, 11))
    assert grid.total == 120
    assert "version" in grid.status_text() and "updated" in grid.status_text()


def test_query_tables_come_from_the_binder(conn):
    frame = rustmemodb_lab.live("SELECT i.name FROM items i JOIN other o ON o.x = i.id", connection=conn)
    try:
        assert frame.tables == {"items", "other"}
    finally:
        frame.close()


def test_non_select_is_refused(conn):
    with pytest.raises(LabUsageError):
        rustmemodb_lab.live("DELETE FROM items", connection=conn)


def test_write_from_another_thread_updates_frame(conn, grid):
    before = grid.refreshes

    def writer():
        c = conn.database.connect()
        c.execute("UPDATE items SET name = 'changed' WHERE id = 3")

    t = threading.Thread(target=writer)
    t.start()
    t.join()
    assert wait_for(lambda: grid.frame.loc[grid.frame["id"] == 3, "name"].item() == "changed")
    assert grid.refreshes > before
    assert grid.changed_rows == [2]            # only the row that changed is highlighted
    assert "rmdb-live-changed" in grid.html()


def test_a_redundant_refresh_keeps_the_highlight(conn, grid):
    # a refresh that already saw a commit is often followed by the one that commit
    # scheduled: the page is the same, so the grid keeps its flash of the changed row
    conn.execute("UPDATE items SET name = 'again' WHERE id = 4")
    grid.refresh()
    assert grid.changed_rows == [3]
    drawn = grid.grid.value
    assert "rmdb-live-changed" in drawn
    grid.refresh()
    assert grid.changed_rows == [3] and grid.grid.value == drawn
    conn.execute("DELETE FROM items WHERE id = 1")      # the page shifts: redrawn
    grid.refresh()
    assert grid.grid.value != drawn and grid.frame["id"].tolist()[0] == 2


def test_burst_of_commits_is_coalesced(conn, grid):
    before = grid.refreshes
    for i in range(100):
        conn.execute("UPDATE items SET qty = $1 WHERE id = 1", [1000 + i])
    assert wait_for(lambda: grid.frame.loc[grid.frame["id"] == 1, "qty"].item() == 1099)
    time.sleep(0.3)                            # let any pending timer fire before counting
    assert 1 <= grid.refreshes - before <= 20


def test_unrelated_commits_do_not_refresh(conn, grid):
    before = grid.refreshes
    for i in range(5):
        conn.execute("INSERT INTO other VALUES ($1)", [i])
    time.sleep(0.4)
    assert grid.refreshes == before


def test_pause_then_resume_catches_up(conn, grid):
    grid.pause()
    before = grid.refreshes
    conn.execute("UPDATE items SET name = 'while paused' WHERE id = 2")
    time.sleep(0.4)
    assert grid.refreshes == before
    assert grid.frame.loc[grid.frame["id"] == 2, "name"].item() == "n002"
    assert "paused" in grid.status_text()
    grid.resume()
    assert wait_for(lambda: grid.frame.loc[grid.frame["id"] == 2, "name"].item() == "while paused")


def test_close_cancels_the_subscription(conn, grid):
    grid.close()
    assert not grid.subscription.active
    before = grid.refreshes
    conn.execute("UPDATE items SET name = 'after close' WHERE id = 1")
    time.sleep(0.4)
    assert grid.refreshes == before
    assert grid.frame.loc[grid.frame["id"] == 1, "name"].item() == "n001"


def test_paging_sort_and_filter_equal_direct_sql(conn, grid):
    grid.sort("qty", descending=True).goto(2)
    direct = conn.execute("SELECT * FROM items ORDER BY qty DESC LIMIT 10 OFFSET 20").df()
    pd.testing.assert_frame_equal(grid.frame.reset_index(drop=True), direct.reset_index(drop=True))
    grid.filter("qty < 50").sort("name")
    direct = conn.execute("SELECT * FROM items WHERE qty < 50 ORDER BY name LIMIT 10").df()
    pd.testing.assert_frame_equal(grid.frame.reset_index(drop=True), direct.reset_index(drop=True))
    assert grid.total == conn.execute("SELECT count(*) FROM items WHERE qty < 50").fetchone()[0]
    grid.goto(999)                             # clamped to the last page
    assert grid.page == grid.pages - 1 and len(grid.frame) > 0
    assert "ORDER BY \"name\"" in grid.page_sql()


def test_buttons_page(grid):
    assert grid.prev_button.disabled
    grid.next_button.click()
    assert grid.page == 1 and list(grid.frame["id"]) == list(range(11, 21))
    grid.prev_button.click()
    assert grid.page == 0


def test_static_html_is_not_blank(grid):
    bundle = grid._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert "<table" in html and "n001" in html and "version" in html


def test_persist_collection(tmp_path):
    persist = pytest.importorskip("rustmemodb.persist")
    app = persist.PersistApp.open()
    notes = app.collection("notes", "CREATE TABLE notes (title TEXT NOT NULL)")
    notes.create({"title": "first"})
    frame = rustmemodb_lab.live(notes)
    try:
        assert frame.tables == {"notes"} and list(frame.frame["title"]) == ["first"]
        made = notes.create({"title": "second"})
        assert wait_for(lambda: len(frame.frame) == 2)
        notes.patch(made._id, {"title": "second!"})
        assert wait_for(lambda: "second!" in list(frame.frame["title"]))
        row = [str(v) for v in frame.frame["_id"]].index(str(made._id))
        assert frame.changed_rows == [row]     # keyed by _id: the patched row only
    finally:
        frame.close()


def test_sql_live_magic_binds_and_displays(cell, ip):
    cell("%sql CREATE TABLE t (a INTEGER)")
    cell("%sql INSERT INTO t VALUES (1), (2)")
    out = cell("%sql --live g SELECT a FROM t WHERE a > 0")
    assert out.error is None
    g = ip.user_ns["g"]
    try:
        assert isinstance(g, LiveFrame) and out.value is g
        assert list(g.frame["a"]) == [1, 2]
        cell("%sql INSERT INTO t VALUES (3)")
        assert wait_for(lambda: list(g.frame["a"]) == [1, 2, 3])
        assert "<table" in out.html()
    finally:
        g.close()


def test_sql_live_needs_a_name_and_one_query(cell):
    assert "variable name" in cell("%sql --live 1x SELECT 1", fails=True).stdout
    assert "exactly one query" in cell("%%sql --live g\nSELECT 1; SELECT 2", fails=True).stdout


def test_live_on_a_session_branch(cell, ip):
    cell("%sql CREATE TABLE t (a INTEGER)")
    cell("%sql --fork b")
    cell("%sql --checkout b")
    cell("%sql INSERT INTO t VALUES (7)")
    on_b = rustmemodb_lab.live("t")
    on_main = rustmemodb_lab.live("t", branch="main")
    try:
        assert list(on_b.frame["a"]) == [7] and on_main.frame.empty
    finally:
        on_b.close()
        on_main.close()


def test_a_forgotten_grid_is_collected_and_stops(conn):
    import gc
    import weakref

    frame = rustmemodb_lab.live("items", connection=conn)
    frame._repr_mimebundle_()                  # starts the status ticker
    ref = weakref.ref(frame)
    ticker = frame._ticker
    del frame
    gc.collect()
    assert wait_for(lambda: ref() is None)
    conn.execute("UPDATE items SET qty = 0 WHERE id = 1")   # no subscriber left to call
    ticker.join(timeout=5)
    assert not ticker.is_alive()
