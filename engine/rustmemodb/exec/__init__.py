"""Execution: physical operators over Arrow tables, plus a row path for point work."""
