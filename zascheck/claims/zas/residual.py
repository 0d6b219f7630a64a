"""Sec. 3: the residual parametrization W_l = I + U_l changes nothing for GD.

Claim (Wu, Wang & Ma, NeurIPS 2019, Sec. 3, quoted from the seed): "Let
``W_l = I + U_l``, ``l = 1, ..., L - 1``, then the linear network has the
residual form ``R = 1/2 ||W_L (I + U_{L-1}) ··· (I + U_1) - Phi||_F^2``.  Since
``dR/dU_l = dR/dW_l``, the dynamics will be the same as ZAS if we initialize
``U_l(0) = W_L(0) = 0``."

Kind: identity (``bound = "exact"``).

Reading formalized: (1) at every point, ``dR/dU_l`` (the Frobenius gradient
in ``U_l``) equals ``dR/dW_l`` evaluated at ``W_l = I + U_l``; (2) hence one GD
step in ``U`` is one GD step in ``W`` (``I + (U - eta dR/dU) = W - eta
dR/dW``), and by induction on ``t`` GD from ``U_l = 0``, ``W_L = 0`` is GD from
ZAS at every step.  Every ``L``, ``d``, point and target; ``eta`` arbitrary.
Not formalized: "ZAS is equivalent to ... the fixup initialization" (an
analogy, not a statement).

Methods: ``symbolic`` (free algebra: the layer ``X = I + U`` between free
letters ``A``, ``F``; claim-level ``certified`` rests on it); ``search``
(exact central differences and exact GD runs on hypothesis cases).  Control:
the ``I`` of ``W = I + U`` forgotten.

References: ZAS paper Sec. 3, eqs. (2.4), (2.5), (3.1).
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
from zascheck.measure.symbolic import certify
from zascheck.model import Target
from zascheck.result import CheckResult, covers
from zascheck.symbolic import claims as proof_sets

CARD = Card(
    id="zas.residual",
    section="A",
    kind="identity",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 3",
    statement="With W_l = I + U_l, dR/dU_l = dR/dW_l: GD from U_l = 0, W_L = 0 is GD from ZAS.",
    bound="exact",
    quantifiers=(
        Q("t", "every GD step t >= 0 (the two runs coincide)"),
        Q("L", "every depth L >= 1"),
        Q("d", "every width d >= 1"),
        Q("U", "every point U_1..U_{L-1}, W_L"),
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
    """dR/dU_l = dR/dW_l at W_l = I + U_l, and one GD step in U is one in W (free algebra).

    The first variation of ``R`` in ``U`` (``E = A (I + U) F - Phi``, letters
    free: every ``L``, ``d``, point, target) equals the derived ``dR/dW`` at
    ``W = I + U``; the step identity at an arbitrary point gives every ``t``
    by induction.  Control ``unshifted``: ``dR/dW`` evaluated at ``W = U``.
    """
    return certify(
        proof_sets.residual(wrong=wrong),
        route="free-algebra expansion",
        notes="Every L and d (free algebra).",
        scope={
            "t": covers(
                "every GD step (one-step identity at an arbitrary point, induction)", universal=True
            ),
            "L": "L",
            "d": "d",
            "U": covers("every point (free letters)", universal=True),
            "Phi": covers("every Phi (free letter)", universal=True),
        },
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

CARD.search(
    examples=(6, 100, 1000),
    scope={
        "t": "1-2 GD steps, eta = 2^-4..2^-2",
        "L": "L <= 4",
        "d": "d <= 2",
        "U": "dyadic points",
        "Phi": "dyadic targets (integer, -I, psd, indefinite)",
    },
)
