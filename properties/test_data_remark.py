"""zas.remark.data, every reading (names as in ``zascheck.checks.paper.READINGS``).

Readings that hold are positive properties; readings that fail are negative
properties that must find their counterexample (shrunk, re-decided in ball
arithmetic, reproduced by the printed command).  The rate ``lambda`` is
widened toward the claim to say *holds* and toward its negation to say
*violated*, so an eigenvalue rounding cannot flip a verdict.
"""

from __future__ import annotations

import pytest
from _props import decide, must_find
from hypothesis import given

from zascheck import strategies as S
from zascheck.result import Verdict

HOLDING = [r for r, ok in S.DATA_READINGS.items() if ok]
FAILING = [r for r, ok in S.DATA_READINGS.items() if not ok]


@pytest.mark.parametrize("reading", HOLDING)
def test_reading_holds(reading):
    @given(S.data_cases(reading))
    def prop(case):
        decide(
            "zas.remark.data", case, want=(Verdict.HOLDS, Verdict.CERTIFIED, Verdict.INCONCLUSIVE)
        )

    prop()


@pytest.mark.parametrize("reading", FAILING)
def test_reading_fails_with_a_counterexample(reading):
    so = must_find(f"zas.remark.data/reading:{reading}")
    assert so.counterexample_case["reading"] == reading


def test_every_reading_is_classified():
    assert set(HOLDING) | set(FAILING) == set(S.DATA_READINGS)
    assert {"printed", "xxt-loss", "xxt-realizable", "xxt-excess"} <= set(S.DATA_READINGS)
