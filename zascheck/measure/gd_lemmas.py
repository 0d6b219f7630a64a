"""Measurements behind Lemmas 4.4-4.6 (ZAS paper, Sec. 4.2.1, eqs. (4.6)-(4.10))
and the near-ZAS remark after Theorem 4.3.

* :func:`lemma_run`: one GD run at a given step that decides (4.8)
  ``||G_L||_F^2 >= R(t)`` and (4.10) ``R(t+1) <= (1 - eta/2) R(t)`` at every
  step and samples the norms behind the O()-constants of (4.6), (4.7), (4.9)
  (the one place these are measured: ``zas.lemma4.4-4.6``'s numeric method
  and its search evaluator both call it);
* :func:`order_fit`: an O(L^k) claim judged by a fitted exponent with a
  confidence interval (least squares in log-log, Student t quantile);
* :func:`flow_limit_wl_norm`, :func:`exact_lower_layers`: exact facts about
  GD / flow from ZAS used as evidence;
* :func:`linear_convergence`, :func:`gd_losses`: the near-ZAS reading.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, inits, model
from zascheck.arith import Backend
from zascheck.bounds import thm43_factor
from zascheck.measure.common import loss_error_bound
from zascheck.model import Target
from zascheck.result import Verdict, combine_verdicts, decide

__all__ = [
    "LEMMA_CONSTANTS",
    "ExponentFit",
    "exact_lower_layers",
    "flow_limit_wl_norm",
    "gd_losses",
    "lemma_constants",
    "lemma_run",
    "linear_convergence",
    "loglog_slope",
    "order_fit",
]


# ---------------------------------------------------------------------------
# fitted exponents
# ---------------------------------------------------------------------------


def _loglog_points(xs: Sequence[float], ys: Sequence[float | None]) -> list[tuple[float, float]]:
    return [
        (math.log(x), math.log(y))
        for x, y in zip(xs, ys, strict=False)
        if x is not None and y is not None and x > 0 and y > 0 and math.isfinite(y)
    ]


def loglog_slope(xs: Sequence[float], ys: Sequence[float | None]) -> float | None:
    """Least-squares slope of ``log y`` against ``log x`` (``None`` with fewer
    than two usable points; points with ``y <= 0`` are dropped).

    >>> round(loglog_slope([2, 4, 8], [4, 16, 64]), 12)
    2.0
    """
    pts = _loglog_points(xs, ys)
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx


@dataclass(frozen=True)
class ExponentFit:
    """A fitted exponent ``k`` in ``y ~ c L^k`` with its confidence interval,
    judged against a claimed exponent (``y = O(L^claimed)``)."""

    slope: float | None
    stderr: float | None
    lo: float | None
    hi: float | None
    n: int
    confidence: float
    claimed: float
    verdict: Verdict
    why: str

    def text(self) -> str:
        if self.slope is None or self.lo is None or self.hi is None:
            return f"no exponent ({self.why})"
        return (
            f"exponent {self.slope:.3g} ({self.confidence:.0%} CI [{self.lo:.3g}, {self.hi:.3g}], "
            f"n = {self.n}) vs claimed <= {self.claimed:g}"
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["verdict"] = self.verdict.value
        return d


def order_fit(
    xs: Sequence[float],
    ys: Sequence[float | None],
    claimed: float,
    *,
    confidence: float = 0.95,
    may_violate: bool = True,
) -> ExponentFit:
    """Judge ``y = O(x^claimed)`` on sampled points by the least-squares
    exponent of ``log y`` against ``log x`` (:func:`scipy.stats.linregress`)
    and its two-sided ``confidence`` interval ``slope +- t_{n-2} stderr``
    (Student t quantile, ``n - 2`` degrees of freedom).

    ``holds`` when the whole interval is ``<= claimed``, ``violated`` when it
    is all above (only if ``may_violate``: a sufficient test cannot refute,
    then ``inconclusive``), ``inconclusive`` when it straddles ``claimed`` or
    fewer than 3 usable points (``y > 0``, finite) leave no interval.
    A finite range of ``x`` cannot prove an asymptotic claim: the verdict is
    statistical and covers the ``x`` sampled.

    >>> order_fit([2, 4, 8, 16], [1.0, 0.25, 0.0625, 0.015625], -1).verdict.value
    'holds'
    >>> order_fit([2, 4, 8], [1.0, 1.1, 0.9], -2).verdict.value   # flat: not O(L^-2) here
    'violated'
    """
    from scipy import stats

    pts = _loglog_points(xs, ys)
    n = len(pts)
    if n < 3 or len({p[0] for p in pts}) < 2:
        why = f"{n} usable point(s): an interval needs 3"
        return ExponentFit(
            None, None, None, None, n, confidence, claimed, Verdict.INCONCLUSIVE, why
        )
    fit = stats.linregress([p[0] for p in pts], [p[1] for p in pts])
    slope, se = float(fit.slope), float(fit.stderr)
    half = float(stats.t.ppf((1 + confidence) / 2, n - 2)) * se
    lo, hi = slope - half, slope + half
    if hi <= claimed:
        verdict, why = Verdict.HOLDS, "the interval lies at or below the claimed exponent"
    elif lo > claimed and may_violate:
        verdict, why = Verdict.VIOLATED, "the interval lies above the claimed exponent"
    elif lo > claimed:
        verdict, why = (
            Verdict.INCONCLUSIVE,
            "above the claimed exponent, but the test is only sufficient",
        )
    else:
        verdict, why = Verdict.INCONCLUSIVE, "the interval straddles the claimed exponent"
    return ExponentFit(slope, se, lo, hi, n, confidence, claimed, verdict, why)


# ---------------------------------------------------------------------------
# exact facts about GD / gradient flow from ZAS
# ---------------------------------------------------------------------------


def flow_limit_wl_norm(sigma: float, L: int) -> float:
    """``||W_L(oo)||_2`` at the limit of gradient flow from ZAS, for a target of
    spectral norm ``sigma``: the root ``s >= 0`` of ``s^2 (1 + s^2)^(L-1) = sigma^2``.

    Derivation: the flow conserves ``D_l`` (Lemma 4.2), so from ZAS
    ``W_{L-1:1} W_{L-1:1}^T = (I + W_L^T W_L)^{L-1}`` for all t (proof of
    Thm 4.1); at the limit ``W_L W_{L-1:1} = Phi`` (Thm 4.1), hence
    ``Phi Phi^T = W_L (I + W_L^T W_L)^{L-1} W_L^T`` and every singular value
    ``s`` of ``W_L`` solves the equation above with the matching singular
    value of ``Phi``; the map is increasing, so the largest goes with
    ``sigma = ||Phi||_2``.  Bisection to double precision.  Raises
    ``ValueError`` for ``sigma < 0`` or ``L < 1``.

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


def exact_lower_layers(
    L: int, phi_q: Sequence[Sequence[Fraction]], eta: Fraction, steps: int
) -> bool:
    """Exact rational GD from ZAS: ``True`` iff after every one of ``steps``
    steps ``W_1 = ... = W_{L-1}`` is symmetric and ``D_l = 0`` for ``l <= L-2``.

    Why it holds for every ``t`` (the induction this confirms): if
    ``W_1 = ... = W_{L-1} = S`` and ``W_L = Phi A`` with ``S``, ``A``
    polynomials in ``Phi^T Phi`` (true at ZAS: ``S = I``, ``A = 0``), then
    ``W_L^T E = A Phi^T Phi (A S^{L-1} - I)`` is one too, so every lower
    gradient is ``G_l = S^{L-2} W_L^T E``, the same symmetric polynomial,
    ``G_L = Phi (A S^{L-1} - I) S^{L-1}``, and one GD step keeps the form.
    Hence ``D_l = S^2 - S^2 = 0`` (``l <= L-2``) and its drift is 0.
    """
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


# ---------------------------------------------------------------------------
# one GD run: (4.8) and (4.10) decided at every step, (4.6)/(4.7)/(4.9) sampled
# ---------------------------------------------------------------------------

#: the sampled series of :func:`lemma_run` (spectral norms; drifts divided by R(t))
SERIES = ("t", "R", "D_l", "I+D_{L-1}", "W_l-1", "W_L", "drift_l", "drift_{L-1}")

#: the O()-constants of (4.6), (4.7), (4.9) (:func:`lemma_constants`): name -> what
LEMMA_CONSTANTS = {
    "D_l": "max_t max_{l <= L-2} ||D_l||_2  (4.6: O(L^-3); exactly 0 from ZAS)",
    "I+D_{L-1}": "max_t ||I + D_{L-1}||_2  (4.6: O(L^-2))",
    "I+D_{L-1}/(eta L R0)": "max_t ||I + D_{L-1}||_2 / (eta L R(0))  (the proof's form of (4.6))",
    "(W_l-1)L/logL": "max_t max_{l < L} (||W_l||_2 - 1) L / log L  (4.7: O(1))",
    "W_L": "max_t ||W_L||_2  (4.7 as printed: O(L^-1/2))",
    "drift_l/(eta^2 R)": "max_t max_{l <= L-2} ||D_l(t+1) - D_l(t)||_2 / (eta^2 R(t))  (4.9)",
    "drift_{L-1}/(eta^2 L R)": "max_t ||D_{L-1}(t+1) - D_{L-1}(t)||_2 / (eta^2 L R(t))  (4.9)",
}


class _LemmaObserver:
    """The observer behind :func:`lemma_run` (state of one run)."""

    def __init__(
        self,
        b: Backend,
        target: Target,
        eta: float,
        L: int,
        d: int,
        stride: int,
        last: int,
        stop_on_undecided: bool,
    ) -> None:
        self.b, self.target, self.eta, self.L, self.d = b, target, eta, L, d
        self.stride, self.last, self.stop_on_undecided = stride, last, stop_on_undecided
        self.q = thm43_factor(b, eta)
        self.n_round = 3 * L * d + 4
        self.prev: Any = None
        self.rel = 0.0  # float64 rounding budget, relative to R (0 in ball/exact)
        self.v48: list[Verdict] = []
        self.v410: list[Verdict] = []
        self.dec: tuple[float, int] = (-math.inf, 0)  # max R(t+1)/((1-eta/2)R(t)), its t
        self.grad: tuple[float, int] = (math.inf, 0)  # min_{t>=1} ||G_L||^2/R, its t
        self.grad0 = math.nan
        self.bad: dict[str, Any] | None = None
        self.undecided: int | None = None
        self.ser: dict[str, list[Any]] = {k: [] for k in SERIES}
        self.floor = {"D_l": 0.0, "drift_l": 0.0}

    def __call__(self, t: int, ws: Any, r: Any, g: Any) -> bool:
        b = self.b
        rf = b.to_float(r)
        if not b.rigorous and (t % self.stride == 0 or t == self.last) and rf > 0:
            wmax = max(math.sqrt(max(b.to_float(b.fro2(w)), 0.0)) for w in ws)
            dr = loss_error_bound(b, ws, self.target, b.unit_roundoff * wmax)
            self.rel = max(self.rel, 2 * b.gamma(self.n_round) + dr / rf)
        vs = self._decide(t, r, g, rf)
        if self.L >= 2 and (t % self.stride == 0 or t == self.last):
            self._sample(t, ws, g, rf)
        self.prev = r
        if Verdict.VIOLATED in vs:
            return True
        if Verdict.INCONCLUSIVE in vs and self.undecided is None:
            self.undecided = t
        return self.stop_on_undecided and Verdict.INCONCLUSIVE in vs

    def _decide(self, t: int, r: Any, g: Any, rf: float) -> list[Verdict]:
        """(4.8) ``||G_L||^2 >= R(t)`` and (4.10) ``R(t) <= (1 - eta/2) R(t-1)``."""
        b = self.b
        gl2 = b.fro2(g[-1])
        gf = b.to_float(gl2)
        v48 = decide(b, gl2, r, relation=">=", err=self.rel * max(gf, rf))
        ratio = gf / rf if rf > 0 else math.inf
        if t == 0:
            self.grad0 = ratio
        elif ratio < self.grad[0]:
            self.grad = (ratio, t)
        out = [v48]
        if self.prev is not None:
            pf = b.to_float(self.prev)
            v410 = decide(b, r, self.q * self.prev, err=self.rel * pf)
            den = b.to_float(self.q) * pf  # <= 0 once eta >= 2: then any R(t+1) > 0 violates
            fac = rf / den if den > 0 else (math.inf if rf > 0 else 0.0)
            if fac > self.dec[0]:
                self.dec = (fac, t - 1)
            self.v410.append(v410)
            out.append(v410)
            if v410 is Verdict.VIOLATED and self.bad is None:
                self.bad = {"part": "(4.10)", "t": t - 1, "R(t+1)/((1-eta/2)R(t))": fac}
        self.v48.append(v48)
        if v48 is Verdict.VIOLATED and self.bad is None:
            self.bad = {"part": "(4.8)", "t": t, "||G_L||^2/R": ratio}
        return out

    def _sample(self, t: int, ws: Any, g: Any, rf: float) -> None:
        """Norms behind (4.6), (4.7), (4.9); the drift from the exact GD drift
        identity ``D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T)``
        (``zas.drift``), i.e. ``eta^2`` times the invariants of the gradients."""
        b, d = self.b, self.d
        if rf <= 0:
            return
        dls, dgs = model.invariants(b, ws), model.invariants(b, g)
        wmax = max(math.sqrt(max(b.to_float(b.fro2(w)), 0.0)) for w in ws)
        gn = b.gamma(self.n_round)
        # rounding floors: D_l after t rounded updates; the drift from gradients off by gamma_n
        self.floor["D_l"] = max(self.floor["D_l"], (t + 1) * b.gamma(2 * d + 2) * wmax**2)
        gmax = max(b.to_float(b.fro2(x)) for x in g)
        fl = (2 * (2 * gn + gn * gn) + 2 * b.gamma(d + 1)) * gmax / rf
        self.floor["drift_l"] = max(self.floor["drift_l"], fl)
        s = self.ser
        s["t"].append(t)
        s["R"].append(rf)
        s["D_l"].append(max((b.norm2(x) for x in dls[:-1]), default=None))
        s["I+D_{L-1}"].append(b.norm2(b.add(b.eye(d), dls[-1])))
        s["W_l-1"].append(max(b.norm2(w) for w in ws[:-1]) - 1)
        s["W_L"].append(b.norm2(ws[-1]))
        drifts = [b.norm2(x) / rf for x in dgs]
        s["drift_l"].append(max(drifts[:-1], default=None))
        s["drift_{L-1}"].append(drifts[-1])


def lemma_run(
    b: Backend,
    ws0: list[np.ndarray],
    target: Target,
    eta: float,
    *,
    max_steps: int,
    samples: int = 20,
    rel_tol: float | None = None,
    stop_on_undecided: bool = False,
) -> dict[str, Any]:
    """GD from ``ws0`` at step ``eta`` (ZAS paper, Lemmas 4.4-4.6): (4.8)
    ``||G_L||_F^2 >= R(t)`` and (4.10) ``R(t+1) <= (1 - eta/2) R(t)`` decided
    at every step (by enclosure in ball arithmetic; in float64 against a
    rounding budget: ``2 gamma_n`` for ``n = 3 L d + 4`` plus the loss change
    one rounding of the weights can cause); at ``samples`` evenly spaced steps
    the norms of (4.6), (4.7), (4.9) (``series``, with their rounding floors).

    Stops at the first violation, at ``R <= rel_tol R(0)``, after
    ``max_steps`` or, with ``stop_on_undecided``, at the first undecided step.
    Returns ``verdict_4_8``, ``verdict_4_10``, ``decrease_max`` (=
    ``max_t R(t+1)/((1 - eta/2) R(t))``) and its step, ``gradient_min`` (=
    ``min_{t >= 1} ||G_L||^2/R``; at ``t = 0`` ZAS gives exactly 2, kept as
    ``gradient_t0``), ``steps``, ``stop``, ``violation``, ``undecided_at``,
    ``rel_err``, ``R0``, ``final_rel_loss``, ``flow_time`` (``eta * steps``),
    ``series``, ``floors``.
    """
    L, d = len(ws0), int(np.asarray(ws0[0]).shape[0])
    stride = max(1, max_steps // max(samples, 1))
    obs = _LemmaObserver(b, target, eta, L, d, stride, max_steps, stop_on_undecided)
    run = dynamics.gd(b, ws0, target, eta, max_steps=max_steps, rel_tol=rel_tol, observers=[obs])
    v48, v410 = combine_verdicts(obs.v48), combine_verdicts(obs.v410)
    if run.stop == "diverged":
        v410 = Verdict.VIOLATED
        obs.bad = obs.bad or {"part": "(4.10)", "t": run.steps, "diverged": True}
    if run.stop == "precision":
        v48 = v410 = Verdict.INCONCLUSIVE
    r0 = b.to_float(run.losses[0])
    return {
        "L": L,
        "eta": eta,
        "steps": run.steps,
        "stop": ("violated" if obs.bad else "undecided") if run.stop == "observer" else run.stop,
        "verdict_4_8": v48,
        "verdict_4_10": v410 if obs.v410 or run.stop == "diverged" else Verdict.INCONCLUSIVE,
        "decrease_max": obs.dec[0],
        "decrease_max_step": obs.dec[1],
        "gradient_min": obs.grad[0],
        "gradient_min_step": obs.grad[1],
        "gradient_t0": obs.grad0,
        "violation": obs.bad,
        "undecided_at": obs.undecided,
        "rel_err": obs.rel,
        "R0": r0,
        "final_rel_loss": b.to_float(run.losses[-1]) / r0 if r0 > 0 else 0.0,
        "flow_time": eta * run.steps,
        "series": obs.ser,
        "floors": obs.floor,
    }


def lemma_constants(run: dict[str, Any]) -> dict[str, float | None]:
    """The O()-constants of one :func:`lemma_run` (names and meaning:
    :data:`LEMMA_CONSTANTS`); ``None`` where a depth has no such layer
    (``D_l``, ``l <= L-2``, needs ``L >= 3``) or nothing was sampled."""
    s, L, eta, r0 = run["series"], run["L"], run["eta"], run["R0"]

    def mx(key: str) -> float | None:
        vals = [v for v in s[key] if v is not None]
        return max(vals) if vals else None

    def scaled(key: str, f: float) -> float | None:
        m = mx(key)
        return None if m is None else m * f

    logl = math.log(L) if L >= 2 else math.nan
    return {
        "D_l": mx("D_l"),
        "I+D_{L-1}": mx("I+D_{L-1}"),
        "I+D_{L-1}/(eta L R0)": scaled("I+D_{L-1}", 1 / (eta * L * r0)) if r0 > 0 else None,
        "(W_l-1)L/logL": scaled("W_l-1", L / logl) if L >= 2 else None,
        "W_L": mx("W_L"),
        "drift_l/(eta^2 R)": mx("drift_l"),
        "drift_{L-1}/(eta^2 L R)": scaled("drift_{L-1}", 1 / L),
    }


# ---------------------------------------------------------------------------
# near-ZAS: linear convergence within a budget
# ---------------------------------------------------------------------------


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
    Raises :class:`ValueError` unless ``max_steps >= 1`` and ``0 < eps < 1``.

    >>> linear_convergence([1.0 * 0.5**k for k in range(40)], 1e-10, 100, 5)["converged"]
    True
    """
    if max_steps < 1 or not 0 < eps < 1:
        raise ValueError(
            f"linear_convergence needs max_steps >= 1 and 0 < eps < 1, got {max_steps} and {eps!r}"
        )
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


def gd_losses(
    b: Backend, ws0: list[np.ndarray], target: Target, eta: float, max_steps: int, eps: float
) -> tuple[list[float], str]:
    """GD from ``ws0`` until ``R <= eps R(0)`` or ``max_steps``: the losses
    ``R(0..T)`` as floats and the stop reason (:func:`zascheck.dynamics.gd`)."""
    run = dynamics.gd(b, ws0, target, eta, max_steps=max_steps, rel_tol=eps)
    return [b.to_float(r) for r in run.losses], run.stop
