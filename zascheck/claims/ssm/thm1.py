"""GD converges to a global minimum only if eta <= 2/(L rho^{2(L-1)/L}); smallest top Hessian eigenvalue over global minima is L rho^{2(L-1)/L}, at balanced factorizations.

Source: reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), SSM Theorem 1 / Corollary 1.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from zascheck import model, ssm
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm import _random_invertible, _result
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="ssm.thm1",
    section="C",
    kind="inequality",
    source="reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), SSM Theorem 1 / Corollary 1",
    statement="GD converges to a global minimum only if eta <= 2/(L rho^{2(L-1)/L}); smallest top Hessian eigenvalue over global minima is L rho^{2(L-1)/L}, at balanced factorizations.",
    bound="tight",
    quantifiers=(
        Q("Phi", "every target with top singular value rho"),
        Q("L", "every depth L >= 1"),
        Q("minima", "every global minimum"),
    ),
    depends_on=("ssm.psd-lemma",),
    reconstructed=True,
    figure="ssm",
)


@CARD.check(
    method="exact-hessian",
    budgets={
        "quick": {
            "d": 2,
            "L": 2,
            "n_balanced": 1,
            "n_unbalanced": 2,
            "prec": 128,
            "bound_factor": 1,
        },
        "standard": {
            "d": 2,
            "L": 3,
            "n_balanced": 3,
            "n_unbalanced": 6,
            "prec": 128,
            "bound_factor": 1,
        },
        "thorough": {
            "d": 3,
            "L": 3,
            "n_balanced": 4,
            "n_unbalanced": 10,
            "prec": 192,
            "bound_factor": 1,
        },
    },
    controls={"bound-x1.5": {"bound_factor": "3/2"}},
)
def check_thm1(
    ctx: RunContext,
    *,
    d: int,
    L: int,
    n_balanced: int,
    n_unbalanced: int,
    prec: int,
    bound_factor: Any,
) -> CheckResult:
    """The smallest top Hessian eigenvalue over the global minima of
    ``1/2||W_{L:1} - R||^2`` is ``L rho^{2(L-1)/L}``, attained at balanced
    factorizations; hence GD converges to a minimum only if
    ``eta <= 2 / (L rho^{2(L-1)/L})``.

    Source: reviews of SSM (NeurIPS 2018), SSM Theorem 1 / Corollary 1
    (*reconstructed*).  Formalized: a rational target ``R = U diag(s^L) V^T``
    (``U, V`` rational orthogonal by Cayley transforms, ``s`` rational), so that
    balanced minima ``W_l = Q_l diag(s) Q_{l-1}^T`` are exact rationals, and
    unbalanced minima ``G_l W_l G_{l-1}^{-1}`` too; the Hessian is formed exactly
    (Hessian-vector products of ``model.grads``), its top eigenvalue found from the
    exactly factored characteristic polynomial (rational roots exact, others as arb
    enclosures).  Measured: the smallest top eigenvalue over the minima, against
    ``L s_1^{2(L-1)}``.  The step-size half follows through ``ssm.sharpness``.
    Control: the bound multiplied by 3/2 must be refuted by a balanced minimum.
    """
    import flint

    ex = ctx.backend("exact")
    b = ctx.backend("ball", prec)
    rng = ctx.rng(102)
    choices = [Fraction(k, 4) for k in range(2, 9)]
    picks = sorted(rng.choice(len(choices), size=d, replace=False).tolist(), reverse=True)
    sing = [flint.fmpq(choices[i].numerator, choices[i].denominator) for i in picks]
    u = ssm.random_orthogonal_rational(rng, d, flint)
    v = ssm.random_orthogonal_rational(rng, d, flint)
    bound_ex = flint.fmpq(L) * sing[0] ** (2 * (L - 1)) * ex.scalar(Fraction(str(bound_factor)))
    rows = []
    best = None
    with b.session():
        for k in range(n_balanced + n_unbalanced):
            qs = [ssm.random_orthogonal_rational(rng, d, flint) for _ in range(L - 1)]
            ws, r = ssm.balanced_minimum(u, sing, v, qs, flint)
            kind = "balanced"
            if k >= n_balanced:
                ws = ssm.unbalance(ws, [_random_invertible(rng, d, flint) for _ in range(L - 1)])
                kind = "unbalanced"
            tgt = Target.whitened(ex, r)
            if model.loss(ex, ws, tgt) != 0:
                raise AssertionError("constructed point is not a global minimum")
            h = ssm.hessian(ex, ws, tgt)
            top_ex, top_ball = ssm.top_eigenvalue_exact(h, flint)
            row: dict[str, Any] = {
                "kind": kind,
                "top": b.to_float(top_ball),
                "exact": str(top_ex) if top_ex is not None else None,
            }
            rows.append(row)
            if best is None or top_ball.mid() < best[1].mid():
                best = (top_ex, top_ball, row, ws)
        assert best is not None, "n_balanced + n_unbalanced >= 1 minima were built"
        top_ex, top_ball, row, ws = best
        if top_ex is not None:
            verdict = decide(ex, top_ex, bound_ex, relation=">=")
            arith_b: Backend = ex
        else:
            verdict = decide(b, top_ball, b.scalar(bound_ex), relation=">=")
            arith_b = b
        bal_eq = all(
            r["exact"] == str(flint.fmpq(L) * sing[0] ** (2 * (L - 1)))
            for r in rows
            if r["kind"] == "balanced"
        )
        if not bal_eq:  # the claim also says the minimum is attained at balanced factorizations
            verdict = Verdict.VIOLATED
    bound_f = float(int(bound_ex.p) / int(bound_ex.q))
    return _result(
        arith_b,
        verdict,
        row["top"],
        bound_f,
        ">=",
        how="exact Hessian (HVP of model.grads), exact charpoly + certified roots",
        measured_repr=row["exact"] or "",
        bound_repr=str(bound_ex),
        notes=(
            f"rho = {float(int((sing[0] ** L).p)) / int((sing[0] ** L).q):.6g}, L = {L}, d = {d}; "
            f"min top eigenvalue over {len(rows)} exact minima is at a {row['kind']} one; "
            f"balanced minima equal L rho^(2(L-1)/L) exactly: {bal_eq}."
        ),
        evidence={
            "minima": rows,
            "singular_values": [str(s) for s in sing],
            "balanced_equal_bound": bal_eq,
        },
        counterexample=(
            {
                "kind": row["kind"],
                "top_eigenvalue": row["exact"] or row["top"],
                "claimed_min": str(bound_ex),
                "W": [str(w.tolist()) for w in ws],
            }
            if verdict == Verdict.VIOLATED
            else None
        ),
    )
