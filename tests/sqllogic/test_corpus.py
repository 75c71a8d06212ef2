"""Engine-free checks of the .test corpus under tests/sql: every file parses, has
``# name:`` (its own path) and ``# description:`` headers, and every pg-deviation
has a reason."""

from pathlib import Path

import pytest

from .parser import parse_file
from .records import Query, Statement

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
FILES = sorted(SQL_DIR.rglob("*.test"))


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(SQL_DIR).as_posix() for p in FILES])
def test_file_is_well_formed(path):
    rel = "tests/sql/" + path.relative_to(SQL_DIR).as_posix()
    tf = parse_file(path, rel)
    assert tf.name == rel, f"{rel}: '# name:' header should be {rel!r}, is {tf.name!r}"
    assert tf.description, f"{rel}: missing '# description:' header"
    records = [r for r in tf.records if isinstance(r, (Statement, Query))]
    assert records, f"{rel}: no records"
    for r in records:
        if r.pg_deviation is not None:
            assert len(r.pg_deviation) > 10, f"{r.location}: pg-deviation needs a real reason"


def test_corpus_is_not_empty():
    assert len(FILES) >= 19
