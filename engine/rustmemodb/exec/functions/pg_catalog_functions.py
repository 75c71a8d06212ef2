"""PostgreSQL's catalog helper functions, as client tools call them on ``pg_catalog``.

``format_type``, ``to_regtype``, ``pg_table_is_visible``, ``pg_get_expr`` and the
regclass/regtype conversions the binder uses for ``::regclass`` casts; the oids
and names come from catalog/pg_catalog.py, so they agree with the virtual tables.
A relation is visible when no schema before its own on the search path has one of the
same name (all are, while public is the only schema). ``pg_typeof`` has one overload per
engine type (and its array), each answering the name PostgreSQL gives that type.
"""
from __future__ import annotations

from ... import errors, types
from ...catalog import pg_catalog as pgc
from ...catalog import pg_proc
from ...catalog.pg_types import PG_TYPES, pg_type
from ..typmods import (domain_check_violation, domain_not_null, enum_labels_at, enum_position,
                      enum_positions, enum_value)
from .registry import ScalarFunction, fixed

I, T, B = types.INTEGER, types.TEXT, types.BOOLEAN


def _same_type(arity: int):
    """A resolver taking any first argument (and ``arity - 1`` more) and returning its
    type: a domain check hands its value through unchanged."""
    def resolve(arg_types):
        return arg_types[0] if len(arg_types) == arity else None
    return resolve


def _domain_not_null(value, name):
    if value is None:
        raise domain_not_null(name)
    return value


def _domain_check(value, ok, name, constraint):
    if ok is False:
        raise domain_check_violation(name, constraint)
    return value


def _format_type(oid, typmod=None):
    return pgc.format_type(oid, typmod)


def _oidvector_in(text: str) -> list[int]:
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1].replace(",", " ")
    try:
        return [int(v) for v in body.split()]
    except ValueError:
        raise errors.sql_error("22P02", f'invalid input syntax for type oid: "{text}"') \
            from None


def _typeof(sql_type: str) -> ScalarFunction:
    """``pg_typeof`` of an argument of ``sql_type``: not strict, a NULL has a type too."""
    name = "unknown" if sql_type in (types.NULL, types.UNKNOWN) else (
        pg_type(types.element_type(sql_type)).data_type + "[]" if types.is_array(sql_type)
        else pg_type(sql_type).data_type)
    return ScalarFunction("pg_typeof", lambda ts: T if len(ts) == 1 and ts[0] == sql_type
                          else None, None, lambda _value: name, strict=False)


def register(reg) -> None:
    for sql_type in [types.NULL, types.UNKNOWN, *PG_TYPES, *map(types.array_of, PG_TYPES)]:
        reg.add(_typeof(sql_type))
    reg.add(ScalarFunction("format_type", fixed((I, I, T), (I, T)), None, _format_type,
                           strict=False))
    # text::oid[] / ::regtype[]: an oidvector's text ('20 21') or an array literal
    reg.add(ScalarFunction("oidvector_in", fixed((T, types.array_of(I))), None,
                           _oidvector_in))
    # x::mood, mood an enum type (sql/bind/bind_expr.py): the text, if it is a label
    reg.add(ScalarFunction("enum_in", fixed((T, T, types.array_of(T), T)), None,
                           lambda value, name, labels: enum_value(value, name, labels)))
    # enum values compare and sort by label position (sql/bind/enum_order.py): the
    # position of a value, and the label at a position (min/max)
    reg.add(ScalarFunction("enum_sortkey", fixed((T, T, types.array_of(T), I)),
                           enum_positions, enum_position))
    reg.add(ScalarFunction("enum_label", fixed((I, types.array_of(T), T)), enum_labels_at,
                           lambda position, labels: labels[position - 1]))
    # x::posint, posint a domain (sql/bind/bind_expr.py ``_domain_cast``): the value,
    # if the domain's NOT NULL and each CHECK (false fails; NULL passes) hold
    reg.add(ScalarFunction("domain_not_null", _same_type(2), None, _domain_not_null,
                           strict=False))
    reg.add(ScalarFunction("domain_check", _same_type(4), None, _domain_check,
                           strict=False))
    reg.add(ScalarFunction("to_regtype", fixed((T, I)), None, pgc.regtype_in))
    reg.add(ScalarFunction("regtype_in", fixed((T, I)), None, pgc.regtype_in))
    reg.add(ScalarFunction("regtype_out", fixed((I, T)), None, lambda o: pgc.format_type(o)))
    reg.add(ScalarFunction("regclass_in", fixed((T, I)), None, pgc.regclass_in))
    reg.add(ScalarFunction("regproc_in", fixed((T, T)), None,
                           lambda t: t.strip().strip('"').removeprefix("pg_catalog.")))
    reg.add(ScalarFunction("regclass_out", fixed((I, T)), None, pgc.regclass_out))
    reg.add(ScalarFunction("regnamespace_out", fixed((I, T)), None,
                           lambda o: {v: k for k, v in pgc.NAMESPACES.items()}.get(o, str(o))))
    reg.add(ScalarFunction("regnamespace_in", fixed((T, I)), None,
                           lambda t: pgc.NAMESPACES.get(t.strip().strip('"'))))
    for name in ("pg_table_is_visible", "pg_type_is_visible", "pg_function_is_visible",
                 "pg_collation_is_visible", "pg_conversion_is_visible",
                 "pg_operator_is_visible", "pg_ts_config_is_visible", "pg_opclass_is_visible",
                 "pg_opfamily_is_visible", "pg_statistics_obj_is_visible",
                 "pg_ts_dict_is_visible", "pg_ts_parser_is_visible",
                 "pg_ts_template_is_visible"):
        reg.add(ScalarFunction(name, fixed((I, B)), None, lambda oid: True))
    # pg_table_is_visible once schemas other than public exist: the binder passes the
    # oids the session's search path hides (sql/bind/bind_session_functions.py)
    # ``indoption[n]`` (int2vector text "0 3"): its n-th number from 0 (sql/bind/bind_array.py)
    reg.add(ScalarFunction("rustmemodb_vector_element", fixed((T, I, I)), None,
                           lambda text, n: int(text.split()[n])
                           if 0 <= n < len(text.split()) else None))
    reg.add(ScalarFunction("rustmemodb_oid_visible", fixed((I, types.array_of(I), B)), None,
                           lambda oid, hidden: oid not in hidden))
    reg.add(ScalarFunction("pg_get_expr", fixed((T, I, T), (T, I, B, T)), None,
                           lambda expr, rel, pretty=False: pgc.unwrapped(expr) if pretty else expr))
    # objects the engine never has (pg_statistic_ext, pg_trigger are empty): never called
    # on a row, but the name must resolve for the query to bind
    for name in ("pg_get_statisticsobjdef_columns", "pg_get_triggerdef", "pg_get_ruledef"):
        reg.add(ScalarFunction(name, fixed((I, T), (I, B, T)), None,
                               lambda oid, pretty=False: None, strict=False))
    # pg_description is empty: no object has a comment
    reg.add(ScalarFunction("obj_description", fixed((I, T), (I, T, T)), None,
                           lambda oid, catalog=None: None, strict=False))
    reg.add(ScalarFunction("col_description", fixed((I, I, T)), None,
                           lambda oid, column: None, strict=False))
    reg.add(ScalarFunction("shobj_description", fixed((I, T, T)), None,
                           lambda oid, catalog: None, strict=False))
    reg.add(ScalarFunction("pg_relation_is_publishable", fixed((I, B), (T, B)), None,
                           lambda rel: False))       # no publications exist
    reg.add(ScalarFunction("pg_size_pretty", fixed((I, T)), None, pgc.size_pretty))
    # pg_default and pg_global live in the data directory: PostgreSQL answers '' for them
    reg.add(ScalarFunction("pg_tablespace_location", fixed((I, T)), None, lambda oid: ""))
    # the server speaks UTF8 only; SQL_ASCII (0) is the other name clients ask about
    reg.add(ScalarFunction("pg_encoding_to_char", fixed((I, T)), None,
                           lambda e: {6: "UTF8", 0: "SQL_ASCII"}.get(e, "")))
    reg.add(ScalarFunction("pg_char_to_encoding", fixed((T, I)), None,
                           lambda n: {"utf8": 6, "unicode": 6, "sqlascii": 0}.get(
                               "".join(ch for ch in n.lower() if ch.isalnum()), -1)))
    reg.add(ScalarFunction("getdatabaseencoding", fixed((T,)), None, lambda: "UTF8"))
    reg.add(ScalarFunction("pg_get_function_result", fixed((I, T)), None,
                           pg_proc.function_result))
    reg.add(ScalarFunction("pg_get_function_arguments", fixed((I, T)), None,
                           pg_proc.function_arguments))
    reg.add(ScalarFunction("pg_get_function_identity_arguments", fixed((I, T)), None,
                           pg_proc.function_identity_arguments))
