"""zas.thm4.3, zas.lemma4.4-4.6, zas.near-zas: each fixed wrong verdict as a test.

Theorem 4.3 (ZAS paper, Sec. 4.2, eq. (4.5)); Lemmas 4.4-4.6 (eqs. (4.6)-(4.10));
the near-ZAS remark after Theorem 4.3.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from zascheck import cli, inits
from zascheck.arith import BallBackend, Float64Backend
from zascheck.bounds import thm43_envelope, thm43_eta, thm43_eta_exact, thm43_factor
from zascheck.dynamics import check_eta
from zascheck.engine import RunContext, checks_for, claim_verdicts, run_check
from zascheck.errors import InputError
from zascheck.measure.gd_lemmas import order_fit
from zascheck.measure.stepsize import envelope_run, step_below, theorem_step
from zascheck.model import Target
from zascheck.result import Verdict

BIG = np.diag([1e60, -1e60])


def _check(key):
    (c,) = checks_for([key])
    return c


# --- Theorem 4.3: scope of "for all t" ------------------------------------------------


@pytest.fixture(scope="module")
def thm43_short():
    return run_check(_check("zas.thm4.3:gd"), RunContext(), case={"max_steps": 300})


def test_thm43_scope_says_the_steps_decided(thm43_short):
    r = thm43_short
    assert r.verdict is Verdict.CERTIFIED  # on its scope: every step t <= 300, by enclosure
    assert set(r.scope) >= {"t", "Phi", "L", "eta"}
    assert not any(e["universal"] for e in r.scope.values())
    assert "t <= 300 GD steps" in r.scope["t"]["covered"]
    assert "budget" in r.scope["t"]["covered"]  # the runs stopped on the step budget, not converged
    assert r.scope["L"]["covered"] == "L in {2, 9}"
    for o in r.evidence["per_case"].values():
        assert o["steps"] == 300 and o["stop"] == "budget"


def test_thm43_claim_level_is_not_certified_from_finite_t(thm43_short):
    (cv,) = claim_verdicts([thm43_short])
    assert cv["verdict"] == "holds"  # certified evidence, but only for t <= 300


# --- Theorem 4.3: inputs -------------------------------------------------------------


def test_user_target_runs_as_given():
    r = run_check(_check("zas.thm4.3:gd"), RunContext(phi=np.eye(2)), case={"max_steps": 50})
    assert r.params["target"].startswith("user")
    fros = [o["phi_fro"] for o in r.evidence["per_case"].values()]
    assert fros == pytest.approx([math.sqrt(2)] * 2)  # never 0.2 * Phi
    assert {o["L"] for o in r.evidence["per_case"].values()} == {2, 9}


def test_huge_target_runs_below_the_double_range():
    """||Phi||_F = 1.4e60: eta* ~ 6e-365 is below the smallest double; computed
    exactly it does not underflow, and ball arithmetic decides every step."""
    r = run_check(_check("zas.thm4.3:gd"), RunContext(phi=BIG), case={"max_steps": 200})
    assert r.verdict is Verdict.CERTIFIED, r.notes
    for o in r.evidence["per_case"].values():
        assert o["arithmetic"] == "ball" and o["bits"] > 1200
        assert "E-36" in o["eta_text"]
        assert o["gap_over_eta"] == pytest.approx(1.5, rel=1e-3)  # 1 - ratio = 1.5 eta at t = 1


def test_huge_target_float64_budget_switches_to_ball_and_says_so():
    r = run_check(
        _check("zas.thm4.3:gd"),
        RunContext(phi=BIG),
        case={"max_steps": 20, "arithmetic": "float64"},
    )
    assert r.verdict is Verdict.CERTIFIED
    assert "float64 replaced by ball" in r.notes
    assert all(o["arithmetic_switched"] for o in r.evidence["per_case"].values())


def test_target_outside_the_double_range_is_refused():
    with pytest.raises(InputError, match=r"\|\|Phi\|\|_F\^2 = .*eta = .*blowup R\(0\)"):
        run_check(_check("zas.thm4.3:gd"), RunContext(phi=np.diag([1e200, 1.0])))


def test_lemma_check_refuses_a_step_float64_cannot_hold(tmp_path, capsys):
    p = tmp_path / "big.npy"
    np.save(p, BIG)
    rc = cli.main(["check", "zas.lemma4.4-4.6:gd-constants", "--phi", str(p), "--no-progress"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "||Phi||_F = 1.41e+60" in err and "E-365" in err


def test_theorem_step_is_exact():
    phi = np.array([[0.5, -1.0], [0.25, 2.0]])
    for L in (1, 2, 9, 40):
        s = theorem_step(phi, L)
        assert Fraction(s.eta) <= s.eta_theorem
        assert math.nextafter(float(s.eta), 1.0) > s.eta_theorem  # the largest double below
        assert float(thm43_eta(Float64Backend(), float(np.linalg.norm(phi)), L)) == pytest.approx(
            float(s.eta_theorem), rel=1e-14
        )
    tiny = thm43_eta_exact(BIG, 2)
    x = step_below(tiny)
    assert isinstance(x, Fraction) and 0 < x <= tiny and x > tiny * (1 - Fraction(1, 2**60))
    check_eta(x)  # a step below the double range is a valid step
    with pytest.raises(InputError):
        check_eta(0.0)


def test_envelope_has_one_formula():
    """(1 - eta/2) and (1 - eta/2)^t R(0) live in zascheck.bounds only (among the
    files of these claims)."""
    b = BallBackend(128)
    with b.session():
        assert b.le(thm43_envelope(b, Fraction(1, 4), 3, 8), Fraction(343, 64)) is True
        assert b.le(Fraction(343, 64), thm43_envelope(b, Fraction(1, 4), 3, 8)) is True
    assert thm43_factor(Float64Backend(), 0.5) == 0.75
    root = Path(__file__).resolve().parents[1] / "zascheck"
    own = [
        "measure/stepsize.py",
        "measure/gd_lemmas.py",
        "claims/zas/thm4_3.py",
        "claims/zas/lemma4_4_4_6.py",
        "claims/zas/near_zas.py",
        "measure/evaluation.py",
    ]
    pat = re.compile(r"1 - (b\.scalar\()?eta\)? ?/ ?2")
    for f in own:
        code = [
            ln.split("#")[0]
            for ln in (root / f).read_text().splitlines()
            if not ln.strip().startswith(("``", '"'))
        ]
        hits = [ln for ln in code if pat.search(ln) and "``" not in ln and '"' not in ln]
        assert not hits, (f, hits)


def test_underflowed_loss_is_not_a_global_minimum():
    """R(0) = 1e-340 underflows to 0 in float64; that is not the R(0) = 0 case."""
    b = Float64Backend()
    out = envelope_run(
        b, inits.zas(2, 1), Target.whitened(b, np.array([[1e-170]])), 0.01, 10, 1e-10
    )
    assert out["verdict"] is Verdict.INCONCLUSIVE
    zero = envelope_run(b, inits.zas(2, 1), Target.whitened(b, np.zeros((1, 1))), 0.01, 10, 1e-10)
    assert zero["verdict"] is Verdict.HOLDS


# --- Lemmas 4.4-4.6: parts, fits, the search's measured ------------------------------


def test_lemma_control_breaks_the_decrease_part():
    r = run_check(_check("zas.lemma4.4-4.6:gd-constants"), RunContext(), control="eta-above-bound")
    assert r.verdict is Verdict.VIOLATED
    parts = {p.part: p for p in r.parts}
    assert parts["(4.10) decrease"].verdict is Verdict.VIOLATED  # the hypothesis broken shows here
    assert parts["(4.10) decrease"].counterexample


def test_lemma_parts_have_their_own_scope_and_numbers():
    r = run_check(_check("zas.lemma4.4-4.6:gd-constants"), RunContext(), case={"max_steps": 400})
    worst = min(p.verdict.rank for p in r.parts)
    assert r.verdict.rank <= worst  # never stronger than its worst part
    for p in r.parts:
        assert p.part and p.scope["t"]["covered"] != "not covered", p.part
        assert p.measured is not None or p.verdict is Verdict.INCONCLUSIVE, p.part
    assert r.parts[3].scope["t"]["covered"].startswith("t = oo")


def test_lemma_search_measures_a_quantity_that_moves():
    case = {"case": {"L": 4, "d": 1, "phi": [[-0.25]], "eta_factor": 0.5, "steps": 184}}
    r = run_check(_check("zas.lemma4.4-4.6:search"), RunContext(), case=case)
    assert r.verdict is Verdict.CERTIFIED
    assert r.relation == "<=" and r.bound == 1.0
    assert 0.99 < r.measured < 1.0  # R(t+1)/((1 - eta/2) R(t)), not ||G_L||^2/R = 2 at t = 0


def test_order_fit_decides_only_with_an_interval():
    L = [2, 4, 8, 16]
    assert order_fit(L, [x**-3.0 for x in L], -3.0).verdict is Verdict.HOLDS
    assert order_fit(L, [x**-1.0 for x in L], -3.0).verdict is Verdict.VIOLATED
    assert (
        order_fit(L, [x**-1.0 for x in L], -3.0, may_violate=False).verdict is Verdict.INCONCLUSIVE
    )
    noisy = order_fit([2, 4, 8], [1.0, 0.3, 0.9], -0.5)
    assert noisy.verdict is Verdict.INCONCLUSIVE and noisy.lo < -0.5 < noisy.hi
    assert order_fit([2, 4], [1.0, 0.5], 0.0).verdict is Verdict.INCONCLUSIVE  # no interval


# --- near-ZAS ---------------------------------------------------------------------------


def test_near_zas_control_counterexample_names_the_reason():
    r = run_check(_check("zas.near-zas:gd-bisection"), RunContext(), control="sigma-large")
    assert r.verdict is Verdict.VIOLATED
    assert r.counterexample["sigma"] == 1.5 and r.counterexample["reason"]
    assert r.measured > r.bound
