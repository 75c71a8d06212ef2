"""The TUI's pure parts: EXPLAIN tree, completion contexts, error caret."""
from __future__ import annotations

from rustmemodb.cli.tui import explain
from rustmemodb.cli.tui.completion import Catalog, complete
from rustmemodb.cli.tui.render import error_lines
from rustmemodb.cli.tui.session import ErrorInfo

OURS = [
    "Limit  (limit 3)  [rows=3] (actual rows=3 loops=1 time=16.269 ms)",
    "->  Sort  (count)  [rows=10] (actual rows=0 loops=0 time=0.000 ms)",
    "  ->  HashAggregate  (group by v)  [rows=10] (actual rows=3 loops=1 time=16.155 ms)",
    "    ->  Seq Scan on t  [rows=100] (actual rows=995 loops=1 time=0.511 ms)",
]

PG = [
    "Sort  (cost=1.1..1.2 rows=3 width=40) (actual time=0.050..0.051 rows=3 loops=1)",
    "  Sort Key: sym",
    "  ->  HashAggregate  (cost=1.0..1.1 rows=3 width=40) (actual time=0.030..0.040 rows=3 loops=1)",
    "        Group Key: sym",
    "        ->  Seq Scan on trades  (cost=0..1 rows=3 width=32) (actual time=0.010..0.012 rows=3 loops=1)",
    "Planning Time: 0.100 ms",
]


def test_engine_plan_tree_counts_a_zero_time_node_as_its_children():
    lines = explain.render(OURS)
    assert lines[0].startswith("Limit") and "[self 0.114 ms]" in lines[0]
    assert lines[1].startswith("└─ Sort") and lines[2].startswith("   └─ HashAggregate")
    assert [("◀ slowest" in line) for line in lines] == [False, False, True, False]


def test_postgresql_plan_tree():
    lines = explain.render(PG)
    assert lines[0].startswith("Sort") and "Sort Key: sym" in lines[0]
    assert lines[1].startswith("└─ HashAggregate") and "Group Key: sym" in lines[1]
    assert lines[2].startswith("   └─ Seq Scan on trades")
    assert "◀ slowest" in lines[1]                     # 0.040 - 0.012 is the largest own time


CAT = Catalog({"trades": ["id", "sym", "px"], "users": ["id", "name"]}, ["abs", "avg"], ["main", "exp"])


def test_completion_contexts():
    assert complete("SEL", 3, CAT) == (0, ["SELECT"])
    assert complete("select * from u", 15, CAT) == (14, ["users"])
    text = "select u.n from trades t join users u on u.id = t.id"
    assert complete(text, 10, CAT) == (7, ["u.name"])
    assert complete("select s from trades", 8, CAT)[1][0] == "sym"     # columns first
    assert complete("\\diff main exp tr", 17, CAT) == (15, ["trades"])
    assert complete("\\merge exp --into m", 19, CAT) == (18, ["main"])
    assert complete("\\merge exp --into ", 18, CAT) == (18, ["main", "exp"])
    assert complete("\\merge exp --th", 15, CAT) == (11, ["--theirs"])
    assert complete("\\dr", 3, CAT) == (0, ["\\drop-branch"])


def test_caret_under_the_position_on_its_line():
    lines = error_lines(ErrorInfo("42703", 'column "nope" does not exist', 16, "Did you mean \"name\"?"),
                        "SELECT id,\n     nope FROM users")
    assert lines == ['ERROR 42703: column "nope" does not exist',
                     "LINE 2:      nope FROM users",
                     "             ^",
                     'HINT: Did you mean "name"?']
