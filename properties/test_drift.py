"""zas.drift: D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T) exactly.

``conservation.drift_residuals`` in mp (within ``drift_rounding_budget``), then
in exact rational arithmetic on the same dyadic case: certified.
"""

from __future__ import annotations

from _props import decide, must_find
from hypothesis import given

from zascheck import strategies as S
from zascheck.result import Verdict


@given(S.drift_cases())
def test_drift_identity_exact(case):
    decide("zas.drift", case, want=(Verdict.CERTIFIED,))


def test_negative_eta_not_squared_is_found():
    so = must_find("zas.drift/eta-not-squared")
    assert so.counterexample_case["power"] == 1
