"""Pieces several check families share: the flow-decay measurement behind every
``R(t) <= exp(-2 c t) R(0)`` claim (Theorem 4.1 of the ZAS paper, Remarks (1)
and (2), the reviewers' variants) and the error budget of a loss.

Every budget here is computed in the working arithmetic (arb balls, mpmath
numbers): a loss of ``1e-340`` or ``1e+300`` is compared with its envelope
without passing through a double that would underflow to 0 or overflow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from zascheck import dynamics, model
from zascheck.arith import Backend
from zascheck.model import Target
from zascheck.result import Verdict, combine_verdicts

#: how far below ``exp(-2 c T) R(0)`` the loss must be (with its budget) for
#: :func:`flow_decay` to stop early and decide ``[t1, T]`` by monotonicity
STOP_ROOM = 2.0**-20

__all__ = [
    "DecayMeasurement",
    "decide_ratio",
    "float_up",
    "flow_decay",
    "fro_upper_b",
    "loss_change_bound",
    "loss_error_bound",
    "product_perturbation",
    "rounding_allowance",
    "stationary_point",
]


def fro_upper_b(b: Backend, m: Any) -> Any:
    """Upper bound of ``||m||_F`` as a backend scalar (a float in exact
    arithmetic, whose square roots are not rational)."""
    s = b.fro2(m)
    if b.exact:
        return math.sqrt(b.to_float(s)) * (1 + 2.0**-50)
    return b.sqrt(b.upper(s))


def float_up(b: Backend, x: Any) -> float:
    """A double ``>= x`` for a non-negative backend scalar ``x``: rounded up,
    and never 0 for a positive ``x`` (the smallest subnormal instead), ``inf``
    above the double range."""
    if isinstance(x, float):
        return x
    f = b.to_float(b.upper(x))
    if math.isnan(f):
        return math.inf
    f = f * (1 + 2.0**-52) if f > 0 else f
    if f == 0.0 and b.lt(b.scalar(0), x) is True:
        return math.ulp(0.0)
    return f


def product_perturbation(norms: Sequence[Any], dws: Any) -> Any:
    """Bound on ``||A_k...A_1 - B_k...B_1||`` when ``||A_i|| <= norms[i]`` and
    ``||A_i - B_i|| <= dws[i]`` (or ``<= dws`` for every ``i``) in a
    submultiplicative norm: ``prod(n_i + dw_i) - prod(n_i)`` (0 for an empty
    product), accumulated as ``Delta_k = Delta_{k-1} (n_k + dw_k) + P_{k-1}
    dw_k`` so that nothing cancels for a tiny ``dw``.  Works on floats and on
    backend scalars (balls: the bound of the enclosed values).

    >>> product_perturbation([1.0, 2.0], 0.5)
    1.75
    """
    if not isinstance(dws, Sequence):
        if not norms or dws == 0:
            return 0.0
        dws = [dws] * len(norms)
    delta: Any = 0.0
    p: Any = 1.0
    for n, dw in zip(norms, dws, strict=True):
        delta = delta * (n + dw) + p * dw
        p = p * n
    return delta


def loss_change_bound(b: Backend, ws: Sequence[Any], target: Target, dws: Sequence[Any]) -> Any:
    """Bound on ``|R(W + dW) - R(W)|`` when ``||dW_l||_F <= dws[l]`` for each
    layer, as a backend scalar.

    ``||Delta P||_F <= prod_l (||W_l|| + dw_l) - prod_l ||W_l||`` (Frobenius
    norms are submultiplicative; the difference is accumulated without
    cancellation), ``||Delta E|| <= ||Delta P|| ||X||_F`` and
    ``|Delta R| <= ||E|| ||Delta E|| + ||Delta E||^2 / 2`` (``R = ||E||^2/2``,
    paper eqs. 2.2-2.3).  Per-layer errors keep the bound on the scale of each
    layer: a last layer of size ``1e-170`` with an error of relative size
    ``2^-p`` adds ``2^-p`` relative to ``R``, not ``2^-p / 1e-170``.
    """
    conv = float if b.exact else b.scalar
    norms = [fro_upper_b(b, w) for w in ws]
    dp = product_perturbation(norms, [conv(x) if isinstance(x, (int, float)) else x for x in dws])
    if target.X is not None:
        dp = dp * fro_upper_b(b, target.X)
    r = model.loss(b, ws, target)
    e = math.sqrt(2 * b.to_float(r)) * (1 + 2.0**-50) if b.exact else b.sqrt(b.upper(2 * r))
    return e * dp + dp * dp / 2


def loss_error_bound(b: Backend, ws: Sequence[Any], target: Target, dw: float) -> float:
    """Float bound on ``|R(W + dW) - R(W)|`` when every layer moves by at most
    ``dw`` in Frobenius norm: twice :func:`loss_change_bound` (the factor 2
    the callers' budgets were stated with), rounded up to a double that never
    underflows to 0 for a positive bound."""
    if dw == 0:
        return 0.0
    return float_up(b, 2 * loss_change_bound(b, ws, target, [dw] * len(ws)))


def rounding_allowance(b: Backend, ws: Sequence[Any], target: Target) -> Any:
    """Bound on the rounding error of evaluating ``R`` in a non-rigorous
    arithmetic (float64, mp), as a backend scalar; 0 in ball and exact
    arithmetic, whose enclosures carry it.  ``E = P X - Y`` is formed with
    ``n = (L + 2) max(dims)`` roundings per entry: ``||dE|| <= gamma_n
    (||P||_F ||X||_F + ||Y||_F)``, then ``|dR| <= ||E|| ||dE|| + ||dE||^2/2 +
    gamma_n R`` (Higham, Thm 3.5)."""
    if b.rigorous:
        return 0.0 if b.exact else b.scalar(0)
    dims = [d for w in ws for d in b.shape(w)]
    g = b.scalar(b.gamma((len(ws) + 2) * max(dims)))
    pn = b.scalar(1)
    for w in ws:
        pn = pn * fro_upper_b(b, w)
    if target.X is not None:
        pn = pn * fro_upper_b(b, target.X)
    de = g * (pn + fro_upper_b(b, target.Y))
    r = model.loss(b, ws, target)
    e = b.sqrt(abs(2 * r))
    return e * de + de * de / 2 + g * abs(r)


def decide_ratio(b: Backend, q: Any, beta: Any, relation: str = "<=") -> Verdict:
    """Verdict on ``q (relation) 1`` for a quantity ``q`` known up to
    ``beta`` (the error the arithmetic does not carry: an integration
    estimate), both backend scalars, compared in the working arithmetic
    (balls: by enclosure, so their radii count too).

    ``"<="``: ``holds`` when ``q + beta <= 1`` is certain, ``violated`` when
    ``q - beta > 1`` is, else ``inconclusive``; ``">="`` mirrored.
    ``"=="`` (a tight claim): ``violated`` when ``|q - 1| > beta`` is
    certain, else ``holds`` (equality can only hold within a budget).  A NaN
    or infinite ``q`` (an arithmetic that over- or underflowed) is
    ``inconclusive``.  The claim's own scale never passes through a double.

    >>> from zascheck.arith import backend
    >>> b = backend("ball", 128)
    >>> with b.session():
    ...     tiny, small = b.scalar(2) ** -200, b.scalar(2) ** -100
    ...     [decide_ratio(b, 1 - x, b.scalar(2) ** -120).value for x in (tiny, small)]
    ['inconclusive', 'holds']
    """
    one = b.scalar(1)
    if not b.is_finite(q) or not b.is_finite(beta):
        return Verdict.INCONCLUSIVE
    if relation == "==":
        off = b.lt(one + beta, q) is True or b.lt(q, one - beta) is True
        return Verdict.VIOLATED if off else Verdict.HOLDS
    lo, hi = (q + beta, one) if relation == "<=" else (one, q - beta)
    if b.le(lo, hi) is True:
        return Verdict.HOLDS
    lo, hi = (one, q - beta) if relation == "<=" else (q + beta, one)
    if b.lt(lo, hi) is True:
        return Verdict.VIOLATED
    return Verdict.INCONCLUSIVE


@dataclass
class DecayMeasurement:
    """``R(t) / (exp(-2 c t) R(0))`` on a time grid, with its verdict.

    ``ratios[i]`` belongs to ``times[i]`` (a double for tables; the verdict
    was taken on the backend value); ``err[i]`` is the error budget on the
    ratio at that time (rounded up to a double); ``worst`` indexes the
    largest ratio.  ``monotone_from``: the time ``t1`` from which the later
    grid times were decided by monotonicity of ``R`` (``R(t) <= R(t1) <=
    exp(-2 c T) R(0)`` for ``t1 <= t <= T``); their ratios are then the upper
    bounds ``R(t1) exp(2 c t) / R(0)``.  ``stationary``: ``E(0) = 0``
    exactly, every ``G_l = 0`` and the flow stands still (``R(t) = 0``).
    ``resolved_bits[i] = -log2(err[i])``: how many bits of the ratio the
    budget resolves (what a higher precision would have to add);
    ``deficit_text[i]``: ``1 - ratio`` in the working arithmetic, as text (a
    deficit of ``1.7e-342`` is below the smallest double).
    """

    times: list[float]
    ratios: list[float]
    err: list[float]
    verdict: Verdict
    worst: int
    integration_error: float
    steps: int
    losses: list[float] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    deficit_text: list[str] = field(default_factory=list)
    resolved_bits: list[float] = field(default_factory=list)
    monotone_from: float | None = None
    stationary: bool = False
    failure: str | None = None

    @property
    def max_ratio(self) -> float:
        return self.ratios[self.worst] if self.ratios else math.nan

    def evidence(self) -> dict[str, Any]:
        return {
            "times": self.times,
            "ratio": self.ratios,
            "one_minus_ratio": self.deficit_text,
            "loss": self.losses,
            "ratio_error_budget": self.err,
            "verdicts": [v.value for v in self.verdicts],
            "integration_error_estimate": self.integration_error,
            "taylor_steps": self.steps,
            "monotone_from": self.monotone_from,
            "stationary": self.stationary,
            "failure": self.failure,
        }


def stationary_point(b: Backend, ws: Sequence[Any], target: Target) -> bool:
    """Every gradient ``G_l`` is exactly 0 at ``ws`` (every entry an exact
    zero: no radius in ball arithmetic), so gradient flow stands still there
    (its vector field is polynomial: the solution is unique).  For whitened
    targets this is ``E = 0``; with data, ``E X^T = 0``."""
    zero = b.scalar(0)
    return all(
        b.le(x, zero) is True and b.le(zero, x) is True
        for g in model.grads(b, ws, target)
        for x in b.entries(g)
    )


def _budget(b: Backend, ws: Sequence[Any], target: Target, lerr: Sequence[Any]) -> Any:
    return loss_change_bound(b, ws, target, lerr) + rounding_allowance(b, ws, target)


def _bits(b: Backend, beta: Any) -> float:
    """``-log2(beta)`` for a non-negative budget, taken in the working
    arithmetic (a budget of ``2^-1200`` gives 1200, not the double floor)."""
    if isinstance(beta, float) or b.exact:
        f = float(b.to_float(beta)) if not isinstance(beta, float) else beta
        return math.inf if f <= 0 else -math.log2(f)
    up = b.upper(beta)
    if b.le(up, b.scalar(0)) is True:
        return math.inf
    if not b.is_finite(up):
        return -math.inf
    return -b.to_float(b.log(up)) / math.log(2)


def flow_decay(
    b: Backend,
    ws0: Sequence[Any],
    target: Target,
    times: Sequence[float],
    rate: Any = 1,
    *,
    tight: bool = False,
    stop_early: bool = False,
    offset: Any = 0,
) -> DecayMeasurement:
    """Integrate gradient flow from ``ws0`` and compare ``R(t) - offset``
    with ``exp(-2 rate t) (R(0) - offset)`` at every ``t`` in ``times`` (all
    > 0); ``offset`` is 0 for a plain decay claim, the minimum loss for an
    excess-loss claim (Remark (2)).  ``rate`` may be a backend scalar (an
    enclosure: the comparison then holds for every rate in it).

    The budget at each time is :func:`loss_change_bound` of the integrator's
    per-layer error estimates (:attr:`dynamics.FlowRun.layer_errors`) plus
    :func:`rounding_allowance`, relative to the envelope; the comparison is
    :func:`decide_ratio`, in the working arithmetic.  With ``tight=True`` the
    claim is equality (``ratio == 1`` within the budget), e.g. Theorem 4.1 at
    ``L = 1``.

    ``stop_early`` (inequalities only): ``R`` is non-increasing along any
    gradient flow (``dR/dt = -sum_l ||G_l||_F^2``, zas.thm4.1.steps (iv)), so
    once ``R(t1) - offset + budget < STOP_ROOM exp(-2 rate T) (R(0) -
    offset)`` is certain at some ``t1 < T = max(times)``, every ``t in [t1,
    T]`` satisfies the claim (with the ratio at most ``STOP_ROOM = 2^-20``)
    and the integration stops there: a stiff flow (a large target) that has
    converged need not be followed to ``T``.

    If every ``G_l`` is exactly 0 at ``ws0`` (:func:`stationary_point`) the
    flow stands still, ``R(t) = R(0)``, and the claim at ``t > 0`` is
    ``R(0) - offset <= 0``: ``certified`` (or ``violated``) by enclosure.  A
    flow the arithmetic cannot follow (overflow) gives ``inconclusive`` with
    ``failure`` set.
    """
    times = sorted(float(t) for t in times if float(t) > 0)
    ws0 = [b.matrix(w) for w in ws0]
    off = offset if not isinstance(offset, (int, float, Fraction)) else b.scalar(offset)
    rate_b = rate if not isinstance(rate, (int, float, Fraction)) else b.scalar(rate)
    r0 = model.loss(b, ws0, target) - off
    if stationary_point(b, ws0, target):
        return _stationary(b, r0, rate_b, times)
    # stop only with room (2^-20): the bounds the later times get from
    # monotonicity then never pass for the largest ratio measured
    env_end = b.exp(-2 * rate_b * b.scalar(times[-1] if times else 0)) * r0 * b.scalar(STOP_ROOM)
    stop: dict[str, Any] = {}

    def until(t: float, ws: list[Any], lerr: list[Any]) -> bool:
        up = model.loss(b, ws, target) - off + _budget(b, ws, target, lerr)
        if b.lt(up, env_end) is True:
            stop.update(t=t, up=up)
            return True
        return False

    try:
        run = dynamics.flow(
            b, ws0, target, [0.0, *times], until=until if stop_early and not tight else None
        )
    except ArithmeticError as exc:
        n = len(times)
        return DecayMeasurement(
            times,
            [math.nan] * n,
            [math.inf] * n,
            Verdict.INCONCLUSIVE,
            0,
            math.inf,
            0,
            failure=f"the flow could not be followed in {b.describe()}: {exc}",
        )
    return _compare(b, run, target, times, (r0, off, rate_b), tight, stop)


def _stationary(b: Backend, r0: Any, rate_b: Any, times: list[float]) -> DecayMeasurement:
    """:func:`flow_decay` at a stationary point: ``R(t) - offset = R(0) -
    offset =: x`` for every ``t``, so the claim at ``t`` is ``x (1 -
    exp(-2 rate t)) <= 0``, decided by enclosure (``x = 0`` or ``rate = 0``:
    an equality; ``x > 0`` with ``rate > 0``: violated).  The ratio is
    ``exp(2 rate t)`` (read as 0 when ``x = 0``)."""
    zero = b.scalar(0)
    verdicts, ratios, text = [], [], []
    for t in times:
        grow = b.exp(2 * rate_b * b.scalar(t))
        lhs = r0 * (1 - 1 / grow)
        if b.le(lhs, zero) is True:
            v = Verdict.CERTIFIED if b.rigorous else Verdict.HOLDS
        else:
            v = Verdict.VIOLATED if b.lt(zero, lhs) is True else Verdict.INCONCLUSIVE
        x_zero = b.le(r0, zero) is True
        verdicts.append(v)
        ratios.append(0.0 if x_zero else b.to_float(grow))
        text.append("R(t) - offset = 0" if x_zero else b.to_str(1 - grow, 6))
    n = len(times)
    return DecayMeasurement(
        times,
        ratios,
        [0.0] * n,
        combine_verdicts(verdicts),
        max(range(n), key=lambda i: ratios[i], default=0),
        0.0,
        0,
        [b.to_float(r0)] * n,
        verdicts,
        text,
        [math.inf] * n,
        stationary=True,
    )


def _compare(
    b: Backend,
    run: dynamics.FlowRun,
    target: Target,
    times: list[float],
    claim: tuple[Any, Any, Any],
    tight: bool,
    stop: dict[str, Any],
) -> DecayMeasurement:
    """The per-time comparisons of :func:`flow_decay` (sampled times, then
    the times after an early stop, decided by monotonicity); ``claim = (R(0)
    - offset, offset, rate)``."""
    r0, off, rate_b = claim
    ratios, errs, verdicts, losses, texts, bits = [], [], [], [], [], []
    zero = b.scalar(0)
    sampled = list(zip(run.ws[1:], run.layer_errors[1:], strict=True))
    for i, t in enumerate(times):
        env = b.exp(-2 * rate_b * b.scalar(t)) * r0
        if i < len(sampled):
            ws, lerr = sampled[i]
            r = model.loss(b, ws, target) - off
            q, beta = r / env, _budget(b, ws, target, lerr) / env
            v = decide_ratio(b, q, beta, "==" if tight else "<=")
        else:  # after the early stop: R(t) <= R(t1) <= up < exp(-2 rate T) R(0)
            r, q, beta = stop["up"], stop["up"] / env, zero
            v = Verdict.HOLDS
        qf = b.to_float(q)
        ratios.append(qf if math.isfinite(qf) else math.nan)
        errs.append(float_up(b, beta))
        verdicts.append(v)
        losses.append(b.to_float(r))
        texts.append(b.to_str(b.scalar(1) - q, 6))
        bits.append(_bits(b, beta) if i < len(sampled) else math.inf)
    finite = [i for i, x in enumerate(ratios) if math.isfinite(x)]
    worst = max(finite, key=lambda i: ratios[i]) if finite else 0
    return DecayMeasurement(
        times=times,
        ratios=ratios,
        err=errs,
        verdict=combine_verdicts(verdicts),
        worst=worst,
        integration_error=run.error_estimate,
        steps=run.steps,
        losses=losses,
        verdicts=verdicts,
        deficit_text=texts,
        resolved_bits=bits,
        monotone_from=stop.get("t"),
    )
