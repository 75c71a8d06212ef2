"""Direct dispatch of GET by id and POST create (persist/rest/direct.py): the same
answers as through FastAPI's router, exceptions through the app's own handlers, and
never a request that another route would have taken."""
import pydantic
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rustmemodb.persist import PersistApp
from rustmemodb.persist.rest import create_app
from rustmemodb.persist.rest import app as rest_app


class Item(pydantic.BaseModel):
    name: str
    qty: int | None = None


class Refused(Exception):
    pass


class Guarded(pydantic.BaseModel):
    name: str

    @pydantic.field_validator("name")
    @classmethod
    def no_bad(cls, value: str) -> str:
        if value == "boom":
            raise Refused("no boom")       # not a ValueError: escapes pydantic
        return value


@pytest.fixture
def spied(monkeypatch):
    seen = []
    original = rest_app.dispatch

    async def spy(inner, route, scope, receive, send):
        seen.append((scope["method"], route.path_format))
        await original(inner, route, scope, receive, send)
    monkeypatch.setattr(rest_app, "dispatch", spy)
    return seen


@pytest.fixture
def papp():
    app = PersistApp.open()
    app.collection("items", Item)
    yield app
    app.close()


def test_hot_routes_go_direct_with_the_same_answers(papp, spied):
    with TestClient(create_app(papp)) as c:
        r = c.post("/api/items", json={"name": "a", "qty": 2},
                   headers={"x-request-id": "req-1"})
        assert r.status_code == 201
        assert r.headers["etag"] == '"1"' and r.headers["x-request-id"] == "req-1"
        assert r.headers["location"] == f"/api/items/{r.json()['_id']}"
        eid = r.json()["_id"]
        g = c.get(f"/api/items/{eid}")
        assert g.status_code == 200 and g.json()["name"] == "a"
        assert c.get(f"/api/items/{eid}", headers={"if-none-match": '"1"'}).status_code == 304
        # problems through the app's handlers, with the request id
        bad = c.post("/api/items", json={"name": 5}, headers={"x-request-id": "req-2"})
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["request_id"] == "req-2" and bad.json()["instance"] == "/api/items"
        assert bad.json()["errors"][0]["pointer"] == "/name"
        assert c.post("/api/items", content=b"{nope",
                      headers={"content-type": "application/json"}).status_code == 400
        missing = c.get("/api/items/00000000-0000-4000-8000-000000000000")
        assert missing.status_code == 404 and missing.json()["sqlstate"] == "P0002"
        assert c.get("/api/items/nope").status_code == 404
        # the other routes take the usual way
        assert c.get("/api/items").json()["total"] == 1
        assert c.get(f"/api/items/{eid}/_audits").json()[0]["operation"] == "create"
        assert c.head(f"/api/items/{eid}").status_code in (200, 405)
    assert spied.count(("POST", "/api/items")) == 3
    assert spied.count(("GET", "/api/items/{id}")) == 4
    assert all(p in ("/api/items", "/api/items/{id}") for _, p in spied)


def test_declared_domain_errors_and_unexpected_ones(spied):
    app = PersistApp.open()
    app.collection("guarded", Guarded)
    api = create_app(app, errors={Refused: (409, "refused")})
    with TestClient(api) as c:
        r = c.post("/api/guarded", json={"name": "boom"})
        assert r.status_code == 409 and r.json()["code"] == "refused"
    api = create_app(app)
    with TestClient(api, raise_server_exceptions=False) as c:
        r = c.post("/api/guarded", json={"name": "boom"})
        assert r.status_code == 500 and r.json()["sqlstate"] == "XX000"
    assert spied and all(m == "POST" for m, _ in spied)
    app.close()


def test_a_route_before_the_hot_ones_keeps_its_requests(spied):
    app = PersistApp.open()
    app.collection("items", Item)
    api = create_app(app, follow=True)

    @api.get("/api/items/special")
    def special():
        return {"special": True}

    @api.post("/api/items")
    def shadow():
        return {"shadow": True}
    with TestClient(api) as c:
        # persist's routes come first: they answer
        assert c.post("/api/items", json={"name": "a"}).status_code == 201
        # re-registering moves the collection's routes after the user's
        app.collection("items", type("Item", (Item,), {}))
        assert c.get("/api/items/special").json() == {"special": True}
        assert c.post("/api/items", json={"name": "b"}).json() == {"shadow": True}
        eid = c.get("/api/items").json()["items"][0]["_id"]
        assert c.get(f"/api/items/{eid}").json()["name"] == "a"
    assert ("GET", "/api/items/{id}") in spied
    assert spied.count(("POST", "/api/items")) == 1
    app.close()


def test_a_template_route_before_switches_direct_get_off(spied):
    app = PersistApp.open()
    app.collection("items", Item)
    api = create_app(app, follow=True)

    @api.get("/api/items/{anything}")
    def catch(anything: str):
        return {"caught": anything}
    with TestClient(api) as c:
        eid = c.post("/api/items", json={"name": "a"}).json()["_id"]
        app.collection("items", type("Item", (Item,), {}))  # routes now after the user's
        assert c.get(f"/api/items/{eid}").json() == {"caught": eid}
    assert ("GET", "/api/items/{id}") not in spied
    app.close()


def test_root_path_and_user_middleware(papp, spied):
    api = create_app(papp)
    calls = []

    @api.middleware("http")
    async def outer(request, call_next):
        calls.append(request.url.path)
        response = await call_next(request)
        response.headers["x-outer"] = "1"
        return response
    with TestClient(api, root_path="/svc") as c:
        r = c.post("/api/items", json={"name": "a"})
        assert r.status_code == 201 and r.headers["x-outer"] == "1"
        assert c.get(f"/api/items/{r.json()['_id']}").status_code == 200
    assert len(calls) == 2 and spied == [("POST", "/api/items"), ("GET", "/api/items/{id}")]


def test_overridable_dependencies_take_the_usual_way(papp, spied):
    api = create_app(papp, token="s3cret")
    with TestClient(api) as c:
        assert c.post("/api/items", json={"name": "a"}).status_code == 401
        r = c.post("/api/items", json={"name": "a"},
                   headers={"authorization": "Bearer s3cret"})
        assert r.status_code == 201
    assert spied.count(("POST", "/api/items")) == 2


def test_a_plain_fastapi_app_is_untouched():
    api = FastAPI()
    api.add_middleware(rest_app.RequestIdMiddleware)

    @api.get("/x/{id}")
    def get(id: str):
        return {"id": id}
    with TestClient(api) as c:
        r = c.get("/x/1")
        assert r.json() == {"id": "1"} and "x-request-id" in r.headers


def test_collections_mounted_later_go_direct_too(spied):
    app = PersistApp.open()
    api = create_app(app, follow=True)
    with TestClient(api) as c:
        assert c.post("/api/items", json={"name": "a"}).status_code == 404
        app.collection("items", Item)                    # mounted while serving
        r = c.post("/api/items", json={"name": "a"})
        assert r.status_code == 201
        assert c.get(f"/api/items/{r.json()['_id']}").json()["name"] == "a"
    assert spied == [("POST", "/api/items"), ("GET", "/api/items/{id}")]
    app.close()
