"""Keyword pre-dispatch: the statements handled before (or instead of) sqlglot.

sqlglot turns ``EXPLAIN``, ``PREPARE``, ``EXECUTE`` ... into an opaque Command
and silently mis-parses ``START TRANSACTION``, ``SAVEPOINT``, ``ABORT`` or
``DEALLOCATE`` as column references (ENGINE-MEASUREMENTS §1), so we look at the
leading keyword first. Returns a ``Utility`` for session/transaction commands,
an ``Explain`` wrapper, or ``None`` for a statement to hand to sqlglot.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .. import errors


@dataclass(frozen=True)
class Utility:
    kind: str            # begin | commit | rollback | savepoint | release | rollback_to |
                         # prepare | execute | deallocate | set | show | reset | checkpoint |
                         # vacuum | analyze | discard | describe | summarize | pivot
    arg: str = ""        # remaining text (names, options)


@dataclass(frozen=True)
class Explain:
    body: str            # the statement being explained
    offset: int          # where body starts in the original text
    analyze: bool
    format: str          # text | json
    verbose: bool = False


_WORD = re.compile(r"\s*([A-Za-z_]+)")
# First words of the statements that are no utility's (the common case, decided before
# the rest of the text is copied and stripped).
_PLAIN = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES", "CREATE",
                    "DROP", "ALTER"})
_EXPLAIN = re.compile(
    r"^\s*EXPLAIN\s+(?:\((?P<opts>[^)]*)\)\s*|(?P<analyze>ANALY[SZ]E\s+)?(?P<verbose>VERBOSE\s+)?)",
    re.I)


# Whitespace and comments before the first keyword (``-- note\nCOMMIT``, ``/* x */ BEGIN``).
_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*(?:[^*]|\*(?!/))*\*/)*")


# PREPARE TRANSACTION / COMMIT PREPARED 'id' (COMMIT read the rest as noise, so COMMIT
# PREPARED committed the session's own transaction instead).
_PREPARED = re.compile(r"PREPARED\b", re.I)
_TWO_PHASE_HINT = ("Two-phase commit is not offered over SQL here; a cluster "
                   "(rustmemodb.cluster) runs it across its shards itself.")
_ROLLBACK_TO = re.compile(r"(?:(?:WORK|TRANSACTION)\s+)?TO\b\s*(?:SAVEPOINT\b\s*(?=\S))?", re.I)
_NAME = re.compile(r'(?:"((?:[^"]|"")+)"|([A-Za-z_\x80-\uffff][\w$\x80-\uffff]*))\Z')


def savepoint_name(text: str, statement: str) -> str:
    """A savepoint's name as PostgreSQL reads it: an unquoted name folds to lower case,
    a quoted one is kept as written; anything else is a syntax error (before this, a
    quoted name after ROLLBACK TO read as a plain ROLLBACK of the whole transaction).
    SAVEPOINT is an unreserved keyword: ``ROLLBACK TO SAVEPOINT`` names a savepoint
    called "savepoint", as in PostgreSQL."""
    m = _NAME.match(text.strip())
    if m is None:
        raise errors.syntax_error(f"syntax error in {statement}: a savepoint name was expected"
                           + (f', not "{text.strip()}"' if text.strip() else ""),
                           hint=f"{statement} {'SAVEPOINT ' if statement != 'SAVEPOINT' else ''}"
                                "name")
    return m.group(1).replace('""', '"') if m.group(1) is not None else m.group(2).lower()


def dispatch(sql: str) -> Utility | Explain | None:
    m = _WORD.match(sql)
    if m is None:
        lead = _LEADING.match(sql).end()
        if not lead:
            return None
        util = dispatch(sql[lead:])
        if isinstance(util, Explain):
            return Explain(util.body, util.offset + lead, util.analyze, util.format, util.verbose)
        return util
    word = m.group(1).upper()
    if word in _PLAIN:
        return None
    rest = sql[m.end():].strip().rstrip(";").strip()
    if word in ("BEGIN", "START"):
        return Utility("begin", rest)
    if word in ("COMMIT", "END"):
        if _PREPARED.match(rest):
            raise errors.not_supported("COMMIT PREPARED", hint=_TWO_PHASE_HINT)
        return Utility("commit")
    if word in ("ROLLBACK", "ABORT"):
        if _PREPARED.match(rest):
            raise errors.not_supported("ROLLBACK PREPARED", hint=_TWO_PHASE_HINT)
        tm = _ROLLBACK_TO.match(rest)
        return Utility("rollback_to", savepoint_name(rest[tm.end():], "ROLLBACK TO")) if tm \
            else Utility("rollback")
    if word == "SAVEPOINT":
        return Utility("savepoint", savepoint_name(rest, "SAVEPOINT"))
    if word == "RELEASE":
        return Utility("release", savepoint_name(re.sub(r"^SAVEPOINT\b\s*(?=\S)", "", rest, flags=re.I),
                                                 "RELEASE"))
    if word == "PREPARE" and re.match(r"TRANSACTION\b", rest, re.I):
        raise errors.not_supported("PREPARE TRANSACTION", hint=_TWO_PHASE_HINT)
    if word in ("PREPARE", "EXECUTE", "DEALLOCATE", "SHOW", "RESET", "CHECKPOINT",
                "VACUUM", "DISCARD"):
        return Utility(word.lower(), rest)
    if word in ("ANALYZE", "ANALYSE"):
        return Utility("analyze", rest)
    if word == "SET":
        return Utility("set", rest)
    if word in ("DESCRIBE", "DESC", "SUMMARIZE"):      # DuckDB's (describe.py)
        return Utility("summarize" if word == "SUMMARIZE" else "describe", rest)
    if word in ("PIVOT", "UNPIVOT"):                   # DuckDB's (pivot.py)
        return Utility("pivot", sql)
    if word == "EXPLAIN":
        return _explain(sql)
    return None


def _explain(sql: str) -> Explain:
    m = _EXPLAIN.match(sql)
    opts = (m.group("opts") or "").upper() if m else ""
    analyze = bool(m and m.group("analyze")) or bool(re.search(r"\bANALY[SZ]E\b(?!\s+(FALSE|OFF))", opts))
    verbose = bool(m and m.group("verbose")) or "VERBOSE" in opts
    fmt = "json" if re.search(r"FORMAT\s+JSON", opts) else "text"
    end = m.end() if m else len("EXPLAIN")
    return Explain(sql[end:], end, analyze, fmt, verbose)
