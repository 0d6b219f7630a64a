"""Verdicts stay right over every magnitude (issue 10, item 6): targets from 1e-300 to 1e150,
zero and subnormal entries; the gradient property (exact central differences) and the flow
bound of Theorem 4.1 on such targets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zascheck import engine, search
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.result import Verdict
from zascheck.strategies import MAGNITUDE_EXPS

EXTREMES = [0.0, 5e-324, 2.0 ** MAGNITUDE_EXPS[0], 1e-300, 1e-170, 1.0, 1e150, 2.0 ** MAGNITUDE_EXPS[1]]


@pytest.mark.parametrize("scale", EXTREMES)
def test_gradient_identity_is_certified_at_every_magnitude(scale):
    case = {"ws": [[[0.5, -1.0], [0.25, 2.0]], [[1.0, 0.0], [-0.5, 0.75]]],
            "phi": [[scale, -scale], [0.0, scale]]}
    out = search.check_case(engine.prop("zas.gradient"), case)
    assert out.verdict is Verdict.CERTIFIED, (scale, out.verdict, out.tried)


@pytest.mark.parametrize("scale", [1e-300, 1e-170, 5e-324, 0.0])
def test_flow_bound_is_never_violated_on_tiny_targets(scale):
    (c,) = checks_for(["zas.thm4.1:flow"])
    phi = np.diag([scale, -scale])
    res = run_check(c, RunContext(phi=phi), case={"depths": [2]})
    assert res.verdict is not Verdict.VIOLATED, res.notes
    for x in (res.measured, res.margin):
        assert x is None or math.isfinite(x), (res.measured, res.margin)


def test_the_strategy_draws_the_whole_range():
    assert MAGNITUDE_EXPS[0] <= -996 and MAGNITUDE_EXPS[1] >= 498
