"""GD on a smooth function converges (a.e. init) only to minima with eta lambda_max <= 2.

Source: reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), review 1.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, inits, ssm
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm import _lam_max, _result, _worst
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="ssm.sharpness",
    section="C",
    kind="inequality",
    source="reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), review 1",
    statement="GD on a smooth function converges (a.e. init) only to minima with eta lambda_max <= 2.",
    bound="upper",
    quantifiers=(Q("limits", "every limit point GD reaches (a.e. init)"),),
    depends_on=(),
    figure="ssm",
)


@CARD.check(
    method="gd-limits",
    budgets={
        "quick": {
            "d": 2,
            "L": 2,
            "eta_fracs": [0.5, 0.9, 1.3],
            "seeds": [0, 1],
            "init_scale": 0.5,
            "max_steps": 1500,
            "start": "random",
        },
        "standard": {
            "d": 2,
            "L": 3,
            "eta_fracs": [0.3, 0.6, 0.9, 0.97, 1.1, 1.5],
            "seeds": [0, 1, 2],
            "init_scale": 0.5,
            "max_steps": 4000,
            "start": "random",
        },
        "thorough": {
            "d": 3,
            "L": 4,
            "eta_fracs": [0.3, 0.6, 0.9, 0.97, 1.1, 1.5],
            "seeds": list(range(6)),
            "init_scale": 0.5,
            "max_steps": 10000,
            "start": "random",
        },
    },
    controls={"start-at-sharp-minimum": {"start": "sharp-minimum"}},
)
def check_sharpness(
    ctx: RunContext,
    *,
    d: int,
    L: int,
    eta_fracs: list[float],
    seeds: list[int],
    init_scale: float,
    max_steps: int,
    start: str,
) -> CheckResult:
    """GD on a smooth function converges (for almost every init) only to minima with
    ``eta lambda_max(Hessian) <= 2``.

    Source: reviews of SSM (NeurIPS 2018), review 1 ("common knowledge ... for
    almost every initialization").  Formalized on the deep linear network: GD from
    random inits (``init_scale * N(0, 1/d)``) at steps ``eta = f * eta_1`` for the
    listed fractions ``f``; at every run that reaches ``R <= u R(0)`` the Hessian at
    the limit is formed (HVPs of ``model.grads``) and ``eta lambda_max`` compared
    with 2.  Error budget: ``eta (gamma_n ||H||_F + |dlambda| q/(1-q))`` with
    ``dlambda`` the change of ``lambda_max`` over the last step and ``q`` the last
    contraction of the residual (a geometric tail estimate of the distance to the
    true limit).  Control: GD started exactly at a sharp minimum (exact arithmetic,
    a measure-zero init) stays there.
    """
    rng_t = ctx.rng(103)
    if start == "sharp-minimum":
        import flint

        b = ctx.backend("exact")
        tgt = Target.whitened(b, [[1]])
        ws0 = [[[2]], [[Fraction(1, 2)]]]
        eta: Fraction | float = Fraction(1)
        run = dynamics.gd(b, ws0, tgt, eta, max_steps=5, rel_tol=0.0)
        top_ex, _top_ball = ssm.top_eigenvalue_exact(ssm.hessian(b, run.ws, tgt), flint)
        val: Fraction | float = eta * Fraction(int(top_ex.p), int(top_ex.q))
        verdict = (
            decide(b, b.scalar(val), 2, relation="<=")
            if run.stop == "converged"
            else Verdict.INCONCLUSIVE
        )
        return _result(
            b,
            verdict,
            float(val),
            2.0,
            "<=",
            how="exact GD from a minimum",
            notes="GD started at the minimum (2, 1/2) of (w2 w1 - 1)^2/2 with eta = 1 stops "
            f"'{run.stop}' "
            f"with eta*lambda_max = {val}.",
            evidence={"stop": run.stop, "eta_lambda_max": float(val)},
            counterexample={"init": "(w1, w2) = (2, 1/2)", "eta": 1, "eta_lambda_max": str(val)}
            if verdict == Verdict.VIOLATED
            else None,
        )
    b = ctx.backend("float64")
    phi = rng_t.standard_normal((d, d))
    tgt = Target.whitened(b, phi)
    rho = float(np.linalg.norm(phi, 2))
    eta1 = ssm.thm1_eta(L, rho)
    n = L * d * d
    runs = []
    worst = None
    verdicts = []
    for seed in seeds:
        ws0 = [init_scale * w for w in inits.xavier(L, d, seed=ctx.rng(1000 + seed))]
        for f in eta_fracs:
            eta = f * eta1
            hist: list[list[Any]] = []

            def keep(t: int, ws: Any, r: Any, g: Any, hist: list = hist) -> None:
                hist.append(list(ws))
                if len(hist) > 2:
                    hist.pop(0)

            run = dynamics.gd(
                b, ws0, tgt, eta, max_steps=max_steps, rel_tol=b.unit_roundoff, observers=[keep]
            )
            rec: dict[str, Any] = {
                "seed": seed,
                "eta_frac": f,
                "stop": run.stop,
                "steps": run.steps,
            }
            if run.stop == "converged" and len(hist) == 2:
                h_t = ssm.hessian(b, hist[-1], tgt)
                lam_t = max(b.eigvalsh(h_t))
                lam_p = _lam_max(b, hist[0], tgt)
                q = math.sqrt(run.losses[-1] / run.losses[-2]) if run.losses[-2] > 0 else 0.0
                tail = abs(lam_t - lam_p) * q / (1 - q) if q < 1 else math.inf
                err = eta * (b.gamma(n) * float(np.linalg.norm(h_t)) + tail)
                val = eta * lam_t
                v = decide(b, val, 2.0, relation="<=", err=err)
                verdicts.append(v)
                rec.update({"eta_lambda_max": val, "err": err})
                if worst is None or val > worst["eta_lambda_max"]:
                    worst = dict(rec)
            runs.append(rec)
    if worst is None:
        return _result(
            b,
            Verdict.INCONCLUSIVE,
            float("nan"),
            2.0,
            "<=",
            how="GD limits",
            notes="no run converged",
            evidence={"runs": runs},
        )
    verdict = _worst(*verdicts)
    return _result(
        b,
        verdict,
        worst["eta_lambda_max"],
        2.0,
        "<=",
        how="GD to convergence, Hessian at the limit (HVP of model.grads)",
        notes=(
            f"{len(verdicts)} of {len(runs)} runs converged (L = {L}, d = {d}, eta_1 = "
            f"{eta1:.4g}); "
            f"largest eta*lambda_max = {worst['eta_lambda_max']:.6g} at eta = {worst['eta_frac']} "
            "eta_1."
        ),
        evidence={"runs": runs, "eta1": eta1, "rho": rho},
        counterexample=worst if verdict == Verdict.VIOLATED else None,
    )
