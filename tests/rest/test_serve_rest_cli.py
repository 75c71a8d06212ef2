"""`rustmemodb serve-rest --db PATH`: a subprocess serving a durable database's collections."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pydantic

import rustmemodb
from rustmemodb.persist import PersistApp

ENGINE = str(Path(rustmemodb.__file__).resolve().parents[1])


class Item(pydantic.BaseModel):
    sku: str
    qty: int = 0
    meta: dict | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_rest_serves_the_stored_collections(tmp_path):
    db = tmp_path / "db"
    app = PersistApp.open(str(db))
    items = app.collection("items", Item, unique=["sku"])
    first = items.create({"sku": "a-1", "qty": 2, "meta": {"c": "red"}})
    app.close()

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rustmemodb.cli", "serve-rest", "--db", str(db),
         "--port", str(port), "--token", "tok"],
        env={**os.environ, "PYTHONPATH": ENGINE}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    try:
        h = {"Authorization": "Bearer tok"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, proc.stderr.read()
                try:
                    r = c.get("/api/items", headers=h)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "serve-rest did not start"
                    time.sleep(0.1)
            assert r.status_code == 200 and r.json()["total"] == 1
            assert r.json()["items"][0]["meta"] == {"c": "red"}
            assert c.get("/api/items").status_code == 401
            r = c.patch(f"/api/items/{first._id}", json={"qty": 3},
                        headers={**h, "If-Match": '"1"'})
            assert r.status_code == 200 and r.json()["_version"] == 2
            dup = c.post("/api/items", json={"sku": "a-1"}, headers=h)
            assert dup.status_code == 409
            bad = c.post("/api/items", json={"sku": "b", "qty": "x"}, headers=h)
            assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/qty"
            doc = c.get("/api/_openapi.json").json()
            assert doc["components"]["schemas"]["items"]["required"] == ["sku"]
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()
    app = PersistApp.open(str(db))                  # the change was committed durably
    try:
        assert app.collection("items", Item, unique=["sku"]).get(first._id).qty == 3
    finally:
        app.close()


def start(db, port):
    proc = subprocess.Popen(
        [sys.executable, "-m", "rustmemodb.cli", "serve-rest", "--db", str(db),
         "--port", str(port)], env={**os.environ, "PYTHONPATH": ENGINE},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.stderr.read()
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/_openapi.json", timeout=5)
            return proc
        except httpx.TransportError:
            assert time.monotonic() < deadline, "serve-rest did not start"
            time.sleep(0.1)


def test_replay_after_sigkill_and_restart_returns_the_original(tmp_path):
    import signal
    db = tmp_path / "db"
    app = PersistApp.open(str(db))
    app.collection("items", Item, unique=["sku"])
    app.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/items"
    h = {"Idempotency-Key": "crash-1"}
    proc = start(db, port)
    try:
        first = httpx.post(url, json={"sku": "z", "qty": 1}, headers=h, timeout=10)
        assert first.status_code == 201
    finally:
        proc.send_signal(signal.SIGKILL)         # no shutdown, no checkpoint
        proc.wait(30)
        proc.stderr.close()
    proc = start(db, port)
    try:
        again = httpx.post(url, json={"sku": "z", "qty": 1}, headers=h, timeout=10)
        assert again.status_code == 201 and again.json() == first.json()
        assert again.headers["location"] == first.headers["location"]
        listing = httpx.get(url, timeout=10).json()
        assert listing["total"] == 1
        audits = httpx.get(f"{url}/{first.json()['_id']}/_audits", timeout=10)
        assert [a["operation"] for a in audits.json()] == ["create"]
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stderr.close()
