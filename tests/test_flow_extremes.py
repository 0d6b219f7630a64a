"""Gradient-flow checks at the edges: tiny, huge, zero and subnormal targets,
stiff flows, high working precision, and Remark (2) on the user's own data.

Each test is a wrong verdict (or crash) that was fixed: the verdict must stay
right, the numbers finite, and an undecidable case must say which precision
would decide it.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from zascheck import dynamics, inits
from zascheck.arith import BallBackend
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.errors import InputError
from zascheck.measure.common import (
    decide_ratio,
    float_up,
    flow_decay,
    loss_change_bound,
    loss_error_bound,
)
from zascheck.measure.flow import bits_to_decide, thm41_deficit_log2
from zascheck.model import Target
from zascheck.result import Verdict


def _run(key, *, precision=None, **case):
    (check,) = checks_for([key])
    return run_check(check, RunContext(precision=precision), case=case or None)


def _finite(res):
    return res.measured is not None and math.isfinite(res.measured) and math.isfinite(res.margin)


# --- Theorem 4.1 across magnitudes of the target ---------------------------


def test_thm41_tiny_target_is_inconclusive_and_names_the_precision():
    # the issue: diag(1e-170, -1e-170) gave "violated, measured inf"; the true
    # ratio at L = 2, t = 0.25 is 1 - 1.7e-342: the claim holds
    res = _run("zas.thm4.1:flow", phi=[[1e-170, 0.0], [0.0, -1e-170]], depths=[1, 2])
    assert res.verdict is Verdict.INCONCLUSIVE, res.notes
    assert _finite(res)
    bits = int(re.search(r"--precision (\d+)", res.notes).group(1))
    assert 1140 <= bits <= 1300
    # ... and at that precision it is decided
    hi = _run("zas.thm4.1:flow", precision=bits, phi=[[1e-170, 0.0], [0.0, -1e-170]], depths=[2])
    assert hi.verdict is Verdict.HOLDS, hi.notes
    assert "e-342" in hi.tightest["one_minus_ratio"]


@pytest.mark.parametrize(
    "phi",
    [
        [[1e-300, 2e-300], [0.0, -1e-300]],
        [[5e-324, 0.0], [0.0, -1e-310]],  # subnormal entries
        [[1e150, 0.0], [0.0, -1e150]],
        [[3.0, -1.0], [0.5, 2.0]],
    ],
    ids=["1e-300", "subnormal", "1e+150", "order-1"],
)
def test_thm41_is_never_violated_and_never_infinite(phi):
    res = _run("zas.thm4.1:flow", phi=phi, depths=[1, 2])
    assert res.verdict in (Verdict.HOLDS, Verdict.INCONCLUSIVE), res.notes
    assert _finite(res)
    if res.verdict is Verdict.INCONCLUSIVE:
        assert "--precision" in res.notes


def test_thm41_zero_target_is_stationary_and_certified():
    res = _run("zas.thm4.1:flow", phi=[[0.0, 0.0], [0.0, 0.0]])
    assert res.verdict is Verdict.CERTIFIED
    assert res.measured == 0.0
    assert res.scope["t"]["universal"] is True
    assert not res.scope["Phi"]["universal"]


def test_thm41_stiff_target_finishes_by_monotonicity():
    # the issue: -1000 I at L = 5 gave no answer in 120 s
    res = _run("zas.thm4.1:flow", phi=(-1000 * np.eye(2)).tolist(), depths=[5])
    assert res.verdict is Verdict.HOLDS, res.notes
    assert res.seconds < 60
    m = res.evidence["per_depth"]["5"]
    assert m["monotone_from"] is not None and m["monotone_from"] < 0.01
    assert "every t in [" in res.scope["t"]["covered"]
    assert _finite(res) and res.measured <= 2.0**-20


def test_thm41_scope_states_what_was_run():
    res = _run("zas.thm4.1:flow")
    assert set(res.scope) >= {"t", "Phi", "L", "d"}
    assert not any(e["universal"] for e in res.scope.values())
    assert res.scope["L"]["covered"] == "L in {1, 2, 3, 5}"
    assert res.scope["d"]["covered"] == "d = 2"


def test_thm41_deficit_estimate_matches_the_flow():
    # two routes to 1 - R(t)/(exp(-2t)R(0)): the integrated flow and the
    # leading order in ||Phi|| (zas.spectral's modes)
    b = BallBackend(128)
    phi = np.diag([1e-3, -2e-3])
    with b.session():
        m = flow_decay(b, inits.zas(2, 2), Target.whitened(b, phi), [0.25, 1.0])
    for t, r in zip(m.times, m.ratios, strict=True):
        est = 2.0 ** thm41_deficit_log2(phi, 2, t)
        assert 1 - r == pytest.approx(est, rel=1e-2)


def test_bits_to_decide():
    assert bits_to_decide(128, [126.0, 101.0], [-1135.0, -1127.0]) == 1216
    assert bits_to_decide(128, [126.0], [-3.0]) is None  # not small: precision is not the issue


# --- high working precision -------------------------------------------------


def test_flow_runs_above_1082_bits():
    # the issue: --precision 1100 gave "math domain error" (2^-(prec-8) underflowed)
    b = BallBackend(1100)
    with b.session():
        run = dynamics.flow(b, [np.zeros((1, 1))], Target.whitened(b, [[0.5]]), [0.0, 0.01])
        exact = b.scalar(0.5) * (1 - b.exp(b.scalar(-0.01)))  # the double 0.01
        err = abs(run.ws[-1][0][0, 0] - exact)
    assert b.to_float(err) < 2.0**-1000
    assert run.order > 300


def test_thm41_steps_derivative_at_256_bits():
    # the issue: at 256 bits dR/dt came out exactly 0.0 (t +- 2^-64 rounded to t
    # as a double) and the step flipped to violated
    res = _run("zas.thm4.1.steps:numeric", precision=256, depths=[2], times=[0.0, 0.25, 1.0])
    assert res.verdict is Verdict.HOLDS, res.notes
    part = next(p for p in res.parts if p.part == "dR/dt")
    assert part.verdict is Verdict.HOLDS and part.measured < 1
    for rec in res.evidence["per_depth"]["2"]:
        assert not rec["dR/dt_value"].startswith("0")


# --- budgets in the working arithmetic ----------------------------------------


def test_budgets_do_not_underflow():
    b = BallBackend(128)
    phi = np.diag([1e-170, -1e-170])
    with b.session():
        ws = [np.eye(2), 1e-171 * np.eye(2)]
        tgt = Target.whitened(b, phi)
        bound = loss_change_bound(
            b, [b.matrix(w) for w in ws], tgt, [b.scalar(0), b.scalar("1e-210")]
        )
        assert b.lt(b.scalar(0), bound) is True
        assert float_up(b, bound) > 0  # rounded up, never to 0
        assert loss_error_bound(b, [b.matrix(w) for w in ws], tgt, 1e-200) > 0


def test_decide_ratio_relations():
    b = BallBackend(128)
    with b.session():
        one, eps = b.scalar(1), b.scalar(2) ** -60
        assert decide_ratio(b, one - eps, eps / 4) is Verdict.HOLDS
        assert decide_ratio(b, one + eps, eps / 4) is Verdict.VIOLATED
        assert decide_ratio(b, one + eps, eps * 4) is Verdict.INCONCLUSIVE
        assert decide_ratio(b, one + eps, eps / 4, ">=") is Verdict.HOLDS
        assert decide_ratio(b, one + eps, eps * 4, "==") is Verdict.HOLDS
        assert decide_ratio(b, one + eps, eps / 4, "==") is Verdict.VIOLATED


# --- Remark (2) on the user's data ------------------------------------------------


def test_remark_data_uses_the_users_data():
    x, y = [[1.0, 0.5, -1.0], [0.0, 1.0, 2.0]], [[1.0, 2.0, 3.0]]
    res = _run("zas.remark.data:flow-readings", X=x, Y=y)
    assert {p.part for p in res.parts} == {"printed-wide", "xxt-loss", "xxt-excess"}
    assert all("user X (2x3)" in p.scope["X"]["covered"] for p in res.parts)
    bad = next(p for p in res.parts if p.part == "xxt-loss")
    assert bad.verdict is Verdict.VIOLATED
    assert np.asarray(bad.counterexample["X"]).tolist() == x
    assert res.verdict is Verdict.VIOLATED  # never holds while a part is violated


def test_remark_data_user_data_printed_reading_holds():
    res = _run(
        "zas.remark.data:flow-readings", X=[[1.0, 0.5], [0.0, 1.0], [2.0, 2.0]], Y=[[1.0, 2.0]]
    )
    assert [p.part for p in res.parts] == ["printed"]
    assert res.verdict is Verdict.HOLDS


@pytest.mark.parametrize(
    ("x", "y", "msg"),
    [
        ([[1.0, 0.5], [0.0, 1.0]], [[1.0, 2.0, 3.0]], "samples"),
        ([[1.0, float("nan")]], [[1.0, 2.0]], "finite"),
        ([1.0, 2.0], [[1.0, 2.0]], "matrix"),
        ([[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0]], "full rank"),
        ([[1.0, 2.0]], None, "both X and Y"),
    ],
)
def test_remark_data_user_data_is_validated(x, y, msg):
    with pytest.raises(InputError, match=msg):
        _run("zas.remark.data:flow-readings", X=x, Y=y)


def test_thm41_steps_tiny_target_names_the_precision_that_decides():
    tiny = [[1e-170, 0.0], [0.0, -1e-170]]
    res = _run("zas.thm4.1.steps:numeric", phi=tiny, depths=[2], times=[0.0, 0.25])
    assert res.verdict is Verdict.INCONCLUSIVE, res.notes
    part = next(p for p in res.parts if p.part == "gradient-bound")
    assert part.verdict is Verdict.INCONCLUSIVE  # ||G_L||^2/(2R) = 1 + O(1e-340)
    bits = int(re.search(r"--precision (\d+)", res.notes).group(1))
    hi = _run("zas.thm4.1.steps:numeric", precision=bits, phi=tiny, depths=[2], times=[0.0, 0.25])
    assert hi.verdict is Verdict.HOLDS, hi.notes


def test_thm41_steps_zero_target_is_stationary():
    res = _run("zas.thm4.1.steps:numeric", phi=[[0.0, 0.0], [0.0, 0.0]], depths=[2])
    # steps (ii)-(iv) read 0 = 0 at a stationary point: vacuous, so not evidence (issue 10)
    assert res.verdict is Verdict.INCONCLUSIVE, res.notes
    assert "stationary" in res.notes
    assert all(p.measured is not None for p in res.parts if p.verdict.ok)


def test_remark_data_claim_level_reads_violated_with_parts():
    from zascheck.engine import claim_verdicts

    res = _run("zas.remark.data:flow-readings")
    (claim,) = claim_verdicts([res])
    assert claim["verdict"] == "violated"  # a reading fails: the claim cannot read holds
    assert "flow-readings/printed: holds" in claim["methods"]
    assert "flow-readings/xxt-loss: violated" in claim["methods"]


def test_data_readings_are_one_table():
    from zascheck import strategies as S
    from zascheck.measure.data_remark import READINGS

    assert {k: r.holds for k, r in READINGS.items()} == S.DATA_READINGS
    assert not READINGS["xxt-loss"].holds and READINGS["printed"].holds


def test_min_data_loss_is_the_least_squares_residual():
    from zascheck.measure.data_remark import min_data_loss

    rng = np.random.default_rng(3)
    x = rng.integers(-4, 5, (2, 5)) / 4
    y = rng.integers(-4, 5, (3, 5)) / 4
    a = np.linalg.lstsq(x.T, y.T, rcond=None)[0].T
    assert float(min_data_loss(x, y)) == pytest.approx(0.5 * np.sum((a @ x - y) ** 2), rel=1e-12)
    assert min_data_loss(x.T[:2].T[:, :1], y[:, :1]) == 0  # n < d_x... n = 1 <= d_x: realizable
