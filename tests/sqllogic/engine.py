"""The backend for rustmemodb, the database under test.

Each ``.test`` file gets a fresh in-memory database from ``rustmemodb.connect()``;
labelled connections come from ``default.database.connect()``.  Only exceptions
derived from ``rustmemodb.Error`` count as SQL errors; anything else (``TypeError``,
``KeyError`` ...) is reported as an internal error of the engine.

If ``rustmemodb`` is not importable (not yet installed into the venv), the
``engine/`` directory of the repository is put on ``sys.path`` as a fallback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


def import_engine():
    """Import and return the ``rustmemodb`` module."""
    try:
        import rustmemodb  # noqa: PLC0415
    except ImportError:
        engine_dir = REPO_ROOT / "engine"
        if not (engine_dir / "rustmemodb").is_dir():
            raise
        sys.path.insert(0, str(engine_dir))
        import rustmemodb  # noqa: PLC0415
    return rustmemodb


class RustMemDBBackend:
    """Runs records against an embedded rustmemodb database."""

    name = "rustmemodb"
    skip_pg_deviations = False
    check_messages = True

    def __init__(self) -> None:
        self.module = import_engine()
        self.error_class = self.module.Error

    def connect(self) -> Any:
        return self.module.connect()

    def connect_more(self, default: Any) -> Any:
        return default.database.connect()

    def close(self, connections: list[Any]) -> None:
        for conn in reversed(connections):
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass

    def prepare_sql(self, sql: str) -> str:
        return sql

    def is_sql_error(self, exc: BaseException) -> bool:
        return isinstance(exc, self.error_class)

    def sqlstate(self, exc: BaseException) -> str | None:
        return getattr(exc, "sqlstate", None)

    def normalize(self, value: Any) -> Any:
        return value
