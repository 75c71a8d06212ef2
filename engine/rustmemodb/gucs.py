"""PostgreSQL's common run-time parameters (GUCs): their defaults, units and checks.

Tools SET and SHOW parameters the engine has no use for: ORMs and migration tools set
``work_mem``, ``lock_timeout`` or ``client_min_messages`` per session, BI tools SHOW
``max_connections``. PostgreSQL answers each with its default, reads values with units
(``'64MB'``, ``65536`` kB, ``'1min'``) and refuses bad ones (22023), and SHOW prints the
normalized value (``SET work_mem = 65536`` shows ``64MB``). This table does the same for
the parameters tools send, so they get PostgreSQL's answers; the engine acts on none of
them except ``lock_timeout`` (advisory lock waits, backends.py). Parameters it does act
on (``statement_timeout``, ``TimeZone``, ``search_path``...) are handled in utility.py.
"""
from __future__ import annotations

import re

from . import errors

# kind: "memory" (base unit kB, or 8kB blocks), "time" (base ms or s), "bool", "int",
# "real", "enum", "string"; (kind, default as SHOW prints it, extra)
_MEMORY_UNITS = {"b": 1 / 1024, "kb": 1, "mb": 1 << 10, "gb": 1 << 20, "tb": 1 << 30}
_TIME_UNITS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000,
               "d": 86_400_000}
_LEVELS = ("debug5", "debug4", "debug3", "debug2", "debug1", "log", "notice", "warning",
           "error")

PARAMETERS: dict[str, tuple] = {
    "work_mem": ("memory", "4MB", 1),
    "maintenance_work_mem": ("memory", "64MB", 1),
    "logical_decoding_work_mem": ("memory", "64MB", 1),
    "temp_buffers": ("memory", "8MB", 8),
    "effective_cache_size": ("memory", "4GB", 8),
    "temp_file_limit": ("memory", "-1", 1),
    "lock_timeout": ("time", "0", "ms"),
    "idle_session_timeout": ("time", "0", "ms"),
    "deadlock_timeout": ("time", "1s", "ms"),
    "log_min_duration_statement": ("time", "-1", "ms"),
    "tcp_keepalives_idle": ("time", "0", "s"),
    "tcp_keepalives_interval": ("time", "0", "s"),
    "tcp_user_timeout": ("time", "0", "ms"),
    "vacuum_cost_delay": ("time", "0", "ms"),
    "hash_mem_multiplier": ("real", "2", None),
    "random_page_cost": ("real", "4", None),
    "seq_page_cost": ("real", "1", None),
    "cpu_tuple_cost": ("real", "0.01", None),
    "cpu_index_tuple_cost": ("real", "0.005", None),
    "cpu_operator_cost": ("real", "0.0025", None),
    "cursor_tuple_fraction": ("real", "0.1", None),
    "effective_io_concurrency": ("int", "1", None),
    "max_parallel_workers_per_gather": ("int", "2", None),
    "max_parallel_workers": ("int", "8", None),
    "from_collapse_limit": ("int", "8", None),
    "join_collapse_limit": ("int", "8", None),
    "default_statistics_target": ("int", "100", None),
    "geqo_threshold": ("int", "12", None),
    "gin_fuzzy_search_limit": ("int", "0", None),
    "client_min_messages": ("enum", "notice", _LEVELS),
    "log_min_messages": ("enum", "warning", _LEVELS + ("fatal", "panic")),
    "synchronous_commit": ("enum", "on", ("on", "off", "local", "remote_write",
                                          "remote_apply")),
    "plan_cache_mode": ("enum", "auto", ("auto", "force_generic_plan", "force_custom_plan")),
    "constraint_exclusion": ("enum", "partition", ("partition", "on", "off")),
    "session_replication_role": ("enum", "origin", ("origin", "replica", "local")),
    "xmloption": ("enum", "content", ("content", "document")),
    "log_statement": ("enum", "none", ("none", "ddl", "mod", "all")),
    "backslash_quote": ("enum", "safe_encoding", ("safe_encoding", "on", "off")),
    "force_parallel_mode": ("enum", "off", ("off", "on", "regress")),
    "lc_messages": ("string", "C", None),
    "lc_monetary": ("string", "C", None),
    "lc_numeric": ("string", "C", None),
    "lc_time": ("string", "C", None),
    "temp_tablespaces": ("string", "", None),
    "default_tablespace": ("string", "", None),
    "default_text_search_config": ("string", "pg_catalog.english", None),
    "timezone_abbreviations": ("string", "Default", None),
    "parallel_setup_cost": ("real", "1000", None),
    "parallel_tuple_cost": ("real", "0.1", None),
    "jit_above_cost": ("real", "100000", None),
    "jit_inline_above_cost": ("real", "500000", None),
    "jit_optimize_above_cost": ("real", "500000", None),
    "geqo_effort": ("int", "5", None),
    "commit_delay": ("int", "0", None),
    "commit_siblings": ("int", "5", None),
    "vacuum_cost_limit": ("int", "200", None),
    "track_functions": ("enum", "none", ("none", "pl", "all")),
    "intervalstyle": ("enum", "postgres", ("postgres", "postgres_verbose", "sql_standard",
                                           "iso_8601")),
    "bytea_output": ("enum", "hex", ("hex", "escape")),
    "extra_float_digits": ("int", "1", None),
    "max_connections": ("int", "100", "restart"),
    "shared_buffers": ("memory", "128MB", "restart"),
    "max_locks_per_transaction": ("int", "64", "restart"),
    "max_prepared_transactions": ("int", "0", "restart"),
    "wal_level": ("enum", "replica", "restart"),
    "ssl": ("bool", "off", "restart"),
}
for _name in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan", "enable_bitmapscan",
              "enable_hashjoin", "enable_mergejoin", "enable_nestloop", "enable_sort",
              "enable_hashagg", "enable_material", "enable_memoize", "enable_tidscan",
              "enable_gathermerge", "enable_incremental_sort", "enable_parallel_append",
              "enable_parallel_hash", "enable_partition_pruning", "geqo", "row_security",
              "check_function_bodies", "escape_string_warning", "array_nulls",
              "synchronize_seqscans", "track_activities", "track_counts",
              "standard_conforming_strings"):
    PARAMETERS[_name] = ("bool", "on", None)
for _name in ("enable_partitionwise_join", "enable_partitionwise_aggregate",
              "quote_all_identifiers", "lo_compat_privileges", "track_io_timing",
              "transform_null_equals", "log_duration", "default_transaction_deferrable",
              "trace_sort", "log_lock_waits"):
    PARAMETERS[_name] = ("bool", "off", None)

_NUMBER = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)\s*$")
_TRUE = ("on", "true", "yes", "1", "t", "y")
_FALSE = ("off", "false", "no", "0", "f", "n")


def defaults() -> dict[str, str]:
    """Every parameter here with PostgreSQL's default, as SHOW prints it."""
    return {name: spec[1] for name, spec in PARAMETERS.items()}


def _invalid(name: str, value: str, hint: str | None = None) -> errors.Error:
    return errors.sql_error("22023", f'invalid value for parameter "{name}": "{value}"',
                            hint=hint)


def normalize(name: str, value: str) -> str:
    """``SET name = value``: the value as SHOW will print it; 22023 when PostgreSQL
    would refuse it, 55P02 for a parameter only a restart sets."""
    kind, default, extra = PARAMETERS[name]
    if value.lower() == "default":
        return default
    if extra == "restart":
        raise errors.sql_error("55P02", f'parameter "{name}" cannot be changed without '
                                        "restarting the server")
    if kind == "bool":
        low = value.strip().lower()
        if low in _TRUE:
            return "on"
        if low in _FALSE:
            return "off"
        raise errors.sql_error("22023", f'parameter "{name}" requires a Boolean value')
    if kind == "enum":
        low = value.strip().lower()
        if low not in extra:
            raise _invalid(name, value, "Available values: " + ", ".join(extra) + ".")
        return low
    if kind == "string":
        return value
    m = _NUMBER.match(value)
    if m is None:
        raise _invalid(name, value)
    number, unit = float(m.group(1)), m.group(2).lower()
    if kind in ("int", "real"):
        if unit or (kind == "int" and number != int(number)):
            raise errors.sql_error("22023", f'invalid value for parameter "{name}": "{value}"')
        return f"{int(number)}" if kind == "int" else f"{number:g}"
    if kind == "memory":
        if unit and unit not in _MEMORY_UNITS:
            raise _invalid(name, value, 'Valid units for this parameter are "B", "kB", '
                                        '"MB", "GB", and "TB".')
        kb = number * (_MEMORY_UNITS[unit] if unit else extra)
        if kb < 0:
            if kb == -1 and default == "-1":
                return "-1"
            raise errors.sql_error("22023", f'{int(kb)} kB is outside the valid range for '
                                            f'parameter "{name}"')
        return _show_memory(int(round(kb)))
    if unit and unit not in _TIME_UNITS:
        raise _invalid(name, value, 'Valid units for this parameter are "us", "ms", "s", '
                                    '"min", "h", and "d".')
    base = _TIME_UNITS[extra]
    ms = number * (_TIME_UNITS[unit] if unit else base)
    if ms < 0:
        if default == "-1" and round(ms / base) == -1:
            return "-1"
        raise errors.sql_error("22023", f'{m.group(1)} ms is outside the valid range for '
                                        f'parameter "{name}"')
    return _show_time(int(round(ms / base)), extra)


# Values PostgreSQL takes that change how values print or read, where only one way is
# built here: another is 0A000, never accepted and then ignored.
_ONLY = {
    "intervalstyle": ("postgres", "Intervals print in PostgreSQL's default style here."),
    "bytea_output": ("hex", "bytea prints in hex here (\\x...)."),
    "standard_conforming_strings": ("on", "Backslashes in '...' are ordinary characters "
                                          "here; write E'...' for escapes."),
}
# client_encoding: the spellings of UTF8 PostgreSQL reads (text always travels as UTF8)
_UTF8 = ("utf8", "utf-8", "unicode")
_ENCODINGS = frozenset((
    "sql_ascii", "euc_jp", "euc_cn", "euc_kr", "euc_tw", "euc_jis_2004", "mule_internal",
    "latin1", "latin2", "latin3", "latin4", "latin5", "latin6", "latin7", "latin8",
    "latin9", "latin10", "win1256", "win1258", "win866", "win874", "koi8r", "win1251",
    "win1252", "iso_8859_5", "iso_8859_6", "iso_8859_7", "iso_8859_8", "win1250",
    "win1253", "win1254", "win1255", "win1257", "koi8u", "sjis", "big5", "gbk", "uhc",
    "gb18030", "johab", "shift_jis_2004", "win", "alt", "iso88591", "iso88592"))


def check_supported(name: str, shown: str) -> None:
    """0A000 for a value PostgreSQL accepts but this engine would not honour (a client
    must not believe intervals, bytea or its encoding follow a setting they ignore)."""
    if name == "client_encoding":
        low = shown.strip().lower()
        if low in _UTF8:
            return
        if low.replace("-", "_") not in _ENCODINGS:
            raise _invalid(name, shown)
        raise errors.not_supported(f"client_encoding {shown}",
                                   hint="Text travels as UTF8 here; decode it on the client.")
    only = _ONLY.get(name)
    if only is not None and shown != only[0]:
        raise errors.not_supported(f"{name} {shown}", hint=only[1])


def _show_memory(kb: int) -> str:
    """PostgreSQL's SHOW of a memory setting: the largest unit dividing it exactly."""
    if kb == 0:
        return "0"
    for unit, size in (("TB", 1 << 30), ("GB", 1 << 20), ("MB", 1 << 10)):
        if kb % size == 0:
            return f"{kb // size}{unit}"
    return f"{kb}kB"


def _show_time(amount: int, base: str) -> str:
    if amount == 0:
        return "0"
    ms = amount * _TIME_UNITS[base]
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{int(ms // size)}{unit}"
    return f"{int(ms)}ms"
