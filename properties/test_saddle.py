"""zas.saddle: d = 1, Phi = -1, gradient flow from w_1 = ... = w_L = c >= 0
stays on that set and goes to the saddle at 0 (below an explicit bound that
tends to 0); off the set (or with c < 0 at odd L) it does not."""

from __future__ import annotations

from _props import decide, must_find
from hypothesis import given

from zascheck import strategies as S
from zascheck.result import Verdict
from zascheck.measure.evaluation import saddle_bound


@given(S.saddle_cases())
def test_flow_from_the_manifold_goes_to_the_saddle(case):
    decide("zas.saddle", case, want=(Verdict.HOLDS, Verdict.CERTIFIED))


def test_the_bound_goes_to_zero():
    for L in (2, 3, 6):
        vals = [saddle_bound(1.0, L, t) for t in (0.0, 1.0, 1e3, 1e6, 1e12)]
        assert vals[0] == 1.0
        assert vals == sorted(vals, reverse=True)
        assert vals[-1] < 1e-2


def test_negative_off_manifold_is_found():
    must_find("zas.saddle/off-manifold")
