"""The Textual client behind ``rustmemodb cli``.

    session.py      what a statement or a backslash command does (no UI): embedded
                    branches or a psycopg connection, results as Arrow
    completion.py   Tab completion candidates from the text before the cursor
    history.py      past statements, kept in the user's data directory
    explain.py      EXPLAIN ANALYZE text → indented tree, slowest node marked
    render.py       error text with the caret, status lines
    app.py          the Textual App: editor, result grid, history pane, keys
"""
