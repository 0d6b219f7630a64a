"""Theorem 4.1 for every ``Phi``, ``L``, ``d`` and ``t``, from the per-mode argument.

Under the spectral reduction (:mod:`zascheck.measure.spectral`, proven for
every ``L`` and ``d`` by :mod:`zascheck.measure.spectral_proof`) the flow
from ZAS is ``d`` independent scalar flows, and each mode's error obeys

    de/dt = -k e,   k = (1 + b^2)^(L-2) (1 + L b^2) >= 1      (L >= 2),
    de/dt = -e                                                  (L = 1),

so ``e_i(t)^2 <= exp(-2t) sigma_i^2`` and ``R(t) = 1/2 sum_i e_i(t)^2 <=
exp(-2t) R(0)``, with equality for all ``t`` exactly when ``L = 1`` (or
``Phi = 0``).  :func:`thm41_spectral_proof` assembles the symbolic proof and
cross-checks it with a validated enclosure of the scalar flow on a grid of
``sigma``: along the mode's trajectory ``b`` increases from 0 to ``b*``
(``b* (1 + b*^2)^((L-1)/2) = sigma``), so the time to reach ``b`` is
``t(b) = int_0^b ds / ((sigma - f(s)) g(s))``, ``g = (1 + s^2)^((L-1)/2)``,
``f = s g``, enclosed by arb's rigorous integration (``acb.integral``), and
``e = f(b) - sigma`` is exact at ``b``.

Where the argument carries over (``alpha``, ``c I``, any layer):

* ``alpha I`` (``W_l = alpha I``, ``W_L = 0``, review.alpha, flow): the
  invariant is ``b^2 - a^2 = -alpha^2`` and
  ``k = (alpha^2 + b^2)^(L-2) (alpha^2 + L b^2) >= alpha^(2(L-1))``, so
  ``R(t) <= exp(-2 alpha^(2(L-1)) t) R(0)`` for every ``alpha > 0`` (the
  reviewer's rate, and for ``alpha < 1`` a rate below 1: Theorem 4.1's
  ``exp(-2t)`` then fails, which is this method's negative control).
* zero at layer ``k`` (review.any-layer): ``c = a`` along the flow and the
  mode's ``k`` is exactly ZAS's (:func:`~zascheck.measure.spectral_proof.any_layer_rate_proof`):
  the same ``R(t)`` curve, hence the same ``exp(-2t)`` bound, for every ``k``.
* ``c I`` on the last layer (review.last-cI): aligned only when ``Phi`` is
  symmetric; then ``b(0) = c s_i``, ``b^2 - a^2 = c^2 - 1`` and, by the same
  proofs with ``alpha^2`` replaced by ``1 - c^2``, ``k >= (1 - c^2)^(L-1)``
  for ``|c| < 1`` (a rate, not ``exp(-2t)``; ``R(0)`` changes too).  For a
  non-symmetric ``Phi`` the init is not aligned and this argument says
  nothing (``zas.spectral``'s control ``last-cI-nonsymmetric``).

Provenance: this suite (beyond the sources), after Saxe, McClelland &
Ganguli, ICLR 2014.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from zascheck.result import CheckResult, Verdict, combine_verdicts, covers
from zascheck.measure import spectral_proof as sp_proofs
from zascheck.symbolic.proof import Proof

__all__ = [
    "THM41_SPECTRAL_BUDGETS",
    "THM41_SPECTRAL_CONTROLS",
    "mode_flow_grid",
    "thm41_proofs",
    "thm41_spectral_proof",
]

#: budgets for the ``spectral-proof`` method of ``zas.thm4.1``
THM41_SPECTRAL_BUDGETS: dict[str, dict[str, Any]] = {
    "quick": {"depths": [1, 2, 3, 8], "sigmas": [0.5, 2.0], "points": 8, "alpha": 1.0},
    "standard": {
        "depths": [1, 2, 3, 5, 8, 16, 64],
        "sigmas": [0.1, 0.5, 1.0, 2.0, 5.0],
        "points": 16,
        "alpha": 1.0,
    },
    "thorough": {
        "depths": [1, 2, 3, 4, 5, 8, 12, 16, 32, 64, 128],
        "sigmas": [0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 20.0],
        "points": 24,
        "alpha": 1.0,
    },
}
#: its negative control: layers alpha I with alpha < 1 (not ZAS): the rate drops below 1
THM41_SPECTRAL_CONTROLS: dict[str, dict[str, Any]] = {
    "alpha-below-1": {"alpha": 0.5, "depths": [3], "sigmas": [1.0]},
}


def thm41_proofs(alpha: float = 1.0) -> list[Proof]:
    """The proof chain of Theorem 4.1 through the reduction, for layers ``alpha I``
    (ZAS at ``alpha = 1``): alignment for every ``L, d`` (closure +
    diagonals), ``R = 1/2 sum e_i^2``, the flow invariants, ``de/dt = -k e``
    with ``k >= alpha^(2(L-1))`` (and ``>= 1`` iff ``alpha >= 1``), and the
    ``L = 1`` equality."""
    a2 = Fraction(alpha).limit_denominator(10**12) ** 2
    out = [*sp_proofs.closure_proofs(), *sp_proofs.diagonal_proofs(), sp_proofs.frobenius_proof()]
    out += sp_proofs.mode_fact_proofs()[:2]  # the flow invariants
    out += sp_proofs.rate_proofs(str(a2))
    out += sp_proofs.tightness_proofs()
    return out


def _f_float(b: float, L: int, a2: float) -> float:
    return b * (a2 + b * b) ** ((L - 1) / 2)


def _b_at(target: float, L: int, a2: float) -> float:
    """The ``b`` with ``f(b) = target`` (float bisection; only picks grid points)."""
    lo, hi = 0.0, max(1.0, target)
    while _f_float(hi, L, a2) < target:
        hi *= 2
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _f_float(mid, L, a2) < target:
            lo = mid
        else:
            hi = mid
    return lo


def mode_flow_grid(
    L: int, sigma: float, *, alpha: float = 1.0, points: int = 16, prec: int = 128
) -> list[dict[str, Any]]:
    """Validated enclosure of one mode's gradient flow from ``a = alpha``,
    ``b = 0`` at ``points`` points of its trajectory, chosen where
    ``e = -sigma theta`` for ``theta`` from ``0.9`` down to ``1e-6``
    (geometrically).  Each point: ``b`` (a double, exact), ``t`` = arb
    enclosure of the time the flow reaches it, ``e2 = e^2`` (exact up to arb
    rounding), ``bound = exp(-2t) sigma^2``, and ``le`` = the decided
    ``e2 <= bound`` (``None`` when the balls overlap); ``ratio`` = upper end
    of ``e2 / bound``."""
    import flint
    from flint import acb, arb

    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        sig, A2 = arb(sigma), arb(alpha) ** 2  # doubles: exact balls

        def g(z: Any, analytic: bool) -> Any:
            if (L - 1) % 2:
                return (A2 + z * z).sqrt(analytic=analytic) ** (L - 1)
            return (A2 + z * z) ** ((L - 1) // 2)

        def inv_h(z: Any, analytic: bool) -> Any:
            gz = g(z, analytic)
            return 1 / ((sig - z * gz) * gz)

        out, t, b_prev = [], arb(0), 0.0
        for j in range(points):
            theta = 0.9 * (1e-6 / 0.9) ** (j / max(points - 1, 1))
            bj = _b_at(sigma * (1 - theta), L, float(alpha) ** 2)
            t = t + acb.integral(inv_h, acb(b_prev), acb(bj)).real
            zb = arb(bj)
            e = zb * g(acb(zb), False).real - sig
            e2, bound = e * e, (-2 * t).exp() * sig * sig
            le = True if e2 <= bound else (False if e2 > bound else None)
            ratio = float((e2 / bound).upper())
            out.append({"b": bj, "t": t, "e2": e2, "bound": bound, "le": le, "ratio": ratio})
            b_prev = bj
        return out
    finally:
        flint.ctx.prec = old


def _grid(
    depths: list[int], sigmas: list[float], alpha: float, points: int, prec: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every grid point of every ``(L, sigma)``, flattened, and a summary."""
    rows = []
    for L in depths:
        for s in sigmas:
            for pt in mode_flow_grid(L, s, alpha=alpha, points=points, prec=prec):
                rows.append({"L": L, "sigma": s, **pt})
    deep = [r for r in rows if r["L"] >= 2]
    return rows, {
        "points": len(rows),
        "points_L>=2": len(deep),
        "decided_L>=2": sum(r["le"] is not None for r in deep),
        "violated": sum(r["le"] is False for r in rows),
        "L=1_consistent": sum(r["e2"].overlaps(r["bound"]) for r in rows if r["L"] == 1),
    }


def _rate_part(proven: bool, rows: list[dict[str, Any]], alpha: float) -> CheckResult:
    bad = [r for r in rows if r["le"] is False]
    deep = [r for r in rows if r["L"] >= 2] or rows
    worst = max(deep, key=lambda r: r["ratio"])
    if bad:
        verdict = Verdict.VIOLATED
    elif proven:
        verdict = Verdict.CERTIFIED
    else:
        verdict = Verdict.INCONCLUSIVE
    res = CheckResult(
        verdict=verdict,
        measured=worst["ratio"],
        bound=1.0,
        relation="<=",
        part="rate",
        arithmetic="symbolic + ball",
        precision_bits=0,
        measured_repr="max over the grid of e(t)^2 / (exp(-2t) sigma^2), L >= 2 (upper end)",
        notes=(
            "R(t) <= exp(-2t) R(0) for every t, Phi, L, d: symbolic (reduction + k >= 1)"
            if verdict is Verdict.CERTIFIED
            else f"the proof does not close for layers alpha I with alpha = {alpha}"
            if not proven
            else ""
        ),
    )
    if bad:
        r = min(bad, key=lambda r: float(r["t"].mid()))
        res.counterexample = {
            "L": r["L"],
            "sigma": r["sigma"],
            "t": _s(r["t"]),
            "e2": _s(r["e2"]),
            "exp(-2t) sigma^2": _s(r["bound"]),
            "Phi": f"sigma * e_1 e_1^T (d = 1: Phi = {r['sigma']})",
            "init": f"W_l = {alpha} I (l < L), W_L = 0",
        }
    return res


def _tight_part(proven: bool, rows: list[dict[str, Any]]) -> CheckResult:
    l1 = [r for r in rows if r["L"] == 1]
    apart = [r for r in l1 if not r["e2"].overlaps(r["bound"])]
    dev = max((abs(float((r["e2"] / r["bound"] - 1).mid())) for r in l1), default=0.0)
    verdict = Verdict.VIOLATED if apart else (Verdict.CERTIFIED if proven else Verdict.INCONCLUSIVE)
    res = CheckResult(
        verdict=verdict,
        measured=dev,
        bound=0.0,
        relation="<=",
        part="tight-at-L=1",
        arithmetic="symbolic + ball",
        precision_bits=0,
        measured_repr="max |e^2 / (exp(-2t) sigma^2) - 1| on the L = 1 grid (midpoints)",
        notes="L = 1: e(t) = -sigma exp(-t) (symbolic), so R(t) = exp(-2t) R(0) for every t; "
        "for L >= 2 and Phi != 0 the inequality is strict for t > 0 (k >= 1 + L b^2)",
    )
    if apart:
        r = apart[0]
        res.counterexample = {
            "L": 1,
            "sigma": r["sigma"],
            "t": _s(r["t"]),
            "e2": _s(r["e2"]),
            "exp(-2t) sigma^2": _s(r["bound"]),
        }
    return res


def _s(x: Any) -> str:
    return x.str(12, radius=True)


def thm41_spectral_proof(
    ctx: Any,
    *,
    depths: list[int],
    sigmas: list[float],
    points: int = 16,
    alpha: float = 1.0,
) -> CheckResult:
    """Theorem 4.1 (ZAS paper, Sec. 4.1) for every ``t >= 0``, ``Phi``, ``L >= 1``
    and ``d``, from the spectral reduction: the method ``spectral-proof`` of
    ``zas.thm4.1`` (``ctx`` is the :class:`~zascheck.card.RunContext`; only
    ``ctx.bits(128)`` is read).

    Two parts: ``rate`` (``R(t) <= exp(-2t) R(0)``) and ``tight-at-L=1``
    (equality for every ``t`` at ``L = 1``).  Each is ``certified`` with
    universal scope on ``t``, ``Phi``, ``L``, ``d`` exactly when every proof of
    :func:`thm41_proofs` reduced to zero and the grid (``depths`` x ``sigmas``
    x ``points``, :func:`mode_flow_grid`) shows no violation; a grid point
    where ``e^2 > exp(-2t) sigma^2`` is decided by the enclosure is a
    certified counterexample (rank-one ``Phi = sigma e_1 e_1^T``).
    ``alpha != 1`` runs the same path from layers ``alpha I`` (the negative
    control ``alpha-below-1``).  measured = the grid's largest
    ``e^2 / (exp(-2t) sigma^2)`` (upper end) at ``L >= 2``; bound 1.
    """
    prec = ctx.bits(128) if hasattr(ctx, "bits") else 128
    proofs = thm41_proofs(alpha)
    proven = all(p.proven for p in proofs)
    rows, summary = _grid(list(depths), list(sigmas), float(alpha), int(points), prec)
    parts = [_rate_part(proven, rows, alpha), _tight_part(proven and alpha == 1.0, rows)]
    verdict = combine_verdicts(p.verdict for p in parts)
    uni = verdict is Verdict.CERTIFIED
    scope = {
        "t": covers(
            "every t >= 0 (symbolic: de/dt = -k e, k >= 1)"
            if uni
            else f"grid of {summary['points']} times",
            universal=uni,
        ),
        "Phi": covers(
            "every Phi in R^{d x d} (SVD reduction)" if uni else f"sigma in {sorted(sigmas)}",
            universal=uni,
        ),
        "L": covers(
            "every L >= 1 (symbolic L)" if uni else f"L in {sorted(depths)}", universal=uni
        ),
        "d": covers("every d >= 1 (free algebra)" if uni else "d = 1 (per mode)", universal=uni),
    }
    for p in parts:
        p.scope = dict(scope)
    unproven = [p.summary() for p in proofs if not p.proven]
    res = CheckResult(
        verdict=verdict,
        measured=parts[0].measured,
        bound=1.0,
        relation="<=",
        arithmetic="symbolic + ball",
        precision_bits=prec,
        parts=parts,
        scope=scope,
        measured_repr=parts[0].measured_repr,
        evidence={
            "proofs": len(proofs),
            "proven": sum(p.proven for p in proofs),
            "unproven": unproven[:6],
            "grid": summary,
            "depths": list(depths),
            "sigmas": list(sigmas),
            "alpha": alpha,
        },
        notes=f"{sum(p.proven for p in proofs)}/{len(proofs)} proofs reduced to 0; validated "
        f"flow enclosure: {summary['decided_L>=2']}/{summary['points_L>=2']} grid points "
        f"with L >= 2 decided, {summary['violated']} violated; L = 1: "
        f"{summary['L=1_consistent']} points consistent with equality",
    )
    res.counterexample = parts[0].counterexample or parts[1].counterexample
    return res
