"""Verdicts stay right over every magnitude (issue 10, item 6): targets from 1e-300 to 1e150,
zero and subnormal entries; the gradient property (exact central differences) and the flow
bound of Theorem 4.1 on such targets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zascheck import engine, search
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.result import Verdict
from zascheck.strategies import MAGNITUDE_EXPS

EXTREMES = [
    0.0,
    5e-324,
    2.0 ** MAGNITUDE_EXPS[0],
    1e-300,
    1e-170,
    1.0,
    1e150,
    2.0 ** MAGNITUDE_EXPS[1],
]


@pytest.mark.parametrize("scale", EXTREMES)
def test_gradient_identity_is_certified_at_every_magnitude(scale):
    case = {
        "ws": [[[0.5, -1.0], [0.25, 2.0]], [[1.0, 0.0], [-0.5, 0.75]]],
        "phi": [[scale, -scale], [0.0, scale]],
    }
    out = search.check_case(engine.prop("zas.gradient"), case)
    assert out.verdict is Verdict.CERTIFIED, (scale, out.verdict, out.tried)


@pytest.mark.parametrize("scale", [1e-300, 1e-170, 5e-324, 0.0])
def test_flow_bound_is_never_violated_on_tiny_targets(scale):
    (c,) = checks_for(["zas.thm4.1:flow"])
    phi = np.diag([scale, -scale])
    res = run_check(c, RunContext(phi=phi), case={"depths": [2]})
    assert res.verdict is not Verdict.VIOLATED, res.notes
    for x in (res.measured, res.margin):
        assert x is None or math.isfinite(x), (res.measured, res.margin)


def test_the_strategy_draws_the_whole_range():
    assert MAGNITUDE_EXPS[0] <= -996 and MAGNITUDE_EXPS[1] >= 498


def test_thm2_reduction_on_a_tiny_target_is_not_violated():
    """Issue 10: at 1e-300 I the rate 1 - 1e-300 rounded to 1.0 was read as 'violated'."""
    (c,) = checks_for(["ssm.thm2:reduction"])
    res = run_check(c, RunContext(phi=1e-300 * np.eye(2)))
    assert res.verdict is Verdict.CERTIFIED, res.notes
    assert res.margin is not None and 0 < res.margin < 1e-290


def test_no_part_is_certified_without_a_measured_value():
    """Issue 10: zas.thm4.1.steps at Phi = 0 had a certified part with measured null."""
    (c,) = checks_for(["zas.thm4.1.steps:numeric"])
    res = run_check(c, RunContext(phi=np.zeros((2, 2))), case={"depths": [2]})
    for r in [res, *res.parts]:
        if r.verdict.ok or r.verdict is Verdict.VIOLATED:
            assert r.measured is not None and math.isfinite(r.measured), (r.part, r.verdict)


def test_deficit_estimate_at_tiny_times_has_no_cancellation():
    from zascheck.measure.flow import thm41_deficit_log2

    # J(t) ~ t^3/3: 4 (L-1) J(t) at L = 2, sigma = 1
    for t in (1e-320, 1e-6, 1e-4):
        got = thm41_deficit_log2([[1.0]], 2, t)
        assert math.isfinite(got)
        assert abs(got - (math.log2(4 / 3) + 3 * math.log2(t))) < 1e-3
    assert (
        abs(thm41_deficit_log2([[1.0]], 2, 0.999e-3) - thm41_deficit_log2([[1.0]], 2, 1.001e-3))
        < 0.01
    )


def test_exact_to_float_beyond_the_double_range_is_infinite():
    from zascheck.arith import ExactBackend

    e = ExactBackend()
    assert e.to_float(e.scalar(10**400)) == math.inf
    assert e.to_float(e.scalar(-(10**400))) == -math.inf


def test_drift_exact_on_a_huge_target_is_certified_not_a_crash():
    (c,) = checks_for(["zas.drift:exact"])
    res = run_check(c, RunContext(phi=1e150 * np.eye(2)))
    assert res.verdict is Verdict.CERTIFIED and res.measured == 0.0


def test_drift_mp_on_a_huge_target_is_decided_in_mp():
    """The residual / budget ratio is computed in mp: 1e150 I no longer overflows to inf."""
    (c,) = checks_for(["zas.drift:mp"])
    res = run_check(c, RunContext(phi=1e150 * np.eye(2)))
    assert res.verdict is Verdict.HOLDS and res.bound == 1.0
    assert res.measured is not None and 0 <= res.measured <= 1


def test_invariance_is_not_violated_by_a_d_l_that_happens_not_to_move():
    """A 1x1 target: one D_l does not move under exact GD (within the O(eta^2) bound): the
    review's 'only approximately invariant' is not contradicted (was 'violated')."""
    (c,) = checks_for(["review.invariance:flow+exact-gd"])
    res = run_check(c, RunContext(phi=np.array([[2.0]])))
    assert res.verdict is Verdict.HOLDS, res.notes
    assert 0.0 in res.evidence["gd_drift_norms"]
    ctl = run_check(c, RunContext(), control="claim-exact-under-gd")
    assert ctl.verdict is Verdict.VIOLATED
