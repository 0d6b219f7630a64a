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

__all__ = ["finish_product", "fro2_sums", "partner_forms", "sub_scaled", "sum_finish"]


@njit(cache=True)
def finish_product(out3: np.ndarray, tau: float) -> None:  # pragma: no cover - compiled
    """In place on ``out3 = [mC, S1, S2]`` (C-contiguous, first axis 3):
    ``S2 <- fl(fl(S1 + S2) + tau)``, ``S1 <- |mC|``
    (:func:`zascheck.iv64._finish_product`)."""
    out = out3.reshape(3, out3.size // 3)
    for i in range(out.shape[1]):
        s = out[1, i] + out[2, i]
        out[2, i] = s + tau
        out[1, i] = abs(out[0, i])


@njit(cache=True)
def sum_finish(
    a: np.ndarray, b: np.ndarray, out: np.ndarray, sign: float, u: float, c: float, add: float
) -> None:  # pragma: no cover - compiled
    """``out <- a + sign b`` (``sign = +-1``) for packed ``(3, N)`` operands:
    ``mid = fl(mA +- mB)``, ``rad = fl(fl(fl(rA + rB) + fl(u |mid|)) c) + add``
    (:meth:`zascheck.iv64.Iv64Backend.add` / ``sub`` through ``_sum``)."""
    for i in range(a.shape[1]):
        mid = a[0, i] + b[0, i] if sign > 0 else a[0, i] - b[0, i]
        amid = abs(mid)
        t = a[2, i] + b[2, i]
        t = t + amid * u
        out[0, i] = mid
        out[1, i] = amid
        out[2, i] = t * c + add


@njit(cache=True)
def fro2_sums(a: np.ndarray) -> tuple[float, float]:  # pragma: no cover - compiled
    """``(fl(x^T x), fl(y^T y))`` with ``x = fl(|m| + r)``, ``y = max(fl(|m| - r), 0)``
    for packed ``a`` ``(3, N)``, summed left to right
    (:meth:`zascheck.iv64.Iv64Backend.fro2`; its bounds hold for any order)."""
    hi = 0.0
    lo = 0.0
    for i in range(a.shape[1]):
        x = a[1, i] + a[2, i]
        hi = hi + x * x
        y = a[1, i] - a[2, i]
        if y > 0:
            lo = lo + y * y
    return hi, lo


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
    forms: np.ndarray,
    ms: float,
    rs: float,
    consts: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """``out <- a - s g`` for ``s = [ms - rs, ms + rs]``, packed ``(3, N)``
    (:func:`zascheck.iv64.sub_scaled_stack`, the same operations in the same
    order), and, when ``forms`` has ``N`` columns, the partner forms of the
    result into ``forms`` (:func:`partner_forms`).  ``consts = [u, c, add,
    g, cf, addf]``: the unit roundoff, ``infl(., 4, 4)``'s constants, and
    ``gamma_up(n)`` with ``infl(., n + 4, 1)``'s constants for the forms."""
    u, c, add, gam, cf, addf = consts[0], consts[1], consts[2], consts[3], consts[4], consts[5]
    ams = abs(ms)
    with_forms = forms.shape[1] == a.shape[1]
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
        r = t * c + add
        out[0, i] = mid
        out[1, i] = amid
        out[2, i] = r
        if with_forms:
            forms[0, i] = mid
            f1 = gam * amid
            f1 = f1 + r
            forms[1, i] = f1 * cf + addf
            f2 = amid + r
            forms[2, i] = f2 * cf + addf
