"""Measurements behind Lemmas 4.4-4.6 and the near-ZAS remark (ZAS paper, Sec. 4.2): the constants hidden in the O(.) bounds along GD at the Theorem 4.3 step, their growth in L, linear convergence."""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any
import numpy as np
from zascheck import dynamics, inits, model
from zascheck.arith import Backend
from zascheck.measure.common import loss_error_bound
from zascheck.model import Target
from zascheck.result import Verdict
from zascheck.measure.flow_steps import fro_upper as _fro, spectral_norm as _spec


def loglog_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope of ``log y`` against ``log x`` (``None`` with fewer
    than two usable points; points with ``y <= 0`` are dropped).

    >>> round(loglog_slope([2, 4, 8], [4, 16, 64]), 12)
    2.0
    """
    pts = [
        (math.log(x), math.log(y))
        for x, y in zip(xs, ys, strict=False)
        if x is not None and y is not None and x > 0 and y > 0 and math.isfinite(y)
    ]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx


def flow_limit_wl_norm(sigma: float, L: int) -> float:
    """``||W_L(oo)||_2`` at the limit of gradient flow from ZAS, for a target of
    spectral norm ``sigma``: the root ``s >= 0`` of ``s^2 (1 + s^2)^(L-1) = sigma^2``.

    Derivation: the flow conserves ``D_l`` (Lemma 4.2), so from ZAS
    ``W_{L-1:1} W_{L-1:1}^T = (I + W_L^T W_L)^{L-1}`` for all t (proof of
    Thm 4.1); at the limit ``W_L W_{L-1:1} = Phi`` (Thm 4.1), hence
    ``Phi Phi^T = W_L (I + W_L^T W_L)^{L-1} W_L^T`` and every singular value
    ``s`` of ``W_L`` solves the equation above with the matching singular
    value of ``Phi``; the map is increasing, so the largest goes with
    ``sigma = ||Phi||_2``.  Bisection to double precision.

    >>> round(flow_limit_wl_norm(0.5, 1), 15)
    0.5
    """
    if sigma < 0 or L < 1:
        raise ValueError("need sigma >= 0 and L >= 1")
    if sigma == 0:
        return 0.0

    def f(s: float) -> float:
        return 2 * math.log(s) + (L - 1) * math.log1p(s * s) - 2 * math.log(sigma)

    lo, hi = 0.0, max(1.0, sigma)
    while f(hi) < 0:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if mid > 0 and f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def linear_convergence(
    losses: Sequence[float], eps: float, max_steps: int, window: int
) -> dict[str, Any]:
    """Decide "converges linearly within budget" from a loss sequence
    ``R(0), R(1), ...`` (definition used by ``zas.near-zas``):

    1. some ``T <= max_steps`` has ``R(T) <= eps R(0)``, and
    2. no stretch of ``window`` steps before ``T`` is slower than the budget's
       average rate: ``R(t + window) <= eps^(window / max_steps) R(t)`` for
       every ``t <= T - window`` (a plateau at a saddle breaks this).

    Returns ``converged``, ``T``, ``worst_window_rate`` (the largest
    ``(R(t+w)/R(t))^(1/w)``), ``rate_bound`` ``eps^(1/max_steps)`` and ``reason``.

    >>> linear_convergence([1.0 * 0.5**k for k in range(40)], 1e-10, 100, 5)["converged"]
    True
    """
    rate_bound = eps ** (1.0 / max_steps)
    r0 = losses[0]
    T = next((i for i, r in enumerate(losses) if i <= max_steps and r <= eps * r0), None)
    end = T if T is not None else min(len(losses) - 1, max_steps)
    worst = 0.0
    window = max(1, min(window, end))  # a run shorter than the window is one window
    for t in range(0, max(end - window, 0) + 1):
        if t + window > end:
            break
        a, c = losses[t], losses[t + window]
        if not (math.isfinite(a) and math.isfinite(c)) or a <= 0:
            worst = math.inf
            break
        worst = max(worst, (c / a) ** (1.0 / window) if c > 0 else 0.0)
    finite = all(math.isfinite(r) for r in losses)
    if not finite or (losses and losses[-1] > r0 * 1e6):
        reason = "diverged"
    elif T is None:
        reason = f"R did not reach {eps:g} R(0) within {max_steps} steps"
    elif worst > rate_bound:
        reason = "plateau: a window progressed slower than the budget's average rate"
    else:
        reason = "ok"
    return {
        "converged": reason == "ok",
        "T": T,
        "worst_window_rate": worst,
        "rate_bound": rate_bound,
        "reason": reason,
    }


def _slope_verdict(slope: float | None) -> Verdict:
    """An O()-constant that does not grow with L over the depths tried holds;
    one that grows is inconclusive (O() is asymptotic)."""
    return Verdict.HOLDS if slope is not None and slope <= 0 else Verdict.INCONCLUSIVE


#: the O()-constants of (4.6), (4.7), (4.9): name -> what is measured
LEMMA_CONSTANTS = {
    "D_l*L^3": "max_t max_{l <= L-2} ||D_l||_2 * L^3  (4.6)",
    "I+D_{L-1}*L^2": "max_t ||I + D_{L-1}||_2 * L^2  (4.6)",
    "(W_l-1)*L/logL": "max_t max_{l < L} (||W_l||_2 - 1) * L / log L  (4.7)",
    "W_L*sqrt(L)": "max_t ||W_L||_2 * sqrt(L)  (4.7 as printed: ||W_L|| = O(L^-1/2))",
    "drift_l/(eta^2 R)": "max_t max_{l <= L-2} ||D_l(t+1) - D_l(t)||_2 / (eta^2 R(t))  (4.9)",
    "drift_{L-1}/(eta^2 L R)": "max_t ||D_{L-1}(t+1) - D_{L-1}(t)||_2 / (eta^2 L R(t))  (4.9)",
}


def _gd_constants(
    b: Backend, L: int, phi_m: np.ndarray, eta: float, max_steps: int, samples: int
) -> dict[str, Any]:
    """GD from ZAS at step ``eta``; every step: ``||G_L||_F^2 / R`` and
    ``R(t+1) / ((1 - eta/2) R(t))``; at ``samples`` evenly spaced steps: the
    norms behind the O()-constants and the per-step drift (via the exact GD
    drift identity ``D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T)``,
    ``zas.drift``, which avoids differencing nearly equal matrices)."""
    d = phi_m.shape[0]
    target = Target.whitened(b, phi_m)
    q = 1 - eta / 2
    stride = max(1, max_steps // samples)
    eye = b.eye(d)
    st: dict[str, Any] = {
        "prev": None,
        "q_max": -math.inf,
        "q_t": None,
        "g_min": math.inf,
        "g_t": None,
        "rel_err": 0.0,
        "first_q_bad": None,
    }
    ser: dict[str, list[Any]] = {
        k: []
        for k in (
            "t",
            "R",
            "gl2_over_R",
            "D_l",
            "I+D_{L-1}",
            "W_l-1",
            "W_L",
            "drift_l",
            "drift_{L-1}",
        )
    }
    n_round = 3 * L * d + 4

    def observe(t: int, ws: Any, r: Any, g: Any) -> bool:
        rf = b.to_float(r)
        if rf <= 0:
            return True
        g2 = b.to_float(b.fro2(g[-1]))
        if g2 / rf < st["g_min"]:
            st["g_min"], st["g_t"] = g2 / rf, t
        if st["prev"] is not None:
            fac = rf / (q * st["prev"])
            if fac > st["q_max"]:
                st["q_max"], st["q_t"] = fac, t - 1
        st["prev"] = rf
        if t % stride == 0 or t == max_steps:
            wmax = max(_fro(b, w) for w in ws)
            st["rel_err"] = max(
                st["rel_err"],
                2 * b.gamma(n_round) + loss_error_bound(b, ws, target, b.unit_roundoff * wmax) / rf,
            )
            dls = model.invariants(b, ws)
            # rounding floors: D_l evaluated once after t rounded updates; the drift
            # G_{l+1}^T G_{l+1} - G_l G_l^T from two gradients each off by gamma_n
            # relatively (2 (2 gamma_n + gamma_n^2)) plus the two Gram products
            st["floor_D"] = max(st.get("floor_D", 0.0), (t + 1) * b.gamma(2 * d + 2) * wmax**2)
            gn = b.gamma(n_round)
            st["floor_drift"] = max(
                st.get("floor_drift", 0.0),
                (2 * (2 * gn + gn * gn) + 2 * b.gamma(d + 1))
                * max(b.to_float(b.fro2(x)) for x in g)
                / rf,
            )
            ser["t"].append(t)
            ser["R"].append(rf)
            ser["gl2_over_R"].append(g2 / rf)
            ser["D_l"].append(max((_spec(b, x) for x in dls[:-1]), default=None))
            ser["I+D_{L-1}"].append(_spec(b, b.add(eye, dls[-1])))
            ser["W_l-1"].append(max(_spec(b, w) for w in ws[:-1]) - 1)
            ser["W_L"].append(_spec(b, ws[-1]))
            drifts = [
                _spec(b, b.sub(b.mm(b.T(g[i + 1]), g[i + 1]), b.mm(g[i], b.T(g[i])))) / rf
                for i in range(L - 1)
            ]
            ser["drift_l"].append(max(drifts[:-1], default=None))
            ser["drift_{L-1}"].append(drifts[-1] / L)
        return False

    run = dynamics.gd(b, inits.zas(L, d), target, eta, max_steps=max_steps, observers=[observe])
    r0 = b.to_float(run.losses[0])

    def mx(key: str) -> float | None:
        vals = [v for v in ser[key] if v is not None]
        return max(vals) if vals else None

    def mx_sampled(key: str) -> float:
        m = mx(key)
        assert m is not None, f"{key} is recorded (never None) at the sample t = 0"
        return m

    logl = math.log(L)
    mx_dl = mx("D_l")
    consts = {
        "D_l*L^3": None if mx_dl is None else mx_dl * L**3,
        "I+D_{L-1}*L^2": mx_sampled("I+D_{L-1}") * L**2,
        "(W_l-1)*L/logL": mx_sampled("W_l-1") * L / logl,
        "W_L*sqrt(L)": mx_sampled("W_L") * math.sqrt(L),
        "drift_l/(eta^2 R)": mx("drift_l"),
        "drift_{L-1}/(eta^2 L R)": mx("drift_{L-1}"),
    }
    per_eta = {"I+D_{L-1}/(eta L R0)": mx_sampled("I+D_{L-1}") / (eta * L * r0)}
    return {
        "L": L,
        "eta": eta,
        "steps": run.steps,
        "stop": run.stop,
        "flow_time_covered": eta * run.steps,
        "final_rel_loss": b.to_float(run.losses[-1]) / r0,
        "R0": r0,
        "q_max": st["q_max"],
        "q_max_step": st["q_t"],
        "gl2_over_R_min": st["g_min"],
        "gl2_min_step": st["g_t"],
        "rel_err": st["rel_err"],
        "constants": consts,
        "rounding_floor": {"D_l": st.get("floor_D", 0.0), "drift_l": st.get("floor_drift", 0.0)},
        "D_l_max": mx("D_l"),
        "drift_l_max": mx("drift_l"),
        "per_eta": per_eta,
        "series": ser,
    }


def exact_lower_layers(
    L: int, phi_q: Sequence[Sequence[Fraction]], eta: Fraction, steps: int
) -> bool:
    """Exact rational GD from ZAS: ``True`` iff after every one of ``steps``
    steps ``W_1 = ... = W_{L-1}`` is symmetric and ``D_l = 0`` for ``l <= L-2``
    (all lower layers stay one function of ``Phi^T Phi``, so their gradients
    coincide and the drift of ``D_l``, ``l <= L-2``, is exactly 0)."""
    from zascheck.arith import ExactBackend

    e = ExactBackend()
    target = Target(Y=e.matrix([list(r) for r in phi_q]))
    d = len(phi_q)
    ws = [e.matrix(w) for w in inits.zas(L, d)]
    zero = e.zeros(d, d)
    for _ in range(steps):
        ws, _r, _g = dynamics.gd_step(e, ws, target, e.scalar(eta))
        if any(w != ws[0] for w in ws[1:-1]) or ws[0] != e.T(ws[0]):
            return False
        if any(x != zero for x in model.invariants(e, ws)[:-1]):
            return False
    return True


def _gd_losses(
    b: Backend, ws0: list[np.ndarray], target: Target, eta: float, max_steps: int, eps: float
) -> tuple[list[float], str]:
    run = dynamics.gd(b, ws0, target, eta, max_steps=max_steps, rel_tol=eps)
    return [b.to_float(r) for r in run.losses], run.stop
