"""Sec. 3 of the ZAS paper: the symmetric set M is a stable manifold of the saddle at 0.

Source: Wu, Wang & Ma, "Global Convergence of Gradient Descent for Deep Linear
Residual Networks", NeurIPS 2019, Sec. 3, eq. (3.2), after [18] (Shamir 2018):

    "consider the following optimization problem for one-dimensional linear
    network with target Phi = -1:  R(w_1, ..., w_L) = (w_L w_{L-1} ... w_1 + 1)^2 / 2.
    (3.2)  The origin O(0, ..., 0) is a saddle point of R [...].  In addition,
    M = {(w_1, ..., w_L) : w_1 = w_2 = ... = w_L >= 0} is a stable manifold of
    O, i.e., gradient flow starting from any point in M will converge to O."

Kind: empirical (a statement about the flow for every point of M and every
``t``, checked along the integrated flow).  Bound: none (a convergence
statement, not an inequality with a constant).

Reading formalized: ``d = 1``, ``Phi = -1``, ``L >= 2`` (for ``L = 1`` the
origin is not a critical point: ``R'(0) = 1``, the flow leaves M towards
``w = -1``; the paper's "saddle" needs ``L >= 2``).  "Converges to O" is
checked through the comparison solution: on M the flow reduces to ``w' =
-(w^L + 1) w^(L-1) <= -w^(L-1)`` (every layer has the same derivative), so
``0 <= w(t) <= u(t)`` with ``u' = -u^(L-1)``, ``u -> 0``
(:func:`zascheck.measure.flow.comparison_decay`).  The check follows the flow
(ball arithmetic, Taylor method) from each given point and requires, at every
grid time, that it stays on M (``|w_i| = |w_j|`` and every sign kept, within
the integrator's per-layer error estimates) and below ``u``.  Not formalized:
that M is the *whole* stable manifold: its mirrors (an even number of sign
flips, which keep the product and hence the flow) converge to O too, and are
reported; points off M and its mirrors conserve some ``D_l = w_{l+1}^2 -
w_l^2 != 0`` (Lemma 4.2), which vanishes at O, so they cannot converge to O
(reported, certified by that conservation law).

References: ZAS paper Sec. 3 and Fig. 1 (zas.fig1); Shamir 2018 (shamir.lower);
the conservation law is zas.lemma4.2.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zascheck import dynamics, model
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import BALL_LADDER, Escalated, Evaluation, escalate
from zascheck.measure.evaluation import F64, saddle_bound
from zascheck.measure.flow import comparison_decay, on_mirror_of_m
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers, decide

CARD = Card(
    id="zas.saddle",
    section="A",
    kind="empirical",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 3, eq. (3.2)",
    statement="d = 1, Phi = -1: {w_1 = ... = w_L >= 0} is a stable manifold of the saddle at 0.",
    bound="none",
    quantifiers=(
        Q("t", "every t >= 0 (gradient flow), and the limit t -> infinity"),
        Q("init", "every point of M = {w_1 = ... = w_L >= 0}"),
        Q("L", "every depth L >= 2"),
    ),
    depends_on=("zas.lemma4.2",),
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
    arithmetic: str,
) -> CheckResult:
    """Sec. 3: gradient flow from each of ``points`` (claimed in M) stays on M
    and below the comparison solution ``u(t) -> 0`` at every grid time.

    Flow in ball arithmetic at ``ctx.bits(64)`` bits (the claim is about
    equalities and signs); at each time, with ``dw_l`` the integrator's error
    estimate of layer ``l``: ``| |w_i| - |w_j| | <= dw_i + dw_j`` (symmetry),
    no ``w_l`` certainly across 0 by more than ``dw_l`` (signs), and
    ``max_l |w_l| <= u(t) + dw`` (:func:`comparison_decay`), each decided in
    the working arithmetic.  measured = the largest ``max_l |w_l(T)| / u(T)``
    over the points (bound 1): how far below its comparison bound the flow
    ends.  ``mirrors`` and ``off_manifold`` are reported, not judged (see the
    module docstring).  Controls: a point with an odd number of negative
    layers, and a point with ``w_1 != w_2``, placed in ``points``, must be
    caught (they leave M for a global minimum).
    """
    b = ctx.backend(arithmetic, 64)
    grid = sorted({float(t) for t in times if t > 0})
    with b.session():
        on = {_key(p): _on_point(b, p, grid) for p in points}
        mir = {_key(p): _on_point(b, p, grid) for p in mirrors if p not in points}
        off = {_key(p): _off_point(b, p, grid) for p in off_manifold}
    return _saddle_result(b, on, mir, off, points, grid)


def _key(p: list[float]) -> str:
    return ",".join(f"{x:g}" for x in p)


def _flow_1d(b: Backend, p: list[float], grid: list[float]) -> tuple[dynamics.FlowRun, Target]:
    tgt = Target.whitened(b, np.array([[-1.0]]))
    return dynamics.flow(b, [np.array([[float(w)]]) for w in p], tgt, [0.0, *grid]), tgt


def _on_point(b: Backend, p: list[float], grid: list[float]) -> dict[str, Any]:
    """The flow from ``p`` at every grid time: on M (symmetry, signs) and
    below the comparison solution, each with its verdict."""
    L = len(p)
    run, tgt = _flow_1d(b, p, grid)
    u0 = max(abs(float(w)) for w in p)
    sign0 = [int(np.sign(float(w))) for w in p]
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
    vs = []
    for t, ws, lerr in zip(run.times, run.ws, run.layer_errors, strict=True):
        w = [x[0, 0] for x in ws]
        sym = not any(
            b.lt(lerr[i] + lerr[j], abs(abs(w[i]) - abs(w[j]))) is True
            for i in range(L)
            for j in range(i + 1, L)
        )
        signs = not any(
            b.lt(b.scalar(0), -s0 * x - dw) is True if s0 else b.lt(dw, abs(x)) is True
            for x, s0, dw in zip(w, sign0, lerr, strict=True)
        )
        u = comparison_decay(u0, L, t) * (1 + 2.0**-48)  # the double's rounding, widened
        top = max((abs(x) + dw for x, dw in zip(w, lerr, strict=True)), key=b.to_float)
        below = (
            Verdict.HOLDS
            if b.le(top, b.scalar(u)) is True
            else Verdict.VIOLATED
            if b.lt(b.scalar(u), top - 2 * max(lerr, key=b.to_float)) is True
            else Verdict.INCONCLUSIVE
        )
        rec["w"].append([b.to_float(x) for x in w])
        rec["u"].append(u)
        rec["R"].append(b.to_float(model.loss(b, ws, tgt)))
        rec["symmetric"].append(sym)
        rec["signs_kept"].append(signs)
        rec["below_comparison"].append(below.value)
        vs.append(below if (sym and signs) else Verdict.VIOLATED)
    rec["verdicts"] = [v.value for v in vs]
    rec["verdict"] = combine_verdicts(vs).value
    wt, ut = max(abs(x) for x in rec["w"][-1]), rec["u"][-1]
    rec["ratio_at_T"] = wt / ut if ut > 0 else 0.0
    rec["on_M"] = len(set(p)) == 1 and min(p) >= 0
    rec["mirror_of_M"] = on_mirror_of_m(p)
    return rec


def _off_point(b: Backend, p: list[float], grid: list[float]) -> dict[str, Any]:
    """A point off M: some ``D_l = w_{l+1}^2 - w_l^2`` certified nonzero (it is
    conserved, Lemma 4.2, and 0 at O: the flow never reaches O), and where
    the flow goes (``R(t)``, reported)."""
    w0 = [b.scalar(float(x)) for x in p]
    dnz = [
        b.lt(b.scalar(0), abs(w0[l + 1] * w0[l + 1] - w0[l] * w0[l])) is True
        for l in range(len(p) - 1)
    ]
    run, tgt = _flow_1d(b, p, grid)
    return {
        "point": p,
        "D_nonzero_certified": dnz,
        "cannot_reach_O": "certified (conserved D_l != 0)" if any(dnz) else "not shown",
        "t": [0.0, *grid],
        "R": [b.to_float(model.loss(b, ws, tgt)) for ws in run.ws],
        "w_at_T": [b.to_float(x[0, 0]) for x in run.ws[-1]],
    }


def _saddle_result(
    b: Backend,
    on: dict[str, dict[str, Any]],
    mir: dict[str, dict[str, Any]],
    off: dict[str, dict[str, Any]],
    points: list[list[float]],
    grid: list[float],
) -> CheckResult:
    """The verdict over ``points``; mirrors and off-M points as evidence."""
    verdict = combine_verdicts(Verdict(r["verdict"]) for r in on.values())
    worst = max(((r["ratio_at_T"], k) for k, r in on.items()), default=None)
    T = grid[-1] if grid else 0.0
    res = CheckResult(
        verdict=verdict,
        measured=worst[0] if worst else None,
        bound=1.0,
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max over points of max_l |w_l(T)| / u(T)  (u: comparison solution -> 0)",
        evidence={
            "per_point": {"M:" + k: r for k, r in on.items()}
            | {"mirror:" + k: r for k, r in mir.items()}
            | {"off:" + k: r for k, r in off.items()},
            "T": T,
        },
        scope={
            "t": covers(
                "t in {" + ", ".join(f"{t:g}" for t in grid) + f"}} (T = {T:g}), "
                "with |w(t)| <= u(t) -> 0 on that grid"
            ),
            "init": covers(f"{len(points)} points: " + "; ".join(_key(p) for p in points)),
            "L": covers(
                "L in {" + ", ".join(str(L) for L in sorted({len(p) for p in points})) + "}"
            ),
        },
        notes=(
            f"flow to T = {T:g}; points on M stay symmetric, keep their signs and stay below "
            "the comparison solution (within the integrator's per-layer error estimates). "
            "Mirrors of M (an even number of sign flips) converge to 0 too: "
            + ", ".join(f"{k}: {r['verdict']}" for k, r in mir.items())
            + ". Off M: "
            + ", ".join(f"{k}: {r['cannot_reach_O']}" for k, r in off.items())
        ),
    )
    if worst:
        res.tightest = {"point": worst[1], "ratio_at_T": worst[0]}
    if verdict is Verdict.VIOLATED:
        r = next(r for r in on.values() if r["verdict"] == "violated")
        i = r["verdicts"].index("violated")
        res.counterexample = {
            "point": r["point"],
            "t": r["t"][i],
            "w": r["w"][i],
            "u": r["u"][i],
            "symmetric": r["symmetric"][i],
            "signs_kept": r["signs_kept"][i],
            "R_at_T": r["R"][-1],
            "on_M": r["on_M"],
        }
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

    return escalate(evaluate, ladder=BALL_LADDER[:2])


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
