"""GD and gradient flow: stop rules, closed forms, error reporting."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zascheck import dynamics, inits, model
from zascheck.arith import BallBackend, Float64Backend, MpBackend
from zascheck.errors import InputError
from zascheck.model import Target


def test_gd_depth_one_closed_form():
    """L = 1: W(t) = Phi (1 - (1 - eta)^t) from W = 0, so R(t) = (1 - eta)^(2t) R(0)."""
    b = MpBackend(200)
    phi = np.array([[1.5, -0.25], [0.5, 2.0]])
    eta = b.scalar("0.1")
    run = dynamics.gd(b, [np.zeros((2, 2))], Target.whitened(b, phi), eta, max_steps=30)
    for t, r in enumerate(run.losses):
        expect = (1 - eta) ** (2 * t) * run.losses[0]
        assert abs(r - expect) <= 2 ** -(b.prec - 20) * run.losses[0]


def test_gd_stop_rules():
    b = Float64Backend()
    tgt = Target.whitened(b, -np.eye(2))
    conv = dynamics.gd(b, inits.zas(3, 2), tgt, 0.1, max_steps=10_000, rel_tol=1e-10)
    assert conv.stop == "converged"
    assert conv.losses[-1] <= 1e-10 * conv.losses[0]
    budget = dynamics.gd(b, inits.zas(3, 2), tgt, 0.001, max_steps=5, rel_tol=1e-10)
    assert budget.stop == "budget" and budget.steps == 5
    big = Target.whitened(b, 10 * np.eye(2))
    div = dynamics.gd(b, inits.xavier(4, 2, 0), big, 2.0, max_steps=1000)
    assert div.stop == "diverged"


def test_gd_observer_can_stop_and_sees_every_step():
    b = Float64Backend()
    seen = []

    def obs(t, ws, r, g):
        seen.append(t)
        return t == 7

    run = dynamics.gd(
        b, inits.zas(2, 2), Target.whitened(b, np.eye(2)), 0.01, max_steps=100, observers=[obs]
    )
    assert run.stop == "observer" and seen == list(range(8))


@pytest.mark.parametrize("eta", [0, -1.0, float("nan"), float("inf")])
def test_gd_rejects_bad_eta(eta):
    b = Float64Backend()
    with pytest.raises(InputError, match="eta"):
        dynamics.gd(b, inits.zas(2, 2), Target.whitened(b, np.eye(2)), eta, max_steps=1)


def test_flow_depth_one_closed_form_and_error_estimate():
    """L = 1 from 0: W(t) = Phi (1 - e^-t); the reported error estimate must
    cover the actual error."""
    b = MpBackend(113)
    phi = np.array([[0.75, -1.0], [2.0, 0.5]])
    run = dynamics.flow(b, [np.zeros((2, 2))], Target.whitened(b, phi), [0.5, 1.0, 3.0])
    for t, ws in zip(run.times, run.ws, strict=True):
        exact = b.scale(1 - b.ctx.exp(-t), b.matrix(phi))
        err = math.sqrt(float(b.fro2(b.sub(ws[0], exact))))
        assert err <= max(run.error_estimate, 2.0 ** -(b.prec - 10))
    assert run.error_estimate < 2.0 ** -(b.prec - 20)


def test_flow_agrees_across_backends():
    rng = np.random.default_rng(0)
    phi = rng.standard_normal((2, 2))
    out = {}
    for b in (Float64Backend(), BallBackend(128)):
        with b.session():
            run = dynamics.flow(b, inits.zas(3, 2), Target.whitened(b, phi), [2.0])
            out[b.name] = (b.to_numpy(model.end_to_end(b, run.ws[-1])), run.error_estimate)
    diff = np.abs(out["float64"][0] - out["ball"][0]).max()
    assert diff <= 1e3 * out["float64"][1] + 1e-12


def test_flow_rejects_bad_times():
    b = Float64Backend()
    with pytest.raises(InputError, match="times"):
        dynamics.flow(b, inits.zas(2, 2), Target.whitened(b, np.eye(2)), [1.0, 0.5])


def test_gd_records_invariants_and_gradient_norms():
    b = Float64Backend()
    run = dynamics.gd(
        b,
        inits.zas(3, 2),
        Target.whitened(b, np.eye(2)),
        0.05,
        max_steps=10,
        record=("invariants", "grad_norms"),
        record_every=5,
    )
    assert run.records["t"] == [0, 5, 10]
    assert len(run.records["invariants"][0]) == 2 and len(run.records["grad_norms"][0]) == 3
    np.testing.assert_array_equal(run.records["invariants"][0][1], -np.eye(2))
    with pytest.raises(InputError, match="cannot record"):
        dynamics.gd(
            b, inits.zas(3, 2), Target.whitened(b, np.eye(2)), 0.05, max_steps=1, record=("x",)
        )
