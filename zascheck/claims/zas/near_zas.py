"""Near-ZAS init with small sigma still converges linearly; largest such sigma reported.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), remark after Theorem 4.3.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import inits
from zascheck import strategies as S
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import Escalated
from zascheck.measure.evaluation import STEPS, eval_thm43
from zascheck.measure.gd_lemmas import gd_losses, linear_convergence
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict
from zascheck.targets import make_phi

CARD = Card(
    id="zas.near-zas",
    section="A",
    kind="empirical",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), remark after Theorem 4.3",
    statement="Near-ZAS init with small sigma still converges linearly; largest such sigma reported.",
    bound="none",
    quantifiers=(
        Q("sigma", "small sigma > 0 (the largest that converges is reported)"),
        Q("init", "random W_l(0) ~ N(I, sigma^2), W_L(0) ~ N(0, sigma^2)"),
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
        "sigma-large": {"sigma_lo": 1.5, "bisections": 0},
        # near-identity init (5.1): W_L ~ I instead of ~ 0, against Shamir's -I
        "near-identity-init": {"init": "near-identity", "bisections": 0},
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
) -> CheckResult:
    """Remark after Theorem 4.3 (ZAS paper, Sec. 4.2): near-ZAS initialization
    ``W_l(0) ~ N(I, sigma^2)`` (``l < L``), ``W_L(0) ~ N(0, sigma^2)`` with
    small ``sigma`` still converges linearly.

    Reading formalized.  Step: ``eta`` = the value in ``eta_grid`` with which
    GD from exact ZAS reaches ``R <= eps R(0)`` in the fewest steps
    ``T_ZAS`` (at most ``tune_steps``; tuned for ZAS, then fixed).  "Converges linearly" for one
    init (:func:`linear_convergence`): within ``N = budget_factor * T_ZAS``
    steps GD reaches ``R <= eps R(0)``, and no window of ``w = T_ZAS`` steps
    before that is slower than the budget's average rate:
    ``R(t + w) <= eps^(w/N) R(t)`` (no plateau, no blow-up).  A ``sigma``
    passes if all ``seeds`` draws pass; draw ``k`` is ``sigma Z_k`` with
    ``Z_k`` fixed across ``sigma``, so the search moves along fixed rays.
    The claim holds if ``sigma_lo`` passes; the largest passing ``sigma`` is
    then found by geometric bisection between ``sigma_lo`` and ``sigma_hi``
    (the predicate need not be monotone in ``sigma``: the result is a bracket,
    ``tightest``).  measured = the largest ``sigma`` that passed (``>= 0``).
    Controls: ``sigma_lo = 1.5`` (not small) and the near-identity init
    (5.1) (``W_L ~ I``), both with ``Phi = -I``, must fail.
    """
    b = ctx.backend(arithmetic, 113)
    phi_m = make_phi(phi, d, ctx.rng(401))
    d = phi_m.shape[0]
    target = Target.whitened(b, phi_m)
    tuning = {}
    for e in eta_grid:
        ls, stop = gd_losses(b, inits.zas(L, d), target, e, tune_steps, eps)
        tuning[str(e)] = len(ls) - 1 if stop == "converged" else None
    ok_etas = [(t, float(e)) for e, t in tuning.items() if t is not None]
    if not ok_etas:
        return CheckResult(
            verdict=Verdict.INCONCLUSIVE,
            arithmetic=b.name,
            precision_bits=b.prec,
            evidence={"tuning": tuning},
            notes="GD from ZAS did not converge for any eta in eta_grid",
        )
    t_zas, eta = min(ok_etas)
    n_max = budget_factor * t_zas
    window = t_zas
    tried: dict[str, Any] = {}

    def draw(k: int, sigma: float) -> list[np.ndarray]:
        g = np.random.default_rng([ctx.seed, 402, k])
        if init == "near-identity":
            return inits.near_identity(L, d, g)
        return inits.near_zas(L, d, sigma, g)

    def passes(sigma: float) -> bool:
        per = []
        for k in range(seeds):
            ls, stop = gd_losses(b, draw(k, sigma), target, eta, n_max, eps)
            lc = linear_convergence(ls, eps, n_max, window)
            lc["seed"] = k
            lc["stop"] = stop
            per.append(lc)
        tried[f"{sigma:.6g}"] = {
            "sigma": sigma,
            "all_pass": all(p["converged"] for p in per),
            "per_seed": per,
        }
        return all(p["converged"] for p in per)

    lo_ok = passes(sigma_lo)
    best, fail = (sigma_lo if lo_ok else None), None
    if lo_ok and bisections > 0:
        if passes(sigma_hi):
            best = sigma_hi
        else:
            lo, hi = sigma_lo, sigma_hi
            for _ in range(bisections):
                mid = math.sqrt(lo * hi)
                if passes(mid):
                    lo = mid
                else:
                    hi = mid
            best, fail = lo, hi
    verdict = Verdict.HOLDS if lo_ok else Verdict.VIOLATED
    label = "near-identity (5.1)" if init == "near-identity" else "near-ZAS"
    res = CheckResult(
        verdict=verdict,
        measured=best if best is not None else 0.0,
        bound=0.0,
        margin=best if best is not None else 0.0,
        relation=">=",
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="largest sigma with linear convergence for every seed",
        evidence={
            "tuning_steps_to_eps": tuning,
            "eta": eta,
            "T_zas": t_zas,
            "budget_steps": n_max,
            "window": window,
            "sigmas_tried": tried,
            "phi": phi_m,
        },
        notes=(
            f"{label} init, L = {L}, d = {d}, eta = {eta} (tuned: ZAS reaches {eps:g} R(0) in "
            f"{t_zas} steps), budget {n_max} steps, window {window}, {seeds} seeds; "
            + (
                f"largest sigma passing: {best:.4g}"
                + (f" (first failing: {fail:.4g})" if fail else " (upper end of the search)")
                if lo_ok
                else f"sigma = {sigma_lo:g} does not converge linearly"
            )
        ),
    )
    if lo_ok:
        res.tightest = {"sigma_pass": best, "sigma_fail": fail}
    else:
        bad = next(p for p in tried[f"{sigma_lo:.6g}"]["per_seed"] if not p["converged"])
        res.counterexample = {
            "init": label,
            "sigma": sigma_lo if init != "near-identity" else None,
            "seed": bad["seed"],
            "reason": bad["reason"],
            "T": bad["T"],
            "worst_window_rate": bad["worst_window_rate"],
            "rate_bound": bad["rate_bound"],
            "eta": eta,
            "L": L,
            "d": d,
        }
    return res


# --- hypothesis property: evaluator and declarations ---


def eval_near_zas(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.near-zas: Theorem 4.3's envelope from ``inits.near_zas(sigma)``."""
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
