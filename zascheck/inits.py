"""Initializations, as lists of float64 numpy matrices ``[W_1, ..., W_L]``.

Every entry produced here is a double, i.e. an exact dyadic rational, so
converting to ``mp``, ``ball`` or ``exact`` arithmetic loses nothing: the
high-precision runs start from exactly the same point as the float64 ones.

Conventions (stated because the papers leave them open):

* near-identity (paper eq. 5.1): ``W_l = I + U_l``, ``(U_l)_ij ~ N(0, 1/(d L))``
  for all ``l = 1..L``;
* Xavier: ``(W_l)_ij ~ N(0, 1/d_{l-1})`` (fan-in variance; ``1/d`` for square
  layers, as in CLAIMS.md);
* near-ZAS (remark after Thm 4.3): ``W_l ~ N(I, sigma^2)``, ``W_L ~ N(0, sigma^2)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

from zascheck.errors import InputError

__all__ = [
    "INITS",
    "alpha_zas",
    "block_zas",
    "diagonal",
    "last_c_identity",
    "make",
    "near_identity",
    "near_zas",
    "rectangular_zas",
    "xavier",
    "zas",
    "zero_at",
]


def _check_depth(L: int, d: int | None = None) -> None:
    if int(L) != L or L < 1:
        raise InputError(f"depth L must be an integer >= 1, got {L!r}")
    if d is not None and (int(d) != d or d < 1):
        raise InputError(f"width d must be an integer >= 1, got {d!r}")


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def zero_at(L: int, d: int, k: int, scale: float = 1.0) -> list[np.ndarray]:
    """Layer ``k`` (1-based) is 0, every other layer is ``scale * I``."""
    _check_depth(L, d)
    if not 1 <= k <= L:
        raise InputError(f"zero layer position k must be in 1..{L}, got {k}")
    return [np.zeros((d, d)) if l == k else scale * np.eye(d) for l in range(1, L + 1)]


def zas(L: int, d: int) -> list[np.ndarray]:
    """ZAS (eq. 3.1): ``W_l = I`` for ``l < L``, ``W_L = 0``."""
    return zero_at(L, d, L)


def alpha_zas(L: int, d: int, alpha: float) -> list[np.ndarray]:
    """Reviewer's variant: ``W_l = alpha I`` for ``l < L``, ``W_L = 0``."""
    return zero_at(L, d, L, scale=alpha)


def last_c_identity(L: int, d: int, c: float) -> list[np.ndarray]:
    """Reviewer's variant: ``W_l = I`` for ``l < L``, ``W_L = c I``."""
    ws = zas(L, d)
    ws[-1] = c * np.eye(d)
    return ws


def diagonal(diag: Sequence[float] | np.ndarray, L: int) -> list[np.ndarray]:
    """Every layer the same diagonal matrix ``diag(diag)`` (SSM reviewer's variant)."""
    _check_depth(L)
    dm = np.diag(np.asarray(diag, dtype=float))
    return [dm.copy() for _ in range(L)]


def near_identity(
    L: int, d: int, seed: int | np.random.Generator | None = None
) -> list[np.ndarray]:
    """Paper eq. (5.1): ``W_l = I + U_l``, ``(U_l)_ij ~ N(0, 1/(d L))``, all ``l``."""
    _check_depth(L, d)
    rng = _rng(seed)
    s = 1.0 / np.sqrt(d * L)
    return [np.eye(d) + s * rng.standard_normal((d, d)) for _ in range(L)]


def xavier(
    L: int, d: int | Sequence[int], seed: int | np.random.Generator | None = None
) -> list[np.ndarray]:
    """``(W_l)_ij ~ N(0, 1/d_{l-1})`` (fan-in).  ``d`` may be a list of widths."""
    # np.isscalar is not a type guard; the casts restate its two outcomes
    dims = [cast(int, d)] * (L + 1) if np.isscalar(d) else list(cast("Sequence[int]", d))
    _check_depth(L)
    if len(dims) != L + 1:
        raise InputError(f"need L + 1 = {L + 1} widths, got {len(dims)}")
    rng = _rng(seed)
    return [
        rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1]) for l in range(1, L + 1)
    ]


def near_zas(
    L: int, d: int, sigma: float, seed: int | np.random.Generator | None = None
) -> list[np.ndarray]:
    """Remark after Thm 4.3: ``W_l ~ N(I, sigma^2)`` (``l < L``), ``W_L ~ N(0, sigma^2)``."""
    _check_depth(L, d)
    if sigma < 0:
        raise InputError(f"sigma must be >= 0, got {sigma}")
    rng = _rng(seed)
    ws = [np.eye(d) + sigma * rng.standard_normal((d, d)) for _ in range(L - 1)]
    ws.append(sigma * rng.standard_normal((d, d)))
    return ws


def rectangular_zas(dims: Sequence[int]) -> list[np.ndarray]:
    """Remark (1): widths ``dims = [d_0, d_1, ..., d_L]`` with ``d_l >= d_0`` for
    ``l = 1..L-1``; ``W_l = [[I, 0], [0, 0]]`` (``d_l x d_{l-1}``), ``W_L = 0``."""
    dims = [int(x) for x in dims]
    if len(dims) < 2:
        raise InputError("need at least two widths d_0, d_L")
    d0 = dims[0]
    for l in range(1, len(dims) - 1):
        if dims[l] < d0:
            raise InputError(f"Remark (1) needs d_l >= d_0 = {d0}; d_{l} = {dims[l]}")
    return block_zas(dims)


def block_zas(dims: Sequence[int]) -> list[np.ndarray]:
    """The block construction of Remark (1) for *any* widths: ``W_l`` is the
    ``d_l x d_{l-1}`` matrix with an identity block of size
    ``min(d_l, d_{l-1})`` top left, ``W_L = 0``.  Through a layer narrower
    than ``d_0`` this is Remark (1) with its hypothesis broken (the negative
    control of ``zas.remark.rectangular``)."""
    dims = [int(x) for x in dims]
    if len(dims) < 2 or min(dims) < 1:
        raise InputError(f"need at least two widths, all >= 1, got {dims}")
    ws = []
    for l in range(1, len(dims) - 1):
        w = np.zeros((dims[l], dims[l - 1]))
        k = min(dims[l], dims[l - 1])
        w[:k, :k] = np.eye(k)
        ws.append(w)
    ws.append(np.zeros((dims[-1], dims[-2])))
    return ws


INITS = {
    "zas": "W_l = I (l < L), W_L = 0 (eq. 3.1)",
    "near-identity": "W_l = I + N(0, 1/(dL)) (eq. 5.1)",
    "xavier": "N(0, 1/fan_in)",
    "alpha-zas": "W_l = alpha I (l < L), W_L = 0",
    "zero-at": "W_k = 0, others I",
    "last-cI": "W_l = I (l < L), W_L = c I",
    "near-zas": "W_l ~ N(I, sigma^2), W_L ~ N(0, sigma^2)",
    "identity": "all W_l = I",
}


def make(
    name: str, L: int, d: int, *, seed: int | np.random.Generator | None = None, **kw: float
) -> list[np.ndarray]:
    """Build an initialization by name (see :data:`INITS`)."""
    if name == "zas":
        return zas(L, d)
    if name == "near-identity":
        return near_identity(L, d, seed)
    if name == "xavier":
        return xavier(L, d, seed)
    if name == "alpha-zas":
        return alpha_zas(L, d, kw.get("alpha", 1.0))
    if name == "zero-at":
        return zero_at(L, d, int(kw.get("k", L)))
    if name == "last-cI":
        return last_c_identity(L, d, kw.get("c", 0.1))
    if name == "near-zas":
        return near_zas(L, d, kw.get("sigma", 0.01), seed)
    if name == "identity":
        return [*zero_at(L, d, L, 1.0)[:-1], np.eye(d)]
    raise InputError(f"unknown initialization {name!r}; choose one of {', '.join(INITS)}")
