"""Routes for a model's ``@command`` and ``@query`` methods (persist/commands.py).

``POST {prefix}/c/{id}/{name}`` runs a command: the JSON body holds the method's
parameters (a pydantic model built from its signature and type hints validates
it: 422 with JSON pointers), the entity is read, changed by the method and
written back in one transaction with its audit record (``command:<name>``) and,
with an ``Idempotency-Key``, the response itself, so a replay returns the
original status and body without running the method again. ``If-Match`` is the
expected version (stale: 412). The response is the method's return value,
serialised by a ``TypeAdapter`` of its return hint: ``None`` gives 204, the
model itself the stored entity (with its new ``ETag``).

``GET {prefix}/c/{id}/{name}`` runs a query with its parameters from the query
string; nothing is written.

A domain exception raised by a method rolls the transaction back and leaves as
the problem its class is mapped to in ``create_app(errors={Class: (status,
code)})``.
"""
from __future__ import annotations

import json
import typing
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from ..commands import CommandSpec, args_model, commands_of
from .openapi import REF, json_content, problem, ref
from .problems import HTTPProblem, pydantic_pointers

_EMPTY = object()


def model_commands(coll) -> dict[str, CommandSpec]:
    """The marked methods of a collection's model (each member of a union)."""
    adapter = coll.adapter
    if adapter.kind == "union":
        out: dict[str, CommandSpec] = {}
        for member in getattr(adapter, "_members", {}).values():
            out.update(commands_of(member))
        return out
    if adapter.kind in ("pydantic", "dataclass"):
        return commands_of(adapter.model)
    return {}


class CompiledCommand:
    """A spec with its pydantic argument model and return adapter, made once."""

    def __init__(self, coll, spec: CommandSpec) -> None:
        import pydantic
        self.spec = spec
        self.args = args_model(spec, f"{coll.name}_{spec.name}_args")
        self.returns_entity = _is_entity_type(coll, spec.returns)
        self.result = None
        if spec.returns is not None and not self.returns_entity:
            self.result = pydantic.TypeAdapter(spec.returns)

    def parse(self, data) -> dict:
        import pydantic
        try:
            obj = self.args.model_validate(data)
        except pydantic.ValidationError as exc:
            errors = pydantic_pointers(exc)
            raise HTTPProblem(422, "Unprocessable Content",
                              f"invalid arguments of {self.spec.name}: " + "; ".join(
                                  f"{e['pointer'] or '/'}: {e['detail']}" for e in errors),
                              sqlstate="22023", errors=errors) from None
        return {p.name: getattr(obj, p.name) for p in self.spec.params}

    def schemas(self) -> tuple[dict, dict | None, dict]:
        """(arguments schema, result schema or None, component definitions)."""
        args = self.args.model_json_schema(ref_template=REF)
        defs = args.pop("$defs", {})
        result = None
        if self.result is not None:
            result = self.result.json_schema(ref_template=REF)
            defs.update(result.pop("$defs", {}))
        return args, result, defs


def _is_entity_type(coll, hint) -> bool:
    if hint is None or hint is Any:
        return False
    if isinstance(hint, str):
        return hint in (getattr(coll.adapter.model, "__name__", None), "Self")
    if hint is getattr(typing, "Self", _EMPTY):
        return True
    if coll.adapter.kind == "union":
        return hint in getattr(coll.adapter, "_members", {}).values()
    return hint is coll.adapter.model


def add_command_routes(router, coll, base: str, errors: dict, idem: dict, if_match: dict,
                       components: dict) -> None:
    from .routes import (entity_id, entity_json, etag,
                         expected_version, idempotency_key, in_flight)
    name = coll.name
    one = {"404": problem("No such entity"), **errors}
    writes = {"409": problem("Conflict, or the Idempotency-Key's first request is still "
                             "running"), "412": problem("Stale If-Match version")}
    def add(spec: CommandSpec) -> None:
        compiled = CompiledCommand(coll, spec)
        args_schema, result_schema, defs = compiled.schemas()
        args_name = f"{name}_{spec.name}_args"
        components.update(defs)
        components[args_name] = args_schema
        if compiled.returns_entity:
            ok = {"200": {"description": "The changed entity",
                          **json_content(ref(f"{name}_entity"))}}
        elif spec.returns is None:
            ok = {"204": {"description": "Done (no result)"}}
        else:
            if isinstance(spec.returns, type) and result_schema.get("type") == "object":
                # A model class: one shared component, as its nested models are.
                components[spec.returns.__name__] = result_schema
                result_schema = ref(spec.returns.__name__)
            ok = {"200": {"description": "The result", **json_content(result_schema)}}

        if spec.kind == "command":
            def run_command(id: str, request: Request, body: Any = None):
                eid = entity_id(id)
                expected = expected_version(request, eid, coll)
                key = idempotency_key(request)
                kwargs = compiled.parse({} if body is None else body)
                payload = {"id": str(eid), "args": body, "expected": expected}

                def body_of(conn):
                    def run():
                        holder = {}

                        def change(entity):
                            method = getattr(entity, spec.attr, None)
                            if method is None:
                                raise HTTPProblem(
                                    422, "Unprocessable Content", f"this {name} entity "
                                    f"({type(entity).__name__}) has no command {spec.name}",
                                    sqlstate="42883")
                            result = method(**kwargs)
                            holder["result"] = result
                            target = result if isinstance(result, type(entity)) else entity
                            return coll.adapter.validate(coll.adapter.values(target))
                        entity = coll._patch(conn, eid, expected, f"command:{spec.name}",
                                             change)
                        return _result_doc(coll, compiled, entity, holder["result"],
                                           entity_json)
                    return coll._idempotent(conn, f"command:{spec.name}", key, payload, run,
                                            encode=lambda d: d, decode=lambda d: d)

                with in_flight(coll, f"command:{spec.name}", key):
                    doc = coll.app._run(body_of)
                return _respond(doc, etag)

            router.add_api_route(
                f"/{{id}}/{spec.name}", _with_body(run_command), methods=["POST"],
                operation_id=f"{spec.name}_{name}", summary=spec.doc.split("\n")[0] or
                f"Command {spec.name} of a {name} entity", description=spec.doc or None,
                responses={**ok, **writes, **one}, status_code=int(next(iter(ok))),
                openapi_extra={"parameters": [idem, if_match], "requestBody": {
                    "required": bool(spec.params and any(
                        p.name in args_schema.get("required", ()) for p in spec.params)),
                    **json_content(ref(args_name))}})
        else:
            params = [{"name": p, "in": "query",
                       "required": p in args_schema.get("required", ()), "schema": s}
                      for p, s in args_schema.get("properties", {}).items()]

            def run_query(id: str, request: Request):
                entity = coll.get(entity_id(id))
                if entity is None:
                    raise HTTPProblem(404, "Not Found", f"{name} has no entity {id}",
                                      sqlstate="P0002")
                raw = dict(request.query_params)
                for p in spec.params:                 # JSON values in the query string
                    if p.name in raw and raw[p.name][:1] in "[{":
                        try:
                            raw[p.name] = json.loads(raw[p.name])
                        except ValueError:
                            pass
                kwargs = compiled.parse(raw)
                method = getattr(entity, spec.attr, None)
                if method is None:
                    raise HTTPProblem(422, "Unprocessable Content", f"this {name} entity "
                                      f"has no query {spec.name}", sqlstate="42883")
                doc = _result_doc(coll, compiled, entity, method(**kwargs), entity_json)
                return _respond(doc, etag)

            router.add_api_route(
                f"/{{id}}/{spec.name}", run_query, methods=["GET"],
                operation_id=f"{spec.name}_{name}", summary=spec.doc.split("\n")[0] or
                f"Query {spec.name} of a {name} entity", description=spec.doc or None,
                responses={**ok, **one}, openapi_extra={"parameters": params})

    for spec in model_commands(coll).values():
        add(spec)


def _with_body(fn):
    """The handler with FastAPI's ``Body(None)`` default on ``body`` (declared here so
    the route keeps the plain-JSON body the declared schema validates)."""
    from fastapi import Body

    def handler(id: str, request: Request, body: Any = Body(None)):
        return fn(id, request, body)
    handler.__name__ = fn.__name__
    return handler


def _result_doc(coll, compiled: CompiledCommand, entity, result, entity_json) -> dict:
    version = getattr(entity, "_version", None)
    if compiled.returns_entity or (result is not None and isinstance(result, type(entity))):
        return {"status": 200, "body": entity_json(coll, entity), "version": version}
    if result is None:
        return {"status": 204, "body": None, "version": version}
    if compiled.result is not None:
        return {"status": 200, "body": compiled.result.dump_python(result, mode="json"),
                "version": version}
    from ..schema import to_json_value
    return {"status": 200, "body": to_json_value(result), "version": version}


def _respond(doc: dict, etag) -> Response:
    headers = {"ETag": etag(doc["version"])} if doc.get("version") is not None else {}
    if doc["status"] == 204:
        return Response(status_code=204, headers=headers)
    return JSONResponse(doc["body"], status_code=doc["status"], headers=headers)
