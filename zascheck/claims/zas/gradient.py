"""Eq. (2.5): the gradient of the loss with respect to one layer.

Claim (Wu, Wang & Ma, NeurIPS 2019, Sec. 2, eq. (2.5), quoted from the seed)::

    ∇_l R := ∂R/∂W_l = W_{L:l+1}^T (W_{L:1} - Φ) W_{l-1:1}^T,
    where W_{l2:l1} := W_{l2} W_{l2-1} ··· W_{l1+1} W_{l1}

for the loss (2.3) ``R(W_1, ..., W_L) = 1/2 ||W_L W_{L-1} ··· W_1 - Φ||_F^2``.
The paper assumes ``d_l = d`` "for simplicity"; the catalogue (``zas.gradient``)
states it for every ``L >= 1`` and every shape.

Kind: identity (``bound = "exact"``): no bound, an equation to prove.

Reading formalized: ``G_l`` is the Frobenius gradient, the matrix with
``dR[H] = tr(G_l H^T)`` for every direction ``H`` of ``W_l`` (empty products are
``I``), for every depth ``L``, every compatible (also rectangular) shape, every
point ``W_1..W_L`` and every target.  Not formalized: other inner products
(the gradient under a weighted norm differs), non-whitened data (the hypothesis
search covers ``R = 1/2 ||W_{L:1} X - Y||_F^2`` too, numerically).

Methods: ``symbolic`` proves it in the free algebra (every ``L``, every shape:
claim-level ``certified`` rests on it) and cross-checks sympy's own matrix
calculus, which an entrywise arbiter may declare defective (sympy issues 27406,
23492, 30527: ``MatrixSymbol.diff`` silently returns 0 for some sums of traces);
``symbolic-entrywise`` and ``finite-difference`` check explicit sizes; ``search``
checks ``model.grads`` against exact central differences.

References: ZAS paper eq. (2.3)-(2.5); sympy ``matrices/expressions`` derivative
tests (two routes to one derivative); the sympy issues above.
"""

from __future__ import annotations

from typing import Any

from zascheck import model
from zascheck import strategies as S
from zascheck.arith import Backend, backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import EXACT_LADDER, Escalated, Evaluation, escalate
from zascheck.measure.evaluation import abs_sizes, case_target, fd_grads, ratio_slack
from zascheck.measure.symbolic import WRONG_GRADIENT_CONTROLS, certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, covers, decide
from zascheck.symbolic import claims as proof_sets
from zascheck.symbolic import derive

CARD = Card(
    id="zas.gradient",
    section="A",
    kind="identity",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 2, eq. (2.5)",
    statement="G_l = W_{L:l+1}^T E W_{l-1:1}^T for every L >= 1, every shape.",
    bound="exact",
    quantifiers=(
        Q("L", "every depth L >= 1 and every layer l = 1..L"),
        Q("shape", "every compatible layer shape d_l x d_{l-1}"),
        Q("W", "every point W_1..W_L"),
        Q("Phi", "every target Phi in R^{d_L x d_0}"),
    ),
    proofs=proof_sets.gradient,
    depends_on=(),
)

#: what the free-algebra proofs cover by their form: layers and target are free letters
_FREE_LETTERS: dict[str, str | dict[str, Any]] = {
    "W": covers("every point W_1..W_L (free letters)", universal=True),
    "Phi": covers("every Phi (free letter)", universal=True),
}


@CARD.check(
    method="symbolic",
    budgets={
        "quick": {"L_max": 4, "ms_L_max": 3, "ms_form": "single-trace", "wrong": None},
        "standard": {"L_max": 6, "ms_L_max": 4, "ms_form": "single-trace", "wrong": None},
    },
    # the last control breaks eq. (2.5) while sympy's route is the defective one:
    # the sound route must still catch the wrong formula
    controls=WRONG_GRADIENT_CONTROLS
    | {"sum-of-traces-transpose": {"ms_form": "sum-of-traces", "wrong": "transpose"}},
)
def gradient_symbolic(
    ctx: RunContext, *, L_max: int, ms_L_max: int, ms_form: str, wrong: str | None
) -> CheckResult:
    """Eq. (2.5) derived from R = 1/2 tr(E E^T) by first variation and compared.

    Route 1 derives ``G`` with the layers around ``l`` as free non-commuting
    letters (every ``L`` and every shape at once; also each explicit
    ``L <= L_max``); route 2 is sympy's ``MatrixSymbol.diff`` (explicit
    ``L <= ms_L_max``, square symbolic ``d``) with ``R`` written as
    ``ms_form`` (``single-trace`` or ``sum-of-traces``).  Where the routes'
    derivatives differ, the entrywise derivative on explicit 2 x 2 matrices
    decides which route is unsound; its proofs are set aside and named (sympy
    1.14 returns 0 for ``sum-of-traces``: issues 27406, 23492, 30527).  Scope:
    ``L`` and ``shape`` from the proofs, ``W`` and ``Phi`` free letters.
    """
    proofs = proof_sets.gradient(L_max=L_max, ms_L_max=ms_L_max, ms_form=ms_form, wrong=wrong)
    return certify(
        proofs,
        route="first variation + trace normal form, sympy diff cross-check",
        notes="Every L and shape at once via the abstract split P = A X F; explicit L checked "
        f"for L <= {L_max}; sympy MatrixSymbol.diff ({ms_form}) compared for L <= {ms_L_max}.",
        scope={"L": "L", "shape": "shape", **_FREE_LETTERS},
    )


@CARD.check(
    method="symbolic-entrywise",
    budgets={
        "quick": {"sizes": [[1, 2], [2, 2], [3, 2]], "wrong": None},
        "standard": {"sizes": [[1, 3], [2, 3], [3, 3], [4, 2]], "wrong": None},
        "thorough": {"sizes": [[2, 3], [3, 3], [4, 3]], "wrong": None},
    },
    controls=WRONG_GRADIENT_CONTROLS,
)
def gradient_entrywise(
    ctx: RunContext, *, sizes: list[list[int]], wrong: str | None
) -> CheckResult:
    """Eq. (2.5) entry by entry: diff(R, (W_l)_ij) on explicit symbolic d x d matrices.

    For each ``(L, d)`` in ``sizes``, every entry of every ``G_l`` equals the
    partial derivative of the scalar polynomial ``R`` in that entry (entries
    are symbols: every point at those sizes).  Explicit sizes only.
    """
    total = 0
    per: list[dict[str, Any]] = []
    for L, d in sizes:
        r = derive.entrywise_residual(L, d, wrong)
        total += r["nonzero_entries"]
        per.append({"L": L, "d": d, **r})
    verdict = decide(backend("exact"), total, 0, relation="<=")
    sizes_text = ", ".join(f"(L, d) = ({L}, {d})" for L, d in sizes)
    res = CheckResult(
        verdict=verdict,
        measured=float(total),
        bound=0.0,
        margin=float(-total),
        relation="<=",
        arithmetic="symbolic",
        precision_bits=0,
        notes="Route: sympy diff of the scalar polynomial R per entry. Explicit sizes only: "
        + sizes_text
        + ". max_degree_E = 1 shows R is quadratic in each single entry.",
        evidence={"sizes": per},
        scope={
            "L": covers(
                f"L in {{{', '.join(str(L) for L in sorted({L for L, _ in sizes}))}}} (explicit)"
            ),
            "shape": covers(f"square d x d, {sizes_text}"),
            "W": covers("every W_1..W_L at those sizes (symbolic entries)", universal=True),
            "Phi": covers("every Phi at those sizes (symbolic entries)", universal=True),
        },
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = {"sizes": [p for p in per if p["nonzero_entries"]]}
    return res


@CARD.check(
    method="finite-difference",
    budgets={
        "quick": {"L": 3, "d": 2, "prec": 113, "h_bits": 8, "wrong": None},
        "standard": {"L": 4, "d": 3, "prec": 200, "h_bits": 8, "wrong": None},
    },
    controls=WRONG_GRADIENT_CONTROLS,
)
def gradient_fd(
    ctx: RunContext, *, L: int, d: int, prec: int, h_bits: int, wrong: str | None
) -> CheckResult:
    """Eq. (2.5) against central differences of zascheck.model.loss in mpmath.

    At one random dyadic point (``W_l = I + small``, dyadic target),
    ``(R(W + h e_ij) - R(W - h e_ij)) / 2h`` equals the lambdified derived
    ``G_l`` entry within a rounding tolerance derived from the precision and
    the step (``R`` is quadratic in each entry: no truncation error).
    ``measured`` = the largest ``|fd - G| / tol`` over all entries.
    """
    bits = ctx.bits(prec)
    r = derive.finite_difference(L, d, bits, ctx.seed, h_bits=h_bits, wrong=wrong)
    b = ctx.backend("mp", bits)
    ratio = float(r["ratio"])
    verdict = decide(b, ratio, 1.0, relation="<=")
    res = CheckResult(
        verdict=verdict,
        measured=ratio,
        bound=1.0,
        margin=1.0 - ratio,
        relation="<=",
        arithmetic="mp",
        precision_bits=bits,
        notes="Route: mpmath central differences vs the lambdified formula. "
        "measured = max |fd - G| / tol; tol = rounding of two loss evaluations over 2h "
        "+ gamma(n) of the formula's absolute products (R quadratic per entry: no "
        "truncation term).",
        evidence={k: (list(v) if isinstance(v, tuple) else v) for k, v in r.items()},
        scope={
            "L": covers(f"L = {L}"),
            "shape": covers(f"square d = {d}"),
            "W": covers(f"1 random dyadic point near I (seed {ctx.seed})"),
            "Phi": covers(f"1 random dyadic target (seed {ctx.seed})"),
        },
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = {
            "layer_entry": list(r["at"]),
            "ratio": ratio,
            "L": L,
            "d": d,
            "seed": ctx.seed,
        }
    return res


# --- hypothesis property: evaluator and declarations ---


def eval_gradient(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.gradient: ``model.grads`` against central differences of
    ``model.loss``, in mp (within the rounding budget) and exactly."""
    control = case.get("control")
    r_abs, g_abs, n = abs_sizes(case["ws"], case)

    def evaluate(b: Backend) -> Evaluation:
        ws = [b.matrix(w) for w in case["ws"]]
        tgt = case_target(b, case)
        gtgt = tgt if control != "transposed-target" else Target(Y=b.T(tgt.Y), X=tgt.X)
        h = b.scalar(1)
        fd = fd_grads(b, ws, lambda w: model.loss(b, w, tgt), h)
        g = model.grads(b, ws, gtgt)
        if b.exact:
            diff = sum((b.fro2(b.sub(x, y)) for x, y in zip(g, fd, strict=False)), b.scalar(0))
            return Evaluation(diff, b.scalar(0), 0.0, evidence={"slack": 1.0})
        worst = max(
            max(abs(b.to_float(v)) for v in b.entries(b.sub(x, y)))
            for x, y in zip(g, fd, strict=False)
        )
        budget = 4 * b.gamma(n) * (r_abs + g_abs)
        return Evaluation(
            worst,
            budget,
            0.0,
            evidence={"slack": ratio_slack(worst, budget), "max_abs_diff": worst},
        )

    return escalate(evaluate, start=("mp", 113), ladder=EXACT_LADDER, certify=certify)


CARD.prop(
    None,
    lambda: S.gradient_cases(),
    eval_gradient,
    certify=True,
    summary="model.grads = exact central differences of model.loss, every shape, whitened or data",
)

CARD.prop(
    "transposed-target",
    lambda: S.gradient_cases(control="transposed-target"),
    eval_gradient,
    certify=True,
    summary="gradient of the transposed target: must differ",
)

CARD.search(
    examples=(6, 100, 1000),
    scope={
        "L": "L <= 4",
        "shape": "every shape with d_l <= 3 (rectangular)",
        "W": "dyadic points",
        "Phi": "dyadic targets (integer, -I, psd, indefinite, rank-deficient) or data X, Y",
    },
)
