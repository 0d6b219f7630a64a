"""``ssm.thm4``: one-hidden-layer ReLU network, square loss: a stable solution's
output magnitude is bounded by a function of the step size; for one sample,
``||x|| |y| <= 1/eta`` at a stable zero-loss solution.

Source: reviews of "Step Size Matters in Deep Learning" (NeurIPS 2018).  SSM's
Theorem 4 is not in the seeds.  Review 1: "the paper examines a single hidden
layer neural network with quadric loss, and finds that the weights can
converge to a critical point only if the learning rate is below another
ratio", and (minor point 1) "This makes the Theorems 1 and 4 (and Corollary 2)
technically wrong" (stability holds for almost every init only); review 3:
"4. Relationship between step size and model's output for a single hidden
layer network with ReLU activations."

*Reconstructed* (catalogue ``../shared/CLAIMS.md`` C), one sample ``(x, y)``,
``f(x) = v^T relu(U x)``: at a zero-loss point the Hessian is
``grad f grad f^T``, so ``lambda_max = ||relu(Ux)||^2 + ||v_A||^2 ||x||^2 >=
2 ||x|| |y|`` (AM-GM and Cauchy-Schwarz), and a minimum GD can converge to
from almost every init has ``eta lambda_max <= 2`` (``ssm.sharpness``), hence
``q = eta ||x|| |y| <= 1``.  Kind: inequality, an upper bound on ``q``; it is
attained by balanced aligned solutions (``lambda_max = 2 ||x|| y``).

Formalized: for fixed ``x`` and ``eta``, the largest ``q`` that GD fits from
random inits (a bracket, judged on both ends) against 1.
"""

from __future__ import annotations

import numpy as np

from zascheck import ssm
from zascheck.card import SSM_REV, Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm_checks import (
    bracket_verdict,
    classify_unfinished,
    need_choice,
    need_int,
    need_ints,
    need_number,
    ssm_result,
)
from zascheck.result import CheckResult, Verdict, covers

CARD = Card(
    id="ssm.thm4",
    section="C",
    kind="inequality",
    source=f"{SSM_REV}, reviews 1 and 3 on SSM Theorem 4",
    statement=(
        "One-hidden-layer ReLU, square loss: for one sample ||x|| |y| <= 1/eta at a stable "
        "zero-loss solution."
    ),
    bound="upper",
    quantifiers=(
        Q("x,y", "every sample (x, y) (one-sample case)"),
        Q("eta", "every step size eta > 0"),
        Q("init", "almost every initialization (the solutions GD can converge to)"),
    ),
    depends_on=("ssm.sharpness",),
    reconstructed=True,
)


@CARD.check(
    method="bisection",
    budgets={
        "quick": {"n": 2, "h": 4, "eta": 0.05, "seeds": [0, 1], "init_scale": 0.1,
                  "max_steps": 1500, "iters": 7, "start": "random"},
        "standard": {"n": 3, "h": 8, "eta": 0.05, "seeds": [0, 1, 2, 3], "init_scale": 0.1,
                     "max_steps": 4000, "iters": 10, "start": "random"},
        "thorough": {"n": 5, "h": 16, "eta": 0.02, "seeds": list(range(8)), "init_scale": 0.1,
                     "max_steps": 10000, "iters": 14, "start": "random"},
    },
    controls={"start-at-a-solution": {"start": "zero-loss"}},
)  # fmt: skip
def check_thm4(
    ctx: RunContext, *, n: int, h: int, eta: float, seeds: list[int], init_scale: float,
    max_steps: int, iters: int, start: str,
) -> CheckResult:  # fmt: skip
    """Bracket the largest ``q = eta ||x|| y`` that GD fits.

    ``x`` random positive (``n`` entries), ``h`` hidden units; for each probe
    ``q`` the target is ``y = q / (eta ||x||)`` and ``q`` counts as fitted when
    GD from some init (``init_scale`` times Gaussian, one per seed) reaches loss
    ``<= u loss(0)``, failed when every run diverges or stalls, undecided
    otherwise (:func:`zascheck.ssm.relu_gd`).  Bisection on ``[1/8, 15/8]`` (its first midpoint is the bound, 1);
    the bracket is judged against 1 on both ends.  ``eta lambda_max`` is
    recorded at every fitted limit.
    Control ``start-at-a-solution``: every run starts at a balanced zero-loss
    point (:func:`zascheck.ssm.relu_zero_loss_init`; measure zero), which GD
    "fits" at every ``q``, so the bracket lands above 1.
    """
    n, h, iters = need_int("n", n, 1), need_int("h", h, 1), need_int("iters", iters)
    eta = need_number("eta", eta, lo=0.0)
    seeds = need_ints("seeds", seeds)
    scale = need_number("init_scale", init_scale, lo=0.0)
    start = need_choice("start", start, ("random", "zero-loss"))
    max_steps = need_int("max_steps", max_steps, 1)
    b = ctx.backend("float64")
    x = np.abs(ctx.rng(107).standard_normal((n, 1))) + 0.1
    nx = float(np.linalg.norm(x))
    sharp: list[float] = []

    def fits(q: float) -> bool | None:
        y = q / (eta * nx)
        states = []
        for s in seeds:
            if start == "zero-loss":
                u0, v0 = ssm.relu_zero_loss_init(x, y, h)
            else:
                r = ctx.rng(3000 + s)
                u0, v0 = scale * r.standard_normal((h, n)), scale * r.standard_normal((h, 1))
            floor = 0.5 * (b.gamma(4 * n * h) * y) ** 2
            stop, u1, v1, _, losses = ssm.relu_gd(b, u0, v0, x, y, eta, max_steps,
                                                  b.unit_roundoff, floor)  # fmt: skip
            if stop == "converged":
                sharp.append(eta * float(ssm.relu_sharpness(b, u1, v1, x)))
                return True
            states.append(False if stop != "budget" else classify_unfinished(losses)[0])
        return False if all(st is False for st in states) else None

    br = ssm.bisect_bracket(fits, 0.125, 1.875, iters)  # the first midpoint is the bound, 1
    verdict = bracket_verdict(br, 1.0)
    return ssm_result(
        b, verdict, br.lo if br.lo is not None else float("nan"), 1.0, "<=",
        how="bisection of the target scale (float64 GD, ReLU net)",
        notes=(f"largest fitted eta ||x|| |y| in {br.text()} (eta = {eta}, ||x|| = {nx:.4g}, "
               f"h = {h}); judged on both ends against 1: {br.versus(1.0)}; max "
               f"eta*lambda_max at fitted limits = {max(sharp, default=float('nan')):.4g}."),
        evidence={"trace": br.trace, "bracket": [br.lo, br.hi], "eta_lambda_max": sharp,
                  "norm_x": nx, "budget_limited": br.budget_limited},
        scope={"x,y": covers(f"1 random x in R^{n}, y = q/(eta ||x||) on a bisection in q"),
               "eta": covers(f"eta = {eta}"),
               "init": covers(f"{len(seeds)} Gaussian inits x {scale}, h = {h}"
                              if start == "random" else "a zero-loss point (measure zero)")},
        counterexample={"q_fitted": br.lo, "start": start} if verdict is Verdict.VIOLATED
        else None,
    )  # fmt: skip
