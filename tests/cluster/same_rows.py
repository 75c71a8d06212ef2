"""One comparison of a cluster's rows with the single engine's, for the cluster tests:
same length, same values in order, floats within 1e-9 (a sum over shards adds in
another order than one engine's), NaN equal to NaN."""
from __future__ import annotations

import math


def same_rows(got, want, q) -> None:
    assert len(got) == len(want), q
    for r1, r2 in zip(got, want):
        for u, v in zip(r1, r2):
            if isinstance(v, float) and isinstance(u, float):
                assert math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-9) or \
                    (math.isnan(u) and math.isnan(v)), (q, r1, r2)
            else:
                assert u == v, (q, r1, r2)
