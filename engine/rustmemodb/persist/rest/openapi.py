"""JSON Schemas of each collection for the OpenAPI 3.1 document.

The routes take and return plain JSON (the collection's adapter validates), so the
schemas are taken from the models themselves: pydantic's own JSON Schema for pydantic
models, dataclasses and discriminated unions, the given dict for JSON-Schema
collections, and the column types for ``CREATE TABLE`` collections. Components per
collection ``c``: ``c`` (the model), ``c_entity`` (plus system fields), ``c_patch``
(a merge patch: nothing required), ``c_page`` (a list result).
"""
from __future__ import annotations

import copy

INT64 = {"minimum": -2**63, "maximum": 2**63 - 1}     # INTEGER columns are 64-bit
SQL_JSON = {"INTEGER": {"type": "integer", **INT64}, "FLOAT": {"type": "number"},
             "TEXT": {"type": "string"}, "BOOLEAN": {"type": "boolean"},
             "TIMESTAMP": {"type": "string", "format": "date-time"},
             "DATE": {"type": "string", "format": "date"},
             "UUID": {"type": "string", "format": "uuid"}, "JSON": {}}

SYSTEM_PROPERTIES = {
    "_id": {"type": "string", "format": "uuid", "readOnly": True},
    "_version": {"type": "integer", "minimum": 1, "readOnly": True},
    "_created_at": {"type": "string", "format": "date-time", "readOnly": True},
    "_updated_at": {"type": "string", "format": "date-time", "readOnly": True},
}

REF = "#/components/schemas/{model}"


def model_schema(coll) -> tuple[dict, dict]:
    """(schema of the model, extra component definitions it refers to)."""
    adapter = coll.adapter
    if adapter.kind in ("pydantic", "dataclass", "union"):
        import pydantic
        schema = pydantic.TypeAdapter(adapter.model).json_schema(ref_template=REF)
        return schema, schema.pop("$defs", {})
    if adapter.kind == "json_schema":
        schema = copy.deepcopy(adapter.model)
        schema.pop("$schema", None)
        # persist refuses unknown fields unless the schema allows them (JSON Schema's
        # own default is to allow): say so in the document.
        schema.setdefault("additionalProperties", False)
        defs = schema.pop("$defs", {})
        return schema, defs
    return ({"type": "object",
             "properties": {f.name: dict(SQL_JSON[f.sql_type]) if f.required else
                            {"anyOf": [dict(SQL_JSON[f.sql_type]), {"type": "null"}]}
                            for f in adapter.fields},
             "required": [f.name for f in adapter.fields if f.required]}, {})


def _bound_integers(prop: dict) -> None:
    typ = prop.get("type")
    if typ == "integer" or (isinstance(typ, list) and "integer" in typ):
        for k, v in INT64.items():
            prop.setdefault(k, v)
    for branch in prop.get("anyOf", []) + prop.get("oneOf", []):
        _bound_integers(branch)


def collection_components(coll) -> dict:
    name = coll.name
    schema, defs = model_schema(coll)
    for f in coll.adapter.fields:
        if f.sql_type == "INTEGER" and f.name in schema.get("properties", {}):
            _bound_integers(schema["properties"][f.name])
    patch = {"type": "object", "description": f"JSON merge patch (RFC 7396) of a {name} "
             "entity: the fields to change; null clears an optional field",
             "properties": copy.deepcopy(schema.get("properties", {}))}
    out = dict(defs)
    out[name] = schema
    if "properties" in schema:
        # The model's own object plus the system fields (an allOf would clash with a
        # closed model's additionalProperties: false).
        entity = copy.deepcopy(schema)
        entity["properties"] = {**SYSTEM_PROPERTIES, **entity["properties"]}
        entity["required"] = list(SYSTEM_PROPERTIES) + list(entity.get("required", []))
        entity["title"] = f"{name} entity"
    else:                         # a discriminated union: its members stay open
        entity = {"allOf": [{"$ref": REF.format(model=name)},
                            {"type": "object", "properties": SYSTEM_PROPERTIES,
                             "required": list(SYSTEM_PROPERTIES)}]}
    out[f"{name}_entity"] = entity
    out[f"{name}_patch"] = patch
    out[f"{name}_page"] = {"type": "object", "required": ["total", "items"], "properties": {
        "total": {"type": "integer"}, "page": {"type": "integer"},
        "size": {"type": "integer"},
        "items": {"type": "array", "items": {"$ref": REF.format(model=f"{name}_entity")}}}}
    return out


def bulk_schema(name: str) -> dict:
    """A ``_bulk`` body: an array of create / patch / put / delete operations."""
    def op(kind: str, required: list, data: str | None) -> dict:
        props = {"op": {"const": kind}, "id": {"type": "string", "format": "uuid"},
                 "version": {"type": "integer", "minimum": 1}}
        if data:
            props["data"] = ref(data)
        return {"type": "object", "required": ["op", *required], "properties": props,
                "additionalProperties": False}
    return {"type": "array", "items": {"oneOf": [
        op("create", ["data"], name), op("patch", ["id", "data"], f"{name}_patch"),
        op("put", ["id", "data"], name), op("delete", ["id"], None)]}}


def ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def json_content(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


PROBLEM_SCHEMA = {"type": "object", "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}, "instance": {"type": "string"},
    "request_id": {"type": "string"}, "sqlstate": {"type": "string"},
    "errors": {"type": "array", "items": {"type": "object", "properties": {
        "pointer": {"type": "string"}, "detail": {"type": "string"}}}}}}


def problem(description: str) -> dict:
    return {"description": description,
            "content": {"application/problem+json": {"schema": ref("Problem")}}}
