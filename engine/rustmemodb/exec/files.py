"""Reading and writing files from SQL: CSV (and PostgreSQL's text format), Parquet, JSON.

Used by the ``read_csv`` / ``read_parquet`` / ``read_json`` table functions and by
``COPY ... FROM / TO 'file'`` (sql/bind/bind_files.py plans them; the operators in
exec/operators/file_scan.py run them). Everything goes through pyarrow's readers
and writers; nothing read is ever evaluated.

Paths (``resolve_paths``): relative paths resolve against the configured file root
when there is one (``rustmemodb.connect(file_root=...)`` / ``SET file_root``), else
the working directory. Glob patterns (``data/*.csv``) expand to the sorted matches.
With a root, every resolved path (symlinks followed) must lie inside it: ``42501``
otherwise. No match is ``58P01``, as PostgreSQL's "could not open file".

Types: a file's columns are read as the engine's types (INTEGER int64, FLOAT float64,
TEXT, BOOLEAN, DATE, TIMESTAMP; lists of those as arrays; objects and lists of objects
as JSON documents; anything else, such as time of day, is refused with ``0A000``). Schema inference looks at the first file (for CSV, its first block);
every file is then read with those types, so a value that does not fit its column
is ``22P02`` naming the file, line and column, never a silent NULL or a new type.
"""
from __future__ import annotations

import glob
import json
import os
import re

from ..lazy_import import arrow as pa, compute as pc, numpy as np

from .. import errors, types
from .functions.cast import from_text, to_text
from .. import infinity

FORMATS = ("csv", "text", "parquet", "json")


# ---- paths ----------------------------------------------------------------------------------

def resolve_paths(pattern: str, root: str | None, *, for_write: bool = False) -> list[str]:
    base = root if root else os.getcwd()
    full = os.path.join(base, os.path.expanduser(pattern)) if not os.path.isabs(pattern) \
        else pattern
    if for_write:
        paths = [full]
    elif glob.has_magic(full):
        paths = sorted(glob.glob(full, recursive=True))
        paths = [p for p in paths if os.path.isfile(p)]
    else:
        paths = [full]
    if root:
        real_root = os.path.realpath(root)
        for p in paths:
            real = os.path.realpath(p)
            if os.path.commonpath([real, real_root]) != real_root:
                raise errors.sql_error(
                    "42501", f'permission denied: "{pattern}" is outside the file root',
                    hint="Paths must stay inside the directory given as file_root.")
    if not for_write:
        if not paths:
            raise errors.sql_error("58P01", f'could not open file "{pattern}" for reading: '
                                            "no file matches")
        for p in paths:
            if not os.path.isfile(p):
                raise errors.sql_error("58P01", f'could not open file "{pattern}" for reading: '
                                                "No such file or directory")
    else:
        parent = os.path.dirname(paths[0]) or "."
        if not os.path.isdir(parent):
            raise errors.sql_error("58P01", f'could not open file "{pattern}" for writing: '
                                            "No such file or directory")
    return paths


# ---- options --------------------------------------------------------------------------------

def csv_options(options: dict, fmt: str):
    """(read, parse, convert) keyword arguments shared by inference and reading."""
    text = fmt == "text"
    delimiter = options.get("delimiter", "\t" if text else ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise errors.sql_error("22023", "the delimiter must be a single one-byte character")
    null = options.get("null", "\\N" if text else "")
    quote = options.get("quote", '"')
    return ({"skip_rows": int(options.get("skip", 0))},
            {"delimiter": delimiter, "quote_char": False if text else quote,
             "escape_char": options.get("escape", False) or False,
             "newlines_in_values": not text},
            {"null_values": [null], "strings_can_be_null": True,
             "quoted_strings_can_be_null": False,
             "true_values": ["true", "t", "TRUE", "True", "yes", "on"],
             "false_values": ["false", "f", "FALSE", "False", "no", "off"]})


# ---- schema inference -------------------------------------------------------------------------

def infer_columns(fmt: str, paths: list[str], options: dict) -> list[tuple[str, str]]:
    """(name, SQL type) of the columns a file scan yields."""
    if options.get("columns"):
        return list(options["columns"])
    if fmt in ("csv", "text"):
        import pyarrow.csv as pcsv
        read, parse, convert = csv_options(options, fmt)
        header = options.get("header", True)
        ro = pcsv.ReadOptions(**read, autogenerate_column_names=not header)
        try:
            reader = pcsv.open_csv(paths[0], read_options=ro,
                                   parse_options=pcsv.ParseOptions(**parse),
                                   convert_options=pcsv.ConvertOptions(**convert))
        except pa.ArrowInvalid as exc:
            raise _malformed(paths[0], exc) from None
        schema = reader.schema
        reader.close()
        names = list(schema.names)
        if not header:   # pyarrow says f0, f1 ...; DuckDB and PostgreSQL count from 1
            names = [f"column{i + 1}" for i in range(len(names))]
        return [(n, _sql_type(f.type, n, csv=True)) for n, f in zip(names, schema)]
    if fmt == "parquet":
        import pyarrow.parquet as pq
        schema = pq.read_schema(paths[0])
        return [(f.name, _sql_type(f.type, f.name)) for f in schema]
    table = _read_json_file(paths[0])
    return [(f.name, _sql_type(f.type, f.name)) for f in table.schema]


def _sql_type(t: pa.DataType, name: str, csv: bool = False) -> str:
    if pa.types.is_null(t):
        return types.TEXT
    if csv and (pa.types.is_time(t) or pa.types.is_decimal(t)):
        return types.TEXT if pa.types.is_time(t) else types.FLOAT
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        if pa.types.is_date(t):
            return types.DATE
        return types.TIMESTAMP if t.tz is None else types.TIMESTAMPTZ
    if pa.types.is_struct(t) or pa.types.is_map(t) or (
            (pa.types.is_list(t) or pa.types.is_large_list(t)) and
            (pa.types.is_nested(t.value_type) or pa.types.is_null(t.value_type))):
        return types.JSON             # nested objects (and lists of them) as JSON documents
    try:
        return types.sql_type_of_arrow(t)
    except errors.Error:
        raise errors.not_supported(f'column "{name}" of type {t} in a file') from None


# ---- reading ------------------------------------------------------------------------------------

def read_files(fmt: str, paths: list[str], columns: list[tuple[str, str]], options: dict
               ) -> pa.Table:
    """All files, each read as ``columns`` (names and SQL types), concatenated."""
    tables = [_read_one(fmt, p, columns, options) for p in paths]
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def _storage_type(sql_type: str) -> pa.DataType:
    """The Arrow type a reader produces for a column; text for types parsed afterwards."""
    if sql_type in (types.INTEGER, types.FLOAT, types.BOOLEAN, types.DATE, types.TIMESTAMP):
        return types.arrow_type(sql_type)
    return pa.string()


def _read_one(fmt, path, columns, options) -> pa.Table:
    names = [n for n, _ in columns]
    if fmt == "text":
        return _to_engine(_read_text(path, columns, options), columns, path)
    if fmt == "csv":
        import pyarrow.csv as pcsv
        read, parse, convert = csv_options(options, fmt)
        header = options.get("header", False)
        ro = pcsv.ReadOptions(skip_rows=read["skip_rows"] + (1 if header else 0),
                              column_names=names)
        convert["column_types"] = {n: _storage_type(t) for n, t in columns}

        def read(**changes) -> pa.Table:
            return pcsv.read_csv(path, read_options=ro,
                                 parse_options=pcsv.ParseOptions(**parse),
                                 convert_options=pcsv.ConvertOptions(**dict(convert,
                                                                            **changes)))
        forced = set(options.get("force_null") or ()) | set(options.get("force_not_null") or ())
        try:
            if forced:      # those columns as text first: their values come from _forced
                table = _forced(read(column_types=dict(
                    convert["column_types"], **dict.fromkeys(forced, pa.string()))),
                    read, options)
            else:
                table = read()
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):       # nothing (or only the header): no rows
                return pa.Table.from_arrays([pa.array([], types.arrow_type(t))
                                             for _, t in columns], names=names)
            raise _locate_csv_error(path, columns, options, fmt, exc) from None
        return _to_engine(table, columns, path)
    if fmt == "parquet":
        import pyarrow.parquet as pq
        table = pq.read_table(path)
    else:
        table = _read_json_file(path)
    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise errors.sql_error("22P04", f'file "{path}" has no column "{missing[0]}"')
    return _to_engine(table.select(names), columns, path)


def _forced(table: pa.Table, read, options: dict) -> pa.Table:
    """COPY FROM's FORCE_NULL / FORCE_NOT_NULL columns of a CSV file. The reader tells a
    quoted value from an unquoted one only through its NULL rules, so the file is read
    again for those columns: with quoted values that equal the NULL string read as NULL
    too (FORCE_NULL), and with nothing read as NULL (FORCE_NOT_NULL); a column with both
    is NULL exactly where only the quoted values would be."""
    force_null = set(options.get("force_null") or ())
    force_not_null = set(options.get("force_not_null") or ())
    both_null = read(quoted_strings_can_be_null=True,
                     include_columns=sorted(force_null)) if force_null else None
    never_null = read(null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False,
                      include_columns=sorted(force_not_null)) if force_not_null else None
    for name in force_null | force_not_null:
        at = table.column_names.index(name)
        if name not in force_not_null:
            column = both_null.column(name)
        elif name not in force_null:
            column = never_null.column(name)
        else:           # NULL where quoted: NULL when quoted values may be, not otherwise
            quoted_null = pc.and_(both_null.column(name).is_null(),
                                  table.column(name).is_valid())
            column = pc.if_else(quoted_null, pa.scalar(None, never_null.column(name).type),
                                never_null.column(name))
        table = table.set_column(at, name, column)
    return table


# PostgreSQL's text format: one line per row, a delimiter (TAB) between values, \N for
# NULL, and backslash escapes instead of quoting. pyarrow has no reader for it.
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
_OCTAL = re.compile(r"[0-7]{1,3}")
_HEX = re.compile(r"[0-9a-fA-F]{1,2}")


def unescape_text(s: str) -> str:
    """PostgreSQL text-format backslash escapes: \\t \\n ... \\NNN (octal) \\xHH; any
    other escaped character stands for itself (COPY FROM a file or from STDIN)."""
    if "\\" not in s:
        return s
    out, i, n = [], 0, len(s)
    while i < n:
        ch = s[i]
        if ch != "\\" or i + 1 == n:
            out.append(ch)
            i += 1
            continue
        nxt = s[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt in "01234567":
            mt = _OCTAL.match(s, i + 1)
            out.append(chr(int(mt.group(), 8) & 0xFF))
            i = mt.end()
        elif nxt == "x" and _HEX.match(s, i + 2):
            mt = _HEX.match(s, i + 2)
            out.append(chr(int(mt.group(), 16)))
            i = mt.end()
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def split_text(line: str, delimiter: str) -> list[str]:
    """Fields of a text-format line; an escaped delimiter (``\\,``) stays in its field,
    still escaped (``unescape_text`` reads it)."""
    if "\\" not in line:
        return line.split(delimiter)
    fields, cur, i, n = [], [], 0, len(line)
    while i < n:
        ch = line[i]
        if ch == "\\" and i + 1 < n:
            cur.append(line[i:i + 2])
            i += 2
            continue
        if ch == delimiter:
            fields.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    fields.append("".join(cur))
    return fields


def _read_text(path: str, columns, options) -> pa.Table:
    delimiter = options.get("delimiter", "\t")
    null = options.get("null", "\\N")
    skip = int(options.get("skip", 0)) + (1 if options.get("header", False) else 0)
    values: list[list] = [[] for _ in columns]
    with open(path, encoding="utf-8", newline="\n") as f:
        for lineno, line in enumerate(f, start=1):
            if lineno <= skip:
                continue
            line = line[:-1] if line.endswith("\n") else line
            if line.endswith("\r"):
                line = line[:-1]
            if line == "\\.":
                break
            fields = split_text(line, delimiter)
            if len(fields) != len(columns):
                what = "extra data after last expected column" if len(fields) > len(columns) \
                    else f'missing data for column "{columns[len(fields)][0]}"'
                raise errors.sql_error("22P04", f'{what} (file "{os.path.basename(path)}", '
                                                f"line {lineno})")
            for k, (raw, (name, t)) in enumerate(zip(fields, columns)):
                if raw == null:
                    values[k].append(None)
                    continue
                text = unescape_text(raw)
                if t == types.TEXT or t not in _PG_NAMES:
                    values[k].append(text)
                    continue
                try:
                    values[k].append(from_text(text, t))
                except errors.Error:
                    raise errors.sql_error(
                        "22P02", f'invalid input syntax for type {_PG_NAMES[t]}: "{text}" '
                                 f'(file "{os.path.basename(path)}", line {lineno}, '
                                 f"column {name})") from None
    arrays = [pa.array(v, _storage_type(t)) for v, (_, t) in zip(values, columns)]
    return pa.Table.from_arrays(arrays, names=[n for n, _ in columns])


def _write_text(path: str, table: pa.Table, columns, options) -> None:
    """COPY ... TO (FORMAT text): each value its output text (``_output_text``) with
    backslash, tab, newline, carriage return and the delimiter escaped; NULL is the NULL
    string (``\\N``)."""
    import pyarrow.compute as pc
    delimiter = options.get("delimiter", "\t")
    null = options.get("null", "\\N")
    escapes = [("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"),
               (delimiter, "\\" + delimiter)]
    parts = []
    for col, (_, t) in zip(table.columns, columns):
        text = _output_text(col, t)
        for plain, escaped in escapes:
            text = pc.replace_substring(text, plain, escaped)
        parts.append(pc.fill_null(text, null))
    header = delimiter.join(n for n, _ in columns) if options.get("header") else None
    _write_lines(path, header, parts, delimiter, table.num_rows)


def _write_lines(path: str, header: str | None, parts: list, delimiter: str,
                 num_rows: int) -> None:
    """The file of ``header`` (if any) then one line per row: the row's texts from
    ``parts`` (large_string columns without NULLs) joined by ``delimiter``. Each line
    ends with its newline, so the joined values' bytes are the file, written as they are."""
    import pyarrow.compute as pc
    with open(path, "wb") as f:
        if header is not None:
            f.write((header + "\n").encode())
        if parts and num_rows:
            last = pc.binary_join_element_wise(parts[-1], pa.scalar("\n", pa.large_string()),
                                               pa.scalar("", pa.large_string()))
            lines = pc.binary_join_element_wise(*parts[:-1], last,
                                                pa.scalar(delimiter, pa.large_string()))
            for chunk in (lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]):
                offsets = np.frombuffer(chunk.buffers()[1], np.int64)[
                    chunk.offset:chunk.offset + len(chunk) + 1]
                f.write(memoryview(chunk.buffers()[2])[int(offsets[0]):int(offsets[-1])])
        elif num_rows:                        # no columns: one empty line per row
            f.write(b"\n" * num_rows)


def _to_engine(table: pa.Table, columns, path) -> pa.Table:
    arrays = []
    for col, (name, t) in zip(table.columns, columns):
        if t == types.JSON and pa.types.is_nested(col.type):
            arrays.append(_json_documents(col))
            continue
        want = types.arrow_type(t) if not types.is_array(t) else None
        if want is not None and col.type != want:
            try:
                if pa.types.is_timestamp(col.type) and col.type.tz is not None:
                    col = col.cast(pa.timestamp(col.type.unit))
                col = col.cast(want)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise errors.sql_error("22P02", f'file "{os.path.basename(path)}", column '
                                                f'"{name}": {exc}') from None
        elif want is None and col.type != types.arrow_type(t):
            col = col.cast(types.arrow_type(t))
        arrays.append(col)
    return pa.Table.from_arrays(arrays, names=[n for n, _ in columns])


def _json_documents(col) -> pa.Array:
    """A nested Arrow column as JSON text (canonical, as the JSON type stores it)."""
    values = infinity.pylist(col)
    return pa.array([None if v is None else types.canonical_json(v) for v in values],
                    pa.large_string())


def _read_json_file(path: str) -> pa.Table:
    with open(path, "rb") as f:
        head = f.read(4096).lstrip()
    try:
        if head.startswith(b"["):
            with open(path, encoding="utf-8") as f:
                rows = json.load(f)
            if not all(isinstance(r, dict) for r in rows):
                raise errors.sql_error("22P02", f'file "{os.path.basename(path)}": a JSON array '
                                                "of objects is expected")
            return pa.Table.from_pylist(rows)
        import pyarrow.json as pjson
        return pjson.read_json(path)
    except (ValueError, pa.ArrowInvalid) as exc:
        raise errors.sql_error("22P02", f'invalid JSON in file "{os.path.basename(path)}": '
                                        f"{exc}") from None


def _malformed(path: str, exc: Exception) -> errors.Error:
    text = str(exc)
    if "Expected" in text and "columns" in text:
        return errors.sql_error("22P04", f'file "{os.path.basename(path)}": {text}')
    return errors.sql_error("22P02", f'file "{os.path.basename(path)}": {text}')


_PG_NAMES = {types.INTEGER: "bigint", types.FLOAT: "double precision", types.BOOLEAN: "boolean",
             types.DATE: "date", types.TIMESTAMP: "timestamp"}


def _locate_csv_error(path, columns, options, fmt, exc) -> errors.Error:
    """Re-read as text to name the first value that does not fit (file, line, column)."""
    import pyarrow.csv as pcsv
    text = str(exc)
    if "Expected" in text and "columns" in text:
        return _malformed(path, exc)
    read, parse, convert = csv_options(options, fmt)
    header = options.get("header", False)
    names = [n for n, _ in columns]
    convert["column_types"] = {n: pa.string() for n in names}
    try:
        raw = pcsv.read_csv(path, read_options=pcsv.ReadOptions(
            skip_rows=read["skip_rows"] + (1 if header else 0), column_names=names),
            parse_options=pcsv.ParseOptions(**parse), convert_options=pcsv.ConvertOptions(**convert))
    except pa.ArrowInvalid as again:
        return _malformed(path, again)
    first_line = read["skip_rows"] + (2 if header else 1)
    for (name, t), col in zip(columns, raw.columns):
        if t not in _PG_NAMES:
            continue
        for i, v in enumerate(infinity.pylist(col)):
            if v is None:
                continue
            try:
                from_text(v, t)
            except errors.Error:
                return errors.sql_error(
                    "22P02", f'invalid input syntax for type {_PG_NAMES[t]}: "{v}" '
                             f'(file "{os.path.basename(path)}", line {first_line + i}, '
                             f'column {name})')
    return _malformed(path, exc)


# ---- writing ------------------------------------------------------------------------------------

def write_file(fmt: str, path: str, table: pa.Table, columns, options: dict) -> None:
    try:
        if fmt == "parquet":          # Parquet has no month/day/nanosecond interval:
            import pyarrow.parquet as pq   # intervals go as their text, read back by COPY
            pq.write_table(_as_text_columns(table, columns, arrays=False), path)
            return
        if fmt == "json":
            _write_json(path, table, columns)
            return
        if fmt == "text":
            _write_text(path, table, columns, options)
            return
        _write_csv(path, table, columns, options)
    except OSError as exc:
        raise errors.sql_error("58030", f'could not write file "{path}": {exc.strerror or exc}'
                               ) from None


def _write_csv(path: str, table: pa.Table, columns, options: dict) -> None:
    """COPY ... TO (FORMAT csv) as PostgreSQL writes it: each value its output text
    (booleans t/f), quoted only where it must be (it holds the delimiter, the quote, a
    line break, or equals the NULL string, so '' is "" by default) or FORCE_QUOTE asks,
    the quote doubled (or escaped by ESCAPE); NULL is the NULL string, never quoted."""
    import pyarrow.compute as pc
    delimiter = options.get("delimiter", ",")
    quote = options.get("quote", '"')
    escape = options.get("escape", quote)
    null = options.get("null", "")
    forced = options.get("force_quote") or ()
    unknown = [c for c in forced if c != "*" and c not in {n for n, _ in columns}]
    if unknown:
        raise errors.sql_error("42703", f'column "{unknown[0]}" does not exist')

    def quoted(text, force: bool, plain: bool = False):
        if force:
            need = None
        elif plain:        # digits, signs, points, colons: only the NULL string can clash
            need = pc.equal(text, null) if null else None
            if need is None or not pc.any(need).as_py():
                return text
        else:
            need = pc.or_(pc.or_(pc.match_substring(text, delimiter),
                                 pc.match_substring(text, quote)),
                          pc.or_(pc.match_substring(text, "\n"),
                                 pc.match_substring(text, "\r")))
            need = pc.or_(need, pc.equal(text, null))
            if len(columns) == 1:              # alone on its line, \. would end the data
                need = pc.or_(need, pc.equal(text, "\\."))
        body = text
        if escape != quote:
            body = pc.replace_substring(body, escape, escape + escape)
        body = pc.replace_substring(body, quote, escape + quote)
        q = pa.scalar(quote, pa.large_string())
        wrapped = pc.binary_join_element_wise(q, body, q, pa.scalar("", pa.large_string()))
        return wrapped if need is None else pc.if_else(pc.fill_null(need, False), wrapped, text)

    # numbers, dates and timestamps print only these characters: with a delimiter and a
    # quote outside them their text never needs quotes
    plain_ok = not set(delimiter + quote) & set("0123456789+-.:eE NaInfity")
    parts = []
    for col, (name, t) in zip(table.columns, columns):
        text = _output_text(col, t)
        plain = plain_ok and t in (types.INTEGER, types.FLOAT, types.DATE, types.TIMESTAMP,
                                   types.BOOLEAN)
        parts.append(pc.fill_null(quoted(text, "*" in forced or name in forced, plain), null))
    header = None
    if options.get("header"):
        names = pa.array([n for n, _ in columns], pa.large_string())
        header = delimiter.join(quoted(names, False).to_pylist())
    _write_lines(path, header, parts, delimiter, table.num_rows)


def _output_text(col, t: str):
    """A column as PostgreSQL's output text (large_string, NULLs kept): strings as they
    are, integers and floats by Arrow's cast (the shortest round-trip digits, as
    PostgreSQL's float8out), booleans t/f, anything else by the engine's to_text."""
    import pyarrow.compute as pc
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    kind = col.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return col.cast(pa.large_string())
    if t == types.BOOLEAN and pa.types.is_boolean(kind):
        return pc.if_else(col, "t", "f").cast(pa.large_string())
    if t in (types.INTEGER, types.FLOAT) and (pa.types.is_integer(kind) or
                                               pa.types.is_floating(kind)):
        text = col.cast(pa.large_string())
        if pa.types.is_floating(kind):
            # Arrow's shortest digits are float8out's, but not where it switches to an
            # exponent (1e-05, 1e+16), nor its spelling of the infinities and NaN: those
            # values are written by to_text
            magnitude = pc.abs(col)
            odd = pc.or_kleene(pc.or_kleene(pc.and_(pc.less(magnitude, 1e-4),
                                                    pc.not_equal(col, 0.0)),
                                            pc.greater_equal(magnitude, 1e15)),
                               pc.or_kleene(pc.invert(pc.is_finite(col)),
                                            pc.match_substring(text, "e")))
            where = np.flatnonzero(pc.fill_null(odd, False).to_numpy(zero_copy_only=False))
            if len(where):
                values = text.to_pylist()
                for i in where.tolist():
                    values[i] = to_text(col[i].as_py(), t)
                text = pa.array(values, pa.large_string())
        return text
    if t in (types.DATE, types.TIMESTAMP) and (pa.types.is_date32(kind) or (
            pa.types.is_timestamp(kind) and kind.tz is None)) and _plain_years(col):
        text = col.cast(pa.large_string())    # ISO, as DateStyle ISO prints them
        if pa.types.is_timestamp(kind):       # .500000 -> .5, .000000 -> nothing
            if pc.all(pc.ends_with(text, ".000000")).as_py() is not False:
                return pc.utf8_slice_codeunits(text, 0, 19)     # whole seconds: cut
            text = pc.replace_substring_regex(text, r"(\.[0-9]*?)0+$", r"\1")
            text = pc.replace_substring_regex(text, r"\.$", "")
        return text
    return pa.array([None if v is None else to_text(v, t) for v in types.py_values(col)],
                    pa.large_string())


def _plain_years(col) -> bool:
    """Whether every date or timestamp is within years 1-9999 (no infinity, no BC), where
    Arrow's text is PostgreSQL's."""
    import pyarrow.compute as pc
    if col.null_count == len(col) or infinity.in_arrow(col):
        return col.null_count == len(col)
    low, high = pc.min_max(col).values()
    return low.as_py().year >= 1 and high.as_py().year <= 9999


def _as_text_columns(table: pa.Table, columns, arrays: bool = True) -> pa.Table:
    """Columns CSV cannot hold as such (arrays, intervals) become PostgreSQL's text form."""
    out = []
    for col, (_, t) in zip(table.columns, columns):
        if (arrays and types.is_array(t)) or t == types.INTERVAL:
            out.append(pa.array([None if v is None else to_text(v, t)
                                 for v in types.py_values(col)], pa.large_string()))
        else:
            out.append(col)
    return pa.Table.from_arrays(out, names=table.column_names)


def _write_json(path: str, table: pa.Table, columns) -> None:
    """Newline-delimited JSON: one object per row."""
    data = [types.py_values(c) for c in table.columns]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(table.num_rows):
            obj = {n: _json_value(data[k][i], t) for k, (n, t) in enumerate(columns)}
            f.write(json.dumps(obj, default=str))
            f.write("\n")


def _json_value(v, t):
    if v is None:
        return None
    if t in types.JSON_TYPES:      # a document, nested in the line (json or jsonb)
        return json.loads(v)
    if t in (types.DATE, types.TIMESTAMP, types.TIMESTAMPTZ):
        return v.isoformat() if t == types.DATE else v.isoformat(sep=" ")
    if t == types.INTERVAL:
        return str(v)                 # its text, as PostgreSQL's to_json gives it
    return v
