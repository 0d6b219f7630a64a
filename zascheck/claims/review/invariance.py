"""The proof follows from D_l staying constant along the flow; under GD only approximately.

Source: reviews of the ZAS paper (NeurIPS 2019), review 2.
"""

from __future__ import annotations

import math

from zascheck import model
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.result import combine_verdicts
from zascheck.measure.conservation import _F, dynamics_flow, invariant_change
from zascheck.measure.symbolic import _certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

CARD = Card(
    id="review.invariance",
    section="B",
    kind="identity",
    source="reviews of the ZAS paper (NeurIPS 2019), review 2",
    statement="The proof follows from D_l staying constant along the flow; under GD only approximately.",
    bound="exact",
    quantifiers=(
        Q("t", "t >= 0 (flow), every GD step"),
        Q("init", "every initialization"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
    ),
    proofs=proof_sets.invariance,
    depends_on=("zas.lemma4.2", "zas.drift"),
    figure="drift",
)


@CARD.check(
    method="flow+exact-gd",
    budgets={"quick": {"L": 3, "d": 2, "steps": 2, "eta": "1/8", "times": [0.5, 1.0]}},
    controls={"claim-exact-under-gd": {"claim_gd_exact": True}},
)
def invariance(
    ctx: RunContext,
    L: int,
    d: int,
    steps: int,
    eta: str,
    times: list[float],
    claim_gd_exact: bool = False,
) -> CheckResult:
    """Review 2 of the ZAS paper: "the proof follows from ``W_{l+1}^T W_{l+1} -
    W_l W_l^T`` staying constant along the flow"; under GD it is only
    approximately constant.

    Reading formalized, three parts: (a) flow conserves ``D_l`` (as
    ``zas.lemma4.2``, numerically); (b) exact-rational GD changes ``D_l``
    (the drift is not zero: "only approximately"); (c) by the drift
    identity, ``||D_l(T) - D_l(0)||_F <= eta^2 sum_t (||G_{l+1}||_F^2 +
    ||G_l||_F^2)`` ("approximately": second order in ``eta``), decided exactly.
    The control asserts the stronger, false reading "constant under GD too".
    """
    from fractions import Fraction

    from zascheck.arith import ExactBackend

    rng = ctx.rng(6)
    # (a) flow
    b = ctx.backend("ball", 128)
    with b.session():
        ws0 = [rng.standard_normal((d, d)) / math.sqrt(d) for _ in range(L)]
        target = Target.whitened(b, make_phi("gaussian", d, rng))
        run = dynamics_flow(b, ws0, target, times)
        ch, allow = invariant_change(b, [b.matrix(x) for x in ws0], run.ws[-1], run.error_estimate)
    v_flow = decide(_F, ch, allow)
    # (b), (c) exact GD
    e = ExactBackend()
    ws = [
        e.matrix([[Fraction(int(k), 4) for k in row] for row in rng.integers(-8, 9, (d, d))])
        for _ in range(L)
    ]
    tq = Target(
        Y=e.matrix([[Fraction(int(k), 4) for k in row] for row in rng.integers(-8, 9, (d, d))])
    )
    eq = e.scalar(Fraction(eta))
    d0 = model.invariants(e, ws)
    acc = [e.scalar(0) for _ in range(L - 1)]
    for _ in range(steps):
        _r, g = model.loss_and_grads(e, ws, tq)
        for l in range(L - 1):
            acc[l] += eq * eq * (e.fro2(g[l + 1]) + e.fro2(g[l]))
        ws = model.gd_update(e, ws, g, eq)
    dT = model.invariants(e, ws)
    changes2 = [e.fro2(e.sub(x, y)) for x, y in zip(dT, d0, strict=True)]
    nonzero = all(c != 0 for c in changes2)
    bounded = all(c <= a * a for c, a in zip(changes2, acc, strict=True))
    if claim_gd_exact:
        v_gd = Verdict.CERTIFIED if not nonzero else Verdict.VIOLATED
    else:
        v_gd = Verdict.CERTIFIED if (nonzero and bounded) else Verdict.VIOLATED
    verdict = combine_verdicts([v_flow, v_gd])
    ratio = max(
        math.sqrt(e.to_float(c)) / e.to_float(a) for c, a in zip(changes2, acc, strict=True)
    )
    out = CheckResult(
        verdict=verdict,
        measured=ch,
        bound=allow,
        margin=allow - ch,
        arithmetic="ball+exact",
        precision_bits=b.prec,
        measured_repr="flow: max ||D_l(t)-D_l(0)||_F",
        evidence={
            "flow_change": ch,
            "flow_budget": allow,
            "flow_verdict": v_flow.value,
            "gd_drift_norms": [math.sqrt(e.to_float(c)) for c in changes2],
            "gd_drift_over_eta2_bound": ratio,
            "gd_verdict": v_gd.value,
        },
        notes=(
            f"flow conserves D_l within its error budget ({v_flow.value}); exact GD drift is "
            f"nonzero: {nonzero}, within eta^2 sum ||G||^2: {bounded} (largest ratio {ratio:.3g})"
        ),
    )
    if verdict is Verdict.VIOLATED:
        out.counterexample = {
            "gd_drift_norms": out.evidence["gd_drift_norms"],
            "reading": "constant under GD" if claim_gd_exact else "approximate",
        }
    return out


@CARD.check(
    method="symbolic",
    budgets={"quick": {"wrong": None}},
    controls={"eta": {"wrong": "eta"}, "transpose": {"wrong": "transpose"}},
)
def invariance_symbolic(ctx: RunContext, *, wrong: str | None) -> CheckResult:
    """D_l is constant along the flow and drifts by exactly O(eta^2) under GD.

    Claim: review.invariance (ZAS reviews, review 2).  Reading formalized: the
    conjunction of zas.lemma4.2 (dD_l/dt = 0) and zas.drift (the GD change is
    eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T)), both as free-algebra identities.
    """
    return _certify(
        CARD.proofs(wrong=wrong),
        route="free-algebra expansion",
        notes="Every L, d and E (free algebra).",
    )
