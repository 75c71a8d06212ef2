"""The SQL front end: split, dispatch, parse (sqlglot), bind, plan cache."""
