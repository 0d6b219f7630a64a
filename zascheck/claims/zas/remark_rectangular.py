"""Remark (1) of the ZAS paper: Theorem 4.1 carries over to rectangular layers.

Source: Wu, Wang & Ma, "Global Convergence of Gradient Descent for Deep Linear
Residual Networks", NeurIPS 2019, Sec. 4.1, Remark (1) after Theorem 4.1:

    "(1). For rectangular weight matrices W_l in R^{d_l x d_{l-1}}, if
    d_l >= d_0 = d_x, l = 1, ..., L - 1, we can always ignore the redundant
    nodes by initializing W_L = 0 and W_l = [[I_{d_0}, 0], [0, 0]], then the
    proof of Theorem 4.1 still holds."

Kind: inequality, the bound of Theorem 4.1, ``R(t) <= e^{-2t} R(0)`` for
every ``t >= 0``, with ``Phi`` of shape ``d_L x d_0``.  An upper bound (tight
only where Theorem 4.1 is: ``L = 1``, not covered by the widths here).

Reading formalized (method ``flow``): for each width profile ``[d_0, ...,
d_L]`` with ``d_l >= d_0`` (``l = 1..L-1``) and a Gaussian target of shape
``d_L x d_0``, gradient flow from the block init above
(:func:`zascheck.inits.rectangular_zas`) is integrated (ball arithmetic,
Taylor method) and ``R(t) <= exp(-2t) R(0)`` compared on a time grid
(:func:`zascheck.measure.common.flow_decay`).  The flow is integrated, not
enclosed: ``holds`` at best; the scope is the profiles, targets and grid run.
Method ``search``: hypothesis over widths, targets, grids.  The redundant
nodes stay exactly 0 along the flow (their gradients vanish), which is why
the proof carries over; this is not checked separately.

References: Theorem 4.1 (zas.thm4.1); the same init with data is Remark (2)
(zas.remark.data).
"""

from __future__ import annotations

from typing import Any

from zascheck import inits
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import BALL_LADDER, Escalated, Evaluation, escalate
from zascheck.measure.common import DecayMeasurement, flow_decay
from zascheck.measure.evaluation import decay_eval
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers

CARD = Card(
    id="zas.remark.rectangular",
    section="A",
    kind="inequality",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Remark (1) after Theorem 4.1 (Sec. 4.1)",
    statement="Rectangular W_l (d_l >= d_0), init W_L = 0, W_l = [[I,0],[0,0]]: Theorem 4.1 still holds.",
    bound="upper",
    quantifiers=(
        Q("t", "every t >= 0 (gradient flow)"),
        Q("widths", "every widths d_l >= d_0 (l = 1..L-1), any d_L"),
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
    """Remark (1): ``R(t) <= exp(-2t) R(0)`` along the flow from the block
    ZAS init, for each width profile in ``widths`` (ball arithmetic at
    ``ctx.bits(128)`` bits, error budget from the integrator's per-layer
    estimates, :func:`flow_decay` with the early stop that monotonicity of
    ``R`` allows).  measured = the largest ``R(t) / (exp(-2t) R(0))`` over
    profiles and times (bound 1).  The control keeps the block construction
    through a layer narrower than ``d_0`` (``init = truncated``,
    :func:`zascheck.inits.block_zas`), which loses the gradient bound
    ``||G_L||^2 >= 2R`` and must be caught.
    """
    b = ctx.backend(arithmetic, 128)
    runs: dict[str, tuple[list[int], DecayMeasurement]] = {}
    rng = ctx.rng(2)
    with b.session():
        for dims in widths:
            ws = inits.rectangular_zas(dims) if init == "embed" else inits.block_zas(dims)
            phi = rng.standard_normal((dims[-1], dims[0]))
            m = flow_decay(b, ws, Target.whitened(b, phi), times, 1, stop_early=True)
            runs["x".join(map(str, dims))] = (dims, m)
    verdict = combine_verdicts(m.verdict for _, m in runs.values())
    key = max(runs, key=lambda k: runs[k][1].max_ratio)
    dims, worst = runs[key]
    res = CheckResult(
        verdict=verdict,
        measured=worst.max_ratio,
        bound=1.0,
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max over profiles and t of R(t) / (exp(-2t) R(0))",
        evidence={
            "per_widths": {
                k: m.evidence() | {"verdict": m.verdict.value} for k, (_, m) in runs.items()
            }
        },
        tightest={"widths": dims, "t": worst.times[worst.worst], "ratio": worst.max_ratio},
        scope={
            "t": covers("t in {" + ", ".join(f"{t:g}" for t in sorted(times)) + "}"),
            "widths": covers(f"{len(widths)} profiles: " + "; ".join(runs)),
            "Phi": covers("one Gaussian target per profile"),
            "L": covers("L in {" + ", ".join(map(str, sorted({len(w) - 1 for w in widths}))) + "}"),
        },
        notes="gradient flow by Taylor integration; integration error estimated, not enclosed.",
    )
    if verdict is Verdict.VIOLATED:
        k = next(k for k, (_, m) in runs.items() if m.verdict is Verdict.VIOLATED)
        d, m = runs[k]
        i = next(j for j, v in enumerate(m.verdicts) if v is Verdict.VIOLATED)
        res.counterexample = {"widths": d, "t": m.times[i], "ratio": m.ratios[i]}
    return res


# --- hypothesis property: evaluator and declarations ---


def eval_rectangular(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.remark.rectangular: ``flow_decay`` from ``inits.rectangular_zas``."""
    dims = [int(x) for x in case["widths"]]
    ws0 = inits.block_zas(dims) if case.get("init") == "truncated" else inits.rectangular_zas(dims)

    def evaluate(b: Backend) -> Evaluation:
        return decay_eval(b, ws0, Target.whitened(b, case["phi"]), case["times"], 1, tight=False)

    return escalate(evaluate, ladder=BALL_LADDER[:3])


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
