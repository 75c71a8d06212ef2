"""The epoch manifest of a durable cluster: one small JSON file tying its parts together.

A cluster opened with ``connect(..., path=DIR)`` keeps, under ``DIR``:

* ``shard-<i>/`` — each shard's file-backed Database (WAL + checkpoints, written by the
  shard's own process) and its prepared two-phase-commit records;
* ``mirror/`` — the coordinator's schema-only mirror (tables, views, roles), durable too;
* ``decisions/`` — the coordinator's commit decisions still being carried out;
* ``cluster.json`` (this module) — the shard count, the placement catalog (partition
  keys, REPLICATED tables) and the **epoch**: ``CHECKPOINT`` on a cluster connection
  takes the write barrier on every shard, checkpoints each, and records the shards'
  checkpoint versions under the next epoch number, so the per-shard checkpoints of one
  epoch are one consistent cut of the whole database.

It is written atomically (temporary file, fsync, rename) and read with ``json``; no code
is ever loaded from it.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from .. import errors
from .partition import TableInfo

NAME = "cluster.json"
FORMAT = "rustmemodb-cluster"


def read(path) -> dict | None:
    """The manifest in directory ``path`` (None: a new cluster)."""
    f = Path(path) / NAME
    if not f.exists():
        if Path(path).exists() and any(Path(path).iterdir()):
            raise errors.sql_error("58030", f'"{path}" is not a rustmemodb cluster directory',
                                   hint="Pass a new or empty directory.")
        return None
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise errors.sql_error("XX001", f"cannot read {f}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT or \
            not isinstance(data.get("shards"), int):
        raise errors.sql_error("XX001", f"{f} is not a cluster manifest")
    return data


def write(path, data: dict) -> None:
    from ..durability.wal import fsync_dir
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (NAME + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(dict(data, format=FORMAT), f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / NAME)
    fsync_dir(folder)


def catalog_to_json(catalog: dict) -> dict:
    return {name: asdict(info) for name, info in catalog.items()}


def catalog_from_json(data: dict) -> dict:
    out = {}
    for name, d in (data or {}).items():
        out[name] = TableInfo(str(d["name"]), [str(c) for c in d["columns"]],
                              [str(k) for k in d["key"]], bool(d["replicated"]),
                              {str(k): str(v) for k, v in d["types"].items()},
                              bool(d.get("explicit", False)))
    return out
