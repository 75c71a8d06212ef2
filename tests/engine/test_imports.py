"""The engine never imports Jupyter, IPython or pandas at import (DESIGN.md)."""
import json
import subprocess
import sys


def test_import_pulls_in_no_notebook_or_pandas():
    code = ("import sys, rustmemodb, rustmemodb.exec.run as r; r._load_operators(); "
            "import rustmemodb.exec.functions.builtins; "
            "print(sorted(m for m in ('pandas', 'IPython', 'ipywidgets', 'jupyter_client') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# What start-up (import + connect + a first statement) must not pay for: pandas, the
# server, persist, durability and branch layers, and pyarrow with numpy (imported on
# first use through rustmemodb.lazy_import: a table's rows start in the Python tail,
# and point statements run on the row path; issue 11).
_NOT_AT_STARTUP = ("pandas", "IPython", "rustmemodb.server", "rustmemodb.persist",
                   "rustmemodb.durability", "rustmemodb.branch", "rustmemodb.cli",
                   "pyarrow", "numpy", "pyarrow.compute", "pyarrow.dataset", "pyarrow.acero")


def _loaded_after(statements: str) -> list[str]:
    code = ("import json, sys\n" + statements + "\n"
            f"print(json.dumps(sorted(m for m in {_NOT_AT_STARTUP!r} if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_import_rustmemodb_is_lean():
    assert _loaded_after("import rustmemodb") == []


def test_connect_and_first_point_statement_are_lean():
    assert _loaded_after(
        "import rustmemodb\n"
        "c = rustmemodb.connect()\n"
        "assert c.execute('SELECT 1').fetchall() == [(1,)]\n"
        "c.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)')\n"
        "c.execute(\"INSERT INTO t VALUES (1, 'ada')\")\n"
        "assert c.execute('SELECT name FROM t WHERE id = ?', [1]).fetchall() == [('ada',)]") == []


def test_compute_is_loaded_on_first_kernel_call():
    # The stand-in must turn into the real module, not hide kernels from the engine.
    # (pyarrow itself imports pandas, when installed, on its first pa.array() call.)
    assert "pyarrow.compute" in _loaded_after(
        "import rustmemodb\n"
        "c = rustmemodb.connect()\n"
        "c.execute('CREATE TABLE t (id INTEGER, name TEXT)')\n"
        "c.execute(\"INSERT INTO t SELECT i, 'n' || i FROM generate_series(1, 5000) AS g(i)\")\n"
        "assert c.execute(\"SELECT count(*), upper(min(name)) FROM t WHERE id % 7 = 0\""
        ").fetchall() == [(714, 'N1001')]")
