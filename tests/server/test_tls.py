"""TLS: SSLRequest answered ``S`` when the server has a certificate."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

import rustmemodb

psycopg = pytest.importorskip("psycopg")
OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl not installed")


@pytest.fixture
def tls_server(engine, tmp_path):
    cert, key = tmp_path / "server.crt", tmp_path / "server.key"
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=120)
    with rustmemodb.serve(engine, users={"admin": "pw"}, tls_cert=str(cert),
                          tls_key=str(key)) as srv:
        yield srv


def test_psycopg_over_tls(tls_server):
    dsn = f"host=127.0.0.1 port={tls_server.port} user=admin password=pw dbname=main"
    with psycopg.connect(dsn + " sslmode=require", autocommit=True) as conn:
        assert conn.pgconn.ssl_in_use
        assert conn.execute("SELECT %s::int + 1", (41,)).fetchone() == (42,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(dsn.replace("pw", "bad") + " sslmode=require")


def test_psql_over_tls(tls_server):
    env = dict(os.environ, PGPASSWORD="pw", PGSSLMODE="require")
    out = subprocess.run(["psql", "-X", "-h", "127.0.0.1", "-p", str(tls_server.port), "-U",
                          "admin", "-d", "main", "-c", "\\conninfo", "-c", "SELECT 1"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "SSL connection (protocol: TLSv1." in out.stdout


def test_tls_needs_both_files(engine):
    with pytest.raises(ValueError, match="both"):
        rustmemodb.serve(engine, auth="trust", tls_cert="x.pem")
