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
from .split import split_statements


@dataclass(frozen=True)
class Utility:
    kind: str            # begin | commit[_chain] | rollback[_chain] | savepoint | release | rollback_to |
                         # prepare | execute | deallocate | set | show | reset | checkpoint |
                         # vacuum | analyze | discard | describe | summarize | pivot |
                         # listen | unlisten | notify
    arg: str = ""        # remaining text (names, options)


@dataclass(frozen=True)
class Explain:
    body: str            # the statement being explained
    offset: int          # where body starts in the original text
    analyze: bool
    format: str          # text | json
    verbose: bool = False


_WORD = re.compile(r"\s*([A-Za-z_]+)")
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
# BEGIN [WORK | TRANSACTION] / START TRANSACTION, then the transaction modes
_WORK = re.compile(r"^(?:WORK|TRANSACTION)\b\s*", re.I)
_TRANSACTION = re.compile(r"TRANSACTION\b", re.I)
_CHAIN = re.compile(r"(?:(?:WORK|TRANSACTION)\b\s*)?(AND\s+(NO\s+)?CHAIN)?", re.I)
_SEVERAL_HINT = "Use executescript() or split the statements."
_UTILITY_WORDS = frozenset({
    "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "PREPARE",
    "EXECUTE", "DEALLOCATE", "SHOW", "RESET", "CHECKPOINT", "VACUUM", "DISCARD", "ANALYZE",
    "ANALYSE", "SET", "DESCRIBE", "DESC", "SUMMARIZE", "PIVOT", "UNPIVOT", "EXPLAIN", "LISTEN",
    "UNLISTEN", "NOTIFY"})
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
    if word not in _UTILITY_WORDS:
        return None
    rest = sql[m.end():].strip().rstrip(";").strip()
    if ";" in rest and len(split_statements(sql)) > 1:
        # ``COMMIT; DROP TABLE t`` ran the COMMIT alone and dropped the rest unseen
        raise errors.syntax_error("cannot run several statements in one execute()",
                                  hint=_SEVERAL_HINT)
    if word == "BEGIN" or (word == "START" and _TRANSACTION.match(rest)):
        return Utility("begin", _WORK.sub("", rest, count=1))
    if word in ("COMMIT", "END", "ROLLBACK", "ABORT"):
        return _end(word, rest)
    if word == "START":
        raise errors.syntax_error('syntax error at or near "START"',
                                  hint="START TRANSACTION [mode, ...]")
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
    if word in ("LISTEN", "UNLISTEN", "NOTIFY"):        # backends.py
        return Utility(word.lower(), rest)
    if word in ("DESCRIBE", "DESC", "SUMMARIZE"):      # DuckDB's (describe.py)
        return Utility("summarize" if word == "SUMMARIZE" else "describe", rest)
    if word in ("PIVOT", "UNPIVOT"):                   # DuckDB's (pivot.py)
        return Utility("pivot", sql)
    if word == "EXPLAIN":
        return _explain(sql)
    return None


def _end(word: str, rest: str) -> Utility:
    """COMMIT / END / ROLLBACK / ABORT [WORK | TRANSACTION] [AND [NO] CHAIN], ROLLBACK TO."""
    committing = word in ("COMMIT", "END")
    if _PREPARED.match(rest):
        raise errors.not_supported(("COMMIT" if committing else "ROLLBACK") + " PREPARED",
                                   hint=_TWO_PHASE_HINT)
    if not committing:
        tm = _ROLLBACK_TO.match(rest)
        if tm:
            return Utility("rollback_to", savepoint_name(rest[tm.end():], "ROLLBACK TO"))
    m = _CHAIN.fullmatch(rest)
    if m is None:
        raise errors.syntax_error(f'syntax error at or near "{rest.split()[0]}"',
                                  hint=f"{word} [WORK | TRANSACTION] [AND [NO] CHAIN]")
    chain = bool(m.group(1)) and not m.group(2)
    return Utility(("commit" if committing else "rollback") + ("_chain" if chain else ""))


def _explain(sql: str) -> Explain:
    m = _EXPLAIN.match(sql)
    opts = (m.group("opts") or "").upper() if m else ""
    analyze = bool(m and m.group("analyze")) or bool(re.search(r"\bANALY[SZ]E\b(?!\s+(FALSE|OFF))", opts))
    verbose = bool(m and m.group("verbose")) or "VERBOSE" in opts
    fmt = "json" if re.search(r"FORMAT\s+JSON", opts) else "text"
    end = m.end() if m else len("EXPLAIN")
    return Explain(sql[end:], end, analyze, fmt, verbose)
