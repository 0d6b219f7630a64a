"""Soundness of the ``iv64`` backend (float64 midpoint-radius intervals).

On random small cases (huge, tiny, subnormal and mixed-sign dyadic entries,
``d`` up to 12, single products and whole GD steps) the exact rational result
(python-flint ``fmpq_mat`` through the ``exact`` backend, on the same dyadic
inputs) must lie inside every iv64 enclosure, and the arb ball (128 bits) of
the same computation must intersect it.  The same checker must CATCH a
radius that leaves out the a-priori rounding term ``gamma_n |mA||mB|`` of
the products (so the property can fail).
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import flint
import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zascheck import iv64, model
from zascheck.arith import ARITHMETICS, BallBackend, ExactBackend, backend
from zascheck.errors import InputError
from zascheck.iv64 import Iv1, Iv64Backend, MidRad

IV = Iv64Backend()
EX = ExactBackend()

_MAGS = st.sampled_from([0.0, 1.0, 2.0**-30, 2.0**30, 1e-300, 1e300, 2.0**-1060, 5e-324])
_ENTRY = st.builds(
    lambda m, x, s: s * m * x,
    _MAGS,
    st.floats(0.5, 2.0, allow_nan=False),
    st.sampled_from([1.0, -1.0]),
)


@st.composite
def _matrix(draw: Any, r: int, c: int, wild: bool) -> np.ndarray:
    if wild:
        vals = draw(st.lists(_ENTRY, min_size=r * c, max_size=r * c))
    else:
        vals = draw(st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=r * c, max_size=r * c))
    return np.array(vals, dtype=float).reshape(r, c)


def _fq(x: float) -> Any:
    p, q = Fraction(x).as_integer_ratio()
    return flint.fmpq(p, q)


def _encloses(enc: Any, exact: Any) -> bool:
    """Every exact rational entry lies in ``[lower, upper]`` of the iv64 enclosure
    (a scalar :class:`Iv1` or a :class:`MidRad` matrix; infinite ends enclose)."""
    if isinstance(enc, Iv1):
        pairs = [(enc.lo, enc.hi, exact)]
    else:
        lo, hi = enc.lower().ravel().tolist(), enc.upper().ravel().tolist()
        pairs = list(zip(lo, hi, exact.entries(), strict=True))
    for lo, hi, x in pairs:
        if math.isnan(lo) or math.isnan(hi):
            return False
        if lo != -math.inf and _fq(lo) > x:
            return False
        if hi != math.inf and _fq(hi) < x:
            return False
    return True


def _meets_ball(enc: Any, ball: Any) -> bool:
    """The arb ball of the exact result intersects the iv64 enclosure (entrywise)."""
    if isinstance(enc, Iv1):
        pairs = [(enc.lo, enc.hi, ball)]
    else:
        lo, hi = enc.lower().ravel().tolist(), enc.upper().ravel().tolist()
        pairs = list(zip(lo, hi, ball.entries(), strict=True))
    for lo, hi, x in pairs:
        if not (math.isfinite(lo) and math.isfinite(hi)) or not x.is_finite():
            continue
        if not flint.arb(lo).union(flint.arb(hi)).overlaps(x):
            return False
    return True


def _product_ok(a: np.ndarray, b: np.ndarray, ra: float = 0.0) -> bool:
    """One product (with an optional radius ``ra`` on every entry of ``a``):
    every point product inside the enclosure is checked at the two corners
    ``mA`` (exact) -- the property that the checker verifies."""
    with IV.session():
        A = IV.matrix(a) if ra == 0 else MidRad(a, np.full_like(a, ra))
        C = IV.mm(A, IV.matrix(b))
    return _encloses(C, EX.mm(EX.matrix(a), EX.matrix(b)))


_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


@_SETTINGS
@given(
    data=st.data(),
    r=st.integers(1, 12),
    n=st.integers(1, 12),
    c=st.integers(1, 12),
    wild=st.booleans(),
)
def test_product_encloses_exact(data: Any, r: int, n: int, c: int, wild: bool) -> None:
    a = data.draw(_matrix(r, n, wild))
    b = data.draw(_matrix(n, c, wild))
    assert _product_ok(a, b)
    with IV.session():
        s = IV.sub(IV.matrix(a), IV.scale(0.375, IV.matrix(a)))
        f = IV.fro2(IV.matrix(a))
    ea = EX.matrix(a)
    assert _encloses(s, EX.sub(ea, EX.scale(EX.scalar(0.375), ea)))
    assert _encloses(f, EX.fro2(ea))


@_SETTINGS
@given(data=st.data(), L=st.integers(1, 4), d=st.integers(1, 6), k=st.integers(1, 8))
def test_gd_steps_enclose_exact_and_meet_arb(data: Any, L: int, d: int, k: int) -> None:
    """Two GD steps (loss, all gradients, the update) in iv64, exact rationals
    and arb at 128 bits from the same dyadic point and step ``eta = 2^-k``."""
    ws = [data.draw(_matrix(d, d, False)) for _ in range(L)]
    phi = data.draw(_matrix(d, d, False))
    eta = 2.0**-k
    ball = BallBackend(128)
    out = {}
    for b in (IV, EX, ball):
        with b.session():
            w = [b.matrix(x) for x in ws]
            tg = model.Target.whitened(b, phi)
            for _ in range(2):
                r, g = model.loss_and_grads(b, w, tg)
                w = model.gd_update(b, w, g, b.scalar(eta))
            out[b.name] = (r, g, w)
    (ri, gi, wi), (re, ge, we), (rb, gb, wb) = out["iv64"], out["exact"], out["ball"]
    assert _encloses(ri, re)
    assert _meets_ball(ri, rb)
    for x, y, z in [*zip(gi, ge, gb, strict=True), *zip(wi, we, wb, strict=True)]:
        assert _encloses(x, y)
        assert _meets_ball(x, z)


def test_checker_catches_a_radius_without_the_gamma_term(monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``gamma_n`` set to 0 the midpoint product's rounding is not covered:
    the same checker rejects it on ordinary inputs (so the property can fail)."""
    rng = np.random.default_rng(1)
    cases = [(rng.standard_normal((6, 6)), rng.standard_normal((6, 6))) for _ in range(20)]
    assert all(_product_ok(a, b) for a, b in cases)
    monkeypatch.setattr(iv64, "gamma_up", lambda n: 0.0)
    assert not all(_product_ok(a, b) for a, b in cases)


def test_scalars_enclose_fractions_and_functions() -> None:
    third = IV.scalar(Fraction(1, 3))
    assert third.lo < third.hi
    assert _fq(third.lo) <= flint.fmpq(1, 3) <= _fq(third.hi)
    e = IV.exp(1.0)
    assert flint.arb(e.lo).union(flint.arb(e.hi)).contains(flint.arb(1).exp())
    lg = IV.log(IV.scalar("0.1"))
    assert flint.arb(lg.lo).union(flint.arb(lg.hi)).contains(flint.arb("0.1").log())
    s = IV.sqrt(2.0)
    assert _fq(s.lo) ** 2 <= 2 <= _fq(s.hi) ** 2
    assert IV.le(IV.scalar(1) / 3, 0.34) is True
    assert IV.le(IV.scalar(1) / 3 * 3, 1) is None
    assert IV.lt(2.0, 1.0) is False


def test_overflow_is_not_finite_and_undecided() -> None:
    with IV.session():
        a = IV.matrix([[1e300, 1e300], [1e300, 1e300]])
        p = IV.mm(a, a)
        f = IV.fro2(p)
    assert not IV.is_finite(p)
    assert not f.is_finite()
    assert IV.le(f, 1.0) is None
    assert IV.le(1.0, f) is None


def test_inputs_are_enclosed() -> None:
    m = IV.matrix([[Fraction(1, 10), "0.2"], [flint.fmpq(1, 3), 4]])
    exact = EX.matrix([[Fraction(1, 10), Fraction(1, 5)], [Fraction(1, 3), 4]])
    assert _encloses(m, exact)
    assert IV.max_radius(IV.matrix(np.eye(2))) == 0.0
    assert IV.max_radius(m) > 0


def test_registered_as_an_arithmetic() -> None:
    assert "iv64" in ARITHMETICS
    b = backend("iv64")
    assert b.rigorous and not b.exact and b.prec == 53


# -- iv64 in the escalation ladder and in zas.thm4.3:gd ------------------------------


def test_ladder_starts_with_iv64_and_keeps_every_ball_rung() -> None:
    from zascheck.escalate import BALL_LADDER, escalate

    assert BALL_LADDER[0] == ("iv64", 53)
    assert [bits for a, bits in BALL_LADDER if a == "ball"] == [128, 256, 512, 1024]
    out = escalate(lambda b: (b.scalar(1) / 3, b.scalar(1) / 2, 0.0), certify=True)
    assert (out.arithmetic, out.verdict.value) == ("iv64", "certified")
    assert [t["arithmetic"] for t in out.tried] == ["float64", "iv64"]


def test_a_ball_only_case_is_recorded_at_the_iv64_rung_and_decided_by_ball() -> None:
    from zascheck.escalate import escalate

    def evaluate(b: Any) -> tuple[Any, Any, float]:
        x = b.scalar(1) / 3
        if b.name == "iv64":
            x.mid()  # an arb-only method: AttributeError is a bug, not a skip
        return x, b.scalar(1) / 2, 0.0

    with pytest.raises(AttributeError):
        escalate(evaluate, certify=True)

    def evaluate_typed(b: Any) -> tuple[Any, Any, float]:
        if b.name == "iv64":
            raise TypeError("flint-only operation")
        return b.scalar(1) / 3, b.scalar(1) / 2, 0.0

    out = escalate(evaluate_typed, certify=True)
    assert (out.arithmetic, out.verdict.value) == ("ball", "certified")
    assert out.tried[1]["arithmetic"] == "iv64" and "not evaluable" in out.tried[1]["error"]

    def evaluate_buggy(b: Any) -> tuple[Any, Any, float]:
        if b.name == "iv64":
            iv64.gamma_up("n")  # type: ignore[arg-type]  # a TypeError inside iv64 itself
        return b.scalar(1) / 3, b.scalar(1) / 2, 0.0

    with pytest.raises(TypeError):  # a backend defect propagates, never a skip to ball
        escalate(evaluate_buggy, certify=True)


def _thm43(case: dict[str, Any]) -> Any:
    from zascheck.engine import RunContext, checks_for, run_check

    (check,) = checks_for(["zas.thm4.3:gd"])
    return run_check(check, RunContext(), case=case)


def test_thm43_gd_is_certified_in_iv64_at_d_8() -> None:
    r = _thm43({"cases": [{"L": 2, "d": 8, "phi": "gaussian", "scale": 0.05}], "max_steps": 200})
    assert r.verdict.value == "certified" and r.arithmetic == "iv64"
    (case,) = r.evidence["per_case"].values()
    assert case["tried"] == [
        {
            "arithmetic": "iv64",
            "bits": 53,
            "verdict": "certified",
            "steps": 200,
            "undecided_at": None,
        }
    ]


def test_thm43_gd_reruns_in_ball_where_iv64_cannot_decide() -> None:
    """At eta = 1e-17 one step's decrease (~ eta R) is below 53 bits: iv64 is
    undecided at t = 1 and the ball run (128 bits) certifies every step."""
    r = _thm43(
        {
            "cases": [{"L": 2, "d": 8, "phi": "gaussian", "scale": 0.05}],
            "max_steps": 20,
            "eta": 1e-17,
        }
    )
    (case,) = r.evidence["per_case"].values()
    assert [(t["arithmetic"], t["verdict"]) for t in case["tried"]] == [
        ("iv64", "inconclusive"),
        ("ball", "certified"),
    ]
    assert r.verdict.value == "certified" and r.arithmetic == "ball" and case["steps"] == 20


def test_thm43_gd_skips_iv64_on_small_matrices() -> None:
    r = _thm43({"cases": [{"L": 2, "d": 2, "phi": "gaussian"}], "max_steps": 50})
    (case,) = r.evidence["per_case"].values()
    assert case["tried"][0]["verdict"] == "skipped" and r.arithmetic == "ball"


def test_a_small_case_skips_the_iv64_rung_on_record() -> None:
    from zascheck.escalate import IV64_MIN_D, escalate

    def evaluate(b: Any) -> tuple[Any, Any, float]:
        return b.scalar(1) / 3, b.scalar(1) / 2, 0.0

    small = escalate(evaluate, certify=True, size=IV64_MIN_D - 1)
    assert [(t["arithmetic"], t["verdict"]) for t in small.tried] == [
        ("float64", "holds"),
        ("iv64", "skipped"),
        ("ball", "certified"),
    ]
    big = escalate(evaluate, certify=True, size=IV64_MIN_D)
    assert big.arithmetic == "iv64"


# --- found by the adversary pass (session 4): stacks against matrices, inexact input types ----
def test_a_stack_times_a_matrix_encloses_each_product():
    """The packed [mid, |mid|, rad] axis meets its partner, never a stack axis:
    a (k, r, n) stack times a 2-D matrix (and the reverse) encloses every product."""
    b = backend("iv64")
    rng = np.random.default_rng(1)
    a3, m = rng.standard_normal((3, 2, 2)), rng.standard_normal((2, 2))
    with b.session():
        for left, right, exact in ((a3, m, a3 @ m), (m, a3, m @ a3), (a3[:1], m, a3[:1] @ m)):
            r = b.mm(b.matrix(left), b.matrix(right))
            assert r.shape == exact.shape
            assert np.all(r.lower() <= exact) and np.all(exact <= r.upper())


@pytest.mark.parametrize(
    "make", [lambda: Decimal("0.3"), lambda: np.longdouble("0.3"), lambda: sympy.Rational(3, 10)]
)
def test_numbers_that_are_not_doubles_are_enclosed_not_rounded(make):
    """0.3 in Decimal, long double or sympy is not the double 0.3: its
    enclosure must not be the point 0.3 (then `le(x, 0.3)` would be a wrong True)."""
    b = backend("iv64")
    x = make()
    assert b.le(b.scalar(x), 0.3) is not True
    assert b.matrix([[x]]).rad[0, 0] > 0
    if isinstance(x, np.longdouble):
        assert b.matrix(np.array([[x]])).rad[0, 0] > 0


@pytest.mark.parametrize(
    "bad",
    [
        lambda b: b.scalar(sympy.Float(0.3)),
        lambda b: b.matrix([[1.0, 2.0], [3.0]]),
        lambda b: b.mm(b.matrix(np.ones((2, 2))), b.matrix(np.ones((3, 2)))),
        lambda b: b.add(b.matrix(np.ones((2, 2))), b.matrix(np.ones((3, 2)))),
    ],
)
def test_shape_and_type_errors_are_input_errors(bad):
    with pytest.raises(InputError):
        bad(backend("iv64"))


def test_fro2_of_an_overflowed_product_encloses_the_exact_norm():
    """The BLAS sum of big cancelling terms overflows (mid = inf, finite
    radius) while the exact product is 0: the squared Frobenius norm must be
    the whole half-line, never a huge lower bound (adversary, session 5)."""
    from zascheck.iv64 import Iv64Backend

    b = Iv64Backend()
    big = 1.5e308
    with b.session():
        p = b.mm(b.matrix([[big, big, -big, -big]]), b.matrix(np.ones((4, 1))))
        n2 = b.fro2(p)
        assert n2.lo == 0.0 and n2.hi == math.inf
        assert not (n2 > 1)  # no certain answer from an overflowed entry
        # the same through the gradients: G_2's exact norm is 1.6e-599
        ws = [b.matrix(np.ones((1, 4))), b.matrix([[1e-300]])]
        target = model.Target.whitened(b, np.array([[-big, -big, big, big]]))
        _, g = model.loss_and_grads(b, ws, target)
        g2 = model.grad_norms2(b, g)[1]
        assert g2.lo <= 1.6e-599 <= g2.hi


def test_nested_list_stacks_are_enclosed():
    """``matrix`` takes an ``(n, r, c)`` stack as nested lists too (floats,
    Fractions, strings), each entry enclosed; ragged stacks are refused."""
    b = Iv64Backend()
    exact = [[[Fraction(1, 3), Fraction(1, 5)]], [[Fraction(1, 7), Fraction(1, 10)]]]
    m = b.matrix([[[Fraction(1, 3), Fraction(1, 5)]], [[Fraction(1, 7), "0.1"]]])
    assert m.mid.shape == (2, 1, 2)
    lo, hi = m.lower(), m.upper()
    for i in range(2):
        for j in range(2):
            assert Fraction(lo[i, 0, j]) <= exact[i][0][j] <= Fraction(hi[i, 0, j])
    assert b.matrix([[[0.1, 0.2]], [[0.3, 0.4]]]).mid.shape == (2, 1, 2)
    with pytest.raises(InputError, match="one shape"):
        b.matrix([[[0.1, 0.2]], [[0.3]]])


def test_a_scalars_midpoint_radius_form_encloses_it_and_is_exact_for_a_point():
    from fractions import Fraction

    from zascheck.iv64 import Iv1, _midrad1

    assert _midrad1(Iv1(0.1)) == (0.1, 0.0)
    assert _midrad1(Iv1(1.0, math.inf))[1] == math.inf
    assert _midrad1(Iv1(math.inf))[1] == math.inf
    for lo, hi in [(0.1, 0.3), (-1e300, 1e300), (-5e-324, 5e-324), (1.0, 1.0 + 2**-52)]:
        m, r = _midrad1(Iv1(lo, hi))
        assert Fraction(m) - Fraction(r) <= Fraction(lo) and Fraction(hi) <= Fraction(m) + Fraction(r)
