"""Physical operators, one per file; each registers itself with ``exec.run.operator``."""
