"""What a collection's entities cost the cyclic garbage collector (issue #16).

A full collection traverses every GC-tracked container of the process, so a server
holding a collection pays, at every full collection, for whatever the engine and
persist layers keep per entity as tracked Python containers (row tuples that hold a
list, per-entity dicts, index nodes, audit records, caches). The library may not
change the collector's process-wide settings (no gc.freeze, thresholds or disable),
so the entities must stay (almost) invisible to it: rows and index entries are Arrow
buffers or tuples/dicts of atoms, which CPython untracks.

Measured (3.11, 2026-12): ~240 tracked objects after a full collection whether 3,000
or 9,000 entities were created (20k entities: 0.016 per entity), and ~40 objects
promoted to the oldest generation by 3,000-9,000 creates between full collections;
the bounds leave a wide margin and still fail on any per-entity container.
"""
import gc

import pydantic

N = 3000
PER_ENTITY = 0.1      # tracked objects per entity allowed (measured ~0.016)
CONSTANT = 400        # table versions, chunks, caches of a statement shape


class Item(pydantic.BaseModel):
    name: str
    qty: int | None = None
    tags: list[str] = []


def _fill(items, start: int, n: int) -> None:
    """n entities through the REST create paths: a lone create and group commits."""
    half = n // 2
    for i in range(start, start + half):
        items.create({"name": f"item-{i:06d}", "qty": i % 100, "tags": ["a"]})
    for s in range(start + half, start + n, 16):
        items.create_batch([({"name": f"item-{i:06d}", "qty": i % 100, "tags": ["a", "b"]},
                             None) for i in range(s, min(s + 16, start + n))])


def _tracked() -> int:
    return len(gc.get_objects())


def test_entities_stay_untracked_after_a_full_collection(app):
    items = app.collection("items", Item)
    _fill(items, 0, 200)              # warm: plans, lazy imports, first chunk
    gc.collect()
    before = _tracked()
    _fill(items, 200, N)
    gc.collect()
    grown = _tracked() - before
    assert len(items) == N + 200
    assert grown < N * PER_ENTITY + CONSTANT, f"{grown} tracked objects for {N} entities"


def test_creates_promote_little_to_the_oldest_generation(app):
    """Between full collections, what survives the young collections is counted
    towards the next full one; creates must not leave containers there that only a
    full collection untracks (dicts of atoms built from tracked parts)."""
    items = app.collection("items", Item)
    _fill(items, 0, 200)
    gc.collect()
    old = {id(o) for o in gc.get_objects(2)}
    _fill(items, 200, N)
    gc.collect(1)                     # the young generations, as the runtime does
    promoted = sum(1 for o in gc.get_objects() if id(o) not in old)
    assert promoted < N * PER_ENTITY + CONSTANT, f"{promoted} objects kept by {N} creates"
