"""zas.thm4.1, zas.thm4.1.steps, zas.remark.rectangular.

Flow decay ``R(t) <= exp(-2t) R(0)`` through ``checks.common.flow_decay``
(Taylor integration: ``holds`` with the integration budget, re-checked in
ball arithmetic when within it); the proof's steps exactly at rational points
that satisfy the ZAS invariants (certified).
"""

from __future__ import annotations

import pytest
from _props import decide, must_find
from hypothesis import given

from zascheck import strategies as S
from zascheck.result import Verdict

OK = (Verdict.HOLDS, Verdict.CERTIFIED)


@given(S.thm41_cases(max_depth=5, max_width=2))
def test_thm41_flow_from_zas(case):
    decide("zas.thm4.1", case, want=OK)


@pytest.mark.slow
@given(S.thm41_cases(max_depth=8, max_width=3))
def test_thm41_flow_from_zas_deeper(case):
    decide("zas.thm4.1", case, want=OK)


def test_thm41_negative_non_zas_init_is_found():
    so = must_find("zas.thm4.1/non-zas-init")
    assert so.counterexample_case["init"]["init"] != "zas"


@given(S.steps_cases())
def test_thm41_proof_steps_exact(case):
    decide("zas.thm4.1.steps", case, want=(Verdict.CERTIFIED,))


def test_thm41_steps_negative_balanced_last_layer_is_found():
    must_find("zas.thm4.1.steps/balanced-last-layer")


@given(S.rectangular_cases())
def test_rectangular_remark(case):
    decide("zas.remark.rectangular", case, want=OK)


def test_rectangular_negative_bottleneck_is_found():
    so = must_find("zas.remark.rectangular/bottleneck")
    w = so.counterexample_case["widths"]
    assert min(w[1:-1]) < w[0]
