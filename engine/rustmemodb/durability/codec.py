"""Schemas and other catalog records <-> JSON, readable in the manifest.

Catalog records (``TableSchema``, ``Column``, constraints, ``ViewDef``) are
frozen dataclasses. They are written as ``{"__class__": "module:Name", field:
value, ...}`` with tuples, sets and bytes tagged, and read back by calling the
class with the fields it still has. So a field added later with a default reads
old files fine, and a removed field is dropped. Only classes under
``rustmemodb.`` are ever instantiated. Anything else (a value no JSON form is
known for) falls back to a tagged pickle, which is exact but opaque.
"""
from __future__ import annotations

import base64
import dataclasses
import importlib
import pickle
from typing import Any

_TRUSTED = "rustmemodb."


def encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"__set__": [encode(v) for v in sorted(value, key=repr)],
                "frozen": isinstance(value, frozenset)}
    if isinstance(value, dict):
        return {"__map__": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode("ascii")}
    if dataclasses.is_dataclass(value) and type(value).__module__.startswith(_TRUSTED):
        cls = type(value)
        out = {"__class__": f"{cls.__module__}:{cls.__qualname__}"}
        for f in dataclasses.fields(value):
            if f.init and not f.name.startswith("_"):
                out[f.name] = encode(getattr(value, f.name))
        return out
    return {"__pickle__": base64.b64encode(pickle.dumps(value, protocol=5)).decode("ascii")}


def decode(data: Any) -> Any:
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__set__" in data:
        items = [decode(v) for v in data["__set__"]]
        return frozenset(items) if data.get("frozen") else set(items)
    if "__map__" in data:
        return {_hashable(decode(k)): decode(v) for k, v in data["__map__"]}
    if "__bytes__" in data:
        return base64.b64decode(data["__bytes__"])
    if "__pickle__" in data:
        return pickle.loads(base64.b64decode(data["__pickle__"]))
    if "__class__" in data:
        cls = _resolve(data["__class__"])
        known = {f.name for f in dataclasses.fields(cls) if f.init}
        return cls(**{k: decode(v) for k, v in data.items() if k in known})
    raise ValueError(f"unknown encoded value {sorted(data)[:3]}")


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _resolve(path: str) -> type:
    module, _, name = path.partition(":")
    if not module.startswith(_TRUSTED):
        raise ValueError(f"refusing to load class {path!r}")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def class_path(obj: Any) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}:{cls.__qualname__}"
