"""Idempotency-Key replays, the bearer token, and the OpenAPI document."""
import uuid

from fastapi.testclient import TestClient

from rustmemodb.persist.rest import create_app


def test_create_replay_returns_original_without_second_insert(client, papp):
    h = {"Idempotency-Key": "k-1"}
    body = {"name": "Ann", "email": "a@x"}
    first = client.post("/api/users", json=body, headers=h)
    again = client.post("/api/users", json=body, headers=h)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.headers["location"] == again.headers["location"]
    assert first.headers["etag"] == again.headers["etag"]
    assert papp["users"].count() == 1
    assert len(papp["users"].audits(first.json()["_id"])) == 1


def test_same_key_different_payload_is_422(client, papp):
    h = {"Idempotency-Key": "k-2"}
    client.post("/api/users", json={"name": "Ann", "email": "a@x"}, headers=h)
    r = client.post("/api/users", json={"name": "Bob", "email": "b@x"}, headers=h)
    assert r.status_code == 422 and r.json()["sqlstate"] == "23000"
    assert r.headers["content-type"] == "application/problem+json"
    assert papp["users"].count() == 1


def test_patch_put_delete_replays(client, papp):
    loc = client.post("/api/users", json={"name": "Ann", "email": "a@x", "age": 1}).headers[
        "location"]
    h = {"Idempotency-Key": "p-1"}
    first = client.patch(loc, json={"age": 2}, headers=h)
    again = client.patch(loc, json={"age": 2}, headers=h)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again.json()["_version"] == 2
    assert client.get(loc).json()["_version"] == 2
    h = {"Idempotency-Key": "u-1"}
    put = {"name": "Ann", "email": "a@x", "age": 7}
    assert client.put(loc, json=put, headers=h).json()["_version"] == 3
    assert client.put(loc, json=put, headers=h).json()["_version"] == 3
    h = {"Idempotency-Key": "d-1"}
    assert client.delete(loc, headers=h).status_code == 204
    assert client.delete(loc, headers=h).status_code == 204     # replay, not 404
    assert papp["users"].count() == 0
    ops = [a.operation for a in papp["users"].audits(loc.rsplit("/", 1)[1])]
    assert ops == ["create", "patch", "patch", "delete"]


def test_bearer_token(papp):
    with TestClient(create_app(papp, token="s3cret")) as c:
        r = c.get("/api/users")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert r.headers["content-type"] == "application/problem+json"
        assert c.get("/api/users", headers={"Authorization": "Bearer nope"}).status_code == 401
        ok = c.get("/api/users", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["total"] == 0
        doc = c.get("/api/_openapi.json").json()
        assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_openapi_document_has_the_real_schemas(client):
    r = client.get("/api/_openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    schemas = doc["components"]["schemas"]
    assert schemas["users"]["required"] == ["name", "email"]
    assert set(schemas["users"]["properties"]) == {"name", "email", "age", "prefs"}
    assert schemas["notes"]["properties"]["text"] == {"type": "string"}
    assert "required" not in schemas["users_patch"]
    paths = doc["paths"]
    assert set(paths) >= {"/api/users", "/api/users/{id}", "/api/users/{id}/_audits",
                          "/api/users/_bulk", "/api/notes"}
    create = paths["/api/users"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/users"}
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/users_entity"}
    assert {p["name"] for p in create["parameters"]} >= {"Idempotency-Key"}
    listing = paths["/api/users"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"sort", "page", "size", "age"}
    assert set(paths["/api/users/{id}"]) == {"get", "patch", "put", "delete"}
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/api/_openapi.json" in docs.text


def test_collections_each_get_routes(client):
    r = client.post("/api/notes", json={"text": "hi", "stars": 3})
    assert r.status_code == 201
    nid = r.json()["_id"]
    assert client.get("/api/notes", params={"stars": 3}).json()["total"] == 1
    assert client.patch(f"/api/notes/{nid}", json={"stars": None}).json()["stars"] is None
    assert client.get(f"/api/users/{nid}").status_code == 404
    assert uuid.UUID(nid)


def test_bulk_replay_with_idempotency_key(client, papp):
    ops = [{"op": "create", "data": {"name": "A", "email": "a@x"}},
           {"op": "create", "data": {"name": "B", "email": "b@x"}}]
    h = {"Idempotency-Key": "bulk-1"}
    first = client.post("/api/users/_bulk", json=ops, headers=h)
    again = client.post("/api/users/_bulk", json=ops, headers=h)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and papp["users"].count() == 2
    r = client.post("/api/users/_bulk", json=ops[:1], headers=h)
    assert r.status_code == 422 and r.json()["sqlstate"] == "23000"
    assert papp["users"].count() == 2


def test_same_key_while_first_request_runs_is_409(client, papp, monkeypatch):
    import threading
    users = papp["users"]
    entered, release = threading.Event(), threading.Event()
    original = users.create

    def slow_create(*args, **kwargs):
        entered.set()
        assert release.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(users, "create", slow_create)
    h = {"Idempotency-Key": "slow-1"}
    body = {"name": "Ann", "email": "a@x"}
    results = {}
    t = threading.Thread(target=lambda: results.setdefault(
        "first", client.post("/api/users", json=body, headers=h)))
    t.start()
    assert entered.wait(30)
    r = client.post("/api/users", json=body, headers=h)
    assert r.status_code == 409 and r.json()["sqlstate"] == "55006"
    release.set()
    t.join(30)
    assert results["first"].status_code == 201
    replay = client.post("/api/users", json=body, headers=h)
    assert replay.status_code == 201 and replay.json() == results["first"].json()
    assert users.count() == 1
