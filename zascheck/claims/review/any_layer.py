"""Any one layer may be the zero one, the rest I: the same exp(-2t) rate.

Source: reviews of the ZAS paper (NeurIPS 2019), review 1.
"""

from __future__ import annotations

from typing import Any

from zascheck import dynamics, inits, model
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.result import combine_verdicts
from zascheck.measure.common import flow_decay
from zascheck.measure.reviews import _FLOW_NOTE, _p_tolerance, _two_sided_bound, _zero_layers
from zascheck.measure.symbolic import _certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

CARD = Card(
    id="review.any-layer",
    section="B",
    kind="inequality",
    source="reviews of the ZAS paper (NeurIPS 2019), review 1",
    statement="Any one layer may be the zero one, the rest I: the same exp(-2t) rate.",
    bound="upper",
    quantifiers=(
        Q("t", "t >= 0 (gradient flow)"),
        Q("k", "every position k of the zero layer"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
    ),
    proofs=proof_sets.any_layer,
    depends_on=("zas.thm4.1",),
    figure="any-layer",
)


@CARD.check(
    method="flow",
    budgets={
        "quick": {
            "depths": [2, 3],
            "d": 2,
            "phi": "gaussian",
            "init": "zero-at",
            "zeros": 1,
            "times": [0.25, 0.5, 1.0, 2.0, 3.0],
            "arithmetic": "ball",
        },
        # float64: at d = 3, L = 5 the ball enclosures of the Taylor flow blow up past t ~ 2
        "standard": {
            "depths": [2, 3, 4, 5],
            "d": 3,
            "phi": "gaussian",
            "init": "zero-at",
            "zeros": 1,
            "times": [0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0],
            "arithmetic": "float64",
        },
    },
    controls={
        # break "one layer zero, the rest I": near-identity init, Shamir's target -I
        "near-identity-init": {"init": "near-identity", "phi": "-I", "depths": [4]},
        # break "exactly one zero layer": two zero layers freeze the flow (every G_l = 0)
        "two-zero-layers": {"zeros": 2, "depths": [3]},
    },
    accepts_phi=True,
)
def any_layer(
    ctx: RunContext,
    depths: list[int],
    d: int,
    phi: Any,
    init: str,
    zeros: int,
    times: list[float],
    arithmetic: str,
) -> CheckResult:
    """Review 1 of the ZAS paper (NeurIPS 2019): "by symmetry, one can actually
    choose any one weight matrix to be the zero-initialized one, with the rest
    initialized to Id" -- with the same rate ``R(t) <= exp(-2t) R(0)`` as
    Theorem 4.1.

    Reading formalized: for every depth in ``depths`` and every position
    ``k = 1..L`` of the zero layer (``inits.zero_at``), gradient flow on the
    whitened loss with target ``phi`` satisfies ``R(t) <= exp(-2t) R(0)`` on
    the grid ``times`` (``flow_decay`` with rate 1, ball arithmetic at
    ``ctx.bits(128)``, integration error estimated: best verdict ``holds``).
    measured = the largest ``R(t) / (exp(-2t) R(0))`` over all ``(L, k, t)``;
    bound 1.

    Why it should hold: ``D_{k-1} = -I``, ``D_k = I``, the other ``D_l = 0``
    give ``W_{k-1:1} W_{k-1:1}^T = (I + W_k^T W_k)^{k-1}`` and
    ``W_{L:k+1}^T W_{L:k+1} = (I + W_k W_k^T)^{L-k}``, so
    ``||G_k||^2 >= lambda_min(A^T A) lambda_min(B B^T) 2R >= 2R`` with both
    sides of the zero layer (``A = W_{L:k+1}``, ``B = W_{k-1:1}``); the
    evidence records both factors along the flow.  It also records how far
    the end-to-end trajectories ``P(t)`` for different ``k`` are apart.
    """
    b = ctx.backend(arithmetic, 128)
    phi_m = make_phi(phi, d, ctx.rng(1))
    d = phi_m.shape[0]
    per: dict[str, Any] = {}
    verdicts: list[Verdict] = []
    worst: tuple[float, int, int, float] | None = None
    traj: dict[str, Any] = {}
    with b.session():
        target = Target.whitened(b, phi_m)
        for L in depths:
            positions = [0] if init != "zero-at" else list(range(1, L + 1))
            paths: dict[int, list[Any]] = {}
            tols: dict[int, list[float]] = {}
            for k in positions:
                ws0 = (
                    inits.make(init, L, d, seed=ctx.seed)
                    if init != "zero-at"
                    else _zero_layers(L, d, k, zeros)
                )
                m = flow_decay(b, ws0, target, times, 1)
                verdicts.append(m.verdict)
                ev: dict[str, Any] = m.evidence() | {
                    "verdict": m.verdict.value,
                    "max_ratio": m.max_ratio,
                }
                if init == "zero-at" and zeros == 1:
                    run = dynamics.flow(b, ws0, target, [0.0, *m.times])
                    paths[k] = [model.end_to_end(b, w) for w in run.ws[1:]]
                    tols[k] = [
                        _p_tolerance(b, w, target, t, run)
                        for t, w in zip(m.times, run.ws[1:], strict=True)
                    ]
                    bounds = [_two_sided_bound(b, w, k, target) for w in run.ws[1:]]
                    ev["grad_k_over_2R"] = [x[0] for x in bounds]
                    ev["two_sided_lower_bound"] = [x[1] for x in bounds]
                per[f"L{L}_k{k}"] = ev
                cand = (m.max_ratio, L, k, m.times[m.worst])
                if worst is None or cand[0] > worst[0]:
                    worst = cand
            if len(paths) > 1:
                ref = paths[L]
                max_mid, max_rad, max_rel_r, max_excess = 0.0, 0.0, 0.0, 0.0
                for k, pk in paths.items():
                    if k == L:
                        continue
                    for i, (pa, pb) in enumerate(zip(pk, ref, strict=True)):
                        tol = tols[k][i] + tols[L][i]
                        for x in b.entries(b.sub(pa, pb)):
                            mid, rad = abs(b.to_float(x)), b.radius(x)
                            max_mid, max_rad = max(max_mid, mid), max(max_rad, rad)
                            max_excess = max(max_excess, mid - rad - tol)
                        ra, rb = b.fro2(b.sub(pa, target.Y)), b.fro2(b.sub(pb, target.Y))
                        rbf = b.to_float(rb)
                        if rbf > 0:
                            max_rel_r = max(max_rel_r, abs(b.to_float(ra) - rbf) / rbf)
                traj[str(L)] = {
                    "max_abs_P_diff": max_mid,
                    "max_ball_radius": max_rad,
                    "tolerance_max": max(max(v) for v in tols.values()) * 2,
                    "within_tolerance": max_excess <= 0,
                    "max_rel_R_diff": max_rel_r,
                }
    verdict = combine_verdicts(verdicts)
    assert worst is not None
    measured = worst[0]
    if traj:
        same = all(t["within_tolerance"] for t in traj.values())
        worst_mid = max(t["max_abs_P_diff"] for t in traj.values())
        worst_tol = max(t["tolerance_max"] for t in traj.values())
        traj_note = (
            f" End-to-end P(t), zero layer at k vs at L: max |difference| {worst_mid:.2g}, "
            f"tolerance {worst_tol:.2g} (ball radii + integration error + float64 time bookkeeping "
            "of dynamics.flow) "
            + (
                "-- the trajectories coincide within it, as the SVD reduction predicts: in the "
                "singular bases of Phi the flow splits into scalar problems, where moving the zero "
                "layer permutes the layers and leaves the product unchanged."
                if same
                else "-- NOT within tolerance: the trajectories differ."
            )
        )
    else:
        traj_note = ""
    res = CheckResult(
        verdict=verdict,
        measured=measured,
        bound=1.0,
        margin=1.0 - measured,
        relation="<=",
        arithmetic=b.name,
        precision_bits=b.prec,
        method="flow",
        measured_repr="max over (L, k, t) of R(t)/(exp(-2t)R(0))",
        evidence={
            "per_case": per,
            "trajectory_comparison": traj,
            "phi": phi_m,
            "init": init,
            "zeros": zeros,
        },
        tightest={"L": worst[1], "k": worst[2], "t": worst[3], "ratio": worst[0]},
        notes=_FLOW_NOTE + traj_note,
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = {
            "L": worst[1],
            "k": worst[2],
            "t": worst[3],
            "ratio": worst[0],
            "init": init,
            "zeros": zeros,
            "phi": phi_m,
            "d": d,
        }
    return res


@CARD.check(
    method="symbolic",
    budgets={"quick": {"L_max": 5, "wrong": None}, "standard": {"L_max": 7, "wrong": None}},
    controls={"one-sided": {"wrong": "one-sided"}, "sign": {"wrong": "sign"}},
)
def any_layer_symbolic(ctx: RunContext, *, L_max: int, wrong: str | None) -> CheckResult:
    """Zero layer at any position m, the rest I: the two-sided invariants and their products.

    Claim: review.any-layer (ZAS reviews, review 1: "any one weight matrix [may be]
    the zero-initialized one").  Reading formalized: the identities the exp(-2t)
    rate rests on.  At init D_{m-1} = -I, D_m = +I, other D_l = 0, so for all t
    W_{m-1:1}W_{m-1:1}^T = (I + W_m^T W_m)^{m-1} (below) and
    W_{L:m+1}^T W_{L:m+1} = (I + W_m W_m^T)^{L-m} (above); both are >= I (Gram sums),
    so ||G_m||_F^2 >= 2R for square layers.  Explicit L <= L_max, all m; every L
    from the induction of zas.thm4.1.steps (the upper side is its transpose mirror).
    """
    return _certify(
        CARD.proofs(L_max=L_max, wrong=wrong),
        route="substitution, rewriting modulo the conserved D_l, Gram-sum expansion",
        notes=f"Explicit L <= {L_max}, every zero position m. Two-sided invariants: "
        "below m the ZAS ones; above m W_{m+1}^T W_{m+1} = I + W_m W_m^T and "
        "W_{l+1}^T W_{l+1} = W_l W_l^T (l > m). Rate exp(-2t) follows as in "
        "Thm 4.1 with ||G_m||^2 >= lambda_min(VV^T) lambda_min(UU^T) 2R.",
    )
