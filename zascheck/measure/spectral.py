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
    return_state: bool = False,
) -> Any:
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
    t = 0
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(max_steps + 1):
            a_n, b_n, c_n, e = mode_step(a, b, c, sig, col, init.p, init.q)
            r = 0.5 * ((e * e) @ w)
            done = r <= thr
            gone = done | ~(r <= top)  # diverged: R > blowup R(0) or not finite
            if give_up is not None and t > give_up * best:
                gone[:] = True
            a_t, b_t = a, b  # the state after t steps, rows of alive
            if gone.any():
                a_t, b_t = a[~gone], b[~gone]
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
    if not return_state:
        return out
    more = t == max_steps and alive.size and not gone.all()  # censored at max_steps: their state
    return (out, alive, a_t, b_t) if more else (out, alive[:0], a_t[:0], b_t[:0])


# ---------------------------------------------------------------------------
# Iteration counts too long to run: a bracket from shells of the progress variable
# ---------------------------------------------------------------------------
#
# From ZAS each mode's state is (q, D), q = e / sigma, D = a^2 - b^2 (b is the root
# of b (D + b^2)^((L-1)/2) = sigma (1 + q)), and one GD step multiplies q by
# rho = 1 - eta K (K below, the factor of the class certificates,
# zascheck.measure.certify_thm43.K_factor) and D by 1 - eta^2 e^2 a^(2L-4).  While
# -1 < q < 0 and 0 < rho < 1 the logit u = log(1 + q) - log(-q) increases every
# step, by f(q, rho) = log(1 + q rho) - log(1 + q) - log(rho), decreasing in q and
# in rho; once |q| is small and |rho| < 1 (an oscillating tail) u = -log|q|
# increases by -log|rho|.  Cutting u into shells, the steps spent in a shell are
# bracketed by the smallest and largest increment on it, so the time at which the
# mode's |q| passes each shell's level is bracketed without running the steps.


#: the shells' width in the progress variable u (a shell holds about
#: SHELL_WIDTH / (eta K) steps; the bracket's relative width is about
#: SHELL_WIDTH x |d log(eta K) / du| plus one step per shell)
SHELL_WIDTH = 0.08

#: a mode that does not contract monotonically (``rho <= 0``, or ``q >= 0``) is
#: followed in ``-log|q|`` only once ``|q| <= TAIL_Q``
TAIL_Q = 1e-2


def zas_mode_b(L: int, P: np.ndarray, D: np.ndarray) -> np.ndarray:
    """The root ``b >= 0`` of ``b (D + b^2)^((L-1)/2) = P`` (float64, ``P >= 0``,
    ``D > 0``, arrays of one shape): the mode's last-layer entry from its
    end-to-end value ``P = b a^(L-1)`` and ``D = a^2 - b^2``.  Newton on
    ``u = log b`` (convex and increasing, slope in ``[1, L]``) from the right of
    the root, so it converges monotonically (about 8 iterations; 60 at most)."""
    P = np.maximum(np.asarray(P, float), 1e-300)
    D = np.asarray(D, float)
    lp = np.log(P)
    # b <= P D^-((L-1)/2) and b^L <= P: the smaller bound is right of the root
    u = np.minimum(lp - 0.5 * (L - 1) * np.log(D), lp / L)
    last = False
    for _ in range(60):
        w = np.exp(2 * u)
        phi = u + 0.5 * (L - 1) * np.log(D + w) - lp
        step = phi / (1 + (L - 1) * w / (D + w))
        u = u - step
        if last:
            break
        # quadratic convergence: one more step after 1e-9 leaves rounding only
        last = bool(np.all(np.abs(step) <= 1e-9 * np.maximum(1.0, np.abs(u))))
    return np.exp(u)


def zas_mode_rho(L: int, sigma: Any, eta: Any, q: Any, D: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(rho, a^(2L-4))`` of a ZAS mode in the state ``(q, D)``: one GD step maps
    ``q`` to ``q rho``, ``rho = 1 - eta K``,
    ``K = b^2 a^(2L-4) S_{L-1}(x) + a^(2L-2) (1 - x)^(L-1)``,
    ``x = eta e b a^(L-3)``, ``S_n(y) = sum_{i<n} y^i`` at ``y = 1 - x``
    (float64, broadcast; ``L >= 2``; ``nan`` where ``x >= 1``)."""
    sigma, eta, q, D = np.broadcast_arrays(*(np.asarray(v, float) for v in (sigma, eta, q, D)))
    b = zas_mode_b(L, sigma * (1 + q), D)
    a2 = D + b * b
    la = 0.5 * np.log(a2)
    x = eta * sigma * q * b * np.exp((L - 3) * la)
    n = L - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        ln1y = np.log1p(-x)
        small = np.abs(x) < 1e-300
        S = np.where(small, float(n), -np.expm1(n * ln1y) / np.where(small, 1.0, x))
        a4 = np.exp((2 * L - 4) * la)
        K = b * b * a4 * S + np.exp((2 * L - 2) * la + n * ln1y)
    return np.where(x < 1, 1 - eta * K, np.nan), a4


def _logit_f(q: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """The logit's increment ``log(1 + q rho) - log(1 + q) - log(rho)`` of one step."""
    return np.log1p(q * rho) - np.log1p(q) - np.log(rho)


@dataclass
class _Shells:
    """Per run (rows: one ``(eta, mode)`` pair each) the levels ``Q[:, k]`` of
    ``|q|`` at the shell edges (decreasing; ``nan`` past the run's last edge)
    and the bracket ``[t_lo[:, k], t_hi[:, k]]`` of the steps after which
    ``|q|`` is first at or below ``Q[:, k]``; ``ok`` = every shell's
    increments were positive and below the contraction limit."""

    Q: np.ndarray
    t_lo: np.ndarray
    t_hi: np.ndarray
    ok: np.ndarray


def _edge_rhos(
    L: int, sig: np.ndarray, eta: np.ndarray, u: np.ndarray, tail: np.ndarray, Dv: np.ndarray
) -> tuple[list[np.ndarray], np.ndarray]:
    """``rho`` on the shell edges ``u`` (rows: runs, columns: edges) at ``D = Dv``:
    one array (the logit's ``q`` for monotone runs, ``q = -|q|`` in the tail)
    plus, for tail runs, ``q = +|q|``; and ``a^(2L-4)``, the larger of the two."""
    col = lambda v: v[:, None]  # noqa: E731
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        qq = np.where(col(tail), -np.exp(-u), -1.0 / (1.0 + np.exp(u)))
        r, a4 = zas_mode_rho(L, col(sig), col(eta), qq, col(Dv))
        out = [r]
        tl = np.flatnonzero(tail)
        if tl.size:  # the tail also at q > 0
            r2, a42 = r.copy(), a4.copy()
            r2[tl], a42[tl] = zas_mode_rho(L, sig[tl, None], eta[tl, None], -qq[tl], Dv[tl, None])
            out.append(r2)
            a4 = np.fmax(a4, a42)
    return out, a4


def _shell_rates(
    u: np.ndarray, tail: np.ndarray, rhos: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Q, c_lo, c_hi)``: the level ``|q|`` at each edge and the smallest and
    largest increment of ``u`` per step on each shell (between consecutive
    edges), from ``rho`` at both edges (every array of ``rhos``: both signs of
    ``q`` in the tail, every ``D`` taken); ``c_lo`` is ``nan`` where the shell
    does not contract (monotone runs: ``0 < rho < 1``; tail: ``|rho| < 1``).
    Stated: ``rho`` between the edges is assumed to lie between its values there."""
    col = lambda v: v[:, None]  # noqa: E731
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        q_m = -1.0 / (1.0 + np.exp(u))  # the logit's edges (monotone runs)
        Q = np.where(col(tail), np.exp(-u), -q_m)
        R = np.stack(rhos)
        lo = np.minimum(R[..., :-1], R[..., 1:]).min(axis=0)
        hi = np.maximum(R[..., :-1], R[..., 1:]).max(axis=0)
        absR = np.abs(R)
        amax = np.maximum(absR[..., :-1], absR[..., 1:]).max(axis=0)
        straddle = (lo <= 0) & (hi >= 0)
        amin = np.where(straddle, 0.0, np.minimum(absR[..., :-1], absR[..., 1:]).min(axis=0))
        c_lo = np.where(col(tail), -np.log(amax), _logit_f(q_m[:, 1:], hi))
        c_hi = np.where(col(tail), -np.log(amin), _logit_f(q_m[:, :-1], lo))
        bad = np.where(col(tail), ~(amax < 1), ~((lo > 0) & (hi < 1)))
        c_lo = np.where(bad | ~(c_lo > 0), np.nan, c_lo)
    return Q, c_lo, c_hi


def _shells(
    L: int,
    sig: np.ndarray,
    eta: np.ndarray,
    q0: np.ndarray,
    D0: np.ndarray,
    q_end: np.ndarray,
    width: float,
) -> _Shells:
    """The shells of every run from its state ``(q0, D0)`` down to ``|q| = q_end``
    (module comment above): monotone runs (``-1 < q0 < 0``) in the logit, the
    others (``|q0| <= TAIL_Q``) in ``-log|q|``.  ``D`` is taken in
    ``[D0 - dD, D0]`` with ``dD`` bounded by the drift summed over the shells'
    upper step counts (two passes)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rho0, _a4 = zas_mode_rho(L, sig, eta, q0, D0)
        tail = ~((q0 < 0) & (q0 > -1) & (rho0 > 0))
        u0 = np.where(tail, -np.log(np.abs(q0)), np.log1p(q0) - np.log(-q0))
        u1 = np.where(tail, -np.log(q_end), np.log1p(-q_end) - np.log(q_end))
    arrived = np.isfinite(u0) & (u0 >= u1)  # |q0| <= q_end: one level, no shell
    u1 = np.where(arrived, u0, u1)
    n = np.ceil((u1 - u0) / width)
    n = np.where(np.isfinite(n) & (n > 0), n, 0).astype(int)
    k = np.arange(int(n.max()) + 2)
    u = np.minimum(u0[:, None] + width * k[None, :], u1[:, None])
    past = k[None, :] > n[:, None]
    rhos, a4 = _edge_rhos(L, sig, eta, u, tail, D0)
    w = np.diff(u, axis=1)
    for _pass in range(2):
        Q, c_lo, c_hi = _shell_rates(u, tail, rhos)
        live = ~past[:, 1:]
        t_lo, t_hi, n_hi = _shell_times(w, c_lo, c_hi, live)
        ok = np.all(np.isfinite(n_hi) | ~live, axis=1) & ~(
            (q0 < -1) | (tail & (np.abs(q0) > TAIL_Q))
        )
        drift = np.nansum(n_hi * (eta * sig)[:, None] ** 2 * Q[:, :-1] ** 2 * a4[:, :-1], axis=1)
        dD = D0 * drift
        ok &= dD < 0.5 * D0
        if _pass == 0:  # again with D also at the lower end of its drift
            more, a4_lo = _edge_rhos(L, sig, eta, u, tail, D0 - dD)
            rhos, a4 = rhos + more, np.fmax(a4, a4_lo)
    ok &= np.abs(rho0) < 1  # also the modes already at their last level stay there
    return _Shells(np.where(past, np.nan, Q), t_lo, t_hi, ok)


def _shell_times(
    w: np.ndarray, c_lo: np.ndarray, c_hi: np.ndarray, live: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(t_lo, t_hi, n_hi)``: the bracket of the steps after which ``u`` first
    reaches each shell edge (columns ``0..n``), and an upper bound of the steps
    spent in each shell.  With ``m_j`` the steps starting in shell ``j``
    (width ``w_j``, increments in ``[c_lo_j, c_hi_j]``) and ``o_j in [0,
    c_hi_(j-1))`` the overshoot past its lower edge on entry,
    ``c_lo_j m_j <= w_j + o_(j+1) - o_j <= c_hi_j m_j``; summed over the
    shells below edge ``k`` the overshoots telescope, leaving
    ``sum w_j / c_hi_j + sum min(0, 1 - c_hi_(j-1) / c_hi_j)`` below and
    ``sum w_j / c_lo_j + sum max(0, c_hi_(j-1) (1/c_lo_(j-1) - 1/c_lo_j))
    + c_hi_(k-1) / c_lo_(k-1)`` above: no step lost per shell."""
    zero = np.zeros((w.shape[0], 1))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ch = np.minimum(c_hi, 700.0)  # a step with rho = 0 ends the mode (q = 0)
        n_hi = np.where(live, w / c_lo, 0.0)
        lo_terms = np.where(live, w / ch, 0.0)
        prev_h = np.concatenate([zero, ch[:, :-1]], axis=1)
        prev_l = np.concatenate([np.full_like(zero, np.inf), c_lo[:, :-1]], axis=1)
        lo_terms += np.where(live, np.minimum(0.0, 1.0 - prev_h / ch), 0.0)
        hi_terms = n_hi + np.where(live, np.maximum(0.0, prev_h * (1.0 / prev_l - 1.0 / c_lo)), 0.0)
        t_lo = np.ceil(np.maximum(0.0, np.cumsum(np.hstack([zero, lo_terms]), axis=1)) - 1e-9)
        last = np.hstack([zero, np.where(live, ch / c_lo, 0.0)])
        t_hi = np.floor(np.cumsum(np.hstack([zero, hi_terms]), axis=1) + last + 1e-9)
    return t_lo, t_hi, n_hi


def _first_below(times: np.ndarray, deltas: np.ndarray, start: float, thr: float) -> float:
    """The first time at which ``start + (sum of the deltas of events up to it)`` is
    ``<= thr`` (events ``(times, deltas)``, deltas <= 0); ``inf`` if never."""
    if start <= thr:
        return 0.0
    m = np.isfinite(times) & (deltas != 0)
    order = np.argsort(times[m], kind="stable")
    t, s = times[m][order], start + np.cumsum(deltas[m][order])
    hit = np.flatnonzero(s <= thr)
    return float(t[hit[0]]) if hit.size else math.inf


def _combine(sh: _Shells, wsig2: np.ndarray, thr2: float) -> tuple[float, float]:
    """``(lo, hi)`` steps (after the shells' start) to ``sum_i w_i e_i^2 <= thr2``
    for the modes of one ``eta`` (rows of ``sh``; ``wsig2 = w_i sigma_i^2``):
    the upper end from ``|q_i| <= Q_k`` after ``t_hi[k]`` steps, the lower end
    from ``|q_i| > Q_k`` before ``t_lo[k]`` steps."""
    Q2 = np.nan_to_num(sh.Q, nan=0.0) ** 2 * wsig2[:, None]
    last = np.isnan(sh.Q)
    # upper: the level drops from Q_(k-1) to Q_k at t_hi[k]
    d_hi = np.where(last[:, 1:], 0.0, Q2[:, 1:] - Q2[:, :-1])
    hi = _first_below(sh.t_hi[:, 1:].ravel(), d_hi.ravel(), float(Q2[:, 0].sum()), thr2)
    # lower: |q| > Q_k before t_lo[k]: the level is Q_k on [t_lo[k-1], t_lo[k]), 0 after the last
    nxt = np.concatenate([Q2[:, 2:], np.zeros((Q2.shape[0], 1))], axis=1)
    nxt = np.where(last[:, 1:] | np.concatenate([last[:, 2:], np.ones((Q2.shape[0], 1), bool)], axis=1),
                   0.0, nxt)  # fmt: skip
    d_lo = np.where(last[:, 1:], 0.0, nxt - Q2[:, 1:])
    lo = _first_below(sh.t_lo[:, 1:].ravel(), d_lo.ravel(), float(Q2[:, 1].sum()), thr2)
    return lo, hi


def iterations_bracket_grid(
    sigma: Any,
    L: int,
    etas: Any,
    *,
    rel_tol: float,
    weights: Any = None,
    exact_steps: int = 2000,
    max_exact_steps: int = 64_000,
    width: float = SHELL_WIDTH,
) -> tuple[np.ndarray, np.ndarray]:
    """A bracket ``[lo, hi]`` of the iterations of GD from ZAS to
    ``R(t) <= rel_tol R(0)`` (the count of :func:`iterations_to_eps_grid`) for
    every step of ``etas``, without running counts of 10^5..10^7 steps.

    Runs of at most ``exact_steps`` steps are run (``lo = hi``, the count
    :func:`iterations_to_eps_grid` gives; ``-2`` diverged).  The others: from
    their float64 state after ``T = exact_steps`` steps each mode's remaining
    path is cut into shells of the progress variable (module comment above)
    and the times at which its ``|q|`` passes each level are bracketed from
    the smallest and largest per-step increment on each shell
    (:func:`_shell_times`); the count's bracket is where the weighted sum of
    the levels' squares first falls to ``2 rel_tol R(0)`` (:func:`_combine`).
    A step some mode of which does not fit the shells yet (an oscillating
    transient) is rerun with ``T`` doubled, up to ``max_exact_steps``; past
    that it stays ``lo = hi = -1``, and so does a run still going after ``T``
    steps some mode of which sits by a minimum that is unstable at its current
    ``D = a^2 - b^2`` (``rho < -1`` at ``q = 0``: it could converge only
    after ``D`` drifts).

    STATED, not certified: the increments are taken at the shells' edges
    (not enclosed over the shell), the state after ``T`` steps is float64, and
    rounding in the later steps is not modelled; ``tests/test_fig2_bracket.py``
    checks the bracket against the exact count where that is affordable.
    ``sigma``, ``weights``: float64 (``d`` modes); ``L >= 2``.  Raises
    :class:`InputError` as :func:`iterations_to_eps_grid`, or for ``L < 2``."""
    if L < 2:
        raise InputError(f"the shell bracket needs L >= 2, got {L}")
    sig = np.asarray(sigma, dtype=float).ravel()
    w = np.ones_like(sig) if weights is None else np.asarray(weights, dtype=float).ravel()
    eta = np.asarray(etas, dtype=float).ravel()
    lo, hi = np.full(eta.size, -1), np.full(eta.size, -1)
    pending, T = np.arange(eta.size), exact_steps
    while pending.size and max_exact_steps >= T:
        out, left, a, b = iterations_to_eps_grid(sig, mode_init("zas", L), eta[pending],
                                                 rel_tol=rel_tol, max_steps=T, weights=w,
                                                 return_state=True)  # fmt: skip
        lo[pending], hi[pending] = out, out
        # a run some mode of which sits by a minimum that is unstable at its current D
        # (rho < -1 at q = 0) could converge only after D drifts: not followed (-1)
        with np.errstate(invalid="ignore", over="ignore"):
            rho_min, _a4 = zas_mode_rho(
                L, sig[None, :], eta[pending[left], None], 0.0, a * a - b * b
            )
        keep = np.all(rho_min > -1, axis=1)
        left, a, b = left[keep], a[keep], b[keep]
        if left.size == 0:
            break
        got = _bracket_from_state(L, sig, w, eta[pending[left]], a, b, rel_tol, width)
        for j, g in zip(pending[left], got, strict=True):
            if g is not None:
                lo[j], hi[j] = T + g[0], T + g[1]
        pending = pending[left][[g is None for g in got]]
        T *= 2
    return lo, hi


def _bracket_from_state(
    L: int,
    sig: np.ndarray,
    w: np.ndarray,
    eta: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    rel_tol: float,
    width: float,
) -> list[tuple[int, int] | None]:
    """Per step ``eta[i]`` (modes' state ``a[i], b[i]``): the bracket of the further
    steps to ``R <= rel_tol R(0)``, or ``None`` where a mode does not fit the shells."""
    thr2 = rel_tol * float(w @ (sig * sig))  # 2 rel_tol R(0)
    # every mode is followed down to a level where all of them together weigh 10^-4 thr2
    q_end = 1e-2 * math.sqrt(thr2 / float(w @ (sig * sig)))
    n_run, d = a.shape
    S, H = np.broadcast_to(sig, (n_run, d)).ravel(), np.repeat(eta, d)
    with np.errstate(over="ignore", invalid="ignore"):
        q0 = ((b * a ** (L - 1)) / sig - 1.0).ravel()
        D0 = (a * a - b * b).ravel()
    sh = _shells(L, S, H, q0, D0, np.full(S.size, q_end), width)
    got: list[tuple[int, int] | None] = []
    for i in range(n_run):
        rows = slice(i * d, (i + 1) * d)
        part = _Shells(sh.Q[rows], sh.t_lo[rows], sh.t_hi[rows], sh.ok[rows])
        t_lo, t_hi = _combine(part, w * sig * sig, thr2) if part.ok.all() else (0.0, math.inf)
        got.append((int(t_lo), int(t_hi)) if math.isfinite(t_hi) else None)
    return got
