"""Optimistic versions, write-write conflicts, unique conflicts, retries, transactions."""
import threading

import pydantic
import pytest

from rustmemodb.errors import IntegrityError, SerializationFailure
from rustmemodb.persist import ConflictError, PersistApp


class Account(pydantic.BaseModel):
    owner: str
    balance: int = 0


class Item(pydantic.BaseModel):
    sku: str
    qty: int = 0


def test_stale_expected_version_changes_nothing(app):
    accounts = app.collection("accounts", Account)
    a = accounts.create({"owner": "ann"})
    accounts.patch(a._id, {"balance": 5}, expected_version=1)
    for op in (lambda: accounts.patch(a._id, {"balance": 9}, expected_version=1),
               lambda: accounts.apply(a._id, lambda e: e, expected_version=1),
               lambda: accounts.delete(a._id, expected_version=1)):
        with pytest.raises(ConflictError) as e:
            op()
        assert e.value.kind == "version" and e.value.sqlstate == "40001"
        assert e.value.expected_version == 1 and e.value.actual_version == 2
        assert isinstance(e.value, SerializationFailure)
    now = accounts.get(a._id)
    assert (now.balance, now._version) == (5, 2)
    assert [r.version_after for r in accounts.audits(a._id)] == [1, 2]


def test_unique_violation_is_a_conflict_of_kind_unique(app):
    accounts = app.collection("accounts", Account, unique=["owner"])
    a = accounts.create({"owner": "ann"})
    b = accounts.create({"owner": "bob"})
    with pytest.raises(ConflictError) as e:
        accounts.create({"owner": "ann"})
    assert e.value.kind == "unique" and e.value.sqlstate == "23505"
    assert isinstance(e.value, IntegrityError)
    with pytest.raises(ConflictError) as e:
        accounts.patch(b._id, {"owner": "ann"})
    assert e.value.kind == "unique"
    assert accounts.get(b._id)._version == 1 and len(accounts) == 2
    assert accounts.get(a._id).owner == "ann"


def test_write_write_conflict_in_a_transaction_surfaces_at_commit(app):
    accounts = app.collection("accounts", Account)
    a = accounts.create({"owner": "ann"})
    with pytest.raises(ConflictError) as e:
        with app.transaction():
            accounts.patch(a._id, {"balance": 1})
            t = threading.Thread(target=accounts.patch, args=(a._id, {"balance": 2}))
            t.start()
            t.join()
    assert e.value.kind == "write_write" and e.value.sqlstate == "40001"
    now = accounts.get(a._id)
    assert (now.balance, now._version) == (2, 2)


def _interfering_command(accounts, entity_id, calls):
    """A command that, the first time only, lets another thread update the same entity."""
    def command(entity):
        calls.append(1)
        if len(calls) == 1:
            t = threading.Thread(target=accounts.patch, args=(entity_id, {"owner": "zed"}))
            t.start()
            t.join()
        return entity.model_copy(update={"balance": entity.balance + 10})
    return command


def test_lone_operation_is_retried_after_a_write_write_conflict(app):
    accounts = app.collection("accounts", Account)
    a = accounts.create({"owner": "ann"})
    calls = []
    out = accounts.apply(a._id, _interfering_command(accounts, a._id, calls))
    assert len(calls) == 2                     # the first attempt lost, the retry won
    assert (out.owner, out.balance, out._version) == ("zed", 10, 3)


def test_retry_policy_is_set_on_the_app():
    app = PersistApp.open(max_attempts=1)
    assert (app.retry.max_attempts, app.retry.base_backoff_ms, app.retry.max_backoff_ms) \
        == (1, 5, 25)
    accounts = app.collection("accounts", Account)
    a = accounts.create({"owner": "ann"})
    calls = []
    with pytest.raises(ConflictError) as e:
        accounts.apply(a._id, _interfering_command(accounts, a._id, calls))
    assert e.value.kind == "write_write" and len(calls) == 1
    assert accounts.get(a._id).balance == 0
    with pytest.raises(ValueError):
        PersistApp.open(max_attempts=0)
    assert all(0 < PersistApp.open().retry.backoff(k) <= 0.025 for k in range(6))


def test_version_conflicts_are_not_retried(app):
    accounts = app.collection("accounts", Account)
    a = accounts.create({"owner": "ann"})
    accounts.patch(a._id, {"balance": 1})
    calls = []

    def command(e):
        calls.append(1)
        return e
    with pytest.raises(ConflictError):
        accounts.apply(a._id, command, expected_version=1)
    assert calls == []


def test_eight_threads_patching_with_expected_version_lose_no_update(app):
    accounts = app.collection("accounts", Account)
    a = accounts.create({"owner": "ann"})
    n_threads, per_thread = 8, 15
    seen = [[] for _ in range(n_threads)]
    failures = []

    def worker(k):
        try:
            for _ in range(per_thread):
                while True:
                    cur = accounts.get(a._id)
                    try:
                        out = accounts.patch(a._id, {"balance": cur.balance + 1},
                                             expected_version=cur._version)
                    except ConflictError as exc:
                        assert exc.kind in ("version", "write_write")
                        continue
                    seen[k].append(out._version)
                    break
        except BaseException as exc:   # reported below: a thread must not fail silently
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    total = n_threads * per_thread
    final = accounts.get(a._id)
    assert final.balance == total and final._version == total + 1
    for versions in seen:                                  # increasing within a thread
        assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert sorted(v for s in seen for v in s) == list(range(2, total + 2))   # none shared
    trail = accounts.audits(a._id)
    assert [(r.version_before, r.version_after) for r in trail[1:]] == \
        [(v - 1, v) for v in range(2, total + 2)]


def test_transaction_is_atomic_across_collections(app):
    accounts = app.collection("accounts", Account)
    items = app.collection("items", Item)
    with pytest.raises(RuntimeError):
        with app.transaction():
            accounts.create({"owner": "ann"})
            items.create({"sku": "A"})
            raise RuntimeError("abort")
    assert len(accounts) == 0 and len(items) == 0
    audits = app.connect().execute('SELECT count(*) FROM "_persist_audit"').fetchone()
    assert audits == (0,)
    with app.transaction():
        a = accounts.create({"owner": "ann"})
        with app.transaction():                            # nested joins the outer one
            items.create({"sku": "A", "qty": 1})
        accounts.patch(a._id, {"balance": 3})
        other = []
        t = threading.Thread(target=lambda: other.append(len(items)))
        t.start()
        t.join()
        assert other == [0]                                # not visible before commit
    assert len(items) == 1 and accounts.get(a._id)._version == 2


def test_app_transactions_are_snapshot_transactions(app):
    app.collection("accounts", Account).create({"owner": "ann"})
    conn = app._conn()
    assert conn.execute("SHOW transaction_isolation").fetchone() == ("repeatable read",)
    conn.commit()


def test_atomic_reruns_a_multi_collection_function_after_write_write(app):
    accounts = app.collection("accounts", Account)
    items = app.collection("items", Item)
    a = accounts.create({"owner": "ann", "balance": 10})
    runs = []

    def buy(sku, price):
        runs.append(1)
        acct = accounts.get(a._id)
        if len(runs) == 1:            # someone else spends meanwhile, once
            t = threading.Thread(target=accounts.patch, args=(a._id, {"balance": 7}))
            t.start()
            t.join()
        accounts.patch(a._id, {"balance": acct.balance - price})
        return items.create({"sku": sku, "qty": 1})

    item = app.atomic(buy, "A", price=2)
    assert len(runs) == 2 and item.sku == "A"
    assert accounts.get(a._id).balance == 5            # 7 - 2: the re-run read 7
    assert len(items) == 1                              # the first run's create undone

    def always_stale():
        raise ConflictError("stale", kind="version")
    runs.clear()
    with pytest.raises(ConflictError):
        app.atomic(lambda: (runs.append(1), always_stale()))
    assert runs == [1]                                  # version conflicts: not re-run
