"""CREATE SEQUENCE and ALTER SEQUENCE read here, not by sqlglot.

sqlglot reads ``NO MINVALUE`` as MINVALUE of a column called ``no``, ``NO CYCLE`` as
CYCLE, drops ``OWNED BY NONE`` and knows no ALTER SEQUENCE options at all, so both
statements are read by this small tokenizer into the option map that
storage/sequence_defs.py ``apply_options`` takes. The result travels as an ``exp.Create``
(in its properties) or ``exp.Alter`` (as its actions) of kind SEQUENCE holding one
``exp.SequenceProperties`` node per option, its args (this=name, value) ours: sqlglot
nodes, so the parse cache can copy them, of a type the clause check lets through.
"""
from __future__ import annotations

import re

from sqlglot import exp

from .. import errors

_TOKEN = re.compile(r'\s*(?:(?P<quoted>"(?:[^"]|"")*")|(?P<number>[+-]?\d+)|(?P<word>[a-z_][\w$]*)'
                    r'|(?P<dot>\.))', re.I | re.S)
_NAME = r'(?:"(?:[^"]|"")+"|[a-z_][\w$]*)'
CREATE = re.compile(rf"(?is)^\s*create\s+(?P<temp>(?:temp|temporary)\s+)?sequence\s+"
                    rf"(?P<exists>if\s+not\s+exists\s+)?(?:(?P<schema>{_NAME})\s*\.\s*)?"
                    rf"(?P<name>{_NAME})(?P<rest>(?:\s.*?)?)\s*;?\s*$")
ALTER = re.compile(rf"(?is)^\s*alter\s+sequence\s+(?P<exists>if\s+exists\s+)?"
                   rf"(?:(?P<schema>{_NAME})\s*\.\s*)?(?P<name>{_NAME})"
                   rf"(?P<rest>(?:\s.*?)?)\s*;?\s*$")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].split()[0] if text[pos:].split() else text[pos:]
            raise errors.syntax_error(f'syntax error at or near "{bad}"')
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "quoted":
            value = value[1:-1].replace('""', '"')
        elif kind == "word":
            value = value.lower()
        out.append((kind, value))
        pos = m.end()
    return out


class _Reader:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, *words: str) -> bool:
        return self.i < len(self.toks) and self.toks[self.i] in [("word", w) for w in words]

    def take(self, *words: str) -> bool:
        if self.peek(*words):
            self.i += 1
            return True
        return False

    def fail(self):
        if self.i >= len(self.toks):
            return errors.syntax_error("syntax error at end of input")
        return errors.syntax_error(f'syntax error at or near "{self.toks[self.i][1]}"')

    def number(self) -> int:
        if self.i < len(self.toks) and self.toks[self.i][0] == "number":
            self.i += 1
            return int(self.toks[self.i - 1][1])
        raise self.fail()

    def name(self) -> str:
        if self.i < len(self.toks) and self.toks[self.i][0] in ("word", "quoted"):
            self.i += 1
            return self.toks[self.i - 1][1]
        raise self.fail()

    def done(self) -> bool:
        return self.i >= len(self.toks)


def read_options(text: str, alter: bool) -> dict:
    """The options of CREATE/ALTER SEQUENCE after the name, as ``apply_options`` takes
    them; ALTER also reads RESTART [[WITH] n], RENAME TO, OWNER TO and SET SCHEMA (kept
    as ``rename`` / ``owner`` / ``schema``). 42601 for an option given twice."""
    r = _Reader(text)
    opts: dict = {}

    def put(key: str, value) -> None:
        if key in opts:
            raise errors.syntax_error("conflicting or redundant options")
        opts[key] = value

    while not r.done():
        if r.take("as"):
            put("as", r.name())
        elif r.take("increment"):
            r.take("by")
            put("increment", r.number())
        elif r.take("minvalue"):
            put("minvalue", r.number())
        elif r.take("maxvalue"):
            put("maxvalue", r.number())
        elif r.take("no"):
            if r.take("minvalue"):
                put("minvalue", None)
            elif r.take("maxvalue"):
                put("maxvalue", None)
            elif r.take("cycle"):
                put("cycle", False)
            else:
                raise r.fail()
        elif r.take("start"):
            r.take("with")
            put("start", r.number())
        elif r.take("cache"):
            put("cache", r.number())
        elif r.take("cycle"):
            put("cycle", True)
        elif r.take("owned"):
            if not r.take("by"):
                raise r.fail()
            parts = [r.name()]
            while r.i < len(r.toks) and r.toks[r.i][0] == "dot":
                r.i += 1
                parts.append(r.name())
            if parts == ["none"] and r.toks[r.i - 1][0] == "word":
                put("owned_by", None)
            elif len(parts) < 2:
                raise errors.sql_error("42601", "invalid OWNED BY option",
                                       hint="Specify OWNED BY table.column or OWNED BY NONE.")
            else:
                put("owned_by", tuple(parts))
        elif alter and r.take("restart"):
            r.take("with")
            put("restart", r.number() if r.i < len(r.toks) and r.toks[r.i][0] == "number"
                else None)
        elif alter and not opts and r.take("rename"):
            if not r.take("to"):
                raise r.fail()
            put("rename", r.name())
        elif alter and not opts and r.take("owner"):
            if not r.take("to"):
                raise r.fail()
            put("owner", r.name())
        elif alter and not opts and r.take("set"):
            if r.take("schema"):
                put("schema", r.name())
            elif r.take("logged", "unlogged"):
                put("logged", True)
            else:
                raise r.fail()
        else:
            raise r.fail()
    if alter and not opts:
        raise r.fail()
    return opts


def _identifier(name: str) -> exp.Identifier:
    if name.startswith('"'):
        return exp.to_identifier(name[1:-1].replace('""', '"'), quoted=True)
    return exp.to_identifier(name.lower())


def _value(v) -> exp.Expression:
    if v is None:
        return exp.Null()
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, int):
        return exp.Literal.number(v)
    if isinstance(v, tuple):
        return exp.Tuple(expressions=[exp.Literal.string(p) for p in v])
    return exp.Literal.string(v)


def options_of(node: exp.Expression) -> dict:
    """The option map a node made by ``statement`` carries."""
    out = {}
    props = node.args.get("properties")
    items = props.expressions if props is not None else node.args.get("actions") or []
    if isinstance(node, exp.SequenceProperties):     # alter_identity's action
        items = node.expressions
    for prop in items:
        v = prop.args["value"]
        if isinstance(v, exp.Null):
            out[prop.name] = None
        elif isinstance(v, exp.Boolean):
            out[prop.name] = v.this
        elif isinstance(v, exp.Neg):         # Literal.number(-5) is Neg(5)
            out[prop.name] = -int(v.this.this)
        elif isinstance(v, exp.Tuple):
            out[prop.name] = tuple(p.this for p in v.expressions)
        elif v.is_string:
            out[prop.name] = v.this
        else:
            out[prop.name] = int(v.this)
    return out


def statement(sql: str) -> exp.Expression | None:
    """CREATE SEQUENCE / ALTER SEQUENCE as an ``exp.Create`` / ``exp.Alter`` of kind
    SEQUENCE, or None when ``sql`` is neither."""
    m = CREATE.match(sql)
    alter = False
    if m is None:
        m = ALTER.match(sql)
        alter = True
        if m is None:
            return None
    elif m.group("temp"):
        raise errors.not_supported("CREATE TEMPORARY SEQUENCE")
    opts = read_options(m.group("rest"), alter)
    schema = m.group("schema")
    table = exp.Table(this=_identifier(m.group("name")),
                      db=_identifier(schema) if schema else None)
    props = [exp.SequenceProperties(this=exp.var(k), value=_value(v)) for k, v in opts.items()]
    if alter:
        return exp.Alter(this=table, kind="SEQUENCE", exists=bool(m.group("exists")),
                         actions=props)
    return exp.Create(this=table, kind="SEQUENCE", exists=bool(m.group("exists")),
                      properties=exp.Properties(expressions=props))


# ---- identity columns ------------------------------------------------------------------

_IDENTITY_LIST = re.compile(r"(?is)\bas\s+identity\s*\(([^()]*)\)")
_ALTER_IDENTITY = re.compile(
    rf"(?is)^\s*alter\s+table\s+(?P<exists>if\s+exists\s+)?(?:only\s+)?"
    rf"(?:(?P<schema>{_NAME})\s*\.\s*)?(?P<name>{_NAME})\s+alter\s+(?:column\s+)?"
    rf"(?P<column>{_NAME})\s+(?P<rest>(?:add\s+generated|set\s+generated|restart|drop\s+identity"
    rf"|set\s+(?:increment|start|minvalue|maxvalue|no|cycle|cache)\b).*?)\s*;?\s*$")
_IDENTITY_OPTIONS = ("start", "increment", "minvalue", "maxvalue", "cycle", "cache")


def identity_lists(sql: str) -> str:
    """``AS IDENTITY (options)`` as sqlglot reads it: START WITH, INCREMENT BY, MINVALUE,
    MAXVALUE and CYCLE in that order; NO MINVALUE / NO MAXVALUE / NO CYCLE are the
    defaults they name, and CACHE (how many values a backend reserves) changes nothing
    here, so both are left out."""
    def one(m: re.Match) -> str:
        opts = _identity_options(m.group(1))
        words = []
        for key, text in (("start", "START WITH"), ("increment", "INCREMENT BY"),
                          ("minvalue", "MINVALUE"), ("maxvalue", "MAXVALUE")):
            if opts.get(key) is not None:
                words.append(f"{text} {opts[key]}")
        if opts.get("cycle"):
            words.append("CYCLE")
        return "AS IDENTITY" + (" (" + " ".join(words) + ")" if words else "")
    return _IDENTITY_LIST.sub(one, sql)


def _identity_options(text: str) -> dict:
    if re.search(r"(?is)\bsequence\s+name\b", text):
        raise errors.not_supported("SEQUENCE NAME in identity options",
                                   hint="The sequence is named table_column_seq.")
    opts = read_options(text, alter=False)
    bad = [k for k in opts if k not in _IDENTITY_OPTIONS]
    if bad:
        raise errors.syntax_error(f'syntax error at or near "{bad[0].upper().replace("_", " ")}"')
    return opts


def alter_identity(sql: str) -> exp.Expression | None:
    """ALTER TABLE t ALTER [COLUMN] c ADD GENERATED ... AS IDENTITY [(options)] / SET
    GENERATED ... / SET option / RESTART [[WITH] n] / DROP IDENTITY [IF EXISTS], which
    sqlglot cannot read: an ``exp.Alter`` whose one action is an
    ``exp.SequenceProperties`` with this=identity, the column, and the change as options
    (``add`` / ``generated``: "always" | "by default"; ``drop``: "if exists" | ""; and
    sequence options). None when ``sql`` is no such statement."""
    m = _ALTER_IDENTITY.match(sql)
    if m is None:
        return None
    rest = m.group("rest")
    opts: dict = {}
    add = re.match(r"(?is)^add\s+generated\s+(always|by\s+default)\s+as\s+identity\s*"
                   r"(?:\((?P<list>[^()]*)\))?$", rest)
    drop = re.match(r"(?is)^drop\s+identity(\s+if\s+exists)?$", rest)
    if add is not None:
        opts = _identity_options(add.group("list") or "")
        opts["add"] = " ".join(add.group(1).lower().split())
    elif drop is not None:
        opts["drop"] = "if exists" if drop.group(1) else ""
    else:
        def generated(g: re.Match) -> str:
            if "generated" in opts:
                raise errors.syntax_error("conflicting or redundant options")
            opts["generated"] = " ".join(g.group(1).lower().split())
            return " "
        rest = re.sub(r"(?is)\bset\s+generated\s+(always|by\s+default)\b", generated, rest)
        rest = re.sub(r"(?is)\bset\s+", " ", rest)
        seq = read_options(rest, alter=True) if rest.strip() else {}
        bad = [k for k in seq if k not in _IDENTITY_OPTIONS + ("restart",)]
        if bad:
            raise errors.syntax_error(f'syntax error at or near "{bad[0].upper()}"')
        opts.update(seq)
    schema = m.group("schema")
    table = exp.Table(this=_identifier(m.group("name")),
                      db=_identifier(schema) if schema else None)
    action = exp.SequenceProperties(
        this=exp.var("identity"), column=_identifier(m.group("column")),
        expressions=[exp.SequenceProperties(this=exp.var(k), value=_value(v))
                     for k, v in opts.items()])
    return exp.Alter(this=table, kind="TABLE", exists=bool(m.group("exists")),
                     actions=[action])
