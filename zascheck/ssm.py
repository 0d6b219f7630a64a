"""The mathematics of the claims about "Step Size Matters in Deep Learning"
(Nar & Sastry, NeurIPS 2018; arXiv:1805.08890), section C of ``../shared/CLAIMS.md``.

Everything here is a function of its arguments: no card, no verdict.  What the
SSM cards share one floor up (probes, brackets, result builder, input checks)
is :mod:`zascheck.measure.ssm_checks`; the symbolic proofs are
:mod:`zascheck.symbolic.ssm_proofs`.

The deep linear network's loss and gradient are never written again here: the
Hessian is obtained by differentiating :func:`zascheck.model.grads` once more,
in the truncated power-series arithmetic of
:class:`zascheck.dynamics.SeriesBackend` (``W_l + t V_l``: the coefficient of
``t`` in ``G_l`` is ``(H V)_l``), so it runs in float64, mp, ball or exact
arithmetic like the rest of the package.

Conventions: loss ``1/2 ||W_{L:1} - R||_F^2`` (SSM's whitened square loss);
``rho = sigma_max(R)``; ``eta_1 = 2 / (L rho^{2(L-1)/L})`` (SSM Theorem 1 /
Corollary 1) and ``eta_2 = 1 / (L max(1, rho)^{2(L-1)/L})`` (Theorem 2, as
reconstructed in :func:`thm2_eta`); parameters are flattened layer by layer,
each layer row-major (the order of :meth:`Backend.entries`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, model
from zascheck.arith import Backend
from zascheck.dynamics import SeriesBackend
from zascheck.errors import InputError
from zascheck.model import Target

__all__ = [
    "Bracket",
    "ScalarLimit",
    "balanced_line_maps",
    "balanced_minimum",
    "bisect_bracket",
    "cayley",
    "certify_scalar_limit",
    "diag_init_prediction",
    "ex1_grad",
    "ex1_orbit_amplitude",
    "ex1_step",
    "flatten",
    "float_exact_minimum",
    "fro",
    "hessian",
    "hvp",
    "krawczyk_1d",
    "near_balanced",
    "operator_matrix",
    "preimage_of_minimum",
    "random_invertible",
    "random_orthogonal_rational",
    "rational_matrix",
    "rayleigh_bound",
    "relu_forward",
    "relu_gd",
    "relu_loss_grads",
    "relu_sharpness",
    "relu_zero_loss_init",
    "scalar_orbit",
    "scalar_step",
    "symmetric_eigenvalues",
    "thm1_bound",
    "thm1_eta",
    "thm2_eta",
    "top_eigenvalue_exact",
    "unbalance",
]


# ---------------------------------------------------------------------------
# The bounds of Theorem 1 / Corollary 1 and Theorem 2
# ---------------------------------------------------------------------------


def thm1_bound(L: int, rho: float) -> float:
    """Smallest top Hessian eigenvalue over the global minima of
    ``1/2 ||W_{L:1} - R||_F^2``: ``L rho^{2(L-1)/L}`` (SSM Theorem 1).

    ``L >= 1`` layers, ``rho = sigma_max(R) > 0``.  Raises :class:`InputError`
    otherwise.

    >>> thm1_bound(2, 4.0), thm1_bound(2, 9.0)
    (8.0, 18.0)
    """
    if L < 1 or not rho > 0:
        raise InputError(f"need L >= 1 and rho > 0, got L={L}, rho={rho}")
    return L * rho ** (2.0 * (L - 1) / L)


def thm1_eta(L: int, rho: float) -> float:
    """The step-size bound ``eta_1 = 2 / (L rho^{2(L-1)/L})`` of SSM Theorem 1 /
    Corollary 1 (eq. 4 in the reviews' numbering): GD converges to a global
    minimum from a set of initializations of positive measure only if
    ``eta <= eta_1``.

    >>> thm1_eta(1, 3.0), thm1_eta(2, 9.0) == 1 / 9
    (2.0, True)
    """
    return 2.0 / thm1_bound(L, rho)


def thm2_eta(L: int, rho: float) -> float:
    """The step-size threshold ``eta_2 = 1 / (L max(1, rho)^{2(L-1)/L})`` of SSM
    Theorem 2 (*reconstructed*): symmetric positive definite ``R`` with top
    eigenvalue ``rho``, all ``W_l(0) = I``, ``eta <= eta_2``: GD converges to a
    global minimum at a linear rate.

    Reconstruction: review 1 says "the bound in eq 4 is x2 the bound in
    Theorem 2 (in the right case of the max)"; ``eta_1 / 2`` when ``rho >= 1``
    is the right case of ``max(1, rho)``.  It is also what the invariant-interval
    argument of :func:`certify_scalar_limit` needs: for ``lambda >= 1`` the
    scalar map must not overshoot ``lambda^{1/L}`` (``eta L lambda^{2(L-1)/L} <=
    1``), for ``lambda < 1`` not overshoot from ``w = 1`` downwards
    (``eta L <= 1``).

    >>> thm2_eta(2, 4.0), thm2_eta(3, 0.5)
    (0.125, 0.3333333333333333)
    """
    if L < 1 or not rho > 0:
        raise InputError(f"need L >= 1 and rho > 0, got L={L}, rho={rho}")
    return 1.0 / (L * max(1.0, rho) ** (2.0 * (L - 1) / L))


# ---------------------------------------------------------------------------
# Hessian of the deep linear loss (through the model's own gradient)
# ---------------------------------------------------------------------------


def _series_target(sb: SeriesBackend, target: Target) -> Target:
    return Target(Y=sb.const(target.Y), X=None if target.X is None else sb.const(target.X))


def hvp(b: Backend, ws: Sequence[Any], target: Target, vs: Sequence[Any]) -> list[Any]:
    """Hessian-vector product ``H(W) V`` of ``1/2 ||W_{L:1} - R||_F^2``.

    ``ws`` and ``vs``: ``L`` backend matrices of the layers' shapes.  Returns the
    ``L`` layer-shaped blocks of ``H V``: the ``t``-coefficient of
    ``model.grads`` at ``W + t V`` (paper eq. 2.5 differentiated once more).
    """
    sb = SeriesBackend(b)
    nodes = [sb.var(w, v) for w, v in zip(ws, vs, strict=True)]
    g = model.grads(sb, nodes, _series_target(sb, target))
    out = []
    for gl, w in zip(g, ws, strict=True):
        c = sb.coef(gl, 1)
        out.append(b.zeros(*b.shape(w)) if c is None else c)
    return out


def flatten(b: Backend, mats: Sequence[Any]) -> list[Any]:
    """Entries of every layer, layer by layer, row-major (length ``sum_l d_l d_{l-1}``)."""
    return [x for m in mats for x in b.entries(m)]


def hessian(b: Backend, ws: Sequence[Any], target: Target) -> Any:
    """The full ``n x n`` Hessian (``n = sum_l d_l d_{l-1}``) as a backend matrix,
    one Hessian-vector product per column, in the order of :func:`flatten`.
    ``ws`` may be in any form :meth:`Backend.matrix` accepts."""
    ws = [b.matrix(w) for w in ws]
    shapes = [b.shape(w) for w in ws]
    cols: list[list[Any]] = []
    for li, (r, c) in enumerate(shapes):
        for i in range(r):
            for j in range(c):
                vs = [b.zeros(*s) for s in shapes]
                vs[li][i, j] = b.scalar(1)
                cols.append(flatten(b, hvp(b, ws, target, vs)))
    n = len(cols)
    return b.matrix([[cols[k][i] for k in range(n)] for i in range(n)])


def symmetric_eigenvalues(h: Any, flint: Any) -> list[tuple[Any, Any, int]]:
    """Every eigenvalue of an exact symmetric rational matrix (``fmpq_mat``),
    ascending by midpoint: ``(exact fmpq or None, arb ball, multiplicity)``.

    The characteristic polynomial is formed and factored exactly over Q; a
    root of a linear factor is exact, the roots of a higher factor are arb
    enclosures (real parts of ``complex_roots``; the matrix is symmetric, so
    they are real).  Repeated eigenvalues come out once with their
    multiplicity.  Call inside a ball backend's session for its precision.
    """
    _, facs = h.charpoly().factor()
    out: list[tuple[Any, Any, int]] = []
    for f, mult in facs:
        if f.degree() == 1:
            root = -f[0] / f[1]
            out.append((root, flint.arb(root.p) / flint.arb(root.q), int(mult)))
        else:
            out.extend((None, r.real, int(mult)) for r, _ in f.complex_roots())
    return sorted(out, key=lambda e: float(e[1].mid()))


def top_eigenvalue_exact(h: Any, flint: Any) -> tuple[Any, Any]:
    """Largest eigenvalue of an exact symmetric rational matrix (``fmpq_mat``):
    ``(exact fmpq or None, arb ball)`` (see :func:`symmetric_eigenvalues`)."""
    ex, ball, _ = symmetric_eigenvalues(h, flint)[-1]
    return ex, ball


# ---------------------------------------------------------------------------
# Global minima: exact rational factorizations, and exact float64 ones
# ---------------------------------------------------------------------------


def cayley(s: Any, flint: Any) -> Any:
    """Rational orthogonal matrix ``(I - S)(I + S)^{-1}`` from a skew ``S`` (``fmpq_mat``)."""
    n = s.nrows()
    eye = flint.fmpq_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
    return (eye - s) * (eye + s).inv()


def rational_matrix(rng: np.random.Generator, d: int, den: int, span: int, flint: Any) -> Any:
    """Random ``d x d`` matrix with entries ``k / den``, ``|k| <= span`` (``fmpq_mat``)."""
    ks = rng.integers(-span, span + 1, size=(d, d))
    return flint.fmpq_mat(d, d, [flint.fmpq(int(k), den) for k in ks.ravel()])


def random_orthogonal_rational(rng: np.random.Generator, d: int, flint: Any) -> Any:
    """A random rational orthogonal ``d x d`` matrix (Cayley transform of a
    rational skew matrix)."""
    a = rational_matrix(rng, d, 4, 4, flint)
    return cayley(a - a.transpose(), flint)


def random_invertible(rng: np.random.Generator, d: int, flint: Any) -> Any:
    """A random invertible rational ``d x d`` matrix ``c (I + N)`` (``N`` with
    entries ``k/4``, ``|k| <= 2``; ``c = p/q``, ``1 <= p, q <= 4``), for
    :func:`unbalance`."""
    eye = flint.fmpq_mat(d, d, [1 if i == j else 0 for i in range(d) for j in range(d)])
    while True:
        scale = flint.fmpq(int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        g = (eye + rational_matrix(rng, d, 4, 2, flint)) * scale
        if g.det() != 0:
            return g


def balanced_minimum(
    u: Any, sing: Sequence[Any], v: Any, qs: Sequence[Any], flint: Any
) -> tuple[list[Any], Any]:
    """A balanced global minimum for ``R = U diag(s^L) V^T`` (``s`` the list
    ``sing``): ``W_1 = Q_1 S V^T``, ``W_l = Q_l S Q_{l-1}^T``,
    ``W_L = U S Q_{L-1}^T`` with ``S = diag(s)`` and ``L - 1`` orthogonal ``Q_l``.
    Returns ``(ws, R)``, all exact (``fmpq_mat``)."""
    d = len(sing)
    sm = flint.fmpq_mat(d, d, [sing[i] if i == j else 0 for i in range(d) for j in range(d)])
    L = len(qs) + 1
    frames = [v, *qs, u]  # frames[l] is the right frame of W_{l+1} and the left one of W_l
    ws = [frames[k + 1] * sm * frames[k].transpose() for k in range(L)]
    pw = flint.fmpq_mat(d, d, [sing[i] ** L if i == j else 0 for i in range(d) for j in range(d)])
    return ws, u * pw * v.transpose()


def unbalance(ws: Sequence[Any], gs: Sequence[Any]) -> list[Any]:
    """``W_l -> G_l W_l G_{l-1}^{-1}`` (``G_0 = G_L = I``, ``gs`` = ``G_1..G_{L-1}``):
    the same end-to-end matrix, so a minimum stays a minimum.  Raises
    :class:`InputError` unless ``len(gs) == L - 1``."""
    L = len(ws)
    if len(gs) != L - 1:
        raise InputError(f"need L - 1 = {L - 1} invertible matrices, got {len(gs)}")
    out = []
    for k in range(L):
        w = ws[k]
        if k < L - 1:
            w = gs[k] * w
        if k > 0:
            w = w * gs[k - 1].inv()
        out.append(w)
    return out


def float_exact_minimum(phi: np.ndarray, L: int, c: float = 4.0) -> list[np.ndarray]:
    """A global minimum that is exact in float64: ``W_1 = c I``,
    ``W_2 = ... = W_{L-1} = I``, ``W_L = R / c`` (``c`` a power of two, so the
    division and the product are exact and ``W_{L:1} = R`` to the last bit).

    Unbalanced for ``c != rho^{1/L}``: its top Hessian eigenvalue is at least
    ``c^2`` (the term ``l = L`` of the psd-lemma bound), so for large ``c`` it
    is a sharp minimum.  ``L = 1`` gives ``[R]``.  Raises :class:`InputError`
    if ``c`` is not a power of two.
    """
    if math.frexp(c)[0] != 0.5:
        raise InputError(f"c must be a power of two, got {c}")
    phi = np.asarray(phi, dtype=float)
    d_in = phi.shape[1]
    if L == 1:
        return [phi.copy()]
    ws = [c * np.eye(d_in)] + [np.eye(d_in) for _ in range(L - 2)] + [phi / c]
    return ws


def near_balanced(
    phi: np.ndarray, L: int, rng: np.random.Generator, eps: float
) -> list[np.ndarray]:
    """A balanced factorization ``W_l = Q_l Sigma^{1/L} Q_{l-1}^T`` of the square
    target ``phi`` (float64 SVD, random orthogonal ``Q_l``), each layer then
    moved by ``eps N(0, 1)`` entries."""
    u, s, vt = np.linalg.svd(phi)
    d = phi.shape[0]
    qs = [np.linalg.qr(rng.standard_normal((d, d)))[0] for _ in range(L - 1)]
    frames = [vt.T, *qs, u]
    sr = np.diag(s ** (1.0 / L))
    ws = [frames[k + 1] @ sr @ frames[k].T for k in range(L)]
    return [w + eps * rng.standard_normal((d, d)) for w in ws]


# ---------------------------------------------------------------------------
# The appendix lemma: X -> sum_i A_i X B_i
# ---------------------------------------------------------------------------


def operator_matrix(b: Backend, As: Sequence[Any], Bs: Sequence[Any]) -> Any:
    """Matrix of ``X -> sum_i A_i X B_i`` (``A_i`` ``m x m``, ``B_i`` ``n x n``) on
    row-major ``vec(X)``: entry ``[(i,j),(k,q)] = sum_s A_s[i,k] B_s[q,j]``, i.e.
    ``sum_s A_s kron B_s^T`` (``mn x mn``)."""
    m, _ = b.shape(As[0])
    n, _ = b.shape(Bs[0])
    rows = []
    for i in range(m):
        for j in range(n):
            row = []
            for k in range(m):
                for q in range(n):
                    acc = b.scalar(0)
                    for a, bb in zip(As, Bs, strict=True):
                        acc = acc + a[i, k] * bb[q, j]
                    row.append(acc)
            rows.append(row)
    return b.matrix(rows)


def _quad(b: Backend, a: Any, u: Sequence[Any]) -> Any:
    n = len(u)
    acc = b.scalar(0)
    for i in range(n):
        for j in range(n):
            acc = acc + u[i] * a[i, j] * u[j]
    return acc


def rayleigh_bound(
    b: Backend, As: Sequence[Any], Bs: Sequence[Any], u: Sequence[Any], v: Sequence[Any]
) -> Any:
    """``sum_i (u^T A_i u)(v^T B_i v) / (||u||^2 ||v||^2)``: the Rayleigh quotient
    of the operator at the rank-one ``X = u v^T`` (the right side of the SSM
    appendix lemma).  ``u``, ``v``: nonzero lists of scalars."""
    nu = sum((x * x for x in u), b.scalar(0))
    nv = sum((x * x for x in v), b.scalar(0))
    acc = b.scalar(0)
    for a, bb in zip(As, Bs, strict=True):
        acc = acc + _quad(b, a, u) * _quad(b, bb, v)
    return acc / (nu * nv)


# ---------------------------------------------------------------------------
# Identity (and commuting diagonal) initializations: the scalar reduction
# ---------------------------------------------------------------------------


def scalar_step(w: Any, lam: Any, L: int, eta: Any) -> Any:
    """One GD step of one eigen-direction: ``w - eta w^{L-1} (w^L - lam)``.

    When every ``W_l(0)`` is the same symmetric matrix commuting with a
    symmetric ``R`` (identity init; a diagonal init and a diagonal target), GD
    keeps ``W_l(t) = p_t(R)`` for all ``l`` (the induction step is proven in
    :func:`zascheck.symbolic.ssm_proofs.invariance_proofs`), and in an
    eigenbasis of ``R`` each eigenvalue ``lam`` evolves by this scalar map.

    >>> scalar_step(Fraction(1), Fraction(4), 2, Fraction(1, 8))
    Fraction(11, 8)
    """
    return w - eta * w ** (L - 1) * (w**L - lam)


def scalar_orbit(lam: Any, L: int, eta: Any, w0: Any, steps: int) -> Any:
    """``w_T`` of :func:`scalar_step` after ``steps`` steps from ``w0``, as an arb
    ball (call inside a ball session).  Each step is taken in mean-value form,
    ``g(W) in g(m) + g'(W)(W - m)`` (``m`` the midpoint), so the radius grows by
    ``|g'|`` per step and not by the naive interval blow-up of a polynomial
    that uses ``w`` several times."""
    w = w0
    for _ in range(steps):
        m = w.mid()
        dg = 1 - eta * ((2 * L - 1) * w ** (2 * L - 2) - (L - 1) * lam * w ** max(L - 2, 0))
        if L == 1:
            dg = 1 - eta + 0 * w
        w = scalar_step(m, lam, L, eta) + dg * (w - m)
    return w


@dataclass(frozen=True)
class ScalarLimit:
    """What the scalar map of :func:`scalar_step` does from ``w0`` (arb balls).

    ``limit``: ``"root"`` (``w^L -> lam``: this direction reaches the global
    minimum), ``"zero"`` (``w -> 0``: the product's eigenvalue goes to 0), or
    ``None`` (nothing certified).  ``rate``: an upper bound on the linear rate
    of ``|w_t - w_limit|`` (arb), or ``None`` (sublinear, or not certified).
    ``how``: the argument used; ``steps``: GD steps iterated in ball
    arithmetic before it applied (0 for the invariant-interval argument, which
    holds from ``t = 0``); ``gain``: the enclosure of ``eta k`` over the
    invariant interval (see :func:`certify_scalar_limit`).
    """

    lam: Any
    w0: Any
    limit: str | None
    rate: Any | None
    how: str
    steps: int = 0
    gain: tuple[Any, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def product_limit(self) -> Any:
        """The limit of ``w^L`` (``lam`` or 0); ``None`` if not certified."""
        if self.limit == "root":
            return self.lam
        if self.limit == "zero":
            return 0
        return None


def _union(a: Any, b: Any) -> tuple[Any, Any]:
    """(lower, upper) of the hull of two arb balls, as arb numbers."""
    return min(a.lower(), b.lower()), max(a.upper(), b.upper())


def _root_interval(lam: Any, L: int, eta: Any, w0: Any) -> ScalarLimit | None:
    """``lam > 0``, ``w0 > 0``, ``L >= 2``: with ``r = lam^{1/L}``,
    ``g(w) - r = (w - r)(1 - eta k(w))``, ``k(w) = w^{L-1} sum_j w^j r^{L-1-j}``,
    increasing on ``w > 0``.  If ``0 < eta k <= 1`` on the interval between
    ``w0`` and ``r``, the iterates stay there and ``|w_t - r|`` contracts by
    ``1 - eta min k`` per step, for every ``t``."""
    r = lam.root(L)

    def k(w: Any) -> Any:
        return w ** (L - 1) * sum((w**j * r ** (L - 1 - j) for j in range(L)), 0 * w)

    lo, hi = _union(eta * k(w0), eta * k(r))
    if not (hi <= 1 and lo > 0):
        return None
    return ScalarLimit(lam, w0, "root", 1 - lo, "invariant interval [w0, lam^(1/L)]",
                       gain=(lo, hi))  # fmt: skip


def _zero_interval(lam: Any, L: int, eta: Any, w0: Any) -> ScalarLimit | None:
    """``lam <= 0``, ``w0 > 0``, ``L >= 2``: ``g(w) = w (1 - eta h(w))`` with
    ``h(w) = w^{L-2} (w^L - lam) > 0`` increasing on ``w > 0``.  If
    ``eta h(w0) <= 1`` the iterates decrease in ``[0, w0]`` to the only fixed
    point there, 0: linearly (rate ``1 + eta lam``) iff ``L = 2`` and
    ``lam < 0``, sublinearly otherwise (``h(0) = 0``)."""
    gain_hi = eta * w0 ** (L - 2) * (w0**L - lam)
    if not gain_hi <= 1:
        return None
    gain_lo = eta * (-lam) if L == 2 else 0 * eta
    rate = 1 - gain_lo if (L == 2 and lam < 0) else None
    how = "monotone decrease in [0, w0] to the only fixed point 0"
    return ScalarLimit(lam, w0, "zero", rate, how, gain=(gain_lo, gain_hi))


def _local_ball(lam: Any, L: int, eta: Any, w: Any, centre: Any, flint: Any) -> Any | None:
    """A ball ``J`` around the fixed point ``centre`` that contains ``w``; if
    ``sup_J |g'| < 1`` then ``g(J) ⊂ J`` and the iterates converge to
    ``centre`` linearly at that rate.  Returns the rate (arb) or ``None``."""
    delta = abs(w - centre).upper() + centre.rad()
    j = flint.arb(centre.mid(), delta * (1 + flint.arb(2) ** -20))
    if L == 1:
        dg = 1 - eta + 0 * j
    else:
        dg = 1 - eta * ((2 * L - 1) * j ** (2 * L - 2) - (L - 1) * lam * j ** (L - 2))
    q = abs(dg).upper()
    return q if q < 1 else None


def certify_scalar_limit(
    lam: Any, L: int, eta: Any, w0: Any, flint: Any, *, max_steps: int = 0
) -> ScalarLimit:
    """Certify where the scalar map ``w -> w - eta w^{L-1}(w^L - lam)`` goes from
    ``w0``, for every ``t`` (arb balls ``lam``, ``eta``, ``w0``; call inside a
    ball session).

    Arguments, in order (each proves the limit for all ``t``):

    1. ``L = 1``: the map is affine; ``|1 - eta| < 1`` gives ``w -> lam``.
    2. the invariant interval between ``w0`` and the limit (``lam^{1/L}`` for
       ``lam > 0``, 0 for ``lam <= 0``; see :func:`_root_interval`,
       :func:`_zero_interval`).  For ``w0 < 0`` the map is reflected
       (``w -> -w``; for odd ``L`` that also turns ``lam`` into ``-lam``); for
       ``w0 = 0`` the point is fixed (gradient 0).
    3. otherwise, up to ``max_steps`` steps in ball arithmetic until the iterate
       lies in a ball around a fixed point (``+-lam^{1/L}``, or 0) on which
       ``|g'| < 1`` (:func:`_local_ball`).

    Returns a :class:`ScalarLimit` (``limit=None`` when nothing applied).
    """
    arb = flint.arb
    lam, eta, w0 = arb(lam), arb(eta), arb(w0)
    if L == 1:
        q = abs(1 - eta)
        if q < 1:
            return ScalarLimit(lam, w0, "root", q, "affine map, |1 - eta| < 1")
        return ScalarLimit(lam, w0, None, None, "affine map, |1 - eta| >= 1")
    if w0 == 0:
        return ScalarLimit(lam, w0, "zero", None, "w0 = 0 is a fixed point (zero gradient)")
    pos, neg = bool(w0 > 0), bool(w0 < 0)
    if pos or neg:
        lam_eff = lam if (pos or L % 2 == 0) else -lam  # the reflected map w -> -w
        w_eff = w0 if pos else -w0
        res = None
        if lam_eff > 0:
            res = _root_interval(lam_eff, L, eta, w_eff)
        elif lam_eff <= 0:
            res = _zero_interval(lam_eff, L, eta, w_eff)
        if res is not None:
            how = res.how if pos else res.how + " (reflected: w -> -w)"
            return dataclasses.replace(res, lam=lam, w0=w0, how=how)
    return _iterate_to_ball(lam, L, eta, w0, flint, max_steps)


def _iterate_to_ball(
    lam: Any, L: int, eta: Any, w0: Any, flint: Any, max_steps: int
) -> ScalarLimit:
    """Argument 3 of :func:`certify_scalar_limit`."""
    centres: list[tuple[str, Any]] = [("zero", 0 * lam)]
    if lam > 0:
        r = lam.root(L)
        centres = [("root", r)] + ([("root", -r)] if L % 2 == 0 else []) + centres
    w = w0
    for t in range(max_steps + 1):
        for name, c in centres:
            q = _local_ball(lam, L, eta, w, c, flint)
            if q is not None:
                how = f"contraction ball around {name} (|g'| <= {float(q.mid()):.4g}) reached"
                return ScalarLimit(lam, w0, name, q, how, t)
        if not w.is_finite() or abs(w) > 1e6 * (1 + abs(w0) + abs(lam)):
            return ScalarLimit(lam, w0, None, None, f"iterates left every ball (step {t})", t)
        w = scalar_step(w, lam, L, eta)
    return ScalarLimit(lam, w0, None, None, f"no certificate within {max_steps} steps", max_steps)


# ---------------------------------------------------------------------------
# Example 1: f(x) = 2/3 |x|^{3/2}
# ---------------------------------------------------------------------------


def ex1_grad(b: Backend, x: Any) -> Any:
    """``f'(x) = sign(x) sqrt|x|`` for SSM Example 1, ``f(x) = 2/3 |x|^{3/2}``.
    Raises ``ArithmeticError`` when a ball straddles 0; in exact arithmetic
    ``sqrt`` needs a rational square (:class:`InputError` otherwise)."""
    neg = b.lt(x, 0)
    pos = b.lt(0, x)
    if neg is None or pos is None:
        raise ArithmeticError("the sign of x is not decided at this precision")
    if neg:
        return -b.sqrt(-x)
    if pos:
        return b.sqrt(x)
    return b.scalar(0)


def ex1_step(b: Backend, x: Any, eta: Any) -> Any:
    """One constant-step GD step ``x - eta sign(x) sqrt|x|`` of SSM Example 1.

    >>> from zascheck.arith import backend
    >>> ex = backend("exact")
    >>> ex1_step(ex, ex.scalar(Fraction(1, 16)), ex.scalar(Fraction(1, 2)))
    -1/16
    """
    return x - eta * ex1_grad(b, x)


def ex1_orbit_amplitude(eta: Fraction) -> Fraction:
    """The period-2 orbit ``{a, -a}`` of Example 1: ``a - eta sqrt(a) = -a``
    gives ``a = eta^2/4``.

    >>> ex1_orbit_amplitude(Fraction(1, 2))
    Fraction(1, 16)
    """
    return Fraction(eta) ** 2 / 4


# ---------------------------------------------------------------------------
# One-hidden-layer ReLU network f(x) = v^T relu(U x), one sample (SSM Theorem 4)
# ---------------------------------------------------------------------------


def _relu_col(b: Backend, z: Any) -> tuple[Any, list[int]]:
    """relu of a column and its activation pattern (1 active, 0 not)."""
    r, _ = b.shape(z)
    vals, act = [], []
    for i in range(r):
        pos = b.lt(0, z[i, 0])
        if pos is None:
            raise ArithmeticError("a pre-activation sits on the ReLU kink at this precision")
        act.append(1 if pos else 0)
        vals.append([z[i, 0] if pos else b.scalar(0)])
    return b.matrix(vals), act


def relu_forward(b: Backend, u: Any, v: Any, x: Any) -> Any:
    """``f(x) = v^T relu(U x)`` (``u`` is ``h x n``, ``v`` ``h x 1``, ``x`` ``n x 1``)."""
    a, _ = _relu_col(b, b.mm(u, x))
    return b.mm(b.T(v), a)[0, 0]


def relu_loss_grads(b: Backend, u: Any, v: Any, x: Any, y: Any) -> tuple[Any, Any, Any]:
    """Loss ``1/2 (f(x) - y)^2`` and its gradients ``(dL/dU, dL/dv)``:
    ``dv = r relu(Ux)``, ``dU = r (v * 1[Ux > 0]) x^T`` with ``r = f(x) - y``."""
    a, act = _relu_col(b, b.mm(u, x))
    res = b.mm(b.T(v), a)[0, 0] - y
    h, _ = b.shape(u)
    gated = b.matrix([[v[i, 0] if act[i] else b.scalar(0)] for i in range(h)])
    du = b.scale(res, b.mm(gated, b.T(x)))
    dv = b.scale(res, a)
    return res * res / 2, du, dv


def relu_sharpness(b: Backend, u: Any, v: Any, x: Any) -> Any:
    """Top Hessian eigenvalue at a zero-loss point: the Hessian is
    ``grad f grad f^T`` there (the residual multiplies every second-order term,
    and relu'' = 0 off the kink), so ``lambda_max = ||grad f||^2 =
    ||relu(Ux)||^2 + ||v_active||^2 ||x||^2``."""
    a, act = _relu_col(b, b.mm(u, x))
    h, _ = b.shape(u)
    va2 = sum((v[i, 0] * v[i, 0] for i in range(h) if act[i]), b.scalar(0))
    return b.fro2(a) + va2 * b.fro2(x)


def relu_zero_loss_init(x: np.ndarray, y: float, h: int) -> tuple[np.ndarray, np.ndarray]:
    """A balanced zero-loss point of the one-sample ReLU fit (up to rounding):
    unit 1 ``U_1 = a x^T/||x||``, ``v_1 = a`` with ``a^2 ||x|| = y > 0``, the
    other ``h - 1`` units zero.  Its sharpness is ``2 ||x|| y`` (equality in
    SSM Theorem 4's bound)."""
    nx = float(np.linalg.norm(x))
    a = math.sqrt(y / nx)
    u = np.zeros((h, x.shape[0]))
    v = np.zeros((h, 1))
    u[0, :] = a * x[:, 0] / nx
    v[0, 0] = a
    return u, v


def relu_gd(
    b: Backend,
    u: Any,
    v: Any,
    x: Any,
    y: Any,
    eta: Any,
    max_steps: int,
    rel_tol: float,
    abs_floor: float = 0.0,
) -> tuple[str, Any, Any, int, list[float]]:
    """GD on the one-sample ReLU fit from ``(u, v)``.

    Stops ``"converged"`` when the loss is ``<= max(rel_tol * loss(0), abs_floor)``
    (``abs_floor``: the rounding level of the residual, so that a start already
    at a zero-loss point counts as converged), ``"diverged"`` (non-finite or
    ``> 1e12 loss(0)``), ``"kink"`` (a pre-activation undecided on the kink),
    or ``"budget"``.  Returns ``(stop, u, v, steps, losses)``.
    """
    losses: list[float] = []
    for t in range(max_steps + 1):
        try:
            loss, du, dv = relu_loss_grads(b, u, v, x, y)
        except ArithmeticError:
            return "kink", u, v, t, losses
        lf = b.to_float(loss)
        losses.append(lf)
        if not math.isfinite(lf) or lf > 1e12 * max(losses[0], 1e-300):
            return "diverged", u, v, t, losses
        if lf <= max(rel_tol * losses[0], abs_floor):
            return "converged", u, v, t, losses
        if t == max_steps:
            break
        u = b.sub(u, b.scale(eta, du))
        v = b.sub(v, b.scale(eta, dv))
    return "budget", u, v, max_steps, losses


# ---------------------------------------------------------------------------
# Step-size thresholds: brackets judged on both ends
# ---------------------------------------------------------------------------


@dataclass
class Bracket:
    """Where a threshold lies, from probes that answer ``True`` (works),
    ``False`` (fails) or ``None`` (undecided: the step budget ran out while GD
    was still making progress).

    ``lo``: the largest probe that worked (``None``: none did); ``hi``: the
    smallest probe above it that failed (``None``: none did).  Under the
    monotonicity the probes assume, the threshold lies in ``[lo, hi]``.
    ``undecided``: probes that could not be decided (``budget_limited``); the
    bracket never narrows on them.
    """

    lo: float | None
    hi: float | None
    trace: list[tuple[float, bool | None]]
    undecided: list[float] = field(default_factory=list)

    @property
    def budget_limited(self) -> bool:
        return bool(self.undecided)

    def versus(self, bound: float) -> str:
        """Where the threshold stands against ``bound``, judged on both ends:
        ``"below"`` (``hi <= bound``), ``"above"`` (``lo > bound``) or
        ``"straddles"``.

        >>> Bracket(0.984, 1.006, []).versus(1.0)
        'straddles'
        >>> Bracket(0.9, 0.95, []).versus(1.0), Bracket(1.01, None, []).versus(1.0)
        ('below', 'above')
        >>> Bracket(None, 0.125, []).versus(1.0)
        'below'
        """
        if self.hi is not None and self.hi <= bound:
            return "below"
        if self.lo is not None and self.lo > bound:
            return "above"
        return "straddles"

    def text(self, digits: int = 4) -> str:
        """``[lo, hi]`` with ``-`` for an end never seen, and the budget note."""

        def f(x: float | None) -> str:
            return "-" if x is None else f"{x:.{digits}g}"

        s = f"[{f(self.lo)}, {f(self.hi)}]"
        if self.budget_limited:
            s += f" (limited by the step budget: undecided at {f(min(self.undecided))})"
        return s


def bisect_bracket(
    works: Callable[[float], bool | None], lo: float, hi: float, iters: int
) -> Bracket:
    """Bracket the largest value that ``works`` by bisection on ``[lo, hi]``.

    ``works`` answers ``True``, ``False`` or ``None`` (undecided).  The ends are
    probed first, then ``iters`` midpoints.  Without undecided probes this is
    plain bisection of ``[lo, hi]``; once some are undecided (they cluster
    where GD is slow, around the threshold), each probe halves the wider of the
    two gaps ``[lo, min undecided]`` and ``[max undecided, hi]``, so both ends
    close in on the undecided zone.  The bracket ``[lo, hi]`` rests on decided
    probes alone; ``Bracket.undecided`` says where the step budget limited it.
    Assumes ``works`` is monotone (not enforced: the trace shows every probe).

    >>> br = bisect_bracket(lambda z: z <= 0.7, 0.0, 1.0, 20)
    >>> br.lo <= 0.7 < br.hi, br.hi - br.lo <= 2.0**-20
    (True, True)
    >>> slow = lambda z: True if z < 0.45 else None if z < 0.55 else False
    >>> bisect_bracket(slow, 0.0, 1.0, 8).text()
    '[0.4375, 0.5625] (limited by the step budget: undecided at 0.4688)'
    """
    trace: list[tuple[float, bool | None]] = []
    br = Bracket(None, None, trace)

    def probe(z: float) -> bool | None:
        ok = works(z)
        trace.append((z, ok))
        if ok is None:
            br.undecided.append(z)
        elif ok and (br.lo is None or z > br.lo):
            br.lo = z
        elif not ok and (br.hi is None or z < br.hi):
            br.hi = z
        return ok

    if probe(lo) is not True or probe(hi) is True:
        return br
    for _ in range(iters):
        assert br.lo is not None, "lo worked"
        und = [u for u in br.undecided if br.lo < u < (br.hi if br.hi is not None else hi)]
        gaps = [(br.lo, min(und, default=br.hi if br.hi is not None else hi))]
        if und and br.hi is not None:
            gaps.append((max(und), br.hi))
        a, z = max(gaps, key=lambda g: g[1] - g[0])
        probe((a + z) / 2)
    return br


# ---------------------------------------------------------------------------
# Diagonal initializations
# ---------------------------------------------------------------------------


def diag_init_prediction(diag: Sequence[float], L: int) -> bool:
    """For a target diagonal in the standard basis (positive eigenvalues),
    GD from every ``W_l = D`` decouples into the scalar maps of
    :func:`scalar_step` from ``w = D_ii``; each reaches ``w^L = lambda_i > 0``
    for small ``eta`` iff ``D_ii != 0`` and (``L`` even or ``D_ii > 0``): at
    ``0`` the gradient vanishes, and for odd ``L`` a negative ``w`` only
    descends towards 0.

    >>> diag_init_prediction([1.0, 0.5], 3), diag_init_prediction([1.0, -0.5], 3)
    (True, False)
    >>> diag_init_prediction([1.0, -0.5], 2), diag_init_prediction([1.0, 0.0], 2)
    (True, False)
    """
    return all(x != 0 and (L % 2 == 0 or x > 0) for x in diag)


# ---------------------------------------------------------------------------
# Periodic orbits: interval Newton (Krawczyk) in one variable
# ---------------------------------------------------------------------------


def krawczyk_1d(
    f: Callable[[Any], Any], df: Callable[[Any], Any], m: Any, r: Any, flint: Any
) -> tuple[bool, Any]:
    """Krawczyk test on ``X = [m - r, m + r]`` (arb): with ``Y = 1/f'(m)``,
    ``K = m - Y f(m) + (1 - Y f'(X))(X - m)``.  ``K`` strictly inside ``X``
    proves ``f`` has exactly one zero in ``X``.  Returns ``(proved, X)``."""
    arb = flint.arb
    x = arb(m, r)
    mm = arb(m)
    y = 1 / arb(df(mm).mid())
    k = mm - y * f(mm) + (1 - y * df(x)) * (x - mm)
    return bool(x.contains_interior(k)), x


def balanced_line_maps(b: Backend, L: int, tgt: Target, eta: Any) -> tuple[Any, Any, Any]:
    """On the invariant balanced line ``W_l = s`` (``d = 1``): the GD map's first
    coordinate ``G(s)``, ``F(s) = G(G(s)) - s`` and ``F'(s)`` (chain rule through
    ``I - eta H``, direction all-ones; HVPs of ``model.grads``)."""

    def step(ws: list[Any]) -> list[Any]:
        return dynamics.gd_step(b, ws, tgt, eta)[0]

    def g1(s: Any) -> Any:
        return step([b.matrix([[s]]) for _ in range(L)])[0][0, 0]

    def f(s: Any) -> Any:
        w1 = step([b.matrix([[s]]) for _ in range(L)])
        return step(w1)[0][0, 0] - s

    def df(s: Any) -> Any:
        w0 = [b.matrix([[s]]) for _ in range(L)]
        vs = [b.matrix([[1]]) for _ in range(L)]
        hv = hvp(b, w0, tgt, vs)
        vs1 = [b.sub(v, b.scale(eta, h_)) for v, h_ in zip(vs, hv, strict=True)]
        w1 = step(w0)
        hv1 = hvp(b, w1, tgt, vs1)
        vs2 = [b.sub(v, b.scale(eta, h_)) for v, h_ in zip(vs1, hv1, strict=True)]
        return vs2[0][0, 0] - 1

    return g1, f, df


# ---------------------------------------------------------------------------
# Stable sets of unstable minima (review 1, minor point 1)
# ---------------------------------------------------------------------------


def preimage_of_minimum(
    a0: Fraction, b0: Fraction, eta: Fraction
) -> tuple[Fraction, Fraction, Fraction, Fraction]:
    """d = 1, L = 2: the target ``r`` for which one GD step from ``(a0, b0)`` lands
    exactly on ``a1 b1 = r``: with ``e = a0 b0 - r``,
    ``a1 b1 - r = e (1 - eta(a0^2 + b0^2) + eta^2 a0 b0 e)``, so
    ``e = (eta(a0^2 + b0^2) - 1) / (eta^2 a0 b0)``.  Returns ``(r, e, a1, b1)``.

    >>> preimage_of_minimum(Fraction(1), Fraction(1), Fraction(1))
    (Fraction(0, 1), Fraction(1, 1), Fraction(0, 1), Fraction(0, 1))
    """
    e = (eta * (a0 * a0 + b0 * b0) - 1) / (eta * eta * a0 * b0)
    r = a0 * b0 - e
    return r, e, a0 - eta * b0 * e, b0 - eta * a0 * e


def fro(a: np.ndarray) -> float:
    """Frobenius norm of a float array.

    >>> fro(np.array([[3.0, 4.0]]))
    5.0
    """
    return float(math.sqrt(float(np.sum(np.asarray(a, dtype=float) ** 2))))
