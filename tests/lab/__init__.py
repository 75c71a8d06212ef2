"""In-process tests of the rustmemodb_lab magics (IPython shell, no kernel)."""
