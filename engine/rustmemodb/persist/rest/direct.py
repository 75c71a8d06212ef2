"""Direct dispatch: GET by id and POST create handed to their route without the walk
through FastAPI's inner layers.

A request that reaches the app passes, after the user's middleware, Starlette's
``ExceptionMiddleware`` (which installs the exception handlers and wraps the rest),
FastAPI's ``AsyncExitStackMiddleware``, the router (which tries each route's regex in
turn until one matches fully: on a persist app that is the OpenAPI and docs routes,
then a collection's routes in order) and FastAPI's ``request_response`` wrapper
(a ``Request``, two exit stacks, the handlers again). For the two hot routes of a
collection that is as much time as the route's own work, database write included.
So ``RequestIdMiddleware`` (the innermost user middleware: everything the user
added, and FastAPI's outer layers, still run) asks the ``RouteTable`` whether the
request is one of them and, if so, does what those layers would do for it:

- the route is the one Starlette would pick: a table of (method, path) kept per
  version of the app's route list, built by asking every route before it whether
  it fully matches the same requests (a literal path: exactly; a template: a route
  of the user's before it that could take such a path switches the direct path off
  for it, and a literal one that does sends that one path the long way);
- the scope gets what the router puts there (``router``, ``endpoint``,
  ``path_params``, ``route``), the telemetry hook learns the route;
- exceptions go to the app's own exception handlers, looked up as Starlette does
  (status handlers for ``HTTPException``, then the class's MRO), through the same
  ``wrap_app_handling_exceptions``; the exit stack for files is opened as FastAPI's
  middleware opens it.

Only ``LightRoute`` routes with a precomputed plan (light.py) go this way: their
dependencies are plain request checks the plan runs itself, and they need no
dependency exit stacks. Anything else, and any app whose middleware chain is not
the one FastAPI builds, takes the usual way.
"""
from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Callable

from starlette._exception_handler import wrap_app_handling_exceptions
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.routing import Match

try:                                     # FastAPI's telemetry hook (newer versions)
    from fastapi.routing import _route_selected
except ImportError:                      # pragma: no cover - older FastAPI
    _route_selected = None
try:
    from fastapi.routing import _update_scope
except ImportError:                      # pragma: no cover - older FastAPI
    def _update_scope(scope, child_scope):
        scope.update(child_scope)
try:
    from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
except ImportError:                      # pragma: no cover
    AsyncExitStackMiddleware = None

# Probe paths standing for "any one path segment" when a route of the user's before a
# templated persist route is asked whether it could take the same requests.
_PROBES = ("00000000-0000-4000-8000-000000000000", "x", "1", "_")


class DirectRoutes:
    """The direct-dispatch table of one app's route list (see the module docstring)."""

    def __init__(self, router, eligible: Callable[[], dict]) -> None:
        self.router = router
        self.eligible = eligible      # () -> {id(route): route} of persist's hot routes
        self._key = None
        self._literal: dict = {}      # (method, path) -> route
        self._template: dict = {}     # (method, path before the last /) -> route
        self._skip: frozenset = frozenset()   # literal paths an earlier route owns

    def lookup(self, scope):
        """The route a request goes to directly, or None."""
        router = self.router
        routes = router.routes
        key = (id(routes), len(routes), getattr(router, "_routes_version", None))
        if key != self._key:
            self._build(routes, key)
        path = scope["path"]
        root = scope.get("root_path")
        if root and path.startswith(root):       # Starlette's get_route_path
            if path == root:
                return None
            if path[len(root)] == "/":
                path = path[len(root):]
        method = scope["method"]
        route = self._literal.get((method, path))
        if route is not None:
            return route
        head, _, last = path.rpartition("/")
        if not last or path in self._skip:
            return None
        return self._template.get((method, head))

    def _build(self, routes, key) -> None:
        eligible = self.eligible()
        literal, template, skip = {}, {}, set()
        for i, route in enumerate(routes):
            if id(route) not in eligible or getattr(route, "light_handler", None) is None:
                continue
            methods = route.methods or ()
            if len(methods) != 1 and methods != {"GET", "HEAD"}:
                continue
            method = "GET" if "GET" in methods else next(iter(methods))
            fmt = route.path_format
            earlier = routes[:i]
            if "{" not in fmt:
                probe = _scope(method, fmt)
                if any(_full(r, probe) for r in earlier):
                    continue
                literal.setdefault((method, fmt), route)
                continue
            head, _, last = fmt.rpartition("/")
            if "{" in head or not (last.startswith("{") and last.endswith("}")) \
                    or ":" in last or route.param_convertors.keys() != {last[1:-1]}:
                continue
            ok, owned = True, set()
            for r in earlier:
                r_fmt = getattr(r, "path_format", None)
                if r_fmt is not None and "{" not in r_fmt and getattr(r, "path_regex", None) \
                        is not None and type(r).__name__ != "Mount":
                    # a literal path: it takes exactly that one path (if it matches it)
                    if route.path_regex.match(r_fmt) and _full(r, _scope(method, r_fmt)):
                        owned.add(r_fmt)
                    continue
                if any(_full(r, _scope(method, f"{head}/{p}")) for p in _PROBES) or \
                        id(r) not in eligible and _may_take(r, method, head):
                    ok = False
                    break
            if ok and (method, head) not in template:
                template[(method, head)] = route
                skip |= owned
        self._literal, self._template, self._skip = literal, template, frozenset(skip)
        self._key = key


def _scope(method: str, path: str) -> dict:
    return {"type": "http", "method": method, "path": path, "root_path": "",
            "headers": [], "query_string": b""}


def _full(route, scope) -> bool:
    try:
        return route.matches(scope)[0] == Match.FULL
    except Exception:                    # a route that cannot even be asked: be careful
        return True


def _may_take(route, method: str, head: str) -> bool:
    """Whether a templated route of the user's (not persist's) could take some
    ``method {head}/<segment>`` request: its methods allow it and its path could
    begin like that (a conservative test; True switches the direct path off)."""
    methods = getattr(route, "methods", None)
    if methods is not None and method not in methods:
        return False
    fmt = getattr(route, "path_format", None)
    if fmt is None:
        return True
    # Where its first parameter begins, the rest could be anything.
    fixed = fmt.split("{", 1)[0]
    target = head + "/"
    return target.startswith(fixed) or fixed.startswith(target)


async def dispatch(inner, route, scope, receive, send) -> None:
    """What ExceptionMiddleware, AsyncExitStackMiddleware, the router and the route's
    ``request_response`` do for ``route``, around its light handler. ``inner`` is the
    app's ExceptionMiddleware."""
    match, child = route.matches(scope)
    if match != Match.FULL:              # cannot happen after lookup(); be safe
        await inner(scope, receive, send)
        return
    scope["starlette.exception_handlers"] = (inner._exception_handlers,
                                             inner._status_handlers)
    scope.setdefault("router", route_router(inner))
    _update_scope(scope, child)
    if _route_selected is not None:
        _route_selected(scope=scope, path=route.path_format, mount=False)
    handler = route.light_handler
    request = Request(scope, receive, send)

    async def app(scope, receive, send):
        response = await handler(request)
        await response(scope, receive, send)

    stack_name = getattr(inner.app, "context_name", "fastapi_middleware_astack")
    async with AsyncExitStack() as stack:
        scope[stack_name] = stack
        await wrap_app_handling_exceptions(app, request)(scope, receive, send)


def route_router(inner):
    """The router under ``inner`` (ExceptionMiddleware -> AsyncExitStackMiddleware ->
    router), as the router would put itself into the scope."""
    nxt = inner.app
    return getattr(nxt, "app", nxt)


def usable(inner) -> bool:
    """Whether ``inner`` is the chain FastAPI builds under the user's middleware:
    ExceptionMiddleware, then AsyncExitStackMiddleware (or nothing), then the router."""
    if type(inner) is not ExceptionMiddleware:
        return False
    nxt = inner.app
    if AsyncExitStackMiddleware is not None and type(nxt) is AsyncExitStackMiddleware:
        nxt = nxt.app
    return hasattr(nxt, "routes")
