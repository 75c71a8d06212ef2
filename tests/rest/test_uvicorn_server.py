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
