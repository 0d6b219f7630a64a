"""The float64 fast route (issue 15, item 2): buffers reused through
:class:`zascheck.model.Workspace` and the in-place update give the same
numbers, bit for bit, as the plain route, for single networks, non-square
layers, data targets and stacks (StackedFloat64Backend), over many steps."""

from __future__ import annotations

import numpy as np
import pytest

from zascheck import dynamics, inits, model
from zascheck.arith import Float64Backend, StackedFloat64Backend, backend
from zascheck.model import Target, Workspace


def _plain_gd(b, ws, target, eta, steps):
    """The route before the workspace: fresh arrays everywhere."""
    losses = []
    for _ in range(steps):
        r, g = model.loss_and_grads(b, ws, target)
        losses.append(r)
        ws = model.gd_update(b, ws, g, eta)
    return losses, ws


def _fast_gd(b, ws, target, eta, steps):
    work = Workspace()
    losses = []
    for _ in range(steps):
        r, g = model.loss_and_grads(b, ws, target, work)
        losses.append(r)
        ws = model.gd_update(b, ws, g, eta, consume_grads=True)
    return losses, ws


def _same(a, c):
    assert len(a) == len(c)
    for x, y in zip(a, c, strict=True):
        assert np.array_equal(x, y)


@pytest.mark.parametrize(("L", "d"), [(1, 50), (2, 64), (5, 70), (12, 48), (30, 100)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_workspace_route_is_bit_for_bit(L, d, seed):
    b = Float64Backend()
    rng = np.random.default_rng(seed)
    ws = [b.matrix(w) for w in inits.near_identity(L, d, rng)]
    target = Target.whitened(b, rng.standard_normal((d, d)) / np.sqrt(d))
    la, wa = _plain_gd(b, ws, target, 1e-2, 6)
    lb, wb = _fast_gd(b, ws, target, 1e-2, 6)
    assert la == lb
    _same(wa, wb)


def test_non_square_layers_and_data_target():
    b = Float64Backend()
    rng = np.random.default_rng(3)
    dims = [60, 80, 50, 70]  # d_0 .. d_3
    ws = [b.matrix(0.1 * rng.standard_normal((dims[i + 1], dims[i]))) for i in range(3)]
    target = Target.data(b, rng.standard_normal((60, 90)), rng.standard_normal((70, 90)))
    la, wa = _plain_gd(b, ws, target, 1e-3, 5)
    lb, wb = _fast_gd(b, ws, target, 1e-3, 5)
    assert la == lb
    _same(wa, wb)


def test_stacked_backend_keeps_its_bit_for_bit_property():
    """Each slice of a stack evolves as it would alone, also on the fast route."""
    sb, b = StackedFloat64Backend(), Float64Backend()
    rng = np.random.default_rng(4)
    runs = [inits.near_identity(4, 50, rng) for _ in range(3)]
    phi = rng.standard_normal((50, 50))
    stack = [sb.matrix(np.stack([r[l] for r in runs])) for l in range(4)]
    _, ws_stack = _fast_gd(
        sb, stack, Target.whitened(sb, np.broadcast_to(phi, (3, 50, 50))), 1e-2, 5
    )
    for i, r in enumerate(runs):
        _, ws_solo = _plain_gd(b, [b.matrix(w) for w in r], Target.whitened(b, phi), 1e-2, 5)
        _same([w[i] for w in ws_stack], ws_solo)


def test_gd_loop_uses_the_workspace_and_matches_the_plain_route():
    b = backend("float64")
    rng = np.random.default_rng(5)
    ws0 = inits.near_identity(8, 64, rng)
    phi = rng.standard_normal((64, 64)) / 8
    target = Target.whitened(b, phi)
    assert Workspace.for_network(b, [b.matrix(w) for w in ws0]) is not None
    run = dynamics.gd(b, ws0, target, 1e-2, max_steps=7, record=("weights",))
    losses, ws = _plain_gd(b, [b.matrix(w) for w in ws0], target, 1e-2, 7)
    assert run.losses[:-1] == losses
    _same(run.ws, ws)
    # the recorded weights of earlier steps are untouched by later in-place updates
    for t, kept in zip(run.records["t"], run.records["weights"], strict=True):
        _, ref = _plain_gd(b, [b.matrix(w) for w in ws0], target, 1e-2, t)
        _same(kept, ref)


def test_small_networks_and_other_backends_take_the_plain_route():
    b = backend("float64")
    assert Workspace.for_network(b, [np.eye(2)] * 3) is None
    assert (
        Workspace.for_network(backend("ball", 64), [backend("ball", 64).matrix(np.eye(60))]) is None
    )


def test_workspace_route_counts_the_same_products():
    calls = {"n": 0}

    class Counting(Float64Backend):
        def mm(self, a, c):
            calls["n"] += 1
            return a @ c

        def mm_into(self, a, c, out=None):
            if out is not None:
                calls["n"] += 1
            return super().mm_into(a, c, out)

    b = Counting()
    L, d = 9, 50
    ws = [b.matrix(w) for w in inits.near_identity(L, d, np.random.default_rng(0))]
    model.loss_and_grads(b, ws, Target.whitened(b, np.eye(d)), Workspace())
    assert calls["n"] == 3 * (L - 1)
