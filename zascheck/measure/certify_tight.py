"""The tight step of Theorem 4.3's conclusion, as a certified bracket (``zas.thm4.3.tight``).

For depth ``L`` and a radius ``F``, ``eta_tight(L, F)`` is the largest ``eta``
such that for *every* ``eta'`` in ``(0, eta]``, every target with
``||Phi||_F <= F`` and every ``t``: ``R(t) <= (1 - eta'/2)^t R(0)`` under GD
from ZAS.  By the spectral reduction the worst target is rank one: a target
with singular values ``sigma_i`` has ``R(t) / R(0)`` a weighted mean of the
modes' ``e_i(t)^2 / sigma_i^2``, and ``Phi = sigma e_1 e_1^T`` realises one
mode alone.  So the question is about the scalar map for every
``sigma`` in ``(0, F]``.

Lower end (every ``eta' <= eta_lo`` is safe), in two pieces:

* ``(0, eta_A]``: the invariant-region certificate of
  :func:`zascheck.measure.certify_thm43.certify_per_step` (per-step contraction
  from ``t = 0``), with ``eta_A`` as large as it reaches;
* ``[eta_A, eta_lo]``: **tubes**.  Boxes of ``(sigma, eta)`` are pushed
  through the map in interval arithmetic in the coordinates ``q = e / sigma``
  (``q(0) = -1``) and ``D = a^2 - b^2`` (``D(0) = 1``), which the map moves
  multiplicatively (``q' = q (1 - eta K)``, ``D' = D (1 - eta^2 e^2
  a^(2L-4))``), so enclosures do not blow up; ``b`` is recovered from
  ``b (D + b^2)^((L-1)/2) = sigma (1 + q)`` by verified root bounds.  The
  cumulative ratio ``r = q^2 / (1 - eta/2)^t`` is checked at every step, and
  once ``|q|`` is small the box enters a **tail**: the set
  ``{|q| <= q_T, D <= D_hi, D - lambda e^2 >= D_lo - lambda sigma^2 q_T^2}``
  (``lambda = 2 eta M``, ``M >= a^(2L-4) D`` on it), invariant because on it
  ``q'^2 <= (1 - eta/2) q^2`` (checked on the set's enclosing box), after which
  ``r`` never grows.  A box that fails is split (``sigma`` or ``eta``) and
  rerun.

Upper end: a *certified* violation at ``eta_hi``: the scalar map run in arb
balls at ``sigma = F`` (the worst mode, found by a float scan) until
``e_t^2 > (1 - eta/2)^t sigma^2`` is decided.

Every budget here (``time_limit``, ``stretch_limit``) and every ``seconds``
reported are CPU seconds of this process (``time.process_time``), not wall
time, so an outcome does not depend on the machine's load.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zascheck.measure.certify_thm43 import (
    K_factor,
    certify_per_step,
    eta_star_upper,
    geometric_sum,
)
from zascheck.interval import Iv, quiet

#: the clock of every budget here: CPU seconds of this process, so that a row's
#: outcome does not depend on the machine's load (wall-clock budgets left L = 48
#: and L = 56 inconclusive while other jobs ran)
_clock = time.process_time

__all__ = [
    "LowerCertificate",
    "TightBracket",
    "TubeResult",
    "certify_lower",
    "certify_tubes",
    "estimate_tight",
    "growth_law",
    "region_reach",
    "stretch",
    "tight_bracket",
    "tight_row",
    "violation",
]


# ---------------------------------------------------------------------------
# verified root bounds for b from (P, D)
# ---------------------------------------------------------------------------


def _f_iv(L: int, b: np.ndarray, D: np.ndarray) -> Iv:
    """``b (D + b^2)^((L-1)/2)`` enclosed at points ``b >= 0``, ``D > 0``."""
    bi = Iv.point(b)
    base = Iv.point(D) + bi.sqr()
    if (L - 1) % 2 == 0:
        return bi * base ** ((L - 1) // 2)
    return bi * base.sqrt() ** (L - 1)


def _newton(L: int, P: np.ndarray, D: np.ndarray, b: np.ndarray, it: int = 8) -> np.ndarray:
    """Float estimate of the root of ``b (D + b^2)^((L-1)/2) = P``: Newton on
    ``phi(u) = u + (L-1)/2 log(D + e^(2u)) - log P``, ``u = log b`` (convex and
    increasing in ``u``, slope in ``[1, L]``), from the warm start ``b`` or
    from ``u0 = log P - (L-1)/2 log D`` (right of the root)."""
    lp = np.log(P)
    u0 = lp - 0.5 * (L - 1) * np.log(D)
    u = np.where(b > 0, np.log(b), u0)
    for _ in range(it):
        w = np.exp(2 * u)
        phi = u + 0.5 * (L - 1) * np.log(D + w) - lp
        u = u - phi / (1 + (L - 1) * w / (D + w))
    out = np.exp(u)
    return np.where(np.isfinite(out) & (P > 0), out, 0.0)


def root_lower(L: int, P: np.ndarray, D: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """A ``b >= 0`` with ``b (D + b^2)^((L-1)/2) <= P`` proven: a lower bound of the
    root (the function increases in ``b`` and ``D``)."""
    P = np.maximum(P, 0.0)
    b = _newton(L, P, D, guess) * (1 - 4e-16 * L)
    for k in range(40):
        bad = (_f_iv(L, b, D).hi > P) & (b > 0)
        if not bad.any():
            break
        b = np.where(bad, b * (1 - 1e-14 * 4**k), b)
    return np.where(P > 0, np.maximum(b, 0.0), 0.0)


def root_upper(L: int, P: np.ndarray, D: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """A ``b`` with ``b (D + b^2)^((L-1)/2) >= P`` proven: an upper bound of the root."""
    P = np.maximum(P, 0.0)
    b = _newton(L, P, D, np.maximum(guess, 0.0)) * (1 + 4e-16 * L) + 1e-300
    for k in range(60):
        bad = _f_iv(L, b, D).lo < P
        if not bad.any():
            break
        b = np.where(bad, b * (1 + 1e-14 * 4**k) + 1e-300, b)
    return b


# ---------------------------------------------------------------------------
# tubes
# ---------------------------------------------------------------------------


@dataclass
class _Tubes:
    """Boxes of ``(sigma, eta)`` and the enclosures of their state after ``t`` steps,
    in an affine form that keeps the correlations GD creates:

        (q, D) in xc + B r + S dp,   dp = (sigma - sigma_c, eta - eta_c),

    with a float centre ``xc`` (shape ``(2, N)``), a float frame ``B``
    (``(2, 2, N)``, Lohner's orthonormal frame), an interval vector ``r``, and
    a float sensitivity matrix ``S`` (``(2, 2, N)``, about ``d(q, D)/d(sigma,
    eta)``) applied to the exact parameter offsets ``dp`` (never boxed: the
    oscillation of ``q`` makes the per-step parameter effects cancel, which a
    box would add up).  ``q = e / sigma``, ``D = a^2 - b^2``; ``g <= (1 -
    eta/2)^t`` (a float lower bound over the box's ``eta``); ``blo``, ``bhi``
    are Newton's warm starts."""

    s: Iv
    h: Iv
    xc: np.ndarray
    B: np.ndarray
    r: Iv
    S: np.ndarray
    g: np.ndarray
    blo: np.ndarray
    bhi: np.ndarray

    def take(self, m: np.ndarray) -> _Tubes:
        return _Tubes(
            self.s[m],
            self.h[m],
            self.xc[:, m],
            self.B[:, :, m],
            self.r[:, m],
            self.S[:, :, m],
            self.g[m],
            self.blo[m],
            self.bhi[m],
        )

    @property
    def dp(self) -> tuple[Iv, Iv]:
        return self.s - self.s.mid, self.h - self.h.mid

    def _coord(self, i: int) -> Iv:
        d0, d1 = self.dp
        return (
            Iv.point(self.xc[i])
            + Iv.point(self.B[i, 0]) * self.r[0]
            + Iv.point(self.B[i, 1]) * self.r[1]
            + Iv.point(self.S[i, 0]) * d0
            + Iv.point(self.S[i, 1]) * d1
        )

    @property
    def q(self) -> Iv:
        """An interval enclosure of ``q`` (the hull of the affine set)."""
        return self._coord(0)

    @property
    def D(self) -> Iv:
        return self._coord(1)


def _start(s_lo: np.ndarray, s_hi: np.ndarray, h_lo: np.ndarray, h_hi: np.ndarray) -> _Tubes:
    n = s_lo.size
    one, zero = np.ones(n), np.zeros(n)
    B = np.zeros((2, 2, n))
    B[0, 0] = B[1, 1] = 1.0
    return _Tubes(
        Iv(s_lo, s_hi),
        Iv(h_lo, h_hi),
        np.stack([-one, one]),
        B,
        Iv(np.zeros((2, n))),
        np.zeros((2, 2, n)),
        one.copy(),
        zero.copy(),
        zero.copy(),
    )


def _pow_m(a: Iv, m: int) -> Iv:
    """``a^m`` for ``a > 0`` and any integer ``m``."""
    return a**m if m >= 0 else 1.0 / a ** (-m)


def _half_pow(base: Iv, m: int) -> Iv:
    """``base^(m/2)`` for ``base > 0`` and any integer ``m``."""
    if m % 2 == 0:
        return _pow_m(base, m // 2)
    return _pow_m(base.sqrt(), m)


def _deriv_geometric(y: np.ndarray, n: int) -> Iv:
    """An enclosure of ``T_n(y) = sum_{i=1}^{n-1} i y^(i-1)`` (``= dS_n/dy``) at points
    ``y >= 0``: ``(1 - n y^(n-1) + (n-1) y^n) / (1 - y)^2`` where
    ``|1 - y| > 2^-21``, else ``n(n-1)/2`` times ``[min, max](1, y^(n-2))``."""
    Y = Iv.point(y)
    if n < 2:
        return Iv(np.zeros_like(y))
    yn2 = Y ** (n - 2)
    near = np.abs(1.0 - y) <= 2.0**-21
    closed = (1.0 - float(n) * yn2 * Y + float(n - 1) * yn2 * Y * Y) / (1.0 - Y).sqr()
    c = Iv.point(n * (n - 1) / 2.0)
    lo_b, hi_b = (c * Iv(np.minimum(yn2.lo, 1.0))).lo, (c * Iv(np.maximum(yn2.hi, 1.0))).hi
    return Iv(np.where(near, lo_b, closed.lo), np.where(near, hi_b, closed.hi))


@dataclass
class _Eval:
    a: Iv
    b: Iv
    e: Iv
    rho: Iv
    adm: np.ndarray
    a4: Iv
    J1: Iv | None = None  # d(q rho) / d(q, D, sigma, eta), shape (4, N)
    J2: Iv | None = None  # d(D (1 - eta^2 e^2 a^(2L-4))) / d(q, D, sigma, eta)


def _stack(*ivs: Iv) -> Iv:
    lo = np.stack(np.broadcast_arrays(*[i.lo for i in ivs]))
    hi = np.stack(np.broadcast_arrays(*[i.hi for i in ivs]))
    return Iv(lo, hi)


def _evaluate(
    L: int, s: Iv, h: Iv, q: Iv, D: Iv, blo: np.ndarray, bhi: np.ndarray, deriv: bool
) -> _Eval:
    """The mode's ``a, b, e`` and ``rho = 1 - eta K`` over a box of ``(sigma, eta, q, D)``;
    with ``deriv`` also enclosures, over the box, of the Jacobian of the step
    ``(q, D) -> (q rho, D (1 - eta^2 e^2 a^(2L-4)))`` in ``(q, D, sigma, eta)``.
    ``blo``, ``bhi`` are Newton's starting points, overwritten by the root bounds."""
    P = s * (1.0 + q)
    blo[:] = root_lower(L, P.lo, D.hi, blo)
    bhi[:] = root_upper(L, P.hi, D.lo, np.maximum(bhi, blo))
    bb = Iv(blo, bhi)
    a = Iv(
        (Iv.point(D.lo) + Iv.point(blo).sqr()).sqrt().lo,
        (Iv.point(D.hi) + Iv.point(bhi).sqr()).sqrt().hi,
    )
    e = s * q
    am3 = _pow_m(a, L - 3)
    x = h * e * bb * am3
    K = K_factor(L, a, bb, x)
    a4 = a ** (2 * L - 4)
    drift = (h * e).sqr() * a4
    adm = (x.hi < 1.0) & (drift.hi < 1.0)
    out = _Eval(a, bb, e, 1.0 - h * K, adm, a4)
    if deriv:
        out.J1, out.J2 = _jacobian(L, s, h, q, D, a, bb, x, K, out.rho, a4, am3)
    return out


def _jacobian(
    L: int, s: Iv, h: Iv, q: Iv, D: Iv, a: Iv, bb: Iv, x: Iv, K: Iv, rho: Iv, a4: Iv, am3: Iv
) -> tuple[Iv, Iv]:
    """Chain rule through ``b(P, D)`` (``P = sigma (1 + q)``, implicit),
    ``a = sqrt(D + b^2)``, ``x = eta sigma q b a^(L-3)``, ``K(a, b, x)``; the four
    directions ``(q, D, sigma, eta)`` are stacked on axis 0."""
    n = L - 1
    zero, one = Iv(np.zeros_like(q.lo)), Iv(np.ones_like(q.lo))
    y = 1.0 - x
    ylo, yhi = np.maximum(y.lo, 0.0), np.maximum(y.hi, 0.0)
    S = Iv(geometric_sum(ylo, n).lo, geometric_sum(yhi, n).hi)
    T = Iv(_deriv_geometric(ylo, n).lo, _deriv_geometric(yhi, n).hi)
    Yn1 = Iv(ylo, yhi) ** (n - 1)
    Y = Yn1 * Iv(ylo, yhi)
    hp = _half_pow(D + bb.sqr(), L - 3)
    fb = hp * (D + float(L) * bb.sqr())
    b_v = _stack(s / fb, -(float(n) * 0.5 * bb * hp) / fb, (1.0 + q) / fb, zero)
    a_v = (_stack(zero, one, zero, zero) + 2.0 * bb * b_v) / (2.0 * a)
    G_v = b_v * am3 + bb * float(L - 3) * _pow_m(a, L - 4) * a_v
    x_v = _stack(h * s, zero, h * q, s * q) * (bb * am3) + (h * s * q) * G_v
    Kb = 2.0 * bb * a4 * S
    Ka = (
        float(2 * L - 4) * bb.sqr() * _pow_m(a, 2 * L - 5) * S
        + float(2 * L - 2) * _pow_m(a, 2 * L - 3) * Y
    )
    Kx = -(bb.sqr() * a4 * T + a ** (2 * L - 2) * float(n) * Yn1)
    K_v = Ka * a_v + Kb * b_v + Kx * x_v
    rho_v = -(h * K_v) - _stack(zero, zero, zero, K)
    J1 = q * rho_v + _stack(rho, zero, zero, zero)
    c = (h * s * q).sqr()
    c_v = _stack(
        2.0 * h.sqr() * s.sqr() * q, zero, 2.0 * h.sqr() * s * q.sqr(), 2.0 * h * s.sqr() * q.sqr()
    )
    A_v = float(2 * L - 4) * _pow_m(a, 2 * L - 5) * a_v
    J2 = _stack(zero, one, zero, zero) * (1.0 - c * a4) - D * (c_v * a4 + c * A_v)
    return J1, J2


def _mat_iv(m00: Iv, m01: Iv, m10: Iv, m11: Iv, v0: Iv, v1: Iv) -> tuple[Iv, Iv]:
    return m00 * v0 + m01 * v1, m10 * v0 + m11 * v1


def _step(L: int, T: _Tubes) -> tuple[_Tubes, np.ndarray, np.ndarray]:
    """One GD step of every tube (Lohner's method with parameter sensitivities).

    By the mean value theorem, with ``J = d f/d(q, D)`` and ``J_p = d f/d(sigma,
    eta)`` enclosed over a box holding the whole set and the parameter box,
    ``f(x) in f(xc, p_c) + J (B r + S dp) + J_p dp``.  The new sensitivity is
    ``S' = mid(J S + J_p)`` and the rest, ``(J S + J_p - S') dp``, is second
    order; ``J B r`` plus the rest is re-expressed in a new frame ``B'`` (the
    dominant direction of ``mid(J) B``) whose inverse is enclosed exactly (2 x
    2 adjugate in interval arithmetic).  Returns the new tubes and where they
    still satisfy ``q^2 <= (1 - eta/2)^t`` and the side conditions."""
    qh, Dh = T.q.hull(T.xc[0]), T.D.hull(T.xc[1])  # J over a box holding every segment
    ev = _evaluate(L, T.s, T.h, qh, Dh, T.blo, T.bhi, deriv=True)
    assert ev.J1 is not None and ev.J2 is not None
    sc, hc = T.s.mid, T.h.mid
    bl, bh = T.blo.copy(), T.bhi.copy()
    Q0, D0, Sc, Hc = (Iv.point(v) for v in (T.xc[0], T.xc[1], sc, hc))
    evc = _evaluate(L, Sc, Hc, Q0, D0, bl, bh, deriv=False)
    fc = [Q0 * evc.rho, D0 * (1.0 - (Hc * Sc * Q0).sqr() * evc.a4)]
    J = [[ev.J1[0], ev.J1[1]], [ev.J2[0], ev.J2[1]]]
    Jp = [[ev.J1[2], ev.J1[3]], [ev.J2[2], ev.J2[3]]]
    B, S = T.B, T.S
    JB = [[J[i][0] * B[0, j] + J[i][1] * B[1, j] for j in range(2)] for i in range(2)]
    JSp = [[J[i][0] * S[0, j] + J[i][1] * S[1, j] + Jp[i][j] for j in range(2)] for i in range(2)]
    S1 = np.array([[JSp[i][j].mid for j in range(2)] for i in range(2)])
    d0, d1 = T.dp
    xc = np.stack([fc[0].mid, fc[1].mid])
    rest = [
        (fc[i] - xc[i]) + (JSp[i][0] - S1[i, 0]) * d0 + (JSp[i][1] - S1[i, 1]) * d1
        for i in range(2)
    ]
    Bn = _frame(np.array([[JB[i][j].mid for j in range(2)] for i in range(2)]), T.r)
    det = Iv.point(Bn[0, 0]) * Bn[1, 1] - Iv.point(Bn[0, 1]) * Bn[1, 0]
    inv = [
        [Iv.point(Bn[1, 1]) / det, -Iv.point(Bn[0, 1]) / det],
        [-Iv.point(Bn[1, 0]) / det, Iv.point(Bn[0, 0]) / det],
    ]
    A = [[inv[i][0] * JB[0][j] + inv[i][1] * JB[1][j] for j in range(2)] for i in range(2)]
    r0, r1 = _mat_iv(A[0][0], A[0][1], A[1][0], A[1][1], T.r[0], T.r[1])
    e0, e1 = _mat_iv(inv[0][0], inv[0][1], inv[1][0], inv[1][1], rest[0], rest[1])
    r = _stack(r0 + e0, r1 + e1)
    g1 = np.nextafter(T.g * (1.0 - T.h * 0.5).lo, -np.inf)
    new = _Tubes(T.s, T.h, xc, Bn, r, S1, g1, T.blo, T.bhi)
    q1, D1 = new.q, new.D
    valid = (
        ev.adm
        & evc.adm
        & (D1.lo > 0)
        & np.isfinite(r.lo).all(axis=0)
        & np.isfinite(r.hi).all(axis=0)
    )
    return new, valid, valid & (q1.sqr().hi <= g1)


def _frame(M: np.ndarray, r: Iv) -> np.ndarray:
    """An orthonormal frame whose first column is the image direction that carries
    the widest part of ``r`` (Lohner's QR, in 2-D); identity where degenerate."""
    w = r.hi - r.lo
    c0 = M[:, 0] * w[0]
    c1 = M[:, 1] * w[1]
    use1 = np.hypot(c1[0], c1[1]) > np.hypot(c0[0], c0[1])
    u = np.where(use1, M[:, 1], M[:, 0])
    nrm = np.hypot(u[0], u[1])
    bad = ~(nrm > 0) | ~np.isfinite(nrm)
    u0 = np.where(bad, 1.0, u[0] / np.where(bad, 1.0, nrm))
    u1 = np.where(bad, 0.0, u[1] / np.where(bad, 1.0, nrm))
    return np.array([[u0, -u1], [u1, u0]])


def _tail(L: int, T: _Tubes, slices: int = 8, q_cap: float | None = None) -> np.ndarray:
    """Where the tube's box lies in an invariant set on which ``q'^2 <= (1 - eta/2) q^2``
    (module docstring); there the bound holds for every later ``t``.  The set's
    ``q``-range ``[-q_T, q_T]`` is checked in ``slices`` pieces.  ``q_cap``
    replaces ``q_T`` by ``min(q_T, q_cap)``: not a certificate then, only the
    test whether the tail could ever succeed for this box (its ``D``,
    ``sigma`` and ``eta`` widths)."""
    qT = np.maximum(np.abs(T.q.lo), np.abs(T.q.hi))
    qs = qT if q_cap is None else np.minimum(qT, q_cap)  # the q-range checked
    n = qT.size
    M = (_evaluate(L, T.s, T.h, T.q, T.D, T.blo.copy(), T.bhi.copy(), False).a4 * T.D).hi * 1.05
    edges = np.linspace(-1.0, 1.0, slices + 1)
    rep = lambda v: np.tile(v, slices)  # noqa: E731
    ql = np.concatenate([qs * edges[i] for i in range(slices)])
    qh = np.concatenate([qs * edges[i + 1] for i in range(slices)])
    for _ in range(4):  # the set's lambda = 2 eta M needs M >= a^(2L-4) D on the set
        lam = (2.0 * Iv.point(T.h.hi) * Iv.point(M)).hi
        d_lo = (Iv.point(T.D.lo) - Iv.point(lam) * (Iv.point(T.s.hi) * Iv.point(qT)).sqr()).lo
        Dw = Iv(rep(d_lo), rep(T.D.hi))
        ev = _evaluate(
            L,
            T.s[np.tile(np.arange(n), slices)],
            T.h[np.tile(np.arange(n), slices)],
            Iv(ql, qh),
            Dw,
            rep(T.blo),
            rep(T.bhi),
            deriv=False,
        )
        m_new = (ev.a4 * Dw).hi.reshape(slices, n).max(axis=0)
        m_ok = m_new <= M
        if bool(np.all(m_ok)):
            break
        M = np.where(m_ok, M, m_new * 1.05)
    c_ok = (ev.rho.sqr().hi <= (1.0 - Iv.point(rep(T.h.hi)) * 0.5).lo) & ev.adm
    c_ok = c_ok.reshape(slices, n).all(axis=0)
    return c_ok & m_ok & (d_lo > 0) & (T.q.sqr().hi <= T.g)


@dataclass
class TubeResult:
    """What :func:`certify_tubes` established for ``eta`` in ``[eta_lo, eta_hi]``."""

    certified: bool
    boxes: int
    steps: int
    seconds: float
    left: int
    stop: str
    worst: dict[str, float] = field(default_factory=dict)


def _run_generation(
    L: int, T: _Tubes, max_steps: int, tail_every: int, q_tail: float, deadline: float
) -> tuple[np.ndarray, int]:
    """Push every tube until it enters the tail (done) or fails; returns the mask of
    failed tubes (over the input order) and the steps taken.  A tube whose
    ``max |q|`` has not shrunk by 10% over ``max(64, 4 / eta)`` steps is
    stalled (its box is too wide for the tail) and counts as failed."""
    n = T.s.lo.size
    idx = np.arange(n)
    failed = np.zeros(n, bool)
    window = np.maximum(64, np.ceil(4.0 / np.maximum(T.h.hi, 1e-300))).astype(np.int64)
    ref_q, ref_t = np.ones(n), np.zeros(n, np.int64)
    t = 0
    while idx.size and t < max_steps and _clock() < deadline:
        T, _valid, ok = _step(L, T)
        t += 1
        qmax = np.maximum(np.abs(T.q.lo), np.abs(T.q.hi))
        due = t - ref_t[idx] >= window[idx]
        stalled = due & (qmax > 0.9 * ref_q[idx])
        ref_q[idx[due]], ref_t[idx[due]] = qmax[due], t
        ok &= ~stalled
        if not ok.all():
            failed[idx[~ok]] = True
            idx, T, qmax = idx[ok], T.take(ok), qmax[ok]
        if idx.size and t % tail_every == 0:
            small = qmax <= q_tail
            if small.any():
                done = np.zeros(idx.size, bool)
                sub = T.take(small)
                done[np.flatnonzero(small)] = _tail(L, sub)
                # a tail that fails even with q -> 0 fails for the box's widths: split it now
                never = np.zeros(idx.size, bool)
                never[np.flatnonzero(small)] = ~_tail(L, sub, q_cap=1e-12)
                hopeless = ~done & ((never & (qmax <= 1e-4)) | (qmax <= 1e-9))
                failed[idx[hopeless]] = True
                keep = ~(done | hopeless)
                idx, T = idx[keep], T.take(keep)
    failed[idx] = True  # still running at the step budget or deadline
    return failed, t


def certify_tubes(
    L: int,
    F: float,
    eta_lo: float,
    eta_hi: float,
    *,
    n_sigma: int = 64,
    n_eta: int = 1,
    max_steps: int = 200_000,
    max_boxes: int = 400_000,
    time_limit: float = 120.0,
    tail_every: int = 8,
    q_tail: float = 0.05,
) -> TubeResult:
    """Certify ``e_t^2 <= (1 - eta/2)^t sigma^2`` for every ``t``, every ``sigma`` in
    ``[0, F]`` and every ``eta`` in ``[eta_lo, eta_hi]`` (``L >= 2``), by tubes
    with a branch-and-bound over ``(sigma, eta)`` boxes (module docstring)."""
    with quiet():
        return _certify_tubes(
            L,
            F,
            eta_lo,
            eta_hi,
            n_sigma,
            n_eta,
            max_steps,
            max_boxes,
            time_limit,
            tail_every,
            q_tail,
        )


def _certify_tubes(
    L: int,
    F: float,
    eta_lo: float,
    eta_hi: float,
    n_sigma: int,
    n_eta: int,
    max_steps: int,
    max_boxes: int,
    time_limit: float,
    tail_every: int,
    q_tail: float,
) -> TubeResult:
    t0 = _clock()
    deadline = t0 + time_limit
    se = np.linspace(0.0, F, n_sigma + 1)
    he = (
        np.geomspace(eta_lo, eta_hi, n_eta + 1) if eta_lo > 0 else np.linspace(0, eta_hi, n_eta + 1)
    )
    S, H = np.meshgrid(np.arange(n_sigma), np.arange(n_eta), indexing="ij")
    box = [se[S.ravel()], se[S.ravel() + 1], he[H.ravel()], he[H.ravel() + 1]]
    boxes, steps, stop = 0, 0, "decided"
    while box[0].size:
        boxes += box[0].size
        failed, t = _run_generation(L, _start(*box), max_steps, tail_every, q_tail, deadline)
        steps = max(steps, t)
        box = [x[failed] for x in box]
        if not box[0].size:
            break
        if _clock() > deadline or 2 * box[0].size > max_boxes:
            stop = "budget"
            break
        ws = (box[1] - box[0]) / F
        wh = (box[3] - box[2]) / max(eta_hi, 1e-300)
        along_s = ws >= wh
        mid_s, mid_h = (
            0.5 * (box[0] + box[1]),
            np.sqrt(box[2] * box[3]) if eta_lo > 0 else 0.5 * (box[2] + box[3]),
        )
        left = [box[0], np.where(along_s, mid_s, box[1]), box[2], np.where(along_s, box[3], mid_h)]
        right = [np.where(along_s, mid_s, box[0]), box[1], np.where(along_s, box[2], mid_h), box[3]]
        box = [np.concatenate([x, y]) for x, y in zip(left, right, strict=True)]
    worst = {}
    if box[0].size:
        i = int(np.argmax(box[1]))
        worst = {
            "sigma_lo": float(box[0][i]),
            "sigma_hi": float(box[1][i]),
            "eta_lo": float(box[2][i]),
            "eta_hi": float(box[3][i]),
        }
    return TubeResult(box[0].size == 0, boxes, steps, _clock() - t0, int(box[0].size), stop, worst)


# ---------------------------------------------------------------------------
# float estimate of the threshold, and certified violations
# ---------------------------------------------------------------------------


def _float_run(
    L: int, sig: np.ndarray, eta: float, max_steps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Float64 scalar runs for every ``sigma`` in ``sig``: the largest
    ``log(q_t^2) - t log(1 - eta/2)`` seen while ``|q_t| > 1e-7``, and the
    asymptotic excess ``log((1 - eta k)^2) - log(1 - eta/2)`` at the end,
    ``k = a^(2L-4) (a^2 + (L-1) b^2)`` (the linear rate at the limit point)."""
    a, b = np.ones_like(sig), np.zeros_like(sig)
    l1 = math.log1p(-eta / 2)
    worst = np.full(sig.shape, -np.inf)
    alive = np.ones(sig.shape, bool)
    with np.errstate(all="ignore"):
        for t in range(1, max_steps + 1):
            e = b * a ** (L - 1) - sig
            a, b = a - eta * b * e * a ** (L - 2), b - eta * e * a ** (L - 1)
            q = (b * a ** (L - 1) - sig) / sig
            alive &= np.abs(q) > 1e-7
            worst = np.where(alive, np.maximum(worst, np.log(q * q) - t * l1), worst)
            if not alive.any() or not np.isfinite(q).all():
                break
        k = a ** (2 * L - 4) * (a * a + (L - 1) * b * b)
        asym = np.log((1 - eta * k) ** 2) - l1
    bad = ~np.isfinite(worst) & alive  # diverged
    return np.where(bad, np.inf, worst), np.where(np.isfinite(asym), asym, np.inf)


def estimate_tight(
    L: int, F: float, *, n_sigma: int = 64, max_steps: int = 200_000, iters: int = 26
) -> tuple[float, float]:
    """Float64 estimate of ``eta_tight(L, F)`` (bisection on ``eta``; a step is
    good when every ``sigma`` of a grid in ``(0, F]`` keeps ``q_t^2 <= (1 -
    eta/2)^t`` while ``|q_t| > 1e-7`` and contracts at least as fast at its
    limit).  Returns ``(eta, sigma)``: the estimate and the worst ``sigma``.
    Not a certificate: :func:`tight_bracket` certifies around it."""
    if L == 1:
        return 1.5, F
    sig = np.linspace(F / n_sigma, F, n_sigma)
    lo, hi = 0.0, 2.0
    worst_s = F
    for _ in range(iters):
        mid = 0.5 * (lo + hi) if lo > 0 else hi / 4
        w, asym = _float_run(L, sig, mid, max_steps)
        score = np.maximum(w, asym)
        if np.all(score <= 0):
            lo = mid
        else:
            hi = mid
            worst_s = float(sig[int(np.argmax(score))])
    return lo, worst_s


def _expanding_tail(L: int, T: _Tubes, g_hi: np.ndarray) -> int | None:
    """For a point tube (``sigma``, ``eta`` degenerate): if on the set
    ``{|q| <= q_T, D in [D_lo - lambda sigma^2 q_T^2, D_hi]}``,
    ``lambda = eta^2 M / (1 - rho_max^2)``, every step has
    ``rho_min <= |rho| <= rho_max < 1`` with ``rho_min^2 > 1 - eta/2``, the set
    is invariant and ``q_t^2 / (1 - eta/2)^t`` grows at least by
    ``rho_min^2 / (1 - eta/2)`` per step: return the number of further steps
    after which it is certainly above 1 (``None`` if the set is not shown)."""
    from flint import arb

    qT = np.maximum(np.abs(T.q.lo), np.abs(T.q.hi))
    ev = _evaluate(L, T.s, T.h, T.q, T.D, T.blo.copy(), T.bhi.copy(), False)
    M = (ev.a4 * T.D).hi * 1.05
    rmax = np.maximum(np.abs(ev.rho.lo), np.abs(ev.rho.hi)) * 1.001
    for _ in range(4):
        if not bool(np.all(rmax < 1)):
            return None
        lam = (Iv.point(T.h.hi).sqr() * Iv.point(M) / (1.0 - Iv.point(rmax).sqr())).hi
        d_lo = (Iv.point(T.D.lo) - Iv.point(lam) * (Iv.point(T.s.hi) * Iv.point(qT)).sqr()).lo
        ev = _evaluate(
            L, T.s, T.h, Iv(-qT, qT), Iv(d_lo, T.D.hi), T.blo.copy(), T.bhi.copy(), False
        )
        m_new = (ev.a4 * Iv(d_lo, T.D.hi)).hi
        r_new = np.maximum(np.abs(ev.rho.lo), np.abs(ev.rho.hi))
        if bool(np.all((m_new <= M) & (r_new <= rmax))):
            break
        M, rmax = np.maximum(M, m_new * 1.05), np.maximum(rmax, r_new * 1.001)
    else:
        return None
    straddles = (ev.rho.lo <= 0) & (ev.rho.hi >= 0)
    rmin = np.where(straddles, 0.0, np.minimum(np.abs(ev.rho.lo), np.abs(ev.rho.hi)))
    grow = (Iv.point(rmin).sqr() / (1.0 - Iv.point(T.h.lo) * 0.5)).lo
    r_now = (T.q.sqr() / Iv.point(g_hi)).lo
    if not (ev.adm.all() and d_lo[0] > 0 and grow[0] > 1 and r_now[0] > 0):
        return None
    need = (-arb(float(r_now[0])).log()) / arb(float(grow[0])).log()
    return math.ceil(float(need.upper())) + 1


def violation(
    L: int,
    sigma: float,
    eta: float,
    *,
    max_steps: int = 200_000,
    q_small: float = 1e-4,
    time_limit: float = 60.0,
) -> dict[str, Any] | None:
    """A certified counterexample to ``e_t^2 <= (1 - eta/2)^t sigma^2`` for the rank-one
    target ``Phi = sigma e_1 e_1^T`` (``||Phi||_F = sigma``): the scalar map from
    ZAS is run in interval arithmetic; either some step has
    ``q_t^2 > (1 - eta/2)^t`` decided (``kind = "finite"``), or the run enters a
    set near the limit point on which the ratio provably grows
    (``kind = "asymptotic"``, with the step ``t`` at which it exceeds 1).
    ``None`` if neither is shown within the budget."""
    with quiet():
        t0 = _clock()
        s, h = np.array([float(sigma)]), np.array([float(eta)])
        T = _start(s, s, h, h)
        g_hi = np.ones(1)
        for t in range(1, max_steps + 1):
            T, valid, _ok = _step(L, T)
            if not valid.all():
                return None  # the enclosure is not valid past here: nothing to conclude
            g_hi = np.nextafter(g_hi * (1.0 - Iv.point(h) * 0.5).hi, np.inf)
            if (T.q.sqr().lo > g_hi).all():
                return {
                    "kind": "finite",
                    "t": t,
                    "sigma": float(sigma),
                    "eta": float(eta),
                    "q2_over_bound_lo": float((T.q.sqr().lo / g_hi)[0]),
                }
            qm = float(max(abs(T.q.lo[0]), abs(T.q.hi[0])))
            if qm <= q_small and t % 4 == 0:
                n = _expanding_tail(L, T, g_hi)
                if n is not None:
                    return {
                        "kind": "asymptotic",
                        "t": t + n,
                        "entered": t,
                        "sigma": float(sigma),
                        "eta": float(eta),
                    }
            if qm == 0.0 or _clock() - t0 > time_limit:
                return None
        return None


@dataclass
class LowerCertificate:
    """:func:`certify_lower`'s outcome for the step ``eta``: ``certified`` = the bound
    holds at ``eta`` for every target with ``||Phi||_F <= F`` and every ``t``
    (tubes); it holds for every step in ``(0, eta_region]`` (invariant region);
    ``every_step`` = also for every step in ``[eta_region, eta]`` (tubes with
    ``eta`` boxes), hence for every step in ``(0, eta]``."""

    certified: bool
    eta: float
    eta_region: float
    seconds: float
    tubes: TubeResult | None = None
    region_boxes: int = 0
    every_step: bool = False
    stretch: TubeResult | None = None


def certify_lower(
    L: int, F: float, eta: float, *, time_limit: float = 120.0, stretch_limit: float = 0.0
) -> LowerCertificate:
    """Certify ``R(t) <= (1 - eta/2)^t R(0)`` at the step ``eta`` (tubes over
    ``sigma`` in ``[0, F]``, :func:`certify_tubes` with a point ``eta``), for
    every step in ``(0, eta_A]`` with ``eta_A = eta 2^-j`` the largest the
    invariant region (:func:`~zascheck.measure.certify_thm43.certify_per_step`)
    reaches, and, given ``stretch_limit`` seconds, for every step in
    ``[eta_A, eta]`` (tubes over ``(sigma, eta)`` boxes).  ``L = 1`` is exact
    (``eta <= 3/2``, and then every smaller step)."""
    t0 = _clock()
    if L == 1:
        ok = eta <= 1.5
        return LowerCertificate(ok, eta, eta if ok else 0.0, _clock() - t0, every_step=ok)
    tr = certify_tubes(L, F, eta, eta, time_limit=max(1.0, time_limit - 6.0))
    eta_a, boxes = region_reach(L, F, eta, time_limit - (_clock() - t0))
    out = LowerCertificate(tr.certified, eta, eta_a, _clock() - t0, tr, boxes)
    if tr.certified and eta_a > 0 and stretch_limit > 0:
        out.stretch = stretch(L, F, eta_a, eta, time_limit=stretch_limit)
        out.every_step = out.stretch.certified
        out.seconds = _clock() - t0
    return out


def region_reach(L: int, F: float, eta: float, time_limit: float) -> tuple[float, int]:
    """The largest ``eta 2^-j`` (``j >= 2``) up to which the invariant region
    certifies every step, and the boxes it used (``(0.0, n)`` if none)."""
    t0, boxes = _clock(), 0
    for j in range(2, 40):
        left = time_limit - (_clock() - t0)
        cand = eta * 2.0**-j
        c = certify_per_step(
            L, F, eta_max=cand, time_limit=max(0.5, min(3.0, left)), max_boxes=50_000
        )
        boxes += c.boxes
        if c.certified:
            return cand, boxes
    return 0.0, boxes


def stretch(L: int, F: float, eta_a: float, eta: float, *, time_limit: float) -> TubeResult:
    """Tubes over every ``(sigma, eta')`` with ``sigma`` in ``[0, F]`` and ``eta'`` in
    ``[eta_a, eta]`` (8 ``eta`` boxes per octave to start)."""
    n_eta = max(1, math.ceil(math.log2(eta / eta_a) * 8))
    return certify_tubes(L, F, eta_a, eta, n_eta=n_eta, time_limit=time_limit)


@dataclass
class TightBracket:
    """A certified bracket of ``eta_tight(L, F)``: ``eta_lo`` satisfies the bound for
    every target with ``||Phi||_F <= F`` and every ``t`` (``lower``; with
    ``every_step`` so does every smaller step, and then
    ``eta_lo <= eta_tight < eta_hi`` for ``eta_tight`` the largest step below
    which every step is safe), and ``eta_hi`` fails it for the rank-one target
    ``sigma e_1 e_1^T`` at step ``t`` (``upper``)."""

    L: int
    F: float
    eta_lo: float | None
    eta_hi: float | None
    estimate: float
    seconds: float
    lower: LowerCertificate | None = None
    upper: dict[str, Any] | None = None
    notes: str = ""

    @property
    def every_step(self) -> bool:
        """Whether every step in ``(0, eta_lo]`` is certified (not only ``eta_lo``)."""
        return bool(self.lower is not None and self.lower.every_step and self.eta_lo is not None)

    @property
    def rel_width(self) -> float:
        if self.eta_lo is None or self.eta_hi is None:
            return math.inf
        return (self.eta_hi - self.eta_lo) / self.eta_hi

    @property
    def digits(self) -> int:
        """Significant digits the bracket fixes: the largest ``d`` with
        ``eta_hi - eta_lo <= 1/2`` unit in the ``d``-th significant digit of
        ``eta_hi`` (so the midpoint is right to that many digits)."""
        if self.eta_lo is None or self.eta_hi is None:
            return 0
        width = self.eta_hi - self.eta_lo
        e = math.floor(math.log10(self.eta_hi))
        d = 0
        while d < 15 and width <= 0.5 * 10.0 ** (e - d):
            d += 1
        return d


def tight_bracket(
    L: int,
    F: float,
    *,
    rel: float = 2.5e-4,
    time_limit: float = 120.0,
    n_sigma: int = 64,
    stretch_limit: float = 0.0,
) -> TightBracket:
    """Certify a bracket of ``eta_tight(L, F)`` about a float estimate: the upper
    end at ``estimate (1 + rel 2^j)`` by :func:`violation` (first ``j`` that
    succeeds), the lower end at ``estimate (1 - rel 2^j)`` by
    :func:`certify_lower` (with ``stretch_limit`` seconds for every smaller
    step; ``time_limit`` bounds the rest).  ``L = 1`` is exact:
    ``eta_tight = 3/2``."""
    t0 = _clock()
    if L == 1:
        low1 = certify_lower(1, F, 1.5)
        up1 = {
            "kind": "finite",
            "t": 1,
            "sigma": F,
            "eta": 1.5 * (1 + rel),
            "note": "(1 - eta)^2 > 1 - eta/2 for eta > 3/2: e_1^2 > (1 - eta/2) sigma^2",
        }
        return TightBracket(
            1,
            F,
            1.5,
            1.5 * (1 + rel),
            1.5,
            _clock() - t0,
            low1,
            up1,
            "exact at L = 1: (1 - eta)^2 <= 1 - eta/2 iff eta <= 3/2",
        )
    est, s_worst = estimate_tight(L, F, n_sigma=n_sigma)
    hi: float | None = None
    up: dict[str, Any] | None = None
    for j in range(8):
        cand = est * (1 + rel * 2**j)
        for s in dict.fromkeys([s_worst, F]):
            up = violation(L, s, cand, time_limit=min(30.0, time_limit / 4))
            if up is not None:
                hi = cand
                break
        if hi is not None:
            break
    lo: float | None = None
    low: LowerCertificate | None = None
    for j in range(8):
        cand = est * (1 - rel * 2**j)
        left = time_limit - (_clock() - t0)
        if left <= 1:
            break
        # a candidate above eta_tight keeps its tubes busy until their deadline: leave
        # the next (lower) candidate at least 40% of the budget (L = 48 lost its lower end)
        cap = left if j == 7 else min(left, max(0.6 * time_limit, left - 0.4 * time_limit))
        low = certify_lower(L, F, cand, time_limit=cap, stretch_limit=stretch_limit)
        if low.certified:
            lo = cand
            break
    return TightBracket(L, F, lo, hi, est, _clock() - t0, low, up)


def tight_row(
    L: int, F: float, rel: float = 2.5e-4, time_limit: float = 120.0, stretch_limit: float = 0.0
) -> dict[str, Any]:
    """One row of the tight-step table (``zas.thm4.3.tight``, the report): the bracket
    :func:`tight_bracket` of ``eta_tight(L, F)``, Theorem 4.3's ``eta*(F, L)``
    (upper end, :func:`~zascheck.measure.certify_thm43.eta_star_upper`), the ratio
    ``eta_lo / eta*``, digits, ``every_step``, seconds and a verdict string
    (``certified`` when both ends are)."""
    br = tight_bracket(L, F, rel=rel, time_limit=time_limit, stretch_limit=stretch_limit)
    star = float(eta_star_upper(L, np.array([F]))[0])
    mid = None if br.eta_lo is None or br.eta_hi is None else 0.5 * (br.eta_lo + br.eta_hi)
    return {
        "L": L,
        "F": F,
        "eta_lo": br.eta_lo,
        "eta_hi": br.eta_hi,
        "digits": br.digits,
        "every_step": br.every_step,
        "eta_region": br.lower.eta_region if br.lower else None,
        "estimate": br.estimate,
        "eta_star": star,
        "eta_mid": mid,
        "ratio_to_eta_star": None if br.eta_lo is None else br.eta_lo / star,
        "violation": br.upper,
        "seconds": br.seconds,
        "verdict": "certified"
        if br.eta_lo is not None and br.eta_hi is not None
        else "inconclusive",
    }


def growth_law(rows: list[dict[str, Any]], L_min: int = 4) -> dict[str, Any]:
    """Least-squares fit of ``log eta_mid = log C - gamma log L`` over the rows with
    ``L >= L_min``, per ``F`` (needs three depths); ``gamma`` also from the
    brackets' ends (lower and upper) to show it is not an artefact of the
    midpoints."""
    out: dict[str, Any] = {}
    for F in sorted({r["F"] for r in rows}):
        rs = [r for r in rows if r["F"] == F and r["L"] >= L_min and r["eta_mid"]]
        if len({r["L"] for r in rs}) < 3:
            continue
        x = np.log([r["L"] for r in rs])
        fits = {
            k: np.polyfit(x, np.log([r[k] for r in rs]), 1) for k in ("eta_mid", "eta_lo", "eta_hi")
        }
        out[str(F)] = {
            "gamma": float(-fits["eta_mid"][0]),
            "C": float(np.exp(fits["eta_mid"][1])),
            "gamma_lo_hi": sorted(float(-f[0]) for f in fits.values()),
            "depths": sorted({r["L"] for r in rs}),
        }
    return out
