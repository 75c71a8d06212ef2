"""The PEP 249 (DB-API 2.0) surface: connections, cursors, Arrow/pandas in and out."""
