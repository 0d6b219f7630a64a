"""Figure 2's Gaussian d = 100 series at depths 10..10^4 (issue 12, item 6): the
shell bracket of the iteration count (zascheck.measure.spectral.iterations_bracket_grid)
against the exact reduced count, and the reading of bracketed counts on both ends."""

from __future__ import annotations

import numpy as np
import pytest

from zascheck.measure import figures as F
from zascheck.measure import spectral as S
from zascheck.result import Verdict


def _gaussian100():
    m = F.fig2_modes("gaussian", 100, 0)
    return m["sigma"], m["weights"], 1e-10 / m["r0"]


def test_bracket_contains_the_exact_count():
    """L = 20: a monotone step and the tuned step (its top mode oscillates in the
    tail, rho ~ -0.998): both brackets hold the count run step by step, within 3%."""
    sig, w, rel = _gaussian100()
    etas = [1.4516688e-4, 3.4526698e-4]
    lo, hi = S.iterations_bracket_grid(sig, 20, etas, rel_tol=rel, weights=w)
    exact = S.iterations_to_eps_grid(sig, S.mode_init("zas", 20), etas, rel_tol=rel, weights=w,
                                     max_steps=100_000)  # fmt: skip
    for a, x, b in zip(lo, exact, hi, strict=True):
        assert 0 < a <= x <= b, (a, x, b)
        assert a < b and (b - a) / x < 0.03


def test_short_runs_are_counted_exactly():
    """A run that ends within exact_steps is the exact engine's count (lo = hi)."""
    sig = np.array([1.0])
    lo, hi = S.iterations_bracket_grid(sig, 10, [0.05, 0.02], rel_tol=1e-10)
    exact = S.iterations_to_eps_grid(sig, S.mode_init("zas", 10), [0.05, 0.02], rel_tol=1e-10,
                                     max_steps=2000)  # fmt: skip
    assert list(lo) == list(hi) == list(exact) and min(exact) > 0


def test_unstable_minimum_is_not_followed():
    """A step above the stability limit of the top mode's minimum (rho < -1 at
    q = 0, D = 1) is unresolved (-1) or diverged (-2), never bracketed."""
    sig, w, rel = _gaussian100()
    rho, _a4 = S.zas_mode_rho(1000, sig.max(), np.array([1e-5]), 0.0, 1.0)
    assert rho[0] < -1
    lo, hi = S.iterations_bracket_grid(sig, 1000, [1e-5], rel_tol=rel, weights=w)
    assert lo[0] in (-1, -2) and hi[0] == lo[0]


def test_mode_rho_is_one_gd_step():
    """rho = q'/q of one GD step of a ZAS mode, from the state (q, D) alone."""
    L, sig, eta = 30, np.array([0.05, 1.0, 7.0]), 1e-4
    a, b = np.ones(3), np.zeros(3)
    for _ in range(200):
        e = b * a ** (L - 1) - sig
        a, b = a - eta * b * e * a ** (L - 2), b - eta * e * a ** (L - 1)
    q, D = (b * a ** (L - 1) - sig) / sig, a * a - b * b
    e = sig * q
    a2, b2 = a - eta * b * e * a ** (L - 2), b - eta * e * a ** (L - 1)
    rho, _a4 = S.zas_mode_rho(L, sig, eta, q, D)
    assert rho == pytest.approx(((b2 * a2 ** (L - 1) - sig) / sig) / q, rel=1e-9)


def _points(hi_g: float, lo_g: float) -> dict[str, list[list[dict]]]:
    """Three draws of bracketed counts: upper ends grow like L^hi_g, lower like L^lo_g."""
    depths = [10, 100, 1000, 10000]
    draws = []
    for k in range(3):
        rows = []
        for L in depths:
            c = 1.0 + 0.01 * k
            one = {"eta": 1.0 / L, "iterations": c * 50 * L**hi_g,
                   "iterations_lo": c * 50 * L**lo_g, "at_edge": False}  # fmt: skip
            prot = {p: dict(one) for p in F.FIG2_PROTOCOLS}
            rows.append({"L": L, "phi_seed": k, "fine": 4, "protocols": prot, "full_check": []})
        draws.append(rows)
    return {"Gaussian, d=100": draws}


def test_brackets_are_judged_on_both_ends():
    """Both ends violated: violated; ends on either side of the cell: inconclusive."""
    both = F.fig2_protocol_results(_points(0.55, 0.50))
    assert both.verdict is Verdict.VIOLATED
    assert both.parts[0].evidence["lower_ends"]["verdict"] == "violated"
    split = F.fig2_protocol_results(_points(1.0, 0.5))
    assert split.verdict is Verdict.INCONCLUSIVE
    assert split.counterexample is None
    assert "disagree" in split.parts[0].notes
