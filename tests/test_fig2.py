"""zas.fig2 at the paper's scale (issue 12, item 6): the reduced engine's
iteration counts against the full matrix GD, the one-step valley at
eta = 1, the stability limit of the first iterations, the gamma of each tuning
protocol on synthetic series, and the negative control."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zascheck import experiments, inits, model
from zascheck.arith import Float64Backend
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.measure import figures as F
from zascheck.measure import spectral as S
from zascheck.model import Target
from zascheck.result import Verdict

_B = Float64Backend()


def _full_count(phi_m: np.ndarray, L: int, eta: float, eps: float, cap: int) -> int:
    tgt = Target.whitened(_B, phi_m)
    n = experiments.iterations_to_eps(_B, inits.zas(L, phi_m.shape[0]), tgt, eta,
                                      rel_tol=eps / (0.5 * float(np.sum(phi_m**2))), max_steps=cap)  # fmt: skip
    return -1 if n is None else n


@pytest.mark.parametrize(("phi", "d", "L", "seed"), [("-I", 1, 10, 0), ("-I", 3, 6, 0),
                                                     ("gaussian", 2, 10, 1), ("gaussian", 3, 5, 2)])  # fmt: skip
def test_reduced_counts_equal_full_matrix_counts(phi, d, L, seed):
    """Below the tuned step (no chaotic orbit), every count of the vectorized
    reduced engine is the full matrix GD's, and the tuned one too."""
    plane = F.fig2_plane(phi, d, L, seed)
    prot = F.fig2_protocols(plane)
    eta_t = prot["grid"]["eta"]
    phi_m = F.fig2_phi(phi, d, seed)
    table = dict(zip(plane["etas"], plane["counts"], strict=True))
    picks = [e for e in plane["etas"] if eta_t / 2.5 <= e <= eta_t and table[e] > 0]
    assert len(picks) >= 3
    for e in [*picks[::2], eta_t, 1.0]:
        n = table[e]
        assert _full_count(phi_m, L, e, 1e-10, n) == n, e
    recs = F.fig2_full_check(plane, [eta_t, 1.0], seconds=5.0)
    assert all(r["full"] == r["reduced"] for r in recs)


def test_iterations_grid_matches_the_reduced_loop_and_flags_divergence():
    sig = np.array([2.0, 0.5])
    init = S.mode_init("zas", 7)
    etas = [0.01, 0.03, 5.0]
    n = S.iterations_to_eps_grid(sig, init, etas, rel_tol=1e-8, max_steps=5000)
    for e, k in zip(etas[:2], n[:2], strict=True):
        run = S.reduced_gd(sig, init, e, int(k))
        assert experiments.first_hit(run.losses, 1e-8) == k
    assert n[2] == -2  # diverged
    capped = S.iterations_to_eps_grid(sig, init, [0.01], rel_tol=1e-8, max_steps=int(n[0]) - 1)
    assert capped[0] == -1


def test_full_check_raises_on_a_disagreement():
    plane = F.fig2_plane("-I", 1, 10)
    eta = F.fig2_protocols(plane)["grid"]["eta"]
    j = plane["etas"].index(eta)
    plane["counts"][j] += 1
    with pytest.raises(RuntimeError, match="full matrix GD"):
        F.fig2_full_check(plane, [eta], seconds=5.0)


@pytest.mark.parametrize(("phi", "d", "seed"), [("-I", 1, 0), ("gaussian", 2, 0)])
def test_plane_has_the_one_step_valley_at_eta_1(phi, d, seed):
    """eta = 1: one iteration at every depth; its grid neighbours inside (1/2, 2)
    need more (or diverge), and protocol (a) never picks a step inside."""
    for L in (10, 100, 1000):
        p = F.fig2_plane(phi, d, L, seed)
        table = dict(zip(p["etas"], p["counts"], strict=True))
        assert table[1.0] == 1
        near = [table[e] for e in p["etas"] if 0.5 < e < 2 and e != 1.0]
        assert near and all(n == -2 or n == -1 or n > 1 for n in near)
        tuned = F.fig2_protocols(p)["grid"]
        assert tuned["iterations"] > 1 and not 0.5 < tuned["eta"] < 2


def test_init_stability_limit_is_the_hessian_at_zas():
    """2/lambda_0 against the top eigenvalue of a finite-difference Hessian of R at ZAS."""
    L, d = 4, 2
    phi_m = F.fig2_phi("gaussian", d, 3)
    tgt = Target.whitened(_B, phi_m)
    ws0 = inits.zas(L, d)
    x0 = np.concatenate([w.ravel() for w in ws0])

    def grad(x: np.ndarray) -> np.ndarray:
        ws = [x[k * d * d : (k + 1) * d * d].reshape(d, d) for k in range(L)]
        _r, g = model.loss_and_grads(_B, ws, tgt)
        return np.concatenate([gi.ravel() for gi in g])

    h = 1e-6
    H = np.array([(grad(x0 + h * e) - grad(x0 - h * e)) / (2 * h) for e in np.eye(x0.size)])
    lam = float(np.linalg.eigvalsh((H + H.T) / 2).max())
    sig = float(np.linalg.norm(phi_m, 2))
    assert F.init_stability_limit(L, sig) == pytest.approx(2 / lam, rel=1e-6)


def _synthetic_points(gammas: dict[str, float]) -> dict[str, list[list[dict]]]:
    """fig2_point-shaped records whose protocol p counts grow like L^gammas[p]."""
    depths = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]
    rows = []
    for L in depths:
        prot = {p: {"eta": 1.0 / L, "iterations": 7.0 * L**g, "at_edge": False}
                for p, g in gammas.items()}  # fmt: skip
        rows.append({"L": L, "phi_seed": 0, "fine": 8, "protocols": prot, "full_check": []})
    return {"-I, d=1": [rows]}


def test_each_protocols_gamma_is_recovered():
    gammas = {"grid": 0.5, "init-stable": 1.0, "card": 0.25}
    res = F.fig2_protocol_results(_synthetic_points(gammas))
    for p, g in gammas.items():
        s = res.evidence["protocols"][p]["series"]["-I, d=1"]
        lo, hi = s["ci95"]
        assert s["gamma"] == pytest.approx(g, abs=1e-9)
        assert lo == pytest.approx(g, abs=1e-6) and hi == pytest.approx(g, abs=1e-6)
    assert res.evidence["protocols"]["grid"]["decides"]
    assert res.verdict is Verdict.HOLDS  # decided by (a): gamma 0.5 for -I
    assert res.evidence["protocols"]["init-stable"]["verdict"] == "violated"  # a finding only


def test_fig2_quick_check_decides_by_protocol_a_and_reports_all():
    (c,) = checks_for(["zas.fig2:gd"])
    res = run_check(c, RunContext(), case={"series": ["-I, d=1"], "depths": [10, 100, 1000],
                                           "full_seconds": 0.1})  # fmt: skip
    assert set(res.evidence["protocols"]) == set(F.FIG2_PROTOCOLS)
    assert res.scope["eta"]["covered"].startswith("(a)")
    assert res.evidence["iterations_at_eta_1"] == {"-I, d=1": [1]}
    assert res.evidence["full_check"]["agreed"] >= 3


def test_untuned_control_is_violated():
    (c,) = checks_for(["zas.fig2:gd"])
    res = run_check(c, RunContext(), control="untuned-lr")
    assert res.verdict is Verdict.VIOLATED, res.notes
    g, (lo, _hi) = res.parts[0].evidence["gamma"], res.parts[0].evidence["ci95"]
    assert lo > 0.75 and not math.isnan(g)  # outside the cell of 1/2: nearer 1


def test_the_scope_labels_each_series_depths_and_grid():
    """Series run on different depths (Gaussian d = 100 on fewer): the scope
    names which depth list belongs to which series, instead of a bare list of lists."""
    from zascheck.result import CheckResult, covers

    def part(name: str, depths: str, eta: str) -> CheckResult:
        return CheckResult(verdict=Verdict.HOLDS, part=name, scope={
            "L": covers(depths), "Phi": covers(name), "eta": covers(eta)})

    scope = F._series_scope([part("-I, d=1", "L in [10, 20]", "(a) grid 8"),
                             part("-I, d=100", "L in [10, 20]", "(a) grid 8"),
                             part("Gaussian, d=100", "L in [10, 10000]", "(a) grid 4")])
    assert scope["L"]["covered"] == "-I, d=1 / -I, d=100: L in [10, 20]; Gaussian, d=100: L in [10, 10000]"
    assert scope["eta"]["covered"] == "-I, d=1 / -I, d=100: (a) grid 8; Gaussian, d=100: (a) grid 4"
    assert scope["Phi"]["covered"] == "-I, d=1; -I, d=100; Gaussian, d=100"
    assert not scope["L"]["universal"]
