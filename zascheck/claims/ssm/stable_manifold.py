"""Instability rules out convergence only for almost every init: inits on a stable manifold converge to minima above the bound.

Source: reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), review 1, minor point 1.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from zascheck import dynamics, ssm
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm import _result
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="ssm.stable-manifold",
    section="C",
    kind="empirical",
    source="reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), review 1, minor point 1",
    statement="Instability rules out convergence only for almost every init: inits on a stable manifold converge to minima above the bound.",
    bound="none",
    quantifiers=(Q("init", "exists an init (measure zero) converging above the bound"),),
    depends_on=("ssm.thm1",),
)


@CARD.check(
    method="exact-preimage",
    budgets={
        "quick": {"n_inits": 3, "perturb": 0, "prec": 113, "steps": 200},
        "standard": {"n_inits": 10, "perturb": 0, "prec": 113, "steps": 400},
        "thorough": {"n_inits": 30, "perturb": 0, "prec": 160, "steps": 800},
    },
    controls={"off-manifold": {"perturb": 30}},
)
def check_stable_manifold(
    ctx: RunContext, *, n_inits: int, perturb: int, prec: int, steps: int
) -> CheckResult:
    """Instability excludes convergence to a minimum only for almost every init:
    inits on a stable manifold converge to minima above the bound.

    Source: reviews of SSM (NeurIPS 2018), review 1, minor point 1.  Formalized
    (d = 1, L = 2): for rational ``(a0, b0, eta)`` the target ``r`` is chosen so that
    one GD step lands *exactly* on the minimum curve ``a b = r``
    (``zascheck.ssm.preimage_of_minimum``); such inits form a curve (a one-step stable set of
    the minima).  Exact GD stays there forever; the exact Hessian gives
    ``eta lambda_max``.  Only triples with ``eta > eta_1 = 1/|r|`` are kept, so every
    global minimum is unstable, yet these inits converge.  Measured: the largest
    ``eta lambda_max`` at an exhibited limit (``>= 2`` means exhibited).
    Control: the init moved off the curve by ``2^-perturb`` (mp arithmetic):
    GD no longer reaches a minimum.
    """
    import flint

    rng = ctx.rng(104)
    ex = ctx.backend("exact")
    b = ex if not perturb else ctx.backend("mp", prec)
    found: list[dict[str, Any]] = []
    tries = 0
    while len(found) < n_inits and tries < 50 * n_inits:
        tries += 1
        a0 = Fraction(int(rng.integers(1, 13)), 4)
        b0 = Fraction(int(rng.integers(1, 13)), 4)
        eta = Fraction(int(rng.integers(1, 5)), 2)
        r, e, a1, b1 = ssm.preimage_of_minimum(a0, b0, eta)
        if r == 0 or e == 0 or eta * abs(r) <= 1:
            continue
        tgt = Target.whitened(b, [[r]])
        start = [[[a0 + (Fraction(1, 2**perturb) if perturb else 0)]], [[b0]]]
        if perturb:
            run = dynamics.gd(
                b, start, tgt, b.scalar(eta), max_steps=steps, rel_tol=b.unit_roundoff
            )
        else:
            run = dynamics.gd(b, start, tgt, eta, max_steps=4, rel_tol=0.0)
        rec: dict[str, Any] = {
            "a0": str(a0),
            "b0": str(b0),
            "eta": str(eta),
            "r": str(r),
            "stop": run.stop,
            "steps": run.steps,
        }
        if run.stop == "converged":
            h = ssm.hessian(b, run.ws, tgt)
            if b.exact:
                top_ex, _ = ssm.top_eigenvalue_exact(h, flint)
                val = eta * Fraction(int(top_ex.p), int(top_ex.q))
                rec["eta_lambda_max"] = str(val)
                rec["value"] = float(val)
                rec["limit"] = [str(a1), str(b1)]
            else:
                rec["value"] = float(eta) * max(b.eigvalsh(h))
        else:
            rec["value"] = 0.0
        found.append(rec)
    best = max(found, key=lambda r_: r_["value"])
    if b.exact:
        verdict = decide(ex, ex.scalar(Fraction(best["eta_lambda_max"])), 2, relation=">=")
    else:
        verdict = decide(
            b, best["value"], 2.0, relation=">=", err=b.gamma(8) * max(best["value"], 1.0)
        )
    return _result(
        b,
        verdict,
        best["value"],
        2.0,
        ">=",
        how="exact one-step preimages of the minimum curve (d = 1, L = 2)",
        measured_repr=best.get("eta_lambda_max", ""),
        notes=(
            f"{sum(r_['stop'] == 'converged' for r_ in found)} of {len(found)} inits reach a "
            "global minimum; "
            f"largest eta*lambda_max at the limit = {best['value']:.6g} (all minima unstable: eta "
            "> 1/|r|)." + (f" Inits moved by 2^-{perturb}." if perturb else "")
        ),
        evidence={"inits": found},
        counterexample=best if verdict == Verdict.VIOLATED else None,
    )
