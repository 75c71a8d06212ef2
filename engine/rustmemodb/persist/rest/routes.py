"""The routes of one collection: list, create, get, patch, put, delete, audits, bulk.

Handlers are plain (sync) functions, run in Starlette's thread pool so a long engine
call never stalls the event loop, except GET by id and POST create: ``async``, they
make their one short engine call on the loop itself when it cannot wait (inline.py).
Every route is a ``LightRoute`` (light.py): called without FastAPI's per-request
dependency solving; GET by id and POST create are dispatched to directly by the
app's RequestIdMiddleware (direct.py). Each handler is one persist call,
i.e. one committed transaction (``_bulk``: one transaction for all its operations;
unkeyed POST creates that arrive together may share one: inline.CreateGroup).
Versions travel as strong ETags (``"3"``); ``If-Match`` becomes persist's
``expected_version`` (stale → 412), ``Idempotency-Key`` persist's idempotency key.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import threading
import uuid
from typing import Any

from fastapi import APIRouter, Body, Request, Response
from starlette.concurrency import run_in_threadpool

from ..errors import ValidationError
from ..schema import to_json_value
from . import inline
from .light import LightRoute
from .openapi import SQL_JSON, bulk_schema, json_content, problem, ref
from .commands import add_command_routes
from .problems import HTTPProblem, pointers_for, pydantic_pointers

RESERVED = {"sort", "page", "size"}
KEY_PATTERN = r"[!-~]{1,255}"
MAX_SIZE = 1000
MAX_PAGE = 10**9
SYSTEM = ("_id", "_version", "_created_at", "_updated_at")
# One encoder made once: ``json.dumps`` with any keyword builds a new JSONEncoder per call
_RESPONSE_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False,
                                  separators=(",", ":"))
try:
    # Its C encoder made once too (``encode`` makes one per call); no circular-reference
    # bookkeeping: an entity's values came out of JSON or a validated model.
    from json.encoder import c_make_encoder as _c_make_encoder
    _C_RESPONSE_JSON = _c_make_encoder(None, _RESPONSE_JSON.default,
                                       json.encoder.encode_basestring, None, ":", ",",
                                       False, False, False) if _c_make_encoder else None
except ImportError:                                   # pragma: no cover - no C speedups
    _C_RESPONSE_JSON = None


def response_bytes(content) -> bytes:
    """``content`` as the REST layer's compact UTF-8 JSON (NaN and infinities refused)."""
    if _C_RESPONSE_JSON is not None and type(content) is dict:
        return "".join(_C_RESPONSE_JSON(content, 0)).encode("utf-8")
    return _RESPONSE_JSON.encode(content).encode("utf-8")


# ---- conversions ------------------------------------------------------------------------
def _system_json(v):
    t = type(v)
    if t is dt.datetime:
        return v.isoformat() + "Z"
    if t is uuid.UUID:
        return str(v)
    if v is None or t is int:
        return v
    return v.isoformat() + "Z" if isinstance(v, dt.datetime) else to_json_value(v)


def entity_json(coll, entity) -> dict:
    out = {k: _system_json(getattr(entity, k, None)) for k in SYSTEM}
    values = coll.adapter.values(entity)
    fields = getattr(type(entity), "model_fields", None)
    if coll.adapter.kind == "union" and fields is not None:
        values = {k: v for k, v in values.items() if k in fields}
    out.update(to_json_value(values))
    return out


def etag(version: int) -> str:
    return f'"{version}"'


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/").strip('"') for t in header.split(",") if t.strip()]


def expected_version(request: Request, entity_id, coll) -> int | None:
    """``If-Match`` as persist's expected_version (``*``: the entity must exist)."""
    header = request.headers.get("if-match")
    if header is None:
        return None
    tags = _tags(header)
    if "*" in tags:
        if coll.get(entity_id) is None:
            raise HTTPProblem(412, "Precondition Failed", "If-Match: * and no such entity",
                              sqlstate="40001")
        return None
    versions = [int(t) for t in tags if t.isdigit()]
    if len(versions) != 1:
        raise HTTPProblem(412, "Precondition Failed",
                          f"If-Match {header!r} names no single version of this entity",
                          sqlstate="40001")
    return versions[0]


def idempotency_key(request: Request) -> str | None:
    """The key: 1-255 visible ASCII characters, bare or as a quoted sf-string."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not re.fullmatch(KEY_PATTERN, key):
        raise HTTPProblem(400, "Bad Request", "Idempotency-Key is 1-255 visible ASCII "
                          "characters", sqlstate="22023")
    if len(key) >= 3 and key[0] == key[-1] == '"':
        key = key[1:-1]
    return key


_inflight: set = set()
_inflight_lock = threading.Lock()


@contextlib.contextmanager
def in_flight(coll, operation: str, key: str | None):
    """409 while a request with the same Idempotency-Key is still running (this process).

    The IETF httpapi idempotency-key draft's rule: the second request can neither
    wait for nor repeat the first, and the stored result does not exist yet.
    """
    if key is None:
        yield
        return
    scope = (id(coll.app), coll.name, operation, key)
    with _inflight_lock:
        if scope in _inflight:
            raise HTTPProblem(409, "Conflict", f"a request with Idempotency-Key {key!r} is "
                              "still being processed", sqlstate="55006")
        _inflight.add(scope)
    try:
        yield
    finally:
        with _inflight_lock:
            _inflight.discard(scope)


def entity_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise HTTPProblem(404, "Not Found", f"{value!r} is not an entity id (a UUID)",
                          sqlstate="P0002") from None


_strict_adapters: dict = {}


def _strict_json(coll):
    """A pydantic TypeAdapter of a pydantic/dataclass/union model, made once per model."""
    if coll.adapter.kind not in ("pydantic", "dataclass", "union"):
        return None
    key = id(coll.adapter)
    found = _strict_adapters.get(key)
    if found is None or found[0] is not coll.adapter:
        import pydantic
        found = _strict_adapters[key] = (coll.adapter, pydantic.TypeAdapter(coll.adapter.model))
    return found[1]


_schema_validators: dict = {}


def _json_schema_validator(coll):
    """A jsonschema validator of a JSON-Schema collection's schema (as the OpenAPI
    document shows it: closed unless it says otherwise), made once per model."""
    if coll.adapter.kind != "json_schema":
        return None
    key = id(coll.adapter)
    found = _schema_validators.get(key)
    if found is None or found[0] is not coll.adapter:
        import jsonschema
        from .openapi import model_schema
        schema, defs = model_schema(coll)
        if defs:
            schema = {**schema, "$defs": defs}
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        found = _schema_validators[key] = (coll.adapter, cls(schema))
    return found[1]


def _pointer(parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _schema_pointers(error, base: str) -> list[dict]:
    """JSON pointers of one jsonschema error: a missing or unexpected member is pointed
    at itself (as pydantic does), not at the object that lacks or has it."""
    at = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        return [{"pointer": base + _pointer(at + [name]), "detail": "required property"}
                for name in error.validator_value if name not in error.instance]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        extra = [k for k in error.instance if k not in known]
        if extra:
            return [{"pointer": base + _pointer(at + [k]), "detail": "unexpected property"}
                    for k in extra]
    return [{"pointer": base + _pointer(at), "detail": error.message}]


def check(coll, data, base: str = "") -> dict:
    """Validate ``data`` as a whole entity (422 with JSON pointers to the bad fields);
    returns it with integral floats of INTEGER fields as ints (JSON Schema: 3.0 is an
    integer)."""
    return checked(coll, data, base)[0]


_pydantic = None


def _pydantic_module():
    global _pydantic
    if _pydantic is None:
        import pydantic
        _pydantic = pydantic
    return _pydantic


def checked(coll, data, base: str = "") -> tuple[dict, Any]:
    """``check``, and the entity the collection's model made of the data (what
    ``coll.create`` would validate it into: hand it over as ``validated``)."""
    if not isinstance(data, dict):
        raise HTTPProblem(422, "Unprocessable Content", "the body must be a JSON object",
                          sqlstate="22023", errors=[{"pointer": base, "detail": "not an object"}])
    types = coll._types
    for k, v in data.items():
        if type(v) is float and v.is_integer() and types.get(k) == "INTEGER":
            data = {k: int(v) if type(v) is float and v.is_integer()
                    and types.get(k) == "INTEGER" else v for k, v in data.items()}
            break
    strict = _strict_json(coll)
    if strict is not None:
        # As JSON, strictly: the body must fit the JSON Schema the OpenAPI document
        # shows (no ``false`` for an integer), not only pydantic's lax Python rules.
        pydantic = _pydantic_module()
        try:
            strict.validate_json(json.dumps(data), strict=True)
        except pydantic.ValidationError as pexc:
            errors = pydantic_pointers(pexc)
            for e in errors:
                e["pointer"] = base + e["pointer"]
            raise HTTPProblem(422, "Unprocessable Content",
                              f"invalid {coll.adapter.describe()}: " + "; ".join(
                                  f"{e['pointer'] or '/'}: {e['detail']}" for e in errors),
                              sqlstate="22023", errors=errors) from None
    schema_check = _json_schema_validator(coll)
    if schema_check is not None:
        # A JSON-Schema collection: the whole schema applies (minimum, pattern, enum,
        # nested objects, ...), not only the column types persist checks.
        errors = sorted((err for e in schema_check.iter_errors(data)
                         for err in _schema_pointers(e, base)), key=lambda e: e["pointer"])
        if errors:
            raise HTTPProblem(422, "Unprocessable Content",
                              f"invalid {coll.adapter.describe()}: " + "; ".join(
                                  f"{e['pointer'] or '/'}: {e['detail']}" for e in errors),
                              sqlstate="22023", errors=errors)
    try:
        entity = coll.adapter.validate(data)
    except ValidationError as exc:
        errors = pointers_for(exc)
        for e in errors:
            e["pointer"] = base + e["pointer"]
        raise HTTPProblem(422, "Unprocessable Content", str(exc), sqlstate=exc.sqlstate,
                          errors=errors) from None
    return data, entity


def merge_patch(target, patch):
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def patch_changes(coll, entity, patch: dict, base: str = "") -> dict:
    """Top-level field changes of a merge patch (null clears a field)."""
    if not isinstance(patch, dict):
        raise HTTPProblem(422, "Unprocessable Content", "a merge patch is a JSON object",
                          sqlstate="22023", errors=[{"pointer": base, "detail": "not an object"}])
    current = to_json_value(coll.adapter.values(entity))
    merged = merge_patch(current, patch)
    merged = check(coll, {k: v for k, v in merged.items() if v is not None}, base)
    return {k: merged.get(k) for k in patch}


def filters(coll, request: Request) -> dict:
    types = coll._types
    out = {}
    for k, raw in request.query_params.items():
        if k in RESERVED:
            continue
        typ = types.get(k)
        if typ is None or typ == "JSON":
            raise HTTPProblem(422, "Unprocessable Content",
                              f"{k!r} is not a filterable field of {coll.name}",
                              sqlstate="42703", errors=[{"pointer": "", "detail": f"query "
                                                         f"parameter {k}"}])
        try:
            out[k] = _convert(typ, raw)
        except ValueError:
            raise HTTPProblem(422, "Unprocessable Content", f"{k}={raw!r} is not a {typ}",
                              sqlstate="22P02") from None
    return out


def _convert(typ: str, raw: str):
    if typ == "INTEGER":
        return int(raw)
    if typ == "FLOAT":
        return float(raw)
    if typ == "BOOLEAN":
        if raw.lower() not in ("true", "false", "1", "0"):
            raise ValueError(raw)
        return raw.lower() in ("true", "1")
    if typ == "UUID":
        return uuid.UUID(raw)
    if typ == "TIMESTAMP":
        return dt.datetime.fromisoformat(raw.removesuffix("Z"))
    if typ == "DATE":
        return dt.date.fromisoformat(raw)
    return raw


def order_by(coll, sort: str | None) -> list[str] | None:
    if sort is None:
        return None
    out = []
    for item in sort.split(","):
        item = item.strip()
        desc = item.startswith("-")
        name = item.lstrip("+-")
        if name not in coll._types:
            raise HTTPProblem(422, "Unprocessable Content", f"sort: {coll.name} has no "
                              f"field {name!r}", sqlstate="42703")
        out.append(name + (" DESC" if desc else ""))
    return out


def _int_param(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise HTTPProblem(422, "Unprocessable Content", f"{name} is an integer 1..{high}",
                          sqlstate="22023", errors=[{"pointer": "", "detail": name}])
    return int(raw)


class EntityResponse(Response):
    """An entity as JSON with its ETag (and Location when created): the bytes and the
    raw header list made directly (what JSONResponse renders, without its per-response
    header dict, lowercasing and encoding)."""

    media_type = "application/json"

    def __init__(self, content: dict, status_code: int, etag_value: str,
                 location: str | None = None) -> None:
        self.status_code = status_code
        self.background = None
        self.body = response_bytes(content)
        raw = [(b"content-length", str(len(self.body)).encode("latin-1")),
               (b"content-type", b"application/json"),
               (b"etag", etag_value.encode("latin-1"))]
        if location is not None:
            raw.append((b"location", location.encode("latin-1")))
        self.raw_headers = raw


def _entity_response(coll, entity, status: int, base: str):
    return EntityResponse(entity_json(coll, entity), status, etag(entity._version),
                          f"{base}/{entity._id}" if status == 201 else None)


# ---- the router -------------------------------------------------------------------------
def collection_router(coll, prefix: str, dependencies: list) -> APIRouter:
    name = coll.name
    base = f"{prefix}/{name}"
    router = APIRouter(prefix=base, tags=[name], dependencies=dependencies,
                       route_class=LightRoute)
    errors = {"400": problem("Malformed JSON body or header"),
              "422": problem("Validation error (JSON pointers in errors)")}
    if dependencies:
        errors["401"] = problem("Missing or wrong bearer token")
    one = {"404": problem("No such entity"), **errors}
    writes = {"409": problem("Conflict: a unique field is taken, a concurrent change won, "
                             "or the Idempotency-Key's first request is still running"),
              "412": problem("Stale If-Match version")}
    idem = {"name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "pattern": f"^{KEY_PATTERN}$"}}
    if_match = {"name": "If-Match", "in": "header", "required": False,
                "schema": {"type": "string"}}
    scalar = [f for f in coll.adapter.fields if f.sql_type != "JSON"]
    names = "|".join(re.escape(n) for n in coll._types)
    list_params = [
        {"name": "sort", "in": "query",
         "schema": {"type": "string", "pattern": f"^[-+]?({names})(,[-+]?({names}))*$"},
         "description": "comma-separated fields, - for descending: -age,name"},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                   "maximum": MAX_PAGE}},
        {"name": "size", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                   "maximum": MAX_SIZE}},
    ] + [{"name": f.name, "in": "query", "required": False,
          "schema": dict(SQL_JSON[f.sql_type]), "description": f"equals ({f.sql_type})"}
         for f in scalar]

    @router.get("", operation_id=f"list_{name}", summary=f"List {name}",
                responses={"200": {"description": "A page", **json_content(ref(f"{name}_page"))},
                           **errors},
                openapi_extra={"parameters": list_params})
    def list_(request: Request):
        where = filters(coll, request)
        page = _int_param(request, "page", 1, MAX_PAGE)
        size = _int_param(request, "size", 50, MAX_SIZE)
        result = coll.query(where or None, order_by(coll, request.query_params.get("sort")),
                            page, size)
        return {"total": result.total, "page": page, "size": size,
                "items": [entity_json(coll, e) for e in result.items]}

    group = inline.CreateGroup(coll)     # concurrent unkeyed creates, one commit

    @router.post("", operation_id=f"create_{name}", summary=f"Create a {name} entity",
                 status_code=201,
                 responses={"201": {"description": "Created",
                                    **json_content(ref(f"{name}_entity"))},
                            **writes, **errors},
                 openapi_extra={"parameters": [idem], "requestBody": {
                     "required": True, **json_content(ref(name))}})
    async def create(request: Request, body: Any = Body(None)):
        body, entity = checked(coll, body)
        key = idempotency_key(request)
        if key is None:
            # the entity validated from this body: not validated again
            entity = await group.create(body, entity)
        else:
            entity = await run_in_threadpool(keyed_create, body, key, entity)
        return _entity_response(coll, entity, 201, base)

    def keyed_create(body: dict, key: str, entity):
        with in_flight(coll, "create", key):
            return coll.create(body, idempotency_key=key, validated=entity)

    @router.post("/_bulk", operation_id=f"bulk_{name}",
                 summary=f"Several {name} operations in one transaction (all or nothing)",
                 responses={"200": {"description": "Results, in order", **json_content(
                     {"type": "object", "properties": {"items": {"type": "array"}}})},
                     **writes, **one},
                 openapi_extra={"parameters": [idem], "requestBody": {
                     "required": True, **json_content(bulk_schema(name))}})
    def bulk(request: Request, body: Any = Body(None)):
        if not isinstance(body, list):
            raise HTTPProblem(422, "Unprocessable Content", "_bulk takes a JSON array of "
                              "operations", sqlstate="22023",
                              errors=[{"pointer": "", "detail": "not an array"}])
        key = idempotency_key(request)

        def run():
            # persist's idempotency table, in the bulk's own transaction, storing the
            # JSON response itself (a bulk result is not one entity).
            return coll._idempotent(
                coll.app._conn(), "bulk", key, body,
                lambda: [_bulk_one(coll, i, op) for i, op in enumerate(body)],
                encode=lambda items: items, decode=lambda items: items)

        with in_flight(coll, "bulk", key):
            return {"items": coll.app.atomic(run)}

    @router.get("/{id}", operation_id=f"get_{name}", summary=f"One {name} entity",
                responses={"200": {"description": "The entity (ETag: its version)",
                                   **json_content(ref(f"{name}_entity"))},
                           "304": {"description": "If-None-Match matched"}, **one})
    async def get(id: str, request: Request):
        entity = coll.get(entity_id(id))
        if entity is None:
            raise HTTPProblem(404, "Not Found", f"{name} has no entity {id}",
                              sqlstate="P0002")
        inm = request.headers.get("if-none-match")
        if inm is not None:
            tags = _tags(inm)
            if "*" in tags or str(entity._version) in tags:
                return Response(status_code=304, headers={"ETag": etag(entity._version)})
        return _entity_response(coll, entity, 200, base)

    @router.patch("/{id}", operation_id=f"patch_{name}",
                  summary=f"Change a {name} entity (JSON merge patch)",
                  responses={"200": {"description": "The changed entity",
                                     **json_content(ref(f"{name}_entity"))},
                             **writes, **one},
                  openapi_extra={"parameters": [idem, if_match], "requestBody": {
                      "required": True, "content": {"application/merge-patch+json": {
                          "schema": ref(f"{name}_patch")}, "application/json": {
                          "schema": ref(f"{name}_patch")}}}})
    def patch(id: str, request: Request, body: Any = Body(None)):
        eid = entity_id(id)
        expected = expected_version(request, eid, coll)
        key = idempotency_key(request)

        def read_merge_write():
            # One transaction (re-run on a write-write conflict), so nested JSON
            # merged from what was read is never written over a newer version.
            current = coll.get(eid)
            if current is None:
                raise HTTPProblem(404, "Not Found", f"{name} has no entity {id}",
                                  sqlstate="P0002")
            changes = patch_changes(coll, current, body)
            return coll.patch(eid, changes, expected_version=expected, idempotency_key=key)

        with in_flight(coll, "patch", key):
            entity = coll.app.atomic(read_merge_write)
        return _entity_response(coll, entity, 200, base)

    @router.put("/{id}", operation_id=f"replace_{name}", summary=f"Replace a {name} entity",
                responses={"200": {"description": "The replaced entity",
                                   **json_content(ref(f"{name}_entity"))},
                           **writes, **one},
                openapi_extra={"parameters": [idem, if_match], "requestBody": {
                    "required": True, **json_content(ref(name))}})
    def put(id: str, request: Request, body: Any = Body(None)):
        eid = entity_id(id)
        expected = expected_version(request, eid, coll)
        body = check(coll, body)
        values = coll.adapter.values(coll.adapter.validate(body))
        key = idempotency_key(request)
        with in_flight(coll, "patch", key):
            entity = coll.patch(eid, values, expected_version=expected, idempotency_key=key)
        return _entity_response(coll, entity, 200, base)

    @router.delete("/{id}", operation_id=f"delete_{name}", summary=f"Delete a {name} entity",
                   status_code=204,
                   responses={"204": {"description": "Deleted"},
                              **writes, **one},
                   openapi_extra={"parameters": [idem, if_match]})
    def delete(id: str, request: Request):
        eid = entity_id(id)
        expected = expected_version(request, eid, coll)
        key = idempotency_key(request)
        with in_flight(coll, "delete", key):
            coll.delete(eid, expected_version=expected, idempotency_key=key)
        return Response(status_code=204)

    @router.get("/{id}/_audits", operation_id=f"audits_{name}",
                summary=f"Audit trail of a {name} entity, oldest first",
                responses={"200": {"description": "Audit records", **json_content(
                    {"type": "array", "items": {"type": "object"}})}, **one})
    def audits(id: str):
        records = coll.audits(entity_id(id))
        if not records and coll.get(entity_id(id)) is None:
            raise HTTPProblem(404, "Not Found", f"{name} has no entity {id}",
                              sqlstate="P0002")
        return [{"operation": r.operation, "at": r.at.isoformat() + "Z", "actor": r.actor,
                 "version_before": r.version_before, "version_after": r.version_after,
                 "changed": r.changed} for r in records]

    # The hot routes (GET by id, POST create) the app may dispatch directly (direct.py).
    router.direct = {id(r): r for r in router.routes
                     if getattr(r, "endpoint", None) in (create, get)}
    # Component schemas the command routes refer to (merged into the OpenAPI document).
    router.components = {}
    add_command_routes(router, coll, base, errors, idem, if_match, router.components)
    return router


def _bulk_one(coll, i: int, op) -> dict:
    where = f"/{i}"
    if not isinstance(op, dict) or op.get("op") not in ("create", "patch", "put", "delete"):
        raise HTTPProblem(422, "Unprocessable Content", f"operation {i}: op is one of "
                          "create, patch, put, delete", sqlstate="22023",
                          errors=[{"pointer": where + "/op", "detail": "unknown op"}])
    extra = set(op) - {"op", "id", "version", "data"}
    if extra:
        raise HTTPProblem(422, "Unprocessable Content", f"operation {i}: unknown key(s) "
                          f"{sorted(extra)}", sqlstate="22023",
                          errors=[{"pointer": f"{where}/{k}", "detail": "unknown key"}
                                  for k in sorted(extra)])
    kind = op["op"]
    version = op.get("version")
    if isinstance(version, float) and version.is_integer():
        version = int(version)        # JSON Schema: 3.0 is an integer
    if "version" in op and (not isinstance(version, int) or isinstance(version, bool)
                            or version < 1):
        raise HTTPProblem(422, "Unprocessable Content", f"operation {i}: version is an "
                          "integer from 1", sqlstate="22023",
                          errors=[{"pointer": f"{where}/version", "detail": "not a version"}])
    if "id" in op:
        try:
            uuid.UUID(op["id"])
        except (TypeError, ValueError, AttributeError):
            raise HTTPProblem(422, "Unprocessable Content", f"operation {i}: id is a UUID",
                              sqlstate="22023", errors=[{"pointer": f"{where}/id",
                                                         "detail": "not a UUID"}]) from None
    if kind == "create":
        return entity_json(coll, coll.create(check(coll, op.get("data"), where + "/data")))
    eid = entity_id(str(op.get("id")))
    if kind == "delete":
        coll.delete(eid, expected_version=version)
        return {"_id": str(eid), "deleted": True}
    current = coll.get(eid)
    if current is None:
        raise HTTPProblem(404, "Not Found", f"operation {i}: {coll.name} has no entity {eid}",
                          sqlstate="P0002")
    if kind == "patch":
        changes = patch_changes(coll, current, op.get("data"), where + "/data")
    else:
        data = check(coll, op.get("data"), where + "/data")
        changes = coll.adapter.values(coll.adapter.validate(data))
    return entity_json(coll, coll.patch(eid, changes, expected_version=version))
