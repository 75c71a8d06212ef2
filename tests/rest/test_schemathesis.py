"""schemathesis against the generated OpenAPI document: every route, all default checks.

Hypothesis generates requests from the document (bodies from the models' own JSON
Schemas, path ids, query parameters, headers) and checks each response: no 5xx, a
status code, content type, headers and body the document declares.
"""
import uuid

import pydantic
import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from rustmemodb.persist import PersistApp, command, query  # noqa: E402
from rustmemodb.persist.rest import create_app  # noqa: E402


class User(pydantic.BaseModel):
    name: str
    email: str
    age: int | None = None
    prefs: dict | None = None

    @command
    def rename(self, name: str) -> "User":
        self.name = name
        return self

    @command
    def forget_age(self) -> None:
        self.age = None

    @query
    def older_than(self, years: int) -> bool:
        return (self.age or 0) > years


NOTE = {"type": "object", "title": "Note",
        "properties": {"text": {"type": "string"}, "stars": {"type": ["integer", "null"]}},
        "required": ["text"]}

_app = PersistApp.open()
_app.collection("users", User, unique=["email"])
_app.collection("notes", NOTE)
schema = schemathesis.openapi.from_asgi("/api/_openapi.json", create_app(_app))


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case):
    # One key per generated request: the same key with another payload is a 422 by
    # design (tests/rest/test_idempotency_auth_openapi.py), not a conformance failure.
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    case.call_and_validate()
