"""PostgreSQL regular expressions on Python re, and the RE2 (Arrow) fast path.

``s ~ pattern`` over a column uses Arrow's RE2 kernel when the pattern means the
same there (exec/functions/regex.py ``_re2_pattern``); these tests check that
both paths agree with the row path (Python re, PostgreSQL semantics) on patterns
chosen where the engines could differ: anchors and newlines, case, classes,
repetition, escapes. SQL-level answers checked on PostgreSQL live in
tests/sql/query/regex.test.
"""
import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb.exec.functions.regex import _re2_pattern, regexp_like, to_python_regex

TEXTS = ["abc", "ABC", "a\nb", "ab\n", "x1y22z333", "hello world", "", "a.c", "a{2}",
         "über", "tab\there", "foo_bar", "aaa", "b"]
PATTERNS = [("^a", ""), ("c$", ""), ("b$", ""), ("b$", "n"), ("a.b", ""), ("a.b", "n"),
            ("^b", "n"), ("abc", "i"), ("[[:digit:]]{2}", ""), ("\\d+z", ""),
            ("[[:upper:]]+", ""), ("a\\.c", ""), ("a{2}", ""), ("^(a|b)+$", ""),
            ("\\w+\\s\\w+", ""), ("ü", "i"), ("[^a-z]", ""), ("o_b|^$", ""), ("a*?b", ""),
            ("\\mworld", ""), ("(a)\\1", ""), ("b\\y", "")]


@pytest.fixture(scope="module")
def conn():
    c = rustmemodb.connect()
    c.register("w", pa.table({"i": list(range(len(TEXTS))), "s": TEXTS}))
    return c


@pytest.mark.parametrize("pattern, flags", PATTERNS)
def test_column_match_agrees_with_the_row_path(conn, pattern, flags):
    want = [regexp_like(t, pattern, flags) for t in TEXTS]
    got = [r[0] for r in conn.execute("SELECT regexp_like(s, $1, $2) FROM w ORDER BY i",
                                      (pattern, flags)).fetchall()]
    assert got == want
    if not flags:
        got = [r[0] for r in conn.execute("SELECT s ~ $1 FROM w ORDER BY i",
                                          (pattern,)).fetchall()]
        assert got == want


def test_patterns_re2_could_misread_keep_the_python_path():
    for pattern in ("(a)\\1", "\\mworld", "b\\y", "(?=a)", "a{,2}", "a\\\\Z", "x\\Ay"):
        assert _re2_pattern(pattern, "") is None, pattern
    assert _re2_pattern("a.b$", "") == ("(?s)a.b\\z", False)
    assert _re2_pattern("a.b$", "ni") == ("(?m)a.b$", True)


def test_translation_of_posix_syntax():
    assert to_python_regex("[[:alpha:]_][[:alnum:]]*$") == "[a-zA-Z_][a-zA-Z0-9]*\\Z"
    assert to_python_regex("\\mfoo\\M") == "\\b(?=\\w)foo\\b(?<=\\w)"
    assert to_python_regex("[]a]") == "[\\]a]"


def test_regex_errors(conn):
    for sql, state in (("SELECT 'a' ~ '('", "2201B"), ("SELECT regexp_like('a', 'a', 'z')", "22023"),
                       ("SELECT s ~ '[[:nope:]]' FROM w", "2201B"),
                       ("SELECT regexp_matches('a', 'a', 'z')", "22023"),
                       ("SELECT * FROM regexp_matches(s, '[[:nope:]]') AS m, w", "42703"),
                       ("SELECT * FROM w, regexp_matches(w.s, '[[:nope:]]')", "2201B"),
                       ("SELECT 1 FROM w WHERE regexp_matches(s, 'a') IS NULL", "0A000")):
        with pytest.raises(rustmemodb.Error) as info:
            conn.execute(sql)
        assert info.value.sqlstate == state, sql


@pytest.mark.parametrize("pattern, flags", PATTERNS)
def test_regexp_matches_agrees_with_the_translator(conn, pattern, flags):
    """regexp_matches reads patterns through the same translation as ~ and regexp_replace:
    per row, its first match (with g every match) is what re finds on to_python_regex."""
    from rustmemodb.exec.functions.regex import compile_regex
    rx, _ = compile_regex(pattern, flags)
    got = conn.execute("SELECT i, regexp_matches(s, $1, $2) FROM w ORDER BY i",
                       (pattern, flags + "g")).fetchall()
    want = [(i, list(m.groups()) if rx.groups else [m.group(0)])
            for i, t in enumerate(TEXTS) for m in rx.finditer(t)]
    assert got == want
    first = conn.execute("SELECT i, (regexp_matches(s, $1, $2))[1] FROM w ORDER BY i",
                         (pattern, flags)).fetchall()
    firsts = [(i, rx.search(t)) for i, t in enumerate(TEXTS)]
    assert first == [(i, m.group(1) if rx.groups else m.group(0))
                     for i, m in firsts if m is not None]
