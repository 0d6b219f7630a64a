"""The arithmetic layer: every backend computes the same thing, balls enclose,
exact is exact, precision is scoped."""

from __future__ import annotations

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from zascheck.arith import BallBackend, ExactBackend, Float64Backend, MpBackend, backend
from zascheck.errors import InputError

ALL = [Float64Backend(), MpBackend(113), BallBackend(128), ExactBackend()]


@pytest.mark.parametrize("b", ALL, ids=lambda b: b.name)
def test_basic_algebra_agrees_with_numpy(b):
    rng = np.random.default_rng(0)
    a, c = rng.standard_normal((3, 2)), rng.standard_normal((2, 4))
    with b.session():
        got = b.to_numpy(b.mm(b.matrix(a), b.matrix(c)))
        tr = b.to_numpy(b.T(b.matrix(a)))
        f2 = b.to_float(b.fro2(b.matrix(a)))
    np.testing.assert_allclose(
        got, a @ c, rtol=4 * 2.0**-52 * 2, atol=1e-15, err_msg=f"matmul in {b.name}"
    )
    np.testing.assert_array_equal(tr, a.T)
    assert f2 == pytest.approx(float(np.sum(a * a)), rel=4 * 2.0**-52 * 6)


def test_ball_encloses_exact_rational_result():
    """(1/3) * 3 - 1 is exactly 0; the ball must contain 0 and be tiny."""
    b = BallBackend(200)
    with b.session():
        x = b.scalar(Fraction(1, 3)) * 3 - 1
        assert b.le(x, b.scalar(0)) is None  # undecidable: 0 is inside the ball
        assert b.radius(x) < 2.0**-190
        assert b.le(b.scalar(Fraction(1, 3)), b.scalar(Fraction(1, 2))) is True
        assert b.le(b.scalar(Fraction(1, 2)), b.scalar(Fraction(1, 3))) is False


def test_ball_session_restores_flint_precision():
    import flint

    old = flint.ctx.prec
    b = BallBackend(300)
    with b.session():
        assert flint.ctx.prec == 300
    assert flint.ctx.prec == old


def test_mp_uses_a_local_context():
    before = mpmath.mp.prec
    b = MpBackend(300)
    x = b.scalar(1) / 3
    assert mpmath.mp.prec == before
    assert b.ctx.prec == 300
    assert abs(x * 3 - 1) < b.ctx.mpf(2) ** -295


def test_exact_backend_is_exact():
    b = ExactBackend()
    m = b.matrix([[Fraction(1, 3), 0], [0, Fraction(2, 7)]])
    inv = b.matrix([[3, 0], [0, Fraction(7, 2)]])
    assert b.mm(m, inv) == b.eye(2)


def test_gamma_is_derived_from_precision():
    assert Float64Backend().gamma(10) == pytest.approx(10 * 2.0**-53, rel=1e-12)
    assert MpBackend(113).gamma(10) < 1e-32
    assert ExactBackend().gamma(10) == 0.0


@pytest.mark.parametrize(
    ("args", "msg"),
    [
        (("mp", 20), "below the minimum"),
        (("ball", 52), "below the minimum"),
        (("float64", 64), "53 bits"),
        (("quad", None), "unknown arithmetic"),
    ],
)
def test_bad_backend_requests_are_named(args, msg):
    with pytest.raises(InputError, match=msg):
        backend(*args)


@pytest.mark.parametrize("b", ALL, ids=lambda b: b.name)
def test_nan_and_inf_are_rejected(b):
    with pytest.raises(InputError, match="NaN or infinite"):
        b.matrix(np.array([[1.0, np.nan]]))
    with pytest.raises(InputError):
        b.matrix(np.array([[np.inf]]))
