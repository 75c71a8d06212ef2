"""Completion of %%sql cells and %sql lines through IPython's completer (matchers v2).

Each test asks the shell's real completer (``ip.Completer.completions``), the
call ipykernel makes for a ``complete_request``, so what is asserted is what
a notebook front end would list.
"""

from __future__ import annotations

import sqlite3

from IPython.core.completer import provisionalcompleter

from rustmemodb_lab.completion import MATCHER_ID


def complete(ip, text: str, cursor: int | None = None) -> list:
    with provisionalcompleter():
        return list(ip.Completer.completions(text, len(text) if cursor is None else cursor))


def texts(ip, text: str, cursor: int | None = None) -> list[str]:
    return [c.text for c in complete(ip, text, cursor)]


def test_tables_in_a_sql_cell_replace_python_completions(ip, cell, trades):
    got = complete(ip, "%%sql\nSELECT * FROM tr")
    assert [(c.text, c.type, c.start, c.end) for c in got] == [("trades", "table", 20, 22)]
    got = texts(ip, "%%sql\nSELECT * FROM trades WHERE p")
    assert got[0] == "px" and "print" not in got  # jedi's Python names are suppressed


def test_columns_qualified_by_alias(ip, cell, trades):
    cell("%sql CREATE TABLE orders (oid INTEGER, sym TEXT, qty INTEGER)")
    text = "%%sql\nSELECT t.\nFROM trades t JOIN orders o ON o."
    assert texts(ip, text, cursor=text.index("t.\n") + 2) == ["id", "sym", "px", "qty"]
    assert texts(ip, text) == ["oid", "sym", "qty"]


def test_views_functions_keywords_and_dataframe_variables(ip, cell, trades):
    import pandas as pd

    cell("%sql CREATE VIEW by_sym AS SELECT sym, sum(qty) AS total FROM trades GROUP BY sym")
    ip.user_ns["df_sales"] = pd.DataFrame({"region": ["n"], "amount": [1.0]})
    assert texts(ip, "%%sql\nSELECT * FROM by") == ["by_sym"]
    assert texts(ip, "%%sql\nSELECT b. FROM by_sym b", cursor=15) == ["sym", "total"]
    assert texts(ip, "%%sql\nSELECT * FROM df_") == ["df_sales"]
    assert texts(ip, "%%sql\nSELECT am FROM df_sales", cursor=15) == ["amount"]
    assert "coalesce" in texts(ip, "%%sql\nSELECT coa")
    assert texts(ip, "%%sql\nSELECT * FROM trades WHER") == ["WHERE"]


def test_follows_the_current_branch(ip, cell, trades):
    cell("%sql --fork what_if --checkout what_if")
    cell("%sql CREATE TABLE scenario (k INTEGER)")
    assert texts(ip, "%%sql\nSELECT * FROM sc") == ["scenario"]
    cell("%sql --checkout main")
    assert "scenario" not in texts(ip, "%%sql\nSELECT * FROM sc")


def test_branch_names_after_branch_options(ip, cell, trades):
    cell("%sql --fork what_if")
    cell("%sql --fork other")
    assert texts(ip, "%sql --checkout ") == ["main", "what_if", "other"]
    assert texts(ip, "%sql --checkout wh") == ["what_if"]
    assert texts(ip, "%%sql --on main,o") == ["other"]
    assert texts(ip, "%sql --merge w") == ["what_if"]
    assert texts(ip, "%sql --diff main o") == ["other"]
    assert texts(ip, "%sql --diff main other tr") == ["trades"]
    assert texts(ip, "%sql --chec") == ["--checkout"]
    assert texts(ip, "%sql --fork new_one --checkout n") == ["new_one"]  # forked by the same line


def test_sql_part_of_a_sql_line(ip, cell, trades):
    assert texts(ip, "%sql SELECT * FROM tr") == ["trades"]
    assert texts(ip, "%sql --on main SELECT sy FROM trades", cursor=len("%sql --on main SELECT sy")) == ["sym"]
    assert texts(ip, "x = 1\nres = %sql SELECT * FROM tr") == ["trades"]
    assert texts(ip, "top << SELECT * FROM tr") != ["trades"]  # not a magic: Python completion
    assert texts(ip, "%sqlcmd columns -t tr") == ["trades"]


def test_python_cells_are_left_to_python(ip, cell, trades):
    ip.user_ns["my_value"] = 1
    assert "my_value" in texts(ip, "my_v")
    assert "trades" not in texts(ip, "tr")


def test_sqlalchemy_connection_tables_from_its_inspector(ip, cell, tmp_path):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, city TEXT)")
    cell(f"%sql sqlite:///{path}")
    assert texts(ip, "%%sql\nSELECT * FROM ord") == ["orders"]
    assert texts(ip, "%%sql\nSELECT o.c FROM orders o", cursor=16) == ["city"]
    assert texts(ip, "%%sql\nSEL") == ["SELECT"]


def test_unload_removes_the_matcher(ip):
    import rustmemodb_lab

    ids = [getattr(m, "matcher_identifier", None) for m in ip.Completer.custom_matchers]
    assert ids.count(MATCHER_ID) == 1
    rustmemodb_lab.load_ipython_extension(ip)  # loading twice keeps one matcher
    ids = [getattr(m, "matcher_identifier", None) for m in ip.Completer.custom_matchers]
    assert ids.count(MATCHER_ID) == 1
    rustmemodb_lab.unload_ipython_extension(ip)
    assert MATCHER_ID not in [getattr(m, "matcher_identifier", None) for m in ip.Completer.custom_matchers]
    rustmemodb_lab.load_ipython_extension(ip)  # the fixture unloads it again


def test_dataframe_columns_that_need_quotes(ip, cell):
    import pandas as pd

    ip.user_ns["sales"] = pd.DataFrame({"Region": ["n"], "order total": [1.0]})
    text = "%%sql\nSELECT s. FROM sales s"
    assert texts(ip, text, cursor=text.index("s. ") + 2) == ['"Region"', '"order total"']
    got = complete(ip, '%%sql\nSELECT "ord FROM sales', cursor=17)
    assert [(c.text, c.start) for c in got] == [('"order total"', 13)]
    assert cell('%sql SELECT "order total" FROM sales').value.rows() == [(1.0,)]


def test_the_magic_line_chooses_the_catalog(ip, cell, trades, tmp_path):
    cell("%sql --fork what_if --checkout what_if")
    cell("%sql CREATE TABLE scenario (k INTEGER)")
    cell("%sql --checkout main")
    assert texts(ip, "%%sql --on what_if,main\nSELECT * FROM sc") == ["scenario"]
    assert texts(ip, "%sql --on what_if SELECT * FROM sc") == ["scenario"]
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, city TEXT)")
    cell(f"%sql sqlite:///{path}")
    cell("%sql --connection default")
    assert texts(ip, "%%sql --connection shop\nSELECT * FROM ord") == ["orders"]
    assert texts(ip, f"%%sql sqlite:///{path}\nSELECT * FROM ord") == ["orders"]
    assert texts(ip, "%%sql\nSELECT * FROM tr") == ["trades"]  # the current connection is unchanged
