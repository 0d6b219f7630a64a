"""The identities behind the SSM proofs (appendix lemma, Theorem 1, the identity-init
invariant), proven in the free algebra with transpose (:mod:`zascheck.symbolic.ncalg`).

Scope: the letters are free non-commuting matrices of compatible shapes, so
an identity covers every size; products of consecutive layers are single
letters (``S = W_{L:l+1}``, ``T = W_{l-1:1}``), so it covers every depth and
every position ``l`` too, except where a record says ``explicit L``.

The inequalities the proofs chain these identities with are textbook facts
and are *cited*, not machine-checked; every record lists them in ``steps``:
``tr(Z^T Z) >= 0``; Courant-Fischer (``lambda_max`` of a self-adjoint map is
the largest Rayleigh quotient); ``||J||^2 = lambda_max(J^* J) =
lambda_max(J J^*)``; Cauchy-Schwarz; AM-GM; ``||A kron B|| = ||A|| ||B||``.

``wrong=...`` drops one hypothesis (negative control); each function says
which variants it knows.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from zascheck.errors import InputError
from zascheck.symbolic.ncalg import Algebra, Terms
from zascheck.symbolic.proof import Proof

__all__ = ["WRONG", "invariance_proofs", "psd_lemma_proofs", "thm1_proofs"]

#: the hypothesis each wrong variant drops
WRONG = {
    "not-symmetric": "A_i, B_i not symmetric (the lemma's symmetry hypothesis dropped)",
    "not-psd": "A_i = -G G^T (the lemma's PSD hypothesis dropped)",
    "not-a-minimum": "the Hessian taken where W_{L:1} != R (not a global minimum)",
    "not-orthogonal": "the frames of the balanced factorization not orthogonal",
    "not-commuting": "W(0) not commuting with R (the identity-init hypothesis dropped)",
}


def _check(wrong: str | None, known: tuple[str, ...]) -> None:
    if wrong is not None and wrong not in WRONG:
        raise InputError(f"unknown wrong variant {wrong!r}; choose one of {', '.join(WRONG)}")
    del known  # a variant another proof set knows leaves this one unchanged


def _tr(alg: Algebra, lhs: Any, rhs: Any) -> Terms:
    """Trace normal form of ``lhs - rhs`` (empty: ``tr lhs = tr rhs`` for all matrices)."""
    return alg.trace_terms(lhs - rhs)


# -- the appendix lemma: X -> sum_i A_i X B_i ------------------------------------------------


def psd_lemma_proofs(wrong: str | None = None) -> list[Proof]:
    """SSM appendix lemma (arXiv:1805.08890v2, Lemma 2): for symmetric PSD
    ``A_i`` (``m x m``), ``B_i`` (``n x n``), ``f(X) = sum_i A_i X B_i`` is
    self-adjoint and PSD for ``<X, Y> = tr(X^T Y)``, and
    ``lambda_max(f) >= sum_i (u^T A_i u)(v^T B_i v) / (||u||^2 ||v||^2)``.

    Per term ``i`` (``f`` is a sum; each identity is linear in the term):
    (1) ``tr(Y^T A X B) = tr((A Y B)^T X)``; (2) with ``A = G G^T``,
    ``B = H H^T``: ``tr(X^T A X B) = tr(Z^T Z)``, ``Z = G^T X H``; (3) at
    ``X = u v^T``: ``tr(X^T A X B) = (u^T A u)(v^T B v)`` and
    ``tr(X^T X) = (u^T u)(v^T v)`` (products of ``1 x 1`` words).
    Variants: ``not-symmetric`` breaks (1), ``not-psd`` breaks (2).
    """
    _check(wrong, ("not-symmetric", "not-psd"))
    alg = Algebra()
    sym = wrong != "not-symmetric"
    A, B = alg.letters("A B", symmetric=sym)
    X, Y, G, H, u, v = alg.letters("X Y G H u v")
    T = alg.T
    p1 = Proof(
        name="the lemma's map is self-adjoint: <Y, A X B> = <A Y B, X>",
        lhs=T(Y) * A * X * B, rhs=T(A * Y * B) * X,
        residual=_tr(alg, T(Y) * A * X * B, T(A * Y * B) * X),
        lhs_tex=r"\operatorname{tr}(Y^T A X B)", rhs_tex=r"\operatorname{tr}((A Y B)^T X)",
        route="trace normal form (A, B symmetric letters)" if sym else "trace normal form",
        scope="every m, n, every number of terms (one term; f is their sum)",
        steps=["Uses A^T = A, B^T = B: the symmetry hypothesis."],
    )  # fmt: skip
    a_psd = (-1 if wrong == "not-psd" else 1) * G * T(G)
    z = T(G) * X * H
    lhs2 = T(X) * a_psd * X * H * T(H)
    p2 = Proof(
        name="the lemma's map is PSD: <X, A X B> = ||G^T X H||_F^2 for A = G G^T, B = H H^T",
        lhs=lhs2, rhs=T(z) * z, residual=_tr(alg, lhs2, T(z) * z),
        lhs_tex=r"\operatorname{tr}(X^T G G^T X H H^T)",
        rhs_tex=r"\operatorname{tr}\big((G^T X H)^T (G^T X H)\big)",
        route="trace normal form", scope="every m, n, every number of terms",
        steps=["Every symmetric PSD matrix is G G^T (spectral theorem; cited).",
               "tr(Z^T Z) = sum of squares >= 0 (cited), so <X, f(X)> = sum_i ||Z_i||^2 >= 0."],
    )  # fmt: skip
    xr = u * T(v)
    lhs3 = T(xr) * A * xr * B
    rhs3 = T(u) * A * u * T(v) * B * v
    p3 = Proof(
        name="Rayleigh quotient at X = u v^T: <X, A X B> = (u^T A u)(v^T B v)",
        lhs=lhs3, rhs=rhs3, residual=_tr(alg, lhs3, rhs3),
        lhs_tex=r"\operatorname{tr}\big((u v^T)^T A (u v^T) B\big)",
        rhs_tex=r"(u^T A u)(v^T B v)",
        route="trace normal form (u, v column letters; a product of 1 x 1 words is their product)",
        scope="every m, n",
        steps=["<X, X> = tr(v u^T u v^T) = (u^T u)(v^T v) likewise.",
               "Courant-Fischer (cited): lambda_max(f) >= <X, f(X)> / <X, X> for every X != 0."],
    )  # fmt: skip
    nrm = _tr(alg, T(xr) * xr, T(u) * u * T(v) * v)
    p3.residual = {**p3.residual, **{("norm", *w): k for w, k in nrm.items()}}
    return [p1, p2, p3]


# -- Theorem 1: the sharpest minimum is balanced --------------------------------------------------


def _gauss_newton(wrong: str | None) -> Proof:
    """``[t^2] 1/2 ||P(t) - R||_F^2 = 1/2 ||P_1||_F^2`` when ``P(0) = R``."""
    alg = Algebra()
    E0, P1, P2, P3 = alg.letters("E_0 P_1 P_2 P_3")
    t = sp.Symbol("t")
    e = (E0 if wrong == "not-a-minimum" else 0) + t * P1 + t**2 * P2 + t**3 * P3
    c2 = sp.expand(sp.Rational(1, 2) * alg.T(e) * e).coeff(t, 2)
    rhs = sp.Rational(1, 2) * alg.T(P1) * P1
    return Proof(
        name="at a global minimum the Hessian is J^T J: H[V, V] = ||J V||_F^2",
        lhs=c2, rhs=rhs, residual=_tr(alg, c2, rhs),
        lhs_tex=r"[t^2]\ \tfrac12\|P(t) - R\|_F^2", rhs_tex=r"\tfrac12\|P_1\|_F^2",
        route="free-algebra expansion in t, trace normal form",
        scope="every L, every d (P(t) - R = t P_1 + t^2 P_2 + t^3 P_3 + ..., free letters)",
        steps=[r"$P(t) = W_{L:1}(W + tV)$ is a polynomial in $t$; at a global minimum "
               r"$P(0) = R$, so $P(t) - R$ has no constant term.",
               r"$P_1 = JV = \sum_l W_{L:l+1} V_l W_{l-1:1}$ (Leibniz rule; cited).",
               "Terms of order t^4 and higher do not reach the t^2 coefficient."],
    )  # fmt: skip


def _adjoint_and_operator() -> list[Proof]:
    """``J^* Y = (S_l^T Y T_l^T)_l`` and ``||J^* Y||^2 = <Y, sum_l A_l Y B_l>``."""
    alg = Algebra()
    S, T_, V, Y = alg.letters("S T V Y")
    T = alg.T
    adj = Proof(
        name="adjoint of J, one layer: <S V T, Y> = <V, S^T Y T^T>",
        lhs=T(S * V * T_) * Y, rhs=T(V) * T(S) * Y * T(T_),
        residual=_tr(alg, T(S * V * T_) * Y, T(V) * T(S) * Y * T(T_)),
        route="trace normal form",
        scope="every L, every l, every d (S = W_{L:l+1}, T = W_{l-1:1} free letters)",
    )  # fmt: skip
    jy = T(S) * Y * T(T_)
    op_l = T(Y) * (S * T(S)) * Y * (T(T_) * T_)
    op = Proof(
        name="J J^* is the lemma's map: ||S^T Y T^T||^2 = <Y, A Y B>, A = S S^T, B = T^T T",
        lhs=T(jy) * jy, rhs=op_l, residual=_tr(alg, T(jy) * jy, op_l),
        route="trace normal form", scope="every L, every l, every d",
        steps=["Summed over l: ||J^* Y||^2 = <Y, sum_l A_l Y B_l> with A_l = W_{L:l+1} "
               "W_{L:l+1}^T and B_l = W_{l-1:1}^T W_{l-1:1}, symmetric PSD.",
               "lambda_max(H) = ||J||^2 = ||J^*||^2 = lambda_max(J J^*) (cited)."],
    )  # fmt: skip
    return [adj, op]


def _lower_bound_steps() -> Proof:
    """The chain of cited inequalities, with its one identity ``q_l^T p_l = u^T P v``."""
    alg = Algebra()
    S, W, T_, u, v = alg.letters("S W T u v")
    q, p = alg.T(S) * u, W * T_ * v  # q_l = W_{L:l+1}^T u, p_l = W_{l:1} v
    lhs = alg.T(q) * p
    rhs = alg.T(u) * (S * W * T_) * v
    return Proof(
        name="every global minimum: lambda_max(H) >= L rho^{2(L-1)/L}",
        lhs=lhs, rhs=rhs, residual=alg.terms(lhs - rhs),
        lhs_tex=r"q_l^T p_l", rhs_tex=r"u^T W_{L:1} v = \rho",
        route="free-algebra expansion", scope="every L, every l, every d",
        steps=[r"Lemma at $Y = u v^T$, $u, v$ unit top singular vectors of $R$: "
               r"$\lambda_{\max}(H) \ge \sum_l |q_l|^2 |p_{l-1}|^2$, "
               r"$q_l = W_{L:l+1}^T u$, $p_l = W_{l:1} v$.",
               r"$q_l^T p_l = u^T R v = \rho$ for every $l$ (this identity), so "
               r"$|q_l||p_l| \ge \rho$ (Cauchy-Schwarz; cited).",
               r"$\prod_{l=1}^L |q_l||p_{l-1}| = |q_L||p_0| \prod_{l=1}^{L-1}|q_l||p_l| \ge "
               r"\rho^{L-1}$ ($q_L = u$, $p_0 = v$ unit).",
               r"AM-GM (cited): $\sum_l a_l \ge L (\prod_l a_l)^{1/L} \ge L\rho^{2(L-1)/L}$."],
    )  # fmt: skip


def _balanced_attains(wrong: str | None) -> Proof:
    """Induction step ``(Q_{j+1} S Q_j^T)(Q_j S^a V^T) = Q_{j+1} S^{a+1} V^T``."""
    alg = Algebra()
    Q1, Q0, V = alg.letters("Q_1 Q_0 V")
    S, Sa, Sa1 = alg.letters("S S^a S^{a+1}", symmetric=True)
    lhs = (Q1 * S * alg.T(Q0)) * (Q0 * Sa * alg.T(V))
    rules: list[tuple[Any, Any]] = [(S * Sa, Sa1)]
    if wrong != "not-orthogonal":
        rules.append((alg.T(Q0) * Q0, sp.Integer(1)))
    rhs = Q1 * Sa1 * alg.T(V)
    res = alg.rewrite(lhs - rhs, rules)
    return Proof(
        name="balanced minima attain the bound: W_{j:1} = Q_j Sigma^{j/L} V^T",
        lhs=lhs, rhs=rhs, residual=res,
        lhs_tex=r"(Q_{j+1} S Q_j^T)(Q_j S^{a} V^T)", rhs_tex=r"Q_{j+1} S^{a+1} V^T",
        route="rewriting modulo Q_j^T Q_j = I, S S^a = S^{a+1} (induction step)",
        scope="every L, every d (induction on j; S = Sigma^{1/L})",
        steps=[r"So $W_{l-1:1} = Q_{l-1}\Sigma^{(l-1)/L}V^T$ and likewise "
               r"$W_{L:l+1} = U\Sigma^{(L-l)/L}Q_l^T$: $\|A_l\|\|B_l\| = \rho^{2(L-1)/L}$.",
               r"$\lambda_{\max}(\sum_l A_l \otimes B_l) \le \sum_l \|A_l\|\|B_l\| = "
               r"L\rho^{2(L-1)/L}$ (triangle inequality, $\|A\otimes B\| = \|A\|\|B\|$; cited): "
               "with the lower bound, equality."],
    )  # fmt: skip


def thm1_proofs(wrong: str | None = None) -> list[Proof]:
    """SSM Theorem 1 (*reconstructed*), Hessian half: over all global minima of
    ``1/2 ||W_{L:1} - R||_F^2`` the smallest top Hessian eigenvalue is
    ``L rho^{2(L-1)/L}``, attained at the balanced factorizations.

    The appendix lemma's proofs, then: the Hessian at a minimum is ``J^T J``;
    ``J J^*`` is the lemma's map with ``A_l = W_{L:l+1} W_{L:l+1}^T``,
    ``B_l = W_{l-1:1}^T W_{l-1:1}``; the telescoping identity behind the lower
    bound; the induction step showing balanced minima attain it.
    Variants: ``not-a-minimum``, ``not-orthogonal`` (and the lemma's).
    """
    _check(wrong, ("not-a-minimum", "not-orthogonal", "not-symmetric", "not-psd"))
    return [
        *psd_lemma_proofs(wrong),
        _gauss_newton(wrong),
        *_adjoint_and_operator(),
        _lower_bound_steps(),
        _balanced_attains(wrong),
    ]


# -- identity (commuting) initialization: the invariant behind Theorems 2 and 3 -------------------


def invariance_proofs(L: int, wrong: str | None = None) -> list[Proof]:
    """If every ``W_l = W`` with ``W`` symmetric and ``W R = R W`` (``R``
    symmetric), then every gradient ``G_l = W^{L-l} (W^L - R) W^{l-1}`` equals
    ``W^{L-1}(W^L - R)``, is symmetric and commutes with ``R``: one GD step
    keeps the invariant, so by induction it holds for every ``t`` from
    ``W(0) = I`` (or any diagonal ``D`` with a diagonal ``R``).  In an eigenbasis
    of ``R`` GD is then the scalar map :func:`zascheck.ssm.scalar_step`.

    Explicit ``L`` (``L >= 1``), every ``d``.  Variant ``not-commuting``: the
    rule ``R W = W R`` dropped.
    """
    _check(wrong, ("not-commuting",))
    if L < 1:
        raise InputError(f"need L >= 1, got {L}")
    alg = Algebra()
    W, R = alg.letters("W R", symmetric=True)
    rules = [] if wrong == "not-commuting" else [(R * W, W * R)]
    e = W**L - R
    grads = [alg.T(W ** (L - l)) * e * alg.T(W ** (l - 1)) for l in range(1, L + 1)]
    g1 = grads[0]
    res: Terms = {}
    for l, g in enumerate(grads[1:], start=2):
        res |= {(f"G_{l} - G_1", *w): k for w, k in alg.rewrite(g - g1, rules).items()}
    res |= {("G^T - G", *w): k for w, k in alg.rewrite(alg.T(g1) - g1, rules).items()}
    res |= {("G R - R G", *w): k for w, k in alg.rewrite(g1 * R - R * g1, rules).items()}
    return [
        Proof(
            name=f"identity-init invariant is kept by a GD step, L = {L}",
            lhs=sp.Matrix([grads]), rhs=sp.Matrix([[g1] * L]), residual=res,
            lhs_tex=r"(G_1, \dots, G_L)", rhs_tex=r"W^{L-1}(W^L - R)\,(1, \dots, 1)",
            route="rewriting modulo R W = W R (W, R symmetric letters)",
            scope=f"explicit L = {L}, every d", explicit={"L": L},
            steps=["G_l = W_{L:l+1}^T (W_{L:1} - R) W_{l-1:1}^T (eq. 2.5) with every W_l = W.",
                   "All G_l equal, symmetric and commuting with R, so W - eta G is again "
                   "symmetric, commutes with R and is the same for every layer."],
        )
    ]  # fmt: skip
