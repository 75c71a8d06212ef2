"""--connect, --connection, --connections: several databases in one notebook."""

from __future__ import annotations


def test_default_connection_is_in_memory(cell, session):
    cell("%sql SELECT 1")
    assert session.current_name == "default"
    assert session.paths["default"] == ":memory:"


def test_connect_memory_and_switch(cell, session):
    cell("%sql CREATE TABLE only_in_default (a INTEGER)")
    out = cell("%sql --connect :memory: --alias scratch")
    assert "connected scratch" in repr(out.value)
    assert session.current_name == "scratch"
    assert cell("%sql SELECT * FROM only_in_default", fails=True).error.sqlstate == "42P01"
    cell("%sql --connection default")
    assert cell("%sql SELECT count(*) FROM only_in_default").value.rows() == [(0,)]


def test_each_connection_has_its_own_branches(cell, session):
    cell("%sql --fork exp1")
    cell("%sql --connect :memory:")
    assert session.current_name == "memory2"
    assert list(session.registry.branches) == ["main"]
    assert "unknown branch" in str(cell("%sql --checkout exp1", fails=True).error)


def test_connections_listing(cell):
    cell("%sql --connect :memory: --alias other")
    rows = cell("%sql --connections").value.rows()
    assert [(r[0], r[4]) for r in rows] == [("other", True)] or [(r[0], r[4]) for r in rows] == [("default", False), ("other", True)]


def test_unknown_connection_and_duplicate_alias(cell):
    assert "no open connection named 'nope'" in str(cell("%sql --connection nope", fails=True).error)
    cell("%sql --connect :memory: --alias twice")
    assert "already open" in str(cell("%sql --connect :memory: --alias twice", fails=True).error)


def _engine_is_durable(tmp_path) -> bool:
    import rustmemodb

    try:
        conn = rustmemodb.connect(str(tmp_path / "probe.db"))
    except Exception:
        return False
    getattr(conn, "close", lambda: None)()
    return True


def test_connect_to_a_file(cell, tmp_path, session):
    """File-backed once the engine is durable; until then a clear error."""
    path = tmp_path / "lab.db"
    if not _engine_is_durable(tmp_path):
        out = cell(f"%sql --connect {path}", fails=True)
        assert "no file-backed (durable) databases" in str(out.error)
        assert "Traceback" not in out.stdout
        return
    cell(f"%sql --connect {path} --alias filedb")
    assert session.current_name == "filedb"
    cell("%%sql\nCREATE TABLE kept (a INTEGER);\nINSERT INTO kept VALUES (7)")
    session.close()
    cell(f"%sql --connect {path} --alias again")
    assert cell("%sql SELECT a FROM kept").value.rows() == [(7,)]
