"""The machinery the properties share: strategies give exact doubles, the
escalation ladder decides what rounding cannot, search checks report their
tightest case in JSON, and a printed command reproduces its case from a shell."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from zascheck import search
from zascheck import strategies as S
from zascheck.escalate import Evaluation, escalate
from zascheck import engine
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.result import Verdict


@given(S.targets(3, kinds=S.PHI_KINDS, scale_exps=(-30, 30)))
def test_targets_are_exact_doubles(phi):
    for row in phi:
        for x in row:
            assert Fraction(x) == Fraction(float(x))
            assert np.isfinite(x)


@given(S.targets(3, kinds=("indefinite",)))
def test_indefinite_targets_are_indefinite(phi):
    ev = np.linalg.eigvalsh(np.asarray(phi))
    assert ev[0] < 0 < ev[-1]


@given(S.rectangular_widths())
def test_rectangular_widths_satisfy_remark_1(w):
    assert all(d >= w[0] for d in w[1:-1])


@given(S.data_xy(2, 1, 4, realizable=False))
def test_non_realizable_data_has_a_residual(xy):
    x, y = np.asarray(xy["X"]), np.asarray(xy["Y"])
    a, *_ = np.linalg.lstsq(x.T, y.T, rcond=None)
    assert np.linalg.norm(a.T @ x - y) > 0.1


def test_escalation_reaches_ball_when_float_is_within_its_budget():
    # fl(0.1) + fl(0.2) > fl(0.3) by 2**-54 in float64, within its rounding budget: re-checked in ball
    def ev(b):
        third = b.scalar(Fraction(3, 10))
        s = b.scalar(Fraction(1, 10)) + b.scalar(Fraction(2, 10))
        return Evaluation(s, third, 0.0 if b.rigorous else 8 * b.unit_roundoff)

    out = escalate(ev)
    assert out.tried[0]["verdict"] == "inconclusive"
    assert out.arithmetic == "ball"
    # 1/10 + 2/10 == 3/10 exactly: no ball decides an equality, so inconclusive at 1024 bits
    assert out.verdict is Verdict.INCONCLUSIVE
    assert out.tried[-1]["bits"] == 1024


def test_escalation_certifies_a_strict_inequality():
    out = escalate(
        lambda b: (b.scalar(1) / 3, b.scalar(Fraction(1, 3)) + b.scalar(2) ** -200, 0.0),
        certify=True,
    )
    assert (
        out.verdict is Verdict.CERTIFIED
    )
    assert (
        out.arithmetic == "ball"
    )
    assert (
        out.precision_bits == 256
    )


def test_every_property_has_a_search_check_and_every_negative_is_a_control():
    checks = {c.claim: c for c in checks_for(methods=["search"])}
    for p in engine.props().values():
        assert p.claim in checks
        if p.control is not None:
            assert p.control in checks[p.claim].controls


def test_search_check_reports_its_tightest_case():
    c = checks_for(["zas.thm4.3:search"])[0]
    res = run_check(c, RunContext())
    assert res.verdict is Verdict.CERTIFIED
    t = res.tightest
    assert t["case"]["L"] >= 1
    assert t["command"].startswith(
        "zascheck check zas.thm4.3:search --case "
    )
    again = run_check(c, RunContext(), case={"case": t["case"]})
    assert again.verdict is Verdict.CERTIFIED
    assert again.measured == res.measured


def test_printed_command_reproduces_from_a_shell(tmp_path):
    so = search.run_search(engine.prop("zas.thm4.3/eta-above-bound"), examples=40, seed=0, shrink_seconds=2)
    cmd = so.counterexample_record()["command"]
    out = tmp_path / "r.json"
    argv = [
        sys.executable,
        "-m",
        "zascheck",
        *shlex.split(cmd)[1:],
        "--json",
        str(out),
        "--no-progress",
    ]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())["results"][0]
    assert res["verdict"] == "violated"
    assert res["control"] == "eta-above-bound"
    assert res["counterexample"]["case"] == so.counterexample_case


@given(st.sampled_from(sorted(engine.props())))
def test_every_property_key_builds_a_command(key):
    case = {"L": 1}
    assert search.command(engine.prop(key), case).startswith(
        f"zascheck check {engine.prop(key).claim}:search"
    )
