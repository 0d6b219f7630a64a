"""zas.lemma4.2: under gradient flow every D_l is constant (any init, Phi, L, d).

The flow is integrated (Taylor, float64) and ``D_l(t) - D_l(0)`` compared with
``conservation.invariant_change``'s budget (integration error + rounding); a
violation is re-checked in ball arithmetic before it is believed.
"""

from __future__ import annotations

import pytest
from _props import decide, must_find
from hypothesis import given

from zascheck import strategies as S
from zascheck.result import Verdict


@given(S.lemma42_cases())
def test_invariants_conserved_along_flow(case):
    decide("zas.lemma4.2", case, want=(Verdict.HOLDS, Verdict.CERTIFIED))


@pytest.mark.slow
@given(S.lemma42_cases(max_depth=6, max_width=4))
def test_invariants_conserved_along_flow_larger(case):
    decide("zas.lemma4.2", case, want=(Verdict.HOLDS, Verdict.CERTIFIED))


def test_negative_gd_step_moves_the_invariants():
    so = must_find("zas.lemma4.2/gd-step")
    assert so.counterexample_case["eta"] > 0
