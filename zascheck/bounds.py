"""The papers' bounds as small pure functions: the one place for each formula.

Theorem 4.3 (ZAS paper, Sec. 4.2, eq. (4.5)) and Lemma 4.6 (eq. (4.10)):

* the step bound ``eta* = min{1/(4 L^3 phi^6), 1/(144 L^2 phi^4)}`` with
  ``phi = max{2 ||Phi||_F, 3/sqrt(L), 1}``;
* the per-step factor ``1 - eta/2`` and the envelope ``(1 - eta/2)^t R(0)``.

``eta*`` only involves ``phi^2 = max{4 ||Phi||_F^2, 9/L, 1}``, a rational
number when the entries of ``Phi`` are (doubles are), so
:func:`thm43_eta_exact` computes it exactly: it never underflows, even where
it is below the smallest double (``||Phi||_F = 1.4e60`` gives ``eta* ~ 6e-365``).

>>> from zascheck.arith import Float64Backend
>>> b = Float64Backend()
>>> round(thm43_phi(b, 0.0, 9), 12)      # max{0, 3/sqrt(9), 1}
1.0
>>> thm43_eta(b, 0.0, 9) == min(1 / (4 * 9**3), 1 / (144 * 9**2))
True
>>> thm43_eta_exact([[0.0]], 9)          # phi = 1: min{1/2916, 1/11664}
Fraction(1, 11664)
>>> thm43_eta_exact([[1e60, 0.0], [0.0, -1e60]], 2) < Fraction(1, 10**364)
True
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck.arith import Backend
from zascheck.errors import InputError

__all__ = [
    "fro2_exact",
    "thm43_envelope",
    "thm43_eta",
    "thm43_eta_exact",
    "thm43_factor",
    "thm43_phi",
    "thm43_phi2",
]


def _check_depth(L: int) -> None:
    if L < 1:
        raise InputError(f"depth L must be >= 1, got {L}")


def fro2_exact(phi: Any) -> Fraction:
    """``||Phi||_F^2`` exactly, for a matrix of doubles (or rationals): the sum
    of the squares of its entries as a :class:`~fractions.Fraction`.

    Raises :class:`InputError` for NaN or infinite entries.

    >>> fro2_exact([[0.5, 1.0], [0.0, -1.0]])
    Fraction(9, 4)
    """
    arr = np.asarray(phi, dtype=object)
    entries: Iterable[Any] = arr.ravel().tolist()
    out = Fraction(0)
    for x in entries:
        q = x if isinstance(x, Fraction) else Fraction(float(x))
        out += q * q
    return out


def thm43_phi2(phi_fro2: Fraction, L: int) -> Fraction:
    """``phi^2 = max{4 ||Phi||_F^2, 9/L, 1}`` (Theorem 4.3), exactly.

    ``phi_fro2`` is ``||Phi||_F^2`` (:func:`fro2_exact`).

    >>> thm43_phi2(Fraction(1, 16), 4)   # max{1/4, 9/4, 1}
    Fraction(9, 4)
    """
    _check_depth(L)
    return max(4 * Fraction(phi_fro2), Fraction(9, L), Fraction(1))


def thm43_eta_exact(phi: Any, L: int) -> Fraction:
    """Theorem 4.3's step bound ``eta* = min{1/(4 L^3 phi^6), 1/(144 L^2 phi^4)}``
    as an exact rational, for a target ``Phi`` (a ``d x d`` matrix of doubles)
    or its ``||Phi||_F^2`` given as a :class:`~fractions.Fraction`.

    Raises :class:`InputError` for ``L < 1`` or non-finite entries.
    """
    fro2 = phi if isinstance(phi, Fraction) else fro2_exact(phi)
    p2 = thm43_phi2(fro2, L)
    return min(1 / (4 * Fraction(L) ** 3 * p2**3), 1 / (144 * Fraction(L) ** 2 * p2**2))


def thm43_phi(b: Backend, phi_fro: Any, L: int) -> Any:
    """``phi = max{2 ||Phi||_F, 3 / sqrt(L), 1}`` (Theorem 4.3) in backend ``b``;
    ``phi_fro`` is ``||Phi||_F``."""
    _check_depth(L)
    two_f = 2 * b.scalar(phi_fro)
    three = b.scalar(3) / b.sqrt(b.scalar(L))
    one = b.scalar(1)
    return _max(b, _max(b, two_f, three), one)


def thm43_eta(b: Backend, phi_fro: Any, L: int) -> Any:
    """``eta* = min{1 / (4 L^3 phi^6), 1 / (144 L^2 phi^4)}`` (Theorem 4.3) in
    backend ``b``, from ``phi_fro = ||Phi||_F``.  In float64 it underflows to
    0 once ``||Phi||_F`` passes about ``1e51``: decide with
    :func:`thm43_eta_exact` instead."""
    p = thm43_phi(b, phi_fro, L)
    a = 1 / (4 * b.scalar(L) ** 3 * p**6)
    c = 1 / (144 * b.scalar(L) ** 2 * p**4)
    return _min(b, a, c)


def thm43_factor(b: Backend, eta: Any) -> Any:
    """The per-step factor ``1 - eta/2`` of Lemma 4.6 (eq. (4.10)) and
    Theorem 4.3 (eq. (4.5)), as a backend scalar (a ball in ball arithmetic).

    >>> from zascheck.arith import Float64Backend
    >>> thm43_factor(Float64Backend(), 0.5)
    0.75
    """
    return 1 - b.scalar(eta) / 2


def thm43_envelope(b: Backend, eta: Any, t: int, r0: Any) -> Any:
    """Theorem 4.3's envelope ``(1 - eta/2)^t R(0)`` (eq. (4.5)) in backend ``b``.

    >>> from zascheck.arith import Float64Backend
    >>> thm43_envelope(Float64Backend(), 0.5, 2, 16.0)
    9.0
    """
    if t < 0:
        raise InputError(f"step t must be >= 0, got {t}")
    return b.power(thm43_factor(b, eta), t) * b.scalar(r0)


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
