"""``create_app(persist_app, prefix="/api", token=None, errors=None) -> FastAPI``.

Builds one router per collection registered on the PersistApp at call time
(routes.py), the error handlers that turn every failure into an RFC 9457 problem
(problems.py), an optional bearer-token check, and the OpenAPI 3.1 document at
``{prefix}/_openapi.json`` with each collection's real JSON Schemas (openapi.py).

The routes live in a ``RouteTable`` (``api.state.rest``): ``mount(collection)``
adds or replaces one collection's routes while the server runs (zero-code schema
directories, schemas_dir.py) and the OpenAPI document is rebuilt on next request.
``errors`` maps domain exception classes to ``(status, code)``: one declared
mapping for every route, commands included (commands.py).
"""
from __future__ import annotations

import hmac
import threading

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ...errors import Error
from ..errors import ValidationError
from .direct import DirectRoutes, dispatch, usable
from .openapi import PROBLEM_SCHEMA, collection_components
from .problems import (HTTPProblem, pointers_for, problem_response, request_id,
                       request_id_from, status_of)
from .routes import collection_router


class RouteTable:
    """The collections an API serves and the routes each one added to it.

    Starlette looks routes up in ``api.router.routes`` on every request, so a
    collection's routes are swapped by assigning a new list (one atomic store):
    a request in flight keeps the list it started with.
    """

    def __init__(self, api: FastAPI, prefix: str, dependencies: list) -> None:
        self.api, self.prefix, self.dependencies = api, prefix, dependencies
        self.collections: dict = {}
        self.routers: dict = {}           # name -> the APIRouter built for it
        self._mounted: dict = {}          # name -> the route objects added to the api
        self._lock = threading.Lock()
        self.direct = DirectRoutes(api.router, self._direct_routes)

    def _direct_routes(self) -> dict:
        """{id(route): route} of the mounted collections' hot routes (direct.py)."""
        out = {}
        for router in list(self.routers.values()):
            out.update(getattr(router, "direct", {}))
        return out

    def mount(self, coll) -> None:
        """Serve ``coll`` (replacing the routes of a collection of the same name)."""
        router = collection_router(coll, self.prefix, self.dependencies)
        self.mount_router(coll.name, router, coll)

    def mount_router(self, name: str, router, coll=None) -> None:
        """Add ``router``'s routes under ``name`` (replacing what ``name`` had)."""
        with self._lock:
            # The router's own routes, added as they are (their paths carry the prefix,
            # their dependencies the router's): FastAPI's include_router wraps them in
            # a lazily re-resolved group that costs every request a second lookup.
            added = list(router.routes)
            old = set(map(id, self._mounted.get(name, ())))
            self.api.router.routes = [r for r in self.api.router.routes
                                      if id(r) not in old] + added
            mark = getattr(self.api.router, "_mark_routes_changed", None)
            if mark is not None:              # FastAPI caches its effective routes
                mark()
            self._mounted[name] = added
            if coll is not None:
                self.collections[name] = coll
            self.routers[name] = router
            self.api.openapi_schema = None        # rebuilt with the new routes

    def all_routes(self) -> list:
        return [r for router in list(self.routers.values()) for r in router.routes]


def create_app(app, prefix: str = "/api", *, token: str | None = None,
               auth: str | None = None,
               title: str = "rustmemodb persist", errors: dict | None = None,
               follow: bool = False, runtime=None) -> FastAPI:
    """A FastAPI application serving every collection of ``app`` under ``prefix``.

    Access: ``token="s3cret"`` requires that one bearer token (requests then run as the
    app itself); ``auth="tokens"`` requires an API token issued by
    ``tokens.issue_token(app, user)`` and runs each request as the token's database
    role, so GRANT/REVOKE decide what it may do (``42501`` is 403).

    ``follow=True``: collections the app registers later get their routes too (and a
    re-registered collection its new ones), while the server runs. ``runtime``: an
    ``EntityRuntime`` over the same app, whose command envelopes are accepted at
    ``POST {prefix}/_commands`` (runtime_routes.py).
    """
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
    api = FastAPI(title=title, openapi_url=f"{prefix}/_openapi.json", docs_url="/docs",
                  redoc_url=None)
    if auth not in (None, "token", "tokens"):
        raise ValueError(f"auth must be None, 'token' or 'tokens', not {auth!r}")
    if auth == "token" and not token:
        raise ValueError("auth='token' needs token=...")
    if auth == "tokens" and token:
        raise ValueError("auth='tokens' checks issued API tokens; token= is for the single "
                         "shared token (auth='token')")
    if auth == "tokens":
        dependencies = [Depends(_api_tokens(app))]
    else:
        dependencies = [Depends(_bearer(token))] if token else []
    table = RouteTable(api, prefix, dependencies)
    api.state.rest = table
    api.state.error_map = dict(errors or {})
    for coll in list(app._collections.values()):
        table.mount(coll)
    if follow:
        api.state.unfollow = app.on_collection(table.mount)
    if runtime is not None:
        from .runtime_routes import runtime_router
        table.mount_router("_commands", runtime_router(runtime, table, prefix, dependencies))
    _install_error_handlers(api, table)
    _install_domain_errors(api, api.state.error_map)
    _install_openapi(api, table, bool(dependencies))

    api.add_middleware(RequestIdMiddleware, direct=table.direct)
    api.state.persist_app = app
    return api


class RequestIdMiddleware:
    """Every response names its request id (``X-Request-Id``: the client's, if it sent a
    sane one, else a new one); problems carry it too (problems.request_id reads it from
    the request state). Plain ASGI: Starlette's ``BaseHTTPMiddleware`` costs a task and
    a stream per request, a third of a cached GET's time.

    ``direct``: the app's ``DirectRoutes``; a request for one of them (GET by id, POST
    create) is handed to its route here, past FastAPI's inner layers (direct.py)."""

    def __init__(self, app, direct: DirectRoutes | None = None) -> None:
        self.app = app
        self.direct = direct
        self._usable = None           # whether the chain under us is FastAPI's own

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = None
        for name, value in scope["headers"]:     # lowercase names (ASGI)
            if name == b"x-request-id":
                given = value
                break
        rid = request_id_from(given)
        scope.setdefault("state", {})["request_id"] = rid
        raw = rid.encode()

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                for name, _ in headers:
                    if name.lower() == b"x-request-id":
                        break
                else:
                    headers.append((b"x-request-id", raw))
                message = {**message, "headers": headers}
            await send(message)

        direct = self.direct
        if direct is not None:
            route = direct.lookup(scope)
            if route is not None:
                if self._usable is None:
                    self._usable = usable(self.app)
                if self._usable:
                    await dispatch(self.app, route, scope, receive, send_with_id)
                    return
        await self.app(scope, receive, send_with_id)


def _bearer(token: str):
    expected = f"Bearer {token}".encode()

    def check(request: Request) -> None:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise HTTPProblem(401, "Unauthorized", "a valid bearer token is required",
                              sqlstate="28000", headers={"WWW-Authenticate": "Bearer"})
    return check


def _api_tokens(app):
    """The check of ``auth="tokens"``: the bearer token's role becomes the role every
    engine operation of the request runs as. An ``async`` dependency, so the role it
    sets (a context variable) is in the context the endpoint's worker thread copies."""
    from starlette.concurrency import run_in_threadpool

    from .tokens import resolve_token

    async def check(request: Request) -> None:
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret:
            raise HTTPProblem(401, "Unauthorized", "an API token is required "
                              "(Authorization: Bearer <token>)", sqlstate="28000",
                              headers={"WWW-Authenticate": "Bearer"})
        try:
            role = await run_in_threadpool(resolve_token, app, secret)
        except Error as exc:
            if exc.sqlstate == "28000":          # a real token of a role barred from login
                raise HTTPProblem(403, "Forbidden", str(exc), sqlstate="28000") from None
            raise HTTPProblem(401, "Unauthorized", str(exc), sqlstate=exc.sqlstate,
                              headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
                              ) from None
        app.enter_role(role)
        request.state.role = role
    return check


def _install_domain_errors(api: FastAPI, error_map: dict) -> None:
    """One handler per declared domain exception class: ``(status, code)``; the
    problem's ``code`` is the stable name a client branches on."""
    for cls in error_map:
        @api.exception_handler(cls)
        async def on_domain(request: Request, exc: Exception):
            for klass in type(exc).__mro__:
                if klass in error_map:
                    status, code = error_map[klass]
                    break
            return problem_response(request, status, _title(status), str(exc) or code,
                                    extra={"code": code})


def _install_error_handlers(api: FastAPI, table: RouteTable) -> None:
    @api.exception_handler(HTTPProblem)
    async def on_problem(request: Request, exc: HTTPProblem):
        return problem_response(request, exc.status, exc.title, exc.detail,
                                sqlstate=exc.sqlstate, errors=exc.errors, headers=exc.headers)

    @api.exception_handler(Error)
    async def on_engine_error(request: Request, exc: Error):
        status, title = status_of(exc)
        errors = pointers_for(exc) if isinstance(exc, ValidationError) else None
        return problem_response(request, status, title, str(exc),
                                sqlstate=getattr(exc, "sqlstate", None), errors=errors)

    @api.exception_handler(RequestValidationError)
    async def on_request_invalid(request: Request, exc: RequestValidationError):
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            return problem_response(request, 400, "Bad Request", "the body is not valid JSON",
                                    sqlstate="22P02")
        pointers = [{"pointer": "/" + "/".join(str(p) for p in e.get("loc", ())[1:]),
                     "detail": e.get("msg", "")} for e in errs]
        return problem_response(request, 422, "Unprocessable Content", "invalid request",
                                sqlstate="22023", errors=pointers)

    @api.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception):
        # A bug or an undeclared domain error: still a problem document with the
        # request id (the exception itself goes on to the server's error log).
        return problem_response(request, 500, "Internal Server Error",
                                f"{type(exc).__name__} (request {request_id(request)})",
                                sqlstate="XX000")

    @api.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException):
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            # Starlette names only the first partly matching route's methods; the
            # collection path and its item path each have several routes.
            matched = [r for r in table.all_routes()
                       if r.matches(request.scope)[0] != Match.NONE]
            # A literal path (``/c/_bulk``) wins over a template (``/c/{id}``).
            literal = [r for r in matched if "{" not in r.path_format]
            allowed = {m for r in (literal or matched) for m in (r.methods or ())}
            if allowed:
                headers["Allow"] = ", ".join(sorted(allowed))
        return problem_response(request, exc.status_code, _title(exc.status_code),
                                str(exc.detail), headers=headers)


def _title(status: int) -> str:
    from http import HTTPStatus
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _install_openapi(api: FastAPI, table: RouteTable, secured: bool) -> None:
    base = api.openapi

    def openapi() -> dict:
        if api.openapi_schema is not None:
            return api.openapi_schema
        doc = base()
        # FastAPI deep-merges openapi_extra into what it derived from the ``Any`` body
        # parameter (leaving its "title"); the declared request bodies replace it whole.
        for route in table.all_routes():
            extra = getattr(route, "openapi_extra", None) or {}
            if "requestBody" in extra:
                for method in route.methods:
                    op = doc["paths"].get(route.path_format, {}).get(method.lower())
                    if op is not None:
                        op["requestBody"] = extra["requestBody"]
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        for coll in list(table.collections.values()):
            schemas.update(collection_components(coll))
        for router in list(table.routers.values()):
            schemas.update(getattr(router, "components", {}))
        if secured:
            doc["components"]["securitySchemes"] = {"bearer": {"type": "http",
                                                               "scheme": "bearer"}}
            doc["security"] = [{"bearer": []}]
        api.openapi_schema = doc
        return doc

    api.openapi = openapi
