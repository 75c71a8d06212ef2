"""REST: requests/s and latency of persist's generated routes vs a bare FastAPI handler.

Two servers, each a separate process running the same stack (uvicorn, one worker,
FastAPI, access log off):

    persist   rustmemodb.persist.rest.create_app over an in-memory PersistApp with an
              ``items`` collection (pydantic model: name TEXT, qty INTEGER, tags JSON),
              pre-filled with min(--rows, 20,000) entities. Its GET by id and POST
              create are ``async`` routes that make their engine call on the event loop
              (persist/rest/inline.py), dispatched to directly by persist's request-id
              middleware (persist/rest/direct.py); unkeyed creates that arrive in the
              same turn of the loop share one transaction (inline.CreateGroup)
    bare      a FastAPI app whose ``async`` handlers return a constant (GET) or read the
              JSON body and return a constant with 201 (POST): the HTTP stack alone,
              written the fastest plain way (a sync handler would pay a thread hop,
              ~100 µs, that persist's routes do not)

Cases, each with 16 concurrent keep-alive connections from a minimal asyncio HTTP/1.1
client in this process (so the client's own cost stays small), after a warm-up, in
rounds that alternate the two servers (the machine's load falls on both alike):

    GET by id     GET /api/items/{id} (ids cycled) vs GET /bare/items/{id}
    POST create   POST /api/items {name, qty, tags} vs POST /bare/items with the same body

Reported: time per request (1 / throughput, ratios as everywhere in bench/), then req/s,
p50 and p99 latency, and the server process's CPU time per request (user + system from
/proc: the least sensitive to other load on a shared machine); and the database's share:
persist's p50, p99 and CPU over bare's (target: at most 1.30x, i.e. the database adds at
most 30 %).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import Options, Report, attempt

NAME = "rest"
DESCRIPTION = "REST routes (persist.rest) vs a bare FastAPI handler: req/s, p50/p99, 16 clients"
ENGINES = ("persist", "bare")
CLIENTS = 16
ROOT = Path(__file__).resolve().parents[1]


# ---- the servers (run in a child process: python -m bench.rest KIND PORT ROWS) ----------
def _persist_api(rows: int):
    import pydantic

    from rustmemodb.persist import PersistApp
    from rustmemodb.persist.rest import create_app

    class Item(pydantic.BaseModel):
        name: str
        qty: int | None = None
        tags: list[str] = []

    app = PersistApp.open()
    items = app.collection("items", Item)
    items.create_many({"name": f"item-{i:06d}", "qty": i % 100, "tags": ["a"]}
                      for i in range(rows))
    return create_app(app)


def _bare_api():
    from typing import Any

    from fastapi import Body, FastAPI

    api = FastAPI()
    constant = {"_id": "00000000-0000-0000-0000-000000000000", "_version": 1,
                "name": "item", "qty": 1, "tags": ["a"]}

    # async, as persist's GET by id and POST create are: no thread hop for either
    @api.get("/bare/items/{id}")
    async def get(id: str):
        return constant

    @api.post("/bare/items", status_code=201)
    async def create(body: Any = Body(None)):
        return constant

    @api.get("/bare/_ids")
    def ids():
        return [f"{i:08d}" for i in range(1000)]
    return api


def serve(kind: str, port: int, rows: int) -> None:
    import uvicorn
    api = _persist_api(rows) if kind == "persist" else _bare_api()
    uvicorn.run(api, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ---- the client ------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Server:
    def __init__(self, kind: str, rows: int) -> None:
        import httpx
        self.kind, self.port = kind, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT), str(ROOT / "engine"), os.environ.get("PYTHONPATH", "")])}
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.rest", kind, str(self.port),
                                      str(rows)], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        probe = "/api/_openapi.json" if kind == "persist" else "/bare/_ids"
        deadline = time.monotonic() + 300
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{kind} server exited: {self.proc.stderr.read()[-2000:]}")
            try:
                httpx.get(self.url + probe, timeout=5)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{kind} server did not start") from None
                time.sleep(0.1)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)
        self.proc.stderr.close()


async def _exchange(reader, writer, raw: bytes) -> int:
    """One HTTP/1.1 request on a kept-alive connection; returns the status code."""
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding":
            raise RuntimeError("chunked responses are not expected here")
    if length:
        await reader.readexactly(length)
    return status


def _request_bytes(port: int, method: str, path: str, body) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if body is None:
        return (head + "\r\n").encode()
    data = json.dumps(body).encode()
    return (head + f"Content-Type: application/json\r\nContent-Length: {len(data)}"
                   "\r\n\r\n").encode() + data


async def _load(port: int, requests: list, warmup: int) -> tuple[float, list[float]]:
    """Send ``requests`` (raw HTTP/1.1 bytes) from CLIENTS keep-alive connections (a
    minimal client, so the servers, not the client, set the pace); returns (wall
    seconds, per-request latencies) of the timed part."""
    latencies: list[float] = []
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(CLIENTS)]

    async def worker(conn, queue: list, record: bool):
        reader, writer = conn
        while queue:
            raw = queue.pop()
            t0 = time.perf_counter()
            status = await _exchange(reader, writer, raw)
            took = time.perf_counter() - t0
            if status >= 300:
                raise RuntimeError(f"status {status} for {raw[:80]!r}")
            if record:
                latencies.append(took)

    try:
        warm = list(requests[:warmup])
        await asyncio.gather(*(worker(c, warm, False) for c in conns))
        timed = list(requests)
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(c, timed, True) for c in conns))
        return time.perf_counter() - t0, latencies
    finally:
        for _, writer in conns:
            writer.close()


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _case(server: _Server, case: str, n: int, ids: list[str]) -> tuple:
    """(wall seconds, latencies, server CPU seconds or None) of n requests (+ warm-up)."""
    if case == "get":
        prefix = "/api/items/" if server.kind == "persist" else "/bare/items/"
        requests = [_request_bytes(server.port, "GET", prefix + ids[i % len(ids)], None)
                    for i in range(n)]
    else:
        path = "/api/items" if server.kind == "persist" else "/bare/items"
        requests = [_request_bytes(server.port, "POST", path,
                                   {"name": f"new-{i}", "qty": i % 100, "tags": ["b"]})
                    for i in range(n)]
    before = _cpu_seconds(server.proc.pid)
    wall, lat = asyncio.run(_load(server.port, requests, warmup=min(200, n // 4)))
    after = _cpu_seconds(server.proc.pid)
    cpu = None if before is None or after is None else after - before
    return wall, lat, cpu


def run(opts: Options) -> Report:
    import httpx
    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    rows = min(opts.rows, 20_000)
    n = max(1000, min(opts.ops, 20_000))
    rounds = 3 if n >= 3000 else 1
    per = report.table(f"time per request, {CLIENTS} keep-alive clients, {n:,} requests",
                       engines)
    rps = report.table("requests per second", engines, unit="count")
    p50 = report.table("p50 latency", engines)
    p99 = report.table("p99 latency", engines)
    cpu = report.table("server CPU per request (user + system, warm-up included)", engines)
    servers, ids = {}, {}
    try:
        for engine in engines:
            servers[engine], err = attempt(lambda e=engine: _Server(e, rows),
                                           verbose=opts.verbose)
            if err is not None:
                for label in ("GET by id", "POST create"):
                    per.add(label, engine, error=err)
                continue
            url = servers[engine].url
            ids[engine] = ([e["_id"] for e in httpx.get(url + "/api/items", params={
                "size": 1000}, timeout=60).json()["items"]] if engine == "persist" else
                httpx.get(url + "/bare/_ids", timeout=60).json())
        results: dict = {}
        for case, label in (("get", "GET by id"), ("post", "POST create")):
            # Rounds alternate the servers, so a change in the machine's load (other
            # processes) falls on both alike.
            runs = {e: [0.0, [], 0.0] for e in servers if servers[e] is not None}
            for _ in range(rounds):
                for engine in list(runs):
                    value, err = attempt(lambda e=engine: _case(servers[e], case,
                                                                n // rounds, ids[e]),
                                         verbose=opts.verbose)
                    if err is not None:
                        per.add(label, engine, error=err)
                        runs.pop(engine)
                        continue
                    runs[engine][0] += value[0]
                    runs[engine][1] += value[1]
                    runs[engine][2] = None if value[2] is None or runs[engine][2] is None \
                        else runs[engine][2] + value[2]
            for engine, (wall, lat, cpu_s) in runs.items():
                sent = (n // rounds + min(200, (n // rounds) // 4)) * rounds
                r = {"rps": len(lat) / wall, "p50": _percentile(lat, 0.50),
                     "p99": _percentile(lat, 0.99),
                     "cpu": None if cpu_s is None else cpu_s / sent}
                results[(label, engine)] = r
                per.add(label, engine, wall / len(lat))
                rps.add(label, engine, r["rps"])
                p50.add(label, engine, r["p50"])
                p99.add(label, engine, r["p99"])
                if r["cpu"] is not None:
                    cpu.add(label, engine, r["cpu"])
            a, b = results.get((label, "persist")), results.get((label, "bare"))
            if a and b:
                report.notes.append(
                    f"{label}: persist/bare latency p50 {a['p50'] / b['p50']:.2f}x, p99 "
                    f"{a['p99'] / b['p99']:.2f}x, throughput bare/persist "
                    f"{b['rps'] / a['rps']:.2f}x" + (
                        f", server CPU per request {a['cpu'] / b['cpu']:.2f}x"
                        if a["cpu"] and b["cpu"] else "") +
                    " (target: the database adds at most 30 %, i.e. <= 1.30x)")
    finally:
        for server in servers.values():
            if server is not None:
                server.close()
    report.notes.append("Both servers: one uvicorn worker each (own process), async FastAPI "
                        "handlers (persist's make the engine call on the event loop); the "
                        "client is a minimal asyncio HTTP/1.1 client in this process; "
                        f"{rounds} alternating round(s) per case.")
    return report


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
