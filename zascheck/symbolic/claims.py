"""The proof sets: for each symbolic claim, the list of proofs that establish it.

A claim card names its proof set (``Card(proofs=...)``); its symbolic method and
the derivation document (:mod:`zascheck.report.derivations`) both call it."""

from __future__ import annotations

from typing import Any

import sympy as sp

from zascheck.symbolic import derive
from zascheck.symbolic import identities as idn
from zascheck.symbolic.ncalg import Algebra, Terms
from zascheck.symbolic.proof import Proof

__all__ = ["alpha", "any_layer", "drift", "gradient", "invariance", "last_ci", "lemma42", "residual",
           "thm41_steps"]


def _invariant_proof(scales: list[Any], expected: list[Any], label: str) -> Proof:
    got = idn.init_invariants(scales)
    res: Terms = {}
    for l, (g, e) in enumerate(zip(got, expected, strict=True), start=1):
        r = sp.expand(g - e)
        if r != 0:
            res[(f"D_{l}",)] = r
    return Proof(
        name=f"D_l at {label}", lhs=sp.Matrix([got]), rhs=sp.Matrix([expected]), residual=res,
        lhs_tex=r"\left(D_1(0), \dots, D_{L-1}(0)\right)",
        route="substitution W_l = a_l I into B^T B - C C^T", scope=f"explicit L = {len(scales)}",
    )


def gradient(L_max: int = 4, ms_L_max: int = 3, ms_form: str = "single-trace",
             wrong: str | None = None) -> list[Proof]:
    """Route 1 (abstract and explicit ``L``) and route 2 (sympy ``MatrixSymbol.diff``)."""
    out = [idn.gradient_abstract(wrong)]
    for L in range(1, L_max + 1):
        w = wrong if wrong in derive.WRONG_GRADIENT else None
        res = derive.gradient_residual_explicit(L, w)
        merged = {(f"l={l}", *w): k for l, r in res.items() for w, k in r.items()}
        out.append(Proof(
            name=f"derived G_l = eq. (2.5), L = {L}, all l", lhs=sp.Symbol(r"G_l"),
            rhs=sp.Symbol(r"W_{L:l+1}^T E W_{l-1:1}^T"), residual=merged,
            route="first variation in the free algebra (explicit letters W_1..W_L)",
            scope=f"explicit L = {L}, every d",
        ))
    for L in range(1, ms_L_max + 1):
        merged = {}
        for l in range(1, L + 1):
            alg, g_sympy = derive.matrixsymbol_gradient(L, l, ms_form)
            ws = derive.layer_letters(alg, L)
            E = derive.span(ws, L, 1) - alg.letter("Phi")
            w = wrong if wrong in derive.WRONG_GRADIENT else None
            claimed = derive.claimed_gradient(
                derive.span(ws, L, l + 1), E, derive.span(ws, l - 1, 1), alg.T, w)
            for word, k in alg.terms(g_sympy - claimed).items():
                key = (f"l={l}", *word)  # mypy reads merged[(a, *w)] as 3.11 syntax
                merged[key] = k
        out.append(Proof(
            name=f"sympy MatrixSymbol.diff ({ms_form}) = eq. (2.5), L = {L}, all l",
            lhs=sp.Symbol(r"\texttt{diff}(R, W_l)"), rhs=sp.Symbol(r"W_{L:l+1}^T E W_{l-1:1}^T"),
            residual=merged, route=f"sympy matrix calculus, R written as {ms_form}",
            scope=f"explicit L = {L}, symbolic d",
        ))
    return out


def residual(wrong: str | None = None) -> list[Proof]:
    return idn.residual_param(wrong)


def lemma42(wrong: str | None = None) -> list[Proof]:
    return [idn.lemma42(wrong)]


def drift(wrong: str | None = None) -> list[Proof]:
    return [idn.drift(wrong)]


def invariance(wrong: str | None = None) -> list[Proof]:
    return [idn.lemma42(wrong), idn.drift(wrong)]


def thm41_steps(L_max: int = 6, k_max: int = 6, Lf_max: int = 3,
                wrong: str | None = None) -> list[Proof]:
    """Init invariants at ZAS, balanced chain (induction + explicit k), ZAS consequence,
    Loewner lower bound, and dR/dt = -sum ||G_l||^2."""
    out = []
    for L in range(2, L_max + 1):
        exp = [*[0] * (L - 2), -1]
        out.append(_invariant_proof([*[1] * (L - 1), 0], exp, f"ZAS, L = {L}"))
    out += idn.balanced_induction(wrong)
    out += [idn.balanced_explicit(k, wrong) for k in range(1, k_max + 1)]
    for L in range(2, L_max + 1):
        out += idn.chain_consequences([*[1] * (L - 1), 0], L, low=1, wrong=wrong)
        out.append(idn.sos_lower_bound(L - 1, 1))
    out.append(idn.flow_loss_derivative(wrong))
    out += [idn.flow_loss_derivative_explicit(L, wrong) for L in range(1, Lf_max + 1)]
    return out


def any_layer(L_max: int = 5, wrong: str | None = None) -> list[Proof]:
    """Zero layer at every position ``m`` of every ``L <= L_max``: invariants and both sides."""
    out = []
    for L in range(2, L_max + 1):
        for m in range(1, L + 1):
            sc: list[Any] = [1] * L
            sc[m - 1] = 0
            exp = [0] * (L - 1)
            if m >= 2:
                exp[m - 2] = -1
            if m <= L - 1:
                exp[m - 1] = 1
            out.append(_invariant_proof(sc, exp, f"zero layer m = {m}, L = {L}"))
            out += idn.chain_consequences(sc, m, low=1, up=1, wrong=wrong)
    out += [idn.sos_lower_bound(k, 1) for k in range(1, L_max)]
    return out


def last_ci(L_max: int = 5, wrong: str | None = None) -> list[Proof]:
    """Last layer ``c I``: ``D_{L-1}(0) = (c^2 - 1) I``, consequence with ``a = 1 - c^2``."""
    c = sp.Symbol("c", real=True)
    a = 1 - c**2
    out = []
    for L in range(2, L_max + 1):
        sc = [*[1] * (L - 1), c]
        out.append(_invariant_proof(sc, [*[0] * (L - 2), c**2 - 1], f"last layer c I, L = {L}"))
        out += idn.chain_consequences(sc, L, low=a, wrong=wrong)
        out.append(idn.sos_lower_bound(L - 1, a))
    return out


def alpha(L_max: int = 5, wrong: str | None = None) -> list[Proof]:
    """Layers ``alpha I``, last 0: ``D_{L-1}(0) = -alpha^2 I``; product ``>= alpha^{2(L-1)}``;
    ``E(0) = -Phi`` independent of alpha."""
    al = sp.Symbol("alpha", positive=True)
    out = []
    for L in range(2, L_max + 1):
        sc = [*[al] * (L - 1), 0]
        out.append(_invariant_proof(sc, [*[0] * (L - 2), -(al**2)], f"alpha I layers, L = {L}"))
        out += idn.chain_consequences(sc, L, low=al**2, wrong=wrong)
        out.append(idn.sos_lower_bound(L - 1, al**2, wrong=wrong))
        alg = Algebra()
        ws = derive.layer_letters(alg, L)
        phi = alg.letter("Phi")
        E0 = (derive.span(ws, L, 1) - phi).xreplace(
            dict(zip(ws, sc, strict=True)) | {alg.T(w): s for w, s in zip(ws, sc, strict=True)})
        out.append(Proof(
            name=f"E(0) = -Phi for every alpha, L = {L}", lhs=E0, rhs=-phi,
            residual=alg.terms(E0 + phi), route="substitution", scope=f"explicit L = {L}",
        ))
    return out


#: claim id -> function(**params) -> proofs
