"""The claim-level scope says what the verdict rests on: for a violated claim, the
counterexample's coverage (not the coverage of the parts that held)."""

from __future__ import annotations

from zascheck.engine import claim_verdicts
from zascheck.result import CheckResult, Verdict, covers


def _r(verdict: Verdict, phi: str, method: str) -> CheckResult:
    return CheckResult(claim="zas.fig2", method=method, verdict=verdict, measured=1.0, bound=1.0,
                       scope={"Phi": covers(phi), "L": covers("L in [10, 100]")})


def test_a_violated_claims_scope_is_its_counterexamples():
    rows = claim_verdicts([_r(Verdict.HOLDS, "-I, d=1", "a"), _r(Verdict.VIOLATED, "Gaussian, d=2", "b")])
    assert rows[0]["verdict"] == "violated"
    assert rows[0]["scope"]["Phi"]["covered"] == "Gaussian, d=2"


def test_a_holding_claims_scope_is_what_agreed():
    rows = claim_verdicts([_r(Verdict.HOLDS, "-I, d=1", "a"), _r(Verdict.INCONCLUSIVE, "Gaussian, d=2", "b")])
    assert rows[0]["verdict"] == "inconclusive"
    assert rows[0]["scope"]["Phi"]["covered"] == "-I, d=1"
