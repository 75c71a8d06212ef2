"""Incremental merge of ordered indexes (storage/index_merge.py): while a merge job runs
over many writes, and after it finishes, every version answers exactly like a model."""
import random

import pyarrow as pa
import pytest

from rustmemodb.storage import index as index_mod
from rustmemodb.storage import index_merge
from rustmemodb.storage.index import OrderedIndex


@pytest.fixture
def small_jobs(monkeypatch):
    """Jobs on small bases, a few entries per step: many steps and finishes per test."""
    monkeypatch.setattr(index_merge, "INCREMENTAL", 64)
    monkeypatch.setattr(index_merge, "STEP", 16)
    monkeypatch.setattr(index_mod, "_MIN_MERGE", 8)


def _rowids(ix, lo, hi):
    return sorted(ix.range(lo, hi).tolist())


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("sql_type", ["INTEGER", "TEXT"])
def test_versions_agree_with_a_model_through_jobs(small_jobs, seed, sql_type):
    rnd = random.Random(seed)

    def key(v):
        return None if v is None else (v if sql_type == "INTEGER" else f"k{v:04d}")

    n = 300
    model = {r: rnd.randrange(100) for r in range(n)}
    model[7] = None
    ix = OrderedIndex.build("i", (0,), [sql_type], [pa.array([key(model[r]) for r in range(n)])],
                            list(range(n)))
    next_rowid = n
    history = []
    saw_job = False
    finished = 0
    for step in range(600):
        had_job = ix._job is not None
        op = rnd.random()
        if op < 0.5 and model:                       # update: key moves
            r = rnd.choice(list(model))
            new = rnd.choice([None] + list(range(100))) if rnd.random() < 0.05 else rnd.randrange(100)
            ix = ix.with_changes([(_k(key(new)), r)], [(_k(key(model[r])), r)])
            model[r] = new
        elif op < 0.75:                               # insert
            v = rnd.randrange(100)
            ix = ix.with_changes([(_k(key(v)), next_rowid)], [])
            model[next_rowid] = v
            next_rowid += 1
        elif model:                                   # delete
            r = rnd.choice(list(model))
            ix = ix.with_changes([], [(_k(key(model[r])), r)])
            del model[r]
        saw_job = saw_job or ix._job is not None
        finished += had_job and ix._job is None
        history.append((ix, dict(model)))
        lo, hi = sorted(rnd.sample(range(100), 2))
        assert _rowids(ix, key(lo), key(hi)) == sorted(
            r for r, v in model.items() if v is not None and lo <= v <= hi)
    assert saw_job and finished > 1
    # old versions (snapshots, forks) still answer as they did
    for old, m in history[::37]:
        assert _rowids(old, None, None) == sorted(r for r, v in m.items() if v is not None)
        assert sorted(old.nulls().tolist()) == sorted(r for r, v in m.items() if v is None)
        assert len(old) == len(m)


def _k(v):
    return index_mod.NULL_KEY if v is None else v
