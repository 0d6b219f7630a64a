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

Two flavours, one place: :func:`up` / :func:`dn` on numpy arrays (used by
:mod:`zascheck.measure.interval` and :mod:`zascheck.iv64`), :func:`up1` /
:func:`dn1` on Python floats (the scalars of :mod:`zascheck.iv64`, where a
numpy call would cost 20 times more than the arithmetic).

>>> up1(1.0) > 1.0 > dn1(1.0)
True
>>> float(up(np.array(np.nan)))
inf
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ETA", "U", "dn", "dn1", "up", "up1"]

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
