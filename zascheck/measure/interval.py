"""Vectorized interval arithmetic on numpy arrays, with outward rounding.

An :class:`Iv` holds two float64 arrays ``lo <= hi``; every operation returns
an interval that contains the exact result of the operation on every pair of
reals in its operands.  Only operations that IEEE 754 rounds correctly
(``+ - * /`` and ``sqrt``, round-to-nearest) are used, and every computed
endpoint is pushed one ulp outward with :func:`numpy.nextafter`, so the
enclosure is rigorous without changing the rounding mode.  Integer powers are
built from products (``numpy.power`` goes through libm and is not correctly
rounded).  A NaN (``0 * inf``) becomes the whole line.

This is what the branch-and-bound certificates of
:mod:`zascheck.measure.certify_thm43` run on: thousands of boxes per call, one
numpy operation per interval operation.  Where more than 53 bits are needed,
the suite uses arb balls (:mod:`zascheck.arith`, ``ball``) instead.

>>> x = Iv(np.array([1.0]), np.array([2.0]))
>>> y = (x * x - x).hi[0] >= 3.0        # [1, 4] - [1, 2] = [-1, 3]: wider than the range
>>> bool(y)
True
>>> z = Iv.point(0.1) * 3
>>> bool(z.lo <= 0.30000000000000004 <= z.hi)
True
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np

from zascheck.rounding import dn as _dn
from zascheck.rounding import up as _up

__all__ = ["Iv", "as_iv", "quiet"]

Num = Union["Iv", float, int, np.ndarray]


#: overflow to inf, 0 * inf and x / 0 are handled by the outward widening (to the line)
def quiet() -> Any:
    """The numpy error state interval code runs in: overflow to ``inf``, ``0 * inf``
    and ``x / 0`` are handled by the outward widening (to the whole line), so
    numpy must not warn (the test suite turns warnings into errors).  Entry
    points that run many interval operations wrap them in ``with quiet():``
    (one context per call, not per operation: entering one costs as much as
    an interval product)."""
    return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")


def as_iv(x: Num) -> Iv:
    """An interval from an :class:`Iv`, a float (exact as a double) or an array of floats."""
    if isinstance(x, Iv):
        return x
    a = np.asarray(x, dtype=float)
    return Iv(a, a)


class Iv:
    """Intervals ``[lo, hi]`` elementwise over numpy arrays (broadcasting as numpy does)."""

    __slots__ = ("hi", "lo")

    def __init__(self, lo: Any, hi: Any = None) -> None:
        self.lo = np.asarray(lo, dtype=float)
        self.hi = np.asarray(lo if hi is None else hi, dtype=float)

    @classmethod
    def point(cls, x: Any) -> Iv:
        """The degenerate interval of a double (exact)."""
        a = np.asarray(x, dtype=float)
        return cls(a, a)

    # -- structure ------------------------------------------------------------
    @property
    def width(self) -> np.ndarray:
        return self.hi - self.lo

    @property
    def mid(self) -> np.ndarray:
        return 0.5 * (self.lo + self.hi)

    def __getitem__(self, idx: Any) -> Iv:
        return Iv(self.lo[idx], self.hi[idx])

    def __repr__(self) -> str:
        return f"Iv(lo={self.lo!r}, hi={self.hi!r})"

    def intersect(self, other: Num) -> Iv:
        """Intersection (empty parts come out with ``lo > hi``; callers test that)."""
        o = as_iv(other)
        return Iv(np.maximum(self.lo, o.lo), np.minimum(self.hi, o.hi))

    def hull(self, other: Num) -> Iv:
        o = as_iv(other)
        return Iv(np.minimum(self.lo, o.lo), np.maximum(self.hi, o.hi))

    # -- arithmetic -------------------------------------------------------------
    def __neg__(self) -> Iv:
        return Iv(-self.hi, -self.lo)

    def __add__(self, other: Num) -> Iv:
        o = as_iv(other)
        return Iv(_dn(self.lo + o.lo), _up(self.hi + o.hi))

    __radd__ = __add__

    def __sub__(self, other: Num) -> Iv:
        o = as_iv(other)
        return Iv(_dn(self.lo - o.hi), _up(self.hi - o.lo))

    def __rsub__(self, other: Num) -> Iv:
        return as_iv(other) - self

    def __mul__(self, other: Num) -> Iv:
        o = as_iv(other)
        p1, p2, p3, p4 = self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi
        # a NaN (0 * inf) propagates through minimum/maximum and _dn/_up widen it to the line
        lo = np.minimum(np.minimum(p1, p2), np.minimum(p3, p4))
        hi = np.maximum(np.maximum(p1, p2), np.maximum(p3, p4))
        return Iv(_dn(lo), _up(hi))

    __rmul__ = __mul__

    def __truediv__(self, other: Num) -> Iv:
        """Division by an interval that does not contain 0 (else the whole line)."""
        o = as_iv(other)
        bad = ~((o.lo > 0) | (o.hi < 0))
        p1, p2, p3, p4 = self.lo / o.lo, self.lo / o.hi, self.hi / o.lo, self.hi / o.hi
        lo = np.where(bad, np.nan, np.minimum(np.minimum(p1, p2), np.minimum(p3, p4)))
        hi = np.where(bad, np.nan, np.maximum(np.maximum(p1, p2), np.maximum(p3, p4)))
        return Iv(_dn(lo), _up(hi))

    def __rtruediv__(self, other: Num) -> Iv:
        return as_iv(other) / self

    def sqr(self) -> Iv:
        """``x^2`` (tighter than ``x * x`` when 0 is inside)."""
        lo2, hi2 = self.lo * self.lo, self.hi * self.hi
        pos = self.lo >= 0
        neg = self.hi <= 0
        lo = np.where(pos, lo2, np.where(neg, hi2, 0.0))
        hi = np.where(pos, hi2, np.where(neg, lo2, np.maximum(lo2, hi2)))
        return Iv(np.where(pos | neg, _dn(lo), 0.0), _up(hi))

    def __pow__(self, n: int) -> Iv:
        """``x^n`` for an integer ``n >= 0`` (binary powering, each product outward)."""
        if int(n) != n or n < 0:
            raise ValueError(f"only integer powers n >= 0, got {n!r}")
        n = int(n)
        if n == 0:
            return Iv(np.ones_like(self.lo), np.ones_like(self.hi))
        if bool(np.all(self.lo >= 0)):
            return Iv(_pow_nonneg(self.lo, n, _dn), _pow_nonneg(self.hi, n, _up))
        out: Iv | None = None
        base = self
        while n:
            if n & 1:
                out = base if out is None else out * base
            n >>= 1
            if n:
                base = base.sqr()
        assert out is not None, "n >= 1 sets out"
        return out

    def sqrt(self) -> Iv:
        """Square root of a nonnegative interval (negative parts clipped to 0)."""
        lo = np.sqrt(np.maximum(self.lo, 0.0))
        hi = np.sqrt(np.maximum(self.hi, 0.0))
        return Iv(np.maximum(_dn(lo), 0.0), _up(hi))

    # -- comparisons (certain answers) ------------------------------------------
    def certainly_le(self, other: Num) -> np.ndarray:
        """Elementwise: every point of ``self`` is ``<=`` every point of ``other``."""
        return self.hi <= as_iv(other).lo

    def certainly_lt(self, other: Num) -> np.ndarray:
        return self.hi < as_iv(other).lo


def _pow_nonneg(x: np.ndarray, n: int, rnd: Any) -> np.ndarray:
    """``x^n`` for ``x >= 0`` with every product rounded by ``rnd`` (down or up):
    for nonnegative factors the rounded-down (up) products of lower (upper)
    bounds are lower (upper) bounds of the exact power."""
    out = None
    base = x
    while n:
        if n & 1:
            out = base if out is None else rnd(out * base)
        n >>= 1
        if n:
            base = rnd(base * base)
    assert out is not None, "n >= 1"
    return out
