"""Inf-sup interval arithmetic in float64, outward rounded: every endpoint formula once.

An interval is a pair of doubles ``lo <= hi``; every operation returns a pair
that contains the exact result of the operation on every pair of reals in
its operands.  Only operations that IEEE 754 rounds correctly (``+ - * /``
and ``sqrt``, round-to-nearest; the rounding mode is never changed) are used,
and every computed endpoint is pushed one ulp outward (:mod:`zascheck.rounding`:
Rump, "INTLAB - INTerval LABoratory", 1999, Sec. 2; Higham, *Accuracy and
Stability of Numerical Algorithms*, 2nd ed., Sec. 2.2, model (2.4)).  A NaN
(``0 * inf``, ``inf / inf``, ``inf - inf``) becomes the whole line.  Integer
powers are built from products (``pow`` goes through libm and is not
correctly rounded).

The formulas are written ONCE, on endpoint pairs, over a handful of rounding
primitives (:class:`Primitives`), and instantiated twice by
:func:`endpoint_formulas`:

* :data:`SCALAR` on Python floats (``math.nextafter``): the scalars
  :class:`zascheck.iv64.Iv1` of the ``iv64`` backend, where one numpy call
  would cost more than the arithmetic;
* :data:`ARRAY` on float64 numpy arrays, elementwise with broadcasting: the
  class :class:`Iv` below, which the branch-and-bound certificates of
  :mod:`zascheck.measure.certify_thm43` and
  :mod:`zascheck.measure.certify_tight` run on (thousands of boxes per call,
  one numpy operation per interval operation).

Both instantiations give the same endpoints on the same operands
(``tests/test_interval.py`` checks it on random and extreme operands).
Where more than 53 bits are needed, the suite uses arb balls
(:mod:`zascheck.arith`, ``ball``).

>>> SCALAR.add(0.1, 0.1, 0.2, 0.2) == (dn1(0.1 + 0.2), up1(0.1 + 0.2))
True
>>> x = Iv(np.array([1.0]), np.array([2.0]))
>>> y = (x * x - x).hi[0] >= 3.0        # [1, 4] - [1, 2] = [-1, 3]: wider than the range
>>> bool(y)
True
>>> z = Iv.point(0.1) * 3
>>> bool(z.lo <= 0.30000000000000004 <= z.hi)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple, Union

import numpy as np

from zascheck.rounding import dn, dn1, hull4, hull4_1, up, up1

__all__ = [
    "ARRAY",
    "SCALAR",
    "Endpoints",
    "Iv",
    "Primitives",
    "as_iv",
    "endpoint_formulas",
    "quiet",
]

Fn = Callable[..., Any]


class Primitives(NamedTuple):
    """What the endpoint formulas need from one kind of operand (floats or arrays).

    ``dn`` / ``up``: the next double below / above (NaN -> ``-inf`` / ``+inf``);
    ``hull4(p1, p2, p3, p4) -> (dn(min), up(max))`` (a NaN anywhere -> the
    whole line); ``select(cond, a, b)``: ``a`` where ``cond`` else ``b``;
    ``maximum`` / ``minimum`` of two; ``sqrt`` correctly rounded;
    ``nonzero(ok, x)``: a denominator safe to divide by, equal to ``x`` where
    ``ok`` (its quotients are discarded elsewhere); ``every(cond)`` /
    ``some(cond)``: ``cond`` holds for every / some entry (a Python bool)."""

    dn: Fn
    up: Fn
    hull4: Fn
    select: Fn
    maximum: Fn
    minimum: Fn
    sqrt: Fn
    nonzero: Fn
    every: Fn
    some: Fn


class Endpoints(NamedTuple):
    """The endpoint formulas on pairs ``(lo, hi)`` (see :func:`endpoint_formulas`)."""

    add: Fn
    sub: Fn
    mul: Fn
    div: Fn
    sqr: Fn
    power: Fn
    sqrt: Fn


def endpoint_formulas(p: Primitives) -> Endpoints:
    """The outward-rounded endpoint formulas of interval arithmetic, written once
    over the primitives ``p`` (floats or arrays).  Each takes and returns
    endpoints; ``a = [alo, ahi]``, ``b = [blo, bhi]``:

    * ``add(a, b) = [dn(alo + blo), up(ahi + bhi)]``;
    * ``sub(a, b) = [dn(alo - bhi), up(ahi - blo)]``;
    * ``mul(a, b)``: the hull of the four corner products, outward;
    * ``div(a, b)``: the hull of the four corner quotients, outward, where
      ``b`` does not contain 0 (``blo > 0`` or ``bhi < 0``), else the whole line;
    * ``sqr(lo, hi) = x^2``: ``[0, up(max(lo^2, hi^2))]`` when ``0`` is in ``x``,
      else ``[max(dn(min(lo^2, hi^2)), 0), up(max(lo^2, hi^2))]`` (tighter
      than ``x * x``; ``lo * lo`` is correctly rounded, ``lo ** 2`` is not);
    * ``power(lo, hi, n)`` for an integer ``n >= 1``: where ``lo >= 0``, the
      powers of the two ends with every product rounded down (up) (for
      nonnegative factors a rounded-down (up) product of lower (upper)
      bounds is a lower (upper) bound); elsewhere binary powering by ``mul``
      and ``sqr`` (an array with both signs of ``lo`` computes both and
      selects per entry, so an entry's endpoints never depend on the others);
    * ``sqrt(lo, hi)``: ``[max(dn(sqrt(max(lo, 0))), 0), up(sqrt(max(hi, 0)))]``
      (negative parts clipped to 0)."""
    dn_, up_, hull, select = p.dn, p.up, p.hull4, p.select
    maximum, minimum, root, nonzero = p.maximum, p.minimum, p.sqrt, p.nonzero
    every, some = p.every, p.some
    inf = math.inf

    def add(alo: Any, ahi: Any, blo: Any, bhi: Any) -> tuple[Any, Any]:
        return dn_(alo + blo), up_(ahi + bhi)

    def sub(alo: Any, ahi: Any, blo: Any, bhi: Any) -> tuple[Any, Any]:
        return dn_(alo - bhi), up_(ahi - blo)

    def mul(alo: Any, ahi: Any, blo: Any, bhi: Any) -> tuple[Any, Any]:
        return hull(alo * blo, alo * bhi, ahi * blo, ahi * bhi)

    def div(alo: Any, ahi: Any, blo: Any, bhi: Any) -> tuple[Any, Any]:
        ok = (blo > 0) | (bhi < 0)
        dlo, dhi = nonzero(ok, blo), nonzero(ok, bhi)
        lo, hi = hull(alo / dlo, alo / dhi, ahi / dlo, ahi / dhi)
        return select(ok, lo, -inf), select(ok, hi, inf)

    def sqr(lo: Any, hi: Any) -> tuple[Any, Any]:
        l2, h2 = lo * lo, hi * hi
        zero_in = (lo <= 0) & (hi >= 0)
        return select(zero_in, 0.0, maximum(dn_(minimum(l2, h2)), 0.0)), up_(maximum(l2, h2))

    def power(lo: Any, hi: Any, n: int) -> tuple[Any, Any]:
        nonneg = lo >= 0
        if every(nonneg):
            return _power_nonneg(lo, n, dn_), _power_nonneg(hi, n, up_)
        out: tuple[Any, Any] | None = None
        base = (lo, hi)
        k = n
        while k:
            if k & 1:
                out = base if out is None else mul(*out, *base)
            k >>= 1
            if k:
                base = sqr(*base)
        assert out is not None, "n >= 1 sets out"
        if not some(nonneg):
            return out
        # arrays with both signs of lo: each entry by its own branch (as a float would be)
        plo, phi = _power_nonneg(lo, n, dn_), _power_nonneg(hi, n, up_)
        return select(nonneg, plo, out[0]), select(nonneg, phi, out[1])

    def sqrt(lo: Any, hi: Any) -> tuple[Any, Any]:
        return maximum(dn_(root(maximum(lo, 0.0))), 0.0), up_(root(maximum(hi, 0.0)))

    return Endpoints(add, sub, mul, div, sqr, power, sqrt)


def _power_nonneg(x: Any, n: int, rnd: Fn) -> Any:
    """``x^n`` for ``x >= 0`` and an integer ``n >= 1`` by binary powering,
    every product rounded by ``rnd`` (down or up)."""
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


def _max1(a: float, b: float) -> float:
    """``max`` of two floats that propagates a NaN in either place, as
    ``numpy.maximum`` does (Python's ``max(4.0, nan)`` is ``4.0``: a NaN end
    would be dropped and a finite, wrong end returned)."""
    return a if a != a or a >= b else b


def _min1(a: float, b: float) -> float:
    """``min`` of two floats that propagates a NaN, as ``numpy.minimum``."""
    return a if a != a or a <= b else b


def _sqrt1(x: float) -> float:
    """``math.sqrt`` with ``sqrt(nan) = nan`` (math raises on nothing else here:
    its arguments are ``max(., 0)``)."""
    return x if x != x else math.sqrt(x)


def _select1(cond: bool, a: float, b: float) -> float:
    return a if cond else b


def _nonzero1(ok: bool, x: float) -> float:
    return x if ok else 1.0  # Python raises on x / 0.0; the quotient is discarded anyway


def _nonzero(ok: np.ndarray, x: np.ndarray) -> np.ndarray:
    return x  # numpy divides by 0 quietly (inside quiet()); the quotient is discarded


def _every(cond: np.ndarray) -> bool:
    return bool(np.all(cond))


def _some(cond: np.ndarray) -> bool:
    return bool(np.any(cond))


#: the formulas on Python floats (``math.nextafter``; :class:`zascheck.iv64.Iv1`)
SCALAR = endpoint_formulas(
    Primitives(dn1, up1, hull4_1, _select1, _max1, _min1, _sqrt1, _nonzero1, bool, bool)
)
#: the formulas on float64 numpy arrays, elementwise with broadcasting (:class:`Iv`)
ARRAY = endpoint_formulas(
    Primitives(dn, up, hull4, np.where, np.maximum, np.minimum, np.sqrt, _nonzero, _every, _some)
)

_add, _sub, _mul, _div = ARRAY.add, ARRAY.sub, ARRAY.mul, ARRAY.div
_sqr, _power, _sqrt = ARRAY.sqr, ARRAY.power, ARRAY.sqrt

Num = Union["Iv", float, int, np.ndarray]


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
    """Intervals ``[lo, hi]`` elementwise over float64 numpy arrays
    (broadcasting as numpy does); every operation by the :data:`ARRAY`
    formulas.  Run many operations inside ``with quiet():``."""

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
        """``hi - lo`` as computed (not rounded up: a size for bisection, not a bound)."""
        return self.hi - self.lo

    @property
    def mid(self) -> np.ndarray:
        """``0.5 (lo + hi)`` as computed (a bisection point, not an enclosure)."""
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
        """The smallest interval containing both (no rounding: endpoints are copied)."""
        o = as_iv(other)
        return Iv(np.minimum(self.lo, o.lo), np.maximum(self.hi, o.hi))

    # -- arithmetic -------------------------------------------------------------
    def __neg__(self) -> Iv:
        return Iv(-self.hi, -self.lo)

    def __add__(self, other: Num) -> Iv:
        o = as_iv(other)
        return Iv(*_add(self.lo, self.hi, o.lo, o.hi))

    __radd__ = __add__

    def __sub__(self, other: Num) -> Iv:
        o = as_iv(other)
        return Iv(*_sub(self.lo, self.hi, o.lo, o.hi))

    def __rsub__(self, other: Num) -> Iv:
        return as_iv(other) - self

    def __mul__(self, other: Num) -> Iv:
        o = as_iv(other)
        return Iv(*_mul(self.lo, self.hi, o.lo, o.hi))

    __rmul__ = __mul__

    def __truediv__(self, other: Num) -> Iv:
        """Division by an interval that does not contain 0 (else the whole line)."""
        o = as_iv(other)
        return Iv(*_div(self.lo, self.hi, o.lo, o.hi))

    def __rtruediv__(self, other: Num) -> Iv:
        return as_iv(other) / self

    def sqr(self) -> Iv:
        """``x^2`` (tighter than ``x * x`` when 0 is inside)."""
        return Iv(*_sqr(self.lo, self.hi))

    def __pow__(self, n: int) -> Iv:
        """``x^n`` for an integer ``n >= 0`` (binary powering, each product
        outward); raises ``ValueError`` for another ``n``."""
        if int(n) != n or n < 0:
            raise ValueError(f"only integer powers n >= 0, got {n!r}")
        n = int(n)
        if n == 0:
            return Iv(np.ones_like(self.lo), np.ones_like(self.hi))
        return Iv(*_power(self.lo, self.hi, n))

    def sqrt(self) -> Iv:
        """Square root of a nonnegative interval (negative parts clipped to 0)."""
        return Iv(*_sqrt(self.lo, self.hi))

    # -- comparisons (certain answers) ------------------------------------------
    def certainly_le(self, other: Num) -> np.ndarray:
        """Elementwise: every point of ``self`` is ``<=`` every point of ``other``."""
        return self.hi <= as_iv(other).lo

    def certainly_lt(self, other: Num) -> np.ndarray:
        """Elementwise: every point of ``self`` is ``<`` every point of ``other``."""
        return self.hi < as_iv(other).lo
