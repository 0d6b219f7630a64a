"""Gradient flow from ZAS: R(t) <= exp(-2t) R(0) for all t >= 0, Phi, L >= 1; tight at L = 1.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Theorem 4.1 (Sec. 4.1).
"""

from __future__ import annotations

from typing import Any

from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import BALL_LADDER, Escalated, Evaluation, escalate
from zascheck.result import combine_verdicts
from zascheck.measure.common import flow_decay
from zascheck.measure.evaluation import case_init, decay_eval
from zascheck.measure.flow import THM41_TIMES, _init
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict
from zascheck.targets import make_phi

CARD = Card(
    id="zas.thm4.1",
    section="A",
    kind="inequality",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Theorem 4.1 (Sec. 4.1)",
    statement="Gradient flow from ZAS: R(t) <= exp(-2t) R(0) for all t >= 0, Phi, L >= 1; tight at L = 1.",
    bound="tight",
    quantifiers=(
        Q("t", "t >= 0 (gradient flow)"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
        Q("d", "every width d >= 1"),
    ),
    depends_on=("zas.thm4.1.steps", "zas.lemma4.2"),
    figure="thm41",
)


@CARD.check(
    method="flow",
    budgets={
        "quick": {
            "depths": [1, 2, 3, 5],
            "d": 2,
            "phi": "gaussian",
            "init": "zas",
            "times": list(THM41_TIMES),
            "arithmetic": "ball",
        },
        "standard": {
            "depths": [1, 2, 3, 5, 8],
            "d": 3,
            "phi": "gaussian",
            "init": "zas",
            "times": [0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0],
            "arithmetic": "ball",
        },
        "thorough": {
            "depths": [1, 2, 3, 5, 8, 12],
            "d": 4,
            "phi": "gaussian",
            "init": "zas",
            "times": [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0],
            "arithmetic": "ball",
        },
    },
    controls={
        # break the hypothesis "ZAS init": near-identity init, Shamir's target -I
        "near-identity-init": {"init": "near-identity", "phi": "-I", "depths": [4]},
    },
    accepts_phi=True,
)
def thm41(
    ctx: RunContext,
    depths: list[int],
    d: int,
    phi: Any,
    init: str,
    times: list[float],
    arithmetic: str,
) -> CheckResult:
    """Theorem 4.1 (ZAS paper, Sec. 4.1): gradient flow from ZAS satisfies
    ``R(t) <= exp(-2t) R(0)`` for all ``t >= 0``, every ``Phi`` and ``L >= 1``,
    with equality at ``L = 1``.

    Reading formalized: for each depth in ``depths`` and the target ``phi``,
    integrate the flow (Taylor method, working precision ``ctx.bits(128)``) and
    compare ``R(t)`` with ``exp(-2t) R(0)`` on the grid ``times``.  For
    ``L = 1`` the claim checked is equality (tightness) within the
    integration-error budget; for ``L >= 2`` the inequality.  measured = the
    largest ``R(t) / (exp(-2t) R(0))`` over ``L >= 2`` (bound 1).  The flow is
    integrated, not enclosed, so the best verdict is ``holds``.
    """
    b = ctx.backend(arithmetic, 128)
    phi_m = make_phi(phi, d, ctx.rng(1))
    d = phi_m.shape[0]
    per_depth = {}
    verdicts = []
    worst = None
    with b.session():
        target = Target.whitened(b, phi_m)
        for L in depths:
            m = flow_decay(
                b, _init(init, L, d, ctx.seed), target, times, 1, tight=(L == 1 and init == "zas")
            )
            verdicts.append(m.verdict)
            per_depth[str(L)] = m.evidence() | {
                "verdict": m.verdict.value,
                "max_ratio": m.max_ratio,
            }
            if L >= 2 or init != "zas":
                cand = (m.max_ratio, L, m.times[m.worst], m.err[m.worst])
                if worst is None or cand[0] > worst[0]:
                    worst = cand
    verdict = combine_verdicts(verdicts)
    measured = worst[0] if worst else None
    slack_l1 = None
    if "1" in per_depth:
        slack_l1 = max(abs(1 - r) for r in per_depth["1"]["ratio"])
    res = CheckResult(
        verdict=verdict,
        measured=measured,
        bound=1.0,
        margin=None if measured is None else 1.0 - measured,
        relation="<=",
        arithmetic=b.name,
        precision_bits=b.prec,
        method="flow",
        measured_repr="max_t R(t)/(exp(-2t)R(0)) over L >= 2",
        evidence={"per_depth": per_depth, "phi": phi_m, "slack_at_L1": slack_l1},
        notes=(
            f"gradient flow by Taylor integration; integration error estimated, not enclosed. "
            f"L = 1 slack (should vanish): {slack_l1:.3g}"
            if slack_l1 is not None
            else "gradient flow by Taylor integration; integration error estimated, not enclosed."
        ),
    )
    if verdict is Verdict.VIOLATED and worst is not None:
        res.counterexample = {
            "L": worst[1],
            "t": worst[2],
            "ratio": worst[0],
            "init": init,
            "phi": phi_m,
            "d": d,
        }
    if worst is not None:
        res.tightest = {"L": worst[1], "t": worst[2], "ratio": worst[0]}
    return res


# --- hypothesis property: evaluator and declarations ---


def eval_thm41(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.thm4.1: :func:`zascheck.checks.common.flow_decay` from ZAS (rate 1;
    equality at ``L = 1``)."""
    L, d = int(case["L"]), int(case["d"])
    zas = case.get("init") in (None, "zas")
    ws0 = case_init(case, L, d)

    def evaluate(b: Backend) -> Evaluation:
        return decay_eval(
            b, ws0, Target.whitened(b, case["phi"]), case["times"], 1, tight=(L == 1 and zas)
        )

    return escalate(evaluate, ladder=BALL_LADDER[:2])


CARD.prop(
    None,
    lambda: S.thm41_cases(),
    eval_thm41,
    certify=False,
    summary="flow from ZAS: R(t) <= exp(-2t) R(0), equality at L = 1",
)

CARD.prop(
    "non-zas-init",
    lambda: S.thm41_cases(non_zas=True),
    eval_thm41,
    certify=False,
    summary="flow from a non-ZAS init: must fail somewhere",
)

CARD.search(examples=(3, 60, 400))
