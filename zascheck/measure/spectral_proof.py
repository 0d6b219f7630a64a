"""Symbolic proof of the spectral reduction for every depth, and the per-mode facts it yields.

The argument (:mod:`zascheck.measure.spectral` states the reduction) has two
layers, each proven here by sympy:

1. **Matrix layer, free algebra** (:func:`closure_proofs`).  With orthogonal
   letters ``U``, ``V`` (relations ``U^T U = U U^T = V^T V = V V^T = 1``) and
   symmetric letters ``X``, ``Y``, ``Z`` (diagonal matrices), the three
   aligned classes ``A = {V X V^T}``, ``B = {U X V^T}``, ``C = {U X U^T}`` are
   closed under the products that build ``W_{b:a}``, and the gradient (2.5)
   ``G_l = W_{L:l+1}^T E W_{l-1:1}^T`` of an aligned network is in ``A`` below
   the layer ``k``, in ``B`` at it, in ``C`` above it.  Products of any
   number of factors follow by induction on the number of factors from the
   two-factor identities, so this covers every ``L`` and every ``d``.  The
   classes are linear, so ``W_l - eta G_l`` (GD) and ``-G_l`` (the flow's
   velocity) stay in them.
2. **Diagonal layer, commuting variables with symbolic exponents**
   (:func:`diagonal_proofs`).  The diagonal of ``G_l`` is
   ``c^(L-l) ... a^(l-1)``-type products; with ``L``, ``k``, ``l`` symbolic
   integers sympy reduces them to ``g_a``, ``g_b``, ``g_c`` of
   :func:`zascheck.measure.spectral.mode_grads`, *independent of l*: so layers
   equal at ``t`` stay equal at ``t + 1`` (induction on ``t``), and for the
   flow the aligned set is invariant (its velocity is tangent to it; a
   polynomial vector field has unique solutions, Picard-Lindelof).

Per-mode facts proven the same way (:func:`mode_fact_proofs`): the flow
conserves ``b^2 - a^2`` and ``c^2 - b^2``; GD moves ``D = a^2 - b^2`` by
``D' = D (1 - eta^2 c^(2q) e^2 a^(2p-2))``; from ZAS ``de/dt = -k e`` with
``k = (alpha^2 + b^2)^(L-2) (alpha^2 + L b^2)``; a GD step is
``e' = e (1 - eta K)`` with ``K`` of :func:`zascheck.measure.certify_thm43.K_factor`.
The rectangular embedding of Remark (1) reduces to the square core
(:func:`rectangular_proofs`).  Provenance: this suite (beyond the sources),
after Saxe, McClelland & Ganguli, ICLR 2014.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from zascheck.errors import InputError
from zascheck.symbolic.ncalg import Algebra, Terms
from zascheck.symbolic.proof import Proof

__all__ = [
    "WRONG",
    "any_layer_rate_proof",
    "closure_proofs",
    "diagonal_proofs",
    "frobenius_proof",
    "mode_fact_proofs",
    "rate_comparison_proof",
    "rate_proofs",
    "rectangular_proofs",
    "spectral_proofs",
    "tightness_proofs",
]

#: deliberately false variants (negative controls of ``zas.spectral:symbolic``)
WRONG = {
    "unaligned": "the last layer aligned with a third orthogonal basis W (W_L = U X W^T, W != V)",
    "exponent": "the gradient below layer k with a^(l) in place of a^(l-1) on the right",
}

_EVERY = "every L, every d (free algebra + symbolic exponents)"
_SCALAR: tuple[str, ...] = ("(commuting scalars)",)


def _scalar_residual(expr: Any) -> Terms:
    """``{}`` when ``expr`` simplifies to 0, else the leftover as one term."""
    r = sp.simplify(sp.powsimp(sp.expand(expr), force=False))
    if r != 0:
        r = sp.simplify(sp.powsimp(sp.expand_power_base(sp.expand(r)), combine="exp"))
    return {} if r == 0 else {_SCALAR: r}


def _scalar_proof(name: str, lhs: Any, rhs: Any, route: str, steps: list[str]) -> Proof:
    return Proof(
        name=name,
        lhs=lhs,
        rhs=rhs,
        residual=_scalar_residual(lhs - rhs),
        route=route,
        scope=_EVERY,
        steps=steps,
    )


# ---------------------------------------------------------------------------
# 1. matrix layer: closure of the aligned classes (free algebra)
# ---------------------------------------------------------------------------


def _orthogonal_algebra() -> tuple[Algebra, dict[str, Any], list[tuple[Any, Any]]]:
    alg = Algebra()
    L: dict[str, Any] = {n: alg.letter(n) for n in ("U", "V", "W")}
    for n in ("X", "Y", "Z", "S"):
        L[n] = alg.letter(n, symmetric=True)
    T = alg.T
    rules = []
    for n in ("U", "V", "W"):
        rules += [(T(L[n]) * L[n], sp.Integer(1)), (L[n] * T(L[n]), sp.Integer(1))]
    return alg, L, rules


def _nf_proof(
    alg: Algebra, rules: list[tuple[Any, Any]], name: str, lhs: Any, rhs: Any, steps: list[str]
) -> Proof:
    res = alg.rewrite(lhs - rhs, rules)
    return Proof(
        name=name,
        lhs=lhs,
        rhs=rhs,
        residual=res,
        route="free algebra, rewriting modulo U^T U = U U^T = V^T V = V V^T = 1",
        scope=_EVERY,
        steps=steps,
    )


def closure_proofs(wrong: str | None = None) -> list[Proof]:
    """The aligned classes are closed under the products and transposes of (2.5).

    ``wrong="unaligned"`` puts the last layer in a third basis ``W`` (the
    negative control: the identities then leave words ``W^T V`` behind).
    """
    _check(wrong)
    alg, m, rules = _orthogonal_algebra()
    U, V, X, Y, Z, S = (m[n] for n in "UVXYZS")
    T = alg.T
    R = m["W"] if wrong == "unaligned" else V  # the right basis of the last layer
    A = lambda d: V * d * T(V)  # noqa: E731  layers below k
    B = lambda d: U * d * T(R)  # noqa: E731  layer k (and E)
    C = lambda d: U * d * T(U)  # noqa: E731  layers above k
    why = "induction on the number of factors: a product of aligned factors is aligned"
    eqs = [
        ("A A = A  (W_{j:i}, i <= j < k)", A(X) * A(Y), V * X * Y * T(V)),
        ("B A = B  (W_k W_{k-1:i})", B(X) * A(Y), U * X * Y * T(V)),
        ("C B = B  (W_{j:k}, j > k)", C(X) * B(Y), U * X * Y * T(V)),
        ("C C = C  (W_{j:i}, i > k)", C(X) * C(Y), U * X * Y * T(U)),
        ("I = V V^T = U U^T  (empty products)", V * T(V) + U * T(U), sp.Integer(2)),
        ("E = B - Phi = U (X - S) V^T", B(X) - U * S * T(V), U * (X - S) * T(V)),
        ("G_l, l < k: B^T B A^T = A", T(B(X)) * B(Y) * T(A(Z)), V * X * Y * Z * T(V)),
        ("G_k: C^T B A^T = B", T(C(X)) * B(Y) * T(A(Z)), U * X * Y * Z * T(V)),
        ("G_l, l > k: C^T B B^T = C", T(C(X)) * B(Y) * T(B(Z)), U * X * Y * Z * T(U)),
    ]
    return [_nf_proof(alg, rules, n, lhs, rhs, [why]) for n, lhs, rhs in eqs]


# ---------------------------------------------------------------------------
# 2. diagonal layer: the gradients' diagonals, symbolic L, k, l
# ---------------------------------------------------------------------------

a, b, c, e, sigma, eta, alpha = sp.symbols("a b c e sigma eta alpha", positive=True)
Ls, ks, ls = sp.symbols("L k l", integer=True, positive=True)


def diagonal_proofs(wrong: str | None = None) -> list[Proof]:
    """The diagonal of ``G_l`` in each group, for symbolic ``L, k, l``: the
    product of the factors' diagonals equals ``g_a``, ``g_b``, ``g_c`` (no
    ``l`` left), and ``e`` is the diagonal of ``E``.

    Factors (from :func:`closure_proofs`): below ``k``,
    ``W_{L:l+1} -> c^(L-k) b a^(k-1-l)``, ``W_{l-1:1} -> a^(l-1)``; at ``k``,
    ``W_{L:k+1} -> c^(L-k)``, ``W_{k-1:1} -> a^(k-1)``; above ``k``,
    ``W_{L:l+1} -> c^(L-l)``, ``W_{l-1:1} -> c^(l-1-k) b a^(k-1)``.
    """
    _check(wrong)
    p, q = ks - 1, Ls - ks
    right = a**ls if wrong == "exponent" else a ** (ls - 1)
    step = "diagonal matrices commute and are symmetric; exponents combine (powsimp)"
    return [
        _scalar_proof(
            "diag E = c^q b a^p - sigma",
            c ** (Ls - ks) * b * a ** (ks - 1) - sigma,
            c**q * b * a**p - sigma,
            "commuting scalars",
            [step],
        ),
        _scalar_proof(
            "diag G_l (l < k) = g_a = c^q b e a^(p-1), for every l",
            c ** (Ls - ks) * b * a ** (ks - 1 - ls) * e * right,
            c**q * b * e * a ** (p - 1),
            "commuting scalars, symbolic L, k, l",
            [step],
        ),
        _scalar_proof(
            "diag G_k = g_b = c^q e a^p",
            c ** (Ls - ks) * e * a ** (ks - 1),
            c**q * e * a**p,
            "commuting scalars, symbolic L, k",
            [step],
        ),
        _scalar_proof(
            "diag G_l (l > k) = g_c = c^(q-1) b e a^p, for every l",
            c ** (Ls - ls) * e * c ** (ls - 1 - ks) * b * a ** (ks - 1),
            c ** (q - 1) * b * e * a**p,
            "commuting scalars, symbolic L, k, l",
            [step],
        ),
    ]


# ---------------------------------------------------------------------------
# per-mode facts (flow invariants, GD drift, flow rate, GD factorisation)
# ---------------------------------------------------------------------------

ps, qs = sp.symbols("p q", integer=True, nonnegative=True)


def _grads(p: Any, q: Any) -> tuple[Any, Any, Any, Any]:
    ee = c**q * b * a**p - sigma
    return ee, c**q * b * ee * a ** (p - 1), c**q * ee * a**p, c ** (q - 1) * b * ee * a**p


def mode_fact_proofs() -> list[Proof]:
    """Per-mode identities (symbolic ``p``, ``q``, ``L``): flow invariants, the
    GD drift of ``D = a^2 - b^2``, and the GD step ``e' = e (1 - eta K)``."""
    _e, ga, gb, gc = _grads(ps, qs)
    out = [
        _scalar_proof(
            "flow: d/dt (b^2 - a^2) = 0",
            2 * b * (-gb) - 2 * a * (-ga),
            0,
            "commuting scalars, symbolic p, q",
            ["D_{k-1} = W_k^T W_k - W_{k-1} W_{k-1}^T = V (b^2 - a^2) V^T"],
        ),
        _scalar_proof(
            "flow: d/dt (c^2 - b^2) = 0",
            2 * c * (-gc) - 2 * b * (-gb),
            0,
            "commuting scalars, symbolic p, q",
            ["D_k = U (c^2 - b^2) U^T"],
        ),
    ]
    E = sp.Symbol("E")  # e as an independent symbol
    a1 = a - eta * c**qs * b * E * a ** (ps - 1)
    b1 = b - eta * c**qs * E * a**ps
    out.append(
        _scalar_proof(
            "GD: D' = D (1 - eta^2 c^(2q) e^2 a^(2p-2)), D = a^2 - b^2",
            a1**2 - b1**2,
            (a**2 - b**2) * (1 - eta**2 * c ** (2 * qs) * E**2 * a ** (2 * ps - 2)),
            "commuting scalars, symbolic p, q",
            ["first-order terms cancel (zas.drift, per mode)"],
        )
    )
    out += _factorisation_proofs()
    return out


def _factorisation_proofs() -> list[Proof]:
    """``e' = e (1 - eta K)`` for ZAS (``p = L - 1``, ``q = 0``), symbolic ``L``,
    with ``Y = (1 - x)^(L-1)`` opaque and ``S = (1 - Y) / x``; and ``S`` is the
    geometric sum ``sum_{i < n} (1 - x)^i``."""
    E, Y, x, n, i = sp.symbols("E Y x n i")
    xx = eta * E * b * a ** (Ls - 3)
    b1 = b - eta * E * a ** (Ls - 1)
    e1 = b1 * a ** (Ls - 1) * Y - (b * a ** (Ls - 1) - E)  # a' = a (1 - x): a'^(L-1) = a^(L-1) Y
    K = b**2 * a ** (2 * Ls - 4) * (1 - Y) / xx + a ** (2 * Ls - 2) * Y
    geo = sp.summation((1 - x) ** i, (i, 0, n - 1))
    geo = geo.args[-1][0] if isinstance(geo, sp.Piecewise) else geo
    return [
        _scalar_proof(
            "GD (ZAS): a' = a (1 - x), x = eta e b a^(L-3)",
            a - eta * b * E * a ** (Ls - 2),
            a * (1 - xx),
            "commuting scalars, symbolic L",
            [],
        ),
        _scalar_proof(
            "GD (ZAS): e' = e (1 - eta K), K = b^2 a^(2L-4) S + a^(2L-2) (1-x)^(L-1)",
            e1,
            E * (1 - eta * K),
            "commuting scalars, symbolic L, (1-x)^(L-1) opaque",
            ["S = (1 - (1-x)^(L-1)) / x"],
        ),
        _scalar_proof(
            "S_n(x) = sum_{i<n} (1-x)^i = (1 - (1-x)^n) / x  (x != 0)",
            geo,
            (1 - (1 - x) ** n) / x,
            "sympy summation",
            [],
        ),
    ]


def rate_proofs(alpha_sq: Any = 1) -> list[Proof]:
    """Gradient flow from ``W_l = alpha I`` (``l < L``), ``W_L = 0`` (ZAS when
    ``alpha = 1``), ``L >= 2``, per mode: ``de/dt = -k e`` with
    ``k = (alpha^2 + b^2)^(L-2) (alpha^2 + L b^2)``, and ``k >= alpha^(2(L-1))``
    by an induction on ``m = L - 2`` (``(A + s)^m >= A^m`` for ``A, s >= 0``).
    ``alpha_sq`` may be a number (then ``k >= 1`` is decided for it)."""
    A = sp.nsimplify(alpha_sq) if alpha_sq != "symbolic" else alpha**2
    bt = -(b * a ** (Ls - 1) - sigma) * a ** (Ls - 1)  # db/dt = -g_b
    at = -b * (b * a ** (Ls - 1) - sigma) * a ** (Ls - 2)  # da/dt = -g_a
    de = sp.diff(b * a ** (Ls - 1), b) * bt + sp.diff(b * a ** (Ls - 1), a) * at
    k_here = sp.powsimp(sp.expand(-de / (b * a ** (Ls - 1) - sigma)))
    s, H = sp.symbols("s H", nonnegative=True)
    m = sp.Symbol("m", integer=True, nonnegative=True)
    k_of_s = (A + s) ** m * (A + (m + 2) * s)
    step_lhs = (A + s) ** (m + 1) - A ** (m + 1)
    step_rhs = (A + s) * ((A + s) ** m - A**m) + s * A**m
    out = [
        _scalar_proof(
            "flow (alpha-ZAS): de/dt = -k e, k = a^(2L-4) (a^2 + (L-1) b^2)",
            k_here,
            a ** (2 * Ls - 4) * (a**2 + (Ls - 1) * b**2),
            "chain rule, symbolic L",
            [],
        ),
        _scalar_proof(
            "k at a^2 = alpha^2 + b^2:  k = (alpha^2 + b^2)^(L-2) (alpha^2 + L b^2)",
            (a ** (2 * Ls - 4) * (a**2 + (Ls - 1) * b**2)).subs(a, sp.sqrt(A + b**2)),
            (A + b**2) ** (Ls - 2) * (A + Ls * b**2),
            "substitution of the flow invariant b^2 - a^2 = -alpha^2",
            [],
        ),
        _scalar_proof(
            "induction step: (A+s)^(m+1) - A^(m+1) = (A+s)((A+s)^m - A^m) + s A^m",
            step_lhs,
            step_rhs,
            "commuting scalars, symbolic m",
            [],
        ),
    ]
    out.append(
        _scalar_proof(
            "k - alpha^(2(L-1)) = H (A + L s) + A^m L s, H = (A+s)^m - A^m",
            k_of_s - A ** (m + 1),
            ((A + s) ** m - A**m) * (A + (m + 2) * s) + A**m * (m + 2) * s,
            "commuting scalars, symbolic m = L - 2",
            ["s = b^2"],
        )
    )
    out.append(
        _nonneg_proof(
            "induction: (A+s)^m - A^m >= 0 (base m = 0: 0; step: H >= 0 => (A+s) H + s A^m >= 0)",
            (A + s) * H + s * A**m,
            [f"A = alpha^2 = {A}", "s = b^2 >= 0, H = (A+s)^m - A^m >= 0"],
        )
    )
    kmin = A ** (m + 1)
    out.append(
        _nonneg_proof(
            "k - alpha^(2(L-1)) = H (A + L s) + A^m L s >= 0",
            H * (A + (m + 2) * s) + A**m * (m + 2) * s,
            ["m = L - 2 >= 0"],
        )
    )
    out.append(_nonneg_proof("alpha^(2(L-1)) >= 1, hence k >= 1", kmin - 1, [f"A = {A}"]))
    return out


def rate_comparison_proof(A: Any, base: Any) -> Proof:
    """``A^(L-1) >= base^(L-1)`` for every ``L >= 1`` (``m = L - 2 >= -1``), decided by
    sympy's assumptions: with ``k >= A^(L-1)`` (:func:`rate_proofs`) it gives
    the claimed rate ``base^(L-1)``.  Closes when ``A - base`` simplifies to
    0 (the claimed rate is the init's own) or is shown nonnegative with ``A``,
    ``base`` numbers (then ``A^n >= base^n`` for every ``n >= 0`` because
    ``A >= base > 0``); a negative control whose init lowers ``A`` below the
    claimed base does not close."""
    A, base = sp.nsimplify(A), sp.nsimplify(base)
    diff = sp.simplify(A - base)
    ok = diff == 0 or (
        bool(diff.is_number) and bool(diff >= 0) and bool(sp.simplify(base).is_positive)
    )
    return Proof(
        name="A^(L-1) >= claimed rate base^(L-1) (A = a^2 - b^2 of the mode)",
        lhs=A,
        rhs=base,
        residual={} if ok else {("A < base",): diff},
        route="sympy: A - base = 0, or A >= base > 0 as numbers",
        scope=_EVERY,
        steps=[f"A = {A}", f"base = {base}"],
    )


def any_layer_rate_proof() -> Proof:
    """Zero at layer ``k`` (others ``I``): the flow keeps ``b^2 - a^2 = -1`` and
    ``c^2 - b^2 = 1``, so ``c = a`` (both start at 1 and stay positive), and then
    ``de/dt = -k e`` with the same ``k = a^(2L-4) (a^2 + (L-1) b^2)`` as ZAS
    (``p + q = L - 1``): the mode's error follows the same curve for every
    ``k``."""
    ee, ga, gb, gc = _grads(ps, qs)
    de = sp.diff(ee, c) * (-gc) + sp.diff(ee, b) * (-gb) + sp.diff(ee, a) * (-ga)
    lhs = (de / ee).subs(c, a).subs(qs, Ls - 1 - ps)
    return _scalar_proof(
        "zero at layer k, c = a: de/dt = -a^(2L-4) (a^2 + (L-1) b^2) e",
        lhs,
        -(a ** (2 * Ls - 4)) * (a**2 + (Ls - 1) * b**2),
        "chain rule, symbolic p and L = p + q + 1",
        [],
    )


def tightness_proofs() -> list[Proof]:
    """``L = 1``: the mode's flow is ``b' = sigma - b``, ``e = b - sigma``; its
    solution from ``b = 0`` is ``e(t) = -sigma exp(-t)`` (checked: it solves
    ``e' = -e`` with ``e(0) = -sigma``; unique by Picard-Lindelof), so
    ``R(t) = exp(-2t) R(0)`` exactly.  ``L >= 2`` (ZAS): ``k - 1 - L b^2 >= 0``,
    so ``k > 1`` whenever ``b != 0`` and the inequality is strict for ``t > 0``
    when ``Phi != 0``."""
    t = sp.Symbol("t", nonnegative=True)
    s, H = sp.symbols("s H", nonnegative=True)
    m = sp.Symbol("m", integer=True, nonnegative=True)
    sol = -sigma * sp.exp(-t)
    k1 = (1 + s) ** m * (1 + (m + 2) * s)
    return [
        _scalar_proof(
            "L = 1: e(t) = -sigma exp(-t) solves e' = -e",
            sp.diff(sol, t),
            -sol,
            "sympy differentiation",
            ["e(0) = -sigma: the initial value"],
        ),
        _scalar_proof(
            "L = 1: e(t)^2 = exp(-2t) sigma^2 (equality for all t)",
            sol**2,
            sp.exp(-2 * t) * sigma**2,
            "commuting scalars",
            [],
        ),
        _scalar_proof(
            "L >= 2: k - 1 - L s = H (1 + L s), H = (1+s)^m - 1",
            k1 - 1 - (m + 2) * s,
            ((1 + s) ** m - 1) * (1 + (m + 2) * s),
            "commuting scalars, m = L - 2",
            [],
        ),
        _nonneg_proof(
            "L >= 2: H (1 + L s) >= 0, so k >= 1 + L b^2 > 1 when b != 0",
            H * (1 + (m + 2) * s),
            ["H >= 0 by the induction of rate_proofs (A = 1)"],
        ),
    ]


def frobenius_proof() -> Proof:
    """``||U X V^T||_F^2 = tr(X X)``: the loss is the sum of the modes' ``e_i^2``.
    ``tr(V X U^T U X V^T) -> tr(V X X V^T) -> tr(V^T V X X) -> tr(X X)``
    (rewrite, rotate, rewrite)."""
    alg, m, rules = _orthogonal_algebra()
    U, V, X = m["U"], m["V"], m["X"]
    T = alg.T
    first = alg.rewrite(T(U * X * T(V)) * (U * X * T(V)), rules)
    rotated = {w[-1:] + w[:-1]: k for w, k in first.items()}  # tr(w) = tr(last letter first)
    nf = alg.rewrite(alg.from_terms(rotated), rules)
    res = alg.terms(alg.from_terms(nf) - X * X)
    return Proof(
        name="||U X V^T||_F^2 = tr(X^2): R = 1/2 sum_i e_i^2",
        lhs=T(U * X * T(V)) * U * X * T(V),
        rhs=X * X,
        residual=res,
        route="free algebra: rewrite, cyclic rotation, rewrite",
        scope=_EVERY,
        steps=["tr(M) = tr of a cyclic rotation of M"],
    )


def _nonneg_proof(name: str, expr: Any, steps: list[str]) -> Proof:
    """A nonnegativity decided by sympy's assumptions (``is_nonnegative``)."""
    ok = sp.simplify(expr).is_nonnegative
    return Proof(
        name=name,
        lhs=expr,
        rhs=sp.Integer(0),
        residual={} if ok else {("not shown >= 0",): expr},
        route="sympy assumptions (nonnegative symbols)",
        scope=_EVERY,
        steps=steps,
    )


# ---------------------------------------------------------------------------
# Remark (1): the rectangular embedding reduces to the square core
# ---------------------------------------------------------------------------


def rectangular_proofs() -> list[Proof]:
    """Hidden layers ``W_l = J_l A_l J_{l-1}^T`` with isometries ``J_l``
    (``J_l^T J_l = 1``, ``J_0 = 1``; ``[[I],[0]]`` embeds the ``d_x`` core)
    and ``W_L = C J_{L-1}^T``: products telescope to the core's products and
    every ``G_l`` is ``J_l (core gradient) J_{l-1}^T``, so GD keeps the
    embedding and runs the square core network (every L by induction)."""
    alg = Algebra()
    J1, J2, J3, A1, A2, A3, C, E = (
        alg.letter(n) for n in ("J1", "J2", "J3", "A1", "A2", "A3", "C", "E")
    )
    T = alg.T
    rules = [(T(J) * J, sp.Integer(1)) for J in (J1, J2, J3)]
    why = ["induction on the number of factors"]
    eqs = [
        ("W_{2:1}: (J2 A2 J1^T)(J1 A1) = J2 A2 A1", J2 * A2 * T(J1) * J1 * A1, J2 * A2 * A1),
        ("W_{L:l}: (C J3^T)(J3 A3 J2^T) = C A3 J2^T", C * T(J3) * J3 * A3 * T(J2), C * A3 * T(J2)),
        (
            "G_l = (C J_l^T)^T E (J_{l-1} A)^T = J_l (C^T E A^T) J_{l-1}^T",
            T(C * T(J2)) * E * T(J1 * A1),
            J2 * T(C) * E * T(A1) * T(J1),
        ),
    ]
    return [
        Proof(
            name=n,
            lhs=lhs,
            rhs=rhs,
            residual=alg.rewrite(lhs - rhs, rules),
            route="free algebra, rewriting modulo J_l^T J_l = 1",
            scope=_EVERY,
            steps=why,
        )
        for n, lhs, rhs in eqs
    ]


def spectral_proofs(wrong: str | None = None) -> list[Proof]:
    """The proof set of ``zas.spectral``: matrix closure, diagonals, per-mode
    facts, the rectangular embedding, and the flow rate from ZAS."""
    return [
        *closure_proofs(wrong),
        *diagonal_proofs(wrong),
        frobenius_proof(),
        *mode_fact_proofs(),
        *rectangular_proofs(),
    ]


def _check(wrong: str | None) -> None:
    if wrong is not None and wrong not in WRONG:
        raise InputError(f"unknown wrong variant {wrong!r}; choose one of {', '.join(WRONG)}")
