"""Under gradient flow every D_l(t) = D_l(0), for any init, Phi, L, d.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Lemma 4.2 (Sec. 4.1).
"""

from __future__ import annotations

from typing import Any

from zascheck import dynamics, model
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import BALL_LADDER, Escalated, Evaluation, escalate
from zascheck.result import combine_verdicts
from zascheck.measure.conservation import _F, _case_init, dynamics_flow, invariant_change
from zascheck.measure.evaluation import F64, case_init, ratio_slack
from zascheck.measure.symbolic import _certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

CARD = Card(
    id="zas.lemma4.2",
    section="A",
    kind="conservation",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Lemma 4.2 (Sec. 4.1)",
    statement="Under gradient flow every D_l(t) = D_l(0), for any init, Phi, L, d.",
    bound="exact",
    quantifiers=(
        Q("t", "t >= 0 (gradient flow)"),
        Q("init", "every initialization"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
        Q("d", "every width d >= 1"),
    ),
    proofs=proof_sets.lemma42,
    depends_on=("zas.gradient",),
)


@CARD.check(
    method="flow",
    budgets={
        "quick": {
            "cases": [
                ["random", 3, 2, "gaussian"],
                ["zas", 4, 2, "-I"],
                ["near-identity", 2, 3, "indefinite"],
            ],
            "times": [0.5, 1.0, 2.0],
            "evolution": "flow",
            "arithmetic": "ball",
        },
        "standard": {
            "cases": [
                ["random", 3, 2, "gaussian"],
                ["zas", 4, 2, "-I"],
                ["near-identity", 2, 3, "indefinite"],
                ["xavier", 5, 3, "gaussian"],
                ["random", 1, 3, "psd"],
            ],
            "times": [0.25, 0.5, 1.0, 2.0, 4.0],
            "evolution": "flow",
            "arithmetic": "ball",
        },
    },
    controls={
        # break "gradient flow": a GD step of size 0.05 does not conserve D_l
        "gd-large-step": {"evolution": "gd", "eta": 0.05},
    },
)
def lemma42(
    ctx: RunContext,
    cases: list[list[Any]],
    times: list[float],
    evolution: str,
    arithmetic: str,
    eta: float = 0.05,
) -> CheckResult:
    """Lemma 4.2 (ZAS paper, Sec. 4.1): under gradient flow every
    ``D_l = W_{l+1}^T W_{l+1} - W_l W_l^T`` is constant, for any init, any
    ``Phi``, ``L`` and ``d``.

    Reading formalized: for each case ``[init, L, d, phi]`` integrate the flow
    at working precision ``ctx.bits(128)`` and measure
    ``max_{l,t} ||D_l(t) - D_l(0)||_F`` on the grid ``times``; the claim holds
    if that stays within the budget the integrator's own error estimate and
    rounding allow (about the working precision).  A case with ``L = 1`` has no
    ``D_l`` and is skipped.  Control: replace the flow by GD steps of size
    ``eta`` (as many steps as ``times[-1] / eta``).
    """
    b = ctx.backend(arithmetic, 128)
    verdicts, per, worst = [], {}, None
    rng = ctx.rng(3)
    with b.session():
        for init, L, d, phi in cases:
            if L < 2:
                continue
            ws0 = _case_init(init, L, d, rng)
            target = Target.whitened(b, make_phi(phi, d, rng))
            if evolution == "flow":
                run = dynamics_flow(b, ws0, target, times)
                snaps, dw, label = run.ws, run.error_estimate, "flow"
            else:
                steps = max(1, round(times[-1] / eta))
                w = [b.matrix(x) for x in ws0]
                snaps = [w]
                for _ in range(steps):
                    w, _r, _g = dynamics.gd_step(b, w, target, b.scalar(eta))
                snaps.append(w)
                dw, label = 0.0, f"gd eta={eta}"
            base = [b.matrix(x) for x in ws0]
            case_worst, case_budget = 0.0, 0.0
            for ws_t in snaps[1:]:
                ch, allow = invariant_change(b, base, ws_t, dw)
                case_worst = max(case_worst, ch)
                case_budget = max(case_budget, allow)
            v = decide(_F, case_worst, case_budget)
            verdicts.append(v)
            key = f"{init}/L={L}/d={d}/{phi}"
            per[key] = {
                "max_change": case_worst,
                "budget": case_budget,
                "dynamics": label,
                "verdict": v.value,
            }
            if worst is None or case_worst - case_budget > worst[0] - worst[1]:
                worst = (case_worst, case_budget, key)
    assert worst is not None, "every budget has at least one case with L >= 2"
    verdict = combine_verdicts(verdicts)
    res = CheckResult(
        verdict=verdict,
        measured=worst[0],
        bound=worst[1],
        margin=worst[1] - worst[0],
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max_{l,t} ||D_l(t) - D_l(0)||_F",
        bound_repr="integration-error + rounding budget",
        evidence={"per_case": per},
        notes=(
            "flow integrated by Taylor series; conservation is checked against the "
            "integrator's error estimate, so the verdict is 'holds', not a proof "
            "(the symbolic check proves the identity for every L, d)"
        ),
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = {"case": worst[2], "max_change": worst[0], "budget": worst[1]}
    return res


@CARD.check(
    method="symbolic",
    budgets={"quick": {"wrong": None}},
    controls={"transpose": {"wrong": "transpose"}, "factor": {"wrong": "factor"}},
)
def lemma42_symbolic(ctx: RunContext, *, wrong: str | None) -> CheckResult:
    """Lemma 4.2: dD_l/dt = 0 identically along the gradient flow.

    Claim: zas.lemma4.2 (ZAS paper, Lemma 4.2, Sec. 4.1).  Reading formalized:
    with A = W_{L:l+2}, B = W_{l+1}, C = W_l, F = W_{l-1:1} and E free
    non-commuting letters, dB/dt = -A^T E (C F)^T and dC/dt = -(A B)^T E F^T
    make d/dt (B^T B - C C^T) expand to 0: every L, d, Phi, init (E arbitrary).
    """
    return _certify(
        CARD.proofs(wrong=wrong),
        route="free-algebra expansion",
        notes="Every L, d and E (free algebra); ends l = 1, L-1 are A = 1 / F = 1.",
    )


# --- hypothesis property: evaluator and declarations ---


def eval_lemma42(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.lemma4.2: ``max_l ||D_l(t) - D_l(0)||_F`` along the flow within
    :func:`zascheck.checks.conservation.invariant_change`'s budget (the
    control replaces the flow by one GD step of size ``eta``)."""
    from zascheck.measure.conservation import invariant_change

    L, d = int(case["L"]), int(case["d"])
    ws_in = case.get("ws") or case_init(case, L, d)

    def evaluate(b: Backend) -> Evaluation:
        tgt = Target.whitened(b, case["phi"])
        w0 = [b.matrix(w) for w in ws_in]
        if "eta" in case:
            wt = model.gd_update(b, w0, model.grads(b, w0, tgt), b.scalar(case["eta"]))
            dw = 0.0
        else:
            run = dynamics.flow(b, ws_in, tgt, [0.0, float(case["t"])])
            wt, dw = run.ws[-1], run.error_estimate
        ch, allow = invariant_change(b, w0, wt, dw)
        return Evaluation(
            ch,
            allow,
            0.0,
            verdict=decide(F64, ch, allow),
            evidence={"slack": ratio_slack(ch, allow), "integration_error": dw},
        )

    return escalate(evaluate, ladder=BALL_LADDER[:2], certify=False)


CARD.prop(
    None,
    lambda: S.lemma42_cases(),
    eval_lemma42,
    certify=False,
    summary="D_l(t) = D_l(0) along the flow, any init/target",
)

CARD.prop(
    "gd-step",
    lambda: S.lemma42_cases(control="gd-step"),
    eval_lemma42,
    certify=False,
    summary="one GD step in place of the flow: D_l moves",
)

CARD.search(examples=(3, 60, 400))
