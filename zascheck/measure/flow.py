"""Gradient-flow measurements of the ZAS paper's Sec. 3-4 that are not the
decay comparison itself (that is :func:`zascheck.measure.common.flow_decay`):

* how far below 1 the ratio ``R(t) / (exp(-2t) R(0))`` of Theorem 4.1 is for
  a small target, and which working precision resolves it
  (:func:`thm41_deficit_log2`, :func:`bits_to_decide`);
* the saddle manifold of Sec. 3 (``d = 1``, ``Phi = -1``): the comparison
  solution that bounds the flow on ``M = {w_1 = ... = w_L >= 0}``
  (:func:`comparison_decay`) and the sign / symmetry tests
  (:func:`ball_contains_zero`, :func:`sign_kept`, :func:`on_mirror_of_m`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from zascheck import dynamics
from zascheck.arith import Backend

__all__ = [
    "THM41_TIMES",
    "ball_contains_zero",
    "bits_to_decide",
    "check_flow_request",
    "check_flow_stiffness",
    "comparison_decay",
    "on_mirror_of_m",
    "sign_kept",
    "thm41_deficit_log2",
]

#: the default time grid of the Theorem 4.1 checks
THM41_TIMES = (0.25, 0.5, 1.0, 2.0, 3.0)


def check_flow_request(
    claim: str,
    depths: Sequence[int],
    d: int,
    times: Sequence[float],
    bits: int,
    rate: float = 1.0,
    *,
    decay: bool = True,
) -> None:
    """Refuse, before integrating, a decay check ``R(t) <= exp(-2 rate t) R(0)``
    along gradient flow that cannot be decided or cannot finish.

    Raises :class:`~zascheck.errors.InputError` naming the input and the limit:

    * ``times`` with no ``t > 0`` (at ``t = 0`` the claim reads ``R(0) <= R(0)``);
    * (``decay``: a decay claim) a time beyond the precision wall: at ``p`` bits the flow's loss is
      resolved to about ``2^(-2p) ||Phi||_F^2`` (the weights to ``2^-p`` of
      their size), while the envelope at ``t`` is ``exp(-2 rate t)`` of
      ``R(0) ~ ||Phi||_F^2 / 2``; so no precision up to
      :data:`~zascheck.spec.MAX_PRECISION` decides ``t > MAX_PRECISION ln 2 / rate``;
    * a depth or width whose Taylor step alone is over the mp work limit:
      one step of order ``k ~ (p - 8) ln 2 / 2`` (:func:`zascheck.dynamics.taylor_order`)
      costs about ``k^2 / 2`` Cauchy products of ``3 L`` matrix products of
      ``d^3`` multiplications at ``p`` bits, against
      :data:`~zascheck.measure.conservation.MP_WORK_LIMIT_LOG2` (about 10 minutes).
    """
    from zascheck.errors import InputError
    from zascheck.measure.conservation import MP_WORK_LIMIT_LOG2
    from zascheck.spec import MAX_PRECISION

    ts = [float(t) for t in times]
    if not any(t > 0 for t in ts):
        raise InputError(
            f"{claim}: times {ts}: no t > 0; at t = 0 the claim compares the initial point "
            "with itself, which cannot fail: give some t > 0"
        )
    t_wall = MAX_PRECISION * math.log(2.0) / rate
    if decay and max(ts) > t_wall:
        raise InputError(
            f"{claim}: times: t = {max(ts):g} cannot be decided at any precision zascheck "
            f"supports: the envelope exp(-2t) R(0) is 2^-({2 * rate / math.log(2):.4g} t) of "
            f"R(0), the flow's loss is resolved to about 2^(-2p) of ||Phi||_F^2 at p bits, "
            f"and p <= {MAX_PRECISION} decides t <= {t_wall:.0f}"
        )
    k = dynamics.taylor_order(dynamics.flow_log_tol(bits))
    for L in depths:
        work = math.log2(k * k / 2 * 3 * max(L, 1) * d**3)
        if work > MP_WORK_LIMIT_LOG2:
            raise InputError(
                f"{claim}: too large: L = {L}, d = {d}: one Taylor step of the flow (order {k} "
                f"at {bits} bits) costs about k^2/2 * 3 L d^3 = 2^{work:.1f} multiplications, "
                f"over the limit 2^{MP_WORK_LIMIT_LOG2} of a run (about 10 minutes here)"
            )


def check_flow_stiffness(
    claim: str,
    phi: Any,
    depths: Sequence[int],
    horizon: float,
    bits: int,
    cap: int | None = None,
) -> None:
    """Refuse, before integrating, a flow to ``t = horizon`` on target ``phi``
    that the Taylor integrator (:func:`zascheck.dynamics.flow`) cannot follow.

    Cost model: near a global minimum the flow contracts at rate at least
    ``lambda = L rho^{2(L-1)/L}`` (``rho = sigma_max(Phi)``; the smallest top
    Hessian eigenvalue over the minima, ``ssm.thm1``).  A Taylor step of order
    ``k`` for a mode ``exp(-lambda t)`` has terms ``(lambda h)^k / k!``, so the
    Jorba-Zou step (tolerance ``2^-(p-8)``, ``k ~ (p-8) ln 2 / 2``:
    :func:`zascheck.dynamics.taylor_order`) has
    ``lambda h <= 0.9 k / e`` at most; a large target converges within about
    ``1 / lambda``, so reaching ``horizon`` takes at least
    ``horizon lambda e / (0.9 k)`` steps.  Refused when that is over the
    integrator's step cap (``cap``: a check's own step budget), or when those steps (``k^2/2 * 3 L d^3``
    multiplications each) exceed
    :data:`~zascheck.measure.conservation.MP_WORK_LIMIT_LOG2`.  Raises
    :class:`~zascheck.errors.InputError` naming the target's scale and the limit.
    """
    import inspect

    from zascheck.errors import InputError
    from zascheck.measure.conservation import MP_WORK_LIMIT_LOG2

    m = np.asarray(phi, dtype=float)
    big = float(np.max(np.abs(m))) if m.size else 0.0
    if big == 0.0 or horizon <= 0:
        return
    rho_log2 = math.log2(big) + math.log2(float(np.linalg.norm(m / big, 2)))  # no overflow
    if cap is None:
        cap = int(inspect.signature(dynamics.flow).parameters["max_steps"].default)
    k = dynamics.taylor_order(dynamics.flow_log_tol(bits))
    d = m.shape[0]
    for L in depths:
        rate_log2 = math.log2(L) + rho_log2 * 2 * (L - 1) / L
        steps_log2 = math.log2(horizon) + rate_log2 + math.log2(math.e / (0.9 * k))
        work_log2 = max(steps_log2, 0.0) + math.log2(k * k / 2 * 3 * L * d**3)
        if steps_log2 <= math.log2(cap) and work_log2 > MP_WORK_LIMIT_LOG2 and steps_log2 < 1:
            raise InputError(
                f"{claim}: too large: L = {L}, d = {d}: one Taylor step of the flow (order {k} "
                f"at {bits} bits) costs about k^2/2 * 3 L d^3 = 2^{work_log2:.1f} multiplications, "
                f"over the limit 2^{MP_WORK_LIMIT_LOG2} of a run (about 10 minutes here)"
            )
        if steps_log2 > math.log2(cap) or work_log2 > MP_WORK_LIMIT_LOG2:
            raise InputError(
                f"{claim}: the target (rho = sigma_max = 2^{rho_log2:.4g}) makes the flow too "
                f"stiff to integrate to t = {horizon:g} at L = {L}: near a minimum it contracts "
                f"at rate L rho^(2(L-1)/L) = 2^{rate_log2:.4g}, a Taylor step of order {k} covers "
                f"at most 0.9 k/e over that rate, so it needs >= 2^{steps_log2:.4g} steps "
                f"(cap {cap}; work 2^{work_log2:.4g} multiplications, limit "
                f"2^{MP_WORK_LIMIT_LOG2}); rescale the target or shorten the times"
            )


def thm41_deficit_log2(phi: Any, L: int, t: float) -> float:
    """``log2`` of the leading order, for a small target, of the deficit
    ``1 - R(t) / (exp(-2t) R(0))`` along gradient flow from ZAS (Theorem
    4.1, ZAS paper Sec. 4.1); ``-inf`` for ``L = 1`` (equality) or ``Phi = 0``.

    From ZAS the flow splits along the SVD ``Phi = U diag(sigma) V^T`` into
    scalar modes ``a' = -e b a^(L-2)``, ``b' = -e a^(L-1)``, ``e = b a^(L-1) -
    sigma`` from ``a = 1, b = 0`` (zas.spectral), with ``e'/e = -a^(2L-4) (L a^2
    - L + 1)``.  To first order in ``sigma^2``: ``a - 1 = sigma^2 (1 -
    e^-t)^2 / 2``, so ``(e(t)/e(0))^2 e^(2t) = 1 - 4 (L-1) sigma^2 J(t)`` with
    ``J(t) = int_0^t (1 - e^-s)^2 ds``; weighting the modes by their loss gives
    ``4 (L-1) J(t) sum sigma^4 / sum sigma^2``.  Valid while it is small; a
    guide to the precision needed, not a bound.  Returned as a logarithm: a
    deficit of ``1.7e-342`` is below the smallest double.

    >>> round(thm41_deficit_log2([[1e-170, 0], [0, -1e-170]], 2, 0.25) * math.log10(2), 2)
    -341.76
    """
    if L <= 1 or t <= 0:
        return -math.inf
    s = np.linalg.svd(np.asarray(phi, dtype=float), compute_uv=False)
    big = float(np.max(s)) if s.size else 0.0
    if big == 0.0:
        return -math.inf
    w = s / big  # sum sigma^4 / sum sigma^2 = big^2 sum w^4 / sum w^2, without underflow
    # J(t) = t^3/3 - t^4/4 + 7 t^5/60 - ...: the closed form cancels for small t (0 below 1e-5)
    log2_j = (
        3 * math.log2(t) - math.log2(3.0) + math.log2(1 - 0.75 * t + 0.35 * t * t)
        if t < 1e-3
        else math.log2(t + 2 * math.expm1(-t) - math.expm1(-2 * t) / 2)
    )
    return (
        math.log2(4 * (L - 1))
        + log2_j
        + 2 * math.log2(big)
        + math.log2(float(np.sum(w**4) / np.sum(w**2)))
    )


def bits_to_decide(
    prec: int, resolved_bits: Sequence[float], deficit_log2: Sequence[float], margin: int = 16
) -> int | None:
    """The working precision (bits, a multiple of 64) at which a ratio whose
    budget resolves ``resolved_bits[i]`` bits at ``prec`` would resolve a
    deficit of ``2^deficit_log2[i]`` at every time: the budget scales like
    ``2^-prec`` (integrator tolerance and rounding), so time ``i`` needs
    ``prec - resolved_bits[i] - deficit_log2[i] + margin`` bits.  ``None``
    when a deficit is unknown (0 or not small: precision is not the issue).

    >>> bits_to_decide(128, [126.0], [-1135.0])
    1216
    """
    need = 0.0
    for rb, dl in zip(resolved_bits, deficit_log2, strict=True):
        if not math.isfinite(dl) or dl > -8:
            return None
        if math.isfinite(rb):
            need = max(need, prec - rb - dl + margin)
    return max(prec, 64 * math.ceil(need / 64))


# --- the saddle manifold of Sec. 3 ---


def comparison_decay(u0: float, L: int, t: float) -> float:
    """Solution at time ``t`` of ``u' = -u^(L-1)``, ``u(0) = u0 >= 0``: the
    comparison function for the flow on the saddle manifold of Sec. 3
    (``w' = -(w^L + 1) w^(L-1) <= -w^(L-1)`` for ``w >= 0``), so ``w(t) <=
    u(t) -> 0``: ``u0 e^-t`` for ``L = 2``, ``(u0^(2-L) + (L-2) t)^(-1/(L-2))``
    for ``L >= 3``, ``max(u0 - t, 0)`` for ``L = 1``; 0 for ``u0 <= 0``.

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


def ball_contains_zero(b: Backend, x: Any) -> bool:
    """The enclosure of ``x`` contains 0 (cannot be told apart from 0)."""
    return b.lt(b.scalar(0), x) is not True and b.lt(x, b.scalar(0)) is not True


def sign_kept(b: Backend, x: Any, s0: int) -> bool:
    """``x`` is certified to have sign ``s0`` (for ``s0 = 0``: its ball contains 0)."""
    zero = b.scalar(0)
    if s0 > 0:
        return b.lt(zero, x) is True
    if s0 < 0:
        return b.lt(x, zero) is True
    return ball_contains_zero(b, x)


def on_mirror_of_m(p: Sequence[float]) -> bool:
    """``|w_1| = ... = |w_L|`` with an even number of negative entries: the
    image of a point of M under flipping the signs of an even number of layers
    (which preserves the product, hence the flow).

    >>> on_mirror_of_m([-1.0, -1.0, 1.0]), on_mirror_of_m([-0.5, 0.5, 0.5])
    (True, False)
    """
    return len({abs(x) for x in p}) == 1 and sum(x < 0 for x in p) % 2 == 0
