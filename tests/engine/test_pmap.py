"""storage/pmap.py: persistent maps built only from objects the cyclic GC does not track.

Checked against a dict under random operations (hypothesis), for persistence (old
versions unchanged), and for the property the module exists for: after a young
collection, a long run of writes leaves nothing tracked behind.
"""
import gc

from hypothesis import given, settings, strategies as st

from rustmemodb.storage.pmap import EMPTY, EMPTY_ROWS, FLAT_MAX, PMap, RowMap

keys = st.one_of(st.integers(-5, 3 * FLAT_MAX), st.text(max_size=3))
ops = st.lists(st.tuples(st.sampled_from(["set", "delete", "batch"]), keys,
                         st.integers(), st.lists(st.tuples(keys, st.integers()), max_size=40)),
               max_size=300)


def check(m, model: dict) -> None:
    assert len(m) == len(model)
    assert bool(m) == bool(model)
    assert dict(m.items()) == model
    assert set(m.keys()) == set(model) == set(iter(m))
    for k, v in list(model.items())[:50]:
        assert m[k] == v and m.get(k) == v and k in m
    assert m.get(object()) is None


@settings(max_examples=120, deadline=None)
@given(ops, st.booleans())
def test_behaves_as_a_dict_and_old_versions_never_change(script, rows):
    m = EMPTY_ROWS if rows else EMPTY
    model: dict = {}
    history = []
    for op, key, value, batch in script:
        history.append((m, dict(model)))
        if op == "set":
            value = (value, "row") if rows else value
            m = m.set(key, value)
            model[key] = value
        elif op == "delete":
            if key in model:
                m = m.delete(key)
                del model[key]
            else:
                try:
                    m.delete(key)
                    raise AssertionError("delete of a missing key must raise KeyError")
                except KeyError:
                    pass
        else:
            with m.mutate() as mut:
                for k, raw in batch:
                    v = (raw, "row") if rows else raw
                    if k in model and raw % 3 == 0:
                        del mut[k]
                        del model[k]
                    else:
                        mut[k] = v
                        model[k] = v
                    assert len(mut) == len(model)
                m = mut.finish()
        check(m, model)
    for old, snapshot in history[::7]:
        check(old, snapshot)


def test_large_maps_use_the_trie_and_shrink_back():
    m = PMap({i: i for i in range(10_000)})
    assert type(m._root) is not dict
    for i in range(10_000 - 10):
        m = m.delete(i)
    assert type(m._root) is dict and dict(m.items()) == {i: i for i in range(9_990, 10_000)}


def test_writes_leave_nothing_for_the_collector():
    m = PMap({i: i for i in range(50_000)})
    r = RowMap()
    for i in range(5_000):
        m = m.set(i * 7919, -1)
        r = r.set(i * 31, (i, "x", None))
    gc.collect(0)
    gc.collect(1)
    tracked = {id(o) for o in gc.get_objects()}
    assert id(m._root) not in tracked
    assert not any(id(mid) in tracked for mid in m._root)
    assert id(r._slots._root) not in tracked
    assert r.get(31 * 7) == (7, "x", None)


def test_row_store_is_compacted_when_mostly_dead():
    r = RowMap()
    for i in range(20_000):
        r = r.set(i % 10, (i,))
    assert len(r) == 10
    assert len(r._store.values) <= 8 * 10 + 4096 + 1
    assert dict(r.items()) == {k: (19_990 + k,) for k in range(10)}


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(keys, st.integers(), max_size=2000), st.data(), st.booleans())
def test_without_drops_exactly_the_given_keys(model, data, rows):
    m = (RowMap if rows else PMap)(model)
    gone = data.draw(st.lists(st.sampled_from(sorted(model, key=repr)), unique=True)
                     if model else st.just([]))
    out = m.without(gone)
    for k in gone:
        del model[k]
    check(out, model)


def test_the_shared_empty_row_map_keeps_no_values():
    """Every table's patch map starts from EMPTY_ROWS: a write to it must start a store
    of its own, or the one shared store would keep every first patched row alive."""
    from rustmemodb.storage.pmap import EMPTY_ROWS
    one = EMPTY_ROWS.set(1, ("a",))
    with EMPTY_ROWS.mutate() as m:
        m[2] = ("b",)
        two = m.finish()
    assert one.get(1) == ("a",) and two.get(2) == ("b",) and 1 not in two
    assert len(EMPTY_ROWS) == 0 and not EMPTY_ROWS._store.values
    assert one.set(3, ("c",)).get(1) == ("a",) and len(one) == 1
