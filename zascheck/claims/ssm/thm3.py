"""``ssm.thm3``: symmetric target with negative eigenvalues: what identity-initialized
GD converges to.

Source: reviews of "Step Size Matters in Deep Learning" (NeurIPS 2018).
SSM's Theorem 3 is not in the seeds.  Review 1: "The latter result is also
extended to matrices with negative eigenvalues"; review 3: "3. Analysis of the
solution obtained by linear networks initialized by identity weights when the
target matrix has negative eigenvalues."

*Reconstructed* answer (catalogue ``../shared/CLAIMS.md`` C): for a symmetric
``R = R_+ + R_-`` (``R_+`` its PSD part) and ``L >= 2`` identity-initialized
layers, a small enough step makes ``W_{L:1}(t) -> R_+``: every layer stays a
polynomial in ``R`` (:func:`zascheck.symbolic.ssm_proofs.invariance_proofs`),
each eigenvalue ``lambda`` runs ``w -> w - eta w^{L-1}(w^L - lambda)`` from 1,
and for ``lambda <= 0`` the iterate decreases to 0 without crossing it.  The
loss tends to ``1/2 ||R_-||_F^2``, not 0.  "Small enough" is reconstructed as
``eta <= eta_3 = min(eta_2, 1/(1 + |lambda_min|))`` (``eta_2`` of ``ssm.thm2``
for the positive part; ``1/(1 + |lambda|)`` keeps a negative direction from
overshooting 0).  The rate is linear for ``L = 2`` and sublinear for
``L >= 3`` (``w_t^{L-2} ~ 1/(eta |lambda| (L-2) t)``): the check tells the two
apart instead of mistaking slow convergence for none.

Kind: empirical (what the limit is), decided two ways:

* ``limit``: certified for every ``t`` and every ``eta <= eta_frac eta_3`` by
  the invariant intervals of :func:`zascheck.ssm.certify_scalar_limit`;
* ``trajectory``: float64 GD from the init agrees at step ``T`` with the scalar
  prediction iterated in ball arithmetic (``||P_T - R_+||_F`` within the
  prediction plus the rounding budget).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zascheck import dynamics, inits, model, ssm
from zascheck.card import SSM_REV, Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm_checks import (
    identity_reduction,
    need_choice,
    need_int,
    need_number,
    need_numbers,
    ssm_result,
    sym_target,
    user_target,
)
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers, decide

CARD = Card(
    id="ssm.thm3",
    section="C",
    kind="empirical",
    source=f"{SSM_REV}, reviews 1 and 3 on SSM Theorem 3",
    statement=(
        "Symmetric target with negative eigenvalues: identity-initialized GD converges to the "
        "PSD part R_+ of R (not to R)."
    ),
    bound="none",
    quantifiers=(
        Q("Phi", "every symmetric target R with a negative eigenvalue"),
        Q("L", "every depth L >= 2"),
        Q("eta", "every step 0 < eta <= eta_3 = min(eta_2, 1/(1 + |lambda_min|))"),
        Q("t", "every GD step t >= 0 (the limit t -> infinity)"),
    ),
    depends_on=("ssm.thm2",),
    reconstructed=True,
    parts=("limit", "trajectory"),
)


@CARD.check(
    method="reduction",
    budgets={
        "quick": {"L": 2, "eigs": [2.0, -1.0], "rotate": 0.6, "eta_frac": 0.999, "steps": 400,
                  "init": "identity", "prec": 128},
        "standard": {"L": 3, "eigs": [2.0, -1.0, -0.5], "rotate": 0.6, "eta_frac": 0.999,
                     "steps": 1500, "init": "identity", "prec": 128},
        "thorough": {"L": 4, "eigs": [2.0, 1.0, -1.0, -0.5], "rotate": 0.6, "eta_frac": 0.999,
                     "steps": 4000, "init": "identity", "prec": 192},
    },
    controls={"generic-init": {"init": "near-identity"}},
    accepts_phi=True,
)  # fmt: skip
def check_thm3(
    ctx: RunContext, *, L: int, eigs: list[float], rotate: float, eta_frac: float, steps: int,
    init: str, prec: int, phi: Any = None,
) -> CheckResult:  # fmt: skip
    """Identity-initialized GD on a symmetric ``R`` goes to ``R_+``: part
    ``limit`` certified per eigen-direction for every ``t`` (root for
    ``lambda > 0``, zero for ``lambda <= 0``, and whether linearly); part
    ``trajectory``: float64 GD from ``init`` for ``steps`` steps has
    ``||P_T - R_+||_F <=`` the ball-arithmetic prediction of the scalar maps
    plus ``gamma_{4LdT} ||R||_F`` (one-sided: at least as close to ``R_+`` as the
    exact dynamics, up to rounding).
    Control ``generic-init``: a near-identity init (eq. 5.1) breaks the
    invariant; GD then fits ``R`` itself, far from ``R_+``.
    """
    L, steps = need_int("L", L, 1), need_int("steps", steps, 1)
    f = need_number("eta_frac", eta_frac, lo=0.0)
    init = need_choice("init", init, ("identity", "near-identity"))
    if phi is not None:
        R, label = user_target(phi, symmetric=True), "the user's symmetric target"
    else:
        R = sym_target(need_numbers("eigs", eigs), need_number("rotate", rotate))
        label = f"R with eigenvalues {eigs} (rotated {rotate} rad)"
    ev = np.linalg.eigvalsh(R)
    eta = f * min(ssm.thm2_eta(L, max(float(ev.max()), 1e-300)), 1 / (1 + abs(min(ev.min(), 0))))
    red = identity_reduction(R, L, eta, prec=need_int("prec", prec, 53))
    scope = {"Phi": covers(label), "L": covers(f"L = {L}")}
    limit = _limit_part(ctx, red, eta, f, scope, prec)
    traj = _trajectory_part(ctx, R, L, eta, steps, init, red, scope)
    verdict = combine_verdicts([limit.verdict, traj.verdict])
    return ssm_result(
        ctx.backend("float64"), verdict, traj.measured or 0.0, traj.bound or 0.0, "<=",
        how="", notes=f"{limit.notes} {traj.notes}", evidence=limit.evidence | traj.evidence,
        scope=limit.scope, parts=[limit, traj],
        counterexample=(traj.counterexample or limit.counterexample)
        if verdict is Verdict.VIOLATED else None,
    )  # fmt: skip


def _limit_part(
    ctx: RunContext, red: Any, eta: float, f: float, scope: dict[str, Any], prec: int
) -> CheckResult:
    """Part ``limit``: each direction certified to go where ``R_+`` says."""
    want = ["root" if s.lam > 0 else "zero" if s.lam <= 0 else None for s in red.limits]
    got = [s.limit for s in red.limits]
    if not red.invariant_proven or None in got or None in want:
        verdict = Verdict.INCONCLUSIVE
    else:
        verdict = Verdict.CERTIFIED if got == want else Verdict.VIOLATED
    rates = ["linear" if s.rate is not None else "sublinear" for s in red.limits]
    every = verdict is Verdict.CERTIFIED
    b = ctx.backend("ball", prec)
    return ssm_result(
        b, verdict, float(sum(g != w for g, w in zip(got, want, strict=True))), 0.0, "<=",
        how="scalar reduction + invariant intervals (arb)", part="limit",
        notes=(f"eta = {eta:.6g} ({f} eta_3); per eigenvalue (limit, rate): "
               f"{[(round(float(s.lam.mid()), 6), s.limit, r) for s, r in zip(red.limits, rates, strict=True)]}."),
        evidence={"directions": red.describe(), "eta": eta},
        scope=scope | {"eta": covers(f"every eta in (0, {f} eta_3]", universal=every),
                       "t": covers("every t >= 0", universal=every)},
        counterexample={"directions": red.describe()} if verdict is Verdict.VIOLATED else None,
    )  # fmt: skip


def _predicted_distance(red: Any, L: int, eta: float, steps: int, prec: int) -> float:
    """``||P_T - R_+||_F`` of the scalar maps iterated ``steps`` times in ball
    arithmetic (upper end of the enclosure)."""
    import flint

    from zascheck.arith import BallBackend

    with BallBackend(prec).session():
        tot = flint.arb(0)
        for s, m in zip(red.limits, red.multiplicities, strict=True):
            w = ssm.scalar_orbit(s.lam, L, flint.arb(eta), s.w0, steps)
            plus = s.lam if s.lam > 0 else 0 * s.lam
            tot += m * (w**L - plus) ** 2
        return float(tot.upper().sqrt().upper())


def _trajectory_part(
    ctx: RunContext, R: np.ndarray, L: int, eta: float, steps: int, init: str, red: Any,
    scope: dict[str, Any],
) -> CheckResult:  # fmt: skip
    """Part ``trajectory``: float64 GD against the ball-arithmetic prediction."""
    b = ctx.backend("float64")
    d = R.shape[0]
    wv, vv = np.linalg.eigh(R)
    r_plus = (vv * np.maximum(wv, 0)) @ vv.T
    ws0 = [np.eye(d)] * L if init == "identity" else inits.near_identity(L, d, seed=ctx.rng(106))
    run = dynamics.gd(b, ws0, Target.whitened(b, R), eta, max_steps=steps)
    p_t = model.end_to_end(b, run.ws)
    measured = ssm.fro(p_t - r_plus)
    predicted = _predicted_distance(red, L, eta, steps, 128)
    err = b.gamma(4 * L * d * steps) * ssm.fro(R)
    verdict = decide(b, measured, predicted + err, relation="<=")
    return ssm_result(
        b, verdict, measured, predicted + err, "<=", part="trajectory",
        bound_repr="ball prediction of the scalar maps + gamma_{4LdT} ||R||_F",
        how=f"float64 GD from {init} vs the scalar prediction",
        notes=(f"after {run.steps} steps ||P_T - R_+|| = {measured:.3g} (predicted <= "
               f"{predicted:.3g}, rounding budget {err:.2g}); ||P_T - R|| = "
               f"{ssm.fro(p_t - R):.4g}, ||R_-|| = {ssm.fro(R - r_plus):.4g}; loss "
               f"{run.losses[-1]:.6g} vs 1/2||R_-||^2 = {0.5 * ssm.fro(R - r_plus) ** 2:.6g}."),
        evidence={"dist_to_R_plus": measured, "predicted": predicted, "dist_to_R":
                  ssm.fro(p_t - R), "loss_T": run.losses[-1],
                  "half_norm_R_minus_sq": 0.5 * ssm.fro(R - r_plus) ** 2, "init": init},
        scope=scope | {"eta": covers(f"eta = {eta:.6g}"), "t": covers(f"t = {run.steps}"),
                       "init": covers(init)},
        counterexample={"init": init, "dist_to_R_plus": measured, "predicted": predicted,
                        "dist_to_R": ssm.fro(p_t - R)} if verdict is Verdict.VIOLATED else None,
    )  # fmt: skip
