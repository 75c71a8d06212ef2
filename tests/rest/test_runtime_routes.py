"""POST /api/_commands: entity-runtime envelopes over HTTP (create_app(runtime=...))."""
import sys
import uuid
from pathlib import Path

from fastapi.testclient import TestClient

from rustmemodb.persist import PersistApp
from rustmemodb.persist.rest import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "persist"))
from runtime_bank import InsufficientFunds, build  # noqa: E402


def test_envelopes_over_http():
    app = PersistApp.open()
    rt = build(app)
    api = create_app(app, runtime=rt, errors={InsufficientFunds: (409, "insufficient_funds")})
    with TestClient(api) as c:
        r = c.post("/api/_commands", json={"entity_type": "account", "command": "open",
                                          "payload": {"owner": "ann", "initial": 5}},
                   headers={"Idempotency-Key": "open-ann"})
        assert r.status_code == 201 and r.headers["etag"] == '"1"'
        aid = r.json()["id"]
        assert r.headers["location"] == f"/api/accounts/{aid}"
        assert r.json()["entity"]["balance"] == 5
        again = c.post("/api/_commands", json={"entity_type": "account", "command": "open",
                                              "payload": {"owner": "ann", "initial": 5}},
                       headers={"Idempotency-Key": "open-ann"})
        assert again.json()["id"] == aid and app["accounts"].count() == 1

        # The old name and payload shape, with If-Match as the expected version.
        r = c.post("/api/_commands", headers={"If-Match": '"1"'}, json={
            "entity_type": "account", "id": aid, "command": "change_owner",
            "payload": {"name": "bob"}, "payload_version": 1})
        assert r.status_code == 200 and r.json()["entity"]["owner"] == "bob"
        assert r.json()["version"] == 2 and r.headers["etag"] == '"2"'
        stale = c.post("/api/_commands", headers={"If-Match": '"1"'}, json={
            "entity_type": "account", "id": aid, "command": "deposit", "payload": {"amount": 1}})
        assert stale.status_code == 412
        poor = c.post("/api/_commands", json={"entity_type": "account", "id": aid,
                                             "command": "withdraw", "payload": {"amount": 99}})
        assert poor.status_code == 409 and poor.json()["code"] == "insufficient_funds"
        unknown = c.post("/api/_commands", json={"entity_type": "account", "id": aid,
                                                "command": "teleport"})
        assert unknown.status_code == 422 and unknown.json()["sqlstate"] == "42883"
        bad = c.post("/api/_commands", json={"entity_type": "account", "command": "open",
                                            "extra": 1})
        assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/extra"
        missing = c.post("/api/_commands", json={"entity_type": "account", "id": str(uuid.uuid4()),
                                                "command": "deposit", "payload": {"amount": 1}})
        assert missing.status_code == 404
        doc = c.get("/api/_openapi.json").json()
        assert "/api/_commands" in doc["paths"]
    assert [r.command for r in rt.journal.read()] == ["open", "rename_owner"]
    assert [o.topic for o in rt.outbox.pending()] == ["account.opened"]
    app.close()
