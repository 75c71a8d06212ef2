"""Root test configuration: kept minimal on purpose (suites own their fixtures).

The repo root is on sys.path (pyproject `pythonpath`), so tests import the unpackaged
`datasets` and `bench` folders directly.  The one shared fixture is ``pg_dsn``: a
PostgreSQL server (a throwaway cluster, ``tests/pg_server.py``) that the differential
tests and the sqllogictest replay compare rustmemodb with, and that the lab's external
connections and the CLI's wire paths talk to (``pg_url``: the same server as a URL).
No suite starts a PostgreSQL of its own.
"""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pg_server  # noqa: E402  (tests/pg_server.py)

# jupysql (a test/bench dependency) must not phone home for telemetry or version checks.
os.environ.setdefault("PLOOMBER_STATS_ENABLED", "false")
os.environ.setdefault("PLOOMBER_VERSION_CHECK_DISABLED", "true")


@pytest.fixture(scope="session")
def pg_dsn():
    """A DSN of a PostgreSQL server for differential checks: ``$RUSTMEMODB_TEST_PG_DSN``
    or a throwaway cluster started on first use (~2 s) and removed at session end."""
    external = pg_server.external_dsn()
    if external:
        yield external
        return
    reason = pg_server.unavailable_reason()
    if reason is not None:
        pytest.skip(f"no PostgreSQL to compare with: {reason}")
    server = pg_server.ThrowawayPostgres(pg_server.find_bin_dir()).start()
    try:
        yield server.dsn
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_url(pg_dsn):
    """The ``pg_dsn`` server as a ``postgresql://`` URL (SQLAlchemy, the CLI's ``--dsn``)."""
    return pg_server.as_url(pg_dsn)
