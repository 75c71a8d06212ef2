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

from ... import errors
from ...plan.ddl import LogicalAlterEnum, LogicalCreateEnum, LogicalDropType
from ..parse import parse_one, position_of
from ..bound import BoundStatement
from ..parse_roles import AlterTypeStatement, DomainStatement
from .bind_domain import bind_domain_statement, bind_drop_domain

# PostgreSQL's NAMEDATALEN - 1: an enum label is a name
LABEL_LIMIT = 63


def bind_create_type(node: exp.Create) -> LogicalCreateEnum:
    """CREATE TYPE name AS ENUM (...); other kinds of type (composite, range, base) are
    0A000."""
    dt = node.args.get("expression")
    if not isinstance(dt, exp.DataType) or dt.this != exp.DataType.Type.ENUM:
        raise errors.not_supported("CREATE TYPE other than AS ENUM",
                                   hint="Enum types are supported; a composite type can be "
                                        "a table's row.", position=position_of(node))
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
                     if c.typmod is not None and c.typmod[0] == "enum" and c.typmod[1] in targets]
            if names:
                alter = parse_one(f"ALTER TABLE {quoted(table)} " + ", ".join(
                    f"DROP COLUMN {quoted(n)}" for n in names))
                drops.append((table, stmt.bind_alter(alter).steps, tuple(names)))
    return LogicalDropType([], targets, bool(node.args.get("exists")), cascade, tuple(drops))


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def bind_type_statement(stmt, root, functions) -> BoundStatement:
    """ALTER TYPE (enum types) or CREATE / ALTER / DROP DOMAIN: the type statements
    sql/parse_roles.py reads."""
    if isinstance(stmt, DomainStatement):
        return bind_domain_statement(stmt, root, functions)
    return bind_alter_type(stmt)


def bind_alter_type(stmt: AlterTypeStatement) -> BoundStatement:
    action = stmt.action
    if action[0] == "add":
        check_label(action[1])
    elif action[0] == "rename_value":
        check_label(action[2])
    # enum types have no owner here: whoever may create in public may alter them, as
    # DROP TYPE and CREATE TYPE check (sql/bind/privileges.py)
    return BoundStatement("ALTER TYPE", LogicalAlterEnum([], stmt.name, action),
                          cacheable=False, privileges=(("schema", "public", "CREATE", None),))


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
