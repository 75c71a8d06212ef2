"""``POST {prefix}/_commands``: entity-runtime command envelopes over HTTP.

The body is an envelope (``entity_type``, ``id`` — absent for a creating command —,
``command``, ``payload``, ``expected_version``, ``payload_version``); the
``Idempotency-Key`` header is the envelope's key and ``If-Match`` its expected
version, as on the collection routes. The runtime dispatches it (registry, journal,
outbox, projections in one transaction: runtime/runtime.py); the response names the
entity, its new version (``ETag``) and the journal position, with the entity when
its collection is served (201 and ``Location`` for a create).
"""
from __future__ import annotations

import contextlib
import uuid
from typing import Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse, Response

from ..runtime.envelope import CommandEnvelope
from .openapi import json_content, problem
from .problems import HTTPProblem

ENVELOPE_SCHEMA = {
    "type": "object", "required": ["entity_type", "command"], "additionalProperties": False,
    "properties": {
        "entity_type": {"type": "string"},
        "id": {"type": ["string", "null"], "format": "uuid",
               "description": "absent or null for a command that creates the entity"},
        "command": {"type": "string"},
        "payload": {"type": "object"},
        "expected_version": {"type": ["integer", "null"], "minimum": 1},
        "payload_version": {"type": ["integer", "null"], "minimum": 1},
    }}
RESULT_SCHEMA = {"type": "object", "required": ["entity_type", "id", "version", "journal_seq"],
                 "properties": {"entity_type": {"type": "string"},
                                "id": {"type": "string", "format": "uuid"},
                                "version": {"type": ["integer", "null"]},
                                "journal_seq": {"type": "integer"},
                                "entity": {"type": ["object", "null"]}}}


def runtime_router(rt, table, prefix: str, dependencies: list) -> APIRouter:
    from .routes import KEY_PATTERN, entity_json, etag, idempotency_key, in_flight
    router = APIRouter(prefix=prefix, tags=["commands"], dependencies=dependencies)
    errors = {"404": problem("No such entity"), "409": problem("Conflict"),
              "412": problem("Stale expected version"),
              "422": problem("Invalid envelope, unknown command or payload")}

    @router.post("/_commands", operation_id="dispatch_command",
                 summary="Dispatch a command envelope to the entity runtime",
                 responses={"200": {"description": "Applied", **json_content(RESULT_SCHEMA)},
                            "201": {"description": "Created", **json_content(RESULT_SCHEMA)},
                            **errors},
                 openapi_extra={"parameters": [
                     {"name": "Idempotency-Key", "in": "header", "required": False,
                      "schema": {"type": "string", "pattern": f"^{KEY_PATTERN}$"}},
                     {"name": "If-Match", "in": "header", "required": False,
                      "schema": {"type": "string"}}],
                     "requestBody": {"required": True, **json_content(ENVELOPE_SCHEMA)}})
    def dispatch(request: Request, body: Any = Body(None)) -> Response:
        envelope = _envelope(body)
        key = idempotency_key(request)
        if key is not None:
            envelope = envelope.with_(idempotency_key=key)
        header = request.headers.get("if-match")
        if header is not None:
            tag = header.strip().removeprefix("W/").strip('"')
            if not tag.isdigit():
                raise HTTPProblem(412, "Precondition Failed", f"If-Match {header!r} is not "
                                  "a version", sqlstate="40001")
            envelope = envelope.with_(expected_version=int(tag))
        coll = rt._types.get(envelope.entity_type)
        guard = in_flight(coll, f"runtime:{envelope.command}", key) if coll is not None \
            else contextlib.nullcontext()
        with guard:
            result = rt.dispatch(envelope)
        served = coll is not None and table.collections.get(coll.name) is coll
        doc = {"entity_type": result.entity_type, "id": str(result.id),
               "version": result.version, "journal_seq": result.journal_seq,
               "entity": entity_json(coll, result.entity)
               if served and result.entity is not None else None}
        headers = {"ETag": etag(result.version)} if result.version is not None else {}
        created = envelope.id is None
        if created and served:
            headers["Location"] = f"{prefix}/{coll.name}/{result.id}"
        return JSONResponse(doc, status_code=201 if created else 200, headers=headers)

    return router


def _envelope(body) -> CommandEnvelope:
    def bad(pointer: str, detail: str):
        return HTTPProblem(422, "Unprocessable Content", f"envelope{pointer}: {detail}",
                           sqlstate="22023", errors=[{"pointer": pointer, "detail": detail}])
    if not isinstance(body, dict):
        raise bad("", "a command envelope is a JSON object")
    extra = sorted(set(body) - set(ENVELOPE_SCHEMA["properties"]))
    if extra:
        raise bad(f"/{extra[0]}", "unexpected property")
    for name in ("entity_type", "command"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise bad(f"/{name}", "required string")
    if body.get("payload") is not None and not isinstance(body["payload"], dict):
        raise bad("/payload", "an object")
    for name in ("expected_version", "payload_version"):
        v = body.get(name)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            raise bad(f"/{name}", "an integer from 1")
    eid = body.get("id")
    if eid is not None:
        try:
            eid = uuid.UUID(str(eid))
        except ValueError:
            raise bad("/id", "a UUID") from None
    return CommandEnvelope(body["entity_type"], eid, body["command"], body.get("payload") or {},
                           expected_version=body.get("expected_version"),
                           payload_version=body.get("payload_version"))
