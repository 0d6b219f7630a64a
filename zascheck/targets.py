"""Target matrices ``Phi`` by name, as float64 numpy arrays (exact dyadic entries).

Names: ``gaussian`` (i.i.d. N(0, 1), the paper's Sec. 5.1), ``-I`` (Shamir's
target), ``I``, ``psd`` (symmetric positive semi-definite), ``indefinite``
(symmetric with eigenvalues of both signs), ``rank-deficient``,
``near-singular``; or a matrix (``--phi FILE``) passed through unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zascheck.errors import InputError

__all__ = ["TARGETS", "make_phi"]

TARGETS = ("gaussian", "-I", "I", "psd", "indefinite", "rank-deficient", "near-singular")


def make_phi(spec: Any, d: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Build ``Phi`` (``d x d``) from a name or return a given matrix after validation."""
    if not isinstance(spec, str):
        arr = np.asarray(spec, dtype=float)
        if arr.ndim != 2:
            raise InputError(f"target must be a 2-D matrix, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise InputError("target contains NaN or infinite entries")
        return arr.copy()
    g = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if spec == "gaussian":
        return g.standard_normal((d, d))
    if spec == "-I":
        return -np.eye(d)
    if spec == "I":
        return np.eye(d)
    if spec == "psd":
        a = g.standard_normal((d, d))
        return a @ a.T / d
    if spec == "indefinite":
        q, _ = np.linalg.qr(g.standard_normal((d, d)))
        ev = np.linspace(-1.0, 1.0, d) if d > 1 else np.array([-1.0])
        return q @ np.diag(ev) @ q.T
    if spec == "rank-deficient":
        a = g.standard_normal((d, max(1, d // 2)))
        return a @ g.standard_normal((max(1, d // 2), d)) / d
    if spec == "near-singular":
        q, _ = np.linalg.qr(g.standard_normal((d, d)))
        ev = np.ones(d)
        ev[-1] = 1e-8
        return q @ np.diag(ev) @ q.T
    raise InputError(
        f"unknown target {spec!r}; choose one of {', '.join(TARGETS)} or give a matrix"
    )
