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

_SQL_JSON = {"INTEGER": {"type": "integer"}, "FLOAT": {"type": "number"},
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
        defs = schema.pop("$defs", {})
        return schema, defs
    return ({"type": "object",
             "properties": {f.name: dict(_SQL_JSON[f.sql_type]) if f.required else
                            {"anyOf": [dict(_SQL_JSON[f.sql_type]), {"type": "null"}]}
                            for f in adapter.fields},
             "required": [f.name for f in adapter.fields if f.required]}, {})


def collection_components(coll) -> dict:
    name = coll.name
    schema, defs = model_schema(coll)
    patch = {"type": "object", "description": f"JSON merge patch (RFC 7396) of a {name} "
             "entity: the fields to change; null clears an optional field",
             "properties": copy.deepcopy(schema.get("properties", {}))}
    out = dict(defs)
    out[name] = schema
    out[f"{name}_entity"] = {"allOf": [{"$ref": REF.format(model=name)},
                                       {"type": "object", "properties": SYSTEM_PROPERTIES,
                                        "required": list(SYSTEM_PROPERTIES)}]}
    out[f"{name}_patch"] = patch
    out[f"{name}_page"] = {"type": "object", "required": ["total", "items"], "properties": {
        "total": {"type": "integer"}, "page": {"type": "integer"},
        "size": {"type": "integer"},
        "items": {"type": "array", "items": {"$ref": REF.format(model=f"{name}_entity")}}}}
    return out


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
