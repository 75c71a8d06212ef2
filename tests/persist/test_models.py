"""More model kinds: CREATE TABLE text and discriminated unions (heterogeneous collections)."""
import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

import pydantic
import pytest

from rustmemodb.persist import ConflictError, Entity, ValidationError


def test_create_table_text_model(app):
    items = app.collection("items", "CREATE TABLE items (sku VARCHAR(20) NOT NULL UNIQUE, "
                                    "qty BIGINT, price NUMERIC, meta JSONB, seen TIMESTAMP)")
    a = items.create({"sku": "A", "qty": 2, "price": 1.5, "meta": {"k": [1]},
                      "seen": dt.datetime(2024, 1, 2, 3, 4, 5)})
    assert isinstance(a, Entity) and a.sku == "A" and a._version == 1
    got = items.get(a._id)
    assert got.meta == {"k": [1]} and got.seen == dt.datetime(2024, 1, 2, 3, 4, 5)
    with pytest.raises(ConflictError) as e:                   # UNIQUE came from the text
        items.create({"sku": "A"})
    assert e.value.kind == "unique"
    for bad in ({"qty": 1}, {"sku": "B", "qty": "2"}, {"sku": "B", "qty": True},
                {"sku": "B", "nope": 1}):
        with pytest.raises(ValidationError):
            items.create(bad)
    types = {d[0]: d[1] for d in app.connect().execute("SELECT * FROM items").description}
    assert types["qty"] == "INTEGER" and types["price"] == "NUMERIC" and types["meta"] == "JSON"
    assert got.price == Decimal("1.5")                        # NUMERIC is exact
    with pytest.raises(ValidationError):
        app.collection("bad", "CREATE TABLE bad (_id INTEGER)")


class Cat(pydantic.BaseModel):
    kind: Literal["cat"]
    name: str
    lives: int = 9


class Dog(pydantic.BaseModel):
    kind: Literal["dog"]
    name: str
    tricks: list[str] = []


Pet = Annotated[Cat | Dog, pydantic.Field(discriminator="kind")]


def test_discriminated_union_collection(app):
    pets = app.collection("pets", Pet)
    c = pets.create({"kind": "cat", "name": "Tom"})
    d = pets.create(Dog(kind="dog", name="Rex", tricks=["sit"]))
    assert isinstance(c, Cat) and isinstance(d, Dog) and d._version == 1
    assert isinstance(pets.get(c._id), Cat) and pets.get(d._id).tricks == ["sit"]
    rows = app.connect().execute("SELECT kind, name, lives, tricks FROM pets "
                                 "ORDER BY name").fetchall()
    assert rows == [("dog", "Rex", None, ["sit"]), ("cat", "Tom", 9, None)]
    assert pets.patch(c._id, {"lives": 8}).lives == 8
    assert [p.name for p in pets.query(kind="dog").items] == ["Rex"]
    with pytest.raises(ValidationError):
        pets.create({"kind": "fish", "name": "Nemo"})
    with pytest.raises(ValidationError):
        pets.patch(d._id, {"lives": "many"})
    with pytest.raises(TypeError):
        app.collection("bad", Annotated[Cat | Dog, "no discriminator"])


def test_persist_works_without_pydantic_for_dataclasses_and_json_schema():
    import subprocess
    import sys
    from pathlib import Path
    engine = Path(__file__).resolve().parents[2] / "engine"
    script = f"""
import sys
sys.path.insert(0, {str(engine)!r})
sys.modules["pydantic"] = None          # as if the [persist] extra were not installed
import dataclasses
from rustmemodb.persist import PersistApp

@dataclasses.dataclass
class Note:
    title: str

app = PersistApp.open()
notes = app.collection("notes", Note)
n = notes.create({{"title": "a"}})
rec = app.collection("recs", {{"type": "object", "properties": {{"x": {{"type": "integer"}}}}}})
rec.create({{"x": 1}})
print(notes.get(n._id).title, len(rec))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["a", "1"]
