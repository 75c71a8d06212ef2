"""Snapshots (O(1) fork, Parquet + manifest) and the three restore policies."""
import json

import pydantic
import pytest

from rustmemodb.persist import ConflictError, PersistApp, Snapshot, ValidationError


class Note(pydantic.BaseModel):
    title: str
    body: dict = {}


@pytest.fixture
def notes(app):
    return app.collection("notes", Note, unique=["title"])


def test_snapshot_is_a_fork_unaffected_by_later_commits(app, notes):
    a = notes.create({"title": "a", "body": {"k": 1}})
    snap = app.snapshot()
    assert snap.database.root is not None
    assert snap.database.root.tables["notes"] is app.database.root.tables["notes"]  # shared
    notes.patch(a._id, {"title": "changed"})
    notes.create({"title": "b"})
    rows = snap.rows("notes")
    assert [(r["title"], r["_version"]) for r in rows] == [("a", 1)]
    assert snap.connect().execute("SELECT count(*) FROM notes").fetchone() == (1,)


def _setup(app, notes):
    a = notes.create({"title": "a", "body": {"k": 1}})
    b = notes.create({"title": "b"})
    snap = app.snapshot()
    notes.patch(a._id, {"body": {"k": 2}})
    notes.delete(b._id)
    c = notes.create({"title": "c"})
    return a, b, c, snap


def test_fail_fast_aborts_without_changes(app, notes):
    a, b, c, snap = _setup(app, notes)
    with pytest.raises(ConflictError) as e:
        app.restore(snap, policy="fail_fast")
    assert e.value.kind == "unique" and e.value.entity_id == a._id
    assert notes.get(b._id) is None and len(notes) == 2


def test_skip_existing_fills_in_deleted_entities(app, notes):
    a, b, c, snap = _setup(app, notes)
    assert app.restore(snap, policy="skip_existing") == \
        {"inserted": 1, "skipped": 1, "overwritten": 0}
    assert notes.get(a._id).body == {"k": 2}
    back = notes.get(b._id)
    assert back.title == "b" and back._version == 1 and back._created_at == b._created_at
    assert notes.get(c._id) is not None                     # newer entities are kept
    assert notes.audits(b._id)[-1].operation == "restore"


def test_overwrite_takes_snapshot_values_with_a_new_version(app, notes):
    a, b, c, snap = _setup(app, notes)
    assert app.restore(snap, "overwrite") == {"inserted": 1, "skipped": 0, "overwritten": 1}
    got = notes.get(a._id)
    assert got.body == {"k": 1} and got._version == 3
    trail = notes.audits(a._id)[-1]
    assert (trail.operation, trail.version_before, trail.version_after, trail.changed) == \
        ("restore", 2, 3, ["body", "title"])


def test_unknown_policy(app, notes):
    with pytest.raises(ValidationError):
        app.restore(app.snapshot(), policy="merge")


def test_snapshot_to_files_and_restore_into_a_new_app(app, notes, tmp_path):
    a = notes.create({"title": "a", "body": {"k": [1, 2]}})
    snap = app.snapshot(tmp_path / "snap")
    manifest = json.loads((tmp_path / "snap" / "manifest.json").read_text())
    assert manifest["collections"]["notes"]["rows"] == 1
    assert (tmp_path / "snap" / "notes.parquet").exists()
    assert snap.path == tmp_path / "snap"
    import pyarrow.parquet as pq
    assert pq.read_table(tmp_path / "snap" / "notes.parquet").num_rows == 1
    other = PersistApp.open()
    assert other.restore(tmp_path / "snap") == {"inserted": 1, "skipped": 0, "overwritten": 0}
    got = other.collection("notes", Note, unique=["title"]).get(a._id)
    assert got.body == {"k": [1, 2]} and got._version == 1
    with pytest.raises(ConflictError):                      # the unique index came along
        other["notes"].create({"title": "a"})
    loaded = Snapshot.load(tmp_path / "snap")
    assert loaded.rows("notes")[0]["_id"] == a._id
    with pytest.raises(ValidationError):
        app.snapshot(tmp_path / "snap")                     # not empty: no overwrite
    with pytest.raises(ValidationError):
        Snapshot.load(tmp_path)
