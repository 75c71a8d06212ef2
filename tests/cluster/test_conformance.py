"""The SELECT (and DML/DDL) conformance files of tests/sql on a 3-shard local cluster:
results identical to the single-process engine, record for record.

Every file runs; the only exceptions are the records in ``CLUSTER_SKIP``, which the
cluster refuses with ``0A000`` (checked). ``test_pass_rate`` prints the record counts.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .conformance import SQL_DIR, ClusterBackend, read_skips, run_on_cluster

FILES = sorted(SQL_DIR.rglob("*.test"))
SKIPS = read_skips()


@pytest.fixture(scope="module")
def backend():
    return ClusterBackend("local", shards=3)


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(SQL_DIR).as_posix() for p in FILES])
def test_file_on_three_shards(path: Path, backend) -> None:
    rel = path.relative_to(SQL_DIR).as_posix()
    report = run_on_cluster(path, backend, SKIPS.get(rel, {}))
    if report.failures:
        pytest.fail(report.summary(limit=20), pytrace=False)


def test_skip_list_names_real_records():
    for rel, lines in SKIPS.items():
        path = SQL_DIR / rel
        assert path.exists(), rel
        text = path.read_text(encoding="utf-8").splitlines()
        for line in lines:
            assert line <= len(text), f"{rel}:{line}"


# Every file again with every join that can be repartitioned repartitioned and every
# grouped merge run on the shards (shuffle="always"): the exchanges change no result.
@pytest.fixture(scope="module")
def shuffling():
    return ClusterBackend("local", shards=3, shuffle="always")


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(SQL_DIR).as_posix() for p in FILES])
def test_file_with_every_exchange_repartitioned(path: Path, shuffling) -> None:
    rel = path.relative_to(SQL_DIR).as_posix()
    report = run_on_cluster(path, shuffling, SKIPS.get(rel, {}))
    if report.failures:
        pytest.fail(report.summary(limit=20), pytrace=False)


# Every file once more with the SQL-level split only (planner="sql"): the fallback of the
# plan split (cluster/plansplit.py) stays proven on the queries the plan split now takes.
@pytest.fixture(scope="module")
def sql_planner():
    return ClusterBackend("local", shards=3, planner="sql")


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(SQL_DIR).as_posix() for p in FILES])
def test_file_with_the_sql_level_split_only(path: Path, sql_planner) -> None:
    rel = path.relative_to(SQL_DIR).as_posix()
    report = run_on_cluster(path, sql_planner, SKIPS.get(rel, {}))
    if report.failures:
        pytest.fail(report.summary(limit=20), pytrace=False)
