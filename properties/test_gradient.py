"""zas.gradient (eq. 2.5) and zas.residual (Sec. 3).

``model.grads`` against central differences of ``model.loss``: in mp within
the rounding budget, then exactly (``R`` is quadratic in each single entry, so
the exact central difference *is* the derivative): certified.
"""

from __future__ import annotations

import pytest
from _props import decide, must_find
from hypothesis import given

from zascheck import strategies as S
from zascheck.result import Verdict

CERT = (Verdict.CERTIFIED,)


@given(S.gradient_cases(data=False))
def test_gradient_whitened_every_shape(case):
    decide("zas.gradient", case, want=CERT)


@given(S.gradient_cases(data=True))
def test_gradient_with_data_every_shape(case):
    decide("zas.gradient", case, want=CERT)


@pytest.mark.slow
@given(S.gradient_cases(max_depth=7, max_width=4))
def test_gradient_deep_and_wide(case):
    decide("zas.gradient", case, want=CERT)


def test_gradient_negative_transposed_target_is_found():
    so = must_find("zas.gradient/transposed-target")
    phi = so.counterexample_case["phi"]
    assert phi != [list(r) for r in zip(*phi, strict=False)], "the counterexample needs a non-symmetric target"


@given(S.residual_cases())
def test_residual_parametrization(case):
    decide("zas.residual", case, want=CERT)


def test_residual_negative_scaled_residual_is_found():
    so = must_find("zas.residual/scaled-residual")
    assert so.counterexample_case["s"] != 1.0
