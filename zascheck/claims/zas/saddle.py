"""d = 1, Phi = -1: {w_1 = ... = w_L >= 0} is a stable manifold of the saddle at 0.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 3.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import dynamics, model
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import BALL_LADDER, Escalated, Evaluation, escalate
from zascheck.result import combine_verdicts
from zascheck.measure.common import loss_error_bound
from zascheck.measure.evaluation import F64, saddle_bound
from zascheck.measure.paper import (
    _F,
    _ball_overlaps_zero,
    _on_mirror_of_m,
    _sign_kept,
    comparison_decay,
    flow_restarted,
)
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="zas.saddle",
    section="A",
    kind="empirical",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 3",
    statement="d = 1, Phi = -1: {w_1 = ... = w_L >= 0} is a stable manifold of the saddle at 0.",
    bound="none",
    quantifiers=(
        Q("t", "t >= 0 (gradient flow)"),
        Q("init", "every point of {w_1 = ... = w_L >= 0}"),
        Q("L", "every depth L >= 1"),
    ),
    depends_on=(),
    figure="fig1",
)


@CARD.check(
    method="flow",
    budgets={
        "quick": {
            "points": [
                [2.0, 2.0],
                [0.5, 0.5, 0.5],
                [1.0, 1.0, 1.0, 1.0],
                [1.5, 1.5, 1.5, 1.5, 1.5],
                [0.0, 0.0, 0.0],
            ],
            "off_manifold": [[1.0, 0.5], [1.0, 1.0, 0.5]],
            "mirrors": [[-1.0, -1.0, 1.0]],
            "times": [0.5, 1.0, 2.0, 4.0, 8.0],
            "escape_loss": 1e-6,
            "arithmetic": "ball",
        },
        "standard": {
            "points": [[w] * L for L in (2, 3, 4, 5) for w in (0.25, 1.0, 2.0)] + [[0.0] * 3],
            "off_manifold": [
                [1.0, 0.5],
                [1.0, 1.0, 0.5],
                [1.0, 1.0, 1.0, 0.5],
                [1.0, 1.0, 1.0, 1.0, 0.5],
            ],
            "mirrors": [[-1.0, -1.0, 1.0], [-0.5, -0.5, -0.5, -0.5]],
            "times": [0.5, 1.0, 2.0, 4.0, 8.0, 16.0],
            "escape_loss": 1e-6,
            "arithmetic": "ball",
        },
    },
    controls={
        # an odd number of negative layers: not in M (nor a mirror of it)
        # (|w_l| equal, so the flow keeps |w_1| = |w_2| = |w_3|, but it goes to a global min)
        "odd-negative-point": {"points": [[-0.5, 0.5, 0.5]]},
        # a point off M (w_1 != w_2)
        "off-manifold-point": {"points": [[1.0, 0.5]]},
    },
)
def saddle(
    ctx: RunContext,
    points: list[list[float]],
    off_manifold: list[list[float]],
    mirrors: list[list[float]],
    times: list[float],
    escape_loss: float,
    arithmetic: str,
) -> CheckResult:
    """Sec. 3 (ZAS paper): for ``d = 1``, ``Phi = -1``,
    ``R = (w_L ... w_1 + 1)^2 / 2`` and ``M = {w_1 = ... = w_L >= 0}`` is a
    stable manifold of the saddle at the origin: gradient flow from any point
    of M converges to 0.

    Reading formalized, for each point of ``points`` (claimed to lie in M):
    integrate the flow in ball arithmetic (``ctx.bits(64)``: the claim is
    about equalities and signs) and at every grid time require

    * it stays on M: every ``|w_i| - |w_j|`` is a ball containing 0 or is
      within the integrator's error estimate of 0 (symmetry preserved), and
      every ``w_l`` keeps its (certified) sign;
    * it converges to 0: ``|w_l(t)| <= u(t)``, the solution of
      ``u' = -u^(L-1)``, ``u(0) = max |w_l(0)|`` (:func:`comparison_decay`;
      on M ``w' = -(w^L + 1) w^(L-1) <= -w^(L-1)``, so ``u -> 0`` bounds
      ``w``), against the integrator's error estimate plus the ball radius.
      ``R(t) -> 1/2`` is reported.

    Points of ``off_manifold`` must escape: some ``D_l = w_{l+1}^2 - w_l^2``
    is certified nonzero (it is conserved, Lemma 4.2, and vanishes at the
    origin, so the flow cannot reach it) and ``R(T) <= escape_loss`` (a
    global minimum).  ``mirrors`` (an even number of sign flips of a point of
    M) are reported only: the flip preserves the product, so they converge to
    0 too - the stable manifold of the origin is the union of M and its
    ``2^(L-1) - 1`` mirrors, so a point with ``w_l < 0`` for an even number of
    layers is *not* a valid negative control.  measured = the largest
    ``|w_l(T)| / u(T)`` over ``points`` (bound 1).  Controls: a point with an
    odd number of negative layers, and a point with ``w_1 != w_2``, each
    placed in ``points``, must be caught (they go to a global minimum).
    """
    b = ctx.backend(arithmetic, 64)
    grid = sorted({float(t) for t in times if t > 0})
    T = grid[-1]
    per: dict[str, Any] = {}
    vs: list[Verdict] = []
    worst: tuple[float, str] | None = None
    bad: dict[str, Any] | None = None

    def run_point(p: list[float]) -> tuple[dynamics.FlowRun, Target]:
        tgt = Target.whitened(b, np.array([[-1.0]]))
        return dynamics.flow(b, [np.array([[float(w)]]) for w in p], tgt, [0.0, *grid]), tgt

    with b.session():
        for p in points + mirrors:
            L = len(p)
            run, tgt = run_point(p)
            u0 = max(abs(float(w)) for w in p)
            rec: dict[str, Any] = {
                "point": p,
                "t": [0.0, *grid],
                "w": [],
                "u": [],
                "R": [],
                "symmetric": [],
                "signs_kept": [],
                "below_comparison": [],
            }
            sign0 = [int(np.sign(float(w))) for w in p]
            v_pt = []
            for t, ws in zip(run.times, run.ws, strict=True):
                w = [x[0, 0] for x in ws]
                sym = all(
                    _ball_overlaps_zero(b, abs(w[i]) - abs(w[j]))
                    or abs(abs(b.to_float(w[i])) - abs(b.to_float(w[j]))) <= run.error_estimate
                    for i in range(L)
                    for j in range(i + 1, L)
                )
                signs = all(_sign_kept(b, x, s0) for x, s0 in zip(w, sign0, strict=True))
                u = comparison_decay(u0, L, t)
                mags = [abs(b.to_float(x)) for x in w]
                slack = run.error_estimate + max(b.radius(x) for x in w)
                below = (
                    decide(_F, max(mags), u, err=0.0)
                    if t == 0
                    else decide(_F, max(mags), u + slack)
                )
                rec["w"].append([b.to_float(x) for x in w])
                rec["u"].append(u)
                rec["R"].append(b.to_float(model.loss(b, ws, tgt)))
                rec["symmetric"].append(sym)
                rec["signs_kept"].append(signs)
                rec["below_comparison"].append(below.value)
                v_pt.append(below if (sym and signs) else Verdict.VIOLATED)
            v = combine_verdicts(v_pt)
            ratio = (
                max(abs(x) for x in rec["w"][-1]) / rec["u"][-1]
                if rec["u"][-1] > 0
                else (0.0 if max(abs(x) for x in rec["w"][-1]) == 0 else math.inf)
            )
            rec["ratio_at_T"] = ratio
            rec["verdict"] = v.value
            rec["on_M"] = len(set(p)) == 1 and min(p) >= 0
            rec["mirror_of_M"] = _on_mirror_of_m(p)
            key = ",".join(f"{x:g}" for x in p)
            if p in mirrors and p not in points:
                per["mirror:" + key] = rec
                continue
            per["M:" + key] = rec
            vs.append(v)
            if worst is None or ratio > worst[0]:
                worst = (ratio, key)
            if v is Verdict.VIOLATED and bad is None:
                i = next(k for k, x in enumerate(v_pt) if x is Verdict.VIOLATED)
                bad = {
                    "point": p,
                    "t": rec["t"][i],
                    "w": rec["w"][i],
                    "u": rec["u"][i],
                    "symmetric": rec["symmetric"][i],
                    "signs_kept": rec["signs_kept"][i],
                    "R_at_T": rec["R"][-1],
                    "on_M": rec["on_M"],
                }
        for p in off_manifold:
            # no symmetry to keep here: restart from midpoints to keep the balls narrow
            tgt = Target.whitened(b, np.array([[-1.0]]))
            at, errs, _n = flow_restarted(b, [np.array([[float(w)]]) for w in p], tgt, grid)
            ws_t = at[T]
            w0 = [b.scalar(float(x)) for x in p]
            dnz = [
                b.lt(b.scalar(0), abs(w0[l + 1] * w0[l + 1] - w0[l] * w0[l])) is True
                for l in range(len(p) - 1)
            ]
            r_t = model.loss(b, ws_t, tgt)
            v_r = decide(b, r_t, b.scalar(escape_loss), err=loss_error_bound(b, ws_t, tgt, errs[T]))
            v = v_r if any(dnz) else Verdict.VIOLATED
            per["off:" + ",".join(f"{x:g}" for x in p)] = {
                "point": p,
                "D_nonzero_certified": dnz,
                "R": [b.to_float(model.loss(b, at[t], tgt)) for t in [0.0, *grid]],
                "t": [0.0, *grid],
                "w_at_T": [b.to_float(x[0, 0]) for x in ws_t],
                "verdict": v.value,
            }
            vs.append(v)
            if v is Verdict.VIOLATED and bad is None:
                bad = {
                    "off_manifold_point": p,
                    "R_at_T": b.to_float(r_t),
                    "escape_loss": escape_loss,
                }
    verdict = combine_verdicts(vs)
    res = CheckResult(
        verdict=verdict,
        measured=worst[0] if worst else None,
        bound=1.0,
        margin=(1.0 - worst[0]) if worst else None,
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max over points of max_l |w_l(T)| / u(T)  (u: comparison solution -> 0)",
        evidence={"per_point": per, "T": T},
        notes=(
            f"flow to T = {T:g}; points on M stay symmetric (|w_i| - |w_j| balls contain 0) and "
            "decay below the comparison solution; off-M points certify D_l != 0 and reach "
            f"R <= {escape_loss:g}. Mirrors of M (even number of sign flips) converge to 0 "
            "too: "
            + ", ".join(f"{k}: {r['verdict']}" for k, r in per.items() if k.startswith("mirror"))
        ),
    )
    if worst:
        res.tightest = {"point": worst[1], "ratio_at_T": worst[0]}
    if verdict is Verdict.VIOLATED:
        res.counterexample = bad
    return res


# --- hypothesis property: evaluator and declarations ---


def eval_saddle(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.saddle: gradient flow from ``w_1 = ... = w_L = c >= 0`` (``d = 1``,
    ``Phi = -1``) stays on the diagonal, non-negative, below the bound
    :func:`saddle_bound` that goes to 0: it converges to the saddle."""
    w = [float(x) for x in case["w"]]
    L = len(w)
    T = float(case["T"])
    c = max(max(w), 0.0)
    u = saddle_bound(c, L, T)

    def evaluate(b: Backend) -> Evaluation:
        from zascheck.result import combine_verdicts

        run = dynamics.flow(b, [[[x]] for x in w], Target.whitened(b, [[-1.0]]), [0.0, T])
        wt = [b.to_float(m[0, 0]) for m in run.ws[-1]]
        err = run.error_estimate + 8 * L * b.unit_roundoff * max(1.0, c)
        if u > 0:
            v_bound = decide(F64, max(wt), u, err=err)
        else:  # c = 0: the saddle itself, a fixed point
            v_bound = Verdict.HOLDS if max(wt) <= err else Verdict.VIOLATED
        spread = max(wt) - min(wt)
        v_diag = Verdict.HOLDS if spread <= 2 * err else Verdict.VIOLATED
        v_sign = Verdict.HOLDS if min(wt) >= -err else Verdict.VIOLATED
        verdict = combine_verdicts([v_bound, v_diag, v_sign])
        slack = (u - max(wt)) / u if u > 0 else 1.0
        return Evaluation(
            max(wt), u, err, verdict=verdict, evidence={"slack": slack, "w_T": wt, "spread": spread}
        )

    return escalate(evaluate, ladder=BALL_LADDER[:1])


CARD.prop(
    None,
    lambda: S.saddle_cases(),
    eval_saddle,
    certify=False,
    summary="flow from w_1 = ... = w_L = c >= 0 stays on M and goes to the saddle",
)

CARD.prop(
    "off-manifold",
    lambda: S.saddle_cases(on_manifold=False),
    eval_saddle,
    certify=False,
    summary="a point off M (or c < 0 at odd L): must not go to the saddle",
)

CARD.search(examples=(4, 60, 400))
