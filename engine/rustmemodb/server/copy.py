"""COPY ... FROM STDIN / TO STDOUT over the wire: the statement, the data formats, the flow.

The engine runs ``COPY`` to and from files itself (sql/bind/bind_files.py); only the
wire protocol can stream data from and to the client, so the server handles the
STDIN/STDOUT forms here:

* ``parse_copy`` reads the statement (both PostgreSQL's option list ``WITH (FORMAT
  csv, HEADER, ...)`` and the pre-9.0 keywords psql users still type: ``CSV HEADER
  DELIMITER ';'``); statements naming a file return None and go to the engine.
* ``TextDecoder`` / ``CsvDecoder`` / ``BinaryDecoder`` turn CopyData bytes, split
  anywhere, into rows of field texts (or binary values), counting lines as
  PostgreSQL does so that an error names the line (``CONTEXT: COPY t, line 3,
  column a: "x"``).
* ``copy_in`` / ``copy_out`` speak the sub-protocol (CopyInResponse, CopyData,
  CopyDone, CopyFail; CopyOutResponse) for a ``ClientSession``.

COPY FROM is atomic: rows are inserted in chunks (bounded memory per connection)
inside one transaction, the caller's or one opened for the COPY; a bad row or a
CopyFail rolls every chunk back (inside an explicit transaction the transaction is
failed, as in PostgreSQL). Nothing read is evaluated: values are parsed by the
engine's text readers and inserted with one INSERT ... SELECT per chunk.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from .. import errors, types
from ..storage.namespaces import qualify
from ..exec.files import split_text, unescape_text
from . import messages as m
from . import pgnet, pgtypes

CHUNK_ROWS = 20_000            # rows converted and inserted at a time
OUT_FLUSH = 256 << 10          # bytes of CopyData buffered before waiting for the socket
_BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


# ---- the statement ------------------------------------------------------------------------

@dataclass
class CopySpec:
    direction: str                       # "in" (FROM STDIN) or "out" (TO STDOUT)
    table: str | None = None
    columns: list[str] | None = None
    query: str | None = None             # COPY (query) TO STDOUT
    format: str = "text"
    header: bool | str = False           # True, False or "match"
    delimiter: str | None = None
    null: str | None = None
    quote: str | None = None
    escape: str | None = None
    force_quote: list[str] | str | None = None     # column names or "*"
    force_not_null: list[str] = field(default_factory=list)
    force_null: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.table or "query"


_TOKEN = re.compile(r"""
    (?P<ws>\s+|--[^\n]*|/\*.*?\*/)
  | (?P<qident>"(?:[^"]|"")*")
  | (?P<estr>[eE]'(?:[^'\\]|\\.|'')*')
  | (?P<str>'(?:[^']|'')*')
  | (?P<dollar>\$(?P<tag>[A-Za-z_]\w*)?\$.*?\$(?P=tag)?\$)
  | (?P<word>[A-Za-z_][\w$]*)
  | (?P<num>[+-]?\d+(?:\.\d*)?)
  | (?P<punct>[(),.;*])
  | (?P<other>.)
""", re.S | re.X)


@dataclass
class _Tok:
    kind: str
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def _tokens(sql: str) -> list[_Tok]:
    out = []
    for mt in _TOKEN.finditer(sql):
        kind = mt.lastgroup if mt.lastgroup != "tag" else "dollar"
        if kind == "ws":
            continue
        out.append(_Tok(kind, mt.group(), mt.start(), mt.end()))
    return out


def _string_value(tok: _Tok) -> str:
    if tok.kind == "str":
        return tok.text[1:-1].replace("''", "'")
    if tok.kind == "estr":
        body = tok.text[2:-1].replace("''", "'")
        return unescape_text(body)
    raise errors.syntax_error(f'syntax error at or near "{tok.text}"', position=tok.start)


def _ident(tok: _Tok) -> str:
    if tok.kind == "qident":
        return tok.text[1:-1].replace('""', '"')
    if tok.kind == "word":
        return tok.text.lower()
    raise errors.syntax_error(f'syntax error at or near "{tok.text}"', position=tok.start)


class _Parser:
    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.toks = _tokens(sql)
        self.i = 0

    def peek(self, k: int = 0) -> _Tok | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def next(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise errors.syntax_error("syntax error at end of input", position=len(self.sql))
        self.i += 1
        return tok

    def accept(self, *words: str) -> bool:
        tok = self.peek()
        if tok is not None and (tok.upper in words or (tok.kind == "punct" and tok.text in words)):
            self.i += 1
            return True
        return False

    def expect(self, *words: str) -> _Tok:
        tok = self.next()
        if tok.upper in words or (tok.kind == "punct" and tok.text in words):
            return tok
        raise errors.syntax_error(f'syntax error at or near "{tok.text}"', position=tok.start)

    def ident_list(self) -> list[str]:
        names = [_ident(self.next())]
        while self.accept(","):
            names.append(_ident(self.next()))
        self.expect(")")
        return names


def parse_copy(sql: str) -> CopySpec | None:
    """The COPY statement ``sql`` if it reads STDIN or writes STDOUT, else None."""
    if not sql.lstrip()[:4].upper() == "COPY":
        return None
    p = _Parser(sql)
    if p.peek() is None or p.peek().upper != "COPY":
        return None
    p.next()
    table = query = None
    columns = None
    if p.accept("("):
        start, depth = p.peek().start if p.peek() else len(sql), 1
        while True:
            tok = p.next()
            if tok.kind == "punct" and tok.text == "(":
                depth += 1
            elif tok.kind == "punct" and tok.text == ")":
                depth -= 1
                if depth == 0:
                    query = sql[start:tok.start]
                    break
    else:
        parts = [_ident(p.next())]
        while p.accept("."):
            parts.append(_ident(p.next()))
        if len(parts) > 1 and parts[-2] in ("pg_catalog", "information_schema"):
            raise errors.sql_error("3F000", f'schema "{parts[-2]}" does not exist')
        # s.t: the table's catalog key (storage/namespaces.py), checked where it is used
        table = qualify(parts[-2], parts[-1]) if len(parts) > 1 else parts[-1]
        if p.accept("("):
            columns = p.ident_list()
    way = p.next()
    if way.upper not in ("FROM", "TO"):
        raise errors.syntax_error(f'syntax error at or near "{way.text}"', position=way.start)
    end = p.peek()
    if end is None or end.upper not in ("STDIN", "STDOUT"):
        return None                             # a file or PROGRAM: the engine's business
    p.next()
    direction = "in" if way.upper == "FROM" else "out"
    if (direction == "in") != (end.upper == "STDIN"):
        raise errors.syntax_error(f'syntax error at or near "{end.text}"', position=end.start)
    if query is not None and direction == "in":
        raise errors.syntax_error("COPY (query) FROM is not allowed", position=way.start)
    spec = CopySpec(direction, table, columns, query)
    p.accept("WITH")
    if p.accept("("):
        _options_list(p, spec)
    else:
        _legacy_options(p, spec)
    tail = p.peek()
    if tail is not None and tail.upper == "WHERE":
        raise errors.not_supported("COPY FROM ... WHERE", position=tail.start)
    p.accept(";")
    if p.peek() is not None:
        tok = p.peek()
        raise errors.syntax_error(f'syntax error at or near "{tok.text}"', position=tok.start)
    _check(spec)
    return spec


def _option_value(p: _Parser) -> Any:
    tok = p.peek()
    if tok is None or (tok.kind == "punct" and tok.text in ",)"):
        return None
    if tok.kind == "punct" and tok.text == "(":
        p.next()
        return p.ident_list()
    p.next()
    if tok.kind in ("str", "estr"):
        return _string_value(tok)
    if tok.kind == "punct" and tok.text == "*":
        return "*"
    return tok.text.lower()


def _boolean(name: str, value: Any, allow_match: bool = False) -> bool | str:
    if value is None:
        return True
    text = str(value).lower()
    if text in ("true", "on", "1", "t", "yes"):
        return True
    if text in ("false", "off", "0", "f", "no"):
        return False
    if allow_match and text == "match":
        return "match"
    raise errors.sql_error("22023", f"{name} requires a Boolean value"
                           + (' or "match"' if allow_match else ""))


def _options_list(p: _Parser, spec: CopySpec) -> None:
    seen = set()
    while True:
        tok = p.next()
        name = _ident(tok)
        value = _option_value(p)
        if name in seen:
            raise errors.syntax_error("conflicting or redundant options", position=tok.start)
        seen.add(name)
        _set_option(spec, name, value, tok)
        if p.accept(")"):
            return
        p.expect(",")


def _set_option(spec: CopySpec, name: str, value: Any, tok: _Tok) -> None:
    if name == "format":
        if value not in ("text", "csv", "binary"):
            raise errors.sql_error("22023", f'COPY format "{value}" not recognized')
        spec.format = value
    elif name == "header":
        spec.header = _boolean("header", value, allow_match=True)
    elif name in ("delimiter", "null", "quote", "escape"):
        if not isinstance(value, str):
            raise errors.syntax_error(f"COPY option {name.upper()} needs a string",
                                      position=tok.start)
        setattr(spec, name, value)
    elif name == "force_quote":
        spec.force_quote = value
    elif name == "force_not_null":
        spec.force_not_null = list(value or [])
    elif name == "force_null":
        spec.force_null = list(value or [])
    elif name == "encoding":
        if str(value).replace("-", "").upper() not in ("UTF8", "UNICODE", "SQL_ASCII"):
            raise errors.not_supported(f'COPY encoding "{value}" (the server speaks UTF8)')
    elif name == "freeze":
        _boolean("freeze", value)
    else:
        raise errors.syntax_error(f'option "{name}" not recognized', position=tok.start)


def _legacy_options(p: _Parser, spec: CopySpec) -> None:
    """The options PostgreSQL accepted before 9.0 and psql's \\copy passes on."""
    while True:
        tok = p.peek()
        if tok is None or tok.kind != "word" or tok.upper == "WHERE":
            return
        p.next()
        word = tok.upper
        if word == "BINARY":
            spec.format = "binary"
        elif word == "CSV":
            spec.format = "csv"
        elif word == "HEADER":
            spec.header = True
        elif word in ("DELIMITER", "NULL", "QUOTE", "ESCAPE", "ENCODING"):
            p.accept("AS")
            value = _string_value(p.next())
            _set_option(spec, word.lower(), value, tok)
        elif word == "FORCE":
            if p.accept("QUOTE"):
                spec.force_quote = "*" if p.accept("*") else _bare_idents(p)
            elif p.accept("NOT"):
                p.expect("NULL")
                spec.force_not_null = _bare_idents(p)
            else:
                p.expect("NULL")
                spec.force_null = _bare_idents(p)
        else:
            raise errors.syntax_error(f'syntax error at or near "{tok.text}"', position=tok.start)


def _bare_idents(p: _Parser) -> list[str]:
    names = [_ident(p.next())]
    while p.accept(","):
        names.append(_ident(p.next()))
    return names


def _check(spec: CopySpec) -> None:
    csv = spec.format == "csv"
    if spec.format == "binary":
        if spec.delimiter is not None or spec.null is not None or spec.header:
            raise errors.syntax_error("cannot specify DELIMITER, NULL or HEADER in BINARY mode")
    if spec.delimiter is None:
        spec.delimiter = "," if csv else "\t"
    if spec.null is None:
        spec.null = "" if csv else "\\N"
    if len(spec.delimiter.encode()) != 1:
        raise errors.sql_error("0A000", "COPY delimiter must be a single one-byte character")
    if spec.delimiter in "\r\n":
        raise errors.sql_error("22023", "COPY delimiter cannot be newline or carriage return")
    if "\r" in spec.null or "\n" in spec.null:
        raise errors.sql_error("22023", "COPY null representation cannot use newline or "
                                        "carriage return")
    if not csv and (spec.quote is not None or spec.escape is not None or spec.force_quote
                    or spec.force_not_null or spec.force_null):
        raise errors.sql_error("0A000", "COPY quote, escape and force options are available "
                                        "only in CSV mode")
    if csv:
        if spec.quote is None:
            spec.quote = '"'
        if len(spec.quote.encode()) != 1:
            raise errors.sql_error("0A000", "COPY quote must be a single one-byte character")
        if spec.escape is None:
            spec.escape = spec.quote
        if len(spec.escape.encode()) != 1:
            raise errors.sql_error("0A000", "COPY escape must be a single one-byte character")
        if spec.delimiter == spec.quote:
            raise errors.sql_error("22023", "COPY delimiter and quote must be different")
        if spec.quote in spec.null or spec.delimiter in spec.null:
            raise errors.sql_error("22023", "CSV quote character must not appear in the NULL "
                                            "specification")
    elif spec.delimiter == "\\" or (spec.delimiter.isalnum() and spec.delimiter.isascii()):
        raise errors.sql_error("22023", f'COPY delimiter cannot be "{spec.delimiter}"')
    if spec.direction == "out" and (spec.force_not_null or spec.force_null):
        raise errors.sql_error("0A000", "COPY force not null and force null only available "
                                        "using COPY FROM")
    if spec.direction == "in" and spec.force_quote:
        raise errors.sql_error("0A000", "COPY force quote only available using COPY TO")
    if spec.direction == "out" and spec.header == "match":
        raise errors.sql_error("0A000", 'cannot use "match" with HEADER in COPY TO')


# ---- decoding CopyData -------------------------------------------------------------------

class DataError(Exception):
    """A malformed line: message, SQLSTATE and the line it was found on."""

    def __init__(self, sqlstate: str, message: str, line: int, text: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate, self.message, self.line, self.text = sqlstate, message, line, text


class _LineDecoder:
    """Bytes split anywhere -> complete lines, numbered from 1 (shared by text and CSV)."""

    def __init__(self, spec: CopySpec, names: list[str]) -> None:
        self.spec = spec
        self.names = names
        self.ncols = len(names)
        self.buf = b""
        self.line = 0
        self.ended = False             # the end-of-data marker \. was seen
        self.header_pending = bool(spec.header)

    def feed(self, data: bytes) -> list:
        if self.ended:
            return []
        self.buf += data
        cut = self.buf.rfind(b"\n")
        if cut < 0:
            return []
        chunk, self.buf = self.buf[:cut + 1], self.buf[cut + 1:]
        return self._lines(chunk.split(b"\n")[:-1])

    def finish(self) -> list:
        rows = []
        if self.buf and not self.ended:
            rows = self._lines([self.buf])
        self.buf = b""
        return rows + self._end()

    def _end(self) -> list:
        return []

    def _lines(self, raw_lines: list[bytes]) -> list:
        rows = []
        for raw in raw_lines:
            if self.ended:
                break
            self.line += 1
            if raw.endswith(b"\r"):
                raw = raw[:-1]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DataError("22021", 'invalid byte sequence for encoding "UTF8"',
                                self.line) from None
            row = self._line(text)
            if row is not None:
                rows.append((self.line, row))
        return rows

    def _line(self, text: str):
        raise NotImplementedError

    def _header(self, fields: list, names: list[str] | None) -> None:
        self.header_pending = False
        if self.spec.header == "match" and names is not None:
            got = [f if f is not None else "" for f in fields]
            if len(got) != len(names):
                raise DataError("22P04", "wrong number of fields in header line: field count "
                                         f"is {len(got)}, expected {len(names)}", self.line)
            for g, want in zip(got, names):
                if g != want:
                    raise DataError("22P04", f'column name mismatch in header line field: '
                                             f'got "{g}", expected "{want}"', self.line)

    def _count(self, fields: list, text: str) -> None:
        if len(fields) > self.ncols:
            raise DataError("22P04", "extra data after last expected column", self.line, text)
        if len(fields) < self.ncols:
            raise DataError("22P04", f'missing data for column "{self.names[len(fields)]}"',
                            self.line, text)


class TextDecoder(_LineDecoder):
    def _line(self, text: str):
        if text == "\\.":
            self.ended = True
            return None
        spec = self.spec
        fields = split_text(text, spec.delimiter)
        out = [None if f == spec.null else unescape_text(f) for f in fields]
        if self.header_pending:
            self._header(out, self.names)
            return None
        if self.ncols == 0 and out == [""]:
            return []
        self._count(out, text)
        return out


class CsvDecoder(_LineDecoder):
    """CSV as PostgreSQL reads it: a quoted value may span lines and is never NULL (unless
    FORCE_NULL); an unquoted value equal to the NULL string is NULL (unless FORCE_NOT_NULL)."""
    def __init__(self, spec: CopySpec, names: list[str]) -> None:
        super().__init__(spec, names)
        self.pending: tuple | None = None    # a record whose quoted value continues
        self.start_line = 0
        self.force_not_null: set[int] = set()
        self.force_null: set[int] = set()

    def _line(self, text: str):
        spec = self.spec
        if self.pending is None:
            if text == "\\.":
                self.ended = True
                return None
            self.start_line = self.line
            if spec.quote not in text:
                fields = [(f, False) for f in text.split(spec.delimiter)]
                return self._record(fields, text)
            state = ([], [], True, False)      # fields, current chars, at field start, quoted
            return self._scan(text, state)
        fields, cur, _, quoted = self.pending
        cur.append("\n")
        self.pending = None
        return self._scan(text, (fields, cur, False, quoted), in_quote=True)

    def _scan(self, text: str, state, in_quote: bool = False):
        spec = self.spec
        q, esc, delim = spec.quote, spec.escape, spec.delimiter
        fields, cur, at_start, quoted = state
        i, n = 0, len(text)
        while i < n:
            ch = text[i]
            if in_quote:
                if ch == esc and i + 1 < n and text[i + 1] in (q, esc):
                    cur.append(text[i + 1])      # "" (or the ESCAPE before a quote)
                    i += 2
                    continue
                if ch == q:
                    in_quote = False
                    i += 1
                    continue
                cur.append(ch)
                i += 1
                continue
            if ch == delim:
                fields.append(("".join(cur), quoted))
                cur, quoted = [], False
                i += 1
                continue
            if ch == q:
                in_quote = True
                quoted = True
                i += 1
                continue
            cur.append(ch)
            i += 1
        if in_quote:
            self.pending = (fields, cur, False, quoted)
            return None
        fields.append(("".join(cur), quoted))
        return self._record(fields, text)

    def _record(self, fields: list, text: str):
        null = self.spec.null
        out = []
        for k, (value, quoted) in enumerate(fields):
            if (not quoted and value == null and k not in self.force_not_null) or \
                    (k in self.force_null and value == null):
                out.append(None)
            else:
                out.append(value)
        if self.header_pending:
            self._header(out, self.names)
            return None
        self._count(out, text)
        return out

    def _end(self) -> list:
        if self.pending is not None:
            raise DataError("22P04", "unterminated CSV quoted field", self.start_line)
        return []


class BinaryDecoder:
    """PostgreSQL's binary COPY format: signature, flags, extension, then tuples of
    (length, bytes) fields and a -1 trailer. Values are decoded by the columns' OIDs."""

    def __init__(self, spec: CopySpec, ncols: int, oids: list[int]) -> None:
        self.ncols = ncols
        self.oids = oids
        self.buf = bytearray()
        self.pos = 0
        self.header_done = False
        self.ended = False
        self.line = 0

    def feed(self, data: bytes) -> list:
        if self.ended:
            return []
        self.buf += data
        rows: list = []
        while not self.ended:
            row = self._next()
            if row is None:
                break
            rows.append(row)
        if self.pos > 1 << 16:
            del self.buf[:self.pos]
            self.pos = 0
        return rows

    def _take(self, n: int) -> bytes | None:
        if self.pos + n > len(self.buf):
            return None
        out = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return out

    def _next(self):
        start = self.pos
        if not self.header_done:
            head = self._take(19)
            if head is None:
                self.pos = start
                return None
            if head[:11] != _BINARY_SIGNATURE:
                raise DataError("22P04", "COPY file signature not recognized", 0)
            ext = struct.unpack("!i", head[15:19])[0]
            if ext < 0 or self._take(ext) is None:
                self.pos = start
                if ext < 0:
                    raise DataError("22P04", "invalid COPY file header (wrong length)", 0)
                return None
            self.header_done = True
            start = self.pos
        count = self._take(2)
        if count is None:
            self.pos = start
            return None
        n = struct.unpack("!h", count)[0]
        if n == -1:
            self.ended = True
            return None
        self.line += 1
        if n != self.ncols:
            raise DataError("22P04", f"row field count is {n}, expected {self.ncols}", self.line)
        row = []
        for k in range(n):
            size_b = self._take(4)
            if size_b is None:
                self.pos = start
                self.line -= 1
                return None
            size = struct.unpack("!i", size_b)[0]
            if size == -1:
                row.append(None)
                continue
            if size < 0:
                raise DataError("22P04", "invalid field size", self.line)
            data = self._take(size)
            if data is None:
                self.pos = start
                self.line -= 1
                return None
            row.append(data)
        return self.line, row

    def finish(self) -> list:
        if self.pos < len(self.buf) and not self.ended:
            raise DataError("22P04", "unexpected EOF in COPY data", self.line + 1)
        if not self.header_done and not self.buf:
            return []
        return []


# ---- values -------------------------------------------------------------------------------

_DIRECT = (types.INTEGER, types.FLOAT, types.BOOLEAN, types.DATE, types.TIMESTAMP)


class RowConverter:
    """Rows of field texts -> typed Arrow columns, naming line and column on a bad value."""

    def __init__(self, label: str, columns: list[tuple[str, str]], binary: bool,
                 oids: list[int] | None = None) -> None:
        from ..exec.functions.cast import from_text
        self.label = label
        self.columns = columns
        self.binary = binary
        self.from_text = from_text
        # binary values are read by the column's wire type (an int4 column's in 4 bytes)
        self.oids = [(oids[k] if oids else pgtypes.oid_of(t)) if not types.is_array(t) else 0
                     for k, (_, t) in enumerate(columns)]

    def convert(self, rows: list[tuple[int, list]]) -> pa.Table:
        arrays = []
        for k, (name, t) in enumerate(self.columns):
            values = []
            append = values.append
            direct = t in _DIRECT
            for line, row in rows:
                v = row[k]
                if v is None:
                    append(None)
                    continue
                try:
                    if self.binary:
                        v = self._binary(v, t, k)
                        if not direct and not isinstance(v, str):
                            v = _text_form(v, t)
                    elif t == types.TEXT:
                        v = types.check_text(v)
                    elif direct:
                        v = self.from_text(v, t)
                    else:
                        self.from_text(v, t)       # validated here, cast by the INSERT
                except errors.Error as exc:
                    raise _at(exc, self.label, line, name, row[k]) from None
                append(v)
            arrays.append(pa.array(values, types.arrow_type(t) if direct or t == types.TEXT
                                   else pa.large_string()))
        return pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(len(self.columns))])

    def _binary(self, data: bytes, t: str, k: int):
        if types.is_array(t):
            raise errors.not_supported("binary COPY of array columns")
        if len(data) != _INT_SIZES.get(self.oids[k], len(data)):
            # int2/int4/int8 are sent in exactly 2/4/8 bytes (an int4 column's in 4)
            raise errors.sql_error("22P03", "incorrect binary data format")
        value = pgtypes.decode_param(data, 1, self.oids[k], t, k)
        if t == types.INTEGER and isinstance(value, int):
            return types.check_int(value)
        if t == types.FLOAT and isinstance(value, int):
            return float(value)
        if t == types.UUID:
            return str(value)
        if t == types.TEXT:
            return types.check_text(value)
        if t in types.NETWORK_TYPES:
            return pgnet.storage_value(value, t)
        if t == types.MONEY and isinstance(value, str):
            return types.money.parse(value)
        if t == types.TIMETZ and not isinstance(value, int):
            return types.timetz.of_python(value)
        return value


_INT_SIZES = {pgtypes.INT2: 2, pgtypes.INT4: 4, pgtypes.INT8: 8}


def _text_form(v, t: str) -> str:
    return pgtypes.text_encoder(t)(v).decode()


def _at(exc: errors.Error, label: str, line: int, column: str | None, value) -> errors.Error:
    where = f"COPY {label}, line {line}"
    if column is not None:
        shown = value if isinstance(value, str) else None
        where += f", column {column}" + (f': "{shown}"' if shown is not None else "")
    elif isinstance(value, str):
        where += f': "{value}"'
    exc.where = where
    return exc


# ---- the sub-protocol ----------------------------------------------------------------------

def copy_in_response(fmt: int, ncols: int) -> bytes:
    return m.frame(b"G", struct.pack("!bh", fmt, ncols) + struct.pack("!h", fmt) * ncols)


def copy_out_response(fmt: int, ncols: int) -> bytes:
    return m.frame(b"H", struct.pack("!bh", fmt, ncols) + struct.pack("!h", fmt) * ncols)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _stored_columns(conn, table: str) -> list:
    """Without a column list, COPY FROM fills every column but the generated ones (as
    PostgreSQL); [] (all of them) for a table without generated columns."""
    version = conn._session._catalog_root().tables.get(table)
    if version is None or all(c.generated is None for c in version.schema.columns):
        return []
    return [c.name for c in version.schema.columns if c.generated is None]


async def copy_in(session, spec: CopySpec) -> str:
    """Read CopyData from the client into ``spec.table``; the command tag."""
    conn = session.conn
    columns = spec.columns or _stored_columns(conn, spec.table)
    names = ", ".join(_quote_ident(c) for c in columns) if columns else "*"
    probe_sql = f"SELECT {names} FROM {_quote_ident(spec.table)} LIMIT 0"
    probe = await session.call(_describe, conn, probe_sql)
    if spec.columns and len(set(spec.columns)) != len(spec.columns):
        dup = next(c for c in spec.columns if spec.columns.count(c) > 1)
        raise errors.sql_error("42701", f'column "{dup}" specified more than once')
    for name in list(spec.force_not_null) + list(spec.force_null):
        if name not in [n for n, _ in probe]:
            raise errors.sql_error("42703", f'column "{name}" does not exist')
    ncols = len(probe)
    binary = spec.format == "binary"
    oids = None
    if binary:
        oids = await session.call(_wire_oids, conn, probe_sql, probe)
        decoder: Any = BinaryDecoder(spec, ncols, oids)
    else:
        decoder = (CsvDecoder if spec.format == "csv" else TextDecoder)(spec,
                                                                       [n for n, _ in probe])
        if isinstance(decoder, CsvDecoder):
            idx = {n: i for i, (n, _) in enumerate(probe)}
            decoder.force_not_null = {idx[n] for n in spec.force_not_null}
            decoder.force_null = {idx[n] for n in spec.force_null}
    converter = RowConverter(spec.label, probe, binary, oids)
    target = f"{_quote_ident(spec.table)} ({', '.join(_quote_ident(n) for n, _ in probe)})"
    select = ", ".join(f"c{i}" if t in _DIRECT or t == types.TEXT else
                       f"CAST(c{i} AS {types.sql_name(t)})" for i, (_, t) in enumerate(probe))
    own_txn = not conn.in_transaction
    session.out += copy_in_response(1 if binary else 0, ncols)
    await session.flush()
    if own_txn:
        await session.call(conn.begin)
    inserter = _Inserter(session, target, select)
    pending: list = []
    total = 0
    try:
        while True:
            kind, body = await session.read_message()
            if kind == ord("d"):
                rows = _decode(decoder, body, spec)
            elif kind == ord("c"):
                rows = _decode(decoder, None, spec)
            elif kind == ord("f"):
                reason = body.split(b"\x00", 1)[0].decode("utf-8", "replace")
                raise errors.sql_error("57014", f"COPY from stdin failed: {reason}")
            elif kind in (ord("H"), ord("S")):
                continue                   # ignored during copy-in, as PostgreSQL does
            else:
                raise errors.sql_error("08P01", f"unexpected message type 0x{kind:02X} during "
                                                "COPY from stdin")
            pending.extend(rows)
            if len(pending) >= CHUNK_ROWS or (kind == ord("c") and pending):
                total += await inserter.insert(converter, pending)
                pending = []
            if kind == ord("c"):
                break
    except BaseException:
        if own_txn and conn.in_transaction:
            await session.call(conn.rollback)
        elif conn.in_transaction:
            conn._session.txn.failed = True
        raise
    if own_txn and conn.in_transaction:
        await session.call(conn.commit)
    return f"COPY {total}"


def _decode(decoder, body: bytes | None, spec: CopySpec) -> list:
    """(line, row) pairs decoded from one CopyData (``body``) or the rest at CopyDone."""
    try:
        return decoder.feed(body) if body is not None else decoder.finish()
    except DataError as exc:
        err = errors.sql_error(exc.sqlstate, exc.message)
        raise _at(err, spec.label, exc.line, None, exc.text) from None


class _Inserter:
    """One INSERT ... SELECT per chunk, from the chunk registered under a private name."""

    def __init__(self, session, target: str, select: str) -> None:
        self.session = session
        self.name = f"__copy_in_{session.pid}"
        self.sql = f"INSERT INTO {target} SELECT {select} FROM {self.name}"

    async def insert(self, converter: RowConverter, rows: list) -> int:
        return await self.session.call(self._insert, converter, rows)

    def _insert(self, converter: RowConverter, rows: list) -> int:
        table = converter.convert(rows)
        conn = self.session.conn
        conn._registered[self.name] = table
        try:
            from ..api.cursor import Cursor
            cur = Cursor(conn)
            cur.execute(self.sql)
            return max(cur.rowcount, 0)
        finally:
            conn._registered.pop(self.name, None)


def _describe(conn, sql: str) -> list[tuple[str, str]]:
    from ..api.cursor import Cursor
    cur = Cursor(conn)
    cur.execute(sql)
    return [(d[0], d[1]) for d in cur.description]


def _wire_oids(conn, sql: str, columns: list) -> list[int]:
    """The type OID of each of ``columns`` (the result of ``sql``) as the wire describes
    it: binary COPY FROM reads a column declared integer (int4) in 4 bytes, as
    PostgreSQL's int4recv, and smallint in 2."""
    from .session import declared_columns
    return [pgtypes.oid_of(t) for _, t in declared_columns(conn, sql, columns)]


async def copy_out(session, spec: CopySpec) -> str:
    """Run the query (or read the table) and stream it to the client as CopyData."""
    if spec.query is not None:
        sql = spec.query
    else:
        names = ", ".join(_quote_ident(c) for c in spec.columns) if spec.columns else "*"
        sql = f"SELECT {names} FROM {_quote_ident(spec.table)}"
    cur = await session.call(_run_query, session.conn, sql)
    columns = [(d[0], d[1]) for d in cur.description]
    binary = spec.format == "binary"
    if binary:                  # an int4 column's values in 4 bytes, as PostgreSQL's
        from .session import declared_columns
        columns = await session.call(declared_columns, session.conn, sql, columns)
    if isinstance(spec.force_quote, list):
        missing = [c for c in spec.force_quote if c not in [n for n, _ in columns]]
        if missing:
            raise errors.sql_error("42703", f'column "{missing[0]}" does not exist')
    session.out += copy_out_response(1 if binary else 0, len(columns))
    encode = _row_encoder(spec, columns)
    # Binary: the file header travels with the first row (or the trailer), as PostgreSQL
    # sends it; psycopg reads the signature off the first CopyData that holds a row.
    prefix = _BINARY_SIGNATURE + bytes(8) if binary else b""
    if spec.header:
        session.out += m.frame(b"d", encode([n for n, _ in columns], header=True))
    from .session import ResultRows
    source = ResultRows(cur._result, columns)    # converted to Python a batch at a time
    total = 0
    while not source.done:
        rows = await session.call(source.take, 2000)
        total += len(rows)
        session.out += await session.call(_frames, rows, encode, prefix)
        prefix = b""
        if len(session.out) > OUT_FLUSH:
            await session.flush()          # waits for the socket: a slow reader slows only us
    if binary:
        session.out += m.frame(b"d", prefix + b"\xff\xff")
    session.out += m.frame(b"c")
    return f"COPY {total}"


def _run_query(conn, sql: str):
    from ..api.cursor import Cursor
    cur = Cursor(conn)
    cur.execute(sql)
    if cur.description is None:
        raise errors.sql_error("0A000", "COPY query must have a RETURNING clause"
                               if cur.statement_type in ("INSERT", "UPDATE", "DELETE")
                               else "COPY query must return rows")
    return cur


def _frames(rows: list, encode, prefix: bytes = b"") -> bytes:
    frames = [m.frame(b"d", encode(row)) for row in rows]
    if prefix:
        frames[0] = m.frame(b"d", prefix + encode(rows[0]))
    return b"".join(frames)


def _row_encoder(spec: CopySpec, columns: list[tuple[str, str]]):
    if spec.format == "binary":
        encoders = [pgtypes.binary_encoder(t) for _, t in columns]

        def binary_row(row, header: bool = False) -> bytes:
            parts = [struct.pack("!h", len(row))]
            for v, enc in zip(row, encoders):
                if v is None:
                    parts.append(b"\xff\xff\xff\xff")
                else:
                    data = enc(v)
                    parts.append(struct.pack("!i", len(data)) + data)
            return b"".join(parts)
        return binary_row
    encoders = [pgtypes.text_encoder(t) for _, t in columns]
    delim, null = spec.delimiter, spec.null
    if spec.format == "text":
        table = str.maketrans({delim: "\\" + delim, "\\": "\\\\", "\n": "\\n",
                               "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f",
                               "\v": "\\v"})

        def text_row(row, header: bool = False) -> bytes:
            if header:
                return (delim.join(str(v).translate(table) for v in row) + "\n").encode()
            return (delim.join(null if v is None else enc(v).decode().translate(table)
                               for v, enc in zip(row, encoders)) + "\n").encode()
        return text_row
    quote, escape = spec.quote, spec.escape
    force = spec.force_quote
    forced = set(range(len(columns))) if force == "*" else {
        i for i, (n, _) in enumerate(columns) if force and n in force}
    special = {delim, quote, "\n", "\r"}
    alone = len(columns) == 1       # alone on its line, \. would end the data

    def field(s: str, k: int) -> str:
        if k in forced or s == null or any(c in s for c in special) or (alone and s == "\\."):
            s = s.replace(escape, escape + escape) if escape != quote else s
            return quote + s.replace(quote, escape + quote) + quote
        return s

    def csv_row(row, header: bool = False) -> bytes:
        if header:
            return (delim.join(field(str(v), -1) for v in row) + "\n").encode()
        return (delim.join(null if v is None else field(enc(v).decode(), k)
                           for k, (v, enc) in enumerate(zip(row, encoders))) + "\n").encode()
    return csv_row
