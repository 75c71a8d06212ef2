"""The ``%sql`` options that are not SQL, one family per module.

``connection`` (--connect, --connection, --connections), ``branch`` (--fork,
--checkout, --drop-branch, --undo, --branches, --tables), ``compare``
(--diff, --merge) and ``persist`` (--persist, --append). Each function takes
``(cmd, ctx)`` and returns something to display, or None; ``run.py`` decides
the order and what is shown.
"""
