"""The ``rustmemodb`` console script: the TUI client, the load test and ``check``.

Built on the public engine API only (``rustmemodb.connect``, connections, cursors,
``rustmemodb.branch``, ``rustmemodb.check``); the core never imports this package.
``main.py`` is the launcher (argparse subcommands), ``loadtest.py`` the synthetic
load test, ``check.py`` the directory verifier and ``tui/`` the Textual client
(an extra: ``pip install rustmemodb[cli]``).
"""
