"""Incremental merge of ordered indexes (storage/index_merge.py): while a merge job runs
over many writes, and after it finishes, every version answers exactly like a model."""
import gc
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
    monkeypatch.setattr(index_merge, "HASH_STEP", 16)
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


@pytest.mark.parametrize("seed", range(6))
def test_hash_index_fold_jobs_agree_with_a_model_on_every_branch(small_jobs, monkeypatch, seed):
    """Random inserts/deletes/re-keys on a unique index whose folds run as jobs; two
    branches grow from versions in the middle of a job (the second must not disturb the
    first's shared builder)."""
    from rustmemodb.storage.index import UniqueIndex
    monkeypatch.setattr(index_mod, "_MIN_FOLD", 8)
    rnd = random.Random(seed)
    n = 200
    start, dup = UniqueIndex.build("u", (0,), [f"k{i}" for i in range(n)], list(range(n)))
    assert dup is None
    branches = [(start, {f"k{i}": i for i in range(n)})]
    jobs = finished = 0
    for step in range(1500):
        b = rnd.randrange(len(branches))
        ix, model = branches[b]
        model = dict(model)
        op = rnd.random()
        if op < 0.4 and model:
            key = rnd.choice(list(model))
            new_key = f"m{step}"
            new = ix.with_changes({new_key: model[key]}, [key])
            model[new_key] = model.pop(key)
        elif op < 0.7:
            key = f"n{step}"
            new = ix.with_changes({key: 10_000 + step}, [])
            model[key] = 10_000 + step
        elif model:
            key = rnd.choice(list(model))
            new = ix.with_changes({}, [key])
            del model[key]
        else:
            continue
        jobs += ix._job is None and new._job is not None
        finished += ix._job is not None and new._job is None
        if ix._job is not None and rnd.random() < 0.1 and len(branches) < 6:
            branches.append((ix, branches[b][1]))      # a second branch from mid-job
        branches[b] = (new, model)
        for probe in rnd.sample(list(model), min(5, len(model))):
            assert new.get(probe) == model[probe]
        assert new.get("absent") is None
    assert jobs > 1 and finished > 1
    for ix, model in branches:
        assert dict(ix.items()) == model
    # a finished fold leaves a sharded base: no write ever copied it whole, and its
    # dicts hold only atoms, so the collector does not track them
    sharded = [ix.base for ix, _ in branches if isinstance(ix.base, index_merge.Shards)]
    assert sharded
    gc.collect()
    assert not any(gc.is_tracked(part) for base in sharded for part in base.parts)


def test_a_hash_fold_step_copies_at_most_one_shard(small_jobs, monkeypatch):
    from rustmemodb.storage.index import UniqueIndex
    monkeypatch.setattr(index_mod, "_MIN_FOLD", 8)
    n = 2000
    ix, _ = UniqueIndex.build("u", (0,), list(range(n)), list(range(n)))
    copied = []
    real = index_merge._Builder.fill

    def fill(self, quota, tombstone):
        before = sum(len(p) for p in self.parts if p is not None)
        real(self, quota, tombstone)
        copied.append(sum(len(p) for p in self.parts if p is not None) - before)
    monkeypatch.setattr(index_merge._Builder, "fill", fill)
    finished = 0
    for i in range(3000):
        new = ix.with_changes({n + i: n + i}, [i])
        finished += ix._job is not None and new._job is None
        ix = new
    assert finished >= 2 and copied
    shard = 2 * (n + 3000) // index_merge.SHARDS
    assert max(copied) <= max(4 * index_merge.HASH_STEP, shard)
    assert dict(ix.items()) == {k: k for k in range(3000, n + 3000)}


def test_ordered_jobs_on_diverging_branches(small_jobs):
    """Writes continue from versions in the middle of a job on several branches: each
    branch answers like its own model, and the shared output arrays are never
    overwritten by a branch that is not the furthest along."""
    rnd = random.Random(11)
    n = 400
    model = {r: rnd.randrange(200) for r in range(n)}
    start = OrderedIndex.build("i", (0,), ["INTEGER"], [pa.array([model[r] for r in range(n)])],
                               list(range(n)))
    branches = [(start, model)]
    next_rowid = n
    for step in range(2000):
        b = rnd.randrange(len(branches))
        ix, model = branches[b]
        model = dict(model)
        if rnd.random() < 0.7 and model:
            r = rnd.choice(list(model))
            new_key = rnd.randrange(200)
            ix2 = ix.with_changes([(new_key, r)], [(model[r], r)])
            model[r] = new_key
        else:
            key = rnd.randrange(200)
            ix2 = ix.with_changes([(key, next_rowid)], [])
            model[next_rowid] = key
            next_rowid += 1
        if ix._job is not None and rnd.random() < 0.2 and len(branches) < 8:
            branches.append((ix, branches[b][1]))
        branches[b] = (ix2, model)
        lo, hi = sorted(rnd.sample(range(200), 2))
        assert _rowids(ix2, lo, hi) == sorted(r for r, v in model.items() if lo <= v <= hi)
    for ix, model in branches:
        assert _rowids(ix, None, None) == sorted(model)


def test_object_keys_merge_incrementally_from_a_smaller_base():
    """TEXT/UUID keys (an object array) merge as a job from OBJECT_INCREMENTAL entries on,
    a few thousand per step, where int64 keys of the same base still merge at once; the
    finished index holds every entry in order."""
    n = index_merge.OBJECT_INCREMENTAL + 1000
    assert n < index_merge.INCREMENTAL
    keys = [f"k{i:07d}" for i in range(0, 2 * n, 2)]
    text = OrderedIndex.build("t", (0,), ["TEXT"], [pa.array(keys)], list(range(n)))
    ints = OrderedIndex.build("i", (0,), ["INTEGER"], [pa.array(list(range(n)), pa.int64())],
                              list(range(n)))
    for j in range(index_mod._MIN_MERGE + 1):         # the last one starts the merge
        rowid = n + j
        text = text.with_changes([(f"k{2 * j + 1:07d}", rowid)], [])
        ints = ints.with_changes([(n + j, rowid)], [])
        assert ints._job is None and len(ints.keys) in (n, n + j + 1)
    assert text._job is not None and len(text.keys) == n
    writes = 0
    while text._job is not None:                       # later writes finish it, a step each
        rowid += 1
        writes += 1
        text = text.with_changes([(f"z{rowid}", rowid)], [])
    assert writes >= n // index_merge.OBJECT_STEP - 1
    assert len(text.keys) > n
    expected = sorted([(k, i) for i, k in enumerate(keys)] +
                      [(f"k{2 * j + 1:07d}", n + j) for j in range(index_mod._MIN_MERGE + 1)] +
                      [(f"z{r}", r) for r in range(n + index_mod._MIN_MERGE + 1, rowid + 1)])
    assert _rowids(text, None, None) == sorted(r for _, r in expected)
    assert list(text.range("k0000000", "k0001000").tolist()) == [
        r for k, r in expected if "k0000000" <= k <= "k0001000"]
