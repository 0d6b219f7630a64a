"""zas.thm4.3 and zas.lemma4.4-4.6: GD from ZAS at the theorem's step.

Every step's inequality is decided (``measure.stepsize.envelope_run``; ``lemma_run``'s
observers for (4.8) and (4.10)); float64 first, ball arithmetic at 128..1024
bits when a step lands within the rounding budget, and every case certified
in ball arithmetic (``t <= steps``).
"""

from __future__ import annotations

import pytest
from _props import decide, must_find
from hypothesis import given

from zascheck import strategies as S
from zascheck.result import Verdict

CERT = (Verdict.CERTIFIED,)


@given(S.thm43_cases(steps=(1, 300)))
def test_thm43_envelope(case):
    decide("zas.thm4.3", case, want=CERT)


@pytest.mark.slow
@given(S.thm43_cases(steps=(1000, 20000), max_depth=8, max_width=3))
def test_thm43_envelope_long_horizon(case):
    decide("zas.thm4.3", case, want=CERT)


def test_thm43_negative_eta_above_bound_is_found():
    so = must_find("zas.thm4.3/eta-above-bound")
    assert so.counterexample_case["eta_factor"] > 1


def test_thm43_negative_non_zas_init_is_found():
    so = must_find("zas.thm4.3/non-zas-init")
    assert so.counterexample_case["init"]["init"] != "zas"


@given(S.thm43_cases(steps=(1, 300)))
def test_lemmas_gradient_bound_and_per_step_decrease(case):
    out = decide("zas.lemma4.4-4.6", case, want=CERT)
    # max(R(t+1) / ((1 - eta/2) R(t)), R / ||G_L||^2): both <= 1, and movable (not 2 >= 1)
    assert out.measured <= 1.0


def test_lemmas_negative_eta_above_bound_is_found():
    must_find("zas.lemma4.4-4.6/eta-above-bound")


def test_lemmas_negative_non_zas_init_is_found():
    must_find("zas.lemma4.4-4.6/non-zas-init")
