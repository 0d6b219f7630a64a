"""Theorem 4.1 and the reviewers' flow variants for every ``Phi``, ``L``, ``d`` and ``t``, per mode.

Under the spectral reduction (:mod:`zascheck.measure.spectral`, proven for
every ``L`` and ``d`` by :mod:`zascheck.measure.spectral_proof`) the flow from
an aligned init is ``d`` independent scalar flows.  With hidden layers
``alpha I`` and the last layer ``c I`` (``c = 0`` for ZAS; the last layer is
``U diag(c s_i) V^T``, ``s_i = +-1``, only for a symmetric ``Phi``) each mode
keeps ``a^2 - b^2 = A := alpha^2 - c^2`` and its error obeys

    de/dt = -k e,   k = a^(2L-4) (a^2 + (L-1) b^2) = (A + b^2)^(L-2) (A + L b^2) >= A^(L-1)

(``L >= 2``; ``de/dt = -e`` at ``L = 1``), so by Gronwall
``e_i(t)^2 <= exp(-2 A^(L-1) t) e_i(0)^2`` and ``R(t) = 1/2 sum_i e_i(t)^2 <=
exp(-2 A^(L-1) t) R(0)``.  The claims this module decides:

* ``zas`` (``zas.thm4.1``, Theorem 4.1 of the ZAS paper): ``A = 1``:
  ``R(t) <= exp(-2t) R(0)``, with equality for every ``t`` exactly when
  ``L = 1`` (or ``Phi = 0``): ``k >= 1 + L b^2`` for ``L >= 2``.
* ``alpha`` (``review.alpha``): ``c = 0``, ``A = alpha^2`` symbolic:
  ``R(t) <= exp(-2 alpha^(2(L-1)) t) R(0)`` for every ``alpha > 0`` (the
  reviewer's rate; ``R(0) = 1/2 ||Phi||_F^2`` since ``b(0) = 0``).
* ``any-layer`` (``review.any-layer``): zero at layer ``k``, the others
  ``I``: the flow keeps ``b^2 - a^2 = -1`` and ``c^2 - b^2 = 1``, so ``c = a``
  (both start at 1 and ``a^2 = 1 + b^2 > 0``), and the mode's ``de/dt`` is
  exactly ZAS's (:func:`~zascheck.measure.spectral_proof.any_layer_rate_proof`):
  the same ``e(t)`` for every ``k``, hence ``exp(-2t)``.
* ``last-cI`` (``review.last-cI``): ``alpha = 1``, ``A = 1 - c^2`` symbolic
  (``|c| < 1``): ``R(t) <= exp(-2 (1 - c^2)^(L-1) t) R(0)``, ``b(0) = +-c``,
  **for symmetric Phi only**: for any other ``Phi`` the init ``c I`` is not
  aligned (``zas.spectral``'s control ``last-cI-nonsymmetric``) and this
  argument says nothing.

Each certificate is a proof chain (every identity reduced to zero by sympy)
plus a validated enclosure of the scalar flow on a grid of ``sigma``
(:func:`mode_flow_grid`): along a mode's trajectory ``b`` moves monotonically
from ``b(0)`` to ``b*`` (``f(b*) = sigma``, ``f(b) = b (A + b^2)^((L-1)/2)``),
so the time to reach ``b`` is ``t(b) = int_{b(0)}^b ds / ((sigma - f(s)) g(s))``,
``g = (A + s^2)^((L-1)/2)``, enclosed by arb's rigorous integration
(``acb.integral``), and ``e = f(b) - sigma`` is exact at ``b``.  The Gronwall
step (``d(e^2)/dt = -2k e^2 <= -2 r e^2``) is the textbook one and is stated,
not machine-checked.

Provenance: this suite (beyond the sources), after Saxe, McClelland &
Ganguli, ICLR 2014 (the mode decoupling for inits aligned with the target).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp

from zascheck.errors import InputError
from zascheck.measure import spectral_proof as sp_proofs
from zascheck.result import CheckResult, Verdict, covers
from zascheck.symbolic.proof import Proof

__all__ = [
    "FLOW_VARIANTS",
    "THM41_SPECTRAL_BUDGETS",
    "THM41_SPECTRAL_CONTROLS",
    "VARIANT_BUDGETS",
    "FlowVariant",
    "flow_certificate",
    "mode_flow_grid",
    "thm41_proofs",
    "thm41_spectral_proof",
    "variant_proofs",
]

_GRID_QUICK = {"depths": [1, 2, 3, 8], "sigmas": [0.5, 2.0], "points": 8}
_GRID_STANDARD = {
    "depths": [1, 2, 3, 5, 8, 16, 64],
    "sigmas": [0.1, 0.5, 1.0, 2.0, 5.0],
    "points": 16,
}
_GRID_THOROUGH = {
    "depths": [1, 2, 3, 4, 5, 8, 12, 16, 32, 64, 128],
    "sigmas": [0.01, 0.1, 0.5, 1.0, 2.0, 5.0, 20.0],
    "points": 24,
}

#: budgets for the ``spectral-proof`` method of ``zas.thm4.1``
THM41_SPECTRAL_BUDGETS: dict[str, dict[str, Any]] = {
    "quick": _GRID_QUICK | {"alpha": 1.0},
    "standard": _GRID_STANDARD | {"alpha": 1.0},
    "thorough": _GRID_THOROUGH | {"alpha": 1.0},
}
#: its negative control: layers alpha I with alpha < 1 (not ZAS): the rate drops below 1
THM41_SPECTRAL_CONTROLS: dict[str, dict[str, Any]] = {
    "alpha-below-1": {"alpha": 0.5, "depths": [3], "sigmas": [1.0]},
}
#: grids of the reviewers' variants (``review.alpha``, ``review.any-layer``, ``review.last-cI``)
VARIANT_BUDGETS: dict[str, dict[str, Any]] = {
    "quick": _GRID_QUICK,
    "standard": _GRID_STANDARD,
    "thorough": _GRID_THOROUGH,
}


@dataclass(frozen=True)
class FlowVariant:
    """One aligned init of the flow claims: which claim, its rate, and what is certified."""

    name: str
    claim: str
    rate: str  # the claimed rate r in R(t) <= exp(-2 r t) R(0)
    tight_at_1: bool  # the claim also says: equality for every t at L = 1
    symmetric_only: bool  # the init is aligned only for symmetric Phi


FLOW_VARIANTS: dict[str, FlowVariant] = {
    "zas": FlowVariant("zas", "zas.thm4.1", "1", True, False),
    "alpha": FlowVariant("alpha", "review.alpha", "alpha^(2(L-1))", False, False),
    "any-layer": FlowVariant("any-layer", "review.any-layer", "1", False, False),
    "last-cI": FlowVariant("last-cI", "review.last-cI", "(1 - c^2)^(L-1)", False, True),
}

_A = sp.Symbol("A", positive=True)  # 1 - c^2 for |c| < 1 (review.last-cI)


def _q(x: float) -> Any:
    """A double as an exact rational (sympy)."""
    return sp.Rational(Fraction(x).numerator, Fraction(x).denominator)


def variant_proofs(name: str, alpha: float | None = None, c: float | None = None) -> list[Proof]:
    """The proof chain of a flow variant (module docstring), every ``L``, ``d``.

    Alignment (closure + diagonals), ``R = 1/2 sum e_i^2``, the flow
    invariants, ``de/dt = -k e`` with ``k >= A^(L-1)`` (induction on
    ``L - 2``), ``A^(L-1) >=`` the claimed rate, and ``L = 1`` (``e' = -e``).
    ``alpha``, ``c`` given as numbers replace the variant's own values (the
    negative controls: then ``A^(L-1) >= rate`` may fail, and the chain does
    not close); ``None`` = the variant's (``alpha`` symbolic for ``alpha``,
    ``A = 1 - c^2`` symbolic for ``last-cI``, 1 and 0 otherwise)."""
    if name not in FLOW_VARIANTS:
        raise InputError(f"unknown flow variant {name!r}; choose one of {', '.join(FLOW_VARIANTS)}")
    al = (
        sp_proofs.alpha
        if alpha is None and name == "alpha"
        else _q(1.0 if alpha is None else alpha)
    )
    if name == "last-cI":
        A = _A if c is None and alpha is None else al**2 - _q(c or 0.0) ** 2
        base = _A if c is None else 1 - _q(c) ** 2
    else:
        A = al**2 - _q(c or 0.0) ** 2
        base = al**2 if name == "alpha" else sp.Integer(1)
    out = [*sp_proofs.closure_proofs(), *sp_proofs.diagonal_proofs(), sp_proofs.frobenius_proof()]
    out += sp_proofs.mode_fact_proofs()[:2]  # the flow invariants
    if name == "any-layer":
        out.append(sp_proofs.any_layer_rate_proof())
    out += sp_proofs.rate_proofs(A)[:-1]
    out.append(sp_proofs.rate_comparison_proof(A, base))
    out += (
        sp_proofs.tightness_proofs()
        if FLOW_VARIANTS[name].tight_at_1
        else sp_proofs.tightness_proofs()[:2]
    )
    return out


def thm41_proofs(alpha: float = 1.0) -> list[Proof]:
    """The proof chain of Theorem 4.1 through the reduction, for layers ``alpha I``
    (ZAS at ``alpha = 1``): :func:`variant_proofs` of ``zas`` (with the
    ``L = 1`` equality and ``k > 1`` for ``L >= 2``)."""
    return variant_proofs("zas", alpha=alpha)


def _f_float(b: float, L: int, a2: float) -> float:
    return b * (a2 + b * b) ** ((L - 1) / 2)


def _b_at(target: float, L: int, a2: float, lo: float, hi: float) -> float:
    """The ``b`` in ``[lo, hi]`` with ``f(b) = target`` (float bisection; ``f`` increases;
    only picks grid points, every number reported is recomputed in arb)."""
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _f_float(mid, L, a2) < target:
            lo = mid
        else:
            hi = mid
    return lo


def _b_star(sigma: float, L: int, a2: float) -> float:
    hi = max(1.0, sigma)
    while _f_float(hi, L, a2) < sigma:
        hi *= 2
    return _b_at(sigma, L, a2, -hi, hi)


def mode_flow_grid(
    L: int,
    sigma: float,
    *,
    alpha: float = 1.0,
    c: float = 0.0,
    rate_base: float | None = None,
    points: int = 16,
    prec: int = 128,
) -> list[dict[str, Any]]:
    """Validated enclosure of one mode's gradient flow from ``a = alpha``, ``b = c``
    (hidden layers ``alpha I``, last layer ``c``; ``c`` carries the sign ``s_i``)
    at ``points`` points of its trajectory, where ``e = e(0) theta`` for
    ``theta`` from ``0.9`` down to ``1e-6`` (geometrically).  ``A = alpha^2 -
    c^2`` must be positive (else :class:`InputError`).  The claimed rate is
    ``r = rate_base^(L-1)`` (default ``alpha^2``).  Each point: ``b`` (a
    double), ``t`` = arb enclosure of the time the flow reaches it, ``e2 =
    e^2``, ``bound = exp(-2 r t) e(0)^2``, ``le`` = the decided ``e2 <= bound``
    (``None`` when the balls overlap), ``apart`` = the balls are disjoint,
    ``ratio`` = upper end of ``e2 / bound``.  A mode at rest (``e(0) = 0``
    exactly) has no points: ``e(t) = 0`` for every ``t``."""
    import flint
    from flint import acb, arb

    a2f = alpha * alpha - c * c
    if not a2f > 0:
        raise InputError(f"alpha^2 - c^2 must be > 0 (a stays positive); got alpha={alpha}, c={c}")
    old = flint.ctx.prec
    flint.ctx.prec = prec
    try:
        sig, A2 = arb(sigma), arb(alpha) ** 2 - arb(c) ** 2  # doubles: exact balls
        r = (A2 + arb(c) ** 2 if rate_base is None else arb(rate_base)) ** (L - 1)

        def g(z: Any, analytic: bool) -> Any:
            if (L - 1) % 2:
                return (A2 + z * z).sqrt(analytic=analytic) ** (L - 1)
            return (A2 + z * z) ** ((L - 1) // 2)

        def inv_h(z: Any, analytic: bool) -> Any:
            gz = g(z, analytic)
            return 1 / ((sig - z * gz) * gz)

        def e_at(bv: float) -> Any:
            return arb(bv) * g(acb(arb(bv)), False).real - sig

        e0 = e_at(c)
        e0f, bs = _f_float(c, L, a2f) - sigma, _b_star(sigma, L, a2f)
        if e0f == 0.0 and e0.is_zero():
            return []  # a stationary mode: e(t) = 0 for every t
        lo, hi = min(c, bs), max(c, bs)
        out, t, b_prev = [], arb(0), c
        for j in range(points):
            theta = 0.9 * (1e-6 / 0.9) ** (j / max(points - 1, 1))
            bj = _b_at(sigma + e0f * theta, L, a2f, lo, hi)
            t = t + acb.integral(inv_h, acb(b_prev), acb(bj)).real
            e2 = e_at(bj) ** 2
            bound = (-2 * r * t).exp() * e0 * e0
            le = True if e2 <= bound else (False if e2 > bound else None)
            ratio = float((e2 / bound).upper())
            out.append(
                {
                    "b": bj,
                    "t": t,
                    "e2": e2,
                    "bound": bound,
                    "le": le,
                    "apart": not e2.overlaps(bound),
                    "ratio": ratio,
                }
            )
            b_prev = bj
        return out
    finally:
        flint.ctx.prec = old


def _grid(
    depths: list[int],
    sigmas: list[float],
    *,
    alpha: float,
    cs: list[float],
    rate_base: float | None,
    points: int,
    prec: int,
) -> list[dict[str, Any]]:
    """Every grid point of every ``(L, sigma, c)``, flattened.  A mode with an
    undecided comparison at ``L >= 2`` is rerun at twice the precision, up to
    ``4 prec`` (a steep rate, e.g. ``alpha^(2(L-1))`` at ``L = 64``, puts the
    first points at ``t ~ 1e-23``, where arb's integral at 128 bits is too
    loose); each point records the precision that decided it (``prec``)."""
    rows: list[dict[str, Any]] = []
    for L in depths:
        for s in sigmas:
            for c in cs:
                for bits in (prec, 2 * prec, 4 * prec):
                    pts = mode_flow_grid(
                        L, s, alpha=alpha, c=c, rate_base=rate_base, points=points, prec=bits
                    )
                    if L < 2 or all(p["le"] is not None for p in pts):
                        break
                rows += [{"L": L, "sigma": s, "c": c, "prec": bits, **p} for p in pts]
    return rows


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    deep = [r for r in rows if r["L"] >= 2]
    return {
        "points": len(rows),
        "points_L>=2": len(deep),
        "decided_L>=2": sum(r["le"] is not None for r in deep),
        "violated": sum(r["le"] is False for r in rows),
        "L=1_consistent": sum(not r["apart"] for r in rows if r["L"] == 1),
        "L=1_points": sum(r["L"] == 1 for r in rows),
        "max_bits": max((r["prec"] for r in rows), default=0),
        "max_ratio_is_1": any(r["ratio"] >= 1.0 and r["le"] for r in deep),
    }


def _decide(proven: bool, rows: list[dict[str, Any]], tight_at_1: bool) -> Verdict:
    """``violated`` when the enclosure decides a violation (``e^2 > bound`` anywhere,
    or, for a claimed equality at ``L = 1``, disjoint balls); ``certified`` when
    every proof reduced to zero and the enclosure decided every comparison at
    ``L >= 2`` (at ``L = 1`` the comparison is the symbolic equality, and the
    balls must overlap); ``inconclusive`` otherwise."""
    if any(r["le"] is False for r in rows):
        return Verdict.VIOLATED
    if tight_at_1 and any(r["apart"] for r in rows if r["L"] == 1):
        return Verdict.VIOLATED
    decided = all(r["le"] is not None for r in rows if r["L"] >= 2)
    consistent = not any(r["apart"] and r["L"] == 1 for r in rows)
    return Verdict.CERTIFIED if proven and decided and consistent else Verdict.INCONCLUSIVE


def _s(x: Any) -> str:
    return x.str(12, radius=True)


def _counterexample(rows: list[dict[str, Any]], init: str) -> dict[str, Any] | None:
    bad = [r for r in rows if r["le"] is False] or [r for r in rows if r["L"] == 1 and r["apart"]]
    if not bad:
        return None
    r = min(bad, key=lambda r: float(r["t"].mid()))
    return {
        "L": r["L"],
        "sigma": r["sigma"],
        "t": _s(r["t"]),
        "e2": _s(r["e2"]),
        "exp(-2 r t) e(0)^2": _s(r["bound"]),
        "Phi": f"rank one, d = 1: Phi = {'-' if r['c'] < 0 else ''}{r['sigma']}",
        "init": init + (f", last layer {r['c']:g} (signed per mode)" if r["c"] else ""),
    }


def flow_certificate(
    variant: str,
    *,
    depths: list[int],
    sigmas: list[float],
    points: int = 16,
    alpha: float | None = None,
    c: float | None = None,
    prec: int = 128,
    universal: dict[str, tuple[str, bool]],
    init: str,
) -> CheckResult:
    """Decide a flow claim for every ``t``, ``Phi`` and ``L`` from the per-mode argument.

    ``variant`` is a key of :data:`FLOW_VARIANTS`; ``alpha``, ``c`` override
    its init (negative controls; ``None`` = its own, with symbolic ``alpha``
    resp. ``c`` in the proofs and the grid run at ``alpha = 1.5`` resp.
    ``c = +-1/4``).  The result is ``certified`` when every proof of
    :func:`variant_proofs` reduced to zero and the enclosure
    (:func:`mode_flow_grid` on ``depths x sigmas x points``) decided every
    comparison (:func:`_decide`); ``violated`` on a decided violation (a
    rank-one counterexample, ``d = 1``); else ``inconclusive``.  ``universal``
    maps each quantifier of the card to what a certified result covers and
    whether that is the whole quantifier; otherwise the scope is the grid,
    never universal.  measured = the grid's
    largest ``e^2 / (exp(-2 r t) e(0)^2)`` at ``L >= 2`` (upper end); bound 1.
    """
    v = FLOW_VARIANTS[variant]
    proofs = variant_proofs(variant, alpha=alpha, c=c)
    proven = all(p.proven for p in proofs)
    run = _grid_init(variant, alpha, c)
    rows = _grid(list(depths), list(sigmas), **run, points=int(points), prec=prec)
    summary = _summary(rows)
    verdict = _decide(proven, rows, v.tight_at_1)
    deep = [r for r in rows if r["L"] >= 2] or rows
    uni = verdict is Verdict.CERTIFIED
    grid = f"grid: L in {sorted(depths)}, sigma in {sorted(sigmas)}, {points} times each"
    scope = {
        q: covers(text, universal=every) if uni else covers(grid)
        for q, (text, every) in universal.items()
    }
    unproven = [p.summary() for p in proofs if not p.proven]
    res = CheckResult(
        verdict=verdict,
        measured=max(r["ratio"] for r in deep),
        bound=1.0,
        relation="<=",
        arithmetic="symbolic + ball",
        precision_bits=max(prec, summary["max_bits"]),
        measured_repr=f"max over the grid of e(t)^2 / (exp(-2 r t) e(0)^2), r = {v.rate}, "
        "L >= 2 (upper end)",
        scope=scope,
        evidence={
            "proofs": len(proofs),
            "proven": sum(p.proven for p in proofs),
            "unproven": unproven[:6],
            "proof_names": [p.name for p in proofs],
            "grid": summary,
            "grid_init": run,
            "depths": list(depths),
            "sigmas": list(sigmas),
        },
        notes=_notes(v, proofs, summary, verdict),
    )
    res.counterexample = _counterexample(rows, init)
    return res


def _grid_init(variant: str, alpha: float | None, c: float | None) -> dict[str, Any]:
    """The init the enclosure runs (``alpha``, both signs of ``c``) and the claimed
    rate's base: ``alpha = 1.5`` for ``alpha`` and ``c = 1/4`` for ``last-cI``
    unless given (the proofs keep them symbolic)."""
    a_run = alpha if alpha is not None else (1.5 if variant == "alpha" else 1.0)
    c_run = c if c is not None else (0.25 if variant == "last-cI" else 0.0)
    if variant == "last-cI":
        base = 1.0 - c_run * c_run
    else:
        base = a_run * a_run if variant == "alpha" else 1.0
    return {"alpha": a_run, "cs": [c_run, -c_run] if c_run else [0.0], "rate_base": base}


def _notes(v: FlowVariant, proofs: list[Proof], summary: dict[str, Any], verdict: Verdict) -> str:
    out = (
        f"{sum(p.proven for p in proofs)}/{len(proofs)} proofs reduced to 0 (Gronwall's step "
        f"stated, not machine-checked); validated flow enclosure (arb acb.integral): "
        f"{summary['decided_L>=2']}/{summary['points_L>=2']} grid points with L >= 2 decided, "
        f"{summary['violated']} violated; L = 1: {summary['L=1_consistent']}/"
        f"{summary['L=1_points']} points consistent with the symbolic equality"
    )
    if verdict is Verdict.CERTIFIED:
        out += f". R(t) <= exp(-2 r t) R(0), r = {v.rate}, for every t, L and target covered"
        if v.tight_at_1:
            out += "; equality for every t exactly when L = 1 (k >= 1 + L b^2 > 1 for L >= 2, Phi != 0)"
        if summary["max_ratio_is_1"]:
            out += (
                ". The largest ratio's upper end rounds to 1 as a double (the earliest grid "
                "points, where 1 - ratio is below 2^-53); each comparison was decided in arb"
            )
    elif summary["violated"] == 0 and not all(p.proven for p in proofs):
        out += ". The proof chain does not close for this init (see unproven)"
    return out


def thm41_spectral_proof(
    ctx: Any,
    *,
    depths: list[int],
    sigmas: list[float],
    points: int = 16,
    alpha: float = 1.0,
) -> CheckResult:
    """Theorem 4.1 (ZAS paper, Sec. 4.1, eq. (4.2)) for every ``t >= 0``, ``Phi``,
    ``L >= 1`` and ``d``, with its tightness (equality for every ``t`` exactly
    when ``L = 1``), from the spectral reduction: the method ``spectral-proof``
    of ``zas.thm4.1`` (``ctx`` is the :class:`~zascheck.card.RunContext`; only
    ``ctx.bits(128)`` is read).  :func:`flow_certificate` of the ``zas``
    variant; ``alpha != 1`` runs the same path from layers ``alpha I`` (the
    negative control ``alpha-below-1``: the chain's ``alpha^(2(L-1)) >= 1``
    fails and the enclosure decides a violation).  One result for the whole
    statement (rate and tightness), no parts."""
    prec = ctx.bits(128) if hasattr(ctx, "bits") else 128
    return flow_certificate(
        "zas",
        depths=depths,
        sigmas=sigmas,
        points=points,
        alpha=None if alpha == 1.0 else alpha,
        prec=prec,
        universal={
            "t": ("every t >= 0 (symbolic: de/dt = -k e, k >= 1; Gronwall)", True),
            "Phi": ("every Phi in R^{d x d} (SVD reduction)", True),
            "L": ("every L >= 1 (symbolic L)", True),
            "d": ("every d >= 1 (free algebra)", True),
        },
        init="ZAS" if alpha == 1.0 else f"W_l = {alpha} I (l < L), W_L = 0",
    )
