"""Users and privileges: roles with SCRAM verifiers, GRANT/REVOKE, the privilege check.

``catalog`` (the immutable roles/owners/grants value kept in the root), ``verifier``
(PostgreSQL's password verifier formats), ``statements`` (CREATE/ALTER/DROP ROLE,
GRANT, REVOKE, SET ROLE as transactional actions), ``check`` (what a statement needs
and whether the session's role has it; has_table_privilege) and ``login``
(authenticating a user name and password against the roles, embedded or wire).
The SQL of these statements is read by ``sql/parse_roles.py``: sqlglot does not
parse them.
"""
