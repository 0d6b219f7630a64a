"""With W_l = I + U_l, dR/dU_l = dR/dW_l: GD from U_l = 0, W_L = 0 is GD from ZAS.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 3.
"""

from __future__ import annotations

from typing import Any

from zascheck import dynamics, inits, model
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import Escalated, Evaluation, escalate
from zascheck.measure.evaluation import fd_grads
from zascheck.measure.symbolic import _certify
from zascheck.model import Target
from zascheck.result import CheckResult
from zascheck.symbolic import claims as proof_sets

CARD = Card(
    id="zas.residual",
    section="A",
    kind="identity",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 3",
    statement="With W_l = I + U_l, dR/dU_l = dR/dW_l: GD from U_l = 0, W_L = 0 is GD from ZAS.",
    bound="exact",
    quantifiers=(
        Q("L", "every depth L >= 1"),
        Q("d", "every width d >= 1"),
        Q("U", "every point U_1..U_L"),
        Q("Phi", "every target Phi in R^{d x d}"),
    ),
    proofs=proof_sets.residual,
    depends_on=("zas.gradient",),
)


@CARD.check(
    method="symbolic",
    budgets={"quick": {"wrong": None}},
    controls={"unshifted": {"wrong": "unshifted"}},
)
def residual_symbolic(ctx: RunContext, *, wrong: str | None) -> CheckResult:
    """With W_l = I + U_l, dR/dU_l = dR/dW_l, so GD in U from 0 is GD from ZAS.

    Claim: zas.residual (ZAS paper, Sec. 3).  Reading formalized: the first
    variation of R in U_l (free-algebra letters, every L and d) equals the
    derived dR/dW_l at W_l = I + U_l, and one GD step in U maps to one GD step
    in W (hence every step, by induction on t).
    """
    return _certify(
        CARD.proofs(wrong=wrong),
        route="free-algebra expansion",
        notes="Every L and d (free algebra).",
    )


# --- hypothesis property: evaluator and declarations ---


def eval_residual(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.residual: with ``W_l = I + s U_l`` (``l < L``), ``dR/dU_l`` by exact
    central differences equals ``model.grads``; GD in ``U`` from ``U = 0,
    W_L = 0`` (FD gradients) equals ``dynamics.gd`` from ZAS."""
    L, d = int(case["L"]), int(case["d"])
    s_val = case.get("s", 1.0)

    def evaluate(b: Backend) -> Evaluation:
        s = b.scalar(s_val)
        eye = b.eye(d)
        tgt = Target.whitened(b, case["phi"])

        def weights(us: list[Any]) -> list[Any]:
            return [b.add(eye, b.scale(s, u)) for u in us[:-1]] + [us[-1]]

        def loss_u(us: list[Any]) -> Any:
            return model.loss(b, weights(us), tgt)

        us = [b.matrix(u) for u in case["us"]]
        fd = fd_grads(b, us, loss_u, b.scalar(1))
        g = model.grads(b, weights(us), tgt)
        diff = sum((b.fro2(b.sub(x, y)) for x, y in zip(g, fd, strict=False)), b.scalar(0))
        # GD in U from U = 0 (W_L = 0) against GD from ZAS
        eta = b.scalar(case["eta"])
        u = [b.zeros(d, d) for _ in range(L)]
        run = dynamics.gd(b, inits.zas(L, d), tgt, case["eta"], max_steps=int(case["steps"]))
        for _ in range(int(case["steps"])):
            gu = fd_grads(b, u, loss_u, b.scalar(1))
            u = [b.sub(x, b.scale(eta, y)) for x, y in zip(u, gu, strict=False)]
        for x, y in zip(weights(u), run.ws, strict=False):
            diff = diff + b.fro2(b.sub(x, y))
        return Evaluation(diff, b.scalar(0), 0.0, evidence={"slack": 1.0})

    return escalate(evaluate, start=("exact", 0), ladder=(), certify=certify)


CARD.prop(
    None,
    lambda: S.residual_cases(),
    eval_residual,
    certify=True,
    summary="dR/dU_l = dR/dW_l for W_l = I + U_l; GD in U from 0 = GD from ZAS",
)

CARD.prop(
    "scaled-residual",
    lambda: S.residual_cases(control="scaled-residual"),
    eval_residual,
    certify=True,
    summary="W_l = I + s U_l with s != 1: must differ",
)

CARD.search(examples=(6, 100, 1000))
