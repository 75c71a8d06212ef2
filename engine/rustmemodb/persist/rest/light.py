"""``LightRoute``: persist's routes called without FastAPI's per-request machinery.

A persist route's endpoint takes only what this module can hand it directly: path
parameters (strings), the ``Request``, and an untyped JSON body (``body: Any =
Body(None)``, validated by the route itself against the collection's model); its
dependencies are request checks (``check(request)``: the bearer token, the API
token). FastAPI still derives the OpenAPI operation from the endpoint's signature,
but solving the same dependency graph on every request (the parameter fields, an
exit stack, the body field's validation of ``Any``, the serialization of the
result through ``jsonable_encoder``) cost about as much as a GET's database work.
So the route precomputes a plan once and calls the endpoint with its arguments.

The body is read with FastAPI's rules: no body → ``None``; an ``application/json``
or ``application/*+json`` body → its JSON; any other body → its bytes (the route
then refuses it: not a JSON object); malformed JSON → ``RequestValidationError``
of type ``json_invalid`` (the app's handler makes it a 400 problem). A route whose
endpoint or dependencies need anything else falls back to FastAPI's own handler (so
does a route whose dependencies ``app.dependency_overrides`` can replace: persist's
routes are added to the app's route list as they are, without an overrides provider).
"""
from __future__ import annotations

import inspect
import json
from typing import Any, Callable

from fastapi import Request, Response
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect


class LightRoute(APIRoute):
    """An ``APIRoute`` served by a precomputed call of its endpoint (see the module
    docstring); FastAPI's general handler where the endpoint needs more."""

    def get_route_handler(self):
        plan = _plan(self)
        # The plan, for direct dispatch (direct.py); None: FastAPI's handler serves it.
        self.light_handler = plan
        return super().get_route_handler() if plan is None else plan


def _plan(route: APIRoute) -> Callable | None:
    dep = route.dependant
    if (dep.query_params or dep.header_params or dep.cookie_params
            or dep.websocket_param_name or dep.http_connection_param_name
            or dep.response_param_name or dep.background_tasks_param_name
            or dep.security_scopes_param_name or route.response_field is not None):
        return None
    if any(_annotation(f) is not str for f in dep.path_params):
        return None
    body_name = None
    if dep.body_params:
        if len(dep.body_params) != 1 or _annotation(dep.body_params[0]) is not Any:
            return None
        field = dep.body_params[0]
        if field.field_info.default is not None or route._embed_body_fields:
            return None
        body_name = field.name
    checks = []
    for sub in dep.dependencies:
        if (sub.dependencies or sub.path_params or sub.query_params or sub.header_params
                or sub.cookie_params or sub.body_params or sub.request_param_name is None
                or sub.websocket_param_name or sub.http_connection_param_name
                or sub.response_param_name or sub.background_tasks_param_name
                or sub.security_scopes_param_name
                or inspect.isgeneratorfunction(sub.call)
                or inspect.isasyncgenfunction(sub.call)):
            return None
        checks.append((sub.call, inspect.iscoroutinefunction(sub.call)))
    endpoint = route.endpoint
    is_async = inspect.iscoroutinefunction(endpoint)
    path_names = [f.name for f in dep.path_params]
    request_name = dep.request_param_name
    status = route.status_code or 200
    if route.dependency_overrides_provider is not None:
        return None                  # app.dependency_overrides may replace the checks

    async def handler(request: Request) -> Response:
        for check, is_coroutine in checks:
            if is_coroutine:
                await check(request)
            else:
                check(request)       # a header comparison: no thread hop for it
        params = request.path_params
        kwargs = {name: params[name] for name in path_names}
        if request_name is not None:
            kwargs[request_name] = request
        if body_name is not None:
            kwargs[body_name] = await json_body(request)
        if is_async:
            result = await endpoint(**kwargs)
        else:
            result = await run_in_threadpool(endpoint, **kwargs)
        if isinstance(result, Response):
            return result
        # Endpoints return plain JSON values (dicts, lists, str, numbers): no encoder.
        return JSONResponse(result, status_code=status)
    return handler


def _annotation(field) -> Any:
    return getattr(field, "field_info", field).annotation


async def json_body(request: Request):
    """The request body as FastAPI hands it to an ``Any`` body parameter (see the
    module docstring)."""
    raw = await read_body(request)
    if not raw:
        return None
    content_type = request.headers.get("content-type")
    if not content_type or not _is_json(content_type):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RequestValidationError([{"type": "json_invalid", "loc": ("body", exc.pos),
                                       "msg": "JSON decode error", "input": {},
                                       "ctx": {"error": exc.msg}}], body=exc.doc) from exc
    except ValueError as exc:           # not UTF-8/16/32 text at all
        raise HTTPException(400, "There was an error parsing the body") from exc


async def read_body(request: Request) -> bytes:
    """``await request.body()`` without its async generator and ``aclosing`` (the same
    messages read, the same state left: the body cached, the stream consumed,
    ``ClientDisconnect`` on a disconnect); ``request.body()`` itself where the
    Request does not keep the state this relies on."""
    body = getattr(request, "_body", None)
    if body is not None:
        return body
    if getattr(request, "_stream_consumed", None) is not False:
        return await request.body()
    receive = request.receive
    chunks = []
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                request._stream_consumed = True
                break
        elif kind == "http.disconnect":
            request._is_disconnected = True
            raise ClientDisconnect()
    body = request._body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    return body


def _is_json(content_type: str) -> bool:
    """``application/json`` or ``application/<anything>+json`` (parameters ignored; a
    malformed type counts as text/plain, as ``email.message`` reads it)."""
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind.count("/") != 1:
        return False
    main, sub = kind.split("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))
