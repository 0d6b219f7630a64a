"""The identity claims (zas.gradient, zas.residual, zas.lemma4.2, zas.drift,
review.invariance): what a symbolic result covers, defective routes set aside,
impossible sizes refused, user targets honoured, claim-level verdicts."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from zascheck.engine import RunContext, checks_for, claim_verdicts, run_check
from zascheck.errors import InputError
from zascheck.measure.symbolic import certify, coverage
from zascheck.result import Verdict
from zascheck.symbolic import claims as proof_sets
from zascheck.symbolic import derive
from zascheck.symbolic import identities as idn

IDENTITIES = ("zas.gradient", "zas.residual", "zas.lemma4.2", "zas.drift", "review.invariance")


def _run(key: str, ctx: RunContext | None = None, **case):
    (check,) = checks_for([key])
    return run_check(check, ctx or RunContext(), case=case or None)


# -- scope of a symbolic result ---------------------------------------------------------


@pytest.mark.parametrize("cid", IDENTITIES)
def test_free_algebra_claims_reach_claim_level_certified(cid: str) -> None:
    res = _run(f"{cid}:symbolic")
    assert res.verdict is Verdict.CERTIFIED
    assert all(e["universal"] for e in res.scope.values()), res.scope
    (cv,) = claim_verdicts([res])
    assert cv["verdict"] == "certified", cv


@pytest.mark.parametrize(
    ("proofs", "L_max"),
    [
        (proof_sets.any_layer, 5),
        (proof_sets.last_ci, 5),
        (proof_sets.alpha, 5),
        (proof_sets.thm41_steps, 6),
    ],
    ids=["any-layer", "last-cI", "alpha", "thm4.1.steps"],
)
def test_explicit_depth_proofs_do_not_claim_every_L(proofs, L_max: int) -> None:
    """Issue: these were labelled certified against claims for every L."""
    res = certify(proofs(), route="r", notes="n")
    assert res.verdict is Verdict.CERTIFIED
    assert res.scope["L"] == {
        "covered": f"L <= {L_max} (explicit L = 2..{L_max})",
        "universal": False,
    }


def test_coverage_is_the_narrowest_statement() -> None:
    """A statement proven for every L does not widen one proven for explicit L only."""
    ps = [idn.lemma42(), *proof_sets.last_ci(L_max=3)]
    assert coverage(ps, "L")["covered"] == "L <= 3 (explicit L = 2..3)"
    assert coverage([idn.lemma42(), idn.drift()], "L")["universal"]


# -- a defective route is not a counterexample ----------------------------------------------


def test_sum_of_traces_issue_case_is_certified_from_the_sound_route() -> None:
    """``zascheck check zas.gradient:symbolic --case '{"ms_form":"sum-of-traces",
    "ms_L_max":2,"L_max":2}'`` was ``violated`` because sympy's derivative of a sum of
    traces is 0; eq. (2.5) is true."""
    res = _run("zas.gradient:symbolic", ms_form="sum-of-traces", ms_L_max=2, L_max=2)
    assert res.verdict is Verdict.CERTIFIED
    aside = res.evidence["set_aside"]
    assert len(aside) == 2 and all("sympy" in p["route"] for p in aside)
    assert "returned 0 (R is not constant in W_l)" in aside[0]["defect"]
    assert res.scope["L"]["universal"]


def test_wrong_gradient_still_caught_next_to_a_defective_route() -> None:
    (check,) = checks_for(["zas.gradient:symbolic"])
    res = run_check(check, RunContext(), control="sum-of-traces-transpose")
    assert res.verdict is Verdict.VIOLATED
    assert res.evidence["set_aside"]  # sympy's route is still the defective one
    assert res.counterexample["identities_not_reduced"]


def test_defect_is_detected_not_special_cased(monkeypatch) -> None:
    """A route that returns a wrong nonzero derivative for the single-trace form is
    rejected by the entrywise arbiter just the same."""
    real = derive.matrixsymbol_gradient

    def transposed(L, l, form="single-trace"):
        alg, g = real(L, l, form)
        return alg, alg.T(g)

    monkeypatch.setattr(derive, "matrixsymbol_gradient", transposed)
    res = certify(proof_sets.gradient(L_max=2, ms_L_max=2), route="r", notes="n")
    assert res.verdict is Verdict.CERTIFIED
    assert "returned a wrong derivative" in res.evidence["set_aside"][0]["defect"]


def test_a_defective_project_route_is_set_aside_too(monkeypatch) -> None:
    """Symmetric arbitration: when the first-variation route is the wrong one, its proofs
    are set aside and what is left (sympy's route) covers explicit L only."""
    real = derive.derive_gradient_explicit

    def wrong(L):
        der = real(L)
        der["G"] = [2 * g for g in der["G"]]
        return der

    monkeypatch.setattr(derive, "derive_gradient_explicit", wrong)
    res = certify(
        proof_sets.gradient(L_max=2, ms_L_max=2),
        route="r",
        notes="n",
        scope={"L": "L", "shape": "shape"},
    )
    assert res.verdict is Verdict.CERTIFIED
    assert any("first-variation" in p["defect"] for p in res.evidence["set_aside"])
    assert not res.scope["L"]["universal"]
    assert res.scope["shape"]["covered"] == "shape: square d x d (explicit)"


def test_no_sound_route_left_is_inconclusive(monkeypatch) -> None:
    ps = proof_sets.drift()
    ps[0].defect = "route unsound (test)"
    res = certify(ps, route="r", notes="n")
    assert res.verdict is Verdict.INCONCLUSIVE
    assert "No sound proof is left" in res.notes


@pytest.mark.parametrize("cid", ["zas.gradient", "zas.residual", "zas.lemma4.2", "zas.drift"])
def test_search_results_state_their_samples(cid: str) -> None:
    from zascheck.engine import card

    res = _run(f"{cid}:search")
    names = [q.name for q in card(cid).quantifiers]
    assert all(res.scope[n]["covered"] != "not covered" for n in names), res.scope
    assert not any(e["universal"] for e in res.scope.values())


# -- review.invariance: GD really moves D_l ------------------------------------------------------


def test_gd_drift_is_not_identically_zero() -> None:
    assert idn.drift_scalar().proven
    assert not idn.drift_scalar("eta").proven


# -- zas.drift:exact sizes and targets -------------------------------------------------------------


@pytest.mark.parametrize("key", ["zas.drift:exact", "zas.drift:mp"])
def test_drift_refuses_an_impossible_depth_before_running(key: str) -> None:
    """Issue 11: ``zas.drift:exact --case '{"L": 1000000000}'`` grew memory without end."""
    with pytest.raises(InputError, match=r"parameter L = 1000000000 .*at most \d+"):
        _run(key, L=10**9)  # the engine's backstop on every check
    with pytest.raises(InputError, match=r"parameter L = 50000 \(at most \d+"):
        _run(key, L=50_000)  # the check's own estimate of its work


def test_drift_exact_refusal_exits_2() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "zascheck",
            "check",
            "zas.drift:exact",
            "--case",
            '{"L": 50000}',
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 2, out.stderr
    assert "at most" in out.stderr and "2L - 1" in out.stderr


@pytest.mark.parametrize("cid", ["zas.drift:exact", "zas.drift:mp"])
def test_drift_refuses_a_vacuous_depth(cid: str) -> None:
    with pytest.raises(InputError, match="L >= 2"):
        _run(cid, L=1)


def test_drift_exact_honours_the_user_target(tmp_path) -> None:
    """Issue 11: ``--phi ok.npy`` was ignored while meta.phi named the file."""
    phi = np.array([[0.1, -1.0, 0.5], [2.0, 0.3, -0.7], [1e-3, 0.25, 1.5]])
    res = _run("zas.drift:exact", RunContext(phi=phi))
    assert res.verdict is Verdict.CERTIFIED
    assert res.params["phi"] is phi
    assert "user's target" in res.scope["Phi"]["covered"]
    assert res.scope["d"]["covered"] == "d = 3"
    (check,) = checks_for(["zas.drift:exact"])
    bad = run_check(check, RunContext(phi=phi), control="eta-not-squared")
    assert bad.verdict is Verdict.VIOLATED


def test_drift_exact_via_cli_phi(tmp_path) -> None:
    f = tmp_path / "ok.npy"
    np.save(f, np.array([[0.1, 2.0], [-0.3, 1.0]]))
    js = tmp_path / "out.json"
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "zascheck",
            "check",
            "zas.drift:exact",
            "--phi",
            str(f),
            "--no-progress",
            "--json",
            str(js),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    (r,) = json.loads(js.read_text())["results"]
    assert r["verdict"] == "certified" and "user's target" in r["notes"]


def test_lemma42_and_invariance_honour_the_user_target() -> None:
    phi = np.array([[0.5, -1.0], [0.25, 2.0]])
    for key in ("zas.lemma4.2:flow", "review.invariance:flow+exact-gd"):
        res = _run(key, RunContext(phi=phi))
        assert res.verdict.ok, (key, res.notes)
        assert "user's target" in res.scope["Phi"]["covered"], key
