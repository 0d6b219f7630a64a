"""The cards of the reviewers' variants (review.any-layer, review.last-cI,
review.alpha) and the suite's finding review.alpha.gd: verdicts, the fixed
defects (issues 11 and the controls), scopes, and the measurements under them
(zascheck/measure/reviews.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from zascheck import cli, inits
from zascheck.arith import backend
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.errors import InputError
from zascheck.measure import reviews as mr
from zascheck.model import Target
from zascheck.result import Verdict

MINE = ("review.any-layer", "review.last-cI", "review.alpha", "review.alpha.gd")


def _check(key: str):
    (c,) = checks_for([key])
    return c


@pytest.fixture(scope="module")
def alpha_gd():
    return run_check(_check("review.alpha.gd:gd"), RunContext())


# -- review.alpha.gd ------------------------------------------------------------------------------


def test_alpha_gd_is_its_own_card_and_review_alpha_keeps_the_flow():
    assert {c.method for c in checks_for(["review.alpha"])} == {"flow", "symbolic", "spectral-proof"}
    assert [c.method for c in checks_for(["review.alpha.gd"])] == ["gd"]


def test_alpha_gd_quick_holds_against_the_flows_realized_speedup(alpha_gd):
    """The former review.alpha:gd judged GD against (alpha_max/alpha_min)^(2(L-1)) = 16 with
    N*(1) = 14: it could never pass.  Now each alpha is judged against the flow's own
    speed-up T(alpha_min)/T(alpha), and only where counts can tell."""
    res = alpha_gd
    assert res.verdict is Verdict.HOLDS, res.notes
    counted = [x for x in res.evidence["decisions"] if x["resolvable"]]
    assert counted, "some case must be decided"
    rows = {(r["L"], r["alpha"]): r for r in res.evidence["table"]}
    for x in res.evidence["decisions"]:
        t = rows[(x["L"], x["alpha"])]["flow_time"]
        t0 = rows[(x["L"], x["alpha_min"])]["flow_time"]
        n0 = x["N_alpha_min"]
        assert x["n_flow"][0] == pytest.approx((n0 - 1) * t[0] / t0[1], rel=1e-12)
        assert x["n_flow"][1] == pytest.approx((n0 + 1) * t[1] / t0[0], rel=1e-12)
        # resolvable exactly when one GD iteration could fall below the prediction
        assert x["resolvable"] == (x["n_flow"][0] > 1 + 1)
    # alpha = 3 at L = 3: the flow predicts < 1 iteration; N >= 1 would decide it, so not counted
    assert not next(x for x in res.evidence["decisions"] if x["alpha"] == 3.0)["resolvable"]


def test_alpha_gd_step_brackets_are_judged_on_both_ends(alpha_gd):
    for r in alpha_gd.evidence["table"]:
        assert r["bracket_found"]
        lo, hi = r["eta_max"], r["eta_fail"]
        assert lo < hi <= lo * 1.02 * (1 + 1e-12)
        assert r["fail_kind"] in ("diverged", "budget")
        assert r["limited_by_step_budget"] == (r["fail_kind"] == "budget")
        # the tuned step lies at or below the converging end
        assert r["tuned_eta"] <= lo
        # eta = alpha^(-2(L-1)) solves the problem in one step (exact arithmetic)
        assert r["one_step_exact"]
    # at alpha = 1 (ZAS, L = 3) the first failing step is a budget failure, and the card says so
    zas = next(r for r in alpha_gd.evidence["table"] if r["alpha"] == 1.0)
    assert zas["limited_by_step_budget"]
    assert "budget-limited" in alpha_gd.notes


def test_alpha_gd_scope_is_sampled(alpha_gd):
    assert set(alpha_gd.scope) >= {"alpha", "L", "Phi", "eta", "eps"}
    assert not any(e["universal"] for e in alpha_gd.scope.values())
    assert "decided at [(3, 1.5)]" in alpha_gd.scope["alpha"]["covered"]


def test_alpha_gd_control_common_step_realizes_the_flow_speedup():
    res = run_check(_check("review.alpha.gd:gd"), RunContext(), control="common-step")
    assert res.verdict is Verdict.VIOLATED
    x = res.counterexample
    assert x["step"] == "common"
    # at one step for every alpha, GD gains more than the flow does
    assert x["gd_speedup"] > x["flow_speedup_at_least"]


def test_alpha_gd_near_one_counts_cannot_separate_gd_from_the_flow():
    """alpha = 1.25 at L = 3: GD's speed-up equals the flow's within one iteration."""
    res = run_check(_check("review.alpha.gd:gd"), RunContext(), case={"alphas": [1.0, 1.25]})
    assert res.verdict is Verdict.INCONCLUSIVE, res.notes


# -- issue 11: parameters the arithmetic cannot hold are refused ----------------------------------


@pytest.mark.parametrize(
    ("key", "case", "names"),
    [
        ("review.alpha:flow", {"alphas": [1e155], "depths": [3]}, "alphas"),
        ("review.alpha:flow", {"alphas": [float("nan")]}, "alphas"),
        ("review.alpha:flow", {"alphas": [-1.5]}, "alphas"),
        ("review.alpha.gd:gd", {"alphas": [1.0, 1e100]}, "alphas"),
        ("review.last-cI:flow", {"cs": [1e155], "depths": [3]}, "cs"),
        ("review.any-layer:flow", {"times": [0.0, 1.0]}, "times"),
    ],
)
def test_unholdable_parameters_are_input_errors(key, case, names):
    with pytest.raises(InputError, match=names):
        run_check(_check(key), RunContext(), case=case)


def test_issue_11_exit_code(capsys):
    rc = cli.main(
        ["check", "review.alpha:flow", "--case", json.dumps({"alphas": [1e155], "depths": [3]}),
         "--no-progress"]
    )  # fmt: skip
    assert rc == 2
    assert "alphas" in capsys.readouterr().err


# -- controls break hypotheses -------------------------------------------------------------------


def test_last_ci_controls_break_hypotheses():
    controls = _check("review.last-cI:flow").controls
    assert "zas-rate" not in controls  # scaled the bound only
    res = run_check(_check("review.last-cI:flow"), RunContext(), control="last-not-cI")
    assert res.verdict is Verdict.VIOLATED
    (row,) = res.evidence["rate_table"]
    assert row["outside_hypothesis"]
    # the rate claimed is still the one of c = 0.1: the decision path is the claim's own
    assert row["claimed_rate"] == float(mr.last_ci_rate(0.1, 3))


def test_alpha_flow_control_breaks_alpha_identity():
    res = run_check(_check("review.alpha:flow"), RunContext(), control="anisotropic-W1")
    assert res.verdict is Verdict.VIOLATED
    # the claimed rate is alpha^(2(L-1)); the init's rate at t = 0 is 0.625 of it, so the
    # violation shows from the first grid time on
    first = res.evidence["per_case"]["alpha1.5_L3"]["ratio"][0]
    assert first > 1
    assert res.evidence["R0_equals_ZAS_R0_exactly"]


# -- scope of every result ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", [c.key for c in checks_for(list(MINE)) if c.method in ("flow", "symbolic")]
)
def test_scope_covers_every_quantifier(key):
    res = run_check(_check(key), RunContext())
    assert res.verdict.ok
    for name, e in res.scope.items():
        assert e["covered"] != "not covered", (key, name)
    if res.method == "flow":
        assert not any(e["universal"] for e in res.scope.values())
    else:
        assert not res.scope["L"]["universal"]
        assert "explicit" in res.scope["L"]["covered"]


# -- the measurements ---------------------------------------------------------------------------


@pytest.fixture
def f64():
    return backend("float64")


def test_flow_time_to_eps_closed_form(f64):
    """L = 1 from W = 0: E(t) = -exp(-t) Phi, so R(t) = exp(-2t) R(0) and T = ln(1/eps)/2."""
    tgt = Target.whitened(f64, np.array([[1.5, -0.5], [0.25, 2.0]]))
    ft = mr.flow_time_to_eps(f64, [np.zeros((2, 2))], tgt, rel_tol=1e-10, t_bound=1.0)
    exact_t = math.log(1e10) / 2
    assert ft.found
    assert ft.lo <= exact_t <= ft.hi
    assert ft.hi / ft.lo <= 1 + 1e-3


def test_stable_step_bracket_labels_its_upper_end():
    def run(eta):
        if eta <= 0.3:
            return mr.GDOutcome(5, "converged")
        return mr.GDOutcome(None, "budget" if eta <= 0.5 else "diverged")

    br = mr.stable_step_bracket(run, 0.01, rel_width=1e-3)
    assert br.found and br.lo <= 0.3 < br.hi and br.limited_by_budget
    br = mr.stable_step_bracket(
        lambda e: mr.GDOutcome(5, "converged") if e <= 0.3 else mr.GDOutcome(None, "diverged"),
        0.01,
        rel_width=1e-3,
    )
    assert br.hi_stop == "diverged" and not br.limited_by_budget
    never = mr.stable_step_bracket(lambda e: mr.GDOutcome(5, "converged"), 0.01, rel_width=1e-3)
    assert not never.found and never.hi == math.inf


@pytest.mark.parametrize(
    ("n", "verdict", "resolvable"),
    [(6, "holds", True), (4, "inconclusive", True), (1, "violated", True)],
)
def test_count_vs_flow(n, verdict, resolvable):
    t_ref = mr.FlowTime(7.666, 7.672, 0.0, True)
    t = mr.FlowTime(2.001, 2.002, 0.0, True)  # flow speed-up ~3.83; N_ref = 14 -> n_flow ~3.66
    out = mr.count_vs_flow(n, 14, t, t_ref)
    assert (out["verdict"], out["resolvable"]) == (verdict, resolvable)
    assert mr.count_vs_flow(None, 14, t, t_ref)["verdict"] == "inconclusive"


def test_one_step_exact():
    phi = np.array([[0.5, -1.0], [0.25, 2.0]])
    assert mr.one_step_exact(phi, 3, 1.5)
    assert mr.one_step_exact(phi, 2, 1.0)


def test_last_ci_init_last_other():
    ws = mr.last_ci_init(3, 2, 0.1, 0.9)
    assert np.array_equal(ws[-1], np.diag([0.1, 0.9]))
    assert np.array_equal(ws[0], np.eye(2))
    assert np.array_equal(mr.last_ci_init(3, 2, 0.1)[-1], inits.last_c_identity(3, 2, 0.1)[-1])


def test_a_stiff_alpha_flow_runs_in_the_working_arithmetic():
    """alpha = 20 at L = 3 (rate 1.6e5) once overflowed the integrator's float64 step
    control; the step sizes are now computed in logs, so the flow is checked, not refused."""
    res = run_check(_check("review.alpha:flow"), RunContext(), case={"alphas": [20.0], "depths": [3]})
    assert res.verdict is Verdict.HOLDS, res.notes
