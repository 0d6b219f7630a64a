"""The model: gradients against finite differences (high precision), all
backends agree, O(L) products, shapes and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from zascheck import inits, model
from zascheck.arith import BallBackend, ExactBackend, Float64Backend, MpBackend
from zascheck.errors import InputError
from zascheck.model import Target


def _fd_grad(b, ws, target, l, i, j, h):
    """Central difference of R in entry (i, j) of layer l (in backend b)."""

    def r_at(delta):
        w2 = list(ws)
        e = b.zeros(*b.shape(ws[l]))
        e[i, j] = delta
        w2[l] = b.add(ws[l], e)
        return model.loss(b, w2, target)

    return (r_at(h) - r_at(-h)) / (2 * h)


@pytest.mark.parametrize("shape", [[2, 2, 2, 2], [2, 3, 4, 1], [3, 1, 2]])
def test_gradient_matches_central_differences_in_mp(shape):
    """eq. (2.5) against a central difference at 200 bits.  The truncation
    error of a central difference is O(h^2) (the loss is a polynomial), so with
    h = 2^-40 the agreement must be at the 2^-70 level: tolerance from h and
    the working precision, not a picked literal."""
    b = MpBackend(200)
    rng = np.random.default_rng(1)
    ws = [b.matrix(rng.standard_normal((shape[k + 1], shape[k]))) for k in range(len(shape) - 1)]
    target = Target.whitened(b, rng.standard_normal((shape[-1], shape[0])))
    _, g = model.loss_and_grads(b, ws, target)
    h = b.ctx.mpf(2) ** -40
    scale = max(1.0, max(float(abs(x)) for gl in g for x in b.entries(gl)))
    tol = scale * (float(h) ** 2 * 1e3 + 2.0 ** -(b.prec - 60))
    for l in range(len(ws)):
        r, c = b.shape(ws[l])
        for i in range(r):
            for j in range(c):
                fd = _fd_grad(b, ws, target, l, i, j, h)
                assert abs(float(fd - g[l][i, j])) <= tol, f"layer {l + 1} entry ({i},{j})"


def test_gradient_with_data_matches_finite_differences():
    """Un-whitened loss (eq. 2.2): G_l = W_{L:l+1}^T (PX - Y) X^T W_{l-1:1}^T."""
    b = MpBackend(200)
    rng = np.random.default_rng(2)
    ws = [b.matrix(rng.standard_normal((2, 2))) for _ in range(3)]
    target = Target.data(b, rng.standard_normal((2, 5)), rng.standard_normal((2, 5)))
    _, g = model.loss_and_grads(b, ws, target)
    h = b.ctx.mpf(2) ** -40
    for l in range(3):
        fd = _fd_grad(b, ws, target, l, 1, 0, h)
        assert abs(float(fd - g[l][1, 0])) < 1e-20


@pytest.mark.parametrize(
    "b", [Float64Backend(), MpBackend(113), BallBackend(128), ExactBackend()], ids=lambda b: b.name
)
def test_backends_agree_on_loss_and_gradients(b):
    rng = np.random.default_rng(3)
    ws = inits.xavier(4, 3, rng)
    phi = rng.standard_normal((3, 3))
    ref = Float64Backend()
    r0, g0 = model.loss_and_grads(ref, ws, Target.whitened(ref, phi))
    with b.session():
        r, g = model.loss_and_grads(b, [b.matrix(w) for w in ws], Target.whitened(b, phi))
        gn = [b.to_numpy(x) for x in g]
        rf = b.to_float(r)
    tol = ref.gamma(4 * 3 + 4) * 10  # float64 reference error, derived from its precision
    assert rf == pytest.approx(r0, rel=tol)
    for a, c in zip(gn, g0, strict=True):
        np.testing.assert_allclose(a, c, rtol=tol, atol=tol * np.abs(c).max())


@pytest.mark.parametrize("L", [1, 2, 12])
def test_gradient_uses_3L_products(L):
    calls = {"n": 0}

    class Counting(Float64Backend):
        def mm(self, a, c):
            calls["n"] += 1
            return a @ c

    b = Counting()
    ws = inits.xavier(L, 3, 0)
    model.loss_and_grads(b, ws, Target.whitened(b, np.eye(3)))
    assert calls["n"] == 3 * (L - 1)  # L-1 prefixes, L-1 chain steps, L-1 gradients (G_1 is free)


def test_invariants_of_zas():
    b = Float64Backend()
    ds = model.invariants(b, inits.zas(5, 3))
    for d in ds[:-1]:
        np.testing.assert_array_equal(d, np.zeros((3, 3)))
    np.testing.assert_array_equal(ds[-1], -np.eye(3))


@pytest.mark.parametrize(
    ("ws", "msg"),
    [([], "L >= 1"), ([np.eye(2), np.eye(3)], "do not chain"), ([np.array([[np.nan]])], "NaN")],
)
def test_malformed_networks_are_named(ws, msg):
    b = Float64Backend()
    with pytest.raises(InputError, match=msg):
        model.validate(b, ws)


def test_target_shape_mismatch_is_named():
    b = Float64Backend()
    with pytest.raises(InputError, match="target needs"):
        model.validate(b, inits.zas(3, 2), Target.whitened(b, np.eye(3)))


def test_inits_reject_bad_depth():
    with pytest.raises(InputError, match="L must be"):
        inits.zas(0, 2)
    with pytest.raises(InputError, match="d_l >= d_0"):
        inits.rectangular_zas([3, 2, 3])
