"""Durable apps: recovery on open, idempotent replay after SIGKILL, migrations."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pydantic
import pytest

from rustmemodb.persist import PersistApp, ValidationError


class Order(pydantic.BaseModel):
    sku: str
    qty: int = 1


class OrderV2(pydantic.BaseModel):          # an optional field added: ALTER TABLE only
    sku: str
    qty: int = 1
    note: str | None = None


class OrderV3(pydantic.BaseModel):          # a required field: needs a migration step
    sku: str
    qty: int = 1
    note: str | None = None
    code: str


def test_durable_app_recovers_its_collections(tmp_path):
    with PersistApp.open(tmp_path / "db") as app:
        orders = app.collection("orders", Order)
        o = orders.create({"sku": "A"}, idempotency_key="k")
        orders.patch(o._id, {"qty": 3})
    with PersistApp.open(tmp_path / "db") as app:
        orders = app.collection("orders", Order)
        got = orders.get(o._id)
        assert (got.qty, got._version) == (3, 2)
        assert orders.create({"sku": "A"}, idempotency_key="k")._id == o._id
        assert [r.operation for r in orders.audits(o._id)] == ["create", "patch"]


def test_idempotent_replay_after_sigkill_between_commit_and_reply(tmp_path):
    directory = tmp_path / "db"
    engine = Path(__file__).resolve().parents[2] / "engine"
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(engine)!r})
        import pydantic
        from rustmemodb.persist import PersistApp
        class Order(pydantic.BaseModel):
            sku: str
            qty: int = 1
        app = PersistApp.open({str(directory)!r})
        app.collection("orders", Order).create({{"sku": "A", "qty": 7}},
                                               idempotency_key="req-42")
        os.kill(os.getpid(), signal.SIGKILL)      # committed, never replied
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()
    with PersistApp.open(directory) as app:
        orders = app.collection("orders", Order)
        again = orders.create({"sku": "A", "qty": 7}, idempotency_key="req-42")
        assert again.qty == 7 and again._version == 1
        assert len(orders) == 1 and orders.find_first()._id == again._id


def test_optional_field_migrates_by_add_column(tmp_path):
    with PersistApp.open(tmp_path / "db") as app:
        app.collection("orders", Order).create({"sku": "A"})
    with PersistApp.open(tmp_path / "db") as app:
        orders = app.collection("orders", OrderV2)
        old = orders.find_first(sku="A")
        assert old.note is None and old._version == 1
        orders.create({"sku": "B", "note": "hi"})
        cols = [d[0] for d in app.connect().execute("SELECT * FROM orders").description]
        assert cols[-1] == "note"
        with pytest.raises(ValidationError):          # required, but no step given
            app.collection("orders", OrderV3)


def test_migration_steps_run_atomically_on_older_stored_version(tmp_path):
    with PersistApp.open(tmp_path / "db") as app:
        app.collection("orders", Order).create_many([{"sku": "a"}, {"sku": "b", "qty": 2}])
    steps = {2: lambda row: {**row, "code": row["sku"].upper()},
             3: lambda row: {**row, "qty": row["qty"] * 10}}

    class Boom(Exception):
        pass

    def bad_step(row):
        if row["sku"] == "b":
            raise Boom
        return {**row, "code": "x"}
    with PersistApp.open(tmp_path / "db") as app:
        # First a failing step: nothing changes, the stored version stays 1.
        app.collection("orders", Order)
        with pytest.raises(Boom):
            app.collection("orders", OrderV3, schema_version=2, migrations={2: bad_step})
        conn = app.connect()
        assert conn.execute('SELECT "schema_version" FROM "_persist_collections"'
                            ).fetchone() == (1,)
        assert conn.execute('SELECT DISTINCT "_schema_version" FROM orders').fetchall() == [(1,)]
    with PersistApp.open(tmp_path / "db") as app:
        orders = app.collection("orders", OrderV3, schema_version=3, migrations=steps)
        got = sorted((o.sku, o.code, o.qty, o._schema_version) for o in orders.query().items)
        assert got == [("a", "A", 10, 3), ("b", "B", 20, 3)]
    with PersistApp.open(tmp_path / "db") as app:   # already migrated: steps not re-run
        orders = app.collection("orders", OrderV3, schema_version=3, migrations=steps)
        assert sorted(o.qty for o in orders.query().items) == [10, 20]
        with pytest.raises(ValidationError):          # the stored data is newer
            app.collection("orders", OrderV3, schema_version=2)


def test_arrow_batch_migration_step_mixed_with_a_row_step(tmp_path):
    import pyarrow.compute as pc

    from rustmemodb.persist import batch_step
    with PersistApp.open(tmp_path / "db") as app:
        app.collection("orders", Order).create_many([{"sku": "a", "qty": 1},
                                                     {"sku": "b", "qty": 2}])

    def add_code(table):
        return table.append_column("code", pc.utf8_upper(table["sku"]))

    steps = {2: batch_step(add_code), 3: lambda row: {**row, "qty": row["qty"] + 100}}
    with PersistApp.open(tmp_path / "db") as app:
        orders = app.collection("orders", OrderV3, schema_version=3, migrations=steps)
        assert sorted((o.sku, o.code, o.qty) for o in orders.query().items) == \
            [("a", "A", 101), ("b", "B", 102)]
    with PersistApp.open(tmp_path / "db2") as app:
        app.collection("orders", Order).create({"sku": "a"})
    with PersistApp.open(tmp_path / "db2") as app:
        with pytest.raises(ValidationError):       # a step that drops rows is refused
            app.collection("orders", OrderV3, schema_version=2,
                           migrations={2: batch_step(lambda t: t.slice(0, 0))})


def test_checkpoint_policy_passes_through_to_the_database(tmp_path):
    with PersistApp.open(tmp_path / "db", durability="async", checkpoint_bytes=12345) as app:
        assert app.database.mode.value == "async"
        assert app.database.checkpoint_bytes == 12345   # the automatic checkpoint threshold
        notes = app.collection("notes", Order)
        notes.create_many([{"sku": "a"}, {"sku": "b"}])
    with PersistApp.open(tmp_path / "db", durability="async") as app:
        assert len(app.collection("notes", Order)) == 2


def test_directory_with_the_old_audit_layout_keeps_working(tmp_path):
    """Directories made when audit records had a UUID key ("audit_id") open as they
    are: old records stay readable and new ones fill the key too."""
    import rustmemodb
    db = rustmemodb.Database.open(tmp_path / "db", "sync")
    conn = db.connect()
    conn.execute('CREATE TABLE "_persist_audit" ("audit_id" UUID PRIMARY KEY, '
                 '"seq" BIGINT NOT NULL, "collection" TEXT NOT NULL, '
                 '"entity_id" UUID NOT NULL, "operation" TEXT NOT NULL, '
                 '"at" TIMESTAMP NOT NULL, "actor" TEXT, "version_before" BIGINT, '
                 '"version_after" BIGINT, "changed" JSON)')
    conn.execute('CREATE INDEX "_persist_audit_entity" ON "_persist_audit" ("entity_id")')
    db.close()
    with PersistApp.open(tmp_path / "db") as app:
        orders = app.collection("orders", Order)
        o = orders.create({"sku": "A"})
        orders.patch(o._id, {"qty": 2})
        assert [a.operation for a in orders.audits(o._id)] == ["create", "patch"]
        ids = app.connect().execute('SELECT "audit_id" FROM "_persist_audit"').fetchall()
        assert len({r[0] for r in ids}) == 2 and None not in {r[0] for r in ids}
    with PersistApp.open(tmp_path / "db") as app:
        orders = app.collection("orders", Order)
        assert [a.version_after for a in orders.audits(o._id)] == [1, 2]


def test_new_directories_audit_without_a_generated_key(tmp_path):
    with PersistApp.open(tmp_path / "db") as app:
        orders = app.collection("orders", Order)
        o = orders.create({"sku": "A"})
        cur = app.connect().execute('SELECT * FROM "_persist_audit"')
        assert cur.description[0][0] == "seq"
        assert [a.operation for a in orders.audits(o._id)] == ["create"]
