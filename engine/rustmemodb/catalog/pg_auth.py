"""The roles catalogs: pg_roles, pg_authid, pg_user, pg_auth_members, pg_default_acl and
information_schema.table_privileges / role_table_grants / column_privileges /
usage_privileges, from the root's roles catalog.

psql's ``\\du`` reads pg_roles and pg_auth_members, ``\\dp`` reads pg_class.relacl
(``relacl`` below, PostgreSQL's aclitem text: ``alice=arwdDxt/alice``). pg_roles and
pg_user never show a password (always ``********``, as PostgreSQL);
pg_authid shows the stored SCRAM verifier only to superusers (PostgreSQL does not
let anyone else read pg_authid at all). A database without roles shows its one
implicit superuser (the session's user name, oid 10), as before roles existed.
"""
from __future__ import annotations

from .. import types
from ..storage.namespaces import PUBLIC_OID, split
from ..storage.roles import (BOOTSTRAP_OID, LETTER, SEQUENCE_PRIVS, acl_text, default_acl,
                             grants_text, has_privilege)
from .information_schema import view_columns_declared
from .pg_catalog import owned_sequences
from .virtual import CatalogSnapshot, VirtualTable, register_virtual_table

T, I, B = types.TEXT, types.INTEGER, types.BOOLEAN


def _register(schema: str, name: str, columns: str, rows, typed: dict, searched: bool) -> None:
    cols = tuple((c, typed.get(c, T)) for c in columns.split())
    register_virtual_table(VirtualTable(schema, name, cols, rows), searched=searched)


def _typed(spec: str) -> dict:
    out = {}
    for part in spec.split(";"):
        kind, names = part.split(":")
        for n in names.split():
            out[n] = {"I": I, "B": B, "TA": "TEXT[]"}[kind.strip()]
    return out


def _sees_everything(cat, viewer: str | None) -> bool:
    """Superusers, and a session that is no role at all: the implicit superuser of an
    embedded connection opened without ``user=`` (sessions logged in as a role, and
    every wire session of a database with roles, are that role)."""
    return not cat.active or viewer is None or cat.role(viewer) is None \
        or cat.is_superuser(viewer)


def _role_rows(snap: CatalogSnapshot):
    """(oid, name, super, inherit, createrole, createdb, login, replication, bypassrls,
    connlimit, password, valid_until) per role."""
    cat = snap.root.auth
    if not cat.active:
        yield (BOOTSTRAP_OID, snap.user, True, True, True, True, True, True, True, -1, None,
               None)
        return
    for r in sorted(cat.roles.values(), key=lambda r: r.oid):
        yield (r.oid, r.name, r.superuser, r.inherit, r.createrole, r.createdb, r.login,
               r.replication, r.bypassrls, r.connlimit, r.password, r.valid_until)


def _config(snap, name: str) -> list[str] | None:
    """ALTER ROLE name SET's parameters as rolconfig shows them (``work_mem=64MB``)."""
    pairs = snap.root.auth.settings.get(name)
    return [f"{n}={v}" for n, v in pairs] if pairs else None


def _roles(snap):
    for (oid, name, sup, inh, crr, crd, login, repl, bypass, limit, pw,
         until) in _role_rows(snap):
        yield (name, sup, inh, crr, crd, login, repl, limit, "********",
               until, bypass, _config(snap, name), oid)


_register("pg_catalog", "pg_roles", "rolname rolsuper rolinherit rolcreaterole rolcreatedb "
          "rolcanlogin rolreplication rolconnlimit rolpassword rolvaliduntil rolbypassrls "
          "rolconfig oid", _roles,
          _typed("B: rolsuper rolinherit rolcreaterole rolcreatedb rolcanlogin rolreplication "
                 "rolbypassrls; I: rolconnlimit oid; TA: rolconfig"), True)


def _authid(snap):
    cat = snap.root.auth
    reader_is_super = _sees_everything(cat, snap.user)
    for (oid, name, sup, inh, crr, crd, login, repl, bypass, limit, pw,
         until) in _role_rows(snap):
        yield (oid, name, sup, inh, crr, crd, login, repl, bypass, limit,
               pw if reader_is_super else None, until)


_register("pg_catalog", "pg_authid", "oid rolname rolsuper rolinherit rolcreaterole "
          "rolcreatedb rolcanlogin rolreplication rolbypassrls rolconnlimit rolpassword "
          "rolvaliduntil", _authid,
          _typed("I: oid rolconnlimit; B: rolsuper rolinherit rolcreaterole rolcreatedb "
                 "rolcanlogin rolreplication rolbypassrls"), True)


def _users(snap):
    for (oid, name, sup, _inh, _crr, crd, login, repl, bypass, _limit, pw,
         until) in _role_rows(snap):
        if login:
            yield name, oid, crd, sup, repl, bypass, "********", until, _config(snap, name)


_register("pg_catalog", "pg_user", "usename usesysid usecreatedb usesuper userepl "
          "usebypassrls passwd valuntil useconfig", _users,
          _typed("I: usesysid; B: usecreatedb usesuper userepl usebypassrls; TA: useconfig"),
          True)


def _members(snap):
    cat = snap.root.auth
    for role, member, admin, grantor in cat.members:
        yield (role_oid(snap, role), role_oid(snap, member), role_oid(snap, grantor), admin)


_register("pg_catalog", "pg_auth_members", "roleid member grantor admin_option", _members,
          _typed("I: roleid member grantor; B: admin_option"), True)


def _default_acls(snap):
    """ALTER DEFAULT PRIVILEGES entries (psql's ``\\ddp``). The oid is the entry's
    place among them (rustmemodb keeps no oid for these rows)."""
    cat = snap.root.auth
    for i, ((owner, schema, objtype), grants) in enumerate(cat.defaults.items()):
        nsp = 0 if not schema else PUBLIC_OID if schema == "public" else \
            cat.schemas.get(schema, 0)
        yield (cat.next_oid + 1_000_000 + i, role_oid(snap, owner), nsp, objtype,
               grants_text(grants))


def _role_settings(snap):
    """pg_db_role_setting: every entry applies in every database here (setdatabase 0);
    ALTER ROLE ALL SET's has setrole 0."""
    cat = snap.root.auth
    for name, pairs in cat.settings.items():
        yield 0, (role_oid(snap, name) if name else 0), [f"{n}={v}" for n, v in pairs]


_register("pg_catalog", "pg_db_role_setting", "setdatabase setrole setconfig", _role_settings,
          _typed("I: setdatabase setrole; TA: setconfig"), True)


_register("pg_catalog", "pg_default_acl", "oid defaclrole defaclnamespace defaclobjtype "
          "defaclacl", _default_acls, _typed("I: oid defaclrole defaclnamespace; TA: defaclacl"),
          True)


# ---- used by pg_class ---------------------------------------

def role_oid(snap_or_root, name: str | None) -> int:
    root = getattr(snap_or_root, "root", snap_or_root)
    r = root.auth.role(name) if name is not None else None
    return r.oid if r is not None else BOOTSTRAP_OID


def owner_oid(snap, name: str) -> int:
    return role_oid(snap, snap.root.auth.owner("table", name))


def relacl(snap, name: str) -> list | None:
    return acl_text(snap.root.auth, "table", name)


# ---- information_schema ---------------------------------------------------------------------

def _grant_viewer(snap) -> tuple[set, bool] | None:
    """Who reads the grant views: the roles the session's user is a member of, and
    whether it sees every grant (a superuser); None when there are no roles."""
    cat = snap.root.auth
    if not cat.active:
        return None
    viewer = snap.user
    mine = cat.member_of(viewer) if cat.role(viewer) is not None else set()
    return mine, _sees_everything(cat, viewer)


def _grant_rows(snap):
    seer = _grant_viewer(snap)
    if seer is None:
        return
    cat, (mine, everything) = snap.root.auth, seer
    for name in sorted({*snap.root.tables, *snap.root.views}):
        grants = cat.acl.get(("table", name)) or default_acl(cat, "table", name)
        for g in grants:
            if g.privilege not in LETTER or g.privilege in ("USAGE", "CREATE"):
                continue
            if not (everything or g.grantee in mine or g.grantor in mine or g.grantee == ""):
                continue
            owner_grant = g.grantee == cat.owner("table", name)
            grantable = g.grantable or (owner_grant and has_privilege(
                cat, g.grantee, "table", name, g.privilege))
            yield (g.grantor, g.grantee or "PUBLIC", snap.database, "public", name,
                   g.privilege, "YES" if grantable else "NO",
                   "YES" if g.privilege == "SELECT" else "NO")


for _name in ("table_privileges", "role_table_grants"):
    _register("information_schema", _name, "grantor grantee table_catalog table_schema "
              "table_name privilege_type is_grantable with_hierarchy", _grant_rows, {}, False)


def _usage_rows(snap):
    """information_schema.usage_privileges for sequences (PostgreSQL's view lists them
    with collations, domains and foreign objects, which have no ACLs here): each USAGE
    in a sequence's ACL, or its owner's by default; shown as table_privileges are.
    Grantable: with the grant option, or a grantee that is (a member of) the owner."""
    seer = _grant_viewer(snap)
    if seer is None:
        return
    cat, (mine, everything) = snap.root.auth, seer
    identity = {seq for seq, (_t, _n, dep) in owned_sequences(snap.root).items()
                if dep == "i"}          # PostgreSQL's view leaves identity sequences out
    for name in sorted(snap.root.sequences):
        if name in identity:
            continue
        owner = cat.owner("table", name)
        grants = cat.acl.get(("table", name)) or default_acl(cat, "table", name,
                                                             SEQUENCE_PRIVS)
        schema, bare = split(name, cat.schemas)
        for g in grants:
            if g.privilege != "USAGE" or not (everything or g.grantee in mine
                                              or g.grantor in mine or g.grantee == ""):
                continue
            grantable = g.grantable or (g.grantee != "" and owner is not None
                                        and owner in cat.member_of(g.grantee))
            yield (g.grantor, g.grantee or "PUBLIC", snap.database, schema, bare, "SEQUENCE",
                   "USAGE", "YES" if grantable else "NO")


_register("information_schema", "usage_privileges", "grantor grantee object_catalog "
          "object_schema object_name object_type privilege_type is_grantable", _usage_rows,
          {}, False)


def _column_privilege_rows(snap):
    """information_schema.column_privileges as PostgreSQL's view makes it: each column's
    own grants (attacl) and, for every column, its table's grants of a column privilege
    (relacl, or the owner's default), without repeats; shown when the viewer is (a member
    of) the grantor or the grantee, or the grantee is PUBLIC. Grantable: with the grant
    option, or a grantee that is (a member of) the owner."""
    seer = _grant_viewer(snap)
    if seer is None:
        return
    cat, (mine, everything) = snap.root.auth, seer
    root = snap.root
    for name in sorted({*root.tables, *root.views}):
        if name in root.tables:
            columns = [c.name for c in root.tables[name].schema.columns]
        else:
            columns = [c for c, _t, _m in view_columns_declared(snap, root.views[name])]
        owner = cat.owner("table", name)
        table_grants = cat.acl.get(("table", name)) or default_acl(cat, "table", name)
        schema, bare = split(name, cat.schemas)
        seen = set()
        for column in columns:
            for g in (*table_grants, *cat.column_grants(name, column)):
                if g.privilege not in ("SELECT", "INSERT", "UPDATE", "REFERENCES"):
                    continue
                if not (everything or g.grantee in mine or g.grantor in mine
                        or g.grantee == ""):
                    continue
                grantable = g.grantable or (g.grantee != "" and owner is not None
                                            and owner in cat.member_of(g.grantee))
                row = (g.grantor, g.grantee or "PUBLIC", snap.database, schema, bare, column,
                       g.privilege, "YES" if grantable else "NO")
                if row not in seen:
                    seen.add(row)
                    yield row


_register("information_schema", "column_privileges", "grantor grantee table_catalog "
          "table_schema table_name column_name privilege_type is_grantable",
          _column_privilege_rows, {}, False)
