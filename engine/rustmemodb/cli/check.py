"""``rustmemodb check PATH``: is this database directory healthy? Modifies nothing.

With the engine's ``rustmemodb.check(path)`` (every checksum, the manifest, the
whole log and its replay, reported instead of raised) this prints its report.
Where that API is missing (an older engine), the fallback copies the directory
to a temporary place and recovers the copy: opening runs the same verification
and refuses damage with XX001, and the original is never opened, locked or cut.

Exit status: 0 healthy (including a torn log tail, which opening cuts as a normal
crash end), 1 damaged or not a database.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path


def check_path(path: str) -> dict:
    """A report dict: ``path``, ``ok``, ``status``, ``problem``, ``sqlstate`` and more."""
    import rustmemodb
    engine_check = getattr(rustmemodb, "check", None)
    if engine_check is not None:
        report = engine_check(path)
        return {**report.as_dict(), "text": str(report)}
    return _check_by_recovering_a_copy(path)


def _check_by_recovering_a_copy(path: str) -> dict:
    from rustmemodb.durability import open_database
    directory = Path(os.fspath(path)).expanduser().resolve()
    base = {"path": str(directory), "method": "recovered a copy"}
    if not directory.is_dir():
        return {**base, "ok": False, "status": "not-a-database", "sqlstate": "58030",
                "problem": f"{directory} is not a directory"}
    if not (directory / "RUSTMEMODB").exists():
        return {**base, "ok": False, "status": "not-a-database", "sqlstate": "58030",
                "problem": f"{directory} holds no rustmemodb database (no RUSTMEMODB marker)"}
    with tempfile.TemporaryDirectory(prefix="rustmemodb-check-") as tmp:
        copy = Path(tmp) / "db"
        shutil.copytree(directory, copy, ignore=shutil.ignore_patterns("LOCK"))
        try:
            db = open_database(copy, "none", create=False, checkpoint_on_close=False)
        except Exception as exc:
            return {**base, "ok": False, "status": "damaged",
                    "sqlstate": getattr(exc, "sqlstate", None),
                    "problem": getattr(exc, "message", str(exc)),
                    "detail": getattr(exc, "detail", None)}
        try:
            tables = {name: db.row_count(name) for name in sorted(db.tables())}
        finally:
            db.close()
    return {**base, "ok": True, "status": "ok", "problem": None, "tables": tables}


def format_report(report: dict) -> str:
    if report.get("text"):
        return report["text"]
    lines = [f"{report['path']}: {report['status']}"]
    if report.get("problem"):
        lines.append(f"  {report.get('sqlstate') or ''} {report['problem']}".rstrip())
    if report.get("detail"):
        lines.append(f"  detail: {report['detail']}")
    for name, rows in (report.get("tables") or {}).items():
        lines.append(f"  table {name}: {rows:,} rows")
    return "\n".join(lines)


def run_check(path: str, *, as_json: bool = False) -> int:
    try:
        report = check_path(path)
    except Exception as exc:   # an engine error the check itself could not classify
        report = {"path": path, "ok": False, "status": "damaged",
                  "sqlstate": getattr(exc, "sqlstate", None), "problem": str(exc)}
    if as_json:
        print(json.dumps({k: v for k, v in report.items() if k != "text"}, default=str))
    else:
        print(format_report(report))
    return 0 if report.get("ok") else 1
