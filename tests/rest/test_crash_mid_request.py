"""SIGKILL of a uvicorn server in the middle of a request, restart, replay.

The child process serves a durable database; a test-only middleware can stall a
response after the handler committed, and a test-only command can stall inside its
transaction. Either way the server is killed before the client hears anything;
after a restart the same request with the same Idempotency-Key gets the response
the first run produced (or, when the first run never committed, runs once), and
exactly one mutation is stored: the idempotency record is written in the same
transaction as the change.
"""
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx
import pytest

import rustmemodb

pytest.importorskip("uvicorn")

ENGINE = str(Path(rustmemodb.__file__).resolve().parents[1])

CHILD = textwrap.dedent("""
    import asyncio, os, sys, time
    import pydantic, uvicorn
    from rustmemodb.persist import PersistApp, command
    from rustmemodb.persist.rest import create_app

    db, port, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3]

    class Account(pydantic.BaseModel):
        owner: str
        balance: int = 0

        @command
        def deposit(self, amount: int) -> "Account":
            if os.path.exists(marker + ".stall-in-tx"):
                open(marker + ".in-tx", "w").close()
                time.sleep(120)                 # killed here, inside the transaction
            self.balance += amount
            return self

    app = PersistApp.open(db)
    app.collection("accounts", Account)
    api = create_app(app)

    @api.middleware("http")
    async def stall_after_commit(request, call_next):
        response = await call_next(request)     # the handler has committed
        if request.headers.get("x-stall-after-commit"):
            open(marker + ".committed", "w").close()
            await asyncio.sleep(120)            # killed here, before the reply
        return response

    uvicorn.run(api, host="127.0.0.1", port=port, log_level="warning")
""")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path) -> None:
        self.db, self.marker = tmp / "db", str(tmp / "marker")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(self.db), str(self.port), self.marker],
            env={**os.environ, "PYTHONPATH": ENGINE}, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, self.proc.stderr.read()
            try:
                httpx.get(self.url + "/api/_openapi.json", timeout=5)
                return
            except httpx.TransportError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.proc.stderr.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
            self.proc.stderr.close()


def kill_during(server: Server, send, marker_suffix: str) -> None:
    """Send a request in a thread; SIGKILL the server once it reached the marker."""
    outcome = {}

    def run():
        try:
            outcome["response"] = send()
        except httpx.TransportError as exc:
            outcome["error"] = exc
    t = threading.Thread(target=run)
    t.start()
    path = Path(server.marker + marker_suffix)
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, f"the request never reached {marker_suffix}"
        time.sleep(0.01)
    server.kill()
    t.join(30)
    path.unlink()
    assert "response" not in outcome, "the client got a reply before the kill"


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    s.start()
    yield s
    s.stop()


def test_create_killed_after_commit_replays_the_original(server):
    body, h = {"owner": "ann", "balance": 5}, {"Idempotency-Key": "create-1"}
    kill_during(server, lambda: httpx.post(
        server.url + "/api/accounts", json=body, timeout=120,
        headers={**h, "X-Stall-After-Commit": "1"}), ".committed")
    server.start()
    with httpx.Client(base_url=server.url, timeout=10) as c:
        stored = c.get("/api/accounts").json()
        assert stored["total"] == 1                       # committed before the kill
        r = c.post("/api/accounts", json=body, headers=h)
        assert r.status_code == 201 and r.json() == stored["items"][0]
        assert r.headers["location"].endswith(stored["items"][0]["_id"])
        assert c.post("/api/accounts", json=body, headers=h).json() == r.json()
        assert c.get("/api/accounts").json()["total"] == 1
        assert [a["operation"] for a in c.get(
            f"/api/accounts/{r.json()['_id']}/_audits").json()] == ["create"]


def test_command_killed_after_commit_replays_the_original(server):
    with httpx.Client(base_url=server.url, timeout=10) as c:
        aid = c.post("/api/accounts", json={"owner": "bob"}).json()["_id"]
    h = {"Idempotency-Key": "dep-1"}
    url = f"{server.url}/api/accounts/{aid}/deposit"
    kill_during(server, lambda: httpx.post(url, json={"amount": 7}, timeout=120, headers={
        **h, "X-Stall-After-Commit": "1"}), ".committed")
    server.start()
    with httpx.Client(timeout=10) as c:
        r = c.post(url, json={"amount": 7}, headers=h)
        assert r.status_code == 200 and r.json()["balance"] == 7
        assert r.json()["_version"] == 2 and r.headers["etag"] == '"2"'
        assert c.post(url, json={"amount": 7}, headers=h).json() == r.json()
        audits = c.get(f"{server.url}/api/accounts/{aid}/_audits").json()
        assert [a["operation"] for a in audits] == ["create", "command:deposit"]


def test_command_killed_inside_its_transaction_runs_once_on_replay(server):
    with httpx.Client(base_url=server.url, timeout=10) as c:
        aid = c.post("/api/accounts", json={"owner": "cy"}).json()["_id"]
    h = {"Idempotency-Key": "dep-2"}
    url = f"{server.url}/api/accounts/{aid}/deposit"
    Path(server.marker + ".stall-in-tx").touch()
    kill_during(server, lambda: httpx.post(url, json={"amount": 3}, timeout=120, headers=h),
                ".in-tx")
    Path(server.marker + ".stall-in-tx").unlink()
    server.start()
    with httpx.Client(timeout=10) as c:
        # Nothing committed: the entity is as it was, and the replay runs it once.
        assert c.get(f"{server.url}/api/accounts/{aid}").json()["_version"] == 1
        r = c.post(url, json={"amount": 3}, headers=h)
        assert r.status_code == 200 and r.json()["balance"] == 3
        assert c.post(url, json={"amount": 3}, headers=h).json() == r.json()
        assert c.get(f"{server.url}/api/accounts/{aid}").json()["balance"] == 3
