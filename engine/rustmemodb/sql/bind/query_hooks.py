"""The statement binder's hooks for query features, one module per feature.

``StatementBinder`` inherits these; the SELECT and expression binders call them
when they meet a WITH clause, a set operation, DISTINCT ON, a window function,
a subquery, an ordered-set/extended aggregate or a JSON operator. Each hook
only forwards to its module so the features stay in their own files.
"""
from __future__ import annotations

from sqlglot import exp
from .bind_subquery import bind_scalar_subquery, bind_exists, bind_in_subquery, bind_quantified
from .bind_cte import bind_with, cte_plan
from .bind_setop import bind_set_operation
from .bind_window import bind_window_call, bind_windows, distinct_on_positions
from .bind_aggregate_ext import bind_aggregate, bind_filter, bind_json_agg, bind_quantile
from .bind_grouping_sets import bind_grouping
from .bind_ordered_set import bind_within_group
from .bind_functions import (bind_trim, bind_pad, bind_initcap, bind_str_position, bind_extract,
                             bind_date_part, bind_date_trunc, bind_json_extract,
                             bind_json_extract_scalar, bind_jsonb_extract,
                             bind_jsonb_extract_scalar, bind_make_interval, bind_str_to_time,
                             bind_to_char)
from .bind_array import (bind_select_list_srf, bind_array_constructor, bind_subscript,
                         bind_array_quantified, bind_array_agg, bind_unnest,
                         ZERO_BASED_VECTORS)
from ... import errors, types
from .bind_lateral import bind_table_function
from .bind_jsonb import (bind_arrow_lambda, bind_jsonb_exists, bind_path_operator,
                         bind_json_build, bind_row_json, bind_select_list_json)


def _json_srf(name: str):
    """The select-list hook of the JSON set-returning function ``name``."""
    def hook(self, binder, args, node):
        return bind_select_list_json(self, binder, name, args, node)
    return hook



class QueryHooks:
    # ---- subqueries (bind_subquery.py) ------------------------------------------------
    def bind_subquery(self, binder, node):
        return bind_scalar_subquery(self, binder, node)

    def bind_exists(self, binder, node):
        return bind_exists(self, binder, node)

    def bind_in_subquery(self, binder, node):
        return bind_in_subquery(self, binder, node)

    def bind_quantified(self, binder, node):
        return bind_quantified(self, binder, node)

    # ---- WITH (bind_cte.py) ---------------------------------------------------------------
    def bind_with(self, node, with_, parent, body_binder=None):
        return bind_with(self, node, with_, parent, body_binder)

    def cte_plan(self, cte, parent=None):
        return cte_plan(self, cte, parent)

    # ---- UNION / INTERSECT / EXCEPT (bind_setop.py) ----------------------------------------
    def bind_set_operation(self, node, parent):
        return bind_set_operation(self, node, parent)

    # ---- window functions and DISTINCT ON (bind_window.py) ---------------------------------
    def bind_tuple(self, binder, node):
        """``(a, b)`` as a value (not compared, not an IN list): the record ``ROW(a, b)``
        is (exec/functions/record.py), e.g. in ``count(DISTINCT (a, b))``."""
        return binder.bind(exp.Anonymous(this="row", expressions=[
            e.copy() for e in node.expressions]))

    def bind_window(self, binder, node):
        return bind_window_call(self, binder, node)

    def bind_windows(self, plan, select_exprs, order_specs):
        return bind_windows(self, plan, select_exprs, order_specs)

    def distinct_on_positions(self, on, names, select_exprs, bind):
        return distinct_on_positions(self, on, names, select_exprs, bind)

    # ---- extended aggregates and FILTER (bind_aggregate_ext.py) ---------------------------
    def bind_aggregate(self, binder, node):
        return bind_aggregate(self, binder, node)

    def bind_grouping(self, binder, node):
        return bind_grouping(self, binder, node)

    def bind_withingroup(self, binder, node):
        return bind_within_group(self, binder, node)

    def bind_filter(self, binder, node):
        return bind_filter(self, binder, node)

    # ---- functions with special syntax (bind_functions.py) ---------------------------------
    def bind_function_trim(self, binder, args, node):
        return bind_trim(self, binder, args, node)

    def bind_function_pad(self, binder, args, node):
        return bind_pad(self, binder, args, node)

    def bind_function_initcap(self, binder, args, node):
        return bind_initcap(self, binder, args, node)

    def bind_function_str_position(self, binder, args, node):
        return bind_str_position(self, binder, args, node)

    def bind_function_extract(self, binder, args, node):
        return bind_extract(self, binder, args, node)

    def bind_function_date_part(self, binder, args, node):
        return bind_date_part(self, binder, args, node)

    def bind_function_pg_date_part(self, binder, args, node):     # sql/parse.py
        return bind_date_part(self, binder, args, node)

    def bind_function_make_interval(self, binder, args, node):
        return bind_make_interval(self, binder, args, node)

    def bind_function_timestamp_trunc(self, binder, args, node):
        return bind_date_trunc(self, binder, args, node)

    bind_function_date_trunc = bind_function_timestamp_trunc

    def bind_function_json_extract(self, binder, args, node):
        return bind_json_extract(self, binder, args, node)

    def bind_function_json_extract_scalar(self, binder, args, node):
        return bind_json_extract_scalar(self, binder, args, node)

    def bind_function_jsonb_extract(self, binder, args, node):
        return bind_jsonb_extract(self, binder, args, node)

    def bind_function_jsonb_extract_scalar(self, binder, args, node):
        return bind_jsonb_extract_scalar(self, binder, args, node)

    def bind_function_quantile_cont(self, binder, args, node):
        return bind_quantile(self, binder, "quantile_cont", args, node)

    def bind_function_quantile_disc(self, binder, args, node):
        return bind_quantile(self, binder, "quantile_disc", args, node)

    def bind_function_jsonb_agg(self, binder, args, node):
        if len(args) != 1:
            raise errors.undefined_function(f"function jsonb_agg with {len(args)} arguments "
                                            "does not exist")
        return bind_json_agg(self, binder, args[0], node, "to_jsonb")

    def bind_function_json_agg(self, binder, args, node):
        if len(args) != 1:
            raise errors.undefined_function(f"function json_agg with {len(args)} arguments "
                                            "does not exist")
        return bind_json_agg(self, binder, args[0], node, "to_json")

    def bind_function_regexp_split_to_table(self, binder, args, node):
        return bind_select_list_srf(self, binder, "srf_unnest", [exp.Anonymous(
            this="regexp_split_to_array", expressions=list(args))], node)

    def bind_function_string_to_table(self, binder, args, node):
        return bind_select_list_srf(self, binder, "srf_unnest", [exp.Anonymous(
            this="string_to_array", expressions=list(args))], node)

    def bind_function_regexp_matches(self, binder, args, node):
        return bind_select_list_srf(self, binder, "srf_regexp_matches", args, node)

    # ---- JSON (bind_jsonb.py) ----------------------------------------------------------------
    def bind_lambda(self, binder, node):
        return bind_arrow_lambda(binder, node)

    def bind_jsonbexists(self, binder, node):
        return bind_jsonb_exists(binder, node)

    def bind_matchagainst(self, binder, node):
        return bind_path_operator(binder, node)

    def bind_function_to_json(self, binder, args, node):
        return bind_row_json(binder, "to_json", args, node)

    def bind_function_to_jsonb(self, binder, args, node):
        return bind_row_json(binder, "to_jsonb", args, node)

    def bind_function_row_to_json(self, binder, args, node):
        return bind_row_json(binder, "row_to_json", args, node)

    def bind_function_date(self, binder, args, node):
        """``date(x)``: PostgreSQL's function-style cast, ``x::date`` (the time of a
        timestamp dropped; text read as a date)."""
        if len(args) != 1:
            raise errors.undefined_function(f"function date with {len(args)} arguments does "
                                            "not exist")
        return binder.bind(exp.Cast(this=args[0].copy(), to=exp.DataType.build("date")))

    def bind_function_array_to_json(self, binder, args, node):
        """array_to_json(a [, pretty]): to_json of an array; pretty breaks the line after
        each top-level comma (exec/functions/json_out.py)."""
        bound = binder.bind(args[0]) if len(args) in (1, 2) else None
        if bound is None or not types.is_array(bound.type):
            raise errors.undefined_function(
                "function array_to_json(" + (bound.type.lower() if bound else "") +
                ") does not exist", hint="array_to_json takes an array.")
        if len(args) == 2:
            return binder.call("json_array_pretty", [bound, binder.bind_boolean(
                args[1], "array_to_json")], node)
        return binder.call("to_json", [bound], node)

    def bind_function_json_row_object(self, binder, args, node):
        return bind_json_build(binder, "json_row_object", args, node)

    def bind_function_json_build_object(self, binder, args, node):
        return bind_json_build(binder, "json_build_object", args, node)

    def bind_function_jsonb_build_object(self, binder, args, node):
        return bind_json_build(binder, "jsonb_build_object", args, node)

    def bind_function_json_build_array(self, binder, args, node):
        return bind_json_build(binder, "json_build_array", args, node)

    def bind_function_jsonb_build_array(self, binder, args, node):
        return bind_json_build(binder, "jsonb_build_array", args, node)

    bind_function_jsonb_array_elements = _json_srf("jsonb_array_elements")
    bind_function_jsonb_array_elements_text = _json_srf("jsonb_array_elements_text")
    bind_function_jsonb_object_keys = _json_srf("jsonb_object_keys")
    bind_function_jsonb_each = _json_srf("jsonb_each")
    bind_function_jsonb_each_text = _json_srf("jsonb_each_text")
    bind_function_json_array_elements = _json_srf("json_array_elements")
    bind_function_json_array_elements_text = _json_srf("json_array_elements_text")
    bind_function_json_object_keys = _json_srf("json_object_keys")
    bind_function_json_each = _json_srf("json_each")
    bind_function_json_each_text = _json_srf("json_each_text")
    bind_function_jsonb_path_query = _json_srf("jsonb_path_query")

    # ---- arrays (bind_array.py) --------------------------------------------------------------
    def bind_function_array(self, binder, args, node):
        return bind_array_constructor(self, binder, args, node)

    def bind_bracket(self, binder, node):
        return bind_subscript(self, binder, node)

    def bind_array_quantified(self, binder, node, quant, inner):
        return bind_array_quantified(self, binder, node, quant, inner)

    def bind_array_agg(self, binder, node):
        return bind_array_agg(self, binder, node)

    def bind_from_unnest(self, item, parent):
        return bind_unnest(self, item, parent)

    def bind_from_unnest_aliased(self, item, parent, alias_node):
        return bind_unnest(self, item, parent, alias_node)

    def bind_function_explode(self, binder, args, node):
        return bind_select_list_srf(self, binder, "srf_unnest", args, node)

    def bind_function_generate_series(self, binder, args, node):
        return bind_select_list_srf(self, binder, "srf_generate_series", args, node)

    bind_function_exploding_generate_series = bind_function_generate_series

    def bind_function_generate_subscripts(self, binder, args, node):
        """``generate_subscripts(arr, 1)``: 1 .. array_length(arr, 1), in the select list
        (catalog queries pair it with ``unnest(indkey)`` to number key columns)."""
        if len(args) != 2:
            raise errors.undefined_function("function generate_subscripts with "
                                            f"{len(args)} arguments does not exist")
        length = exp.Anonymous(this="array_length", expressions=[args[0], args[1]])
        if isinstance(args[0], exp.Column) and args[0].name.lower() in ZERO_BASED_VECTORS:
            # int2vector/oidvector subscripts start at 0 in PostgreSQL (SQLAlchemy numbers
            # index keys by them: pg_get_indexdef(oid, ord + 1, true))
            return bind_select_list_srf(self, binder, "srf_generate_series", [
                exp.Literal.number(0), exp.Sub(this=length, expression=exp.Literal.number(1))],
                node)
        return bind_select_list_srf(self, binder, "srf_generate_series",
                                    [exp.Literal.number(1), length], node)

    # ---- set-returning functions in FROM and LATERAL (bind_lateral.py) --------------------
    def bind_table_function(self, func, parent, column_name=None, ordinality=False):
        return bind_table_function(self, func, parent, column_name, ordinality)

    def bind_function_time_to_str(self, binder, args, node):
        return bind_to_char(self, binder, args, node)

    def bind_function_str_to_time(self, binder, args, node):
        return bind_str_to_time(self, binder, args, node, "to_timestamp")

    def bind_function_str_to_date(self, binder, args, node):
        return bind_str_to_time(self, binder, args, node, "to_date")
