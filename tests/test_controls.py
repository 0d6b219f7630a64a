"""Every check has teeth: each registered negative control must be caught
(verdict ``violated`` with a counterexample), and every theorem-like claim
has at least one control.  Also: every check's quick budget returns a
well-formed result."""

from __future__ import annotations

import json

import pytest

from zascheck import engine
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.result import Verdict

CHECKS = checks_for()
CONTROLS = [(c, name) for c in CHECKS for name in c.controls]
THEOREM_KINDS = ("inequality", "conservation", "identity")


def test_some_checks_are_registered():
    assert len(CHECKS) >= 7


@pytest.mark.parametrize(("check", "control"), CONTROLS, ids=[f"{c.key}:{n}" for c, n in CONTROLS])
def test_negative_control_is_caught(check, control):
    res = run_check(check, RunContext(), control=control)
    assert res.verdict is Verdict.VIOLATED, (
        f"{check.key} control {control!r} gave {res.verdict}: {res.notes}"
    )
    assert res.counterexample, "a violation must carry its counterexample"
    assert res.control == control


@pytest.mark.parametrize("check", CHECKS, ids=[c.key for c in CHECKS])
def test_quick_result_is_well_formed(check):
    res = run_check(check, RunContext())
    assert res.claim == check.claim and res.method == check.method
    assert res.provenance and res.statement
    assert res.arithmetic
    assert isinstance(res.verdict, Verdict)
    if res.verdict is Verdict.VIOLATED:
        assert res.counterexample
    json.dumps(res.to_dict(), allow_nan=False)


def test_every_theorem_claim_with_a_check_has_a_control():
    missing = []
    for info in engine.all_cards():
        cid = info.id
        if not any(k in info.kind for k in THEOREM_KINDS):
            continue
        cs = [c for c in CHECKS if c.claim == cid]
        if cs and not any(c.controls for c in cs):
            missing.append(cid)
    assert not missing, f"claims without a negative control: {missing}"
