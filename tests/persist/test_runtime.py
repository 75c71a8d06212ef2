"""The entity runtime: envelopes through a deterministic registry (aliases, upcasters),
journal, outbox and projections in the command's transaction, and rebuilds."""
import random
import uuid

import pytest

from rustmemodb.persist import ConflictError, IdempotencyError, PersistApp
from rustmemodb.persist.runtime import CommandEnvelope, CommandRegistry, UnknownCommand

from runtime_bank import InsufficientFunds, build


@pytest.fixture
def bank():
    app = PersistApp.open()
    yield app, build(app)
    app.close()


def env(command, id=None, **payload):
    return CommandEnvelope("account", id, command, payload)


def workload(rt, rng, ids, n):
    owners = ["ann", "bob", "cy", "dee"]
    for _ in range(n):
        roll = rng.random()
        if not ids or roll < 0.15:
            ids.append(rt.dispatch(env("open", owner=rng.choice(owners),
                                       initial=rng.randint(0, 50))).id)
        elif roll < 0.55:
            rt.dispatch(env("deposit", rng.choice(ids), amount=rng.randint(1, 20)))
        elif roll < 0.75:
            try:
                rt.dispatch(env("withdraw", rng.choice(ids), amount=rng.randint(1, 40)))
            except InsufficientFunds:
                pass
        elif roll < 0.85:             # an old client: the former name and payload shape
            rt.dispatch(CommandEnvelope("account", rng.choice(ids), "change_owner",
                                        {"name": rng.choice(owners)}, payload_version=1))
        elif roll < 0.93:
            rt.dispatch(env("rename_owner", rng.choice(ids), owner=rng.choice(owners)))
        else:
            rt.dispatch(env("close", ids.pop(rng.randrange(len(ids)))))


def state(app, rt):
    return ({name: p.rows(app) for name, p in rt.projections.items()},
            sorted((str(e._id), e.owner, e.balance, e._version)
                   for e in app["accounts"].query(size=10_000)))


def test_journal_replay_rebuilds_projections_identical_to_live(bank):
    app, rt = bank
    rng, ids = random.Random(7), []
    workload(rt, rng, ids, 120)
    snap = app.snapshot()
    workload(rt, rng, ids, 120)
    live = state(app, rt)
    assert live[0]["account_list"] and live[0]["by_owner"]
    # From the snapshot plus the journal after it, and from nothing plus all of it.
    for start in (snap, None):
        scratch = rt.rebuild(start)
        try:
            assert state(scratch, rt) == live
        finally:
            scratch.close()
    # The live projections agree with the entities themselves.
    accounts = app["accounts"].query(size=10_000).items
    totals = {}
    for a in accounts:
        t, n = totals.get(a.owner, (0, 0))
        totals[a.owner] = (t + a.balance, n + 1)
    assert {r[0]: (r[1], r[2]) for r in live[0]["by_owner"]} == totals


def test_rebuild_projections_repairs_the_live_tables(bank):
    app, rt = bank
    workload(rt, random.Random(3), [], 60)
    before = state(app, rt)
    with app.connect() as conn:
        conn.execute('DELETE FROM "by_owner"')
        conn.execute('UPDATE "account_list" SET "balance" = -1')
    assert state(app, rt) != before
    counts = rt.rebuild_projections()
    assert state(app, rt) == before and counts["account_list"] == len(before[1])


def test_alias_and_upcaster_are_journaled_in_canonical_form(bank):
    app, rt = bank
    aid = rt.dispatch(env("open", owner="ann")).id
    rt.dispatch(CommandEnvelope("account", aid, "change_owner", {"name": "bob"},
                                payload_version=1))
    assert app["accounts"].get(aid).owner == "bob"
    rec = rt.journal.read()[-1]
    assert (rec.command, rec.sent_command, rec.payload, rec.payload_version) == \
        ("rename_owner", "change_owner", {"owner": "bob"}, 2)
    assert [a.operation for a in app["accounts"].audits(aid)] == ["create",
                                                                 "command:rename_owner"]


def test_a_failed_command_writes_nothing(bank):
    app, rt = bank
    aid = rt.dispatch(env("open", owner="ann", initial=5)).id
    snapshot = (len(rt.journal), len(rt.outbox.all()), state(app, rt))
    with pytest.raises(InsufficientFunds):
        rt.dispatch(env("withdraw", aid, amount=6))
    with pytest.raises(ConflictError) as info:
        rt.dispatch(CommandEnvelope("account", aid, "deposit", {"amount": 1},
                                    expected_version=7))
    assert info.value.kind == "version"
    with pytest.raises(ConflictError):
        rt.dispatch(env("open", aid, owner="x"))          # creates an existing id
    assert (len(rt.journal), len(rt.outbox.all()), state(app, rt)) == snapshot


def test_envelope_idempotency_key(bank):
    app, rt = bank
    aid = rt.dispatch(env("open", owner="ann")).id
    e = CommandEnvelope("account", aid, "deposit", {"amount": 5}, idempotency_key="k1")
    first, again = rt.dispatch(e), rt.dispatch(e.to_json())
    assert first.journal_seq == again.journal_seq and first.version == again.version == 2
    assert app["accounts"].get(aid).balance == 5 and len(rt.journal) == 2
    with pytest.raises(IdempotencyError):
        rt.dispatch(e.with_(payload={"amount": 6}))


def test_registry_is_strict():
    reg = CommandRegistry()
    reg.register("t", "a", lambda *a: None)
    with pytest.raises(ValueError):
        reg.register("t", "a", lambda *a: None)
    reg.alias("t", "b", "a")
    with pytest.raises(ValueError):
        reg.alias("t", "a", "b")                          # a is a handler
    reg.alias("t", "c", "b")
    assert reg.canonical("t", "c") == "a"
    with pytest.raises(UnknownCommand):
        reg.resolve(CommandEnvelope("t", None, "zzz"))
    reg.register("t", "v3", lambda *a: None, version=3)
    reg.upcaster("t", "v3", 1)(lambda p: {**p, "one": True})
    with pytest.raises(Exception, match="no upcaster from payload version 2"):
        reg.resolve(CommandEnvelope("t", None, "v3", {}, payload_version=1))
    reg.upcaster("t", "v3", 2)(lambda p: {**p, "two": True})
    _, e = reg.resolve(CommandEnvelope("t", None, "v3", {}, payload_version=1))
    assert e.payload == {"one": True, "two": True} and e.payload_version == 3


def test_outbox_written_with_the_change_and_retried(bank):
    app, rt = bank
    aid = rt.dispatch(env("open", owner="ann")).id
    rt.dispatch(env("deposit", aid, amount=3))
    pending = rt.outbox.pending()
    assert [r.topic for r in pending] == ["account.opened", "account.deposited"]
    assert pending[1].payload == {"amount": 3} and pending[1].entity_id == aid
    assert pending[1].journal_seq == rt.journal.read()[-1].seq
    seen, fails = [], {"n": 0}

    def flaky(record):
        if record.topic == "account.deposited" and fails["n"] < 2:
            fails["n"] += 1
            raise ConnectionError("broker down")
        seen.append(record.id)

    rt.outbox.base_backoff_s = 0.0
    first = rt.outbox.deliver(flaky)
    assert len(first.delivered) == 1 and len(first.failed) == 1
    assert rt.outbox.pending()[0].attempts == 1
    assert "broker down" in rt.outbox.pending()[0].last_error
    rt.outbox.deliver(flaky)
    rt.outbox.deliver(flaky)
    assert rt.outbox.pending() == [] and seen == [r.id for r in pending]
    assert rt.outbox.mark_dispatched([pending[0].id]) == 0      # already dispatched


def test_outbox_dispatcher_thread_and_mark_dispatched(bank):
    import threading
    app, rt = bank
    got, done = [], threading.Event()

    def handler(record):
        got.append(record.topic)
        if len(got) == 3:
            done.set()

    ids = [rt.dispatch(env("open", owner=o)).id for o in ("a", "b")]
    d = rt.outbox.start(handler, interval=0.01)
    try:
        rt.dispatch(env("deposit", ids[0], amount=1))
        assert done.wait(30)
    finally:
        d.stop()
    assert sorted(got) == ["account.deposited", "account.opened", "account.opened"]
    rt.dispatch(env("close", ids[1]))
    [rec] = rt.outbox.pending()
    assert rt.outbox.mark_dispatched([str(rec.id)]) == 1 and rt.outbox.pending() == []


def test_journal_is_durable_and_replays_after_reopen(tmp_path):
    app = PersistApp.open(str(tmp_path / "db"))
    rt = build(app)
    workload(rt, random.Random(11), [], 50)
    live = state(app, rt)
    n = len(rt.journal)
    app.close()
    app = PersistApp.open(str(tmp_path / "db"))
    try:
        rt = build(app)
        assert len(rt.journal) == n and state(app, rt) == live
        scratch = rt.rebuild()
        assert state(scratch, rt) == live
        scratch.close()
    finally:
        app.close()


def test_unknown_entity_type_and_missing_entity(bank):
    app, rt = bank
    with pytest.raises(UnknownCommand):
        rt.dispatch(CommandEnvelope("nope", None, "open"))
    with pytest.raises(Exception, match="has no entity"):
        rt.dispatch(env("deposit", uuid.uuid4(), amount=1))


def test_concurrent_commands_lose_nothing(bank):
    import threading
    app, rt = bank
    aid = rt.dispatch(env("open", owner="ann")).id
    errors, versions = [], []

    def deposit_many():
        for _ in range(15):
            try:
                versions.append(rt.dispatch(env("deposit", aid, amount=1)).version)
            except Exception as exc:      # noqa: BLE001 - checked below
                errors.append(exc)

    threads = [threading.Thread(target=deposit_many) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    # Each dispatch either committed (and retried through write-write conflicts) or
    # raised after the retry policy's attempts; what committed is consistent.
    done = len(versions)
    assert done + len(errors) == 8 * 15 and sorted(versions) == list(range(2, done + 2))
    assert all(getattr(e, "kind", None) == "write_write" for e in errors)
    acct = app["accounts"].get(aid)
    assert acct.balance == done and acct._version == done + 1
    deposits = [r for r in rt.journal.read() if r.command == "deposit"]
    assert len(deposits) == done
    # In journal order the versions climb one by one: on one entity, seq order is
    # commit order (a loser of the write race re-runs with a later seq).
    assert [r.version_after for r in deposits] == list(range(2, done + 2))
    assert len([r for r in rt.outbox.all() if r.topic == "account.deposited"]) == done
    assert rt.projections["by_owner"].rows(app) == [("ann", done, 1)]
    scratch = rt.rebuild()
    try:
        assert state(scratch, rt) == state(app, rt)
    finally:
        scratch.close()


def test_a_create_replayed_with_its_key_returns_the_first_entity(bank):
    app, rt = bank
    e = CommandEnvelope("account", None, "open", {"owner": "ann"}, idempotency_key="open-1")
    first, again = rt.dispatch(e), rt.dispatch(e)
    assert first.id == again.id and app["accounts"].count() == 1
    other = rt.dispatch(e.with_(idempotency_key="open-2"))
    assert other.id != first.id and app["accounts"].count() == 2


def test_model_commands_as_runtime_handlers_and_deterministic_ids():
    import pydantic

    from rustmemodb.persist import command
    from rustmemodb.persist.runtime import EntityRuntime, Projection

    class Wallet(pydantic.BaseModel):
        owner: str
        balance: int = 0
        receipts: list[str] = []

        @command
        def deposit(self, amount: int) -> "Wallet":
            self.balance += amount
            return self

        @command
        def rename(self, owner: str) -> None:
            self.owner = owner

    app = PersistApp.open()
    try:
        rt = EntityRuntime(app)
        wallets = app.collection("wallets", Wallet)
        assert rt.register_model_commands("wallet", wallets) == ["deposit", "rename"]

        @rt.command("wallet", "open", creates=True)
        def open_(_, p, ctx):
            return {"owner": p["owner"]}

        @rt.command("wallet", "pay")
        def pay(w, p, ctx):
            receipt = str(ctx.deterministic_uuid("receipt"))
            ctx.emit("wallet.paid", {"receipt": receipt})
            w.receipts = [*w.receipts, receipt]

        rt.projection(Projection("receipts", '"id" TEXT PRIMARY KEY, "wallet" UUID',
                                 lambda w, e: [w.upsert({"id": r}, {"wallet": e.entity_id})
                                               for r in (e.after or {}).get("receipts", [])]))
        wid = rt.dispatch(CommandEnvelope("wallet", None, "open", {"owner": "a"})).id
        rt.dispatch(CommandEnvelope("wallet", wid, "deposit", {"amount": 5}))
        rt.dispatch(CommandEnvelope("wallet", wid, "rename", {"owner": "b"}))
        rt.dispatch(CommandEnvelope("wallet", wid, "pay", {}))
        rt.dispatch(CommandEnvelope("wallet", wid, "pay", {}))
        w = wallets.get(wid)
        assert (w.owner, w.balance, len(set(w.receipts))) == ("b", 5, 2)
        with pytest.raises(Exception, match="payload"):
            rt.dispatch(CommandEnvelope("wallet", wid, "deposit", {"amount": "x"}))
        with pytest.raises(Exception, match="payload"):
            rt.dispatch(CommandEnvelope("wallet", wid, "deposit", {"amount": 1, "y": 2}))
        # Replayed, the derived receipt ids come out the same.
        scratch = rt.rebuild()
        try:
            assert scratch["wallets"].get(wid).receipts == w.receipts
            assert rt.projections["receipts"].rows(scratch) == rt.projections["receipts"].rows(app)
        finally:
            scratch.close()
    finally:
        app.close()
