"""The interval endpoint formulas of :mod:`zascheck.interval`, written once.

Both users of each formula -- the Python-float scalars of the ``iv64``
backend (:class:`zascheck.iv64.Iv1`, :data:`SCALAR`) and the numpy-array
intervals of the branch-and-bound certificates (:class:`zascheck.interval.Iv`,
:data:`ARRAY`) -- must give the SAME endpoints on the same operands
(random, subnormal, huge, signed-zero and infinite ends), and those
endpoints must enclose the exact rational result.
"""

from __future__ import annotations

import math
from fractions import Fraction
import numpy as np
import pytest

from zascheck.interval import ARRAY, SCALAR, Iv, quiet
from zascheck.iv64 import Iv1, Iv64Backend

_SPECIAL = [0.0, -0.0, 1.0, -1.0, 5e-324, -5e-324, 2.0**-1060, 1e-200, 1e300, -1e300, 1.7e308]
_SPECIAL += [-1.7e308, math.inf, -math.inf, 0.1, 3.0, -2.5]


def _operands(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` intervals ``lo <= hi``: random normals and the special values, mixed."""
    rng = np.random.default_rng(seed)
    pool = np.array(_SPECIAL + list(rng.standard_normal(40) * 10.0 ** rng.integers(-5, 5, 40)))
    a, b = rng.choice(pool, n), rng.choice(pool, n)
    point = rng.random(n) < 0.3  # many points: the common case of both users
    b = np.where(point, a, b)
    return np.minimum(a, b), np.maximum(a, b)


def _same(op: str, arr: tuple[np.ndarray, np.ndarray], sc: list[tuple[float, float]]) -> None:
    lo = np.array([x[0] for x in sc])
    hi = np.array([x[1] for x in sc])
    assert not np.isnan(arr[0]).any() and not np.isnan(arr[1]).any(), op
    assert not np.isnan(lo).any() and not np.isnan(hi).any(), op
    assert np.array_equal(arr[0], lo), op
    assert np.array_equal(arr[1], hi), op


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_binary_formulas_give_the_same_endpoints_on_floats_and_arrays(op: str) -> None:
    alo, ahi = _operands(4000, 1)
    blo, bhi = _operands(4000, 2)
    with quiet():
        arr = getattr(ARRAY, op)(alo, ahi, blo, bhi)
    f = getattr(SCALAR, op)
    sc = [f(*map(float, t)) for t in zip(alo, ahi, blo, bhi, strict=True)]
    _same(op, arr, sc)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
def test_unary_formulas_give_the_same_endpoints_on_floats_and_arrays(n: int) -> None:
    lo, hi = _operands(4000, 3)
    with quiet():
        cases = [
            ("sqr", ARRAY.sqr(lo, hi), SCALAR.sqr),
            ("sqrt", ARRAY.sqrt(lo, hi), SCALAR.sqrt),
            ("power", ARRAY.power(lo, hi, n), lambda a, b: SCALAR.power(a, b, n)),
            # the nonnegative branch of power on arrays that are nonnegative everywhere
            ("power+", ARRAY.power(np.abs(lo), np.abs(lo), n), lambda a, b: SCALAR.power(a, a, n)),
        ]
    for name, arr, f in cases:
        src = np.abs(lo) if name == "power+" else lo
        sc = [f(float(a), float(b)) for a, b in zip(src, hi, strict=True)]
        _same(f"{name} n={n}", arr, sc)


def test_iv1_and_iv_are_the_same_arithmetic() -> None:
    """The classes, not just the formulas: Iv1 ops equal Iv ops entry by entry."""
    alo, ahi = _operands(300, 4)
    blo, bhi = _operands(300, 5)
    ok = np.isfinite(alo) & np.isfinite(ahi) & np.isfinite(blo) & np.isfinite(bhi)
    alo, ahi, blo, bhi = alo[ok], ahi[ok], blo[ok], bhi[ok]
    A, B = Iv(alo, ahi), Iv(blo, bhi)
    with quiet():
        arrays = [A + B, A - B, A * B, A / B, A.sqr(), A**3, A**6, A.sqrt()]
    for i in range(alo.size):
        a, b = Iv1(alo[i], ahi[i]), Iv1(blo[i], bhi[i])
        scalars = [a + b, a - b, a * b, a / b, a.sqr(), a**3, a**6]
        scalars.append(Iv64Backend().sqrt(a) if ahi[i] >= 0 else Iv1(*SCALAR.sqrt(a.lo, a.hi)))
        for x, y in zip(scalars, arrays, strict=True):
            assert (x.lo, x.hi) == (y.lo[i], y.hi[i]), i


def _encloses(lo: float, hi: float, exact: Fraction) -> bool:
    return (lo == -math.inf or Fraction(lo) <= exact) and (hi == math.inf or exact <= Fraction(hi))


def test_the_formulas_enclose_the_exact_results() -> None:
    """Exact rationals at the corners (and 0 for sqr when inside) lie in the
    scalar (hence, by the tests above, the array) endpoints."""
    alo, ahi = _operands(2000, 6)
    blo, bhi = _operands(2000, 7)
    for t in zip(alo, ahi, blo, bhi, strict=True):
        al, ah, bl, bh = map(float, t)
        if not all(map(math.isfinite, t)):
            continue
        xs = [Fraction(al), Fraction(ah)]
        ys = [Fraction(bl), Fraction(bh)]
        for x in xs:
            assert _encloses(*SCALAR.sqr(al, ah), x * x)
            assert _encloses(*SCALAR.power(al, ah, 5), x**5)
            for y in ys:
                assert _encloses(*SCALAR.add(al, ah, bl, bh), x + y)
                assert _encloses(*SCALAR.sub(al, ah, bl, bh), x - y)
                assert _encloses(*SCALAR.mul(al, ah, bl, bh), x * y)
                if y != 0:
                    assert _encloses(*SCALAR.div(al, ah, bl, bh), x / y)
        if al <= 0 <= ah:
            assert SCALAR.sqr(al, ah)[0] == 0.0


def test_nan_and_zero_divisors_give_the_whole_line() -> None:
    inf = math.inf
    assert SCALAR.mul(0.0, 0.0, inf, inf) == (-inf, inf)  # 0 * inf
    assert SCALAR.div(inf, inf, inf, inf) == (-inf, inf)  # inf / inf
    assert SCALAR.add(inf, inf, -inf, -inf) == (-inf, inf)  # inf - inf
    assert SCALAR.div(1.0, 2.0, -1.0, 1.0) == (-inf, inf)  # 0 in the divisor
    assert SCALAR.div(1.0, 2.0, 0.0, 0.0) == (-inf, inf)
    with quiet():
        lo, hi = ARRAY.div(np.array([1.0, 1.0]), np.array([2.0, 2.0]), np.array([-1.0, 0.0]), 1.0)
        assert lo.tolist() == [-inf, -inf] and hi.tolist() == [inf, inf]
        x = Iv.point(0.0) * Iv.point(np.inf)
        assert (x.lo, x.hi) == (-inf, inf)


def test_fixed_endpoints_of_the_merge() -> None:
    """Where the two copies differed, the one formula keeps the tighter (still
    outward) end: ``[0, h]^2`` starts at 0 in Iv (was -5e-324), an underflowing
    square is clamped at 0, and ``Iv1 ** n`` starts from ``x``, not ``1 * x``
    (one ulp less on each end)."""
    with quiet():
        assert float((Iv.point(0.0).sqr()).lo) == 0.0
        assert float(Iv(np.array(1e-200), np.array(2e-200)).sqr().lo) == 0.0
        assert float(Iv(np.array(-3.0), np.array(-0.0)).sqr().lo) == 0.0
    for v in (-3.0, 0.1, 2.0**-1074):  # x^1 = x exactly (was widened by the product 1 * x)
        assert (Iv1(v) ** 1).lo == (Iv1(v) ** 1).hi == v


@pytest.mark.parametrize(("lo", "hi"), [(2.0, math.nan), (math.nan, 2.0), (math.nan, math.nan)])
def test_a_nan_end_of_an_iv1_is_the_end_of_the_whole_line(lo, hi):
    x = Iv1(lo, hi)
    assert (x.lo == -math.inf) == (lo != lo) and (x.hi == math.inf) == (hi != hi)
    for y in (x.sqr(), x**3, x * Iv1(1.0), x + 1.0):
        # a NaN end is unknown: no operation may return a finite end on its side
        assert (y.hi == math.inf) or hi == hi
    assert Iv1(2.0, math.nan).sqr().hi == math.inf  # max(4, nan) would drop it


@pytest.mark.parametrize("n", [2, 3])
def test_a_nan_end_gives_the_same_whole_line_ends_on_floats_and_arrays(n: int) -> None:
    """A NaN end is unknown: the float formulas must not drop it where the array
    ones keep it (Python's ``max(4.0, nan)`` is 4.0; adversary, session 6:
    ``SCALAR.sqr(-2.0, nan)`` was ``[4, 4]``, missing 0)."""
    ends = [-2.0, -0.0, 0.0, 2.0, -math.inf, math.inf, math.nan]
    pairs = [(a, b) for a in ends for b in ends if a != a or b != b]
    lo, hi = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    with quiet():
        for name, arr, f in [
            ("sqr", ARRAY.sqr(lo, hi), SCALAR.sqr),
            ("sqrt", ARRAY.sqrt(lo, hi), SCALAR.sqrt),
            ("power", ARRAY.power(lo, hi, n), lambda a, b: SCALAR.power(a, b, n)),
        ]:
            sc = [f(float(a), float(b)) for a, b in zip(lo, hi, strict=True)]
            _same(f"{name} n={n}", arr, sc)
            # an unknown upper end leaves the upper end of the result unknown
            assert all(s[1] == math.inf for s, b in zip(sc, hi, strict=True) if b != b), name
