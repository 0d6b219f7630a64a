"""Compiled entrywise loops of :mod:`zascheck.iv64` (numba, imported on first use).

Each kernel evaluates, entry by entry, EXACTLY the floating-point operations
of the numpy reference in :mod:`zascheck.iv64` that it replaces, in the same
order (``tests/test_iv64_kernels.py`` checks that the results agree bit for
bit): one call instead of 3 to 20 numpy calls, one pass over memory instead of
one per operation.  So the soundness proofs of :mod:`zascheck.iv64` cover
them unchanged.  The rounding model needs every ``+ - *`` correctly rounded
in round-to-nearest: the kernels are compiled WITHOUT ``fastmath`` (LLVM may
then neither reassociate, nor flush subnormals to zero, nor contract a
product and a sum into a fused multiply-add; a contraction would still keep
every bound of :mod:`zascheck.iv64`, whose models hold for an FMA as one
correctly rounded operation, Higham Sec. 2.6, but the bit-for-bit test would
report it).  ``abs`` is exact.  There are no sums of many terms here: the
inner products stay in BLAS (bound (I) of :mod:`zascheck.iv64` holds for any
order).

Arrays are float64, C-contiguous, shaped ``(3, N)`` (a packed
``[mid, |mid|, rad]`` flattened); callers fall back to numpy otherwise.
``cache=True``: the machine code is stored next to this file (or in numba's
user cache directory) after the first compilation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["finish_product", "partner_forms", "sub_scaled"]


@njit(cache=True)
def finish_product(out: np.ndarray, tau: float) -> None:  # pragma: no cover - compiled
    """In place on ``out = [mC, S1, S2]`` ``(3, N)``: ``S2 <- fl(fl(S1 + S2) + tau)``,
    ``S1 <- |mC|`` (:func:`zascheck.iv64._finish_product`)."""
    for i in range(out.shape[1]):
        s = out[1, i] + out[2, i]
        out[2, i] = s + tau
        out[1, i] = abs(out[0, i])


@njit(cache=True)
def partner_forms(
    data: np.ndarray, x: np.ndarray, g: float, c: float, add: float
) -> None:  # pragma: no cover - compiled
    """``x <- [m, fl(fl(fl(g |m|) + r) c) + add, fl(fl(|m| + r) c) + add]`` for
    ``data = [m, |m|, r]`` ``(3, N)`` (:func:`zascheck.iv64.partner_forms`
    with :func:`zascheck.iv64.infl`'s ``c`` and ``add``)."""
    for i in range(data.shape[1]):
        am = data[1, i]
        r = data[2, i]
        x[0, i] = data[0, i]
        f1 = g * am
        f1 = f1 + r
        x[1, i] = f1 * c + add
        f2 = am + r
        x[2, i] = f2 * c + add


@njit(cache=True)
def sub_scaled(
    a: np.ndarray,
    g: np.ndarray,
    out: np.ndarray,
    ms: float,
    rs: float,
    u: float,
    c: float,
    add: float,
) -> None:  # pragma: no cover - compiled
    """``out <- a - s g`` for ``s = [ms - rs, ms + rs]``, packed ``(3, N)``
    (:func:`zascheck.iv64.sub_scaled_stack`, the same operations in the same
    order; ``c``, ``add`` of ``infl(., 4, 4)``)."""
    ams = abs(ms)
    for i in range(a.shape[1]):
        p = g[0, i] * ms
        mid = a[0, i] - p
        amid = abs(mid)
        t = g[2, i] * ams
        t = t + a[2, i]
        if rs > 0:
            v = g[1, i] + g[2, i]
            v = v * rs
            t = t + v
        w = abs(p) + amid
        w = w * u
        t = t + w
        out[0, i] = mid
        out[1, i] = amid
        out[2, i] = t * c + add
