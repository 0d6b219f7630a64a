"""One-hidden-layer ReLU, square loss: for one sample ||x|| |y| <= 1/eta at a stable zero-loss solution.

Source: reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), SSM Theorem 4.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from zascheck import ssm
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm import _result
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="ssm.thm4",
    section="C",
    kind="inequality",
    source="reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), SSM Theorem 4",
    statement="One-hidden-layer ReLU, square loss: for one sample ||x|| |y| <= 1/eta at a stable zero-loss solution.",
    bound="upper",
    quantifiers=(
        Q("x,y", "every sample (one-sample case)"),
        Q("eta", "every step size"),
    ),
    depends_on=(),
    reconstructed=True,
)


@CARD.check(
    method="bisection",
    budgets={
        "quick": {
            "n": 2,
            "h": 4,
            "eta": 0.05,
            "seeds": [0, 1],
            "init_scale": 0.1,
            "max_steps": 1500,
            "iters": 7,
            "start": "random",
        },
        "standard": {
            "n": 3,
            "h": 8,
            "eta": 0.05,
            "seeds": [0, 1, 2, 3],
            "init_scale": 0.1,
            "max_steps": 4000,
            "iters": 10,
            "start": "random",
        },
        "thorough": {
            "n": 5,
            "h": 16,
            "eta": 0.02,
            "seeds": list(range(8)),
            "init_scale": 0.1,
            "max_steps": 10000,
            "iters": 14,
            "start": "random",
        },
    },
    controls={"start-at-unstable-solution": {"start": "unstable-solution"}},
)
def check_thm4(
    ctx: RunContext,
    *,
    n: int,
    h: int,
    eta: float,
    seeds: list[int],
    init_scale: float,
    max_steps: int,
    iters: int,
    start: str,
) -> CheckResult:
    """One-hidden-layer ReLU network ``f(x) = v^T relu(U x)``, square loss, one
    sample: a stable zero-loss solution has ``||x|| |y| <= 1/eta``.

    Source: reviews of SSM (NeurIPS 2018), SSM Theorem 4 (*reconstructed*).  Why:
    at zero loss ``lambda_max = ||relu(Ux)||^2 + ||v_A||^2 ||x||^2 >= 2 ||x|| |y|``
    (AM-GM and Cauchy-Schwarz), and stability needs ``eta lambda_max <= 2``.
    Formalized: for fixed ``x`` and ``eta``, bisection on ``q = eta ||x|| y`` in
    ``[1/8, 3/2]``: ``q`` is fitted if GD from some random init (scale
    ``init_scale``) reaches loss ``<= u loss(0)``; measured = largest fitted ``q``
    against 1; ``eta lambda_max <= 2`` is recorded at every fitted limit.
    Control: GD started exactly at a balanced zero-loss solution with
    ``q = 5/2`` (exact arithmetic; a measure-zero init) stays there.
    """
    if start == "unstable-solution":
        b = ctx.backend("exact")
        x = b.matrix([[3], [4]])
        t_ = Fraction(1, 5)
        u = b.matrix([[3 * t_, 4 * t_]])
        v = b.matrix([[5 * t_]])
        y = ssm.relu_forward(b, u, v, x)  # 125 t^2 = 5
        eta_q = Fraction(1, 10)
        stop, u1, v1, _steps = ssm.relu_gd(b, u, v, x, y, b.scalar(eta_q), 5, 0.0)
        qv = eta_q * 5 * Fraction(int(y.p), int(y.q))
        lam = ssm.relu_sharpness(b, u1, v1, x)
        lam_q = eta_q * Fraction(int(lam.p), int(lam.q))
        verdict = (
            decide(b, b.scalar(qv), 1, relation="<=")
            if stop == "converged"
            else Verdict.INCONCLUSIVE
        )
        return _result(
            b,
            verdict,
            float(qv),
            1.0,
            "<=",
            how="exact GD from a zero-loss solution",
            notes=f"x = (3, 4), y = {y}, eta = 1/10: GD stops '{stop}', eta*lambda_max = {lam_q}",
            evidence={"q": float(qv), "eta_lambda_max": float(lam_q)},
            counterexample={"x": [3, 4], "y": str(y), "eta": "1/10", "q": str(qv)}
            if verdict == Verdict.VIOLATED
            else None,
        )
    b = ctx.backend("float64")
    rng = ctx.rng(107)
    x = np.abs(rng.standard_normal((n, 1))) + 0.1
    nx = float(np.linalg.norm(x))
    sharp: list[float] = []

    def fits(q: float) -> bool:
        y = q / (eta * nx)
        for s in seeds:
            r = ctx.rng(3000 + s)
            u0 = init_scale * r.standard_normal((h, n))
            v0 = init_scale * r.standard_normal((h, 1))
            stop, u1, v1, _ = ssm.relu_gd(b, u0, v0, x, y, eta, max_steps, b.unit_roundoff)
            if stop == "converged":
                sharp.append(eta * float(ssm.relu_sharpness(b, u1, v1, x)))
                return True
        return False

    lo, hi, trace = ssm.bisect_threshold(fits, 0.125, 1.5, iters)
    if lo is None:
        return _result(
            b,
            Verdict.INCONCLUSIVE,
            float("nan"),
            1.0,
            "<=",
            how="bisection",
            notes="GD fitted no target even at q = 1/8",
            evidence={"trace": trace},
        )
    verdict = decide(b, lo, 1.0, relation="<=", err=b.gamma(4 * n * h))
    return _result(
        b,
        verdict,
        lo,
        1.0,
        "<=",
        how="bisection of the target scale (float64 GD, ReLU net)",
        notes=(
            f"largest fitted eta ||x|| |y| = {lo:.4g} (first failure {hi}); eta = {eta}, ||x|| = "
            f"{nx:.4g}, "
            f"h = {h}; max eta*lambda_max at fitted limits = {max(sharp):.4g}."
        ),
        evidence={"trace": trace, "eta_lambda_max": sharp, "norm_x": nx},
        counterexample={"q": lo} if verdict == Verdict.VIOLATED else None,
    )
