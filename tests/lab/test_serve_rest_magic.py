"""%sql --serve-rest: the notebook database's persist collections over real HTTP, from
a uvicorn thread with its own loop; requests commit to the notebook's database."""

from __future__ import annotations

import re

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

MODEL = '''
import pydantic
import rustmemodb_lab
from rustmemodb.persist import command

class Task(pydantic.BaseModel):
    title: str
    done: bool = False

    @command
    def finish(self) -> None:
        self.done = True

app = rustmemodb_lab.persist_app()
'''


def test_serve_rest_serves_the_notebook_database(cell, ip):
    cell(MODEL)
    cell("tasks = app.collection('tasks', Task)")
    out = cell("%sql --serve-rest")
    assert re.search(r"serving default as REST on http://127\.0\.0\.1:\d+/api \(tasks\)", repr(out.value))
    try:
        srv = cell("import rustmemodb_lab; rustmemodb_lab.rest_server()").value
        with httpx.Client(base_url=srv.url, timeout=10) as c:
            assert c.get("/api/tasks").status_code == 401          # the token is required
            c.headers.update(srv.headers)
            r = c.post("/api/tasks", json={"title": "write the notebook"})
            assert r.status_code == 201
            assert c.post(f"/api/tasks/{r.json()['_id']}/finish").status_code == 204
            # The request's commit is the notebook's: %sql sees it at once.
            assert cell("%sql SELECT title, done FROM tasks").value.rows() == [("write the notebook", True)]
            # A collection registered after the server started gets routes too.
            cell("notes = app.collection('notes', {'type': 'object', 'properties': {'text': {'type': 'string'}}})")
            assert c.post("/api/notes", json={"text": "hi"}).status_code == 201
            assert "/api/notes" in c.get("/api/_openapi.json").json()["paths"]
        assert "already serving default" in repr(cell("%sql --serve-rest").value)
    finally:
        out = cell("%sql --serve-rest stop")
    assert "stopped serving REST for default" in repr(out.value)
    with pytest.raises(httpx.TransportError):
        httpx.get(srv.url + "/api/tasks", timeout=2)


def test_serve_rest_serves_collections_described_in_the_database(cell):
    # Made by another app over the same database: served from the stored description.
    cell(MODEL)
    cell("from rustmemodb.persist import PersistApp\n"
         "other = PersistApp(app.database, retry=app.retry, idempotency_ttl_s=60, actor=None)\n"
         "other.collection('items', {'type': 'object', 'properties': {'sku': {'type': 'string'}}, "
         "'required': ['sku']})")
    cell("%sql --serve-rest 0")
    try:
        srv = cell("rustmemodb_lab.rest_server()").value
        with httpx.Client(base_url=srv.url, headers=srv.headers, timeout=10) as c:
            assert c.post("/api/items", json={"sku": "a"}).status_code == 201
            assert c.post("/api/items", json={}).status_code == 422
    finally:
        cell("%sql --serve-rest stop")


def test_serve_rest_usage_errors(cell):
    assert "port number" in str(cell("%sql --serve-rest=http", fails=True).error)
    assert "between 0 and 65535" in str(cell("%sql --serve-rest 70000", fails=True).error)
    assert "no REST server is running" in repr(cell("%sql --serve-rest stop").value)
    assert "no REST server is running" in str(cell("import rustmemodb_lab; rustmemodb_lab.rest_server()",
                                                    fails=True).error)
