"""Unit tests of sort modes and result comparison (no engine needed)."""

import pytest

from .compare import compare_results, mismatch_report, sort_rows

ROWS = [["2", "b"], ["1", "z"], ["1", "a"]]


def test_nosort_keeps_order():
    assert sort_rows(ROWS, "nosort") == ROWS
    assert compare_results(ROWS, ROWS, "nosort")
    assert not compare_results(ROWS, list(reversed(ROWS)), "nosort")


def test_rowsort_sorts_whole_rows():
    assert sort_rows(ROWS, "rowsort") == [["1", "a"], ["1", "z"], ["2", "b"]]
    assert compare_results(ROWS, list(reversed(ROWS)), "rowsort")
    # values may not move between rows
    assert not compare_results(ROWS, [["2", "a"], ["1", "z"], ["1", "b"]], "rowsort")


def test_valuesort_ignores_row_boundaries():
    assert sort_rows(ROWS, "valuesort") == [["1"], ["1"], ["2"], ["a"], ["b"], ["z"]]
    assert compare_results(ROWS, [["2", "a"], ["1", "z"], ["1", "b"]], "valuesort")
    assert not compare_results(ROWS, [["2", "a"], ["1", "z"], ["1", "c"]], "valuesort")


def test_duplicates_count():
    assert not compare_results([["1"], ["1"]], [["1"]], "rowsort")
    assert not compare_results([["1"]], [["1"], ["1"]], "valuesort")


def test_unknown_mode():
    with pytest.raises(ValueError):
        sort_rows(ROWS, "hashsort")


def test_mismatch_report_shows_both_sides_and_diff():
    text = mismatch_report([["1", "a"]], [["1", "b"], ["2", "c"]], "rowsort")
    assert "expected (1 row(s), rowsort):" in text
    assert "actual (2 row(s)):" in text
    assert "-1\ta" in text and "+1\tb" in text
    assert "(no rows)" in mismatch_report([], [["1"]], "nosort")
