"""REST: requests/s and latency of persist's generated routes vs a bare FastAPI handler.

Two servers, each a separate process running the same stack (uvicorn, one worker,
FastAPI, sync handlers in the thread pool, access log off):

    persist   rustmemodb.persist.rest.create_app over an in-memory PersistApp with an
              ``items`` collection (pydantic model: name TEXT, qty INTEGER, tags JSON),
              pre-filled with min(--rows, 20,000) entities
    bare      a FastAPI app whose handlers return a constant (GET) or read the JSON
              body and return a constant with 201 (POST): the HTTP stack alone

Cases, each with 16 concurrent keep-alive clients (httpx.AsyncClient, one connection
per client) in this process, after a warm-up:

    GET by id     GET /api/items/{id} (ids cycled) vs GET /bare/items/{id}
    POST create   POST /api/items {name, qty, tags} vs POST /bare/items with the same body

Reported: time per request (1 / throughput, ratios as everywhere in bench/), then req/s,
p50 and p99 latency; and the database's share: persist's p50 and p99 over bare's
(target: at most 1.30x, i.e. the database adds at most 30 %).
"""

from __future__ import annotations

import asyncio
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

    @api.get("/bare/items/{id}")
    def get(id: str):
        return constant

    @api.post("/bare/items", status_code=201)
    def create(body: Any = Body(None)):
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


async def _load(url: str, requests: list, warmup: int) -> tuple[float, list[float]]:
    """Send ``requests`` ((method, path, json) tuples) from CLIENTS keep-alive clients;
    returns (wall seconds, per-request latencies) of the timed part."""
    import httpx
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        async def worker(queue: list, record: bool):
            while queue:
                method, path, body = queue.pop()
                t0 = time.perf_counter()
                r = await client.request(method, path, json=body)
                took = time.perf_counter() - t0
                if r.status_code >= 300:
                    raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:200]}")
                if record:
                    latencies.append(took)

        warm = list(requests[:warmup])
        await asyncio.gather(*(worker(warm, False) for _ in range(CLIENTS)))
        timed = list(requests)
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(timed, True) for _ in range(CLIENTS)))
        return time.perf_counter() - t0, latencies


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _case(server: _Server, case: str, n: int, ids: list[str]) -> dict:
    if case == "get":
        prefix = "/api/items/" if server.kind == "persist" else "/bare/items/"
        requests = [("GET", prefix + ids[i % len(ids)], None) for i in range(n)]
    else:
        path = "/api/items" if server.kind == "persist" else "/bare/items"
        requests = [("POST", path, {"name": f"new-{i}", "qty": i % 100, "tags": ["b"]})
                    for i in range(n)]
    wall, lat = asyncio.run(_load(server.url, requests, warmup=min(500, n // 4)))
    return {"per_request": wall / len(lat), "rps": len(lat) / wall,
            "p50": _percentile(lat, 0.50), "p99": _percentile(lat, 0.99)}


def run(opts: Options) -> Report:
    report = Report(NAME, opts)
    engines = [e for e in ENGINES if opts.wants(e)]
    rows = min(opts.rows, 20_000)
    n = max(1000, min(opts.ops, 20_000))
    per = report.table(f"time per request, {CLIENTS} keep-alive clients, {n:,} requests",
                       engines)
    rps = report.table("requests per second", engines, unit="count")
    p50 = report.table("p50 latency", engines)
    p99 = report.table("p99 latency", engines)
    results: dict = {}
    for engine in engines:
        server, err = attempt(lambda e=engine: _Server(e, rows), verbose=opts.verbose)
        if err is not None:
            for case in ("GET by id", "POST create"):
                per.add(case, engine, error=err)
            continue
        try:
            import httpx
            if engine == "persist":
                page = httpx.get(server.url + "/api/items", params={"size": 1000}, timeout=60)
                ids = [e["_id"] for e in page.json()["items"]]
            else:
                ids = httpx.get(server.url + "/bare/_ids", timeout=60).json()
            for case, label in (("get", "GET by id"), ("post", "POST create")):
                value, err = attempt(lambda: _case(server, case, n, ids), verbose=opts.verbose)
                if err is not None:
                    per.add(label, engine, error=err)
                    continue
                results[(label, engine)] = value
                per.add(label, engine, value["per_request"])
                rps.add(label, engine, value["rps"])
                p50.add(label, engine, value["p50"])
                p99.add(label, engine, value["p99"])
        finally:
            server.close()
    for label in ("GET by id", "POST create"):
        a, b = results.get((label, "persist")), results.get((label, "bare"))
        if a and b:
            report.notes.append(
                f"{label}: persist/bare latency p50 {a['p50'] / b['p50']:.2f}x, p99 "
                f"{a['p99'] / b['p99']:.2f}x, throughput {b['rps'] / a['rps']:.2f}x "
                "(target: the database adds at most 30 %, i.e. <= 1.30x)")
    report.notes.append("Both servers: one uvicorn worker, sync FastAPI handlers (thread "
                        "pool); the client runs in this process, each server in its own.")
    return report


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
