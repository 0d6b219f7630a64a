"""Section C (reviews of "Step Size Matters"): the pure functions of
:mod:`zascheck.ssm`, and every check of the cards in zascheck/claims/ssm/ at its quick
budget (expected verdict) and under each of its controls (``violated``)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from zascheck import arith, model, ssm
from zascheck.model import Target
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.result import Verdict

flint = pytest.importorskip("flint")

# ---------------------------------------------------------------------------
# pure functions
# ---------------------------------------------------------------------------


def _fd_hessian(b, ws, tgt, h):
    """Central differences of ``model.grads`` (a second route to the Hessian)."""
    shapes = [w.shape for w in ws]
    cols = []
    for li, (r, c) in enumerate(shapes):
        for i in range(r):
            for j in range(c):
                wp = [w.copy() for w in ws]
                wm = [w.copy() for w in ws]
                wp[li][i, j] += h
                wm[li][i, j] -= h
                gp = np.concatenate([g.ravel() for g in model.grads(b, wp, tgt)])
                gm = np.concatenate([g.ravel() for g in model.grads(b, wm, tgt)])
                cols.append((gp - gm) / (2 * h))
    return np.array(cols).T


@pytest.mark.parametrize(("L", "d"), [(1, 2), (2, 2), (3, 2), (2, 3)])
def test_hessian_matches_finite_differences(L, d):
    b = arith.backend("float64")
    rng = np.random.default_rng(L * 10 + d)
    ws = [rng.standard_normal((d, d)) for _ in range(L)]
    tgt = Target.whitened(b, rng.standard_normal((d, d)))
    hess = ssm.hessian(b, ws, tgt)
    # central differences: truncation O(h^2 |f'''|) vs rounding O(u/h); h = u^(1/3)
    u = b.unit_roundoff
    h = u ** (1 / 3)
    scale = max(1.0, float(np.abs(hess).max())) * (1 + max(float(np.abs(w).max()) for w in ws)) ** (
        2 * L
    )
    fd = _fd_hessian(b, ws, tgt, h)
    np.testing.assert_allclose(
        hess, fd, rtol=0, atol=64 * h * h * scale, err_msg="HVP Hessian vs central FD"
    )
    np.testing.assert_allclose(
        hess, hess.T, rtol=0, atol=b.gamma(4 * L * d) * scale, err_msg="not symmetric"
    )


def test_hessian_exact_at_a_known_point():
    # f = 1/2 (w2 w1 - 1)^2 at (w1, w2) = (2, 1): H = [[w2^2, 2 w1 w2 - 1], [., w1^2]]
    ex = arith.backend("exact")
    tgt = Target.whitened(ex, [[1]])
    hess = ssm.hessian(ex, [ex.matrix([[2]]), ex.matrix([[1]])], tgt)
    assert hess == flint.fmpq_mat([[1, 3], [3, 4]])


def test_hessian_same_in_every_arithmetic():
    rng = np.random.default_rng(5)
    ws = [rng.standard_normal((2, 2)) for _ in range(2)]
    phi = rng.standard_normal((2, 2))
    ref = ssm.hessian(arith.backend("exact"), ws, Target.whitened(arith.backend("exact"), phi))
    ref_f = np.array([[int(x.p) / int(x.q) for x in row] for row in ref.tolist()])
    for name, prec in (("float64", None), ("mp", 113), ("ball", 128)):
        b = arith.backend(name, prec)
        with b.session():
            h = b.to_numpy(ssm.hessian(b, ws, Target.whitened(b, phi)))
        np.testing.assert_allclose(h, ref_f, rtol=0, atol=b.gamma(64) * 16, err_msg=name)


def test_balanced_minimum_top_eigenvalue_is_the_bound_exactly():
    ex = arith.backend("exact")
    ball = arith.backend("ball", 128)
    rng = np.random.default_rng(3)
    u = ssm.random_orthogonal_rational(rng, 2, flint)
    v = ssm.random_orthogonal_rational(rng, 2, flint)
    assert u * u.transpose() == ex.eye(2)
    qs = [ssm.random_orthogonal_rational(rng, 2, flint) for _ in range(2)]
    sing = [flint.fmpq(3, 2), flint.fmpq(1, 2)]
    ws, r = ssm.balanced_minimum(u, sing, v, qs, flint)
    tgt = Target.whitened(ex, r)
    assert model.loss(ex, ws, tgt) == 0
    with ball.session():
        top, _ = ssm.top_eigenvalue_exact(ssm.hessian(ex, ws, tgt), flint)
    assert top == 3 * flint.fmpq(3, 2) ** 4  # L rho^{2(L-1)/L} with rho = s_1^L
    assert ssm.thm1_bound(3, float(Fraction(3, 2) ** 3)) == pytest.approx(float(top), rel=1e-15)


def test_unbalance_keeps_the_end_to_end_matrix():
    ex = arith.backend("exact")
    rng = np.random.default_rng(4)
    ws = [ssm.rational_matrix(rng, 2, 4, 4, flint) for _ in range(3)]
    gs = [flint.fmpq_mat([[2, 1], [0, 1]]), flint.fmpq_mat([[1, 0], [1, 3]])]
    assert model.end_to_end(ex, ssm.unbalance(ws, gs)) == model.end_to_end(ex, ws)


def test_operator_matrix_is_the_kronecker_sum():
    b = arith.backend("float64")
    rng = np.random.default_rng(6)
    As = [rng.standard_normal((2, 2)) for _ in range(2)]
    Bs = [rng.standard_normal((3, 3)) for _ in range(2)]
    m = ssm.operator_matrix(b, As, Bs)
    np.testing.assert_allclose(
        m, sum(np.kron(a, bb.T) for a, bb in zip(As, Bs, strict=True)), rtol=0, atol=b.gamma(8) * 10
    )
    x = rng.standard_normal((2, 3))
    np.testing.assert_allclose(
        m @ x.ravel(),
        sum(a @ x @ bb for a, bb in zip(As, Bs, strict=True)).ravel(),
        rtol=0,
        atol=b.gamma(16) * 100,
    )


def test_rayleigh_bound_is_the_rank_one_rayleigh_quotient():
    ex = arith.backend("exact")
    As = [ex.matrix([[2, 1], [1, 1]])]
    Bs = [ex.matrix([[1, 0], [0, 3]])]
    u, v = [ex.scalar(1), ex.scalar(2)], [ex.scalar(1), ex.scalar(1)]
    # (u^T A u)(v^T B v)/(|u|^2 |v|^2) = 10 * 4 / (5 * 2)
    assert ssm.rayleigh_bound(ex, As, Bs, u, v) == 4


def test_example1_orbit_is_exact():
    ex = arith.backend("exact")
    for eta in (Fraction(1, 2), Fraction(3, 4), Fraction(2, 7)):
        a = ex.scalar(ssm.ex1_orbit_amplitude(eta))
        e = ex.scalar(eta)
        assert ssm.ex1_step(ex, a, e) == -a
        assert ssm.ex1_step(ex, -a, e) == a
    assert ssm.ex1_step(ex, ex.scalar(0), ex.scalar(1)) == 0


def test_example1_converges_to_the_orbit_in_mp_and_ball():
    eta = Fraction(1, 2)
    for name in ("mp", "ball"):
        b = arith.backend(name, 128)
        with b.session():
            x = b.scalar(Fraction(3, 7))
            for _ in range(40):
                x = ssm.ex1_step(b, x, b.scalar(eta))
            dist = abs(abs(b.to_float(x)) - float(ssm.ex1_orbit_amplitude(eta)))
            assert dist <= 8 * b.unit_roundoff + 2 * b.radius(x), name


def test_example1_irrational_sqrt_needs_ball():
    ex = arith.backend("exact")
    with pytest.raises(ValueError, match="not the square"):
        ssm.ex1_step(ex, ex.scalar(2), ex.scalar(1))


def test_relu_gradient_matches_finite_differences_and_sharpness_formula():
    b = arith.backend("float64")
    rng = np.random.default_rng(7)
    u, v, x = rng.standard_normal((4, 3)), rng.standard_normal((4, 1)), rng.standard_normal((3, 1))
    y = 0.3
    _, du, _dv = ssm.relu_loss_grads(b, u, v, x, y)
    h = b.unit_roundoff ** (1 / 3)
    for i, j in [(0, 0), (2, 1), (3, 2)]:
        up, um = u.copy(), u.copy()
        up[i, j] += h
        um[i, j] -= h
        fd = (ssm.relu_loss_grads(b, up, v, x, y)[0] - ssm.relu_loss_grads(b, um, v, x, y)[0]) / (
            2 * h
        )
        assert fd == pytest.approx(du[i, j], abs=64 * h * h * 100)
    # at zero loss the Hessian is grad f grad f^T: lambda_max = ||grad f||^2
    y0 = ssm.relu_forward(b, u, v, x)
    _res, du0, dv0 = ssm.relu_loss_grads(b, u, v, x, y0 - 1.0)  # residual 1: grads = grad f
    lam = ssm.relu_sharpness(b, u, v, x)
    assert lam == pytest.approx(float(np.sum(du0**2) + np.sum(dv0**2)), rel=b.gamma(64))


def test_relu_exact_balanced_solution_meets_the_bound_with_equality():
    ex = arith.backend("exact")
    x = ex.matrix([[3], [4]])
    t = Fraction(1, 5)
    u, v = ex.matrix([[3 * t, 4 * t]]), ex.matrix([[5 * t]])
    y = ssm.relu_forward(ex, u, v, x)
    lam = ssm.relu_sharpness(ex, u, v, x)
    assert lam == 2 * 5 * y  # lambda_max = 2 ||x|| |y| at a balanced aligned solution


def test_bisect_bracket_finds_a_step():
    br = ssm.bisect_bracket(lambda z: z <= 0.7, 0.0, 1.0, 20)
    assert br.lo <= 0.7 < br.hi
    assert br.hi - br.lo <= 2.0**-20
    assert not br.budget_limited
    assert ssm.bisect_bracket(lambda z: False, 0.0, 1.0, 3).lo is None
    assert ssm.bisect_bracket(lambda z: True, 0.0, 1.0, 3).hi is None
    assert len(br.trace) == 22


def test_krawczyk_proves_sqrt2_and_rejects_a_bad_box():
    with arith.backend("ball", 128).session():
        ok, box = ssm.krawczyk_1d(
            lambda s: s * s - 2,
            lambda s: 2 * s,
            flint.arb("1.41421356237309"),
            flint.arb("1e-10"),
            flint,
        )
        assert ok
        assert box.contains(flint.arb(2).sqrt())
        bad, _ = ssm.krawczyk_1d(
            lambda s: s * s - 2, lambda s: 2 * s, flint.arb(3), flint.arb("0.1"), flint
        )
        assert not bad


def test_thm1_bound_and_eta():
    assert ssm.thm1_bound(3, 8.0) == pytest.approx(3 * 16.0)
    assert ssm.thm1_eta(2, 1.0) == 1.0
    with pytest.raises(ValueError, match="rho"):
        ssm.thm1_bound(2, 0.0)
    assert ssm.thm1_bound(2, 9.0) == 18.0
    assert ssm.thm1_eta(2, 9.0) == pytest.approx(1 / 9, rel=1e-15)
    assert ssm.thm2_eta(2, 4.0) == ssm.thm1_eta(2, 4.0) / 2  # review 1: eq. 4 is x2 Thm 2


# ---------------------------------------------------------------------------
# the checks
# ---------------------------------------------------------------------------

EXPECTED = {
    "ssm.psd-lemma": {Verdict.CERTIFIED},
    "ssm.thm1": {Verdict.CERTIFIED, Verdict.HOLDS},  # symbolic, exact-hessian; gd-above-bound
    "ssm.sharpness": {Verdict.HOLDS},
    "ssm.stable-manifold": {Verdict.CERTIFIED},
    "ssm.thm2": {Verdict.CERTIFIED, Verdict.HOLDS},  # reduction; bisection
    "ssm.thm3": {Verdict.HOLDS},
    # the bound is attained: GD's threshold is the bound itself, which a bracket cannot
    # separate from it (straddles: inconclusive), while every fitted q is <= 1
    "ssm.thm4": {Verdict.INCONCLUSIVE, Verdict.HOLDS},
    "ssm.example1": {Verdict.HOLDS},
    "ssm.orbit-or-slow": {Verdict.CERTIFIED},
    "ssm.diagonal-init": {Verdict.HOLDS},
    "ssm.worst-case": {Verdict.INCONCLUSIVE, Verdict.HOLDS},
}
SSM_CHECKS = checks_for(list(EXPECTED))
SSM_CONTROLS = [(c, n) for c in SSM_CHECKS for n in c.controls]


def test_every_section_c_id_has_a_check():
    assert {c.claim for c in SSM_CHECKS} == set(EXPECTED)


@pytest.mark.parametrize("check", SSM_CHECKS, ids=[c.key for c in SSM_CHECKS])
def test_quick_budget_gives_the_expected_verdict(check):
    res = run_check(check, RunContext())
    assert res.verdict in EXPECTED[check.claim], f"{check.key}: {res.verdict} ({res.notes})"
    assert res.margin is not None
    if res.verdict is not Verdict.INCONCLUSIVE:
        assert res.margin >= 0
    assert res.seconds < 5, f"{check.key} quick budget took {res.seconds} s"


@pytest.mark.parametrize(
    ("check", "control"), SSM_CONTROLS, ids=[f"{c.key}:{n}" for c, n in SSM_CONTROLS]
)
def test_control_is_violated(check, control):
    res = run_check(check, RunContext(), control=control)
    assert res.verdict is Verdict.VIOLATED, f"{check.key}/{control}: {res.verdict} ({res.notes})"
    assert res.counterexample


def test_reconstructed_claims_say_so():
    for c in SSM_CHECKS:
        if c.claim in ("ssm.thm1", "ssm.thm2", "ssm.thm3", "ssm.thm4", "ssm.psd-lemma"):
            assert "reconstructed" in run_check(c, RunContext()).provenance


def test_worst_case_reports_its_tightest_case():
    (c,) = checks_for(["ssm.worst-case"])
    res = run_check(c, RunContext())
    assert res.tightest
    assert res.tightest["ratio"] == res.measured
