"""Checkpoints: the committed root as Arrow IPC chunk files plus a manifest.

Frozen chunks never change, so a checkpoint is *incremental*: each chunk is
written once, to ``chunks/<random id>.arrow`` (Arrow IPC file format, one batch,
its rowids as a trailing ``__rowid`` column), and later checkpoints list the
same file again. ``Files`` remembers which in-memory chunk (by ``Chunk.id``)
lives in which file. What does change between checkpoints is small and goes in
one sidecar, ``state-<lsn>-<id>.bin`` (``values.py`` MessagePack): per-chunk
deletion bitmaps, row tails.

The manifest ``manifest-<root version, 20 digits>.json`` is the commit point.
It is written to a temp file, fsync'ed, renamed into place and the directory
fsync'ed. It records the LSN the checkpoint covers, whether the log continues
after it (``wal``), the tables (schema, chunk files with row counts, sizes and
CRC32C, counters, index definitions), views, sequences and the sidecar's CRC32C;
the manifest carries a CRC32C of its own body too. The newest manifest is used;
the one before it, its files and the log since its LSN are kept until the next
checkpoint is complete, so a damaged newest checkpoint falls back to the older
one plus the log (``recover.py``).

Loading verifies everything before use: the manifest's checksum and shape, every
file's size and CRC32C, and Arrow's full validation of each batch. A problem is
``Damage`` (XX001), never a Python error from deep inside Arrow or numpy.
"""
from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path

import google_crc32c
import pyarrow as pa

from .. import types
from ..storage import roles, sequence_defs
from ..storage.root import Root, ViewDef
from ..storage.table import Chunk
from . import tables as T
from . import values
from .damage import Damage
from .records import (decode_composite, decode_domain, decode_enum, decode_function, encode_domain,
                      encode_function)
from .wal import fsync_dir

FORMAT = 2
_MANIFEST_RE = re.compile(r"^manifest-(\d{20})\.json$")


def manifest_name(version: int) -> str:
    return f"manifest-{version:020d}.json"


def list_manifests(directory: Path) -> list[tuple[int, Path]]:
    """(root version, path) of every manifest, newest first."""
    out = []
    for p in directory.glob("manifest-*.json"):
        m = _MANIFEST_RE.match(p.name)
        if m:
            out.append((int(m.group(1)), p))
    return sorted(out, reverse=True)


class Files:
    """Chunk id -> (file name, size, crc32c) for chunks already on disk."""

    def __init__(self) -> None:
        self.by_chunk: dict[int, tuple[str, int, int]] = {}


def write_checkpoint(directory: Path, root: Root, lsn: int, files: Files, *,
                     wal: bool) -> dict:
    """Write the chunks ``root`` has that are not on disk yet, then the manifest."""
    chunk_dir = directory / "chunks"
    written: dict[int, tuple[str, int, int]] = {}
    tables, state = {}, {}
    new_files = False
    for name, version in root.tables.items():
        version = version.settled()
        entries = []
        for chunk in version.chunks:
            known = files.by_chunk.get(chunk.id) or written.get(chunk.id)
            if known is None:
                known = _write_chunk(chunk_dir, chunk)
                new_files = True
            written[chunk.id] = known
            entries.append({"file": known[0], "rows": len(chunk), "bytes": known[1],
                            "crc32c": known[2]})
        meta = T.version_meta(version)
        meta["chunks"] = entries
        tables[name] = meta
        state[name] = {"dead": [T.pack_mask(m) for m in version.dead],
                       "tail": T.tail_rows(version), "tail_dead": sorted(version.tail_dead)}
    if new_files:
        fsync_dir(chunk_dir)
    state_name = f"state-{lsn}-{uuid.uuid4().hex[:8]}.bin"
    state_bytes = values.pack(state)
    _write_durably(directory / state_name, state_bytes)
    body = {
        "format": FORMAT, "lsn": lsn, "wal": wal, "version": root.version,
        "catalog_version": root.catalog_version, "written_at": time.time(),
        "state": {"file": state_name, "bytes": len(state_bytes),
                  "crc32c": google_crc32c.value(state_bytes)},
        "tables": tables,
        "views": {n: {"sql": v.sql, "columns": list(v.columns),
                      **({"comment": v.comment} if v.comment is not None else {}),
                      **({"check_option": v.check_option} if v.check_option else {}),
                      **({"defaults": [list(d) for d in v.defaults]} if v.defaults else {})}
                  for n, v in root.views.items()},
        "sequences": dict(root.sequences),
        "auth": roles.encode(root.auth),
        "functions": {n: list(encode_function(f)) for n, f in root.functions.items()},
        "enums": {n: list(labels) for n, labels in root.enums.items()},
        "seqdefs": {n: sequence_defs.encode(d) for n, d in root.seqdefs.items()},
        "domains": {n: encode_domain(d) for n, d in root.domains.items()},
        "composites": dict(root.composites),
    }
    name = manifest_name(root.version)
    text = json.dumps({"manifest": body, "crc32c": _body_crc(body)}, indent=1).encode()
    tmp = directory / (name + ".tmp")
    _write_durably(tmp, text)
    os.replace(tmp, directory / name)
    fsync_dir(directory)
    files.by_chunk = written
    body["name"] = name
    return body


def _body_crc(body: dict) -> int:
    return google_crc32c.value(json.dumps(body, sort_keys=True, separators=(",", ":"))
                               .encode())


def _write_chunk(chunk_dir: Path, chunk: Chunk) -> tuple[str, int, int]:
    batch = T.chunk_batch(chunk)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, batch.schema) as writer:
        writer.write_batch(batch)
    buf = sink.getvalue()
    name = f"{uuid.uuid4().hex}.arrow"
    _write_durably(chunk_dir / name, buf)
    return name, buf.size, google_crc32c.value(buf)


def _write_durably(path: Path, data) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def referenced_files(body: dict) -> set[str]:
    """Every file (relative to the directory) a manifest body needs."""
    out = {body["state"]["file"]}
    for meta in body["tables"].values():
        out.update("chunks/" + e["file"] for e in meta["chunks"])
    return out


def remove_unreferenced(directory: Path, keep: list[dict]) -> None:
    """Delete manifests, chunk files and sidecars that none of ``keep`` lists."""
    needed = set()
    names = set()
    for body in keep:
        needed |= referenced_files(body)
        names.add(body["name"])
    for _, p in list_manifests(directory):
        if p.name not in names:
            _unlink(p)
    for p in (directory / "chunks").glob("*.arrow"):
        if "chunks/" + p.name not in needed:
            _unlink(p)
    for p in directory.glob("state-*.bin"):
        if p.name not in needed:
            _unlink(p)
    for p in directory.glob("manifest-*.json.tmp"):
        _unlink(p)


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


# ---- loading ------------------------------------------------------------------------------

def read_manifest(path: Path) -> dict:
    """A manifest's body, checked for checksum and shape (Damage otherwise)."""
    m = _MANIFEST_RE.match(path.name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise Damage(f"the checkpoint manifest {path.name} cannot be read: {exc}",
                     file=path) from None
    try:
        doc = json.loads(raw)
        body = doc["manifest"]
        if not isinstance(body, dict) or doc.get("crc32c") != _body_crc(body):
            raise ValueError("it fails its checksum")
        if body.get("format") != FORMAT:
            raise ValueError(f"format {body.get('format')!r} is not supported "
                             f"(expected {FORMAT})")
        _check_body(body)
        if m is None or int(m.group(1)) != body["version"]:
            raise ValueError("its name does not match the version it holds")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise Damage(f"the checkpoint manifest {path.name} is damaged: {exc}",
                     file=path) from None
    body["name"] = path.name
    return body


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _need(ok: bool, what: str) -> None:
    if not ok:
        raise ValueError(f"malformed {what}")


def _safe_name(name) -> bool:
    return isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9_.\-]+", name) is not None \
        and name not in (".", "..")


def _check_body(body: dict) -> None:
    for key in ("lsn", "version", "catalog_version"):
        _need(_is_int(body.get(key)), key)
    _need(isinstance(body.get("wal"), bool), "wal flag")
    st = body.get("state")
    _need(isinstance(st, dict) and _safe_name(st.get("file")) and _is_int(st.get("bytes"))
          and _is_int(st.get("crc32c")), "state entry")
    _need(isinstance(body.get("tables"), dict), "tables")
    for name, meta in body["tables"].items():
        _need(isinstance(meta, dict) and _is_int(meta.get("tail_rowid0"))
              and _is_int(meta.get("live_rows")) and isinstance(meta.get("chunks"), list)
              and isinstance(meta.get("indexes"), list), f'table "{name}"')
        for e in meta["chunks"]:
            _need(isinstance(e, dict) and _safe_name(e.get("file")) and _is_int(e.get("rows"))
                  and _is_int(e.get("bytes")) and _is_int(e.get("crc32c")),
                  f'chunk entry of table "{name}"')
        for spec in meta["indexes"]:
            _need(isinstance(spec, dict) and isinstance(spec.get("name"), str)
                  and isinstance(spec.get("columns"), list)
                  and all(isinstance(c, (str, int)) for c in spec["columns"]),
                  f'index of table "{name}"')
    views = body.get("views")
    _need(isinstance(views, dict) and all(
        isinstance(v, dict) and isinstance(v.get("sql"), str)
        and isinstance(v.get("columns"), list) and all(isinstance(c, str) for c in v["columns"])
        and isinstance(v.get("comment", ""), str)
        and v.get("check_option", "local") in ("local", "cascaded")
        and isinstance(v.get("defaults", []), list) and all(
            isinstance(d, list) and len(d) == 2 and all(isinstance(x, str) for x in d)
            for d in v.get("defaults", []))
        for v in views.values()), "views")
    seqs = body.get("sequences")
    _need(isinstance(seqs, dict) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in seqs.values()), "sequences")


def load_checkpoint(directory: Path, body: dict, files: Files) -> Root:
    """The root a verified manifest describes; Damage if any file is not as recorded."""
    state = _read_state(directory, body)
    tables = {}
    by_chunk = {}
    for name, meta in body["tables"].items():
        chunks = []
        for entry in meta["chunks"]:
            chunk = _load_chunk(directory / "chunks" / entry["file"], entry)
            by_chunk[chunk.id] = (entry["file"], entry["bytes"], entry["crc32c"])
            chunks.append(chunk)
        st = state.get(name)
        try:
            if not isinstance(st, dict) or len(st["dead"]) != len(chunks):
                raise ValueError("missing or malformed")
            tables[name] = T.build_version(meta, chunks, st["dead"], st["tail"],
                                           st["tail_dead"])
        except Damage:
            raise
        except Exception as exc:
            raise Damage(f'checkpoint state for table "{name}" in {body["name"]} is '
                         f"damaged: {type(exc).__name__}: {exc}",
                         file=directory / body["name"]) from None
    views = {n: ViewDef(n, v["sql"], tuple(v["columns"]), v.get("comment"),
                        v.get("check_option"), tuple(tuple(d) for d in v.get("defaults", [])))
             for n, v in body["views"].items()}
    files.by_chunk.update(by_chunk)
    try:
        auth = roles.decode(body["auth"]) if "auth" in body else None
    except ValueError as exc:
        raise Damage(f"the roles catalog in {body['name']} is damaged: {exc}",
                     file=directory / body["name"]) from None
    functions = _decoded(body, "functions", decode_function, "functions", directory)
    enums = _decoded(body, "enums", decode_enum, "enum types", directory)
    seqdefs = _decoded(body, "seqdefs", sequence_defs.decode, "sequence definitions", directory)
    domains = _decoded(body, "domains", decode_domain, "domains", directory)
    composites = _decoded(body, "composites", decode_composite, "composite types", directory)
    return Root(tables=tables, views=views, sequences=dict(body["sequences"]), auth=auth,
                version=body["version"], catalog_version=body["catalog_version"],
                functions=functions, enums=enums, seqdefs=seqdefs, domains=domains,
                composites=composites)


def _decoded(body: dict, key: str, decode, what: str, directory) -> dict:
    """A checkpoint's name -> definition map under ``key`` (absent in older files: empty),
    each entry read by ``decode(name, encoded)``; a malformed one is Damage naming it."""
    try:
        return {n: decode(n, d) for n, d in body.get(key, {}).items()}
    except (ValueError, AttributeError) as exc:
        raise Damage(f"the {what} in {body['name']} are damaged: {exc}",
                     file=directory / body["name"]) from None


def _read_verified(path: Path, size: int, crc: int, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Damage(f"{what} {path.name} is missing", file=path) from None
    except OSError as exc:
        raise Damage(f"{what} {path.name} cannot be read: {exc}", file=path) from None
    if len(data) != size:
        raise Damage(f"{what} {path.name} has {len(data)} bytes, the manifest says {size}",
                     file=path, offset=min(len(data), size))
    if google_crc32c.value(data) != crc:
        raise Damage(f"{what} {path.name} fails its checksum", file=path)
    return data


def _read_state(directory: Path, body: dict) -> dict:
    st = body["state"]
    data = _read_verified(directory / st["file"], st["bytes"], st["crc32c"],
                          "checkpoint file")
    try:
        state = values.unpack(data)
    except ValueError as exc:
        raise Damage(f"checkpoint file {st['file']} is damaged: {exc}",
                     file=directory / st["file"]) from None
    if not isinstance(state, dict):
        raise Damage(f"checkpoint file {st['file']} is damaged", file=directory / st["file"])
    return state


def _load_chunk(path: Path, entry: dict) -> Chunk:
    data = _read_verified(path, entry["bytes"], entry["crc32c"], "checkpoint chunk file")
    try:
        reader = pa.ipc.open_file(pa.py_buffer(data))
        if reader.num_record_batches != 1:
            raise ValueError("expected one batch")
        batch = reader.get_batch(0)
        batch.validate(full=True)
        if batch.num_rows != entry["rows"]:
            raise ValueError(f"expected {entry['rows']} rows, found {batch.num_rows}")
        for f in batch.schema:
            if f.name != T.ROWID and not types.is_column_type(types.sql_type_of_arrow(f.type)):
                raise ValueError(f"column {f.name!r} has unsupported type {f.type}")
        return T.chunk_from_batch(batch)
    except Damage:
        raise
    except Exception as exc:
        raise Damage(f"checkpoint chunk file {path.name} is damaged: "
                     f"{type(exc).__name__}: {exc}", file=path) from None
