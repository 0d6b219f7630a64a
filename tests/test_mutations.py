"""Mutation test: plant a bug in the model, the dynamics, the bounds, the arithmetic or the
verdict rule, and show that some verdict or test of the suite turns red (issue 10).

Each mutation is a ``monkeypatch`` of one library function; each *detector* is a check run
through the engine (the same path ``zascheck check`` takes) or an independent recomputation
of a formula.  The test asserts (1) every detector is green on the unmutated library and
(2) under each mutation, the detector named for it is red.  ``tests/README.md`` lists them.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from zascheck import arith, bounds, dynamics, model, result
from zascheck.arith import Float64Backend, backend
from zascheck.engine import RunContext, checks_for, run_check
from zascheck.model import Target
from zascheck.result import Verdict

F = Float64Backend()


# --- detectors: True means "red" (the suite noticed) -------------------------------------

def _verdict(key: str, control: str | None = None) -> Verdict:
    (c,) = checks_for([key])
    try:
        return run_check(c, RunContext(), control=control).verdict
    except Exception:  # a crash is red too
        return Verdict.VIOLATED


def gradient_fd_red() -> bool:
    """zas.gradient:search (model.grads against exact central differences of model.loss
    on random shapes; the finite-difference method checks the symbolic formula instead)."""
    return _verdict("zas.gradient:search") is not Verdict.CERTIFIED


def thm43_gd_red() -> bool:
    """zas.thm4.3:gd (GD from ZAS at the theorem's step stays under its envelope)."""
    return not _verdict("zas.thm4.3:gd").ok


def lemma42_flow_red() -> bool:
    """zas.lemma4.2:flow (D_l conserved along the flow from a random init)."""
    return not _verdict("zas.lemma4.2:flow").ok


def drift_exact_red() -> bool:
    """zas.drift:exact (the eta^2 drift identity in rationals)."""
    return _verdict("zas.drift:exact") is not Verdict.CERTIFIED


def thm43_control_red() -> bool:
    """zas.thm4.3:gd under its control eta-above-bound must stay violated."""
    return _verdict("zas.thm4.3:gd", control="eta-above-bound") is not Verdict.VIOLATED


def thm43_eta_red() -> bool:
    """The Theorem 4.3 step against the paper's formula written again in exact rationals:
    eta = min{1/(4 L^3 phi^6), 1/(144 L^2 phi^4)}, phi = max{2 ||Phi||_F, 3/sqrt(L), 1}."""
    for fro, L in ((Fraction(5), 4), (Fraction(1, 10), 9), (Fraction(3, 4), 1)):
        phi = max(2 * fro, Fraction(3) / Fraction(math.isqrt(L)) if math.isqrt(L) ** 2 == L
                  else Fraction(3 / math.sqrt(L)), Fraction(1))
        want = min(1 / (4 * L**3 * phi**6), 1 / (144 * L**2 * phi**4))
        got = Fraction(float(bounds.thm43_eta(F, float(fro), L)))
        if abs(got - want) > want * Fraction(1, 10**12):
            return True
    return False


def ball_overlap_red() -> bool:
    """A comparison of overlapping balls must be undecided (inconclusive), never certified."""
    b = backend("ball", 64)
    with b.session():
        x = b.scalar(1) + b.scalar(Fraction(1, 1000)) * arith_ball_unit(b)
        return result.decide(b, x, b.scalar(1), relation="<=") is not Verdict.INCONCLUSIVE


def arith_ball_unit(b: Any) -> Any:
    """The ball [-1, 1] (midpoint 0, radius 1)."""
    import flint

    return flint.arb(0, 1)


def flow_error_red() -> bool:
    """At L = 1 the flow is exact in closed form: W(t) = Phi + (W(0) - Phi) e^{-t}.  The
    integrator's reported error must cover the true error at a coarse tolerance."""
    rng = np.random.default_rng(5)
    phi, w0 = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    times = [0.5, 1.0, 2.0]
    run = dynamics.flow(F, [w0], Target.whitened(F, phi), [0.0, *times], tol=1e-6, order=4)
    for t, ws, err in zip([0.0, *times], run.ws, run.errors, strict=True):
        exact = phi + (w0 - phi) * math.exp(-t)
        true_err = float(np.linalg.norm(ws[0] - exact))
        if true_err > err + 64 * np.finfo(float).eps * (1 + np.linalg.norm(exact)):
            return True
    return False


def decide_red() -> bool:
    """decide() on plain numbers: 2 <= 1 is violated, 1 <= 2 holds/certified."""
    return (result.decide(F, 2.0, 1.0, relation="<=") is not Verdict.VIOLATED
            or not result.decide(F, 1.0, 2.0, relation="<=").ok)


# --- mutations ---------------------------------------------------------------------------

def _dropped_transpose(b, ws, pre, e, target):
    t = e if target.X is None else b.mm(e, b.T(target.X))
    out: list[Any] = [None] * len(ws)
    for l in range(len(ws) - 1, 0, -1):
        out[l] = b.mm(t, pre[l])  # BUG: W_{l-1:1} without its transpose
        t = b.mm(b.T(ws[l]), t)
    out[0] = t
    return out


def _loss_without_half(b, ws, target):
    e = model.residual(b, model.end_to_end(b, ws), target)
    return b.fro2(e)  # BUG: the factor 1/2 lost


def _ascent(b, ws, grads, eta):
    return [b.add(w, b.scale(eta, g)) for w, g in zip(ws, grads, strict=True)]  # BUG: + eta G


def _half_step(b, ws, grads, eta):
    return [b.sub(w, b.scale(eta / 2, g)) for w, g in zip(ws, grads, strict=True)]  # BUG: eta/2


def _wrong_invariants(b, ws):
    return [b.sub(b.mm(ws[l + 1], b.T(ws[l + 1])), b.mm(ws[l], b.T(ws[l])))  # BUG: W W^T
            for l in range(len(ws) - 1)]


def _reversed_product(b, ws):
    p = ws[0]
    for w in ws[1:]:
        p = b.mm(p, w)  # BUG: W_1 W_2 ... instead of W_L ... W_1
    return p


_ETA = bounds.thm43_eta
_PHI = bounds.thm43_phi


def _eta_10x(b, phi_fro, L, *a, **k):
    return 10 * _ETA(b, phi_fro, L, *a, **k)  # BUG: the step 10x too large


def _phi_without_2(b, phi_fro, L, *a, **k):
    return _PHI(b, b.scalar(phi_fro) / 2, L, *a, **k)  # BUG: phi = max{||Phi||_F, ...}


_LE = arith.BallBackend.le


def _unknown_is_true(self, a, b):
    r = _LE(self, a, b)
    return True if r is None else r  # BUG: "cannot decide" read as "true"


_FLOW = dynamics.flow


def _flow_under_reports(*a, **k):
    run = _FLOW(*a, **k)
    run.errors = [e * 1e-6 for e in run.errors]  # BUG: the error estimate 10^6 too small
    run.error_estimate *= 1e-6
    return run


_DECIDE = result.decide


def _decide_swapped(b, measured, bound, *, relation="<=", err=0.0):
    flip = {"<=": ">=", ">=": "<=", "==": "=="}[relation]  # BUG: the relation reversed
    return _DECIDE(b, measured, bound, relation=flip, err=err)


MUTATIONS = {
    # name: (module, attribute, replacement, detector)
    "gradient-dropped-transpose": (model, "_grads", _dropped_transpose, gradient_fd_red),
    "loss-lost-half": (model, "loss", _loss_without_half, gradient_fd_red),
    "product-order-reversed": (model, "end_to_end", _reversed_product, gradient_fd_red),
    "gd-ascent": (model, "gd_update", _ascent, thm43_gd_red),
    "gd-half-step": (model, "gd_update", _half_step, drift_exact_red),
    "invariants-wrong-transpose": (model, "invariants", _wrong_invariants, lemma42_flow_red),
    "thm43-step-10x": (bounds, "thm43_eta", _eta_10x, thm43_eta_red),
    "thm43-phi-without-2": (bounds, "thm43_phi", _phi_without_2, thm43_eta_red),
    "ball-unknown-as-true": (arith.BallBackend, "le", _unknown_is_true, ball_overlap_red),
    "flow-under-reports-error": (dynamics, "flow", _flow_under_reports, flow_error_red),
    "decide-relation-swapped": (result, "decide", _decide_swapped, decide_red),
}

DETECTORS = sorted({m[3] for m in MUTATIONS.values()}, key=lambda f: f.__name__)


@pytest.mark.parametrize("detector", DETECTORS, ids=[d.__name__ for d in DETECTORS])
def test_detectors_are_green_on_the_library(detector):
    assert not detector(), f"{detector.__name__} is red without any mutation"


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_planted_bug_turns_something_red(name, monkeypatch):
    mod, attr, repl, detector = MUTATIONS[name]
    monkeypatch.setattr(mod, attr, repl)
    assert detector(), f"mutation {name!r} went unnoticed by {detector.__name__}"
