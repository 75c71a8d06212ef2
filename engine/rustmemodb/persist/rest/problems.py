"""RFC 9457 problem documents: how errors leave the REST API.

One mapping from the engine's PEP 249 errors (each carrying a SQLSTATE) to HTTP
status codes, so a client can branch on ``status`` and a DBA on ``sqlstate``;
every problem names the request id (also the ``X-Request-Id`` response header).
"""
from __future__ import annotations

import re

from fastapi.responses import JSONResponse

from ...errors import Error
from ..errors import ConflictError, IdempotencyError, NotFoundError, ValidationError
from ..ids import uuid4

PROBLEM_JSON = "application/problem+json"


class HTTPProblem(Exception):
    """A problem raised by the REST layer itself (bad header, stale If-Match, ...)."""

    def __init__(self, status: int, title: str, detail: str, *, sqlstate: str | None = None,
                 errors: list | None = None, headers: dict | None = None) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.sqlstate, self.errors, self.headers = sqlstate, errors, headers or {}


_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def request_id_from(given: bytes | None) -> str:
    """The client's X-Request-Id if it is a sane token, else a new id."""
    if given is not None and _SANE_ID.fullmatch(given):
        return given.decode()
    return uuid4().hex


def request_id(request) -> str:
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = request_id_from(request.headers.get("x-request-id", "").encode())
        request.state.request_id = rid
    return rid


def problem_response(request, status: int, title: str, detail: str, *,
                     sqlstate: str | None = None, errors: list | None = None,
                     headers: dict | None = None, extra: dict | None = None) -> JSONResponse:
    rid = request_id(request)
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "instance": str(request.url.path), "request_id": rid}
    if sqlstate:
        body["sqlstate"] = sqlstate
    if errors is not None:
        body["errors"] = errors
    body.update(extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON,
                        headers={"X-Request-Id": rid, **(headers or {})})


def status_of(exc: Error) -> tuple[int, str]:
    """(HTTP status, title) for an engine or persist error."""
    if isinstance(exc, NotFoundError):
        return 404, "Not Found"
    if isinstance(exc, ConflictError):
        if exc.kind == "version":
            return 412, "Precondition Failed"
        return 409, "Conflict"
    if isinstance(exc, (IdempotencyError, ValidationError)):
        return 422, "Unprocessable Content"
    sqlstate = getattr(exc, "sqlstate", "") or ""
    if sqlstate in ("42501", "28000"):      # insufficient privilege; may not log in
        return 403, "Forbidden"
    if sqlstate == "28P01":
        return 401, "Unauthorized"
    if sqlstate.startswith("23"):
        return 409, "Conflict"
    if sqlstate.startswith(("22", "42")):
        return 422, "Unprocessable Content"
    return 500, "Internal Server Error"


_FIELD = re.compile(r"field\(?s?\)? '?\[?'([^']+)'")


def pointers_for(exc: ValidationError) -> list:
    """JSON pointers for a persist validation error of a non-pydantic model."""
    m = _FIELD.search(str(exc))
    pointer = "/" + m.group(1) if m else ""
    return [{"pointer": pointer, "detail": str(exc)}]


def pydantic_pointers(exc) -> list:
    """JSON pointers (RFC 6901) for each error of a pydantic ValidationError."""
    out = []
    for err in exc.errors():
        loc = [str(p).replace("~", "~0").replace("/", "~1") for p in err.get("loc", ())
               if p != "body"]
        out.append({"pointer": "/" + "/".join(loc) if loc else "", "detail": err["msg"]})
    return out
