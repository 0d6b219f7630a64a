"""The spectral reduction: from an init aligned with ``Phi``, GD splits into scalar problems.

Write the SVD ``Phi = U diag(sigma) V^T``.  From ZAS (``W_l = I`` for
``l < L``, ``W_L = 0``) every GD iterate and the gradient flow keep the form

    W_1 = ... = W_{L-1} = V diag(a) V^T,    W_L = U diag(b) V^T,

and the problem is ``d`` independent scalar problems, one per singular value
(the decoupling of Saxe, McClelland & Ganguli, ICLR 2014, for an init aligned
with the target):

    e = b a^(L-1) - sigma,   a <- a - eta b e a^(L-2),   b <- b - eta e a^(L-1),

from ``a = 1``, ``b = 0``, with ``R = 1/2 sum_i e_i^2``.  The same holds for
the reviews' variants with other starting values, in the general form this
module implements: the layer ``k`` (``1 <= k <= L``) is ``U diag(b) V^T``, the
``p = k - 1`` layers below it are ``V diag(a) V^T`` and the ``q = L - k``
layers above it ``U diag(c) U^T``.  Per mode:

    e   = c^q b a^p - sigma
    g_a = c^q b e a^(p-1)        (each of the p layers below k)
    g_b = c^q e a^p              (layer k)
    g_c = c^(q-1) b e a^p        (each of the q layers above k)

``zas`` is ``k = L, a = 1, b = 0``; ``alpha-zas`` is ``a = alpha``;
``zero-at`` layer ``k`` is ``a = c = 1, b = 0``.  ``last-cI`` (``W_L = c I``)
is aligned only when ``c I = U diag(b) V^T``, i.e. when ``U^T V`` is diagonal:
exactly for symmetric ``Phi`` (``V = Q``, ``U = Q diag(s)``, ``s = sign`` of
the eigenvalues, ``b = c s``).  For any other target it is not aligned and the
reduction does not apply (:func:`mode_init` refuses it without ``signs``).

The recursion is written once (:func:`mode_grads`, :func:`mode_step`) against
plain arithmetic, so it runs on float64 arrays (O(d) per step after one SVD:
:func:`reduced_gd`), on numpy object arrays of arb balls, mpmath numbers or
exact rationals.  :func:`compare_full_reduced` runs the full matrix GD of
:mod:`zascheck.dynamics` beside it in ball arithmetic (the cross-check of
``zas.spectral``).  Provenance: this suite (beyond the sources), after Saxe,
McClelland & Ganguli, ICLR 2014.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import model
from zascheck.arith import Backend
from zascheck.errors import InputError
from zascheck.model import Target

__all__ = [
    "INITS",
    "ModeInit",
    "ReducedRun",
    "aligned_svd",
    "aligned_weights",
    "case_init",
    "compare_full_reduced",
    "exact_target",
    "iterations_to_eps_grid",
    "mode_error",
    "mode_grads",
    "mode_init",
    "mode_start",
    "mode_step",
    "project_aligned",
    "rational_orthogonal",
    "reduced_gd",
    "reduced_loss",
]

#: the inits the reduction covers (``last-cI`` only for symmetric targets)
INITS = ("zas", "alpha-zas", "zero-at", "last-cI")


@dataclass(frozen=True)
class ModeInit:
    """Starting values of one aligned init, per mode.

    ``L`` layers; layer ``k`` is ``U diag(b) V^T``; layers ``1..k-1`` are
    ``V diag(a) V^T`` and layers ``k+1..L`` are ``U diag(c) U^T``.  ``a0``,
    ``b0``, ``c0`` are numbers (or arrays, one entry per mode).
    """

    L: int
    k: int
    a0: Any = 1
    b0: Any = 0
    c0: Any = 1
    name: str = "zas"

    def __post_init__(self) -> None:
        if int(self.L) != self.L or self.L < 1:
            raise InputError(f"depth L must be an integer >= 1, got {self.L!r}")
        if not 1 <= self.k <= self.L:
            raise InputError(f"the layer k must be in 1..{self.L}, got {self.k}")

    @property
    def p(self) -> int:
        """Number of layers below layer ``k`` (basis ``V``)."""
        return self.k - 1

    @property
    def q(self) -> int:
        """Number of layers above layer ``k`` (basis ``U``)."""
        return self.L - self.k


def mode_init(
    name: str,
    L: int,
    *,
    alpha: Any = 1,
    k: int | None = None,
    c: Any = Fraction(1, 10),
    signs: Sequence[int] | None = None,
) -> ModeInit:
    """The per-mode starting values of an init of :data:`INITS`.

    ``last-cI`` needs ``signs`` (the signs ``s`` with ``U = V diag(s)`` of a
    symmetric target): ``c I`` is aligned with no other target.  Raises
    :class:`InputError` for an init the reduction does not cover.
    """
    if name == "zas":
        return ModeInit(L, L, name=name)
    if name == "alpha-zas":
        return ModeInit(L, L, a0=alpha, name=name)
    if name == "zero-at":
        return ModeInit(L, L if k is None else int(k), name=name)
    if name == "last-cI":
        if signs is None:
            raise InputError(
                "last-cI (W_L = c I) is aligned with Phi only when Phi is symmetric: "
                "give the signs s with U = V diag(s)"
            )
        return ModeInit(L, L, b0=np.array([c * int(s) for s in signs], dtype=object), name=name)
    raise InputError(f"the reduction covers the inits {', '.join(INITS)}, not {name!r}")


# ---------------------------------------------------------------------------
# The per-mode recursion, written once
# ---------------------------------------------------------------------------


def mode_error(a: Any, b: Any, c: Any, sigma: Any, p: int, q: int) -> Any:
    """``e = c^q b a^p - sigma``: the mode's entry of ``E = P - Phi`` in the SVD basis."""
    return c**q * b * a**p - sigma


def mode_grads(a: Any, b: Any, c: Any, sigma: Any, p: int, q: int) -> tuple[Any, Any, Any, Any]:
    """``(e, g_a, g_b, g_c)``: the error and the mode's gradient entry of one layer
    of each group (``g_a``, ``g_c`` are 0 when the group is empty).

    With ``W_{L:l+1}`` and ``W_{l-1:1}`` aligned, eq. (2.5)
    ``G_l = W_{L:l+1}^T E W_{l-1:1}^T`` is ``V diag(g_a) V^T`` below layer
    ``k``, ``U diag(g_b) V^T`` at it, ``U diag(g_c) U^T`` above it (proven for
    every ``L`` in :mod:`zascheck.measure.spectral_proof`).
    """
    cq = c**q
    ap = a**p
    e = cq * b * ap - sigma
    g_a = cq * b * e * a ** (p - 1) if p >= 1 else 0 * e
    g_b = cq * e * ap
    g_c = c ** (q - 1) * b * e * ap if q >= 1 else 0 * e
    return e, g_a, g_b, g_c


def mode_step(
    a: Any, b: Any, c: Any, sigma: Any, eta: Any, p: int, q: int
) -> tuple[Any, Any, Any, Any]:
    """One GD step of every mode: ``(a', b', c', e)`` with ``e`` taken before the step."""
    e, g_a, g_b, g_c = mode_grads(a, b, c, sigma, p, q)
    return a - eta * g_a, b - eta * g_b, c - eta * g_c, e


def reduced_loss(e: Any) -> Any:
    """``R = 1/2 sum_i e_i^2`` (float arrays give a float; object arrays of balls,
    rationals or mpmath numbers give that type)."""
    if _is_obj(e):
        return sum((x * x for x in np.ravel(e)), 0 * np.ravel(e)[0]) / 2
    v = np.ravel(np.asarray(e, dtype=float))
    return 0.5 * float(v @ v)


def _is_obj(x: Any) -> bool:
    return isinstance(x, np.ndarray) and x.dtype == object


@dataclass
class ReducedRun:
    """What :func:`reduced_gd` produced: ``losses[t] = R(t)``, the final per-mode
    state, and (if recorded) the states ``(a, b, c)`` at every step."""

    losses: list[Any]
    a: Any
    b: Any
    c: Any
    steps: int
    states: list[tuple[Any, Any, Any]] = field(default_factory=list)


def reduced_gd(
    sigma: Any,
    init: ModeInit,
    eta: Any,
    steps: int,
    *,
    record: bool = False,
    scalar: Any = None,
) -> ReducedRun:
    """GD on the ``d`` scalar problems (one per singular value ``sigma_i``).

    ``sigma`` is a float64 array (then every step costs O(d) numpy operations)
    or an object array of exact / ball / mpmath numbers, in which case
    ``scalar`` converts the starting values to that type (e.g. a backend's
    ``b.scalar``).  ``losses`` has ``steps + 1`` entries ``R(0..steps)``; with
    ``record`` the states at ``t = 0..steps`` are kept.
    """
    if steps < 0:
        raise InputError(f"steps must be >= 0, got {steps}")
    a, b, c = mode_start(sigma, init, scalar)
    p, q = init.p, init.q
    losses, states = [], []
    for _ in range(steps):
        if record:
            states.append((a, b, c))
        a, b, c, e = mode_step(a, b, c, sigma, eta, p, q)
        losses.append(reduced_loss(e))
    losses.append(reduced_loss(mode_error(a, b, c, sigma, p, q)))
    if record:
        states.append((a, b, c))
    return ReducedRun(losses, a, b, c, steps, states)


def mode_start(sigma: Any, init: ModeInit, scalar: Any = None) -> tuple[Any, Any, Any]:
    """``(a0, b0, c0)`` broadcast to one entry per mode, in the type of ``sigma``."""
    n = np.shape(sigma)
    if not _is_obj(sigma):
        return tuple(  # type: ignore[return-value]
            np.broadcast_to(np.asarray(x, dtype=float), n).astype(float)
            for x in (init.a0, init.b0, init.c0)
        )
    if scalar is None:
        raise InputError("an object array of sigma needs scalar= to convert the start values")
    out = []
    for x in (init.a0, init.b0, init.c0):
        arr = np.broadcast_to(np.asarray(x, dtype=object), n)
        out.append(np.array([scalar(v) for v in arr.ravel()], dtype=object).reshape(n))
    return out[0], out[1], out[2]


# ---------------------------------------------------------------------------
# Between the matrix model and the modes
# ---------------------------------------------------------------------------


def aligned_svd(phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(U, sigma, V)`` with ``Phi = U diag(sigma) V^T`` (float64, numpy's SVD);
    ``Phi`` is ``d_y x d_x``, ``U`` is ``d_y x d_y``, ``V`` is ``d_x x d_x`` and
    ``sigma`` has ``d_x`` entries (zero beyond ``min(d_y, d_x)``)."""
    phi = np.asarray(phi, dtype=float)
    if phi.ndim != 2:
        raise InputError(f"Phi must be a matrix, got shape {phi.shape}")
    u, s, vt = np.linalg.svd(phi)
    sig = np.zeros(phi.shape[1])
    sig[: s.size] = s
    return u, sig, vt.T


def rational_orthogonal(d: int, rng: np.random.Generator, size: int = 3) -> Any:
    """An exactly orthogonal ``d x d`` rational matrix (``flint.fmpq_mat``): the
    Cayley transform ``(I - A)(I + A)^{-1}`` of a skew-symmetric ``A`` with
    integer entries in ``[-size, size]`` divided by ``size + 1``."""
    import flint

    a = flint.fmpq_mat(d, d)
    for i in range(d):
        for j in range(i + 1, d):
            x = flint.fmpq(int(rng.integers(-size, size + 1)), size + 1)
            a[i, j] = x
            a[j, i] = -x
    eye = flint.fmpq_mat(d, d, [1 if i == j else 0 for i in range(d) for j in range(d)])
    return (eye - a) * (eye + a).inv()


def _diag(b: Backend, vals: Any, rows: int, cols: int) -> Any:
    m = b.zeros(rows, cols)
    for i, v in enumerate(list(vals)[: min(rows, cols)]):
        m[i, i] = b.scalar(v)
    return m


def _embed(b: Backend, core: Any, rows: int, cols: int) -> Any:
    r, c = b.shape(core)
    if (r, c) == (rows, cols):
        return core
    m = b.zeros(rows, cols)
    for i in range(r):
        for j in range(c):
            m[i, j] = core[i, j]
    return m


def aligned_weights(
    b: Backend,
    u: Any,
    v: Any,
    state: tuple[Any, Any, Any],
    init: ModeInit,
    dims: Sequence[int] | None = None,
) -> list[Any]:
    """The matrices ``[W_1, ..., W_L]`` of an aligned state ``(a, b, c)``.

    ``u`` (``d_y x d_y``) and ``v`` (``d_x x d_x``) in any form ``b.matrix``
    accepts.  ``dims = [d_0, ..., d_L]`` embeds the square ``d_x`` core in the
    top-left block of wider hidden layers (Remark (1)); only ``k = L``.
    """
    a_, b_, c_ = (np.ravel(np.asarray(x, dtype=object)) for x in state)
    U, V = b.matrix(u), b.matrix(v)
    dy, dx = b.shape(U)[0], b.shape(V)[0]
    dims = list(dims) if dims is not None else [dx] * init.L + [dy]
    if len(dims) != init.L + 1 or dims[0] != dx or dims[-1] != dy:
        raise InputError(f"dims must be [d_x = {dx}, ..., d_y = {dy}] with L + 1 entries")
    if dims != [dx] * init.L + [dy] and init.k != init.L:
        raise InputError("the rectangular embedding covers k = L (ZAS-like) inits only")
    wa = b.mm(b.mm(V, _diag(b, a_, dx, dx)), b.T(V))
    wb = b.mm(b.mm(U, _diag(b, b_, dy, dx)), b.T(V))
    wc = b.mm(b.mm(U, _diag(b, c_, dy, dy)), b.T(U))
    out = []
    for l in range(1, init.L + 1):
        w = wa if l < init.k else (wb if l == init.k else wc)
        out.append(_embed(b, w, dims[l], dims[l - 1]))
    return out


def project_aligned(
    b: Backend, ws: Sequence[Any], u: Any, v: Any, init: ModeInit
) -> tuple[Any, Any, Any]:
    """The per-mode values ``(a, b, c)`` read off weights: the diagonals of
    ``V^T W_1 V`` (a), ``U^T W_k V`` (b), ``U^T W_L U`` (c), each from the
    top-left core block.  For aligned weights this inverts
    :func:`aligned_weights`; for others it is the aligned part only."""
    U, V = b.matrix(u), b.matrix(v)
    dy, dx = b.shape(U)[0], b.shape(V)[0]

    def core(w: Any, r: int, c: int) -> Any:
        m = b.zeros(r, c)
        for i in range(r):
            for j in range(c):
                m[i, j] = w[i, j]
        return m

    def diag(m: Any) -> np.ndarray:
        r, c = b.shape(m)
        vals = [m[i, i] if i < r else b.scalar(0) for i in range(c)]
        return np.array(vals, dtype=object)

    ones = np.array([b.scalar(1)] * dx, dtype=object)
    a_ = diag(b.mm(b.mm(b.T(V), core(ws[0], dx, dx)), V)) if init.k > 1 else ones
    wk = core(ws[init.k - 1], dy, dx)
    b_ = diag(b.mm(b.mm(b.T(U), wk), V))
    c_ = ones
    if init.k < init.L:
        c_ = diag(b.mm(b.mm(b.T(U), core(ws[-1], dy, dy)), U))
    return a_, b_, c_


# ---------------------------------------------------------------------------
# The cross-check: full matrix GD beside the reduced one, in ball arithmetic
# ---------------------------------------------------------------------------


def _disjoint(x: Any, y: Any) -> bool:
    """Two arb balls certainly differ (their enclosures do not overlap)."""
    return not x.overlaps(y)


def compare_full_reduced(
    b: Backend,
    u: Any,
    sigma: Sequence[Any],
    v: Any,
    ws0: Sequence[Any],
    init: ModeInit,
    eta: Any,
    steps: int,
    dims: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Run the full matrix GD (:func:`zascheck.dynamics.gd_step`) from ``ws0``
    and the reduced one from :func:`project_aligned` of ``ws0`` side by side in
    the ball backend ``b`` (inside its session), and compare at every step
    ``t = 0..steps`` each entry of every ``W_l`` and the loss.

    ``Phi = U diag(sigma) V^T`` is formed in ``b`` from exact ``u``, ``sigma``,
    ``v`` (rational, e.g. :func:`rational_orthogonal`).  Both runs enclose
    exact GD from the same exact start, so if the reduction is right the
    enclosures overlap at every step; a pair of disjoint balls proves the runs
    differ.  Returns ``first_disjoint`` (``None`` or ``{"t", "what", ...}``),
    ``steps``, the largest midpoint gap, the largest ball radius, and the
    largest ``|mid_full - mid_reduced| / (rad_full + rad_reduced)`` (at most
    about 1 while the balls overlap).
    """
    U, V = b.matrix(u), b.matrix(v)
    dy, dx = b.shape(U)[0], b.shape(V)[0]
    sig = np.array([b.scalar(s) for s in list(sigma)[:dx]], dtype=object)
    phi = b.mm(b.mm(U, _diag(b, sig, dy, dx)), b.T(V))
    target = Target.whitened(b, phi)
    ws = [b.matrix(w) for w in ws0]
    model.validate(b, ws, target)
    a_, b_, c_ = project_aligned(b, ws, U, V, init)
    eta_b = b.scalar(eta)
    first, gap, rad, ratio = None, 0.0, 0.0, 0.0
    for t in range(steps + 1):
        r_full, g = model.loss_and_grads(b, ws, target)
        e = mode_error(a_, b_, c_, sig, init.p, init.q)
        r_red = reduced_loss(e)
        rec = aligned_weights(b, U, V, (a_, b_, c_), init, dims)
        pairs = [(r_full, r_red, "R")]
        for l, (w, wr) in enumerate(zip(ws, rec, strict=True), start=1):
            pairs += [(x, y, f"W_{l}") for x, y in zip(b.entries(w), b.entries(wr), strict=True)]
        for x, y, what in pairs:
            dz, r2 = abs(b.to_float(x) - b.to_float(y)), b.radius(x) + b.radius(y)
            gap, rad = max(gap, dz), max(rad, b.radius(x), b.radius(y))
            ratio = max(ratio, dz / r2 if r2 > 0 else (0.0 if dz == 0 else float("inf")))
            if first is None and _disjoint(x, y):
                first = {"t": t, "what": what, "full": b.to_str(x, 12), "reduced": b.to_str(y, 12)}
        if first is not None or t == steps:
            break
        ws = model.gd_update(b, ws, g, eta_b)
        a_, b_, c_, _e = mode_step(a_, b_, c_, sig, eta_b, init.p, init.q)
    return {
        "first_disjoint": first,
        "steps": t,
        "max_gap": gap,
        "max_radius": rad,
        "max_gap_over_radii": ratio,
    }


def exact_target(
    rng: np.random.Generator, d_y: int, d_x: int, *, symmetric: bool = False
) -> tuple[Any, list[Any], Any]:
    """``(u, sigma, v)`` exact (``flint.fmpq_mat``, ``fmpq``): rational orthogonal
    ``u`` (``d_y x d_y``) and ``v`` (``d_x x d_x``), singular values ``k/4``
    (``k`` in 1..12).  ``symmetric``: ``Phi = Q diag(lambda) Q^T`` with
    eigenvalues of both signs, written as ``u = Q diag(sign lambda)``,
    ``v = Q``, ``sigma = |lambda|`` (needs ``d_y = d_x``)."""
    import flint

    r = min(d_y, d_x)
    sig = [flint.fmpq(int(rng.integers(1, 13)), 4) for _ in range(r)]
    if not symmetric:
        return rational_orthogonal(d_y, rng), sig, rational_orthogonal(d_x, rng)
    if d_y != d_x:
        raise InputError("a symmetric target is square")
    q = rational_orthogonal(d_x, rng)
    signs = [1 if i % 2 == 0 else -1 for i in range(d_x)]
    u = q * flint.fmpq_mat(
        d_x, d_x, [signs[i] if i == j else 0 for i in range(d_x) for j in range(d_x)]
    )
    return u, sig, q


def case_init(
    name: str, L: int, dims: list[int], u: Any, v: Any, opts: dict[str, Any], seed: int = 0
) -> tuple[list[Any], ModeInit]:
    """The actual starting weights of init ``name`` (exact: float64 entries or
    rationals) and the :class:`ModeInit` giving the groups' structure (``k``).

    Square inits come from :mod:`zascheck.inits` (``zas``, ``alpha-zas`` with
    ``opts["alpha"]``, ``zero-at`` with ``opts["k"]``, ``last-cI`` with
    ``opts["c"]``, ``near-identity``); for wider hidden layers (``dims``) the
    ZAS init of Remark (1) as printed, ``W_l = [[I_{d_0}, 0], [0, 0]]``,
    ``W_L = 0``, is built exactly.
    """
    from zascheck import inits
    from zascheck.arith import backend

    d = dims[0]
    if len(set(dims)) > 1:
        if name != "zas":
            raise InputError("the rectangular embedding is checked from ZAS only")
        mi = ModeInit(L, L)
        state = (np.ones(d, dtype=object), np.zeros(d, dtype=object), np.ones(d, dtype=object))
        return aligned_weights(backend("exact"), u, v, state, mi, dims), mi
    k = int(opts.get("k", L))
    ws = {
        "zas": lambda: inits.zas(L, d),
        "alpha-zas": lambda: inits.alpha_zas(L, d, float(opts.get("alpha", 1.5))),
        "zero-at": lambda: inits.zero_at(L, d, k),
        "last-cI": lambda: inits.last_c_identity(L, d, float(opts.get("c", 0.125))),
        "near-identity": lambda: inits.near_identity(L, d, seed),
    }
    if name not in ws:
        raise InputError(f"unknown init {name!r}; the cross-check knows {', '.join(ws)}")
    return ws[name](), ModeInit(L, k if name == "zero-at" else L, name=name)


# ---------------------------------------------------------------------------
# Iterations to eps over an array of steps (vectorized over eta and modes)
# ---------------------------------------------------------------------------


def iterations_to_eps_grid(
    sigma: Any,
    init: ModeInit,
    etas: Any,
    *,
    rel_tol: float,
    max_steps: int,
    weights: Any = None,
    blowup: float = 1e12,
    give_up: float | None = None,
) -> np.ndarray:
    """Iterations of the reduced GD until ``R(t) <= rel_tol R(0)``, for every
    step of ``etas`` at once: an int array of ``len(etas)`` counts, ``-1``
    where the run is censored by the budget (``max_steps`` or ``give_up``)
    and ``-2`` where it diverged.

    ``sigma``: float64 singular values (``d`` modes); ``weights``: the
    multiplicity of each (default 1), so ``R = 1/2 sum_i w_i e_i^2`` (e.g.
    ``Phi = -I_d`` is one mode ``sigma = 1`` of weight ``d``).  The stopping
    and divergence rules are those of :func:`zascheck.dynamics.gd` (and hence
    of :func:`zascheck.experiments.iterations_to_eps`): the count is the
    first ``t <= max_steps`` with ``R(t) <= rel_tol R(0)``; a run with a
    non-finite ``R`` or ``R > blowup R(0)`` diverged.  ``give_up``: stop
    the runs still going once ``t > give_up x`` (the smallest count found so
    far), marking them censored (their count is that much worse than the
    best one).  One Python loop over the steps; each step is one
    :func:`mode_step` on an ``(n_eta, d)`` array of the runs still going.
    Raises :class:`InputError` for ``rel_tol`` outside ``(0, 1)``, a
    negative ``max_steps`` or a non-positive step.
    """
    if not 0 < rel_tol < 1:
        raise InputError(f"rel_tol must be in (0, 1), got {rel_tol}")
    if max_steps < 0:
        raise InputError(f"max_steps must be >= 0, got {max_steps}")
    eta = np.asarray(etas, dtype=float).ravel()
    if np.any(~(eta > 0)) or np.any(~np.isfinite(eta)):
        raise InputError("every step eta must be finite and > 0")
    sig = np.asarray(sigma, dtype=float).ravel()
    w = np.ones_like(sig) if weights is None else np.asarray(weights, dtype=float).ravel()
    a0, b0, c0 = mode_start(sig, init)
    shape = (eta.size, sig.size)
    a, b, c = (np.array(np.broadcast_to(x, shape)) for x in (a0, b0, c0))
    col = eta[:, None]
    alive = np.arange(eta.size)
    out = np.full(eta.size, -1, dtype=int)
    r0 = 0.5 * float(np.sum(w * mode_error(a0, b0, c0, sig, init.p, init.q) ** 2))
    thr, top = rel_tol * r0, blowup * max(r0, 1e-300)
    best = math.inf
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(max_steps + 1):
            a_n, b_n, c_n, e = mode_step(a, b, c, sig, col, init.p, init.q)
            r = 0.5 * ((e * e) @ w)
            done = r <= thr
            gone = done | ~(r <= top)  # diverged: R > blowup R(0) or not finite
            if give_up is not None and t > give_up * best:
                gone[:] = True
            if gone.any():
                out[alive[gone]] = np.where(done[gone], t, -2)
                if give_up is not None and t > give_up * best:
                    out[alive[gone & ~done & (r <= top)]] = -1
                if done.any():
                    best = min(best, t)
                if gone.all():
                    break
                keep = ~gone
                alive, col = alive[keep], col[keep]
                a_n, b_n, c_n = a_n[keep], b_n[keep], c_n[keep]
            if t == max_steps:
                out[alive] = -1
                break
            a, b, c = a_n, b_n, c_n
    return out
