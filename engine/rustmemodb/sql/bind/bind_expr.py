"""Binding expressions: sqlglot nodes -> typed ``plan.expr`` trees.

Each sqlglot class maps to one of: a column (resolved in the ``Scope``), a
constant, a parameter slot, or a call of a registered function/operator. The
argument types pick the overload (``FunctionRegistry.resolve``); a mismatch is
``42883`` "operator does not exist", with the position of the operator. Calls
whose arguments are all constants are folded right here.

Aggregates are bound as ``AggCall`` nodes when the caller allows them; the
SELECT binder then lifts them into a LogicalAggregate. Subqueries, windows and
JSON operators are delegated to hooks on the statement binder.
"""
from __future__ import annotations

import dataclasses
import functools

from sqlglot import exp

from ... import composite, errors, ranges, types
from ...deep import deep
from ...statement_limits import tick
from ...optimize.fold_constants import fold
from ...plan.aggregates import AGGREGATE_TYPES
from ...plan.internal_functions import INTERNAL_SCHEMA, is_internal
from ...plan.expr import AggCall, Call, Case, Cast, ColRef, Const, Expr, InList, Param
from ..parse import DIALECT, OID_ARRAY, position_of
from .type_modifiers import (bit_typmod, char_length, composite_of, domain_base, domain_of,
                             enum_typmod, numeric_typmod, time_precision, user_type_name,
                             value_as, varchar_length)
from .coerce import adapt, common_type, unify_pair
from .whole_row import as_record
from .bind_sql_functions import inline_call
from .bind_variadic import bind_variadic, has_variadic
from . import bpchar, enum_order, network_args, reuse
from .bind_textsearch import bind_double_not
from .bind_rows import (bind_row_comparison, bind_row_in_list, bind_row_in_query,
                        bind_row_is_null, row_items)
from ...exec.functions.cast import castable
from ...exec.expr.row import compile_row
from ...exec.functions.cast import from_text

_BINARY = {
    exp.Add: "add", exp.Sub: "sub", exp.Mul: "mul", exp.Div: "div", exp.Mod: "mod",
    exp.EQ: "eq", exp.NEQ: "ne", exp.LT: "lt", exp.LTE: "le", exp.GT: "gt", exp.GTE: "ge",
    exp.And: "and", exp.Or: "or", exp.DPipe: "concat_op",
    exp.NullSafeEQ: "is_not_distinct", exp.NullSafeNEQ: "is_distinct",
    exp.BitwiseAnd: "bit_and_op", exp.BitwiseOr: "bit_or_op", exp.BitwiseXor: "bit_xor_op",
    exp.BitwiseLeftShift: "shift_left", exp.BitwiseRightShift: "shift_right",
}
_ZONED_COMPARISONS = frozenset({"eq", "ne", "lt", "le", "gt", "ge", "is_distinct",
                                "is_not_distinct"})
_DATETIMES = frozenset({types.DATE, types.TIMESTAMP, types.TIMESTAMPTZ})
_INET_CIDR = frozenset({types.INET, types.CIDR})
_BITS = frozenset(types.BIT_TYPES)
_TEXT_SEARCH = frozenset({types.TSVECTOR, types.TSQUERY})
# regconfig / regdictionary values are their (checked, normalized) names here
_TEXT_SEARCH_NAMES = {"regconfig": "regconfig_in", "regdictionary": "regdictionary_in"}
_OPERATOR_TEXT = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "eq": "=",
                  "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "and": "AND",
                  "or": "OR", "concat_op": "||", "is_not_distinct": "IS NOT DISTINCT FROM",
                  "is_distinct": "IS DISTINCT FROM", "neg": "-", "not": "NOT",
                  "like": "~~", "ilike": "~~*", "bit_and_op": "&", "bit_or_op": "|",
                  "bit_xor_op": "#", "shift_left": "<<", "shift_right": ">>", "bit_not": "~"}
_AGGREGATES = {exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min",
               exp.Max: "max"}
# sqlglot function classes whose SQL name differs from our function's name.
_FUNC_NAMES = {"CURRENT_TIMESTAMP": "now", "CURRENT_DATE": "current_date",
               "REGEXP_I_LIKE": "regexp_ilike", "TIMESTAMP_FROM_PARTS": "make_timestamp",
               # jsonb's #-, ?, ?| and ?& (exec/functions/jsonb.py)
               "J_S_O_N_B_DELETE_AT_PATH": "jsonb_delete_path",
               "J_S_O_N_B_CONTAINS_TOP_KEY": "jsonb_exists",
               "J_S_O_N_B_CONTAINS_ANY_TOP_KEYS": "jsonb_exists_any",
               "J_S_O_N_B_CONTAINS_ALL_TOP_KEYS": "jsonb_exists_all",
               "JSONB_CONTAINS": "jsonb_exists",
               "UUID": "gen_random_uuid", "UNIX_TO_TIME": "to_timestamp",
               "TIME_FROM_PARTS": "make_time", "CURRENT_VERSION": "version",
               "RAND": "random",     # sqlglot 30 reads random() as Rand
               "GETBIT": "get_bit"}


# PostgreSQL's object-identifier types (all INTEGER here) and their name conversions.
_OID_TYPES = ("OID", "REGCLASS", "REGTYPE", "REGNAMESPACE", "REGPROC", "REGPROCEDURE",
              "REGROLE", "XID", "CID",
              # operators and collations exist here by no row of theirs (pg_operator and
              # pg_amop are empty): their oids are numbers (psql's \dAo casts amopopr)
              "REGOPER", "REGOPERATOR", "REGCOLLATION")
# casts to integer widths narrower than the engine's int64 (every integer is stored as
# int64 by design): they check the range (exec/functions/math._int_fit)
_INT_WIDTHS = {exp.DataType.Type.SMALLINT: "int2_fit", exp.DataType.Type.INT: "int4_fit"}
_OID_IN = {"REGCLASS": "regclass_in", "REGTYPE": "regtype_in", "REGNAMESPACE": "regnamespace_in",
           # a function's name stays its name (pg_type.typinput holds names): text
           "REGPROC": "regproc_in", "REGPROCEDURE": "regproc_in"}
_OID_OUT = {"REGCLASS": "regclass_out", "REGTYPE": "regtype_out",
            "REGNAMESPACE": "regnamespace_out"}


def _oid_literal(node, bound: Expr, other: Expr) -> Expr:
    """``c.oid = '16398'`` (psql's catalog queries): a quoted number compared with an
    oid column of pg_catalog is that number, as PostgreSQL's oid input makes it."""
    if isinstance(bound, Const) and bound.type == types.TEXT and isinstance(other, ColRef) \
            and other.type == types.INTEGER and isinstance(bound.value, str) \
            and bound.value.isdigit() and (other.name == "oid" or other.name.endswith(
                ("relid", "oid", "namespace", "parent", "owner", "typid", "indid", "objid",
                 "classid", "roleid", "member", "typelem", "typarray", "rettype",
                 "basetype"))):
        return Const(int(bound.value), types.INTEGER)
    return bound


def _text_search_name(to) -> str | None:
    """The function reading text as a regconfig / regdictionary (a checked name here)."""
    if isinstance(to, exp.ObjectIdentifier) or (
            isinstance(to, exp.DataType) and to.this == exp.DataType.Type.USERDEFINED):
        name = to.name if isinstance(to, exp.ObjectIdentifier) else to.sql(dialect=DIALECT)
        return _TEXT_SEARCH_NAMES.get(name.lower().removeprefix("pg_catalog."))
    return None


def _object_identifier(to) -> str | None:
    if isinstance(to, exp.ObjectIdentifier) or (
            isinstance(to, exp.DataType) and to.this == exp.DataType.Type.USERDEFINED):
        name = to.name.upper() if isinstance(to, exp.ObjectIdentifier) else \
            to.sql(dialect=DIALECT).upper()
        name = name.removeprefix("PG_CATALOG.")
        return name if name in _OID_TYPES else None
    return None


# Functions that join their arguments' text (``||`` of text with anything)
_TEXT_JOINS = frozenset({"concat", "concat_ws", "concat_op"})
# The window functions that are no aggregate: called without OVER they are 42809
WINDOW_ONLY = frozenset({"row_number", "rank", "dense_rank", "percent_rank", "cume_dist",
                         "ntile", "lag", "lead", "first_value", "last_value", "nth_value"})


def over_required(name: str, node) -> errors.Error:
    """A window function called without OVER: PostgreSQL's 42809."""
    return errors.sql_error("42809", f"window function {name} requires an OVER clause",
                            position=position_of(node))


_SQL_USER_KEYWORDS = {"session_user": "bind_function_session_user",
                      "current_role": "bind_function_current_role",
                      "current_user": "bind_function_current_user",
                      "user": "bind_function_user"}


_Column_node, _Literal_node = exp.Column, exp.Literal


class ExprBinder:
    def __init__(self, stmt, scope, *, aggregates: bool = False, windows: bool = False,
                 clause: str = "") -> None:
        self.stmt = stmt            # StatementBinder: catalog, functions, params, hooks
        self.scope = scope
        self.aggregates = aggregates
        self.windows = windows
        self.clause = clause        # "WHERE", "GROUP BY", ... for error messages

    # ---- entry -----------------------------------------------------------------------
    # (binder class, node class) -> the name of the method binding such nodes, or None:
    # looking ``"_" + class name`` up on every node failed (an AttributeError raised and
    # caught inside getattr) for every operator, the commonest nodes.
    _methods: dict = {}

    def bind(self, node: exp.Expression) -> Expr:
        cls = type(node)
        if cls is _Column_node or cls is _Literal_node:
            # the leaves, half of all nodes: no recursion below them, so no depth probe
            tick()
            return self._Column(node) if cls is _Column_node else self._Literal(node)
        return self._bind_node(node)

    @deep
    def _bind_node(self, node: exp.Expression) -> Expr:
        tick()   # huge statements: interrupt / timeout while binding (statement_limits.py)
        cls = type(node)
        key = (type(self), cls)
        name = self._methods.get(key, False)
        if name is False:
            name = "_" + cls.__name__
            name = self._methods[key] = name if hasattr(type(self), name) else None
        if name is not None:
            return getattr(self, name)(node)
        name = _BINARY.get(cls)
        if name is not None:
            return self._binary(name, node)
        name = _AGGREGATES.get(cls)
        if name is not None:
            return self._aggregate(name, node)
        if isinstance(node, exp.AggFunc):
            hook = getattr(self.stmt, "bind_aggregate", None)
            if hook is not None:
                return hook(self, node)
        if isinstance(node, exp.Func):
            if cls is exp.Log and _is_log10(node):
                return self._function("log10", [node.expression], node)
            return self._function(_FUNC_NAMES.get(node.sql_name(), node.sql_name().lower()),
                                  _func_args(node), node)
        hook = getattr(self.stmt, "bind_" + cls.__name__.lower(), None)
        if hook is not None:
            return hook(self, node)
        if node is None:   # e.g. initcap(): sqlglot leaves a required argument empty
            raise errors.undefined_function("function called without a required argument",
                                            hint="Check the number of arguments.")
        raise errors.not_supported(f"expression {node.sql(dialect='postgres')!r}",
                                   hint=f"({cls.__name__} is not implemented yet)")

    def bind_boolean(self, node: exp.Expression, clause: str, reuse: bool = False) -> Expr:
        e = self.bind_piece(node) if reuse else self.bind(node)
        return self._as_boolean(e, node, clause)

    def _as_boolean(self, e: Expr, node: exp.Expression, clause: str) -> Expr:
        e = adapt(e, types.BOOLEAN)
        if e.type not in (types.BOOLEAN, types.NULL):
            raise errors.datatype_mismatch(f"argument of {clause} must be type boolean, "
                                           f"not type {e.type.lower()}",
                                           position=position_of(node))
        return e

    def bind_piece(self, node: exp.Expression) -> Expr:
        """``bind(node)`` for a whole select item or WHERE condition: reused from an
        earlier statement of the session when it was bound before in the same columns
        (sql/bind/reuse.py). The sides of an AND/OR are pieces of their own, so a new
        combination of known conditions reuses them."""
        memo = self.stmt.expr_memo
        if memo is None or self.stmt.literal_slots:
            return self.bind(node)
        scope = reuse.scope_key(self.scope)
        if scope is None:
            return self.bind(node)
        key = memo.key_of(node, getattr(self.stmt, "clauses_checked", False))
        if key is not None and type(key[0]) is tuple and (self.stmt.ctes or self.stmt.view_stack):
            key = None      # a query's names may mean a WITH query or a view's own tables
        return self._piece(node, memo, (type(self), self.aggregates, self.windows, scope),
                           key, 0)

    def _piece(self, node, memo, context: tuple, key, depth: int) -> Expr:
        # a piece holding a query is kept whole only below its AND/OR and brackets
        catalog = key is not None and type(key[0]) is tuple
        stmt = self.stmt
        if key is not None and not catalog:
            hit = memo.get((context, key))
            if hit is not None:
                bound, deps = hit
                if deps:    # the built-ins it calls: CREATE FUNCTION may shadow them
                    stmt.deps.extend(deps)
                return bound
        n_deps = len(stmt.deps)
        cls = type(node)
        if depth < 8 and cls is exp.Paren:
            bound = self._piece(node.this, memo, context, reuse.arg_key(key, "this", node.this),
                                depth + 1)
        elif depth < 8 and (cls is exp.And or cls is exp.Or) \
                and row_items(node.this) is None and row_items(node.expression) is None:
            # as _binary binds them, each side looked up (or kept) on its own
            left = self._piece(node.this, memo, context,
                               reuse.arg_key(key, "this", node.this), depth + 1)
            right = self._piece(node.expression, memo, context,
                                reuse.arg_key(key, "expression", node.expression), depth + 1)
            bound = self.call(_BINARY[cls], [left, right], node)
        elif catalog:
            return self._catalog_piece(node, memo, (context, key))
        else:
            bound = self.bind(node)
        if key is not None and not catalog:
            memo.put((context, key), (bound, tuple(stmt.deps[n_deps:])))
        return bound

    def _catalog_piece(self, node, memo, key) -> Expr:
        """A piece holding a query: kept with what binding it added to the statement
        binder, and those additions made again when it is reused (reuse.ExprMemo)."""
        stmt = self.stmt
        hit = memo.get_catalog(key, stmt.root)
        if hit is not None:
            bound, deps, reads, refs = hit
            stmt.deps.extend(deps)
            stmt.reads.extend(reads)
            stmt.nested = True
            stmt.outer_refs_made += refs
            return bound
        before = reuse.binder_state(stmt)
        n_deps, n_reads = len(stmt.deps), len(stmt.reads)
        bound = self.bind(node)
        after = reuse.binder_state(stmt)
        if all(after.get(k) == v for k, v in before.items()
               if k not in reuse.CATALOG_EFFECTS) and len(after) == len(before) \
                and stmt.nested:
            memo.put_catalog(key, (bound, tuple(stmt.deps[n_deps:]),
                                   tuple(stmt.reads[n_reads:]),
                                   stmt.outer_refs_made - before["outer_refs_made"]))
        return bound

    # ---- leaves ----------------------------------------------------------------------
    def _Column(self, node: exp.Column) -> Expr:
        if isinstance(node.this, exp.Star):
            raise errors.syntax_error("* is not allowed here", position=position_of(node))
        name = node.name
        if not node.table and not node.this.quoted and name in _SQL_USER_KEYWORDS \
                and (self.scope is None or not self.scope.find(name, None)):
            # SESSION_USER / CURRENT_ROLE are keywords in SQL, read by sqlglot as columns
            hook = getattr(self.stmt, _SQL_USER_KEYWORDS[name], None)
            if hook is not None:
                return hook(self, [], node)
        try:
            return self.stmt.resolve_column(self.scope, name, node.table or None, node=node)
        except errors.Error as exc:
            record = as_record(self, node) if exc.sqlstate == "42703" else None
            if record is None:
                raise
            return self.bind(record)

    def _Paren(self, node: exp.Paren) -> Expr:
        return self.bind(node.this)

    def _Overlaps(self, node: exp.Overlaps) -> Expr:
        """``(start1, end1) OVERLAPS (start2, end2)``: each end a date/time or an interval
        after its start, all four read as one type (timestamptz when one is)."""
        pairs = [node.this, node.expression]
        if not all(isinstance(p, exp.Tuple) and len(p.expressions) == 2 for p in pairs):
            raise errors.syntax_error("OVERLAPS takes two (start, end) pairs",
                                      position=position_of(node))
        ends = []
        for p in pairs:
            start, end = (self.bind(e) for e in p.expressions)
            if end.type == types.INTERVAL or (isinstance(end, Const) and
                                              end.type == types.TEXT and start.type == types.TIME):
                end = self.call("add", [start, adapt(end, types.INTERVAL)], node)
            ends += [start, end]
        known = {e.type for e in ends if not (isinstance(e, Const) and e.type == types.TEXT)}
        if not known - {types.NULL}:
            raise errors.sql_error("42725", "function overlaps(unknown, unknown, unknown, "
                                            "unknown) is not unique",
                                   position=position_of(node),
                                   hint="Cast the arguments to a date/time type.")
        target = next((t for t in (types.TIMESTAMPTZ, types.TIMESTAMP, types.DATE, types.TIME)
                       if t in known), types.TIMESTAMP)
        args = []
        for e in ends:
            e = adapt(e, target)
            if e.type != target:
                if not castable(e.type, target):
                    raise errors.undefined_function(
                        f"function overlaps({', '.join(x.type.lower() for x in ends)}) does "
                        "not exist", position=position_of(node))
                e = fold(Cast(e, target))
            args.append(e)
        fn, ret = self.stmt.functions.resolve("overlaps", [a.type for a in args])
        return fold(Call("overlaps", tuple(args), ret, fn))

    def _Literal(self, node: exp.Literal) -> Expr:
        text = node.this
        slot = self.stmt.literal_slot(node) if self.stmt.literal_slots else None
        if node.is_string:
            if len(text) < 12 and text.strip().lower() in _CLOCK_WORDS:
                # 'now'/'today'... read as a date/time is the time of this execution: a
                # cached plan would replay the first one
                self.stmt.cacheable = False
            return Const(text, types.TEXT, slot)
        try:
            if any(c in text for c in ".eE") and not text.lower().startswith("0x"):
                # 0.1 and 1e5 are numeric, as in PostgreSQL (exact: numeric.py)
                return Const(types.numeric.encode(types.numeric.parse(text)), types.NUMERIC,
                             slot)
            value = int(text)
            if not types.INT64_MIN <= value <= types.INT64_MAX and text.isdigit():
                return Const(types.numeric.of_python(value), types.NUMERIC, slot)
            return Const(types.check_int(value), types.INTEGER, slot)
        except ValueError:
            raise errors.syntax_error(f"invalid number {text!r}", position=position_of(node))

    def _BitString(self, node) -> Expr:
        """B'1010': a bit string (of its length)."""
        return Const(types.bitstring.parse(node.this), types.BIT)

    def _HexString(self, node) -> Expr:
        """X'1F': a bit string of 4 bits per digit, as PostgreSQL reads it."""
        return Const(types.bitstring.parse("x" + node.this), types.BIT)

    def _ByteString(self, node) -> Expr:
        # E'...' strings: sqlglot has already applied the backslash escapes.
        return Const(node.this, types.TEXT)

    def _Boolean(self, node: exp.Boolean) -> Expr:
        return Const(bool(node.this), types.BOOLEAN)

    def _Null(self, node: exp.Null) -> Expr:
        return Const(None, types.NULL)

    def _Parameter(self, node: exp.Parameter) -> Expr:
        slot = int(node.name) - 1
        self.stmt.has_params = True
        return Param(slot, self.stmt.param_type(slot))

    def _Placeholder(self, node: exp.Placeholder) -> Expr:
        raise errors.syntax_error("unexpected placeholder", position=position_of(node))

    def _Interval(self, node: exp.Interval) -> Expr:
        unit = node.args.get("unit")
        text = node.this.name if isinstance(node.this, exp.Literal) else node.this.sql()
        if unit is not None:
            text = f"{text} {unit.name}"
        return Const(types.parse_interval(text), types.INTERVAL)

    # ---- operators ---------------------------------------------------------------------
    def _binary(self, name: str, node: exp.Binary) -> Expr:
        if isinstance(node.expression, (exp.Any, exp.All)) or (
                isinstance(node.expression, exp.Anonymous) and
                node.expression.name.lower() in ("any", "all", "some")):
            return self.stmt.bind_quantified(self, node)
        left_row, right_row = row_items(node.this), row_items(node.expression)
        if left_row is not None and right_row is not None:
            return bind_row_comparison(self, name, left_row, right_row, node)
        left, right = self.bind(node.this), self.bind(node.expression)
        if name in ("eq", "ne", "lt", "le", "gt", "ge"):
            left, right = _oid_literal(node.this, left, right), _oid_literal(node.expression,
                                                                              right, left)
        return self.call(name, [left, right], node)

    def _UnicodeString(self, node) -> Expr:
        """``U&'d\\0061t'`` [UESCAPE '!']: PostgreSQL's Unicode escapes in a string."""
        escape = node.args.get("escape")
        esc = escape.this if isinstance(escape, exp.Literal) else "\\"
        return Const(unicode_escapes(node.this, esc), types.TEXT)

    def _RawString(self, node) -> Expr:
        """A dollar-quoted string ($$it's$$, $tag$...$tag$): text as written."""
        return Const(node.this, types.TEXT)

    def _IntDiv(self, node) -> Expr:
        """div(y, x): the quotient truncated toward zero."""
        return self.call("div_trunc", [self.bind(node.this), self.bind(node.expression)], node)

    def _MatchAgainst(self, node) -> Expr:
        """``doc @@ path`` / ``doc @? path`` (jsonb paths; bind_jsonb.py)."""
        return self.stmt.bind_matchagainst(self, node)

    def _SHA2Digest(self, node) -> Expr:
        """sha224/256/384/512(bytea): sqlglot folds them into one node with a length."""
        bits = node.args.get("length")
        name = f"sha{bits.name if bits is not None else 256}"
        return self._function(name, [node.this], node)

    def _BitwiseNot(self, node) -> Expr:
        return self.call("bit_not", [self.bind(node.this)], node)

    def _Neg(self, node: exp.Neg) -> Expr:
        inner = node.this
        if isinstance(inner, exp.Literal) and not inner.is_string:
            # -9223372036854775808 is a valid literal although its absolute value is not.
            return self._Literal(exp.Literal(this="-" + inner.this, is_string=False))
        return self.call("neg", [self.bind(inner)], node)

    def _Not(self, node: exp.Not) -> Expr:
        inner = node.this
        if isinstance(inner, exp.In) and inner.args.get("query") is not None:
            left = row_items(inner.this)
            if left is not None:
                return bind_row_in_query(self, inner, left, negated=True)
        if isinstance(inner, exp.Not):          # !!q, tsquery's NOT (bind_textsearch.py)
            negated, bound = bind_double_not(self, inner.this, node)
            if negated is not None:
                return negated
            once = self.call("not", [self._as_boolean(bound, inner.this, "NOT")], inner)
            return self.call("not", [once], node)
        return self.call("not", [self.bind_boolean(node.this, "NOT")], node)

    def _Is(self, node: exp.Is) -> Expr:
        target = node.expression
        if isinstance(target, exp.Null) and row_items(node.this) is not None:
            return bind_row_is_null(self, row_items(node.this), node,
                                    negated=bool(node.args.get("negate")))
        arg = self.bind(node.this)
        if isinstance(target, exp.Null) and composite.is_record(arg.type):
            return self.stmt.composite_is_null(self, arg, bool(node.args.get("negate")), node)
        if isinstance(target, exp.Null):
            out = self.call("is_null", [arg], node)
        elif isinstance(target, exp.Boolean):
            out = self.call("is_true" if target.this else "is_false", [arg], node)
        else:
            raise errors.syntax_error("IS must be followed by NULL, TRUE or FALSE",
                                      position=position_of(node))
        return self.call("not", [out], node) if node.args.get("negate") else out

    def _Between(self, node: exp.Between) -> Expr:
        x = self.bind(node.this)
        lo, hi = self.bind(node.args["low"]), self.bind(node.args["high"])
        if node.args.get("symmetric"):     # BETWEEN SYMMETRIC: bounds in either order
            lo, hi = (self._same_type_call("least", [node.args["low"], node.args["high"]], node),
                      self._same_type_call("greatest", [node.args["low"], node.args["high"]], node))
        low = self.call("ge", [x, lo], node)
        high = self.call("le", [x, hi], node)
        out = self.call("and", [low, high], node)
        return self.call("not", [out], node) if node.args.get("negate") else out

    def _In(self, node: exp.In) -> Expr:
        left = row_items(node.this)
        if left is not None:
            if node.args.get("query") is not None:
                return bind_row_in_query(self, node, left, negated=False)
            return bind_row_in_list(self, node, left)
        if node.args.get("query") is not None:
            return self.stmt.bind_in_subquery(self, node)
        arg = self.bind(node.this)
        values = [self.bind(v) for v in node.expressions]
        target = common_type([arg] + values, "IN")
        # numbers meeting a numeric are numerics (an integer column IN (2.5)): cast, as
        # the kernels compare one type; integer with float8 is widened by the kernels
        fit = _retype if target == types.NUMERIC else adapt
        arg = fit(arg, target)
        values = [fit(v, target) for v in values]
        if bpchar.involved([arg] + values):     # compared as char values are (bpchar.py)
            arg, values = bpchar.in_list(self.stmt.functions, arg, values)
            arg, values = fold(arg), [fold(v) for v in values]
        tests = [self.call("eq", [arg, v], node) for v in values]  # each type-checked
        if target == types.JSON:
            # jsonb equality is not text equality (1.0 = 1: jsonb_order.py): OR of its `=`
            out = functools.reduce(lambda a, b: self.call("or", [a, b], node), tests)
            return self.call("not", [out], node) if node.args.get("negate") else out
        out = InList(arg, tuple(values), negated=bool(node.args.get("negate")))
        if isinstance(arg, Const) and all(isinstance(v, Const) for v in values):
            return Const(compile_row(out)((), []), types.BOOLEAN)
        return out

    def _Like(self, node) -> Expr:
        return self._like("like", node, None)

    def _ILike(self, node) -> Expr:
        return self._like("ilike", node, None)

    def _Escape(self, node: exp.Escape) -> Expr:
        inner = node.this
        if isinstance(inner, exp.SimilarTo):
            return self._like("similar_to", inner, node.expression)
        if not isinstance(inner, (exp.Like, exp.ILike)):
            raise errors.not_supported(f"ESCAPE after {type(inner).__name__}",
                                       position=position_of(node))
        name = "ilike" if isinstance(inner, exp.ILike) else "like"
        return self._like(name, inner, node.expression)

    def _Collate(self, node) -> Expr:
        """``x COLLATE "C"``: text already compares bytewise, as in the C collation."""
        name = node.expression.name if isinstance(node.expression, exp.Expression) \
            else str(node.expression)
        if name not in ("C", "POSIX", "default", "ucs_basic"):
            raise errors.not_supported(f'collation "{name}"',
                                       hint='Text compares bytewise here (COLLATE "C").')
        arg = self.bind(node.this)
        if arg.type not in (types.TEXT, types.NULL, types.UNKNOWN):
            raise errors.sql_error("42804", f"collations are not supported by type "
                                            f"{arg.type.lower()}", position=position_of(node))
        return arg

    def _SimilarTo(self, node) -> Expr:
        return self._like("similar_to", node, None)

    def _like(self, name: str, node, escape) -> Expr:
        quantifier = node.expression
        if isinstance(quantifier, (exp.Any, exp.All)) and escape is None and name != "similar_to":
            # x [NOT] LIKE ANY | ALL (array): the pattern applied per element
            inner = quantifier.this
            while isinstance(inner, exp.Paren):
                inner = inner.this
            if isinstance(inner, (exp.Subquery, exp.Select, exp.Union)):
                raise errors.not_supported(f"{name.upper()} ANY/ALL (subquery)",
                                           position=position_of(node),
                                           hint="Use ARRAY(SELECT ...) for the patterns.")
            quant = "any" if isinstance(quantifier, exp.Any) else "all"
            return self.stmt.bind_array_quantified(self, node, quant, inner)
        args = [self.bind(node.this), self.bind(node.expression)]
        if escape is not None:
            args.append(self.bind(escape))
        out = self.call(name, args, node)
        return self.call("not", [out], node) if node.args.get("negate") else out

    def _Cast(self, node: exp.Cast) -> Expr:
        domain = domain_of(getattr(self.stmt, "root", None), node.to)
        if domain is not None:
            return self._domain_cast(node, domain)
        bits = bit_typmod(node.to, node)
        if bits is not None and bits[0] == "bit":
            arg = self.bind(node.this)
            if arg.type == types.INTEGER:      # its low n bits (bitfromint8)
                return self.call("bit_of_int", [arg, Const(bits[1], types.INTEGER)], node)
        out = self._cast(node)
        if bits is not None and out.type in types.BIT_TYPES:
            # an explicit cast pads with zeros or cuts to bit(n), cuts to bit varying(n)
            return self.call("bit_cast_length", [out, Const(bits[1], types.INTEGER),
                                                 Const(bits[0] == "varbit", types.BOOLEAN)],
                             node)
        length = varchar_length(node.to)
        if length is None:
            length = char_length(node.to, node)
        char = isinstance(node.to, exp.DataType) and \
            node.to.this in (exp.DataType.Type.CHAR, exp.DataType.Type.BPCHAR)
        if length is not None and out.type == types.TEXT:
            # CAST(x AS VARCHAR(n) | CHAR(n)) truncates to n characters, as in PostgreSQL
            fn, ret = self.stmt.functions.resolve("left", [types.TEXT, types.INTEGER])
            out = fold(Call("left", (out, Const(length, types.INTEGER)), ret, fn))
            # and char(n) pads to n: a bpchar value (sql/bind/bpchar.py)
            return fold(bpchar.cast_to_char(self.stmt.functions, out, length)) if char \
                else out
        if char and out.type == types.TEXT:          # ::bpchar, no length: as it is
            return fold(bpchar.cast_to_char(self.stmt.functions, out, None))
        width = _INT_WIDTHS.get(node.to.this) if isinstance(node.to, exp.DataType) else None
        if width is not None and out.type == types.INTEGER and not isinstance(out, Param) \
                and not (isinstance(out, Const) and out.value is None):
            # INTEGER is int64 here: ::smallint, ::integer check the narrower range (a
            # parameter is left alone: ``id = $1::INTEGER``, as SQLAlchemy's asyncpg
            # dialect writes it, must stay an index probe)
            fn, ret = self.stmt.functions.resolve(width, [types.INTEGER])
            return fold(Call(width, (out,), ret, fn))
        if isinstance(node.to, exp.DataType) and node.to.this == exp.DataType.Type.FLOAT \
                and out.type == types.FLOAT and not isinstance(out, Param):
            # ::real keeps the float8 value (exec/typmods.fit_real) but refuses what float4
            # cannot hold (22003), as PostgreSQL's float8 -> float4 conversion does
            fn, ret = self.stmt.functions.resolve("float4_fit", [types.FLOAT])
            return fold(Call("float4_fit", (out,), ret, fn))
        precision = time_precision(node.to, node)
        if precision is not None and out.type in (types.TIMESTAMP, types.TIMESTAMPTZ,
                                                  types.TIME, types.TIMETZ):
            # ::timestamp(0), ::time(3): rounded as a column of that type stores it
            fn, ret = self.stmt.functions.resolve("time_round", [out.type, types.INTEGER])
            return fold(Call("time_round", (out, Const(precision, types.INTEGER)), ret, fn))
        typmod = numeric_typmod(node.to, node)
        if typmod is not None and out.type == types.NUMERIC:
            precision, scale = typmod
            fn, ret = self.stmt.functions.resolve(
                "numeric_fit", [types.NUMERIC, types.INTEGER, types.INTEGER])
            return fold(Call("numeric_fit", (out, Const(precision, types.INTEGER),
                                             Const(scale, types.INTEGER)), ret, fn))
        return out

    def _cast(self, node: exp.Cast) -> Expr:
        text_search = _text_search_name(node.to)
        if text_search is not None:     # 'english'::regconfig (Django's SearchVector)
            return self.call(text_search, [adapt(self.bind(node.this), types.TEXT)], node)
        object_id = _object_identifier(node.to)
        if object_id is not None:                  # x::regclass, x::oid (catalog queries)
            return self._object_id_cast(object_id, node)
        inner = node.this
        if isinstance(inner, exp.Cast) and _object_identifier(inner.to) in _OID_OUT and \
                types.normalize_type_name(node.to.sql(dialect=DIALECT)) == types.TEXT:
            # 'x'::regclass::text and oid::regtype::text give names, not numbers
            return self.call(_OID_OUT[_object_identifier(inner.to)],
                             [self._object_id_cast(_object_identifier(inner.to), inner)], node)
        arg = self.bind(node.this)
        if user_type_name(node.to) == OID_ARRAY:     # x::oid[], x::regtype[] (sql/parse.py)
            return self._oid_array_cast(arg, node)
        enum = enum_typmod(getattr(self.stmt, "root", None), node.to)
        if enum is not None:
            return self._enum_cast(arg, enum, node)
        record = composite_of(getattr(self.stmt, "root", None), node.to, self.stmt.deps)
        if record is not None:
            return self._composite_cast(arg, record, node)
        to = node.to
        element = composite_of(getattr(self.stmt, "root", None), to.expressions[0],
                               self.stmt.deps) \
            if isinstance(to, exp.DataType) and to.this == exp.DataType.Type.ARRAY and \
            to.expressions else None
        target = types.array_of(element) if element is not None else \
            types.normalize_type_name(node.to.sql(dialect=DIALECT))
        if type(arg.type) is types.BpcharType and target == types.TEXT and not (
                isinstance(node.to, exp.DataType) and
                node.to.this in (exp.DataType.Type.CHAR, exp.DataType.Type.BPCHAR)):
            # char_value::text / ::varchar: its trailing blanks cut (PostgreSQL's rtrim)
            return fold(bpchar.cast_to_text(self.stmt.functions, arg))
        if type(arg.type) is types.EnumType and target == types.TEXT:
            # mood::text is text: it compares and sorts as text again (a node of its
            # own, so that no rewrite takes it for the column it reads)
            return Cast(arg, types.TEXT)
        if isinstance(arg, Const) and arg.type == types.TEXT and arg.value is not None:
            return Const(from_text(arg.value, target), target) if target != types.TEXT else arg
        if isinstance(arg, Param) and arg.type in (types.UNKNOWN, types.NULL):
            arg = Param(arg.slot, self.stmt.param_type(arg.slot, target))
            self.stmt.cast_slots.add(arg.slot)   # a str value is parsed, as '5'::int is
            return arg if arg.type == target else Cast(arg, target)
        if not castable(arg.type, target):
            raise errors.sql_error("42846", f"cannot cast type {arg.type.lower()} to "
                                   f"{target.lower()}", position=position_of(node))
        if arg.type == target:
            return arg
        if isinstance(arg, Const) and arg.slot is not None and arg.value is not None \
                and arg.type == types.INTEGER and target in (types.TEXT, types.FLOAT):
            # A lifted integer literal cast to text or float keeps its slot, so texts
            # differing only in it share a plan (``md5(42::text)``, pgbench's UPDATE):
            # sql/literals.convert repeats exactly this conversion for the next value.
            value = str(arg.value) if target == types.TEXT else float(arg.value)
            return Const(value, target, arg.slot)
        if arg.type in types.BIT_TYPES and isinstance(node.to, exp.DataType) and \
                node.to.this == exp.DataType.Type.INT:
            # bittoint4: at most 32 bits, the top one the sign (not bigint's value)
            return self.call("bit_to_int4", [arg], node)
        return fold(Cast(arg, target))

    def _oid_array_cast(self, arg: Expr, node: exp.Cast) -> Expr:
        """``x::oid[]`` / ``x::regtype[]``: a BIGINT[]; text may be an oidvector's
        ('20 21', as pg_proc.proargtypes holds it) or an array literal."""
        target = types.array_of(types.INTEGER)
        if isinstance(arg, Param) and arg.type in (types.UNKNOWN, types.NULL):
            arg = Param(arg.slot, self.stmt.param_type(arg.slot, target))
            self.stmt.cast_slots.add(arg.slot)
            return arg if arg.type == target else Cast(arg, target)
        if arg.type == types.TEXT:
            return self.call("oidvector_in", [arg], node)
        if arg.type == target or arg.type == types.NULL:
            return arg if arg.type == target else Const(None, target)
        if not castable(arg.type, target):
            raise errors.sql_error("42846", f"cannot cast type {arg.type.lower()} to oid[]",
                                   position=position_of(node))
        return fold(Cast(arg, target))

    def _domain_cast(self, node: exp.Cast, domain) -> Expr:
        """``x::posint``, posint a domain: ``x`` cast to the base type, then its NOT NULL
        (23502) and CHECKs (23514, VALUE read as that cast) hold or the cast fails."""
        self.stmt.deps.append(("domain", domain.name, domain))   # a cached plan holds them
        base = domain_base(domain)
        as_base = exp.Cast(this=node.this.copy(), to=base)
        out = self._Cast(as_base)
        name = Const(domain.name, types.TEXT)
        if domain.not_null:
            fn, ret = self.stmt.functions.resolve("domain_not_null", [out.type, types.TEXT])
            out = Call("domain_not_null", (out, name), ret, fn)
        for cname, sql, _ in domain.checks:
            ok = self.bind(value_as(sql, as_base))
            fn, ret = self.stmt.functions.resolve(
                "domain_check", [out.type, types.BOOLEAN, types.TEXT, types.TEXT])
            out = Call("domain_check", (out, ok, name, Const(cname, types.TEXT)), ret, fn)
        return out

    def _composite_cast(self, arg: Expr, target: str, node: exp.Cast) -> Expr:
        """``x::pair``, pair a composite type: its text read by record_in, or a record of
        as many fields each castable to the field's type (ROW(1, 'a')::pair)."""
        if isinstance(arg, Param) and arg.type in (types.UNKNOWN, types.NULL):
            arg = Param(arg.slot, self.stmt.param_type(arg.slot, types.TEXT))
        if arg.type == target:
            return arg
        if arg.type == types.NULL:
            return Const(None, target)
        if isinstance(arg, Const) and arg.type == types.TEXT:
            return Const(types.parse_literal_as(target, arg.value), target)
        if not castable(arg.type, target):
            detail = None
            if composite.is_record(arg.type):
                have, want = len(composite.fields_of(arg.type)), len(composite.fields_of(target))
                detail = ("Input has too few columns." if have < want else
                          "Input has too many columns." if have > want else None)
            raise errors.sql_error(
                "42846", f"cannot cast type {types.shown_type(arg.type)} to "
                         f"{composite.type_name(target)}", detail=detail,
                position=position_of(node))
        return fold(Cast(arg, target))

    def _enum_cast(self, arg: Expr, enum: tuple, node: exp.Cast) -> Expr:
        """``x::mood`` for an enum type: TEXT that must be one of its labels (22P02)."""
        _, name, labels = enum
        self.stmt.deps.append(("enum", name, labels))    # a cached plan holds the labels
        if isinstance(arg, Param) and arg.type in (types.UNKNOWN, types.NULL):
            arg = Param(arg.slot, self.stmt.param_type(arg.slot, types.TEXT))
        enum = types.enum_type(name, labels)
        if arg.type == types.NULL:
            return Const(None, enum)
        if type(arg.type) is types.EnumType and arg.type.enum_name == name:
            return arg
        if arg.type != types.TEXT or type(arg.type) is types.EnumType:
            shown = getattr(arg.type, "enum_name", arg.type.lower())
            raise errors.sql_error("42846", f"cannot cast type {shown} to {name}",
                                   position=position_of(node))
        out = self.call("enum_in", [arg, Const(name, types.TEXT),
                                    Const(list(labels), types.array_of(types.TEXT))], node)
        return dataclasses.replace(out, type=enum)     # it sorts by label position

    def _TryCast(self, node) -> Expr:
        """DuckDB's TRY_CAST: NULL where the cast fails (exec/functions/duckdb_more.py)."""
        target = types.normalize_type_name(node.to.sql(dialect=DIALECT))
        if types.is_array(target):
            raise errors.not_supported("TRY_CAST to an array type", position=position_of(node))
        arg = self.bind(node.this)
        if arg.type == target:
            return arg
        return self.call("try_cast_" + target.lower(), [arg], node)

    def _List(self, node) -> Expr:
        """DuckDB's ``list(x [ORDER BY ...])``: array_agg (bind_aggregate_ext.py)."""
        return self.stmt.bind_aggregate(self, node)

    def _Normalize(self, node) -> Expr:
        """``normalize(s [, NFC | NFD | NFKC | NFKD])``: the form is a keyword, not text."""
        form = node.args.get("form")
        name = form.name.upper() if isinstance(form, exp.Expression) else "NFC"
        return self.call("normalize", [self.bind(node.this), Const(name, types.TEXT)], node)

    def _If(self, node) -> Expr:
        """``if(cond, a, b)`` / ``iff`` (DuckDB, and sqlglot's IF): a CASE."""
        return self.bind(exp.Case(ifs=[exp.If(this=node.this, true=node.args.get("true"))],
                                  default=node.args.get("false")))

    def _object_id_cast(self, kind: str, node: exp.Cast) -> Expr:
        """An object-identifier type is an INTEGER here; text converts through its name."""
        inner = node.this
        if kind == "OID" and isinstance(inner, exp.Cast) and \
                _object_identifier(inner.to) in ("REGPROC", "REGPROCEDURE"):
            return self.stmt.bind_regproc_oid(self, inner.this)   # psql's \sf
        arg = self.bind(node.this)
        if isinstance(arg, Param) and arg.type in (types.UNKNOWN, types.NULL):
            # $1::oid is a number; $1::regclass a relation name (asyncpg sends its type's text)
            arg = Param(arg.slot, self.stmt.param_type(
                arg.slot, types.TEXT if kind in _OID_IN else types.INTEGER))
        if arg.type == types.TEXT and kind in _OID_IN:
            return self.call(_OID_IN[kind], [arg], node)
        if arg.type == types.TEXT:
            return self._cast(exp.Cast(this=node.this, to=exp.DataType.build("BIGINT")))
        return arg

    def _Variadic(self, node: exp.Variadic) -> Expr:
        # a function's last argument is bound by bind_variadic.py; anywhere else the word
        # is out of place
        raise errors.syntax_error('syntax error at or near "VARIADIC"',
                                  position=position_of(node))

    def _Case(self, node: exp.Case) -> Expr:
        subject = self.bind(node.this) if node.this is not None else None
        whens = []
        for branch in node.args.get("ifs") or []:
            if subject is not None:
                cond = self.call("eq", [subject, self.bind(branch.this)], branch)
            else:
                cond = self.bind_boolean(branch.this, "CASE/WHEN")
            whens.append((cond, self.bind(branch.args["true"])))
        default = self.bind(node.args["default"]) if node.args.get("default") else None
        values = [v for _, v in whens] + ([default] if default is not None else [])
        target = common_type(values, "CASE")
        if target == types.NULL:
            target = types.TEXT
        whens = tuple((c, _retype(v, target)) for c, v in whens)
        default = _retype(default, target) if default is not None else None
        return Case(whens, default, target)

    def _Coalesce(self, node) -> Expr:
        return self._same_type_call("coalesce", [node.this] + list(node.expressions), node)

    def _Greatest(self, node) -> Expr:
        return self._same_type_call("greatest", [node.this] + list(node.expressions), node)

    def _Least(self, node) -> Expr:
        return self._same_type_call("least", [node.this] + list(node.expressions), node)

    def _Nullif(self, node) -> Expr:
        return self._same_type_call("nullif", [node.this, node.expression], node)

    def _same_type_call(self, name: str, nodes: list, node) -> Expr:
        args = [self.bind(a) for a in nodes]
        if any(type(a.type) is types.EnumType for a in args):
            out = enum_order.same_type_call(self, name, args, node)
            if out is not None:
                return out
        target = common_type(args, name.upper())
        if target == types.NULL and any(_unknown_param(a) for a in args):
            target = types.TEXT       # coalesce($1, $2): unknown resolves to text, as in PG
        return self.call(name, [_retype(a, target) for a in args], node)

    # ---- query features bound by hooks on the statement binder (sql/bind/query_hooks.py) ----
    def _Subquery(self, node: exp.Subquery) -> Expr:
        return self.stmt.bind_subquery(self, node)

    def _Exists(self, node: exp.Exists) -> Expr:
        return self.stmt.bind_exists(self, node)

    def _Window(self, node: exp.Window) -> Expr:
        return self.stmt.bind_window(self, node)

    def _JSONBExists(self, node: exp.JSONBExists) -> Expr:
        return self.stmt.bind_jsonbexists(self, node)

    def _AtTimeZone(self, node) -> Expr:
        """``x AT TIME ZONE z``: PostgreSQL's timezone(z, x). A quoted literal is read as
        timestamptz, the preferred type of its category, as PostgreSQL reads it."""
        zone = self.bind(node.args["zone"])
        value = self.bind(node.this)
        if isinstance(value, Const) and value.type == types.TEXT:
            value = adapt(value, types.TIMESTAMPTZ)
        return self.call("timezone", [zone, value], node)

    def _DateDiff(self, node: exp.DateDiff) -> Expr:
        """DuckDB's ``date_diff(part, start, end)``: sqlglot's PostgreSQL dialect files the
        end under ``unit``, and reads a bare column there as an upper-cased Var."""
        end = node.args.get("unit")
        if isinstance(end, exp.Var):
            end = exp.column(end.name.lower())
        return self._function("date_diff", [node.this, node.expression, end], node)

    def _Anonymous(self, node: exp.Anonymous) -> Expr:
        name = node.name.lower()
        if name == "iff" and len(node.expressions) == 3:
            cond, yes, no = node.expressions
            return self._If(exp.If(this=cond, true=yes, false=no))
        # a user aggregate, or a built-in one sqlglot has no node or hook for (every)
        if self.stmt.functions.aggregate(name) is not None or (
                name in AGGREGATE_TYPES and
                getattr(self.stmt, "bind_function_" + name, None) is None):
            return self._aggregate(name, node)
        if self.stmt.functions.internal_only(name) and not self._sql_function(name):
            raise self._no_such_function(name, node)
        return self._function(name, list(node.expressions), node)

    def _sql_function(self, name: str) -> bool:
        root = self.stmt.root
        return root is not None and bool(root.functions) and name in root.functions

    def _no_such_function(self, name: str, node) -> errors.Error:
        """42883 for a name only the binder's own plans call (plan/internal_functions.py),
        with the argument types as PostgreSQL lists them (a quoted literal is unknown)."""
        shown = [types.UNKNOWN if isinstance(a, exp.Literal) and a.is_string
                 else self.bind(a).type for a in node.expressions]
        exc = self.stmt.functions.not_found(name, shown)
        exc.position = position_of(node)
        return exc

    def bind_internal_call(self, node: exp.Func) -> Expr:
        """``rustmemodb_internal.f(args)``: helper ``f`` as the engine spells it in SQL
        and trees it builds (cluster/render.py, plan/internal_functions.call_node)."""
        name = node.name.lower() if isinstance(node, exp.Anonymous) else None
        if name is None or not is_internal(name):
            args = [types.UNKNOWN if isinstance(a, exp.Literal) and a.is_string
                    else self.bind(a).type for a in getattr(node, "expressions", [])]
            exc = self.stmt.functions.not_found(
                f"{INTERNAL_SCHEMA}.{name or node.sql_name().lower()}", args)
            exc.position = position_of(node)
            raise exc
        return self._function(name, list(node.expressions), node)

    def _function(self, name: str, arg_nodes: list, node) -> Expr:
        if arg_nodes and has_variadic(arg_nodes):      # f(..., VARIADIC array)
            return bind_variadic(self, name, arg_nodes, node)
        root = self.stmt.root       # None where no catalog is bound against (CHECKs)
        functions = root.functions if root is not None else None
        if functions and name in functions:      # CREATE FUNCTION ... LANGUAGE sql
            return inline_call(self, functions[name], arg_nodes, node)
        if root is not None:
            # A built-in answered: a cached plan is stale once CREATE FUNCTION gives the
            # name a SQL function, which would be inlined instead (sql/plan_cache.py).
            self.stmt.deps.append(("function", name, None))
        hook = getattr(self.stmt, "bind_function_" + name, None)
        if hook is not None:
            return hook(self, arg_nodes, node)
        if name in WINDOW_ONLY:
            raise over_required(name, node)
        return self.call(name, [self.bind(a) for a in arg_nodes], node)

    # ---- aggregates ----------------------------------------------------------------------
    def _aggregate(self, name: str, node) -> Expr:
        if not self.aggregates:
            where = f" in {self.clause}" if self.clause else " here"
            raise errors.sql_error("42803", f"aggregate functions are not allowed{where}",
                                   position=position_of(node))
        arg = node.this if not isinstance(node, exp.Anonymous) else (
            node.expressions[0] if node.expressions else None)
        distinct = isinstance(arg, exp.Distinct)
        extra = len(node.expressions) - (1 if isinstance(node, exp.Anonymous) else 0)
        if distinct:
            extra += len(arg.expressions) - 1
            arg = arg.expressions[0]
        if extra > 0:      # count(DISTINCT a, b), max(a, b): never silently the first one
            raise errors.undefined_function(
                f"function {name} with {extra + 1} arguments does not exist",
                hint="This aggregate takes one argument.", position=position_of(node))
        if name == "count" and (arg is None or isinstance(arg, exp.Star)):
            return AggCall("count", (), types.INTEGER, star=True)
        inner = ExprBinder(self.stmt, self.scope, clause="aggregate function calls")
        bound = inner.bind(arg)
        return self.stmt.make_aggregate(name, [bound], distinct, node)

    # ---- calls -------------------------------------------------------------------------
    def _numeric_as_float(self, name: str, args: list):
        """A function with no numeric overload called with numerics: the float8 one,
        through the implicit numeric -> float8 cast PostgreSQL has (numeric_ops keeps
        its own overloads for what must stay exact: arithmetic, round, sum...); one of
        numerics only called with integers (``scale(2)``): through integer -> numeric."""
        if any(a.type == types.NUMERIC for a in args):
            cast = [_retype(a, types.FLOAT) if a.type == types.NUMERIC else a for a in args]
        elif any(a.type == types.INTEGER for a in args):
            # scale(2), a function of numeric only: the integer read as numeric
            cast = [_retype(a, types.NUMERIC) if a.type == types.INTEGER else a
                    for a in args]
        else:
            return None
        try:
            fn, ret = self.stmt.functions.resolve(name, [a.type for a in cast])
        except errors.Error:
            return None
        return fn, ret, cast

    def call(self, name: str, args: list, node=None) -> Expr:
        operator = name in _OPERATOR_TEXT or name in _PAIRED
        if len(args) == 2 and (name in enum_order.ORDERING or name in enum_order.EQUALITY) \
                and enum_order.involves_enum(args):
            args = enum_order.comparison_args(self.stmt, name, args, position_of(node)
                                              if node is not None else None)
        if bpchar.involved(args):      # char(n): trailing blanks do not count (bpchar.py)
            args = [fold(a) for a in bpchar.call_args(self.stmt.functions, name, args)]
        written = args
        if name == "add" and len(args) == 2:
            args = _interval_literal(args)
        if len(args) == 2 and name not in ("concat_op",) and (operator or not any(
                _unknown_param(a) for a in args)) and (operator or not (
                {args[0].type, args[1].type} & _TEXT_SEARCH)):
            # (a function's text literal beside a tsvector/tsquery is not read as one:
            # setweight(v, 'A'), ts_headline(doc, q); _json_literals tries that last)
            try:
                args = list(unify_pair(args[0], args[1]))
            except errors.DataError:
                # A literal that cannot be the other argument's type stays text, and the
                # signatures decide, as PostgreSQL's unknown does: a function's
                # (strftime(d, '%Y')), or an operator's with a text right side (doc - 'a');
                # with none, the literal's error is the answer (date = 'x').
                if operator and not self._resolves(name, args):
                    raise
        if name in _ZONED_COMPARISONS and len(args) == 2 and \
                types.TIMESTAMPTZ in (args[0].type, args[1].type) and \
                {args[0].type, args[1].type} <= _DATETIMES:
            # timestamp (or date) against timestamptz: the other side becomes an instant
            # here (PostgreSQL's implicit cast), so joins, indexes and hashing see one type
            args = [a if a.type == types.TIMESTAMPTZ else Cast(a, types.TIMESTAMPTZ)
                    for a in args]
        if (name in network_args.PRINTING or name == "concat_op") and \
                network_args.involved(args):
            args = network_args.printed(self, name, args)
        if len(args) == 2 and args[0].type != args[1].type:
            pair = {args[0].type, args[1].type}
            if pair == _INET_CIDR or pair == _BITS:
                # a cidr is an inet, a bit a bit varying (PostgreSQL's binary-coercible
                # casts): compared, merged and tested for containment as one
                wide = types.INET if pair == _INET_CIDR else types.VARBIT
                args = [a if a.type == wide else Cast(a, wide) for a in args]
            if types.NUMERIC in pair and name in _NUMBER_MIXING and \
                    all(types.is_numeric(t) for t in pair):
                # integer meets numeric as numeric, numeric meets float8 as float8
                # (PostgreSQL's implicit casts), so each operator has one type to read
                wide = types.wider_number(pair)
                if not (wide == types.NUMERIC and name in _INTEGER_TAKING):
                    args = [_retype(a, wide) for a in args]
        if name in ("and", "or", "not"):
            args = [adapt(a, types.BOOLEAN) for a in args]
        elif name == "concat_op" and len(args) == 2 and types.JSON in (args[0].type, args[1].type):
            args = [_json_peer(a) for a in args]     # doc || '{"b": 2}': jsonb || jsonb
        elif name == "concat_op" and len(args) == 2 and \
                {args[0].type, args[1].type} & {types.TSVECTOR, types.TSQUERY}:
            args = list(unify_pair(args[0], args[1]))    # vector || 'a:1': tsvector || tsvector
        if name in _TEXT_JOINS:
            args = self._joined_text(name, args, node)
        try:
            fn, ret = self.stmt.functions.resolve(name, [a.type for a in args])
        except errors.Error as exc:
            guessed = (self._as_written(name, written, args) or
                       self.resolve_unknown_params(name, args) or
                       self._json_literals(name, args) or
                       self._numeric_as_float(name, args)) if exc.sqlstate == "42883" \
                else None
            if guessed is None:
                if name in _OPERATOR_TEXT and exc.sqlstate == "42883" and 1 <= len(args) <= 2:
                    raise self._operator_error(name, args, node) from None
                exc.position = exc.position if exc.position is not None else position_of(node)
                raise
            fn, ret, args = guessed
        if operator:
            args = [self._settle_param(a, fn, ret, args) for a in args]
        if name in _PAIRED and bpchar.involved(args):
            ret = bpchar.paired_type(args) or ret     # coalesce/nullif/... of chars: a char
        return fold(Call(name, tuple(args), ret, fn))

    def _joined_text(self, name: str, args: list, node) -> list:
        """The arguments of concat(), concat_ws() or ``text || x`` as the text PostgreSQL
        joins: a value's output text (a timestamptz with its zone; concat's booleans
        are t and f, its output function's, where ``||`` writes true and false as the
        cast does). ``text || int[]`` is no operator (42883), as in PostgreSQL."""
        if name == "concat_op":
            kinds = (args[0].type, args[1].type)
            if types.TEXT not in kinds:
                return args
            other = kinds[1] if kinds[0] == types.TEXT else kinds[0]
            if types.is_array(other):
                if types.element_type(other) == types.TEXT:
                    return args                   # text || text[]: an array's prepend
                raise self._operator_error(name, args, node)
        out = []
        for a in args:
            if a.type in (types.TEXT, types.NULL, types.UNKNOWN) or _unknown_param(a):
                out.append(a)
            elif a.type == types.BOOLEAN and name != "concat_op":
                out.append(Case(((a, Const("t", types.TEXT)),
                                 (self.call("not", [a]), Const("f", types.TEXT))),
                                None, types.TEXT))
            else:
                out.append(Cast(a, types.TEXT))
        return out

    def _as_written(self, name: str, written: list, unified: list):
        """A literal that took its peer's type (encode(b, 'hex'): 'hex' read as bytea)
        when no signature takes that: the call as written, if one takes it."""
        if written is unified or all(w is u for w, u in zip(written, unified)):
            return None
        try:
            fn, ret = self.stmt.functions.resolve(name, [a.type for a in written])
        except errors.Error:
            return None
        return fn, ret, list(written)

    def resolve_unknown_params(self, name: str, args: list):
        """PostgreSQL-style resolution of untyped parameters in a function call.

        ``upper($1)`` has no overload for an unknown argument; as in PostgreSQL the
        parameter takes a type the function accepts, trying the string type first
        and then the others in ``_UNKNOWN_CANDIDATES`` order (per parameter for up to
        three of them). Returns (function, return type, typed args) or None."""
        import itertools
        unknown = [i for i, a in enumerate(args) if _unknown_param(a)]
        if not unknown:
            return None
        # an array or range beside it first: ``n @> $1``, ``$1 && n`` (PostgreSQL's unknown
        # takes the other operand's type)
        peers = [a.type for a in args if types.is_array(a.type) or ranges.is_range(a.type)]
        candidates = tuple(dict.fromkeys(peers)) + _UNKNOWN_CANDIDATES
        combos = itertools.product(candidates, repeat=len(unknown)) \
            if len(unknown) <= 3 else ((t,) * len(unknown) for t in candidates)
        for combo in combos:
            trial = list(args)
            for i, t in zip(unknown, combo):
                trial[i] = Param(args[i].slot, t)
            try:
                fn, ret = self.stmt.functions.resolve(name, [a.type for a in trial])
            except errors.Error:
                continue
            typed = [Param(a.slot, self.stmt.param_type(a.slot, a.type)) if i in unknown
                     else a for i, a in enumerate(trial)]
            return fn, ret, typed
        return None

    def _resolves(self, name: str, args: list) -> bool:
        try:
            self.stmt.functions.resolve(name, [a.type for a in args])
        except errors.Error:
            return False
        return True

    def _json_literals(self, name: str, args: list):
        """A quoted literal is PostgreSQL's ``unknown``: where no overload takes it as
        text, it may be a JSON document the function takes (``jsonb_set(doc, '{a}',
        '5')``, ``doc || '{"b": 2}'``), a bytea (``sha256('abc')``) or a tsquery/tsvector
        (``numnode('a & b')``). Literals are tried as JSON, the rightmost first, then as
        bytea, tsquery, tsvector, text[] and float8[] (ts_filter(v, '{a,b}')). Returns
        (function, return type, args) or None."""
        import itertools
        literal = [i for i, a in enumerate(args) if isinstance(a, Const) and
                   a.type == types.TEXT and isinstance(a.value, str)]
        if not literal or len(literal) > 3:
            return None
        # json_* functions read an untyped literal as json, jsonb_* as jsonb (PostgreSQL's
        # signatures); both take either here
        documents = (types.JSONT, types.JSON) if name.startswith("json_") else (types.JSON,)
        for target in documents + (types.BYTEA, types.TSQUERY, types.TSVECTOR,
                                   types.array_of(types.TEXT), types.array_of(types.FLOAT)):
            for count in range(1, len(literal) + 1):
                for chosen in itertools.combinations(reversed(literal), count):
                    trial = list(args)
                    try:
                        for i in chosen:
                            trial[i] = adapt(args[i], target)
                    except errors.Error:
                        continue
                    try:
                        fn, ret = self.stmt.functions.resolve(name, [a.type for a in trial])
                    except errors.Error:
                        continue
                    return fn, ret, trial
        return None

    def _settle_param(self, arg: Expr, fn, ret, args) -> Expr:
        """An operator's parameter whose type nothing fixed gets the peer's type."""
        if isinstance(arg, Param) and arg.type in (types.UNKNOWN, types.NULL):
            peers = [a.type for a in args if a is not arg and a.type not in
                     (types.UNKNOWN, types.NULL)]
            if peers:
                return Param(arg.slot, self.stmt.param_type(arg.slot, peers[0]))
        return arg

    def _operator_error(self, name: str, args: list, node) -> errors.Error:
        op = _OPERATOR_TEXT[name]
        shown = " ".join(filter(None, [types.shown_type(args[0].type) if len(args) == 2
                                       else "", op, types.shown_type(args[-1].type)]))
        hint = "No operator matches the given name and argument types. "
        if any(isinstance(a, Const) and a.type == types.TEXT for a in args):
            hint += "A quoted literal is TEXT and never silently becomes a number: " \
                    "write the number without quotes or CAST it."
        else:
            hint += "You might need to add explicit type casts."
        pos = None
        if node is not None and isinstance(node, exp.Binary):
            pos = position_of(node.this)
        if any(isinstance(a, Const) and a.type == types.TEXT for a in args):
            # A quoted literal against a typed value: a type mismatch under our strictness.
            return errors.datatype_mismatch(f"operator does not exist: {shown}", hint=hint,
                                            position=pos)
        return errors.undefined_function(f"operator does not exist: {shown}", hint=hint,
                                         position=pos)


def _interval_literal(args: list) -> list:
    """``ts + '1 day'``: the only ``+`` a timestamp, timestamptz or time has with an
    unknown operand is with an interval, so PostgreSQL reads the literal as one (a
    date's or a timetz's ``+`` has more than one: 42725 there, the literal's own error
    here)."""
    kinds = {args[0].type, args[1].type}
    if not kinds & {types.TIMESTAMP, types.TIMESTAMPTZ, types.TIME}:
        return args
    return [adapt(a, types.INTERVAL) if isinstance(a, Const) and a.type == types.TEXT and
            isinstance(a.value, str) else a for a in args]


# Operators and internal calls whose two operands take each other's type.
_PAIRED = frozenset({"coalesce", "nullif", "greatest", "least"})
# operators whose integer/numeric/float8 operands meet in one type (bind_expr.call)
# numeric + - * integer: numeric_ops takes the integer as it is (its kernels multiply
# the int64 column by the scaled constant: no numeric copy of the column first)
_INTEGER_TAKING = frozenset({"add", "sub", "mul"})
_NUMBER_MIXING = frozenset({"add", "sub", "mul", "div", "mod", "eq", "ne", "lt", "le", "gt",
                            "ge", "is_distinct", "is_not_distinct", "div_trunc", "coalesce",
                            "nullif", "greatest", "least"})
# The types an untyped parameter may take in a function call, string first (PostgreSQL
# prefers the string category for unknown arguments, then a category's preferred type).
_UNKNOWN_CANDIDATES = (types.TEXT, types.FLOAT, types.INTEGER, types.BOOLEAN,
                       types.TIMESTAMP, types.DATE, types.INTERVAL, types.JSON, types.UUID,
                       types.TIME, types.BYTEA) + types.NETWORK_TYPES


def _json_peer(e: Expr) -> Expr:
    """A quoted literal beside a JSON document, read as JSON when it is one."""
    if isinstance(e, Const) and e.type == types.TEXT and isinstance(e.value, str):
        try:
            return adapt(e, types.JSON)
        except errors.Error:
            return e
    return e


def _unknown_param(e: Expr) -> bool:
    return isinstance(e, Param) and e.type == types.UNKNOWN


def _retype(e: Expr, target: str) -> Expr:
    e = adapt(e, target)
    if e.type != target and types.is_numeric(e.type) and types.is_numeric(target):
        return fold(Cast(e, target))
    return e


def unicode_escapes(text: str, esc: str) -> str:
    """A U&'' string's text with its escapes applied: ``esc`` + 4 hex digits or ``esc``
    + '+' + 6 hex digits (a UTF-16 surrogate pair combines), ``esc`` doubled is itself."""
    if len(esc) != 1 or esc in "0123456789abcdefABCDEF+'\" \t\n\r":
        raise errors.syntax_error("invalid Unicode escape character")
    out, i, n = [], 0, len(text)
    high = None
    while i < n:
        c = text[i]
        if c != esc:
            if high is not None:
                break
            out.append(c)
            i += 1
            continue
        if text[i + 1:i + 2] == esc:
            if high is not None:
                break
            out.append(esc)
            i += 2
            continue
        digits = text[i + 2:i + 8] if text[i + 1:i + 2] == "+" else text[i + 1:i + 5]
        width = 6 if text[i + 1:i + 2] == "+" else 4
        if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits):
            raise errors.sql_error("42601", "invalid Unicode escape",
                                   hint="Unicode escapes must be \\XXXX or \\+XXXXXX.")
        code = int(digits, 16)
        i += 1 + width + (width == 6)
        if high is not None:
            if not 0xDC00 <= code <= 0xDFFF:
                break
            out.append(chr(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)))
            high = None
        elif 0xD800 <= code <= 0xDBFF:
            high = code
        elif 0xDC00 <= code <= 0xDFFF or code > 0x10FFFF or code == 0:
            break
        else:
            out.append(chr(code))
    else:
        if high is None:
            return "".join(out)
    raise errors.sql_error("42601", "invalid Unicode surrogate pair"
                           if high is not None else "invalid Unicode escape value")


_CLOCK_WORDS = frozenset(("now", "today", "tomorrow", "yesterday"))


def _is_log10(node: exp.Log) -> bool:
    """sqlglot reads log10(x) as log(10, x); its 10 was never written, so it carries no
    position (a written one does). PostgreSQL's log10 is float8's, log(10, x) numeric's."""
    base = node.this
    return node.expression is not None and isinstance(base, exp.Literal) and \
        not base.is_string and base.this == "10" and not base.meta


def _func_args(node: exp.Func) -> list:
    out = []
    for key in node.arg_types:
        v = node.args.get(key)
        if v is None:
            continue
        if isinstance(node, exp.DateBin) and key == "unit" and isinstance(v, exp.Var):
            # date_bin(stride, ts, '2020-01-01'): sqlglot keeps the origin's text as a Var
            v = exp.Literal.string(v.name)
        if isinstance(v, list):
            out.extend(v)
        elif isinstance(v, exp.Expression):
            out.append(v)
    return out
