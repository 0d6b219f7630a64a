"""``ssm.sharpness``: GD on a smooth function converges (for almost every
initialization) only to minima with ``eta lambda_max(Hessian) <= 2``.

Source: reviews of "Step Size Matters in Deep Learning" (NeurIPS 2018),
review 1 (Originality): "I think it is common knowledge that on smooth
functions we require 2/(step size) be larger than the max eigenvalue of the
Hessian for GD to converge for almost every initialization".

Kind: inequality, an upper bound on ``eta lambda_max`` at the limit (the
instability lemma: a minimum with ``eta lambda_max > 2`` is a repelling fixed
point of the GD map, whose stable set has measure zero; Lee et al. 2016's
stable-manifold argument).  Not claimed tight.

Formalized on the deep linear loss ``1/2 ||W_{L:1} - R||_F^2``: at every limit
GD reaches (``R <= u R(0)``) from random inits, ``eta lambda_max`` of the
Hessian there is compared with 2, with an error budget for the distance of
the last iterate to the true limit.  Not formalized: other smooth functions;
"almost every" (the inits are samples).  The quantifier ``init`` is the
hypothesis the control breaks: an init on the measure-zero set that stays at
a sharp minimum.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import dynamics, inits, ssm
from zascheck.card import SSM_REV, Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm_checks import (
    lam_max,
    need_choice,
    need_int,
    need_ints,
    need_number,
    need_numbers,
    ssm_result,
    user_target,
)
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers, decide

CARD = Card(
    id="ssm.sharpness",
    section="C",
    kind="inequality",
    source=f"{SSM_REV}, review 1",
    statement=(
        "GD on a smooth function converges (a.e. init) only to minima with eta lambda_max <= 2."
    ),
    bound="upper",
    quantifiers=(
        Q("f", "every smooth function (formalized: deep linear losses 1/2||W_{L:1} - R||^2)"),
        Q("init", "almost every initialization"),
        Q("eta", "every step size eta > 0"),
    ),
    depends_on=(),
    figure="ssm",
)


@CARD.check(
    method="gd-limits",
    budgets={
        "quick": {"d": 2, "L": 2, "eta_fracs": [0.5, 0.9, 1.3], "seeds": [0, 1],
                  "init_scale": 0.5, "max_steps": 1500, "init": "random"},
        "standard": {"d": 2, "L": 3, "eta_fracs": [0.3, 0.6, 0.9, 0.97, 1.1, 1.5],
                     "seeds": [0, 1, 2], "init_scale": 0.5, "max_steps": 4000, "init": "random"},
        "thorough": {"d": 3, "L": 4, "eta_fracs": [0.3, 0.6, 0.9, 0.97, 1.1, 1.5],
                     "seeds": list(range(6)), "init_scale": 0.5, "max_steps": 10000,
                     "init": "random"},
    },
    controls={"start-at-sharp-minimum": {"init": "sharp-minimum"}},
    accepts_phi=True,
)  # fmt: skip
def check_sharpness(
    ctx: RunContext,
    *,
    d: int,
    L: int,
    eta_fracs: list[float],
    seeds: list[int],
    init_scale: float,
    max_steps: int,
    init: str,
    phi: Any = None,
) -> CheckResult:
    """At every limit GD reaches, ``eta lambda_max(H) <= 2``.

    GD (float64) on ``1/2 ||W_{L:1} - R||_F^2`` (``R`` Gaussian ``d x d``, or the
    user's ``phi``) from ``init_scale`` times Xavier inits, at ``eta = f eta_1``
    for each ``f`` in ``eta_fracs``; where it reaches ``R <= u R(0)``, the
    Hessian at the last iterate (HVPs of ``model.grads``) gives
    ``eta lambda_max``.  Error budget ``eta (gamma_n ||H||_F + |dlambda| q/(1-q))``:
    rounding, plus a geometric tail estimate of the distance to the true limit
    (``dlambda`` the change of ``lambda_max`` over the last step, ``q`` the last
    contraction of the residual).  Measured: the largest ``eta lambda_max``.
    Control ``start-at-sharp-minimum``: every run starts exactly at the float64
    minimum ``(c I, I, ..., R/c)`` with ``c^2 > L rho^{2(L-1)/L} / f``, so
    ``eta lambda_max > 2`` there, and stays (an init on a measure-zero set).
    """
    L, d = need_int("L", L, 1), need_int("d", d, 1)
    fs = need_numbers("eta_fracs", eta_fracs, lo=0.0)
    init = need_choice("init", init, ("random", "sharp-minimum"))
    scale = need_number("init_scale", init_scale, lo=0.0)
    seeds = need_ints("seeds", seeds)
    b = ctx.backend("float64")
    R = ctx.rng(103).standard_normal((d, d)) if phi is None else user_target(phi, nonzero=True)
    tgt = Target.whitened(b, R)
    rho = float(np.linalg.norm(R, 2))
    eta1 = ssm.thm1_eta(L, rho)
    runs = []
    for seed in seeds:
        if init == "random":
            ws0 = [scale * w for w in inits.xavier(L, R.shape[0], seed=ctx.rng(1000 + seed))]
        else:
            need = ssm.thm1_bound(L, rho) / min(fs)
            ws0 = ssm.float_exact_minimum(R, L, 2.0 ** math.ceil(math.log2(math.sqrt(4 * need))))
        for f in fs:
            rec = _limit_sharpness(b, ws0, tgt, f * eta1, need_int("max_steps", max_steps))
            runs.append({"seed": seed, "eta_frac": f} | rec)
    return _sharpness_result(b, runs, eta1, rho, L, d, init, scale, phi is not None)


def _limit_sharpness(
    b: Any, ws0: list[Any], tgt: Target, eta: float, max_steps: int
) -> dict[str, Any]:
    """One GD run; at a reached limit, ``eta lambda_max`` and its error budget."""
    hist: list[list[Any]] = []

    def keep(t: int, ws: Any, r: Any, g: Any) -> None:
        hist.append(list(ws))
        del hist[:-2]

    run = dynamics.gd(
        b, ws0, tgt, eta, max_steps=max_steps, rel_tol=b.unit_roundoff, observers=[keep]
    )
    rec: dict[str, Any] = {"stop": run.stop, "steps": run.steps}
    if run.stop != "converged":
        return rec
    h_t = ssm.hessian(b, hist[-1], tgt)
    lam_t = max(b.eigvalsh(h_t))
    tail = 0.0
    if len(hist) == 2 and run.losses[-2] > 0:
        q = math.sqrt(run.losses[-1] / run.losses[-2])
        dlam = abs(lam_t - lam_max(b, hist[0], tgt))
        tail = dlam * q / (1 - q) if q < 1 else math.inf
    n = sum(w.size for w in hist[-1])
    err = eta * (b.gamma(n) * float(np.linalg.norm(h_t)) + tail)
    return rec | {"eta_lambda_max": eta * lam_t, "err": err,
                  "verdict": decide(b, eta * lam_t, 2.0, relation="<=", err=err)}  # fmt: skip


def _sharpness_result(
    b: Any, runs: list[dict[str, Any]], eta1: float, rho: float, L: int, d: int, init: str,
    scale: float, user: bool,
) -> CheckResult:  # fmt: skip
    conv = [r for r in runs if "verdict" in r]
    for r in conv:
        r["verdict"] = r["verdict"].value
    scope = {
        "f": covers(f"deep linear loss, L = {L}, " + ("the user's target" if user
                                                      else f"1 Gaussian target, d = {d}")),
        "init": covers(f"{len({r['seed'] for r in runs})} Xavier inits x {scale}"
                       if init == "random" else "exactly at a sharp minimum (measure zero)"),
        "eta": covers(f"eta/eta_1 in {sorted({r['eta_frac'] for r in runs})}"),
    }  # fmt: skip
    if not conv:
        return ssm_result(b, Verdict.INCONCLUSIVE, float("nan"), 2.0, "<=", how="GD limits",
                          notes="no run reached a minimum", evidence={"runs": runs},
                          scope=scope)  # fmt: skip
    verdict = combine_verdicts(Verdict(r["verdict"]) for r in conv)
    worst = max(conv, key=lambda r: r["eta_lambda_max"])
    return ssm_result(
        b, verdict, worst["eta_lambda_max"], 2.0, "<=",
        how="GD to convergence, Hessian at the limit (HVP of model.grads)",
        notes=(f"{len(conv)} of {len(runs)} runs reached a minimum (L = {L}, eta_1 = "
               f"{eta1:.4g}); largest eta*lambda_max = {worst['eta_lambda_max']:.6g} at "
               f"eta = {worst['eta_frac']} eta_1 (budget {worst['err']:.2g})."),
        evidence={"runs": runs, "eta1": eta1, "rho": rho},
        scope=scope,
        counterexample=worst if verdict is Verdict.VIOLATED else None,
    )  # fmt: skip
