"""Section C verdicts that were wrong, each pinned to the right verdict or number
(the issues on ``ssm.*``): brackets judged on both ends, Theorem 2's content,
sublinear convergence in Theorem 3, controls through the claim's own path,
universal verdicts only from proofs, user targets, inputs."""

from __future__ import annotations

import ast
import json
import pathlib

import numpy as np
import pytest

from zascheck import cli, ssm
from zascheck.arith import backend
from zascheck.engine import RunContext, checks_for, claim_verdicts, run_check
from zascheck.measure.ssm_checks import bracket_verdict, gd_probe, sym_target
from zascheck.model import Target
from zascheck.result import Verdict

flint = pytest.importorskip("flint")

ROOT = pathlib.Path(__file__).resolve().parents[1]


def one(key: str):
    (c,) = checks_for([key])
    return c


# -- brackets are judged on both ends (ssm.worst-case reported [0.984, 1.006] as holds) ------


@pytest.mark.parametrize(
    ("lo", "hi", "verdict"),
    [
        (0.984, 1.006, Verdict.INCONCLUSIVE),
        (0.9, 0.95, Verdict.HOLDS),
        (1.01, 1.2, Verdict.VIOLATED),
        (None, 0.125, Verdict.HOLDS),
        (0.99, None, Verdict.INCONCLUSIVE),
    ],
)
def test_a_bracket_that_straddles_the_bound_is_inconclusive(lo, hi, verdict):
    assert bracket_verdict(ssm.Bracket(lo, hi, []), 1.0) is verdict


def test_worst_case_never_holds_with_a_straddling_case():
    res = run_check(one("ssm.worst-case:random-search"), RunContext())
    cases = res.evidence["cases"]
    assert all(c["verdict"] == bracket_verdict(
        ssm.Bracket(c["ratio"], c["first_fail"], []), 1.0).value for c in cases)  # fmt: skip
    if any(c["versus_1"] == "straddles" for c in cases):
        assert res.verdict is Verdict.INCONCLUSIVE
    assert res.tightest["ratio"] == res.measured


# -- ssm.thm2: Theorem 2's content; a bisection limited by the step budget says so -----------


def test_thm2_certifies_theorem_2_not_theorem_1_for_the_issue_target():
    res = run_check(one("ssm.thm2:reduction"), RunContext(),
                    case={"eigs": [4.0, 1.0], "rotate": 0.0})  # fmt: skip
    (part,) = res.parts
    assert part.part == "convergence"
    assert res.verdict is Verdict.CERTIFIED
    assert res.measured < 1  # a certified linear rate, for every eta <= 0.999 eta_2 and every t
    assert part.scope["t"]["universal"] and part.scope["eta"]["universal"]
    assert res.evidence["eta_2"] == pytest.approx(1 / 8)  # 1/(L max(1, 4)^(2(L-1)/L)) = eta_1/2


def test_thm2_identity_threshold_is_the_bound_not_0_9931():
    """GD from identity converges for every step below eta_1 = 0.25 for R = diag(4, 1):
    1472 steps at 0.9931 eta_1, 9767 at 0.999, 92082 at 0.9999 (issue).  The bracket
    must not put the threshold below 1 on the strength of undecided (slow) probes."""
    res = run_check(one("ssm.thm2:bisection"), RunContext(),
                    case={"eigs": [4.0, 1.0], "rotate": 0.0, "iters": 12})  # fmt: skip
    lo, hi = res.evidence["identity_bracket"]
    assert hi is None or hi >= 1.0
    assert lo is not None and lo < 1.0
    assert res.evidence["identity_budget_limited"]
    assert "limited by the step budget" in res.notes
    b = backend("float64")
    tgt = Target.whitened(b, np.diag([4.0, 1.0]))
    eye = [np.eye(2)] * 2
    assert gd_probe(b, eye, tgt, 0.999 * 0.25, 1200).state is None  # slow, not failed
    assert gd_probe(b, eye, tgt, 0.9931 * 0.25, 4000).state is True


def test_thm2_compares_nothing_with_zero_random_inits():
    res = run_check(one("ssm.thm2:bisection"), RunContext(), case={"n_random": 0})
    assert res.verdict is Verdict.INCONCLUSIVE
    assert "cannot say 'largest'" in res.notes
    assert "identity largest: True" not in res.notes


# -- ssm.thm3: sublinear convergence is convergence ------------------------------------------


def test_thm3_sublinear_convergence_to_the_psd_part_is_not_a_violation():
    res = run_check(one("ssm.thm3:reduction"), RunContext(), case={"eigs": [1, -1], "L": 3})
    limit, traj = res.parts
    assert limit.verdict is Verdict.CERTIFIED
    assert "sublinear" in limit.notes
    assert res.verdict is Verdict.HOLDS
    assert traj.measured == pytest.approx(3.87e-7, rel=0.01)  # w^3 at step 400 (issue: 3.9e-7)


def test_thm3_scalar_decay_is_the_issue_s_power_law():
    with backend("ball", 128).session():
        eta = flint.arb(1) / 3
        w = [ssm.scalar_orbit(flint.arb(-1), 3, eta, flint.arb(1), t) ** 3 for t in (400, 4000)]
    assert float(w[0].mid()) == pytest.approx(3.9e-7, rel=0.02)
    assert float(w[1].mid()) == pytest.approx(4.2e-10, rel=0.02)  # ~ t^-3


# -- controls break a hypothesis and go through the claim's own path ------------------------

SSM = checks_for([
    "ssm.psd-lemma", "ssm.thm1", "ssm.sharpness", "ssm.stable-manifold", "ssm.thm2", "ssm.thm3",
    "ssm.thm4", "ssm.example1", "ssm.orbit-or-slow", "ssm.diagonal-init", "ssm.worst-case"])  # fmt: skip
SSM_CONTROLS = [(c, n) for c in SSM for n in c.controls]


@pytest.mark.parametrize(("check", "control"), SSM_CONTROLS,
                         ids=[f"{c.key}:{n}" for c, n in SSM_CONTROLS])  # fmt: skip
def test_controls_break_a_hypothesis_through_the_same_path(check, control):
    assert not any("bound" in k for k in check.controls[control]), "a control may not scale a bound"
    main = run_check(check, RunContext())
    ctl = run_check(check, RunContext(), control=control)
    assert ctl.verdict is Verdict.VIOLATED
    assert set(ctl.evidence) == set(main.evidence), "the control ran another code path"
    assert [p.part for p in ctl.parts] == [p.part for p in main.parts]


# -- universal verdicts only where a proof covers the quantifier ----------------------------


def test_instances_are_scoped_and_only_the_proofs_are_universal():
    ball = run_check(one("ssm.psd-lemma:ball"), RunContext())
    assert ball.verdict is Verdict.CERTIFIED
    assert not any(e["universal"] for e in ball.scope.values())
    assert claim_verdicts([ball])[0]["verdict"] == "holds"
    sym = run_check(one("ssm.psd-lemma:symbolic"), RunContext())
    assert all(e["universal"] for e in sym.scope.values())
    assert claim_verdicts([ball, sym])[0]["verdict"] == "certified"
    exact = run_check(one("ssm.thm1:exact-hessian"), RunContext())
    assert not any(e["universal"] for p in exact.parts for e in p.scope.values())
    # thm1's step-size half rests on the sampled instability lemma: the claim only holds
    rs = [run_check(c, RunContext()) for c in checks_for(["ssm.thm1"])]
    assert claim_verdicts(rs)[0]["verdict"] == "holds"


# -- user targets are honoured, exactly --------------------------------------------------


def test_thm1_uses_the_users_target_diag_9_1():
    res = run_check(one("ssm.thm1:exact-hessian"), RunContext(phi=np.diag([9.0, 1.0])))
    assert res.verdict is Verdict.CERTIFIED
    assert res.measured == 18.0 and res.bound == 18.0  # L rho^(2(L-1)/L), L = 2, rho = 9
    assert res.evidence["eta_1"] == pytest.approx(1 / 9)
    assert res.parts[1].measured_repr == "18"


def test_thm1_takes_phi_from_case():
    res = run_check(one("ssm.thm1:exact-hessian"), RunContext(), case={"phi": [[4, 0], [0, 1]]})
    assert res.verdict is Verdict.CERTIFIED and res.bound == 8.0
    res = run_check(one("ssm.thm1:exact-hessian"), RunContext(), case={"phi": [[4, 1], [0, 1]]})
    assert res.parts[0].verdict is Verdict.CERTIFIED  # lower bound, exact minima
    assert res.parts[1].verdict is Verdict.HOLDS  # attained, mp balanced factorization


@pytest.mark.parametrize(
    ("key", "case", "word"),
    [
        ("ssm.thm2:reduction", {"eigs": "abc"}, "eigs"),
        ("ssm.thm2:reduction", {"phi": [[1, 2], [0, 1]]}, "phi"),
        ("ssm.thm1:exact-hessian", {"phi": [[1, 2, 3], [0, 1, 3]]}, "phi"),
        ("ssm.thm1:exact-hessian", {"scale": "x"}, "scale"),
        ("ssm.example1", {"phi": [[1.0]]}, "phi"),
        ("ssm.thm4", {"seeds": [0.5]}, "seeds"),
        ("ssm.worst-case", {"families": ["nope"]}, "families"),
    ],
)
def test_bad_case_values_exit_2_naming_the_key(key, case, word, capsys):
    code = cli.main(["check", key, "--case", json.dumps(case), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and word in err[0]


def test_sharpness_and_thm3_take_a_user_target():
    res = run_check(one("ssm.sharpness"), RunContext(phi=np.diag([2.0, 0.5])))
    assert "user" in res.scope["f"]["covered"]
    res = run_check(one("ssm.thm3"), RunContext(phi=sym_target([2.0, -1.0], 0.3)))
    assert res.parts[0].verdict is Verdict.CERTIFIED


# -- house rules ------------------------------------------------------------------------------

OWNED = [ROOT / "zascheck" / "ssm.py", ROOT / "zascheck" / "measure" / "ssm_checks.py",
         ROOT / "zascheck" / "symbolic" / "ssm_proofs.py",
         *sorted((ROOT / "zascheck" / "claims" / "ssm").glob("*.py"))]  # fmt: skip


def test_no_function_over_80_lines_and_one_verdict_combination():
    for f in OWNED:
        src = f.read_text()
        for n in ast.walk(ast.parse(src)):
            if isinstance(n, ast.FunctionDef):
                assert n.end_lineno - n.lineno + 1 <= 80, f"{f.name}:{n.name}"
        assert "_ORDER = {" not in src and "def _worst(" not in src, f.name
