"""The spectral reduction (zas.spectral) and what is built on it: the reduced engine,
the interval arithmetic, Theorem 4.1's spectral proof, Theorem 4.3's class
certificates and the tight-step brackets (zas.thm4.3.tight)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from zascheck import dynamics, inits
from zascheck.arith import backend
from zascheck.bounds import thm43_eta
from zascheck.card import RunContext
from zascheck.engine import checks_for, claim_verdicts, run_check
from zascheck.errors import InputError
from zascheck.measure import spectral
from zascheck.measure import spectral_proof as P
from zascheck.measure.certify_thm43 import (
    K_factor,
    certify_per_step,
    eta_star_upper,
    geometric_sum,
    thm43_class_certificate,
)
from zascheck.measure.certify_tight import (
    estimate_tight,
    root_lower,
    root_upper,
    tight_bracket,
    violation,
)
from zascheck.interval import Iv, quiet
from zascheck.measure.spectral_thm41 import (
    THM41_SPECTRAL_BUDGETS,
    THM41_SPECTRAL_CONTROLS,
    _decide,
    thm41_spectral_proof,
)
from zascheck.model import Target
from zascheck.result import Verdict

# --- the reduced engine against the full model ---------------------------------


@pytest.mark.parametrize(
    ("name", "L", "kw", "init"),
    [
        ("zas", 5, {}, lambda L, d: inits.zas(L, d)),
        ("alpha-zas", 4, {"alpha": 1.5}, lambda L, d: inits.alpha_zas(L, d, 1.5)),
        ("zero-at", 5, {"k": 2}, lambda L, d: inits.zero_at(L, d, 2)),
        ("zas", 1, {}, lambda L, d: inits.zas(L, d)),
    ],
)
def test_reduced_gd_matches_full_float64_gd(name, L, kw, init):
    rng = np.random.default_rng(3)
    d = 4
    phi = rng.standard_normal((d, d))
    _u, sig, _v = spectral.aligned_svd(phi)
    red = spectral.reduced_gd(sig, spectral.mode_init(name, L, **kw), 0.01, 150)
    b = backend("float64")
    full = dynamics.gd(b, init(L, d), Target.whitened(b, phi), 0.01, max_steps=150)
    assert len(full.losses) == len(red.losses)
    got, want = np.array(red.losses), np.array([float(x) for x in full.losses])
    np.testing.assert_allclose(
        got,
        want,
        rtol=1e3 * b.gamma(3 * L * d),
        atol=1e-13,
        err_msg="reduced and full GD losses differ",
    )


def test_sign_of_phi_does_not_matter_and_last_ci_needs_a_symmetric_target():
    rng = np.random.default_rng(0)
    phi = rng.standard_normal((3, 3))
    assert np.allclose(spectral.aligned_svd(phi)[1], spectral.aligned_svd(-phi)[1])
    with pytest.raises(InputError, match="symmetric"):
        spectral.mode_init("last-cI", 3)
    with pytest.raises(InputError):
        spectral.mode_init("xavier", 3)


def test_full_and_reduced_ball_runs_overlap_and_a_near_identity_init_is_caught():
    rng = np.random.default_rng(1)
    b = backend("ball", 128)
    u, sig, v = spectral.exact_target(rng, 3, 3)
    with b.session():
        ok = spectral.compare_full_reduced(
            b, u, sig, v, inits.zas(4, 3), spectral.ModeInit(4, 4), Fraction(1, 16), 15
        )
        bad = spectral.compare_full_reduced(
            b, u, sig, v, inits.near_identity(4, 3, 0), spectral.ModeInit(4, 4), Fraction(1, 16), 15
        )
    assert ok["first_disjoint"] is None and ok["steps"] == 15
    assert ok["max_gap_over_radii"] <= 1.0
    assert bad["first_disjoint"] is not None


def test_rectangular_embedding_as_printed_keeps_its_form():
    rng = np.random.default_rng(2)
    dims = [2, 4, 3, 3]
    u, sig, v = spectral.exact_target(rng, dims[-1], dims[0])
    ws0, mi = spectral.case_init("zas", 3, dims, u, v, {})
    b = backend("ball", 128)
    with b.session():
        out = spectral.compare_full_reduced(b, u, sig, v, ws0, mi, Fraction(1, 16), 20, dims)
    assert out["first_disjoint"] is None


# --- symbolic --------------------------------------------------------------------


def test_every_spectral_proof_reduces_to_zero_and_the_wrong_variants_do_not():
    proofs = P.spectral_proofs()
    assert proofs and all(p.proven for p in proofs), [p.name for p in proofs if not p.proven]
    for wrong in P.WRONG:
        assert not all(p.proven for p in P.spectral_proofs(wrong=wrong)), wrong
    assert P.any_layer_rate_proof().proven
    assert all(p.proven for p in P.rate_proofs(1) + P.tightness_proofs())
    # alpha < 1: the chain breaks at alpha^(2(L-1)) >= 1
    assert not all(p.proven for p in P.rate_proofs("1/4"))


def test_gd_factorisation_matches_the_direct_map():
    """e' = e (1 - eta K) (proven symbolically) against the map itself in exact rationals:
    the interval K encloses it wherever x < 1 (the identity's side condition)."""
    rng = np.random.default_rng(4)
    with quiet():
        for L in (2, 3, 7, 30):
            a = 1 + 0.05 * rng.random(12)
            bb = 0.3 * rng.random(12)
            s, eta = 0.9 * rng.random(12), 0.05
            for i in range(12):
                A, B, S, H = (Fraction(v) for v in (a[i], bb[i], s[i], eta))
                e = B * A ** (L - 1) - S
                a1, b1 = A - H * B * e * A ** (L - 2), B - H * e * A ** (L - 1)
                e1 = b1 * a1 ** (L - 1) - S
                x = Iv.point(np.array([float(H * e * B * A ** (L - 3))]))
                K = K_factor(L, Iv.point(a[i : i + 1]), Iv.point(bb[i : i + 1]), x)
                pred = Iv.point(np.array([float(e)])) * (1.0 - eta * K)
                slack = Fraction(2.0**-50) * (abs(e) + 1)  # e and x were rounded to doubles
                assert Fraction(pred.lo[0]) - slack <= e1 <= Fraction(pred.hi[0]) + slack, (L, i)


# --- interval arithmetic ---------------------------------------------------------


def test_intervals_enclose_exact_results():
    rng = np.random.default_rng(5)
    x = rng.standard_normal(200)
    y = rng.standard_normal(200)
    X, Y = Iv.point(x), Iv.point(y)
    with quiet():
        for op, exact in [
            (X + Y, lambda i: Fraction(x[i]) + Fraction(y[i])),
            (X - Y, lambda i: Fraction(x[i]) - Fraction(y[i])),
            (X * Y, lambda i: Fraction(x[i]) * Fraction(y[i])),
            (X / Y, lambda i: Fraction(x[i]) / Fraction(y[i])),
            (X**5, lambda i: Fraction(x[i]) ** 5),
            (X.sqr(), lambda i: Fraction(x[i]) ** 2),
        ]:
            for i in range(200):
                assert Fraction(op.lo[i]) <= exact(i) <= Fraction(op.hi[i])
        r = Iv.point(np.abs(x)).sqrt()
        assert np.all(r.lo**2 <= np.abs(x)) and np.all(np.abs(x) <= r.hi**2)
        nan = Iv.point(np.array([0.0])) * Iv.point(np.array([np.inf]))
        assert nan.lo[0] == -np.inf and nan.hi[0] == np.inf


def test_geometric_sum_and_root_bounds_are_verified():
    with quiet():
        for n in (1, 2, 7, 63):
            y = np.array([0.0, 0.3, 1 - 1e-12, 1.0, 1 + 1e-6, 1.2])
            S = geometric_sum(y, n)
            exact = [sum(Fraction(v) ** i for i in range(n)) for v in y]
            assert all(
                Fraction(lo) <= s <= Fraction(hi)
                for lo, s, hi in zip(S.lo, exact, S.hi, strict=True)
            )
        for L in (2, 5, 64):
            P, D = np.array([0.0, 0.3, 1.0, 4.0]), np.array([1.0, 0.97, 0.5, 0.9])
            lo, hi = root_lower(L, P, D, np.zeros(4)), root_upper(L, P, D, np.zeros(4))
            p = (L - 1) / 2
            assert np.all(lo <= hi)
            assert np.all(lo * (D + lo * lo) ** p <= P * (1 + 1e-12))
            assert np.all(hi * (D + hi * hi) ** p >= P * (1 - 1e-12))


def test_eta_star_upper_encloses_the_theorems_step():
    b = backend("float64")
    for L in (1, 2, 9, 64):
        for s in (0.0, 0.5, 2.0):
            up = float(eta_star_upper(L, np.array([s]))[0])
            assert thm43_eta(b, s, L) <= up <= thm43_eta(b, s, L) * (1 + 1e-12)


# --- Theorem 4.1 (the function the zas.thm4.1 card calls) ------------------------


def test_thm41_spectral_proof_is_universal_and_its_control_is_caught():
    res = thm41_spectral_proof(RunContext(), **THM41_SPECTRAL_BUDGETS["quick"])
    assert res.verdict is Verdict.CERTIFIED
    assert not res.parts  # one result for the whole statement (bound and tightness)
    assert all(res.scope[q]["universal"] for q in ("t", "Phi", "L", "d"))
    assert res.measured <= 1.0
    assert res.evidence["grid"]["decided_L>=2"] == res.evidence["grid"]["points_L>=2"]
    ctl = thm41_spectral_proof(
        RunContext(), **(THM41_SPECTRAL_BUDGETS["quick"] | THM41_SPECTRAL_CONTROLS["alpha-below-1"])
    )
    assert ctl.verdict is Verdict.VIOLATED and ctl.counterexample
    assert not any(ctl.scope[q]["universal"] for q in ("t", "Phi", "L", "d"))
    assert ctl.evidence["unproven"]  # the chain's alpha^(2(L-1)) >= 1 does not close


def test_an_undecided_grid_point_blocks_certification():
    """Certified needs every comparison decided: one overlapping pair at L >= 2
    leaves the result inconclusive even with every proof closed."""
    ok = {"L": 3, "le": True, "apart": True}
    assert _decide(True, [ok], tight_at_1=True) is Verdict.CERTIFIED
    assert _decide(True, [ok, ok | {"le": None, "apart": False}], True) is Verdict.INCONCLUSIVE
    assert _decide(False, [ok], True) is Verdict.INCONCLUSIVE
    assert _decide(True, [ok | {"le": False}], True) is Verdict.VIOLATED
    # L = 1: equality; disjoint balls contradict the claimed tightness
    assert _decide(True, [{"L": 1, "le": None, "apart": True}], True) is Verdict.VIOLATED


def test_rate_comparison_proof_closes_only_for_the_claimed_rate():
    assert P.rate_comparison_proof(1, 1).proven
    assert P.rate_comparison_proof(P.alpha**2, P.alpha**2).proven
    assert not P.rate_comparison_proof(Fraction(1, 4), 1).proven
    assert P.rate_comparison_proof(Fraction(9, 4), 1).proven


@pytest.mark.parametrize(
    ("claim", "control", "claim_verdict", "phi_universal"),
    [
        ("zas.thm4.1", "alpha-below-1", "certified", True),
        ("review.alpha", "last-layer-nonzero", "certified", True),
        ("review.any-layer", "rest-not-I", "certified", True),
        ("review.last-cI", "layers-not-I", None, False),
    ],
)
def test_flow_claims_through_the_reduction(claim, control, claim_verdict, phi_universal):
    """The spectral-proof methods: certified, universal exactly where the argument
    carries over (c I: symmetric Phi only), controls caught through the same path,
    and the claim-level verdict follows the README's rule (not forced)."""
    (chk,) = [c for c in checks_for([claim]) if c.method == "spectral-proof"]
    res = run_check(chk, RunContext())
    assert res.verdict is Verdict.CERTIFIED, res.notes
    assert res.scope["Phi"]["universal"] is phi_universal
    assert all(v["universal"] for k, v in res.scope.items() if k != "Phi")
    ctl = run_check(chk, RunContext(), control=control)
    assert ctl.verdict is Verdict.VIOLATED and ctl.counterexample
    (cv,) = claim_verdicts([res])
    assert cv["verdict"] == (claim_verdict or "holds")


def test_claim_level_thm41_is_not_certified_by_the_flow_method_alone():
    (flow,) = [c for c in checks_for(["zas.thm4.1"]) if c.method == "flow"]
    res = run_check(flow, RunContext(), case={"depths": [1, 2], "d": 2})
    (cv,) = claim_verdicts([res])
    assert cv["verdict"] == "holds"


# --- Theorem 4.3 (the function the zas.thm4.3 card calls) ------------------------


def test_thm43_class_certificate_covers_the_class_and_its_control_is_caught():
    res = thm43_class_certificate(RunContext(), depths=[1, 2, 8, 64], radii=[0.5, 5.0])
    assert res.verdict is Verdict.CERTIFIED
    assert res.scope["t"]["universal"] and res.scope["eta"]["universal"]
    assert not res.scope["Phi"]["universal"] and not res.scope["L"]["universal"]
    assert res.measured >= 0.5
    assert len(res.evidence["cases"]) == 8 and res.evidence["max_seconds"] < 120
    (chk,) = [c for c in checks_for(["zas.thm4.3"]) if c.method == "class-certificate"]
    ctl = run_check(chk, RunContext(), control="eta-above-bound")
    assert ctl.verdict is Verdict.VIOLATED and ctl.counterexample
    assert ctl.measured > 1.0  # the certified ratio at the counterexample
    assert ctl.counterexample["kind"] == "finite"


def test_class_certificate_keeps_the_claim_level_verdict_scoped():
    res = thm43_class_certificate(RunContext(), depths=[2, 3], radii=[1.0])
    res.claim = "zas.thm4.3"
    (cv,) = claim_verdicts([res])
    assert res.verdict is Verdict.CERTIFIED and cv["verdict"] == "holds"


def test_per_step_certificate_is_not_fooled_by_a_large_step():
    """At L = 4, F = 1 the tight step is about 0.43: eta = 0.6 must not certify."""
    assert certify_per_step(4, 1.0, eta_max=1e-3).certified
    c = certify_per_step(4, 1.0, eta_max=0.6, time_limit=5.0, max_boxes=20_000)
    assert not c.certified
    v = violation(4, 1.0, 0.6)
    assert v is not None and v["kind"] == "finite"


def test_float_ratio_confirms_a_finite_violation():
    v = violation(2, 1.0, 0.9)
    assert v is not None and v["kind"] == "finite"
    sig, eta, a, b = 1.0, 0.9, 1.0, 0.0
    for _ in range(v["t"]):
        e = b * a - sig
        a, b = a - eta * b * e, b - eta * e * a
    ratio = (b * a - sig) ** 2 / ((1 - eta / 2) ** v["t"] * sig**2)
    assert ratio > 1.0


# --- the tight step ----------------------------------------------------------------


def test_tight_step_at_depth_one_is_three_halves_exactly():
    br = tight_bracket(1, 1.0)
    assert br.eta_lo == 1.5 and br.eta_hi > 1.5 and br.every_step


def test_tight_bracket_at_depth_two():
    br = tight_bracket(2, 0.5, time_limit=60.0, stretch_limit=60.0)
    assert br.eta_lo is not None and br.eta_hi is not None
    assert br.eta_lo < br.estimate < br.eta_hi and br.digits >= 3
    assert br.every_step
    star = thm43_eta(backend("float64"), 0.5, 2)
    assert star < br.eta_lo  # Theorem 4.3's step is inside the tight one


def test_estimate_is_below_a_certified_violation():
    est, s = estimate_tight(3, 1.0, n_sigma=16)
    assert s == 1.0 and 0.5 < est < 0.6
    assert violation(3, 1.0, est * 1.002) is not None


# --- the cards ---------------------------------------------------------------------


def test_spectral_card_quick_results():
    ctx = RunContext()
    for chk in checks_for(["zas.spectral"]):
        res = run_check(chk, ctx)
        want = Verdict.CERTIFIED if chk.method == "symbolic" else Verdict.HOLDS
        assert res.verdict is want, (chk.method, res.notes)
        assert set(res.scope) >= {"t", "Phi", "L", "d", "eta", "init"}


def test_tight_card_quick_is_certified_in_a_few_seconds():
    (chk,) = [c for c in checks_for(["zas.thm4.3.tight"]) if c.method == "bracket"]
    res = run_check(chk, RunContext())
    assert res.verdict is Verdict.CERTIFIED
    assert res.seconds < 30
    assert math.isfinite(res.measured) and res.measured > 1e3  # eta_lo / eta*
    rows = res.evidence["table"]
    assert all(r["eta_lo"] < r["eta_hi"] for r in rows)


# --- the report's spectral section ---------------------------------------------------


def test_report_spectral_tables_and_figure(tmp_path):
    from zascheck.measure.certify_tight import growth_law
    from zascheck.report import spectral as rs

    rows = [
        {"L": L, "F": 1.0, "eta_lo": 1.6 / L * 0.999, "eta_hi": 1.6 / L, "digits": 3,
         "every_step": True, "eta_star": 1e-4 / L**3, "ratio_to_eta_star": 1e4 * L**2,
         "eta_mid": 1.6 / L * 0.9995, "seconds": 1.0, "verdict": "certified"}
        for L in (2, 4, 8, 16)
    ]  # fmt: skip
    law = growth_law(rows)
    assert abs(law["1.0"]["gamma"] - 1.0) < 1e-3
    files = rs.tight_plot(tmp_path, rows, law)
    assert (tmp_path / "tight-step.png").exists() and (tmp_path / "tight-step.svg").exists()
    assert files == ["figures/tight-step.png", "figures/tight-step.svg"]
    md = rs.tight_table_markdown(rows, "test rows")
    assert len(md) == 3 + len(rows) and "| 16 | 1 |" in md[-1]
    cls = thm43_class_certificate(RunContext(), depths=[2, 3], radii=[0.5, 1.0])
    table = rs.class_table_markdown(cls)
    assert table[-1].startswith("| 3 | yes")
    assert rs.coarse_first([1, 2, 3, 5, 6, 8, 12]) == [1, 2, 8, 3, 6, 12, 5]


def test_report_reads_the_committed_full_table(tmp_path):
    """The report prefers ``<out>/spectral/tight-full.json`` (the committed table)
    over the check's few rows, draws the figure from it and prints both tables."""
    import json

    from zascheck.report import spectral as rs

    rows = [
        {"L": L, "F": 1.0, "eta_lo": 1.7 / L, "eta_hi": 1.7001 / L, "digits": 3,
         "every_step": L < 8, "eta_star": 1e-4 / L**3, "ratio_to_eta_star": 1.7e4 * L**2,
         "eta_mid": 1.70005 / L, "seconds": 2.0, "verdict": "certified"}
        for L in (1, 2, 4, 8, 16)
    ]  # fmt: skip
    (tmp_path / "spectral").mkdir()
    (tmp_path / "spectral" / "tight-full.json").write_text(json.dumps({"rows": rows}))
    (tmp_path / "figures").mkdir()
    recorded = {}
    rs.draw(tmp_path / "figures", {}, lambda name, files, cap, data: recorded.update({name: cap}))
    assert "committed full table" in recorded["tight-step"]
    assert "L^-1.000" in recorded["tight-step"]
    cls = thm43_class_certificate(RunContext(), depths=[2], radii=[1.0])
    cls.claim, cls.method = "zas.thm4.3", "class-certificate"
    md = "\n".join(rs.markdown_section([cls], tmp_path))
    assert "Theorem 4.3 for whole classes of targets" in md and "| 16 | 1 |" in md
    assert "| 2 | yes" in md
    assert rs.markdown_section([], None) == []
