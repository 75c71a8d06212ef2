"""A small hand parser for the role, privilege and comment statements sqlglot cannot read.

sqlglot has no grammar for CREATE/ALTER/DROP ROLE, CREATE USER, GRANT/REVOKE
(``... ON ALL TABLES IN SCHEMA``, role membership), SET ROLE or ``COMMENT ON ... IS
NULL``; it would turn them into an opaque Command or mis-parse them. ``parse`` recognises them by
their leading keywords and returns a plain dataclass (``None`` for any other
statement, which then goes to sqlglot); a malformed one is ``42601 syntax error
at or near "..."`` with the 1-based position of the offending token, as
PostgreSQL reports it. The statements are executed by ``auth/statements.py``.

Grammar (PostgreSQL 15's, minus what rustmemodb has no objects for):

    CREATE {ROLE|USER|GROUP} name [[WITH] option ...]
    ALTER {ROLE|USER|GROUP} name [[WITH] option ...] | ALTER ROLE name RENAME TO new
    ALTER GROUP name {ADD|DROP} USER role [, ...]
    ALTER {ROLE|USER} {name|ALL} {SET param {TO|=} value [, ...] | SET param FROM CURRENT
          | SET TIME ZONE value | RESET param | RESET ALL}
    DROP {ROLE|USER|GROUP} [IF EXISTS] name [, ...]
    GRANT privileges ON {[TABLE] t [, ...] | SEQUENCE s [, ...] | SCHEMA s [, ...]
                         | {FUNCTION|ROUTINE|PROCEDURE} f [([[mode] [arg] type [, ...]])] [, ...]
                         | ALL {TABLES|SEQUENCES|FUNCTIONS|ROUTINES|PROCEDURES} IN SCHEMA s
                           [, ...]}
          TO grantee [, ...] [WITH GRANT OPTION] [GRANTED BY role]
          (privileges: ALL [PRIVILEGES] [(column [, ...])]
                       | privilege [(column [, ...])] [, ...])
    GRANT role [, ...] TO role [, ...] [WITH ADMIN OPTION] [GRANTED BY role]
    REVOKE [GRANT OPTION FOR] privileges ON ... FROM grantee [, ...] [CASCADE|RESTRICT]
    REVOKE [ADMIN OPTION FOR] role [, ...] FROM role [, ...] [CASCADE|RESTRICT]
    ALTER DEFAULT PRIVILEGES [FOR {ROLE|USER} role [, ...]] [IN SCHEMA s [, ...]]
          {GRANT privileges ON kinds TO grantee [, ...] [WITH GRANT OPTION]
          | REVOKE [GRANT OPTION FOR] privileges ON kinds FROM grantee [, ...]
            [CASCADE|RESTRICT]}
          (kinds: TABLES | SEQUENCES | FUNCTIONS | ROUTINES | SCHEMAS; TYPES is 0A000)
    SET [SESSION|LOCAL] ROLE {name | NONE}     RESET ROLE
    REASSIGN OWNED BY role [, ...] TO role     DROP OWNED BY role [, ...] [CASCADE|RESTRICT]
    ALTER {TABLE|VIEW|SEQUENCE} [IF EXISTS] [ONLY] name OWNER TO role
    ALTER {FUNCTION|ROUTINE|PROCEDURE} name[(argtypes)] OWNER TO role
    COMMENT ON {TABLE|VIEW|INDEX} name IS {'text' | NULL}
    COMMENT ON COLUMN relation.column IS {'text' | NULL}

option: SUPERUSER | NOSUPERUSER | LOGIN | NOLOGIN | CREATEROLE | NOCREATEROLE |
CREATEDB | NOCREATEDB | INHERIT | NOINHERIT | REPLICATION | NOREPLICATION |
BYPASSRLS | NOBYPASSRLS | CONNECTION LIMIT n | [ENCRYPTED] PASSWORD {'text' | NULL} |
VALID UNTIL 'timestamp' | IN ROLE role [, ...] | ROLE role [, ...] | ADMIN role [, ...]
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import errors
from ..storage.namespaces import SYSTEM, qualify

_TOKEN = re.compile(r"""
    (?P<ws>\s+|--[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)
  | (?P<str>'(?:[^']|'')*')
  | (?P<qid>"(?:[^"]|"")+")
  | (?P<num>\d+)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<punct>[,;()=.*-])
  | (?P<op>[^\s\w'"])
""", re.X)
# ``op``: any other character, one at a time: a domain's CHECK and DEFAULT are sliced
# from the text by token positions (``_Parser.text_until``), so they only need to tokenize.

_FLAGS = {"SUPERUSER": ("superuser", True), "NOSUPERUSER": ("superuser", False),
          "LOGIN": ("login", True), "NOLOGIN": ("login", False),
          "CREATEROLE": ("createrole", True), "NOCREATEROLE": ("createrole", False),
          "CREATEDB": ("createdb", True), "NOCREATEDB": ("createdb", False),
          "INHERIT": ("inherit", True), "NOINHERIT": ("inherit", False),
          "REPLICATION": ("replication", True), "NOREPLICATION": ("replication", False),
          "BYPASSRLS": ("bypassrls", True), "NOBYPASSRLS": ("bypassrls", False)}
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER",
              "USAGE", "CREATE", "EXECUTE")
# Words that may not be role names (PostgreSQL's reserved role names and keywords).
_RESERVED_ROLES = {"public", "none", "current_role", "current_user", "session_user"}


@dataclass
class Tok:
    kind: str       # word | qid | str | num | punct | end
    text: str       # identifiers folded as PostgreSQL folds them; strings unquoted
    pos: int        # 1-based character position
    raw: str


@dataclass
class RoleStatement:
    action: str                       # create | alter | rename | drop
    names: list                       # role name(s)
    keyword: str = "ROLE"             # ROLE | USER | GROUP (USER implies LOGIN)
    options: dict = field(default_factory=dict)   # flag -> value; password; in_role...
    if_exists: bool = False
    new_name: str | None = None
    position: int = 1

    @property
    def kind(self) -> str:
        # PostgreSQL's command tags say ROLE for USER and GROUP too
        return {"create": "CREATE ROLE", "alter": "ALTER ROLE", "rename": "ALTER ROLE",
                "drop": "DROP ROLE"}[self.action]


@dataclass
class GrantStatement:
    grant: bool                       # GRANT (True) or REVOKE
    privileges: list                  # ["SELECT", ...]; ["ALL"] for ALL [PRIVILEGES]
    # table | sequence | schema | function | routine | procedure | all_tables |
    # all_sequences | all_functions | all_procedures (ALTER DEFAULT PRIVILEGES: tables,
    # sequences, functions, schemas)
    target: str
    objects: list                     # names; a routine's (name, [arg text, ...] or None)
    grantees: list                    # role names; "" is PUBLIC
    grant_option: bool = False        # WITH GRANT OPTION / REVOKE GRANT OPTION FOR
    granted_by: str | None = None
    cascade: bool = False
    position: int = 1
    # Column privileges, PostgreSQL's ``privilege (column, ...)``: [(privilege or "ALL",
    # [column, ...]), ...], beside the table-level ``privileges`` of the same statement
    columns: list = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "GRANT" if self.grant else "REVOKE"


@dataclass
class RoleSettingStatement:
    """ALTER ROLE name|ALL SET/RESET: a parameter the role's sessions start with.
    ``role`` None is ALL; ``value`` the text after TO/= (None: RESET, or FROM CURRENT
    when ``from_current``); ``param`` None with RESET ALL."""
    role: str | None
    param: str | None
    value: str | None = None
    from_current: bool = False
    position: int = 1
    kind = "ALTER ROLE"


@dataclass
class DefaultPrivilegesStatement:
    """ALTER DEFAULT PRIVILEGES: ``change`` is the GRANT or REVOKE it applies (target
    ``tables`` or ``schemas``, no objects) to the new objects of ``roles`` (empty: the
    current role's) in ``schemas`` (empty: every schema)."""
    roles: list
    schemas: list
    change: GrantStatement
    kind = "ALTER DEFAULT PRIVILEGES"


@dataclass
class MembershipStatement:
    grant: bool
    roles: list                       # the granted roles
    members: list                     # who receives them
    admin_option: bool = False
    granted_by: str | None = None
    position: int = 1

    @property
    def kind(self) -> str:
        return "GRANT ROLE" if self.grant else "REVOKE ROLE"


@dataclass
class OwnedStatement:
    drop: bool                        # DROP OWNED BY (else REASSIGN OWNED BY ... TO)
    roles: list
    new_owner: str | None = None
    cascade: bool = False

    @property
    def kind(self) -> str:
        return "DROP OWNED" if self.drop else "REASSIGN OWNED"


@dataclass
class OwnerStatement:
    relkind: str                      # table | view | sequence | function
    name: str
    role: str
    if_exists: bool = False
    args: list | None = None          # a function's argument types as written (None: none)
    routine: str = "function"         # function | routine | procedure, as the statement says

    @property
    def kind(self) -> str:
        return {"table": "ALTER TABLE", "view": "ALTER VIEW", "sequence": "ALTER SEQUENCE",
                "function": "ALTER FUNCTION"}[self.relkind]


@dataclass
class CommentStatement:
    """COMMENT ON: ``text`` None (NULL or '') removes the comment, as in PostgreSQL.
    Bound by sql/bind/bind_comment.py (a catalog change, not a role statement)."""
    objkind: str                      # table | view | index | column
    name: str                         # the relation (the column's table)
    column: str | None
    text: str | None
    position: int = 1
    kind = "COMMENT"


@dataclass
class AlterTypeStatement:
    """ALTER TYPE name ADD VALUE [IF NOT EXISTS] 'label' [BEFORE | AFTER 'label'] or
    RENAME TO new_name (sqlglot reads ALTER TYPE only as a raw command). ``action`` as
    plan/ddl.LogicalAlterEnum's."""
    name: str
    action: tuple
    kind = "ALTER TYPE"


@dataclass
class SchemaStatement:
    """CREATE / DROP / ALTER SCHEMA (applied by auth/statements.py: schemas live in the
    roles catalog, with their owners and grants)."""
    action: str                       # create | drop | owner
    names: list
    if_exists: bool = False           # IF [NOT] EXISTS
    owner: str | None = None          # AUTHORIZATION role / OWNER TO role
    cascade: bool = False
    position: int = 1

    @property
    def kind(self) -> str:
        return {"create": "CREATE SCHEMA", "drop": "DROP SCHEMA"}.get(self.action,
                                                                     "ALTER SCHEMA")


@dataclass
class DomainStatement:
    """CREATE / ALTER / DROP DOMAIN (sqlglot does not read them), bound by
    sql/bind/bind_domain.py. ``spec``: for create (base type SQL, default SQL or None,
    not null, ((constraint name or None, CHECK sql), ...)); for alter the action tuple
    of plan/ddl.LogicalAlterDomain; for drop (names, if_exists, cascade)."""
    action: str                       # create | alter | drop
    name: str
    spec: tuple
    position: int = 1

    @property
    def kind(self) -> str:
        return f"{self.action.upper()} DOMAIN"


@dataclass
class SetRole:
    role: str | None                  # None: SET ROLE NONE / RESET ROLE
    position: int = 1


def _tokens(sql: str) -> list[Tok]:
    out, i = [], 0
    while i < len(sql):
        m = _TOKEN.match(sql, i)
        if m is None:
            raise errors.syntax_error(f'syntax error at or near "{sql[i]}"', position=i + 1)
        kind = m.lastgroup
        raw = m.group()
        if kind != "ws":
            if kind == "str":
                text = raw[1:-1].replace("''", "'")
            elif kind == "qid":
                text = raw[1:-1].replace('""', '"')
            elif kind == "word":
                text = raw.lower()
            else:
                text = raw
            out.append(Tok(kind, text, i + 1, raw))
        i = m.end()
    out.append(Tok("end", "", len(sql) + 1, ""))
    return out


# OWNER TO right after the relation's name: a column called "owner" (RENAME COLUMN owner
# TO x) is not this statement.
_OWNER_TO = re.compile(
    r"(?is)alter\s+(?:table|view|sequence)\s+(?:if\s+exists\s+)?(?:only\s+)?"
    r"(?:\"(?:[^\"]|\"\")+\"|[\w$]+)(?:\.(?:\"(?:[^\"]|\"\")+\"|[\w$]+))?\s+owner\s+to\b")
_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*(?:[^*]|\*(?!/))*\*/)*")


def _lead_end(sql: str) -> int:
    """Where the statement's first word starts, after blanks and comments."""
    return _LEADING.match(sql).end() if sql[:1] in " \t\r\n-/" else 0


def _lead(sql: str) -> list[str]:
    """The first few keywords after comments, upper-cased (cheap: no full tokenizing)."""
    start = _lead_end(sql)
    return re.findall(r"[A-Za-z_]+", sql[start:start + 80])[:4]


# The first words of the statements read here: any other statement (SELECT, INSERT, ...)
# is sqlglot's without looking further.
_HEADS = frozenset({"CREATE", "ALTER", "DROP", "GRANT", "REVOKE", "REASSIGN", "SET",
                    "COMMENT", "RESET"})
_WORD = re.compile(r"[A-Za-z_]+")


def parse(sql: str):
    """The statement if ``sql`` is one of ours, else None (sqlglot's turn)."""
    first = _WORD.match(sql)
    if first is not None and first.group().upper() not in _HEADS:
        return None
    words = [w.upper() for w in _lead(sql)]
    if len(words) < 2:
        return None
    head, second = words[0], words[1]
    if head in ("CREATE", "ALTER", "DROP") and second in ("ROLE", "USER", "GROUP"):
        if head == "ALTER" and second == "USER" and len(words) > 2 and words[2] == "MAPPING":
            return None
        return _Parser(sql).role_statement()
    if head in ("CREATE", "ALTER", "DROP") and second == "SCHEMA":
        return _Parser(sql).schema_statement()
    if head in ("GRANT", "REVOKE"):
        return _Parser(sql).grant_statement()
    if head == "ALTER" and second == "DEFAULT":
        return _Parser(sql).default_privileges()
    if (head, second) in (("REASSIGN", "OWNED"), ("DROP", "OWNED")):
        return _Parser(sql).owned_statement()
    if head == "ALTER" and second in ("TABLE", "VIEW", "SEQUENCE") and \
            _OWNER_TO.match(sql, _lead_end(sql)):
        return _Parser(sql).owner_statement()
    if head == "SET" and (second == "ROLE" or (second in ("SESSION", "LOCAL")
                                               and len(words) > 2 and words[2] == "ROLE")):
        return _Parser(sql).set_role()
    if head == "ALTER" and second == "TYPE":
        return _Parser(sql).alter_type()
    if head == "ALTER" and second in ("FUNCTION", "ROUTINE", "PROCEDURE"):
        return _Parser(sql).routine_owner()      # None: another ALTER FUNCTION (sqlglot's)
    if head in ("CREATE", "ALTER", "DROP") and second == "DOMAIN":
        return _Parser(sql).domain_statement()
    if head == "COMMENT" and second == "ON":
        return _Parser(sql).comment_statement()
    if head == "RESET" and second == "ROLE":
        p = _Parser(sql)
        p.expect("RESET")
        p.expect("ROLE")
        p.end()
        return SetRole(None, 1)
    return None


class _Parser:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.toks = _tokens(sql)
        self.i = 0

    # ---- token helpers -------------------------------------------------------------------
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def fail(self, tok: Tok | None = None):
        tok = tok or self.tok
        if tok.kind == "end":
            return errors.syntax_error("syntax error at end of input", position=tok.pos)
        return errors.syntax_error(f'syntax error at or near "{tok.raw}"', position=tok.pos)

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.upper() in words

    def accept(self, *words: str) -> str | None:
        if self.is_word(*words):
            w = self.tok.text.upper()
            self.i += 1
            return w
        return None

    def expect(self, *words: str) -> str:
        w = self.accept(*words)
        if w is None:
            raise self.fail()
        return w

    def punct(self, ch: str) -> bool:
        if self.tok.kind == "punct" and self.tok.text == ch:
            self.i += 1
            return True
        return False

    def end(self) -> None:
        self.punct(";")
        if self.tok.kind != "end":
            raise self.fail()

    def name(self) -> str:
        tok = self.tok
        if tok.kind in ("word", "qid"):
            self.i += 1
            return tok.text
        raise self.fail()

    def qualified(self) -> str:
        """``t``, ``public.t`` or ``s.t``: the relation's catalog key (storage/
        namespaces.py); whether schema ``s`` exists is the executor's to say."""
        first = self.name()
        if self.punct("."):
            second = self.name()
            if first in SYSTEM:
                raise errors.sql_error("3F000", f'schema "{first}" does not exist')
            return qualify(first, second)
        return first

    def role_name(self, allow_public: bool = False) -> str:
        tok = self.tok
        if tok.kind == "word" and tok.text in ("current_user", "current_role", "session_user"):
            self.i += 1
            return "\x00" + tok.text              # resolved by the executor
        if tok.kind == "word" and tok.text == "public":
            self.i += 1
            if allow_public:
                return ""
            raise errors.sql_error("42939", 'role name "public" is reserved', position=tok.pos)
        return self.name()

    def name_list(self, fn) -> list:
        out = [fn()]
        while self.punct(","):
            out.append(fn())
        return out

    def string(self) -> str:
        if self.tok.kind != "str":
            raise self.fail()
        self.i += 1
        return self.toks[self.i - 1].text

    # ---- CREATE / ALTER / DROP DOMAIN ---------------------------------------------------
    def text_until(self, *stops: str) -> str:
        """The SQL text from here to the next of the ``stops`` keywords outside
        parentheses (or the end); at least one token."""
        start, depth = self.tok.pos - 1, 0
        first = True
        while self.tok.kind != "end" and not (self.tok.kind == "punct" and self.tok.text == ";"
                                              and depth == 0):
            if depth == 0 and not first and self.is_word(*stops):
                break
            if self.tok.text in ("(", "[") and self.tok.kind in ("punct", "op"):
                depth += 1
            elif self.tok.text in (")", "]") and self.tok.kind in ("punct", "op"):
                depth -= 1
            first = False
            self.i += 1
        if first:
            raise self.fail()
        return self.sql[start:self.tok.pos - 1].strip()

    def paren_text(self) -> str:
        """The text inside ``( ... )``, parentheses balanced."""
        if not (self.tok.kind == "punct" and self.tok.text == "("):
            raise self.fail()
        start = self.tok.pos
        self.i += 1
        self.skip_balanced((")",))
        text = self.sql[start:self.tok.pos - 1].strip()
        self.i += 1
        if not text:
            raise self.fail(self.toks[self.i - 1])
        return text

    def skip_balanced(self, stops: tuple) -> None:
        """Advance, parentheses balanced, to the next punctuation of ``stops`` outside
        them (left to the caller); 42601 at the end of the text."""
        depth = 0
        while not (depth == 0 and self.tok.kind == "punct" and self.tok.text in stops):
            if self.tok.kind == "end":
                raise self.fail()
            if self.tok.kind == "punct" and self.tok.text == "(":
                depth += 1
            elif self.tok.kind == "punct" and self.tok.text == ")":
                depth -= 1
            self.i += 1

    def domain_statement(self) -> DomainStatement:
        head = self.expect("CREATE", "ALTER", "DROP").lower()
        position = self.tok.pos
        self.expect("DOMAIN")
        if head == "drop":
            if_exists = False
            if self.accept("IF"):
                self.expect("EXISTS")
                if_exists = True
            names = tuple(self.name_list(self.qualified))
            cascade = self.accept("CASCADE", "RESTRICT") == "CASCADE"
            self.end()
            return DomainStatement("drop", names[0], (names, if_exists, cascade), position)
        name = self.qualified()
        if head == "create":
            self.accept("AS")
            base = self.text_until("COLLATE", "DEFAULT", "CONSTRAINT", "NOT", "NULL", "CHECK")
            default, not_null, checks = None, False, []
            while not self.at_end():
                if self.accept("COLLATE"):
                    self.qualified()            # a collation changes nothing here
                    continue
                if self.accept("DEFAULT"):
                    default = self.text_until("COLLATE", "CONSTRAINT", "NOT", "NULL", "CHECK")
                    continue
                cname = self.name() if self.accept("CONSTRAINT") else None
                if self.accept("NOT"):
                    self.expect("NULL")
                    not_null = True
                elif self.accept("NULL"):
                    not_null = False
                elif self.accept("CHECK"):
                    checks.append((cname, self.paren_text()))
                else:
                    raise self.fail()
            self.end()
            return DomainStatement("create", name, (base, default, not_null, tuple(checks)),
                                   position)
        return DomainStatement("alter", name, self.alter_domain_action(), position)

    def at_end(self) -> bool:
        return self.tok.kind == "end" or (self.tok.kind == "punct" and self.tok.text == ";")

    def alter_domain_action(self) -> tuple:
        if self.accept("SET"):
            if self.accept("DEFAULT"):
                action = ("set default", self.text_until())
            elif self.accept("NOT"):
                self.expect("NULL")
                action = ("set not null",)
            elif self.is_word("SCHEMA"):
                raise errors.not_supported("ALTER DOMAIN ... SET SCHEMA")
            else:
                raise self.fail()
        elif self.accept("DROP"):
            if self.accept("DEFAULT"):
                action = ("drop default",)
            elif self.accept("NOT"):
                self.expect("NULL")
                action = ("drop not null",)
            else:
                self.expect("CONSTRAINT")
                if_exists = False
                if self.accept("IF"):
                    self.expect("EXISTS")
                    if_exists = True
                cname = self.name()
                cascade = self.accept("CASCADE", "RESTRICT") == "CASCADE"
                action = ("drop constraint", cname, if_exists, cascade)
        elif self.accept("ADD"):
            cname = self.name() if self.accept("CONSTRAINT") else None
            if self.accept("NOT"):
                self.expect("NULL")
                action = ("set not null",)
            else:
                self.expect("CHECK")
                sql = self.paren_text()
                not_valid = False
                if self.accept("NOT"):
                    self.expect("VALID")
                    not_valid = True
                action = ("add check", cname, sql, not_valid)
        elif self.accept("RENAME"):
            if self.accept("CONSTRAINT"):
                old = self.name()
                self.expect("TO")
                action = ("rename constraint", old, self.name())
            else:
                self.expect("TO")
                action = ("rename", self.name())
        elif self.accept("VALIDATE"):
            self.expect("CONSTRAINT")
            action = ("validate", self.name())
        elif self.is_word("OWNER"):
            raise errors.not_supported("ALTER DOMAIN ... OWNER TO",
                                       hint="Domains belong to the database here.")
        else:
            raise self.fail()
        self.end()
        return action

    # ---- ALTER TYPE (enum types) ---------------------------------------------------------
    def alter_type(self) -> AlterTypeStatement:
        self.expect("ALTER")
        self.expect("TYPE")
        name = self.qualified()
        if self.accept("ADD"):
            if self.accept("ATTRIBUTE"):     # composite types (exec/operators/enum_types.py)
                field = self.name()
                type_sql = self.text_until("CASCADE", "RESTRICT")
                self.accept("CASCADE", "RESTRICT")
                self.end()
                return AlterTypeStatement(name, ("add_attribute", field, type_sql))
            self.expect("VALUE")
            if_not_exists = False
            if self.accept("IF"):
                self.expect("NOT")
                self.expect("EXISTS")
                if_not_exists = True
            label = self.string()
            where = self.accept("BEFORE", "AFTER")
            neighbour = self.string() if where else None
            self.end()
            return AlterTypeStatement(name, ("add", label, where and where.lower(), neighbour,
                                             if_not_exists))
        if self.accept("RENAME"):
            if self.accept("TO"):
                new_name = self.name()
                self.end()
                return AlterTypeStatement(name, ("rename", new_name))
            if self.accept("VALUE"):
                old = self.string()
                self.expect("TO")
                new = self.string()
                self.end()
                return AlterTypeStatement(name, ("rename_value", old, new))
            if self.accept("ATTRIBUTE"):
                old = self.name()
                self.expect("TO")
                new = self.name()
                self.accept("CASCADE", "RESTRICT")
                self.end()
                return AlterTypeStatement(name, ("rename_attribute", old, new))
            raise self.fail()
        if self.accept("DROP"):
            self.expect("ATTRIBUTE")
            if_exists = False
            if self.accept("IF"):
                self.expect("EXISTS")
                if_exists = True
            field = self.name()
            self.accept("CASCADE", "RESTRICT")
            self.end()
            return AlterTypeStatement(name, ("drop_attribute", field, if_exists))
        if self.is_word("OWNER", "SET", "ALTER", "ATTRIBUTE"):
            raise errors.not_supported(f"ALTER TYPE ... {self.tok.text.upper()}")
        raise self.fail()

    # ---- CREATE / ALTER / DROP ROLE ------------------------------------------------------
    def role_statement(self):
        head = self.expect("CREATE", "ALTER", "DROP")
        keyword = self.expect("ROLE", "USER", "GROUP")
        if head == "DROP":
            if_exists = False
            if self.accept("IF"):
                self.expect("EXISTS")
                if_exists = True
            names = self.name_list(self.role_name)
            self.end()
            return RoleStatement("drop", names, keyword, if_exists=if_exists)
        at = self.tok
        if at.kind == "word" and at.text in _RESERVED_ROLES and head == "CREATE":
            raise errors.sql_error("42939", f'role name "{at.text}" is reserved',
                                   position=at.pos)
        if head == "ALTER" and keyword != "GROUP" and at.kind == "word" and \
                at.text == "all" and self.toks[self.i + 1].text in ("set", "reset", "in"):
            self.i += 1
            return self.role_setting(None)
        name = self.role_name()
        if head == "ALTER" and keyword != "GROUP" and self.is_word("SET", "RESET", "IN"):
            return self.role_setting(name)
        if head == "ALTER" and keyword == "GROUP" and self.is_word("ADD", "DROP"):
            add = self.expect("ADD", "DROP") == "ADD"       # ALTER GROUP g ADD USER u, ...
            self.expect("USER")
            members = self.name_list(self.role_name)
            self.end()
            return MembershipStatement(add, [name], members)
        if head == "ALTER" and self.accept("RENAME"):
            self.expect("TO")
            new = self.role_name()
            self.end()
            return RoleStatement("rename", [name], keyword, new_name=new)
        options = self.role_options()
        self.end()
        return RoleStatement(head.lower(), [name], keyword, options=options)

    def role_setting(self, role: str | None) -> RoleSettingStatement:
        start = self.tok.pos
        if self.accept("IN"):
            self.expect("DATABASE")
            raise errors.not_supported("ALTER ROLE ... IN DATABASE",
                                       hint="Settings per role apply in every database "
                                            "here: ALTER ROLE name SET ...")
        if self.accept("RESET"):
            if self.accept("ALL"):
                self.end()
                return RoleSettingStatement(role, None, position=start)
            param = self.setting_name()
            self.end()
            return RoleSettingStatement(role, param, position=start)
        self.expect("SET")
        if self.is_word("TIME") and self.toks[self.i + 1].text == "zone":
            self.i += 2
            param = "timezone"
        else:
            param = self.setting_name()
            if self.accept("FROM"):
                self.expect("CURRENT")
                self.end()
                return RoleSettingStatement(role, param, from_current=True, position=start)
            if not self.punct("="):
                self.expect("TO")
        if self.tok.kind == "end" or (self.tok.kind == "punct" and self.tok.text == ";"):
            raise self.fail()
        value = self.sql[self.tok.pos - 1:].strip().rstrip(";").rstrip()
        self.i = len(self.toks) - 1
        return RoleSettingStatement(role, param, value, position=start)

    def setting_name(self) -> str:
        """A parameter name, ``name`` or ``prefix.name`` (a custom one), lower-cased."""
        name = self.name().lower()
        while self.punct("."):
            name += "." + self.name().lower()
        return name

    def role_options(self) -> dict:
        options: dict = {}
        self.accept("WITH")
        while self.tok.kind == "word":
            tok = self.tok
            word = tok.text.upper()
            self.i += 1
            if word in _FLAGS:
                key, value = _FLAGS[word]
            elif word == "CONNECTION":
                self.expect("LIMIT")
                neg = self.punct("-")
                if self.tok.kind != "num":
                    raise self.fail()
                key, value = "connlimit", -int(self.tok.text) if neg else int(self.tok.text)
                self.i += 1
            elif word in ("ENCRYPTED", "PASSWORD", "UNENCRYPTED"):
                if word == "UNENCRYPTED":
                    raise errors.not_supported("UNENCRYPTED PASSWORD",
                                               hint="Passwords are stored as SCRAM verifiers.")
                if word == "ENCRYPTED":
                    self.expect("PASSWORD")
                key = "password"
                value = None if self.accept("NULL") else self.string()
            elif word == "VALID":
                self.expect("UNTIL")
                key, value = "valid_until", self.string()
            elif word == "IN":
                self.expect("ROLE", "GROUP")
                key, value = "in_role", self.name_list(self.role_name)
            elif word in ("ROLE", "USER"):
                key, value = "role", self.name_list(self.role_name)
            elif word == "ADMIN":
                key, value = "admin", self.name_list(self.role_name)
            elif word == "SYSID":
                if self.tok.kind != "num":
                    raise self.fail()
                self.i += 1
                continue
            else:
                raise self.fail(tok)
            if key in options:
                raise errors.syntax_error("conflicting or redundant options", position=tok.pos)
            options[key] = value
        return options

    # ---- GRANT / REVOKE --------------------------------------------------------------------
    def grant_statement(self):
        start = self.tok.pos
        grant = self.expect("GRANT", "REVOKE") == "GRANT"
        option_for = None
        if not grant and self.is_word("GRANT", "ADMIN") and self.toks[self.i + 1].text == "option":
            option_for = self.expect("GRANT", "ADMIN")
            self.expect("OPTION")
            self.expect("FOR")
        save = self.i
        privileges = self.privileges()
        if privileges is None or not self.is_word("ON"):
            self.i = save           # GRANT role TO role: a membership
            return self.membership(grant, option_for, start)
        if option_for == "ADMIN":
            raise self.fail(self.toks[save - 3])
        self.expect("ON")
        if self.accept("ALL"):
            kind = self.expect("TABLES", "SEQUENCES", "FUNCTIONS", "ROUTINES", "PROCEDURES")
            self.expect("IN")
            self.expect("SCHEMA")
            target = {"TABLES": "all_tables", "SEQUENCES": "all_sequences",
                      "PROCEDURES": "all_procedures"}.get(kind, "all_functions")
            objects = self.name_list(self.name)
        elif self.accept("SCHEMA"):
            target, objects = "schema", self.name_list(self.name)
        elif self.accept("SEQUENCE"):
            target, objects = "sequence", self.name_list(self.qualified)
        elif self.is_word("FUNCTION", "ROUTINE", "PROCEDURE"):
            target = self.expect("FUNCTION", "ROUTINE", "PROCEDURE").lower()
            objects = self.name_list(self.routine)
        else:
            tok = self.tok
            if self.is_word("DATABASE", "DOMAIN", "TYPE", "LANGUAGE", "TABLESPACE", "FOREIGN",
                            "LARGE"):
                raise errors.not_supported(f"GRANT ON {tok.text.upper()}",
                                           hint="Privileges apply to tables, views, "
                                                "sequences, functions and schemas here.")
            self.accept("TABLE")
            target, objects = "table", self.name_list(self.qualified)
        self.expect("TO" if grant else "FROM")
        self.accept("GROUP")
        grantees = self.name_list(lambda: self.role_name(allow_public=True))
        stmt = GrantStatement(grant, [p for p in privileges if isinstance(p, str)], target,
                              objects, grantees, position=start,
                              columns=[p for p in privileges if isinstance(p, tuple)])
        if option_for:
            stmt.grant_option = True
        if grant and self.accept("WITH"):
            self.expect("GRANT")
            self.expect("OPTION")
            stmt.grant_option = True
        if self.accept("GRANTED"):
            self.expect("BY")
            stmt.granted_by = self.role_name()
        if not grant:
            w = self.accept("CASCADE", "RESTRICT")
            stmt.cascade = w == "CASCADE"
        self.end()
        return stmt

    def default_privileges(self) -> DefaultPrivilegesStatement:
        self.expect("ALTER")
        self.expect("DEFAULT")
        self.expect("PRIVILEGES")
        roles: list = []
        schemas: list = []
        while True:
            if self.accept("FOR"):
                self.expect("ROLE", "USER")
                roles += self.name_list(self.role_name)
            elif self.accept("IN"):
                self.expect("SCHEMA")
                schemas += self.name_list(self.name)
            else:
                break
        start = self.tok.pos
        grant = self.expect("GRANT", "REVOKE") == "GRANT"
        option_for = False
        if not grant and self.is_word("GRANT") and self.toks[self.i + 1].text == "option":
            self.expect("GRANT")
            self.expect("OPTION")
            self.expect("FOR")
            option_for = True
        privileges = self.privileges(defaults=True)
        if privileges is None:
            raise self.fail()
        self.expect("ON")
        target = self.expect("TABLES", "SCHEMAS", "SEQUENCES", "FUNCTIONS", "ROUTINES",
                             "TYPES")
        if target == "TYPES":
            raise errors.not_supported("ALTER DEFAULT PRIVILEGES ... ON TYPES",
                                       hint="Types have no privileges here (every role may "
                                            "use every type).")
        if target == "ROUTINES":
            target = "FUNCTIONS"
        self.expect("TO" if grant else "FROM")
        self.accept("GROUP")
        grantees = self.name_list(lambda: self.role_name(allow_public=True))
        change = GrantStatement(grant, privileges, target.lower(), [], grantees,
                                grant_option=option_for, position=start)
        if grant and self.accept("WITH"):
            self.expect("GRANT")
            self.expect("OPTION")
            change.grant_option = True
        if not grant:
            change.cascade = self.accept("CASCADE", "RESTRICT") == "CASCADE"
        self.end()
        return DefaultPrivilegesStatement(roles, schemas, change)

    def privileges(self, defaults: bool = False) -> list | None:
        """The privilege list, or None if what follows GRANT is not one (role names).
        A privilege with a column list is ``(privilege, [column, ...])`` (``ALL`` too);
        ``defaults``: of ALTER DEFAULT PRIVILEGES, where a column list is 0LP01."""
        out = []
        while True:
            tok = self.tok
            if tok.kind == "word" and tok.text.upper() == "ALL" and not out:
                self.i += 1
                self.accept("PRIVILEGES")
                word = "ALL"
            elif tok.kind != "word" or tok.text.upper() not in PRIVILEGES:
                return None
            else:
                self.i += 1
                word = tok.text.upper()
            if self.tok.kind == "punct" and self.tok.text == "(":
                if defaults:
                    raise errors.sql_error("0LP01", "default privileges cannot be set for "
                                                    "columns")
                self.i += 1
                columns = self.name_list(self.name)
                if not self.punct(")"):
                    raise self.fail()
                out.append((word, columns))
            else:
                out.append(word)
            if word == "ALL" or not self.punct(","):
                return out

    def routine(self) -> tuple:
        """``name [( [[mode] [argname] argtype [, ...]] )]``: (the function's key, the
        argument types as written, or None when no list was given). Which words of an
        argument are a name and which its type is the executor's to settle (types are
        known there): each argument is kept as its words."""
        name = self.qualified()
        if not self.punct("("):
            return name, None
        args: list = []
        if self.punct(")"):
            return name, args
        while True:
            start = self.tok
            self.skip_balanced((",", ")"))
            if self.tok is start:
                raise self.fail()
            text = self.sql[start.pos - 1:self.tok.pos - 1].strip()
            args.append(text)
            if self.punct(")"):
                return name, args
            self.punct(",")

    def membership(self, grant: bool, option_for: str | None, start: int):
        roles = self.name_list(self.role_name)
        self.expect("TO" if grant else "FROM")
        self.accept("GROUP")
        members = self.name_list(self.role_name)
        stmt = MembershipStatement(grant, roles, members, position=start)
        if option_for == "GRANT":
            raise errors.syntax_error("syntax error at or near \"GRANT\"", position=start + 7)
        if option_for == "ADMIN":
            stmt.admin_option = True
        if grant and self.accept("WITH"):
            self.expect("ADMIN")
            self.expect("OPTION")
            stmt.admin_option = True
        if self.accept("GRANTED"):
            self.expect("BY")
            stmt.granted_by = self.role_name()
        if not grant:
            self.accept("CASCADE", "RESTRICT")
        self.end()
        return stmt

    # ---- REASSIGN OWNED / DROP OWNED ---------------------------------------------------
    def owned_statement(self) -> "OwnedStatement":
        head = self.expect("REASSIGN", "DROP")
        self.expect("OWNED")
        self.expect("BY")
        roles = self.name_list(self.role_name)
        new_owner = None
        cascade = False
        if head == "REASSIGN":
            self.expect("TO")
            new_owner = self.role_name()
        else:
            cascade = self.accept("CASCADE", "RESTRICT") == "CASCADE"
        self.end()
        return OwnedStatement(head == "DROP", roles, new_owner, cascade)

    # ---- ALTER TABLE / VIEW ... OWNER TO ------------------------------------------------
    def owner_statement(self) -> "OwnerStatement":
        self.expect("ALTER")
        kind = self.expect("TABLE", "VIEW", "SEQUENCE")
        if_exists = False
        if self.accept("IF"):
            self.expect("EXISTS")
            if_exists = True
        self.accept("ONLY")
        name = self.qualified()
        self.expect("OWNER")
        self.expect("TO")
        role = self.role_name()
        self.end()
        return OwnerStatement(kind.lower(), name, role, if_exists)

    def routine_owner(self) -> "OwnerStatement | None":
        """ALTER {FUNCTION | ROUTINE | PROCEDURE} f[(args)] OWNER TO role (pg_dump writes
        one per function); None for any other ALTER FUNCTION."""
        self.expect("ALTER")
        routine = self.expect("FUNCTION", "ROUTINE", "PROCEDURE").lower()
        name, args = self.routine()
        if not self.accept("OWNER"):
            return None
        self.expect("TO")
        role = self.role_name()
        self.end()
        return OwnerStatement("function", name, role, args=args, routine=routine)

    # ---- COMMENT ON ----------------------------------------------------------------------
    def comment_statement(self) -> CommentStatement:
        self.expect("COMMENT")
        self.expect("ON")
        at = self.tok
        what = self.accept("TABLE", "VIEW", "INDEX", "COLUMN")
        if what is None:
            if at.kind == "word":
                raise errors.not_supported(f"COMMENT ON {at.text.upper()}",
                                           hint="Comments can be set on tables, views, "
                                                "indexes and columns.")
            raise self.fail()
        column = None
        if what == "COLUMN":
            parts = [self.name()]
            while self.punct("."):
                parts.append(self.name())
            if len(parts) == 3:
                if parts[0] in SYSTEM:
                    raise errors.sql_error("3F000", f'schema "{parts[0]}" does not exist')
                parts = [qualify(parts[0], parts[1]), parts[2]]
            if len(parts) != 2:
                raise errors.syntax_error("column name must be qualified", position=at.pos)
            name, column = parts
        else:
            name = self.qualified()
        self.expect("IS")
        text = None if self.accept("NULL") else self.string()
        self.end()
        return CommentStatement(what.lower(), name, column, text or None, at.pos)

    # ---- CREATE / DROP / ALTER SCHEMA ----------------------------------------------------
    def schema_statement(self) -> SchemaStatement:
        start = self.tok.pos
        head = self.expect("CREATE", "DROP", "ALTER")
        self.expect("SCHEMA")
        if head == "DROP":
            if_exists = False
            if self.accept("IF"):
                self.expect("EXISTS")
                if_exists = True
            names = self.name_list(self.name)
            cascade = self.accept("CASCADE", "RESTRICT") == "CASCADE"
            self.end()
            return SchemaStatement("drop", names, if_exists, cascade=cascade, position=start)
        if head == "ALTER":
            name = self.name()
            if self.accept("RENAME"):
                raise errors.not_supported("ALTER SCHEMA ... RENAME TO",
                                           hint="Create the new schema and recreate the "
                                                "objects in it.")
            self.expect("OWNER")
            self.expect("TO")
            owner = self.role_name()
            self.end()
            return SchemaStatement("owner", [name], owner=owner, position=start)
        if_not_exists = False
        if self.accept("IF"):
            self.expect("NOT")
            self.expect("EXISTS")
            if_not_exists = True
        name = owner = None
        if not self.is_word("AUTHORIZATION"):
            name = self.name()
        if self.accept("AUTHORIZATION"):
            owner = self.role_name()
        if name is None and owner is None:
            raise self.fail()
        if self.tok.kind == "word" and self.is_word("CREATE", "GRANT"):
            raise errors.not_supported("schema elements in CREATE SCHEMA",
                                       hint="Create the schema, then its objects with "
                                            "qualified names (CREATE TABLE s.t ...).")
        self.end()
        return SchemaStatement("create", [name], if_not_exists, owner=owner, position=start)

    # ---- SET ROLE ------------------------------------------------------------------------
    def set_role(self) -> SetRole:
        self.expect("SET")
        self.accept("SESSION", "LOCAL")
        self.expect("ROLE")
        tok = self.tok
        if tok.kind == "word" and tok.text == "none":
            self.i += 1
            self.end()
            return SetRole(None, tok.pos)
        if tok.kind == "str":
            name = self.string()
        else:
            name = self.name()
        self.end()
        return SetRole(name, tok.pos)
