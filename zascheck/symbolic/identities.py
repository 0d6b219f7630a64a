"""The identities behind the ZAS paper's proofs, proven in the free algebra with transpose.

Every function returns :class:`~zascheck.symbolic.proof.Proof` records; an
empty ``residual`` means sympy reduced ``lhs - rhs`` to zero.  Two scopes:

* **every L, every d**: the layers around position ``l`` are free
  non-commuting letters ``A = W_{L:l+2}``, ``B = W_{l+1}``, ``C = W_l``,
  ``F = W_{l-1:1}`` (``E`` free too), so one identity covers every depth and
  every (compatible, possibly rectangular) shape; ``A = 1`` or ``F = 1`` at
  the ends of the network is a specialisation of the free identity.
* **explicit k <= K**: statements with a symbolic exponent (``(W W^T)^k``)
  are proven as base + induction step with opaque power letters, and checked
  for each explicit ``k`` up to a bound by rewriting modulo the hypotheses.

``wrong=...`` selects a deliberately false variant (negative control); each
function documents the variants it knows and ignores the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from zascheck.errors import InputError
from zascheck.symbolic.derive import (
    claimed_gradient,
    derive_gradient_abstract,
    first_variation,
    layer_letters,
    span,
)
from zascheck.symbolic.ncalg import Algebra, Terms
from zascheck.symbolic.proof import Proof

__all__ = [
    "WRONG",
    "balanced_explicit",
    "balanced_induction",
    "chain_consequences",
    "drift",
    "drift_scalar",
    "flow_loss_derivative",
    "flow_loss_derivative_explicit",
    "gradient_abstract",
    "init_invariants",
    "lemma42",
    "residual_param",
    "sos_lower_bound",
]

#: Every wrong variant known here, with what it breaks.
WRONG = {
    "transpose": "gradient G_l replaced by G_l^T",
    "factor": "gradient G_l with the factor W_{l-1:1}^T dropped",
    "scale": "gradient G_l doubled (the 1/2 of R forgotten)",
    "eta": "drift with eta in place of eta^2",
    "unshifted": "dR/dU_l compared with dR/dW_l evaluated at W_l = U_l (the I forgotten)",
    "half": "dR/dt = -1/2 sum_l ||G_l||_F^2",
    "frob-no-transpose": "||G||_F^2 written as tr(G G) instead of tr(G G^T)",
    "unbalanced": "induction without the balancedness hypothesis",
    "sign": "the pivot invariant with the wrong sign (D_{L-1} = +I instead of -I)",
    "exponent": "power L in place of L-1 in the consequence",
    "one-sided": "the layers above a zero layer claimed to satisfy the lower-side identity",
}


def check_wrong(wrong: str | None) -> None:
    if wrong is not None and wrong not in WRONG:
        raise InputError(f"unknown wrong variant {wrong!r}; choose one of {', '.join(WRONG)}")


def _diff(alg: Algebra, lhs: Any, rhs: Any) -> Terms:
    return alg.terms(lhs - rhs)


def _sub(a: Terms, b: Terms) -> Terms:
    out = dict(a)
    for w, k in b.items():
        out[w] = sp.expand(out.get(w, 0) - k)
    return {w: k for w, k in out.items() if k != 0}


# -- eq. (2.5) and Sec. 3 ---------------------------------------------------------------------


def gradient_abstract(wrong: str | None = None) -> Proof:
    """Derived ``dR/dX`` at an abstract layer equals eq. (2.5) ``A^T E F^T``."""
    check_wrong(wrong)
    der = derive_gradient_abstract()
    alg = der["alg"]
    w = wrong if wrong in ("transpose", "factor", "scale") else None
    claimed = claimed_gradient(der["A"], der["E"], der["F"], alg.T, w)
    return Proof(
        name="gradient (eq. 2.5), every L and d",
        lhs=sp.Symbol(r"\frac{\partial R}{\partial W_l}"),
        rhs=claimed,
        residual=_diff(alg, der["G"], claimed),
        route="first variation in the free algebra + trace normal form",
        scope="every L, every d (A = W_{L:l+1}, X = W_l, F = W_{l-1:1} free letters)",
        steps=[
            r"$R = \tfrac12 \operatorname{tr}(E E^T)$, $E = A X F - \Phi$.",
            r"First variation $X \to X + tH$, coefficient of $t$: "
            rf"$\delta R[H] = \operatorname{{tr}}\big({sp.latex(der['variation'])}\big)$.",
            r"Each trace monomial rotated/transposed to $\operatorname{tr}(G H^T)$: "
            rf"$G = {sp.latex(der['G'])}$.",
            rf"$G - ({sp.latex(claimed)})$ expands to "
            + ("$0$." if not _diff(alg, der["G"], claimed) else "a nonzero polynomial."),
        ],
    )


def residual_param(wrong: str | None = None) -> list[Proof]:
    """Sec. 3: with ``W_l = I + U_l``, ``dR/dU_l = dR/dW_l``, and one GD step agrees."""
    check_wrong(wrong)
    alg = Algebra()
    A, U, F, Phi, H = alg.letters("A U F Phi H")
    t, eta = sp.symbols("t eta")
    E_U = A * (1 + U) * F - Phi
    G_U = alg.trace_gradient(first_variation(alg, E_U * alg.T(E_U) / 2, "U", H, t), "H")
    der = derive_gradient_abstract()
    X = der["X"]
    Ut = alg.letter("U^T")
    if wrong == "unshifted":  # the I of W = I + U forgotten
        at = {X: U, alg.letter("X^T"): Ut}
    else:
        at = {X: 1 + U, alg.letter("X^T"): 1 + Ut}
    G_W = der["G"].xreplace(at)
    p1 = Proof(
        name="dR/dU_l = dR/dW_l at W_l = I + U_l",
        lhs=G_U,
        rhs=G_W,
        residual=_diff(alg, G_U, G_W),
        route="first variation in U (free algebra) vs derived dR/dW at W = I + U",
        scope="every L, every d",
        steps=[
            r"$E = A (I + U) F - \Phi$; first variation $U \to U + tH$ gives "
            rf"$\partial R/\partial U = {sp.latex(G_U)}$.",
            r"The derived $\partial R/\partial W = A^T E F^T$ with $W = I + U$ substituted.",
        ],
    )
    W_next = (1 + U - eta * G_U) if wrong != "unshifted" else (U - eta * G_U)
    p2 = Proof(
        name="one GD step: I + (U - eta dR/dU) = W - eta dR/dW",
        lhs=W_next,
        rhs=(1 + U) - eta * G_W,
        residual=_diff(alg, W_next, (1 + U) - eta * G_W),
        route="free-algebra expansion",
        scope="every L, every d (so by induction every t)",
        steps=[r"Same gradient, same step: GD from $U_l = 0, W_L = 0$ is GD from ZAS."],
    )
    return [p1, p2]


# -- Lemma 4.2 and the GD drift ----------------------------------------------------------------


def _invariant_setting(wrong: str | None) -> dict[str, Any]:
    alg = Algebra()
    A, B, C, F, E = alg.letters("A B C F E")
    w = wrong if wrong in ("transpose", "factor", "scale") else None
    G_next = claimed_gradient(A, E, C * F, alg.T)  # G_{l+1} = A^T E (C F)^T
    G_l = claimed_gradient(A * B, E, F, alg.T, w)  # G_l = (A B)^T E F^T
    return {
        "alg": alg,
        "A": A,
        "B": B,
        "C": C,
        "F": F,
        "E": E,
        "Gn": G_next,
        "Gl": G_l,
        "D": alg.T(B) * B - C * alg.T(C),
    }


def lemma42(wrong: str | None = None) -> Proof:
    """Lemma 4.2: ``dD_l/dt = 0`` along the flow, ``E`` an arbitrary (free) matrix."""
    check_wrong(wrong)
    s = _invariant_setting(wrong)
    alg, B, C = s["alg"], s["B"], s["C"]
    dB, dC = -s["Gn"], -s["Gl"]
    dD = alg.T(dB) * B + alg.T(B) * dB - dC * alg.T(C) - C * alg.T(dC)
    return Proof(
        name="Lemma 4.2: d/dt (B^T B - C C^T) = 0",
        lhs=dD,
        rhs=sp.Integer(0),
        residual=alg.terms(dD),
        lhs_tex=r"\frac{d}{dt}\left(B^T B - C C^T\right)",
        route="free-algebra expansion (E free, non-commutative)",
        scope="every L, every d, every E (A = W_{L:l+2}, B = W_{l+1}, C = W_l, F = W_{l-1:1})",
        steps=[
            rf"$\dot B = -G_{{l+1}} = -{sp.latex(s['Gn'])}$, "
            rf"$\dot C = -G_l = -{sp.latex(s['Gl'])}$.",
            r"$\dot D_l = \dot B^T B + B^T \dot B - \dot C C^T - C \dot C^T$; "
            r"$B^T G_{l+1} = G_l C^T = B^T A^T E F^T C^T$ (the paper's "
            r"$W_{l+1}^T \dot W_{l+1} = \dot W_l W_l^T$) and the transposed pair cancel.",
            rf"Expanded: {len(alg.terms(dD))} monomials left.",
        ],
    )


def drift(wrong: str | None = None) -> Proof:
    """GD: ``D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T)`` exactly."""
    check_wrong(wrong)
    s = _invariant_setting(wrong)
    alg, B, C, Gn, Gl = s["alg"], s["B"], s["C"], s["Gn"], s["Gl"]
    eta = sp.Symbol("eta", positive=True)
    B1, C1 = B - eta * Gn, C - eta * Gl
    lhs = alg.T(B1) * B1 - C1 * alg.T(C1) - s["D"]
    coef = eta if wrong == "eta" else eta**2
    rhs = coef * (alg.T(Gn) * Gn - Gl * alg.T(Gl))
    return Proof(
        name="GD drift of D_l",
        lhs=lhs,
        rhs=rhs,
        residual=_diff(alg, lhs, rhs),
        lhs_tex=r"D_l(t+1) - D_l(t)",
        rhs_tex=rf"{sp.latex(coef)}\left(G_{{l+1}}^T G_{{l+1}} - G_l G_l^T\right)",
        route="free-algebra expansion (eta commutative)",
        scope="every L, every d, every E",
        steps=[
            r"$B' = B - \eta G_{l+1}$, $C' = C - \eta G_l$ (gradients at step $t$).",
            r"The $O(\eta)$ terms are $-\eta$ times Lemma 4.2's $\dot D_l$ expression and cancel; "
            r"the $O(\eta^2)$ terms are $G_{l+1}^T G_{l+1} - G_l G_l^T$.",
        ],
    )


def drift_scalar(wrong: str | None = None) -> Proof:
    """The GD drift at ``d = 1`` is ``eta^2 a^2 e^2 f^2 (c^2 - b^2)``: not identically 0.

    With ``d = 1`` the letters commute: ``a = W_{L:l+2}``, ``b = W_{l+1}``,
    ``c = W_l``, ``f = W_{l-1:1}``, ``e = E`` (free, since ``Phi`` is).  The
    ``O(eta)`` terms cancel as in :func:`drift`; the ``eta^2`` term is nonzero
    unless ``|b| = |c|``, e.g. at ``L = 2``, ``W_1 = 1``, ``W_2 = 0``,
    ``Phi = -1`` (ZAS) it is ``eta^2``: under GD ``D_l`` is only approximately
    constant.  Variant ``wrong="eta"``: ``eta`` in place of ``eta^2``.
    """
    check_wrong(wrong)
    a, b, c, f, e = sp.symbols("a b c f e", real=True)
    eta = sp.Symbol("eta", positive=True)
    gn, gl = a * e * c * f, a * b * e * f  # G_{l+1} = A^T E (C F)^T, G_l = (A B)^T E F^T
    lhs = (b - eta * gn) ** 2 - (c - eta * gl) ** 2 - (b**2 - c**2)
    coef = eta if wrong == "eta" else eta**2
    rhs = coef * a**2 * e**2 * f**2 * (c**2 - b**2)
    witness = {a: 1, b: 0, c: 1, f: 1, e: 1}
    res: Terms = {}
    r = sp.expand(lhs - rhs)
    if r != 0:
        res[("d=1",)] = r
    if sp.expand(lhs.xreplace(witness)) == 0:  # the drift must not vanish at the witness
        res[("witness",)] = sp.Integer(1)
    return Proof(
        name="GD drift at d = 1 is not identically zero",
        lhs=lhs,
        rhs=rhs,
        residual=res,
        lhs_tex=r"D_l(t+1) - D_l(t)\big|_{d = 1}",
        route="commutative expansion (d = 1) and evaluation at a witness",
        scope="a witness at d = 1 (an existence statement: one witness proves it); "
        "every L (a, f stand for the products around the pair)",
        statement="GD changes D_l",
        steps=[
            r"$d = 1$: $G_{l+1} = a e c f$, $G_l = a b e f$; the $O(\eta)$ terms "
            r"$-2\eta(b G_{l+1} - c G_l)$ cancel.",
            r"Witness $a = c = e = f = 1$, $b = 0$ ($L = 2$, ZAS, $\Phi = -1$): "
            rf"the drift is ${sp.latex(sp.expand(lhs.xreplace(witness)))} \neq 0$.",
        ],
    )


# -- dR/dt along the flow ------------------------------------------------------------------------


def flow_loss_derivative(wrong: str | None = None) -> Proof:
    """Chain rule, one layer at a time: the contribution of ``dW_l/dt = -G_l`` to ``dR/dt`` is
    ``-||G_l||_F^2`` (trace normal form), for every depth."""
    check_wrong(wrong)
    alg = Algebra()
    A, X, F, Phi, V = alg.letters("A X F Phi V")
    t = sp.Symbol("t")
    E = A * X * F - Phi
    G = claimed_gradient(A, E, F, alg.T)
    var = first_variation(alg, E * alg.T(E) / 2, "X", V, t)
    flow = var.xreplace({V: -G, alg.letter("V^T"): -alg.T(G)})
    rhs = _frob_rhs(alg, [G], wrong)
    res = _sub(alg.trace_terms(flow), alg.trace_terms(rhs))
    return Proof(
        name="dR/dt contribution of layer l = -||G_l||_F^2",
        lhs=flow,
        rhs=rhs,
        residual=res,
        lhs_tex=(
            r"\operatorname{tr}\Big(\tfrac{\partial}{\partial t}\tfrac12 E E^T"
            r"\Big|_{\dot W_l = -G_l}\Big)"
        ),
        rhs_tex=r"-\operatorname{tr}(G_l G_l^T)",
        route="first variation + trace normal form (rotation, transposition)",
        scope="every L, every d; summed over l by the product (Leibniz) rule "
        "dW_{L:1} = sum_l W_{L:l+1} dW_l W_{l-1:1}",
        steps=[
            r"$\delta R[V] = \operatorname{tr}(\tfrac12(A V F E^T + E F^T V^T A^T))$, "
            r"$V = \dot W_l = -G_l = -A^T E F^T$.",
            r"Both sides in trace normal form (cyclic rotation, "
            r"$\operatorname{tr} M = \operatorname{tr} M^T$) agree.",
        ],
    )


def _frob_rhs(alg: Algebra, gs: Sequence[Any], wrong: str | None) -> Any:
    if wrong == "frob-no-transpose":
        return -sp.Add(*[g * g for g in gs])
    c = sp.Rational(1, 2) if wrong == "half" else 1
    return -c * sp.Add(*[g * alg.T(g) for g in gs])


def flow_loss_derivative_explicit(L: int, wrong: str | None = None) -> Proof:
    """``dR/dt = -sum_l ||G_l||_F^2`` with all ``L`` layers moving at once (explicit ``L``)."""
    check_wrong(wrong)
    alg = Algebra()
    ws = layer_letters(alg, L)
    Phi = alg.letter("Phi")
    t = sp.Symbol("t")
    E = span(ws, L, 1) - Phi
    gs = [
        claimed_gradient(span(ws, L, l + 1), E, span(ws, l - 1, 1), alg.T) for l in range(1, L + 1)
    ]
    moves = {}
    for l, w in enumerate(ws, start=1):
        moves[w] = w - t * gs[l - 1]
        moves[alg.letter(f"W_{l}^T")] = alg.letter(f"W_{l}^T") - t * alg.T(gs[l - 1])
    moved = (E * alg.T(E) / 2).xreplace(moves)
    lin: Terms = {}
    for w, k in alg.terms(moved).items():
        c = sp.expand(k).coeff(t, 1)
        if c != 0:
            lin[w] = c
    rhs = _frob_rhs(alg, gs, wrong)
    res = _sub(alg.trace_terms(alg.from_terms(lin)), alg.trace_terms(rhs))
    return Proof(
        name=f"dR/dt = -sum_l ||G_l||_F^2, L = {L}",
        lhs=sp.Symbol(r"\dot R"),
        rhs=rhs,
        residual=res,
        route="all layers W_l -> W_l - t G_l, coefficient of t, trace normal form",
        scope=f"explicit L = {L}, every d",
        explicit={"L": L},
    )


# -- products under balancedness ------------------------------------------------------------------


def balanced_induction(wrong: str | None = None) -> list[Proof]:
    """``W_{k:1} W_{k:1}^T = (W_k W_k^T)^k`` under ``W_{j+1}^T W_{j+1} = W_j W_j^T``: base and step.

    Opaque symmetric letters stand for the powers with symbolic ``k``:
    ``Q_k = W_{k:1} W_{k:1}^T``, ``M_k = (W_k W_k^T)^k``,
    ``N_k = (W_{k+1}^T W_{k+1})^k``, ``K_k = (W_{k+1} W_{k+1}^T)^k``.
    The push-through lemma ``X N_k = K_k X`` (``X = W_{k+1}``) is proven by
    its own induction, then used as a rewrite rule.
    """
    check_wrong(wrong)
    alg = Algebra()
    X = alg.letter("W_{k+1}")
    Xt = alg.T(X)
    Q, M, N, K = alg.letters("Q_k M_k N_k K_k", symmetric=True)
    push = (X * N, K * X)
    # push-through: base k = 0 (N_0 = K_0 = I) and step N_{k+1} = N_k X^T X, K_{k+1} = K_k X X^T
    base_push = Proof(
        name="push-through, k = 0",
        lhs=X,
        rhs=X,
        residual=_diff(alg, X, X),
        route="free-algebra expansion",
        scope="base case",
        explicit={"k": 0},
        statement="push-through lemma",
        lhs_tex=r"W (W^T W)^0",
        rhs_tex=r"(W W^T)^0 W",
    )
    step_lhs = X * N * Xt * X
    step_nf = alg.rewrite(step_lhs, [push])
    step_rhs = K * X * Xt * X
    step_push = Proof(
        name="push-through step: W (W^T W)^{k+1} = (W W^T)^{k+1} W",
        lhs=step_lhs,
        rhs=step_rhs,
        residual=_sub(step_nf, alg.terms(step_rhs)),
        lhs_tex=r"W_{k+1} (W_{k+1}^T W_{k+1})^{k+1}",
        rhs_tex=r"(W_{k+1} W_{k+1}^T)^{k+1} W_{k+1}",
        route="rewrite with the induction hypothesis X N_k -> K_k X",
        scope="every k (induction step)",
        statement="push-through lemma",
    )
    # chain: base k = 1 is W_1 W_1^T = (W_1 W_1^T)^1; step
    rules = [(Q, M), (X * N, K * X), *([] if wrong == "unbalanced" else [(M, N)])]
    lhs = X * Q * Xt
    nf = alg.rewrite(lhs, rules)
    rhs = K * X * Xt
    step = Proof(
        name="balanced chain step: W_{k+1:1} W_{k+1:1}^T = (W_{k+1} W_{k+1}^T)^{k+1}",
        lhs=lhs,
        rhs=rhs,
        residual=_sub(nf, alg.terms(rhs)),
        lhs_tex=r"W_{k+1} \left(W_{k:1} W_{k:1}^T\right) W_{k+1}^T",
        rhs_tex=r"(W_{k+1} W_{k+1}^T)^{k+1}",
        route="rewrite: IH Q_k -> (W_k W_k^T)^k, hypothesis W_k W_k^T = W_{k+1}^T W_{k+1} "
        "(so M_k -> N_k), push-through",
        scope="every k (induction step; base k = 1 is trivial)",
        statement="balanced chain",
        steps=[
            r"IH: $W_{k:1}W_{k:1}^T = (W_k W_k^T)^k$; "
            r"balancedness: $(W_k W_k^T)^k = (W_{k+1}^T W_{k+1})^k$.",
            r"Push-through: $W_{k+1}(W_{k+1}^T W_{k+1})^k = (W_{k+1}W_{k+1}^T)^k W_{k+1}$.",
            r"Hence $W_{k+1:1}W_{k+1:1}^T = (W_{k+1}W_{k+1}^T)^k W_{k+1}W_{k+1}^T$.",
        ],
    )
    return [base_push, step_push, step]


def balanced_explicit(k: int, wrong: str | None = None) -> Proof:
    """Explicit ``k``: rewrite ``W_{k:1}W_{k:1}^T`` with ``W_j W_j^T -> W_{j+1}^T W_{j+1}``."""
    check_wrong(wrong)
    alg = Algebra()
    ws = layer_letters(alg, k)
    rules = (
        []
        if wrong == "unbalanced"
        else [(ws[j - 1] * alg.T(ws[j - 1]), alg.T(ws[j]) * ws[j]) for j in range(1, k)]
    )
    P = span(ws, k, 1)
    lhs = P * alg.T(P)
    e = k + 1 if wrong == "exponent" else k
    rhs = (ws[-1] * alg.T(ws[-1])) ** e
    return Proof(
        name=f"balanced chain, k = {k}",
        lhs=lhs,
        rhs=rhs,
        residual=_sub(alg.rewrite(lhs, rules), alg.rewrite(rhs, rules)),
        route="rewriting modulo W_j W_j^T = W_{j+1}^T W_{j+1}",
        scope=f"explicit k = {k}, every d",
        explicit={"k": k},
        statement="balanced chain",
    )


# -- initial invariants and their two-sided consequences ------------------------------------------


def init_invariants(scales: Sequence[Any]) -> list[Any]:
    """``D_l`` at ``W_l = a_l I`` (``l = 1..L-1``), computed from the letters by substitution."""
    alg = Algebra()
    L = len(scales)
    ws = layer_letters(alg, L)
    sub = {}
    for l, a in enumerate(scales, start=1):
        sub[alg.letter(f"W_{l}")] = a
        sub[alg.letter(f"W_{l}^T")] = a
    return [
        sp.expand((alg.T(ws[l]) * ws[l] - ws[l - 1] * alg.T(ws[l - 1])).xreplace(sub))
        for l in range(1, L)
    ]


def chain_consequences(
    scales: Sequence[Any],
    pivot: int,
    *,
    low: Any = None,
    up: Any = None,
    wrong: str | None = None,
) -> list[Proof]:
    """Consequences of the invariants fixed at ``W_l(0) = a_l I`` around the layer ``pivot = m``.

    From ``D_l(t) = D_l(0)`` (Lemma 4.2), oriented away from the pivot:

    * below (``l < m``): ``W_l W_l^T -> W_{l+1}^T W_{l+1} - D_l(0)``, so
      ``W_{m-1:1} W_{m-1:1}^T = (low I + W_m^T W_m)^{m-1}``;
    * above (``l >= m``): ``W_{l+1}^T W_{l+1} -> W_l W_l^T + D_l(0)``, so
      ``W_{L:m+1}^T W_{L:m+1} = (up I + W_m W_m^T)^{L-m}``.

    ``low``/``up`` are the claimed constants (the proof checks them).  Both
    rule sets move indices monotonically toward the pivot, so rewriting
    terminates.
    """
    check_wrong(wrong)
    L = len(scales)
    m = pivot
    if not 1 <= m <= L:
        raise InputError(f"pivot layer {m} is outside 1..{L}")
    D0 = init_invariants(scales)
    alg = Algebra()
    ws = layer_letters(alg, L)
    T = alg.T
    rules: list[tuple[Any, Any]] = []
    if wrong != "unbalanced":
        for l in range(1, m):
            rules.append((ws[l - 1] * T(ws[l - 1]), T(ws[l]) * ws[l] - D0[l - 1]))
        for l in range(m, L):
            rules.append((T(ws[l]) * ws[l], ws[l - 1] * T(ws[l - 1]) + D0[l - 1]))
    sgn = -1 if wrong == "sign" else 1
    bump = 1 if wrong == "exponent" else 0
    out = []
    Wm = ws[m - 1]
    if m >= 2:
        V = span(ws, m - 1, 1)
        lhs = V * T(V)
        rhs = (sgn * low + T(Wm) * Wm) ** (m - 1 + bump)
        out.append(
            Proof(
                name=f"below layer {m} (L = {L}): W_{{{m - 1}:1}} W_{{{m - 1}:1}}^T",
                lhs=lhs,
                rhs=rhs,
                residual=_sub(alg.rewrite(lhs, rules), alg.rewrite(rhs, rules)),
                lhs_tex=rf"W_{{{m - 1}:1}} W_{{{m - 1}:1}}^T",
                route="rewriting modulo the conserved D_l(0)",
                scope=f"explicit L = {L}, every d",
                explicit={"L": L, "m": m},
                statement="consequences of the conserved D_l(0)",
            )
        )
    if m <= L - 1:
        U = span(ws, L, m + 1)
        lhs = T(U) * U
        if wrong == "one-sided":
            rhs = (up + T(Wm) * Wm) ** (L - m)
        else:
            rhs = (sgn * up + Wm * T(Wm)) ** (L - m + bump)
        out.append(
            Proof(
                name=f"above layer {m} (L = {L}): W_{{{L}:{m + 1}}}^T W_{{{L}:{m + 1}}}",
                lhs=lhs,
                rhs=rhs,
                residual=_sub(alg.rewrite(lhs, rules), alg.rewrite(rhs, rules)),
                lhs_tex=rf"W_{{{L}:{m + 1}}}^T W_{{{L}:{m + 1}}}",
                route="rewriting modulo the conserved D_l(0)",
                scope=f"explicit L = {L}, every d",
                explicit={"L": L, "m": m},
                statement="consequences of the conserved D_l(0)",
            )
        )
    return out


def sos_lower_bound(k: int, a: Any, *, wrong: str | None = None) -> Proof:
    """``(a I + S)^k - a^k I = sum_j binom(k, j) a^{k-j} Y_j^T Y_j`` with ``S = W^T W``.

    ``Y_{2i} = S^i``, ``Y_{2i+1} = W S^i``: a sum of Gram matrices with
    coefficients ``>= 0`` when ``a >= 0``, so ``(a I + S)^k >= a^k I``
    (Loewner order) and ``lambda_min >= a^k``.
    """
    check_wrong(wrong)
    alg = Algebra()
    W = alg.letter("W_L")
    S = alg.T(W) * W
    e = k + 1 if wrong == "exponent" else k
    gram, gram_tex = [], []
    for j in range(1, k + 1):
        i, odd = divmod(j, 2)
        Y = (W * S**i) if odd else S**i
        coef = sp.binomial(k, j) * a ** (k - j)
        gram.append(coef * alg.T(Y) * Y)
        y = sp.latex(Y)
        gram_tex.append(rf"{sp.latex(coef) if coef != 1 else ''}\left({y}\right)^T\left({y}\right)")
    lhs = (a + S) ** k - a**e
    rhs = sp.Add(*gram)
    return Proof(
        name=f"(aI + W^T W)^{k} - a^{e} I as a sum of Gram matrices",
        lhs=lhs,
        rhs=rhs,
        residual=_diff(alg, lhs, rhs),
        rhs_tex=" + ".join(gram_tex),
        route="free-algebra expansion (binomial, S commutes with I)",
        scope=f"explicit k = {k}, every d",
        explicit={"k": k},
        statement="Gram-sum lower bound",
    )
