"""Zero-code: `rustmemodb serve-rest --db PATH --schemas DIR`, a real uvicorn process.

Each DIR/*.json is a collection; files added or changed while the server runs take
effect without a restart (the watcher polls every 0.5 s: the test waits for the
effect, with a generous deadline for a loaded machine, and reports the time it
took); an incompatible change is refused with a log line and the old routes stay.
"""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import rustmemodb

pytest.importorskip("uvicorn")

ENGINE = str(Path(rustmemodb.__file__).resolve().parents[1])

TASKS = {"type": "object", "title": "Task",
         "properties": {"title": {"type": "string"}, "done": {"type": "boolean"}},
         "required": ["title"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write(path: Path, schema: dict) -> None:
    # Write then rename, as editors do: the watcher never sees half a file.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(schema))
    os.replace(tmp, path)


def wait_for(check, what: str, deadline_s: float = 30) -> float:
    start = time.monotonic()
    while True:
        if check():
            return time.monotonic() - start
        assert time.monotonic() - start < deadline_s, f"timed out waiting for {what}"
        time.sleep(0.05)


@pytest.fixture
def server(tmp_path):
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    write(schemas / "tasks.json", TASKS)
    port = free_port()
    log = tmp_path / "server.log"
    procs = []

    def start():
        err = open(log, "a")
        proc = subprocess.Popen(
            [sys.executable, "-m", "rustmemodb.cli", "serve-rest", "--db",
             str(tmp_path / "db"), "--schemas", str(schemas), "--port", str(port)],
            env={**os.environ, "PYTHONPATH": ENGINE}, stdout=subprocess.DEVNULL,
            stderr=err)
        err.close()
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"

        def up():
            assert proc.poll() is None, log.read_text()
            try:
                return httpx.get(url + "/api/_openapi.json", timeout=5).status_code == 200
            except httpx.TransportError:
                return False
        wait_for(up, "serve-rest to start", 60)
        return proc, url

    yield schemas, log, start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)


def test_schema_directory_is_served_and_watched(server):
    schemas, log, start = server
    proc, url = start()
    c = httpx.Client(base_url=url, timeout=10)
    try:
        r = c.post("/api/tasks", json={"title": "write tests"})
        assert r.status_code == 201 and r.headers["etag"] == '"1"'
        first = r.json()["_id"]
        bad = c.post("/api/tasks", json={"done": "yes"})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"

        # A new file: a new collection, its routes and its OpenAPI paths.
        write(schemas / "people.json", {"type": "object", "properties": {
            "name": {"type": "string"}}, "required": ["name"]})
        took = wait_for(lambda: c.get("/api/people").status_code == 200, "people routes")
        print(f"new schema served after {took:.2f} s")
        assert c.post("/api/people", json={"name": "Ann"}).status_code == 201
        doc = c.get("/api/_openapi.json").json()
        assert "/api/people" in doc["paths"] and "/api/people/{id}" in doc["paths"]
        assert doc["components"]["schemas"]["people"]["required"] == ["name"]

        # An added optional field: ALTER TABLE ADD COLUMN, the stored row reads null.
        write(schemas / "tasks.json", {**TASKS, "properties": {
            **TASKS["properties"], "priority": {"type": "integer"}}})

        def has_priority():
            doc = c.get("/api/_openapi.json").json()
            return "priority" in doc["components"]["schemas"]["tasks"]["properties"]
        took = wait_for(has_priority, "tasks.priority")
        print(f"changed schema served after {took:.2f} s")
        r = c.post("/api/tasks", json={"title": "ship", "priority": 2})
        assert r.status_code == 201 and r.json()["priority"] == 2
        assert c.get(f"/api/tasks/{first}").json()["priority"] is None
        assert c.get("/api/tasks", params={"priority": 2}).json()["total"] == 1

        # An incompatible change is refused, logged, and the old routes stay.
        write(schemas / "tasks.json", {**TASKS, "properties": {
            "title": {"type": "integer"}, "done": {"type": "boolean"},
            "priority": {"type": "integer"}}})
        wait_for(lambda: "tasks.json refused" in log.read_text(), "the refusal in the log")
        text = log.read_text()
        assert "field 'title' changes type TEXT -> INTEGER" in text
        assert "routes of 'tasks' stay" in text
        r = c.post("/api/tasks", json={"title": "still text", "priority": 1})
        assert r.status_code == 201
        # A new required field is refused too (stored rows have no value).
        write(schemas / "people.json", {"type": "object", "properties": {
            "name": {"type": "string"}, "age": {"type": "integer"}},
            "required": ["name", "age"]})
        wait_for(lambda: "people.json refused" in log.read_text(), "people refusal")
        assert "new field 'age' is required" in log.read_text()
        assert c.post("/api/people", json={"name": "Bob"}).status_code == 201
    finally:
        c.close()
        proc.terminate()
        proc.wait(30)

    # Restart: the compatible model is back from the files; the data is durable.
    write(schemas / "people.json", {"type": "object", "properties": {
        "name": {"type": "string"}, "age": {"type": "integer"}}, "required": ["name"]})
    proc, url = start()
    with httpx.Client(base_url=url, timeout=10) as c:
        assert c.get("/api/tasks").json()["total"] == 3
        assert c.get("/api/people").json()["total"] == 2
        r = c.post("/api/people", json={"name": "Cy", "age": 40})
        assert r.status_code == 201 and r.json()["age"] == 40


def test_required_field_made_optional_drops_not_null(tmp_path):
    from rustmemodb.persist import PersistApp
    from rustmemodb.persist.rest import create_app
    from rustmemodb.persist.rest.schemas_dir import SchemaDirectory
    write(tmp_path / "tasks.json", {**TASKS, "required": ["title", "done"]})
    app = PersistApp.open()
    api = create_app(app)
    messages = []
    watcher = SchemaDirectory(app, api, tmp_path, on_message=messages.append)
    assert watcher.scan() == ["tasks"]
    assert watcher.scan() == []                     # unchanged content: nothing to do
    write(tmp_path / "tasks.json", TASKS)           # done: required -> optional
    assert watcher.scan() == ["tasks"]
    assert app["tasks"].create({"title": "x"}).done is None
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "_x.json").write_text(json.dumps(TASKS))
    assert watcher.scan() == []
    assert any("bad.json refused: not a usable JSON Schema" in m for m in messages)
    assert any("_x.json refused" in m for m in messages)
    app.close()


def test_the_whole_json_schema_applies_to_bodies(tmp_path):
    from fastapi.testclient import TestClient

    from rustmemodb.persist import PersistApp
    from rustmemodb.persist.rest import create_app
    from rustmemodb.persist.rest.schemas_dir import SchemaDirectory
    write(tmp_path / "orders.json", {
        "type": "object", "required": ["sku", "qty"],
        "properties": {
            "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$"},
            "qty": {"type": "integer", "minimum": 1, "maximum": 100},
            "ship": {"$ref": "#/$defs/address"}},
        "$defs": {"address": {"type": "object", "required": ["city"],
                              "properties": {"city": {"type": "string", "minLength": 2}}}}})
    app = PersistApp.open()
    api = create_app(app)
    SchemaDirectory(app, api, tmp_path).scan()
    with TestClient(api) as c:
        ok = c.post("/api/orders", json={"sku": "ABC-1", "qty": 3, "ship": {"city": "Oslo"}})
        assert ok.status_code == 201 and ok.json()["ship"] == {"city": "Oslo"}
        bad = c.post("/api/orders", json={"sku": "abc", "qty": 0, "ship": {"city": "X"}})
        assert bad.status_code == 422
        assert [e["pointer"] for e in bad.json()["errors"]] == ["/qty", "/ship/city", "/sku"]
        # A merge patch is checked against the merged entity.
        r = c.patch(f"/api/orders/{ok.json()['_id']}", json={"qty": 101})
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/qty"
        extra = c.post("/api/orders", json={"sku": "ABC-2", "qty": 1, "x": 1})
        assert extra.status_code == 422 and extra.json()["errors"][0]["pointer"] == "/x"
        missing = c.post("/api/orders", json={"qty": 1})
        assert [e["pointer"] for e in missing.json()["errors"]] == ["/sku"]
    assert app["orders"].count() == 1
    app.close()
