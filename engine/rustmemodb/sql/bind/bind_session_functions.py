"""Functions that read or change the session: version(), current_setting(), set_config()...

PostgreSQL clients ask these first (SQLAlchemy's connect sends ``select
pg_catalog.version()`` and ``select current_schema()``; asyncpg and pgjdbc call
``current_setting``/``set_config``). Their values live on the session
(``Session.settings``, the user and database names the wire server passes), not
in the function registry, so they bind here, as constants of the statement
being bound, and mark it uncacheable so a cached plan never replays an old
value. ``set_config`` applies its change when the statement is bound (PostgreSQL
applies it when the row is computed; for the one-row SELECTs clients send the
difference cannot be seen). Without a session (a view being bound for the
catalog) the defaults answer.
"""
from __future__ import annotations

import dataclasses
import random as _random
from typing import Callable

from sqlglot import exp

from ... import errors, netaddr, types
from ...catalog.pg_catalog import (CATALOG_OIDS, DATABASE_OID, constraint_defs, descriptions,
                                   function_bodies, function_defs, function_oids, index_columns,
                                   index_defs, owned_sequences, proc_oid, regclass_out,
                                   relation_oid, relation_sizes, view_defs)
from ...plan.expr import Call, Const, CurrVal, Expr
from ...plan.internal_functions import INTERNAL_SCHEMA
from ...storage.roles import EMBEDDED_USER, user_names
from ...storage.sequence_names import default_sequence, quote_name, relation_name
from ..schemas import session_path
from ...storage.namespaces import qualify, split
from ...storage.root import relation_exists
from ..parse import parse_one, position_of
from .privilege_functions import (has_any_column_privilege, has_column_privilege,
                                  has_function_privilege, has_sequence_privilege,
                                  has_database_privilege, has_schema_privilege,
                                  has_table_privilege, pg_has_role)

VERSION = ("PostgreSQL 15.0 (rustmemodb) on x86_64-pc-linux-gnu, compiled by Python, "
           "64-bit")
DEFAULT_USER = EMBEDDED_USER
DEFAULT_DATABASE = "rustmemodb"


def _text(value: str | None) -> Const:
    return Const(value, types.TEXT)


@dataclasses.dataclass(frozen=True)
class _PerRow:
    """What the executor reads of a ScalarFunction (exec/functions/registry.py), for a
    privilege function whose arguments differ row by row: answered by ``row`` for each
    row (against the roles catalog of the root bound against), NULL for a NULL
    argument (``strict``), never folded to a constant (``volatile``)."""
    name: str
    row: Callable
    vector: None = None
    strict: bool = True
    volatile: bool = True


def _privilege_call(eb, args, name: str, arity: tuple, answer) -> Expr:
    """``name(args)`` answered by ``answer(values)``: a constant when every argument is
    one, else per row, as PostgreSQL calls it over a catalog (``has_column_privilege(
    'r', attrelid, attnum, 'SELECT') FROM pg_attribute``: psql and pgAdmin send such)."""
    if len(args) not in arity:
        raise errors.undefined_function(f"function {name} with {len(args)} arguments "
                                        "does not exist")
    bound = [eb.bind(a) for a in args]
    if all(isinstance(b, Const) for b in bound):
        return Const(answer([b.value for b in bound]), types.BOOLEAN)
    seen: dict = {}     # the catalog is the bound root's: one answer per argument set

    def row(*values):
        if values not in seen:
            seen[values] = answer(list(values))
        return seen[values]
    return Call(name, tuple(bound), types.BOOLEAN, _PerRow(name, row))


def _constant_args(eb, arg_nodes: list, name: str, arity: tuple) -> list:
    if len(arg_nodes) not in arity:
        raise errors.undefined_function(f"function {name} with {len(arg_nodes)} arguments "
                                        "does not exist")
    values = []
    for node in arg_nodes:
        bound = eb.bind(node)
        if not isinstance(bound, Const):
            raise errors.not_supported(f"{name}() with a non-constant argument",
                                       hint="Pass the setting name as a literal.")
        values.append(bound.value)
    return values


class SessionFunctions:
    """Mixed into StatementBinder: ``bind_function_<name>`` hooks (see ExprBinder)."""
    session = None          # set by Session._binder; None for catalog-internal binds

    def _session_value(self, attr: str, default: str) -> str:
        self.cacheable = False
        return getattr(self.session, attr, None) or default

    def bind_function_version(self, eb, args, node):
        _constant_args(eb, args, "version", (0,))
        return _text(VERSION)

    def bind_function_current_database(self, eb, args, node):
        _constant_args(eb, args, "current_database", (0,))
        return _text(self._session_value("database_name", DEFAULT_DATABASE))

    def bind_function_current_catalog(self, eb, args, node):
        return self.bind_function_current_database(eb, args, node)

    def bind_function_current_schema(self, eb, args, node):
        _constant_args(eb, args, "current_schema", (0,))
        path = self._search_path()
        return _text(path[0] if path else None)

    def bind_function_current_schemas(self, eb, args, node):
        """The search path's existing schemas, with pg_catalog first when asked for the
        implicit schemas too (pgjdbc's type lookups read it)."""
        implicit, = _constant_args(eb, args, "current_schemas", (1,))
        path = list(self._search_path())
        return Const(["pg_catalog"] + path if implicit else path, types.array_of(types.TEXT))

    def bind_function_pg_table_is_visible(self, eb, args, node):
        """Whether the search path finds the relation by its bare name: with schemas
        besides public, the oids it hides are worked out here, for the session's path."""
        if len(args) != 1 or not self.root.auth.schemas:
            return eb.call("pg_table_is_visible", [eb.bind(a) for a in args], node)
        path = self._search_path()
        root = self.root
        schemas = root.auth.schemas
        keys = [*root.tables, *root.views, *root.sequences]
        keys += [ix.name for v in root.tables.values()
                 for ix in (*v.schema.uniques, *v.schema.indexes)]
        hidden = []
        for key in keys:
            schema, bare = split(key, schemas)
            first = next((s for s in path if relation_exists(root, qualify(s, bare))
                          or qualify(s, bare) in root.sequences), None)
            if first != schema:
                hidden.append(relation_oid("r", key))
        return eb.call("rustmemodb_oid_visible",
                       [eb.bind(args[0]), Const(hidden, types.array_of(types.INTEGER))], node)

    def bind_function_pg_function_is_visible(self, eb, args, node):
        """A SQL function of a schema the search path does not reach (or one an earlier
        schema's function of the same name and arguments hides) is not visible."""
        if len(args) != 1 or not self.root.auth.schemas:
            return eb.call("pg_function_is_visible", [eb.bind(a) for a in args], node)
        path = self._search_path()
        root = self.root
        hidden = []
        for key, fn in root.functions.items():
            schema, bare = split(key, root.auth.schemas)
            args_of = [t for _, t in fn.params]
            first = next((p for p in path if (f := root.functions.get(qualify(p, bare)))
                          is not None and [t for _, t in f.params] == args_of), None)
            if first != schema:
                hidden.append(proc_oid("f", key, args_of))
        return eb.call("rustmemodb_oid_visible",
                       [eb.bind(args[0]), Const(hidden, types.array_of(types.INTEGER))], node)

    def _search_path(self) -> tuple:
        """The session's effective search path (sql/schemas.py); a plan reading it is
        the session's own."""
        self.cacheable = False
        return session_path(self.session, self.root)

    def bind_function_current_user(self, eb, args, node):
        _constant_args(eb, args, "current_user", (0,))
        user = self._session_value("user_name", DEFAULT_USER)   # marks the plan uncacheable
        return _text(getattr(self.session, "role", None) or user)

    def bind_function_session_user(self, eb, args, node):
        _constant_args(eb, args, "session_user", (0,))
        return _text(self._session_value("user_name", DEFAULT_USER))

    bind_function_user = bind_function_current_user

    # ---- sequences: the values nextval() gave this session (Session.sequence_values) ----
    def sequence_arg(self, eb, node, fn: str) -> str:
        """The sequence a nextval/currval/setval argument names: a string as SQL reads a
        name (``'public."S"'``), ``'s'::regclass``, or any constant text such as
        ``pg_get_serial_sequence('t', 'id')`` (Django's sequence reset); 42P01 if none."""
        bound = eb.bind(node)
        if not isinstance(bound, Const) or bound.value is None:
            raise errors.not_supported(f"{fn}() of a sequence name computed per row",
                                       position=position_of(node),
                                       hint=f"Name the sequence: {fn}('t_id_seq').")
        name = regclass_out(bound.value) if bound.type == types.INTEGER \
            else relation_name(str(bound.value))
        if name not in self.root.sequences and self.root.auth.schemas and "." not in name:
            # an unqualified name: the first schema of the search path that has it
            name = next((qualify(s, name) for s in self._search_path()
                         if qualify(s, name) in self.root.sequences), name)
        if name not in self.root.sequences:
            raise errors.sql_error("42P01", f'relation "{name}" does not exist',
                                   position=position_of(node))
        return name

    def bind_function_pg_get_serial_sequence(self, eb, args, node):
        """The sequence a SERIAL or identity column draws from, or one made OWNED BY the
        column (pg_dump's way of writing a SERIAL), as ``public.name``; NULL for another
        column (the table name is read as SQL reads names, the column's is
        taken as written, as PostgreSQL does)."""
        bound = [eb.bind(a) for a in args]
        if len(bound) == 2 and not all(isinstance(b, Const) for b in bound):
            # per row (SQLAlchemy's reflection passes catalog columns)
            return self._serial_sequence_per_row(eb, args)
        table, column = _constant_args(eb, args, "pg_get_serial_sequence", (2,))
        if table is None or column is None:
            return _text(None)
        name = relation_name(str(table))
        version = self.root.tables.get(name)
        if version is None:
            raise errors.sql_error("42P01", f'relation "{name}" does not exist')
        pos = version.schema.position(str(column))
        if pos is None:
            raise errors.sql_error("42703", f'column "{column}" of relation "{name}" does '
                                            'not exist')
        sequence = default_sequence(version.schema.columns[pos].default_sql, owned=True) or \
            next((n for n, d in sorted(self.root.seqdefs.items())      # OWNED BY t.c
                  if d.owned_by == (name, version.schema.columns[pos].name)), None)
        self.cacheable = False
        if not sequence:
            return _text(None)
        schema, bare = split(sequence, self.root.auth.schemas)
        return _text(f"{quote_name(schema)}.{quote_name(bare)}")

    def bind_function_setseed(self, eb, args, node):
        """setseed(x): random() of this session becomes a generator seeded by x (applied
        as the statement is bound, as set_config is; x in [-1, 1] as PostgreSQL wants)."""
        (seed,) = _constant_args(eb, args, "setseed", (1,))
        self.cacheable = False
        kind = eb.bind(args[0]).type
        if kind == types.TEXT and isinstance(args[0], exp.Literal):   # an unknown literal
            try:
                seed = float(seed)
            except ValueError:
                raise errors.sql_error("22P02", "invalid input syntax for type double "
                                                f'precision: "{seed}"') from None
        elif kind == types.NUMERIC and seed is not None:     # setseed(0.5): float8 of it
            seed = types.numeric.to_float(types.numeric.decode(seed))
        elif kind not in (types.INTEGER, types.FLOAT, types.NULL):
            raise errors.undefined_function(f"function setseed({kind.lower()}) does not exist")
        if seed is not None:
            if not -1.0 <= seed <= 1.0:
                raise errors.sql_error("22023", f"setseed parameter {seed:g} is out of allowed "
                                                "range [-1,1]")
            if self.session is not None:
                self.session.random = _random.Random(float(seed))
        return Const(None, types.TEXT)      # void: an empty value, as PostgreSQL shows it

    def bind_function_random(self, eb, args, node):
        rng = getattr(self.session, "random", None)
        if rng is None or args:
            return eb.call("random", [eb.bind(a) for a in args], node)
        self.cacheable = False             # a cached plan would keep this generator
        shared = self.functions.lookup("random")
        return Call("random", (), types.FLOAT, dataclasses.replace(shared, row=rng.random))

    def bind_function_currval(self, eb, args, node):
        if len(args) != 1:
            raise errors.undefined_function(f"function currval with {len(args)} arguments "
                                            "does not exist")
        name = self.sequence_arg(eb, args[0], "currval")
        self.note_use("sequence", name, "USAGE|SELECT")
        return CurrVal(name)

    def bind_function_lastval(self, eb, args, node):
        _constant_args(eb, args, "lastval", (0,))
        self.cacheable = False
        drawn = getattr(self.session, "sequence_values", None)
        if not drawn:
            raise errors.sql_error("55000", "lastval is not yet defined in this session")
        if next(reversed(drawn)) in self.root.sequences:   # the sequence last drawn from
            self.note_use("sequence", next(reversed(drawn)), "USAGE|SELECT")
        return Const(next(reversed(drawn.values())), types.INTEGER)
    bind_function_current_role = bind_function_current_user

    def bind_function_has_table_privilege(self, eb, args, node):
        self.cacheable = False
        session, root = self.session, self.root
        return _privilege_call(eb, args, "has_table_privilege", (2, 3), lambda values:
                               has_table_privilege(session, root, values, relation_oid))

    def bind_function_has_sequence_privilege(self, eb, args, node):
        self.cacheable = False
        session, root = self.session, self.root
        return _privilege_call(eb, args, "has_sequence_privilege", (2, 3), lambda values:
                               has_sequence_privilege(session, root, values, relation_oid))

    def bind_function_has_function_privilege(self, eb, args, node):
        self.cacheable = False
        session, root, registry = self.session, self.root, self.functions
        return _privilege_call(eb, args, "has_function_privilege", (2, 3), lambda values:
                               has_function_privilege(session, root, values, function_oids,
                                                      lambda n: n in registry.names()))

    def bind_function_has_column_privilege(self, eb, args, node):
        self.cacheable = False
        session, root, names = self.session, self.root, self.relation_names
        return _privilege_call(eb, args, "has_column_privilege", (3, 4), lambda values:
                               has_column_privilege(session, root, values, names,
                                                    relation_oid))

    def bind_function_has_any_column_privilege(self, eb, args, node):
        self.cacheable = False
        session, root, names = self.session, self.root, self.relation_names
        return _privilege_call(eb, args, "has_any_column_privilege", (2, 3), lambda values:
                               has_any_column_privilege(session, root, values, names,
                                                        relation_oid))

    def bind_function_has_schema_privilege(self, eb, args, node):
        self.cacheable = False
        values = _constant_args(eb, args, "has_schema_privilege", (2, 3))
        return Const(has_schema_privilege(self.session, self.root, values), types.BOOLEAN)

    def bind_function_has_database_privilege(self, eb, args, node):
        """The database argument may be a column (psql's ``\\l+`` passes d.datname): there
        is one database, so the answer is the same for every row naming it."""
        self.cacheable = False
        if len(args) not in (2, 3):
            raise errors.undefined_function(f"function has_database_privilege with {len(args)} "
                                            "arguments does not exist")
        database = eb.bind(args[-2])
        rest = _constant_args(eb, [a for i, a in enumerate(args) if i != len(args) - 2],
                              "has_database_privilege", (1, 2))
        if isinstance(database, Const):
            if database.value is None:
                return Const(None, types.BOOLEAN)
            if database.value not in (self._session_value("database_name", DEFAULT_DATABASE),
                                      DATABASE_OID):
                raise errors.sql_error("3D000", f'database "{database.value}" does not exist')
        answer = has_database_privilege(self.session, self.root, database,
                                        rest[:-1] + [None, rest[-1]])
        return Const(answer, types.BOOLEAN)

    def bind_function_pg_has_role(self, eb, args, node):
        self.cacheable = False
        values = _constant_args(eb, args, "pg_has_role", (2, 3))
        return Const(pg_has_role(self.session, self.root, values), types.BOOLEAN)

    def bind_function_pg_backend_pid(self, eb, args, node):
        _constant_args(eb, args, "pg_backend_pid", (0,))
        self.cacheable = False
        return Const(int(getattr(self.session, "backend_pid", 0) or 0), types.INTEGER)

    def _address(self, args, name: str, which: str, port: bool):
        """inet_client_addr() and its kin: what the wire server recorded for the session
        (``Backend.client`` / ``.server``); NULL embedded, as over a Unix socket."""
        if args:
            raise errors.undefined_function(f"function {name} with {len(args)} arguments "
                                            "does not exist")
        self.cacheable = False
        backend = getattr(self.session, "backend", None)
        pair = getattr(backend, which, None) or (None, None)
        return Const(pair[1], types.INTEGER) if port else \
            Const(netaddr.host_key(pair[0]), types.INET)

    def bind_function_inet_client_addr(self, eb, args, node):
        return self._address(args, "inet_client_addr", "client", False)

    def bind_function_inet_client_port(self, eb, args, node):
        return self._address(args, "inet_client_port", "client", True)

    def bind_function_inet_server_addr(self, eb, args, node):
        return self._address(args, "inet_server_addr", "server", False)

    def bind_function_inet_server_port(self, eb, args, node):
        return self._address(args, "inet_server_port", "server", True)

    def bind_function_pg_database_size(self, eb, args, node):
        """The bytes of every relation (pg_total_relation_size summed) for the session's
        database, by name or oid; 3D000 for a name it does not serve."""
        if len(args) != 1:
            raise errors.undefined_function(f"function pg_database_size with {len(args)} "
                                            "arguments does not exist")
        self.cacheable = False
        bound = eb.bind(args[0])
        if isinstance(bound, Const) and bound.value is not None:
            names = {self._session_value("database_name", DEFAULT_DATABASE), DEFAULT_DATABASE,
                     "main", "postgres"}
            if bound.type == types.INTEGER and bound.value != 5 or \
                    bound.type != types.INTEGER and str(bound.value) not in names:
                word = "with OID " if bound.type == types.INTEGER else ""
                raise errors.sql_error("3D000", f'database {word}"{bound.value}" does not '
                                                "exist" if not word else
                                       f"database with OID {bound.value} does not exist")
        return Const(sum(a + b for a, b in relation_sizes(self.root).values()), types.INTEGER)

    def bind_function_current_setting(self, eb, args, node):
        from ...utility import all_settings, setting_value
        self.cacheable = False
        if args and not isinstance(eb.bind(args[0]), Const):
            # current_setting($1): every setting's value as of now, picked at run time
            # (an unknown name gives NULL here rather than 42704)
            return eb.bind(exp.Case(this=exp.Cast(this=args[0], to=exp.DataType.build("TEXT")),
                                    ifs=[exp.If(this=exp.Literal.string(k),
                                                true=exp.Literal.string(v))
                                         for k, v in all_settings(self.session).items()],
                                    default=exp.Null()))
        values = _constant_args(eb, args, "current_setting", (1, 2))
        missing_ok = len(values) == 2 and bool(values[1])
        value = setting_value(self.session, str(values[0]).lower())
        if value is None and not missing_ok:
            raise errors.sql_error("42704",
                                   f'unrecognized configuration parameter "{values[0]}"')
        return _text(value)

    def bind_function_set_config(self, eb, args, node):
        name, value, is_local = _constant_args(eb, args, "set_config", (3,))
        self.cacheable = False
        if self.session is not None:
            from ...utility import run_set
            # is_local: SET LOCAL, for the rest of the transaction (none outside a block)
            run_set(self.session, f"{'LOCAL ' if is_local else ''}{name} = {value}",
                    warn_local=False)
        return _text(None if value is None else str(value))

    # definitions read from the root being bound (the snapshot of this statement)
    def _lookup_by_oid(self, eb, args, name: str, defs: dict, sql_type: str = types.TEXT):
        """``name(oid, ...)`` as a CASE over the oids of ``defs`` (oid -> value) of the
        statement's snapshot: text values, or numbers when ``sql_type`` is not TEXT."""
        if not 1 <= len(args) <= 3:
            raise errors.undefined_function(f"function {name} with {len(args)} arguments "
                                            "does not exist")
        self.cacheable = False
        literal = exp.Literal.string if sql_type == types.TEXT else exp.Literal.number
        case = exp.Case(this=args[0], ifs=[
            exp.If(this=exp.Literal.number(oid), true=literal(value))
            for oid, value in defs.items()], default=exp.Null())
        if not defs:
            return Const(None, sql_type)
        return eb.bind(case)

    def _lookup_by_pair(self, eb, args, defs: dict):
        """``name(oid, n, ...)`` as a CASE over the (oid, n) pairs of ``defs`` (pair ->
        text) of the statement's snapshot; NULL for any other pair."""
        self.cacheable = False
        if not defs:
            return Const(None, types.TEXT)
        return eb.bind(exp.Case(ifs=[
            exp.If(this=exp.and_(exp.EQ(this=args[0].copy(), expression=exp.Literal.number(oid)),
                                 exp.EQ(this=args[1].copy(), expression=exp.Literal.number(n))),
                   true=exp.Literal.string(text))
            for (oid, n), text in defs.items()], default=exp.Null()))

    def _relation_size(self, eb, args, name: str, own: int, indexes: int):
        """``name(oid)`` as ``own`` times a relation's bytes plus ``indexes`` times its
        indexes' bytes (catalog/pg_catalog.relation_sizes)."""
        sizes = {oid: own * a + indexes * b for oid, (a, b) in relation_sizes(self.root).items()}
        if args and eb.bind(args[0]).type in (types.TEXT, types.UNKNOWN):
            # a quoted name is read as regclass, as PostgreSQL reads its unknown literal
            args = [exp.Cast(this=args[0], to=exp.ObjectIdentifier(this="REGCLASS"))]
        return self._lookup_by_oid(eb, args[:1], name, sizes, types.INTEGER)

    def bind_function_pg_tablespace_size(self, eb, args, node):
        """``pg_tablespace_size(oid | name)`` (psql's \\db+): pg_default holds every
        relation (the sum of their bytes); pg_global, where PostgreSQL keeps its shared
        catalogs, nothing here."""
        if len(args) != 1:
            raise errors.undefined_function("function pg_tablespace_size with "
                                            f"{len(args)} arguments does not exist")
        total = sum(a + b for oid, (a, b) in relation_sizes(self.root).items())
        sizes = {1663: total, 1664: 0}
        if eb.bind(args[0]).type in (types.TEXT, types.UNKNOWN):
            named = {"pg_default": 1663, "pg_global": 1664}
            self.cacheable = False
            return eb.bind(exp.Case(this=args[0], ifs=[
                exp.If(this=exp.Literal.string(n), true=exp.Literal.number(sizes[oid]))
                for n, oid in named.items()], default=exp.Null()))
        return self._lookup_by_oid(eb, args, "pg_tablespace_size", sizes, types.INTEGER)

    def bind_function_pg_table_size(self, eb, args, node):
        return self._relation_size(eb, args, "pg_table_size", 1, 0)

    def bind_function_pg_relation_size(self, eb, args, node):
        return self._relation_size(eb, args, "pg_relation_size", 1, 0)

    def bind_function_pg_total_relation_size(self, eb, args, node):
        return self._relation_size(eb, args, "pg_total_relation_size", 1, 1)

    def bind_function_pg_indexes_size(self, eb, args, node):
        return self._relation_size(eb, args, "pg_indexes_size", 0, 1)

    def bind_function_obj_description(self, eb, args, node):
        """``obj_description(oid [, 'pg_class'])``: a relation's comment (psql's \\dt+)."""
        if not 1 <= len(args) <= 2:
            raise errors.undefined_function(f"function obj_description with {len(args)} "
                                            "arguments does not exist")
        catalog = eb.bind(args[1]) if len(args) == 2 else None
        wanted = CATALOG_OIDS.get(catalog.value) if isinstance(catalog, Const) else None
        found = {oid: text for oid, klass, sub, text in descriptions(self.root)
                 if sub == 0 and (catalog is None or klass == wanted)}
        return self._lookup_by_oid(eb, args[:1], "obj_description", found)

    def bind_function_col_description(self, eb, args, node):
        """``col_description(table oid, attnum)``: a column's comment (psql's \\d+)."""
        if len(args) != 2:
            raise errors.undefined_function(f"function col_description with {len(args)} "
                                            "arguments does not exist")
        return self._lookup_by_pair(eb, args, {(oid, sub): text for oid, _, sub, text
                                               in descriptions(self.root) if sub})

    def _serial_sequence_per_row(self, eb, args):
        """pg_get_serial_sequence(table, column) of catalog columns: a CASE over the
        sequences columns own (SERIAL, OWNED BY, identity); SQLAlchemy reads an identity
        column's options through it."""
        self.cacheable = False
        root = self.root
        ifs = []
        for seq, (table, attnum, _) in sorted(owned_sequences(root).items()):
            schema, bare = split(seq, root.auth.schemas)
            column = root.tables[table].schema.columns[attnum - 1].name
            ifs.append(exp.If(this=exp.and_(
                exp.EQ(this=exp.Cast(this=args[0].copy(),
                                     to=exp.ObjectIdentifier(this="REGCLASS")),
                       expression=exp.Literal.number(relation_oid("r", table))),
                exp.EQ(this=args[1].copy(), expression=exp.Literal.string(column))),
                true=exp.Literal.string(f"{quote_name(schema)}.{quote_name(bare)}")))
        if not ifs:
            return Const(None, types.TEXT)
        return eb.bind(exp.Case(ifs=ifs, default=exp.Null()))

    def bind_function_pg_get_constraintdef(self, eb, args, node):
        if len(args) == 2 and not isinstance(eb.bind(args[1]), Const):
            # pretty given as a parameter (SQLAlchemy's): both answers, chosen per row
            call = [exp.Anonymous(this="pg_get_constraintdef",
                                  expressions=[args[0].copy(), exp.Boolean(this=flag)])
                    for flag in (True, False)]
            return eb.bind(exp.Case(ifs=[exp.If(this=args[1].copy(), true=call[0])],
                                    default=call[1]))
        pretty = eb.bind(args[1]) if len(args) >= 2 else None
        # pretty: CHECK (v > 0), where the plain form is CHECK ((v > 0))
        defs = constraint_defs(self.root, isinstance(pretty, Const) and pretty.value is True)
        return self._lookup_by_oid(eb, args, "pg_get_constraintdef", defs)

    def bind_function_pg_get_userbyid(self, eb, args, node):
        user = self._session_value("user_name", DEFAULT_USER)
        return self._lookup_by_oid(eb, args, "pg_get_userbyid", user_names(self.root.auth, user))

    def bind_function_pg_get_indexdef(self, eb, args, node):
        """``pg_get_indexdef(oid)``: the CREATE INDEX; ``(oid, n, pretty)``: its n-th key
        column for n > 0 (the whole definition for 0), as PostgreSQL prints them."""
        if len(args) < 2:
            return self._lookup_by_oid(eb, args[:1], "pg_get_indexdef", index_defs(self.root))
        flag = args[2].this if len(args) > 2 and isinstance(args[2], exp.Boolean) else None
        # a key column is printed pretty unless ``false`` is written (SQLAlchemy passes
        # true as a parameter, pgjdbc writes false); the whole definition only when
        # ``true`` is
        return self._lookup_by_pair(eb, args, {
            **{(oid, 0): text for oid, text in index_defs(self.root, flag is True).items()},
            **index_columns(self.root, flag is not False)})

    def bind_function_to_regclass(self, eb, args, node):
        """``to_regclass('name')``: the relation's oid, NULL when there is none (tools ask
        it to test whether a table exists); a ``public.`` or ``pg_catalog.`` prefix and
        quotes are read as PostgreSQL reads them."""
        if len(args) != 1:
            raise errors.undefined_function(f"function to_regclass with {len(args)} "
                                            "arguments does not exist")
        self.cacheable = False
        root = self.root
        names = {**{n: relation_oid("r", n) for n in root.tables},
                 **{n: relation_oid("r", n) for n in root.views},
                 **{n: relation_oid("r", n) for n in root.sequences},
                 **{d.name: relation_oid("i", d.name) for v in root.tables.values()
                    for d in (*v.schema.uniques, *v.schema.indexes)}}
        keys = {}
        for name, oid in names.items():
            quoted = '"' + name.replace('"', '""') + '"'
            for spelled in {name, quoted} if name == name.lower() else {quoted}:
                keys[spelled] = keys[f"public.{spelled}"] = oid
        for name, oid in CATALOG_OIDS.items():
            keys[name] = keys[f"pg_catalog.{name}"] = oid
        return eb.bind(exp.Case(this=args[0], ifs=[
            exp.If(this=exp.Literal.string(k), true=exp.Literal.number(v))
            for k, v in keys.items()], default=exp.Null()))

    def bind_regproc_oid(self, eb, name_node):
        """``'name'::regproc::oid`` (psql's ``\\sf name``): the SQL function's pg_proc oid,
        its name read without a ``public.`` prefix or argument list; NULL for none."""
        self.cacheable = False
        oids = function_oids(self.root)
        if not oids:
            return Const(None, types.INTEGER)
        key = exp.Anonymous(this="regexp_replace", expressions=[
            exp.Trim(this=name_node.copy()), exp.Literal.string(r"^public\.|\s*\(.*\)$"),
            exp.Literal.string(""), exp.Literal.string("g")])
        return eb.bind(exp.Case(this=key, ifs=[
            exp.If(this=exp.Literal.string(name), true=exp.Literal.number(oid))
            for name, oid in oids.items()], default=exp.Null()))

    def bind_function_pg_get_functiondef(self, eb, args, node):
        return self._lookup_by_oid(eb, args[:1], "pg_get_functiondef", function_defs(self.root))

    def bind_function_pg_get_function_sqlbody(self, eb, args, node):
        """A SQL function's body as ``RETURN expr`` (psql's \\df+ "Source code"); NULL for
        built-in functions, as PostgreSQL's for those without an SQL-standard body."""
        return self._lookup_by_oid(eb, args[:1], "pg_get_function_sqlbody",
                                   function_bodies(self.root))

    def bind_function_pg_get_viewdef(self, eb, args, node):
        if len(args) == 2 and not isinstance(args[1], exp.Boolean):
            # pretty given as a parameter (or a wrap column): both answers, chosen per row
            call = [exp.Anonymous(this="pg_get_viewdef",
                                  expressions=[args[0].copy(), exp.Boolean(this=flag)])
                    for flag in (True, False)]
            return eb.bind(exp.Case(ifs=[exp.If(this=args[1].copy(), true=call[0])],
                                    default=call[1]))
        pretty = len(args) == 2 and args[1].this is True
        return self._lookup_by_oid(eb, args[:1], "pg_get_viewdef", view_defs(self.root, pretty))

    def bind_operator(self, eb, node: exp.Operator):
        """``a OPERATOR(pg_catalog.~) b``, psql's spelling of built-in operators."""
        op = str(node.args.get("operator") or "").replace(" ", "")
        op = op.removeprefix("pg_catalog.")
        left, right = _drop_default_collation(node.this), _drop_default_collation(node.expression)
        negate = op.startswith("!") and op != "!="
        make = _OPERATORS.get(op.lstrip("!") if negate else op)
        if make is None:
            raise errors.not_supported(f"operator OPERATOR({node.args.get('operator')})")
        built = make(this=left, expression=right)
        return eb.bind(exp.Not(this=built) if negate else built)

    def bind_function_pg_partition_ancestors(self, eb, args, node):
        """No table is partitioned: a relation's only ancestor is itself (one row)."""
        from .bind_array import bind_select_list_srf
        if len(args) != 1:
            raise errors.undefined_function("function pg_partition_ancestors with "
                                            f"{len(args)} arguments does not exist")
        oid = exp.Cast(this=args[0], to=exp.ObjectIdentifier(this="REGCLASS"))
        return bind_select_list_srf(self, eb, "srf_unnest", [exp.Array(expressions=[oid])],
                                    node)

    def bind_dot(self, eb, node: exp.Dot):
        bound = bind_dot_function(eb, node)
        if bound is None:
            raise errors.not_supported(f"expression {node.sql(dialect='postgres')!r}")
        return bound


_OPERATORS = {"~": exp.RegexpLike, "~*": exp.RegexpILike, "~~": exp.Like, "~~*": exp.ILike,
              "=": exp.EQ, "<>": exp.NEQ, "!=": exp.NEQ, "<": exp.LT, ">": exp.GT,
              "<=": exp.LTE, ">=": exp.GTE, "+": exp.Add, "-": exp.Sub, "*": exp.Mul,
              "/": exp.Div, "||": exp.DPipe}


def _drop_default_collation(node):
    """``x COLLATE pg_catalog.default`` is x: the default collation is the only one."""
    if isinstance(node, exp.Collate) and node.expression.name.lower() in ("default", "c"):
        return node.this
    return node


def bind_dot_function(eb, node: exp.Dot):
    """``pg_catalog.f(...)``: PostgreSQL's built-ins live in pg_catalog, ours everywhere;
    ``rustmemodb_internal.f(...)``: one of the binder's helpers (plan/internal_functions.py);
    ``(t).c``: a field of a FROM item's row is its column ``t.c``."""
    if isinstance(node.this, exp.Identifier) and node.this.name.lower() == INTERNAL_SCHEMA \
            and isinstance(node.expression, exp.Func):
        return eb.bind_internal_call(node.expression)
    if isinstance(node.this, exp.Identifier) and node.this.name.lower() == "pg_catalog" \
            and isinstance(node.expression, exp.Func):
        call = node.expression
        if isinstance(call, exp.Anonymous):
            # sqlglot reads a qualified call as an opaque one: read again unqualified, a
            # call it knows takes its own form (``pg_catalog.string_agg(x, ', ')``, psql's
            # \dAf, is GroupConcat with its separator)
            call = parse_one("SELECT " + call.sql(dialect="postgres")).expressions[0]
        return eb.bind(call)
    inner = node.this.this if isinstance(node.this, exp.Paren) else None
    hook = getattr(eb.stmt, "composite_field", None)
    if hook is not None and isinstance(node.this, exp.Paren) and \
            isinstance(node.expression, exp.Identifier):
        bound = hook(eb, node)       # a field of a composite value (bind_composite.py)
        if bound is not None:
            return bound
    if isinstance(inner, exp.Column) and not inner.table and \
            isinstance(node.expression, exp.Identifier):
        return eb.bind(exp.Column(this=node.expression.copy(), table=inner.this.copy()))
    return None


# Functions that wait (advisory locks, pg_sleep) or act for the session when they run:
# a plan calling one is never cached, so it is never a point statement, which the wire
# server would run on its event loop (exec/functions/advisory.py).
_WAITING = ("pg_sleep", "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock",
            "pg_try_advisory_lock_shared", "pg_advisory_xact_lock",
            "pg_advisory_xact_lock_shared", "pg_try_advisory_xact_lock",
            "pg_try_advisory_xact_lock_shared", "pg_advisory_unlock",
            "pg_advisory_unlock_shared", "pg_advisory_unlock_all", "pg_cancel_backend",
            "pg_terminate_backend", "pg_notify")


def _uncached(name: str):
    def bind(self, eb, args, node):
        self.cacheable = False
        return eb.call(name, [eb.bind(a) for a in args], node)
    bind.__name__ = f"bind_function_{name}"
    return bind


for _name in _WAITING:
    setattr(SessionFunctions, f"bind_function_{_name}", _uncached(_name))
