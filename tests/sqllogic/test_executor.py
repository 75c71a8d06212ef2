"""Unit tests of the executor against sqlite3 and a scripted fake DB-API."""

from .executor import run_test_file
from .fakes import FakeError, ScriptedBackend, SqliteBackend
from .parser import parse_text


def run(text, backend):
    return run_test_file(parse_text(text, "t.test"), backend)


SQLITE_OK = """\
statement ok
CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)

statement ok
INSERT INTO t VALUES (1, 'x'), (2, NULL), (3, '')

query IT rowsort
SELECT a, b FROM t
----
3	(empty)
1	x
2	NULL

query I nosort
SELECT a FROM t ORDER BY a DESC
----
3
2
1

query I valuesort
SELECT a FROM t
----
2
3
1

statement error 23505
INSERT INTO t VALUES (1, 'dup')

statement error 42P01
SELECT * FROM missing
----
no such table

statement ok con1
INSERT INTO t VALUES (4, 'from con1')

query I con2
SELECT count(*) FROM t
----
4
"""


def test_sqlite_file_passes():
    report = run(SQLITE_OK, SqliteBackend())
    assert report.failures == [], report.summary()
    assert report.run == 9


def test_sqlite_mismatches_are_reported_with_location():
    text = """\
statement ok
CREATE TABLE t (a INTEGER)

statement ok
INSERT INTO t VALUES (1), (2)

query I nosort
SELECT a FROM t ORDER BY a DESC
----
1
2

query II
SELECT a FROM t
----
1	1

statement error
SELECT 1

statement ok
SELECT * FROM nope

statement error 42703
SELECT * FROM nope

query I
SELECT * FROM nope
----
"""
    report = run(text, SqliteBackend())
    reasons = [(f.record.line, f.reason) for f in report.failures]
    assert [line for line, _ in reasons] == [7, 13, 18, 21, 24, 27]
    assert reasons[0][1] == "result mismatch"
    assert "returned 1 column(s), the record declares 2" in reasons[1][1]
    assert "statement succeeded, expected an error" in reasons[2][1]
    assert reasons[3][1].startswith("unexpected error OperationalError [42P01]")
    assert reasons[4][1].startswith("expected SQLSTATE 42703, got OperationalError [42P01]")
    assert reasons[5][1].startswith("unexpected error")
    text = str(report.failures[0])
    assert text.startswith("t.test:7: result mismatch\nSQL:\n    SELECT a FROM t ORDER BY a DESC")
    assert "expected (2 row(s), nosort):" in text
    assert "t.test:7" in report.summary()


def test_connections_are_created_on_first_use_and_closed():
    backend = ScriptedBackend({"SELECT 1": (1, [(1,)])})
    report = run(
        "query I\nSELECT 1\n----\n1\n\nquery I con1\nSELECT 1\n----\n1\n\n"
        "query I con1\nSELECT 1\n----\n1\n\nquery I con2\nSELECT 1\n----\n1\n",
        backend,
    )
    assert report.ok, report.summary()
    assert [label for label, _ in backend.log] == ["default", "more2", "more2", "more3"]
    assert sorted(backend.closed) == ["default", "more2", "more3"]


def test_sqlstate_alternatives_and_message():
    backend = ScriptedBackend({"SELECT x": FakeError("42804", "Column 'age' expects INTEGER")})
    ok = run("statement error 42883|42804\nSELECT x\n----\nexpects integer\n", backend)
    assert ok.ok, ok.summary()
    bad = run("statement error 42804\nSELECT x\n----\nexpects TEXT\n", backend)
    assert "error message does not contain 'expects TEXT'" in bad.failures[0].reason


def test_internal_errors_are_not_sql_errors():
    backend = ScriptedBackend({"SELECT x": KeyError("boom")})
    report = run("statement error\nSELECT x\n\nquery I\nSELECT x\n----\n1\n", backend)
    assert len(report.failures) == 2
    assert all("internal error" in f.reason for f in report.failures)
    assert "KeyError" in report.failures[0].details


def test_pg_deviation_skip_mode_and_halt():
    text = """\
# pg-deviation: strictness
statement error 42804
SELECT dev

mode skip

statement ok
SELECT skipped

mode unskip

query I
SELECT 1
----
1

halt

statement ok
SELECT after_halt
"""
    backend = ScriptedBackend(
        {"SELECT dev": FakeError("42804", "x"), "SELECT 1": (1, [(1,)])}
    )
    report = run(text, backend)
    assert report.ok and report.run == 2 and report.skipped == 1 and report.halted
    assert ("default", "SELECT after_halt") not in backend.log
    pg_like = ScriptedBackend({"SELECT 1": (1, [(1,)])}, skip_pg_deviations=True)
    report = run(text, pg_like)
    assert report.ok and report.run == 1 and report.deviations == 1


def test_values_are_rendered_before_comparing():
    backend = ScriptedBackend({"SELECT v": (3, [(None, 2.0, True)])})
    assert run("query IRB\nSELECT v\n----\nNULL\t2\ttrue\n", backend).ok


def test_onlyif_skipif_select_records_by_backend_name():
    text = (
        "onlyif scripted\nquery I\nSELECT 1\n----\n1\n\n"
        "onlyif postgresql\nstatement ok\nSELECT pg\n\n"
        "skipif scripted\nstatement ok\nSELECT not_here\n"
    )
    backend = ScriptedBackend({"SELECT 1": (1, [(1,)])})
    report = run(text, backend)
    assert report.ok and report.run == 1 and report.other_backend == 2
    assert [sql for _, sql in backend.log] == ["SELECT 1"]
