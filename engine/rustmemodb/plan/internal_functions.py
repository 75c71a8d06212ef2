"""The engine's internal functions: names the binder's plans call, not SQL's.

The binder turns syntax into calls of registered functions: ``a + b`` is ``add``,
``ROW(a, b)`` is ``record_make``, ``x::int4`` checks with ``int4_fit``, ``to_json(t)``
builds with ``json_build_object_docs``, ``TRY_CAST`` is ``try_cast_<type>`` ... These
helpers trust the binder to have checked their arguments, and PostgreSQL has no such
functions: a name written in SQL never reaches them (``record_make(1, 2)`` is 42883
``function record_make(integer, integer) does not exist``, as in PostgreSQL), unless the
user registered a function of that name (``conn.register_function``).

Where the engine itself has to spell a helper in SQL text or in a sqlglot tree it binds
(the cluster sends each shard its fragment as SQL: cluster/render.py, split.py; the
binder rewrites ``to_jsonb(t)`` and ``jsonb_each`` into helper calls), it qualifies the
name with the internal schema: ``rustmemodb_internal.record_make(...)``. That schema
holds exactly these functions, as PostgreSQL's ``pg_catalog`` holds its operators'
functions (``int4pl``) beside the documented ones.
"""
from __future__ import annotations

INTERNAL_SCHEMA = "rustmemodb_internal"

INTERNAL_NAMES = frozenset({
    # operators (sql/bind/bind_expr.py maps each operator node onto one of these)
    "add", "sub", "mul", "div_trunc", "neg", "concat_op",
    "eq", "ne", "lt", "le", "gt", "ge", "is_distinct", "is_not_distinct",
    "and", "or", "not", "is_null", "is_not_null", "is_true", "is_false",
    "ilike", "regexp_ilike", "similar_to", "ts_match",
    "bit_and_op", "bit_or_op", "bit_xor_op", "bit_not", "shift_left", "shift_right",
    "array_contains_all", "array_contained_by", "array_overlaps",
    # x op ANY/ALL (array)
    *(f"{quant}_{op}_array" for quant in ("any", "all")
      for op in ("eq", "ne", "lt", "le", "gt", "ge", "like", "not_like", "ilike",
                 "not_ilike")),
    # ARRAY[...], a[i], a[i:j]; set-returning functions in the select list and FROM
    "array_make", "array_element", "array_slice", "text_element", "text_slice",
    "srf_unnest", "srf_generate_series", "srf_row", "srf_regexp_matches",
    "ts_stat_source",
    # TRIM(... FROM ...), EXTRACT, casts and type modifiers' checks
    "trim_both", "trim_leading", "trim_trailing",
    "extract_julian", "extract_date_unsupported", "extract_numeric",
    "int2_fit", "int4_fit", "float4_fit", "numeric_fit", "time_round", "bpchar_pad",
    "bit_of_int", "bit_cast_length", "bit_to_int4", "value_out",
    *(f"try_cast_{t}" for t in (
        "integer", "float", "text", "boolean", "timestamp", "date", "uuid", "json", "time",
        "bytea", "timestamptz", "jsont", "tsvector", "tsquery", "inet", "cidr", "macaddr",
        "macaddr8", "money", "bit", "varbit", "timetz", "numeric", "interval")),
    # object identifiers (x::regclass ...), domains and enums
    "regclass_in", "regclass_out", "regtype_in", "regtype_out", "regproc_in",
    "regnamespace_in", "regnamespace_out", "regconfig_in", "regdictionary_in",
    "oidvector_in", "rustmemodb_oid_visible", "rustmemodb_vector_element",
    "domain_check", "domain_not_null", "enum_in", "enum_label", "enum_sortkey",
    # rows and records
    "record_make", "record_field", "record_zip", "record_is_null", "record_not_null",
    # JSON: operators, whole-row documents, jsonb_each & co., aggregates' output, order
    "json_get", "json_get_text", "json_path", "json_path_text", "json_path_items",
    "json_exists", "json_object_from", "json_keys", "json_values", "json_values_text",
    "json_elements", "json_elements_text", "json_build_object_docs",
    "json_build_array_docs", "jsonb_build_object_docs", "jsonb_build_array_docs",
    "json_row_object", "json_row_object_docs", "json_agg_out", "json_object_agg_out",
    "json_array_pretty", "jsonb_sortkey",
    # aggregates' helpers: ORDER BY inside an aggregate, a cluster's stddev merge
    "agg_pack", "spread_merge",
    # format(fmt, VARIADIC text[]) and json[b]_build_object(VARIADIC text[]) of an array
    # known at run time (sql/bind/bind_variadic.py)
    "format_variadic", "json_build_object_variadic", "jsonb_build_object_variadic",
})


def is_internal(name: str) -> bool:
    """Whether ``name`` (lower case) is one of the binder's helpers."""
    return name in INTERNAL_NAMES


def call_node(name: str, args: list):
    """A sqlglot call of helper ``name``, qualified as the binder reads one back
    (``rustmemodb_internal.name(args)``): for trees the engine builds and binds."""
    from sqlglot import exp
    return exp.Dot(this=exp.to_identifier(INTERNAL_SCHEMA),
                   expression=exp.Anonymous(this=name, expressions=list(args)))
