"""Transactions: snapshot isolation over immutable roots, first committer wins."""
