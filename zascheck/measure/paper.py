"""Shared measurements (moved from ``checks/paper.py``).

Paper family: the proof steps of Theorem 4.1, Remark (2) (un-whitened data),
the hidden constants of Lemmas 4.4-4.6, the near-ZAS remark and the saddle
manifold of Sec. 3 (ZAS paper).

Pure helpers (unit-tested in ``tests/test_paper_checks.py``):
:func:`product_perturbation`, :func:`loglog_slope`, :func:`flow_limit_wl_norm`,
:func:`comparison_decay`, :func:`linear_convergence`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any


from zascheck import dynamics, model
from zascheck.arith import Backend, Float64Backend
from zascheck.model import Target

_F = Float64Backend()


__all__ = [
    "comparison_decay",
    "product_perturbation",
]


def comparison_decay(u0: float, L: int, t: float) -> float:
    """Solution at time ``t`` of ``u' = -u^(L-1)``, ``u(0) = u0 >= 0``: the
    comparison function for the flow on the saddle manifold of Sec. 3
    (``w' = -(w^L + 1) w^(L-1) <= -w^(L-1)`` for ``w >= 0``).

    >>> comparison_decay(1.0, 3, 1.0)
    0.5
    """
    if u0 <= 0:
        return 0.0
    if L == 1:
        return max(u0 - t, 0.0)
    if L == 2:
        return u0 * math.exp(-t)
    k = L - 2
    return (u0 ** (-k) + k * t) ** (-1.0 / k)


def _fro(b: Backend, m: Any) -> float:
    """Frobenius norm as a float upper bound (midpoint + radius in ball)."""
    f = b.fro2(m)
    return math.sqrt(max(b.to_float(f) + b.radius(f), 0.0))


def _mid_rad(b: Backend, m: Any) -> tuple[float, float]:
    """Frobenius norm of a residual split into the midpoint's norm and the
    part the ball radius could add: ``(sqrt(mid ||m||^2), sqrt(rad ||m||^2))``."""
    f = b.fro2(m)
    return math.sqrt(max(b.to_float(f), 0.0)), math.sqrt(b.radius(f))


def _hi(b: Backend, x: Any) -> float:
    return b.to_float(x) + b.radius(x)


def _lo(b: Backend, x: Any) -> float:
    return b.to_float(x) - b.radius(x)


def _spec(b: Backend, m: Any) -> float:
    return b.norm2(m)


def _pow(b: Backend, m: Any, k: int) -> Any:
    r, _ = b.shape(m)
    out = b.eye(r)
    for _ in range(k):
        out = b.mm(out, m)
    return out


def _step_budgets(b: Backend, ws: list[Any], target: Target, dw: float) -> dict[str, Any]:
    """First-principles bounds on how far each proof quantity can move when
    every layer is off by at most ``dw`` (Frobenius) - the integrator's error
    estimate.  Frobenius norms bound spectral ones and are submultiplicative,
    so :func:`product_perturbation` applies."""
    L = len(ws)
    n = [_fro(b, w) for w in ws]
    d = b.shape(ws[-1])[1]
    q = model.prefixes(b, ws)[L - 1]  # W_{L-1:1}
    nq = _fro(b, q)
    r = _hi(b, model.loss(b, ws, target))
    ne = math.sqrt(2 * max(r, 0.0))
    de = product_perturbation(n, dw)
    dq = product_perturbation(n[:-1], dw)
    dgl = de * (nq + dq) + ne * dq
    ngl = ne * nq
    ds = (2 * n[-1] + dw) * dw
    ns = math.sqrt(d) + n[-1] ** 2
    return {
        "gl2": (2 * ngl + dgl) * dgl,
        "R": (ne + de / 2) * de,
        "identity": (2 * nq + dq) * dq + product_perturbation([ns] * (L - 1), ds),
        "D": [(2 * n[l + 1] + dw) * dw + (2 * n[l] + dw) * dw for l in range(L - 1)],
    }


def flow_restarted(
    b: Backend,
    ws0: Sequence[Any],
    target: Target,
    anchors: Sequence[float],
    offsets: Sequence[float] = (),
) -> tuple[dict[float, list[Any]], dict[float, float], int]:
    """Gradient flow sampled at every anchor time ``a`` (and at ``a + o`` for
    each offset ``o`` with ``a + o > 0``), with the integration error
    estimate accumulated up to each sample (:attr:`dynamics.FlowRun.errors`:
    truncation estimates plus every ball radius dropped when the integrator
    re-centres; the flow is integrated, not enclosed, so its verdicts are
    ``holds`` at best).  Returns ``(weights by time, error by time, Taylor steps)``."""
    pts = sorted(
        {0.0}
        | {float(a) for a in anchors if a > 0}
        | {float(a) + o for a in anchors if a > 0 for o in offsets if a + o > 0}
    )
    run = dynamics.flow(b, ws0, target, pts)
    out = dict(zip(pts, run.ws, strict=True))
    errs = dict(zip(pts, run.errors, strict=True))
    return out, errs, run.steps


def _ball_overlaps_zero(b: Backend, x: Any) -> bool:
    """The enclosure of ``x`` contains 0 (cannot be told apart from 0)."""
    return b.lt(b.scalar(0), x) is not True and b.lt(x, b.scalar(0)) is not True


def _sign_kept(b: Backend, x: Any, s0: int) -> bool:
    """``x`` is certified to have sign ``s0`` (for ``s0 = 0``: its ball contains 0)."""
    zero = b.scalar(0)
    if s0 > 0:
        return b.lt(zero, x) is True
    if s0 < 0:
        return b.lt(x, zero) is True
    return _ball_overlaps_zero(b, x)


def _on_mirror_of_m(p: Sequence[float]) -> bool:
    """``|w_1| = ... = |w_L|`` with an even number of negative entries: the
    image of a point of M under flipping the signs of an even number of layers
    (which preserves the product, hence the flow)."""
    return len({abs(x) for x in p}) == 1 and sum(x < 0 for x in p) % 2 == 0


def product_perturbation(norms: Sequence[float], dw: float) -> float:
    """Bound on ``||A_k...A_1 - B_k...B_1||`` when ``||A_i|| <= norms[i]`` and
    ``||A_i - B_i|| <= dw`` in a submultiplicative norm:
    ``prod(n_i + dw) - prod(n_i)`` (0 for an empty product).

    >>> product_perturbation([1.0, 2.0], 0.5)
    1.75
    """
    if dw == 0 or not norms:
        return 0.0
    # Delta_k = Delta_{k-1} (n_k + dw) + P_{k-1} dw: no cancellation for tiny dw
    delta, p = 0.0, 1.0
    for n in norms:
        delta = delta * (n + dw) + p * dw
        p *= n
    return delta
