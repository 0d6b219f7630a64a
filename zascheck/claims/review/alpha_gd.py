"""What the ``alpha I`` init does to gradient descent: the largest stable step and the
iterations to ``eps`` against ``alpha`` and ``L`` (a measured finding of this suite).

Source: CLAIMS.md section D (beyond the sources), on the reviewer's claim
``review.alpha`` (review 1 of the ZAS paper, NeurIPS 2019,
``../shared/seeds/reviews-zas-neurips2019.txt``): "one can initialize to
alpha*Id, for alpha>1 [...] R(t) \\leq \\exp(-2\\alpha^{2(L-1)}t)R(0) [...] Now we
can see that the convergence rate can be made arbitrarily large!"  That rate is
a statement about the flow's clock (``review.alpha:flow`` checks it).  Read for
GD, it would say that ``alpha`` cuts the iterations to ``eps`` as the flow's
time to ``eps`` falls.

Kind: empirical, a measured finding (no bound claimed by a source).  What the
finding asserts, and how it is decided:

    GD does not realize the flow's speed-up.  For every ``L`` and every
    ``alpha`` of the grid, the fewest GD iterations ``N*(alpha)`` to
    ``R <= eps R(0)`` at a stable step (tuned per ``alpha`` below the first
    failing step) stays above the count the flow's own speed-up predicts,
    ``N*(alpha_min) T(alpha) / T(alpha_min)``, where ``T`` is the flow's time
    to ``eps`` (measured by integration, not the reviewer's bound: the flow at
    ``alpha = 1`` beats its bound ``exp(-2t)``, so the bound's ratio
    ``alpha^{2(L-1)}`` overstates the flow's realized speed-up).

    Error budget: one iteration on each count and the two time brackets
    (:func:`zascheck.measure.reviews.count_vs_flow`).  A case where even one
    GD iteration could not fall below the prediction is not resolvable by
    counts (``N >= 1`` would decide it) and is listed, not counted; no
    resolvable case gives ``inconclusive``.

Why it should hold, and where it does not: the first GD step from alpha-ZAS
is a least-squares step in ``W_L`` with Hessian ``alpha^{2(L-1)} I`` (every
``G_l``, ``l < L``, vanishes at ``W_L = 0``): with a normalized step
``f = eta alpha^{2(L-1)}`` it multiplies ``R`` by ``(1 - f)^2``, so any
``f > 2`` makes the loss grow, and the flow's gain is spent on the step.  What
``alpha`` buys GD is a wider stable range in units of ``alpha^{-2(L-1)}``
(from alpha-ZAS with ``alpha`` near 1 the sharpness grows along the run and the
first failing ``f`` is well below 1), up to the catapult edge.  So for
``alpha`` near 1, and at ``L = 2`` (measured: standard budget, ``d = 3``), GD
keeps pace with the flow within the count budget (``inconclusive``); for
``L >= 3`` and ``alpha >= 1.5`` it falls behind (``holds``), and its count
settles at a few iterations while the flow's time keeps falling like
``alpha^{-2(L-1)}`` (those cases are not resolvable by counts).

The largest stable step is a bisection bracket ``[lo, hi]`` (GD at ``lo``
converged within ``max_steps``, at ``hi`` it did not); ``hi`` failing by
running out of steps (not by diverging) means the bracket is limited by the
step budget, and the table says so.  Convergence is not monotone in the step:
steps beyond the first failure may converge again (the catapult), and
``eta = alpha^{-2(L-1)}`` reaches ``P = Phi`` in one step from every alpha-ZAS
(checked in exact arithmetic): with that step every ``alpha``, ``alpha = 1``
included, needs one iteration.

Negative control ``common-step``: breaks "each ``alpha`` runs at its own
stable step": every ``alpha`` runs at the step tuned for the largest
``alpha``, the flow's common clock.  GD then does get the flow's speed-up
(more: at a normalized step ``f < 1`` GD contracts by ``|1 - f|`` per step,
faster than ``exp(-f)``), and the same comparison comes out ``violated``.

References: ZAS paper, eq. 2.4 (GD), Lemma 4.2; review 1 (above); upstream
defect: the former method ``review.alpha:gd`` judged GD against the flow's
``16x`` at ``alpha = 2`` while ``N*(1) = 14``, so it could never pass.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import inits
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.experiments import tune_eta
from zascheck.measure.reviews import (
    FRACTIONS_QUICK,
    FRACTIONS_STANDARD,
    GDOutcome,
    alpha_rate,
    check_rate,
    check_values,
    count_vs_flow,
    flow_time_to_eps,
    gd_outcome,
    one_step_exact,
    probe_flow,
    stable_step_bracket,
    target_text,
)
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers
from zascheck.targets import make_phi

CARD = Card(
    id="review.alpha.gd",
    section="D",
    kind="empirical",
    source="this suite (beyond the sources; CLAIMS.md section D), on review 1 of the ZAS paper",
    statement="What the alpha I init does to GD: the largest stable eta and the iterations to "
    "eps as functions of alpha and L; GD does not realize the flow's alpha speed-up.",
    bound="none",
    quantifiers=(
        Q("alpha", "alpha > 1 (layers alpha I, last layer 0), against the smallest alpha"),
        Q("L", "depths L >= 2"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("eta", "GD steps up to the largest stable one, chosen per alpha"),
        Q("eps", "the tolerance R <= eps R(0)"),
    ),
    depends_on=("review.alpha",),
    figure="alpha",
    # the report's sweeps behind this claim's figure, per report budget
    report={
        "quick": {"evidence": {"alpha_gd": {"alphas": [1.0, 1.25, 1.5, 2.0, 3.0], "depths": [3]}}},
        "standard": {
            "evidence": {
                "alpha_gd": {"alphas": [1.0, 1.1, 1.25, 1.5, 2.0, 3.0], "depths": [2, 3, 4]}
            }
        },
        "full": {
            "evidence": {
                "alpha_gd": {"alphas": [1.0, 1.1, 1.25, 1.5, 2.0, 3.0], "depths": [2, 3, 4]}
            }
        },
    },
)


def _measure(
    b: Backend,
    target: Target,
    phi_m: np.ndarray,
    L: int,
    alpha: float,
    *,
    rel_tol: float,
    max_steps: int,
    fractions: list[float],
    rel_width: float,
) -> tuple[dict[str, Any], Any]:
    """One ``(L, alpha)``: the stable-step bracket, the tuned count, the flow time.

    Returns the table row and a function ``eta -> GDOutcome`` (runs cached).
    """
    d = phi_m.shape[0]
    ws0 = inits.alpha_zas(L, d, alpha)
    rate = float(alpha_rate(alpha, L))
    cache: dict[float, GDOutcome] = {}

    def run(eta: float) -> GDOutcome:
        if eta not in cache:
            cache[eta] = gd_outcome(b, ws0, target, eta, rel_tol=rel_tol, max_steps=max_steps)
        return cache[eta]

    br = stable_step_bracket(run, 0.05 / rate, rel_width=rel_width)
    tuned = tune_eta(lambda e: run(e).iterations, [f * br.lo for f in fractions])
    ft = flow_time_to_eps(
        b, ws0, target, rel_tol=rel_tol, t_bound=math.log(1 / rel_tol) / (2 * rate)
    )
    row = {
        "alpha": alpha,
        "L": L,
        "flow_rate": rate,
        "eta_max": br.lo,
        "eta_fail": br.hi,
        "eta_max_normalized": br.lo * rate,
        "eta_fail_normalized": br.hi * rate,
        "fail_kind": br.hi_stop,
        "limited_by_step_budget": br.limited_by_budget,
        "bracket_found": br.found,
        "tuned_eta": tuned.eta,
        "tuned_eta_normalized": None if tuned.eta is None else tuned.eta * rate,
        "tuned_iterations": tuned.iterations,
        "flow_time": [ft.lo, ft.hi],
        "flow_time_found": ft.found,
        "flow_integration_error": ft.integration_error,
        "one_step_exact": one_step_exact(phi_m, L, alpha),
        "iterations_at_inverse_rate": run(1.0 / rate).iterations,
        "grid": [list(t) for t in tuned.table],
    }
    return row, (run, ft)


def _decide(rows: list[dict[str, Any]], runs: dict[float, Any], step: str) -> list[dict[str, Any]]:
    """Compare each alpha's count with the flow-predicted one (``count_vs_flow``).

    ``step = "tuned"``: each alpha at its own tuned step; ``"common"``: every
    alpha at the step tuned for the largest alpha (the negative control).
    """
    by_a = {r["alpha"]: r for r in rows}
    a_min, a_max = min(by_a), max(by_a)
    eta_c = by_a[a_max]["tuned_eta"]

    def count(a: float) -> int | None:
        if step == "tuned":
            return by_a[a]["tuned_iterations"]
        return None if eta_c is None else runs[a][0](eta_c).iterations

    out = []
    n_ref, t_ref = count(a_min), runs[a_min][1]
    for a in sorted(by_a):
        if a == a_min:
            continue
        dec = count_vs_flow(count(a), n_ref, runs[a][1], t_ref)
        flow_speedup = t_ref.lo / runs[a][1].hi if runs[a][1].found else None
        n = count(a)
        out.append(
            dec
            | {
                "L": by_a[a]["L"],
                "alpha": a,
                "alpha_min": a_min,
                "step": step,
                "eta": by_a[a]["tuned_eta"] if step == "tuned" else eta_c,
                "N_alpha_min": n_ref,
                "gd_speedup": None if not (n and n_ref) else n_ref / n,
                "flow_speedup_at_least": flow_speedup,
                "reviewer_speedup": (a / a_min) ** (2 * (by_a[a]["L"] - 1)),
            }
        )
    return out


@CARD.check(
    method="gd",
    budgets={
        "quick": {
            "alphas": [1.0, 1.5, 2.0, 3.0],
            "depths": [3],
            "d": 2,
            "phi": "gaussian",
            "rel_tol": 1e-10,
            "max_steps": 2000,
            "fractions": FRACTIONS_QUICK,
            "rel_width": 0.02,
            "step": "tuned",
        },
        "standard": {
            "alphas": [1.0, 1.5, 2.0, 3.0],
            "depths": [2, 3, 4, 5],
            "d": 3,
            "phi": "gaussian",
            "rel_tol": 1e-10,
            "max_steps": 5000,
            "fractions": FRACTIONS_STANDARD,
            "rel_width": 0.02,
            "step": "tuned",
        },
    },
    controls={"common-step": {"step": "common", "alphas": [1.0, 2.0], "depths": [3]}},
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
    rel_width: float,
    step: str,
) -> CheckResult:
    """GD from alpha-ZAS: stable-step brackets, tuned counts, and the flow comparison.

    Per ``(L, alpha)`` (float64 GD, eq. 2.4; float64 Taylor flow, eq. 4.1):
    the stable-step bracket from ``0.05 alpha^{-2(L-1)}`` (bisection to
    ``hi / lo <= 1 + rel_width``), the fewest iterations to
    ``R <= rel_tol R(0)`` over the steps ``f * lo``, ``f in fractions``, and
    the flow's time to the same tolerance.  The verdict decides the finding
    stated in the module docstring; ``step = "common"`` is the negative
    control.  Raises :class:`InputError`, before any work, for an ``alpha``
    that is not a finite number > 0, a rate the float64 steps cannot hold, or
    an unknown ``step``.
    """
    check_values(alphas, "alphas", positive=True)
    check_values(fractions, "fractions", positive=True)
    if step not in ("tuned", "common"):
        raise InputError(f"step must be 'tuned' or 'common', got {step!r}")
    for a in alphas:
        for L in depths:
            check_rate(
                alpha_rate(a, L), [0.05 * min(fractions)], f"alphas (alpha = {a:g}, L = {L})"
            )
    b = ctx.backend("float64")
    phi_m = make_phi(phi, d, ctx.rng(4))
    d = phi_m.shape[0]
    target = Target.whitened(b, phi_m)
    for a in alphas:
        for L in depths:
            t_first = 0.05 / float(alpha_rate(a, L))
            ws0 = inits.alpha_zas(L, d, a)
            probe_flow(b, ws0, target, t_first, f"alphas (alpha = {a:g}, L = {L})")
    rows, decisions = [], []
    for L in depths:
        runs: dict[float, Any] = {}
        mine = []
        for a in sorted(set(alphas)):
            row, runs[a] = _measure(
                b,
                target,
                phi_m,
                L,
                a,
                rel_tol=rel_tol,
                max_steps=max_steps,
                fractions=fractions,
                rel_width=rel_width,
            )
            mine.append(row)
        rows += mine
        if len(mine) > 1:
            decisions += _decide(mine, runs, step)
    return _result(rows, decisions, phi_m, phi, d, depths, alphas, rel_tol, max_steps, step)


def _result(
    rows: list[dict[str, Any]],
    decisions: list[dict[str, Any]],
    phi_m: np.ndarray,
    phi: Any,
    d: int,
    depths: list[int],
    alphas: list[float],
    rel_tol: float,
    max_steps: int,
    step: str,
) -> CheckResult:
    """The result: verdict over the resolvable cases, the tightest one, scope and notes."""
    counted = [x for x in decisions if x["resolvable"]]
    verdict = combine_verdicts(Verdict(x["verdict"]) for x in counted)
    tight = min(counted, key=lambda x: (x["n"] - 1) - x["n_flow"][1], default=None)
    res = CheckResult(
        verdict=verdict,
        measured=None if tight is None else float(tight["n"]),
        bound=None if tight is None else tight["n_flow_mid"],
        margin=None if tight is None else (tight["n"] - 1) - tight["n_flow"][1],
        relation=">=",
        arithmetic="float64",
        precision_bits=53,
        measured_repr="GD iterations N*(alpha) at the step chosen per alpha",
        bound_repr="flow-predicted count N*(alpha_min) T(alpha) / T(alpha_min)",
        evidence={"table": rows, "decisions": decisions, "phi": phi_m, "step": step},
        tightest=None if tight is None else {k: tight[k] for k in ("L", "alpha", "n", "n_flow")},
        notes=_notes(rows, decisions, counted, rel_tol),
        scope={
            "alpha": covers(
                f"alpha in {sorted(set(alphas))} against the smallest; decided at "
                f"{sorted({(x['L'], x['alpha']) for x in counted}) or 'none'} (L, alpha)"
            ),
            "L": covers(f"L in {list(depths)}"),
            "Phi": covers(target_text(phi, d)),
            "eta": covers(
                "per alpha, the best step f * lo over a geometric grid f in [0.05, 1] "
                "below the stable bracket [lo, hi]"
                if step == "tuned"
                else "one step for every alpha (the largest alpha's tuned step)"
            ),
            "eps": covers(f"R <= {rel_tol:g} R(0) within {max_steps} GD steps"),
        },
    )
    if verdict is Verdict.VIOLATED:
        bad = [x for x in counted if x["verdict"] == Verdict.VIOLATED.value]
        res.counterexample = bad[0] | {"phi": phi_m, "d": d}
    return res


def _notes(
    rows: list[dict[str, Any]],
    decisions: list[dict[str, Any]],
    counted: list[dict[str, Any]],
    rel_tol: float,
) -> str:
    per = "; ".join(
        f"L={r['L']} alpha={r['alpha']:g}: stable eta alpha^(2(L-1)) in "
        f"[{r['eta_max_normalized']:.3g}, {r['eta_fail_normalized']:.3g}]"
        f"{' (budget-limited)' if r['limited_by_step_budget'] else ''}, N*={r['tuned_iterations']}, "
        f"flow T in [{r['flow_time'][0]:.4g}, {r['flow_time'][1]:.4g}]"
        for r in rows
    )
    cmp_ = "; ".join(
        f"L={x['L']} alpha={x['alpha']:g}: N={x.get('n')} vs flow-predicted "
        + (f"[{x['n_flow'][0]:.3g}, {x['n_flow'][1]:.3g}]" if "n_flow" in x else "n/a")
        + (f" -> {x['verdict']}" if x["resolvable"] else " -> not counted (N >= 1 decides it)")
        for x in decisions
    )
    return (
        f"GD in float64 to R <= {rel_tol:g} R(0); flow time T by float64 Taylor integration "
        f"(estimated error). Per case: {per}. GD count vs the flow's speed-up: {cmp_}. "
        f"{len(counted)} case(s) resolvable by counts. "
        "eta = alpha^(-2(L-1)) lands on P = Phi in one step from every alpha-ZAS (exact "
        f"arithmetic: {all(r['one_step_exact'] for r in rows)}; float64 counts there: "
        f"{sorted({r['iterations_at_inverse_rate'] for r in rows}, key=str)}), also where that "
        "step lies beyond the first failing step."
    )
