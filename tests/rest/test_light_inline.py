"""LightRoute (persist routes called without FastAPI's per-request dependency solving)
and inline engine calls (GET by id and POST create on the event loop itself).

The body rules must be FastAPI's own (no body, JSON and +json types, other types,
malformed JSON, bytes that are no text); a write on the loop makes one attempt and
leaves retries (which sleep) and fsync waits to a worker thread.
"""
import asyncio
import threading

import pydantic
import pytest
from fastapi.testclient import TestClient

from rustmemodb.persist import PersistApp
from rustmemodb.persist.errors import ConflictError
from rustmemodb.persist.rest import create_app
from rustmemodb.persist.rest import inline
from rustmemodb.persist.rest.light import LightRoute

SEEN: dict = {}


class Probe(pydantic.BaseModel):
    """Records whether it was validated on a thread running an event loop."""
    name: str

    @pydantic.field_validator("name")
    @classmethod
    def where(cls, value: str) -> str:
        try:
            asyncio.get_running_loop()
            SEEN.setdefault(value, set()).add("loop")
        except RuntimeError:
            SEEN.setdefault(value, set()).add("thread")
        return value


@pytest.fixture
def probe_app():
    app = PersistApp.open()
    app.collection("probes", Probe)
    yield app
    app.close()


def test_persist_routes_are_light_routes(client):
    routes = {r.name: r for r in client.app.router.routes if hasattr(r, "endpoint")}
    assert isinstance(routes["get"], LightRoute) and isinstance(routes["create"], LightRoute)


@pytest.mark.parametrize("content_type", ["application/json",
                                          "application/json; charset=utf-8",
                                          "Application/JSON", "application/merge-patch+json"])
def test_json_bodies_of_every_json_type(client, content_type):
    r = client.post("/api/users", content=b'{"name": "Ann", "email": "a@x"}',
                    headers={"content-type": content_type})
    assert r.status_code == 201 and r.json()["name"] == "Ann"


@pytest.mark.parametrize("headers,content", [
    ({"content-type": "text/plain"}, b'{"name": "Ann", "email": "a@x"}'),
    ({}, b'{"name": "Ann", "email": "a@x"}'),                 # no content type
    ({"content-type": "application"}, b'{"name": "Ann", "email": "a@x"}'),
    ({"content-type": "application/json"}, b""),               # no body
    ({"content-type": "application/json"}, b"null"),
    ({"content-type": "application/json"}, b"[1, 2]"),
])
def test_bodies_that_are_no_json_object_are_422(client, headers, content):
    r = client.post("/api/users", content=content, headers=headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"] == [{"pointer": "", "detail": "not an object"}]


def test_malformed_json_is_400(client):
    for raw in (b"{nope", b'{"name": "Ann",}', b"\xff\xfe\x00"):
        r = client.post("/api/users", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 400, (raw, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/api/users").json()["total"] == 0


def test_path_parameter_and_request_reach_the_endpoint(client):
    made = client.post("/api/users", json={"name": "Ann", "email": "a@x"}).json()
    r = client.get(f"/api/users/{made['_id']}", headers={"If-None-Match": '"1"'})
    assert r.status_code == 304 and r.headers["etag"] == '"1"'
    assert client.get("/api/users/not-a-uuid").status_code == 404


def test_bearer_token_checked_by_light_routes(papp):
    with TestClient(create_app(papp, token="s3cret")) as c:
        assert c.get("/api/users").status_code == 401
        assert c.post("/api/users", json={"name": "A", "email": "a@x"}).status_code == 401
        ok = c.post("/api/users", json={"name": "A", "email": "a@x"},
                    headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 201
        assert c.get(f"/api/users/{ok.json()['_id']}",
                     headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_get_and_unkeyed_create_run_on_the_loop_keyed_in_a_thread(probe_app):
    SEEN.clear()
    with TestClient(create_app(probe_app)) as c:
        made = c.post("/api/probes", json={"name": "inline"})
        assert made.status_code == 201
        assert c.get(f"/api/probes/{made.json()['_id']}").status_code == 200
        keyed = c.post("/api/probes", json={"name": "keyed"}, headers={"Idempotency-Key": "k"})
        assert keyed.status_code == 201
    assert SEEN["inline"] == {"loop"}          # validated, created and read on the loop
    # a keyed create is validated by the route on the loop (once: the collection stores
    # that entity), created in a worker thread
    assert SEEN["keyed"] == {"loop"}


def test_commits_wait_only_under_sync_durability(tmp_path):
    mem = PersistApp.open()
    assert not inline.commits_wait(mem.database)
    mem.close()
    for mode, waits in (("sync", True), ("async", False), ("none", False)):
        app = PersistApp.open(tmp_path / mode, durability=mode)
        try:
            assert inline.commits_wait(app.database) is waits
        finally:
            app.close()


def test_inline_write_conflict_is_retried_in_a_worker_thread():
    app = PersistApp.open()
    calls = []

    def fn(x):
        calls.append((threading.current_thread(), app._attempts()))
        if len(calls) == 1:
            raise ConflictError("write-write", kind="write_write")
        return x * 2

    async def main():
        return await inline.write(app, fn, 21), threading.current_thread()

    result, loop_thread = asyncio.run(main())
    assert result == 42
    assert calls[0] == (loop_thread, 1)              # one attempt on the loop
    assert calls[1][0] is not loop_thread            # the rest in a worker thread,
    assert calls[1][1] == app.retry.max_attempts     # under the app's retry policy
    app.close()


def test_inline_write_other_errors_are_not_retried():
    app = PersistApp.open()
    calls = []

    def fn():
        calls.append(1)
        raise ConflictError("stale", kind="version")

    with pytest.raises(ConflictError):
        asyncio.run(inline.write(app, fn))
    assert len(calls) == 1
    app.close()


def test_single_attempt_does_not_retry_or_sleep():
    app = PersistApp.open()
    calls = []

    def conflicted():
        calls.append(1)
        raise ConflictError("write-write", kind="write_write")

    with app.single_attempt():
        with pytest.raises(ConflictError):
            app.atomic(conflicted)
    assert len(calls) == 1
    calls.clear()
    with pytest.raises(ConflictError):
        app.atomic(conflicted)
    assert len(calls) == app.retry.max_attempts
    app.close()
