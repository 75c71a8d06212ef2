"""Unit tests of the .test-file parser (no engine needed)."""

import pytest

from .parser import ParseError, parse_text
from .records import Halt, Mode, Query, Statement

SAMPLE = """\
# name: tests/sql/foundation/sample.test
# description: a sample file
# group: ignored

statement ok
CREATE TABLE t (a INTEGER PRIMARY KEY,
                b TEXT)

statement error 42804
INSERT INTO t (a) VALUES ('x')

statement error 42883|42804 con1
SELECT 1 = 'a'
----
operator does not exist

# pg-deviation: strict typing
statement error
SELECT x

query IT rowsort
SELECT a, b FROM t
----
1	x
2	NULL

query I nosort con2
SELECT a FROM t WHERE false
----

query T valuesort
SELECT 1
----
1

mode skip

mode unskip

halt
"""


def test_parse_sample():
    tf = parse_text(SAMPLE, "sample.test")
    assert tf.name == "tests/sql/foundation/sample.test"
    assert tf.description == "a sample file"
    kinds = [type(r).__name__ for r in tf.records]
    assert kinds == [
        "Statement", "Statement", "Statement", "Statement",
        "Query", "Query", "Query", "Mode", "Mode", "Halt",
    ]
    create, err, err2, dev, q1, q2, q3, skip, unskip, halt = tf.records
    assert isinstance(create, Statement) and not create.expect_error
    assert create.sql == "CREATE TABLE t (a INTEGER PRIMARY KEY,\n                b TEXT)"
    assert create.line == 5 and create.location == "sample.test:5"
    assert err.expect_error and err.sqlstates == ("42804",) and err.connection is None
    assert err2.sqlstates == ("42883", "42804") and err2.connection == "con1"
    assert err2.message == "operator does not exist"
    assert dev.pg_deviation == "strict typing" and dev.sqlstates == ()
    assert create.pg_deviation is None
    assert isinstance(q1, Query) and q1.types == "IT" and q1.sort_mode == "rowsort"
    assert q1.expected == [["1", "x"], ["2", "NULL"]]
    assert q2.expected == [] and q2.connection == "con2" and q2.sort_mode == "nosort"
    assert q3.sort_mode == "valuesort" and q3.column_count == 1
    assert isinstance(skip, Mode) and skip.skip and not unskip.skip
    assert isinstance(halt, Halt)


def test_values_one_per_line_are_regrouped():
    tf = parse_text("query II\nSELECT 1, 2\n----\n1\n2\n3\n4\n")
    assert tf.records[0].expected == [["1", "2"], ["3", "4"]]


def test_empty_result_at_end_of_file():
    tf = parse_text("query I\nSELECT 1 WHERE false\n----")
    assert tf.records[0].expected == []


@pytest.mark.parametrize(
    "text, message",
    [
        ("statement maybe\nSELECT 1\n", "expected 'statement ok'"),
        ("statement ok\n\n", "no SQL"),
        ("query I\nSELECT 1\n", "needs '----'"),
        ("query X\nSELECT 1\n----\n1\n", "unknown column type"),
        ("query II\nSELECT 1, 2\n----\n1\t2\n3\n", "row 2 has 1 column"),
        ("loop i 0 10\n", "unsupported record type 'loop'"),
        ("statement ok con1 extra\nSELECT 1\n", "unexpected arguments"),
        ("statement ok\nSELECT 1\n----\nx\n", "takes no '----'"),
        ("# pg-deviation: why\n", "not followed by a record"),
        ("mode fast\n", "mode skip"),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(ParseError) as info:
        parse_text(text, "bad.test")
    assert message in str(info.value)
    assert str(info.value).startswith("bad.test:")


def test_error_line_numbers():
    with pytest.raises(ParseError, match=r"^f.test:4:"):
        parse_text("statement ok\nSELECT 1\n\nquery Q\nSELECT 1\n----\n", "f.test")


def test_sql_may_contain_hash_and_tabs():
    tf = parse_text("query T\nSELECT '#x'\t-- tab\n----\n#x\n")
    assert tf.records[0].sql == "SELECT '#x'\t-- tab"
    assert tf.records[0].expected == [["#x"]]


def test_onlyif_skipif():
    tf = parse_text(
        "onlyif postgresql\nstatement ok\nSELECT 1\n\n"
        "skipif postgresql\nskipif sqlite3\nquery I\nSELECT 2\n----\n2\n\n"
        "statement ok\nSELECT 3\n"
    )
    a, b, c = tf.records
    assert a.conditions == (("onlyif", "postgresql"),)
    assert a.runs_on("postgresql") and not a.runs_on("rustmemodb")
    assert b.runs_on("rustmemodb") and not b.runs_on("postgresql") and not b.runs_on("sqlite3")
    assert c.conditions == () and c.runs_on("anything")


@pytest.mark.parametrize(
    "text, message",
    [
        ("onlyif\nstatement ok\nSELECT 1\n", "expected 'onlyif BACKEND'"),
        ("skipif postgresql\n", "not followed by a record"),
        ("onlyif postgresql\nhalt\n", "must precede a statement or query"),
    ],
)
def test_condition_errors(text, message):
    with pytest.raises(ParseError, match=message):
        parse_text(text)
