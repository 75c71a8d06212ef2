"""SQL functions: CREATE [OR REPLACE] FUNCTION ... LANGUAGE sql, DROP FUNCTION, and
their calls, which are inlined.

A function here is what most SQL functions are: ``RETURNS type`` of one expression over
its parameters, written ``AS 'SELECT expr'`` (or ``$$ ... $$``) or ``RETURN expr``,
with parameters named or positional (``$1``) and optional DEFAULTs. CREATE binds the
body once against the declared parameter types (an unknown name, a wrong type is an
error then), and keeps it as text (storage/root.FunctionDef, durable with the catalog).
A call is replaced by the body with each parameter replaced by its argument cast to the
declared type, the whole cast to the return type, and bound in place: the planner sees
the expression itself, as PostgreSQL's inlining of SQL functions gives it.

Not here (0A000): other languages (plpgsql), bodies with FROM or several statements,
RETURNS TABLE / SETOF, OUT parameters, overloading one name by argument types.
"""
from __future__ import annotations

from sqlglot import exp

from ... import errors, types
from ...plan.ddl import LogicalCreateFunction, LogicalDropFunction
from ...storage.root import FunctionDef
from ..parse import parse_one, position_of
from .scope import Scope

_MAX_INLINE_DEPTH = 32
_ALLOWED_PROPERTIES = (exp.ReturnsProperty, exp.LanguageProperty, exp.StabilityProperty)


def bind_create_function(stmt, node: exp.Create) -> LogicalCreateFunction:
    udf = node.this
    if not isinstance(udf, exp.UserDefinedFunction):
        raise errors.syntax_error("CREATE FUNCTION needs a name and a parameter list")
    name = udf.this.name.lower()
    params, defaults = [], []
    for col in udf.expressions:
        if isinstance(col, (exp.Identifier, exp.DataType)):    # unnamed: (int) is a type
            params.append(("", types.normalize_type_name(col.sql(dialect="postgres"))))
            defaults.append(None)
            continue
        if not isinstance(col, exp.ColumnDef):
            raise errors.not_supported("OUT/INOUT parameters", position=position_of(col))
        if col.args.get("kind") is None:
            params.append(("", types.normalize_type_name(col.name)))
        else:
            params.append((col.name.lower(),
                           types.normalize_type_name(col.args["kind"].sql(dialect="postgres"))))
        default = None
        for c in col.args.get("constraints") or []:
            if isinstance(c.args.get("kind"), exp.DefaultColumnConstraint):
                default = c.args["kind"].this.sql(dialect="postgres")
            else:
                raise errors.not_supported(f"parameter option {c.sql(dialect='postgres')!r}")
        defaults.append(default)
    if any(d is not None for d in defaults):
        first = next(i for i, d in enumerate(defaults) if d is not None)
        if any(d is None for d in defaults[first:]):
            raise errors.sql_error("42P13", "input parameters after one with a default "
                                            "value must also have defaults")
    returns, language, volatility = None, None, "VOLATILE"
    props = node.args.get("properties")
    for prop in (props.expressions if props is not None else []):
        if isinstance(prop, exp.ReturnsProperty):
            if prop.args.get("is_table") or prop.args.get("table") is not None:
                raise errors.not_supported("RETURNS TABLE / SETOF",
                                           hint="SQL functions here return one value.")
            returns = types.normalize_type_name(prop.this.sql(dialect="postgres"))
        elif isinstance(prop, exp.LanguageProperty):
            language = prop.this.name.lower()
        elif isinstance(prop, exp.StabilityProperty):
            volatility = prop.this.name.upper()
        else:
            raise errors.not_supported(f"function option {prop.sql(dialect='postgres')!r}")
    if language is None:
        language = "sql" if isinstance(node.expression, exp.Return) else None
    if language != "sql":
        raise errors.not_supported(f"LANGUAGE {language or '(none)'}",
                                   hint="Functions here are LANGUAGE sql, of one expression.")
    if returns is None:
        raise errors.sql_error("42P13", "function result type must be specified")
    body = _body_expression(node.expression)
    fn = FunctionDef(name, tuple(params), tuple(defaults), returns, body.sql(dialect="postgres"),
                     volatility)
    _check_body(stmt, fn, body, node)
    return LogicalCreateFunction([], fn, bool(node.args.get("replace")))


def _body_expression(body) -> exp.Expression:
    """The one expression a body returns: ``RETURN expr``, or ``SELECT expr`` text."""
    if isinstance(body, exp.Return):
        return body.this
    text = body.this if isinstance(body, (exp.Literal, exp.Heredoc)) else None
    if not isinstance(text, str):
        raise errors.syntax_error("a function body is a string or RETURN expression")
    query = parse_one(text.strip().rstrip(";"))
    if not isinstance(query, exp.Select) or len(query.expressions) != 1 or any(
            query.args.get(k) for k in query.args if k != "expressions"):
        raise errors.not_supported("a SQL function body other than one SELECT expression",
                                   hint="Write the body as 'SELECT <expression>' over the "
                                        "parameters (no FROM).")
    item = query.expressions[0]
    return item.this if isinstance(item, exp.Alias) else item


def _check_body(stmt, fn: FunctionDef, body: exp.Expression, node) -> None:
    """Bind the body against the parameters' declared types: errors surface at CREATE."""
    from .bind_expr import ExprBinder
    scope = Scope()
    for i, (pname, ptype) in enumerate(fn.params):
        scope.add(None, pname or f"${i + 1}", ptype)
    bound = ExprBinder(stmt, scope, clause="a function body").bind(
        _substitute(body, {i + 1: exp.column(p or f"${i + 1}", quoted=True)
                           for i, (p, _) in enumerate(fn.params)}, {}))
    if not _assignable(bound.type, fn.returns):
        raise errors.sql_error("42P13", f"return type mismatch in function declared to return "
                                        f"{fn.returns.lower()}",
                               detail=f"Actual return type is {bound.type.lower()}.")


def _assignable(got: str, want: str) -> bool:
    """Whether a body of type ``got`` may return ``want`` (no explicit cast needed)."""
    return got == want or got in (types.NULL, types.UNKNOWN) or \
        (got == types.INTEGER and want == types.FLOAT)


def _substitute(body: exp.Expression, by_position: dict, by_name: dict) -> exp.Expression:
    def swap(n):
        if isinstance(n, (exp.Parameter, exp.Placeholder)):
            key = n.name if isinstance(n, exp.Placeholder) else n.this.name \
                if isinstance(n.this, exp.Expression) else str(n.this)
            if str(key).isdigit() and int(key) in by_position:
                return by_position[int(key)].copy()
        if isinstance(n, exp.Column) and not n.table and n.name.lower() in by_name:
            return by_name[n.name.lower()].copy()
        return n
    return body.copy().transform(swap)


def inline_call(binder, fn: FunctionDef, arg_nodes: list, node):
    """A call of a SQL function, bound as its body over the arguments."""
    stmt = binder.stmt
    depth = getattr(stmt, "sql_function_depth", 0)
    if depth >= _MAX_INLINE_DEPTH:
        raise errors.sql_error("54001", f"SQL function {fn.name} calls itself (or nests) "
                                        f"more than {_MAX_INLINE_DEPTH} levels deep")
    required = sum(1 for d in fn.defaults if d is None)
    if not required <= len(arg_nodes) <= len(fn.params):
        shown = ", ".join(binder.bind(a).type.lower() for a in arg_nodes)
        raise errors.undefined_function(f"function {fn.name}({shown}) does not exist",
                                        hint=f"{fn.name} takes {required} to "
                                             f"{len(fn.params)} arguments.",
                                        position=position_of(node))
    args = list(arg_nodes) + [parse_one("SELECT " + d).expressions[0]
                              for d in fn.defaults[len(arg_nodes):]]
    values = [exp.Cast(this=exp.Paren(this=a.copy()), to=exp.DataType.build(t, dialect="postgres"))
              for a, (_, t) in zip(args, fn.params)]
    body = parse_one("SELECT " + fn.body).expressions[0]
    inlined = _substitute(body, {i + 1: v for i, v in enumerate(values)},
                          {p: v for (p, _), v in zip(fn.params, values) if p})
    call = exp.Cast(this=exp.Paren(this=inlined),
                    to=exp.DataType.build(fn.returns, dialect="postgres"))
    stmt.deps.append(("function", fn.name, fn))
    if hasattr(stmt, "note_use"):      # the caller needs EXECUTE (auth/check.py)
        stmt.note_use("function", fn.name, "EXECUTE")
    stmt.sql_function_depth = depth + 1
    try:
        return binder.bind(call)
    finally:
        stmt.sql_function_depth = depth


def bind_drop_function(node: exp.Drop) -> LogicalDropFunction:
    names = []
    for item in node.args.get("tables") or [node.this]:
        names.append((item.this.this.name if isinstance(item, exp.UserDefinedFunction)
                      else item.name).lower())
    return LogicalDropFunction([], tuple(names), bool(node.args.get("exists")))
