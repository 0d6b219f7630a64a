"""The figure and escape claims (zas.fig1, zas.fig2, zas.fig3, review.multirun,
shamir.lower): each wrong verdict the issues named, fixed, as a test; and the
statistics they decide with (zascheck/experiments.py, scipy.stats underneath)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zascheck import experiments
from zascheck.arith import Float64Backend
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.measure import escape, figures
from zascheck.model import Target
from zascheck.result import Verdict


def _run(key: str, case: dict | None = None, control: str | None = None):
    (c,) = checks_for([key])
    return run_check(c, RunContext(), case=case, control=control)


# ---------------------------------------------------------------------------
# statistics
# ---------------------------------------------------------------------------


def test_fisher_exact_two_sample_against_the_paper():
    """2/5 against 12/50 is a two-sample question: Fisher's exact p is about 0.6."""
    assert experiments.fisher_exact_p(12, 50, 2, 5) == pytest.approx(0.59, abs=0.01)
    assert experiments.fisher_exact_p(0, 50, 5, 5) < 1e-5


def test_compare_growth_cannot_separate_short_noisy_ranges():
    """Issue: depths 2..6, 4 seeds gave 'violated' from residuals 0.286 vs 0.230.
    Medians measured there (near-identity, seed 0): no law is preferred at 5%."""
    cmp = experiments.compare_growth([2, 3, 4, 5, 6], [20, 51, 42, 45, 68])
    assert cmp.preferred is None
    assert min(cmp.p_polynomial, cmp.p_exponential) > 0.05


def test_compare_growth_needs_four_depths():
    cmp = experiments.compare_growth([2, 4, 8], [4, 16, 64])
    assert cmp.preferred is None and "needs" in cmp.reason


def test_compare_growth_separates_clear_laws():
    L = list(range(2, 20, 2))
    noise = [1 + 0.03 * math.sin(3 * x) for x in L]
    exp_counts = [5 * 1.4**x * e for x, e in zip(L, noise, strict=True)]
    pol_counts = [5 * x**1.5 * e for x, e in zip(L, noise, strict=True)]
    assert experiments.compare_growth(L, exp_counts).preferred == "exponential"
    assert experiments.compare_growth(L, pol_counts).preferred == "polynomial"


# ---------------------------------------------------------------------------
# zas.fig1
# ---------------------------------------------------------------------------


def test_fig1_holds_at_the_step_that_used_to_flip_it():
    """Issue: 'holds' at 0.03, 'violated' at 0.02 with the claim unchanged.  The
    qualitative reading (near-identity lingers near the saddle longer than ZAS
    needs to converge) holds at both, with about the same ratio."""
    res = _run("zas.fig1:gd", {"etas": [0.02, 0.03]})
    assert res.verdict is Verdict.HOLDS, res.notes
    ratios = [r["ratio"] for r in res.evidence["per_eta"]]
    assert all(1.5 < q < 2.0 for q in ratios), ratios
    assert res.scope["eta"]["covered"] == "eta in [0.02, 0.03]"


def test_fig1_reports_the_papers_140_iterations_as_a_step():
    """The figure's ~140 iterations are a measured number: the step at which ZAS
    needs 140 iterations to 1e-7, bracketed."""
    b = figures.fig1_eta_for(140, 1e-7)
    assert b["eta_lo"] < b["eta_hi"] <= b["eta_lo"] * 1.002
    assert 0.027 < b["eta_lo"] < 0.029
    row = figures.fig1_lingering(b["eta_lo"], 1e-7, 30.0, (1.0, 0.0), (0.999, 1.001))
    assert row["n_zas"] >= 140
    assert (
        figures.fig1_lingering(b["eta_hi"], 1e-7, 30.0, (1.0, 0.0), (0.999, 1.001))["n_zas"] < 140
    )


# ---------------------------------------------------------------------------
# zas.fig2
# ---------------------------------------------------------------------------


def _series(claimed, depths, gamma, **kw):
    return {"claimed": claimed, "depths": depths,
            "iterations": [round(3 * x**gamma) for x in depths], **kw}  # fmt: skip


def test_fig2_depths_outside_the_claim_cannot_violate():
    """Issue: 'violated' from depths 4..64 (and 2..8); the claim is about 10..10^4."""
    res = figures.fig2_result({"-I, d=1": _series(1.0, [2, 4, 8, 16, 32, 64], 0.3)})
    assert res.verdict is Verdict.INCONCLUSIVE
    assert "outside 10..10^4" in res.notes
    inside = figures.fig2_result({"-I, d=1": _series(1.0, [10, 20, 50, 100, 200], 0.3)})
    assert inside.verdict is Verdict.VIOLATED


def test_fig2_one_gaussian_draw_cannot_violate():
    """Issue: one Gaussian draw.  A single draw of a random target is a finding;
    several draws that agree decide (interval over draws)."""
    L = [10, 20, 50, 100, 200]
    one = figures.fig2_result({"Gaussian, d=2": _series(1.0, L, 0.33)})
    assert one.verdict is Verdict.INCONCLUSIVE and "one draw" in one.notes
    draws = [[round(c * x**g) for x in L] for c, g in ((3, 0.32), (4, 0.34), (2, 0.33))]
    many = figures.fig2_result({"Gaussian, d=2": _series(1.0, L, 0.33, per_draw=draws)})
    assert many.verdict is Verdict.VIOLATED, many.notes
    assert many.parts[0].evidence["interval"] == "t-interval over 3 draws"


def test_fig2_reading_uses_the_papers_named_exponents():
    assert figures.exponent_cell(0.5) == (-math.inf, 0.75)
    assert figures.exponent_cell(1.0) == (0.75, 2.0)
    ok = figures.fig2_result({"-I, d=1": _series(0.5, [10, 20, 50, 100, 200], 0.5)})
    assert ok.verdict is Verdict.HOLDS and ok.parts[0].part == "-I, d=1"


def test_fig2_tuner_respects_the_stated_cap():
    """eta = 1 is the one-step solution from ZAS: the protocol's grid stops at 1/2."""
    b = Float64Backend()
    tgt = Target.whitened(b, np.array([[2.0]]))
    free = figures.tune_lr(b, [np.zeros((1, 1))], tgt, 1e-10, 0.25)
    capped = figures.tune_lr(b, [np.zeros((1, 1))], tgt, 1e-10, 0.25, eta_max=0.5)
    assert free["eta"] == pytest.approx(1.0) and free["iterations"] == 1
    assert capped["eta"] <= 0.5 and capped["at_cap"] and capped["iterations"] > 1
    assert all(e <= 0.5 for e, _ in capped["table"])


def test_fig2_scope_states_depths_draws_and_tuning():
    res = _run("zas.fig2:gd", {"depths": [10, 14, 20], "series": ["-I, d=1"]})
    sc = res.scope
    assert "L in [10, 14, 20]" in sc["L"]["covered"]
    assert "outside (1/2, 2)" in sc["eta"]["covered"] and "one-step" in sc["eta"]["covered"]
    assert res.evidence["iterations_at_eta_1"]["-I, d=1"] == [1]


# ---------------------------------------------------------------------------
# zas.fig3, review.multirun
# ---------------------------------------------------------------------------


def test_a_run_still_decreasing_is_not_trapped():
    """Issue: a run ending at R/R(0) = 1.9e-6 and still decreasing counted as trapped.
    Escape is leaving the saddle region (R < 1/4), not reaching rel_tol."""
    R0 = 70.0
    losses = np.concatenate(
        [np.linspace(R0, 0.5, 50), np.full(100, 0.5), np.geomspace(0.5, 1.9e-6 * R0, 50)]
    )
    r = escape.run_record(losses, None, "budget", escape.escape_level(-np.eye(25)))
    assert r["escaped"] and r["iterations"] is None
    plateau = escape.run_record(np.concatenate([losses[:150]]), None, "budget", 0.25)
    assert not plateau["escaped"]


def test_paper_rate_is_a_two_sample_test_and_only_violates_in_setting():
    sc = escape.setting_scope(25, 50, 10_000, 0.01)
    consistent = escape.paper_rate_part(12, 50, True, sc)
    assert consistent.verdict is Verdict.HOLDS and consistent.measured == pytest.approx(
        0.59, abs=0.01
    )
    assert escape.paper_rate_part(50, 50, True, sc).verdict is Verdict.VIOLATED
    assert escape.paper_rate_part(50, 50, False, sc).verdict is Verdict.INCONCLUSIVE


def test_fig3_quick_scope_says_its_width_and_why():
    res = _run("zas.fig3:gd")
    assert [p.part for p in res.parts] == ["zas-escapes", "trapped", "2-of-5"]
    assert "d = 5" in res.scope["d"]["covered"] and "25" in res.scope["d"]["covered"]
    ev = res.evidence
    assert {"wilson95", "fisher_p", "escaped", "runs", "paper_inside_ci"} <= set(ev)
    # the trapped runs sit at a saddle value k/2
    assert all(abs(2 * x - round(2 * x)) < 1e-2 for x in ev["trapped_final_loss"])


def test_fig3_and_multirun_share_runs():
    a = escape.escape_runs("near-identity", 6, 5, 0.01, 2000, 1e-10, 0, [0, 1])
    b = [figures.fig3_run("near-identity", 6, 5, 0.01, 2000, 1e-10, 0, i) for i in (0, 1)]
    assert [x["curve"] for x in a] == [x["curve"] for x in b]


def test_batched_escape_runs_equal_single_runs():
    """Block-diagonal batching changes nothing: bit for bit the runs alone."""
    escape._CACHE.clear()
    batched = escape.escape_runs("near-identity", 6, 3, 0.01, 600, 1e-10, 0, [0, 1, 2])
    escape._CACHE.clear()
    single = [
        escape.escape_runs("near-identity", 6, 3, 0.01, 600, 1e-10, 0, [i])[0] for i in range(3)
    ]
    assert batched == single


# ---------------------------------------------------------------------------
# shamir.lower
# ---------------------------------------------------------------------------


def test_shamir_short_range_is_inconclusive_not_violated():
    """Issue: `--case` depths 2..6, 4 seeds gave 'violated'."""
    res = _run("shamir.lower:gd", {"depths": [2, 3, 4, 5, 6], "seeds": 4})
    random_parts = [p for p in res.parts if p.part in ("near-identity", "xavier")]
    assert [p.verdict for p in random_parts] == [Verdict.INCONCLUSIVE] * 2, res.notes
    assert res.verdict is not Verdict.VIOLATED


def test_fig3_report_figure_draws_from_the_result(tmp_path):
    """The report's Figure 3 reads fig3_result's evidence (escape counts, Wilson
    interval, Fisher's p) and fig3_run's curves."""
    from zascheck.report import plots

    zas = figures.fig3_run("zas", 6, 3, 0.01, 600, 1e-10, 0, 1)
    near = [figures.fig3_run("near-identity", 6, 3, 0.01, 600, 1e-10, 0, i) for i in range(3)]
    res = figures.fig3_result(zas, near)
    files = plots.fig3(tmp_path, zas, near, res.evidence, 6, 3, 0.01, 600)
    assert {p.split(".")[-1] for p in files} == {"png", "svg"}
