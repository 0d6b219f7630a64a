"""The proof of Theorem 4.1 (ZAS paper, Sec. 4.1) step by step along the
integrated flow: error budgets for each step's quantity when the weights are
known only up to the integrator's per-layer error estimates, and ``dR/dt``
along the computed trajectory.

Every budget is a backend scalar (computed in the working arithmetic), so it
neither underflows for a tiny target nor overflows for a huge one.  The
norms as doubles (:func:`fro_upper`, :func:`spectral_norm`) are for tables
and for checks that work in doubles (zas.lemma4.4-4.6).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from zascheck import dynamics, model
from zascheck.arith import Backend
from zascheck.measure.common import (
    fro_upper_b,
    loss_change_bound,
    product_perturbation,
    rounding_allowance,
)
from zascheck.model import Target

__all__ = [
    "FORWARD_STENCIL",
    "fro_upper",
    "loss_derivative",
    "matrix_power",
    "sampled_flow",
    "spectral_norm",
    "step_budgets",
]


def fro_upper(b: Backend, m: Any) -> float:
    """Frobenius norm of ``m`` as a double upper bound (midpoint plus radius
    in ball arithmetic)."""
    f = b.fro2(m)
    return math.sqrt(max(b.to_float(f) + b.radius(f), 0.0))


def spectral_norm(b: Backend, m: Any) -> float:
    """Spectral norm (largest singular value) of ``m`` as a double (of the
    midpoints in ball arithmetic)."""
    return b.norm2(m)


def matrix_power(b: Backend, m: Any, k: int) -> Any:
    """``m^k`` for a square ``m`` and ``k >= 0`` (``I`` for ``k = 0``)."""
    r, _ = b.shape(m)
    out = b.eye(r)
    for _ in range(k):
        out = b.mm(out, m)
    return out


def step_budgets(
    b: Backend, ws: Sequence[Any], target: Target, dws: Sequence[Any]
) -> dict[str, Any]:
    """How far each quantity of the proof of Theorem 4.1 can move when layer
    ``l`` is off by at most ``dws[l]`` in Frobenius norm (the integrator's
    per-layer estimate), as backend scalars (Frobenius norms bound spectral
    ones and are submultiplicative, so :func:`product_perturbation` applies):

    * ``"D"[l]``: ``||D_l||`` moves by ``(2 n_{l+1} + dw_{l+1}) dw_{l+1} +
      (2 n_l + dw_l) dw_l`` (``D_l = W_{l+1}^T W_{l+1} - W_l W_l^T``);
    * ``"identity"``: ``W_{L-1:1} W_{L-1:1}^T - (I + W_L^T W_L)^{L-1}``;
    * ``"gl2"``: ``||G_L||_F^2`` with ``G_L = E W_{L-1:1}^T`` (whitened);
    * ``"R"``: the loss (:func:`loss_change_bound`, plus the rounding of a
      non-rigorous arithmetic).
    """
    L = len(ws)
    n = [fro_upper_b(b, w) for w in ws]
    dw = list(dws)
    d = b.shape(ws[-1])[1]
    q = model.prefixes(b, ws)[L - 1]  # W_{L-1:1}
    nq = fro_upper_b(b, q)
    r = model.loss(b, ws, target)
    ne = b.sqrt(b.upper(2 * r))
    de = product_perturbation(n, dw)
    dq = product_perturbation(n[:-1], dw[:-1])
    dgl = de * (nq + dq) + ne * dq
    ds = (2 * n[-1] + dw[-1]) * dw[-1]
    ns = b.sqrt(b.scalar(d)) + n[-1] * n[-1]
    return {
        "gl2": (2 * ne * nq + dgl) * dgl,
        "R": loss_change_bound(b, ws, target, dw) + rounding_allowance(b, ws, target),
        "identity": (2 * nq + dq) * dq + product_perturbation([ns] * (L - 1), ds),
        "D": [
            (2 * n[l + 1] + dw[l + 1]) * dw[l + 1] + (2 * n[l] + dw[l]) * dw[l]
            for l in range(L - 1)
        ],
    }


def sampled_flow(
    b: Backend, ws0: Sequence[Any], target: Target, times: Sequence[float], max_steps: int
) -> dynamics.FlowRun:
    """Gradient flow from ``ws0`` sampled at ``times`` (0 included), with
    per-layer error estimates (:attr:`dynamics.FlowRun.layer_errors`), ended
    after ``max_steps`` Taylor steps (a stiff flow: ``FlowRun.stopped_at``
    then says how far it got and only the times reached are sampled)."""
    count = [0]

    def until(t: float, ws: list[Any], lerr: list[Any]) -> bool:
        count[0] += 1
        return count[0] >= max_steps

    pts = sorted({0.0} | {float(t) for t in times if t > 0})
    return dynamics.flow(b, ws0, target, pts, until=until, max_steps=max_steps + 1)


#: Taylor steps the restart of :func:`loss_derivative` may take over its 4h (a
#: non-stiff flow needs one: (4h)^8 is far below 2^-prec); more means a stiff flow
STENCIL_MAX_STEPS = 64

#: one-sided derivative stencils at 0 on the nodes 0, h, 2h, ...: weights of
#: ``f(kh)`` times ``1/h`` (orders 4 and 3: the pair estimates the error)
FORWARD_STENCIL = {
    4: (Fraction(-25, 12), Fraction(4), Fraction(-3), Fraction(4, 3), Fraction(-1, 4)),
    3: (Fraction(-11, 6), Fraction(3), Fraction(-3, 2), Fraction(1, 3)),
}


def loss_derivative(b: Backend, ws: Sequence[Any], target: Target, h: Fraction) -> tuple[Any, Any]:
    """``dR/dt`` along the flow through ``ws`` by the one-sided 5-point
    stencil on ``R(W(kh))``, ``k = 0..4`` (the flow restarted at ``ws``, so
    the sample times ``kh`` are exact however small ``h`` is), and its error
    budget: the difference from the 4-point stencil (an embedded pair) plus
    ``sum_k |c_k| / h`` times each sample's loss error (the restart's
    per-layer error estimates, :func:`loss_change_bound`).  Both are backend
    scalars; ball radii carry the rounding.  Returns ``(dR/dt, budget)``.
    Raises :class:`ArithmeticError` when the restart needs more than
    :data:`STENCIL_MAX_STEPS` Taylor steps (a flow too stiff for ``h``)."""
    # the samples span 4h: a low order suffices ((4h)^8 is far below 2^-prec for
    # the h of zas.thm4.1.steps), at a fraction of the cost of the default order
    # a non-stiff flow covers 4h in one step; a flow that needs more than STENCIL_MAX_STEPS
    # is too stiff for this h: ArithmeticError (the caller reports the sample undecided)
    run = dynamics.flow(
        b, ws, target, [float(k * h) for k in range(5)], order=8, max_steps=STENCIL_MAX_STEPS
    )
    losses = [model.loss(b, w, target) for w in run.ws]
    hb = b.scalar(h)
    d4 = (
        sum((b.scalar(c) * r for c, r in zip(FORWARD_STENCIL[4], losses, strict=True)), b.scalar(0))
        / hb
    )
    d3 = (
        sum(
            (b.scalar(c) * r for c, r in zip(FORWARD_STENCIL[3], losses[:4], strict=True)),
            b.scalar(0),
        )
        / hb
    )
    noise = b.scalar(0)
    for c, w, lerr in zip(FORWARD_STENCIL[4], run.ws, run.layer_errors, strict=True):
        noise = noise + b.scalar(abs(c)) * (
            loss_change_bound(b, w, target, lerr) + rounding_allowance(b, w, target)
        )
    return d4, b.upper(abs(d4 - d3)) + noise / hb
