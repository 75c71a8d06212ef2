"""The engine never imports Jupyter, IPython or pandas at import (DESIGN.md)."""
import subprocess
import sys


def test_import_pulls_in_no_notebook_or_pandas():
    code = ("import sys, rustmemodb, rustmemodb.exec.run as r; r._load_operators(); "
            "import rustmemodb.exec.functions.builtins; "
            "print(sorted(m for m in ('pandas', 'IPython', 'ipywidgets', 'jupyter_client') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
