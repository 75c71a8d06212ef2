"""memory.settle_heap: bulk loads and index builds leave their objects out of GC walks."""
import gc

import pyarrow as pa
import pytest

import rustmemodb
from rustmemodb import memory


@pytest.fixture(autouse=True)
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_bulk_load_freezes_the_heap_and_a_small_insert_does_not():
    c = rustmemodb.connect()
    c.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v FLOAT)")
    c.execute("INSERT INTO t VALUES (1, 1.0)")
    assert gc.get_freeze_count() == 0
    n = memory.BULK_ROWS
    c.register("src", pa.table({"id": pa.array(range(2, n + 2), pa.int64()),
                                "v": pa.array([0.5] * n)}))
    c.execute("INSERT INTO t SELECT * FROM src")
    frozen = gc.get_freeze_count()
    assert frozen > 0
    # frozen objects still work and are still freed by reference counting
    assert c.execute("SELECT count(*) FROM t").fetchone() == (n + 1,)
    c.execute("CREATE INDEX t_v ON t (v)")
    assert gc.get_freeze_count() >= frozen


def test_it_can_be_turned_off(monkeypatch):
    monkeypatch.setattr(memory, "_enabled", False)
    memory.settle_heap(10 ** 9)
    assert gc.get_freeze_count() == 0
