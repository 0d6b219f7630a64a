"""Symmetric target with negative eigenvalues: what identity-initialized GD converges to.

Source: reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), SSM Theorem 3.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, inits, model, ssm
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.measure.ssm import _result, _sym_target
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="ssm.thm3",
    section="C",
    kind="empirical",
    source="reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), SSM Theorem 3",
    statement="Symmetric target with negative eigenvalues: what identity-initialized GD converges to.",
    bound="none",
    quantifiers=(
        Q("Phi", "every symmetric target with negative eigenvalues"),
        Q("L", "every depth L >= 1"),
    ),
    depends_on=(),
    reconstructed=True,
)


@CARD.check(
    method="gd-limit",
    budgets={
        "quick": {
            "d": 2,
            "L": 2,
            "eigs": [2.0, -1.0],
            "rotate": 0.6,
            "eta_frac": 0.5,
            "steps": 400,
            "init": "identity",
            "exact_steps": 3,
        },
        "standard": {
            "d": 3,
            "L": 2,
            "eigs": [2.0, -1.0, -0.5],
            "rotate": 0.6,
            "eta_frac": 0.5,
            "steps": 1500,
            "init": "identity",
            "exact_steps": 4,
        },
        "thorough": {
            "d": 4,
            "L": 2,
            "eigs": [2.0, 1.0, -1.0, -0.5],
            "rotate": 0.6,
            "eta_frac": 0.5,
            "steps": 4000,
            "init": "identity",
            "exact_steps": 4,
        },
    },
    controls={"generic-init": {"init": "near-identity"}},
)
def check_thm3(
    ctx: RunContext,
    *,
    d: int,
    L: int,
    eigs: list[float],
    rotate: float,
    eta_frac: float,
    steps: int,
    init: str,
    exact_steps: int,
) -> CheckResult:
    """Symmetric target with negative eigenvalues: what identity-initialized GD
    converges to.

    Source: reviews of SSM (NeurIPS 2018), review 3 item 3 / SSM Theorem 3
    (*reconstructed*).  Formalized reading: from ``W_l(0) = I`` every ``W_l(t)`` is
    one and the same polynomial in ``R`` (symmetric, commuting with ``R``), so each
    eigen-direction evolves by ``w <- w - eta w^{L-1}(w^L - lambda)``; for
    ``lambda < 0`` and ``eta`` small, ``w`` decreases to 0, and the end-to-end
    matrix converges to ``R_+`` (the PSD part of ``R``), not to ``R``; the loss to
    ``1/2 ||R_-||^2``.  Certified part: the invariant (all layers equal, symmetric,
    commuting with a rational ``R``) in exact arithmetic for ``exact_steps`` steps.
    Decided part (``L = 2``, where the decay is linear): ``||P_T - R_+||_F`` against
    the geometric tail estimate ``||P_T - P_{T-1}|| q/(1-q)`` plus the rounding level
    ``gamma_{4Ld} ||R||`` (once the steps are at that level, the tail is the last step).
    Control: a generic (near-identity) init breaks the symmetry and GD fits ``R``.
    """
    import flint

    if len(eigs) != d or min(eigs) >= 0:
        raise InputError(f"thm3 needs d = {d} eigenvalues with a negative one, got {eigs}")
    # certified invariant on a rational target
    ex = ctx.backend("exact")
    q_ex = ssm.random_orthogonal_rational(ctx.rng(105), d, flint)
    eig_q = [Fraction(e).limit_denominator(64) for e in eigs]
    lam = flint.fmpq_mat(
        d,
        d,
        [
            flint.fmpq(eig_q[i].numerator, eig_q[i].denominator) if i == j else 0
            for i in range(d)
            for j in range(d)
        ],
    )
    r_ex = q_ex * lam * q_ex.transpose()
    t_ex = Target.whitened(ex, r_ex)
    ws = [ex.eye(d) for _ in range(L)]
    eta_ex = ex.scalar(
        Fraction(eta_frac * ssm.thm1_eta(L, max(abs(e) for e in eigs))).limit_denominator(64)
    )
    inv_ok = True
    for _ in range(exact_steps):
        ws, _, _ = dynamics.gd_step(ex, ws, t_ex, eta_ex)
        inv_ok = inv_ok and all(
            w == ws[0] and w == w.transpose() and w * r_ex == r_ex * w for w in ws
        )
    # the limit, float64
    b = ctx.backend("float64")
    phi = _sym_target(eigs, rotate)
    tgt = Target.whitened(b, phi)
    wv, vv = np.linalg.eigh(phi)
    r_plus = (vv * np.maximum(wv, 0)) @ vv.T
    eta1 = ssm.thm1_eta(L, float(np.max(np.abs(wv))))
    ws0 = (
        [np.eye(d) for _ in range(L)]
        if init == "identity"
        else inits.near_identity(L, d, seed=ctx.rng(106))
    )
    prods: list[np.ndarray] = []

    def keep(t: int, w: Any, r: Any, g: Any) -> None:
        prods.append(model.end_to_end(b, w))
        if len(prods) > 3:
            prods.pop(0)

    run = dynamics.gd(b, ws0, tgt, eta_frac * eta1, max_steps=steps, observers=[keep])
    p_t = prods[-1]
    d1 = ssm.fro(prods[-1] - prods[-2])
    d0 = ssm.fro(prods[-2] - prods[-3])
    floor = b.gamma(4 * L * d) * ssm.fro(phi)  # rounding level of one product P
    if d0 <= floor:  # the iteration sits at a floating-point fixed point / rounding noise
        tail = d1
    else:
        q = d1 / d0
        tail = d1 * q / (1 - q) if q < 1 else math.inf
    err_bound = tail + floor
    measured = ssm.fro(p_t - r_plus)
    verdict = decide(b, measured, err_bound, relation="<=")
    if verdict == Verdict.HOLDS and not inv_ok:
        verdict = Verdict.VIOLATED
    if L != 2 and verdict == Verdict.HOLDS:
        verdict = Verdict.INCONCLUSIVE
    return _result(
        b,
        verdict,
        measured,
        err_bound,
        "<=",
        how="GD limit vs the PSD part R_+ (float64) + exact invariant",
        notes=(
            f"||P_T - R_+|| = {measured:.3g} after {run.steps} steps (tail estimate {tail:.3g}); "
            f"||P_T - R|| = {ssm.fro(p_t - phi):.4g} = ||R_-|| {ssm.fro(phi - r_plus):.4g} unfit; "
            f"limit loss {run.losses[-1]:.6g}; exact invariant (equal, symmetric, commuting) over "
            f"{exact_steps} steps: {inv_ok}."
            + ("" if L == 2 else " L > 2: sublinear decay, not decided.")
        ),
        evidence={
            "dist_to_R_plus": measured,
            "dist_to_R": ssm.fro(p_t - phi),
            "loss_limit": run.losses[-1],
            "half_norm_R_minus_sq": 0.5 * ssm.fro(phi - r_plus) ** 2,
            "invariant_exact": inv_ok,
            "init": init,
        },
        counterexample={"init": init, "dist_to_R_plus": measured, "dist_to_R": ssm.fro(p_t - phi)}
        if verdict == Verdict.VIOLATED
        else None,
    )
