"""Shared measurements (moved from ``checks/conservation.py``).

Conservation family: Lemma 4.2 (flow), the GD drift identity, and the
reviewer's summary of both (``review.invariance``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import dynamics, inits, model
from zascheck.arith import Backend, Float64Backend
from zascheck.model import Target

_F = Float64Backend()


def _fro(b: Backend, m: Any) -> float:
    return math.sqrt(max(b.to_float(b.fro2(m)), 0.0))


def _case_init(init: str, L: int, d: int, rng: np.random.Generator) -> list[np.ndarray]:
    if init == "random":
        return [rng.standard_normal((d, d)) / math.sqrt(d) for _ in range(L)]
    return inits.make(init, L, d, seed=rng)


def invariant_change(b: Backend, ws0: list[Any], ws_t: list[Any], dw: float) -> tuple[float, float]:
    """``max_l ||D_l(t) - D_l(0)||_F`` and the error budget that a perturbation
    of at most ``dw`` per layer (integration error) plus rounding allows:
    ``sum over the two layers of (2 ||W|| + dw) dw`` and ``gamma_{2d}`` times
    the size of the products."""
    d0 = model.invariants(b, ws0)
    dt = model.invariants(b, ws_t)
    worst, budget = 0.0, 0.0
    for l, (x, y) in enumerate(zip(dt, d0, strict=True)):
        change = _fro(b, b.sub(x, y))
        n1, n0 = _fro(b, ws_t[l + 1]), _fro(b, ws_t[l])
        dim = b.shape(ws_t[l])[0]
        allow = (2 * n1 + dw) * dw + (2 * n0 + dw) * dw
        allow += 2 * b.gamma(dim + 2) * (n1 * n1 + n0 * n0 + _fro(b, y))
        allow += b.radius(b.fro2(b.sub(x, y))) ** 0.5
        if change - allow > worst - budget or l == 0:
            worst, budget = max(worst, change), max(budget, allow)
    return worst, budget


def dynamics_flow(
    b: Backend, ws0: list[Any], target: Target, times: list[float]
) -> dynamics.FlowRun:
    return dynamics.flow(b, ws0, target, [0.0, *times])


def drift_residuals(
    b: Backend, ws: list[Any], target: Target, eta: Any, *, power: int = 2
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """One GD step from ``ws``; per ``l`` the residual
    ``D_l(t+1) - D_l(t) - eta^power (G_{l+1}^T G_{l+1} - G_l G_l^T)``
    (``power = 2`` is the claim; ``power = 1`` is the control's wrong formula),
    with the new weights, the gradients and the invariants at ``t``."""
    _r, g = model.loss_and_grads(b, ws, target)
    new = model.gd_update(b, ws, g, eta)
    d_old = model.invariants(b, ws)
    d_new = model.invariants(b, new)
    coef = eta**power
    res = []
    for l in range(len(ws) - 1):
        pred = b.scale(coef, b.sub(b.mm(b.T(g[l + 1]), g[l + 1]), b.mm(g[l], b.T(g[l]))))
        res.append(b.sub(b.sub(d_new[l], d_old[l]), pred))
    return res, new, g, d_old


def drift_rounding_budget(b: Backend, ws: list[Any], g: list[Any], eta: float, l: int) -> float:
    """A rounding-error budget for the drift residual of layer pair ``(l, l+1)``:
    Higham's ``gamma_n`` with ``n = (L + 4) d`` (the longest chain of roundings:
    L products of inner dimension d for the gradients, then the update and the
    two Gram products) times the size of every term involved."""
    L = len(ws)
    dim = max(max(b.shape(w)) for w in ws)
    n = (L + 4) * dim
    s = 0.0
    for k in (l, l + 1):
        w, gk = _fro(b, ws[k]), _fro(b, g[k])
        s += (w + eta * gk) ** 2 + eta * w * gk + eta * eta * gk * gk
    return 4 * b.gamma(n) * s
