"""The app served by a real uvicorn server on 127.0.0.1, spoken to with httpx."""
import socket
import threading
import time

import httpx
import pytest

uvicorn = pytest.importorskip("uvicorn")

from rustmemodb.persist.rest import create_app  # noqa: E402


@pytest.fixture
def server(papp):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(papp), log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)
    sock.close()


def test_routes_over_real_http(server, papp):
    with httpx.Client(base_url=server, timeout=10) as c:
        h = {"Idempotency-Key": "srv-1"}
        r = c.post("/api/users", json={"name": "Ann", "email": "a@x", "age": 1}, headers=h)
        assert r.status_code == 201 and r.headers["etag"] == '"1"'
        loc = r.headers["location"]
        again = c.post("/api/users", json={"name": "Ann", "email": "a@x", "age": 1}, headers=h)
        assert again.status_code == 201 and again.json() == r.json()
        assert c.get(loc, headers={"If-None-Match": '"1"'}).status_code == 304
        assert c.patch(loc, json={"age": 2}, headers={"If-Match": '"1"'}).status_code == 200
        stale = c.patch(loc, json={"age": 3}, headers={"If-Match": '"1"'})
        assert stale.status_code == 412
        assert stale.headers["content-type"] == "application/problem+json"
        assert c.get("/api/users", params={"sort": "-age"}).json()["total"] == 1
        assert c.get("/api/_openapi.json").json()["openapi"].startswith("3.1")
        assert c.delete(loc).status_code == 204
        assert c.get(loc).status_code == 404
    assert papp["users"].count() == 0          # the server wrote to this very app


def test_every_route_status_and_header_over_real_http(server, papp):
    """The routes, statuses and headers the first test leaves out, on the real server:
    PUT, audits, bulk, the listing's filters and pages, request ids, validation
    pointers, a replayed key with another payload, unique and version conflicts,
    malformed JSON, unknown entities, and the docs page."""
    with httpx.Client(base_url=server, timeout=10) as c:
        r = c.post("/api/users", json={"name": "Bo", "email": "b@x", "age": 5},
                   headers={"X-Request-Id": "req-7"})
        assert r.status_code == 201 and r.headers["x-request-id"] == "req-7"
        assert r.headers["content-type"] == "application/json"
        loc, body = r.headers["location"], r.json()
        assert loc.endswith("/api/users/" + body["_id"])
        got = c.get(loc)
        assert got.status_code == 200 and got.headers["etag"] == '"1"' and got.json() == body
        assert len(got.headers["x-request-id"]) >= 16            # a new one when not given

        put = c.put(loc, json={"name": "Bo", "email": "b@x", "age": 6},
                    headers={"If-Match": '"1"'})
        assert put.status_code == 200 and put.headers["etag"] == '"2"'
        assert put.json()["age"] == 6 and put.json()["_version"] == 2
        stale = c.put(loc, json={"name": "Bo", "email": "b@x"}, headers={"If-Match": '"1"'})
        assert stale.status_code == 412 and stale.json()["status"] == 412

        audits = c.get(loc + "/_audits")
        assert audits.status_code == 200
        assert [a["version_after"] for a in audits.json()] == [1, 2]
        assert audits.json()[0]["operation"] == "create" and audits.json()[1]["changed"] == ["age"]

        bulk = c.post("/api/users/_bulk", json=[
            {"op": "create", "data": {"name": "Cy", "email": "c@x", "age": 1}},
            {"op": "patch", "id": body["_id"], "data": {"age": 7}, "version": 2}])
        assert bulk.status_code == 200, bulk.text
        assert [i["_version"] for i in bulk.json()["items"]] == [1, 3]
        bad = c.post("/api/users/_bulk", json=[
            {"op": "create", "data": {"name": "Di", "email": "d@x"}},
            {"op": "create", "data": {"name": 7, "email": "e@x"}}])
        assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/1/data/name"
        assert papp["users"].count() == 2                        # all or nothing

        page = c.get("/api/users", params={"sort": "-age,name", "size": 1, "page": 2}).json()
        assert page["total"] == 2 and [i["name"] for i in page["items"]] == ["Cy"]
        assert c.get("/api/users", params={"age": "7"}).json()["total"] == 1

        invalid = c.post("/api/users", json={"name": 1, "email": "x@x", "age": "old"})
        assert invalid.status_code == 422
        assert invalid.headers["content-type"] == "application/problem+json"
        assert sorted(e["pointer"] for e in invalid.json()["errors"]) == ["/age", "/name"]
        assert invalid.json()["request_id"] == invalid.headers["x-request-id"]
        taken = c.post("/api/users", json={"name": "Ed", "email": "b@x"})
        assert taken.status_code == 409 and taken.json()["sqlstate"] == "23505"
        malformed = c.post("/api/users", content=b"{not json",
                           headers={"Content-Type": "application/json"})
        assert malformed.status_code == 400

        key = {"Idempotency-Key": "srv-2"}
        first = c.patch(loc, json={"age": 8}, headers=key)
        assert first.status_code == 200
        assert c.patch(loc, json={"age": 8}, headers=key).json() == first.json()
        other = c.patch(loc, json={"age": 9}, headers=key)
        assert other.status_code == 422 and other.json()["sqlstate"] == "23000"
        assert papp["users"].get(body["_id"])._version == 4      # one mutation

        assert c.get(f"/api/users/{'0' * 8}-0000-4000-8000-{'0' * 12}").status_code == 404
        assert c.delete(loc, headers={"If-Match": '"1"'}).status_code == 412
        assert c.delete(loc, headers={"If-Match": '"4"'}).status_code == 204
        assert c.get("/docs").status_code == 200
