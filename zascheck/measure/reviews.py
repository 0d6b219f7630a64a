"""What the cards of the ZAS reviewers' variants share (CLAIMS.md sections B and D).

* ``review.any-layer``  one zero layer at any position ``k``, the rest ``I``;
* ``review.last-cI``    last layer ``c I``: the modified identities and rate;
* ``review.alpha``      layers ``alpha I``: the flow rate ``alpha^{2(L-1)}``;
* ``review.alpha.gd``   what ``alpha I`` does to gradient descent: the largest
  stable step (a bisection bracket), the iteration counts, and the flow's
  own time to ``eps`` they are compared with.

Every function here measures; the cards decide.  Source of the variants:
review 1 of the ZAS paper (NeurIPS 2019), ``../shared/seeds/reviews-zas-neurips2019.txt``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, experiments, inits, model
from zascheck.arith import Backend, backend
from zascheck.card import RunContext
from zascheck.errors import InputError
from zascheck.model import Target
from zascheck.result import Verdict
from zascheck.targets import make_phi

__all__ = [
    "FLOW_NOTE",
    "FRACTIONS_QUICK",
    "FRACTIONS_STANDARD",
    "PROBE_STEPS",
    "FlowTime",
    "GDOutcome",
    "StepBracket",
    "alpha_rate",
    "check_rate",
    "check_values",
    "count_vs_flow",
    "empirical_rate",
    "exact",
    "flow_time_to_eps",
    "gd_outcome",
    "last_ci_identity",
    "last_ci_init",
    "last_ci_rate",
    "one_step_exact",
    "p_tolerance",
    "probe_flow",
    "ratio_vs",
    "stable_step_bracket",
    "target_text",
    "two_sided_bound",
    "zero_layers",
]

FLOW_NOTE = "gradient flow by Taylor integration; integration error estimated, not enclosed."

#: step grids for tuning GD, as fractions of the stable edge (geometric, 0.05 .. 1)
FRACTIONS_QUICK = [round(0.05 * 20 ** (i / 11), 4) for i in range(12)]
FRACTIONS_STANDARD = [round(0.05 * 20 ** (i / 23), 4) for i in range(24)]


def exact(x: float) -> Fraction:
    """The exact value of a double (the inits are built from doubles too).

    >>> exact(0.1) == Fraction(1, 10)
    False
    """
    return Fraction(float(x))


def alpha_rate(alpha: float, L: int) -> Fraction:
    """The reviewer's flow rate ``alpha^{2(L-1)}`` (review 1), exact in the double ``alpha``.

    >>> alpha_rate(2.0, 3)
    Fraction(16, 1)
    """
    return exact(alpha) ** (2 * (L - 1))


def check_values(values: Sequence[Any], what: str, *, positive: bool = False) -> None:
    """Refuse non-numbers, NaN and infinities in ``values`` (and, with
    ``positive``, values ``<= 0``), naming the parameter ``what``.

    >>> check_values([1.0, 2.0], "alphas", positive=True)
    """
    for v in values:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        if not ok or (positive and v <= 0):
            need = "a finite number > 0" if positive else "a finite number"
            raise InputError(f"{what}: every value must be {need}, got {v!r}")


def check_rate(rate: Fraction, taus: Sequence[float], what: str) -> None:
    """Refuse, before any work, a rate the float64 clock of the integrator cannot use.

    :func:`zascheck.dynamics.flow` takes its output times as doubles, and the
    GD steps are doubles: the rate ``r`` must be a finite double and every
    time ``tau / r`` (and the step ``1 / r``) a normal double.  Raises
    :class:`InputError` naming ``what`` (the parameter that set the rate) and why.
    """
    lo, hi = sys.float_info.min, sys.float_info.max
    if not 0 < rate <= Fraction(hi):
        raise InputError(
            f"{what}: the rate {float(rate) if rate < Fraction(hi) else '> 1.8e308'} "
            "is not a finite positive double; the flow clock and GD steps are float64"
        )
    for tau in [1.0, *taus]:
        if exact(tau) / rate < Fraction(lo):
            raise InputError(
                f"{what}: the rate {float(rate):.3g} puts the time tau / rate = {tau:g} / "
                f"{float(rate):.3g} below the smallest normal double ({lo:.3g}); "
                "the flow clock and GD steps are float64"
            )


#: Taylor steps a probe flow may take to reach the first grid time (one step
#: covers about ``1 / rate`` time units at the rates these cards use)
PROBE_STEPS = 64


def probe_flow(b: Backend, ws0: Sequence[Any], target: Target, t_first: float, what: str) -> None:
    """Refuse, before the measurement, a case the Taylor integrator cannot run.

    :func:`zascheck.dynamics.flow` chooses its steps from float64 norms of the
    Taylor coefficients; at a large rate ``r`` they grow like ``r^k / k!`` and
    overflow, the step size collapses to 0, and the flow would crawl to its
    step limit.  A flow to the first grid time ``t_first`` (about ``tau / r``)
    with at most :data:`PROBE_STEPS` steps tells; if it fails, raise
    :class:`InputError` naming ``what`` (the parameter) and why.
    """
    try:
        dynamics.flow(b, ws0, target, [t_first], max_steps=PROBE_STEPS)
    except ArithmeticError as exc:
        raise InputError(
            f"{what}: the Taylor integrator does not reach the first grid time "
            f"t = {t_first:.3g} within {PROBE_STEPS} steps ({exc}). At large rates its step "
            "control (float64 norms of Taylor coefficients, which grow like rate^k / k!) "
            "overflows; at small rates the horizon tau / rate is too long"
        ) from None


def target_text(spec: Any, d: int) -> str:
    """What a target covers, for a result's ``scope`` (``Phi = -I, d = 2``, ...)."""
    if isinstance(spec, str):
        if spec == "gaussian":
            return f"1 Gaussian Phi (seeded), d = {d}"
        return f"Phi = {spec}, d = {d}"
    return f"the given {d} x {d} Phi"


# ---------------------------------------------------------------------------
# flow measurements
# ---------------------------------------------------------------------------


def empirical_rate(times: Sequence[float], losses: Sequence[float], r0: float) -> float:
    """Largest constant ``r`` with ``R(t) <= exp(-2 r t) R(0)`` at every grid
    time: ``min_t -ln(R(t)/R(0)) / (2t)`` (``inf`` once ``R`` underflows).

    >>> round(empirical_rate([1.0, 2.0], [math.exp(-2), math.exp(-6)], 1.0), 12)
    1.0
    """
    out = math.inf
    for t, r in zip(times, losses, strict=True):
        if r > 0 and r0 > 0:
            out = min(out, -math.log(r / r0) / (2 * t))
    return out


def ratio_vs(
    times: Sequence[float], losses: Sequence[float], r0: float, rate: float
) -> list[float]:
    """``R(t) / (exp(-2 rate t) R(0))`` on the grid (float, for evidence)."""
    out = []
    for t, r in zip(times, losses, strict=True):
        if r <= 0:
            out.append(0.0)
            continue
        x = math.log(r) - math.log(r0) + 2 * rate * t
        out.append(math.exp(x) if x < 700 else math.inf)
    return out


def zero_layers(L: int, d: int, k: int, zeros: int) -> list[np.ndarray]:
    """Layer ``k`` (and, when ``zeros = 2``, layer ``k mod L + 1``) zero, the rest ``I``.

    Raises :class:`InputError` unless ``zeros`` is 1 or 2.
    """
    ws = inits.zero_at(L, d, k)
    if zeros == 2:
        ws[k % L] = np.zeros((d, d))
    elif zeros != 1:
        raise InputError(f"zeros must be 1 or 2, got {zeros!r}")
    return ws


def two_sided_bound(b: Any, ws: list[Any], k: int, target: Target) -> tuple[float, float]:
    """``(||G_k||_F^2 / 2R, s)`` with ``s = lambda_min(A^T A) lambda_min(B B^T)``,
    ``A = W_{L:k+1}``, ``B = W_{k-1:1}``: the gradient-domination bound
    ``||G_k||^2 >= 2 s R`` that replaces ``||G_L||^2 >= 2R`` (ZAS proof of
    Thm 4.1) for a middle zero layer.  Evidence only (float64 eigenvalues)."""
    r, g = model.loss_and_grads(b, ws, target)
    d = b.shape(ws[0])[0]
    A = b.eye(d)
    for w in ws[k:]:
        A = b.mm(w, A)
    B = b.eye(d)
    for w in ws[: k - 1]:
        B = b.mm(w, B)
    # midpoints in float64 (arb's eig refuses repeated eigenvalues, e.g. of I)
    s = float(
        np.linalg.eigvalsh(b.to_numpy(b.mm(b.T(A), A)))[0]
        * np.linalg.eigvalsh(b.to_numpy(b.mm(B, b.T(B))))[0]
    )
    rf = b.to_float(r)
    return (b.to_float(b.fro2(g[k - 1])) / (2 * rf) if rf > 0 else math.inf), s


def p_tolerance(b: Any, ws: list[Any], target: Target, t: float, run: dynamics.FlowRun) -> float:
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
    return (1 - exact(c) ** 2) ** (L - 1)


def last_ci_init(L: int, d: int, c: float, last_other: float | None = None) -> list[np.ndarray]:
    """``W_l = I`` (``l < L``), ``W_L = c I``; with ``last_other`` the last
    diagonal entry of ``W_L`` is ``last_other`` instead of ``c`` (``W_L`` no
    longer a multiple of ``I``: a negative control of ``review.last-cI``)."""
    ws = inits.last_c_identity(L, d, c)
    if last_other is not None:
        ws[-1][-1, -1] = float(last_other)
    return ws


def last_ci_identity(ctx: RunContext, c: float, L: int, d: int, ph: Any) -> dict[str, Any]:
    """``D_l(0)`` exactly (exact backend) and the residual of
    ``W_{L-1:1}W_{L-1:1}^T - ((1-c^2)I + W_L^T W_L)^{L-1}`` (Lemma 4.2 with
    ``D_{L-1} = (c^2 - 1) I``) along a short 128-bit ball flow to ``t = 1``."""
    ex = ctx.backend("exact")
    ws0 = inits.last_c_identity(L, d, c)
    D = model.invariants(ex, [ex.matrix(w) for w in ws0])
    want_last = ex.scale(ex.scalar(exact(c) ** 2 - 1), ex.eye(d))
    exact_ok = all(D[i] == ex.zeros(d, d) for i in range(L - 2)) and (L < 2 or D[-1] == want_last)
    bb = ctx.backend("ball", 128)
    res_max = 0.0
    with bb.session():
        phi_m = make_phi(ph, d, ctx.rng(3))
        target = Target.whitened(bb, phi_m)
        run = dynamics.flow(bb, ws0, target, [0.0, 0.5, 1.0])
        one_minus = bb.scalar(1 - exact(c) ** 2)
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


@dataclass(frozen=True)
class FlowTime:
    """The gradient-flow time at which ``R(t) <= rel_tol R(0)`` is first met:
    ``lo`` did not meet it, ``hi`` did (bisection, ``hi / lo <= 1 + rel_width``);
    ``integration_error`` is the integrator's estimate (not an enclosure);
    ``found`` is false when no horizon up to ``2^max_doublings t_bound`` met it."""

    lo: float
    hi: float
    integration_error: float
    found: bool


def flow_time_to_eps(
    b: Backend,
    ws0: Sequence[Any],
    target: Target,
    *,
    rel_tol: float,
    t_bound: float,
    rel_width: float = 1e-3,
    grid: int = 32,
    max_doublings: int = 6,
) -> FlowTime:
    """First time ``T`` with ``R(T) <= rel_tol R(0)`` under gradient flow (eq. 4.1).

    ``t_bound`` is where to look first (for alpha-ZAS the reviewer's bound
    ``ln(1/rel_tol) / (2 alpha^{2(L-1)})``); the horizon doubles until the
    threshold is met.  The crossing is located on a grid of ``grid`` times,
    then bisected with flows restarted from the last grid point before it.
    Time in the flow's own units; the error is the integrator's estimate.
    """
    if not 0 < rel_tol < 1:
        raise InputError(f"rel_tol must be in (0, 1), got {rel_tol}")
    ws = [b.matrix(w) for w in ws0]
    thr = rel_tol * b.to_float(model.loss(b, ws, target))
    horizon, err = float(t_bound), 0.0
    for _ in range(max_doublings + 1):
        times = [horizon * k / grid for k in range(grid + 1)]
        run = dynamics.flow(b, ws, target, times)
        err = run.error_estimate
        hit = next(
            (i for i, w in enumerate(run.ws) if b.to_float(model.loss(b, w, target)) <= thr), None
        )
        if hit is not None and hit > 0:
            break
        horizon *= 2
    else:
        return FlowTime(horizon, math.inf, err, False)
    lo, hi, w_lo = times[hit - 1], times[hit], run.ws[hit - 1]
    while hi / lo > 1 + rel_width:
        mid = math.sqrt(lo * hi)
        step = dynamics.flow(b, w_lo, target, [mid - lo])
        err += step.error_estimate
        if b.to_float(model.loss(b, step.ws[-1], target)) <= thr:
            hi = mid
        else:
            lo, w_lo = mid, step.ws[-1]
    return FlowTime(lo, hi, err, True)


# ---------------------------------------------------------------------------
# gradient descent: the stable step and the iteration counts
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class GDOutcome:
    """One GD run: ``iterations`` to ``R <= rel_tol R(0)`` (``None`` if not
    reached) and ``stop`` (``converged``, ``budget``: ``max_steps`` ran out,
    ``diverged``: the loss left ``blowup R(0)`` or became non-finite)."""

    iterations: int | None
    stop: str


def gd_outcome(
    b: Backend, ws0: Sequence[Any], target: Target, eta: float, *, rel_tol: float, max_steps: int
) -> GDOutcome:
    """Run GD (eq. 2.4) at step ``eta`` and say how it ended (:class:`GDOutcome`)."""
    run = dynamics.gd(b, ws0, target, eta, max_steps=max_steps, rel_tol=rel_tol)
    return GDOutcome(run.steps if run.stop == "converged" else None, run.stop)


@dataclass(frozen=True)
class StepBracket:
    """The largest stable GD step as a bracket: GD at ``lo`` converged within
    the step budget, GD at ``hi`` (the first failure met sweeping up from a
    converging step) did not.  ``hi_stop`` says how ``hi`` failed: ``diverged``
    (a true edge) or ``budget`` (the bracket is limited by the step budget:
    the run was still going when ``max_steps`` ran out).  ``found`` is false
    when the bisection ran out of runs (then ``hi`` is ``inf``)."""

    lo: float
    hi: float
    hi_stop: str
    evals: int
    found: bool

    @property
    def limited_by_budget(self) -> bool:
        return self.hi_stop == "budget"


def stable_step_bracket(
    run: Callable[[float], GDOutcome], eta0: float, *, rel_width: float
) -> StepBracket:
    """Bracket the largest stable step of ``run`` by
    :func:`zascheck.experiments.max_stable_eta` (geometric sweep from ``eta0``,
    then bisection in ``log eta`` to ``hi / lo <= 1 + rel_width``).

    Convergence need not be monotone in ``eta`` (from alpha-ZAS, steps beyond
    the first failure can converge again: the catapult, and the one-step point
    ``eta = alpha^{-2(L-1)}``); the bracket is the first edge met.
    """
    seen: dict[float, GDOutcome] = {}

    def converges(e: float) -> bool:
        seen[e] = run(e)
        return seen[e].iterations is not None

    try:
        st = experiments.max_stable_eta(converges, eta0, rel_width=rel_width)
    except ArithmeticError:
        ok = [e for e, o in seen.items() if o.iterations is not None]
        return StepBracket(max(ok, default=0.0), math.inf, "none", len(seen), False)
    return StepBracket(st.eta, st.eta_fail, seen[st.eta_fail].stop, st.evals, True)


def count_vs_flow(n: int | None, n_ref: int | None, t: FlowTime, t_ref: FlowTime) -> dict[str, Any]:
    """Is GD's count ``n`` at some alpha above the count the flow's speed-up predicts?

    The prediction carries the flow's realized speed-up over to GD:
    ``n_flow = n_ref * T / T_ref`` (``T``: flow time to ``eps``, a bracket).
    Error budget: one iteration on each count (the first crossing of the
    threshold can move by one step under rounding) and the two time brackets,
    so ``n_flow`` lies in ``[(n_ref - 1) T.lo / T_ref.hi, (n_ref + 1) T.hi / T_ref.lo]``.
    ``holds`` when ``n - 1`` is above that interval, ``violated`` when
    ``n + 1`` is below it, else ``inconclusive``.  ``resolvable`` is false
    when even ``n = 1`` (the fewest GD can take) could not be below the
    interval: counts cannot decide there, and the case is not counted.

    >>> f = FlowTime
    >>> count_vs_flow(6, 14, f(2.0, 2.002, 0.0, True), f(7.66, 7.67, 0.0, True))["verdict"]
    'holds'
    """
    if n is None or n_ref is None or not (t.found and t_ref.found):
        return {
            "verdict": Verdict.INCONCLUSIVE.value,
            "resolvable": False,
            "why": "a GD count or a flow time is censored",
        }
    lo = (n_ref - 1) * t.lo / t_ref.hi
    hi = (n_ref + 1) * t.hi / t_ref.lo
    if n - 1 > hi:
        v = Verdict.HOLDS
    elif n + 1 < lo:
        v = Verdict.VIOLATED
    else:
        v = Verdict.INCONCLUSIVE
    return {
        "verdict": v.value,
        "resolvable": lo > 2,
        "n": n,
        "n_flow": [lo, hi],
        "n_flow_mid": n_ref * math.sqrt(t.lo * t.hi / (t_ref.lo * t_ref.hi)),
    }


def one_step_exact(phi_m: np.ndarray, L: int, alpha: float) -> bool:
    """Exact arithmetic: one GD step from alpha-ZAS with ``eta = alpha^{-2(L-1)}``
    lands on ``P = Phi`` (``R(1) = 0``).  Why: at ``W_L = 0`` every ``G_l`` with
    ``l < L`` vanishes, and ``R`` is quadratic in ``W_L`` with Hessian
    ``alpha^{2(L-1)} I``, so that step is the exact least-squares solve."""
    ex = backend("exact")
    eta = exact(alpha) ** (-2 * (L - 1))
    run = dynamics.gd(
        ex, inits.alpha_zas(L, phi_m.shape[0], alpha), Target.whitened(ex, phi_m), eta, max_steps=1
    )
    return bool(run.losses[-1] == ex.scalar(0))
