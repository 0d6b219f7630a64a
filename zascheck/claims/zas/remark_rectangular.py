"""Rectangular W_l (d_l >= d_0), init W_L = 0, W_l = [[I,0],[0,0]]: Theorem 4.1 still holds.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Remark (1) after Theorem 4.1.
"""

from __future__ import annotations

from typing import Any

from zascheck import inits
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import BALL_LADDER, Escalated, Evaluation, escalate
from zascheck.result import combine_verdicts
from zascheck.measure.common import flow_decay
from zascheck.measure.evaluation import decay_eval
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict

CARD = Card(
    id="zas.remark.rectangular",
    section="A",
    kind="inequality",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Remark (1) after Theorem 4.1",
    statement="Rectangular W_l (d_l >= d_0), init W_L = 0, W_l = [[I,0],[0,0]]: Theorem 4.1 still holds.",
    bound="upper",
    quantifiers=(
        Q("t", "t >= 0 (gradient flow)"),
        Q("widths", "every widths d_l >= d_0 (l = 1..L-1)"),
        Q("Phi", "every target Phi in R^{d_L x d_0}"),
        Q("L", "every depth L >= 1"),
    ),
    depends_on=("zas.thm4.1",),
)


@CARD.check(
    method="flow",
    budgets={
        "quick": {
            "widths": [[2, 3, 4, 2], [2, 2, 5, 3], [3, 4, 3]],
            "arithmetic": "ball",
            "times": [0.5, 1.0, 2.0],
        },
        "standard": {
            "widths": [[2, 3, 4, 2], [2, 2, 5, 3], [3, 4, 3], [2, 6, 2, 4, 1]],
            "arithmetic": "ball",
            "times": [0.25, 0.5, 1.0, 2.0, 3.0],
        },
    },
    controls={
        # break d_l >= d_0: a bottleneck narrower than the input
        "bottleneck": {"widths": [[3, 1, 3]], "init": "truncated"},
    },
)
def remark_rectangular(
    ctx: RunContext,
    widths: list[list[int]],
    arithmetic: str,
    times: list[float],
    init: str = "embed",
) -> CheckResult:
    """Remark (1) after Theorem 4.1 (ZAS paper): with rectangular layers
    ``W_l`` of shape ``d_l x d_{l-1}``, ``d_l >= d_0`` for ``l = 1..L-1``,
    ``W_L = 0`` and ``W_l = [[I, 0], [0, 0]]``, Theorem 4.1 still holds.

    Reading formalized: for each width profile ``[d_0, ..., d_L]`` and a
    Gaussian target of shape ``d_L x d_0``, the flow from the embedded ZAS
    init satisfies ``R(t) <= exp(-2t) R(0)`` on the grid.  The control keeps
    the same construction with a layer narrower than ``d_0`` (``init =
    truncated``), which loses the gradient bound and must be caught.
    """

    b = ctx.backend(arithmetic, 128)
    verdicts, per, worst = [], {}, None
    rng = ctx.rng(2)
    with b.session():
        for dims in widths:
            # the control keeps the block construction through a bottleneck
            ws = inits.rectangular_zas(dims) if init == "embed" else inits.block_zas(dims)
            phi = rng.standard_normal((dims[-1], dims[0]))
            m = flow_decay(b, ws, Target.whitened(b, phi), times, 1)
            verdicts.append(m.verdict)
            per["x".join(map(str, dims))] = m.evidence() | {"verdict": m.verdict.value}
            if worst is None or m.max_ratio > worst[0]:
                worst = (m.max_ratio, dims, m.times[m.worst])
    assert worst is not None, "widths lists at least one profile"
    verdict = combine_verdicts(verdicts)
    res = CheckResult(
        verdict=verdict,
        measured=worst[0],
        bound=1.0,
        margin=1.0 - worst[0],
        arithmetic=b.name,
        precision_bits=b.prec,
        evidence={"per_widths": per},
        tightest={"widths": worst[1], "t": worst[2], "ratio": worst[0]},
        notes="gradient flow by Taylor integration; integration error estimated, not enclosed.",
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = {"widths": worst[1], "t": worst[2], "ratio": worst[0]}
    return res


# --- hypothesis property: evaluator and declarations ---


def eval_rectangular(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.remark.rectangular: ``flow_decay`` from ``inits.rectangular_zas``."""
    dims = [int(x) for x in case["widths"]]
    ws0 = inits.block_zas(dims) if case.get("init") == "truncated" else inits.rectangular_zas(dims)

    def evaluate(b: Backend) -> Evaluation:
        return decay_eval(b, ws0, Target.whitened(b, case["phi"]), case["times"], 1, tight=False)

    return escalate(evaluate, ladder=BALL_LADDER[:2])


CARD.prop(
    None,
    lambda: S.rectangular_cases(),
    eval_rectangular,
    certify=False,
    summary="rectangular ZAS with d_l >= d_0: R(t) <= exp(-2t) R(0)",
)

CARD.prop(
    "bottleneck",
    lambda: S.rectangular_cases(bottleneck=True),
    eval_rectangular,
    certify=False,
    summary="a hidden width below d_0: must fail",
)

CARD.search(examples=(3, 60, 400))
