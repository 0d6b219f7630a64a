"""The papers' bounds as small pure functions, in any backend.

>>> from zascheck.arith import Float64Backend
>>> b = Float64Backend()
>>> round(thm43_phi(b, 0.0, 9), 12)      # max{0, 3/sqrt(9), 1}
1.0
>>> thm43_eta(b, 0.0, 9) == min(1 / (4 * 9**3), 1 / (144 * 9**2))
True
"""

from __future__ import annotations

from typing import Any

from zascheck.arith import Backend
from zascheck.errors import InputError

__all__ = ["thm43_eta", "thm43_phi"]


def thm43_phi(b: Backend, phi_fro: Any, L: int) -> Any:
    """``phi = max{2 ||Phi||_F, 3 / sqrt(L), 1}`` (Theorem 4.3)."""
    if L < 1:
        raise InputError(f"depth L must be >= 1, got {L}")
    two_f = 2 * b.scalar(phi_fro)
    three = b.scalar(3) / b.sqrt(b.scalar(L))
    one = b.scalar(1)
    return _max(b, _max(b, two_f, three), one)


def thm43_eta(b: Backend, phi_fro: Any, L: int) -> Any:
    """``eta* = min{1 / (4 L^3 phi^6), 1 / (144 L^2 phi^4)}`` (Theorem 4.3)."""
    p = thm43_phi(b, phi_fro, L)
    a = 1 / (4 * b.scalar(L) ** 3 * p**6)
    c = 1 / (144 * b.scalar(L) ** 2 * p**4)
    return _min(b, a, c)


def _max(b: Backend, x: Any, y: Any) -> Any:
    le = b.le(x, y)
    if le is None:  # overlapping balls: the union encloses the max
        return x.union(y) if hasattr(x, "union") else max(x, y)
    return y if le else x


def _min(b: Backend, x: Any, y: Any) -> Any:
    le = b.le(x, y)
    if le is None:
        return x.union(y) if hasattr(x, "union") else min(x, y)
    return x if le else y
