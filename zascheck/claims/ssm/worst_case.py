"""Which target and init make the general step-size bound tightest.

Source: reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), review 3, Q2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zascheck import inits, ssm
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm import _converges, _result
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="ssm.worst-case",
    section="C",
    kind="search",
    source="reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), review 3, Q2",
    statement="Which target and init make the general step-size bound tightest.",
    bound="none",
    quantifiers=(
        Q("Phi", "every target"),
        Q("init", "every init"),
    ),
    depends_on=("ssm.thm1",),
)


@CARD.check(
    method="random-search",
    budgets={
        "quick": {
            "n_cases": 4,
            "d": 2,
            "Ls": [2, 3],
            "iters": 6,
            "max_steps": 1500,
            "bound_factor": 1.0,
        },
        "standard": {
            "n_cases": 24,
            "d": 2,
            "Ls": [2, 3, 4],
            "iters": 10,
            "max_steps": 3000,
            "bound_factor": 1.0,
        },
        "thorough": {
            "n_cases": 100,
            "d": 3,
            "Ls": [2, 3, 4, 6],
            "iters": 14,
            "max_steps": 10000,
            "bound_factor": 1.0,
        },
    },
    controls={"bound-x0.5": {"bound_factor": 0.5}},
)
def check_worst_case(
    ctx: RunContext,
    *,
    n_cases: int,
    d: int,
    Ls: list[int],
    iters: int,
    max_steps: int,
    bound_factor: float,
) -> CheckResult:
    """Which target and init make the general step-size bound tightest?

    Source: reviews of SSM (NeurIPS 2018), review 3, Q2.  Formalized: random
    search over Gaussian targets ``R`` (d x d; for identity init a symmetric PD
    ``G G^T/d + I/10``), depths ``Ls`` and init families
    (identity, near-identity eq. 5.1, small Xavier ``0.3 N(0, 1/d)``, and a balanced
    minimum of ``R`` perturbed by ``1e-3``); for each case the empirical threshold
    ``eta*`` (bisection in ``eta/eta_1`` on ``[1/8, 3/2]``, convergence to
    ``R <= u R(0)`` within ``max_steps``).  Measured: the largest ratio
    ``eta*/eta_1`` (claim: ``<= 1``); ``tightest`` names the case closest to 1.
    Control: a claimed bound of ``eta_1/2`` must be refuted.
    """
    b = ctx.backend("float64")
    rng = ctx.rng(108)
    families = ["identity", "near-identity", "small-xavier", "near-balanced"]
    cases = []
    for k in range(n_cases):
        L = Ls[k % len(Ls)]
        fam = families[k % len(families)]
        phi = rng.standard_normal((d, d))
        if fam == "identity":  # identity needs a symmetric PD target (ssm.thm2 / ssm.thm3)
            phi = phi @ phi.T / d + 0.1 * np.eye(d)
            ws0 = [np.eye(d) for _ in range(L)]
        elif fam == "near-identity":
            ws0 = inits.near_identity(L, d, seed=rng)
        elif fam == "small-xavier":
            ws0 = [0.3 * w for w in inits.xavier(L, d, seed=rng)]
        else:
            ws0 = ssm.near_balanced(phi, L, rng, 1e-3)
        rho = float(np.linalg.norm(phi, 2))
        eta1 = ssm.thm1_eta(L, rho)
        tgt = Target.whitened(b, phi)

        def works(f: float, ws0: list[Any] = ws0, tgt: Target = tgt, eta1: float = eta1) -> bool:
            return _converges(b, ws0, tgt, f * eta1, max_steps)

        lo, hi, _ = ssm.bisect_threshold(
            works,
            1 / 8,
            1.5,
            iters,
        )
        cases.append(
            {
                "L": L,
                "init": fam,
                "rho": rho,
                "ratio": lo,
                "first_fail": hi,
                "phi": np.round(phi, 6).tolist(),
            }
        )
    found = [c for c in cases if c["ratio"] is not None]
    if not found:
        return _result(
            b,
            Verdict.INCONCLUSIVE,
            float("nan"),
            bound_factor,
            "<=",
            how="random search",
            notes="no case converged at eta_1/8",
            evidence={"cases": cases},
        )
    top = max(found, key=lambda c: c["ratio"])
    verdict = decide(b, top["ratio"], bound_factor, relation="<=", err=b.gamma(4 * max(Ls) + 4))
    return _result(
        b,
        verdict,
        top["ratio"],
        bound_factor,
        "<=",
        how="random search, bisection of the step size (float64 GD)",
        notes=(
            f"{len(found)} of {len(cases)} cases converge at some step; tightest eta*/eta_1 = "
            f"{top['ratio']:.4g} (L = {top['L']}, init {top['init']}); resolution 2^-{iters} * "
            "1.44."
        ),
        evidence={"ratios": [[c["L"], c["init"], c["ratio"]] for c in cases]},
        tightest=top,
        counterexample=top if verdict == Verdict.VIOLATED else None,
    )
