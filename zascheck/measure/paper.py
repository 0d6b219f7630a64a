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
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, inits, model
from zascheck.arith import Backend, Float64Backend
from zascheck.measure.common import loss_error_bound
from zascheck.model import Target
from zascheck.result import Verdict, decide

_F = Float64Backend()


__all__ = [
    "comparison_decay",
    "flow_limit_wl_norm",
    "linear_convergence",
    "loglog_slope",
    "product_perturbation",
]


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


def _slope_verdict(slope: float | None) -> Verdict:
    """An O()-constant that does not grow with L over the depths tried holds;
    one that grows is inconclusive (O() is asymptotic)."""
    return Verdict.HOLDS if slope is not None and slope <= 0 else Verdict.INCONCLUSIVE


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


READINGS = {
    "printed": "lambda = lambda_min(X^T X) (n x n) > 0, i.e. n <= d_x and X of full column rank "
    "(every Y is then realizable); claim R~(t) <= exp(-2 lambda t) R~(0)",
    "printed-wide": "lambda = lambda_min(X^T X) with n > d_x: X^T X is singular, lambda = 0, the "
    "hypothesis fails and the claim is vacuous (R~(t) <= R~(0))",
    "xxt-realizable": "lambda = lambda_min(X X^T) (d_x x d_x) > 0, n > d_x, realizable Y = A X; "
    "claim R~(t) <= exp(-2 lambda t) R~(0)",
    "xxt-loss": "lambda = lambda_min(X X^T) > 0, n > d_x, generic (non-realizable) Y; claim "
    "R~(t) <= exp(-2 lambda t) R~(0), i.e. decay to 0",
    "xxt-excess": "lambda = lambda_min(X X^T) > 0, n > d_x, generic Y; excess-loss claim "
    "R~(t) - R~* <= exp(-2 lambda t) (R~(0) - R~*), R~* = min over all A of "
    "1/2 ||A X - Y||_F^2",
}


def _dyadic_matrix(rng: np.random.Generator, r: int, c: int, den: int = 4) -> np.ndarray:
    """Entries ``k / den`` with ``|k| <= den``: exact in every backend, so
    ``A X`` is exact in float64 and realizability is exact."""
    return rng.integers(-den, den + 1, (r, c)).astype(float) / den


def _well_conditioned(rng: np.random.Generator, r: int, c: int) -> np.ndarray:
    """A dyadic ``r x c`` matrix whose Gram matrix (the smaller one) has
    condition number <= 10, drawn by rejection (deterministic for a seed)."""
    for _ in range(1000):
        x = _dyadic_matrix(rng, r, c)
        g = x @ x.T if r <= c else x.T @ x
        ev = np.linalg.eigvalsh(g)
        if ev[0] > 0 and ev[-1] / ev[0] <= 10:
            return x
    raise RuntimeError("could not draw a well-conditioned data matrix")


def _fmpq_mat(a: np.ndarray) -> Any:
    """Exact rational copy of a float matrix (doubles are dyadic rationals)."""
    from flint import fmpq, fmpq_mat

    fr = [Fraction(float(v)) for v in a.ravel()]
    rows, cols = a.shape
    return fmpq_mat(rows, cols, [fmpq(f.numerator, f.denominator) for f in fr])


def _lambda_min_ball(b: Backend, gram: np.ndarray) -> Any:
    """Smallest eigenvalue of a symmetric dyadic matrix as an enclosure (arb's
    rigorous eigenvalue solver in ball arithmetic); exact 0 if the exact
    determinant vanishes."""
    if _fmpq_mat(gram).det() == 0:
        return b.scalar(0)
    m = b.matrix(gram)
    try:
        ev = [v.real for v in m.eig()]
    except (ValueError, ZeroDivisionError):  # pragma: no cover - solver refused
        ev = [b.scalar(v) for v in b.eigvalsh(m)]
    return min(ev, key=lambda z: float(z.mid()))


def _min_loss_exact(x: np.ndarray, y: np.ndarray) -> Fraction:
    """``R~* = 1/2 ||Y (I - X^T (X X^T)^{-1} X)||_F^2`` in exact rationals
    (``X X^T`` invertible)."""
    from flint import fmpq_mat

    xq, yq = _fmpq_mat(x), _fmpq_mat(y)
    proj = xq.transpose() * (xq * xq.transpose()).inv() * xq
    n = x.shape[1]
    eye = fmpq_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
    res = yq * (eye - proj)
    s = sum((Fraction(int(v.p), int(v.q)) ** 2 for v in res.entries()), Fraction(0))
    return s / 2


def _data_decay(
    b: Backend,
    x: np.ndarray,
    y: np.ndarray,
    L: int,
    lam: Any,
    times: list[float],
    r_star: Fraction | None,
) -> dict[str, Any]:
    """Flow from (rectangular) ZAS on the data loss and compare
    ``R~(t) - r_star`` with ``exp(-2 lam t) (R~(0) - r_star)`` (``r_star`` 0 or
    ``None`` for the plain loss).  Returns the per-time series and verdict."""
    dx, dy = x.shape[0], y.shape[0]
    target = Target.data(b, x, y)
    ws0 = inits.rectangular_zas([dx] * L + [dy])
    at, errs, _steps = flow_restarted(b, ws0, target, times)
    rs = b.scalar(r_star if r_star is not None else 0)
    r0 = model.loss(b, at[0.0], target) - rs
    out: dict[str, Any] = {
        "t": [],
        "lhs": [],
        "envelope": [],
        "ratio": [],
        "err": [],
        "verdict": [],
        "loss": [],
    }
    for t in sorted(k for k in at if k > 0):
        ws = at[t]
        r = model.loss(b, ws, target)
        lhs = r - rs
        env = b.exp(-2 * lam * b.scalar(t)) * r0
        err = loss_error_bound(b, ws, target, errs[t])
        v = decide(b, lhs, env, relation="<=", err=err)
        out["t"].append(t)
        out["loss"].append(b.to_float(r))
        out["lhs"].append(b.to_float(lhs))
        out["envelope"].append(b.to_float(env))
        out["ratio"].append(b.to_float(lhs) / b.to_float(env) if b.to_float(env) > 0 else math.inf)
        out["err"].append(err)
        out["verdict"].append(v.value)
    out["error_estimate"] = [errs[t] for t in out["t"]]
    return out


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
