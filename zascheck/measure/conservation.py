"""What the conservation claims measure: Lemma 4.2 (flow), the GD drift identity, and
the reviewer's summary of both (``review.invariance``).

* :func:`invariant_change`: ``max_l ||D_l(t) - D_l(0)||_F`` and its error budget
  (integration error + rounding), the measurement of ``zas.lemma4.2`` and of
  the flow half of ``review.invariance``;
* :func:`drift_residuals`: one GD step and the residual of the drift identity
  ``D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T)`` (the ``eta^2``
  term is :func:`zascheck.model.invariants` applied to the gradients: the same
  formula ``B^T B - C C^T``), with :func:`drift_rounding_budget`;
* :func:`exact_drift`: exact rational GD steps, the residuals and the total
  change of every ``D_l``: the one drift measurement of ``zas.drift`` (method
  ``exact``) and the GD half of ``review.invariance``;
* :func:`check_exact_gd_size`: refuses sizes exact arithmetic cannot reach
  (each GD step multiplies the size of the exact entries by about ``2L - 1``).

Notation: ``D_l = W_{l+1}^T W_{l+1} - W_l W_l^T`` (ZAS paper, eq. 4.3),
``G_l = dR/dW_l`` (eq. 2.5).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from functools import partial
from typing import Any

import numpy as np

from zascheck import dynamics, model
from zascheck.arith import Backend
from zascheck.errors import InputError
from zascheck.measure.evaluation import fro
from zascheck.model import Target

__all__ = [
    "EXACT_MEMORY_LIMIT_LOG2",
    "EXACT_WORK_LIMIT_LOG2",
    "MP_WORK_LIMIT_LOG2",
    "ExactDrift",
    "check_exact_gd_size",
    "check_mp_gd_size",
    "drift_budget_ratio",
    "drift_residuals",
    "drift_rounding_budget",
    "dynamics_flow",
    "exact_drift",
    "flow_invariant_change",
    "gd_invariant_change",
    "invariant_change",
    "random_rational_matrix",
    "rational_bits",
]


def invariant_change(b: Backend, ws0: list[Any], ws_t: list[Any], dw: float) -> tuple[float, float]:
    """``max_l ||D_l(t) - D_l(0)||_F`` between the weights ``ws0`` and ``ws_t``
    (lists of ``L`` matrices, ``L >= 2``), and the error budget that a
    perturbation of at most ``dw`` per layer (the flow's integration error, in
    Frobenius norm) plus rounding allows: ``sum over the two layers of
    (2 ||W||_F + dw) dw``, plus ``2 gamma_{d+2}`` times the size of the
    products, plus the ball radius.  Returns the pair of the layer with the
    least room (ZAS paper, Lemma 4.2)."""
    d0 = model.invariants(b, ws0)
    dt = model.invariants(b, ws_t)
    worst, budget = 0.0, 0.0
    for l, (x, y) in enumerate(zip(dt, d0, strict=True)):
        change = fro(b, b.sub(x, y))
        n1, n0 = fro(b, ws_t[l + 1]), fro(b, ws_t[l])
        dim = b.shape(ws_t[l])[0]
        allow = (2 * n1 + dw) * dw + (2 * n0 + dw) * dw
        allow += 2 * b.gamma(dim + 2) * (n1 * n1 + n0 * n0 + fro(b, y))
        allow += b.radius(b.fro2(b.sub(x, y))) ** 0.5
        if change - allow > worst - budget or l == 0:
            worst, budget = max(worst, change), max(budget, allow)
    return worst, budget


def dynamics_flow(
    b: Backend, ws0: list[Any], target: Target, times: list[float]
) -> dynamics.FlowRun:
    """Gradient flow from ``ws0`` sampled at ``t = 0`` and at ``times``
    (:func:`zascheck.dynamics.flow`; ``run.ws[0]`` is the start)."""
    return dynamics.flow(b, ws0, target, [0.0, *times])


def flow_invariant_change(
    b: Backend, ws0: list[Any], target: Target, times: list[float]
) -> tuple[float, float]:
    """Integrate the gradient flow from ``ws0`` (float64 arrays, ``L >= 2``) and
    return the largest :func:`invariant_change` over ``times`` with its budget
    (the integrator's own error estimate at each time + rounding)."""
    run = dynamics_flow(b, ws0, target, times)
    base = [b.matrix(x) for x in ws0]
    worst, budget = 0.0, 0.0
    for ws_t, err in zip(run.ws[1:], run.errors[1:], strict=True):
        ch, allow = invariant_change(b, base, ws_t, err)
        worst, budget = max(worst, ch), max(budget, allow)
    return worst, budget


def gd_invariant_change(
    b: Backend, ws0: list[Any], target: Target, eta: float, steps: int
) -> tuple[float, float]:
    """``steps`` GD steps of size ``eta`` in place of the flow (the negative
    control of Lemma 4.2): the change of ``D_l`` and the rounding budget."""
    ws = [b.matrix(x) for x in ws0]
    base = [b.matrix(x) for x in ws0]
    for _ in range(steps):
        ws, _r, _g = dynamics.gd_step(b, ws, target, b.scalar(eta))
    return invariant_change(b, base, ws, 0.0)


def drift_residuals(
    b: Backend, ws: list[Any], target: Target, eta: Any, *, power: int = 2
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """One GD step from ``ws`` (``L`` matrices) and, per ``l = 1..L-1``, the residual
    ``D_l(t+1) - D_l(t) - eta^power (G_{l+1}^T G_{l+1} - G_l G_l^T)``
    (``power = 2`` is the claim; ``power = 1`` the control's wrong formula).

    Returns ``(residuals, new weights, gradients, D_l(t))``.  The ``eta^2``
    term is ``model.invariants`` of the gradients (the same ``B^T B - C C^T``).
    """
    _r, g = model.loss_and_grads(b, ws, target)
    new = model.gd_update(b, ws, g, eta)
    d_old = model.invariants(b, ws)
    d_new = model.invariants(b, new)
    coef = eta**power
    res = [
        b.sub(b.sub(x, y), b.scale(coef, gg))
        for x, y, gg in zip(d_new, d_old, model.invariants(b, g), strict=True)
    ]
    return res, new, g, d_old


def drift_rounding_budget(b: Backend, ws: list[Any], g: list[Any], eta: float, l: int) -> float:
    """A rounding-error budget for the drift residual of layer pair ``(l, l+1)``
    (0-based ``l``): Higham's ``gamma_n`` with ``n = (L + 4) d`` (the longest
    chain of roundings: ``L`` products of inner dimension ``d`` for the
    gradients, then the update and the two Gram products) times the size of
    every term involved (Frobenius norms of ``W``, ``eta G``)."""
    L = len(ws)
    dim = max(max(b.shape(w)) for w in ws)
    n = (L + 4) * dim
    s = 0.0
    for k in (l, l + 1):
        w, gk = fro(b, ws[k]), fro(b, g[k])
        s += (w + eta * gk) ** 2 + eta * w * gk + eta * eta * gk * gk
    return 4 * b.gamma(n) * s


def drift_budget_ratio(
    b: Backend, residual: Any, ws: list[Any], g: list[Any], eta: float, l: int
) -> tuple[float, str, str]:
    """``||residual||_F / drift_rounding_budget(...)`` for layer pair ``(l,
    l+1)``, computed in ``b`` (mp: no double overflow or underflow at any scale
    of the target, e.g. ``1e150 I`` after a few GD steps), with the residual's
    norm and the budget as text.  A zero budget gives 0 for a zero residual,
    ``inf`` otherwise."""
    L = len(ws)
    n = (L + 4) * max(max(b.shape(w)) for w in ws)
    e = b.scalar(eta)
    s = b.scalar(0)
    for k in (l, l + 1):
        w, gk = b.sqrt(b.fro2(ws[k])), b.sqrt(b.fro2(g[k]))
        s = s + (w + e * gk) ** 2 + e * w * gk + e * e * gk * gk
    budget = b.scalar(4 * b.gamma(n)) * s
    m = b.sqrt(b.fro2(residual))
    if b.to_float(budget) == 0.0 and not b.to_float(s) > 0:
        ratio = 0.0 if b.to_float(m) == 0.0 else math.inf
    else:
        ratio = b.to_float(m / budget)
    return ratio, b.to_str(m, 6), b.to_str(budget, 6)


# -- exact rational GD ------------------------------------------------------------------------


def random_rational_matrix(e: Backend, rng: np.random.Generator, d: int, den: int) -> Any:
    """A ``d x d`` matrix of rationals ``k / den`` with integers ``|k| <= 2 den``."""
    ks = rng.integers(-2 * den, 2 * den + 1, (d, d))
    return e.matrix([[Fraction(int(k), den) for k in row] for row in ks])


def rational_bits(x: Any) -> int:
    """Bits of numerator plus denominator of the exact rational value of ``x``
    (a float64 is converted exactly: ``0.1`` has a 55-bit denominator)."""
    if isinstance(x, Fraction):
        f = x
    elif isinstance(x, (str, int, np.integer)):
        f = Fraction(str(x))
    else:
        f = Fraction(float(x))
    return f.numerator.bit_length() + f.denominator.bit_length()


#: exact GD refuses runs estimated above 2^36 bit operations (about 10 minutes at the
#: ~10^8 bit operations per second measured with python-flint on this machine) ...
EXACT_WORK_LIMIT_LOG2 = 36
#: ... or above 1 GiB for the weights' exact entries
EXACT_MEMORY_LIMIT_LOG2 = 30


def _exact_gd_log2_cost(L: int, d: int, steps: int, entry_bits: int) -> tuple[float, float, float]:
    """log2 of (bits per entry at the end, bit operations, bytes) of ``steps``
    exact GD steps: a step maps entries of ``B`` bits to about ``(2L - 1) B``
    (the gradient has degree ``2L - 1`` in the weights); about ``3 L d^3``
    products of such entries per step; ``3 (L + 1) d^2`` entries held."""
    bits = math.log2(max(entry_bits, 1)) + steps * math.log2(max(2 * L - 1, 2))
    work = math.log2(max(steps, 1) * 3 * L * d**3) + bits
    memory = math.log2(3 * (L + 1) * d * d) + bits - 3
    return bits, work, memory


def check_exact_gd_size(claim: str, L: int, d: int, steps: int, entry_bits: int) -> None:
    """Raise :class:`InputError` before an exact GD run of ``steps`` steps at depth
    ``L``, width ``d`` and inputs of ``entry_bits`` bits that would exceed
    :data:`EXACT_WORK_LIMIT_LOG2` or :data:`EXACT_MEMORY_LIMIT_LOG2`; the message
    names each of ``L``, ``steps``, ``d`` over its largest admissible value
    (the others fixed), the limits, and why."""

    def fits(L: int, d: int, steps: int) -> bool:
        _b, work, mem = _exact_gd_log2_cost(L, d, steps, entry_bits)
        return work <= EXACT_WORK_LIMIT_LOG2 and mem <= EXACT_MEMORY_LIMIT_LOG2

    if fits(L, d, steps):
        return
    bits, work, mem = _exact_gd_log2_cost(L, d, steps, entry_bits)
    why = (
        f"Each exact GD step multiplies the size of the entries by about 2L - 1: this run "
        f"would need entries of about 2^{bits:.0f} bits, 2^{work:.0f} bit operations (limit "
        f"2^{EXACT_WORK_LIMIT_LOG2}, about 10 minutes here) and 2^{mem:.0f} bytes (limit "
        f"2^{EXACT_MEMORY_LIMIT_LOG2}); use the mp method for larger sizes"
    )
    _refuse(
        claim,
        {"L": L, "steps": steps, "d": d},
        fits,
        why,
        f"inputs of {entry_bits} bits are too long for exact GD",
    )


#: an mp GD run is refused above 2^23 units of ``L d^3`` work (3 per layer and step; about
#: 50-100 us each at 113-200 bits with mpmath here: about 10 minutes)
MP_WORK_LIMIT_LOG2 = 23


def check_mp_gd_size(claim: str, L: int, d: int, steps: int) -> None:
    """Raise :class:`InputError` before an mp GD run of ``steps`` steps at depth ``L``
    and width ``d`` above :data:`MP_WORK_LIMIT_LOG2` (each step costs about
    ``3 L d^3`` multiplications at the working precision)."""

    def fits(L: int, d: int, steps: int) -> bool:
        return math.log2(3 * L * d**3 * max(steps, 1)) <= MP_WORK_LIMIT_LOG2

    if fits(L, d, steps):
        return
    why = (
        f"Each GD step costs about 3 L d^3 = {3 * L * d**3:.3g} multiplications at the "
        f"working precision; the limit is 2^{MP_WORK_LIMIT_LOG2} over the run (about 10 "
        "minutes here)"
    )
    _refuse(claim, {"L": L, "steps": steps, "d": d}, fits, why, "the run is too long")


def _refuse(
    claim: str, values: dict[str, int], fits: Callable[..., bool], why: str, otherwise: str
) -> None:
    """Raise the :class:`InputError` of a size check: every parameter over its largest
    admissible value with the others fixed, then ``why``."""
    over = []
    for name in values:
        top = _largest(partial(_fits_with, fits, values, name), 0 if name == "steps" else 1)
        if top is not None and values[name] > top:
            others = ", ".join(f"{k} = {v}" for k, v in values.items() if k != name)
            over.append(f"{name} = {values[name]} (at most {top} with {others})")
    if over:
        raise InputError(f"{claim}: too large: parameter {' or '.join(over)}. {why}")
    raise InputError(f"{claim}: {otherwise}. {why}")


def _fits_with(fits: Callable[..., bool], values: dict[str, int], name: str, value: int) -> bool:
    return bool(fits(**(values | {name: value})))


def _largest(fits: Callable[[int], bool], lo: int) -> int | None:
    """The largest integer ``v >= lo`` with ``fits(v)`` (``fits`` monotone), ``None`` if none."""
    if not fits(lo):
        return None
    hi = lo + 1
    while fits(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid)
    return lo


@dataclass
class ExactDrift:
    """What :func:`exact_drift` measured (all exact; norms as floats for display).

    ``nonzero``: residuals of the drift identity that are not the zero matrix
    (of ``pairs`` checked); ``worst`` / ``where``: the largest
    ``||residual||_F`` and its ``(step, l)``; ``change2[l]``:
    ``||D_l(T) - D_l(0)||_F^2`` and ``bound[l]``:
    ``eta^2 sum_t (||G_{l+1}(t)||_F^2 + ||G_l(t)||_F^2)``, exact rationals
    (``l`` 0-based); ``drift_per_step``: ``max_l ||D_l(t+1) - D_l(t)||_F``.
    """

    nonzero: int = 0
    pairs: int = 0
    worst: float = 0.0
    where: tuple[int, int] | None = None
    change2: list[Any] = field(default_factory=list)
    bound: list[Any] = field(default_factory=list)
    drift_per_step: list[float] = field(default_factory=list)


def exact_drift(
    e: Backend, ws: list[Any], target: Target, eta: Any, steps: int, *, power: int = 2
) -> ExactDrift:
    """``steps`` exact GD steps from ``ws`` (exact backend matrices, ``L >= 2``)
    with step ``eta`` (exact scalar): the drift identity's residual at every
    step and pair (:func:`drift_residuals`), and the total change of every
    ``D_l`` against the bound the identity gives by the triangle inequality."""
    out = ExactDrift()
    d0 = model.invariants(e, ws)
    out.bound = [e.scalar(0) for _ in d0]
    for t in range(steps):
        res, new, g, d_old = drift_residuals(e, ws, target, eta, power=power)
        for l, r in enumerate(res):
            out.pairs += 1
            out.bound[l] += eta * eta * (e.fro2(g[l + 1]) + e.fro2(g[l]))
            r2 = e.fro2(r)
            if r2 != 0:  # decided exactly: a residual too small for a float still counts
                out.nonzero += 1
                n = math.sqrt(e.to_float(r2))
                if out.where is None or n > out.worst:
                    out.worst, out.where = n, (t, l + 1)
        d_new = model.invariants(e, new)
        out.drift_per_step.append(
            max(fro(e, e.sub(x, y)) for x, y in zip(d_new, d_old, strict=True))
        )
        ws = new
    out.change2 = [e.fro2(e.sub(x, y)) for x, y in zip(model.invariants(e, ws), d0, strict=True)]
    return out
