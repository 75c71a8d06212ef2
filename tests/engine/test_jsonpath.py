"""The SQL/JSON path evaluator (exec/functions/jsonpath.py) on its own: lax and strict
accessors, levels of ``.**``, subscripts, filters' three-valued logic, variables and
the errors PostgreSQL gives (expected values taken from PostgreSQL 15)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from rustmemodb import errors
from rustmemodb.exec.functions.jsonpath import compile_path, match, query

DOC = {"a": [1, 2, 3], "o": {"x": 1, "y": {"z": 2}}, "s": "abc", "n": None}


@pytest.mark.parametrize("path, want", [
    ("$.a[*]", [1, 2, 3]),
    ("$.a[1 to last]", [2, 3]),
    ("$.a[0, 2]", [1, 3]),
    ("$.o.*", [1, {"z": 2}]),
    ("$.**{2}", [1, 2, 3, 1, {"z": 2}]),
    ("$.o.**{1 to last}.z", [2]),
    ("$.a ? (@ > 1)", [2, 3]),
    ("$.a[*] ? (@ > 1 && @ < 3)", [2]),
    ("$.a[*] ? (@ == 1 || @ == 3)", [1, 3]),
    ("$.n ? (@ == null)", [None]),
    ("$.s ? (@ like_regex \"B\" flag \"i\")", ["abc"]),
    ("$.a.size()", [3]),
    ("$.o.keyvalue().key", ["x", "y"]),
    ("$.a[0] + $.a[2] * 2", [7]),
    ("$.nothing", []),
    ("$.s.nothing", []),
])
def test_lax_paths(path, want):
    assert query(DOC, path) == want


@pytest.mark.parametrize("path, sqlstate", [
    ("strict $.nothing", "2203A"),
    ("strict $.a[7]", "22033"),
    ("strict $.s[*]", "22039"),
    ("$.a ? (@ > $v)", "42704"),
    ("$.a[", "42601"),
    ("$.a ? (@ like_regex \"(\")", "2201B"),
    ("$.s + 1", "22038"),
    ("$.a[0] / 0", "22012"),
])
def test_errors(path, sqlstate):
    with pytest.raises(errors.Error) as info:
        query(DOC, path)
    assert info.value.sqlstate == sqlstate


def test_silent_swallows_data_errors_but_not_syntax():
    assert query(DOC, "strict $.nothing", None, True) == []
    with pytest.raises(errors.Error):
        query(DOC, "$.a[", None, True)


def test_variables_and_match():
    assert query(DOC, "$.a[*] ? (@ >= $lo)", {"lo": 2}) == [2, 3]
    assert match(DOC, "$.a[0] == 1") is True
    assert match(DOC, "$.s > 1") is None            # not comparable: unknown
    with pytest.raises(errors.Error) as info:
        match(DOC, "$.a")
    assert info.value.sqlstate == "22038"


def test_paths_are_parsed_once():
    assert compile_path("$.a[*]") is compile_path("$.a[*]")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet='$@.[]()*?!=<>&|+-/%"ab01 lastictrsxyz{},\\', max_size=30))
def test_any_path_text_is_an_answer_or_a_clear_error(path):
    """Hostile path text never escapes as anything but an engine error."""
    try:
        query(DOC, path)
    except errors.Error:
        pass
