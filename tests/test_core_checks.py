"""Expected verdicts of the core checks on the true statements (quick budget)."""

from __future__ import annotations

import pytest

from zascheck.engine import RunContext, checks_for, run_check
from zascheck.result import Verdict


def _run(key, **case):
    (check,) = checks_for([key])
    return run_check(check, RunContext(), case=case or None)


def test_lemma42_conserved_to_working_precision():
    r = _run("zas.lemma4.2:flow")
    assert r.verdict is Verdict.HOLDS
    assert r.measured < 2.0 ** -(r.precision_bits - 16)


def test_drift_identity_is_exact_in_rationals():
    assert _run("zas.drift:exact").verdict is Verdict.CERTIFIED


def test_drift_identity_at_high_precision():
    r = _run("zas.drift:mp")
    assert r.verdict is Verdict.HOLDS and r.measured <= r.bound


def test_thm41_holds_and_is_tight_at_depth_one():
    r = _run("zas.thm4.1:flow")
    assert r.verdict is Verdict.HOLDS
    assert r.measured < 1
    # the slack at L = 1 is at the level of the integration error
    assert r.evidence["slack_at_L1"] < 2.0 ** -(r.precision_bits - 24)


def test_thm43_certified_in_ball_arithmetic():
    r = _run("zas.thm4.3:gd")
    assert r.verdict is Verdict.CERTIFIED
    assert r.arithmetic == "ball"
    assert r.tightest is not None


@pytest.mark.parametrize("prec", [128, 256])
def test_thm43_rises_in_precision_only_when_needed(prec):
    (check,) = checks_for(["zas.thm4.3:gd"])
    r = run_check(check, RunContext(precision=prec), case={"max_steps": 300})
    assert r.verdict is Verdict.CERTIFIED and r.precision_bits == prec
