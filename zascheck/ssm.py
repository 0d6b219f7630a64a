"""Pure mathematics for the claims about "Step Size Matters in Deep Learning"
(Nar & Sastry, NeurIPS 2018), section C of ``../shared/CLAIMS.md``.

Everything here is a small function of its arguments.  The deep linear
network's loss and gradient are never written again: the Hessian is obtained
by differentiating :func:`zascheck.model.grads` once more, in the truncated
power-series arithmetic of :class:`zascheck.dynamics.SeriesBackend`
(``W_l + t V_l``: the coefficient of ``t`` in ``G_l`` is ``(H V)_l``), so it
runs in float64, mp, ball or exact arithmetic like the rest of the package.

Conventions: loss ``1/2 ||W_{L:1} - R||_F^2``; ``rho`` the largest singular
value of ``R``; parameters are flattened layer by layer, each layer row-major
(the order of :meth:`Backend.entries`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, model
from zascheck.arith import Backend
from zascheck.dynamics import SeriesBackend
from zascheck.errors import InputError
from zascheck.model import Target

__all__ = [
    "balanced_line_maps",
    "balanced_minimum",
    "bisect_threshold",
    "cayley",
    "diag_init_prediction",
    "ex1_grad",
    "ex1_orbit_amplitude",
    "ex1_step",
    "flatten",
    "hessian",
    "hvp",
    "krawczyk_1d",
    "near_balanced",
    "operator_matrix",
    "preimage_of_minimum",
    "rayleigh_bound",
    "relu_forward",
    "relu_gd",
    "relu_loss_grads",
    "relu_sharpness",
    "thm1_bound",
    "thm1_eta",
    "top_eigenvalue_exact",
    "unbalance",
]


# ---------------------------------------------------------------------------
# The bound of Theorem 1 / Corollary 1
# ---------------------------------------------------------------------------


def thm1_bound(L: int, rho: float) -> float:
    """Smallest top Hessian eigenvalue over global minima, ``L rho^{2(L-1)/L}``.

    >>> thm1_bound(2, 4.0)
    8.0
    """
    if L < 1 or rho <= 0:
        raise InputError(f"need L >= 1 and rho > 0, got L={L}, rho={rho}")
    return L * rho ** (2.0 * (L - 1) / L)


def thm1_eta(L: int, rho: float) -> float:
    """The step-size bound ``2 / (L rho^{2(L-1)/L})`` of Theorem 1.

    >>> thm1_eta(1, 3.0)
    2.0
    """
    return 2.0 / thm1_bound(L, rho)


# ---------------------------------------------------------------------------
# Hessian of the deep linear loss (through the model's own gradient)
# ---------------------------------------------------------------------------


def _series_target(sb: SeriesBackend, target: Target) -> Target:
    return Target(Y=sb.const(target.Y), X=None if target.X is None else sb.const(target.X))


def hvp(b: Backend, ws: Sequence[Any], target: Target, vs: Sequence[Any]) -> list[Any]:
    """Hessian-vector product ``H(W) V`` as a list of layer-shaped matrices:
    the ``t``-coefficient of ``model.grads`` at ``W + t V``."""
    sb = SeriesBackend(b)
    nodes = []
    for w, v in zip(ws, vs, strict=True):
        nodes.append(sb.var(w, v))
    g = model.grads(sb, nodes, _series_target(sb, target))
    out = []
    for gl, w in zip(g, ws, strict=True):
        c = sb.coef(gl, 1)
        out.append(b.zeros(*b.shape(w)) if c is None else c)
    return out


def flatten(b: Backend, mats: Sequence[Any]) -> list[Any]:
    """Entries of every layer, layer by layer, row-major."""
    return [x for m in mats for x in b.entries(m)]


def hessian(b: Backend, ws: Sequence[Any], target: Target) -> Any:
    """The full ``n x n`` Hessian (``n = sum_l d_l d_{l-1}``) as a backend matrix,
    one Hessian-vector product per column.  ``ws`` may be in any form
    :meth:`Backend.matrix` accepts."""
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


def top_eigenvalue_exact(h: Any, flint: Any) -> tuple[Any, Any]:
    """Largest eigenvalue of an exact symmetric rational matrix (``fmpq_mat``).

    The characteristic polynomial is formed and factored exactly; a root of a
    linear factor is returned exactly (``fmpq``), other roots as certified arb
    enclosures (``acb`` roots of an irreducible factor, real part).  Returns
    ``(exact_or_None, arb_ball)``.  Call inside the ball backend's session for
    the working precision.
    """
    _, facs = h.charpoly().factor()
    best_exact = None
    best_ball = None
    for f, _mult in facs:
        if f.degree() == 1:
            root = -f[0] / f[1]
            ball = flint.arb(root.p) / flint.arb(root.q)
            cand = (root, ball)
            cands = [cand]
        else:
            cands = [(None, r.real) for r, _ in f.complex_roots()]
        for ex, ball in cands:
            if best_ball is None or ball.mid() > best_ball.mid():
                best_exact, best_ball = ex, ball
    return best_exact, best_ball


# ---------------------------------------------------------------------------
# Exact global minima (rational factorizations)
# ---------------------------------------------------------------------------


def cayley(s: Any, flint: Any) -> Any:
    """Rational orthogonal matrix ``(I - S)(I + S)^{-1}`` from a skew ``S`` (``fmpq_mat``)."""
    n = s.nrows()
    eye = flint.fmpq_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
    return (eye - s) * (eye + s).inv()


def balanced_minimum(
    u: Any, sing: Sequence[Any], v: Any, qs: Sequence[Any], flint: Any
) -> tuple[list[Any], Any]:
    """A balanced global minimum for ``R = U diag(s^L) V^T`` (``s`` the list
    ``sing``): ``W_1 = Q_1 S V^T``, ``W_l = Q_l S Q_{l-1}^T``,
    ``W_L = U S Q_{L-1}^T`` with ``S = diag(s)`` and ``L - 1`` orthogonal ``Q_l``.
    Returns ``(ws, R)``, all exact."""
    d = len(sing)
    sm = flint.fmpq_mat(d, d, [sing[i] if i == j else 0 for i in range(d) for j in range(d)])
    L = len(qs) + 1
    frames = [v, *qs, u]  # frames[l] is the right frame of W_{l+1} ... left of W_l
    ws = [frames[k + 1] * sm * frames[k].transpose() for k in range(L)]
    pw = flint.fmpq_mat(d, d, [sing[i] ** L if i == j else 0 for i in range(d) for j in range(d)])
    return ws, u * pw * v.transpose()


def unbalance(ws: Sequence[Any], gs: Sequence[Any]) -> list[Any]:
    """``W_l -> G_l W_l G_{l-1}^{-1}`` (``G_0 = G_L = I``, ``gs`` = ``G_1..G_{L-1}``):
    the same end-to-end matrix, so a minimum stays a minimum."""
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


# ---------------------------------------------------------------------------
# The appendix lemma: X -> sum_i A_i X B_i
# ---------------------------------------------------------------------------


def operator_matrix(b: Backend, As: Sequence[Any], Bs: Sequence[Any]) -> Any:
    """Matrix of ``X -> sum_i A_i X B_i`` on row-major ``vec(X)``:
    entry ``[(i,j),(k,q)] = sum_s A_s[i,k] B_s[q,j]`` (i.e. ``sum_s A_s kron B_s^T``)."""
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
    of the operator at the rank-one ``X = u v^T``."""
    nu = sum((x * x for x in u), b.scalar(0))
    nv = sum((x * x for x in v), b.scalar(0))
    acc = b.scalar(0)
    for a, bb in zip(As, Bs, strict=True):
        acc = acc + _quad(b, a, u) * _quad(b, bb, v)
    return acc / (nu * nv)


# ---------------------------------------------------------------------------
# Example 1: f(x) = 2/3 |x|^{3/2}
# ---------------------------------------------------------------------------


def _sqrt(b: Backend, x: Any) -> Any:
    return b.sqrt(x)  # exact for rational squares in the exact backend


def ex1_grad(b: Backend, x: Any) -> Any:
    """``f'(x) = sign(x) sqrt|x|`` for ``f(x) = 2/3 |x|^{3/2}``."""
    neg = b.lt(x, 0)
    pos = b.lt(0, x)
    if neg is None or pos is None:
        raise ArithmeticError("the sign of x is not decided at this precision")
    if neg:
        return -_sqrt(b, -x)
    if pos:
        return _sqrt(b, x)
    return b.scalar(0)


def ex1_step(b: Backend, x: Any, eta: Any) -> Any:
    """One constant-step GD step ``x - eta sign(x) sqrt|x|``.

    >>> from zascheck.arith import backend
    >>> ex = backend("exact")
    >>> ex1_step(ex, ex.scalar(Fraction(1, 16)), ex.scalar(Fraction(1, 2)))
    -1/16
    """
    return x - eta * ex1_grad(b, x)


def ex1_orbit_amplitude(eta: Fraction) -> Fraction:
    """The period-2 orbit ``{a, -a}``: ``a - eta sqrt(a) = -a`` gives ``a = eta^2/4``.

    >>> ex1_orbit_amplitude(Fraction(1, 2))
    Fraction(1, 16)
    """
    return Fraction(eta) ** 2 / 4


# ---------------------------------------------------------------------------
# One-hidden-layer ReLU network f(x) = v^T relu(U x), one sample
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
    """``f(x) = v^T relu(U x)`` (``u`` is ``h x n``, ``v`` and ``x`` columns)."""
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


# ---------------------------------------------------------------------------
# Step-size thresholds
# ---------------------------------------------------------------------------


def bisect_threshold(
    works: Callable[[float], bool], lo: float, hi: float, iters: int
) -> tuple[float | None, float | None, list[tuple[float, bool]]]:
    """Largest value that ``works`` by bisection on ``[lo, hi]``.

    Returns ``(last value that worked, first value above it that failed, trace)``;
    ``None`` for an end that was never seen (``lo`` fails, or ``hi`` works).
    Assumes ``works`` is monotone (reported in the trace, not enforced).
    """
    trace: list[tuple[float, bool]] = []
    ok_lo = works(lo)
    trace.append((lo, ok_lo))
    if not ok_lo:
        return None, lo, trace
    ok_hi = works(hi)
    trace.append((hi, ok_hi))
    if ok_hi:
        return hi, None, trace
    for _ in range(iters):
        mid = (lo + hi) / 2
        ok = works(mid)
        trace.append((mid, ok))
        if ok:
            lo = mid
        else:
            hi = mid
    return lo, hi, trace


# ---------------------------------------------------------------------------
# Diagonal initializations
# ---------------------------------------------------------------------------


def diag_init_prediction(diag: Sequence[float], L: int) -> bool:
    """For a target diagonal in the standard basis (positive eigenvalues),
    GD from every ``W_l = D`` decouples into scalar maps
    ``w <- w - eta w^{L-1}(w^L - lambda_i)`` from ``w = D_ii``; each reaches
    ``w^L = lambda_i > 0`` for small ``eta`` iff ``D_ii != 0`` and
    (``L`` even or ``D_ii > 0``): at ``0`` the gradient vanishes, and for odd
    ``L`` a negative ``w`` only descends towards 0.

    >>> diag_init_prediction([1.0, 0.5], 3), diag_init_prediction([1.0, -0.5], 3)
    (True, False)
    >>> diag_init_prediction([1.0, -0.5], 2), diag_init_prediction([1.0, 0.0], 2)
    (True, False)
    """
    return all(x != 0 and (L % 2 == 0 or x > 0) for x in diag)


# ---------------------------------------------------------------------------
# Interval Newton (Krawczyk) in one variable
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


# ---------------------------------------------------------------------------
# Dynamics helpers used by the checks
# ---------------------------------------------------------------------------


def preimage_of_minimum(
    a0: Fraction, b0: Fraction, eta: Fraction
) -> tuple[Fraction, Fraction, Fraction, Fraction]:
    """d = 1, L = 2: the target ``r`` for which one GD step from ``(a0, b0)`` lands
    exactly on ``a1 b1 = r``: with ``e = a0 b0 - r``,
    ``a1 b1 - r = e (1 - eta(a0^2 + b0^2) + eta^2 a0 b0 e)``, so
    ``e = (eta(a0^2 + b0^2) - 1) / (eta^2 a0 b0)``.  Returns ``(r, e, a1, b1)``."""
    e = (eta * (a0 * a0 + b0 * b0) - 1) / (eta * eta * a0 * b0)
    r = a0 * b0 - e
    return r, e, a0 - eta * b0 * e, b0 - eta * a0 * e


def relu_gd(
    b: Backend, u: Any, v: Any, x: Any, y: Any, eta: Any, max_steps: int, rel_tol: float
) -> tuple[str, Any, Any, int]:
    loss0 = None
    for t in range(max_steps + 1):
        try:
            loss, du, dv = relu_loss_grads(b, u, v, x, y)
        except ArithmeticError:
            return "kink", u, v, t
        lf = b.to_float(loss)
        if loss0 is None:
            loss0 = lf
        if not math.isfinite(lf) or lf > 1e12 * max(loss0, 1e-300):
            return "diverged", u, v, t
        if lf <= rel_tol * loss0:
            return "converged", u, v, t
        if t == max_steps:
            break
        u = b.sub(u, b.scale(eta, du))
        v = b.sub(v, b.scale(eta, dv))
    return "budget", u, v, max_steps


def balanced_line_maps(b: Backend, L: int, tgt: Target, eta: Any) -> tuple[Any, Any, Any]:
    """On the invariant balanced line ``W_l = s`` (d = 1): the GD map's first
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


def near_balanced(
    phi: np.ndarray, L: int, rng: np.random.Generator, eps: float
) -> list[np.ndarray]:
    u, s, vt = np.linalg.svd(phi)
    d = phi.shape[0]
    qs = [np.linalg.qr(rng.standard_normal((d, d)))[0] for _ in range(L - 1)]
    frames = [vt.T, *qs, u]
    sr = np.diag(s ** (1.0 / L))
    ws = [frames[k + 1] @ sr @ frames[k].T for k in range(L)]
    return [w + eps * rng.standard_normal((d, d)) for w in ws]


# ---------------------------------------------------------------------------
# Small helpers shared by the checks
# ---------------------------------------------------------------------------


def rational_matrix(rng: np.random.Generator, d: int, den: int, span: int, flint: Any) -> Any:
    """Random ``d x d`` matrix with entries ``k / den``, ``|k| <= span`` (``fmpq_mat``)."""
    ks = rng.integers(-span, span + 1, size=(d, d))
    return flint.fmpq_mat(d, d, [flint.fmpq(int(k), den) for k in ks.ravel()])


def random_orthogonal_rational(rng: np.random.Generator, d: int, flint: Any) -> Any:
    """A random rational orthogonal matrix (Cayley transform of a rational skew matrix)."""
    a = rational_matrix(rng, d, 4, 4, flint)
    return cayley(a - a.transpose(), flint)


def fro(a: np.ndarray) -> float:
    """Frobenius norm of a float array."""
    return float(math.sqrt(float(np.sum(np.asarray(a, dtype=float) ** 2))))
