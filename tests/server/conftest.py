"""Fixtures for the wire server tests: a database served on a free loopback port."""
from __future__ import annotations

import pytest

import rustmemodb

USER, PASSWORD = "admin", "s3cret"


@pytest.fixture
def engine():
    conn = rustmemodb.connect()
    yield conn
    conn.close()


@pytest.fixture
def server(engine):
    with rustmemodb.serve(engine, users={USER: PASSWORD}) as srv:
        yield srv


@pytest.fixture
def dsn(server):
    return f"host=127.0.0.1 port={server.port} user={USER} password={PASSWORD} dbname=main"


@pytest.fixture
def login(server):
    """Keyword arguments for drivers that take them (asyncpg)."""
    return {"host": "127.0.0.1", "port": server.port, "user": USER, "password": PASSWORD,
            "database": "main"}
