"""Binding the enum type statements: CREATE TYPE name AS ENUM (...), DROP TYPE and
ALTER TYPE (parsed by sql/parse_roles.py: sqlglot reads ALTER TYPE only as a raw
command), into plan/ddl.py nodes that exec/operators/enum_types.py applies.

An enum type is a catalog object of the root (``Root.enums``: name -> labels). A
column declared with it stores TEXT kept to the labels by its typmod
(``("enum", name, labels)``, exec/typmods.py), which is how SQLAlchemy's ``Enum``,
Django's choices on PostgreSQL and hand-written schemas use them. Its values compare and
sort by label position (types.EnumType, sql/bind/enum_order.py).
"""
from __future__ import annotations

from sqlglot import exp

from ... import composite, errors
from ...plan.ddl import LogicalAlterEnum, LogicalCreateComposite, LogicalCreateEnum, LogicalDropType
from ..parse import parse_one, position_of
from ..bound import BoundStatement
from ..parse_roles import AlterTypeStatement, DomainStatement
from .bind_domain import bind_domain_statement, bind_drop_domain
from .type_modifiers import declared_type

# PostgreSQL's NAMEDATALEN - 1: an enum label is a name
LABEL_LIMIT = 63


def bind_create_type(node: exp.Create, stmt=None):
    """CREATE TYPE name AS ENUM (...) or AS (field type, ...); other kinds of type (range,
    base) are 0A000."""
    dt = node.args.get("expression")
    if isinstance(dt, exp.Schema):
        return bind_create_composite(node, dt, stmt)
    if not isinstance(dt, exp.DataType) or dt.this != exp.DataType.Type.ENUM:
        raise errors.not_supported("CREATE TYPE other than AS ENUM or AS (...)",
                                   hint="Enum and composite types are supported.",
                                   position=position_of(node))
    labels = []
    for item in dt.expressions:
        if not isinstance(item, exp.Literal) or not item.is_string:
            raise errors.syntax_error("an enum label must be a string literal",
                                      position=position_of(item))
        labels.append(check_label(item.this))
    for i, label in enumerate(labels):
        if label in labels[:i]:
            raise errors.sql_error("42710", f'enum label "{label}" used more than once')
    return LogicalCreateEnum([], type_name(node.this), tuple(labels))


def bind_create_composite(node: exp.Create, schema: exp.Schema, stmt):
    """CREATE TYPE name AS (field type, ...): each field's type as a column's (an enum
    field is its text, a domain its base type), 42701 for a name used twice."""
    fields = []
    for item in schema.expressions:
        if not isinstance(item, exp.ColumnDef) or item.args.get("constraints"):
            raise errors.syntax_error("a composite type's field is a name and a type",
                                      position=position_of(item))
        name = item.name
        if any(name == f for f, _t in fields):
            raise errors.sql_error("42701", f'column "{name}" specified more than once')
        sql_type, _typmod = declared_type(stmt, item.args["kind"], item)
        composite.check_field_type(sql_type, name)
        fields.append((name, sql_type))
    name = type_name(node.this)
    return LogicalCreateComposite([], name, composite.record_type(name, fields))


def bind_drop_type(stmt, node: exp.Drop):
    """DROP TYPE; with CASCADE, the columns of the types are dropped too (as PostgreSQL
    does): each table's ALTER TABLE ... DROP COLUMN steps are bound here, as the
    statement would bind them, and applied by the operator with the type."""
    targets = tuple(type_name(t) for t in node.args.get("tables") or [node.this])
    cascade = bool(node.args.get("cascade"))
    drops = []
    root = getattr(stmt, "root", None)
    if root is not None and any(t in root.domains for t in targets) and \
            not any(t in root.enums for t in targets):
        # PostgreSQL's DROP TYPE drops domains too (DROP DOMAIN's rules and CASCADE)
        return bind_drop_domain(stmt, targets, bool(node.args.get("exists")), cascade)
    if cascade and root is not None:
        for table, version in root.tables.items():
            names = [c.name for c in version.schema.columns
                     if (c.typmod is not None and c.typmod[0] == "enum" and c.typmod[1] in targets)
                     or composite_uses(c.type, targets)]
            if names:
                alter = parse_one(f"ALTER TABLE {quoted(table)} " + ", ".join(
                    f"DROP COLUMN {quoted(n)}" for n in names))
                drops.append((table, stmt.bind_alter(alter).steps, tuple(names)))
    return LogicalDropType([], targets, bool(node.args.get("exists")), cascade, tuple(drops))


def composite_uses(sql_type: str, targets) -> bool:
    """A value of ``sql_type`` holds one of the composite types ``targets`` (itself, or a
    field's type, nested)."""
    if not composite.is_record(sql_type):
        return False
    return composite.type_name(sql_type) in targets or any(
        composite_uses(t, targets) for _f, t in composite.fields_of(sql_type))


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def bind_type_statement(stmt, root, functions) -> BoundStatement:
    """ALTER TYPE (enum types) or CREATE / ALTER / DROP DOMAIN: the type statements
    sql/parse_roles.py reads."""
    if isinstance(stmt, DomainStatement):
        return bind_domain_statement(stmt, root, functions)
    return bind_alter_type(stmt, root)


def bind_alter_type(stmt: AlterTypeStatement, root=None) -> BoundStatement:
    action = stmt.action
    if action[0] == "add_attribute":
        # the new field's type as a column's (composite.py field types)
        dt = parse_one(f"SELECT CAST(NULL AS {action[2]})").expressions[0].to
        sql_type, _typmod = declared_type(_Catalog(root), dt)
        composite.check_field_type(sql_type, action[1])
        action = ("add_attribute", action[1], sql_type)
    elif action[0] == "add":
        check_label(action[1])
    elif action[0] == "rename_value":
        check_label(action[2])
    # enum types have no owner here: whoever may create in public may alter them, as
    # DROP TYPE and CREATE TYPE check (sql/bind/privileges.py)
    return BoundStatement("ALTER TYPE", LogicalAlterEnum([], stmt.name, action),
                          cacheable=False, privileges=(("schema", "public", "CREATE", None),))


class _Catalog:
    """What declared_type reads of a statement binder: its root."""

    def __init__(self, root) -> None:
        self.root = root


def type_name(table: exp.Expression) -> str:
    """A type's name as written (``public.mood`` is ``mood``; other schemas: 0A000)."""
    schema = table.args.get("db")
    if schema is not None and schema.name not in ("public",):
        raise errors.not_supported("enum types outside the schema public",
                                   hint="Create the type without a schema name.")
    return table.name


def check_label(label: str) -> str:
    if len(label.encode()) > LABEL_LIMIT:
        raise errors.sql_error("42602", f'invalid enum label "{label}"',
                               detail=f"Labels must be {LABEL_LIMIT} bytes or less.")
    return label
