"""Shared measurements (moved from ``checks/ssm.py``).

Checks for section C of ``../shared/CLAIMS.md``: the reviews of "Step Size
Matters in Deep Learning" (Nar & Sastry, NeurIPS 2018).

SSM's own text is not in the seeds; statements marked *reconstructed* in the
catalogue follow the reviews and the standard linear-stability argument.  The
mathematics lives in :mod:`zascheck.ssm`; loss, gradients and GD come from
:mod:`zascheck.model` / :mod:`zascheck.dynamics`.  Loss ``1/2||W_{L:1} - R||_F^2``,
``rho = sigma_max(R)``, ``eta_1 = 2 / (L rho^{2(L-1)/L})`` (the ssm.thm1 step bound).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import dynamics, ssm
from zascheck.arith import Backend
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, margin_of

_ORDER = {Verdict.VIOLATED: 0, Verdict.INCONCLUSIVE: 1, Verdict.HOLDS: 2, Verdict.CERTIFIED: 3}


def _worst(*vs: Verdict) -> Verdict:
    return min(vs, key=lambda v: _ORDER[v])


def _result(
    b: Backend,
    verdict: Verdict,
    measured: float,
    bound: float,
    relation: str,
    how: str = "",
    notes: str = "",
    **kw: Any,
) -> CheckResult:
    """A result; ``how`` (the technique) leads the notes, since ``method`` is the
    registered method key the runner fills in."""
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


def _rot(theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def _sym_target(eigs: list[float], rotate: float) -> np.ndarray:
    """``Q diag(eigs) Q^T`` with ``Q`` a rotation in the first two coordinates."""
    d = len(eigs)
    q = np.eye(d)
    q[:2, :2] = _rot(rotate)
    return q @ np.diag(np.asarray(eigs, dtype=float)) @ q.T


def _converges(b: Backend, ws: list[Any], target: Target, eta: float, max_steps: int) -> bool:
    """GD reaches ``R <= u R(0)`` (``u`` the unit roundoff) within ``max_steps``."""
    run = dynamics.gd(b, ws, target, eta, max_steps=max_steps, rel_tol=b.unit_roundoff)
    return run.stop == "converged"


def _random_invertible(rng: np.random.Generator, d: int, flint: Any) -> Any:
    eye = flint.fmpq_mat(d, d, [1 if i == j else 0 for i in range(d) for j in range(d)])
    while True:
        scale = flint.fmpq(int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        g = (eye + ssm.rational_matrix(rng, d, 4, 2, flint)) * scale
        if g.det() != 0:
            return g


def _lam_max(b: Backend, ws: list[Any], tgt: Target) -> float:
    return max(b.eigvalsh(ssm.hessian(b, ws, tgt)))


def _threshold_frac(
    b: Backend,
    ws0: list[Any],
    tgt: Target,
    eta1: float,
    iters: int,
    max_steps: int,
    lo: float = 0.25,
    hi: float = 1.5,
) -> tuple[float | None, float | None, list]:
    return ssm.bisect_threshold(
        lambda f: _converges(b, ws0, tgt, f * eta1, max_steps), lo, hi, iters
    )
