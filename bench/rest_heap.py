"""What a REST server's heap costs the cyclic GC (issue #16): a standalone probe, not a suite.

    PYTHONPATH=engine:. python -m bench.rest_heap [ENTITIES] [POSTS]

Builds the state of ``python -m bench rest``'s persist server in this process (an
``items`` collection filled with ``create_many``, the generated app), sends POST creates
through httpx's ASGITransport in groups of 16 (the routes' own code path: CreateGroup,
``Collection.create_batch``), and reports at each stage the GC-tracked objects, the
references a full collection traverses, and the CPU time of a full ``gc.collect()``;
then the type histogram, the containers with more than 2,000 references, and, while
more POSTs run, every automatic generation-2 collection (wall ms, CPU ms, objects).

Measured (2026-12, 3.11, 2-core VM, 20,000 entities): ~145k tracked objects, of which
the entities account for ~0.016 each (storage/pmap.py, Arrow chunks and tuples of atoms
keep rows and index entries out of the collector's sight); a full collection costs
35-50 ms CPU in this process (65 ms CPU / ~100 ms wall in the uvicorn server), almost all
of it modules: pandas alone is ~35k tracked objects (pyarrow imports it on its first
conversion whenever it is installed), then fastapi/pydantic/starlette, sqlglot, numpy.
"""
from __future__ import annotations

import asyncio
import collections
import gc
import sys
import time


def main(n: int, k: int) -> None:
    import httpx
    import pydantic

    from rustmemodb.persist import PersistApp
    from rustmemodb.persist.rest import create_app

    class Item(pydantic.BaseModel):
        name: str
        qty: int | None = None
        tags: list[str] = []

    papp = PersistApp.open()
    items = papp.collection("items", Item)
    api = create_app(papp)

    def stats(label: str) -> list:
        gc.collect()
        gc.collect()
        objs = gc.get_objects()
        refs, big = 0, []
        for o in objs:
            r = len(gc.get_referents(o))
            refs += r
            if r > 2000:
                big.append((r, type(o).__name__, repr(o)[:80]))
        took = []
        for _ in range(5):
            t = time.process_time()
            gc.collect()
            took.append(time.process_time() - t)
        took.sort()
        print(f"{label}: tracked={len(objs)} references={refs} "
              f"full gc CPU ms min/median={took[0] * 1e3:.1f}/{took[2] * 1e3:.1f}")
        return [objs, big]

    base = len(stats("app, empty collection")[0])
    items.create_many({"name": f"item-{i:06d}", "qty": i % 100, "tags": ["a"]}
                      for i in range(n))
    after = len(stats(f"after create_many({n})")[0])
    print(f"  tracked objects per entity: {(after - base) / n:.4f}")

    async def posts(count: int) -> None:
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            async def one(i):
                r = await client.post("/api/items",
                                      json={"name": f"p-{i}", "qty": 1, "tags": ["a"]})
                assert r.status_code == 201, r.text
            for s in range(0, count, 16):
                await asyncio.gather(*(one(i) for i in range(s, s + 16)))

    t = time.process_time()
    asyncio.run(posts(k))
    print(f"{k} POSTs: {(time.process_time() - t) / k * 1e6:.0f} µs CPU each (client included)")
    objs, big = stats(f"after {k} POSTs")
    for name, count in collections.Counter(type(o).__name__ for o in objs).most_common(12):
        print(f"  {name:28s} {count}")
    for b in sorted(big, reverse=True)[:10]:
        print("  big container:", b)
    del objs

    seen, start = [], {}

    def callback(phase, info):
        if phase == "start":
            start["t"], start["c"] = time.perf_counter(), time.process_time()
        elif info["generation"] == 2:
            seen.append((round((time.perf_counter() - start["t"]) * 1e3, 1),
                         round((time.process_time() - start["c"]) * 1e3, 1),
                         len(gc.get_objects(2))))

    gc.callbacks.append(callback)
    try:
        asyncio.run(posts(k))
    finally:
        gc.callbacks.remove(callback)
    print(f"automatic full collections during {k} more POSTs (wall ms, CPU ms, objects):",
          seen)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000,
         int(sys.argv[2]) if len(sys.argv) > 2 else 5_000)
