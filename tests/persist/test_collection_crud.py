"""Collections over pydantic models, dataclasses and JSON Schema: rows, CRUD, queries."""
import dataclasses
import datetime as dt
import uuid

import pydantic
import pytest

from rustmemodb.persist import Entity, NotFoundError, Page, ValidationError


class Address(pydantic.BaseModel):
    city: str
    zip: str | None = None


class User(pydantic.BaseModel):
    name: str
    email: str
    age: int | None = None
    address: Address | None = None
    tags: list[str] = []

    def birthday(self, years: int = 1) -> None:
        self.age = (self.age or 0) + years


@dataclasses.dataclass
class Point:
    x: float
    y: float


@dataclasses.dataclass
class Shape:
    label: str
    corner: Point
    weight: int = 0


SCHEMA = {"title": "Order", "type": "object",
          "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"},
                         "status": {"type": "string", "enum": ["open", "shipped"]},
                         "lines": {"type": "array"}},
          "required": ["sku", "qty"]}


def test_entity_is_a_row_with_system_columns(app):
    users = app.collection("users", User)
    u = users.create({"name": "Ann", "email": "ann@x", "address": {"city": "Oslo"}})
    assert isinstance(u, User) and isinstance(u._id, uuid.UUID) and u._version == 1
    assert u._schema_version == 1 and isinstance(u._created_at, dt.datetime)
    cur = app.connect().execute("SELECT * FROM users")
    names = [d[0] for d in cur.description]
    assert names[:5] == ["_id", "_version", "_schema_version", "_created_at", "_updated_at"]
    row = dict(zip(names, cur.fetchone()))
    assert row["_id"] == u._id and row["name"] == "Ann"
    assert row["address"] == {"city": "Oslo", "zip": None}      # nested object as JSON
    types = {d[0]: d[1] for d in cur.description}
    assert types["address"] == "JSON" and types["age"] == "INTEGER"


def test_get_patch_apply_delete_bump_versions(app):
    users = app.collection("users", User)
    u = users.create(User(name="Ann", email="ann@x"))
    assert users.get(u._id) == u and users.get(str(u._id))._version == 1
    p = users.patch(u._id, {"age": 30})
    assert p.age == 30 and p._version == 2 and p._updated_at >= u._updated_at
    a = users.apply(u._id, "birthday", 2)
    assert a.age == 32 and a._version == 3
    assert users.get(u._id).age == 32
    gone = users.delete(u._id, expected_version=3)
    assert gone.age == 32 and users.get(u._id) is None
    with pytest.raises(NotFoundError) as e:
        users.patch(u._id, {"age": 1})
    assert e.value.sqlstate == "P0002"


def test_apply_with_a_function_returning_a_new_instance(app):
    users = app.collection("users", User)
    u = users.create({"name": "Ann", "email": "ann@x"})
    out = users.apply(u._id, lambda e, n: e.model_copy(update={"name": n}), "Bo")
    assert out.name == "Bo" and out._version == 2


def test_invalid_data_and_unknown_fields_change_nothing(app):
    users = app.collection("users", User)
    with pytest.raises(ValidationError):
        users.create({"name": "x"})                       # email missing
    u = users.create({"name": "Ann", "email": "a"})
    with pytest.raises(ValidationError):
        users.patch(u._id, {"nope": 1})
    with pytest.raises(ValidationError):
        users.patch(u._id, {"age": "not a number"})
    assert users.get(u._id)._version == 1 and len(users) == 1


def test_query_filters_orders_and_pages(app):
    users = app.collection("users", User, index=["name"])
    users.create_many({"name": f"u{i:02d}", "email": f"{i}@x", "age": i % 5}
                      for i in range(23))
    page = users.query(where=("age >= ?", [3]), order_by="name DESC",
                       page=2, size=3)
    assert isinstance(page, Page) and page.total == 8   # i % 5 in (3, 4)
    everyone = [u.name for u in users.query(("age >= ?", [3]), "name DESC", size=50)]
    assert [u.name for u in page.items] == everyone[3:6]
    assert users.query({"age": 0}).total == 5
    assert users.query(age=0, name="u05").items[0].email == "5@x"
    assert users.find_first(age=4, order_by="name").name == "u04"
    assert users.find_first(name="missing") is None
    assert [u.name for u in users.list_page(20, 10)] == ["u20", "u21", "u22"]
    with pytest.raises(ValidationError):
        users.query(order_by="name; DROP TABLE users")
    with pytest.raises(ValidationError):
        users.query(nope=1)


def test_many_variants_are_all_or_nothing(app):
    users = app.collection("users", User)
    with pytest.raises(ValidationError):
        users.create_many([{"name": "a", "email": "a"}, {"name": "b"}])
    assert len(users) == 0
    a, b = users.create_many([{"name": "a", "email": "a"}, {"name": "b", "email": "b"}])
    with pytest.raises(NotFoundError):
        users.patch_many([(a._id, {"age": 1}), (uuid.uuid4(), {"age": 2})])
    assert users.get(a._id)._version == 1
    out = users.patch_many([(a._id, {"age": 1}, 1), (b._id, {"age": 2})])
    assert [u._version for u in out] == [2, 2]
    with pytest.raises(NotFoundError):
        users.delete_many([a._id, uuid.uuid4()])
    assert len(users) == 2
    users.delete_many([(a._id, 2), b._id])
    assert len(users) == 0


def test_dataclass_collection_round_trips_nested_dataclasses(app):
    shapes = app.collection("shapes", Shape)
    s = shapes.create(Shape("sq", Point(1.0, 2.0)))
    got = shapes.get(s._id)
    assert got == Shape("sq", Point(1.0, 2.0), 0) and got._version == 1
    assert isinstance(got.corner, Point)
    row = app.connect().execute("SELECT corner, weight FROM shapes").fetchone()
    assert row == ({"x": 1.0, "y": 2.0}, 0)
    assert shapes.patch(s._id, {"weight": 5}).weight == 5


def test_json_schema_collection(app):
    orders = app.collection("orders", SCHEMA)
    o = orders.create({"sku": "A1", "qty": 2, "lines": [{"n": 1}]})
    assert isinstance(o, Entity) and o.sku == "A1" and o["qty"] == 2 and o._version == 1
    assert orders.patch(o._id, {"status": "shipped"}).status == "shipped"
    for bad in ({"sku": "A"}, {"sku": "A", "qty": "2"}, {"sku": "A", "qty": True},
                {"sku": "A", "qty": 1, "status": "lost"}, {"sku": "A", "qty": 1, "x": 1}):
        with pytest.raises(ValidationError):
            orders.create(bad)
    assert len(orders) == 1
    types = {d[0]: d[1] for d in app.connect().execute("SELECT * FROM orders").description}
    assert types["qty"] == "INTEGER" and types["lines"] == "JSON"


def test_collection_rejects_other_models(app):
    with pytest.raises(TypeError):
        app.collection("x", int)


@dataclasses.dataclass(slots=True, frozen=True)
class Tag:
    label: str


def test_slots_and_frozen_models_still_carry_id_and_version(app):
    tags = app.collection("tags", Tag)
    t = tags.create(Tag("x"))
    assert isinstance(t, Tag) and t.label == "x" and t._version == 1
    assert tags.patch(t._id, {"label": "y"}).label == "y"

    class Frozen(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(frozen=True)
        name: str
    f = app.collection("frozen", Frozen).create({"name": "a"})
    assert f._version == 1 and f.model_dump() == {"name": "a"}


def test_created_and_patched_results_equal_what_get_reads_back(app):
    users = app.collection("users", User)
    made = users.create({"name": "Ann", "email": "a@x", "address": {"city": "Oslo"},
                         "tags": ["t"]})
    got = users.get(made._id)
    assert made == got and isinstance(made.address, Address)
    assert (made._id, made._version, made._schema_version, made._created_at,
            made._updated_at) == (got._id, got._version, got._schema_version,
                                  got._created_at, got._updated_at)
    patched = users.patch(made._id, {"age": 3}, expected_version=1)
    again = users.get(made._id)
    assert patched == again and patched._version == again._version == 2
    assert patched._updated_at == again._updated_at and patched._created_at == made._created_at
    # the audit record of the create names the entity and every field
    (first, second) = users.audits(made._id)
    assert first.operation == "create" and first.entity_id == made._id
    assert first.changed == sorted(User.model_fields) and second.changed == ["age"]


def test_generated_ids_are_random_version_4_uuids():
    from rustmemodb.persist.ids import uuid4
    ids = [uuid4() for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert all(u.version == 4 and u.variant == uuid.RFC_4122 for u in ids)
    assert all(uuid.UUID(str(u)) == u and hash(uuid.UUID(str(u))) == hash(u) for u in ids)
