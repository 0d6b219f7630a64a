"""``ssm.thm2``: symmetric positive definite target, all ``W_l(0) = I``, step below
a threshold: linear convergence to a global minimum; identity init admits the
largest step size (Corollary 2).

Source: reviews of "Step Size Matters in Deep Learning" (NeurIPS 2018).
SSM's Theorem 2 and Corollary 2 are not in the seeds.  Review 1: "it is proven
that the weights converge at a linear rate to the global minimum if they are
initialized to identity, and the step size is below another threshold", and
(minor point 2) "the bound in eq 4 is x2 the bound in Theorem 2 (in the right
case of the max), so it's nearly tight"; review 2: "in which the maximum
steplength can be used when the parameters are initialized with the identity
matrix"; review 3: "2. For learning positive definite matrices by linear
networks, identity initialization of weights allows the largest step size."

*Reconstructed* (catalogue ``../shared/CLAIMS.md`` C): the threshold is
``eta_2 = 1 / (L max(1, lambda_max)^{2(L-1)/L})`` (:func:`zascheck.ssm.thm2_eta`:
half of eq. 4's ``eta_1`` in the right case of the max, as review 1 says).
Kind: inequality + empirical, in two parts:

* ``convergence`` (Theorem 2): for every ``eta`` in ``(0, eta_2]`` and every
  ``t``, GD from identity contracts linearly to a global minimum.  Decided by
  the scalar reduction: identity-initialized GD keeps ``W_l(t) = p_t(R)``
  (free-algebra induction step, :func:`zascheck.symbolic.ssm_proofs.invariance_proofs`),
  so each eigenvalue ``lambda`` runs ``w -> w - eta w^{L-1}(w^L - lambda)``
  from 1, and an invariant interval certifies, in ball arithmetic, a linear
  rate ``q < 1`` towards ``lambda^{1/L}`` for every ``t``
  (:func:`zascheck.ssm.certify_scalar_limit`).  The threshold is the
  reconstruction's; a larger step is outside the claim (the rate is not
  certified there, though GD may still converge: the identity threshold of
  ``--case '{"eigs": [4, 1], "rotate": 0}'`` is ``eta_1`` itself).
* ``largest-step`` (Corollary 2), empirical: no other initialization
  converges at a step where identity fails.  Read as: at the largest step
  where GD from a random near-identity init was seen to converge, GD from
  identity converges too (float64 probes; "limited by the step budget" where
  a probe is still converging when its budget ends).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import dynamics, inits, ssm
from zascheck.card import SSM_REV, Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm_checks import (
    gd_probe,
    identity_reduction,
    need_int,
    need_number,
    need_numbers,
    ssm_result,
    step_bracket,
    sym_target,
    user_target,
)
from zascheck.model import Target
from zascheck.spec import MAX_PRECISION
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers

CARD = Card(
    id="ssm.thm2",
    section="C",
    kind="inequality + empirical",
    source=f"{SSM_REV}, reviews 1-3 on SSM Theorem 2 / Corollary 2",
    statement=(
        "Symmetric PD target, identity init, step below a threshold: linear convergence to a "
        "global minimum; identity admits the largest step."
    ),
    bound="upper",
    quantifiers=(
        Q("Phi", "every symmetric positive definite target R"),
        Q("L", "every depth L >= 1"),
        Q("eta", "every step 0 < eta <= eta_2 = 1/(L max(1, lambda_max)^{2(L-1)/L})"),
        Q("t", "every GD step t >= 0"),
    ),
    depends_on=("ssm.thm1",),
    reconstructed=True,
    parts=("convergence", "largest-step"),
)


def _target(eigs: Any, rotate: Any, phi: Any) -> tuple[np.ndarray, str]:
    if phi is not None:
        return user_target(phi, symmetric=True, nonzero=True), "the user's symmetric target"
    ev = need_numbers("eigs", eigs)
    rot = need_number("rotate", rotate, lo=None)
    return sym_target(ev, rot), f"R with eigenvalues {ev} (rotated {rot} rad)"


@CARD.check(
    method="reduction",
    budgets={
        "quick": {"L": 2, "eigs": [2.0, 0.5], "rotate": 0.6, "eta_frac": 0.999, "prec": 128},
        "standard": {"L": 3, "eigs": [2.0, 1.0, 0.25], "rotate": 0.6, "eta_frac": 0.999,
                     "prec": 128},
        "thorough": {"L": 5, "eigs": [3.0, 1.5, 0.7, 0.2], "rotate": 0.6, "eta_frac": 0.9999,
                     "prec": 192},
    },
    controls={"not-positive-definite": {"eigs": [2.0, -0.5]}},
    accepts_phi=True,
)  # fmt: skip
def check_thm2_reduction(
    ctx: RunContext, *, L: int, eigs: list[float], rotate: float, eta_frac: float, prec: int,
    phi: Any = None,
) -> CheckResult:  # fmt: skip
    """Part ``convergence``: for every ``eta`` in ``(0, eta_frac eta_2]`` and every
    ``t``, identity-initialized GD contracts to a global minimum at a linear rate.

    Certified in ball arithmetic for the float64 target as given (exact
    eigenvalue enclosures): per eigenvalue, the invariant interval between 1 and
    ``lambda^{1/L}`` and its rate ``q = 1 - eta min k`` (:func:`certify_scalar_limit`;
    monotone in ``eta``, so the largest step covers every smaller one).
    Measured: the largest rate ``q`` over the eigen-directions (claim ``< 1``;
    a direction certified to converge elsewhere counts as ``q = 1``).  ``eta_frac
    < 1``: at ``eta = eta_2`` exactly the top direction's condition holds with
    equality, which enclosures cannot decide.  Also run: float64 GD at that step.
    Control ``not-positive-definite``: a negative eigenvalue; its direction is
    certified to go to 0, not to the minimum.
    """
    L = need_int("L", L, 1)
    f = need_number("eta_frac", eta_frac, lo=0.0)
    R, label = _target(eigs, rotate, phi)
    rho = float(np.linalg.norm(R, 2))
    eta = f * ssm.thm2_eta(L, rho)
    red, prec, qs, verdict = _reduction_verdict(ctx, R, L, eta, need_int("prec", prec, 53))
    b = ctx.backend("ball", prec) if ctx.precision is None else ctx.backend("ball", ctx.precision)
    f64 = ctx.backend("float64")
    gd = dynamics.gd(f64, [np.eye(R.shape[0])] * L, Target.whitened(f64, R), eta,
                     max_steps=100_000, rel_tol=f64.unit_roundoff)  # fmt: skip
    every = verdict is Verdict.CERTIFIED
    part = ssm_result(
        b, verdict, max(q for q in qs if not np.isnan(q)) if qs else float("nan"), 1.0, "<=",
        how="scalar reduction + invariant intervals (arb)", part="convergence",
        notes=(f"eta = {f} eta_2 = {eta:.6g} (eta_2 = 1/(L max(1, rho)^(2(L-1)/L)), rho = "
               f"{rho:.6g}, L = {L}); limits per eigenvalue: "
               f"{[(round(float(s.lam.mid()), 6), s.limit) for s in red.limits]}; certified "
               f"rates {[round(q, 6) for q in qs]}; float64 GD from I at this step: "
               f"'{gd.stop}' after {gd.steps} steps."
               + (f" Every direction reaches its root, but no linear rate < 1 is certified at "
                  f"{prec} bits (1 - rate ~ eta L rho^(2(L-1)/L) = {eta * L * rho ** (2 * (L - 1) / L):.3g}"
                  " is below the precision): inconclusive, not violated; a --precision above "
                  f"{-math.log2(max(eta * L * rho ** (2 * (L - 1) / L), 1e-320)) + 64:.0f} bits "
                  "would resolve it." if _unresolved(red) else "")),
        evidence={"directions": red.describe(), "eta": eta, "eta_2": eta / f,
                  "gd_stop": gd.stop, "gd_steps": gd.steps},
        scope={"Phi": covers(label), "L": covers(f"L = {L}"),
               "eta": covers(f"every eta in (0, {f} eta_2]", universal=every),
               "t": covers("every t >= 0", universal=every)},
        counterexample=None if verdict is not Verdict.VIOLATED else
        {"directions": red.describe(), "eta": eta},
    )  # fmt: skip
    if verdict is Verdict.CERTIFIED:  # the room 1 - q, from the enclosures (no rounding to 0)
        part.margin = min(float((1 - s.rate).lower()) for s in red.limits if s.rate is not None)
        part.notes += f" Room 1 - q >= {part.margin:.3g} (arb, at {prec} bits)."
    out = ssm_result(b, verdict, part.measured or 0.0, 1.0, "<=", how="", notes=part.notes,
                     evidence=part.evidence, scope=part.scope, parts=[part],
                     counterexample=part.counterexample)  # fmt: skip
    out.margin = part.margin
    if phi is not None:  # say what was run: the user's target, not the budget's eigs / rotate
        out.params = {"eigs": "the user's target's", "rotate": None, "prec": prec}
    return out


def _unresolved(red: Any) -> bool:
    """Every direction reaches its root, but some linear rate is not certified < 1."""
    return bool(red.all_limits("root")) and any(
        s.rate is None or not bool(s.rate < 1) for s in red.limits
    )


def _reduction_verdict(
    ctx: RunContext, R: np.ndarray, L: int, eta: float, prec: int
) -> tuple[Any, int, list[float], Verdict]:
    """The scalar reduction of GD from I at ``eta`` and its verdict, decided on
    the arb enclosures.  A rate ``1 - eta k`` with ``eta k`` below ``2^-prec``
    (a tiny target) is not resolved at ``prec`` bits: the precision is doubled
    up to :data:`~zascheck.spec.MAX_PRECISION` (unless ``--precision`` fixes
    it); a rate that rounds to 1 is undecided, never a violation.  Returns the
    reduction, the precision used, the rates as doubles and the verdict."""
    red = identity_reduction(R, L, eta, prec=ctx.bits(prec))
    while _unresolved(red) and prec * 2 <= MAX_PRECISION and ctx.precision is None:
        prec *= 2
        red = identity_reduction(R, L, eta, prec=prec)
    qs = [float(s.rate.upper()) if s.limit == "root" and s.rate is not None
          else (1.0 if s.limit is not None else float("nan")) for s in red.limits]  # fmt: skip
    if not red.invariant_proven or any(np.isnan(qs)) or _unresolved(red):
        verdict = Verdict.INCONCLUSIVE
    elif red.all_limits("root") and all(
        s.rate is not None and bool(s.rate < 1) for s in red.limits
    ):  # a rate 1 - 1e-300 < 1 rounds to 1.0 as a double: decided on the enclosure
        verdict = Verdict.CERTIFIED
    else:
        verdict = Verdict.VIOLATED
    return red, prec, qs, verdict


@CARD.check(
    method="bisection",
    budgets={
        "quick": {"L": 2, "eigs": [2.0, 0.5], "rotate": 0.6, "iters": 6, "max_steps": 1500,
                  "n_random": 1},
        "standard": {"L": 3, "eigs": [2.0, 1.0, 0.25], "rotate": 0.6, "iters": 10,
                     "max_steps": 4000, "n_random": 3},
        "thorough": {"L": 5, "eigs": [3.0, 1.5, 0.7, 0.2], "rotate": 0.6, "iters": 14,
                     "max_steps": 10000, "n_random": 6},
    },
    accepts_phi=True,
)  # fmt: skip
def check_thm2_largest_step(
    ctx: RunContext, *, L: int, eigs: list[float], rotate: float, iters: int, max_steps: int,
    n_random: int, phi: Any = None,
) -> CheckResult:  # fmt: skip
    """Part ``largest-step`` (Corollary 2): no random near-identity init (eq. 5.1
    inits, ``n_random`` of them) converges at a step where identity fails.

    For each init ``k``: bracket its threshold ``eta*_k / eta_1`` (bisection on
    ``[1/4, 3/2]``, float64 probes of :func:`gd_probe`); at its largest
    converging step ``lo_k``, probe GD from identity: converges (agreement),
    fails (counterexample) or undecided.  Identity's own bracket against
    ``eta_1`` is reported (judged on both ends, with the step budget named
    when it limits the bracket).  ``n_random = 0`` compares nothing: inconclusive.
    """
    L, iters = need_int("L", L, 1), need_int("iters", iters)
    max_steps, n_random = need_int("max_steps", max_steps, 1), need_int("n_random", n_random)
    R, label = _target(eigs, rotate, phi)
    b = ctx.backend("float64")
    tgt = Target.whitened(b, R)
    eta1 = ssm.thm1_eta(L, float(np.linalg.norm(R, 2)))
    eye = [np.eye(R.shape[0]) for _ in range(L)]
    ident = step_bracket(b, eye, tgt, eta1, iters=iters, max_steps=max_steps, lo=0.25, hi=1.75)
    rows = []
    for k in range(n_random):
        ws0 = inits.near_identity(L, R.shape[0], seed=ctx.rng(2000 + k))
        br = step_bracket(b, ws0, tgt, eta1, iters=iters, max_steps=max_steps, lo=0.25, hi=1.75)
        at = None if br.lo is None else gd_probe(b, eye, tgt, br.lo * eta1, max_steps)
        rows.append({"init": k, "bracket": br.text(), "lo": br.lo, "hi": br.hi,
                     "identity_at_lo": None if at is None else at.state,
                     "why": "" if at is None else at.why})  # fmt: skip
    return _largest_step_result(b, ident, rows, eta1, L, label, iters, max_steps)


def _largest_step_result(
    b: Any, ident: ssm.Bracket, rows: list[dict[str, Any]], eta1: float, L: int, label: str,
    iters: int, max_steps: int,
) -> CheckResult:  # fmt: skip
    vs = [Verdict.HOLDS if r["lo"] is None or r["identity_at_lo"] is True
          else Verdict.VIOLATED if r["identity_at_lo"] is False else Verdict.INCONCLUSIVE
          for r in rows]  # fmt: skip
    verdict = combine_verdicts(vs)  # no other init compared: inconclusive
    largest = max((r["lo"] for r in rows if r["lo"] is not None), default=float("nan"))
    # the largest step identity was seen to converge at: its bracket's lo, or a probe at some lo_k
    ident_best = max([ident.lo or 0.0] + [r["lo"] for r in rows if r["identity_at_lo"] is True])
    where = {"below": "at most eta_1", "above": "above eta_1 (!)",
             "straddles": "not separated from eta_1"}[ident.versus(1.0)]  # fmt: skip
    notes = f"identity threshold eta*/eta_1 in {ident.text()}: {where}; " + (
        f"{len(rows)} near-identity inits, brackets "
        f"{[r['bracket'] for r in rows]}; identity converges at each one's largest "
        f"converging step: {[r['identity_at_lo'] for r in rows]}."
        if rows
        else "no other init compared (n_random = 0): cannot say 'largest'."
    )
    bad = [r for r in rows if r["identity_at_lo"] is False]
    part = ssm_result(
        b, verdict, largest, ident_best, "<=", part="largest-step",
        measured_repr="largest step (/eta_1) at which a near-identity init converged",
        bound_repr="largest step (/eta_1) at which identity was seen to converge",
        how="GD probes and brackets of the step size (float64)", notes=notes,
        evidence={"identity_bracket": [ident.lo, ident.hi], "identity_trace": ident.trace,
                  "identity_budget_limited": ident.budget_limited, "random": rows,
                  "eta1": eta1},
        scope={"Phi": covers(label), "L": covers(f"L = {L}"),
               "init": covers(f"identity vs {len(rows)} near-identity inits"),
               "t": covers(f"t <= {max_steps} GD steps per probe"),
               "eta": covers(f"bisection on [1/4, 7/4] eta_1, {iters} steps, <= {max_steps} "
                             "GD steps per probe")},
        counterexample=bad[0] if bad else None,
    )  # fmt: skip
    return ssm_result(b, verdict, part.measured or float("nan"), part.bound or 0.0, "<=", how="",
                      notes=notes, evidence=part.evidence, scope=part.scope, parts=[part],
                      counterexample=part.counterexample)  # fmt: skip
