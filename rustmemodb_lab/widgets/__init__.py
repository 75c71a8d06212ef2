"""ipywidgets of the lab: interactive views that talk back to the kernel.

Only views that need clicks are widgets (the branch tree checks a branch out);
everything static (tables, plans, diffs) is plain HTML from ``render/``,
which survives export and needs no widget manager.
"""
