"""Table schemas: columns, keys and constraints, as immutable records.

A schema is part of a table version, so ALTER TABLE is just a new version with a
new schema; forks and snapshots that never saw the ALTER keep the old one.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .. import errors, numeric_arrays, types
# On first use: a schema is made (CREATE TABLE bound by sql/quick.py) before any Arrow work.
from ..lazy_import import arrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool = False
    default_sql: str | None = None     # SQL text of the DEFAULT expression, bound on use
    # COMMENT ON text. Not part of equality: two branches whose schemas differ only in
    # comments are the same schema to diff and merge.
    comment: str | None = field(default=None, compare=False)
    # A type modifier, applied to values as they are stored (exec/typmods.py):
    # ("varchar", n) or ("numeric", precision, scale); None for none.
    typmod: tuple | None = None
    # An identity column (GENERATED ... AS IDENTITY): ("always" | "by default", first
    # value); its DEFAULT draws from the sequence it owns, as a SERIAL column's does.
    identity: tuple | None = None
    # GENERATED ALWAYS AS (expr) STORED: the expression's SQL over the row's other
    # columns, computed on every INSERT and UPDATE (exec/generated.py)
    generated: str | None = None

    def __post_init__(self) -> None:
        # a column of an enum type is TEXT that knows its labels (types.EnumType), so
        # every expression reading it orders by label position; read back from disk or
        # retyped by ALTER TYPE, the typmod alone decides
        mod = self.typmod
        if type(mod) is tuple and len(mod) == 3 and mod[0] == "enum" and \
                self.type == types.TEXT and isinstance(mod[2], tuple):
            try:
                object.__setattr__(self, "type", types.enum_type(mod[1], mod[2]))
            except TypeError:     # unhashable parts: a damaged file, which
                pass              # durability/codec.validate_schema refuses (XX001)
        elif type(mod) is tuple and len(mod) == 2 and mod[0] == "bpchar" and \
                self.type == types.TEXT and type(mod[1]) is int:
            # character(n): text blank-padded to n that knows n (types.BpcharType)
            object.__setattr__(self, "type", types.bpchar_type(mod[1]))
        elif type(self.type) in (types.EnumType, types.BpcharType):   # retyped: text again
            object.__setattr__(self, "type", types.TEXT)

    @property
    def arrow_type(self) -> pa.DataType:
        if self.type == types.NUMERIC and self.typmod is not None:
            mod = self.typmod
            if mod[0] == "domain" and len(mod) > 2:      # a domain over numeric(p, s)
                mod = mod[2]
            stored = numeric_arrays.storage_type(mod)   # numeric(p, s): decimal128
            if stored is not None:
                return stored
        return types.arrow_type(self.type)


@dataclass(frozen=True)
class UniqueConstraint:
    name: str
    columns: tuple[int, ...]           # column positions
    primary: bool = False
    comment: str | None = field(default=None, compare=False)   # COMMENT ON INDEX
    # UNIQUE NULLS NOT DISTINCT (PostgreSQL 15): a NULL in the key is a value like any
    # other, so two rows with NULLs in the same key columns conflict
    nulls_not_distinct: bool = False


@dataclass(frozen=True)
class CheckConstraint:
    name: str
    sql: str
    # False after ADD ... NOT VALID: new rows are checked, the rows already there were not
    # (until ALTER TABLE ... VALIDATE CONSTRAINT checks them and sets it).
    validated: bool = True


@dataclass(frozen=True)
class ForeignKey:
    name: str
    columns: tuple[int, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    # RESTRICT | CASCADE | SET NULL | SET DEFAULT | NO ACTION
    on_delete: str = "RESTRICT"
    on_update: str = "NO ACTION"       # the same, when the referenced key changes
    validated: bool = True             # as CheckConstraint.validated (NOT VALID)
    # DEFERRABLE, and INITIALLY DEFERRED: inside a transaction block the check that a
    # referenced key exists (and NO ACTION's that none still refers to a removed one)
    # waits for COMMIT or SET CONSTRAINTS ... IMMEDIATE (exec/deferred_checks.py)
    deferrable: bool = False
    deferred: bool = False
    # MATCH FULL: a key with some columns NULL and others not is refused (MATCH SIMPLE,
    # the default, lets any NULL key column skip the check)
    match_full: bool = False
    # ON DELETE SET NULL (a) / SET DEFAULT (a) (PostgreSQL 15): the positions of the key
    # columns the action sets; () every key column
    delete_set_columns: tuple[int, ...] = ()

    def with_ref_column_renamed(self, table: str, old: str, new: str) -> "ForeignKey":
        """This key after ``table``'s column ``old`` became ``new`` (ALTER ... RENAME)."""
        if self.ref_table != table:
            return self
        return replace(self, ref_columns=tuple(new if c == old else c for c in self.ref_columns))

    def with_ref_table_renamed(self, old: str, new: str) -> "ForeignKey":
        """This key after table ``old`` became ``new`` (ALTER TABLE ... RENAME TO)."""
        return self if self.ref_table != old else replace(self, ref_table=new)


@dataclass(frozen=True)
class IndexDef:
    """CREATE [UNIQUE] INDEX: unique ones are hash indexes, others ordered (storage/index.py).

    An index on expressions (``lower(email)``), or a partial UNIQUE index, is *keyed*:
    ``exprs`` holds its key parts as SQL text over the table's columns (a plain column
    part is the column's quoted name) and ``columns`` then lists every column the parts
    and the predicate read (for DROP COLUMN, and for UPDATEs that cannot change the key).
    Its key is computed per row by ``TableSchema.keyer``; a unique one is a hash index
    holding only the rows the predicate accepts. A non-unique keyed index is a definition
    only (no structure: queries scan, which gives the same answers)."""
    name: str
    columns: tuple[int, ...]
    unique: bool = False
    comment: str | None = field(default=None, compare=False)   # COMMENT ON INDEX
    exprs: tuple[str, ...] = ()         # keyed: the key parts' SQL; () the key is ``columns``
    predicate: str | None = None        # CREATE INDEX ... WHERE: the predicate's SQL
    include: tuple[int, ...] = ()       # INCLUDE (...): stored, no part of the key
    # USING gin / gist, as written (shown by the catalogs); the index kept is the same
    # ordinary one whatever the method (sql/bind/bind_index.py)
    method: str = "btree"
    # per key part, pg_index.indoption: 1 DESC, 2 NULLS FIRST (() all ASC NULLS LAST);
    # shown by the catalogs only: the ordered index serves either direction
    options: tuple[int, ...] = ()
    nulls_not_distinct: bool = False    # as UniqueConstraint's (shown for any index)

    @property
    def keyed(self) -> bool:
        return bool(self.exprs)


# The compiler of keyed indexes' key functions: (schema, IndexDef) -> key function, set
# once by the database module (rustmemodb/index_keys.py binds SQL, which storage may not
# import). A key function maps a row tuple to its key, or None when the index leaves the
# row out, and has ``keys(arrow_table)`` for many rows.
_KEY_COMPILER: list = [None]


def set_key_compiler(compile_keyer) -> None:
    _KEY_COMPILER[0] = compile_keyer


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[Column, ...]
    uniques: tuple[UniqueConstraint, ...] = ()
    checks: tuple[CheckConstraint, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    indexes: tuple[IndexDef, ...] = ()     # CREATE INDEX (not the PK/UNIQUE constraints)
    comment: str | None = field(default=None, compare=False)   # COMMENT ON TABLE
    # CREATE MATERIALIZED VIEW: the defining query (REFRESH runs it again); None: a table
    matview_sql: str | None = None
    _positions: dict = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    _keyers: dict = field(default=None, compare=False, repr=False)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_positions", {c.name: i for i, c in enumerate(self.columns)})
        object.__setattr__(self, "_keyers", {})
        for key in list(self.uniques) + [d for d in self.indexes if not d.keyed]:
            self.check_indexable(key.columns)

    def keyer(self, definition: IndexDef):
        """The key function of keyed index ``definition`` over this schema's columns,
        compiled once per schema object (a schema is immutable: ALTER makes a new one)."""
        fn = self._keyers.get(definition.name)
        if fn is None:
            fn = self._keyers[definition.name] = _KEY_COMPILER[0](self, definition)
        return fn

    def check_indexable(self, columns) -> None:
        """Indexes hash and sort scalars: a key on an array column is ``0A000``."""
        for i in columns:
            if types.is_array(self.columns[i].type):
                raise errors.not_supported(
                    f'an index or key on array column "{self.columns[i].name}"',
                    hint="Index a scalar column, or compare arrays without an index.")

    def position(self, name: str) -> int | None:
        return self._positions.get(name)

    def nulls_not_distinct(self, name: str) -> bool:
        """Is the unique key or index ``name`` UNIQUE NULLS NOT DISTINCT?"""
        return any(k.nulls_not_distinct for k in self.uniques + self.indexes if k.name == name)

    def key_part_positions(self, definition: IndexDef) -> list[int | None]:
        """Per key part of an index: its column's position, None for an expression."""
        if not definition.keyed:
            return list(definition.columns)
        return [self.position(t[1:-1].replace('""', '"') if t.startswith('"') else t)
                for t in definition.exprs]

    def key_columns(self, definition) -> tuple[int, ...]:
        """The columns that are whole key parts of an index or constraint (what a sharded
        table's unique key must include its partition columns among)."""
        if not getattr(definition, "keyed", False):
            return tuple(definition.columns)
        return tuple(p for p in self.key_part_positions(definition) if p is not None)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def primary_key(self) -> UniqueConstraint | None:
        for u in self.uniques:
            if u.primary:
                return u
        return None

    @property
    def arrow_schema(self) -> pa.Schema:
        # Always nullable in Arrow: NOT NULL is enforced by the engine, and one
        # schema for every chunk keeps scans zero-copy.
        return pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])

    def with_(self, **changes) -> "TableSchema":
        return replace(self, **changes)
