"""Remark (2) of the ZAS paper (un-whitened data): the readings of its
statement (one table, :data:`READINGS`), the data they apply to, their rates
``lambda``, the exact minimum of the data loss, and user data validation.

The remark (ZAS paper, Sec. 4.1, after Theorem 4.1): for ``R~ = 1/2 ||W_{L:1}
X - Y||_F^2`` (eq. 2.2), ``X`` of shape ``d_x x n``, "if ``lambda_X =
lambda_min(X^T X) > 0`` [...] ``R~(t) <= e^{-2 lambda_X t} R~(0)``".  The
decay comparison itself is :func:`zascheck.measure.common.flow_decay` (with
``offset = R~*`` for the excess-loss reading).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck.arith import Backend, Float64Backend, backend
from zascheck.errors import InputError

_F64 = Float64Backend()

__all__ = [
    "READINGS",
    "Reading",
    "data_strategy",
    "dyadic_matrix",
    "gram",
    "lambda_min_ball",
    "min_data_loss",
    "rate_bracket",
    "reading_rate",
    "validate_data",
    "well_conditioned",
]


@dataclass(frozen=True)
class Reading:
    """One reading of Remark (2): which ``lambda`` (``rate``: ``"xtx"`` =
    ``lambda_min(X^T X)``, ``"xxt"`` = ``lambda_min(X X^T)``, ``"sigma"`` =
    ``sigma_min(X)`` (the square root of the smaller Gram matrix's), ``"xxt-max"``
    = ``lambda_max(X X^T)``), whether the excess loss ``R~ - R~*`` decays
    (``excess``), which data (``wide``: ``n > d_x`` (True), ``n <= d_x``
    (False), either (None); ``realizable``: ``Y = A X`` (True), not (False),
    either (None)), and whether it ``holds`` for all such data (False: a
    counterexample exists), with the reason (``why``)."""

    name: str
    text: str
    rate: str
    excess: bool
    wide: bool | None
    realizable: bool | None
    holds: bool
    why: str


_READINGS = (
    Reading(
        "printed",
        "as printed: lambda = lambda_min(X^T X) (n x n) > 0, i.e. n <= d_x and X of "
        "full column rank; R~(t) <= exp(-2 lambda t) R~(0)",
        "xtx",
        False,
        False,
        None,
        True,
        "every Y is realizable (X has a left inverse) and ||G_L||^2 >= ||E X^T||^2 = "
        "tr(E X^T X E^T) >= 2 lambda R~",
    ),
    Reading(
        "printed-wide",
        "as printed with n > d_x: X^T X is singular, lambda = 0; the hypothesis "
        "fails and the claim is vacuous (it reads R~(t) <= R~(0))",
        "xtx",
        False,
        True,
        None,
        True,
        "vacuous: R~ is non-increasing along any gradient flow",
    ),
    Reading(
        "xxt-realizable",
        "lambda = lambda_min(X X^T) (d_x x d_x) > 0, n > d_x, realizable "
        "Y = A X; R~(t) <= exp(-2 lambda t) R~(0)",
        "xxt",
        False,
        True,
        True,
        True,
        "E = M X with M = W_{L:1} - A, and ||M X X^T||^2 >= lambda ||M X||^2 = 2 lambda R~",
    ),
    Reading(
        "xxt-loss",
        "lambda = lambda_min(X X^T) > 0, n > d_x, Y not realizable; "
        "R~(t) <= exp(-2 lambda t) R~(0), i.e. decay to 0",
        "xxt",
        False,
        True,
        False,
        False,
        "R~ >= R~* = min_A 1/2 ||A X - Y||^2 > 0 for every t, so it cannot decay to 0",
    ),
    Reading(
        "xxt-excess",
        "lambda = lambda_min(X X^T) > 0, n > d_x, any Y; the excess loss: "
        "R~(t) - R~* <= exp(-2 lambda t) (R~(0) - R~*)",
        "xxt",
        True,
        True,
        None,
        True,
        "the part of Y outside the row space of X is orthogonal to every gradient: the "
        "excess follows the realizable dynamics",
    ),
    Reading(
        "sigma-rate",
        "rate sigma_min(X) in place of its square",
        "sigma",
        False,
        None,
        True,
        False,
        "for sigma_min(X) < 1 the rate sigma exceeds the true rate sigma^2",
    ),
    Reading(
        "lambda-max",
        "rate lambda_max(X X^T) in place of lambda_min",
        "xxt-max",
        False,
        None,
        True,
        False,
        "the slowest direction decays at lambda_min only",
    ),
)

#: the readings of Remark (2), by name: the one table the flow check, the
#: search evaluator and :data:`zascheck.strategies.DATA_READINGS` read
READINGS: dict[str, Reading] = {r.name: r for r in _READINGS}


def dyadic_matrix(rng: np.random.Generator, r: int, c: int, den: int = 4) -> np.ndarray:
    """Entries ``k / den`` with ``|k| <= den``: exact in every backend, so
    ``A X`` is exact in float64 and realizability is exact."""
    return rng.integers(-den, den + 1, (r, c)).astype(float) / den


def well_conditioned(rng: np.random.Generator, r: int, c: int) -> np.ndarray:
    """A dyadic ``r x c`` matrix whose smaller Gram matrix has condition
    number <= 10, drawn by rejection (deterministic for a seed)."""
    for _ in range(1000):
        x = dyadic_matrix(rng, r, c)
        g = x @ x.T if r <= c else x.T @ x
        ev = np.linalg.eigvalsh(g)
        if ev[0] > 0 and ev[-1] / ev[0] <= 10:
            return x
    raise RuntimeError("could not draw a well-conditioned data matrix")


def _fmpq_mat(a: np.ndarray) -> Any:
    """Exact rational copy of a float matrix (doubles are dyadic rationals)."""
    from flint import fmpq, fmpq_mat

    fr = [Fraction(float(v)) for v in np.asarray(a, dtype=float).ravel()]
    rows, cols = np.shape(a)
    return fmpq_mat(rows, cols, [fmpq(f.numerator, f.denominator) for f in fr])


def lambda_min_ball(b: Backend, gram: np.ndarray, *, largest: bool = False) -> Any:
    """Smallest (``largest``: largest) eigenvalue of a symmetric matrix of
    doubles as an enclosure (arb's rigorous eigenvalue solver in ball
    arithmetic; the double eigenvalue elsewhere); an exact 0 when the exact
    determinant vanishes.  ``gram`` should be formed exactly (``X X^T`` of
    dyadic data is exact in doubles; see :func:`gram`)."""
    if not largest and _fmpq_mat(gram).det() == 0:
        return b.scalar(0)
    if b.name == "iv64":  # arb's eigen-solver at 128 bits, enclosed outward into iv64
        ball = backend("ball", 128)
        with ball.session():
            return b.scalar(lambda_min_ball(ball, gram, largest=largest))
    if not (b.rigorous and not b.exact):
        evf = np.linalg.eigvalsh(np.asarray(gram, dtype=float))
        return b.scalar(float(evf[-1] if largest else evf[0]))
    m = b.matrix(gram)
    ev: list[Any]
    try:
        ev = [v.real for v in m.eig(multiple=True)]
    except (ValueError, ZeroDivisionError):
        ev = [v.real for v in m.eig(nonstop=True)]
    if not all(v.is_finite() for v in ev):  # pragma: no cover - solver refused
        ev = [b.scalar(v) for v in b.eigvalsh(m)]
    pick = max if largest else min
    return pick(ev, key=lambda z: float(z.mid()))


def gram(x: np.ndarray, which: str) -> np.ndarray:
    """``X^T X`` (``"xtx"``) or ``X X^T`` (``"xxt"``) in exact rationals,
    rounded to doubles only if it is not exactly representable."""
    xq = _fmpq_mat(x)
    g = xq.transpose() * xq if which == "xtx" else xq * xq.transpose()
    return np.array([[float(int(v.p)) / int(v.q) for v in row] for row in g.tolist()])


def reading_rate(b: Backend, reading: str, x: np.ndarray) -> Any:
    """The rate ``lambda`` of ``reading`` for data ``x`` (``d_x x n``), as a
    backend scalar (an enclosure in ball arithmetic; 0 exactly when the
    reading's Gram matrix is singular)."""
    r = READINGS[_known(reading)]
    d_x, n = np.shape(x)
    if r.rate == "xtx":
        return b.scalar(0) if n > d_x else lambda_min_ball(b, gram(x, "xtx"))
    if r.rate == "xxt":
        return b.scalar(0) if d_x > n else lambda_min_ball(b, gram(x, "xxt"))
    if r.rate == "xxt-max":
        return lambda_min_ball(b, gram(x, "xxt"), largest=True)
    small = lambda_min_ball(b, gram(x, "xtx" if n <= d_x else "xxt"))
    return b.sqrt(b.upper(small)) if b.rigorous else b.sqrt(max(small, 0.0))  # sigma_min(X)


def rate_bracket(reading: str, x: np.ndarray) -> tuple[float, float, float]:
    """``(rate, lower, upper)`` of ``reading``'s ``lambda`` in doubles (for
    the float64 rung of the search): the double eigenvalue widened by a
    backward-error budget ``16 m u ||X||_F^2`` (square-rooted for
    ``sigma``); all 0 when the Gram matrix is singular."""
    r = READINGS[_known(reading)]
    lam = float(reading_rate(_F64, reading, x))
    xf = np.asarray(x, dtype=float)
    delta = 16 * max(xf.shape) * 2.0**-53 * float(np.sum(xf * xf))
    if r.rate == "sigma":
        delta = math.sqrt(delta)
    if lam == 0.0:
        return 0.0, 0.0, 0.0
    return lam, max(lam - delta, 0.0), lam + delta


def min_data_loss(x: Any, y: Any) -> Fraction:
    """``R~* = min_A 1/2 ||A X - Y||_F^2`` exactly, for ``X`` of full rank
    ``min(d_x, n)``: ``1/2 ||Y (I - X^T (X X^T)^{-1} X)||_F^2`` when ``n >=
    d_x``, else 0 (every ``Y`` is realizable).  Exact rational arithmetic on
    the doubles given."""
    d_x, n = np.shape(x)
    if n < d_x:
        return Fraction(0)
    from flint import fmpq_mat

    xq, yq = _fmpq_mat(np.asarray(x, float)), _fmpq_mat(np.asarray(y, float))
    proj = xq.transpose() * (xq * xq.transpose()).inv() * xq
    eye = fmpq_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
    res = yq * (eye - proj)
    return sum((Fraction(int(v.p), int(v.q)) ** 2 for v in res.entries()), Fraction(0)) / 2


def validate_data(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """User data for Remark (2): ``X`` (``d_x x n``) and ``Y`` (``d_y x n``),
    2-D, non-empty, the same number ``n`` of samples (columns), finite
    doubles.  Raises :class:`InputError` naming the problem."""
    out = []
    for name, m in (("X", x), ("Y", y)):
        try:
            a = np.asarray(m, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"{name} must be a matrix of numbers (a list of rows)") from None
        if a.ndim != 2 or 0 in a.shape:
            raise InputError(f"{name} must be a non-empty 2-D matrix, got shape {a.shape}")
        if not np.all(np.isfinite(a)):
            raise InputError(f"{name} contains NaN or infinite entries")
        out.append(a)
    if out[0].shape[1] != out[1].shape[1]:
        raise InputError(
            f"X has {out[0].shape[1]} samples (columns) but Y has {out[1].shape[1]}: "
            "X is d_x x n and Y is d_y x n"
        )
    if _fmpq_mat(out[0]).rank() < min(out[0].shape):  # exact rank of the doubles given
        raise InputError("X must have full rank min(d_x, n) (Remark (2) needs lambda_X > 0)")
    return out[0], out[1]


def _known(reading: str) -> str:
    if reading not in READINGS:
        raise InputError(f"unknown reading {reading!r}; choose one of {', '.join(READINGS)}")
    return reading


def data_strategy(reading: str) -> Callable[[], Any]:
    """The hypothesis strategy of one reading's cases, built lazily."""
    from zascheck import strategies as S

    return lambda: S.data_cases(reading)
