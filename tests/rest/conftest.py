import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

import pydantic  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from rustmemodb.persist import PersistApp  # noqa: E402
from rustmemodb.persist.rest import create_app  # noqa: E402


class User(pydantic.BaseModel):
    name: str
    email: str
    age: int | None = None
    prefs: dict | None = None


NOTE = {"type": "object", "title": "Note",
        "properties": {"text": {"type": "string"}, "stars": {"type": ["integer", "null"]}},
        "required": ["text"]}


@pytest.fixture
def papp():
    app = PersistApp.open()
    app.collection("users", User, unique=["email"], index=["name"])
    app.collection("notes", NOTE)
    yield app
    app.close()


@pytest.fixture
def client(papp):
    with TestClient(create_app(papp)) as c:
        yield c
