"""Model adapters: one interface over pydantic models, dataclasses and JSON Schema.

A collection stores each entity as one row. The adapter decides the columns
(scalars map to SQL types; anything nested — dicts, lists, sub-models — goes
into a JSON column), validates incoming data, turns an entity into column
values and a row back into an entity. pydantic is optional: it is imported only
when a pydantic model is given (``rustmemodb[persist]``).

Entities come back as instances of the model type (for a JSON Schema, an
``Entity``: attribute and item access over the fields) with ``_id``,
``_version``, ``_schema_version``, ``_created_at`` and ``_updated_at`` set as
plain attributes.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import types
import typing
import uuid
from typing import Any

from .errors import ValidationError

SYSTEM_COLUMNS = ("_id", "_version", "_schema_version", "_created_at", "_updated_at")
SYSTEM_DDL = ('"_id" UUID PRIMARY KEY, "_version" BIGINT NOT NULL, '
              '"_schema_version" BIGINT NOT NULL, "_created_at" TIMESTAMP NOT NULL, '
              '"_updated_at" TIMESTAMP NOT NULL')

_SCALARS = [(bool, "BOOLEAN"), (int, "INTEGER"), (float, "FLOAT"), (str, "TEXT"),
            (dt.datetime, "TIMESTAMP"), (dt.date, "DATE"), (uuid.UUID, "UUID")]


def ddl_type(sql_type: str) -> str:
    """A field's type as DDL: a document field is a jsonb column (SQL's JSON is json); an
    int field is a bigint column (a Python int has no 32-bit bound; the engine's INTEGER
    written as ``integer`` keeps PostgreSQL's int4 range)."""
    return _DDL_TYPES.get(sql_type, sql_type)


_DDL_TYPES = {"JSON": "JSONB", "INTEGER": "BIGINT"}


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    sql_type: str          # INTEGER, FLOAT, TEXT, BOOLEAN, TIMESTAMP, DATE, UUID or JSON
    required: bool

    @property
    def ddl(self) -> str:
        return f'{quote(self.name)} {ddl_type(self.sql_type)}' + (
            " NOT NULL" if self.required else "")


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class Entity(dict):
    """A JSON-Schema collection's entity: a dict whose fields are also attributes."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self[name] = value


def json_default(value):
    """Encoder for values json cannot write itself (nested dataclasses, dates, ...)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json_value(value):
    """A plain JSON-compatible structure (dicts, lists, scalars) for a JSON column."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    t = type(value)
    if t is list and all(type(v) in _FLAT for v in value):
        return list(value)            # the common list of scalars: no JSON round trip
    if t is dict:                     # a flat record (an entity's fields): item by item
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                break
            vt = type(v)
            if vt in _FLAT or vt is float:     # a float's round trip gives it back
                out[k] = v
            elif vt is list and all(type(x) in _FLAT for x in v):
                out[k] = list(v)
            elif vt in _AS_TEXT:
                out[k] = str(v)
            else:
                break
        else:
            return out
    elif t in _AS_TEXT:
        return str(value)
    return json.loads(json.dumps(value, default=json_default))


_FLAT = frozenset((str, int, bool, type(None)))     # float: NaN/inf take the round trip
_AS_TEXT = frozenset((uuid.UUID, decimal.Decimal))  # json_default writes them as str(value)


def _sql_type(annotation) -> tuple[str, bool]:
    """(SQL type, optional?) for a Python annotation."""
    optional = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            return "JSON", optional
        annotation = args[0]
        origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        if all(isinstance(v, str) for v in values):
            return "TEXT", optional
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            return "INTEGER", optional
        return "JSON", optional
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            kinds = {type(m.value) for m in annotation}
            if kinds == {str}:
                return "TEXT", optional
            if kinds == {int}:
                return "INTEGER", optional
            return "JSON", optional
        for py, sql in _SCALARS:
            if issubclass(annotation, py):
                return sql, optional
    return "JSON", optional


class ModelAdapter:
    """Columns, validation and row conversion for one model type."""

    kind = "abstract"
    fields: list[Field]

    def __init__(self, model) -> None:
        self.model = model

    @property
    def field_names(self) -> list[str]:
        cached = self.__dict__.get("_names")
        if cached is None or cached[0] is not self.fields:    # made once per fields list
            cached = self._names = (self.fields, [f.name for f in self.fields])
        return cached[1]

    def json_fields(self) -> set[str]:
        return {f.name for f in self.fields if f.sql_type == "JSON"}

    # subclasses implement these two
    def validate(self, data) -> Any:
        """An entity (model instance) from data (an instance or a mapping)."""
        raise NotImplementedError

    def values(self, entity) -> dict:
        """Field values of an entity, Python values as the columns store them."""
        raise NotImplementedError

    def column_values(self, entity) -> dict:
        out = self.values(entity)
        cached = self.__dict__.get("_json_names")
        if cached is None or cached[0] is not self.fields:    # made once per fields list
            cached = self._json_names = (self.fields, [f.name for f in self.fields
                                                       if f.sql_type == "JSON"])
        for name in cached[1]:
            out[name] = to_json_value(out.get(name))
        for name, v in out.items():
            if isinstance(v, enum.Enum):
                out[name] = v.value
        return out

    def merge(self, entity, changes: dict):
        unknown = set(changes) - set(self.field_names)
        if unknown:
            raise ValidationError(f"unknown field(s) {sorted(unknown)} for "
                                  f"{self.describe()}")
        data = self.values(entity)
        data.update(changes)
        return self.validate(data)

    def from_row(self, row: dict):
        entity = self.validate({k: row[k] for k in self.field_names if k in row})
        for name in SYSTEM_COLUMNS:
            object.__setattr__(entity, name, row.get(name))
        return entity

    def describe(self) -> str:
        return getattr(self.model, "__name__", "model")

    def schema_json(self) -> list:
        return [[f.name, f.sql_type, f.required] for f in self.fields]


class PydanticAdapter(ModelAdapter):
    kind = "pydantic"

    def __init__(self, model) -> None:
        super().__init__(model)
        self.fields = []
        for name, info in model.model_fields.items():
            sql, optional = _sql_type(info.annotation)
            self.fields.append(Field(name, sql, info.is_required() and not optional))

    def validate(self, data):
        import pydantic
        if isinstance(data, self.model):
            data = data.model_dump()
        try:
            return self.model.model_validate(data)
        except pydantic.ValidationError as exc:
            raise ValidationError(f"invalid {self.describe()}: {exc}") from None

    def values(self, entity) -> dict:
        return {name: getattr(entity, name) for name in self.field_names}


class DataclassAdapter(ModelAdapter):
    kind = "dataclass"

    def __init__(self, model) -> None:
        super().__init__(model)
        hints = typing.get_type_hints(model)
        self.fields = []
        self._nested = {}
        for f in dataclasses.fields(model):
            annotation = hints.get(f.name, Any)
            sql, optional = _sql_type(annotation)
            has_default = (f.default is not dataclasses.MISSING
                           or f.default_factory is not dataclasses.MISSING)
            self.fields.append(Field(f.name, sql, not optional and not has_default))
            target = _single_type(annotation)
            if isinstance(target, type) and (dataclasses.is_dataclass(target)
                                             or issubclass(target, enum.Enum)):
                self._nested[f.name] = target

    def validate(self, data):
        if isinstance(data, self.model):
            return data
        if not isinstance(data, dict):
            raise ValidationError(f"{self.describe()} data must be a mapping or instance")
        data = dict(data)
        for name, target in self._nested.items():
            v = data.get(name)
            if isinstance(v, dict) and dataclasses.is_dataclass(target):
                data[name] = target(**v)
            elif v is not None and isinstance(target, type) and issubclass(target, enum.Enum) \
                    and not isinstance(v, target):
                data[name] = target(v)
        try:
            return self.model(**data)
        except TypeError as exc:
            raise ValidationError(f"invalid {self.describe()}: {exc}") from None

    def values(self, entity) -> dict:
        return {name: getattr(entity, name) for name in self.field_names}

    def from_row(self, row: dict):
        entity = self.validate({k: row[k] for k in self.field_names if k in row})
        if not hasattr(entity, "__dict__"):
            # A slots dataclass has no room for _id/_version: results are instances of
            # a subclass that has (isinstance still holds; made once per model).
            carrier = self.__dict__.get("_carrier")
            if carrier is None:
                carrier = type(self.model.__name__, (self.model,),
                               {"__module__": self.model.__module__,
                                "__qualname__": self.model.__qualname__})
                self._carrier = carrier
            entity = carrier(**{k: getattr(entity, k) for k in self.field_names})
        for name in SYSTEM_COLUMNS:
            object.__setattr__(entity, name, row.get(name))
        return entity


def _single_type(annotation):
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else None
    return annotation


_JSON_SCHEMA_TYPES = {"integer": ("INTEGER", int), "number": ("FLOAT", (int, float)),
                      "string": ("TEXT", str), "boolean": ("BOOLEAN", bool),
                      "object": ("JSON", dict), "array": ("JSON", list)}
_FORMATS = {"date-time": "TIMESTAMP", "date": "DATE", "uuid": "UUID"}


class JsonSchemaAdapter(ModelAdapter):
    """A JSON Schema ``{"type": "object", "properties": ..., "required": [...]}``."""

    kind = "json_schema"

    def __init__(self, schema: dict) -> None:
        super().__init__(schema)
        if schema.get("type", "object") != "object" or "properties" not in schema:
            raise ValidationError('a JSON Schema model needs "type": "object" and '
                                  '"properties"')
        required = set(schema.get("required", ()))
        self.fields = []
        self._checks = {}
        for name, prop in schema["properties"].items():
            typ = prop.get("type", "object")
            nullable = False
            if isinstance(typ, list):
                nullable = "null" in typ
                rest = [t for t in typ if t != "null"]
                typ = rest[0] if len(rest) == 1 else "object"
            sql, check = _JSON_SCHEMA_TYPES.get(typ, ("JSON", object))
            if typ == "string" and prop.get("format") in _FORMATS:
                sql = _FORMATS[prop["format"]]
                check = (str, dt.date, uuid.UUID)
            self.fields.append(Field(name, sql, name in required and not nullable))
            self._checks[name] = (check, prop.get("enum"))
        self.additional = schema.get("additionalProperties", False)

    def describe(self) -> str:
        return self.model.get("title", "JSON Schema model")

    def validate(self, data):
        if not isinstance(data, dict):
            raise ValidationError(f"{self.describe()} data must be a mapping")
        unknown = set(data) - set(self._checks)
        if unknown and not self.additional:
            raise ValidationError(f"unknown field(s) {sorted(unknown)} for {self.describe()}")
        out = Entity()
        for f in self.fields:
            v = data.get(f.name)
            if v is None:
                if f.required:
                    raise ValidationError(f"{self.describe()}: field {f.name!r} is required")
                dict.__setitem__(out, f.name, None)
                continue
            check, allowed = self._checks[f.name]
            if (check is int and isinstance(v, bool)) or not isinstance(v, check):
                raise ValidationError(f"{self.describe()}: field {f.name!r} has the wrong "
                                      f"type ({type(v).__name__})")
            if allowed is not None and v not in allowed:
                raise ValidationError(f"{self.describe()}: field {f.name!r} must be one "
                                      f"of {allowed}")
            dict.__setitem__(out, f.name, v)
        return out

    def values(self, entity) -> dict:
        return {name: entity.get(name) for name in self.field_names}


_SQL_CHECKS = {"INTEGER": int, "FLOAT": (int, float), "TEXT": str, "BOOLEAN": bool,
               "TIMESTAMP": (dt.datetime, str), "DATE": (dt.date, str),
               "UUID": (uuid.UUID, str), "JSON": object}


class SqlTableAdapter(ModelAdapter):
    """``CREATE TABLE name (...)`` text: its columns become the fields.

    The statement runs on a scratch database, so the engine's own parser and type
    rules decide the columns (``VARCHAR(10)`` is TEXT, ``BIGINT`` INTEGER, ...);
    column-level UNIQUE constraints become the collection's unique fields.
    """

    kind = "sql"

    def __init__(self, text: str) -> None:
        super().__init__(text)
        from ..database import Database
        scratch = Database(name="persist-model")
        scratch.connect().execute(text)
        if len(scratch.root.tables) != 1:
            raise ValidationError("a SQL model is one CREATE TABLE statement")
        (self.table_name, version), = scratch.root.tables.items()
        schema = version.schema
        clash = set(schema.names) & set(SYSTEM_COLUMNS)
        if clash:
            raise ValidationError(f"system column(s) {sorted(clash)} are added by the "
                                  "collection; leave them out of the CREATE TABLE")
        self.fields = [Field(c.name, c.type, c.not_null) for c in schema.columns]
        self.unique = [tuple(schema.columns[i].name for i in u.columns)
                       for u in schema.uniques]

    def describe(self) -> str:
        return f"table {self.table_name}"

    def validate(self, data):
        if not isinstance(data, dict):
            raise ValidationError(f"{self.describe()} data must be a mapping")
        unknown = set(data) - set(self.field_names)
        if unknown:
            raise ValidationError(f"unknown field(s) {sorted(unknown)} for {self.describe()}")
        out = Entity()
        for f in self.fields:
            v = data.get(f.name)
            if v is None:
                if f.required:
                    raise ValidationError(f"{self.describe()}: field {f.name!r} is NOT NULL")
            else:
                check = _SQL_CHECKS.get(f.sql_type, object)
                if (check is int and isinstance(v, bool)) or not isinstance(v, check):
                    raise ValidationError(f"{self.describe()}: field {f.name!r} is "
                                          f"{f.sql_type}, not {type(v).__name__}")
            dict.__setitem__(out, f.name, v)
        return out

    def values(self, entity) -> dict:
        return {name: entity.get(name) for name in self.field_names}


class UnionAdapter(ModelAdapter):
    """A discriminated union of pydantic models: a heterogeneous collection.

    ``Annotated[Cat | Dog, Field(discriminator="kind")]``: one table whose columns
    are the union of the members' fields (each nullable, as rows of another member
    leave it empty; the discriminator is NOT NULL). pydantic picks the member from
    the discriminator value; a row is read back as that member with its own fields.
    """

    kind = "union"

    def __init__(self, model) -> None:
        super().__init__(model)
        import pydantic
        args = typing.get_args(model)
        union, meta = args[0], args[1:]
        disc = next((getattr(m, "discriminator", None) for m in meta
                     if getattr(m, "discriminator", None)), None)
        members = typing.get_args(union)
        if not isinstance(disc, str) or not members:
            raise TypeError("a heterogeneous collection is Annotated[A | B, "
                            "Field(discriminator='field')] of pydantic models")
        self.discriminator = disc
        self._adapter = pydantic.TypeAdapter(model)
        self._members = {}
        self.fields, seen = [], {}
        for member in members:
            literal = member.model_fields[disc].annotation
            for value in typing.get_args(literal):
                self._members[value] = member
            for name, info in member.model_fields.items():
                sql, _ = _sql_type(info.annotation)
                if name in seen and seen[name] != sql:
                    sql = "JSON"          # same name, different types: keep both as JSON
                    self.fields = [f if f.name != name else Field(name, sql, False)
                                   for f in self.fields]
                if name not in seen:
                    self.fields.append(Field(name, sql, name == disc))
                seen[name] = sql
        self._json = {f.name for f in self.fields if f.sql_type == "JSON"}

    def describe(self) -> str:
        return " | ".join(m.__name__ for m in dict.fromkeys(self._members.values()))

    def validate(self, data):
        import pydantic
        if isinstance(data, pydantic.BaseModel):
            data = data.model_dump()
        if isinstance(data, dict):
            member = self._members.get(data.get(self.discriminator))
            if member is not None:     # drop other members' (empty) columns
                data = {k: v for k, v in data.items() if k in member.model_fields}
        try:
            return self._adapter.validate_python(data)
        except pydantic.ValidationError as exc:
            raise ValidationError(f"invalid {self.describe()}: {exc}") from None

    def values(self, entity) -> dict:
        return {name: getattr(entity, name, None) for name in self.field_names}

    def merge(self, entity, changes: dict):
        unknown = set(changes) - set(self.field_names)
        if unknown:
            raise ValidationError(f"unknown field(s) {sorted(unknown)} for {self.describe()}")
        data = {k: getattr(entity, k) for k in type(entity).model_fields}
        data.update(changes)
        member = self._members.get(data.get(self.discriminator))
        if member is not None and set(changes) - set(member.model_fields):
            raise ValidationError(f"{member.__name__} has no field(s) "
                                  f"{sorted(set(changes) - set(member.model_fields))}")
        return self.validate(data)


def adapter_for(model) -> ModelAdapter:
    if isinstance(model, str):
        return SqlTableAdapter(model)
    if typing.get_origin(model) is typing.Annotated:
        return UnionAdapter(model)
    if isinstance(model, dict):
        return JsonSchemaAdapter(model)
    if isinstance(model, type) and dataclasses.is_dataclass(model):
        return DataclassAdapter(model)
    if isinstance(model, type) and hasattr(model, "model_fields") \
            and hasattr(model, "model_validate"):
        return PydanticAdapter(model)
    raise TypeError("a collection model is a pydantic model class, a dataclass, a JSON "
                    "Schema dict, CREATE TABLE text or a discriminated union, "
                    f"not {model!r}")
