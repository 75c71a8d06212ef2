"""One-table SELECTs parsed by their pieces (sql/pieces.py, issue 11).

The session assembles the tree of a ``SELECT items FROM source [WHERE ...] [ORDER BY
...] [LIMIT ...]`` from pieces it parsed before. The tree must be the one
``parse_one`` gives for the whole text, node for node and argument for argument (the
binder reads nothing else), over the SQLite-style corpus and every statement of the
sqllogictest files; every other shape must take the whole parse; results and errors
must be those of a session that parses whole.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import rustmemodb
from rustmemodb import errors
from rustmemodb.sql import pieces
from rustmemodb.sql.bind.check_clauses import check_clauses
from rustmemodb.sql.parse import parse_one
from sqlglot import exp

from bench.frontend import corpus

SQL_TESTS = Path(__file__).resolve().parents[1] / "sql"


def _same(a, b) -> bool:
    """Strict structural equality: node classes, argument names in order, values."""
    if type(a) is not type(b):
        return False
    if isinstance(a, exp.Expression):
        return list(a.args) == list(b.args) and all(_same(a.args[k], b.args[k])
                                                     for k in a.args)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def statement_blocks(path: Path) -> list[str]:
    """The statement texts of a sqllogictest file (``statement``/``query`` blocks), in
    order (test_piece_plan.py reads them too)."""
    lines = path.read_text().splitlines()
    out = []
    i = 0
    while i < len(lines):
        if re.match(r"(statement|query)\b", lines[i]):
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() and lines[i] != "----":
                body.append(lines[i])
                i += 1
            if body:
                out.append("\n".join(body))
        i += 1
    return out


def _statements() -> list[str]:
    """Every statement text of the sqllogictest files."""
    return [s for path in sorted(SQL_TESTS.rglob("*.test")) for s in statement_blocks(path)]


def _check_same(texts) -> int:
    parser = pieces.PieceParser()
    taken = 0
    for sql in texts:
        tree = parser.parse(sql)
        if tree is None:
            continue
        taken += 1
        whole = parse_one(sql)
        assert _same(tree, whole), sql
        check_clauses(whole)    # a tree handed out passed the binder's clause check
    return taken


def test_the_corpus_is_assembled_as_parsed_whole():
    texts = [s for s in corpus(1000) if s.startswith("SELECT")]
    assert _check_same(texts) == len(texts)


def test_the_sqllogictest_statements_are_assembled_as_parsed_whole():
    texts = _statements()
    assert len(texts) > 1000
    taken = _check_same(texts)
    assert taken > 100      # the shape is common there too


@pytest.mark.parametrize("sql", [
    "SELECT a FROM t WHERE a BETWEEN 1 AND 2 AND b OR c",
    "SELECT a FROM t WHERE a NOT BETWEEN SYMMETRIC 3 AND 1 OR b AND c AND d",
    "SELECT a FROM t WHERE NOT a AND b OR NOT (c OR d)",
    "SELECT a FROM t WHERE CASE WHEN a AND b THEN 1 END = 1 OR c",
    "select x, 'it''s', \"Q\" AS \"w x\" from t AS y where x > (select max(z) from u)",
    "SELECT a FROM t LIMIT 3",
    "SELECT a FROM s.t WHERE a > 1 ORDER BY a DESC NULLS FIRST, 2 LIMIT 1",
    "SELECT count(*) FILTER (WHERE a > 1), sum(a) OVER (ORDER BY b) FROM t",
    "SELECT ARRAY[1, 2][1], (a, b) FROM t WHERE (a, b) IN ((1, 2))",
    "SELECT * FROM generate_series(1, 3)",
    "SELECT a FROM t WHERE a = 1 ORDER BY 1",
    "  SELECT\n a\nFROM t  ",
    # brackets passed over whole by the cut, and those it reads token by token
    "SELECT abs(b-c), (SELECT count(*) FROM t AS x WHERE x.c>t.c AND x.d<t.d) FROM t "
    "WHERE a > 1 OR (b < 2 AND c IN (1, 2)) ORDER BY 1, 2",
    "SELECT f(CASE WHEN a THEN 1 END), g((a, b), 'x)') FROM t WHERE (a OR b) AND c",
    "SELECT ((((a)))), [1, (2)] FROM t WHERE (x = ')' OR y) AND z",
])
def test_shapes_taken_are_assembled_as_parsed_whole(sql):
    tree = pieces.PieceParser().parse(sql)
    assert tree is not None
    assert _same(tree, parse_one(sql))


@pytest.mark.parametrize("sql", [
    "SELECT DISTINCT a FROM t",
    "SELECT a FROM t, u",
    "SELECT a FROM t JOIN u ON true",
    "SELECT count(*) FROM t GROUP BY a",
    "SELECT a FROM t HAVING a > 1",
    "SELECT a FROM t UNION SELECT b FROM u",
    "SELECT a FROM t LIMIT 1 OFFSET 2",
    "SELECT a FROM t ORDER BY 1 FOR UPDATE",
    "SELECT 1",
    "SELECT a FROM t WHERE a = $1",
    "SELECT a FROM t -- a comment",
    "SELECT /* c */ a FROM t",
    "SELECT E'a\\n' FROM t",
    "SELECT a::text FROM t",
    "SELECT a FROM t WHERE a IS DISTINCT FROM b",
    "SELECT a FROM t;",
    "SELECT a, a FROM t",                   # one piece twice: one node, two parents
    "WITH w AS (SELECT 1) SELECT * FROM w",
    "SELECT a FROM t WHERE NOT NOT NOT a",
    "SELECT a FROM t WHERE a BETWEEN 1",
    "SELECT a FROM (SELECT 1 AS a) AS s WHERE a) > (1",
    "SELECT a FROM",
    "SELECT a FROM t WHERE",
    "SELECT 'é' FROM t",
    "INSERT INTO t VALUES (1)",
    "(SELECT a FROM t)",
    "SELECT (a end) FROM t",                # an END inside brackets: read token by token
    "SELECT (a, (b, E'x')) FROM t",
    "SELECT (SELECT a FROM u GROUP BY a) FROM t",
])
def test_other_shapes_take_the_whole_parse(sql):
    assert pieces.PieceParser().parse(sql) is None


def test_a_piece_that_does_not_parse_declines_the_statement():
    parser = pieces.PieceParser()
    assert parser.parse("SELECT a +, b FROM t") is None
    assert parser.parse("SELECT b FROM t WHERE a > ") is None


@pytest.mark.parametrize("sql", [
    "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM t AS y LEFT SEMI JOIN t ON true)",
    "SELECT (SELECT 1 FROM t AS y FULL SEMI JOIN t ON true) FROM t",
])
def test_a_piece_the_clause_check_refuses_declines_the_statement(sql):
    with pytest.raises(errors.Error):
        check_clauses(parse_one(sql))
    assert pieces.PieceParser().parse(sql) is None


def test_pieces_are_shared_and_bounded(monkeypatch):
    parser = pieces.PieceParser()
    one = parser.parse("SELECT a + 1, b FROM t WHERE a > 1 AND b < 2 ORDER BY 1")
    two = parser.parse("SELECT b, a + 1 FROM t WHERE b < 2 OR a > 1 ORDER BY 1")
    assert one.expressions[0] is two.expressions[1]
    assert two.expressions[1].parent is two        # the newest statement adopts it
    monkeypatch.setattr(pieces, "MAX_PIECES", 8)
    for i in range(40):
        parser.parse(f"SELECT a + {i} FROM t")
    assert len(parser.pieces) <= 8


# ---- through the session --------------------------------------------------------------

def _run(statements, use_pieces: bool):
    conn = rustmemodb.connect()
    if not use_pieces:
        conn._session._pieces = _Never()
    out = []
    for sql in statements:
        try:
            cur = conn.execute(sql)
            out.append(cur.fetchall() if sql.lstrip().upper().startswith("SELECT") else None)
        except errors.Error as exc:
            out.append((type(exc).__name__, exc.sqlstate, str(exc), exc.position))
    return out, conn


class _Never:
    """A session's piece parser that never assembles a statement (its pieces tested for
    reuse are parsed each time: sql/piece_plan.py)."""

    def parse(self, sql):
        return None

    def node(self, kind, text):
        return pieces.PieceParser().node(kind, text)


def test_the_corpus_answers_as_parsed_whole():
    statements = corpus(200)
    with_pieces, conn = _run(statements, True)
    assert conn._session._pieces.hits > 0
    assert with_pieces == _run(statements, False)[0]


SESSION = [
    "CREATE TABLE t (a INTEGER, b INTEGER, c TEXT)",
    "INSERT INTO t VALUES (1, 2, 'x'), (3, NULL, 'y'), (NULL, 5, 'z')",
    "SELECT a, abs(b) FROM t WHERE a > 0 OR b > 4 ORDER BY 1",
    "SELECT a, nope FROM t WHERE a > 0 ORDER BY 1",           # unknown column: position
    "SELECT a, c + 1 FROM t ORDER BY 1",                      # type error: position
    "ALTER TABLE t ADD COLUMN d INTEGER",
    "UPDATE t SET d = a * 10",
    "SELECT a, abs(b), d FROM t WHERE a > 0 OR b > 4 ORDER BY 1",
    "ALTER TABLE t RENAME COLUMN b TO bb",
    "SELECT a, abs(b) FROM t WHERE a > 0 OR b > 4 ORDER BY 1",  # b is gone
    "SELECT a, abs(bb) FROM t WHERE a > 0 OR bb > 4 ORDER BY 1",
    "CREATE FUNCTION abs(x INTEGER) RETURNS INTEGER LANGUAGE sql AS 'SELECT x + 1000'",
    "SELECT a, abs(bb) FROM t WHERE a > 0 OR bb > 4 ORDER BY 1",
    "DROP FUNCTION abs(INTEGER)",
    "SELECT a, abs(bb) FROM t WHERE a > 0 OR bb > 4 ORDER BY 1",
    "DROP TABLE t",
    "SELECT a, abs(bb) FROM t WHERE a > 0 OR bb > 4 ORDER BY 1",  # no table: position
    "CREATE TABLE t (a TEXT, bb TEXT)",
    "INSERT INTO t VALUES ('q', 'r')",
    "SELECT a, abs(bb) FROM t WHERE a > 0 OR bb > 4 ORDER BY 1",  # same text, new types
    "SELECT a FROM t WHERE a > 'a' ORDER BY 1 LIMIT 1",
    "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM t AS y LEFT SEMI JOIN t ON true)",
]


def test_schema_and_function_changes_answer_as_parsed_whole():
    with_pieces, conn = _run(SESSION, True)
    assert conn._session._pieces.hits > 0
    assert with_pieces == _run(SESSION, False)[0]
    errs = [r for r in with_pieces if isinstance(r, tuple)]
    assert len(errs) >= 4 and all(e[3] is not None for e in errs[:2])
