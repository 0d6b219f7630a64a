"""Gradient-descent sweep utilities: iterations to a tolerance, step-size
search, batching of independent runs, and the statistics the empirical
checks decide with (confidence intervals, exact tests, growth-law
comparison), every distribution and test taken from :mod:`scipy.stats`.

Everything here is deterministic: no function draws random numbers, so a
sweep is reproducible from the seeds of the initializations it is given.
Loss and gradients always come from :mod:`zascheck.model` through
:func:`zascheck.dynamics.gd`; nothing in this module restates them.

Conventions
-----------
* "converged" means ``R(t) <= rel_tol * R(0)`` (relative tolerance, as
  :func:`zascheck.dynamics.gd` defines it); the iteration count is the first
  such ``t`` (``0`` if ``R(0) = 0``).
* A run that does not converge within ``max_steps`` is *censored*: its count
  is only known to exceed the budget.  Functions return ``None`` for it and
  the statistics below say how censored values enter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from zascheck import dynamics, model
from zascheck.arith import Backend, StackedFloat64Backend
from zascheck.errors import InputError
from zascheck.model import Target

__all__ = [
    "MIN_GROWTH_DEPTHS",
    "BatchRun",
    "GrowthComparison",
    "LinearFit",
    "StableEta",
    "Tuned",
    "batch_first_hits",
    "binomial_p",
    "compare_growth",
    "first_hit",
    "fisher_exact_p",
    "growth_fits",
    "iterations_to_eps",
    "linear_fit",
    "lower_median",
    "max_stable_eta",
    "slope_interval",
    "tune_eta",
    "wilson_interval",
]

#: two-sided 95% normal quantile, Phi^{-1}(0.975)
Z95 = float(stats.norm.ppf(0.975))


# ---------------------------------------------------------------------------
# single runs
# ---------------------------------------------------------------------------


def iterations_to_eps(
    b: Backend,
    ws0: Sequence[Any],
    target: Target,
    eta: Any,
    *,
    rel_tol: float,
    max_steps: int,
) -> int | None:
    """Iterations of GD until ``R(t) <= rel_tol R(0)``, or ``None`` when the
    budget ran out or the run diverged (censored).

    >>> import numpy as np
    >>> from zascheck.arith import backend
    >>> b = backend("float64")
    >>> tgt = Target.whitened(b, np.array([[2.0]]))
    >>> # L = 1: R(t) = (1 - eta)^(2t) R(0); with eta = 1/2, 2^(-2t) <= 1e-6 first at t = 10
    >>> iterations_to_eps(b, [np.zeros((1, 1))], tgt, 0.5, rel_tol=1e-6, max_steps=100)
    10
    """
    if not 0 < rel_tol < 1:
        raise InputError(f"rel_tol must be in (0, 1), got {rel_tol}")
    run = dynamics.gd(b, ws0, target, eta, max_steps=max_steps, rel_tol=rel_tol)
    return run.steps if run.stop == "converged" else None


def first_hit(losses: Sequence[float], rel_tol: float) -> int | None:
    """First index ``t`` with ``losses[t] <= rel_tol * losses[0]`` (``None`` if never).

    >>> first_hit([4.0, 2.0, 1.0, 0.5], 0.25)
    2
    >>> first_hit([4.0, 2.0], 0.1) is None
    True
    """
    if not losses:
        return None
    thr = rel_tol * float(losses[0])
    for t, r in enumerate(losses):
        if float(r) <= thr:
            return t
    return None


# ---------------------------------------------------------------------------
# step-size search
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StableEta:
    """Result of :func:`max_stable_eta`: ``eta`` converged, ``eta_fail``
    (``> eta``, within the requested relative width) did not; ``evals`` runs
    were made; ``history`` lists ``(eta, converged)`` in the order tried."""

    eta: float
    eta_fail: float
    evals: int
    history: tuple[tuple[float, bool], ...] = ()


def max_stable_eta(
    converges: Callable[[float], bool],
    eta0: float,
    *,
    factor: float = 2.0,
    rel_width: float = 1e-2,
    max_evals: int = 80,
) -> StableEta:
    """Largest step size at which ``converges(eta)`` is true, by geometric
    bracketing from ``eta0`` then bisection in ``log eta``.

    Convergence need not be monotone in ``eta``; the answer is the edge
    between the *first* failure met while sweeping upward by ``factor`` from a
    converging step and the last success below it, refined until
    ``eta_fail / eta <= 1 + rel_width``.  If ``eta0`` fails, the sweep goes
    downward until a step converges.

    >>> s = max_stable_eta(lambda e: e < 0.3, 0.01, rel_width=1e-3)
    >>> round(s.eta, 3), s.eta < 0.3 <= s.eta_fail
    (0.3, True)
    """
    if not (eta0 > 0 and math.isfinite(eta0)) or factor <= 1 or rel_width <= 0:
        raise InputError("need eta0 > 0, factor > 1 and rel_width > 0")
    hist: list[tuple[float, bool]] = []

    def ok(e: float) -> bool:
        if len(hist) >= max_evals:
            raise ArithmeticError(f"max_stable_eta: no bracket within {max_evals} runs")
        v = bool(converges(e))
        hist.append((e, v))
        return v

    lo, hi = eta0, eta0
    if ok(eta0):
        hi = eta0 * factor
        while ok(hi):
            lo, hi = hi, hi * factor
    else:
        lo = eta0 / factor
        while not ok(lo):
            hi, lo = lo, lo / factor
    while hi / lo > 1 + rel_width:
        mid = math.sqrt(lo * hi)
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return StableEta(eta=lo, eta_fail=hi, evals=len(hist), history=tuple(hist))


@dataclass(frozen=True)
class Tuned:
    """Best step of a grid: ``iterations`` at ``eta`` (``None`` if no grid
    point converged); ``table`` maps every tried step to its count."""

    eta: float | None
    iterations: int | None
    table: tuple[tuple[float, int | None], ...] = ()


def tune_eta(iterations: Callable[[float], int | None], etas: Sequence[float]) -> Tuned:
    """Grid search: the step in ``etas`` with the fewest iterations (ties go to
    the smaller step; censored runs never win).

    >>> tune_eta(lambda e: {0.1: 30, 0.2: 12, 0.4: None}[e], [0.4, 0.2, 0.1]).eta
    0.2
    """
    table = [(float(e), iterations(float(e))) for e in sorted(float(x) for x in etas)]
    best: tuple[int, float] | None = None
    for e, n in table:
        if n is not None and (best is None or n < best[0]):
            best = (n, e)
    if best is None:
        return Tuned(None, None, tuple(table))
    return Tuned(best[1], best[0], tuple(table))


# ---------------------------------------------------------------------------
# batches of independent runs (one stack of networks)
# ---------------------------------------------------------------------------


@dataclass
class BatchRun:
    """Per-run outcome of :func:`batch_first_hits`.

    ``hits[i]`` is the first iteration with ``R_i <= rel_tol R_i(0)`` or
    ``None`` (censored at ``steps``); ``final_loss[i]`` is ``R_i`` when the
    batch stopped; ``stop`` is the batch's stop reason (``observer`` = the
    requested runs all converged)."""

    hits: list[int | None]
    final_loss: list[float]
    initial_loss: list[float]
    steps: int
    stop: str
    extra: dict[str, Any] = field(default_factory=dict)


def batch_first_hits(
    b: Backend,
    runs: Sequence[Sequence[np.ndarray]],
    phi: np.ndarray,
    eta: float,
    *,
    rel_tol: float,
    max_steps: int,
    groups: Sequence[Sequence[int]] | None = None,
    until: str = "all",
    record: bool = False,
) -> BatchRun:
    """GD on many independent runs at once (float64 only), recording for
    each the first iteration at which its own loss reached ``rel_tol`` times
    its own initial loss.

    ``runs`` are the per-run inits (``d x d`` layers), all fitted to the same
    ``phi``; they run as one stack (:class:`~zascheck.arith.StackedFloat64Backend`:
    each run evolves bit for bit as it would alone, the batch loss is the sum).  ``until = "all"`` stops when every run converged (or the budget
    ran out); ``until = "median"`` stops as soon as, in every group of run
    indices in ``groups``, more than half the runs converged, which fixes each
    group's lower median (:func:`lower_median`).  A run that diverges makes the
    batch loss non-finite and stops the batch (``stop = "diverged"``); runs not
    yet converged then count as censored.  ``record=True`` keeps every
    run's loss at every step in ``extra["losses"]`` (an array of shape
    ``(steps + 1, n)``).
    """
    if b.name != "float64":
        raise InputError("batch_first_hits stacks the runs in float64: float64 only")
    if until not in ("all", "median"):
        raise InputError(f"until must be 'all' or 'median', got {until!r}")
    n = len(runs)
    d = runs[0][0].shape[0]
    phi = np.asarray(phi, dtype=float)
    if phi.shape != (d, d):
        raise InputError(f"phi must be {d} x {d}, got {phi.shape}")
    for r in runs:
        if len(r) != len(runs[0]) or any(np.shape(w) != (d, d) for w in r):
            raise InputError("every run must have the same depth and square d x d layers")
    sb = StackedFloat64Backend()
    ws0 = [np.stack([np.asarray(r[l], dtype=float) for r in runs]) for l in range(len(runs[0]))]
    target = Target.whitened(sb, np.broadcast_to(phi, (n, d, d)))
    grp = [list(g) for g in groups] if groups is not None else [list(range(n))]
    hits: list[int | None] = [None] * n
    state: dict[str, Any] = {}
    history: list[np.ndarray] = []

    def per_run_losses(ws: Sequence[Any]) -> np.ndarray:
        return 0.5 * sb.fro2_each(model.residual(sb, model.end_to_end(sb, ws), target))

    def observer(t: int, ws: Sequence[Any], r: Any, g: Sequence[Any]) -> bool:
        ri = per_run_losses(ws)
        if "r0" not in state:
            state["r0"] = ri.copy()
        state["last"] = ri
        if record:
            history.append(ri)
        thr = rel_tol * state["r0"]
        for i in np.flatnonzero(ri <= thr):
            if hits[i] is None:
                hits[i] = t
        if until == "all":
            return all(h is not None for h in hits)
        return all(sum(hits[i] is not None for i in g) * 2 > len(g) for g in grp)

    run = dynamics.gd(sb, ws0, target, eta, max_steps=max_steps, observers=[observer])
    last = state.get("last", np.full(n, math.nan))
    if run.stop == "diverged":
        last = np.full(n, math.inf)
    return BatchRun(
        hits=hits,
        final_loss=[float(x) for x in last],
        initial_loss=[float(x) for x in state.get("r0", last)],
        steps=run.steps,
        stop=run.stop,
        extra={"losses": np.array(history)} if record else {},
    )


# ---------------------------------------------------------------------------
# statistics (every distribution, test and interval from scipy.stats)
# ---------------------------------------------------------------------------


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion ``k / n`` (95% by default).

    The interval of :meth:`scipy.stats.binomtest(k, n).proportion_ci
    <scipy.stats._result_classes.BinomTestResult.proportion_ci>` with
    ``method="wilson"`` (Wilson 1927) at the confidence ``1 - 2 Phi(-z)``; it
    stays informative at ``k = 0`` or ``k = n`` where the normal interval
    collapses.  Raises :class:`InputError` unless ``0 <= k <= n``, ``n > 0``.

    >>> lo, hi = wilson_interval(0, 50)
    >>> lo, round(hi, 4)
    (0.0, 0.0713)
    """
    if n <= 0 or not 0 <= k <= n:
        raise InputError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    conf = 1.0 - 2.0 * float(stats.norm.sf(z))
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=conf, method="wilson")
    # at k = 0 (k = n) the lower (upper) end is exactly 0 (1)
    lo = 0.0 if k == 0 else max(0.0, float(ci.low))
    hi = 1.0 if k == n else min(1.0, float(ci.high))
    return lo, hi


def fisher_exact_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p-value of Fisher's exact test that two binomial samples,
    ``k1`` successes of ``n1`` and ``k2`` of ``n2``, share one success
    probability (:func:`scipy.stats.fisher_exact` on the 2 x 2 table).

    >>> round(fisher_exact_p(12, 50, 2, 5), 2)  # 12/50 against the paper's 2/5
    0.59
    """
    for k, n in ((k1, n1), (k2, n2)):
        if n <= 0 or not 0 <= k <= n:
            raise InputError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    table = [[int(k1), int(n1 - k1)], [int(k2), int(n2 - k2)]]
    return float(stats.fisher_exact(table, alternative="two-sided").pvalue)


def binomial_p(k: int, n: int, p: float, alternative: str) -> float:
    """p-value of the exact binomial test of ``k`` successes in ``n`` trials
    against success probability ``p`` (:func:`scipy.stats.binomtest`;
    ``alternative`` is ``"greater"``, ``"less"`` or ``"two-sided"``).

    >>> binomial_p(5, 5, 0.5, "greater")  # five of five: 2^-5
    0.03125
    """
    if n <= 0 or not 0 <= k <= n:
        raise InputError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    return float(stats.binomtest(int(k), int(n), p, alternative=alternative).pvalue)


def lower_median(values: Sequence[int | None]) -> int | None:
    """The ``ceil(n/2)``-th smallest value, censored entries (``None``)
    counting as larger than every number; ``None`` if that order statistic
    is itself censored.

    >>> lower_median([5, None, 3, 9])
    5
    >>> lower_median([None, None, 3]) is None
    True
    """
    n = len(values)
    if n == 0:
        return None
    known = sorted(v for v in values if v is not None)
    k = (n + 1) // 2
    return known[k - 1] if len(known) >= k else None


@dataclass(frozen=True)
class LinearFit:
    """Least-squares line ``y = intercept + slope x`` with standard errors
    (from the residual variance with ``n - 2`` degrees of freedom; ``nan``
    when ``n = 2``) and the residual sum of squares."""

    slope: float
    intercept: float
    slope_se: float
    intercept_se: float
    rss: float
    n: int

    def to_dict(self) -> dict[str, float]:
        return {
            "slope": self.slope,
            "intercept": self.intercept,
            "slope_se": self.slope_se,
            "intercept_se": self.intercept_se,
            "rss": self.rss,
            "n": self.n,
        }


def linear_fit(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> LinearFit:
    """Ordinary least squares for one regressor plus intercept
    (:func:`scipy.stats.linregress`).  Raises :class:`InputError` for fewer
    than two pairs, unequal lengths, or a single distinct ``x``.

    >>> f = linear_fit([0, 1, 2, 3], [1, 3, 5, 7])
    >>> round(f.slope, 12), round(f.intercept, 12), f.rss < 1e-20
    (2.0, 1.0, True)
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    n = xa.size
    if n < 2 or ya.size != n:
        raise InputError("linear_fit needs at least two (x, y) pairs of equal length")
    if float(np.ptp(xa)) == 0:
        raise InputError("linear_fit needs at least two distinct x values")
    r = stats.linregress(xa, ya)
    slope, intercept = float(r.slope), float(r.intercept)
    res = ya - (intercept + slope * xa)
    rss = float(res @ res)
    if n > 2:
        slope_se, intercept_se = float(r.stderr), float(r.intercept_stderr)
    else:
        slope_se = intercept_se = math.nan
    return LinearFit(slope, intercept, slope_se, intercept_se, rss, n)


def slope_interval(fit: LinearFit, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided Student-t interval of a fitted slope (``n - 2`` degrees of
    freedom, :func:`scipy.stats.t`); ``(-inf, inf)`` when ``n = 2``.

    >>> lo, hi = slope_interval(linear_fit([1, 2, 3, 4], [1.0, 2.1, 2.9, 4.0]))
    >>> lo < 1 < hi
    True
    """
    if fit.n <= 2 or not math.isfinite(fit.slope_se):
        return -math.inf, math.inf
    h = float(stats.t.ppf(0.5 + confidence / 2, fit.n - 2)) * fit.slope_se
    return fit.slope - h, fit.slope + h


def growth_fits(depths: Sequence[float], iterations: Sequence[float]) -> dict[str, LinearFit]:
    """Fit iteration counts against depth two ways: ``exponential``
    (``log N`` linear in ``L``; slope = growth rate per layer) and
    ``polynomial`` (``log N`` linear in ``log L``; slope = degree).  Both have
    two parameters, so their residual sums of squares (in ``log N``) compare
    directly.

    >>> g = growth_fits([2, 4, 8, 16], [4, 16, 64, 256])
    >>> round(g["polynomial"].slope, 9), g["polynomial"].rss < g["exponential"].rss
    (2.0, True)
    """
    L = np.asarray(depths, dtype=float)
    y = np.log(np.asarray(iterations, dtype=float))
    return {"exponential": linear_fit(L, y), "polynomial": linear_fit(np.log(L), y)}


@dataclass(frozen=True)
class GrowthComparison:
    """Result of :func:`compare_growth`.

    ``mean_llr`` is the mean over depths of the pointwise log-likelihood of
    the polynomial law minus that of the exponential law (Gaussian errors on
    ``log N``, each law at its maximum-likelihood fit), ``statistic`` its
    Student-t statistic; ``p_polynomial`` / ``p_exponential`` are the
    one-sided p-values of "the polynomial (exponential) law fits better";
    ``preferred`` is the law whose p-value is below ``level`` (``None``: the
    data cannot tell the laws apart at that level); ``reason`` says why no
    test was possible, if so."""

    fits: dict[str, LinearFit]
    n: int
    level: float
    mean_llr: float
    statistic: float
    p_polynomial: float
    p_exponential: float
    preferred: str | None
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "fits": {k: f.to_dict() for k, f in self.fits.items()},
            "n": self.n,
            "level": self.level,
            "mean_llr": self.mean_llr,
            "statistic": self.statistic,
            "p_polynomial": self.p_polynomial,
            "p_exponential": self.p_exponential,
            "preferred": self.preferred,
            "reason": self.reason,
        }


#: fewest depths :func:`compare_growth` tests on (each law leaves n - 2 residual degrees of freedom)
MIN_GROWTH_DEPTHS = 4


def compare_growth(
    depths: Sequence[float], iterations: Sequence[float], *, level: float = 0.05
) -> GrowthComparison:
    """Exponential (``log N = a + b L``) against polynomial (``log N = a + c
    log L``) growth of iteration counts: Vuong's (1989) likelihood-ratio test
    for non-nested models with the same number of parameters.

    Each law is fitted by least squares to ``log N`` (the maximum-likelihood
    fit under Gaussian errors of variance ``RSS / n``); the pointwise
    log-likelihood differences ``m_i`` (polynomial minus exponential) are
    tested for a nonzero mean with Student's t on ``n - 1`` degrees of
    freedom (:func:`scipy.stats.ttest_1samp`; Vuong's normal reference is the
    large-``n`` limit, too liberal for a handful of depths).  A law is
    ``preferred`` when its one-sided p-value is below ``level``.  With fewer
    than :data:`MIN_GROWTH_DEPTHS` depths nothing is preferred (``reason``
    says so).  Raises :class:`InputError` for non-positive counts.

    >>> L = [2, 4, 6, 8, 10, 12]
    >>> compare_growth(L, [10 * 1.5**x * (1 + 0.01 * (-1) ** x) for x in L]).preferred
    'exponential'
    >>> compare_growth(L, [10 * x**2 * (1 + 0.01 * (-1) ** x) for x in L]).preferred
    'polynomial'
    """
    n = len(depths)
    if any(not v > 0 for v in iterations):
        raise InputError("compare_growth needs positive iteration counts")
    fits = growth_fits(depths, iterations) if n >= 2 else {}
    nan = math.nan
    if n < MIN_GROWTH_DEPTHS:
        return GrowthComparison(
            fits, n, level, nan, nan, nan, nan, None, f"{n} depths; the test needs >= 4"
        )
    rss = {k: f.rss for k, f in fits.items()}
    if min(rss.values()) == 0.0:  # one law is exact on these points
        exact = [k for k, v in rss.items() if v == 0.0]
        pref = exact[0] if len(exact) == 1 else None
        p = {k: (0.0 if k == pref else 1.0) for k in rss}
        return GrowthComparison(
            fits, n, level, nan, nan, p["polynomial"], p["exponential"], pref, "an exact fit"
        )
    L = np.asarray(depths, dtype=float)
    y = np.log(np.asarray(iterations, dtype=float))

    def loglik(f: LinearFit, x: np.ndarray) -> np.ndarray:
        r = y - (f.intercept + f.slope * x)
        s2 = f.rss / n
        return -0.5 * np.log(2 * np.pi * s2) - r * r / (2 * s2)

    m = loglik(fits["polynomial"], np.log(L)) - loglik(fits["exponential"], L)
    t_greater = stats.ttest_1samp(m, 0.0, alternative="greater")
    p_poly = float(t_greater.pvalue)
    p_exp = float(stats.ttest_1samp(m, 0.0, alternative="less").pvalue)
    pref = "polynomial" if p_poly < level else "exponential" if p_exp < level else None
    return GrowthComparison(
        fits, n, level, float(m.mean()), float(t_greater.statistic), p_poly, p_exp, pref
    )
