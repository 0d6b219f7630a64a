"""The float64 fast routes (issue 15).

* Buffers reused through :class:`zascheck.model.Workspace` and the update into
  the consumed gradients give the same numbers, bit for bit, as the plain
  route, for single networks, non-square layers, data targets and stacks
  (StackedFloat64Backend), over many steps.
* The fused step (:func:`zascheck.model.forward` then
  :func:`zascheck.model.descend`, the GD loop's route when nothing looks at the
  gradients) evaluates eq. 2.5 transposed, so its roundings differ from the
  plain route's.  Both make the same forward pass (the same prefixes ``P_l``
  and residual ``E``, bit for bit), so the gradients differ only by the
  backward products: ``G_l`` is a product of at most ``L + 2`` computed
  factors (``W_L^T .. W_{l+1}^T``, ``E``, ``X^T``, ``P_{l-1}^T``), and any
  evaluation of it in floating point is within ``gamma_m |.|`` of the exact
  product of those factors, ``m = (L + 1) d_max`` (Higham, Accuracy and
  Stability, Lemma 3.3 and eq. 3.13: ``|fl(AB) - AB| <= gamma_n |A||B|``,
  chained), where ``|.|`` is the same product of the absolute values.  With
  ``Gabs`` that product and ``u`` the unit roundoff, the two updated weights
  ``fl(W - fl(eta G))`` of the two routes satisfy, entrywise,

      |W'_fast - W'_plain| <= u (|W'_fast| + |W'_plain|)
                              + 2 eta Gabs (gamma_m + u (1 + gamma_m)),

  and ``Gabs`` evaluated in float64 is low by at most a factor
  ``1 - gamma_m`` (non-negative products), which the tests allow for.  Steps
  are compared one at a time from the same weights (the bound is per step)."""

from __future__ import annotations

import numpy as np
import pytest

from zascheck import dynamics, inits, model
from zascheck.arith import Float64Backend, StackedFloat64Backend, backend
from zascheck.model import Target, Workspace


def _fused_step(b, ws, target, eta, work):
    """One step of the fused route from ``ws`` (copied): (loss, new weights)."""
    own = Workspace.contiguous_weights(b, ws) if work is not None else [w.copy() for w in ws]
    r, pre, e = model.forward(b, own, target, work)
    return r, model.descend(b, own, pre, e, target, eta, work)


def _plain_step(b, ws, target, eta):
    r, g = model.loss_and_grads(b, ws, target)
    return r, model.gd_update(b, ws, g, eta)


def _step_tolerance(b, ws, target, eta, new_a, new_b):
    """The entrywise bound of the module docstring on ``|new_a - new_b|`` for
    two evaluations of one GD step from ``ws``."""
    u = b.unit_roundoff
    dims = [n for w in ws for n in w.shape[-2:]]
    if target.X is not None:
        dims.append(target.X.shape[-1])
    gm = b.gamma((len(ws) + 1) * max(dims))
    _r, pre, e = model.forward(b, ws, target)
    absx = None if target.X is None else np.abs(target.X)
    gabs = model._grads(
        b,
        [np.abs(w) for w in ws],
        [None] + [np.abs(p) for p in pre[1:]],
        np.abs(e),
        Target(Y=target.Y, X=absx),
    )
    return [
        u * (np.abs(x) + np.abs(y)) + 2 * eta * (g / (1 - gm)) * (gm + u * (1 + gm))
        for x, y, g in zip(new_a, new_b, gabs, strict=True)
    ]


def _within(b, ws, target, eta, new_a, new_b):
    tol = _step_tolerance(b, ws, target, eta, new_a, new_b)
    for x, y, t in zip(new_a, new_b, tol, strict=True):
        assert np.all(np.abs(x - y) <= t), float(np.max(np.abs(x - y) - t))


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


def _network(b, L, d, seed):
    """A near-identity network (eq. 5.1) and a Gaussian ``Phi / sqrt(d)`` target."""
    rng = np.random.default_rng(seed)
    ws = [b.matrix(w) for w in inits.near_identity(L, d, rng)]
    return ws, Target.whitened(b, rng.standard_normal((d, d)) / np.sqrt(d))


def _same(a, c):
    assert len(a) == len(c)
    for x, y in zip(a, c, strict=True):
        assert np.array_equal(x, y)


@pytest.mark.parametrize(("L", "d"), [(1, 50), (2, 64), (5, 70), (12, 48), (30, 100)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_workspace_route_is_bit_for_bit(L, d, seed):
    b = Float64Backend()
    ws, target = _network(b, L, d, seed)
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


@pytest.mark.parametrize(("L", "d"), [(1, 50), (2, 64), (5, 70), (12, 48), (30, 100)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fused_step_is_within_the_a_priori_bound_of_the_plain_step(L, d, seed):
    b = Float64Backend()
    ws, target = _network(b, L, d, seed)
    work = Workspace.for_network(b, ws)
    assert work is not None
    for _ in range(3):  # a few steps, each compared from the same weights
        r_fast, fast = _fused_step(b, ws, target, 1e-2, work)
        r_plain, plain = _plain_step(b, ws, target, 1e-2)
        assert r_fast == r_plain  # the same forward pass
        _within(b, ws, target, 1e-2, fast, plain)
        ws = fast


def test_fused_step_differs_from_the_plain_step_only_by_rounding():
    """The bound is not vacuous: the routes differ (d = 100 is not a multiple
    of the BLAS blocks), by far less than the bound's leading term allows."""
    b = Float64Backend()
    rng = np.random.default_rng(7)
    ws = [b.matrix(w) for w in inits.near_identity(6, 100, rng)]
    target = Target.whitened(b, rng.standard_normal((100, 100)) / 10)
    _r, fast = _fused_step(b, ws, target, 1e-2, Workspace.for_network(b, ws))
    _r, plain = _plain_step(b, ws, target, 1e-2)
    assert any(not np.array_equal(x, y) for x, y in zip(fast, plain, strict=True))
    _within(b, ws, target, 1e-2, fast, plain)


def test_fused_step_on_data_targets_and_non_square_layers():
    b = Float64Backend()
    rng = np.random.default_rng(3)
    dims = [60, 80, 50, 70]  # d_0 .. d_3: no workspace, the fused formula alone
    ws = [b.matrix(0.1 * rng.standard_normal((dims[i + 1], dims[i]))) for i in range(3)]
    target = Target.data(b, rng.standard_normal((60, 90)), rng.standard_normal((70, 90)))
    assert Workspace.for_network(b, ws) is None
    r_fast, fast = _fused_step(b, ws, target, 1e-3, None)
    r_plain, plain = _plain_step(b, ws, target, 1e-3)
    assert r_fast == r_plain
    _within(b, ws, target, 1e-3, fast, plain)
    sq = [b.matrix(w) for w in inits.near_identity(4, 60, rng)]
    tsq = Target.data(b, rng.standard_normal((60, 90)), rng.standard_normal((60, 90)) / 8)
    _r, fast = _fused_step(b, sq, tsq, 1e-3, Workspace.for_network(b, sq))
    _r, plain = _plain_step(b, sq, tsq, 1e-3)
    _within(b, sq, tsq, 1e-3, fast, plain)


@pytest.mark.parametrize("d", [50, 30])
def test_fused_route_keeps_the_stacks_bit_for_bit_property(d):
    """Each slice of a stack evolves bit for bit as it would alone: both take
    the fused route at d = 50 (the same BLAS call per slice), both the plain
    route at d = 30 (the route is chosen per matrix, not per stack: a stack of
    3 slices of 30 x 30 has 2700 entries, above the buffer threshold)."""
    sb, b = StackedFloat64Backend(), Float64Backend()
    rng = np.random.default_rng(4)
    runs = [inits.near_identity(4, d, rng) for _ in range(3)]
    phi = rng.standard_normal((d, d))
    stack = [sb.matrix(np.stack([r[l] for r in runs])) for l in range(4)]
    assert (Workspace.for_network(sb, stack) is None) == (d < 46)
    st = Target.whitened(sb, np.broadcast_to(phi, (3, d, d)))
    run = dynamics.gd(sb, stack, st, 1e-2, max_steps=5)
    for i, r in enumerate(runs):
        solo = dynamics.gd(b, r, Target.whitened(b, phi), 1e-2, max_steps=5)
        _same([w[i] for w in run.ws], solo.ws)


def test_gd_loop_takes_the_fused_route_when_nothing_needs_the_gradients(monkeypatch):
    b = backend("float64")
    rng = np.random.default_rng(5)
    ws0 = [b.matrix(w) for w in inits.near_identity(8, 64, rng)]
    keep = [w.copy() for w in ws0]
    target = Target.whitened(b, rng.standard_normal((64, 64)) / 8)
    calls = {"descend": 0}
    real = model.descend

    def counting(*a, **k):
        calls["descend"] += 1
        return real(*a, **k)

    monkeypatch.setattr(model, "descend", counting)
    run = dynamics.gd(b, ws0, target, 1e-2, max_steps=7)
    assert calls["descend"] == 7 and run.steps == 7 and run.stop == "budget"
    _same(ws0, keep)  # the caller's weights are untouched
    # step by step: the loop is the fused step, bit for bit, and each step is
    # within the a-priori bound of the plain step from the same weights
    ws, work = [w.copy() for w in ws0], Workspace.for_network(b, ws0)
    for t in range(7):
        r, new = _fused_step(b, ws, target, 1e-2, work)
        assert r == run.losses[t]
        _within(b, ws, target, 1e-2, new, _plain_step(b, ws, target, 1e-2)[1])
        ws = [w.copy() for w in new]
    _same(run.ws, ws)
    # an observer (it sees the gradients) keeps the plain route
    calls["descend"] = 0
    dynamics.gd(b, ws0, target, 1e-2, max_steps=3, observers=[lambda *a: None])
    assert calls["descend"] == 0


@pytest.mark.parametrize("data", [False, True])
def test_fused_formula_is_the_plain_formula_in_exact_arithmetic(data):
    """With no rounding the transposed backward pass of ``descend`` and the
    plain route give the same step exactly (eq. 2.4 with eq. 2.5), also for a
    backend without in-place arithmetic (new values replace the list items)."""
    b = backend("exact")
    rng = np.random.default_rng(11)
    dims = [3, 2, 4, 3]
    ws = [b.matrix(rng.integers(-3, 4, (dims[i + 1], dims[i])) / 4) for i in range(3)]
    if data:
        target = Target.data(b, rng.integers(-2, 3, (3, 5)), rng.integers(-2, 3, (3, 5)))
    else:
        target = Target.whitened(b, rng.integers(-2, 3, (3, 3)))
    eta = b.scalar("1/8")
    r_plain, plain = _plain_step(b, ws, target, eta)
    own = list(ws)
    r, pre, e = model.forward(b, own, target)
    fast = model.descend(b, own, pre, e, target, eta)
    assert r == r_plain
    assert all(b.entries(x) == b.entries(y) for x, y in zip(fast, plain, strict=True))
