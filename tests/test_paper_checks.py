"""Paper family (zascheck/claims/zas/ (paper family)): quick verdicts, every control is
caught, and the pure helpers."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from zascheck import dynamics
from zascheck.arith import Float64Backend
from zascheck.measure.gd_lemmas import (
    exact_lower_layers,
    flow_limit_wl_norm,
    linear_convergence,
    loglog_slope,
)
from zascheck.measure.common import product_perturbation
from zascheck.measure.flow import comparison_decay, on_mirror_of_m as _on_mirror_of_m
from zascheck.model import Target
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.result import Verdict
import itertools

KEYS = [
    "zas.thm4.1.steps:numeric",
    "zas.remark.data:flow-readings",
    "zas.lemma4.4-4.6:gd-constants",
    "zas.near-zas:gd-bisection",
    "zas.saddle:flow",
]


def _check(key):
    (c,) = checks_for([key])
    return c


@pytest.fixture(scope="module")
def quick():
    return {k: run_check(_check(k), RunContext()) for k in KEYS}


# ---------------------------------------------------------------------------
# quick verdicts
# ---------------------------------------------------------------------------


def test_thm41_steps_quick_holds(quick):
    res = quick["zas.thm4.1.steps:numeric"]
    assert res.verdict is Verdict.HOLDS, res.notes
    assert res.relation == ">="
    assert res.bound == 1.0
    # measured is step (iii) over t > 0: it moves (1 at t = 0 is by construction, not counted)
    assert res.measured > 1.0
    assert [p.part for p in res.parts] == ["D_l", "product-identity", "gradient-bound", "dR/dt"]
    assert all(p.verdict is Verdict.HOLDS for p in res.parts), res.notes
    assert all(
        p.measured is not None and p.measured <= 1.0 for p in res.parts if p.relation == "<="
    )
    for recs in res.evidence["per_depth"].values():
        assert recs[0]["t"] == 0.0
        assert recs[0]["D_l"][1] is Verdict.CERTIFIED
        assert recs[0]["product-identity"][1] is Verdict.CERTIFIED


def test_remark_data_quick_readings(quick):
    res = quick["zas.remark.data:flow-readings"]
    # a part (the reading xxt-loss) fails, so the whole cannot read holds
    assert res.verdict is Verdict.VIOLATED, res.notes
    assert {p.part: p.verdict.value for p in res.parts} == {
        "printed": "holds",
        "printed-wide": "holds",  # vacuous: checked as R~(t) <= R~(0)
        "xxt-realizable": "holds",
        "xxt-loss": "violated",
        "xxt-excess": "holds",
    }
    bad = next(p for p in res.parts if p.part == "xxt-loss")
    assert bad.counterexample["t"] > 0 and bad.counterexample["R_star"] > 0
    assert res.counterexample == bad.counterexample
    assert all(p.scope["X"]["covered"] != "not covered" for p in res.parts)


def test_lemma_constants_quick(quick):
    """One sub-result per part; the main result is their combination and is
    violated because (4.7)'s ||W_L|| = O(L^-1/2), as printed, is (issue: a
    violated part under a main 'holds')."""
    res = quick["zas.lemma4.4-4.6:gd-constants"]
    parts = {p.part: p for p in res.parts}
    assert set(parts) == {
        "(4.6) D_l", "(4.6) I + D_{L-1}", "(4.7) W_l", "(4.7) W_L", "(4.8) G_L",
        "(4.9) D_l drift", "(4.9) D_{L-1} drift", "(4.10) decrease",
    }  # fmt: skip
    assert res.verdict is Verdict.VIOLATED, res.notes
    assert parts["(4.7) W_L"].verdict is Verdict.VIOLATED
    assert parts["(4.7) W_L"].measured > -0.5  # fitted exponent above the claimed -1/2
    assert parts["(4.7) W_L"].counterexample
    for name in ("(4.8) G_L", "(4.10) decrease", "(4.6) D_l", "(4.9) D_l drift"):
        assert parts[name].verdict is Verdict.HOLDS, (name, parts[name].notes)
    assert parts["(4.10) decrease"].measured < 1.0
    assert parts["(4.8) G_L"].measured >= 1.0
    assert parts["(4.6) I + D_{L-1}"].verdict in (Verdict.HOLDS, Verdict.INCONCLUSIVE)
    lim = parts["(4.7) W_L"].evidence["flow_limit"]["sqrtL_times_WL"]
    assert all(a < b for a, b in itertools.pairwise(lim))  # grows without bound (like sqrt(log L))
    for m in res.evidence["per_depth"].values():
        assert m["steps"] > 0
        assert m["flow_time"] > 0


def test_near_zas_quick(quick):
    """The verdict rests on the small sigmas; the largest sigma is a bracket
    with both ends run (lo passed for every draw, hi failed for one)."""
    res = quick["zas.near-zas:gd-bisection"]
    assert res.verdict is Verdict.HOLDS, res.notes
    assert res.measured <= res.bound  # slowest window rate within eps^(1/N)
    lo, hi = res.tightest["sigma_bracket"]
    assert lo >= 0.01
    tried = res.evidence["sigmas_tried"]
    assert tried[f"{lo:.6g}"]["all_pass"]
    if hi is not None:
        assert hi > lo and not tried[f"{hi:.6g}"]["all_pass"]
        assert "step budget" in res.tightest["limited_by"]


def test_saddle_quick(quick):
    res = quick["zas.saddle:flow"]
    assert res.verdict is Verdict.HOLDS, res.notes
    assert res.measured <= 1.0
    per = res.evidence["per_point"]
    for k, rec in per.items():
        if k.startswith(("M:", "mirror:")):
            assert all(rec["symmetric"]), k
            assert rec["R"][-1] >= 0.5 - 1e-9, k  # heads to the saddle value 1/2
    # the mirror of M (two sign flips) converges to 0 as well
    assert all(r["verdict"] == "holds" for k, r in per.items() if k.startswith("mirror:"))
    # off M a conserved D_l != 0 keeps the flow away from O (no loss threshold)
    assert all(
        r["cannot_reach_O"].startswith("certified") for k, r in per.items() if k.startswith("off:")
    )


# ---------------------------------------------------------------------------
# controls
# ---------------------------------------------------------------------------

CONTROLS = [(k, name) for k in KEYS for name in _check(k).controls]


@pytest.mark.parametrize(("key", "control"), CONTROLS, ids=[f"{k}:{c}" for k, c in CONTROLS])
def test_control_is_violated(key, control):
    res = run_check(_check(key), RunContext(), control=control)
    assert res.verdict is Verdict.VIOLATED, f"{key} {control}: {res.verdict} {res.notes}"
    assert res.counterexample


def test_every_paper_check_has_a_control():
    assert all(_check(k).controls for k in KEYS)


# ---------------------------------------------------------------------------
# pure helpers
# ---------------------------------------------------------------------------


def test_product_perturbation_matches_expansion():
    norms, dw = [1.5, 0.7, 2.0], 0.01
    brute = math.prod(n + dw for n in norms) - math.prod(norms)
    assert product_perturbation(norms, dw) == pytest.approx(brute, rel=1e-12)
    assert product_perturbation(norms, 0.0) == 0.0
    assert product_perturbation([], 0.1) == 0.0


def test_product_perturbation_no_cancellation_for_tiny_dw():
    # prod(n + dw) - prod(n) would round to 0 in float64; the first-order term survives
    norms, dw = [1.0, 2.0, 3.0], 1e-37
    first_order = dw * (2 * 3 + 1 * 3 + 1 * 2)
    assert product_perturbation(norms, dw) == pytest.approx(first_order, rel=1e-12)


def test_loglog_slope():
    assert loglog_slope([2, 4, 8], [3 * 2**-1.5, 3 * 4**-1.5, 3 * 8**-1.5]) == pytest.approx(-1.5)
    assert loglog_slope([2], [1.0]) is None
    assert loglog_slope([2, 4], [None, 1.0]) is None


@pytest.mark.parametrize("L", [1, 2, 3, 8, 1000])
@pytest.mark.parametrize("sigma", [0.1, 0.5, 2.0])
def test_flow_limit_solves_its_equation(L, sigma):
    s = flow_limit_wl_norm(sigma, L)
    assert s * s * (1 + s * s) ** (L - 1) == pytest.approx(sigma * sigma, rel=1e-12)
    assert flow_limit_wl_norm(0.0, L) == 0.0


def test_flow_limit_matches_the_flow():
    # d = 1, Phi = 1/2, L = 3: the flow from ZAS ends at |w_L| = s_L
    b = Float64Backend()
    run = dynamics.flow(
        b, [np.eye(1), np.eye(1), np.zeros((1, 1))], Target.whitened(b, np.array([[0.5]])), [12.0]
    )
    assert abs(run.ws[-1][-1][0, 0]) == pytest.approx(flow_limit_wl_norm(0.5, 3), rel=1e-8)


def test_comparison_decay_solves_its_ode():
    for L in (2, 3, 5):
        u0, t, h = 1.7, 0.8, 1e-5
        du = (comparison_decay(u0, L, t + h) - comparison_decay(u0, L, t - h)) / (2 * h)
        assert du == pytest.approx(-(comparison_decay(u0, L, t) ** (L - 1)), rel=1e-6)
        assert comparison_decay(u0, L, 0.0) == pytest.approx(u0)
    assert comparison_decay(0.0, 3, 1.0) == 0.0


def test_linear_convergence_cases():
    geo = [0.7**k for k in range(80)]
    ok = linear_convergence(geo, 1e-10, 200, 10)
    assert ok["converged"]
    assert ok["T"] == 65
    plateau = [1.0] * 30 + [0.5**k for k in range(40)]
    bad = linear_convergence(plateau, 1e-10, 80, 10)
    assert not bad["converged"]
    assert bad["reason"].startswith("plateau")
    slow = linear_convergence([0.99**k for k in range(50)], 1e-10, 49, 10)
    assert not slow["converged"]
    assert slow["T"] is None
    div = linear_convergence([1.0, 10.0, 1e8, math.inf], 1e-10, 10, 2)
    assert div["reason"] == "diverged"


def test_exact_lower_layers_under_zas():
    phi = [[Fraction(1, 2), Fraction(-1, 4)], [Fraction(3, 4), Fraction(1, 8)]]
    assert exact_lower_layers(4, phi, Fraction(1, 8), 3)


def test_mirror_of_m():
    assert _on_mirror_of_m([-1.0, -1.0, 1.0])
    assert _on_mirror_of_m([0.5, 0.5])
    assert not _on_mirror_of_m([-0.5, 0.5, 0.5])
    assert not _on_mirror_of_m([1.0, 0.5])
