"""Review-claim checks (zascheck/claims/review/) and the GD sweep
utilities (zascheck/experiments.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zascheck import experiments, inits, model
from zascheck.arith import backend
from zascheck.errors import InputError
from zascheck.model import Target
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.result import Verdict

EXPECTED = {
    "review.any-layer:flow": Verdict.HOLDS,
    "review.last-cI:flow": Verdict.HOLDS,
    "review.alpha:flow": Verdict.HOLDS,
    "review.multirun:gd": Verdict.HOLDS,
    "shamir.lower:gd": Verdict.HOLDS,
}


def _check(key: str):
    (c,) = checks_for([key])
    return c


@pytest.fixture(scope="module")
def quick_results():
    return {key: run_check(_check(key), RunContext()) for key in EXPECTED}


@pytest.mark.parametrize("key", list(EXPECTED))
def test_quick_verdict(quick_results, key):
    res = quick_results[key]
    assert res.verdict is EXPECTED[key], f"{key}: {res.verdict} ({res.notes})"
    assert res.evidence, f"{key}: evidence must not be empty"
    if res.verdict is Verdict.VIOLATED:
        assert res.counterexample


CONTROLS = [(key, name) for key in EXPECTED for name in _check(key).controls]


@pytest.mark.parametrize(("key", "control"), CONTROLS, ids=[f"{k}:{n}" for k, n in CONTROLS])
def test_control_is_violated(key, control):
    res = run_check(_check(key), RunContext(), control=control)
    assert res.verdict is Verdict.VIOLATED, f"{key} control {control}: {res.verdict} ({res.notes})"
    assert res.counterexample


def test_any_layer_trajectories_coincide(quick_results):
    """End-to-end P(t) does not depend on where the zero layer sits (SVD reduction
    to scalar problems + permutation symmetry): differences within the derived tolerance."""
    traj = quick_results["review.any-layer:flow"].evidence["trajectory_comparison"]
    assert traj
    for L, t in traj.items():
        assert t["within_tolerance"], f"L={L}: {t}"


def test_any_layer_two_sided_bound(quick_results):
    """||G_k||^2 / 2R >= lambda_min(A^T A) lambda_min(B B^T) >= 1 along the flow
    (float64 eigenvalues of 128-bit matrices: slack of a few ulps)."""
    per = quick_results["review.any-layer:flow"].evidence["per_case"]
    tol = 16 * np.finfo(float).eps
    for name, ev in per.items():
        for g, s in zip(ev["grad_k_over_2R"], ev["two_sided_lower_bound"], strict=True):
            assert s >= 1 - tol, name
            assert g >= s * (1 - tol), name


def test_last_ci_rate_table(quick_results):
    res = quick_results["review.last-cI:flow"]
    table = res.evidence["rate_table"]
    assert res.evidence["identity"]["exact_at_t0"]
    for row in table:
        # the empirical rate on the grid is at least the derived one ...
        assert (
            row["empirical_rate"] >= row["derived_rate"] * (1 - 1e-9) or row["verdict"] != "holds"
        )
        # ... and the rate at t = 0 is 1 + (L-1) c^2 (gradients from the model at W(0))
        c, L = row["c"], row["L"]
        assert math.isclose(
            row["rate_at_t0"], 1 + (L - 1) * c * c, rel_tol=64 * np.finfo(float).eps
        )


def test_last_ci_rate_formula():
    from zascheck.measure.reviews import last_ci_rate

    assert float(last_ci_rate(0.0, 4)) == 1.0
    assert last_ci_rate(0.5, 1) == 1


def test_multirun_reports_interval(quick_results):
    per = quick_results["review.multirun:gd"].evidence["per_width"]
    for d, p in per.items():
        lo, hi = p["wilson95"]
        assert 0 <= lo <= p["escape_fraction"] <= hi <= 1, d
        assert p["zas_iterations"] is not None


# ---------------------------------------------------------------------------
# sweep utilities
# ---------------------------------------------------------------------------


@pytest.fixture
def f64():
    return backend("float64")


@pytest.mark.parametrize("eta", [0.1, 0.25, 0.5, 0.75])
@pytest.mark.parametrize("rel_tol", [1e-3, 1e-10])
def test_iterations_to_eps_closed_form(f64, eta, rel_tol):
    """L = 1 from W = 0: E(t) = -(1 - eta)^t Phi, so R(t) = (1-eta)^(2t) R(0) and the
    count is the first t with (1-eta)^(2t) <= rel_tol."""
    phi = np.array([[1.5, -0.5], [0.25, 2.0]])
    tgt = Target.whitened(f64, phi)
    n = experiments.iterations_to_eps(
        f64, [np.zeros((2, 2))], tgt, eta, rel_tol=rel_tol, max_steps=10_000
    )
    t_exact = math.log(rel_tol) / (2 * math.log(1 - eta))
    # the rounding of (1-eta)^(2t) moves the threshold by at most one step when t_exact is
    # within a relative gamma_n of an integer
    assert n in (math.ceil(t_exact - 1e-9), math.ceil(t_exact + 1e-9))


def test_iterations_to_eps_censored(f64):
    tgt = Target.whitened(f64, np.array([[1.0]]))
    assert (
        experiments.iterations_to_eps(
            f64, [np.zeros((1, 1))], tgt, 0.01, rel_tol=1e-10, max_steps=5
        )
        is None
    )
    # eta > 2 diverges at L = 1: |1 - eta| > 1
    assert (
        experiments.iterations_to_eps(
            f64, [np.zeros((1, 1))], tgt, 2.5, rel_tol=1e-10, max_steps=500
        )
        is None
    )
    with pytest.raises(InputError):
        experiments.iterations_to_eps(f64, [np.zeros((1, 1))], tgt, 0.5, rel_tol=2.0, max_steps=5)


def test_max_stable_eta_l1(f64):
    """L = 1: GD converges iff |1 - eta| < 1, i.e. eta < 2 (for a finite budget, a bit less)."""
    tgt = Target.whitened(f64, np.array([[1.0]]))

    def conv(e):
        return (
            experiments.iterations_to_eps(
                f64, [np.zeros((1, 1))], tgt, e, rel_tol=1e-6, max_steps=2000
            )
            is not None
        )

    st = experiments.max_stable_eta(conv, 0.1, rel_width=1e-3)
    # within the budget, (eta - 1)^(2*2000) <= 1e-6 iff eta <= 1 + 1e-6^(1/4000)
    edge = 1 + 1e-6 ** (1 / 4000)
    assert st.eta <= edge <= st.eta_fail
    assert st.eta_fail / st.eta <= 1 + 1e-3
    assert st.history[0] == (0.1, True)


def test_max_stable_eta_downward_and_deterministic():
    a = experiments.max_stable_eta(lambda e: e <= 1e-3, 1.0)
    b = experiments.max_stable_eta(lambda e: e <= 1e-3, 1.0)
    assert a == b
    assert a.eta <= 1e-3 < a.eta_fail


def test_tune_eta_prefers_fewest_then_smaller():
    t = experiments.tune_eta(lambda e: {1: 5, 2: 5, 3: None}[int(e)], [3.0, 2.0, 1.0])
    assert (t.eta, t.iterations) == (1.0, 5)
    assert experiments.tune_eta(lambda e: None, [1.0]).iterations is None


def test_first_hit_and_median():
    assert experiments.first_hit([1.0, 0.5, 1e-4], 1e-3) == 2
    assert experiments.first_hit([0.0], 1e-3) == 0
    assert experiments.lower_median([3, 1, 2]) == 2
    assert experiments.lower_median([None, 4, None, 1]) == 4
    assert experiments.lower_median([None, None, 1]) is None


def test_batch_is_bitwise_the_single_runs(f64):
    """The block-diagonal batch reproduces each run's first hit exactly."""
    L, eta, tol = 4, 0.25 / 4, 1e-8
    runs = [inits.near_identity(L, 1, np.random.default_rng(i)) for i in range(3)]
    runs += [inits.xavier(L, 1, np.random.default_rng(10 + i)) for i in range(2)]
    br = experiments.batch_first_hits(f64, runs, -np.eye(1), eta, rel_tol=tol, max_steps=3000)
    tgt = Target.whitened(f64, -np.eye(1))
    single = [
        experiments.iterations_to_eps(f64, r, tgt, eta, rel_tol=tol, max_steps=3000) for r in runs
    ]
    assert br.hits == single
    r0 = [float(model.loss(f64, r, tgt)) for r in runs]
    assert br.initial_loss == r0


def test_batch_blocks_of_width_two(f64):
    runs = [inits.near_identity(3, 2, np.random.default_rng(i)) for i in range(2)]
    phi = np.array([[0.5, 1.0], [-1.0, 0.25]])
    br = experiments.batch_first_hits(f64, runs, phi, 0.05, rel_tol=1e-6, max_steps=3000)
    tgt = Target.whitened(f64, phi)
    assert br.hits == [
        experiments.iterations_to_eps(f64, r, tgt, 0.05, rel_tol=1e-6, max_steps=3000) for r in runs
    ]


def test_batch_median_stop(f64):
    runs = [inits.xavier(6, 1, np.random.default_rng(i)) for i in range(5)]
    br = experiments.batch_first_hits(
        f64, runs, -np.eye(1), 0.25 / 6, rel_tol=1e-10, max_steps=20000, until="median"
    )
    assert sum(h is not None for h in br.hits) >= 3
    assert experiments.lower_median(br.hits) is not None


def test_wilson_interval():
    lo, hi = experiments.wilson_interval(5, 10)
    assert math.isclose(lo + hi, 1.0, rel_tol=1e-12)  # symmetric at p = 1/2
    # the endpoints are the roots of (k/n - p)^2 = z^2 p (1 - p) / n (score test inversion)
    z = experiments.Z95
    for k, n in [(5, 10), (2, 5), (0, 50), (7, 8)]:
        for p in experiments.wilson_interval(k, n):
            if 0 < p < 1:
                assert math.isclose((k / n - p) ** 2, z * z * p * (1 - p) / n, rel_tol=1e-9), (
                    k,
                    n,
                    p,
                )
    assert experiments.wilson_interval(10, 10)[1] == 1.0
    with pytest.raises(InputError):
        experiments.wilson_interval(3, 2)


def test_linear_fit_standard_error():
    """Slope SE against the textbook formula on a small fixed data set."""
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    y = [1.1, 1.9, 3.2, 3.9, 5.1]
    f = experiments.linear_fit(x, y)
    xa, ya = np.array(x), np.array(y)
    slope, icpt = np.polyfit(xa, ya, 1)
    res = ya - (icpt + slope * xa)
    se = math.sqrt(res @ res / 3 / ((xa - xa.mean()) ** 2).sum())
    eps = 64 * np.finfo(float).eps
    assert math.isclose(f.slope, slope, rel_tol=eps)
    assert math.isclose(f.slope_se, se, rel_tol=1e-12)


def test_growth_fits_tell_exponential_from_polynomial():
    L = [2, 4, 6, 8, 10, 12]
    g_exp = experiments.growth_fits(L, [10 * math.exp(0.3 * x) for x in L])
    g_pol = experiments.growth_fits(L, [10 * x**1.5 for x in L])
    assert g_exp["exponential"].rss < g_exp["polynomial"].rss
    assert g_pol["polynomial"].rss < g_pol["exponential"].rss
    assert math.isclose(g_exp["exponential"].slope, 0.3, rel_tol=1e-12)
    assert math.isclose(g_pol["polynomial"].slope, 1.5, rel_tol=1e-12)
