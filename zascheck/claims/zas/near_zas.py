"""Remark after Theorem 4.3 (ZAS paper): near-ZAS init with small sigma still converges linearly.

Claim, quoted from the source (Wu, Wang & Ma, NeurIPS 2019, Sec. 4.2.1,
remark after the proof of Theorem 4.3):

    "Remark. Following the proof sketch, we can actually prove Theorem 4.3
    under "near-ZAS" initialization with perturbation: W_l(0) ~ N(I, sigma^2),
    l = 1, ..., L-1 and W_L(0) ~ N(0, sigma^2), where sigma is sufficiently
    small such that the approximate invariances condition (4.6) holds at the
    initialization."

The catalogue (CLAIMS.md) adds: report the largest ``sigma`` for which it does.

Kind: empirical; no bound (``sigma`` "sufficiently small" has no stated
value, and the remark gives no proof).  Two readings are formalized:

(a) method ``search``: Theorem 4.3's envelope ``R(t) <= (1 - eta/2)^t R(0)``
    at the theorem's own step from near-ZAS draws with ``sigma = 2^-14..2^-5``
    (the remark's literal content), every step decided in ball arithmetic;
    the negative property (``sigma >= 1/2``) must fail.

(b) method ``gd-bisection``: what the check asserts is "at a practical step,
    GD from near-ZAS with small sigma converges linearly at the rate ZAS has".
    The step ``eta`` is tuned for exact ZAS on ``eta_grid`` (fewest steps
    ``T_ZAS`` to ``R <= eps R(0)``).  One draw *converges linearly*
    (:func:`zascheck.measure.gd_lemmas.linear_convergence`) if within the
    step budget ``N = budget_factor * T_ZAS`` it reaches ``R <= eps R(0)``
    and no window of ``T_ZAS`` steps is slower than the budget's average
    rate ``eps^(1/N)`` (no plateau).  The claim is decided on the small
    sigmas ``sigma_lo * 2^-k`` (``k < small_grid``), ``seeds`` draws each:
    ``holds`` if every draw converges, ``violated`` (counterexample: the draw,
    its reason) otherwise.  measured = the slowest per-step window rate over
    those draws, bound ``eps^(1/N)``.  The largest sigma is a *finding*, not
    a verdict: a bracket ``[lo, hi]`` (``lo``: every draw passed; ``hi``: some
    draw failed, with its reason; both ends run), found by geometric bisection
    up to ``sigma_hi``; it is limited by the step budget ``N`` (a larger
    budget lets slower draws pass) and, if ``sigma_hi`` passes, by the search
    range.  Draw ``k`` is ``sigma Z_k`` with ``Z_k`` fixed across sigma, so
    the search moves along fixed rays; the predicate need not be monotone in
    sigma, which is why the result is a bracket.

Not formalized: the remark's sufficient condition ((4.6) at init) has hidden
constants, so no sigma threshold follows from it.

References: ZAS paper Sec. 4.2.1; ``zas.thm4.3`` (the envelope reused by
reading (a)); near-identity init (5.1) is the paper's contrast (``zas.fig3``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from zascheck import inits, model
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.escalate import Escalated
from zascheck.measure.evaluation import STEPS, eval_thm43
from zascheck.measure.gd_lemmas import gd_losses, linear_convergence
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, covers
from zascheck.targets import make_phi

CARD = Card(
    id="zas.near-zas",
    section="A",
    kind="empirical",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), remark after Theorem 4.3 (Sec. 4.2.1)",
    statement="Near-ZAS init W_l(0) ~ N(I, sigma^2), W_L(0) ~ N(0, sigma^2) with small sigma still converges linearly; largest such sigma reported.",
    bound="none",
    quantifiers=(
        Q("sigma", "every sufficiently small sigma > 0 (the largest that converges is reported)"),
        Q("init", "random W_l(0) ~ N(I, sigma^2) (l < L), W_L(0) ~ N(0, sigma^2)"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
    ),
    depends_on=("zas.thm4.3",),
)


@CARD.check(
    method="gd-bisection",
    budgets={
        "quick": {
            "L": 6,
            "d": 2,
            "phi": "-I",
            "eta_grid": [0.025, 0.05, 0.1, 0.2, 0.4],
            "budget_factor": 10,
            "eps": 1e-10,
            "seeds": 6,
            "sigma_lo": 0.01,
            "sigma_hi": 2.0,
            "bisections": 6,
            "init": "near-zas",
            "arithmetic": "float64",
        },
        "standard": {
            "L": 6,
            "d": 4,
            "phi": "-I",
            "eta_grid": [0.025, 0.05, 0.1, 0.2, 0.4],
            "budget_factor": 10,
            "eps": 1e-10,
            "seeds": 20,
            "sigma_lo": 0.01,
            "sigma_hi": 2.0,
            "bisections": 8,
            "init": "near-zas",
            "arithmetic": "float64",
        },
    },
    controls={
        # sigma far from small: the remark's hypothesis "small sigma" broken
        "sigma-large": {"sigma_lo": 1.5, "small_grid": 1, "bisections": 0},
        # near-identity init (5.1): W_L ~ I instead of ~ 0, against Shamir's -I
        "near-identity-init": {"init": "near-identity", "small_grid": 1, "bisections": 0},
    },
    accepts_phi=True,
)
def near_zas(
    ctx: RunContext,
    L: int,
    d: int,
    phi: Any,
    eta_grid: list[float],
    budget_factor: int,
    eps: float,
    seeds: int,
    sigma_lo: float,
    sigma_hi: float,
    bisections: int,
    init: str,
    arithmetic: str,
    tune_steps: int = 2000,
    small_grid: int = 4,
) -> CheckResult:
    """Reading (b) of the module docstring: linear convergence from near-ZAS
    draws at a step tuned for ZAS, decided on the small sigmas
    ``sigma_lo * 2^-k`` (``k < small_grid``), then the largest passing sigma
    as a bracket up to ``sigma_hi`` (``bisections`` geometric halvings).

    ``phi``: a target name or a user matrix (run as given); ``init``:
    ``near-zas`` or, for the control, ``near-identity`` (5.1).  Returns
    ``inconclusive`` if GD from exact ZAS converges for no ``eta`` in
    ``eta_grid`` within ``tune_steps``.
    """
    b = ctx.backend(arithmetic, 113)
    phi_m = make_phi(phi, d, ctx.rng(401))
    d = phi_m.shape[0]
    target = Target.whitened(b, phi_m)
    _representable(b, arithmetic, phi_m, L, target)
    tuning, t_zas, eta = _tune(b, L, d, target, eta_grid, tune_steps, eps)
    if t_zas == 0:  # R(0) = 0 from exact ZAS (Phi = 0): there is no ZAS rate to compare with
        return _no_zas_rate(b, tuning, d)
    if eta is None:
        return CheckResult(
            verdict=Verdict.INCONCLUSIVE,
            arithmetic=b.name,
            precision_bits=b.prec,
            evidence={"tuning": tuning},
            notes="GD from ZAS did not converge for any eta in eta_grid",
        )
    n_max = budget_factor * t_zas
    tried: dict[str, Any] = {}

    def draw(k: int, sigma: float) -> list[np.ndarray]:
        g = np.random.default_rng([ctx.seed, 402, k])
        return (
            inits.near_identity(L, d, g)
            if init == "near-identity"
            else inits.near_zas(L, d, sigma, g)
        )

    def passes(sigma: float) -> bool:
        per = []
        for k in range(seeds):
            ls, stop = gd_losses(b, draw(k, sigma), target, eta, n_max, eps)
            per.append(linear_convergence(ls, eps, n_max, t_zas) | {"seed": k, "stop": stop})
        ok = all(p["converged"] for p in per)
        tried[f"{sigma:.6g}"] = {"sigma": sigma, "all_pass": ok, "per_seed": per}
        return ok

    small = [sigma_lo * 2.0**-k for k in range(max(1, small_grid))]
    small_ok = {s: passes(s) for s in small}
    bracket = _bracket(passes, sigma_lo, sigma_hi, bisections) if all(small_ok.values()) else None
    label = "near-identity (5.1)" if init == "near-identity" else "near-ZAS"
    setting = {
        "L": L,
        "d": d,
        "eta": eta,
        "T_zas": t_zas,
        "N": n_max,
        "seeds": seeds,
        "label": label,
        "phi": phi,
        "eps": eps,
    }
    return _result(b, setting, small, tried, bracket, tuning, phi_m)


def _representable(b: Backend, arithmetic: str, phi_m: np.ndarray, L: int, target: Target) -> None:
    """Refuse (:class:`InputError`) an arithmetic other than float64 (the
    window-rate rule reads losses as doubles) and a target whose ``R(0)``
    underflows to 0 there (a nonzero target read as the zero one)."""
    if arithmetic != "float64":
        raise InputError(
            f"zas.near-zas:gd-bisection runs in float64 only, got arithmetic {arithmetic!r}"
        )
    d = phi_m.shape[0]
    if np.any(phi_m) and not b.to_float(model.loss(b, inits.zas(L, d), target)) > 0:
        big = float(np.max(np.abs(phi_m)))
        raise InputError(
            f"zas.near-zas: the target's loss R(0) = ||Phi||_F^2 / 2 underflows to 0 in {b.name} "
            f"(||Phi||_F = {big * float(np.linalg.norm(phi_m / big)):.3g}): the run cannot be "
            "represented; rescale the target"
        )


def _no_zas_rate(b: Backend, tuning: dict[str, Any], d: int) -> CheckResult:
    """The result for a target at which exact ZAS starts at a global minimum
    (``R(0) = 0``: ``Phi = 0``): reading (b) has no ZAS rate or step count to
    compare with, so nothing is decided (``inconclusive``, the notes say why)."""
    return CheckResult(
        verdict=Verdict.INCONCLUSIVE,
        arithmetic=b.name,
        precision_bits=b.prec,
        evidence={"tuning": tuning},
        scope={"Phi": covers(f"one target with R(0) = 0 from ZAS (||Phi||_F = 0), d = {d}")},
        notes="GD from exact ZAS starts at a global minimum (R(0) = 0: the target is the "
        "product W_L...W_1 = 0 of the init), so it has no convergence rate or step count "
        "T_ZAS; this reading (linear convergence at the rate ZAS has, budget "
        "budget_factor * T_ZAS) does not apply to this target: nothing is decided",
    )


def _tune(
    b: Backend,
    L: int,
    d: int,
    target: Target,
    eta_grid: list[float],
    tune_steps: int,
    eps: float,
) -> tuple[dict[str, Any], int, float | None]:
    """The step of ``eta_grid`` with which GD from exact ZAS reaches
    ``R <= eps R(0)`` in the fewest steps ``T_ZAS`` (``None`` if none does)."""
    tuning: dict[str, Any] = {}
    for e in eta_grid:
        ls, stop = gd_losses(b, inits.zas(L, d), target, e, tune_steps, eps)
        tuning[str(e)] = len(ls) - 1 if stop == "converged" else None
    ok = [(t, float(e)) for e, t in tuning.items() if t is not None]
    if not ok:
        return tuning, 0, None
    t_zas, eta = min(ok)
    return tuning, t_zas, eta


def _bracket(
    passes: Callable[[float], bool], lo: float, hi: float, bisections: int
) -> dict[str, Any]:
    """The largest passing sigma as a bracket ``[lo, hi]`` (``lo`` passed for
    every draw, ``hi`` failed for some; ``hi = None``: ``sigma_hi`` passed, the
    search range limits the finding)."""
    if bisections <= 0:
        return {"lo": lo, "hi": None, "limited_by": "no bisection requested"}
    if passes(hi):
        return {"lo": hi, "hi": None, "limited_by": f"the search range (sigma_hi = {hi:g} passed)"}
    for _ in range(bisections):
        mid = math.sqrt(lo * hi)
        if passes(mid):
            lo = mid
        else:
            hi = mid
    return {"lo": lo, "hi": hi, "limited_by": None}


def _result(
    b: Backend,
    s: dict[str, Any],
    small: list[float],
    tried: dict[str, Any],
    bracket: dict[str, Any] | None,
    tuning: dict[str, Any],
    phi_m: np.ndarray,
) -> CheckResult:
    """Verdict on the small sigmas; the bracket as the finding."""
    recs = [p | {"sigma": sg} for sg in small for p in tried[f"{sg:.6g}"]["per_seed"]]
    worst = max(recs, key=lambda p: p["worst_window_rate"])
    bad = next((p for p in recs if not p["converged"]), None)
    verdict = Verdict.HOLDS if bad is None else Verdict.VIOLATED
    if bracket is not None and bracket["hi"] is not None:
        why = tried[f"{bracket['hi']:.6g}"]["per_seed"]
        reasons = sorted({p["reason"] for p in why if not p["converged"]})
        bracket["limited_by"] = (
            f"the step budget N = {s['N']} and the window rule: at hi, " + "; ".join(reasons)
        )
    finding = (
        "no bracket: a small sigma failed"
        if bracket is None
        else f"largest sigma passing in [{bracket['lo']:.4g}, "
        + ("oo)" if bracket["hi"] is None else f"{bracket['hi']:.4g}]")
        + f" (limited by {bracket['limited_by']})"
    )
    res = CheckResult(
        verdict=verdict,
        measured=worst["worst_window_rate"],
        bound=worst["rate_bound"],
        relation="<=",
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="slowest per-step window rate over the small-sigma draws (bound eps^(1/N))",
        evidence={
            "tuning_steps_to_eps": tuning,
            "eta": s["eta"],
            "T_zas": s["T_zas"],
            "budget_steps": s["N"],
            "window": s["T_zas"],
            "small_sigmas": small,
            "largest_sigma": bracket,
            "sigmas_tried": tried,
            "phi": phi_m,
        },
        tightest={
            "sigma_bracket": None if bracket is None else [bracket["lo"], bracket["hi"]],
            "limited_by": None if bracket is None else bracket["limited_by"],
        },
        scope={
            "sigma": covers(
                "sigma in {" + ", ".join(f"{x:.4g}" for x in small) + "} (decided); " + finding
            ),
            "init": covers(f"{s['seeds']} {s['label']} draws per sigma (fixed directions)"),
            "Phi": covers(
                f"one target: {s['phi'] if isinstance(s['phi'], str) else 'user (as given)'}, d = {s['d']}"
            ),
            "L": covers(f"L = {s['L']}"),
        },
        notes=f"{s['label']} init, L = {s['L']}, d = {s['d']}, eta = {s['eta']} (tuned: ZAS reaches "
        f"{s['eps']:g} R(0) in {s['T_zas']} steps), budget N = {s['N']} steps, window {s['T_zas']}, "
        f"{s['seeds']} seeds; small sigmas {'all converge linearly' if bad is None else 'FAIL'}; {finding}",
    )
    if bad is not None:
        res.counterexample = {
            "init": s["label"],
            "sigma": bad["sigma"] if s["label"] == "near-ZAS" else None,
            "seed": bad["seed"],
            "reason": bad["reason"],
            "T": bad["T"],
            "worst_window_rate": bad["worst_window_rate"],
            "rate_bound": bad["rate_bound"],
            "eta": s["eta"],
            "budget_steps": s["N"],
            "L": s["L"],
            "d": s["d"],
        }
    return res


# --- hypothesis property: evaluator and declarations ---


def eval_near_zas(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.near-zas reading (a): Theorem 4.3's envelope at the theorem's step
    from ``inits.near_zas(sigma)`` (:func:`zascheck.measure.evaluation.eval_thm43`)."""
    c = dict(case)
    c["init"] = {"init": "near-zas", "sigma": case["sigma"], "seed": case["seed"]}
    return eval_thm43(c, certify)


CARD.prop(
    None,
    lambda: S.near_zas_cases(steps=STEPS),
    eval_near_zas,
    certify=True,
    summary="near-ZAS init, sigma <= 2^-5: Theorem 4.3's envelope",
)

CARD.prop(
    "large-sigma",
    lambda: S.near_zas_cases(sigma_log2=(-1, 3), steps=STEPS),
    eval_near_zas,
    certify=True,
    summary="sigma >= 1/2: must fail",
)

CARD.search(examples=(5, 100, 1000))
