"""Under GD: D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T) exactly.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 4.2 (underlies Lemma 4.5).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from zascheck import inits, model
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import EXACT_LADDER, Escalated, Evaluation, escalate
from zascheck.result import combine_verdicts
from zascheck.measure.conservation import _F, _fro, drift_residuals, drift_rounding_budget
from zascheck.measure.evaluation import fro, ratio_slack
from zascheck.measure.symbolic import _certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

CARD = Card(
    id="zas.drift",
    section="A",
    kind="identity",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 4.2 (underlies Lemma 4.5)",
    statement="Under GD: D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T) exactly.",
    bound="exact",
    quantifiers=(
        Q("t", "every GD step t >= 0"),
        Q("eta", "every step size eta"),
        Q("init", "every initialization"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
        Q("d", "every width d >= 1"),
    ),
    proofs=proof_sets.drift,
    depends_on=("zas.gradient",),
    figure="drift",
)


@CARD.check(
    method="exact",
    budgets={
        "quick": {"L": 3, "d": 2, "steps": 2, "eta": "1/8", "denominator": 4},
        "standard": {"L": 4, "d": 2, "steps": 3, "eta": "1/10", "denominator": 4},
        "thorough": {"L": 4, "d": 3, "steps": 3, "eta": "1/10", "denominator": 8},
    },
    controls={"eta-not-squared": {"power": 1}},
)
def drift_exact(
    ctx: RunContext, L: int, d: int, steps: int, eta: str, denominator: int, power: int = 2
) -> CheckResult:
    """GD drift identity (ZAS paper Sec. 4.2, underlying Lemma 4.5): under GD
    ``D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T)`` exactly.

    Reading formalized: in exact rational arithmetic, from a random init with
    entries ``k / denominator`` (integers ``|k| <= 2 denominator``) and a
    random rational target, take ``steps`` GD steps with rational ``eta`` and
    require every residual to be exactly the zero matrix.  A zero residual in
    exact arithmetic proves the identity for these inputs: ``certified``.
    Control: ``eta`` in place of ``eta^2``.
    """

    from zascheck.arith import ExactBackend

    b = ExactBackend()
    rng = ctx.rng(4)
    den = int(denominator)
    ws = [
        b.matrix(
            [
                [Fraction(int(k), den) for k in row]
                for row in rng.integers(-2 * den, 2 * den + 1, (d, d))
            ]
        )
        for _ in range(L)
    ]
    phi = b.matrix(
        [
            [Fraction(int(k), den) for k in row]
            for row in rng.integers(-2 * den, 2 * den + 1, (d, d))
        ]
    )
    target = Target(Y=phi)
    eta_q = b.scalar(Fraction(eta))
    nonzero = 0
    worst = 0.0
    where = None
    for t in range(steps):
        res, ws, _g, _d = drift_residuals(b, ws, target, eta_q, power=power)
        for l, r in enumerate(res):
            n = b.to_float(b.fro2(r))
            if n != 0:
                nonzero += 1
                if n > worst:
                    worst, where = n, (t, l + 1)
    verdict = Verdict.CERTIFIED if nonzero == 0 else Verdict.VIOLATED
    res_ = CheckResult(
        verdict=verdict,
        measured=math.sqrt(worst),
        bound=0.0,
        margin=0.0 if worst == 0 else -math.sqrt(worst),
        arithmetic="exact",
        precision_bits=0,
        measured_repr="max ||residual||_F over steps and layers (exact rationals)",
        evidence={"nonzero_residuals": nonzero, "pairs_checked": steps * (L - 1)},
        notes=f"{steps} exact GD steps, L = {L}, d = {d}, eta = {eta}",
    )
    if verdict is Verdict.VIOLATED:
        assert where is not None, "a nonzero residual n > 0 exceeds the initial worst = 0"
        res_.counterexample = {
            "step": where[0],
            "l": where[1],
            "residual_norm": math.sqrt(worst),
            "power_of_eta": power,
        }
    return res_


@CARD.check(
    method="mp",
    budgets={
        "quick": {"L": 5, "d": 3, "steps": 5, "eta": 0.05, "bits": 113},
        "standard": {"L": 8, "d": 4, "steps": 10, "eta": 0.02, "bits": 200},
    },
    controls={"eta-not-squared": {"power": 1}},
    accepts_phi=True,
)
def drift_mp(
    ctx: RunContext,
    L: int,
    d: int,
    steps: int,
    eta: float,
    bits: int,
    power: int = 2,
    phi: Any = "gaussian",
) -> CheckResult:
    """GD drift identity at high precision (same claim as the ``exact`` method).

    Reading formalized: in mpmath at ``ctx.bits(bits)`` from a Xavier init and
    target ``phi``, for ``steps`` GD steps, every residual
    ``||D_l(t+1) - D_l(t) - eta^2(...)||_F`` is within the rounding budget
    ``4 gamma_n * (size of the terms)`` (``n = (L + 4) d``).  The mp measurement
    also shows the size of the drift itself beside the float64 resolution.
    """
    b = ctx.backend("mp", bits)
    rng = ctx.rng(5)
    phi_m = make_phi(phi, d, rng)
    d = phi_m.shape[0]
    ws = [b.matrix(w) for w in inits.xavier(L, d, rng)]
    target = Target.whitened(b, phi_m)
    eta_b = b.scalar(eta)
    verdicts, worst, drift_sizes = [], None, []
    for t in range(steps):
        res, new, g, _d = drift_residuals(b, ws, target, eta_b, power=power)
        for l, r in enumerate(res):
            m = _fro(b, r)
            budget = drift_rounding_budget(b, ws, g, float(eta), l)
            v = decide(_F, m, budget)
            verdicts.append(v)
            if worst is None or m - budget > worst[0] - worst[1]:
                worst = (m, budget, t, l + 1)
        dn = model.invariants(b, new)
        do = model.invariants(b, ws)
        drift_sizes.append(max(_fro(b, b.sub(x, y)) for x, y in zip(dn, do, strict=True)))
        ws = new
    assert worst is not None, "steps >= 1 and L >= 2 give at least one residual"
    verdict = combine_verdicts(verdicts)
    out = CheckResult(
        verdict=verdict,
        measured=worst[0],
        bound=worst[1],
        margin=worst[1] - worst[0],
        arithmetic="mp",
        precision_bits=b.prec,
        measured_repr="max ||D_l(t+1) - D_l(t) - eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T)||_F",
        bound_repr="4 gamma_{(L+4)d} x size of terms",
        evidence={"drift_per_step": drift_sizes, "eta": eta},
        notes="rounding budget from Higham's gamma_n at the working precision",
    )
    if verdict is Verdict.VIOLATED:
        out.counterexample = {
            "step": worst[2],
            "l": worst[3],
            "residual": worst[0],
            "budget": worst[1],
            "power_of_eta": power,
        }
    return out


@CARD.check(
    method="symbolic",
    budgets={"quick": {"wrong": None}},
    controls={"eta": {"wrong": "eta"}, "transpose": {"wrong": "transpose"}},
)
def drift_symbolic(ctx: RunContext, *, wrong: str | None) -> CheckResult:
    """GD drift: D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T) exactly.

    Claim: zas.drift (ZAS paper, Sec. 4.2, underlying Lemma 4.5).  Reading
    formalized: one GD step B -> B - eta G_{l+1}, C -> C - eta G_l with the
    gradients of eq. (2.5) at step t; identity in the free algebra (every L, d, E).
    """
    return _certify(
        CARD.proofs(wrong=wrong),
        route="free-algebra expansion",
        notes="Every L, d and E (free algebra, eta a commutative symbol).",
    )


# --- hypothesis property: evaluator and declarations ---


def eval_drift(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.drift: :func:`zascheck.checks.conservation.drift_residuals` is zero
    (exactly; in mp within ``drift_rounding_budget``)."""
    from zascheck.measure.conservation import drift_residuals, drift_rounding_budget

    power = int(case.get("power", 2))

    def evaluate(b: Backend) -> Evaluation:
        ws = [b.matrix(w) for w in case["ws"]]
        tgt = Target.whitened(b, case["phi"])
        res, _new, g, _d = drift_residuals(b, ws, tgt, b.scalar(case["eta"]), power=power)
        if b.exact:
            tot = sum((b.fro2(r) for r in res), b.scalar(0))
            return Evaluation(tot, b.scalar(0), 0.0, evidence={"slack": 1.0})
        worst = (0.0, 0.0, math.inf)
        for l, r in enumerate(res):
            m = fro(b, r)
            bud = drift_rounding_budget(b, ws, g, float(case["eta"]), l)
            sl = ratio_slack(m, bud)
            if sl < worst[2]:
                worst = (m, bud, sl)
        return Evaluation(worst[0], worst[1], 0.0, evidence={"slack": worst[2]})

    return escalate(evaluate, start=("mp", 113), ladder=EXACT_LADDER, certify=certify)


CARD.prop(
    None,
    lambda: S.drift_cases(),
    eval_drift,
    certify=True,
    summary="D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T) exactly",
)

CARD.prop(
    "eta-not-squared",
    lambda: S.drift_cases(control="eta-not-squared"),
    eval_drift,
    certify=True,
    summary="eta in place of eta^2: must fail",
)

CARD.search(examples=(6, 100, 1000))
