"""Branch semantics through the magics: tables without a primary key (the shape of a
``--persist``ed DataFrame), --diff, --merge with --ours/--theirs, --undo, constraints."""

from __future__ import annotations

import pandas as pd
import pytest

from rustmemodb_lab.views import DiffView, MergeView


@pytest.fixture
def sales(ip, cell):
    """A 10-row table without a primary key, loaded from a DataFrame."""
    ip.user_ns["df_sales"] = pd.DataFrame({"region": ["n", "s", "e", "w", "c"] * 2,
                                           "amount": list(range(10, 110, 10))})
    cell("%sql CREATE TABLE sales AS SELECT * FROM df_sales")


def rows(cell, sql="SELECT region, amount FROM sales ORDER BY amount, region"):
    return cell(f"%sql {sql}").value.rows()


def diverge(cell):
    """Disjoint edits: what_if doubles the first five rows and deletes one; main
    changes the other rows' regions and inserts one."""
    cell("%sql --fork what_if --checkout what_if")
    cell("%sql DELETE FROM sales WHERE amount = 100")   # only what_if touches it
    cell("%sql UPDATE sales SET amount = amount * 2 WHERE amount <= 50")
    cell("%sql --checkout main")
    cell("%sql UPDATE sales SET region = upper(region) WHERE amount BETWEEN 60 AND 90")
    cell("%sql INSERT INTO sales VALUES ('x', 5)")


EXPECTED = [("x", 5), ("n", 20), ("s", 40), ("N", 60), ("e", 60), ("S", 70), ("E", 80),
            ("w", 80), ("W", 90), ("c", 100)]


def test_diff_without_primary_key_shows_updates_as_changed_rows(cell, sales):
    cell("%sql --fork what_if --checkout what_if")
    cell("%sql UPDATE sales SET amount = amount + 1 WHERE region = 'n'")
    view = cell("%sql --diff main what_if sales").value
    assert isinstance(view, DiffView)
    assert view.counts == {"sales": {"added": 0, "removed": 0, "changed": 2}}
    html = cell("%sql --diff main what_if sales").html()
    assert "~2 changed" in html and "rmdb-diff-cell" in html
    assert "row identity" in html                         # the _rowid column explained


@pytest.mark.parametrize("strategy", ["", "--ours", "--theirs"])
def test_disjoint_edits_merge_without_conflicts(cell, sales, strategy):
    diverge(cell)
    out = cell(f"%sql --merge what_if {strategy}")
    assert isinstance(out.value, MergeView) and out.value.applied
    assert out.value.conflicts.num_rows == 0
    assert rows(cell) == EXPECTED                         # nobody's change was lost


def test_ours_and_theirs_decide_only_true_conflicts(cell, sales):
    diverge(cell)
    cell("%sql UPDATE sales SET amount = 11 WHERE amount = 10")   # what_if made it 20
    out = cell("%sql --merge what_if")
    assert not out.value.applied and out.value.conflicts.num_rows == 1
    assert "nothing was applied" in out.html()
    assert cell("%sql SELECT count(*) FROM sales").value.rows() == [(11,)]
    assert cell("%sql --merge what_if --ours").value.applied
    got = rows(cell)
    assert ("n", 11) in got and ("n", 20) not in got              # ours kept on the conflict
    assert ("s", 40) in got and ("c", 100) in got and ("x", 5) in got   # one-sided changes
    assert len(got) == 10


def test_undo_then_merge_again_applies_the_changes(cell, sales):
    diverge(cell)
    assert cell("%sql --merge what_if").value.applied
    cell("%sql --undo")
    assert ("n", 20) not in rows(cell)
    out = cell("%sql --merge what_if")
    assert out.value.applied and "no changes" not in repr(out.value)
    assert rows(cell) == EXPECTED


def test_merge_back_and_forth_converges(cell, sales):
    diverge(cell)
    assert cell("%sql --merge what_if").value.applied
    assert cell("%sql --merge main --into what_if").value.applied
    assert cell("%sql --diff main what_if sales").value.counts.get("sales", {}).get("changed", 0) == 0
    cell("%sql --checkout what_if")
    assert rows(cell) == EXPECTED


def test_merge_that_breaks_a_foreign_key_writes_nothing(cell):
    cell("%%sql\nCREATE TABLE p (id INTEGER PRIMARY KEY);\n"
         "CREATE TABLE ch (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p (id));\n"
         "INSERT INTO p VALUES (1), (2)")
    cell("%sql --fork kids --checkout kids")
    cell("%sql INSERT INTO ch VALUES (10, 2)")
    cell("%sql --checkout main")
    cell("%sql DELETE FROM p WHERE id = 2")
    out = cell("%sql --merge kids --theirs")
    assert not out.value.applied
    assert "foreign key" in out.html()
    assert cell("%sql SELECT count(*) FROM ch").value.rows() == [(0,)]
