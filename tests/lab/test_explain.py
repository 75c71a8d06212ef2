"""EXPLAIN / EXPLAIN ANALYZE / --explain rendered as a plan tree."""

from __future__ import annotations

import json

from rustmemodb_lab.explain import parse_plan, plan_text
from rustmemodb_lab.render.plan import plan_html
from rustmemodb_lab.resultset import ResultSet
from rustmemodb_lab.views import PlanView, SideBySide

JOIN = (
    "SELECT t.sym, count(*) FROM trades t JOIN syms s ON t.sym = s.sym "
    "WHERE t.px > 1 GROUP BY t.sym ORDER BY t.sym"
)


def _syms(cell, trades):
    cell("%%sql\nCREATE TABLE syms (sym TEXT PRIMARY KEY, name TEXT);\n"
         "INSERT INTO syms VALUES ('ACME', 'Acme'), ('GLOBEX', 'Globex'), ('INITECH', 'Initech')")


def test_explain_renders_a_tree_with_estimates(cell, trades):
    _syms(cell, trades)
    out = cell(f"%%sql\nEXPLAIN {JOIN}")
    view = out.value
    assert isinstance(view, PlanView) and not view.analyze
    assert len(view.nodes) >= 3
    html = out.html()
    assert html.count("rmdb-plan-card") == len(view.nodes)
    assert "est " in html and "<details" in html and "raw plan" in html
    assert all(n.actual_rows is None for n in view.nodes)
    assert view.raw_text.strip()  # the engine's own text plan


def test_explain_analyze_shows_actuals_times_and_the_slowest_node(cell, trades):
    _syms(cell, trades)
    out = cell(f"%%sql\nEXPLAIN ANALYZE {JOIN}")
    view = out.value
    assert view.analyze
    assert all(n.actual_rows is not None for n in view.nodes)
    assert view.root.time_ms is not None
    html = out.html()
    assert "actual " in html and "self (" in html and html.count("slowest") == 1


def test_explain_option_explains_the_last_statement_only(cell, trades):
    out = cell("%%sql --explain\nINSERT INTO trades VALUES (9, 'Z', 1.0, 1);\nSELECT * FROM trades WHERE px > 10")
    assert isinstance(out.value, PlanView) and out.value.analyze
    assert cell("%sql SELECT count(*) FROM trades").value.rows() == [(6,)]


def test_explain_option_on_dml_does_not_execute_it(cell, trades):
    out = cell("%sql --explain DELETE FROM trades")
    assert isinstance(out.value, PlanView) and not out.value.analyze
    assert cell("%sql SELECT count(*) FROM trades").value.rows() == [(5,)]


def test_explain_with_explicit_format_returns_rows(cell, trades):
    out = cell("%sql EXPLAIN (FORMAT TEXT) SELECT * FROM trades")
    assert isinstance(out.value, ResultSet) and out.value.has_rows


def test_explain_on_two_branches_side_by_side(cell, trades):
    cell("%sql --fork exp1 --checkout exp1")
    cell("%sql DELETE FROM trades WHERE sym = 'ACME'")
    cell("%sql --checkout main")
    out = cell("%%sql --explain --on main,exp1\nSELECT * FROM trades WHERE sym = 'ACME'")
    view = out.value
    assert isinstance(view, SideBySide)
    assert all(isinstance(v, PlanView) for _, v in view.panels)
    assert out.html().count("rmdb-plan") >= 2


def test_explain_error_points_into_the_original_text(cell, trades):
    out = cell("%sql EXPLAIN ANALYZE SELECT nope FROM trades", fails=True)
    err = out.error
    assert err.cell_text[err.cell_position :].startswith("nope")


# -- rendering, independent of the engine -------------------------------------------

CONTRACT_PLAN = {
    "node": "HashJoin", "details": "ON a.id = b.id", "est_rows": 100, "actual_rows": 98, "loops": 1,
    "time_ms": 10.0, "self_ms": 2.0,
    "children": [
        {"node": "SeqScan", "details": "a", "est_rows": 10, "actual_rows": 5000, "loops": 1, "time_ms": 7.0, "self_ms": 7.0},
        {"node": "SeqScan", "details": "b <script>", "est_rows": 50, "actual_rows": 50, "loops": 1, "time_ms": 1.0, "self_ms": 1.0},
    ],
}


def test_plan_html_marks_the_slowest_node_and_misestimates():
    root = parse_plan(json.dumps(CONTRACT_PLAN))
    html = plan_html(root, raw_text=plan_text(root), analyze=True)
    assert html.count("slowest") == 1
    slowest_card = html[html.index("slowest") - 400 : html.index("slowest")]
    assert "SeqScan" in slowest_card
    assert "×500 more rows than estimated" in html
    assert "70%" in html  # 7 ms of 10
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_plan_text_is_postgres_like():
    text = plan_text(parse_plan(CONTRACT_PLAN))
    assert text.splitlines()[0].startswith("HashJoin  ON a.id = b.id  (rows=100 actual rows=98")
    assert text.splitlines()[1].startswith("  ->  SeqScan  a")


def test_postgres_json_plans_are_read_too():
    pg = [{"Plan": {"Node Type": "Hash Join", "Hash Cond": "(a.id = b.id)", "Plan Rows": 10,
                    "Actual Rows": 9, "Actual Loops": 1, "Actual Total Time": 3.5,
                    "Plans": [{"Node Type": "Seq Scan", "Relation Name": "a", "Plan Rows": 5,
                               "Actual Rows": 5, "Actual Total Time": 1.5}]}}]
    root = parse_plan(pg)
    assert root.node == "Hash Join" and root.details == "Hash Cond: (a.id = b.id)"
    assert root.self_ms == 2.0 and root.children[0].details == "Relation Name: a"
