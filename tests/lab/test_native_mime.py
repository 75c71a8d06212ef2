"""The plan and diff outputs carry the labextension's JSON beside their HTML and text.

The JupyterLab renderers (labextension/src/plan.ts, diff.ts) draw these documents; the
browser test draws them. Here: the documents say what the HTML says (nodes, the slowest
node, diff rows), and HTML and text stay for exports and other front ends.
"""

from __future__ import annotations

from rustmemodb_lab.render.mime import DIFF_MIME, PLAN_MIME


def _walk(node: dict) -> list[dict]:
    return [node, *(n for child in node["children"] for n in _walk(child))]


def test_explain_analyze_carries_the_plan_document(cell, trades):
    out = cell("%%sql --explain\nSELECT sym, count(*) FROM trades WHERE px > 1 GROUP BY sym ORDER BY sym")
    bundle = out.value._repr_mimebundle_()
    assert {"text/plain", "text/html", PLAN_MIME} <= set(bundle)
    doc = bundle[PLAN_MIME]
    nodes = _walk(doc["root"])
    assert doc["analyze"] is True and "Seq Scan" in doc["raw"]
    assert [n["node"] for n in nodes][-1] == "Seq Scan"
    assert nodes[-1]["actual_rows"] == 5
    slowest = doc["root"]
    for i in doc["slowest"]:
        slowest = slowest["children"][i]
    assert slowest["self_ms"] == max(n["self_ms"] for n in nodes)


def test_plain_explain_has_no_slowest_node(cell, trades):
    doc = cell("%sql EXPLAIN SELECT * FROM trades").value._repr_mimebundle_()[PLAN_MIME]
    assert doc["analyze"] is False and doc["slowest"] is None
    assert doc["root"]["est_rows"] is not None


def test_diff_carries_rows_of_each_kind(cell, trades):
    cell("%sql --fork what_if --checkout what_if")
    cell("%sql DELETE FROM trades WHERE id = 4")
    cell("%sql UPDATE trades SET px = 12.0 WHERE id = 2")
    cell("%sql INSERT INTO trades VALUES (6, 'HOOLI', 1.0, 1)")
    bundle = cell("%sql --diff main what_if trades").value._repr_mimebundle_()
    assert {"text/plain", "text/html", DIFF_MIME} <= set(bundle)
    doc = bundle[DIFF_MIME]
    assert (doc["a"], doc["b"]) == ("main", "what_if")
    (table,) = doc["tables"]
    assert table["counts"] == {"added": 1, "removed": 1, "changed": 1}
    px = table["columns"].index("px")
    ident = table["columns"].index("id")
    assert [r[ident] for r in table["added"]] == [6]
    assert [r[ident] for r in table["removed"]] == [4]
    assert (table["changed_before"][0][px], table["changed_after"][0][px]) == (11.0, 12.0)
    assert "id" in table["key_columns"]


def _exported_html(bundle: dict) -> str:
    import nbformat
    from nbconvert import HTMLExporter

    data = {k: v for k, v in bundle.items()}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "%sql --branches", outputs=[nbformat.v4.new_output("display_data", data=data)])])
    body, _ = HTMLExporter().from_notebook_node(nb)
    return body


def test_branch_tree_exports_to_html_when_the_labextension_draws_it(ip, cell, trades):
    from rustmemodb_lab.widgets.branch_tree import BRANCHES_MIME

    cell("%sql --fork what_if")
    # without the labextension: the ipywidget (front ends with a widget manager show it;
    # reopened without its kernel, its saved output is an empty widget view)
    widget = cell("%sql --branches").value._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in widget

    ip._rustmemodb_lab_session.labextension_connected = True    # as the sidebar comm sets it
    bundle = cell("%sql --branches").value._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" not in bundle
    doc = bundle[BRANCHES_MIME]
    assert [(b["name"], b["depth"], b["current"]) for b in doc["branches"]] == [("main", 0, True), ("what_if", 1, False)]
    html = _exported_html(bundle)
    assert "● main" in html and "what_if" in html and "forked from main" in html
