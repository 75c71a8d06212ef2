"""Concurrent unkeyed POST creates share a commit (rest/inline.py CreateGroup), and
each request still gets exactly its own answer: its entity with its audit record, or
its own error when the group's transaction fails."""
import asyncio

import httpx
import pydantic
import pytest

from rustmemodb.persist import PersistApp
from rustmemodb.persist.rest import create_app
from rustmemodb.persist.rest import inline


class Account(pydantic.BaseModel):
    email: str
    n: int | None = None


@pytest.fixture
def papp():
    app = PersistApp.open()
    app.collection("accounts", Account, unique=["email"])
    yield app
    app.close()


def _gather(api, bodies, headers=None):
    async def run():
        transport = httpx.ASGITransport(app=api)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await asyncio.gather(*(c.post("/api/accounts", json=b, headers=headers)
                                          for b in bodies))
    return asyncio.run(run())


def test_concurrent_creates_commit_together_each_with_its_audit(papp, monkeypatch):
    groups = []
    original = papp._collections["accounts"].create_batch

    def spy(items):
        groups.append(len(items))
        return original(items)
    monkeypatch.setattr(papp._collections["accounts"], "create_batch", spy)
    commits = []
    papp.database.subscribe(lambda old, new, tables: commits.append(1))
    api = create_app(papp)
    bodies = [{"email": f"u{i}@x", "n": i} for i in range(40)]
    answers = _gather(api, bodies)
    assert [r.status_code for r in answers] == [201] * 40
    docs = [r.json() for r in answers]
    assert [d["email"] for d in docs] == [b["email"] for b in bodies]     # each its own
    assert len({d["_id"] for d in docs}) == 40
    assert all(r.headers["etag"] == '"1"' and r.headers["location"].endswith(d["_id"])
               for r, d in zip(answers, docs))
    coll = papp["accounts"]
    assert coll.count() == 40
    for d in docs:
        assert coll.get(d["_id"]).email == d["email"]
        assert [(a.operation, a.version_after) for a in coll.audits(d["_id"])] == \
            [("create", 1)]
    assert groups and sum(groups) <= 40 and max(groups) > 1     # some were grouped
    assert len(commits) < 40


def test_a_failing_group_answers_each_request_alone(papp):
    papp["accounts"].create({"email": "taken@x"})
    api = create_app(papp)
    bodies = [{"email": "a@x"}, {"email": "taken@x"}, {"email": "b@x"}, {"email": "a@x"}]
    answers = _gather(api, bodies)
    assert [r.status_code for r in answers] == [201, 409, 201, 409]
    assert answers[1].headers["content-type"] == "application/problem+json"
    coll = papp["accounts"]
    assert sorted(e.email for e in coll.query(size=10)) == ["a@x", "b@x", "taken@x"]
    # no audit record of a create that did not happen
    audits = papp.connect().execute('SELECT count(*) FROM "_persist_audit"').fetchone()[0]
    assert audits == 3


def test_a_lone_create_and_roles_take_the_plain_write(papp, monkeypatch):
    calls = []
    original = inline.write

    async def spy(app, fn, *args):
        calls.append(fn.__name__)
        return await original(app, fn, *args)
    monkeypatch.setattr(inline, "write", spy)
    api = create_app(papp)
    (one,) = _gather(api, [{"email": "solo@x"}])
    assert one.status_code == 201 and calls == ["create"]
    calls.clear()
    with papp.as_role("nobody"):
        group = inline.CreateGroup(papp["accounts"])

        async def run():
            return await asyncio.gather(group.create({"email": "r1@x"}, None),
                                        group.create({"email": "r2@x"}, None),
                                        return_exceptions=True)
        asyncio.run(run())
    assert calls == ["create", "create"]        # a role's creates are never grouped
