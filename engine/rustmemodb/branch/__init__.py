"""Branching: fork lineage, row-level diff between databases, three-way merge.

    from rustmemodb.branch import diff, diff_all, merge
"""
from .diff import Diff, diff, diff_all, diff_versions
from .lineage import MergeBase, common_base
from .merge import MergeResult, merge

__all__ = ["Diff", "diff", "diff_all", "diff_versions", "merge", "MergeResult", "MergeBase",
           "common_base"]
