"""Any one layer may be the zero one, the rest ``I``: the same ``exp(-2t)`` rate.

Source: review 1 of the ZAS paper (NeurIPS 2019), ``../shared/seeds/reviews-zas-neurips2019.txt``,
first point:

    "Firstly, by symmetry, one can actually choose any one weight matrix to be
    the zero-initialized one, with the rest initialized to Id."

read with the paper's Theorem 4.1 (gradient flow from ZAS:
``R(t) <= exp(-2t) R(0)``), whose rate the reviewer says carries over.

Kind: inequality (gradient flow), an upper bound on ``R(t)``; the reviewer does
not claim it tight (at ``L = 1`` it is: ``R(t) = exp(-2t) R(0)``).

Reading formalized: for every depth ``L`` and every position ``k = 1..L``,
from ``W_k(0) = 0`` and ``W_l(0) = I`` (``l != k``), gradient flow (eq. 4.1) on
the whitened loss (eq. 2.3) satisfies ``R(t) <= exp(-2t) R(0)`` for every
``t >= 0`` and every ``Phi``.  Why: ``D_{k-1} = -I``, ``D_k = I``, the other
``D_l = 0`` (Lemma 4.2), so ``W_{k-1:1}W_{k-1:1}^T = (I + W_k^T W_k)^{k-1}``
and ``W_{L:k+1}^T W_{L:k+1} = (I + W_k W_k^T)^{L-k}``; both are ``>= I``, hence
``||G_k||^2 >= 2R`` and Gronwall.  Not formalized: "by symmetry" as a claim
that the runs coincide; it is measured (the end-to-end ``P(t)`` for different
``k`` agree within the integration tolerance) and reported, not decided.

Method ``spectral-proof`` (universal): by the spectral reduction
(``zas.spectral``, general form with the zero layer at ``k``) each mode has
``a`` below ``k``, ``b`` at ``k``, ``c`` above; the flow keeps
``b^2 - a^2 = -1`` and ``c^2 - b^2 = 1``, so ``c = a`` and the mode's
``de/dt = -a^(2L-4) (a^2 + (L-1) b^2) e`` is ZAS's (symbolic ``p = k - 1``
and ``L``): for every ``k`` the loss curve is ZAS's, so ``exp(-2t)`` holds for
every ``t``, ``k``, ``Phi``, ``L``, ``d``.  This also proves "by symmetry" in
its strongest reading (identical ``R(t)`` for every ``k``).

References: ZAS paper, Lemma 4.2, Thm 4.1; review 1 (above).
"""

from __future__ import annotations

from typing import Any

from zascheck import dynamics, inits, model
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.flow import check_flow_request
from zascheck.measure.common import flow_decay
from zascheck.measure.reviews import (
    FLOW_NOTE,
    check_values,
    p_tolerance,
    target_text,
    two_sided_bound,
    zero_layers,
)
from zascheck.measure.spectral_thm41 import VARIANT_BUDGETS, flow_certificate
from zascheck.measure.symbolic import _certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers
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
        Q("t", "every t >= 0 (gradient flow)"),
        Q("k", "every position k = 1..L of the zero layer"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
    ),
    proofs=proof_sets.any_layer,
    depends_on=("zas.lemma4.2", "zas.thm4.1"),
    figure="any-layer",
    # the report's sweeps behind this claim's figure, per report budget
    report={
        "quick": {"evidence": {"any_layer": {"depths": [3], "times": 12, "T": 3.0}}},
        "standard": {"evidence": {"any_layer": {"depths": [3, 4], "times": 24, "T": 3.0}}},
        "full": {"evidence": {"any_layer": {"depths": [3, 4], "times": 24, "T": 3.0}}},
    },
)


def _compare_paths(
    b: Any, target: Target, paths: dict[int, list[Any]], tols: dict[int, list[float]], L: int
) -> dict[str, Any]:
    """How far the end-to-end ``P(t)`` with the zero layer at ``k`` is from the
    one with it at ``L``, against the tolerance :func:`p_tolerance` derives."""
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
    return {
        "max_abs_P_diff": max_mid,
        "max_ball_radius": max_rad,
        "tolerance_max": max(max(v) for v in tols.values()) * 2,
        "within_tolerance": max_excess <= 0,
        "max_rel_R_diff": max_rel_r,
    }


def _one_position(
    ctx: RunContext,
    b: Any,
    target: Target,
    L: int,
    k: int,
    d: int,
    init: str,
    zeros: int,
    times: list[float],
) -> tuple[Any, dict[str, Any], list[Any] | None, list[float] | None]:
    """One ``(L, k)``: the decay measurement, its evidence, and (one zero layer
    only) the end-to-end path ``P(t)`` with its tolerances."""
    ws0 = (
        inits.make(init, L, d, seed=ctx.seed) if init != "zero-at" else zero_layers(L, d, k, zeros)
    )
    m = flow_decay(b, ws0, target, times, 1)
    ev: dict[str, Any] = m.evidence() | {"verdict": m.verdict.value, "max_ratio": m.max_ratio}
    if init != "zero-at" or zeros != 1:
        return m, ev, None, None
    run = dynamics.flow(b, ws0, target, [0.0, *m.times])
    path = [model.end_to_end(b, w) for w in run.ws[1:]]
    tol = [p_tolerance(b, w, target, t, run) for t, w in zip(m.times, run.ws[1:], strict=True)]
    bounds = [two_sided_bound(b, w, k, target) for w in run.ws[1:]]
    ev["grad_k_over_2R"] = [x[0] for x in bounds]
    ev["two_sided_lower_bound"] = [x[1] for x in bounds]
    return m, ev, path, tol


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
    """Gradient flow from one zero layer at each position ``k`` against ``exp(-2t) R(0)``.

    For every ``L`` in ``depths`` and ``k = 1..L`` (``inits.zero_at``; with
    ``zeros = 2`` also layer ``k mod L + 1``; with ``init`` other than
    ``zero-at`` that init once per ``L``), :func:`flow_decay` with rate 1 on
    the grid ``times`` in ``arithmetic`` at ``ctx.bits(128)``.  measured = the
    largest ``R(t) / (exp(-2t) R(0))`` over all ``(L, k, t)``; bound 1; best
    verdict ``holds`` (integration error estimated).  Evidence: both factors
    of the two-sided bound ``||G_k||^2 >= lambda_min(A^T A) lambda_min(B B^T) 2R``
    along the flow, and how far the ``P(t)`` for different ``k`` are apart.
    """
    check_values(times, "times", positive=True)
    b = ctx.backend(arithmetic, 128)
    phi_m = make_phi(phi, d, ctx.rng(1))
    d = phi_m.shape[0]
    check_flow_request("review.any-layer:flow", depths, d, times, b.prec)
    per: dict[str, Any] = {}
    verdicts: list[Verdict] = []
    worst: tuple[float, int, int, float] | None = None
    traj: dict[str, Any] = {}
    with b.session():
        target = Target.whitened(b, phi_m)
        for L in depths:
            paths: dict[int, list[Any]] = {}
            tols: dict[int, list[float]] = {}
            for k in list(range(1, L + 1)) if init == "zero-at" else [0]:
                m, per[f"L{L}_k{k}"], path, tol = _one_position(
                    ctx, b, target, L, k, d, init, zeros, times
                )
                verdicts.append(m.verdict)
                if path is not None and tol is not None:
                    paths[k], tols[k] = path, tol
                if worst is None or m.max_ratio > worst[0]:
                    worst = (m.max_ratio, L, k, m.times[m.worst])
            if len(paths) > 1:
                traj[str(L)] = _compare_paths(b, target, paths, tols, L)
    assert worst is not None
    return _result(
        b, combine_verdicts(verdicts), worst, per, traj, phi_m, phi, d, depths, init, zeros, times
    )


def _result(
    b: Any,
    verdict: Verdict,
    worst: tuple[float, int, int, float],
    per: dict[str, Any],
    traj: dict[str, Any],
    phi_m: Any,
    phi: Any,
    d: int,
    depths: list[int],
    init: str,
    zeros: int,
    times: list[float],
) -> CheckResult:
    """The result of :func:`any_layer`: verdict, tightest case, scope, notes."""
    res = CheckResult(
        verdict=verdict,
        measured=worst[0],
        bound=1.0,
        relation="<=",
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max over (L, k, t) of R(t)/(exp(-2t)R(0))",
        evidence={
            "per_case": per,
            "trajectory_comparison": traj,
            "phi": phi_m,
            "init": init,
            "zeros": zeros,
        },
        tightest={"L": worst[1], "k": worst[2], "t": worst[3], "ratio": worst[0]},
        notes=FLOW_NOTE + _trajectory_note(traj),
        scope={
            "t": covers(f"t in {list(times)} (integration error estimated)"),
            "k": covers(
                "every k = 1..L for each L"
                if init == "zero-at" and zeros == 1
                else f"init {init!r}, zeros = {zeros}"
            ),
            "Phi": covers(target_text(phi, d)),
            "L": covers(f"L in {list(depths)}"),
        },
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


def _trajectory_note(traj: dict[str, Any]) -> str:
    if not traj:
        return ""
    same = all(t["within_tolerance"] for t in traj.values())
    worst_mid = max(t["max_abs_P_diff"] for t in traj.values())
    worst_tol = max(t["tolerance_max"] for t in traj.values())
    return (
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


@CARD.check(
    method="symbolic",
    budgets={"quick": {"L_max": 5, "wrong": None}, "standard": {"L_max": 7, "wrong": None}},
    controls={"one-sided": {"wrong": "one-sided"}, "sign": {"wrong": "sign"}},
)
def any_layer_symbolic(ctx: RunContext, *, L_max: int, wrong: str | None) -> CheckResult:
    """Zero layer at any position m, the rest I: the two-sided invariants and their products.

    Reading formalized: the identities the ``exp(-2t)`` rate rests on.  At
    init ``D_{m-1} = -I``, ``D_m = +I``, the other ``D_l = 0``, so for all ``t``
    ``W_{m-1:1}W_{m-1:1}^T = (I + W_m^T W_m)^{m-1}`` (below) and
    ``W_{L:m+1}^T W_{L:m+1} = (I + W_m W_m^T)^{L-m}`` (above); both are ``>= I``
    (Gram sums), so ``||G_m||_F^2 >= 2R`` for square layers.  Explicit
    ``L = 2..L_max``, every ``m`` (layers are free-algebra letters: every ``d``).
    """
    assert CARD.proofs is not None
    res = _certify(
        CARD.proofs(L_max=L_max, wrong=wrong),
        route="substitution, rewriting modulo the conserved D_l, Gram-sum expansion",
        notes=f"Explicit L <= {L_max}, every zero position m. Two-sided invariants: "
        "below m the ZAS ones; above m W_{m+1}^T W_{m+1} = I + W_m W_m^T and "
        "W_{l+1}^T W_{l+1} = W_l W_l^T (l > m). Rate exp(-2t) follows as in "
        "Thm 4.1 with ||G_m||^2 >= lambda_min(VV^T) lambda_min(UU^T) 2R.",
    )
    res.scope = {
        "t": covers("every t >= 0 (identities of the conserved D_l, zas.lemma4.2)", universal=True),
        "k": covers("every m = 1..L of each explicit L", universal=True),
        "Phi": covers("every Phi (the identities do not involve it)", universal=True),
        "L": covers(f"L = 2..{L_max} (explicit sizes)"),
    }
    return res


# --- the universal certificate: the spectral reduction, per mode ---


@CARD.check(
    method="spectral-proof",
    budgets={k: v | {"alpha": None} for k, v in VARIANT_BUDGETS.items()},
    controls={
        # break "the rest I": the other layers 0.5 I (zero at layer k kept)
        "rest-not-I": {"alpha": 0.5},
    },
)
def any_layer_spectral(
    ctx: RunContext, depths: list[int], sigmas: list[float], points: int, alpha: float | None
) -> CheckResult:
    """``R(t) <= exp(-2t) R(0)`` for every ``t >= 0``, every position ``k`` of the
    zero layer, every ``Phi`` (every ``d``) and every ``L >= 1``.

    Reading formalized (:func:`zascheck.measure.spectral_thm41.flow_certificate`,
    variant ``any-layer``): the proof chain (alignment for every ``k``, the
    invariants, ``c = a`` hence the same ``de/dt`` as ZAS for symbolic ``k``
    and ``L``, ``k_mode >= 1``; Gronwall stated) and a validated enclosure of
    the scalar flow (the ZAS curve, which every ``k`` follows) on the budget's
    ``(L, sigma)`` grid that must decide every comparison.  Control
    ``rest-not-I``: the other layers ``0.5 I``; the rate drops to
    ``0.5^(2(L-1))`` and the enclosure decides a violation.
    """
    return flow_certificate(
        "any-layer",
        depths=depths,
        sigmas=sigmas,
        points=points,
        alpha=alpha,
        prec=ctx.bits(128),
        universal={
            "t": ("every t >= 0 (symbolic: de/dt = -k e, k >= 1; Gronwall)", True),
            "k": ("every k = 1..L (symbolic p = k - 1: the same mode flow as ZAS)", True),
            "Phi": ("every Phi in R^{d x d}, every d (SVD reduction)", True),
            "L": ("every L >= 1 (symbolic L)", True),
        },
        init="zero at layer k, others I" if alpha is None else f"zero at layer k, others {alpha} I",
    )
