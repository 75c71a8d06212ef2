"""Users and privileges: roles with SCRAM verifiers, GRANT/REVOKE, the privilege check.

The data sits low in the pipeline, where everything can ask it: the roles catalog
(roles, memberships, owners, grants; ``has_privilege``) is ``storage/roles.py``, kept
in the root; what each statement needs is worked out by the binder
(``sql/bind/privileges.py``); ``has_table_privilege`` and friends are
``sql/bind/privilege_functions.py``; the statements are read by
``sql/parse_roles.py`` (sqlglot does not parse them) and planned as
``plan/auth.py``. This package holds what runs on top: ``verifier`` (PostgreSQL's
password verifier formats), ``statements`` (CREATE/ALTER/DROP ROLE, GRANT, REVOKE,
ownership, SET ROLE, applied inside the transaction), ``check`` (whether the
session's role holds what a statement needs, at every execution) and ``login``
(a user name and password against the roles, embedded or over the wire).
"""
