"""Layers alpha I (alpha > 1), last 0: R(t) <= exp(-2 alpha^{2(L-1)} t) R(0); 'the rate can be made arbitrarily large'.

Source: reviews of the ZAS paper (NeurIPS 2019), review 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zascheck import experiments, inits, model
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.result import combine_verdicts
from zascheck.measure.common import flow_decay
from zascheck.measure.reviews import (
    _FLOW_NOTE,
    _FRACTIONS_QUICK,
    _FRACTIONS_STANDARD,
    _frac,
    _one_step_exact,
)
from zascheck.measure.symbolic import _certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

CARD = Card(
    id="review.alpha",
    section="B",
    kind="inequality + empirical",
    source="reviews of the ZAS paper (NeurIPS 2019), review 1",
    statement="Layers alpha I (alpha > 1), last 0: R(t) <= exp(-2 alpha^{2(L-1)} t) R(0); 'the rate can be made arbitrarily large'.",
    bound="upper",
    quantifiers=(
        Q("t", "t >= 0 (gradient flow)"),
        Q("alpha", "every alpha > 1"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
    ),
    proofs=proof_sets.alpha,
    depends_on=("zas.lemma4.2",),
    figure="alpha",
)


@CARD.check(
    method="flow",
    budgets={
        "quick": {
            "alphas": [1.25, 1.5, 2.0],
            "depths": [2, 3],
            "d": 2,
            "phi": "gaussian",
            "taus": [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0],
            "arithmetic": "ball",
            "extra_power": 0,
        },
        "standard": {
            "alphas": [1.1, 1.25, 1.5, 2.0],
            "depths": [2, 3, 4, 5],
            "d": 3,
            "phi": "gaussian",
            "taus": [0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0],
            "arithmetic": "ball",
            "extra_power": 0,
        },
    },
    controls={
        # claim the rate alpha^{2L} (exponent off by one layer): larger than the t = 0 rate
        "rate-alpha^2L": {"extra_power": 2, "alphas": [1.5], "depths": [3]},
    },
    accepts_phi=True,
)
def alpha_flow(
    ctx: RunContext,
    alphas: list[float],
    depths: list[int],
    d: int,
    phi: Any,
    taus: list[float],
    arithmetic: str,
    extra_power: int,
) -> CheckResult:
    """Review 1 of the ZAS paper: "instead of initializing to Id, one can
    initialize to alpha*Id, for alpha>1 ... R(t) <= exp(-2 alpha^{2(L-1)} t) R(0)
    ... this alpha*Id initialization doesn't change R(0)".

    Reading formalized: ``W_l(0) = alpha I`` (``l < L``), ``W_L(0) = 0``;
    for every ``alpha``, ``L`` and the target ``phi``, gradient flow satisfies
    ``R(t) <= exp(-2 r t) R(0)`` with ``r = alpha^{2(L-1)}`` on the grid
    ``t = tau / r`` (the rate is huge, so times are scaled by ``1/r``), and
    ``R(0) = 1/2 ||Phi||_F^2`` as for ZAS (compared exactly).  Why:
    ``D_{L-1} = -alpha^2 I``, other ``D_l = 0``, so
    ``W_{L-1:1}W_{L-1:1}^T = (alpha^2 I + W_L^T W_L)^{L-1} >= alpha^{2(L-1)} I``.
    The bound is tight at ``t = 0`` (only ``G_L`` is nonzero there), so any
    larger rate fails for small ``t``: the control claims ``alpha^{2L}``.
    measured = max ratio over all cases; bound 1.
    """
    b = ctx.backend(arithmetic, 128)
    phi_m = make_phi(phi, d, ctx.rng(4))
    d = phi_m.shape[0]
    per: dict[str, Any] = {}
    verdicts: list[Verdict] = []
    worst: tuple[float, dict[str, Any]] | None = None
    ex = ctx.backend("exact")
    tgt_ex = Target.whitened(ex, phi_m)
    r0_same = True
    with b.session():
        target = Target.whitened(b, phi_m)
        for a in alphas:
            for L in depths:
                r = _frac(a) ** (2 * (L - 1) + extra_power)
                times = [float(_frac(t) / r) for t in taus]
                ws0 = inits.alpha_zas(L, d, a)
                r0_a = model.loss(ex, [ex.matrix(w) for w in ws0], tgt_ex)
                r0_z = model.loss(ex, [ex.matrix(w) for w in inits.zas(L, d)], tgt_ex)
                r0_same = r0_same and r0_a == r0_z
                m = flow_decay(b, ws0, target, times, r)
                verdicts.append(m.verdict)
                per[f"alpha{a}_L{L}"] = m.evidence() | {
                    "rate": float(r),
                    "taus": list(taus),
                    "verdict": m.verdict.value,
                    "max_ratio": m.max_ratio,
                }
                if worst is None or m.max_ratio > worst[0]:
                    worst = (
                        m.max_ratio,
                        {
                            "alpha": a,
                            "L": L,
                            "t": m.times[m.worst],
                            "tau": m.times[m.worst] * float(r),
                            "ratio": m.max_ratio,
                            "rate": float(r),
                        },
                    )
    verdicts.append(Verdict.CERTIFIED if r0_same else Verdict.VIOLATED)
    verdict = combine_verdicts(verdicts)
    assert worst is not None
    res = CheckResult(
        verdict=verdict,
        measured=worst[0],
        bound=1.0,
        margin=1.0 - worst[0],
        relation="<=",
        arithmetic=b.name,
        precision_bits=b.prec,
        method="flow",
        measured_repr=(
            f"max over (alpha, L, t) of R(t)/(exp(-2 alpha^(2(L-1)+{extra_power}) t)R(0))"
        ),
        evidence={
            "per_case": per,
            "phi": phi_m,
            "R0_equals_ZAS_R0_exactly": r0_same,
            "extra_power": extra_power,
        },
        tightest=dict(worst[1]),
        notes=_FLOW_NOTE + f" R(0) equal to the ZAS R(0) in exact arithmetic: {r0_same}. "
        "The ratio tends to 1 as t -> 0: the rate alpha^(2(L-1)) is the exact initial rate.",
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = worst[1] | {"phi": phi_m, "d": d, "extra_power": extra_power}
    return res


@CARD.check(
    method="gd",
    budgets={
        "quick": {
            "alphas": [1.0, 2.0],
            "depths": [3],
            "d": 2,
            "phi": "gaussian",
            "rel_tol": 1e-10,
            "max_steps": 1500,
            "fractions": _FRACTIONS_QUICK,
        },
        "standard": {
            "alphas": [1.0, 1.1, 1.25, 1.5, 2.0],
            "depths": [2, 3, 4, 5],
            "d": 3,
            "phi": "gaussian",
            "rel_tol": 1e-10,
            "max_steps": 5000,
            "fractions": _FRACTIONS_STANDARD,
        },
    },
    accepts_phi=True,
)
def alpha_gd(
    ctx: RunContext,
    alphas: list[float],
    depths: list[int],
    d: int,
    phi: Any,
    rel_tol: float,
    max_steps: int,
    fractions: list[float],
) -> CheckResult:
    """Review 1 of the ZAS paper: with layers ``alpha I`` the flow rate is
    ``alpha^{2(L-1)}`` "so the convergence rate can be made arbitrarily large".
    This method asks what that implies for gradient descent.

    Reading formalized: for each ``L``, let ``N*(alpha)`` be the fewest GD
    iterations to ``R <= rel_tol R(0)`` over the step grid
    ``eta = f * eta_max(alpha)``, ``f in fractions``, where ``eta_max(alpha)``
    is the largest step at which GD from alpha-ZAS converges within
    ``max_steps`` (:func:`zascheck.experiments.max_stable_eta`, bracketing up
    from ``0.3 alpha^{-2(L-1)}``, a start that is no power-of-two multiple of the
    one-step point below).  The claim carried over to GD says the
    iteration count falls as the rate rises: measured = speedup
    ``N*(alpha_min) / N*(alpha_max)``, bound = the flow speedup
    ``(alpha_max/alpha_min)^{2(L-1)}``, relation ``>=``; the error budget is one
    iteration on either count.  The evidence has ``eta_max``, its
    normalization ``eta_max alpha^{2(L-1)}``, the tuned step and count, and the
    count at the fixed normalized step ``eta = 0.5 alpha^{-2(L-1)}``.  It also
    records that ``eta = alpha^{-2(L-1)}`` reaches ``P = Phi`` in one step
    (exact arithmetic), for every ``alpha``.
    """
    b = ctx.backend("float64")
    phi_m = make_phi(phi, d, ctx.rng(4))
    d = phi_m.shape[0]
    target = Target.whitened(b, phi_m)
    rows: list[dict[str, Any]] = []
    per_depth: dict[int, dict[float, dict[str, Any]]] = {}
    for L in depths:
        per_depth[L] = {}
        for a in alphas:
            ws0 = inits.alpha_zas(L, d, a)
            scale = float(_frac(a) ** (2 * (L - 1)))

            def iters(eta: float, ws0: list[np.ndarray] = ws0) -> int | None:
                return experiments.iterations_to_eps(
                    b, ws0, target, eta, rel_tol=rel_tol, max_steps=max_steps
                )

            st = experiments.max_stable_eta(
                lambda e: iters(e) is not None, 0.3 / scale, rel_width=0.02
            )
            tuned = experiments.tune_eta(iters, [f * st.eta for f in fractions])
            row = {
                "alpha": a,
                "L": L,
                "eta_max": st.eta,
                "eta_max_normalized": st.eta * scale,
                "eta_fail": st.eta_fail,
                "tuned_eta": tuned.eta,
                "tuned_iterations": tuned.iterations,
                "iterations_at_half_inverse_rate": iters(0.5 / scale),
                "iterations_at_inverse_rate": iters(1.0 / scale),
                "flow_rate": scale,
                "one_step_exact": _one_step_exact(phi_m, L, a),
                "grid": [list(t) for t in tuned.table],
            }
            rows.append(row)
            per_depth[L][a] = row
    a_lo, a_hi = min(alphas), max(alphas)
    verdicts, worst = [], None
    speedups: dict[int, tuple[float, str]] = {}
    for L, by_a in per_depth.items():
        n_lo, n_hi = by_a[a_lo]["tuned_iterations"], by_a[a_hi]["tuned_iterations"]
        predicted = float((_frac(a_hi) / _frac(a_lo)) ** (2 * (L - 1)))
        if n_lo is None or n_hi is None:
            verdicts.append(Verdict.INCONCLUSIVE)
            continue
        speedup = n_lo / n_hi
        speedups[L] = (predicted, f"{n_lo}/{n_hi} = {speedup:.3g}")
        err = speedup * (1 / n_lo + 1 / n_hi)
        v = decide(b, speedup, predicted, relation=">=", err=err)
        verdicts.append(v)
        cand = (speedup / predicted, L, speedup, predicted, n_lo, n_hi, err)
        if worst is None or cand[0] < worst[0]:
            worst = cand
    verdict = combine_verdicts(verdicts)
    res = CheckResult(
        verdict=verdict,
        measured=None if worst is None else worst[2],
        bound=None if worst is None else worst[3],
        margin=None if worst is None else worst[2] - worst[3],
        relation=">=",
        arithmetic=b.name,
        precision_bits=b.prec,
        method="gd",
        measured_repr=f"N*(alpha={a_lo}) / N*(alpha={a_hi}) at the tuned step",
        bound_repr="flow speedup (alpha_max/alpha_min)^(2(L-1))",
        evidence={"table": rows, "phi": phi_m},
        notes=(
            "GD in float64; iteration counts are integers, error budget one iteration each. "
            "Per (L, alpha): eta_max * alpha^(2(L-1)), tuned N*, N at eta = 0.5 alpha^(-2(L-1)): "
            + "; ".join(
                f"L={r['L']} alpha={r['alpha']}: {r['eta_max_normalized']:.3g}, "
                f"N*={r['tuned_iterations']}, {r['iterations_at_half_inverse_rate']}"
                for r in rows
            )
            + ". Flow speedup vs measured GD speedup per depth: "
            + "; ".join(f"L={L}: {s_[0]:.3g} vs {s_[1]}" for L, s_ in speedups.items())
            + ". eta = alpha^(-2(L-1)) lands on P = Phi in one step from any alpha-ZAS (exact "
            f"arithmetic: {all(r['one_step_exact'] for r in rows)}; float64 counts at that step: "
            f"{sorted({r['iterations_at_inverse_rate'] for r in rows}, key=str)}): every G_l "
            "with l < L vanishes at W_L = 0, so the first step solves a linear least-squares "
            "problem exactly, even where that step lies beyond the first divergence edge eta_max. "
            "A perfect tuner thus gets N* = 1 for every alpha (speedup 1); and since N* >= 1, "
            "no alpha can speed GD up by more "
            "than N*(alpha_min)."
        ),
    )
    if worst is not None:
        res.tightest = {
            "L": worst[1],
            "speedup": worst[2],
            "predicted": worst[3],
            "N_alpha_min": worst[4],
            "N_alpha_max": worst[5],
        }
        if verdict is Verdict.VIOLATED:
            res.counterexample = res.tightest | {"alpha_min": a_lo, "alpha_max": a_hi, "phi": phi_m}
    return res


@CARD.check(
    method="symbolic",
    budgets={"quick": {"L_max": 5, "wrong": None}, "standard": {"L_max": 7, "wrong": None}},
    controls={"exponent": {"wrong": "exponent"}},
)
def alpha_symbolic(ctx: RunContext, *, L_max: int, wrong: str | None) -> CheckResult:
    """Layers alpha I, last 0: the identities behind exp(-2 alpha^{2(L-1)} t).

    Claim: review.alpha (ZAS reviews, review 1).  Reading formalized (flow part
    only): D_{L-1}(0) = -alpha^2 I, so W_{L-1:1}W_{L-1:1}^T = (alpha^2 I + W_L^T W_L)^{L-1}
    >= alpha^{2(L-1)} I (Gram sum), and E(0) = -Phi for every alpha (R(0) unchanged).
    Explicit L <= L_max, symbolic alpha.  The GD consequences are not symbolic.
    """
    return _certify(
        CARD.proofs(L_max=L_max, wrong=wrong),
        route="substitution, rewriting modulo the conserved D_l, Gram-sum expansion",
        notes=f"Explicit L <= {L_max}, symbolic alpha > 0. Gives ||G_L||^2 >= "
        "2 alpha^{2(L-1)} R (square layers), hence the reviewer's flow rate; "
        "what it means for GD (step size) is not covered here.",
    )
