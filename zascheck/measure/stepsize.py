"""GD from ZAS at Theorem 4.3's step size (ZAS paper, Sec. 4.2): choosing the
step exactly, choosing an arithmetic that can decide it, and deciding the
envelope ``R(t) <= (1 - eta/2)^t R(0)`` (eq. (4.5)) at every step.

The step bound ``eta*`` is an exact rational (:func:`zascheck.bounds.thm43_eta_exact`);
GD runs with the largest double ``<= factor * eta*`` when that is a normal
double, else with a 64-bit dyadic rational below it, which only the ball, mp
and exact arithmetics can hold (:class:`TheoremStep`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, model
from zascheck.arith import Backend, ExactBackend
from zascheck.bounds import fro2_exact, thm43_eta_exact, thm43_factor
from zascheck.errors import InputError
from zascheck.model import Target
from zascheck.result import Verdict, combine_verdicts, decide

__all__ = [
    "MAX_BITS",
    "TheoremStep",
    "envelope_run",
    "fraction_text",
    "step_below",
    "theorem_step",
]

#: the highest precision (bits) the ball escalation climbs to for a step that
#: is a double; a smaller step raises it (:meth:`TheoremStep.max_bits`)
MAX_BITS = 1024
#: the smallest positive normal double, 2^-1022
SMALLEST_NORMAL = Fraction(1, 2**1022)
#: GD's stop rules read R(t) as a double and compare it with ``rel_tol R(0)`` and
#: ``blowup R(0)`` (``blowup = 1e12``, about ``2^40``, :func:`zascheck.dynamics.gd`):
#: ``||Phi||_F^2`` must stay inside this range so that those products stay doubles
FRO2_RANGE = (Fraction(1, 2**1000), Fraction(2**1000))
#: significant bits of a step below the double range
STEP_BITS = 64


def fraction_text(x: Fraction, digits: int = 4) -> str:
    """A rational in scientific notation, at any magnitude (no underflow).

    >>> fraction_text(Fraction(1, 2**1211))
    '2.836E-365'
    >>> fraction_text(Fraction(1, 11664))
    '0.00008573'
    """
    ctx = Context(prec=digits)
    return str(ctx.divide(Decimal(x.numerator), Decimal(x.denominator)))


def step_below(x: Fraction) -> float | Fraction:
    """The step GD runs with for the bound ``x > 0``: the largest double
    ``<= x`` when ``x`` is at least the smallest normal double, else the
    largest ``STEP_BITS``-bit dyadic rational ``<= x`` (exact, no underflow).

    >>> step_below(Fraction(1, 3)) <= Fraction(1, 3)
    True
    >>> isinstance(step_below(Fraction(1, 2**1100)), Fraction)
    True
    """
    if x <= 0:
        raise InputError(f"a step bound must be > 0, got {fraction_text(x)}")
    if x >= SMALLEST_NORMAL:
        f = float(x)  # correctly rounded
        if Fraction(f) > x:
            f = math.nextafter(f, 0.0)
        return f
    k = STEP_BITS - (x.numerator.bit_length() - x.denominator.bit_length())
    return Fraction(math.floor(x * 2**k), 2**k)


@dataclass(frozen=True)
class TheoremStep:
    """Theorem 4.3's step for one target and depth, chosen exactly.

    ``eta_theorem`` is ``eta*`` (exact), ``eta`` the step GD runs with
    (``<= factor * eta*``; a double, or a dyadic ``Fraction`` below the double
    range), ``phi_fro2`` is ``||Phi||_F^2`` (exact).
    """

    eta: float | Fraction
    eta_theorem: Fraction
    factor: Fraction
    phi_fro2: Fraction
    L: int
    d: int

    @property
    def is_double(self) -> bool:
        return isinstance(self.eta, float)

    @property
    def eta_text(self) -> str:
        return fraction_text(Fraction(self.eta))

    @property
    def phi_fro(self) -> float:
        """``||Phi||_F`` as a double (for display)."""
        return math.sqrt(float(self.phi_fro2))

    def bits_needed(self) -> int:
        """Precision (bits) at which one step's decrease, a relative change of
        order ``eta``, is resolved with 64 bits to spare."""
        x = Fraction(self.eta)
        return max(x.denominator.bit_length() - x.numerator.bit_length(), 0) + 65

    def max_bits(self) -> int:
        """Top of the ball escalation for this step."""
        return max(MAX_BITS, 2 * self.bits_needed())

    def float64_obstacle(self) -> str | None:
        """Why float64 cannot decide this run (``None`` if it can): the step is
        not a double, or one step's decrease ``~ eta R`` is below the rounding
        budget ``gamma_n R`` of a loss evaluation (``n = 4 L d``)."""
        if not self.is_double:
            return f"eta = {self.eta_text} is below the smallest double"
        n = 4 * self.L * self.d
        gamma = n * 2.0**-53 / (1 - n * 2.0**-53)
        if float(self.eta) / 2 <= gamma:
            return (
                f"eta/2 = {float(self.eta) / 2:.3g} is below float64's rounding budget {gamma:.3g}"
            )
        return None


def theorem_step(phi: Any, L: int, factor: float | Fraction = 1) -> TheoremStep:
    """Theorem 4.3's step for target ``phi`` (``d x d`` doubles) at depth ``L``,
    times ``factor``, exactly (:func:`zascheck.bounds.thm43_eta_exact`).

    Raises :class:`InputError` when ``||Phi||_F^2`` is outside
    ``FRO2_RANGE`` (GD's stop rules read ``R(0) = ||Phi||_F^2 / 2`` as a
    double), naming the norm and the step.
    """
    arr = np.asarray(phi, dtype=float)
    fro2 = fro2_exact(arr)
    eta_star = thm43_eta_exact(fro2, L)
    fac = Fraction(factor)
    if fro2 != 0 and not (FRO2_RANGE[0] <= fro2 <= FRO2_RANGE[1]):
        raise InputError(
            f"target with ||Phi||_F^2 = {fraction_text(fro2)}: Theorem 4.3's step is "
            f"eta = {fraction_text(eta_star * fac)}, but ||Phi||_F^2 is outside "
            "[2^-1000, 2^1000], where GD's stop rules (R(t) against rel_tol R(0) and "
            "blowup R(0), R(0) = ||Phi||_F^2 / 2) stay doubles; rescale the target (the "
            "claim is scale-covariant only with the step)"
        )
    return TheoremStep(step_below(eta_star * fac), eta_star, fac, fro2, int(L), arr.shape[0])


def _loss_is_zero(b: Backend, ws0: list[np.ndarray], target: Target) -> bool:
    """``R(0) = 0`` exactly (not a double that underflowed): decided by
    enclosure in ball arithmetic, in exact rationals otherwise."""
    if b.rigorous:
        return b.le(model.loss(b, [b.matrix(w) for w in ws0], target), 0) is True
    e = ExactBackend()
    x = None if target.X is None else e.matrix(b.to_numpy(target.X))
    r0 = model.loss(e, [e.matrix(w) for w in ws0], Target(Y=e.matrix(b.to_numpy(target.Y)), X=x))
    return bool(r0 == 0)


class _EnvelopeObserver:
    """The observer of :func:`envelope_run`: decides step ``t`` of eq. (4.5)."""

    def __init__(self, b: Backend, eta: float | Fraction, n_round: int, stride: int) -> None:
        self.b, self.n_round, self.stride = b, n_round, stride
        self.q, self.eta_b = thm43_factor(b, eta), b.scalar(eta)
        self.env: Any = None  # (1 - eta/2)^t R(0) (bounds.thm43_envelope), one product a step
        self.prev: Any = None
        self.worst, self.worst_t, self.gap = -math.inf, 0, math.inf
        self.step_max = -math.inf
        self.verdicts: set[Verdict] = set()
        self.first_bad: int | None = None
        self.undecided: int | None = None
        self.trace: dict[str, list[Any]] = {"t": [], "ratio": []}

    def __call__(self, t: int, ws: Any, r: Any, g: Any) -> bool:
        b = self.b
        if self.env is None:
            self.env, self.prev = r, r
            return False
        self.env = self.env * self.q
        env, rf = self.env, b.to_float(r)
        v = decide(b, r, env, err=0.0 if b.rigorous else b.gamma(self.n_round) * rf)
        envf, pf = b.to_float(env), b.to_float(self.prev)
        ratio = rf / envf if envf > 0 else math.inf
        if ratio > self.worst:
            self.worst, self.worst_t = ratio, t
            # 1 - ratio in units of eta, in the backend: readable below a double's ulp of 1
            self.gap = b.to_float((env - r) / (self.eta_b * env)) if envf > 0 else -math.inf
        self.step_max = max(self.step_max, rf / pf if pf > 0 else 0.0)
        self.prev = r
        if t % self.stride == 0:
            self.trace["t"].append(t)
            self.trace["ratio"].append(ratio)
        self.verdicts.add(v)
        if v is Verdict.VIOLATED:
            self.first_bad = t
        elif v is Verdict.INCONCLUSIVE:
            self.undecided = t
        return v in (Verdict.VIOLATED, Verdict.INCONCLUSIVE)


def envelope_run(
    b: Backend,
    ws0: list[np.ndarray],
    target: Target,
    eta: float | Fraction,
    max_steps: int,
    rel_tol: float,
) -> dict[str, Any]:
    """GD from ``ws0`` at step ``eta``, deciding ``R(t) <= (1 - eta/2)^t R(0)``
    (Theorem 4.3, eq. (4.5)) at every step ``t = 1..`` in ``b``: by enclosure
    in ball arithmetic, against the rounding budget ``gamma_{4 L d} R(t)``
    otherwise.  Stops at the first violated or undecided step, at
    ``R <= rel_tol R(0)`` or after ``max_steps``.

    Returns ``verdict``, ``steps`` (every ``t <= steps`` was decided),
    ``stop``, ``worst_ratio`` = ``max_t R(t) / ((1 - eta/2)^t R(0))``,
    ``worst_t`` and ``gap_over_eta`` = ``(1 - worst_ratio) / eta`` computed in
    ``b`` (readable when ``eta`` is below a double's resolution of 1),
    ``max_step_factor`` = ``max_t R(t+1) / R(t)`` beside ``step_bound`` =
    ``1 - eta/2`` (Lemma 4.6), ``first_violation``, ``undecided_at``,
    ``final_rel_loss`` and a thinned ``trace``; ``zero_loss`` when ``R(0) = 0``
    exactly (then the ratios are ``nan``: the claim reads ``0 <= 0`` for every
    ``t``, GD staying at a global minimum).
    """
    obs = _EnvelopeObserver(b, eta, 4 * len(ws0) * max(ws0[0].shape), max(1, max_steps // 200))
    run = dynamics.gd(b, ws0, target, eta, max_steps=max_steps, rel_tol=rel_tol, observers=[obs])
    verdict = _envelope_verdict(b, ws0, target, run, obs.verdicts)
    if run.stop == "diverged":
        obs.first_bad = run.steps
    stop = run.stop
    if run.stop == "observer":
        stop = "violated" if obs.first_bad is not None else "undecided"
    r0f = b.to_float(run.losses[0])
    # R(0) = 0 exactly: a global minimum where every gradient vanishes, so GD
    # stays and (4.5) reads 0 <= 0 at every t; the ratio 0/0 is not a number
    zero = run.steps == 0 and run.stop == "converged" and verdict.ok
    if zero:
        obs.worst, obs.gap = math.nan, math.nan
    return {
        "verdict": verdict,
        "zero_loss": zero,
        "steps": run.steps if obs.undecided is None else obs.undecided - 1,
        "stop": stop,
        "worst_ratio": obs.worst,
        "worst_t": obs.worst_t,
        "gap_over_eta": obs.gap,
        "max_step_factor": obs.step_max,
        "step_bound": b.to_float(obs.q),
        "first_violation": obs.first_bad,
        "undecided_at": obs.undecided,
        "final_rel_loss": b.to_float(run.losses[-1]) / r0f if r0f > 0 else 0.0,
        "trace": obs.trace,
    }


def _envelope_verdict(
    b: Backend, ws0: list[np.ndarray], target: Target, run: dynamics.GDRun, verdicts: set[Verdict]
) -> Verdict:
    """The verdict of one :func:`envelope_run`: its steps' verdicts combined;
    divergence violates, balls too wide are inconclusive; with no step run,
    ``R(0) = 0`` exactly is a global minimum (every gradient vanishes, GD
    stays, ``0 <= (1 - eta/2)^t 0`` for every ``t``)."""
    if run.stop == "diverged":
        return Verdict.VIOLATED
    if run.stop == "precision":
        return Verdict.INCONCLUSIVE
    if verdicts:
        return combine_verdicts(verdicts)
    if run.stop == "converged" and run.steps == 0 and _loss_is_zero(b, ws0, target):
        return Verdict.CERTIFIED if b.rigorous else Verdict.HOLDS
    return Verdict.INCONCLUSIVE
