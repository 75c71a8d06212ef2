"""CRUD routes, ETags, conditional requests, listing, audits and bulk over TestClient."""
import uuid


def make(client, **kw):
    body = {"name": "Ann", "email": f"{uuid.uuid4().hex}@x", **kw}
    r = client.post("/api/users", json=body)
    assert r.status_code == 201, r.text
    return r


def test_create_returns_201_location_etag(client, papp):
    r = make(client, age=30)
    body = r.json()
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == f"/api/users/{body['_id']}"
    assert body["_version"] == 1 and body["name"] == "Ann" and body["age"] == 30
    assert body["_created_at"].endswith("Z")
    assert papp["users"].get(body["_id"]).age == 30


def test_get_etag_and_if_none_match(client):
    loc = make(client).headers["location"]
    r = client.get(loc)
    assert r.status_code == 200 and r.headers["etag"] == '"1"'
    r = client.get(loc, headers={"If-None-Match": '"1"'})
    assert r.status_code == 304 and r.headers["etag"] == '"1"' and r.content == b""
    assert client.get(loc, headers={"If-None-Match": '"7"'}).status_code == 200


def test_get_missing_is_404_problem(client):
    r = client.get(f"/api/users/{uuid.uuid4()}")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    p = r.json()
    assert p["status"] == 404 and p["sqlstate"] == "P0002" and p["request_id"]
    assert r.headers["x-request-id"] == p["request_id"]
    assert client.get("/api/users/not-a-uuid").status_code == 404


def test_request_id_is_echoed(client):
    r = client.get(f"/api/users/{uuid.uuid4()}", headers={"X-Request-Id": "req-42"})
    assert r.json()["request_id"] == "req-42" and r.headers["x-request-id"] == "req-42"


def test_patch_is_a_merge_patch_with_if_match(client, papp):
    loc = make(client, age=1, prefs={"theme": "dark", "lang": "en"}).headers["location"]
    r = client.patch(loc, json={"age": 2, "prefs": {"lang": None, "tz": "UTC"}},
                     headers={"If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["prefs"] == {"theme": "dark", "tz": "UTC"} and r.json()["age"] == 2
    r = client.patch(loc, json={"age": None})          # null clears an optional field
    assert r.json()["age"] is None and r.json()["_version"] == 3


def test_stale_if_match_is_412_and_changes_nothing(client, papp):
    loc = make(client, age=1).headers["location"]
    client.patch(loc, json={"age": 2})
    r = client.patch(loc, json={"age": 9}, headers={"If-Match": '"1"'})
    assert r.status_code == 412 and r.json()["sqlstate"] == "40001"
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get(loc).json()["age"] == 2
    assert client.put(loc, json={"name": "B", "email": "b@x"},
                      headers={"If-Match": '"1"'}).status_code == 412
    assert client.delete(loc, headers={"If-Match": '"1"'}).status_code == 412
    assert client.get(loc).status_code == 200


def test_put_replaces_the_entity(client):
    loc = make(client, age=5, prefs={"a": 1}).headers["location"]
    r = client.put(loc, json={"name": "Bob", "email": "bob@x"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200
    assert r.json()["age"] is None and r.json()["prefs"] is None and r.json()["name"] == "Bob"
    assert r.headers["etag"] == '"2"'
    r = client.put(loc, json={"name": "Bob"})
    assert r.status_code == 422
    assert [e["pointer"] for e in r.json()["errors"]] == ["/email"]


def test_delete_is_204_then_404(client):
    loc = make(client).headers["location"]
    r = client.delete(loc)
    assert r.status_code == 204 and r.content == b""
    assert client.get(loc).status_code == 404
    assert client.delete(loc).status_code == 404


def test_validation_errors_are_422_with_json_pointers(client):
    r = client.post("/api/users", json={"name": 3, "email": "e@x", "prefs": "x"})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    p = r.json()
    assert p["sqlstate"] == "22023"
    assert sorted(e["pointer"] for e in p["errors"]) == ["/name", "/prefs"]
    r = client.post("/api/notes", json={"stars": 2})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/text"
    r = client.post("/api/users", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["sqlstate"] == "22P02"
    loc = make(client).headers["location"]
    r = client.patch(loc, json={"age": "old"})
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/age"


def test_unique_conflict_is_409(client):
    make(client, email="same@x")
    r = client.post("/api/users", json={"name": "B", "email": "same@x"})
    assert r.status_code == 409 and r.json()["sqlstate"] == "23505"


def test_list_filters_sort_and_pages(client):
    for name, age in [("Cy", 40), ("Ann", 30), ("Bo", 30), ("Di", 20)]:
        make(client, name=name, age=age)
    r = client.get("/api/users", params={"sort": "-age,name"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 4 and [u["name"] for u in body["items"]] == ["Cy", "Ann", "Bo", "Di"]
    r = client.get("/api/users", params={"age": "30", "sort": "name"}).json()
    assert r["total"] == 2 and [u["name"] for u in r["items"]] == ["Ann", "Bo"]
    r = client.get("/api/users", params={"sort": "age", "page": 2, "size": 3}).json()
    assert r["total"] == 4 and [u["name"] for u in r["items"]] == ["Cy"]
    assert client.get("/api/users", params={"nope": 1}).status_code == 422
    assert client.get("/api/users", params={"age": "x"}).status_code == 422
    assert client.get("/api/users", params={"sort": "-zzz"}).status_code == 422
    assert client.get("/api/users", params={"size": 0}).status_code == 422


def test_audits_route(client):
    loc = make(client).headers["location"]
    client.patch(loc, json={"age": 3})
    r = client.get(loc + "/_audits")
    assert r.status_code == 200
    assert [(a["operation"], a["version_after"]) for a in r.json()] == [("create", 1),
                                                                          ("patch", 2)]
    assert r.json()[1]["changed"] == ["age"]
    assert client.get(f"/api/users/{uuid.uuid4()}/_audits").status_code == 404


def test_bulk_is_all_or_nothing(client, papp):
    a = make(client, age=1).json()
    ops = [{"op": "create", "data": {"name": "N1", "email": "n1@x"}},
           {"op": "patch", "id": a["_id"], "data": {"age": 2}, "version": 1},
           {"op": "create", "data": {"name": "N2", "email": "n2@x"}}]
    r = client.post("/api/users/_bulk", json=ops)
    assert r.status_code == 200, r.text
    assert [i["_version"] for i in r.json()["items"]] == [1, 2, 1]
    assert papp["users"].count() == 3
    bad = [{"op": "create", "data": {"name": "N3", "email": "n3@x"}},
           {"op": "delete", "id": a["_id"]},
           {"op": "create", "data": {"name": 7}}]
    r = client.post("/api/users/_bulk", json=bad)
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/2/data/name"
    stale = [{"op": "delete", "id": a["_id"]}, {"op": "patch", "id": a["_id"], "data": {}}]
    assert client.post("/api/users/_bulk", json=stale).status_code == 404
    assert papp["users"].count() == 3 and papp["users"].get(a["_id"]) is not None
    dup = [{"op": "create", "data": {"name": "X", "email": "n1@x"}}]
    assert client.post("/api/users/_bulk", json=dup).status_code == 409


def test_unknown_route_and_method_are_problems(client):
    r = client.get("/api/nothing")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = client.put("/api/users")
    assert r.status_code == 405


def test_concurrent_merge_patches_lose_no_nested_key(client):
    import threading
    loc = make(client, prefs={}).headers["location"]
    failures = []

    def worker(i):
        for _ in range(50):                       # 409 (write-write after retries): again
            r = client.patch(loc, json={"prefs": {f"k{i}": i}})
            if r.status_code == 200:
                return
            if r.status_code != 409:
                failures.append(r.text)
                return
        failures.append("gave up")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    body = client.get(loc).json()
    assert body["prefs"] == {f"k{i}": i for i in range(6)} and body["_version"] == 7
