"""Deriving ``dR/dW_l`` (paper eq. 2.5) with sympy, and checking it by three more routes.

Route 1, *first variation in the free algebra* (every ``L``, every ``d``):
    split the product around layer ``l`` as ``P = A X F`` with ``A = W_{L:l+1}``,
    ``X = W_l``, ``F = W_{l-1:1}`` (non-commuting letters, ``A = 1`` or ``F = 1``
    at the ends), put ``X -> X + tH`` in ``R = 1/2 tr(E E^T)``, keep the
    coefficient of ``t`` and rotate every trace monomial to the form
    ``tr(G H^T)``.  Then ``dR[H] = <G, H>_F`` for every ``H``, so ``G = dR/dX``.
Route 2, *sympy's matrix calculus* (``MatrixSymbol.diff``) for explicit ``L``:
    known to return 0 silently for some sums of traces (sympy issues 27406,
    23492, 30527); its answer is only ever compared, never trusted.
Route 3, *entry by entry* on explicit symbolic ``d x d`` matrices: ``diff`` of
    the scalar polynomial ``R`` by each entry against the formula's entry.
Route 4, *central differences* in mpmath against the lambdified formula.

The wrong formulas used as negative controls live in :func:`claimed_gradient`
so that every route rejects the same ones.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sympy as sp

from zascheck.errors import InputError
from zascheck.symbolic.ncalg import Algebra, Terms

__all__ = [
    "WRONG_GRADIENT",
    "audit_gradient_route",
    "claimed_gradient",
    "derive_gradient_abstract",
    "derive_gradient_explicit",
    "entrywise_residual",
    "evaluate_words",
    "finite_difference",
    "first_variation",
    "from_matexpr",
    "gradient_exprs",
    "lambdify_gradients",
    "layer_letters",
    "matrixsymbol_gradient",
    "prod",
]

#: Wrong versions of eq. (2.5), the negative controls of every route.
WRONG_GRADIENT = {
    "transpose": "G^T in place of G: W_{l-1:1} E^T W_{L:l+1}",
    "factor": "the factor W_{l-1:1}^T dropped: W_{L:l+1}^T E",
    "scale": "the 1/2 of R forgotten: 2 W_{L:l+1}^T E W_{l-1:1}^T",
}


def claimed_gradient(
    A: Any, E: Any, F: Any, T: Callable[[Any], Any], wrong: str | None = None
) -> Any:
    """Eq. (2.5), ``A^T E F^T``, or one of the :data:`WRONG_GRADIENT` variants.

    Works for any objects with ``*`` as the matrix product and ``T`` as
    transpose (free-algebra letters, sympy matrices, mpmath matrices).
    """
    g = T(A) * E * T(F)
    if wrong is None:
        return g
    if wrong == "transpose":
        return T(g)
    if wrong == "factor":
        return T(A) * E
    if wrong == "scale":
        return 2 * g
    raise InputError(f"unknown wrong gradient {wrong!r}; choose one of {', '.join(WRONG_GRADIENT)}")


def prod(factors: Sequence[Any], one: Any = 1) -> Any:
    """Product of factors in the given order (``one`` when empty)."""
    out = one
    for f in factors:
        out = out * f
    return out


def layer_letters(alg: Algebra, L: int) -> list[Any]:
    """Letters ``W_1..W_L`` (index 0 is ``W_1``)."""
    return [alg.letter(f"W_{i}") for i in range(1, L + 1)]


def span(ws: Sequence[Any], hi: int, lo: int, one: Any = 1) -> Any:
    """``W_{hi:lo} = W_hi ... W_lo`` (1-based, ``one`` when ``hi < lo``)."""
    return prod([ws[i - 1] for i in range(hi, lo - 1, -1)], one)


def first_variation(alg: Algebra, expr: Any, x: str, direction: Any, t: sp.Symbol) -> Any:
    """Coefficient of ``t`` in ``expr`` after ``x -> x + t direction`` (and ``x^T`` likewise)."""
    xs, xt = alg.letter(x), alg.letter(alg.tname(x))
    moved = sp.sympify(expr).xreplace({xs: xs + t * direction, xt: xt + t * alg.T(direction)})
    lin: Terms = {}
    for w, k in alg.terms(moved).items():
        c = sp.expand(k).coeff(t, 1)
        if c != 0:
            lin[w] = c
    return alg.from_terms(lin)


def derive_gradient_abstract() -> dict[str, Any]:
    """Route 1 at an abstract layer: every depth and width at once.

    Returns the letters, ``E``, the first variation and the derived ``G``.
    """
    alg = Algebra()
    A, X, F, Phi, H = alg.letters("A X F Phi H")
    t = sp.Symbol("t")
    E = A * X * F - Phi
    half_EEt = sp.Rational(1, 2) * E * alg.T(E)
    var = first_variation(alg, half_EEt, "X", H, t)
    G = alg.trace_gradient(var, "H")
    return {
        "alg": alg,
        "A": A,
        "X": X,
        "F": F,
        "Phi": Phi,
        "H": H,
        "E": E,
        "R_arg": half_EEt,
        "variation": var,
        "G": G,
    }


def derive_gradient_explicit(L: int) -> dict[str, Any]:
    """Route 1 for an explicit depth ``L``: ``G_l`` for every ``l`` from the letters ``W_l``."""
    if L < 1:
        raise InputError(f"depth L = {L}: the network needs L >= 1 layers")
    alg = Algebra()
    ws = layer_letters(alg, L)
    Phi, H = alg.letters("Phi H")
    t = sp.Symbol("t")
    E = span(ws, L, 1) - Phi
    half_EEt = sp.Rational(1, 2) * E * alg.T(E)
    G = [
        alg.trace_gradient(first_variation(alg, half_EEt, f"W_{l}", H, t), "H")
        for l in range(1, L + 1)
    ]
    return {"alg": alg, "ws": ws, "Phi": Phi, "E": E, "G": G}


def gradient_exprs(L: int, wrong: str | None = None) -> tuple[Algebra, list[Any], list[Any]]:
    """Free-algebra ``G_l``, ``l = 1..L``: the derived ones, or a wrong formula."""
    der = derive_gradient_explicit(L)
    alg, ws = der["alg"], der["ws"]
    if wrong is None:
        return alg, ws, der["G"]
    gs = [
        claimed_gradient(span(ws, L, l + 1), der["E"], span(ws, l - 1, 1), alg.T, wrong)
        for l in range(1, L + 1)
    ]
    return alg, ws, gs


# -- route 2: sympy's MatrixSymbol.diff ---------------------------------------------------


def from_matexpr(alg: Algebra, expr: Any) -> Any:
    """Convert a sympy matrix expression to a free-algebra polynomial.

    Anything unrecognised raises ``TypeError``: a route must never pass by
    silently dropping a term.
    """
    from sympy.matrices.expressions import (
        Identity,
        MatAdd,
        MatMul,
        MatrixSymbol,
        Transpose,
        ZeroMatrix,
    )

    if isinstance(expr, MatrixSymbol):
        return alg.letter(str(expr.name))
    if isinstance(expr, Transpose):
        return alg.T(from_matexpr(alg, expr.arg))
    if isinstance(expr, MatMul):
        return sp.Mul(*[from_matexpr(alg, a) for a in expr.args])
    if isinstance(expr, MatAdd):
        return sp.Add(*[from_matexpr(alg, a) for a in expr.args])
    if isinstance(expr, ZeroMatrix):
        return sp.Integer(0)
    if isinstance(expr, Identity):
        return sp.Integer(1)
    if isinstance(expr, sp.Expr) and expr.is_commutative and not getattr(expr, "is_Matrix", False):
        if expr.free_symbols and not all(s.is_commutative for s in expr.free_symbols):
            raise TypeError(f"cannot convert {expr!r}")
        return expr
    raise TypeError(f"cannot convert {type(expr).__name__}: {expr!r}")


def matrixsymbol_gradient(L: int, l: int, form: str = "single-trace") -> Any:
    """sympy's own ``diff`` of ``R`` by ``W_l`` (symbolic size ``d``), as a free-algebra polynomial.

    ``form``: ``"single-trace"`` is ``R = 1/2 Tr(E E^T)``; ``"sum-of-traces"``
    is ``R = 1/2 (Tr(P P^T) - 2 Tr(P Phi^T) + Tr(Phi Phi^T))``, the same
    function written as a sum of traces, for which sympy 1.14 returns 0.
    """
    d = sp.Symbol("d", integer=True, positive=True)
    ws = [sp.MatrixSymbol(f"W_{i}", d, d) for i in range(1, L + 1)]
    phi = sp.MatrixSymbol("Phi", d, d)
    P = sp.MatMul(*reversed(ws)) if L > 1 else ws[0]
    if form == "single-trace":
        E = P - phi
        R = sp.Trace(E * E.T) / 2
    elif form == "sum-of-traces":
        R = (sp.Trace(P * P.T) - 2 * sp.Trace(P * phi.T) + sp.Trace(phi * phi.T)) / 2
    else:
        raise InputError(f"unknown form {form!r}; use 'single-trace' or 'sum-of-traces'")
    alg = Algebra()
    layer_letters(alg, L)
    alg.letter("Phi")
    return alg, from_matexpr(alg, R.diff(ws[l - 1]))


# -- route 3: entry by entry ---------------------------------------------------------------


def _entry_matrices(L: int, d: int) -> tuple[list[sp.Matrix], sp.Matrix]:
    ws = [sp.Matrix(d, d, lambda i, j, k=k: sp.Symbol(f"w{k}_{i}{j}")) for k in range(1, L + 1)]
    phi = sp.Matrix(d, d, lambda i, j: sp.Symbol(f"p_{i}{j}"))
    return ws, phi


def entrywise_residual(L: int, d: int, wrong: str | None = None) -> dict[str, Any]:
    """Route 3: ``diff(R, (W_l)_ij)`` against the formula's ``(i, j)`` entry, all ``l, i, j``.

    Also returns the largest degree of ``E`` in any single weight entry (1:
    ``P`` is affine in each entry, so ``R`` is quadratic in it, which makes
    central differences exact up to rounding).
    """
    ws, phi = _entry_matrices(L, d)
    eye = sp.eye(d)
    E = span(ws, L, 1, eye) - phi
    R = sum(E[i, j] ** 2 for i in range(d) for j in range(d)) / 2
    nonzero = 0
    worst: list[str] = []
    for l in range(1, L + 1):
        G = claimed_gradient(
            span(ws, L, l + 1, eye), E, span(ws, l - 1, 1, eye), lambda m: m.T, wrong
        )
        for i in range(d):
            for j in range(d):
                r = sp.expand(sp.diff(R, ws[l - 1][i, j]) - G[i, j])
                if r != 0:
                    nonzero += 1
                    if len(worst) < 3:
                        worst.append(f"l={l} ({i},{j}): {len(sp.Add.make_args(r))} terms")
    deg = max(
        sp.degree(E[i, j], ws[l][a, b])
        for l in range(L)
        for a in range(d)
        for b in range(d)
        for i in range(d)
        for j in range(d)
    )
    return {
        "nonzero_entries": nonzero,
        "entries": L * d * d,
        "examples": worst,
        "max_degree_E": int(deg),
    }


def evaluate_words(alg: Algebra, expr: Any, mats: dict[str, sp.Matrix]) -> sp.Matrix:
    """A free-algebra polynomial evaluated at explicit sympy matrices.

    ``mats`` maps each letter name (``W_1``, ``Phi``) to a square matrix; the
    letter ``X^T`` is evaluated as ``mats[X].T``.  The constant word is the
    identity.  Raises ``KeyError`` for a letter without a matrix.
    """
    size = next(iter(mats.values())).shape[0]
    out = sp.zeros(size, size)
    for word, k in alg.terms(expr).items():
        m = sp.eye(size)
        for name in word:
            m = m * (mats[name[:-2]].T if name.endswith("^T") else mats[name])
        out += k * m
    return out


def audit_gradient_route(
    L: int, l: int, candidate: Any, alg: Algebra, d: int = 2
) -> dict[str, Any]:
    """Judge a route's ``dR/dW_l`` (a free-algebra polynomial) by an elementary arbiter.

    The arbiter is route 3: on explicit ``d x d`` matrices of symbols, the
    partial derivatives of the scalar polynomial ``R`` by each entry of
    ``W_l`` (sympy ``diff`` of a polynomial, no matrix calculus).  A route
    whose polynomial, evaluated at those matrices, differs from the arbiter
    is unsound for every ``d`` it claims (an identity in symbolic ``d`` must
    hold at ``d = 2``).

    Returns ``agrees``, ``mismatched_entries`` (of ``d^2``), ``route_is_zero``
    (the route's polynomial is 0) and ``loss_depends`` (``R`` is not constant
    in ``W_l``: some arbiter entry is a nonzero polynomial).
    """
    ws, phi = _entry_matrices(L, d)
    mats = {f"W_{i}": w for i, w in enumerate(ws, start=1)} | {"Phi": phi}
    E = span(ws, L, 1, sp.eye(d)) - phi
    R = sum(E[i, j] ** 2 for i in range(d) for j in range(d)) / 2
    arbiter = sp.Matrix(d, d, lambda i, j: sp.expand(sp.diff(R, ws[l - 1][i, j])))
    got = evaluate_words(alg, candidate, mats)
    bad = sum(1 for i in range(d) for j in range(d) if sp.expand(got[i, j] - arbiter[i, j]) != 0)
    return {
        "agrees": bad == 0,
        "mismatched_entries": bad,
        "entries": d * d,
        "d": d,
        "route_is_zero": not alg.terms(candidate),
        "loss_depends": any(v != 0 for v in arbiter),
    }


# -- bridge to numerics ----------------------------------------------------------------------


def to_matexpr(alg: Algebra, expr: Any, dims: dict[str, tuple[Any, Any]]) -> Any:
    """Free-algebra polynomial to a sympy matrix expression (letters -> MatrixSymbols)."""
    syms: dict[str, Any] = {}

    def mat(name: str) -> Any:
        base = name[:-2] if name.endswith("^T") else name
        if base not in syms:
            r, c = dims[base]
            syms[base] = sp.MatrixSymbol(base, r, c)
        return syms[base].T if name.endswith("^T") else syms[base]

    terms = alg.terms(expr)
    out = []
    for w, k in terms.items():
        if not w:
            raise InputError("a constant term has no shape; not supported here")
        out.append(k * sp.MatMul(*[mat(n) for n in w]) if len(w) > 1 else k * mat(w[0]))
    return sp.MatAdd(*out) if len(out) > 1 else out[0]


def lambdify_gradients(
    L: int, d: int, module: str, wrong: str | None = None
) -> Callable[..., list[Any]]:
    """``f(W_1, ..., W_L, Phi) -> [G_1, ..., G_L]``: the derived formula through ``sympy.lambdify``.

    ``module`` is ``"numpy"`` or ``"mpmath"`` (then the arguments are mpmath
    matrices, whose ``*`` is the matrix product and which carry their own
    context, so the working precision is the caller's).
    """
    if module not in ("numpy", "mpmath"):
        raise InputError(f"module {module!r}: use 'numpy' or 'mpmath'")
    alg, _, gs = gradient_exprs(L, wrong)
    dims = {f"W_{i}": (d, d) for i in range(1, L + 1)} | {"Phi": (d, d)}
    mexprs = [to_matexpr(alg, g, dims) for g in gs]
    for g in gs:  # integer coefficients only: no float constant of another precision sneaks in
        if any(not sp.sympify(k).is_Integer for k in alg.terms(g).values()):
            raise InputError("the gradient has a non-integer coefficient; lambdify would round it")
    args = [sp.MatrixSymbol(f"W_{i}", d, d) for i in range(1, L + 1)]
    args.append(sp.MatrixSymbol("Phi", d, d))
    fns = [sp.lambdify(args, m, modules=module) for m in mexprs]

    def grads(*mats: Any) -> list[Any]:
        return [f(*mats) for f in fns]

    return grads


# -- route 4: central differences in mpmath --------------------------------------------------


def finite_difference(
    L: int,
    d: int,
    prec: int,
    seed: int,
    *,
    h_bits: int = 8,
    frac_bits: int = 30,
    wrong: str | None = None,
) -> dict[str, Any]:
    """Route 4: central differences of ``zascheck.model.loss`` at ``prec`` bits vs the formula.

    Inputs are dyadic rationals with ``frac_bits`` fractional bits and the step
    is ``h = 2^-h_bits``, so ``x +- h`` is exact.  ``R`` is quadratic in each
    entry (``max_degree_E = 1`` in route 3), so the central difference has no
    truncation error; the tolerance is rounding only:

    * each loss evaluation: ``gamma(n_R) * ||E_abs||_F^2`` with
      ``E_abs = |W_L|...|W_1| + |Phi|`` (at ``|W_l| + h``) and
      ``n_R = 2((L-1)d + 1) + d^2 + 2``;
    * the difference quotient: ``2 err_R / (2h)`` plus one rounding;
    * the lambdified formula: ``gamma(n_G) * (|A|^T E_abs |F|^T)_ij``,
      ``n_G = 2 (L d + 1)``.

    ``measured`` is ``max |fd - G| / tol`` over all entries (<= 1 to hold).
    """
    from zascheck.arith import MpBackend
    from zascheck.model import Target, loss

    b = MpBackend(prec)
    rng = np.random.default_rng([seed, L, d])
    scale = 2**frac_bits
    q = scale // 4
    ws_np = [np.eye(d) + rng.integers(-q, q + 1, (d, d)) / scale for _ in range(L)]
    phi_np = rng.integers(-scale, scale + 1, (d, d)) / scale
    ws = [b.matrix(w) for w in ws_np]
    target = Target.whitened(b, phi_np)
    h = b.ctx.mpf(2) ** (-h_bits)
    gfun = lambdify_gradients(L, d, "mpmath", wrong)
    G = gfun(*ws, b.matrix(phi_np))

    hf = 2.0**-h_bits
    n_R = 2 * ((L - 1) * d + 1) + d * d + 2
    n_G = 2 * (L * d + 1)
    worst = 0.0
    worst_at: tuple[int, int, int] = (0, 0, 0)
    for l in range(L):
        absw = [np.abs(w) + (hf if k == l else 0.0) for k, w in enumerate(ws_np)]
        Eabs = span(absw, L, 1, np.eye(d)) + np.abs(phi_np)
        err_R = b.gamma(n_R) * float(np.sum(Eabs * Eabs))
        Gabs = span(absw, L, l + 2, np.eye(d)).T @ Eabs @ span(absw, l, 1, np.eye(d)).T
        for i in range(d):
            for j in range(d):
                plus = [b.matrix(w) for w in ws]
                minus = [b.matrix(w) for w in ws]
                plus[l][i, j] += h
                minus[l][i, j] -= h
                fd = (loss(b, plus, target) - loss(b, minus, target)) / (2 * h)
                tol = (
                    2 * err_R / (2 * hf)
                    + b.gamma(n_G) * Gabs[i, j]
                    + b.unit_roundoff * abs(float(fd))
                )
                ratio = float(abs(fd - G[l][i, j])) / tol
                if ratio > worst:
                    worst, worst_at = ratio, (l + 1, i, j)
    return {
        "ratio": float(worst),
        "at": worst_at,
        "prec": prec,
        "h": hf,
        "entries": L * d * d,
        "tol_model": "rounding only (R quadratic per entry)",
    }


def gradient_residual_explicit(L: int, wrong: str | None = None) -> dict[int, Terms]:
    """Route 1 at explicit depth: derived ``G_l`` minus the (possibly wrong) formula, per ``l``."""
    der = derive_gradient_explicit(L)
    alg, ws = der["alg"], der["ws"]
    out: dict[int, Terms] = {}
    for l in range(1, L + 1):
        claimed = claimed_gradient(span(ws, L, l + 1), der["E"], span(ws, l - 1, 1), alg.T, wrong)
        out[l] = alg.terms(der["G"][l - 1] - claimed)
    return out
