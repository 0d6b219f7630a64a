"""Shared measurements (moved from ``checks/reviews.py``).

Claims made in the reviews of the ZAS paper (CLAIMS.md section B) and the
lower bound of Shamir (2018) the paper contrasts with (section A).

* ``review.any-layer``  any single zero layer gives the ``exp(-2t)`` rate;
* ``review.last-cI``    last layer ``c I``: the modified identities and rate;
* ``review.alpha``      layers ``alpha I``: the flow rate ``alpha^{2(L-1)}``
  (method ``flow``) and what it means for GD (method ``gd``);
* ``review.multirun``   Fig. 3 repeated over many seeds;
* ``shamir.lower``      iterations against depth, exponential vs polynomial.

``review.invariance`` is checked elsewhere.  The GD sweep utilities live in
:mod:`zascheck.experiments`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, inits, model
from zascheck.card import RunContext
from zascheck.model import Target
from zascheck.targets import make_phi

_FLOW_NOTE = "gradient flow by Taylor integration; integration error estimated, not enclosed."


def _frac(x: float) -> Fraction:
    """The exact value of a double (inits are built from doubles too)."""
    return Fraction(float(x))


def _eff_rate(times: list[float], losses: list[float], r0: float) -> float:
    """Largest constant ``r`` with ``R(t) <= exp(-2 r t) R(0)`` at every grid
    time: ``min_t -ln(R(t)/R(0)) / (2t)`` (``inf`` once ``R`` underflows)."""
    out = math.inf
    for t, r in zip(times, losses, strict=True):
        if r > 0 and r0 > 0:
            out = min(out, -math.log(r / r0) / (2 * t))
    return out


def _ratio_vs(times: list[float], losses: list[float], r0: float, rate: float) -> list[float]:
    """``R(t) / (exp(-2 rate t) R(0))`` on the grid (float, for evidence)."""
    out = []
    for t, r in zip(times, losses, strict=True):
        if r <= 0:
            out.append(0.0)
            continue
        x = math.log(r) - math.log(r0) + 2 * rate * t
        out.append(math.exp(x) if x < 700 else math.inf)
    return out


def _zero_layers(L: int, d: int, k: int, zeros: int) -> list[np.ndarray]:
    """Layer ``k`` (and, when ``zeros = 2``, layer ``k mod L + 1``) zero, the rest ``I``."""
    ws = inits.zero_at(L, d, k)
    if zeros == 2:
        ws[k % L] = np.zeros((d, d))
    elif zeros != 1:
        raise ValueError("zeros must be 1 or 2")
    return ws


def _two_sided_bound(b: Any, ws: list[Any], k: int, target: Target) -> tuple[float, float]:
    """``(||G_k||_F^2 / 2R, s)`` with ``s = lambda_min(A^T A) lambda_min(B B^T)``,
    ``A = W_{L:k+1}``, ``B = W_{k-1:1}``: the gradient-domination bound
    ``||G_k||^2 >= 2 s R`` that replaces ``||G_L||^2 >= 2R`` for a middle zero layer."""
    r, g = model.loss_and_grads(b, ws, target)
    d = b.shape(ws[0])[0]
    A = b.eye(d)
    for w in ws[k:]:
        A = b.mm(w, A)
    B = b.eye(d)
    for w in ws[: k - 1]:
        B = b.mm(w, B)
    # evidence only: midpoints in float64 (arb's eig refuses repeated eigenvalues, e.g. of I)
    s = float(
        np.linalg.eigvalsh(b.to_numpy(b.mm(b.T(A), A)))[0]
        * np.linalg.eigvalsh(b.to_numpy(b.mm(B, b.T(B))))[0]
    )
    rf = b.to_float(r)
    return (b.to_float(b.fro2(g[k - 1])) / (2 * rf) if rf > 0 else math.inf), s


def _p_tolerance(b: Any, ws: list[Any], target: Target, t: float, run: dynamics.FlowRun) -> float:
    """How far the computed ``P`` at grid time ``t`` may be from the exact ``P(t)``
    beyond ball radii: the integration error (``run.error_estimate`` per layer) and
    the output-time error of :func:`dynamics.flow`, whose clock is a float64 sum of
    ``steps`` step sizes (``|dt| <= (steps + 2) 2^-53 t``), each propagated to ``P``
    to first order with ``||dW_l|| -> prod_{m != l} ||W_m||_F``; plus, outside ball
    arithmetic, rounding of the ``L``-fold product (``gamma_{L d}``)."""
    norms = [math.sqrt(max(b.to_float(b.fro2(w)), 0.0)) for w in ws]
    gnorms = [math.sqrt(max(b.to_float(b.fro2(g)), 0.0)) for g in model.grads(b, ws, target)]
    lip = [math.prod(n for j, n in enumerate(norms) if j != i) for i in range(len(ws))]
    dt = (run.steps + 2) * 2.0**-53 * t
    tol = sum(li * (run.error_estimate + dt * gi) for li, gi in zip(lip, gnorms, strict=True))
    if not b.rigorous:
        tol += b.gamma(len(ws) * b.shape(ws[0])[0]) * math.prod(norms)
    return 2 * tol  # second order, as in common.loss_error_bound


def last_ci_rate(c: float, L: int) -> Fraction:
    """The rate the proof of Thm 4.1 yields from ``W_L(0) = c I`` (others ``I``):
    ``(1 - c^2)^{L-1}``, exact in the double ``c`` (meaningful for ``|c| < 1``).

    >>> last_ci_rate(0.5, 3)
    Fraction(9, 16)
    """
    return (1 - _frac(c) ** 2) ** (L - 1)


def _last_ci_identity(ctx: RunContext, c: float, L: int, d: int, ph: Any) -> dict[str, Any]:
    """``D_l(0)`` exactly (exact backend) and the residual of
    ``W_{L-1:1}W_{L-1:1}^T - ((1-c^2)I + W_L^T W_L)^{L-1}`` along a short ball flow."""
    ex = ctx.backend("exact")
    ws0 = inits.last_c_identity(L, d, c)
    D = model.invariants(ex, [ex.matrix(w) for w in ws0])
    want_last = ex.scale(ex.scalar(_frac(c) ** 2 - 1), ex.eye(d))
    exact_ok = all(D[i] == ex.zeros(d, d) for i in range(L - 2)) and (L < 2 or D[-1] == want_last)
    bb = ctx.backend("ball", 128)
    res_max = 0.0
    with bb.session():
        phi_m = make_phi(ph, d, ctx.rng(3))
        target = Target.whitened(bb, phi_m)
        run = dynamics.flow(bb, ws0, target, [0.0, 0.5, 1.0])
        one_minus = bb.scalar(1 - _frac(c) ** 2)
        for ws in run.ws:
            left = bb.eye(d)
            for w in ws[:-1]:
                left = bb.mm(w, left)
            left = bb.mm(left, bb.T(left))
            base = bb.add(bb.scale(one_minus, bb.eye(d)), bb.mm(bb.T(ws[-1]), ws[-1]))
            right = bb.eye(d)
            for _ in range(L - 1):
                right = bb.mm(base, right)
            res_max = max(res_max, math.sqrt(max(bb.to_float(bb.fro2(bb.sub(left, right))), 0.0)))
    return {
        "c": c,
        "L": L,
        "exact_at_t0": bool(exact_ok),
        "times": [0.0, 0.5, 1.0],
        "max_residual": res_max,
        "integration_error": run.error_estimate,
    }


# step grids for tuning, as fractions of eta_max (geometric, 0.05 .. 1)
_FRACTIONS_QUICK = [round(0.05 * 20 ** (i / 11), 4) for i in range(12)]


_FRACTIONS_STANDARD = [round(0.05 * 20 ** (i / 23), 4) for i in range(24)]


def _one_step_exact(phi_m: np.ndarray, L: int, alpha: float) -> bool:
    """Exact arithmetic: one GD step from alpha-ZAS with ``eta = alpha^{-2(L-1)}``
    lands on ``P = Phi`` (``R(1) = 0``)."""
    from zascheck.arith import backend

    ex = backend("exact")
    eta = _frac(alpha) ** (-2 * (L - 1))
    run = dynamics.gd(
        ex, inits.alpha_zas(L, phi_m.shape[0], alpha), Target.whitened(ex, phi_m), eta, max_steps=1
    )
    return bool(run.losses[-1] == ex.scalar(0))
