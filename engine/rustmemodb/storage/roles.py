"""Roles, memberships, owners and grants: one immutable value kept in the database root,
and the questions asked of it (``has_privilege``, ``is_owner``, ``default_acl``).

It lives in storage, under everything that asks it (the binder's privilege
functions, the executor's check in auth/, the catalogs). ``AuthCatalog`` is part of
``Root`` (``root.auth``), so roles and privileges are
transactional, fork with the database, are logged by the WAL (one ``("a", ...)``
op carrying the whole catalog: it is tiny) and written into checkpoints. Every
change returns a new catalog; a published one is never mutated.

An empty catalog (no roles: every database before its first CREATE ROLE) means
"no access control": sessions act as an implicit superuser, as rustmemodb always
did. Objects are keyed ``("table", name)`` (views and sequences too, as in pg_class),
``("function", name)`` or ``("schema", name)``; the grantee ``PUBLIC`` is the empty
string, as PostgreSQL's aclitem writes it (``=r/alice``). Privilege letters are
PostgreSQL's aclitem ones. A function's default ACL gives PUBLIC EXECUTE, so its ACL,
once written, is kept even when empty (everything revoked).

Column privileges (``GRANT SELECT (a) ON t``: PostgreSQL's pg_attribute.attacl) are
``columns``, keyed ``(table, column)``: a column's ACL starts empty (it has no owner
default), holds only SELECT, INSERT, UPDATE and REFERENCES, and goes, renames and forks
with its table and column.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from .. import errors

PUBLIC = ""
EMBEDDED_USER = "rustmemodb"   # who an embedded session without a role is
TABLE_PRIVS = ("INSERT", "SELECT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
COLUMN_PRIVS = ("INSERT", "SELECT", "UPDATE", "REFERENCES")
SCHEMA_PRIVS = ("USAGE", "CREATE")
# a sequence is a relation (its grants are keyed ("table", name), as pg_class holds it)
# with only these; a function (keyed ("function", name)) has only EXECUTE
SEQUENCE_PRIVS = ("SELECT", "UPDATE", "USAGE")
FUNCTION_PRIVS = ("EXECUTE",)
LETTER = {"INSERT": "a", "SELECT": "r", "UPDATE": "w", "DELETE": "d", "TRUNCATE": "D",
          "REFERENCES": "x", "TRIGGER": "t", "EXECUTE": "X", "USAGE": "U", "CREATE": "C"}
# aclitem order of letters, as PostgreSQL prints them
ACL_ORDER = "arwdDxtXUC"
FIRST_OID = 16384
# pg_default_acl's object types kept here: "r" new relations (tables, views), "S" new
# sequences, "f" new functions, "n" new schemas; each with the privileges of its kind
# and the words DROP ROLE's detail uses
DEFAULT_TYPES = {"r": (TABLE_PRIVS, "relations"), "S": (SEQUENCE_PRIVS, "sequences"),
                 "f": (FUNCTION_PRIVS, "functions"), "n": (SCHEMA_PRIVS, "schemas")}


@dataclass(frozen=True)
class Role:
    name: str
    oid: int
    superuser: bool = False
    login: bool = False
    inherit: bool = True
    createrole: bool = False
    createdb: bool = False
    replication: bool = False
    bypassrls: bool = False
    connlimit: int = -1
    password: str | None = None        # a verifier (auth/verifier.py), never clear text
    valid_until: str | None = None


@dataclass(frozen=True)
class Grant:
    grantee: str                       # role name, or PUBLIC ("")
    privilege: str                     # SELECT, INSERT, ... USAGE, CREATE
    grantable: bool
    grantor: str


@dataclass(frozen=True, eq=False)
class AuthCatalog:
    roles: dict = field(default_factory=dict)     # name -> Role
    members: tuple = ()                           # (role, member, admin_option, grantor)
    owners: dict = field(default_factory=dict)    # (kind, name) -> role name
    acl: dict = field(default_factory=dict)       # (kind, name) -> tuple[Grant, ...]
    next_oid: int = FIRST_OID
    # Schemas besides public (sql/schemas.py): name -> oid, drawn from ``next_oid`` so a
    # schema keeps its pg_namespace oid across restarts and forks. Their owners and
    # grants are ``owners``/``acl`` entries of kind "schema", like public's.
    schemas: dict = field(default_factory=dict)
    # ALTER DEFAULT PRIVILEGES (PostgreSQL's pg_default_acl): (role, schema or "" for
    # every schema, object type "r" relations | "n" schemas) -> the grants, kept as
    # PostgreSQL keeps them: a global entry is the whole initial ACL (the owner's own
    # rights included), a per-schema one only what it adds. Insertion order is creation
    # order (DROP ROLE lists the dependent entries in it).
    defaults: dict = field(default_factory=dict)
    # ALTER ROLE name|ALL SET (PostgreSQL's pg_db_role_setting, every database): role
    # name ("" for ALL) -> ((parameter, value as PostgreSQL keeps it), ...) in order
    settings: dict = field(default_factory=dict)
    # Column privileges: (table, column) -> tuple[Grant, ...], never empty (a column whose
    # last grant is revoked has none: PostgreSQL's attacl is then NULL again)
    columns: dict = field(default_factory=dict)

    @property
    def active(self) -> bool:
        """Access control is on once the database has a role."""
        return bool(self.roles)

    # ---- reading --------------------------------------------------------------------------
    def role(self, name: str) -> Role | None:
        return self.roles.get(name)

    def owner(self, kind: str, name: str) -> str | None:
        return self.owners.get((kind, name))

    def grants(self, kind: str, name: str) -> tuple:
        return self.acl.get((kind, name), ())

    def column_grants(self, table: str, column: str) -> tuple:
        return self.columns.get((table, column), ())

    def has_column_grants(self, table: str) -> bool:
        """Whether any column of ``table`` was ever granted on (the check's fast no)."""
        return any(t == table for t, _c in self.columns) if self.columns else False

    def member_of(self, member: str) -> set[str]:
        """Every role ``member`` belongs to, directly or through others (itself included);
        privileges are inherited through roles with INHERIT, as PostgreSQL does."""
        seen = {member}
        todo = [member]
        while todo:
            m = todo.pop()
            r = self.roles.get(m)
            if r is not None and not r.inherit and m != member:
                continue
            for role, who, _admin, _g in self.members:
                if who == m and role not in seen:
                    seen.add(role)
                    todo.append(role)
        return seen

    def is_superuser(self, name: str | None) -> bool:
        r = self.roles.get(name) if name is not None else None
        return r is not None and r.superuser

    # ---- changing (each returns a new catalog) --------------------------------------------
    def with_role(self, role: Role) -> "AuthCatalog":
        roles = dict(self.roles)
        roles[role.name] = role
        return replace(self, roles=roles, next_oid=max(self.next_oid, role.oid + 1))

    def without_role(self, name: str) -> "AuthCatalog":
        roles = dict(self.roles)
        del roles[name]
        members = tuple(m for m in self.members if name not in (m[0], m[1]))
        acl = {}
        for key, grants in self.acl.items():
            kept = tuple(g for g in grants if g.grantee != name and g.grantor != name)
            if kept:
                acl[key] = kept
        columns = {}
        for key, grants in self.columns.items():
            kept = tuple(g for g in grants if g.grantee != name and g.grantor != name)
            if kept:
                columns[key] = kept
        defaults = {k: v for k, v in self.defaults.items()
                    if k[0] != name and not any(g.grantee == name for g in v)}
        settings = {k: v for k, v in self.settings.items() if k != name}
        return replace(self, roles=roles, members=members, acl=acl, defaults=defaults,
                       settings=settings, columns=columns)

    def renamed_role(self, old: str, new: str) -> "AuthCatalog":
        roles = {(new if n == old else n): (replace(r, name=new) if n == old else r)
                 for n, r in self.roles.items()}
        ren = lambda n: new if n == old else n   # noqa: E731
        members = tuple((ren(a), ren(b), adm, ren(g)) for a, b, adm, g in self.members)
        owners = {k: ren(v) for k, v in self.owners.items()}
        acl = {k: tuple(replace(g, grantee=ren(g.grantee), grantor=ren(g.grantor)) for g in v)
               for k, v in self.acl.items()}
        defaults = {(ren(r), s, t): tuple(replace(g, grantee=ren(g.grantee),
                                                  grantor=ren(g.grantor)) for g in v)
                    for (r, s, t), v in self.defaults.items()}
        settings = {ren(k): v for k, v in self.settings.items()}
        columns = {k: tuple(replace(g, grantee=ren(g.grantee), grantor=ren(g.grantor))
                            for g in v) for k, v in self.columns.items()}
        return replace(self, roles=roles, members=members, owners=owners, acl=acl,
                       defaults=defaults, settings=settings, columns=columns)

    def with_owner(self, kind: str, name: str, role: str | None) -> "AuthCatalog":
        owners = dict(self.owners)
        if role is None:
            owners.pop((kind, name), None)
        else:
            owners[(kind, name)] = role
        return replace(self, owners=owners)

    def without_object(self, kind: str, name: str) -> "AuthCatalog":
        """A dropped table or view takes its owner and grants (its columns' too) with it."""
        columns = self.columns
        if kind == "table" and self.has_column_grants(name):
            columns = {k: v for k, v in columns.items() if k[0] != name}
        if (kind, name) not in self.owners and (kind, name) not in self.acl \
                and columns is self.columns:
            return self
        owners = dict(self.owners)
        owners.pop((kind, name), None)
        acl = dict(self.acl)
        acl.pop((kind, name), None)
        return replace(self, owners=owners, acl=acl, columns=columns)

    def renamed_object(self, kind: str, old: str, new: str) -> "AuthCatalog":
        owners, acl = dict(self.owners), dict(self.acl)
        if (kind, old) in owners:
            owners[(kind, new)] = owners.pop((kind, old))
        if (kind, old) in acl:
            acl[(kind, new)] = acl.pop((kind, old))
        columns = {((new if t == old else t), c): v for (t, c), v in self.columns.items()} \
            if kind == "table" else self.columns
        return replace(self, owners=owners, acl=acl, columns=columns)

    def with_column_grants(self, table: str, column: str, grants: tuple) -> "AuthCatalog":
        columns = dict(self.columns)
        if grants:
            columns[(table, column)] = tuple(grants)
        else:
            columns.pop((table, column), None)
        return replace(self, columns=columns)

    def without_column(self, table: str, column: str) -> "AuthCatalog":
        """A dropped column takes its grants with it."""
        if (table, column) not in self.columns:
            return self
        columns = dict(self.columns)
        del columns[(table, column)]
        return replace(self, columns=columns)

    def renamed_column(self, table: str, old: str, new: str) -> "AuthCatalog":
        if (table, old) not in self.columns:
            return self
        columns = {(t, (new if (t, c) == (table, old) else c)): v
                   for (t, c), v in self.columns.items()}
        return replace(self, columns=columns)

    def with_grants(self, kind: str, name: str, grants: tuple) -> "AuthCatalog":
        acl = dict(self.acl)
        if grants or kind == "function":
            # a function's empty ACL is no default: that one gives PUBLIC EXECUTE (one
            # made by the implicit superuser has no owner grant to keep the ACL non-empty)
            acl[(kind, name)] = tuple(grants)
        else:
            acl.pop((kind, name), None)
        return replace(self, acl=acl)

    def with_members(self, members: tuple) -> "AuthCatalog":
        return replace(self, members=members)

    def with_settings(self, role: str, pairs: tuple) -> "AuthCatalog":
        """``role``'s (``""``: ALL's) parameters its sessions start with; () removes them."""
        settings = dict(self.settings)
        if pairs:
            settings[role] = pairs
        else:
            settings.pop(role, None)
        return replace(self, settings=settings)

    def with_default(self, role: str, schema: str, objtype: str,
                     grants: tuple | None) -> "AuthCatalog":
        """Set (None: remove) the default privileges entry of ``role`` for new objects of
        ``objtype`` in ``schema`` ("" for every schema)."""
        defaults = dict(self.defaults)
        if grants is None:
            defaults.pop((role, schema, objtype), None)
        else:
            defaults[(role, schema, objtype)] = grants
        return replace(self, defaults=defaults)

    def with_schema(self, name: str, owner: str | None) -> "AuthCatalog":
        """A new schema (CREATE SCHEMA), owned by ``owner`` (None: the implicit
        superuser), with the next oid."""
        schemas = dict(self.schemas)
        schemas[name] = self.next_oid
        cat = replace(self, schemas=schemas, next_oid=self.next_oid + 1)
        return cat.without_object("schema", name).with_owner("schema", name, owner)

    def without_schema(self, name: str) -> "AuthCatalog":
        schemas = dict(self.schemas)
        del schemas[name]
        # its default privileges go with it, as PostgreSQL's depend on the namespace
        defaults = {k: v for k, v in self.defaults.items() if k[1] != name}
        return replace(self, schemas=schemas, defaults=defaults).without_object("schema", name)

    def renamed_schema(self, old: str, new: str) -> "AuthCatalog":
        schemas = {(new if n == old else n): oid for n, oid in self.schemas.items()}
        defaults = {(r, new if sch == old else sch, t): v
                    for (r, sch, t), v in self.defaults.items()}
        return replace(self, schemas=schemas, defaults=defaults) \
            .renamed_object("schema", old, new)


EMPTY = AuthCatalog()


# ---- encoding (WAL records and checkpoint manifests: plain lists, dicts, str, int, bool) ----

_ROLE_FIELDS = ("name", "oid", "superuser", "login", "inherit", "createrole", "createdb",
                "replication", "bypassrls", "connlimit", "password", "valid_until")


def encode(cat: AuthCatalog) -> dict:
    return {
        "roles": [[getattr(r, f) for f in _ROLE_FIELDS] for r in cat.roles.values()],
        "members": [list(m) for m in cat.members],
        "owners": [[k, n, r] for (k, n), r in cat.owners.items()],
        "acl": [[k, n, [[g.grantee, g.privilege, g.grantable, g.grantor] for g in grants]]
                for (k, n), grants in cat.acl.items()],
        "next_oid": cat.next_oid,
        **({"schemas": [[n, oid] for n, oid in cat.schemas.items()]} if cat.schemas else {}),
        **({"defaults": [[r, sch, t, [[g.grantee, g.privilege, g.grantable, g.grantor]
                                      for g in grants]]
                         for (r, sch, t), grants in cat.defaults.items()]}
           if cat.defaults else {}),
        **({"settings": [[r, [list(p) for p in pairs]] for r, pairs in cat.settings.items()]}
           if cat.settings else {}),
        **({"columns": [[t, c, [[g.grantee, g.privilege, g.grantable, g.grantor]
                                for g in grants]]
                        for (t, c), grants in cat.columns.items()]}
           if cat.columns else {}),
    }


def decode(data) -> AuthCatalog:
    """The catalog ``encode`` wrote; ValueError on anything malformed (the caller reports
    XX001): every field is type-checked, nothing is evaluated."""
    def need(ok, what):
        if not ok:
            raise ValueError(f"malformed roles catalog: {what}")
    need(isinstance(data, dict), "not a map")
    roles = {}
    for row in data.get("roles", ()):
        need(isinstance(row, (list, tuple)) and len(row) == len(_ROLE_FIELDS), "role")
        kw = dict(zip(_ROLE_FIELDS, row))
        need(isinstance(kw["name"], str) and _int(kw["oid"]) and _int(kw["connlimit"])
             and all(isinstance(kw[f], bool) for f in _ROLE_FIELDS[2:9])
             and (kw["password"] is None or isinstance(kw["password"], str))
             and (kw["valid_until"] is None or isinstance(kw["valid_until"], str)), "role")
        roles[kw["name"]] = Role(**kw)
    members = []
    for m in data.get("members", ()):
        need(isinstance(m, (list, tuple)) and len(m) == 4 and isinstance(m[2], bool)
             and all(isinstance(x, str) for x in (m[0], m[1], m[3])), "membership")
        members.append(tuple(m))
    owners = {}
    for o in data.get("owners", ()):
        need(isinstance(o, (list, tuple)) and len(o) == 3
             and all(isinstance(x, str) for x in o), "owner")
        owners[(o[0], o[1])] = o[2]
    def grants_of(entries) -> tuple:
        need(isinstance(entries, (list, tuple)), "grants")
        grants = []
        for g in entries:
            need(isinstance(g, (list, tuple)) and len(g) == 4 and isinstance(g[2], bool)
                 and all(isinstance(x, str) for x in (g[0], g[1], g[3]))
                 and g[1] in LETTER, "grant")
            grants.append(Grant(g[0], g[1], g[2], g[3]))
        return tuple(grants)

    acl = {}
    for entry in data.get("acl", ()):
        need(isinstance(entry, (list, tuple)) and len(entry) == 3
             and isinstance(entry[0], str) and isinstance(entry[1], str), "acl")
        acl[(entry[0], entry[1])] = grants_of(entry[2])
    next_oid = data.get("next_oid", FIRST_OID)
    need(_int(next_oid), "next_oid")
    schemas = {}
    for entry in data.get("schemas", ()):     # absent in files written before schemas
        need(isinstance(entry, (list, tuple)) and len(entry) == 2
             and isinstance(entry[0], str) and _int(entry[1]), "schema")
        schemas[entry[0]] = entry[1]
    defaults = {}
    for entry in data.get("defaults", ()):    # absent in files written before them
        need(isinstance(entry, (list, tuple)) and len(entry) == 4
             and all(isinstance(x, str) for x in entry[:3]) and entry[2] in DEFAULT_TYPES,
             "default privileges")
        defaults[(entry[0], entry[1], entry[2])] = grants_of(entry[3])
    settings = {}
    for entry in data.get("settings", ()):    # absent in files written before them
        need(isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[0], str)
             and isinstance(entry[1], (list, tuple))
             and all(isinstance(p, (list, tuple)) and len(p) == 2
                     and all(isinstance(x, str) for x in p) for p in entry[1]), "settings")
        settings[entry[0]] = tuple(tuple(p) for p in entry[1])
    columns = {}
    for entry in data.get("columns", ()):     # absent in files written before them
        need(isinstance(entry, (list, tuple)) and len(entry) == 3
             and isinstance(entry[0], str) and isinstance(entry[1], str), "column acl")
        grants = grants_of(entry[2])
        need(all(g.privilege in COLUMN_PRIVS for g in grants), "column acl")
        columns[(entry[0], entry[1])] = grants
    return AuthCatalog(roles, tuple(members), owners, acl, next_oid, schemas, defaults,
                       settings, columns)


def _int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def acl_text(cat: AuthCatalog, kind: str, name: str) -> list[str] | None:
    """The object's ACL as PostgreSQL's aclitem[] text (``alice=arwdDxt/alice``), or None
    when no grant was ever made (PostgreSQL's NULL relacl: the owner's default rights)."""
    if (kind, name) not in cat.acl:
        return None
    return grants_text(cat.grants(kind, name))


def column_acl_text(cat: AuthCatalog, table: str, column: str) -> list[str] | None:
    """A column's ACL as pg_attribute.attacl's aclitem[] text, None when it has no grant."""
    if not cat.columns:
        return None
    grants = cat.columns.get((table, column))
    return grants_text(grants) if grants else None


def grants_text(grants) -> list[str]:
    """Grants as aclitem[] text: one item per grantee and grantor, letters in
    PostgreSQL's order, ``*`` after each grantable one."""
    by = {}
    for g in grants:
        by.setdefault((g.grantee, g.grantor), []).append(g)
    out = []
    for (grantee, grantor), gs in by.items():
        letters = {LETTER[g.privilege]: g.grantable for g in gs}
        text = "".join(ch + ("*" if letters[ch] else "") for ch in ACL_ORDER if ch in letters)
        out.append(f"{_quote_role(grantee)}={text}/{_quote_role(grantor)}")
    return out


def _quote_role(name: str) -> str:
    if name == PUBLIC:
        return ""
    if name.replace("_", "a").isalnum() and name == name.lower() and not name[0].isdigit():
        return name
    return '"' + name.replace('"', '""') + '"'


def sql_error_undefined_role(name: str) -> errors.Error:
    return errors.sql_error("42704", f'role "{name}" does not exist')


# ---- questions asked of the catalog -------------------------------------------------------

PSEUDO_SCHEMA_OWNER = "pg_database_owner"    # PostgreSQL 15's owner of schema public
PSEUDO_SCHEMA_OWNER_OID = 6171               # its oid (a predefined role in PostgreSQL)
BOOTSTRAP_OID = 10                           # the implicit superuser in pg_* catalogs


def has_privilege(cat: AuthCatalog, role: str | None, kind: str, name: str, priv: str,
                  grant_option: bool = False, roles: set | None = None) -> bool:
    """Does ``role`` (None: the implicit superuser) hold ``priv`` on the object, directly,
    through a role it inherits or through PUBLIC? ``roles``: ``cat.member_of(role)``
    when the caller has it already."""
    if role is None or not cat.active or cat.is_superuser(role):
        return True
    if roles is None:
        roles = cat.member_of(role)
    owner = cat.owner(kind, name)
    if (kind, name) not in cat.acl:
        if owner is not None and owner in roles:
            return True
        if kind == "schema" and name == "public" and priv == "USAGE" and not grant_option:
            return True
        # a function's default ACL gives EXECUTE to PUBLIC (PostgreSQL's acldefault)
        return kind == "function" and priv == "EXECUTE" and not grant_option
    for g in cat.grants(kind, name):
        # the owner holds the grant options of what it still has
        if g.privilege == priv and (g.grantee in roles or g.grantee == PUBLIC) \
                and (g.grantable or not grant_option or g.grantee == owner):
            return True
    return False


def has_column_privilege(cat: AuthCatalog, role: str | None, table: str, column: str,
                         priv: str, grant_option: bool = False,
                         roles: set | None = None) -> bool:
    """Does ``role`` hold ``priv`` on the column by a column grant (to it, a role it
    inherits or PUBLIC)? The table's own privilege is ``has_privilege``'s: PostgreSQL
    allows a column when either holds."""
    if role is None or not cat.active or cat.is_superuser(role):
        return True
    grants = cat.columns.get((table, column))
    if not grants:
        return False
    if roles is None:
        roles = cat.member_of(role)
    return any(g.privilege == priv and (g.grantee in roles or g.grantee == PUBLIC)
               and (g.grantable or not grant_option) for g in grants)


def is_owner(cat: AuthCatalog, role: str | None, kind: str, name: str) -> bool:
    if role is None or not cat.active or cat.is_superuser(role):
        return True
    owner = cat.owner(kind, name)
    return owner is not None and owner in cat.member_of(role)


def default_acl(cat: AuthCatalog, kind: str, name: str, privs: tuple = TABLE_PRIVS) -> tuple:
    """The grants an object has before its first GRANT/REVOKE (PostgreSQL's NULL acl):
    the owner's full rights (``privs``: a relation's, SEQUENCE_PRIVS for a sequence);
    schema public also USAGE for PUBLIC, a function EXECUTE for PUBLIC first."""
    if kind == "schema":
        if name != "public":
            owner = cat.owner(kind, name)
            return () if owner is None else tuple(Grant(owner, p, False, owner)
                                                  for p in SCHEMA_PRIVS)
        return (Grant(PSEUDO_SCHEMA_OWNER, "USAGE", False, PSEUDO_SCHEMA_OWNER),
                Grant(PSEUDO_SCHEMA_OWNER, "CREATE", False, PSEUDO_SCHEMA_OWNER),
                Grant(PUBLIC, "USAGE", False, PSEUDO_SCHEMA_OWNER))
    owner = cat.owner(kind, name)
    if kind == "function":
        by = owner or EMBEDDED_USER
        return (Grant(PUBLIC, "EXECUTE", False, by),) + \
            ((Grant(owner, "EXECUTE", False, owner),) if owner is not None else ())
    if owner is None:
        return ()
    return tuple(Grant(owner, p, False, owner) for p in privs)


def hardwired_default(owner: str, objtype: str) -> tuple:
    """What an object of ``objtype`` owned by ``owner`` starts with when no default
    privileges say otherwise: every right of its kind to the owner, and EXECUTE to
    PUBLIC first for a function (PostgreSQL's acldefault)."""
    public = (Grant(PUBLIC, "EXECUTE", False, owner),) if objtype == "f" else ()
    return public + tuple(Grant(owner, p, False, owner) for p in DEFAULT_TYPES[objtype][0])


def initial_grants(cat: AuthCatalog, role: str, schema: str, objtype: str) -> tuple | None:
    """The ACL a new object of ``objtype`` made by ``role`` in ``schema`` starts with
    (PostgreSQL's get_user_default_acl): the role's global default privileges, or the
    hardwired default, merged with those of the schema; None when the role set none
    (the object then keeps PostgreSQL's NULL ACL: the owner's rights)."""
    glob = cat.defaults.get((role, "", objtype))
    local = cat.defaults.get((role, schema, objtype)) if schema else None
    if glob is None and local is None:
        return None
    out = list(glob if glob is not None else hardwired_default(role, objtype))
    for g in local or ():
        for i, have in enumerate(out):
            if (have.grantee, have.privilege, have.grantor) == (g.grantee, g.privilege,
                                                                 g.grantor):
                out[i] = replace(have, grantable=have.grantable or g.grantable)
                break
        else:
            out.append(g)
    return tuple(out)


def user_names(cat: AuthCatalog, default: str) -> dict:
    """oid -> role name, for pg_get_userbyid (oid 10: the implicit superuser)."""
    names = {BOOTSTRAP_OID: default, PSEUDO_SCHEMA_OWNER_OID: PSEUDO_SCHEMA_OWNER}
    for r in cat.roles.values():
        names[r.oid] = r.name
    return names
