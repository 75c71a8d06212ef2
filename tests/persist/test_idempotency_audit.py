"""Idempotency keys (scope, replay, payload mismatch, TTL) and audit records."""
import pydantic
import pytest

from rustmemodb.persist import ConflictError, IdempotencyError, PersistApp


class Order(pydantic.BaseModel):
    sku: str
    qty: int = 1


def _count(app, table):
    return app.connect().execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


def test_create_replay_returns_the_original_result_once(app):
    orders = app.collection("orders", Order)
    first = orders.create({"sku": "A", "qty": 2}, idempotency_key="req-1")
    orders.patch(first._id, {"qty": 5})                     # later change
    again = orders.create({"sku": "A", "qty": 2}, idempotency_key="req-1")
    assert again._id == first._id and again.qty == 2 and again._version == 1
    assert again._created_at == first._created_at
    assert len(orders) == 1
    assert [r.operation for r in orders.audits(first._id)] == ["create", "patch"]


def test_same_key_different_payload_is_an_error(app):
    orders = app.collection("orders", Order)
    orders.create({"sku": "A"}, idempotency_key="k")
    with pytest.raises(IdempotencyError) as e:
        orders.create({"sku": "B"}, idempotency_key="k")
    assert e.value.sqlstate == "23000"
    assert len(orders) == 1


def test_scope_is_collection_operation_and_key(app):
    orders = app.collection("orders", Order)
    returns = app.collection("returns", Order)
    a = orders.create({"sku": "A"}, idempotency_key="k")
    b = returns.create({"sku": "A"}, idempotency_key="k")
    assert a._id != b._id
    p = orders.patch(a._id, {"qty": 3}, idempotency_key="k")         # other operation
    assert p._version == 2
    assert orders.patch(a._id, {"qty": 3}, idempotency_key="k")._version == 2   # replay
    assert orders.get(a._id)._version == 2
    d = orders.delete(a._id, idempotency_key="del")
    assert orders.delete(a._id, idempotency_key="del") == d            # replay, no 404
    assert _count(app, "_persist_idempotency") == 4


def test_apply_replay_does_not_run_the_command_again(app):
    orders = app.collection("orders", Order)
    o = orders.create({"sku": "A"})
    calls = []

    def bump(e, n):
        calls.append(n)
        return e.model_copy(update={"qty": e.qty + n})
    assert orders.apply(o._id, bump, 2, idempotency_key="x").qty == 3
    assert orders.apply(o._id, bump, 2, idempotency_key="x").qty == 3
    assert calls == [2] and orders.get(o._id)._version == 2
    with pytest.raises(IdempotencyError):
        orders.apply(o._id, bump, 7, idempotency_key="x")


def test_key_expires_after_ttl():
    app = PersistApp.open(idempotency_ttl_s=0)
    orders = app.collection("orders", Order)
    a = orders.create({"sku": "A"}, idempotency_key="k")
    b = orders.create({"sku": "B"}, idempotency_key="k")            # expired: a new request
    assert a._id != b._id and len(orders) == 2
    assert _count(app, "_persist_idempotency") == 1


def test_failed_mutation_stores_no_key_and_no_audit(app):
    orders = app.collection("orders", Order, unique=["sku"])
    orders.create({"sku": "A"})
    with pytest.raises(ConflictError):
        orders.create({"sku": "A"}, idempotency_key="k")
    assert _count(app, "_persist_idempotency") == 0
    assert _count(app, "_persist_audit") == 1
    assert orders.create({"sku": "B"}, idempotency_key="k").sku == "B"   # key still free


def test_audit_records_operation_actor_versions_and_changed_fields():
    app = PersistApp.open(actor="system")
    orders = app.collection("orders", Order)
    o = orders.create({"sku": "A"})
    with app.acting_as("alice"):
        orders.patch(o._id, {"qty": 4})
    orders.apply(o._id, lambda e: e.model_copy(update={"sku": "Z"}))
    orders.delete(o._id)
    trail = orders.audits(o._id)
    assert [(r.operation, r.actor, r.version_before, r.version_after, r.changed)
            for r in trail] == [
        ("create", "system", None, 1, ["qty", "sku"]),
        ("patch", "alice", 1, 2, ["qty"]),
        ("apply:<lambda>", "system", 2, 3, ["sku"]),
        ("delete", "system", 3, None, []),
    ]
    assert all(r.collection == "orders" and r.entity_id == o._id for r in trail)
    assert trail[0].at <= trail[-1].at


def test_concurrent_requests_with_one_key_create_one_entity(app):
    import threading
    orders = app.collection("orders", Order)
    results, failures = [], []
    start = threading.Barrier(4)

    def request():
        try:
            start.wait()
            results.append(orders.create({"sku": "A", "qty": 3}, idempotency_key="same"))
        except BaseException as exc:     # noqa: BLE001 - reported below
            failures.append(exc)
    threads = [threading.Thread(target=request) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Losers of the race either replay (after the write-write retry) or, if every
    # attempt lost, get a write-write ConflictError; never a second entity.
    assert all(isinstance(f, ConflictError) and f.kind == "write_write" for f in failures)
    assert results and len({r._id for r in results}) == 1
    assert len(orders) == 1 and _count(app, "_persist_idempotency") == 1


def test_purge_expired_keys():
    app = PersistApp.open(idempotency_ttl_s=0)
    orders = app.collection("orders", Order)
    orders.create({"sku": "A"}, idempotency_key="a")
    orders.create({"sku": "B"}, idempotency_key="b")
    assert app.purge_expired_keys() == 2
    assert _count(app, "_persist_idempotency") == 0 and len(orders) == 2
    live = PersistApp.open()
    live.collection("orders", Order).create({"sku": "A"}, idempotency_key="a")
    assert live.purge_expired_keys() == 0 and _count(live, "_persist_idempotency") == 1
