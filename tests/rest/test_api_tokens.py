"""API tokens tied to database roles: ``create_app(app, auth="tokens")`` runs each
request as its token's role, so GRANT/REVOKE decide (42501 is 403); unknown, revoked
and expired tokens are 401 with ``WWW-Authenticate: Bearer``; tokens are stored
hashed in a durable table and survive reopening the database."""
import datetime as dt
import hashlib
import subprocess
import sys
import uuid

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from rustmemodb import errors  # noqa: E402
from rustmemodb.persist import PersistApp  # noqa: E402
from rustmemodb.persist.rest import create_app  # noqa: E402
from rustmemodb.persist.rest.tokens import (TABLE, issue_token, list_tokens,  # noqa: E402
                                            resolve_token, revoke_token)

NOTE = {"type": "object", "title": "Note",
        "properties": {"text": {"type": "string"}, "stars": {"type": ["integer", "null"]}},
        "required": ["text"]}


def setup_roles(app):
    conn = app.connect()
    for sql in ("CREATE ROLE admin LOGIN SUPERUSER",
                "CREATE ROLE reader LOGIN", "GRANT SELECT ON notes TO reader",
                "CREATE ROLE writer LOGIN",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON notes TO writer",
                "CREATE ROLE nologin NOLOGIN", "GRANT SELECT ON notes TO nologin"):
        conn.execute(sql)
    conn.close()


@pytest.fixture
def papp():
    app = PersistApp.open()
    app.collection("notes", NOTE)
    setup_roles(app)
    yield app
    app.close()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_read_only_token_can_get_but_not_post(papp):
    seeded = papp["notes"].create({"text": "seeded"})
    reader, writer = issue_token(papp, "reader"), issue_token(papp, "writer")
    with TestClient(create_app(papp, auth="tokens")) as c:
        r = c.get("/api/notes", headers=bearer(reader))
        assert r.status_code == 200 and r.json()["total"] == 1
        assert c.get(f"/api/notes/{seeded._id}", headers=bearer(reader)).status_code == 200
        r = c.post("/api/notes", json={"text": "nope"}, headers=bearer(reader))
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["sqlstate"] == "42501" and "permission denied" in body["detail"]
        assert papp["notes"].count() == 1                    # nothing changed
        r = c.patch(f"/api/notes/{seeded._id}", json={"text": "x"}, headers=bearer(reader))
        assert r.status_code == 403 and r.json()["sqlstate"] == "42501"
        r = c.delete(f"/api/notes/{seeded._id}", headers=bearer(reader))
        assert r.status_code == 403
        # the writer may; its audit record names the role
        r = c.post("/api/notes", json={"text": "hi"}, headers=bearer(writer))
        assert r.status_code == 201, r.text
        new_id = r.json()["_id"]
        r = c.get(f"/api/notes/{new_id}/_audits", headers=bearer(writer))
        assert r.status_code == 200 and r.json()[0]["actor"] == "writer"
    assert papp["notes"].count() == 2


def test_grant_and_revoke_apply_at_once(papp):
    reader = issue_token(papp, "reader")
    conn = papp.connect()
    with TestClient(create_app(papp, auth="tokens")) as c:
        assert c.post("/api/notes", json={"text": "a"},
                      headers=bearer(reader)).status_code == 403
        conn.execute("GRANT INSERT ON notes TO reader")
        made = c.post("/api/notes", json={"text": "a"}, headers=bearer(reader))
        assert made.status_code == 201
        audits = f"/api/notes/{made.json()['_id']}/_audits"
        assert c.get(audits, headers=bearer(reader)).status_code == 200
        conn.execute("REVOKE SELECT ON notes FROM reader")
        r = c.get("/api/notes", headers=bearer(reader))
        assert r.status_code == 403 and r.json()["sqlstate"] == "42501"
        assert c.get(audits, headers=bearer(reader)).status_code == 403
    conn.close()


def test_missing_unknown_revoked_expired_tokens_are_401(papp):
    good = issue_token(papp, "reader")
    short = issue_token(papp, "reader", expires=dt.timedelta(seconds=-1))
    with TestClient(create_app(papp, auth="tokens")) as c:
        for headers in ({}, {"Authorization": "Basic abc"}, bearer("rmdb_nope_nope"),
                        bearer(short)):
            r = c.get("/api/notes", headers=headers)
            assert r.status_code == 401, headers
            assert r.headers["www-authenticate"].startswith("Bearer")
            assert r.headers["content-type"].startswith("application/problem+json")
        assert c.get("/api/notes", headers=bearer(good)).status_code == 200
        assert revoke_token(papp, good) is True
        r = c.get("/api/notes", headers=bearer(good))
        assert r.status_code == 401 and r.json()["sqlstate"] == "28P01"
        assert revoke_token(papp, good) is False             # already revoked


def test_role_without_login_is_403_and_dropped_role_401(papp):
    nologin = issue_token(papp, "nologin")
    temp_conn = papp.connect()
    temp_conn.execute("CREATE ROLE temp LOGIN")
    temp = issue_token(papp, "temp")
    with TestClient(create_app(papp, auth="tokens")) as c:
        r = c.get("/api/notes", headers=bearer(nologin))
        assert r.status_code == 403 and r.json()["sqlstate"] == "28000"
        assert c.get("/api/notes", headers=bearer(temp)).status_code == 403   # no grant
        temp_conn.execute("DROP ROLE temp")
        r = c.get("/api/notes", headers=bearer(temp))
        assert r.status_code == 401
    temp_conn.close()


def test_unknown_role_cannot_get_a_token(papp):
    with pytest.raises(errors.Error) as info:
        issue_token(papp, "ghost")
    assert info.value.sqlstate == "42704"


def test_only_the_hash_is_stored_and_listing(papp):
    token = issue_token(papp, "reader", label="ci")
    issue_token(papp, "writer")
    conn = papp.connect()
    rows = conn.execute(f'SELECT "token_hash", "role" FROM "{TABLE}"').fetchall()
    conn.close()
    assert (hashlib.sha256(token.encode()).hexdigest(), "reader") in rows
    assert not any(token in str(v) for row in rows for v in row)
    listed = list_tokens(papp, "reader")
    assert [(t.role, t.label, t.active) for t in listed] == [("reader", "ci", True)]
    assert len(list_tokens(papp)) == 2
    assert revoke_token(papp, listed[0].id) is True          # by its public id
    assert list_tokens(papp, "reader")[0].active is False


def test_the_token_table_is_not_readable_by_roles(papp):
    issue_token(papp, "writer")
    papp.connect().execute("ALTER ROLE writer PASSWORD 'pw'")
    conn = papp.database.connect(user="writer", password="pw")
    with pytest.raises(errors.Error) as info:
        conn.execute(f'SELECT * FROM "{TABLE}"')
    assert info.value.sqlstate == "42501"
    conn.close()


def test_idempotency_keys_are_per_role(papp):
    conn = papp.connect()
    conn.execute("GRANT SELECT, INSERT ON notes TO reader")
    conn.close()
    a, b = issue_token(papp, "writer"), issue_token(papp, "reader")
    with TestClient(create_app(papp, auth="tokens")) as c:
        key = {"Idempotency-Key": str(uuid.uuid4())}
        r1 = c.post("/api/notes", json={"text": "x"}, headers={**bearer(a), **key})
        r2 = c.post("/api/notes", json={"text": "x"}, headers={**bearer(b), **key})
        r3 = c.post("/api/notes", json={"text": "x"}, headers={**bearer(a), **key})
        assert (r1.status_code, r2.status_code, r3.status_code) == (201, 201, 201)
        assert r1.json()["_id"] == r3.json()["_id"] != r2.json()["_id"]
    assert papp["notes"].count() == 2


def test_static_token_still_works_and_options_exclude_each_other(papp):
    with TestClient(create_app(papp, token="s3cret")) as c:
        assert c.get("/api/notes").status_code == 401
        assert c.post("/api/notes", json={"text": "ok"},
                      headers=bearer("s3cret")).status_code == 201
    with pytest.raises(ValueError):
        create_app(papp, token="s3cret", auth="tokens")
    with pytest.raises(ValueError):
        create_app(papp, auth="magic")


def test_openapi_declares_bearer_security(papp):
    with TestClient(create_app(papp, auth="tokens")) as c:
        doc = c.get("/api/_openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_tokens_survive_reopen_and_cli(tmp_path):
    path = str(tmp_path / "db")
    app = PersistApp.open(path)
    app.collection("notes", NOTE)
    setup_roles(app)
    token = issue_token(app, "reader")
    revoked = issue_token(app, "writer")
    revoke_token(app, revoked)
    app.close()
    # the CLI issues one more while no server has the directory open
    env_path = ":".join(p for p in sys.path if p)
    out = subprocess.run([sys.executable, "-m", "rustmemodb.cli", "token", "--db", path,
                          "--user", "writer", "--label", "cli"], capture_output=True,
                         text=True, env={"PYTHONPATH": env_path}, timeout=120)
    assert out.returncode == 0, out.stderr
    cli_token = out.stdout.strip()
    assert cli_token.startswith("rmdb_")
    listing = subprocess.run([sys.executable, "-m", "rustmemodb.cli", "token", "--db", path,
                              "--list"], capture_output=True, text=True,
                             env={"PYTHONPATH": env_path}, timeout=120)
    assert listing.returncode == 0 and listing.stdout.count("\n") == 3
    assert "revoked" in listing.stdout and cli_token not in listing.stdout
    app = PersistApp.open(path)
    app.collection("notes", NOTE)
    try:
        assert resolve_token(app, token) == "reader"
        with TestClient(create_app(app, auth="tokens")) as c:
            assert c.get("/api/notes", headers=bearer(token)).status_code == 200
            assert c.get("/api/notes", headers=bearer(revoked)).status_code == 401
            assert c.post("/api/notes", json={"text": "t"},
                          headers=bearer(cli_token)).status_code == 201
            assert c.post("/api/notes", json={"text": "t"},
                          headers=bearer(token)).status_code == 403
    finally:
        app.close()


def test_runtime_commands_run_as_the_role_and_the_app_keeps_its_records():
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "persist"))
    from runtime_bank import build
    app = PersistApp.open()
    rt = build(app)
    conn = app.connect()
    for sql in ("CREATE ROLE admin LOGIN SUPERUSER", "CREATE ROLE teller LOGIN",
                "GRANT SELECT, INSERT, UPDATE ON accounts TO teller",
                "CREATE ROLE auditor LOGIN", "GRANT SELECT ON accounts TO auditor"):
        conn.execute(sql)
    conn.close()
    teller, auditor = issue_token(app, "teller"), issue_token(app, "auditor")
    open_ann = {"entity_type": "account", "command": "open",
                "payload": {"owner": "ann", "initial": 5}}
    try:
        with TestClient(create_app(app, runtime=rt, auth="tokens")) as c:
            r = c.post("/api/_commands", json=open_ann, headers=bearer(auditor))
            assert r.status_code == 403 and r.json()["sqlstate"] == "42501"
            r = c.post("/api/_commands", json=open_ann, headers=bearer(teller))
            assert r.status_code == 201, r.text
        # journal, outbox and projections were written although the teller has no
        # privilege on them: they are the app's bookkeeping of a permitted command
        assert [j.command for j in rt.journal.read()] == ["open"]
        assert [o.topic for o in rt.outbox.pending()] == ["account.opened"]
        assert app.connect().execute('SELECT "owner" FROM "by_owner"').fetchall() == [("ann",)]
    finally:
        app.close()


def test_serve_rest_auth_tokens(tmp_path):
    import os
    import socket
    import time
    from pathlib import Path

    import httpx

    import rustmemodb
    path = str(tmp_path / "db")
    app = PersistApp.open(path)
    app.collection("notes", NOTE)
    setup_roles(app)
    reader = issue_token(app, "reader")
    app.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engine = str(Path(rustmemodb.__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if k != "RUSTMEMODB_REST_TOKEN"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rustmemodb.cli", "serve-rest", "--db", path,
         "--port", str(port), "--auth", "tokens"],
        env={**env, "PYTHONPATH": engine}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, proc.stderr.read()
                try:
                    r = c.get("/api/notes", headers=bearer(reader))
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "serve-rest did not start"
                    time.sleep(0.1)
            assert r.status_code == 200 and r.json()["total"] == 0
            r = c.post("/api/notes", json={"text": "no"}, headers=bearer(reader))
            assert r.status_code == 403 and r.json()["sqlstate"] == "42501"
            r = c.get("/api/notes")
            assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()
