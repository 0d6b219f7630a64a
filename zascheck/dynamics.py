"""Gradient descent and gradient flow on the deep linear network.

Both are written against :mod:`zascheck.arith` and :mod:`zascheck.model`, so
they run in float64, mp, ball or exact arithmetic.

Gradient descent (paper eq. 2.4) :func:`gd`
    ``W_l(t+1) = W_l(t) - eta G_l(t)``, with observers called at every step
    and the stop rules ``R <= rel_tol * R(0)``, a step budget, and divergence
    (non-finite loss, loss above ``blowup * R(0)``, or, in ball arithmetic,
    balls too wide to say anything).

Gradient flow (eq. 4.1) :func:`flow`
    ``dW_l/dt = -G_l``.  The vector field is a polynomial in the weights, so
    its Taylor coefficients follow exactly from the model's own gradient
    formula evaluated in truncated power-series arithmetic
    (:class:`SeriesBackend`: the series of ``W_l`` is extended one coefficient
    at a time, ``W_l^[k+1] = -G_l^[k] / (k+1)``).  Steps are chosen from the
    size of the last two coefficients (Jorba & Zou, 2005) so the truncated
    tail stays below ``tol``; the sum of those tail estimates is reported as
    the integration error achieved.  It is an *estimate* (not an enclosure):
    flow verdicts are therefore ``holds``, never ``certified``.

    In ball arithmetic above 128 bits the high Taylor coefficients, whose
    terms ``c_k h^k`` are far below the weights, are computed at fewer bits
    (:func:`coefficient_bits`); their balls keep every rounding, and a step
    whose tapered coefficients would add more than one unit roundoff to the
    weights is redone at full precision (:func:`_taper_ok`).

    mpmath's ``odefun`` (also a Taylor method) was measured at 1.6 s per unit
    of time for ``L = 3, d = 2`` at 113 bits; this integrator is written here
    because it reuses the model's formula and runs in any backend, including
    flint's arb matrices, which are an order of magnitude faster than mpmath's.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import reduce
from typing import Any

import numpy as np

from zascheck import model
from zascheck.arith import Backend
from zascheck.errors import InputError
from zascheck.model import Target
from zascheck.threads import blas_threads

__all__ = [
    "MIN_ORDER",
    "FlowRun",
    "GDRun",
    "SeriesBackend",
    "cauchy_block",
    "flow",
    "flow_log_tol",
    "gd",
    "gd_step",
    "taylor_order",
]

Observer = Callable[[int, Sequence[Any], Any, Sequence[Any]], "bool | None"]


# ---------------------------------------------------------------------------
# Gradient descent
# ---------------------------------------------------------------------------


@dataclass
class GDRun:
    """What a GD run produced.

    ``losses[t]`` is ``R(t)`` (a backend scalar) for ``t = 0..steps``;
    ``stop`` is one of ``converged``, ``budget``, ``diverged``, ``precision``
    (ball radii too wide to continue) or ``observer`` (an observer asked to stop).
    """

    losses: list[Any]
    steps: int
    stop: str
    ws: list[Any]
    eta: Any
    records: dict[str, list[Any]] = field(default_factory=dict)


def check_eta(eta: Any) -> None:
    """Raise :class:`InputError` unless ``eta`` is a finite number > 0."""
    try:
        v = float(Fraction(eta)) if isinstance(eta, str) else float(eta)
    except (TypeError, ValueError):
        mid = getattr(eta, "mid", None)
        v = float(mid()) if mid is not None else float(int(eta.p) / int(eta.q))
    if v == 0.0 and _positive_below_double(eta):
        return  # e.g. Theorem 4.3's step for a huge target, held exactly (ball, mp, exact)
    if not (v > 0 and math.isfinite(v)):
        raise InputError(f"step size eta must be a finite number > 0, got {eta}")


def _positive_below_double(eta: Any) -> bool:
    """``eta > 0`` decided exactly for a step that ``float`` rounds to 0 (a
    ``Fraction``, a ball, an mpf, an fmpq below the smallest double)."""
    try:
        q = Fraction(eta) if isinstance(eta, str) else eta
        return bool(q > 0)
    except (TypeError, ValueError):
        return False


def gd_step(
    b: Backend, ws: Sequence[Any], target: Target, eta: Any
) -> tuple[list[Any], Any, list[Any]]:
    """One GD step: returns ``(new weights, R at the old weights, gradients)``."""
    r, g = model.loss_and_grads(b, ws, target)
    return model.gd_update(b, ws, g, eta), r, g


def gd(
    b: Backend,
    ws0: Sequence[Any],
    target: Target,
    eta: Any,
    *,
    max_steps: int,
    rel_tol: float | None = None,
    observers: Sequence[Observer] = (),
    record: Sequence[str] = (),
    record_every: int = 1,
    blowup: float = 1e12,
    progress: Callable[[int], None] | None = None,
) -> GDRun:
    """Run GD from ``ws0`` (converted to ``b``).  Observers are called as
    ``obs(t, ws(t), R(t), grads(t))`` before step ``t`` is taken (and once at
    the final point with ``grads`` computed there); an observer returning
    ``True`` stops the run.

    ``record`` names quantities to keep every ``record_every`` steps in
    ``GDRun.records`` (as backend values): ``"invariants"`` (the ``D_l``),
    ``"grad_norms"`` (``||G_l||_F^2``), ``"weights"``; ``records["t"]`` holds
    the step numbers.  ``losses`` always holds every ``R(t)``."""
    check_eta(eta)
    if max_steps < 0:
        raise InputError(f"max_steps must be >= 0, got {max_steps}")
    ws = [b.matrix(w) for w in ws0]
    model.validate(b, ws, target)
    eta_b = b.scalar(eta)
    unknown = set(record) - {"invariants", "grad_norms", "weights"}
    if unknown:
        raise InputError(f"cannot record {', '.join(sorted(unknown))}")
    records: dict[str, list[Any]] = {k: [] for k in ("t", *record)} if record else {}
    with blas_threads(d=max(max(b.shape(w)) for w in ws)):
        losses, t, stop, ws = _gd_steps(
            b,
            ws,
            target,
            eta_b,
            max_steps,
            rel_tol,
            observers,
            records,
            record_every,
            blowup,
            progress,
        )
    return GDRun(losses=losses, steps=t, stop=stop, ws=ws, eta=eta_b, records=records)


def _gd_steps(
    b: Backend,
    ws: list[Any],
    target: Target,
    eta_b: Any,
    max_steps: int,
    rel_tol: float | None,
    observers: Sequence[Observer],
    records: dict[str, list[Any]],
    record_every: int,
    blowup: float,
    progress: Callable[[int], None] | None,
) -> tuple[list[Any], int, str, list[Any]]:
    """The loop of :func:`gd` (arguments as there, already converted and
    checked): ``(losses, steps, stop, final weights)``; fills ``records``.

    On large float64 layers (a :class:`~zascheck.model.Workspace` exists) the
    intermediates live in reused storage; when moreover nothing needs the
    gradients or keeps old weights (no observer, no ``"grad_norms"`` or
    ``"weights"`` record), the step is fused: :func:`zascheck.model.forward`,
    the stop rules, then :func:`zascheck.model.descend` updates the weights
    in place (one contiguous copy made here) and no gradient is stored."""
    losses: list[Any] = []
    r0f = None
    t = 0
    work = model.Workspace.for_network(b, ws)  # intermediates reused (large float64 layers)
    fused = work is not None and not observers and not {"grad_norms", "weights"} & set(records)
    if fused:
        ws = model.Workspace.contiguous_weights(b, ws)
    while True:
        if fused:
            r, pre, e = model.forward(b, ws, target, work)
            g: list[Any] = []
        else:
            r, g = model.loss_and_grads(b, ws, target, work)
        losses.append(r)
        rf = b.to_float(r)
        if r0f is None:
            r0f = rf
        stop = _gd_diverged(b, r, rf, r0f, blowup)
        if stop is None:
            _gd_record(b, ws, g, t, records, record_every)
            halts = [bool(obs(t, ws, r, g)) for obs in observers]  # every observer sees t
            stop = "observer" if any(halts) else _gd_done(rf, r0f, t, max_steps, rel_tol)
        if stop is not None:
            return losses, t, stop, ws
        if fused:
            ws = model.descend(b, ws, pre, e, target, eta_b, work)
        else:
            # the observers have seen g and nothing keeps it: W(t+1) may take its storage
            ws = model.gd_update(b, ws, g, eta_b, consume_grads=work is not None)
        t += 1
        if progress is not None:
            progress(t)


def _gd_diverged(b: Backend, r: Any, rf: float, r0f: float, blowup: float) -> str | None:
    """The stop rules of :func:`gd` checked before records and observers:
    ``diverged`` (non-finite loss or above ``blowup * R(0)``) or ``precision``
    (ball radius above half the loss); ``None`` to go on."""
    if not b.is_finite(r) or not math.isfinite(rf) or rf > blowup * max(r0f, 1e-300):
        return "diverged"
    if b.rigorous and not b.exact and b.radius(r) > 0.5 * abs(rf) and rf > 0:
        return "precision"
    return None


def _gd_done(rf: float, r0f: float, t: int, max_steps: int, rel_tol: float | None) -> str | None:
    """The stop rules of :func:`gd` checked after the observers: ``converged``
    (``R <= rel_tol R(0)``) or ``budget``; ``None`` to go on."""
    if rel_tol is not None and rf <= rel_tol * r0f:
        return "converged"
    if t >= max_steps:
        return "budget"
    return None


def _gd_record(
    b: Backend,
    ws: Sequence[Any],
    g: Sequence[Any],
    t: int,
    records: dict[str, list[Any]],
    record_every: int,
) -> None:
    """Append what :func:`gd` was asked to record at step ``t`` (every
    ``record_every`` steps) to ``records``."""
    if not records or t % record_every:
        return
    records["t"].append(t)
    if "invariants" in records:
        records["invariants"].append(model.invariants(b, ws))
    if "grad_norms" in records:
        records["grad_norms"].append(model.grad_norms2(b, g))
    if "weights" in records:
        records["weights"].append(list(ws))


# ---------------------------------------------------------------------------
# Truncated power series over a backend
# ---------------------------------------------------------------------------


class _Node:
    """A matrix-valued power series in t, whose coefficients are computed on
    demand and memoised.  ``zero_from`` > 0 marks series known to vanish from
    that order on (constants), so products skip them."""

    __slots__ = ("args", "bits", "coefs", "flat", "kind", "rows", "shape", "windows", "zero_from")

    def __init__(self, kind: str, args: tuple, shape: tuple[int, int], zero_from: int = 10**9):
        self.kind = kind
        self.args = args
        self.coefs: list[Any] = []
        # ``bits[k]``: an upper bound of the bits of the midpoints of
        # ``coefs[k]`` (the working precision it was computed at, or that of
        # the coefficient it passes through; SeriesBackend._tag), so that a
        # block whose coefficients all fit in a working precision is read at
        # that precision as stored, without a rounded copy; a coefficient
        # with no entry here (computed at the full precision, which is never
        # taken up again after a lower one) counts as the full precision
        self.bits: list[int] = []
        self.shape = shape
        self.zero_from = zero_from
        # stacked blocks of coefficients, built once and reused by every
        # coefficient of a product (SeriesBackend._cauchy): ``flat`` the
        # entries of c_0, c_1, ... (row-major, concatenated), ``rows[p][i]`` =
        # [c_(i+B-1) | ... | c_i] rounded to ``p`` bits where it holds more
        # (``p = None``: as stored; SeriesBackend.level), ``windows[j]`` =
        # [c_j; ...; c_(j+B-1)] as stored (SeriesBackend._window)
        self.flat: list[Any] = []
        self.rows: dict[int | None, dict[int, Any]] = {}
        self.windows: dict[int, Any] = {}


class SeriesBackend(Backend):
    """Truncated Taylor series with matrix coefficients in ``base``.  Implements
    the part of the :class:`Backend` interface the model's gradient uses."""

    def __init__(self, base: Backend, block: int = 0) -> None:
        """``block`` (``B``): terms of a Cauchy sum taken as one stacked
        product (:meth:`_stacked`; 0 or 1: one product per term)."""
        self.base = base
        self.block = block
        self._stack: str | None = None  # "flint", "numpy" or "" (no stacking), on first use
        #: the precision (bits) products read their factors at (None: as stored)
        self.level: int | None = None
        self.name = f"series[{base.name}]"
        self.prec = base.prec
        # The Cauchy sums of :meth:`_cauchy` call these once per term: the
        # operators themselves when the backend keeps the default ``a * b`` /
        # ``a + b`` (flint, mpmath), else its methods (numpy's ``@``).
        cls = type(base)
        self._mul = operator.mul if cls.mm is Backend.mm else base.mm
        self._add = operator.add if cls.add is Backend.add else base.add

    # construction
    def const(self, m: Any) -> _Node:
        n = _Node("const", (), self.base.shape(m), zero_from=1)
        n.coefs.append(m)
        return n

    def var(self, m: Any, *higher: Any) -> _Node:
        """A state series with coefficients ``[m, *higher]`` so far (more may be
        appended later by an integrator); ``var(w, v)`` is ``w + t v``, whose
        gradient's ``t``-coefficient is the Hessian-vector product ``H(w) v``."""
        n = _Node("var", (), self.base.shape(m))
        n.coefs.append(m)
        n.coefs.extend(higher)
        return n

    def matrix(self, a: Any) -> _Node:
        return a if isinstance(a, _Node) else self.const(self.base.matrix(a))

    def eye(self, n: int) -> _Node:
        return self.const(self.base.eye(n))

    def zeros(self, r: int, c: int) -> _Node:
        return self.const(self.base.zeros(r, c))

    def shape(self, a: _Node) -> tuple[int, int]:
        return a.shape

    def mm(self, a: _Node, b: _Node) -> _Node:
        return _Node("mm", (a, b), (a.shape[0], b.shape[1]), a.zero_from + b.zero_from - 1)

    def T(self, a: _Node) -> _Node:
        return _Node("T", (a,), (a.shape[1], a.shape[0]), a.zero_from)

    def add(self, a: _Node, b: _Node) -> _Node:
        return _Node("add", (a, b), a.shape, max(a.zero_from, b.zero_from))

    def sub(self, a: _Node, b: _Node) -> _Node:
        return _Node("sub", (a, b), a.shape, max(a.zero_from, b.zero_from))

    def scale(self, s: Any, a: _Node) -> _Node:
        return _Node("scale", (s, a), a.shape, a.zero_from)

    def is_finite(self, a: Any) -> bool:
        return True

    # evaluation
    def coef(self, n: _Node, k: int) -> Any:
        """Coefficient of t**k of series ``n``."""
        coefs = n.coefs
        if k < len(coefs):  # memoised (never past zero_from): the hot path
            return coefs[k]
        if k >= n.zero_from:
            return None
        while len(n.coefs) <= k:
            j = len(n.coefs)
            if n.kind == "var":
                raise RuntimeError("state coefficient requested before it was set")
            n.coefs.append(self._compute(n, j))
            if self.level is not None:  # at the full precision: no tag needed
                self._tag(n, j)
        return n.coefs[k]

    def _tag(self, n: _Node, k: int) -> None:
        """Set ``n.bits[k]`` for the coefficient ``n.coefs[k]`` just set: the
        working precision (every arb operation rounds its result to it), or,
        for a coefficient passed through unchanged (a transpose, a sum with a
        vanishing term), the bits of the coefficient it passes through."""
        bits = n.bits
        if len(bits) < k:  # coefficients set without a tag: the full precision
            bits.extend([self.prec] * (k - len(bits)))
        tag = self.prec if self.level is None else self.level
        if n.kind == "T":
            tag = self._bits_of(n.args[0], k, tag)
        elif n.kind in ("add", "sub"):
            x, y = n.args
            if k >= y.zero_from and k < x.zero_from:  # x passed through
                tag = self._bits_of(x, k, tag)
            elif k >= x.zero_from and k < y.zero_from and n.kind == "add":  # y
                tag = self._bits_of(y, k, tag)
        del bits[k:]
        bits.append(tag)

    def _bits_of(self, n: _Node, k: int, zero: int) -> int:
        """``n.bits[k]`` (the full precision without a tag; ``zero`` where
        the coefficient vanishes and is made at the working precision)."""
        if k >= n.zero_from:
            return zero
        return n.bits[k] if k < len(n.bits) else self.prec

    def _rounded(self, n: _Node, i: int) -> bool:
        """Whether a row block of coefficients ``i .. i + B - 1`` of ``n``
        (:meth:`_row`) is read rounded to :attr:`level`: some of them hold
        more bits than it (a block whose coefficients were all computed at
        ``level`` or fewer bits is read as stored: rounding it again would
        only widen its radii by one rounding of the radius, and costs a copy
        of the block).

        Sound either way: a block read as stored is the same balls as its
        rounded copy holds, only narrower; the rounding is there to make the
        products at ``level`` cheaper (fewer limbs).  A product's midpoints do
        not depend on its factors' radii, so a row read as stored under this
        rule gives the midpoints its rounded copy gives
        (``tests/test_precision.py``)."""
        hi = i + self.block
        bits = n.bits
        return self.level is not None and (len(bits) < hi or max(bits[i:hi]) > self.level)

    def _cauchy(self, n: _Node, k: int) -> Any:
        """Coefficient ``k`` of the product ``n = a c``: ``sum_i a_i c_(k-i)``
        over the ``i`` where neither factor is known to vanish.

        This sum is the ``O(order^2)`` part of a Taylor step
        (:func:`taylor_order`), and at the orders of 128-1024 bits its cost
        is Python's per-operation overhead more than arithmetic.  So the
        factors' coefficients are memoised first; then, with ``B = block >
        1`` (:func:`cauchy_block`) and python-flint or numpy matrices, every
        ``B`` consecutive terms are one product of stacked blocks,
        ``[a_(i+B-1) | ... | a_i] [c_(k-i-B+1); ...; c_(k-i)]``, each block
        built once per step and reused by every ``k`` (about ``n^2 / (2B)``
        products and ``2 n B`` copied entries per step instead of ``n^2 / 2``
        products: the same arithmetic, exactly the same numbers in exact
        arithmetic, overlapping balls in ball arithmetic); the rest term by
        term, in one ``map``/``reduce``."""
        a, c = n.args
        lo = max(0, k - c.zero_from + 1)  # c_(k-i) = 0 for k - i >= c.zero_from
        hi = min(k, a.zero_from - 1)  # a_i = 0 for i >= a.zero_from
        if lo > hi:
            return self.base.zeros(*n.shape)
        if len(a.coefs) <= hi:
            self.coef(a, hi)
        if len(c.coefs) <= k - lo:
            self.coef(c, k - lo)
        B = self.block
        full = (hi - lo + 1) // B if B > 1 else 0
        if full >= 2 and self._stacking(a.coefs[0]):
            # B terms at a time: [a_(i+B-1) | ... | a_i] [c_(k-i-B+1); ...; c_(k-i)]
            starts = range(lo, lo + full * B, B)
            lev = self.level
            ra = a.rows.get(lev)  # built blocks looked up inline: this loop is hot
            if ra is None:
                ra = a.rows[lev] = {}
            wc = c.windows  # as stored at every working precision (_window)
            rows = [ra[i] if i in ra else self._row(a, i) for i in starts]
            wins = [
                wc[j] if j in wc else self._window(c, j) for j in (k - i - B + 1 for i in starts)
            ]
            acc = reduce(self._add, map(self._mul, rows, wins))
            if lo + full * B <= hi:
                acc = self._add(acc, self._terms(a, c, k, lo + full * B, hi))
            return acc
        return self._terms(a, c, k, lo, hi)

    def _terms(self, a: _Node, c: _Node, k: int, lo: int, hi: int) -> Any:
        """``sum_(i = lo)^hi a_i c_(k-i)``, one product per term (the
        coefficients as stored: these are fewer than ``B`` terms of a sum)."""
        cs = c.coefs[k - hi : k - lo + 1]
        cs.reverse()
        return reduce(self._add, map(self._mul, a.coefs[lo : hi + 1], cs))

    def working_bits(self, bits: int | None) -> _WorkingBits:
        """``with sb.working_bits(bits):`` coefficients computed at ``bits``
        (python-flint's precision lowered, never raised, and the stacked
        rows of every product read rounded to it where they hold more bits:
        :meth:`_row`, :meth:`_rounded`; the windows as stored:
        :meth:`_window`); ``None`` or the base precision: as stored."""
        return _WorkingBits(self, bits if bits is not None and bits < self.prec else None)

    def _stacking(self, sample: Any) -> bool:
        """Whether coefficients like ``sample`` can be stacked: python-flint
        matrices (``arb_mat``, ``fmpq_mat``: built from their entries) and
        numpy arrays; mpmath matrices are summed term by term."""
        if self._stack is None:
            name = type(sample).__name__
            self._stack = (
                "flint" if name in ("arb_mat", "fmpq_mat") else "numpy" if name == "ndarray" else ""
            )
            self._mat = type(sample)
        return bool(self._stack)

    def _flat(self, n: _Node, upto: int) -> list[Any]:
        """``n.flat`` holding the entries of ``c_0 .. c_upto`` at least."""
        flat, (r, s) = n.flat, n.shape
        while len(flat) < (upto + 1) * r * s:
            flat.extend(n.coefs[len(flat) // (r * s)].entries())
        return flat

    def _row(self, n: _Node, i: int) -> Any:
        """``[c_(i+B-1) | ... | c_i]`` of ``n`` (``r x B s``) at :attr:`level`,
        built once (rounded from the block as stored, which is built once too,
        where :meth:`_rounded`; else the block as stored)."""
        full = n.rows.setdefault(None, {})
        got = full.get(i)
        if got is None:
            B, (r, s) = self.block, n.shape
            if self._stack == "numpy":
                got = np.hstack(n.coefs[i + B - 1 : i - 1 if i else None : -1])
            else:
                flat = self._flat(n, i + B - 1)
                rs = r * s
                got = self._mat(
                    r,
                    B * s,
                    [
                        x
                        for q in range(r)
                        for j in range(i + B - 1, i - 1, -1)
                        for x in flat[j * rs + q * s : j * rs + (q + 1) * s]
                    ],
                )
            full[i] = got
        if self.level is not None:
            if self._rounded(n, i):
                got = got * 1  # rounded to the working precision
            n.rows[self.level][i] = got
        return got

    def _window(self, n: _Node, j: int) -> Any:
        """``[c_j; ...; c_(j+B-1)]`` of ``n`` (``B r x s``), built once per
        step and read as stored at every working precision.

        Not rounded to :attr:`level` (as the rows are, :meth:`_row`): a
        window is read by one product per row block, about ``m / B``
        products at a level that spans ``m`` coefficients (1-2 at 1024 bits,
        where a level spans about 25 of the 355 coefficients and ``B = 18``),
        so a rounded copy (``B r s`` entries) costs more than the cheaper
        products save: a flow of zas.thm4.1 took 0.82x the time without the
        copies at 512 and at 1024 bits, the same at 256 (session 6,
        ``benchmarks/README.md``).  Sound either way: the balls read as
        stored are the ones a rounded copy would enclose, only narrower; the
        product is still computed at ``level`` bits."""
        got = n.windows.get(j)
        if got is None:
            B, (r, s) = self.block, n.shape
            if self._stack == "numpy":
                got = np.vstack(n.coefs[j : j + B])
            else:
                got = self._mat(B * r, s, self._flat(n, j + B - 1)[j * r * s : (j + B) * r * s])
            n.windows[j] = got
        return got

    def _compute(self, n: _Node, k: int) -> Any:
        b = self.base
        kind = n.kind
        if kind == "mm":
            return self._cauchy(n, k)
        if kind == "T":
            x = self.coef(n.args[0], k)
            return b.zeros(*n.shape) if x is None else b.T(x)
        if kind in ("add", "sub"):
            x = self.coef(n.args[0], k)
            y = self.coef(n.args[1], k)
            if y is None:
                return x if x is not None else b.zeros(*n.shape)
            if x is None:
                return y if kind == "add" else b.scale(b.scalar(-1), y)
            return b.add(x, y) if kind == "add" else b.sub(x, y)
        if kind == "scale":
            s, a = n.args
            x = self.coef(a, k)
            return b.zeros(*n.shape) if x is None else b.scale(s, x)
        raise RuntimeError(kind)


class _WorkingBits:
    """The context of :meth:`SeriesBackend.working_bits`."""

    __slots__ = ("bits", "ctx", "old", "sb")

    def __init__(self, sb: SeriesBackend, bits: int | None) -> None:
        self.sb = sb
        self.bits = bits
        self.ctx = getattr(getattr(sb.base, "flint", None), "ctx", None) if bits else None

    def __enter__(self) -> None:
        if self.ctx is not None:
            self.old = self.ctx.prec
            self.ctx.prec = self.bits
            self.sb.level = self.bits

    def __exit__(self, *exc: object) -> None:
        if self.ctx is not None:
            self.ctx.prec = self.old
            self.sb.level = None


# ---------------------------------------------------------------------------
# Gradient flow
# ---------------------------------------------------------------------------


@dataclass
class FlowRun:
    """Gradient-flow solution sampled on a time grid.

    ``ws[i]`` are the weights at ``times[i]``; ``errors[i]`` the integration
    error estimate accumulated up to ``times[i]``; ``error_estimate`` the
    final one: the sum of the local truncation-error estimates (Frobenius norm
    over all layers) plus, in ball arithmetic, every radius dropped when the
    balls were re-centred.  ``steps`` and ``order`` describe the Taylor
    integration (``order``: the highest; the first and last steps may stop
    lower, :meth:`_TaylorStep.plan`).  In ball arithmetic the returned weights are midpoints: the
    flow is integrated, not enclosed.
    """

    times: list[float]
    ws: list[list[Any]]
    error_estimate: float
    steps: int
    order: int
    tol: float
    errors: list[float] = field(default_factory=list)
    #: ``layer_errors[i][l]``: the error estimate of layer ``l`` alone at
    #: ``times[i]`` (its truncation estimates plus its dropped radii), as a
    #: backend scalar (a float in exact arithmetic), so it neither underflows
    #: nor overflows: a layer of size ``1e-170`` gets an error on its own scale
    layer_errors: list[list[Any]] = field(default_factory=list)
    #: the time at which ``until`` ended the integration (``None``: it ran to
    #: ``times[-1]``); ``times``/``ws`` then hold only the samples reached
    stopped_at: float | None = None


def _series_state(
    sb: SeriesBackend, ws: Sequence[Any], target: Target
) -> tuple[list[_Node], list[_Node]]:
    """The state series ``W_l(t)`` (coefficient 0 = ``ws``, more appended by
    :func:`_extend`) and the series of their gradients ``G_l(t)``."""
    vars_ = [sb.var(w) for w in ws]
    tgt = Target(Y=sb.const(target.Y), X=None if target.X is None else sb.const(target.X))
    return vars_, model.grads(sb, vars_, tgt)


def _extend(sb: SeriesBackend, vars_: list[_Node], g: list[_Node]) -> None:
    """Append the next Taylor coefficient of every layer, ``W_l^[k+1] =
    -G_l^[k] / (k + 1)`` (eq. 4.1), ``k`` = the last coefficient known."""
    b = sb.base
    k = len(vars_[0].coefs) - 1
    newc = [b.scale(b.scalar(-1) / (k + 1), sb.coef(gl, k)) for gl in g]
    for v, c in zip(vars_, newc, strict=True):
        v.coefs.append(c)
        if sb.level is not None:  # computed (scaled) at the working precision
            sb._tag(v, k + 1)


def _taylor_coefficients(
    sb: SeriesBackend, ws: Sequence[Any], target: Target, order: int
) -> list[list[Any]]:
    """Taylor coefficients ``[c_0 .. c_order]`` of every layer at the state ``ws``."""
    vars_, g = _series_state(sb, ws, target)
    for _ in range(order):
        _extend(sb, vars_, g)
    return [v.coefs for v in vars_]


def _norm(b: Backend, mats: Sequence[Any]) -> float:
    return math.sqrt(sum(max(b.to_float(b.fro2(m)), 0.0) for m in mats))


def _ln(b: Backend, x: Any) -> float:
    """Natural log of a non-negative backend scalar, as a float (``-inf`` for
    0); taken in the backend when ``x`` lies outside the float range, so a
    norm of ``1e-400`` or ``1e+400`` gives a finite log."""
    if isinstance(x, float):  # exact arithmetic's norms (see _fro_upper)
        return math.log(x) if x > 0 else -math.inf
    if b.exact:
        p, q = int(x.p), int(x.q)
        return -math.inf if p <= 0 else math.log(p) - math.log(q)
    v = b.to_float(x)
    if 1e-300 < v < 1e300:
        return math.log(v)
    try:
        y = b.to_float(b.log(x))
    except (ValueError, ZeroDivisionError):
        return -math.inf
    return -math.inf if math.isnan(y) else y


def _fro_upper(b: Backend, mats: Sequence[Any]) -> Any:
    """Upper bound of the Frobenius norm of ``mats`` (all together) as a
    backend scalar (a float in exact arithmetic, whose square roots are not
    rational)."""
    s = b.scalar(0)
    for m in mats:
        s = s + b.fro2(m)
    if b.exact:
        return math.sqrt(b.to_float(s))
    return b.sqrt(b.upper(s))


def _radius_norm(b: Backend, m: Any) -> Any:
    """Frobenius norm of the entry radii of ``m`` (0 outside ball arithmetic)."""
    if not b.rigorous or b.exact:
        return 0.0 if b.exact else b.scalar(0)
    s = b.scalar(0)
    for x in b.entries(m):
        r = b.radius_scalar(x)
        s = s + r * r
    return b.sqrt(s)


def _step_length(
    log_tol: float,
    log_scale: float,
    ln_last: float,
    ln_prev: float,
    order: int,
    remaining: Fraction,
) -> Fraction:
    """Jorba-Zou step from the logs of the last two coefficient norms (no
    float over- or underflow for any size of the weights)."""
    cands = []
    if ln_last > -math.inf:
        cands.append((log_tol + log_scale - ln_last) / order)
    if ln_prev > -math.inf:
        cands.append((log_tol + log_scale - ln_prev) / (order - 1))
    if not cands or min(cands) > math.log(float(remaining) + 1.0) + 1.0:
        return remaining
    return min(Fraction(0.9 * math.exp(min(cands))), remaining)


def _tail(ln_last: float, ln_prev: float, tau: float, order: int) -> float:
    """Float truncation estimate ``n_last tau^order + n_prev tau^(order-1)``
    from the logs (0 where it underflows, never ``inf * 0``)."""
    if tau <= 0:
        return 0.0
    lt = math.log(tau)
    out = 0.0
    for ln, k in ((ln_last, order), (ln_prev, order - 1)):
        if ln > -math.inf:
            out += math.exp(min(ln + k * lt, 700.0))
    return out


def _horner(b: Backend, coefs: list[Any], h: Any) -> Any:
    acc = coefs[-1]
    for c in reversed(coefs[:-1]):
        acc = b.add(b.scale(h, acc), c)
    return acc


#: the lowest order of a Taylor step of :func:`flow`: its truncation estimate
#: reads the last two coefficients, which needs a few terms past the leading ones
MIN_ORDER = 8


#: how far (natural log) below the tolerance a step's truncation estimate must
#: be for it to stop below the highest order (:meth:`_TaylorStep.plan`): 16 bits,
#: 8 below the unit roundoff of the default tolerance (:func:`flow_log_tol`)
EARLY_STOP_MARGIN = 16 * math.log(2.0)


def flow_log_tol(prec: int) -> float:
    """``ln tol`` of :func:`flow`'s default local tolerance at ``prec`` bits:
    ``tol = 2^-(prec - 8)`` (8 bits below the unit roundoff; float64:
    ``1e-14``), kept as a logarithm since ``2^-1092`` is below the smallest
    double."""
    return -(prec - 8) * math.log(2.0)


def taylor_order(log_tol: float) -> int:
    """The highest Taylor order of a step of :func:`flow` for the local
    tolerance ``e^log_tol``: ``ceil(-ln(tol) / 2) + 2``, at least
    :data:`MIN_ORDER`.

    Why (Jorba & Zou 2005, Sec. 3): when the coefficients decay like
    ``rho^-k`` (a step limited by the radius of convergence ``rho``), the step
    of order ``n`` is ``h = rho tol^(1/n)``; a step costs ``~ n^2 / 2``
    products (the Cauchy sums of :meth:`SeriesBackend._cauchy`), so the work
    per unit time ``n^2 tol^(-1/n) / rho`` is least at ``n = -ln(tol) / 2``,
    where ``h = rho / e^2``.  With the default tolerance (:func:`flow_log_tol`)
    this is ``(prec - 8) ln(2) / 2 + 2``: 44 at 128 bits, 88 at 256, 176 at
    512, 355 at 1024, so the work of a flow grows like ``prec^2`` times the
    cost of one product (the high coefficients at fewer bits than ``prec``:
    :func:`coefficient_bits`).  A step stops below this order
    when a lower one already reaches the end of the integration
    (:meth:`_TaylorStep.plan`).

    >>> [taylor_order(flow_log_tol(p)) for p in (53, 128, 256, 1024)]
    [18, 44, 88, 355]
    """
    return max(MIN_ORDER, math.ceil(-log_tol / 2) + 2)


def cauchy_block(order: int) -> int:
    """Terms of a Cauchy sum stacked into one product
    (:meth:`SeriesBackend._cauchy`) for Taylor steps of highest order
    ``order``: ``floor(sqrt(order))``, which balances the ``~ n^2 / (2B)``
    stacked products of a step against the ``~ 2 n B`` entries copied into
    blocks; 0 (term by term) below order 16.

    >>> [cauchy_block(n) for n in (8, 44, 88, 355)]
    [0, 6, 9, 18]
    """
    return math.isqrt(order) if order >= 16 else 0


#: bits a tapered Taylor coefficient keeps above its share of the tolerance
#: (:func:`coefficient_bits`): each tapered coefficient then adds about
#: ``2^-(TAPER_GUARD - 8)`` units roundoff to the end point of a step, and the
#: ~``n/2`` tapered ones together stay under the one unit that
#: :func:`_taper_ok` allows, with room for some cancellation
TAPER_GUARD = 16

#: the lowest working precision of a tapered coefficient: two 64-bit limbs (a
#: 2 x 18 by 18 x 2 arb product at 64 bits costs 0.8 of its cost at 128, at 192
#: bits 1.9, at 256 bits 2.1: measured with python-flint 0.9)
TAPER_FLOOR = 128


def coefficient_bits(b: Backend, log_tol: float, order: int, width: int = 2) -> list[int] | None:
    """Working precision (bits) of each Taylor coefficient ``c_0 .. c_order``
    of a step of :func:`flow` at highest order ``order`` and local tolerance
    ``e^log_tol``, or ``None`` where the arithmetic keeps one precision
    (everything but ball arithmetic).

    Why the high coefficients need fewer bits: the step ``h`` of order ``n``
    is chosen so that the last term ``|c_n| h^n`` is about ``tol`` (relative
    to ``max(1, ||W||)``, Jorba & Zou 2005, Sec. 3), and when the coefficients
    decay geometrically (a step limited by the radius of convergence) the
    term ``|c_k| h^k`` is about ``tol^(k/n)``.  Its rounding error matters
    only down to ``tol``, so ``c_k`` needs about ``log2(1/tol) (1 - k/n)``
    bits: ``c_k`` gets that plus :data:`TAPER_GUARD`, rounded up to whole
    64-bit limbs, at least :data:`TAPER_FLOOR` and at most the working
    precision ``b.prec``.  A product's cost in arb follows the limbs of its
    inputs (2.1-2.5x from 128 to 256 bits), and the Cauchy sums of the high
    coefficients are most of the products of a step (:func:`taylor_order`);
    the row blocks of their first factors are read rounded to the
    coefficient's precision (:meth:`SeriesBackend.working_bits`; the windows
    of the second factors as stored, :meth:`SeriesBackend._window`).  ``None`` also where no
    coefficient would go below ``b.prec`` (128 bits and less), and for
    scalar layers (``width``, the largest dimension of a layer, 1): a
    product of a ``1 x B`` by a ``B x 1`` block has ``B`` multiplications,
    about what the rounded copies of its blocks cost (``L = 5``, ``d = 1``:
    1.07x the full-precision time at 256 bits, 0.93x at 1024; ``d = 2``:
    0.9x at 256, 0.8x at 512), and tapered scalar layers turned zas.saddle's
    symmetry test at 1024 bits from holds to violated (layers that are
    bitwise equal at full precision differ by roundings at fewer bits, and
    near the saddle the conserved ``D_l`` amplifies the difference beyond
    the per-layer error estimates, which do not propagate errors).

    This is a prediction, not an assumption of the error accounting: the
    balls keep every rounding, :func:`flow` checks after each step that the
    tapered coefficients added at most one unit roundoff to its end point
    (:func:`_taper_ok`) and otherwise redoes the step at full precision.

    >>> from zascheck.arith import backend
    >>> bits = coefficient_bits(backend("ball", 256), flow_log_tol(256), 88)
    >>> bits[0], bits[44], bits[88], coefficient_bits(backend("ball", 128), -83.2, 44)
    (256, 192, 128, None)
    """
    if not b.rigorous or b.exact or getattr(b, "flint", None) is None:
        return None
    if width <= 1:
        return None
    out = _tapered_bits(b.prec, log_tol, order)
    return list(out) if out is not None else None


@functools.lru_cache(maxsize=64)
def _tapered_bits(prec: int, log_tol: float, order: int) -> tuple[int, ...] | None:
    """The list of :func:`coefficient_bits` for ``prec`` bits (ball
    arithmetic), computed once per ``(prec, log_tol, order)``: every step
    of a flow asks for the same one."""
    need = -log_tol / math.log(2.0)
    out = []
    for k in range(order + 1):
        limbs = math.ceil((need * (1 - k / order) + TAPER_GUARD) / 64)
        out.append(max(min(prec, TAPER_FLOOR), min(prec, 64 * limbs)))
    return tuple(out) if min(out) < prec else None


def _tolerance(b: Backend, tol: float | None, order: int | None) -> tuple[float, float, int, int]:
    """``(log tol, tol, lowest order, highest order)`` of :func:`flow`:
    ``tol`` by :func:`flow_log_tol` unless given (``1e-30`` in exact
    arithmetic), the highest order by :func:`taylor_order` unless given; a
    given ``order`` is used for every step (lowest = highest)."""
    if tol is None:
        log_tol = flow_log_tol(b.prec) if not b.exact else math.log(1e-30)
        tol = math.exp(log_tol)
    else:
        log_tol = math.log(tol)
    if order is not None:
        return log_tol, tol, order, order
    return log_tol, tol, MIN_ORDER, taylor_order(log_tol)


def _ln_total(lns: Sequence[float]) -> float:
    """``ln sqrt(sum_l e^(2 lns[l]))``: the log of the Frobenius norm of all
    layers together from the logs of each layer's (no over- or underflow)."""
    top = max(lns)
    if top == -math.inf:
        return top
    return top + 0.5 * math.log(sum(math.exp(2 * (x - top)) for x in lns))


def _reaches_end(
    ln_last: Sequence[float],
    ln_prev: Sequence[float],
    ln_w: Sequence[float],
    order: int,
    log_tol: float,
    log_scale: float,
    remaining: Fraction,
) -> bool:
    """A step of ``order`` reaches the end ``remaining`` with its truncation
    estimate (the last two coefficients, Jorba-Zou) below ``e^log_tol``: for
    all layers together relative to ``max(1, ||W||)`` (``log_scale``,
    :func:`_step_length`) and for each layer ``l`` relative to ``||W_l||``
    (``ln_w[l]``; a layer that is 0 stops early only if its coefficients are
    0).  Arguments are natural logs of norms, per layer."""
    total = (_ln_total(ln_last), _ln_total(ln_prev))
    if _step_length(log_tol, log_scale, *total, order, remaining) < remaining:
        return False
    lr = math.log(float(remaining)) if remaining > 0 else -math.inf
    for last, prev, w in zip(ln_last, ln_prev, ln_w, strict=True):
        for ln, k in ((last, order), (prev, order - 1)):
            if ln > -math.inf and not ln + k * lr <= log_tol + w:
                return False
    return True


@dataclass
class _TaylorStep:
    """One Taylor step of :func:`flow`: the coefficients at the current state,
    the step ``h`` (Jorba-Zou, from the logs of the last two coefficient
    norms) and the truncation estimates, all layers together (``tail``, a
    float) and per layer (``layer_errors``, backend scalars)."""

    coefs: list[list[Any]]
    h: Fraction
    order: int
    ln_last: float
    ln_prev: float
    last: list[Any]
    prev: list[Any]
    n_entries: float

    @classmethod
    def plan(
        cls,
        b: Backend,
        sb: SeriesBackend,
        ws: Sequence[Any],
        target: Target,
        orders: tuple[int, int],
        log_tol: float,
        remaining: Fraction,
        bits: Sequence[int] | None = None,
    ) -> _TaylorStep:
        """The step from ``ws``: Taylor coefficients up to the highest order
        ``orders[1]``, or up to the first order ``>= orders[0]`` that already
        reaches the end, ``remaining`` (:func:`_reaches_end`: a truncation
        estimate ``2^-16`` below the tolerance for all layers together and for
        each layer relative to its own size, i.e. under the rounding of the
        weights, so the error estimate is that of the highest order).
        ``bits[k]``, if given, is the working precision of coefficient ``k``
        (:func:`coefficient_bits`; ball arithmetic), else every coefficient
        is computed at ``b.prec``."""
        lowest, order = orders
        vars_, g = _series_state(sb, ws, target)
        log_scale = max(0.0, _ln(b, _fro_upper(b, ws)))
        ln_w = [_ln(b, _fro_upper(b, [w])) for w in ws]
        # per layer: ln ||c_k|| for k >= lowest - 1
        lns: list[list[float]] = [ln_w] if lowest <= 1 else []
        for k in range(1, order + 1):
            if bits is None:
                _extend(sb, vars_, g)
            else:
                with sb.working_bits(bits[k]):
                    _extend(sb, vars_, g)
            if k >= lowest - 1:
                lns.append([_ln(b, _fro_upper(b, [v.coefs[k]])) for v in vars_])
            if lowest <= k < order and _reaches_end(
                lns[-1], lns[-2], ln_w, k, log_tol - EARLY_STOP_MARGIN, log_scale, remaining
            ):
                order = k
                break
        coefs = [v.coefs for v in vars_]
        ln_last = _ln(b, _fro_upper(b, [c[order] for c in coefs]))
        ln_prev = _ln(b, _fro_upper(b, [c[order - 1] for c in coefs]))
        h = _step_length(log_tol, log_scale, ln_last, ln_prev, order, remaining)
        if h <= 0:
            raise ArithmeticError("gradient flow step underflowed")
        return cls(
            coefs,
            h,
            order,
            ln_last,
            ln_prev,
            [_fro_upper(b, [c[order]]) for c in coefs],
            [_fro_upper(b, [c[order - 1]]) for c in coefs],
            math.sqrt(sum(r * c for r, c in (b.shape(w) for w in ws))),
        )

    def tail(self, tau: Fraction) -> float:
        """All layers' truncation estimate over ``tau`` (a float)."""
        return _tail(self.ln_last, self.ln_prev, float(tau), self.order)

    def layer_errors(self, b: Backend, lerr: list[Any], tau: Fraction, ws: list[Any]) -> list[Any]:
        """``lerr`` plus each layer's truncation estimate over ``tau`` and the
        Frobenius norm of its ball radii at ``ws`` (dropped on re-centring)."""
        ts = float(tau) if b.exact else b.scalar(tau)
        k = self.order
        return [
            e + n * ts**k + p * ts ** (k - 1) + _radius_norm(b, w)
            for e, n, p, w in zip(lerr, self.last, self.prev, ws, strict=True)
        ]


def _dense_output(
    b: Backend,
    st: _TaylorStep,
    t: Fraction,
    times: Sequence[float],
    gi: int,
    acc: tuple[float, list[Any]],
    out: tuple[list[Any], list[float], list[Any]],
) -> int:
    """Sample the grid times ``times[gi:]`` that fall inside the step ``st``
    from ``t`` (its Taylor polynomial at ``tau = time - t``): append to ``out``
    = (weights, error estimates, layer error estimates), the estimates being
    those accumulated before the step (``acc``) plus the step's over ``tau``.
    Returns the index of the first time not reached."""
    err, lerr = acc
    out_ws, errors, layer_errors = out
    while gi < len(times) and Fraction(times[gi]) <= t + st.h:
        tau = Fraction(times[gi]) - t
        sample = [_horner(b, c, b.scalar(tau)) for c in st.coefs]
        out_ws.append([b.midpoint(w) for w in sample])
        errors.append(err + st.tail(tau) + max(b.max_radius(w) for w in sample) * st.n_entries)
        layer_errors.append(st.layer_errors(b, lerr, tau, sample))
        gi += 1
    return gi


def _take_step(
    b: Backend,
    sb: SeriesBackend,
    ws: Sequence[Any],
    target: Target,
    orders: tuple[int, int],
    log_tol: float,
    remaining: Fraction,
) -> tuple[_TaylorStep, list[Any]]:
    """One Taylor step of :func:`flow` from ``ws``: the step
    (:meth:`_TaylorStep.plan`) and the weights at its end (Horner, at the
    working precision).  In ball arithmetic the coefficients are computed
    tapered (:func:`coefficient_bits`) and the step is redone at full
    precision when the tapered coefficients' radii are not negligible
    (:func:`_taper_ok`)."""
    width = max(max(b.shape(w)) for w in ws)
    # the rounding that matters is relative to each layer, not to max(1, ||W||):
    # a layer far below the tolerance's scale asks for that many more bits
    lnw = [x for x in (_ln(b, _fro_upper(b, [w])) for w in ws) if x > -math.inf]
    lnw_total = _ln_total(lnw) if lnw else 0.0
    small = max(0.0, lnw_total) - min(lnw, default=0.0)
    bits = coefficient_bits(b, log_tol - small, orders[1], width)
    st = _TaylorStep.plan(b, sb, ws, target, orders, log_tol, remaining, bits=bits)
    new = [_horner(b, c, b.scalar(st.h)) for c in st.coefs]
    if bits is not None and not _taper_ok(b, st, bits, new):
        st = _TaylorStep.plan(b, sb, ws, target, orders, log_tol, remaining)
        new = [_horner(b, c, b.scalar(st.h)) for c in st.coefs]
    return st, new


def _taper_ok(b: Backend, st: _TaylorStep, bits: Sequence[int], ends: Sequence[Any]) -> bool:
    """Whether the coefficients a tapered step computed below the working
    precision (``bits[k] < b.prec`` for ``k >= k0``) add at most one unit
    roundoff of each layer to its end point ``ends[l]``: the largest entry
    radius of the tapered part of the layer's Taylor polynomial, ``sum_(k >=
    k0) c_k h^k`` (Horner in ball arithmetic, so it holds every ``rad(c_k)
    h^k`` and the rounding of the sum itself), at most ``2^-prec
    ||W_l(end)||_F`` (as floats; an overflow fails).

    Relative to each layer, not to ``max(1, ||W||)``: a full-precision step
    rounds each layer relative to its own size, and a check may compare
    layers far below 1 with each other (zas.saddle's symmetry test near the
    saddle, where the conserved ``D_l`` amplifies any difference between
    layers).  So a step that passes has the error estimate of a
    full-precision step within about one unit roundoff per layer and entry.
    With :data:`TAPER_GUARD` bits over the geometric model of
    :func:`coefficient_bits` the radius is a small fraction of a unit; it
    fails where the model does not hold (coefficients that decay faster
    than geometrically, or cancel) and :func:`_take_step` redoes the step."""
    k0 = next((k for k in range(st.order + 1) if bits[k] < b.prec), None)
    if k0 is None:
        return True
    hb = b.scalar(st.h)
    hk0 = float(st.h) ** k0
    for c, end in zip(st.coefs, ends, strict=True):
        extra = b.max_radius(_horner(b, c[k0 : st.order + 1], hb)) * hk0
        if not math.isfinite(extra):
            return False
        ln_end = _ln(b, _fro_upper(b, [end]))
        if extra > 0.0 and not math.log(extra) <= ln_end - b.prec * math.log(2.0):
            return False
    return True


def flow(
    b: Backend,
    ws0: Sequence[Any],
    target: Target,
    times: Sequence[float],
    *,
    tol: float | None = None,
    order: int | None = None,
    max_steps: int = 100_000,
    progress: Callable[[float], None] | None = None,
    until: Callable[[float, list[Any], list[Any]], bool] | None = None,
) -> FlowRun:
    """Integrate gradient flow from ``ws0`` and return the weights at ``times``
    (non-decreasing, starting at or after 0).

    ``tol`` is the local error target relative to ``max(1, ||W||)``; by default
    ``2**-(prec - 8)`` (float64: ``1e-14``), handled through its logarithm so
    that any precision works (``2**-1092`` is below the smallest double).
    ``order`` is the highest Taylor order, by default :func:`taylor_order`
    (Jorba-Zou, ``~ -ln(tol)/2``); a step stops at a lower one (>= :data:`MIN_ORDER`)
    that already reaches ``times[-1]``.  A given ``order`` is used for every step.

    ``until(t, ws, layer_errors)``, if given, is called after every Taylor
    step with the time reached, the weights and each layer's error estimate;
    when it returns ``True`` the integration ends there (``FlowRun.stopped_at``),
    e.g. once what is left to decide follows from a monotone quantity.
    """
    times = [float(t) for t in times]
    if any(t < 0 or not math.isfinite(t) for t in times) or times != sorted(times):
        raise InputError("flow times must be finite, >= 0 and non-decreasing")
    log_tol, tol, lowest, order = _tolerance(b, tol, order)
    ws = [b.matrix(w) for w in ws0]
    model.validate(b, ws, target)
    sb = SeriesBackend(b, block=cauchy_block(order))
    t = Fraction(0)  # the clock is exact: step sizes are doubles, their sums rationals
    err, steps, stopped_at = 0.0, 0, None
    lerr = [0.0 if b.exact else b.scalar(0) for _ in ws]
    gi = sum(1 for x in times if x <= 0.0)  # samples at t = 0: the initial point
    out_ws = [list(ws) for _ in range(gi)]
    errors, layer_errors = [0.0] * gi, [list(lerr) for _ in range(gi)]
    h_prev: Fraction | None = None
    while gi < len(times):
        left = Fraction(times[-1]) - t  # a lower order only where it may reach the end:
        low = lowest if h_prev is None or left <= 2 * h_prev else order  # 1st or last steps
        st, ws_next = _take_step(b, sb, ws, target, (low, order), log_tol, left)
        h_prev = st.h
        gi = _dense_output(b, st, t, times, gi, (err, lerr), (out_ws, errors, layer_errors))
        ws = ws_next
        # The integration is not an enclosure, so ball radii only track the
        # rounding of this step: fold them into the error estimate and
        # re-centre (otherwise wrapping inflates them exponentially).
        err += st.tail(st.h) + max(b.max_radius(w) for w in ws) * st.n_entries
        lerr = st.layer_errors(b, lerr, st.h, ws)
        if b.rigorous and not b.exact:
            ws = [b.midpoint(w) for w in ws]
        t += st.h
        steps += 1
        if progress is not None:
            progress(float(t))
        if not all(b.is_finite(w) for w in ws) or _ln(b, _fro_upper(b, ws)) == math.inf:
            raise ArithmeticError(f"gradient flow blew up at t = {float(t):.4g}")
        if until is not None and gi < len(times) and until(float(t), list(ws), list(lerr)):
            stopped_at = float(t)
            break
        if steps > max_steps:
            raise ArithmeticError(
                f"gradient flow needed more than {max_steps} steps (t = {float(t):.4g})"
            )
    return FlowRun(
        times=times[: len(out_ws)],
        ws=out_ws,
        error_estimate=err,
        steps=steps,
        order=order,
        tol=tol,
        errors=errors,
        layer_errors=layer_errors,
        stopped_at=stopped_at,
    )
