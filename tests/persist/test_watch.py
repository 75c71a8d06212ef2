"""Collection.watch: row deltas of each commit that touches the collection."""
import gc

import pydantic

from rustmemodb.persist import PersistApp


class Item(pydantic.BaseModel):
    sku: str
    qty: int = 0


def test_watch_reports_added_changed_removed_rows(app):
    items = app.collection("items", Item)
    other = app.collection("other", Item)
    seen = []
    sub = items.watch(seen.append)
    a = items.create({"sku": "A"})
    other.create({"sku": "X"})                        # another table: not reported
    items.patch(a._id, {"qty": 4})
    items.delete(a._id)
    assert [d.counts for d in seen] == [{"added": 1, "removed": 0, "changed": 0},
                                       {"added": 0, "removed": 0, "changed": 1},
                                       {"added": 0, "removed": 1, "changed": 0}]
    assert seen[0].key_columns == ["_id"]
    assert seen[0].added.to_pylist()[0]["sku"] == "A"
    assert set(seen[1].changed_columns[0]) >= {"qty", "_version"}
    assert seen[1].changed_after.to_pylist()[0]["qty"] == 4
    sub.cancel()
    items.create({"sku": "B"})
    assert len(seen) == 3


def test_watch_inside_a_transaction_reports_once_at_commit(app):
    items = app.collection("items", Item)
    seen = []
    items.watch(seen.append)
    with app.transaction():
        items.create_many([{"sku": "A"}, {"sku": "B"}])
        assert seen == []
    assert len(seen) == 1 and seen[0].counts["added"] == 2


def test_watcher_held_weakly():
    app = PersistApp.open()
    items = app.collection("items", Item)
    calls = []

    class Grid:
        def refresh(self, diff):
            calls.append(diff)

    grid = Grid()
    sub = items.watch(grid.refresh)
    items.create({"sku": "A"})
    del grid
    gc.collect()
    items.create({"sku": "B"})
    assert len(calls) == 1 and not sub.active
