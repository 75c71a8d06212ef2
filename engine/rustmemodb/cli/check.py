"""``rustmemodb check PATH``: is this database directory healthy? Modifies nothing.

Prints the report of the engine's ``rustmemodb.check(path)`` (every checksum, the
manifest, Arrow validation, the whole log and its replay, reported instead of
raised; no lock taken, no file changed). ``--json`` prints it as one JSON object.

Exit status: 0 when the report is ok (a torn log tail counts: opening cuts it as
the normal end of a crash), 1 when the directory is damaged or not a database.
``rustmemodb.repair(path)`` is the explicit action that cuts damage away.
"""
from __future__ import annotations

import json


def run_check(path: str, *, as_json: bool = False) -> int:
    import rustmemodb
    report = rustmemodb.check(path)
    if as_json:
        print(json.dumps(report.as_dict(), default=str))
    else:
        print(report)
        if not report.ok and report.repairable:
            print("  rustmemodb.repair(path) can cut the damage away (keeping a backup)")
    return 0 if report.ok else 1
