"""@command / @query model methods as routes: schemas from type hints, 204 on None,
domain errors through create_app(errors=...), If-Match and Idempotency-Key."""
import dataclasses
import threading
from typing import Annotated

import pydantic
import pytest
from fastapi.testclient import TestClient

from rustmemodb.persist import PersistApp, command, query
from rustmemodb.persist.rest import create_app

GATE = {"entered": threading.Event(), "release": threading.Event(), "slow": False}


class InsufficientFunds(Exception):
    pass


class AccountFrozen(InsufficientFunds):
    pass


class Receipt(pydantic.BaseModel):
    amount: int
    balance: int


class Account(pydantic.BaseModel):
    owner: str
    balance: int = 0
    frozen: bool = False
    tags: list[str] = []

    @command
    def deposit(self, amount: Annotated[int, pydantic.Field(gt=0)]) -> "Account":
        """Add money to the account."""
        if GATE["slow"]:
            GATE["entered"].set()
            assert GATE["release"].wait(30)
        self.balance += amount
        return self

    @command
    def withdraw(self, amount: int, note: str | None = None) -> Receipt:
        if self.frozen:
            raise AccountFrozen("the account is frozen")
        if amount > self.balance:
            raise InsufficientFunds(f"balance {self.balance} < {amount}")
        self.balance -= amount
        return Receipt(amount=amount, balance=self.balance)

    @command
    def freeze(self) -> None:
        self.frozen = True

    @command(name="tag")
    def add_tag(self, tag: str) -> list[str]:
        self.tags = [*self.tags, tag]
        return self.tags

    @command
    def explode(self) -> None:
        raise KeyError("not declared in errors=")

    @query
    def can_withdraw(self, amount: int) -> bool:
        return not self.frozen and amount <= self.balance

    @query
    def summary(self) -> dict[str, int]:
        return {"balance": self.balance, "tags": len(self.tags)}


@dataclasses.dataclass
class Counter:
    n: int = 0

    @command
    def bump(self, by: int = 1) -> "Counter":
        return Counter(self.n + by)          # a new instance is stored too


@pytest.fixture
def setup():
    app = PersistApp.open()
    app.collection("accounts", Account)
    app.collection("counters", Counter)
    api = create_app(app, errors={InsufficientFunds: (409, "insufficient_funds"),
                                  AccountFrozen: (423, "account_frozen")})
    with TestClient(api) as client:
        yield app, client
    app.close()


def make(client, **data):
    r = client.post("/api/accounts", json={"owner": "ann", **data})
    assert r.status_code == 201
    return r.json()["_id"]


def test_command_returning_the_entity(setup):
    app, client = setup
    aid = make(client)
    r = client.post(f"/api/accounts/{aid}/deposit", json={"amount": 50})
    assert r.status_code == 200 and r.headers["etag"] == '"2"'
    assert r.json()["balance"] == 50 and r.json()["_version"] == 2
    assert app["accounts"].get(aid).balance == 50
    assert [a.operation for a in app["accounts"].audits(aid)] == ["create", "command:deposit"]


def test_command_result_schema_and_none_is_204(setup):
    app, client = setup
    aid = make(client, balance=30)
    r = client.post(f"/api/accounts/{aid}/withdraw", json={"amount": 10, "note": "rent"})
    assert r.status_code == 200 and r.json() == {"amount": 10, "balance": 20}
    r = client.post(f"/api/accounts/{aid}/tag", json={"tag": "vip"})
    assert r.status_code == 200 and r.json() == ["vip"]
    r = client.post(f"/api/accounts/{aid}/freeze")
    assert r.status_code == 204 and r.content == b"" and r.headers["etag"] == '"4"'
    assert app["accounts"].get(aid).frozen is True


def test_dataclass_command_returning_a_new_instance(setup):
    app, client = setup
    cid = client.post("/api/counters", json={}).json()["_id"]
    r = client.post(f"/api/counters/{cid}/bump", json={"by": 5})
    assert r.status_code == 200 and r.json()["n"] == 5
    r = client.post(f"/api/counters/{cid}/bump")          # the default argument
    assert r.json()["n"] == 6 and app["counters"].get(cid).n == 6


def test_domain_errors_map_to_status_and_code_and_roll_back(setup):
    app, client = setup
    aid = make(client, balance=5)
    r = client.post(f"/api/accounts/{aid}/withdraw", json={"amount": 10})
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "insufficient_funds" and body["detail"] == "balance 5 < 10"
    assert body["request_id"] == r.headers["x-request-id"]
    client.post(f"/api/accounts/{aid}/freeze")
    r = client.post(f"/api/accounts/{aid}/withdraw", json={"amount": 1})
    assert r.status_code == 423 and r.json()["code"] == "account_frozen"   # the subclass
    acct = app["accounts"].get(aid)
    assert acct.balance == 5 and acct._version == 2       # only the freeze was stored


def test_arguments_are_validated_with_pointers(setup):
    app, client = setup
    aid = make(client)
    r = client.post(f"/api/accounts/{aid}/deposit", json={"amount": -1})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/amount"
    r = client.post(f"/api/accounts/{aid}/deposit", json={"amount": 1, "extra": 2})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/extra"
    r = client.post(f"/api/accounts/{aid}/deposit", json={})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/amount"
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.post(f"/api/accounts/{missing}/deposit",
                       json={"amount": 1}).status_code == 404
    assert app["accounts"].get(aid)._version == 1


def test_if_match_on_commands(setup):
    app, client = setup
    aid = make(client)
    ok = client.post(f"/api/accounts/{aid}/deposit", json={"amount": 1},
                     headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    stale = client.post(f"/api/accounts/{aid}/deposit", json={"amount": 1},
                        headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and app["accounts"].get(aid).balance == 1


def test_idempotency_key_on_commands(setup):
    app, client = setup
    aid = make(client)
    h = {"Idempotency-Key": "dep-1"}
    first = client.post(f"/api/accounts/{aid}/deposit", json={"amount": 7}, headers=h)
    again = client.post(f"/api/accounts/{aid}/deposit", json={"amount": 7}, headers=h)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again.headers["etag"] == '"2"'
    assert app["accounts"].get(aid).balance == 7
    other = client.post(f"/api/accounts/{aid}/deposit", json={"amount": 8}, headers=h)
    assert other.status_code == 422 and app["accounts"].get(aid).balance == 7
    h2 = {"Idempotency-Key": "frz-1"}
    assert client.post(f"/api/accounts/{aid}/freeze", headers=h2).status_code == 204
    assert client.post(f"/api/accounts/{aid}/freeze", headers=h2).status_code == 204
    assert app["accounts"].get(aid)._version == 3


def test_same_key_while_the_command_runs_is_409(setup):
    app, client = setup
    aid = make(client)
    h = {"Idempotency-Key": "slow-dep"}
    GATE["slow"] = True
    GATE["entered"].clear()
    GATE["release"].clear()
    results = {}
    t = threading.Thread(target=lambda: results.setdefault("first", client.post(
        f"/api/accounts/{aid}/deposit", json={"amount": 3}, headers=h)))
    t.start()
    try:
        assert GATE["entered"].wait(30)
        r = client.post(f"/api/accounts/{aid}/deposit", json={"amount": 3}, headers=h)
        assert r.status_code == 409 and r.json()["sqlstate"] == "55006"
    finally:
        GATE["slow"] = False
        GATE["release"].set()
        t.join(30)
    assert results["first"].status_code == 200
    assert app["accounts"].get(aid).balance == 3


def test_queries_read_only(setup):
    app, client = setup
    aid = make(client, balance=10, tags=["a"])
    r = client.get(f"/api/accounts/{aid}/can_withdraw", params={"amount": 5})
    assert r.status_code == 200 and r.json() is True
    assert client.get(f"/api/accounts/{aid}/can_withdraw",
                      params={"amount": 50}).json() is False
    bad = client.get(f"/api/accounts/{aid}/can_withdraw", params={"amount": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/amount"
    assert client.get(f"/api/accounts/{aid}/summary").json() == {"balance": 10, "tags": 1}
    assert client.post(f"/api/accounts/{aid}/summary").status_code == 405
    assert app["accounts"].get(aid)._version == 1


def test_openapi_has_command_schemas(setup):
    _, client = setup
    doc = client.get("/api/_openapi.json").json()
    op = doc["paths"]["/api/accounts/{id}/deposit"]["post"]
    assert op["summary"] == "Add money to the account."
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/accounts_deposit_args"}
    args = doc["components"]["schemas"]["accounts_deposit_args"]
    assert args["properties"]["amount"]["type"] == "integer"
    assert args["properties"]["amount"]["exclusiveMinimum"] == 0
    assert args["required"] == ["amount"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/accounts_entity"}
    withdraw = doc["paths"]["/api/accounts/{id}/withdraw"]["post"]["responses"]["200"]
    assert withdraw["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Receipt"}
    assert "Receipt" in doc["components"]["schemas"]
    assert "204" in doc["paths"]["/api/accounts/{id}/freeze"]["post"]["responses"]
    q = doc["paths"]["/api/accounts/{id}/can_withdraw"]["get"]
    assert [p["name"] for p in q["parameters"] if p["in"] == "query"] == ["amount"]
    assert q["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "boolean"}
    assert "/api/counters/{id}/bump" in doc["paths"]


def test_an_undeclared_exception_is_a_500_problem(setup):
    app, _ = setup
    api = create_app(app)
    with TestClient(api, raise_server_exceptions=False) as client:
        aid = make(client)
        r = client.post(f"/api/accounts/{aid}/explode", headers={"X-Request-Id": "req-42"})
        assert r.status_code == 500
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["request_id"] == "req-42" and r.json()["sqlstate"] == "XX000"
        assert "KeyError" in r.json()["detail"]
    assert app["accounts"].get(aid)._version == 1
