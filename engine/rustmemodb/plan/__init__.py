"""Logical plans: what a statement computes, independent of how it is executed."""
