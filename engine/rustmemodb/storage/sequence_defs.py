"""What a sequence is besides its last value: type, increment, bounds, CYCLE, OWNED BY.

A sequence's state (``Root.sequences``: name -> the last value handed out, so the next
is ``last + increment``) changes on every nextval(); its definition changes only by DDL,
so the two are kept apart: ``Root.seqdefs`` maps a name to a ``SequenceDef``, and a
sequence without one (every sequence of a database written before definitions existed,
and each SERIAL or identity sequence made with no options) is ``DEFAULT``: bigint,
counting up by 1 from 1 with no CYCLE, which is all the engine used to keep.

``apply_options`` is PostgreSQL's ``init_params`` (commands/sequence.c): the same
defaults (a descending sequence runs from -1 down), the same checks in the same order
and the same 22023 messages, for CREATE SEQUENCE, ALTER SEQUENCE and identity columns.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .. import errors

# SQL type -> (min, max) of a sequence AS that type.
TYPE_RANGES = {"smallint": (-2 ** 15, 2 ** 15 - 1), "integer": (-2 ** 31, 2 ** 31 - 1),
               "bigint": (-2 ** 63, 2 ** 63 - 1)}
TYPE_NAMES = {"int2": "smallint", "smallint": "smallint", "int4": "integer", "int": "integer",
              "integer": "integer", "int8": "bigint", "bigint": "bigint"}


@dataclass(frozen=True)
class SequenceDef:
    data_type: str = "bigint"          # smallint | integer | bigint
    start: int = 1
    increment: int = 1
    minvalue: int = 1
    maxvalue: int = 2 ** 63 - 1
    cache: int = 1
    cycle: bool = False
    owned_by: tuple | None = None      # (table, column) whose DROP drops the sequence
    # False from CREATE, RESTART and setval(s, n, false) until the next nextval(): what
    # pg_sequences.last_value shows as NULL (the state alone cannot tell).
    is_called: bool = False


DEFAULT = SequenceDef()


def definition(root, name: str) -> SequenceDef:
    """The definition of sequence ``name`` of ``root`` (``DEFAULT`` if none is kept)."""
    found = root.seqdefs.get(name)
    if found is not None:
        return found
    # an old sequence: called once its last value reached the first one
    return replace(DEFAULT, is_called=root.sequences.get(name, 0) >= 1)


def _error(message: str) -> errors.DatabaseError:
    return errors.sql_error("22023", message)


def apply_options(old: SequenceDef | None, options: dict) -> tuple[SequenceDef, int | None]:
    """The definition ``options`` make of ``old`` (None: CREATE), and the value a RESTART
    in them asks for next (None: no RESTART). ``options`` maps option names as
    sql/parse_sequence.py reads them (``as``, ``increment``, ``minvalue`` (None: NO
    MINVALUE), ``maxvalue``, ``start``, ``restart`` (None: to START), ``cache``,
    ``cycle``, ``owned_by``) to values."""
    create = old is None
    base = DEFAULT if create else old
    data_type = base.data_type
    if "as" in options:
        data_type = TYPE_NAMES.get(str(options["as"]).lower())
        if data_type is None:
            raise errors.sql_error("22023", "sequence type must be smallint, integer, or bigint")
    increment = options.get("increment", base.increment)
    if increment == 0:
        raise _error("INCREMENT must not be zero")
    low, high = TYPE_RANGES[data_type]
    old_low, old_high = TYPE_RANGES[base.data_type]
    # AS another type resets a bound that was the old type's own limit (init_params).
    retyped = "as" in options and not create
    reset_max = retyped and base.maxvalue == old_high
    reset_min = retyped and base.minvalue == old_low
    if options.get("maxvalue") is not None:
        maxvalue = options["maxvalue"]
    elif create or "maxvalue" in options or reset_max:
        maxvalue = high if increment > 0 or reset_max else -1
    else:
        maxvalue = base.maxvalue
    if options.get("minvalue") is not None:
        minvalue = options["minvalue"]
    elif create or "minvalue" in options or reset_min:
        minvalue = low if increment < 0 or reset_min else 1
    else:
        minvalue = base.minvalue
    if not low <= maxvalue <= high:
        raise _error(f"MAXVALUE ({maxvalue}) is out of range for sequence data type {data_type}")
    if not low <= minvalue <= high:
        raise _error(f"MINVALUE ({minvalue}) is out of range for sequence data type {data_type}")
    if minvalue >= maxvalue:
        raise _error(f"MINVALUE ({minvalue}) must be less than MAXVALUE ({maxvalue})")
    if "start" in options:
        start = options["start"]
    elif create:
        start = minvalue if increment > 0 else maxvalue
    else:
        start = base.start
    if start < minvalue:
        raise _error(f"START value ({start}) cannot be less than MINVALUE ({minvalue})")
    if start > maxvalue:
        raise _error(f"START value ({start}) cannot be greater than MAXVALUE ({maxvalue})")
    restart = None
    if "restart" in options:
        restart = start if options["restart"] is None else options["restart"]
        if restart < minvalue:
            raise _error(f"RESTART value ({restart}) cannot be less than MINVALUE ({minvalue})")
        if restart > maxvalue:
            raise _error(f"RESTART value ({restart}) cannot be greater than MAXVALUE "
                         f"({maxvalue})")
    cache = options.get("cache", base.cache)
    if cache <= 0:
        raise _error(f"CACHE ({cache}) must be greater than zero")
    new = SequenceDef(data_type, start, increment, minvalue, maxvalue, cache,
                      options.get("cycle", base.cycle),
                      options["owned_by"] if "owned_by" in options else base.owned_by,
                      False if create or restart is not None else base.is_called)
    return new, restart


def draws(spec: SequenceDef, name: str, last: int, n: int) -> list[int] | range:
    """The ``n`` values nextval() hands out after ``last``: 2200H at a bound without
    CYCLE, wrapping to the other bound with it, as PostgreSQL's nextval."""
    inc, low, high = spec.increment, spec.minvalue, spec.maxvalue
    end = last + inc * n
    if n == 0 or low <= end <= high and low <= last + inc <= high:
        return range(last + inc, end + (1 if inc > 0 else -1), inc)
    out = []
    for _ in range(n):
        nxt = last + inc
        if nxt > high or nxt < low:
            if not spec.cycle:
                word, bound = ("maximum", high) if nxt > high else ("minimum", low)
                raise errors.sql_error("2200H", f'nextval: reached {word} value of sequence '
                                                f'"{name}" ({bound})')
            nxt = low if inc > 0 else high
        out.append(nxt)
        last = nxt
    return out


def check_setval(spec: SequenceDef, name: str, value: int) -> None:
    """setval()'s value must lie within the sequence's bounds (22003, as PostgreSQL)."""
    if not spec.minvalue <= value <= spec.maxvalue:
        raise errors.sql_error("22003", f'setval: value {value} is out of bounds for sequence '
                                        f'"{name}" ({spec.minvalue}..{spec.maxvalue})')


def encode(spec: SequenceDef) -> list:
    """A definition as plain values for the log and checkpoints."""
    return [spec.data_type, spec.start, spec.increment, spec.minvalue, spec.maxvalue,
            spec.cache, spec.cycle, list(spec.owned_by) if spec.owned_by else None,
            spec.is_called]


def decode(name: str, enc) -> SequenceDef:
    """A logged definition, checked field by field (plain values only)."""
    def whole(v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)
    ok = isinstance(enc, (list, tuple)) and len(enc) == 9
    if ok:
        dtype, start, inc, low, high, cache, cycle, owned, called = enc
        ok = (dtype in TYPE_RANGES and all(whole(v) for v in (start, inc, low, high, cache))
              and isinstance(cycle, bool) and isinstance(called, bool)
              and (owned is None or isinstance(owned, (list, tuple)) and len(owned) == 2
                   and all(isinstance(v, str) for v in owned)))
    if not ok:
        raise ValueError(f"malformed sequence record for {name!r}")
    return SequenceDef(dtype, start, inc, low, high, cache, cycle,
                       tuple(owned) if owned else None, called)
