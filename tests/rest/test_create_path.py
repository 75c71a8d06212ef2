"""The POST create path's shortcuts keep its behaviour: the body validated once and
that entity stored, the body read straight from ASGI messages, the response JSON from
a C encoder made once."""
import asyncio
import json
import math

import pydantic
import pytest
from starlette.requests import ClientDisconnect, Request

from rustmemodb.persist import PersistApp
from rustmemodb.persist.rest import routes
from rustmemodb.persist.rest.light import read_body

CALLS = []


class Counted(pydantic.BaseModel):
    name: str
    n: int | None = None

    @pydantic.field_validator("name")
    @classmethod
    def count(cls, value: str) -> str:
        CALLS.append(value)
        return value


def test_create_stores_the_validated_entity():
    app = PersistApp.open()
    coll = app.collection("counted", Counted)
    CALLS.clear()
    data, entity = routes.checked(coll, {"name": "a", "n": 3.0})
    assert data == {"name": "a", "n": 3} and type(data["n"]) is int
    made = coll.create(data, validated=entity)
    assert made is entity and made._version == 1
    assert CALLS == ["a", "a"]            # strict JSON check + the model; not a third time
    assert coll.get(made._id).n == 3
    assert [a.operation for a in coll.audits(made._id)] == ["create"]
    # with a key: the same entity stored once, replayed after
    data, entity = routes.checked(coll, {"name": "b"})
    first = coll.create(data, idempotency_key="k1", validated=entity)
    again = coll.create(data, idempotency_key="k1")
    assert again._id == first._id and coll.count() == 2
    app.close()


def _request(messages):
    queue = list(messages)

    async def receive():
        return queue.pop(0)
    return Request({"type": "http", "method": "POST", "path": "/", "headers": []}, receive)


def test_read_body_as_starlette_reads_it():
    async def run():
        one = _request([{"type": "http.request", "body": b"abc", "more_body": False}])
        assert await read_body(one) == b"abc" and await one.body() == b"abc"
        parts = _request([{"type": "http.request", "body": b"a", "more_body": True},
                          {"type": "http.request", "body": b"", "more_body": True},
                          {"type": "http.request", "body": b"bc", "more_body": False}])
        assert await read_body(parts) == b"abc"
        empty = _request([{"type": "http.request"}])
        assert await read_body(empty) == b""
        gone = _request([{"type": "http.request", "body": b"a", "more_body": True},
                         {"type": "http.disconnect"}])
        with pytest.raises(ClientDisconnect):
            await read_body(gone)
    asyncio.run(run())


def test_response_bytes_match_the_encoder():
    doc = {"_id": "x", "a": [1, 2.5, None, True], "b": {"ü": "ß\n\"", "n": -3},
           "c": "\u2028"}
    assert routes.response_bytes(doc) == routes._RESPONSE_JSON.encode(doc).encode()
    assert json.loads(routes.response_bytes(doc)) == doc
    with pytest.raises(ValueError):
        routes.response_bytes({"x": math.nan})
    assert routes.response_bytes([1, "a"]) == b'[1,"a"]'
