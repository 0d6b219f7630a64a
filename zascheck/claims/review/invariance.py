"""Review 2 of the ZAS paper: the proof rests on D_l being conserved by the flow.

Claim (reviews of the ZAS paper, NeurIPS 2019, review 2, quoted from the seed):
"the proof follows straightforwardly from the known fact (as the authors noted)
that the matrices ``W_{l+1}^T * W_{l+1} - W_l * W_l^T`` remains constant on the
gradient flow path."  The catalogue adds the discrete-time half, which is the
paper's own remark (Sec. 4.2.1: under GD the matrices (4.3) "are not exactly
invariant, but change slowly"): under GD ``D_l`` is only approximately constant.

Kind: identity (``bound = "exact"``), in two halves:

* flow: ``D_l(t) = D_l(0)`` for ``t >= 0`` (= ``zas.lemma4.2``);
* GD: ``D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T)`` exactly
  (= ``zas.drift``: "approximately", the change is second order in ``eta``),
  and that change is not identically zero ("only": at ``d = 1`` it is
  ``eta^2 a^2 e^2 f^2 (c^2 - b^2)``, ``eta^2`` at the ZAS init with ``L = 2``,
  ``Phi = -1``).

Reading formalized: both halves for every init, target, ``L >= 2`` and ``d``,
every ``t`` (flow) and every step (GD).  Not formalized: "the proof follows
straightforwardly" (how much of Thm 4.1 rests on it is ``zas.thm4.1.steps``).
The control asserts the stronger, false reading "constant under GD too".

Methods: ``symbolic`` proves both halves in the free algebra (claim-level
``certified`` rests on it); ``flow+exact-gd`` measures them on one random case
(flow in ball arithmetic within its error budget; GD in exact rationals,
through the drift measurement ``zas.drift`` uses).

References: review 2 of the ZAS paper; ZAS paper eq. (4.3), Lemma 4.2,
Sec. 4.2.1, Lemma 4.5.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck.arith import ExactBackend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.measure.conservation import (
    check_exact_gd_size,
    exact_drift,
    flow_invariant_change,
    random_rational_matrix,
    rational_bits,
)
from zascheck.measure.evaluation import F64
from zascheck.measure.flow import check_flow_request, check_flow_stiffness
from zascheck.measure.symbolic import certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers, decide
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

CARD = Card(
    id="review.invariance",
    section="B",
    kind="identity",
    source="reviews of the ZAS paper (NeurIPS 2019), review 2; ZAS paper Sec. 4.2.1",
    statement="The proof follows from D_l staying constant along the flow; under GD only "
    "approximately.",
    bound="exact",
    quantifiers=(
        Q("t", "t >= 0 (flow), every GD step"),
        Q("init", "every initialization"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 2 (D_l exists for L >= 2)"),
        Q("d", "every width d >= 1"),
    ),
    proofs=proof_sets.invariance,
    depends_on=("zas.lemma4.2", "zas.drift", "zas.thm4.1.steps"),
    figure="drift",
)


def _gd_half(
    rng: np.random.Generator,
    L: int,
    d: int,
    steps: int,
    eta: str,
    phi: np.ndarray | None,
    claim_gd_exact: bool,
) -> tuple[Verdict, dict[str, Any]]:
    """Exact GD: does ``D_l`` change (it must), and within the drift identity's bound?"""
    check_exact_gd_size(
        "review.invariance:flow+exact-gd",
        L,
        d,
        steps,
        max(
            rational_bits(eta), 7, *(rational_bits(x) for x in ([] if phi is None else phi.ravel()))
        ),
    )
    e = ExactBackend()
    ws = [random_rational_matrix(e, rng, d, 4) for _ in range(L)]
    tq = random_rational_matrix(e, rng, d, 4) if phi is None else e.matrix(phi)
    run = exact_drift(e, ws, Target(Y=tq), e.scalar(Fraction(eta)), steps)
    # "not exactly invariant" is shown by one D_l that moved; a D_l that happens not to move
    # (e.g. d = 1, equal gradients) is within the O(eta^2) bound, not a counterexample
    moved = any(c != 0 for c in run.change2)
    bounded = all(c <= a * a for c, a in zip(run.change2, run.bound, strict=True))
    if claim_gd_exact:
        verdict = Verdict.CERTIFIED if not moved else Verdict.VIOLATED
    elif not bounded or run.nonzero != 0:
        verdict = Verdict.VIOLATED
    else:  # bounded; whether it moved decides if this instance shows "only approximately"
        verdict = Verdict.CERTIFIED if moved else Verdict.INCONCLUSIVE
    ratio = max(
        (math.sqrt(e.to_float(c)) / e.to_float(a) if e.to_float(a) > 0 else 0.0)
        for c, a in zip(run.change2, run.bound, strict=True)
    )
    return verdict, {
        "gd_drift_norms": [math.sqrt(e.to_float(c)) for c in run.change2],
        "gd_drift_over_eta2_bound": ratio,
        "gd_identity_residuals_nonzero": run.nonzero,
        "gd_moved": moved,
        "gd_bounded": bounded,
    }


@CARD.check(
    method="flow+exact-gd",
    budgets={"quick": {"L": 3, "d": 2, "steps": 2, "eta": "1/8", "times": [0.5, 1.0]}},
    controls={"claim-exact-under-gd": {"claim_gd_exact": True}},
    accepts_phi=True,
)
def invariance(
    ctx: RunContext,
    L: int,
    d: int,
    steps: int,
    eta: str,
    times: list[float],
    claim_gd_exact: bool = False,
    phi: Any = None,
) -> CheckResult:
    """Both halves on one random case: flow conserves D_l; exact GD moves it, by O(eta^2).

    (a) The flow from a Xavier-like init conserves ``D_l`` within the
    integrator's error budget (ball arithmetic, ``holds``); (b) ``steps``
    exact-rational GD steps change every ``D_l`` ("only approximately"); (c)
    that change obeys the drift identity, hence ``||D_l(T) - D_l(0)||_F <=
    eta^2 sum_t (||G_{l+1}||_F^2 + ||G_l||_F^2)``, decided exactly.  A user
    target (``--phi``, square) replaces the random ones (exactly, in (b)-(c)).
    Control: the false reading "constant under GD too".
    """
    if L < 2 or steps < 1:
        raise InputError("review.invariance: needs L >= 2 (D_l exists) and steps >= 1")
    phi_m = None if phi is None else make_phi(phi, 0)
    if phi_m is not None:
        if phi_m.shape[0] != phi_m.shape[1]:
            raise InputError(f"review.invariance: the target must be square, got {phi_m.shape}")
        d = phi_m.shape[0]
    rng = ctx.rng(6)
    b = ctx.backend("ball", 128)
    check_flow_request("review.invariance:flow+exact-gd", [L], d, times, b.prec, decay=False)
    with b.session():
        ws0 = [rng.standard_normal((d, d)) / math.sqrt(d) for _ in range(L)]
        target = Target.whitened(b, make_phi("gaussian", d, rng) if phi_m is None else phi_m)
        if phi_m is not None:
            check_flow_stiffness("review.invariance:flow+exact-gd", phi_m, [L], max(times), b.prec)
        ch, allow = flow_invariant_change(b, ws0, target, times)
    v_flow = decide(F64, ch, allow)
    v_gd, gd = _gd_half(rng, L, d, steps, eta, phi_m, claim_gd_exact)
    verdict = combine_verdicts([v_flow, v_gd])
    phi_text = "the user's target" if phi_m is not None else "1 random target (Gaussian / rational)"
    out = CheckResult(
        verdict=verdict,
        measured=ch,
        bound=allow,
        arithmetic="ball+exact",
        precision_bits=b.prec,
        measured_repr="flow: max ||D_l(t)-D_l(0)||_F",
        evidence={
            "flow_change": ch,
            "flow_budget": allow,
            "flow_verdict": v_flow.value,
            **gd,
            "gd_verdict": v_gd.value,
        },
        notes=f"flow conserves D_l within its error budget ({v_flow.value}); exact GD drift is "
        f"nonzero: {gd['gd_moved']}, within eta^2 sum ||G||^2: {gd['gd_bounded']} (largest "
        f"ratio {gd['gd_drift_over_eta2_bound']:.3g})",
        scope={
            "t": covers(f"flow t in {times}; GD t < {steps} steps, eta = {eta}"),
            "init": covers(f"1 random init (seed {ctx.seed})"),
            "Phi": covers(phi_text),
            "L": covers(f"L = {L}"),
            "d": covers(f"d = {d}"),
        },
    )
    if verdict is Verdict.VIOLATED:
        out.counterexample = {
            "gd_drift_norms": gd["gd_drift_norms"],
            "reading": "constant under GD" if claim_gd_exact else "approximate",
        }
    return out


@CARD.check(
    method="symbolic",
    budgets={"quick": {"wrong": None}},
    controls={"eta": {"wrong": "eta"}, "transpose": {"wrong": "transpose"}},
)
def invariance_symbolic(ctx: RunContext, *, wrong: str | None) -> CheckResult:
    """Both halves in the free algebra: dD_l/dt = 0; the GD change is exactly the
    eta^2 term; that term is not identically zero (d = 1 witness).

    The conjunction of ``zas.lemma4.2`` and ``zas.drift`` as free-algebra
    identities (every ``L``, ``d``, point, target, ``t`` and ``eta``), plus the
    commutative ``d = 1`` expansion with a witness where GD moves ``D_l`` (an
    existence statement: one witness proves it).  Controls: ``eta`` for
    ``eta^2``; a transposed gradient.
    """
    return certify(
        proof_sets.invariance(wrong=wrong),
        route="free-algebra expansion; commutative expansion at d = 1 with a witness",
        notes="Every L, d and E (free algebra); GD moves D_l: witness L = 2, ZAS, Phi = -1.",
        scope={
            "t": covers(
                "every t >= 0 (flow) and every GD step (identities at every point)", universal=True
            ),
            "init": covers("every point W_1..W_L (free letters)", universal=True),
            "Phi": covers("every Phi (E a free letter)", universal=True),
            "L": "L",
            "d": "d",
        },
    )
