"""GRANT and REVOKE by a role holding only some of the grant options asked for.

PostgreSQL (restrict_and_check_grant) does not fail such a statement: it grants or
revokes what the role may, and says so with a WARNING per object, ``no privileges were
granted for "t"`` (01007) when it could do nothing, ``not all privileges were granted
for "t"`` when it did part and ALL was not asked, and ``... could be revoked ...``
(01006) for REVOKE. A column's reads ``for column "a" of relation "t"``. REVOKE of a
table privilege that columns have too is applied to every column, so each column,
the system columns of a table first, gets its own warning.
"""
from __future__ import annotations

from .. import notices

# a table's (and materialized view's) system columns in attnum order, -6 .. -1
SYSTEM_COLUMNS = ("tableoid", "cmax", "xmax", "cmin", "xmin", "ctid")
# a sequence's columns (SELECT * FROM s in PostgreSQL), which REVOKE warns about too
SEQUENCE_COLUMNS = ("last_value", "log_cnt", "is_called")


def relation_label(name: str) -> str:
    return f'"{name.rsplit(".", 1)[-1]}"'


def column_label(table: str, column: str) -> str:
    return f'column "{column}" of relation {relation_label(table)}'


def restricted(grant: bool, label: str, asked, can, all_privs: bool) -> None:
    """The warning when ``can`` (what the grantor may give or take) falls short of
    ``asked`` for the object ``label``; none when ALL was asked and some could be."""
    if can and (all_privs or set(can) >= set(asked)):
        return
    amount = "not all" if can else "no"
    if grant:
        notices.emit(f"{amount} privileges were granted for {label}", "01007", "WARNING")
    else:
        notices.emit(f"{amount} privileges could be revoked for {label}", "01006", "WARNING")
