"""Branches: --fork, --checkout, --branches, --drop-branch, --on, --diff, --merge, --undo."""

from __future__ import annotations

import ipywidgets as widgets
import pandas as pd
import pytest

from rustmemodb_lab.views import DiffView, MergeView, SideBySide
from rustmemodb_lab.widgets.branch_tree import BranchTree


def count(cell, table="trades"):
    return cell(f"%sql SELECT count(*) FROM {table}").value.rows()[0][0]


def test_fork_is_independent_and_does_not_switch(cell, session, trades):
    out = cell("%sql --fork exp1")
    assert "forked exp1 from main" in repr(out.value)
    assert session.registry.current == "main"
    cell("%sql --checkout exp1")
    cell("%sql DELETE FROM trades WHERE sym = 'ACME'")
    assert count(cell) == 3
    cell("%sql --checkout main")
    assert count(cell) == 5


def test_fork_and_checkout_in_one_line(cell, session, trades):
    cell("%sql --fork exp2 --checkout exp2")
    assert session.registry.current == "exp2"
    assert session.registry.get("exp2").parent == "main"


def test_fork_of_a_fork_records_lineage(cell, session, trades):
    cell("%sql --fork a --checkout a")
    cell("%sql --fork b")
    assert session.registry.get("b").parent == "a"
    assert [(b.name, d) for b, d in session.registry.walk()] == [("main", 0), ("a", 1), ("b", 2)]


@pytest.mark.parametrize("line", ["--checkout nope", "--drop-branch nope", "--diff main nope", "--merge nope", "--fork x --checkout y"])
def test_unknown_branch_is_a_usage_error(cell, trades, line):
    out = cell(f"%sql {line}", fails=True)
    assert "unknown branch" in str(out.error) and "branches: main" in str(out.error)
    assert "Traceback" not in out.stdout


def test_on_with_unknown_branch_is_a_usage_error(cell, trades):
    out = cell("%%sql --on main,ghost\nSELECT 1", fails=True)
    assert "unknown branch 'ghost'" in str(out.error)


def test_duplicate_and_invalid_branch_names(cell, trades):
    cell("%sql --fork dup")
    assert "already exists" in str(cell("%sql --fork dup", fails=True).error)
    assert "invalid branch name" in str(cell("%sql --fork bad,name", fails=True).error)


def test_drop_branch(cell, session, trades):
    cell("%sql --fork tmp")
    cell("%sql --drop-branch tmp")
    assert "tmp" not in session.registry.branches
    assert "current branch" in str(cell("%sql --drop-branch main", fails=True).error)


def test_dropping_a_parent_reparents_children(cell, session, trades):
    cell("%sql --fork p --checkout p")
    cell("%sql --fork c --checkout main")
    cell("%sql --drop-branch p")
    assert session.registry.get("c").parent == "main"


def test_branches_widget_lists_and_checks_out(cell, session, trades):
    cell("%sql --fork exp1")
    out = cell("%sql --branches")
    tree = out.value
    assert isinstance(tree, BranchTree)
    buttons = [w for row in tree.children[1:] for w in row.children if isinstance(w, widgets.Button)]
    assert [b.description for b in buttons] == ["main", "exp1"]
    assert buttons[0].button_style == "success"
    infos = [w.value for row in tree.children[1:] for w in row.children if isinstance(w, widgets.HTML)]
    assert "1 table · 5 rows" in infos[0] and "forked from main" in infos[1]
    buttons[1].click()
    assert session.registry.current == "exp1"
    new_buttons = [w for row in tree.children[1:] for w in row.children if isinstance(w, widgets.Button)]
    assert new_buttons[1].button_style == "success"


def test_branches_widget_has_html_and_text_fallbacks(cell, trades):
    cell("%sql --fork exp1")
    bundle = cell("%sql --branches").value._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "exp1" in bundle["text/html"] and "* main" in bundle["text/plain"]


def test_on_runs_the_cell_on_each_branch_side_by_side(cell, trades):
    cell("%sql --fork exp1 --checkout exp1")
    cell("%sql UPDATE trades SET px = px * 2 WHERE sym = 'ACME'")
    cell("%sql --checkout main")
    out = cell("%%sql --on main,exp1\nSELECT id, sym, px FROM trades ORDER BY id")
    view = out.value
    assert isinstance(view, SideBySide)
    assert view["main"].rows()[0] == (1, "ACME", 10.5)
    assert view["exp1"].rows()[0] == (1, "ACME", 21.0)
    html = out.html()
    assert 'data-branch="main"' in html and 'data-branch="exp1"' in html
    assert html.count("rgba(210, 153, 34, 0.28)") == 2  # the two changed px cells


def test_on_with_output_stores_one_frame_per_branch(ip, cell, trades):
    cell("%sql --fork exp1")
    cell("%%sql --on main,exp1 -o per_branch\nSELECT count(*) AS n FROM trades")
    assert set(ip.user_ns["per_branch"]) == {"main", "exp1"}
    assert isinstance(ip.user_ns["per_branch"]["main"], pd.DataFrame)


def test_on_reports_an_error_in_its_panel_then_raises(cell, trades):
    cell("%sql --fork exp1 --checkout exp1")
    cell("%sql DROP TABLE trades")
    cell("%sql --checkout main")
    out = cell("%%sql --on main,exp1\nSELECT count(*) FROM trades", fails=True)
    assert out.error.branch == "exp1" and out.error.sqlstate == "42P01"
    assert any("42P01" in d.get("text/html", "") for d in out.displayed)


# -- diff --------------------------------------------------------------------------

@pytest.fixture
def diverged(cell, trades):
    cell("%sql --fork exp1 --checkout exp1")
    cell(
        "%%sql\n"
        "INSERT INTO trades VALUES (6, 'UMBRELLA', 7.0, 5);\n"
        "DELETE FROM trades WHERE id = 4;\n"
        "UPDATE trades SET px = 12.0 WHERE id = 2"
    )
    cell("%sql --checkout main")


def test_diff_counts_and_grid(cell, diverged):
    out = cell("%sql --diff main exp1 trades")
    view = out.value
    assert isinstance(view, DiffView)
    assert view.counts == {"trades": {"added": 1, "removed": 1, "changed": 1}}
    html = out.html()
    assert "+1 added · −1 removed · ~1 changed" in html
    assert "UMBRELLA" in html and "INITECH" in html
    assert "rmdb-diff-cell" in html  # the changed px cell is highlighted
    assert "11.0" in html and "12.0" in html


def test_diff_without_table_covers_every_table(cell, diverged):
    cell("%sql --checkout exp1")
    cell("%sql CREATE TABLE extra (a INTEGER)")
    cell("%sql INSERT INTO extra VALUES (1)")
    view = cell("%sql --diff main exp1").value
    assert view.counts["trades"]["added"] == 1


def test_diff_to_dataframe(ip, cell, diverged):
    cell("%sql --diff main exp1 trades -o changes")
    df = ip.user_ns["changes"]
    assert isinstance(df, pd.DataFrame)
    assert sorted(df["_change"]) == ["added", "changed", "removed"]
    changed = df[df["_change"] == "changed"].iloc[0]
    assert list(changed["_changed_columns"]) == ["px"]


# -- merge -------------------------------------------------------------------------

def test_clean_merge_applies_changes(cell, session, diverged):
    out = cell("%sql --merge exp1")
    assert isinstance(out.value, MergeView) and out.value.applied
    assert "merged exp1 into main" in repr(out.value)
    assert cell("%sql SELECT id FROM trades ORDER BY id").value.rows() == [(1,), (2,), (3,), (5,), (6,)]


def test_merge_conflict_applies_nothing_until_resolved(cell, diverged):
    cell("%sql UPDATE trades SET px = 99.0 WHERE id = 2")  # main changes the same cell
    out = cell("%sql --merge exp1")
    view = out.value
    assert not view.applied and view.conflicts.num_rows == 1
    html = out.html()
    assert "nothing was applied" in html and "99.0" in html and "12.0" in html and "--ours" in html
    assert cell("%sql SELECT count(*) FROM trades").value.rows() == [(5,)]  # nothing applied
    out = cell("%sql --merge exp1 --theirs")
    assert out.value.applied
    assert cell("%sql SELECT px FROM trades WHERE id = 2").value.rows() == [(12.0,)]


def test_merge_ours_keeps_target_values(cell, diverged):
    cell("%sql UPDATE trades SET px = 99.0 WHERE id = 2")
    assert cell("%sql --merge exp1 --ours").value.applied
    assert cell("%sql SELECT px FROM trades WHERE id = 2").value.rows() == [(99.0,)]
    assert cell("%sql SELECT count(*) FROM trades WHERE id = 6").value.rows() == [(1,)]


def test_merge_into_another_branch(cell, session, diverged):
    cell("%sql --fork target")
    assert cell("%sql --merge exp1 --into target").value.applied
    assert session.registry.current == "main"
    cell("%sql --checkout target")
    assert count(cell) == 5 and cell("%sql SELECT px FROM trades WHERE id = 2").value.rows() == [(12.0,)]


def test_merge_into_itself_is_refused(cell, trades):
    assert "into itself" in str(cell("%sql --merge main", fails=True).error)


# -- undo --------------------------------------------------------------------------

def test_undo_returns_to_the_state_before_the_last_changing_cell(cell, trades):
    cell("%sql DELETE FROM trades WHERE sym = 'ACME'")
    cell("%sql SELECT 1")  # does not change the branch
    out = cell("%sql --undo")
    assert "undid «DELETE FROM trades" in repr(out.value)
    assert count(cell) == 5


def test_undo_steps_back_cell_by_cell(cell, trades):
    cell("%sql INSERT INTO trades VALUES (10, 'A', 1.0, 1)")
    cell("%sql INSERT INTO trades VALUES (11, 'B', 1.0, 1)")
    cell("%sql --undo")
    assert count(cell) == 6
    cell("%sql --undo")
    assert count(cell) == 5


def test_undo_is_per_branch_and_errors_when_empty(cell, trades):
    cell("%sql --fork exp1 --checkout exp1")
    assert "nothing to undo" in str(cell("%sql --undo", fails=True).error)
    cell("%sql --checkout main")
    cell("%sql --undo")  # main's history: the trades fixture
    assert cell("%sql --tables").value.rows() == []


def test_undo_reverts_a_merge(cell, diverged):
    cell("%sql --merge exp1")
    cell("%sql --undo")
    assert cell("%sql SELECT id FROM trades ORDER BY id").value.rows() == [(1,), (2,), (3,), (4,), (5,)]


def test_failed_cell_records_what_it_changed(cell, trades):
    cell("%%sql\nDELETE FROM trades WHERE id = 1;\nSELECT * FROM nowhere", fails=True)
    assert count(cell) == 4
    cell("%sql --undo")
    assert count(cell) == 5


def test_undo_depth_bounds_history(cell, session, trades):
    cell("%config RustmemodbLab.undo_depth = 2")
    for i in range(4):
        cell(f"%sql INSERT INTO trades VALUES ({20 + i}, 'X', 1.0, 1)")
    assert len(session.registry.active.undo) == 2
