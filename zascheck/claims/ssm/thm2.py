"""Symmetric PD target, identity init, small step: linear convergence; identity admits the largest step.

Source: reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), SSM Theorem 2 / Corollary 2.
"""

from __future__ import annotations

import numpy as np

from zascheck import dynamics, inits, ssm
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.measure.ssm import _result, _sym_target, _threshold_frac
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="ssm.thm2",
    section="C",
    kind="inequality + empirical",
    source="reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), SSM Theorem 2 / Corollary 2",
    statement="Symmetric PD target, identity init, small step: linear convergence; identity admits the largest step.",
    bound="upper",
    quantifiers=(
        Q("Phi", "every symmetric positive definite target"),
        Q("L", "every depth L >= 1"),
        Q("eta", "every step below the threshold"),
    ),
    depends_on=("ssm.thm1",),
    reconstructed=True,
)


@CARD.check(
    method="bisection",
    budgets={
        "quick": {
            "d": 2,
            "L": 2,
            "eigs": [2.0, 0.5],
            "rotate": 0.6,
            "iters": 8,
            "max_steps": 1200,
            "n_random": 1,
            "bound_factor": 1.0,
        },
        "standard": {
            "d": 3,
            "L": 3,
            "eigs": [2.0, 1.0, 0.25],
            "rotate": 0.6,
            "iters": 12,
            "max_steps": 4000,
            "n_random": 3,
            "bound_factor": 1.0,
        },
        "thorough": {
            "d": 4,
            "L": 5,
            "eigs": [3.0, 1.5, 0.7, 0.2],
            "rotate": 0.6,
            "iters": 16,
            "max_steps": 10000,
            "n_random": 6,
            "bound_factor": 1.0,
        },
    },
    controls={"bound-x0.5": {"bound_factor": 0.5}},
)
def check_thm2(
    ctx: RunContext,
    *,
    d: int,
    L: int,
    eigs: list[float],
    rotate: float,
    iters: int,
    max_steps: int,
    n_random: int,
    bound_factor: float,
) -> CheckResult:
    """Symmetric positive definite target, all ``W_l(0) = I``, step below a
    threshold: linear convergence to a global minimum; identity init admits the
    largest step (Cor. 2).

    Source: reviews of SSM (NeurIPS 2018), SSM Theorem 2 / Corollary 2
    (*reconstructed*).  Formalized: ``R = Q diag(eigs) Q^T``; the empirical
    threshold ``eta*`` is the largest ``eta`` (bisection in ``eta / eta_1`` on
    ``[1/4, 3/2]``) for which float64 GD from identity reaches ``R <= u R(0)``
    within ``max_steps``.  Claim checked: ``eta* / eta_1 <= 1`` (no convergence
    above the ssm.thm1 bound); reported: the linear rate at ``eta_1 / 2`` and the
    thresholds of ``n_random`` near-identity inits (Cor. 2: identity's should be
    the largest).  Control: a claimed bound of ``bound_factor * eta_1`` = ``eta_1/2``
    must be refuted.
    """
    if len(eigs) != d or min(eigs) <= 0:
        raise InputError(f"thm2 needs d = {d} positive eigenvalues, got {eigs}")
    b = ctx.backend("float64")
    phi = _sym_target(eigs, rotate)
    tgt = Target.whitened(b, phi)
    rho = max(eigs)
    eta1 = ssm.thm1_eta(L, rho)
    eye = [np.eye(d) for _ in range(L)]
    lo, hi, trace = _threshold_frac(b, eye, tgt, eta1, iters, max_steps)
    half = dynamics.gd(b, eye, tgt, eta1 / 2, max_steps=max_steps, rel_tol=b.unit_roundoff)
    rate = (
        (half.losses[-1] / half.losses[0]) ** (1 / max(half.steps, 1))
        if half.losses[0] > 0
        else 0.0
    )
    others = []
    for k in range(n_random):
        ws0 = inits.near_identity(L, d, seed=ctx.rng(2000 + k))
        lo_k, _, _ = _threshold_frac(b, ws0, tgt, eta1, iters, max_steps)
        others.append(lo_k)
    res_step = 2.0**-iters * 1.25
    cor2 = lo is not None and all(o is None or o <= lo + res_step for o in others)
    if lo is None:
        return _result(
            b,
            Verdict.INCONCLUSIVE,
            float("nan"),
            bound_factor,
            "<=",
            how="bisection",
            notes="identity-initialized GD did not converge even at eta_1/4",
            evidence={"trace": trace},
        )
    verdict = decide(b, lo, bound_factor, relation="<=", err=b.gamma(4 * L + 4))
    return _result(
        b,
        verdict,
        lo,
        bound_factor,
        "<=",
        how="bisection of the step size (float64 GD from identity)",
        notes=(
            f"identity threshold eta*/eta_1 in [{lo:.4g}, {hi if hi is None else round(hi, 4)}] "
            f"(eta_1 = {eta1:.4g}, L = {L}, eigs = {eigs}); linear rate per step at eta_1/2: "
            f"{rate:.4g} in {half.steps} steps; near-identity thresholds {others}; "
            f"identity largest (Cor. 2, within bisection resolution {res_step:.3g}): {cor2}."
        ),
        evidence={
            "trace": trace,
            "eta1": eta1,
            "rate_at_half": rate,
            "random_thresholds": others,
            "identity_largest": cor2,
        },
        counterexample={"eta_frac": lo, "claimed_bound_frac": bound_factor}
        if verdict == Verdict.VIOLATED
        else None,
    )
