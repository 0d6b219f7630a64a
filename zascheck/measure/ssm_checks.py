"""What the cards of section C (``zascheck/claims/ssm/*.py``) share, one floor
below them: the result builder, the validation of their inputs, GD probes and
step-size brackets judged on both ends, and the scalar reduction of
identity-initialized GD.

The mathematics is :mod:`zascheck.ssm`; loss, gradients and GD are
:mod:`zascheck.model` / :mod:`zascheck.dynamics`.  Loss
``1/2 ||W_{L:1} - R||_F^2``, ``rho = sigma_max(R)``,
``eta_1 = 2 / (L rho^{2(L-1)/L})`` (the ``ssm.thm1`` bound).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, ssm
from zascheck.arith import Backend
from zascheck.errors import InputError
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, margin_of
from zascheck.symbolic.proof import Proof

__all__ = [
    "Probe",
    "Reduction",
    "bracket_verdict",
    "classify_unfinished",
    "gd_probe",
    "identity_reduction",
    "lam_max",
    "need_choice",
    "need_fraction",
    "need_int",
    "need_ints",
    "need_matrix",
    "need_number",
    "need_numbers",
    "rotation",
    "ssm_result",
    "step_bracket",
    "sym_target",
    "user_target",
]


def ssm_result(
    b: Backend,
    verdict: Verdict,
    measured: float,
    bound: float,
    relation: str,
    *,
    how: str,
    notes: str = "",
    **kw: Any,
) -> CheckResult:
    """A result of an SSM card in ``b``'s arithmetic; ``how`` (the technique)
    leads the notes, since ``method`` is the registered method key the engine
    fills in.  Every other field (``scope``, ``parts``, ``evidence``, ...)
    passes through ``kw``."""
    return CheckResult(
        notes=f"[{how}] {notes}" if how else notes,
        verdict=verdict,
        measured=float(measured),
        bound=float(bound),
        margin=float(margin_of(float(measured), float(bound), relation)),
        relation=relation,
        arithmetic=b.name,
        precision_bits=b.prec,
        **kw,
    )


# ---------------------------------------------------------------------------
# Inputs: every --case value is checked here, with a message naming its key
# ---------------------------------------------------------------------------


def need_int(name: str, v: Any, lo: int = 0) -> int:
    """``v`` as an integer ``>= lo``; :class:`InputError` naming ``name`` otherwise."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise InputError(f"parameter {name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def need_ints(name: str, v: Any, lo: int = 0) -> list[int]:
    """``v`` as a list of integers ``>= lo``."""
    if not isinstance(v, (list, tuple)):
        raise InputError(f"parameter {name} must be a list of integers, got {v!r}")
    return [need_int(f"{name}[{i}]", x, lo) for i, x in enumerate(v)]


def need_number(
    name: str, v: Any, *, lo: float | None = None, hi: float | None = None, strict: bool = True
) -> float:
    """``v`` as a finite float (``lo < v`` / ``v < hi``, or ``<=`` if not ``strict``)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise InputError(f"parameter {name} must be a number, got {v!r}")
    x = float(v)
    low_bad = lo is not None and (x <= lo if strict else x < lo)
    high_bad = hi is not None and (x >= hi if strict else x > hi)
    if not math.isfinite(x) or low_bad or high_bad:
        rng = f"{'(' if strict else '['}{lo if lo is not None else '-inf'}, "
        rng += f"{hi if hi is not None else 'inf'}{')' if strict else ']'}"
        raise InputError(f"parameter {name} must be a finite number in {rng}, got {v!r}")
    return x


def need_numbers(name: str, v: Any, *, n: int | None = None, **bounds: Any) -> list[float]:
    """``v`` as a non-empty list of numbers (exactly ``n`` of them if given)."""
    if not isinstance(v, (list, tuple)) or not v or (n is not None and len(v) != n):
        size = f"{n} numbers" if n is not None else "a non-empty list of numbers"
        raise InputError(f"parameter {name} must be {size}, got {v!r}")
    return [need_number(f"{name}[{i}]", x, **bounds) for i, x in enumerate(v)]


def need_fraction(name: str, v: Any, *, positive: bool = True) -> Fraction:
    """``v`` (``"3/4"``, an int, or a float) as an exact :class:`Fraction`."""
    try:
        if isinstance(v, bool):
            raise TypeError
        q = Fraction(v) if isinstance(v, (str, int)) else Fraction(need_number(name, v))
    except (TypeError, ValueError, ZeroDivisionError):
        raise InputError(f"parameter {name} must be a rational like '3/4', got {v!r}") from None
    if positive and q <= 0:
        raise InputError(f"parameter {name} must be > 0, got {v!r}")
    return q


def need_choice(name: str, v: Any, choices: tuple[str, ...]) -> str:
    """``v`` as one of ``choices``."""
    if v not in choices:
        raise InputError(f"parameter {name} must be one of {', '.join(choices)}, got {v!r}")
    return str(v)


def need_matrix(
    name: str, v: Any, *, square: bool = True, symmetric: bool = False, n: int | None = None
) -> np.ndarray:
    """``v`` (nested lists or an array) as a finite 2-D float array; square,
    exactly symmetric and ``n x n`` when asked.  :class:`InputError` naming
    ``name`` and the problem otherwise."""
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"parameter {name} must be a matrix of numbers, got {v!r}") from None
    if a.ndim != 2 or a.size == 0:
        raise InputError(f"parameter {name} must be a 2-D matrix, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InputError(f"parameter {name} has NaN or infinite entries")
    if square and a.shape[0] != a.shape[1]:
        raise InputError(f"parameter {name} must be square, got shape {a.shape}")
    if n is not None and a.shape != (n, n):
        raise InputError(f"parameter {name} must be {n} x {n}, got shape {a.shape}")
    if symmetric and not np.array_equal(a, a.T):
        raise InputError(f"parameter {name} must be symmetric (this claim is about symmetric R)")
    return a


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------


def rotation(theta: float) -> np.ndarray:
    """The ``2 x 2`` rotation by ``theta`` radians."""
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def sym_target(eigs: list[float], rotate: float) -> np.ndarray:
    """``Q diag(eigs) Q^T`` with ``Q`` a rotation by ``rotate`` in the first two
    coordinates, symmetrized so that it is *exactly* symmetric in float64
    (``(M + M^T)/2``: the claims about symmetric targets use that matrix, whose
    eigenvalues are ``eigs`` up to rounding)."""
    d = len(eigs)
    q = np.eye(d)
    if d >= 2:
        q[:2, :2] = rotation(rotate)
    m = q @ np.diag(np.asarray(eigs, dtype=float)) @ q.T
    return (m + m.T) / 2


def user_target(phi: Any, *, symmetric: bool = False, nonzero: bool = False) -> np.ndarray:
    """A user's target (``--phi`` or ``--case '{"phi": ...}'``), validated and
    used exactly as given (square; exactly symmetric when the claim is about
    symmetric targets; not the zero matrix with ``nonzero``, for claims whose
    step bound ``2 / (L rho^{2(L-1)/L})`` needs ``rho = sigma_max > 0``).
    Raises :class:`InputError` naming what the claim needs."""
    m = need_matrix("phi", phi, square=True, symmetric=symmetric)
    if nonzero and not np.any(m):
        raise InputError(
            "parameter phi is the zero matrix: this claim is about targets with rho = "
            "sigma_max(R) > 0 (its step bounds and limits are stated for them)"
        )
    return m


# ---------------------------------------------------------------------------
# GD probes and step-size brackets
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One GD run at one step size: ``state`` ``True`` (reached
    ``R <= u R(0)``), ``False`` (diverged, or made no progress over its last
    ``T/2`` steps) or ``None`` (undecided: still decreasing when the step budget
    ran out)."""

    state: bool | None
    stop: str
    steps: int
    why: str


def gd_probe(b: Backend, ws0: list[Any], tgt: Target, eta: float, max_steps: int) -> Probe:
    """Run GD from ``ws0`` at ``eta`` for at most ``max_steps`` steps and classify
    the run (see :class:`Probe`).  ``u`` is ``b``'s unit roundoff."""
    run = dynamics.gd(b, ws0, tgt, eta, max_steps=max_steps, rel_tol=b.unit_roundoff)
    if run.stop == "converged":
        return Probe(True, run.stop, run.steps, f"R <= u R(0) after {run.steps} steps")
    if run.stop == "diverged":
        return Probe(False, run.stop, run.steps, f"diverged at step {run.steps}")
    state, why = classify_unfinished([b.to_float(x) for x in run.losses])
    return Probe(state, "stalled" if state is False else run.stop, run.steps, why)


def classify_unfinished(losses: list[float]) -> tuple[bool | None, str]:
    """A run that neither converged nor diverged within its budget: ``False``
    (decided failure) or ``None`` (undecided: it may still converge).

    On the even steps (a period-2 oscillation shows on alternate steps), a run
    heading for a minimum decreases monotonically towards 0.  Decided failure:
    the loss is not monotonically decreasing over the last quarter (no
    contraction: chaos, growth or a cycle), or Aitken's extrapolation of the
    losses at ``T/4, T/2, T`` (log-spaced, so a power law ``c t^{-p}``, which
    is how GD converges sublinearly at a non-hyperbolic minimum, extrapolates
    to 0, and so does geometric decay) puts the limit at half the current loss
    or more: it settles at a positive level (a periodic orbit or a non-global
    critical point).  Otherwise undecided: still converging when the budget
    ended.

    >>> [classify_unfinished(s)[0] for s in (
    ...     [2.0 ** -t for t in range(400)], [1 / (t + 1) for t in range(400)],
    ...     [0.1 + 2.0 ** -t for t in range(400)], [0.1 + 1 / (t + 1) for t in range(400)])]
    [None, None, False, False]
    """
    n = len(losses)
    start = n - 1 - (n // 4)
    tail = losses[start + (start % 2) :: 2]  # even steps of the last quarter
    if len(tail) < 3:
        return None, f"too short to classify ({n - 1} steps)"
    if any(y >= x for x, y in itertools.pairwise(tail)):
        return False, f"loss not decreasing on alternate steps over the last {n // 4} steps"
    t3 = (n - 1) - (n - 1) % 2
    l1, l2, l3 = losses[t3 // 4 - (t3 // 4) % 2], losses[t3 // 2 - (t3 // 2) % 2], losses[t3]
    den = l1 + l3 - 2 * l2
    limit = (l1 * l3 - l2 * l2) / den if den > 0 else 0.0
    if limit >= l3 / 2:
        return False, f"settling at a positive loss ~{limit:.3g} (Aitken extrapolation)"
    return None, f"still decreasing after {n - 1} steps (limited by the step budget)"


def step_bracket(
    b: Backend,
    ws0: list[Any],
    tgt: Target,
    eta_ref: float,
    *,
    iters: int,
    max_steps: int,
    lo: float,
    hi: float,
) -> ssm.Bracket:
    """Bracket of the largest ``f`` (on ``[lo, hi]``) at which GD from ``ws0``
    reaches the minimum with step ``f * eta_ref`` (probes: :func:`gd_probe`)."""
    return ssm.bisect_bracket(
        lambda f: gd_probe(b, ws0, tgt, f * eta_ref, max_steps).state, lo, hi, iters
    )


def bracket_verdict(br: ssm.Bracket, bound: float) -> Verdict:
    """A threshold ``<= bound`` claim judged on both ends of its bracket:
    ``holds`` below, ``violated`` above, ``inconclusive`` when it straddles."""
    return {
        "below": Verdict.HOLDS,
        "above": Verdict.VIOLATED,
        "straddles": Verdict.INCONCLUSIVE,
    }[br.versus(bound)]


def lam_max(b: Backend, ws: list[Any], tgt: Target) -> float:
    """Largest Hessian eigenvalue at ``ws`` (float)."""
    return max(b.eigvalsh(ssm.hessian(b, ws, tgt)))


# ---------------------------------------------------------------------------
# The scalar reduction of identity (or commuting diagonal) initialization
# ---------------------------------------------------------------------------


@functools.cache
def _invariance(L: int) -> tuple[Proof, ...]:
    from zascheck.symbolic.ssm_proofs import invariance_proofs

    return tuple(invariance_proofs(L))


@dataclass
class Reduction:
    """GD from ``W_l(0) = W0`` (all ``l``; ``W0 = I``, or a diagonal ``D`` with a
    diagonal ``R``) reduced to one scalar map per eigenvalue of ``R``.

    ``limits[i]`` is the :class:`zascheck.ssm.ScalarLimit` of eigenvalue
    ``i`` (arb balls, certified for every ``t``); ``invariant_proven``: the
    free-algebra induction step (:func:`zascheck.symbolic.ssm_proofs.invariance_proofs`)
    reduced to zero for this ``L``.
    """

    limits: list[ssm.ScalarLimit]
    multiplicities: list[int]
    invariant_proven: bool

    def all_limits(self, want: str) -> bool:
        return all(s.limit == want for s in self.limits)

    def describe(self) -> list[dict[str, Any]]:
        """JSON-able summary, one entry per eigenvalue."""
        out = []
        for s, m in zip(self.limits, self.multiplicities, strict=True):
            out.append({
                "eigenvalue": float(s.lam.mid()), "multiplicity": m, "w0": float(s.w0.mid()),
                "limit": s.limit, "rate": None if s.rate is None else float(s.rate.upper()),
                "how": s.how, "steps_before_certificate": s.steps,
            })  # fmt: skip
        return out


def identity_reduction(
    R: np.ndarray,
    L: int,
    eta: float,
    *,
    w0: list[float] | None = None,
    prec: int = 128,
    max_steps: int = 0,
) -> Reduction:
    """Certify, for every ``t``, where each eigen-direction of GD from
    ``W_l(0) = I`` (``w0 = None``) or ``W_l(0) = diag(w0)`` goes, on the exactly
    symmetric float64 target ``R`` used as given (its entries are exact
    rationals).

    Eigenvalues: for a diagonal ``R`` its entries (exact), paired with
    ``w0``; otherwise the roots of the exactly factored characteristic
    polynomial (arb enclosures), every ``w0 = 1``.  ``eta`` is the float64 step
    GD uses (exact).  Raises :class:`InputError` if ``R`` is not exactly
    symmetric, or ``w0`` is given for a non-diagonal ``R``.
    """
    import flint

    from zascheck.arith import BallBackend

    if not np.array_equal(R, R.T):
        raise InputError("the scalar reduction needs an exactly symmetric target R")
    diagonal = np.array_equal(R, np.diag(np.diag(R)))
    if w0 is not None and not diagonal:
        raise InputError("a diagonal init reduces to scalar maps only for a diagonal target")
    with BallBackend(prec).session():
        if diagonal:
            starts = w0 if w0 is not None else [1.0] * R.shape[0]
            eig = [(flint.arb(float(x)), 1, s) for x, s in zip(np.diag(R), starts, strict=True)]
        else:
            rq = flint.fmpq_mat([[_fmpq(flint, x) for x in row] for row in R])
            eig = [(ball, m, 1.0) for _, ball, m in ssm.symmetric_eigenvalues(rq, flint)]
        lims = [
            ssm.certify_scalar_limit(lam, L, eta, start, flint, max_steps=max_steps)
            for lam, _, start in eig
        ]
    proven = all(p.proven for p in _invariance(L))
    return Reduction(lims, [m for _, m, _ in eig], proven)


def _fmpq(flint: Any, x: float) -> Any:
    q = Fraction(float(x))
    return flint.fmpq(q.numerator, q.denominator)
