"""Symbolic checks: identities reduced to zero by sympy (issue 3, "Symbolic leg").

Each check is thin: the mathematics is in :mod:`zascheck.symbolic`; a check
collects the proofs of one claim (:func:`zascheck.symbolic.claims.proofs_for`)
and reports ``measured`` = the number of monomials left in ``lhs - rhs``
after the route's normal form, ``bound`` = 0.  ``certified`` means every
residual is exactly zero (``arithmetic="symbolic"``, ``precision_bits=0``);
``violated`` means some identity did not reduce (its monomials are in
``counterexample``).  The ``finite-difference`` check is numeric (mpmath) and
can only give ``holds``.

Scope is stated per proof in ``evidence``: ``every L, every d`` for the
free-algebra identities (layers are non-commuting letters), ``explicit ...``
where only explicit sizes or exponents were checked.
"""

from __future__ import annotations

from typing import Any

from zascheck.arith import backend
from zascheck.registry import RunContext, register
from zascheck.result import CheckResult, Verdict, decide
from zascheck.symbolic import derive
from zascheck.symbolic.claims import proofs_for
from zascheck.symbolic.proof import Proof, total_residual

_WRONG_G = {w: {"wrong": w} for w in ("transpose", "factor", "scale")}


def _certify(proofs: list[Proof], *, route: str, notes: str) -> CheckResult:
    """Result of a symbolic check; ``method`` is left to the runner (the registered name)."""
    n = total_residual(proofs)
    verdict = decide(backend("exact"), n, 0, relation="<=")
    scopes = sorted({p.scope.split(",")[0] if p.scope.startswith("explicit") else p.scope
                     for p in proofs})
    res = CheckResult(
        verdict=verdict,
        measured=float(n),
        bound=0.0,
        margin=float(-n),
        relation="<=",
        arithmetic="symbolic",
        precision_bits=0,
        notes=f"Route: {route}. {notes}",
        evidence={
            "proofs": len(proofs),
            "proven": sum(p.proven for p in proofs),
            "routes": sorted({p.route for p in proofs}),
            "scopes": scopes,
            "unproven": [p.summary() for p in proofs if not p.proven][:6],
        },
    )
    if verdict is Verdict.VIOLATED:
        bad = [p.summary() for p in proofs if not p.proven]
        res.counterexample = {"identities_not_reduced": bad[:6]}
    return res


@register(
    "zas.gradient",
    method="symbolic",
    budgets={"quick": {"L_max": 4, "ms_L_max": 3, "ms_form": "single-trace", "wrong": None},
             "standard": {"L_max": 6, "ms_L_max": 4, "ms_form": "single-trace", "wrong": None}},
    controls=_WRONG_G,
)
def gradient_symbolic(ctx: RunContext, *, L_max: int, ms_L_max: int, ms_form: str,
                      wrong: str | None) -> CheckResult:
    """Eq. (2.5) G_l = W_{L:l+1}^T E W_{l-1:1}^T derived from R = 1/2 tr(E E^T) and compared.

    Claim: zas.gradient (ZAS paper, eq. 2.5), for every L >= 1 and every shape.
    Reading formalized: the Frobenius gradient of R(W_1..W_L) = 1/2 ||W_{L:1} - Phi||_F^2,
    i.e. the G with dR[H] = tr(G H^T) for every direction H of W_l.
    Route 1 derives it by first variation with the layers around l as free
    non-commuting letters (every L and d at once; also each explicit L <= L_max);
    route 2 compares sympy's MatrixSymbol.diff (explicit L <= ms_L_max, symbolic d),
    which must agree or the check is violated (sympy 1.14 returns 0 for
    ms_form="sum-of-traces": issues 27406, 23492, 30527).
    """
    proofs = proofs_for("zas.gradient", L_max=L_max, ms_L_max=ms_L_max, ms_form=ms_form,
                        wrong=wrong)
    return _certify(proofs,
                    route="first variation + trace normal form, sympy diff cross-check",
                    notes="Every L and d at once via the abstract split P = A X F; "
                          "explicit L checked "
                          f"for L <= {L_max}; sympy MatrixSymbol.diff ({ms_form}) compared for "
                          f"L <= {ms_L_max}.")


@register(
    "zas.gradient",
    method="symbolic-entrywise",
    budgets={"quick": {"sizes": [[1, 2], [2, 2], [3, 2]], "wrong": None},
             "standard": {"sizes": [[1, 3], [2, 3], [3, 3], [4, 2]], "wrong": None},
             "thorough": {"sizes": [[2, 3], [3, 3], [4, 3]], "wrong": None}},
    controls=_WRONG_G,
)
def gradient_entrywise(
    ctx: RunContext, *, sizes: list[list[int]], wrong: str | None
) -> CheckResult:
    """Eq. (2.5) entry by entry: diff(R, (W_l)_ij) on explicit symbolic d x d matrices.

    Claim: zas.gradient (ZAS paper, eq. 2.5).  Reading formalized: for each
    (L, d) in ``sizes``, every entry of every G_l equals the partial derivative
    of the scalar polynomial R in that entry.  Explicit sizes only.
    """
    total = 0
    per: list[dict[str, Any]] = []
    for L, d in sizes:
        r = derive.entrywise_residual(L, d, wrong)
        total += r["nonzero_entries"]
        per.append({"L": L, "d": d, **r})
    verdict = decide(backend("exact"), total, 0, relation="<=")
    res = CheckResult(
        verdict=verdict, measured=float(total), bound=0.0, margin=float(-total), relation="<=",
        arithmetic="symbolic", precision_bits=0,
        notes="Route: sympy diff of the scalar polynomial R per entry. Explicit sizes only: "
              + ", ".join(f"L={L} d={d}" for L, d in sizes)
              + ". max_degree_E = 1 shows R is quadratic in each single entry.",
        evidence={"sizes": per},
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = {"sizes": [p for p in per if p["nonzero_entries"]]}
    return res


@register(
    "zas.gradient",
    method="finite-difference",
    budgets={"quick": {"L": 3, "d": 2, "prec": 113, "h_bits": 8, "wrong": None},
             "standard": {"L": 4, "d": 3, "prec": 200, "h_bits": 8, "wrong": None}},
    controls=_WRONG_G,
)
def gradient_fd(ctx: RunContext, *, L: int, d: int, prec: int, h_bits: int,
                wrong: str | None) -> CheckResult:
    """Eq. (2.5) against central differences of zascheck.model.loss in mpmath.

    Claim: zas.gradient (ZAS paper, eq. 2.5).  Reading formalized: at random
    dyadic inputs, (R(W + h e_ij) - R(W - h e_ij)) / 2h equals the lambdified
    derived G_l entry within a rounding tolerance derived from the precision and
    the step (R is quadratic in each entry, so no truncation error).
    """
    bits = ctx.bits(prec)
    r = derive.finite_difference(L, d, bits, ctx.seed, h_bits=h_bits, wrong=wrong)
    b = ctx.backend("mp", bits)
    ratio = float(r["ratio"])
    verdict = decide(b, ratio, 1.0, relation="<=")
    res = CheckResult(
        verdict=verdict, measured=ratio, bound=1.0, margin=1.0 - ratio, relation="<=",
        arithmetic="mp", precision_bits=bits,
        notes="Route: mpmath central differences vs the lambdified formula. "
              "measured = max |fd - G| / tol; tol = rounding of two loss evaluations over 2h "
              "+ gamma(n) of the formula's absolute products (R quadratic per entry: no "
              "truncation term).",
        evidence={k: (list(v) if isinstance(v, tuple) else v) for k, v in r.items()},
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = {"layer_entry": list(r["at"]), "ratio": ratio, "L": L, "d": d,
                              "seed": ctx.seed}
    return res


@register("zas.residual", method="symbolic",
          budgets={"quick": {"wrong": None}}, controls={"unshifted": {"wrong": "unshifted"}})
def residual_symbolic(ctx: RunContext, *, wrong: str | None) -> CheckResult:
    """With W_l = I + U_l, dR/dU_l = dR/dW_l, so GD in U from 0 is GD from ZAS.

    Claim: zas.residual (ZAS paper, Sec. 3).  Reading formalized: the first
    variation of R in U_l (free-algebra letters, every L and d) equals the
    derived dR/dW_l at W_l = I + U_l, and one GD step in U maps to one GD step
    in W (hence every step, by induction on t).
    """
    return _certify(proofs_for("zas.residual", wrong=wrong), route="free-algebra expansion",
                    notes="Every L and d (free algebra).")


@register("zas.lemma4.2", method="symbolic",
          budgets={"quick": {"wrong": None}},
          controls={"transpose": {"wrong": "transpose"}, "factor": {"wrong": "factor"}})
def lemma42_symbolic(ctx: RunContext, *, wrong: str | None) -> CheckResult:
    """Lemma 4.2: dD_l/dt = 0 identically along the gradient flow.

    Claim: zas.lemma4.2 (ZAS paper, Lemma 4.2, Sec. 4.1).  Reading formalized:
    with A = W_{L:l+2}, B = W_{l+1}, C = W_l, F = W_{l-1:1} and E free
    non-commuting letters, dB/dt = -A^T E (C F)^T and dC/dt = -(A B)^T E F^T
    make d/dt (B^T B - C C^T) expand to 0: every L, d, Phi, init (E arbitrary).
    """
    return _certify(proofs_for("zas.lemma4.2", wrong=wrong), route="free-algebra expansion",
                    notes="Every L, d and E (free algebra); ends l = 1, L-1 are A = 1 / F = 1.")


@register("zas.drift", method="symbolic",
          budgets={"quick": {"wrong": None}},
          controls={"eta": {"wrong": "eta"}, "transpose": {"wrong": "transpose"}})
def drift_symbolic(ctx: RunContext, *, wrong: str | None) -> CheckResult:
    """GD drift: D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T) exactly.

    Claim: zas.drift (ZAS paper, Sec. 4.2, underlying Lemma 4.5).  Reading
    formalized: one GD step B -> B - eta G_{l+1}, C -> C - eta G_l with the
    gradients of eq. (2.5) at step t; identity in the free algebra (every L, d, E).
    """
    return _certify(proofs_for("zas.drift", wrong=wrong), route="free-algebra expansion",
                    notes="Every L, d and E (free algebra, eta a commutative symbol).")


@register("zas.thm4.1.steps", method="symbolic",
          budgets={"quick": {"L_max": 6, "k_max": 6, "Lf_max": 3, "wrong": None},
                   "standard": {"L_max": 8, "k_max": 8, "Lf_max": 4, "wrong": None}},
          controls={"sign": {"wrong": "sign"}, "unbalanced": {"wrong": "unbalanced"},
                    "half": {"wrong": "half"}})
def thm41_steps_symbolic(ctx: RunContext, *, L_max: int, k_max: int, Lf_max: int,
                         wrong: str | None) -> CheckResult:
    """The identities in the proof of Theorem 4.1.

    Claim: zas.thm4.1.steps (ZAS paper, proof of Theorem 4.1).  Readings formalized:
    (a) ZAS gives D_l(0) = 0 (l <= L-2), D_{L-1}(0) = -I (explicit L <= L_max);
    (b) balancedness W_{j+1}^T W_{j+1} = W_j W_j^T implies W_{k:1}W_{k:1}^T = (W_k W_k^T)^k:
        induction step proven for symbolic k (opaque power letters + push-through lemma),
        explicit k <= k_max by rewriting;
    (c) hence W_{L-1:1}W_{L-1:1}^T = (I + W_L^T W_L)^{L-1} (explicit L <= L_max by rewriting;
        every L from (b) by substituting W_{L-1}W_{L-1}^T = I + W_L^T W_L);
    (d) (I + S)^k - I is a sum of Gram matrices (so >= 0): the step to ||G_L||_F^2 >= 2R,
        which also uses that W^T W and W W^T share eigenvalues for square W (not symbolic);
    (e) dR/dt = -sum_l ||G_l||_F^2: per layer for every L (trace normal form), all
        layers at once for explicit L <= Lf_max.
    """
    return _certify(
        proofs_for("zas.thm4.1.steps", L_max=L_max, k_max=k_max, Lf_max=Lf_max, wrong=wrong),
        route="induction with opaque powers, rewriting, trace normal form",
        notes=f"(b) certified for every k (base + step) and explicitly for k <= {k_max}; "
              f"(a), (c), (d) explicit L <= {L_max}; (e) every L per layer, explicit L <= {Lf_max} "
              "all layers. The inequality ||G_L||^2 >= 2R additionally needs "
              "lambda_min(W^T W) = lambda_min(W W^T) for square W (d x d layers).",
    )


@register("review.invariance", method="symbolic",
          budgets={"quick": {"wrong": None}},
          controls={"eta": {"wrong": "eta"}, "transpose": {"wrong": "transpose"}})
def invariance_symbolic(ctx: RunContext, *, wrong: str | None) -> CheckResult:
    """D_l is constant along the flow and drifts by exactly O(eta^2) under GD.

    Claim: review.invariance (ZAS reviews, review 2).  Reading formalized: the
    conjunction of zas.lemma4.2 (dD_l/dt = 0) and zas.drift (the GD change is
    eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T)), both as free-algebra identities.
    """
    return _certify(proofs_for("review.invariance", wrong=wrong), route="free-algebra expansion",
                    notes="Every L, d and E (free algebra).")


@register("review.any-layer", method="symbolic",
          budgets={"quick": {"L_max": 5, "wrong": None}, "standard": {"L_max": 7, "wrong": None}},
          controls={"one-sided": {"wrong": "one-sided"}, "sign": {"wrong": "sign"}})
def any_layer_symbolic(ctx: RunContext, *, L_max: int, wrong: str | None) -> CheckResult:
    """Zero layer at any position m, the rest I: the two-sided invariants and their products.

    Claim: review.any-layer (ZAS reviews, review 1: "any one weight matrix [may be]
    the zero-initialized one").  Reading formalized: the identities the exp(-2t)
    rate rests on.  At init D_{m-1} = -I, D_m = +I, other D_l = 0, so for all t
    W_{m-1:1}W_{m-1:1}^T = (I + W_m^T W_m)^{m-1} (below) and
    W_{L:m+1}^T W_{L:m+1} = (I + W_m W_m^T)^{L-m} (above); both are >= I (Gram sums),
    so ||G_m||_F^2 >= 2R for square layers.  Explicit L <= L_max, all m; every L
    from the induction of zas.thm4.1.steps (the upper side is its transpose mirror).
    """
    return _certify(proofs_for("review.any-layer", L_max=L_max, wrong=wrong),
                    route="substitution, rewriting modulo the conserved D_l, Gram-sum expansion",
                    notes=f"Explicit L <= {L_max}, every zero position m. Two-sided invariants: "
                          "below m the ZAS ones; above m W_{m+1}^T W_{m+1} = I + W_m W_m^T and "
                          "W_{l+1}^T W_{l+1} = W_l W_l^T (l > m). Rate exp(-2t) follows as in "
                          "Thm 4.1 with ||G_m||^2 >= lambda_min(VV^T) lambda_min(UU^T) 2R.")


@register("review.last-cI", method="symbolic",
          budgets={"quick": {"L_max": 5, "wrong": None}, "standard": {"L_max": 7, "wrong": None}},
          controls={"sign": {"wrong": "sign"}})
def last_ci_symbolic(ctx: RunContext, *, L_max: int, wrong: str | None) -> CheckResult:
    """Last layer c I: the proof's identities in their exact form.

    Claim: review.last-cI (ZAS reviews, review 1: "initialize the last layer as
    non-zero appropriately (say, 0.1*Id), such that the two identities after line
    145 hold").  Reading formalized: with W_l(0) = I (l < L), W_L(0) = c I (c symbolic),
    D_{L-1} = (c^2 - 1) I, so W_{L-1}W_{L-1}^T = (1 - c^2) I + W_L^T W_L and
    W_{L-1:1}W_{L-1:1}^T = ((1 - c^2) I + W_L^T W_L)^{L-1} >= (1 - c^2)^{L-1} I when |c| <= 1:
    the rate becomes exp(-2 (1 - c^2)^{L-1} t) (explicit L <= L_max).
    """
    return _certify(proofs_for("review.last-cI", L_max=L_max, wrong=wrong),
                    route="substitution, rewriting modulo the conserved D_l, Gram-sum expansion",
                    notes="The second identity changes form: I + W_L^T W_L becomes "
                          "(1 - c^2) I + W_L^T W_L; the Gram-sum bound needs 1 - c^2 >= 0, giving "
                          "R(t) <= exp(-2 (1 - c^2)^{L-1} t) R(0) (c = 0.1: factor 0.99^{L-1}); "
                          f"for |c| >= 1 the bound is vacuous. Explicit L <= {L_max}, symbolic c.")


@register("review.alpha", method="symbolic",
          budgets={"quick": {"L_max": 5, "wrong": None}, "standard": {"L_max": 7, "wrong": None}},
          controls={"exponent": {"wrong": "exponent"}})
def alpha_symbolic(ctx: RunContext, *, L_max: int, wrong: str | None) -> CheckResult:
    """Layers alpha I, last 0: the identities behind exp(-2 alpha^{2(L-1)} t).

    Claim: review.alpha (ZAS reviews, review 1).  Reading formalized (flow part
    only): D_{L-1}(0) = -alpha^2 I, so W_{L-1:1}W_{L-1:1}^T = (alpha^2 I + W_L^T W_L)^{L-1}
    >= alpha^{2(L-1)} I (Gram sum), and E(0) = -Phi for every alpha (R(0) unchanged).
    Explicit L <= L_max, symbolic alpha.  The GD consequences are not symbolic.
    """
    return _certify(proofs_for("review.alpha", L_max=L_max, wrong=wrong),
                    route="substitution, rewriting modulo the conserved D_l, Gram-sum expansion",
                    notes=f"Explicit L <= {L_max}, symbolic alpha > 0. Gives ||G_L||^2 >= "
                          "2 alpha^{2(L-1)} R (square layers), hence the reviewer's flow rate; "
                          "what it means for GD (step size) is not covered here.")
