"""Theorem 4.3 for whole classes of targets and every step: a per-mode invariant-region certificate.

By the spectral reduction (:mod:`zascheck.measure.spectral`) GD from ZAS on a
target ``Phi`` with singular values ``sigma_i`` is ``d`` scalar maps

    e = b a^(L-1) - sigma,  a' = a - eta b e a^(L-2),  b' = b - eta e a^(L-1),

from ``(a, b) = (1, 0)``, all with the same ``eta``, and
``R = 1/2 sum_i e_i^2``.  If every mode satisfies
``e_i(t+1)^2 <= (1 - eta/2) e_i(t)^2`` then
``R(t) <= (1 - eta/2)^t R(0)`` for every ``t``.  The step of Theorem 4.3,
``eta <= eta*(||Phi||_F, L)``, couples the modes only through ``eta``: a mode
``sigma`` of a target with ``||Phi||_F <= F`` has ``sigma <= ||Phi||_F <= F``
and, ``eta*`` being nonincreasing in ``||Phi||_F``,
``eta <= eta*(||Phi||_F) <= eta*(sigma)``.  So it suffices to show the per-step
contraction for every pair ``(sigma, eta)`` with ``0 <= sigma <= F``,
``0 < eta <= eta*(sigma)``: that covers every ``Phi`` with ``||Phi||_F <= F``,
every ``d``, every ``t``, the theorem's step and every smaller one.

The certificate (per pair): the exact identities (proven in
:mod:`zascheck.measure.spectral_proof`)

    e' = e (1 - eta K),  K = b^2 a^(2L-4) S_{L-1}(x) + a^(2L-2) (1 - x)^(L-1),
    x = eta e b a^(L-3),  S_n(x) = sum_{i<n} (1 - x)^i,
    D' = D (1 - eta^2 e^2 a^(2L-4)),  D = a^2 - b^2,

and the region

    Omega = {a > 0, |e| <= sigma, D <= 1, D - theta eta e^2 >= 1 - theta eta sigma^2},

which holds ``(1, 0)``.  On ``Omega`` (checked on boxes by outward-rounded
interval arithmetic, :mod:`zascheck.interval`):

* ``c = (1 - rho^2) / eta = K (2 - eta K) >= 1/2`` with ``rho = 1 - eta K``:
  then ``e'^2 = rho^2 e^2 <= (1 - eta/2) e^2`` and ``|e'| <= |e| <= sigma``;
* ``theta c >= a^(2L-4) D``: then ``D - D' = eta^2 e^2 a^(2L-4) D <=
  theta eta (e^2 - e'^2)``, i.e. ``W = D - theta eta e^2`` does not decrease;
* ``x < 1`` and ``eta^2 e^2 a^(2L-4) < 1``: ``a' = a (1 - x) > 0``, ``0 < D' <= D``.

So ``Omega`` is invariant and the contraction holds at every step from
``t = 0``: no horizon is needed (the whole trajectory is the "tail").  The
boxes range over ``sigma`` in ``[0, F]``, ``eta`` in ``[0, eta*(sigma_lo)]``
(``eta = 0`` included: every condition is in a form that stays valid
there) and the state ``b`` in ``[0, b_max]`` with ``D`` in
``[1 - theta eta_hi sigma_hi^2, 1]``; a box where a condition is not decided
is split.  ``L = 1`` is exact: ``e' = (1 - eta) e``, and
``(1 - eta)^2 <= 1 - eta/2`` iff ``eta <= 3/2``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck.interval import Iv, quiet
from zascheck.result import CheckResult

__all__ = [
    "THM43_CLASS_BUDGETS",
    "THM43_CLASS_CONTROLS",
    "K_factor",
    "PerStepCertificate",
    "b_max_upper",
    "certify_per_step",
    "eta_star_upper",
    "geometric_sum",
    "per_step_checks",
    "thm43_class_certificate",
]


def eta_star_upper(L: int, s: np.ndarray) -> np.ndarray:
    """Upper bounds of ``eta*(s, L) = min{1/(4 L^3 phi^6), 1/(144 L^2 phi^4)}``,
    ``phi = max{2 s, 3/sqrt(L), 1}`` (Theorem 4.3), elementwise in ``s``."""
    with quiet():
        return _eta_star_upper(L, np.asarray(s, dtype=float))


def _eta_star_upper(L: int, s: np.ndarray) -> np.ndarray:
    three = (Iv.point(3.0) / Iv.point(float(L)).sqrt()).lo  # a lower bound of 3/sqrt(L)
    phi = Iv.point(np.maximum(np.maximum(2.0 * s, three), 1.0))  # 2 s is exact
    t1 = 1.0 / (Iv.point(4.0 * L**3) * phi**6)
    t2 = 1.0 / (Iv.point(144.0 * L**2) * phi**4)
    return np.minimum(t1.hi, t2.hi)


def geometric_sum(y: np.ndarray, n: int) -> Iv:
    """An enclosure of ``S_n = sum_{i<n} y^i`` at each point ``y >= 0``:
    ``(1 - y^n) / (1 - y)`` in interval arithmetic where ``|1 - y| > 2^-30``
    (relative width about ``2^-52 / |1 - y|``), else the bounds
    ``n min(1, y^(n-1)) <= S_n <= n max(1, y^(n-1))`` (every term lies between
    ``1`` and ``y^(n-1)``; relative width about ``n^2 |1 - y|``)."""
    Y = Iv.point(y)
    yn1 = Y ** (n - 1)
    near = np.abs(1.0 - y) <= 2.0**-30
    closed = (1.0 - yn1 * Y) / (1.0 - Y)
    lo_b = (Iv.point(float(n)) * Iv(np.minimum(yn1.lo, 1.0))).lo
    hi_b = (Iv.point(float(n)) * Iv(np.maximum(yn1.hi, 1.0))).hi
    return Iv(np.where(near, lo_b, closed.lo), np.where(near, hi_b, closed.hi))


def K_factor(L: int, a: Iv, b: Iv, x: Iv) -> Iv:
    """``K = b^2 a^(2L-4) S_{L-1}(x) + a^(2L-2) (1 - x)^(L-1)`` for ``L >= 2``,
    using that ``S_n`` and ``(1 - x)^n`` decrease in ``x`` while ``1 - x > 0``
    (callers check ``x < 1``; where it fails the result is meaningless)."""
    n = L - 1
    y = 1.0 - x
    ylo, yhi = np.maximum(y.lo, 0.0), np.maximum(y.hi, 0.0)
    s = Iv(geometric_sum(ylo, n).lo, geometric_sum(yhi, n).hi)
    yp = Iv(ylo, yhi) ** n
    return b.sqr() * a ** (2 * L - 4) * s + a ** (2 * L - 2) * yp


def b_max_upper(L: int, d_lo: np.ndarray, p_max: np.ndarray) -> np.ndarray:
    """An upper bound of every ``b >= 0`` with ``b (d_lo + b^2)^((L-1)/2) <= p_max``
    (the state range of a mode with ``b a^(L-1) <= p_max``, ``D >= d_lo``).
    Bisection in floats, then a check by interval arithmetic that the bound
    is past the root (widened until it is)."""
    d_lo, p_max = np.asarray(d_lo, float), np.asarray(p_max, float)
    lo, hi = np.zeros_like(p_max), np.maximum(1.0, p_max)

    def f(bv: np.ndarray) -> Iv:
        bi = Iv.point(bv)
        g = (Iv.point(d_lo) + bi.sqr()).sqrt()
        return bi * g ** (L - 1)

    for _ in range(80):
        mid = 0.5 * (lo + hi)
        under = f(mid).mid < p_max
        lo, hi = np.where(under, mid, lo), np.where(under, hi, mid)
    for _ in range(60):
        bad = ~(f(hi).lo > p_max)
        if not bad.any():
            break
        hi = np.where(bad, hi * (1 + 1e-9) + 1e-300, hi)
    return hi


def per_step_checks(
    L: int, s: Iv, h: Iv, bb: Iv, theta: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decide the region conditions on boxes (``L >= 2``): sigma in ``s``, eta in
    ``h`` (``h.lo >= 0``), state ``b`` in ``bb``, ``D`` in
    ``[1 - theta h_hi s_hi^2, 1]``.

    Returns ``(ok, outside, c_lo)``: every condition holds on the box; the box
    holds no point of the region (``e > sigma`` everywhere); and a lower bound
    of ``c = K (2 - eta K)`` (the certified per-step rate,
    ``R(t+1) <= (1 - c eta) R(t)`` per mode).
    """
    d_lo = _d_lower(theta, h.hi, s.hi)
    for _ in range(3):  # D >= 1 - theta eta (sigma^2 - e^2): refine with the box's e
        a = Iv(
            (Iv.point(d_lo) + Iv.point(bb.lo).sqr()).sqrt().lo,
            (1.0 + Iv.point(bb.hi).sqr()).sqrt().hi,
        )
        e = bb * a ** (L - 1) - s
        outside = e.lo > s.hi
        e = e.intersect(Iv(-s.hi, s.hi))
        gap = Iv.point(s.hi).sqr() - e.sqr()  # >= sigma^2 - e^2 on the region
        d_lo = np.maximum(
            d_lo,
            (
                1.0
                - Iv.point(theta)
                * Iv.point(h.hi)
                * Iv(np.maximum(gap.lo, 0.0), np.maximum(gap.hi, 0.0))
            ).lo,
        )
    D = Iv(d_lo, np.ones_like(d_lo))
    a_m3 = a ** (L - 3) if L >= 3 else 1.0 / a
    x = h * e * bb * a_m3
    K = K_factor(L, a, bb, x)
    c_lo = np.minimum(_conc_lo(K.lo, h.hi), _conc_lo(K.hi, h.hi))
    a4 = a ** (2 * L - 4)
    drift = (h * e).sqr() * a4
    ok = (
        (c_lo >= 0.5)
        & ((Iv.point(theta) * Iv.point(c_lo)).lo >= (a4 * D).hi)
        & (x.hi < 1.0)
        & (drift.hi < 1.0)
        & (d_lo > 0)
    )
    return ok & ~outside, outside, np.where(outside, np.inf, c_lo)


def _d_lower(theta: float, eta_hi: np.ndarray, s_hi: np.ndarray) -> np.ndarray:
    """A lower bound of ``1 - theta eta_hi s_hi^2``: every ``D`` of the region is above it."""
    return (1.0 - Iv.point(theta) * Iv.point(eta_hi) * Iv.point(s_hi).sqr()).lo


def _conc_lo(k: np.ndarray, eta_hi: np.ndarray) -> np.ndarray:
    """Lower bound of ``k (2 - eta k)`` for ``eta`` in ``[0, eta_hi]`` at a point ``k``."""
    kk = Iv.point(k)
    return (kk * (2.0 - Iv.point(eta_hi) * kk)).lo


@dataclass
class PerStepCertificate:
    """The outcome of :func:`certify_per_step` for one ``(L, F)``."""

    L: int
    F: float
    certified: bool
    boxes: int
    rounds: int
    seconds: float
    min_rate: float  # smallest certified c: R(t+1) <= (1 - c eta) R(t) per mode
    eta_max: float  # largest eta covered (upper end of the eta boxes at sigma -> 0)
    left: int = 0  # undecided boxes when the budget ran out
    worst_box: dict[str, float] = field(default_factory=dict)
    stop: str = ""


def _initial(L: int, F: float, eta_max: float | None, theta: float, n0: int) -> list[np.ndarray]:
    s_lo = np.linspace(0.0, F, n0 + 1)[:-1]
    s_hi = np.append(s_lo[1:], F)
    h_hi = eta_star_upper(L, s_lo) if eta_max is None else np.full(n0, float(eta_max))
    d_lo = _d_lower(theta, h_hi, s_hi)
    b_hi = b_max_upper(L, np.maximum(d_lo, 1e-300), 2.0 * s_hi)
    z = np.zeros(n0)
    return [s_lo, s_hi, z, h_hi, z.copy(), b_hi]


def _split(box: list[np.ndarray], scale: np.ndarray) -> list[np.ndarray]:
    """Halve every box along its widest dimension (widths divided by ``scale``)."""
    w = np.stack([(box[2 * i + 1] - box[2 * i]) / scale[i] for i in range(3)])
    dim = np.argmax(w, axis=0)
    left, right = [x.copy() for x in box], [x.copy() for x in box]
    for i in range(3):
        m = dim == i
        mid = 0.5 * (box[2 * i] + box[2 * i + 1])
        left[2 * i + 1] = np.where(m, mid, left[2 * i + 1])
        right[2 * i] = np.where(m, mid, right[2 * i])
    return [np.concatenate([x, y]) for x, y in zip(left, right, strict=True)]


def certify_per_step(
    L: int,
    F: float,
    *,
    eta_max: float | None = None,
    theta: float = 1.0,
    n0: int = 64,
    max_boxes: int = 200_000,
    time_limit: float = 120.0,
) -> PerStepCertificate:
    """Certify, for every ``sigma`` in ``[0, F]`` and every ``eta`` in
    ``(0, eta*(sigma)]`` (Theorem 4.3's step; ``eta_max`` replaces it by one
    fixed upper end), that the mode map contracts ``e^2`` by ``1 - eta/2`` at
    every step from ZAS (module docstring).  ``L >= 1``; ``L = 1`` is decided
    exactly.  Stops when every box is decided, or at ``max_boxes`` pending
    boxes or ``time_limit`` seconds (then ``certified`` is False: not decided,
    not refuted)."""
    with quiet():
        return _certify_per_step(L, F, eta_max, theta, n0, max_boxes, time_limit)


def _certify_per_step(
    L: int,
    F: float,
    eta_max: float | None,
    theta: float,
    n0: int,
    max_boxes: int,
    time_limit: float,
) -> PerStepCertificate:
    t0 = time.perf_counter()
    if L == 1:
        top = Fraction(eta_max) if eta_max is not None else Fraction(1, 11664)  # eta*(0, 1)
        exact_ok = (1 - top) ** 2 <= 1 - top / 2
        return PerStepCertificate(
            1,
            F,
            bool(exact_ok),
            1,
            1,
            time.perf_counter() - t0,
            float(2 - top) if exact_ok else math.nan,
            float(top),
            stop="exact: (1 - eta)^2 <= 1 - eta/2 iff eta <= 3/2",
        )
    box = _initial(L, F, eta_max, theta, n0)
    scale = np.array([F, max(float(box[3].max()), 1e-300), max(float(box[5].max()), 1e-300)])
    rounds, done, min_rate, worst = 0, 0, math.inf, {}
    stop = "decided"
    while box[0].size:
        rounds += 1
        s, h, bb = Iv(box[0], box[1]), Iv(box[2], box[3]), Iv(box[4], box[5])
        ok, outside, c_lo = per_step_checks(L, s, h, bb, theta)
        if ok.any():
            i = int(np.argmin(np.where(ok, c_lo, np.inf)))
            if c_lo[i] < min_rate:
                min_rate = float(c_lo[i])
                worst = {
                    k: float(box[j][i])
                    for j, k in enumerate(
                        ("sigma_lo", "sigma_hi", "eta_lo", "eta_hi", "b_lo", "b_hi")
                    )
                }
        done += int(ok.sum() + outside.sum())
        keep = ~(ok | outside)
        box = [x[keep] for x in box]
        if not box[0].size:
            break
        if 2 * box[0].size > max_boxes or time.perf_counter() - t0 > time_limit:
            stop = "budget"
            break
        box = _split(box, scale)
    return PerStepCertificate(
        L,
        F,
        box[0].size == 0,
        done + int(box[0].size),
        rounds,
        time.perf_counter() - t0,
        min_rate,
        float(eta_star_upper(L, np.array([0.0]))[0] if eta_max is None else eta_max),
        left=int(box[0].size),
        worst_box=worst,
        stop=stop,
    )


# ---------------------------------------------------------------------------
# the zas.thm4.3 method ``class-certificate``
# ---------------------------------------------------------------------------

#: budgets for the ``class-certificate`` method of ``zas.thm4.3``
THM43_CLASS_BUDGETS: dict[str, dict[str, Any]] = {
    "quick": {"depths": [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64], "radii": [0.5, 1.0, 2.0, 5.0]},
    "standard": {"depths": list(range(1, 65)), "radii": [0.5, 1.0, 2.0, 5.0]},
    "thorough": {"depths": list(range(1, 129)), "radii": [0.5, 1.0, 2.0, 5.0, 10.0]},
}
#: its negative control: a step far above the theorem's (L = 4, F = 1: the tight step is ~0.43)
THM43_CLASS_CONTROLS: dict[str, dict[str, Any]] = {
    "eta-above-bound": {"depths": [4], "radii": [1.0], "eta": 0.5},
}


def _class_case(L: int, F: float, eta: float | None, time_limit: float) -> dict[str, Any]:
    """One ``(L, F)``: the certificate, or (when it does not close) a certified
    counterexample for the rank-one target ``F e_1 e_1^T`` at the step in question."""
    c = certify_per_step(L, F, eta_max=eta, time_limit=time_limit)
    row: dict[str, Any] = {
        "L": L,
        "F": F,
        "certified": c.certified,
        "seconds": c.seconds,
        "boxes": c.boxes,
        "min_rate": c.min_rate if math.isfinite(c.min_rate) else None,
        "eta_max": c.eta_max,
        "stop": c.stop,
    }
    if not c.certified:
        from zascheck.measure.certify_tight import violation

        step = eta if eta is not None else float(eta_star_upper(L, np.array([F]))[0])
        v = (
            violation(L, F, step, time_limit=time_limit)
            if L >= 2
            else ({"kind": "finite", "t": 1, "sigma": F, "eta": step} if step > 1.5 else None)
        )
        row["counterexample"] = v
    return row


def thm43_class_certificate(
    ctx: Any,
    *,
    depths: list[int],
    radii: list[float],
    eta: float | None = None,
    time_limit: float = 120.0,
) -> CheckResult:
    """Theorem 4.3 (ZAS paper, Sec. 4.2) for every target with ``||Phi||_F <= F``
    (every ``d``) and every ``t``, for each ``L`` in ``depths`` and ``F`` in
    ``radii``: the method ``class-certificate`` of ``zas.thm4.3`` (``ctx`` is
    the :class:`~zascheck.card.RunContext`, unused: the arithmetic is fixed).

    Each ``(L, F)`` is decided by :func:`certify_per_step` (module docstring):
    the per-mode invariant region, for every ``sigma <= F`` and every step
    ``eta <= eta*(sigma, L)``, which covers the theorem's step
    ``eta*(||Phi||_F, L)`` and every smaller one.  ``eta`` replaces the
    theorem's step by one fixed step (the negative control).  When a
    certificate does not close, a certified counterexample is sought for the
    rank-one target ``F e_1 e_1^T`` (:func:`zascheck.measure.certify_tight.violation`).
    measured = the smallest certified per-step rate ``c`` over all cases
    (``R(t+1) <= (1 - c eta) R(t)``); bound = 1/2 (the theorem's rate).
    """
    from zascheck.result import Verdict, covers

    t0 = time.perf_counter()
    rows = [_class_case(int(L), float(F), eta, time_limit) for L in depths for F in radii]
    bad = [r for r in rows if r.get("counterexample")]
    open_ = [r for r in rows if not r["certified"] and not r.get("counterexample")]
    verdict = Verdict.VIOLATED if bad else Verdict.INCONCLUSIVE if open_ else Verdict.CERTIFIED
    done = [r for r in rows if r["certified"]]
    rate = min((r["min_rate"] for r in done if r["min_rate"] is not None), default=math.nan)
    pairs = f"L in {_ranges(sorted(set(depths)))}, F in {sorted(set(radii))}"
    uni = verdict is Verdict.CERTIFIED
    step = (
        "every eta <= eta*(||Phi||_F, L) (the theorem's step and all smaller)"
        if eta is None
        else f"eta = {eta}"
    )
    res = CheckResult(
        verdict=verdict,
        measured=rate,
        bound=0.5,
        relation=">=",
        arithmetic="interval",
        precision_bits=53,
        measured_repr="smallest certified rate c: R(t+1) <= (1 - c eta) R(t)",
        scope={
            "t": covers(
                "every t >= 0 (invariant region from t = 0)"
                if uni
                else "every t >= 0 for the certified (L, F); see the cases",
                universal=uni,
            ),
            "Phi": covers(
                f"every Phi with ||Phi||_F <= F, every d, for each certified (L, F) of the "
                f"table ({len(done)}/{len(rows)}: {pairs}); not every Phi"
            ),
            "L": covers(f"L in {_ranges(sorted(set(depths)))} (the table)"),
            "eta": covers(step, universal=uni and eta is None),
        },
        evidence={
            "cases": rows,
            "seconds_total": time.perf_counter() - t0,
            "max_seconds": max(r["seconds"] for r in rows),
        },
        notes=(
            f"{len(done)}/{len(rows)} (L, F) certified by the per-mode invariant region "
            f"(vectorized interval arithmetic, outward rounding); slowest "
            f"{max(r['seconds'] for r in rows):.2f} s"
        ),
    )
    if bad:
        _mark_counterexample(res, bad[0])
    return res


def _mark_counterexample(res: CheckResult, r: dict[str, Any]) -> None:
    """Attach the first certified counterexample and report the quantity that
    carries it: a certified lower bound of ``R(t) / ((1 - eta/2)^t R(0))`` at
    it (``None`` for an asymptotic one, whose ratio provably grows past 1)."""
    res.counterexample = {
        "L": r["L"],
        "F": r["F"],
        **(r["counterexample"] or {}),
        "Phi": f"{r['F']} e_1 e_1^T (rank one, ||Phi||_F = {r['F']})",
    }
    q = (r["counterexample"] or {}).get("q2_over_bound_lo")
    res.measured, res.bound, res.relation = q, 1.0, "<="
    res.margin = None if q is None else 1.0 - q
    res.measured_repr = (
        "certified lower bound of R(t) / ((1 - eta/2)^t R(0)) at the counterexample"
        if q is not None
        else "an asymptotic counterexample: the ratio provably grows past 1 (no finite value)"
    )


def _ranges(xs: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"{1..3, 5}"``: the depths of a table, compactly."""
    out: list[str] = []
    i = 0
    while i < len(xs):
        j = i
        while j + 1 < len(xs) and xs[j + 1] == xs[j] + 1:
            j += 1
        out.append(str(xs[i]) if i == j else f"{xs[i]}..{xs[j]}")
        i = j + 1
    return "{" + ", ".join(out) + "}"
