"""The README's notebook example does what its comments say.

The code blocks after "In a notebook" are read from ``README.md`` and run in an
IPython shell, one magic per cell (a ``%%sql`` line takes the lines after it
up to the next magic), with the ``# comment`` at the end of a line dropped
(it is commentary for the reader). What the comments promise is asserted:
the UPDATE after ``--fork what_if --checkout what_if`` changes what_if only,
``--on`` shows both, the diff sees the change and the merge brings it to main.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_cells() -> list[str]:
    text = README.read_text()
    start = text.index("In a notebook")
    section = text[start : text.index("\n## ", start)]
    cells: list[str] = []
    for block in re.findall(r"```(?:python|sql)\n(.*?)```", section, re.S):
        for line in block.splitlines():
            line = re.sub(r"\s{2,}#\s.*$", "", line)
            if line.startswith("%") or not cells:
                cells.append(line)
            else:
                cells[-1] += "\n" + line
    return cells


def test_readme_cells_are_what_we_think():
    cells = readme_cells()
    assert cells[0] == "%load_ext rustmemodb_lab"
    assert "%sql --fork what_if --checkout what_if" in cells
    assert any(c.startswith("%%sql --on main,what_if\nSELECT") for c in cells)


def test_readme_example_runs_and_keeps_its_promises(ip, cell, session):
    ip.user_ns["df_trades"] = pd.DataFrame({
        "id": [1, 2, 3], "sym": ["ACME", "ACME", "GLOBEX"], "px": [10.0, 12.0, 20.0],
        "ts": pd.to_datetime(["2024-03-01 09:30", "2024-03-01 09:31", "2024-03-01 09:32"]),
    })
    outcomes = {}
    for source in readme_cells()[1:]:  # the extension is loaded by the fixture
        outcomes[source.splitlines()[0]] = cell(source)
        if source.startswith("%sql UPDATE"):
            registry = session.registry
            assert registry.current == "what_if"
            main = registry.get("main").conn.execute("SELECT sum(px) FROM trades").fetchall()
            assert main == [(42.0,)]  # main is untouched
    side = outcomes["%%sql --on main,what_if"].value
    assert [name for name, _ in side.panels] == ["main", "what_if"]
    assert "~2 changed" in outcomes["%sql --diff main what_if trades"].value._repr_html_()
    assert session.registry.current == "main"
    assert cell("%sql SELECT round(sum(px), 2) FROM trades").value.rows() == [(44.2,)]  # merged
