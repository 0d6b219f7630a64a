"""Outward rounding primitives for certified float64 arithmetic.

Under IEEE 754 round-to-nearest (the mode numpy and Python always run in; the
rounding mode is never changed), the operations ``+ - * /`` and ``sqrt`` are
correctly rounded: the computed result is the double nearest the exact one,
so it is at most half an ulp away.  Pushing a computed endpoint one ulp
outward with ``nextafter`` therefore gives a rigorous bound of the exact
result of that one operation (Rump, "INTLAB - INTerval LABoratory", 1999,
Sec. 2; Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
Sec. 2.2, model (2.4)).  A NaN endpoint (``0 * inf``) becomes the end of the
whole line.

Two flavours, one place: :func:`up` / :func:`dn` / :func:`hull4` on numpy
arrays (used by :mod:`zascheck.interval` and :mod:`zascheck.iv64`),
:func:`up1` / :func:`dn1` / :func:`hull4_1` on Python floats (the scalars of
:mod:`zascheck.iv64`, where a numpy call would cost 20 times more than the
arithmetic).  The endpoint formulas of interval arithmetic built on them are
written once, in :mod:`zascheck.interval`.

>>> up1(1.0) > 1.0 > dn1(1.0)
True
>>> float(up(np.array(np.nan)))
inf
>>> hull4_1(1.0, -2.0, 3.0, 0.5) == (dn1(-2.0), up1(3.0))
True
>>> hull4_1(0.0 * math.inf, 1.0, 1.0, 1.0)
(-inf, inf)
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ETA", "U", "dn", "dn1", "hull4", "hull4_1", "up", "up1"]

#: unit roundoff of IEEE double, round-to-nearest: |fl(x) - x| <= U |x| (normal range)
U = 2.0**-53
#: the smallest positive subnormal double (Higham's underflow unit for products)
ETA = math.ulp(0.0)

_NINF = -np.inf
_PINF = np.inf


def dn(x: np.ndarray) -> np.ndarray:
    """The next double below every entry of ``x`` (a NaN becomes ``-inf``):
    a lower bound of the exact result of the one correctly rounded operation
    that produced ``x``.  Same shape as ``x``."""
    # fmax(NaN, -inf) = -inf: a NaN endpoint becomes the whole line's end
    return np.nextafter(np.fmax(x, _NINF), _NINF)


def up(x: np.ndarray) -> np.ndarray:
    """The next double above every entry of ``x`` (a NaN becomes ``+inf``)."""
    return np.nextafter(np.fmin(x, _PINF), _PINF)


def dn1(x: float) -> float:
    """:func:`dn` for one Python float (NaN -> ``-inf``)."""
    return -math.inf if x != x else math.nextafter(x, -math.inf)


def up1(x: float) -> float:
    """:func:`up` for one Python float (NaN -> ``+inf``)."""
    return math.inf if x != x else math.nextafter(x, math.inf)


def hull4(
    p1: np.ndarray, p2: np.ndarray, p3: np.ndarray, p4: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(dn(min), up(max))`` of four arrays of computed candidates (the four
    corner products or quotients of an interval product or quotient),
    elementwise with broadcasting: an enclosure of the exact values the four
    correctly rounded operations approximate.  A NaN in any candidate
    (``0 * inf``, ``inf / inf``) propagates through ``minimum`` / ``maximum``
    and becomes the whole line ``(-inf, +inf)``."""
    lo = np.minimum(np.minimum(p1, p2), np.minimum(p3, p4))
    hi = np.maximum(np.maximum(p1, p2), np.maximum(p3, p4))
    return dn(lo), up(hi)


def hull4_1(p1: float, p2: float, p3: float, p4: float) -> tuple[float, float]:
    """:func:`hull4` for four Python floats, the same endpoints: a NaN in any
    candidate gives ``(-inf, +inf)`` (Python's ``min`` / ``max`` do not
    propagate NaN, so it is tested first); else ``(dn1(min), up1(max))``,
    with :func:`dn1` / :func:`up1` inlined (no NaN is left)."""
    if p1 != p1 or p2 != p2 or p3 != p3 or p4 != p4:
        return -math.inf, math.inf
    return math.nextafter(min(p1, p2, p3, p4), -math.inf), math.nextafter(
        max(p1, p2, p3, p4), math.inf
    )
