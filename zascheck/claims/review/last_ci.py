"""The last layer may start at c I instead of 0 and the proof's identities still hold.

Source: reviews of the ZAS paper (NeurIPS 2019), review 1.
"""

from __future__ import annotations

from typing import Any

from zascheck import inits, model
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.result import combine_verdicts
from zascheck.measure.common import flow_decay
from zascheck.measure.reviews import (
    _FLOW_NOTE,
    _eff_rate,
    _frac,
    _last_ci_identity,
    _ratio_vs,
    last_ci_rate,
)
from zascheck.measure.symbolic import _certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

CARD = Card(
    id="review.last-cI",
    section="B",
    kind="inequality",
    source="reviews of the ZAS paper (NeurIPS 2019), review 1",
    statement="The last layer may start at c I instead of 0 and the proof's identities still hold.",
    bound="upper",
    quantifiers=(
        Q("t", "t >= 0 (gradient flow)"),
        Q("c", "every c in [0, 1)"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
    ),
    proofs=proof_sets.last_ci,
    depends_on=("zas.lemma4.2",),
    figure="last-ci",
)


@CARD.check(
    method="flow",
    budgets={
        "quick": {
            "cs": [0.1, 0.5, 0.7],
            "depths": [2, 3],
            "d": 2,
            "phis": ["-I"],
            "taus": [0.25, 0.5, 1.0, 2.0, 3.0],
            "arithmetic": "float64",
            "rate": None,
        },
        "standard": {
            "cs": [0.1, 0.3, 0.5, 0.7, 0.9],
            "depths": [2, 3, 4, 5],
            "d": 2,
            "phis": ["-I", "gaussian"],
            "taus": [0.1, 0.25, 0.5, 1.0, 2.0, 3.0],
            "arithmetic": "float64",
            "rate": None,
        },
    },
    controls={
        # claim the ZAS rate exp(-2t) itself: fails already at c = 0.5 (L = 3, Phi = -I)
        "zas-rate": {"cs": [0.5], "depths": [3], "phis": ["-I"], "rate": 1},
        # break c < 1: the formula (1-c^2)^{L-1} is positive for c = 1.2, L = 3, but the
        # flow is caught by the saddle at W_{L-1:1} = 0
        "c-above-1": {"cs": [1.2], "depths": [3], "phis": ["-I"]},
    },
    accepts_phi=True,
)
def last_ci(
    ctx: RunContext,
    cs: list[float],
    depths: list[int],
    d: int,
    phis: list[Any],
    taus: list[float],
    arithmetic: str,
    rate: float | None,
    phi: Any = None,
) -> CheckResult:
    """Review 1 of the ZAS paper: "one can modify the ZAS and initialize the
    last layer as non-zero appropriately (say, 0.1*Id), such that the two
    identities after line 145 hold".

    Exact form of the identities: with ``W_L(0) = c I`` and ``W_l(0) = I``,
    ``D_l = 0`` (``l <= L-2``) and ``D_{L-1} = (c^2 - 1) I``, so (Lemma 4.2)
    ``W_{L-1:1} W_{L-1:1}^T = ((1 - c^2) I + W_L^T W_L)^{L-1}`` along the
    flow.  For ``|c| < 1`` its smallest eigenvalue is ``>= (1-c^2)^{L-1}``,
    hence ``||G_L||^2 >= 2 (1-c^2)^{L-1} R`` and
    ``R(t) <= exp(-2 (1-c^2)^{L-1} t) R(0)`` (``R(0) = 1/2 ||c I - Phi||^2``).

    Reading formalized: for every ``c`` in ``cs`` (``|c| < 1``), ``L`` in
    ``depths`` and target in ``phis``, gradient flow satisfies
    ``R(t) <= exp(-2 r t) R(0)`` with ``r = (1-c^2)^{L-1}`` (or the fixed
    ``rate`` when given) on the grid ``t in {tau / r} U {tau}``.  The flow runs
    in float64 (horizons ``~3/r`` are long; ball radii of the Taylor
    integrator blow up there).  measured = max ratio; bound 1.  The rate
    table in the evidence gives, per case, the derived rate, the empirical
    rate ``min_t -ln(R(t)/R(0))/(2t)``, the rate at ``t = 0``
    (``sum_l ||G_l||^2 / 2R = 1 + (L-1) c^2``) and whether ``exp(-2t)``
    still holds.  The identity is checked exactly at ``t = 0`` and along a
    short ball-arithmetic flow.
    """
    b = ctx.backend(arithmetic, 128)
    if phi is not None:
        phis = [phi]
    table: list[dict[str, Any]] = []
    verdicts: list[Verdict] = []
    worst: tuple[float, dict[str, Any]] | None = None
    with b.session():
        for ph in phis:
            phi_m = make_phi(ph, d, ctx.rng(3))
            dd = phi_m.shape[0]
            target = Target.whitened(b, phi_m)
            for c in cs:
                for L in depths:
                    derived = last_ci_rate(c, L)
                    r = _frac(rate) if rate is not None else derived
                    if r <= 0:
                        table.append(
                            {
                                "c": c,
                                "L": L,
                                "phi": str(ph),
                                "derived_rate": float(derived),
                                "verdict": "inconclusive",
                                "why": "no positive rate to check",
                            }
                        )
                        verdicts.append(Verdict.INCONCLUSIVE)
                        continue
                    rf = float(r)
                    times = sorted(
                        {float(t / r) for t in map(_frac, taus)} | {float(t) for t in taus}
                    )
                    ws0 = inits.last_c_identity(L, dd, c)
                    r0, g0 = model.loss_and_grads(b, [b.matrix(w) for w in ws0], target)
                    r0f = b.to_float(r0)
                    init_rate = sum(b.to_float(b.fro2(g)) for g in g0) / (2 * r0f)
                    m = flow_decay(b, ws0, target, times, r)
                    verdicts.append(m.verdict)
                    zas_ratio = _ratio_vs(m.times, m.losses, r0f, 1.0)
                    row = {
                        "c": c,
                        "L": L,
                        "phi": str(ph),
                        "claimed_rate": rf,
                        "derived_rate": float(derived),
                        "empirical_rate": _eff_rate(m.times, m.losses, r0f),
                        "rate_at_t0": init_rate,
                        "max_ratio": m.max_ratio,
                        "exp2t_max_ratio": max(zas_ratio),
                        "exp2t_holds_on_grid": max(zas_ratio) <= 1.0,
                        "verdict": m.verdict.value,
                        "times": m.times,
                        "loss": m.losses,
                        "ratio_error_budget": m.err,
                        "R0": r0f,
                        "outside_hypothesis": not abs(c) < 1,
                    }
                    table.append(row)
                    if worst is None or m.max_ratio > worst[0]:
                        worst = (
                            m.max_ratio,
                            {
                                "c": c,
                                "L": L,
                                "phi": phi_m,
                                "t": m.times[m.worst],
                                "ratio": m.max_ratio,
                                "rate": rf,
                            },
                        )
        ident = _last_ci_identity(ctx, cs[0], max(depths), d, phis[0])
    verdict = combine_verdicts(verdicts)
    measured = worst[0] if worst else None
    res = CheckResult(
        verdict=verdict,
        measured=measured,
        bound=1.0,
        margin=None if measured is None else 1.0 - measured,
        relation="<=",
        arithmetic=b.name,
        precision_bits=b.prec,
        method="flow",
        measured_repr="max over (c, L, Phi, t) of R(t)/(exp(-2 r t)R(0)), r = (1-c^2)^(L-1)"
        if rate is None
        else f"max over cases of R(t)/(exp(-2*{rate}*t)R(0))",
        evidence={"rate_table": table, "identity": ident},
        notes=(
            _FLOW_NOTE + " Rate (1-c^2)^(L-1) from lambda_min(((1-c^2)I + W_L^T W_L)^(L-1)); "
            "with Phi = -I it is attained at the instant W_L crosses 0 (then only G_L is nonzero). "
            f"Identity W_(L-1:1)W_(L-1:1)^T = ((1-c^2)I + W_L^T W_L)^(L-1): exact at t = 0: "
            f"{ident['exact_at_t0']}; max residual along a short ball flow "
            f"{ident['max_residual']:.2g} "
            f"(integration error estimate {ident['integration_error']:.2g})."
        ),
    )
    if worst is not None:
        res.tightest = {k: v for k, v in worst[1].items() if k != "phi"}
        if verdict is Verdict.VIOLATED:
            res.counterexample = worst[1] | {"d": d}
    return res


@CARD.check(
    method="symbolic",
    budgets={"quick": {"L_max": 5, "wrong": None}, "standard": {"L_max": 7, "wrong": None}},
    controls={"sign": {"wrong": "sign"}},
)
def last_ci_symbolic(ctx: RunContext, *, L_max: int, wrong: str | None) -> CheckResult:
    """Last layer c I: the proof's identities in their exact form.

    Claim: review.last-cI (ZAS reviews, review 1: "initialize the last layer as
    non-zero appropriately (say, 0.1*Id), such that the two identities after line
    145 hold").  Reading formalized: with W_l(0) = I (l < L), W_L(0) = c I (c symbolic),
    D_{L-1} = (c^2 - 1) I, so W_{L-1}W_{L-1}^T = (1 - c^2) I + W_L^T W_L and
    W_{L-1:1}W_{L-1:1}^T = ((1 - c^2) I + W_L^T W_L)^{L-1} >= (1 - c^2)^{L-1} I when |c| <= 1:
    the rate becomes exp(-2 (1 - c^2)^{L-1} t) (explicit L <= L_max).
    """
    return _certify(
        CARD.proofs(L_max=L_max, wrong=wrong),
        route="substitution, rewriting modulo the conserved D_l, Gram-sum expansion",
        notes="The second identity changes form: I + W_L^T W_L becomes "
        "(1 - c^2) I + W_L^T W_L; the Gram-sum bound needs 1 - c^2 >= 0, giving "
        "R(t) <= exp(-2 (1 - c^2)^{L-1} t) R(0) (c = 0.1: factor 0.99^{L-1}); "
        f"for |c| >= 1 the bound is vacuous. Explicit L <= {L_max}, symbolic c.",
    )
