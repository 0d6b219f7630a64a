"""zas.near-zas: near-ZAS init with small sigma keeps Theorem 4.3's envelope.

The search is steered toward the largest sigma that still passes; the
negative property (sigma >= 1/2) must find a case that fails.
"""

from __future__ import annotations

import math

from _props import decide, must_find
from hypothesis import given, target

from zascheck import strategies as S
from zascheck.result import Verdict


@given(S.near_zas_cases(steps=(1, 300)))
def test_near_zas_small_sigma_converges_linearly(case):
    decide("zas.near-zas", case, want=(Verdict.CERTIFIED,))
    target(math.log2(case["sigma"]), label="log2 sigma")


def test_near_zas_negative_large_sigma_is_found():
    so = must_find("zas.near-zas/large-sigma")
    assert so.counterexample_case["sigma"] >= 0.5
