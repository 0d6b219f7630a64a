"""Measurements behind Remark (2) of the ZAS paper (un-whitened data): the readings, exact minimum data loss, lambda_min enclosures, the decay of the data loss along the flow."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any
import numpy as np
from zascheck import inits, model
from zascheck.arith import Backend
from zascheck.measure.common import loss_error_bound
from zascheck.model import Target
from zascheck.result import decide
from zascheck.measure.paper import flow_restarted


READINGS = {
    "printed": "lambda = lambda_min(X^T X) (n x n) > 0, i.e. n <= d_x and X of full column rank "
    "(every Y is then realizable); claim R~(t) <= exp(-2 lambda t) R~(0)",
    "printed-wide": "lambda = lambda_min(X^T X) with n > d_x: X^T X is singular, lambda = 0, the "
    "hypothesis fails and the claim is vacuous (R~(t) <= R~(0))",
    "xxt-realizable": "lambda = lambda_min(X X^T) (d_x x d_x) > 0, n > d_x, realizable Y = A X; "
    "claim R~(t) <= exp(-2 lambda t) R~(0)",
    "xxt-loss": "lambda = lambda_min(X X^T) > 0, n > d_x, generic (non-realizable) Y; claim "
    "R~(t) <= exp(-2 lambda t) R~(0), i.e. decay to 0",
    "xxt-excess": "lambda = lambda_min(X X^T) > 0, n > d_x, generic Y; excess-loss claim "
    "R~(t) - R~* <= exp(-2 lambda t) (R~(0) - R~*), R~* = min over all A of "
    "1/2 ||A X - Y||_F^2",
}


def _dyadic_matrix(rng: np.random.Generator, r: int, c: int, den: int = 4) -> np.ndarray:
    """Entries ``k / den`` with ``|k| <= den``: exact in every backend, so
    ``A X`` is exact in float64 and realizability is exact."""
    return rng.integers(-den, den + 1, (r, c)).astype(float) / den


def _well_conditioned(rng: np.random.Generator, r: int, c: int) -> np.ndarray:
    """A dyadic ``r x c`` matrix whose Gram matrix (the smaller one) has
    condition number <= 10, drawn by rejection (deterministic for a seed)."""
    for _ in range(1000):
        x = _dyadic_matrix(rng, r, c)
        g = x @ x.T if r <= c else x.T @ x
        ev = np.linalg.eigvalsh(g)
        if ev[0] > 0 and ev[-1] / ev[0] <= 10:
            return x
    raise RuntimeError("could not draw a well-conditioned data matrix")


def _fmpq_mat(a: np.ndarray) -> Any:
    """Exact rational copy of a float matrix (doubles are dyadic rationals)."""
    from flint import fmpq, fmpq_mat

    fr = [Fraction(float(v)) for v in a.ravel()]
    rows, cols = a.shape
    return fmpq_mat(rows, cols, [fmpq(f.numerator, f.denominator) for f in fr])


def _lambda_min_ball(b: Backend, gram: np.ndarray) -> Any:
    """Smallest eigenvalue of a symmetric dyadic matrix as an enclosure (arb's
    rigorous eigenvalue solver in ball arithmetic); exact 0 if the exact
    determinant vanishes."""
    if _fmpq_mat(gram).det() == 0:
        return b.scalar(0)
    m = b.matrix(gram)
    try:
        ev = [v.real for v in m.eig()]
    except (ValueError, ZeroDivisionError):  # pragma: no cover - solver refused
        ev = [b.scalar(v) for v in b.eigvalsh(m)]
    return min(ev, key=lambda z: float(z.mid()))


def _min_loss_exact(x: np.ndarray, y: np.ndarray) -> Fraction:
    """``R~* = 1/2 ||Y (I - X^T (X X^T)^{-1} X)||_F^2`` in exact rationals
    (``X X^T`` invertible)."""
    from flint import fmpq_mat

    xq, yq = _fmpq_mat(x), _fmpq_mat(y)
    proj = xq.transpose() * (xq * xq.transpose()).inv() * xq
    n = x.shape[1]
    eye = fmpq_mat(n, n, [1 if i == j else 0 for i in range(n) for j in range(n)])
    res = yq * (eye - proj)
    s = sum((Fraction(int(v.p), int(v.q)) ** 2 for v in res.entries()), Fraction(0))
    return s / 2


def _data_decay(
    b: Backend,
    x: np.ndarray,
    y: np.ndarray,
    L: int,
    lam: Any,
    times: list[float],
    r_star: Fraction | None,
) -> dict[str, Any]:
    """Flow from (rectangular) ZAS on the data loss and compare
    ``R~(t) - r_star`` with ``exp(-2 lam t) (R~(0) - r_star)`` (``r_star`` 0 or
    ``None`` for the plain loss).  Returns the per-time series and verdict."""
    dx, dy = x.shape[0], y.shape[0]
    target = Target.data(b, x, y)
    ws0 = inits.rectangular_zas([dx] * L + [dy])
    at, errs, _steps = flow_restarted(b, ws0, target, times)
    rs = b.scalar(r_star if r_star is not None else 0)
    r0 = model.loss(b, at[0.0], target) - rs
    out: dict[str, Any] = {
        "t": [],
        "lhs": [],
        "envelope": [],
        "ratio": [],
        "err": [],
        "verdict": [],
        "loss": [],
    }
    for t in sorted(k for k in at if k > 0):
        ws = at[t]
        r = model.loss(b, ws, target)
        lhs = r - rs
        env = b.exp(-2 * lam * b.scalar(t)) * r0
        err = loss_error_bound(b, ws, target, errs[t])
        v = decide(b, lhs, env, relation="<=", err=err)
        out["t"].append(t)
        out["loss"].append(b.to_float(r))
        out["lhs"].append(b.to_float(lhs))
        out["envelope"].append(b.to_float(env))
        out["ratio"].append(b.to_float(lhs) / b.to_float(env) if b.to_float(env) > 0 else math.inf)
        out["err"].append(err)
        out["verdict"].append(v.value)
    out["error_estimate"] = [errs[t] for t in out["t"]]
    return out
