"""``ssm.stable-manifold``: instability rules out convergence only for almost every
initialization: some inits (on a stable manifold) converge to minima above
the bound.

Source: reviews of "Step Size Matters in Deep Learning" (NeurIPS 2018),
review 1, minor point 1: "Lyapunov instability implies that we can't to
converge to fixed point *independently of initialization*, not in general
(since for certain initializations, on stable manifolds, we may still
converge). [...] This makes the Theorems 1 and 4 (and Corollary 2) technically
wrong, so it should be corrected."

Kind: empirical, an existence claim: exhibit inits that GD takes to a global
minimum with ``eta lambda_max > 2`` (so every global minimum is unstable,
``eta > eta_1``).  Formalized with ``d = 1``, ``L = 2``: for rational
``(a0, b0, eta)`` the target ``r`` is chosen so that one GD step lands
*exactly* on the minimum curve ``a b = r`` (:func:`zascheck.ssm.preimage_of_minimum`);
exact GD then stays there, and the exact Hessian gives ``eta lambda_max``.
One such init proves the claim (``universal`` for an existential quantifier).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from zascheck import dynamics, ssm
from zascheck.card import SSM_REV, Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm_checks import need_int, ssm_result
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, covers, decide

CARD = Card(
    id="ssm.stable-manifold",
    section="C",
    kind="empirical",
    source=f"{SSM_REV}, review 1, minor point 1",
    statement=(
        "Instability rules out convergence only for almost every init: inits on a stable "
        "manifold converge to minima above the bound."
    ),
    bound="none",
    quantifiers=(Q("init", "there exist inits (measure zero) converging above the bound"),),
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
    """Exhibit ``n_inits`` one-step preimages of the minimum curve with
    ``eta > eta_1 = 1/|r|`` (every global minimum unstable); exact GD (4 steps)
    stays on the curve and the exact top Hessian eigenvalue at the limit gives
    ``eta lambda_max``.  Measured: the largest ``eta lambda_max`` at an exhibited
    limit (``>= 2`` exhibits the claim).
    Control ``off-manifold``: the init moved off the curve by ``2^-perturb``
    (mp arithmetic, ``steps`` GD steps): GD no longer reaches a minimum.
    """
    n_inits, perturb = need_int("n_inits", n_inits, 1), need_int("perturb", perturb)
    rng = ctx.rng(104)
    ex = ctx.backend("exact")
    b = ex if not perturb else ctx.backend("mp", need_int("prec", prec, 53))
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
        found.append(_run_from(b, a0, b0, eta, r, (a1, b1), perturb, need_int("steps", steps)))
    best = max(found, key=lambda r_: r_["value"])
    if b.exact:
        verdict = decide(ex, ex.scalar(Fraction(best["eta_lambda_max"])), 2, relation=">=")
    else:
        verdict = decide(b, best["value"], 2.0, relation=">=",
                         err=b.gamma(8) * max(best["value"], 1.0))  # fmt: skip
    n_conv = sum(r_["stop"] == "converged" for r_ in found)
    return ssm_result(
        b, verdict, best["value"], 2.0, ">=",
        how="exact one-step preimages of the minimum curve (d = 1, L = 2)",
        measured_repr=best.get("eta_lambda_max", ""),
        notes=(f"{n_conv} of {len(found)} inits reach a global minimum; largest "
               f"eta*lambda_max at the limit = {best['value']:.6g} (all minima unstable: "
               "eta > 1/|r|)." + (f" Inits moved by 2^-{perturb}." if perturb else "")),
        evidence={"inits": found},
        scope={"init": covers(
            f"exhibited: {n_conv} exact inits (d = 1, L = 2) reaching a minimum with "
            "eta lambda_max > 2" if not perturb else f"{len(found)} inits moved by 2^-{perturb}",
            universal=verdict is Verdict.CERTIFIED)},
        counterexample=best if verdict is Verdict.VIOLATED else None,
    )  # fmt: skip


def _run_from(
    b: Any, a0: Fraction, b0: Fraction, eta: Fraction, r: Fraction, limit: tuple[Fraction, ...],
    perturb: int, steps: int,
) -> dict[str, Any]:  # fmt: skip
    """GD from ``(a0 [+ 2^-perturb], b0)`` on target ``r``; at a reached minimum,
    ``eta lambda_max`` (exact in exact arithmetic)."""
    import flint

    tgt = Target.whitened(b, [[r]])
    start = [[[a0 + (Fraction(1, 2**perturb) if perturb else 0)]], [[b0]]]
    if perturb:
        run = dynamics.gd(b, start, tgt, b.scalar(eta), max_steps=steps, rel_tol=b.unit_roundoff)
    else:
        run = dynamics.gd(b, start, tgt, eta, max_steps=4, rel_tol=0.0)
    rec: dict[str, Any] = {"a0": str(a0), "b0": str(b0), "eta": str(eta), "r": str(r),
                           "stop": run.stop, "steps": run.steps, "value": 0.0}  # fmt: skip
    if run.stop != "converged":
        return rec
    h = ssm.hessian(b, run.ws, tgt)
    if b.exact:
        top_ex, _ = ssm.top_eigenvalue_exact(h, flint)
        val = eta * Fraction(int(top_ex.p), int(top_ex.q))
        return rec | {"eta_lambda_max": str(val), "value": float(val),
                      "limit": [str(x) for x in limit]}  # fmt: skip
    return rec | {"value": float(eta) * max(b.eigvalsh(h))}
