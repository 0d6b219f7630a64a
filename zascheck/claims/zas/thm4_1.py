"""Theorem 4.1 of the ZAS paper: gradient flow from ZAS decays at least like ``exp(-2t)``.

Source: Wu, Wang & Ma, "Global Convergence of Gradient Descent for Deep Linear
Residual Networks", NeurIPS 2019, Sec. 4.1, Theorem 4.1, eq. (4.2):

    "Theorem 4.1 (Continuous-time gradient descent). For the deep linear
    network (2.3), the continuous-time gradient descent (4.1) with the
    zero-asymmetric initialization (3.1) satisfies
        R(t) <= e^{-2t} R(0),   t >= 0,        (4.2)
    for any Phi in R^{d x d} and L >= 1."

Kind: inequality (an upper bound on the loss).  Bound: claimed for every
``t >= 0``, every ``Phi`` and every ``L >= 1``; tight at ``L = 1``, where the
flow is linear (``W' = Phi - W`` from 0) and ``R(t) = e^{-2t} R(0)`` exactly
(the catalogue's "Tight at L = 1": the paper does not say it, the closed form
does).  For ``L >= 2`` it is only an upper bound: the rate exceeds 1 once
``W_L != 0`` (:func:`zascheck.measure.flow.thm41_deficit_log2`).

Reading formalized (method ``flow``): the flow (4.1) ``dW_l/dt = -G_l`` from
ZAS (3.1) (``W_l = I`` for ``l < L``, ``W_L = 0``) on the whitened loss (2.3)
``R = 1/2 ||W_{L:1} - Phi||_F^2`` is integrated by a Taylor method in ball
arithmetic and ``R(t) <= exp(-2t) R(0)`` is compared on a time grid, for a
list of depths and one target (Gaussian, or the user's ``--phi``); ``L = 1``
is checked as the equality.  The flow is integrated, not enclosed (the error
is estimated), so the best verdict is ``holds``, and the scope is the grid,
the target and the depths run: never universal.  Not formalized: the discrete
GD statement (zas.thm4.3), rectangular layers (zas.remark.rectangular), data
(zas.remark.data).

Method ``spectral-proof`` (the universal certificate): the flow from ZAS
splits along the SVD of ``Phi`` into one scalar flow per singular value
(zas.spectral; Saxe, McClelland & Ganguli, ICLR 2014), each with
``de/dt = -k e``, ``k >= 1`` for every ``L`` (symbolic), hence
``R(t) <= exp(-2t) R(0)`` for every ``t``, ``Phi``, ``L``, ``d``; equality
for every ``t`` exactly when ``L = 1`` (for ``L >= 2`` and ``Phi != 0`` the
inequality is strict for ``t > 0``).  Proof chain reduced by sympy, plus a
validated enclosure (arb) of the scalar flow on a grid of ``sigma`` that must
decide every comparison.  This is the method that makes the claim-level
verdict ``certified``; the step not machine-checked is Gronwall's
(``d(e^2)/dt = -2k e^2 <= -2 e^2``), stated in the notes.

Method ``search``: hypothesis properties over targets, depths, widths and
grids (``CARD.prop`` below), with a negative property (non-ZAS inits).

References: the proof's steps are zas.thm4.1.steps (it rests on Lemma 4.2,
zas.lemma4.2); the reviewers' variants are review.any-layer, review.last-cI,
review.alpha.  Upstream defects: none known in the statement; the catalogue's
"tight at L = 1" is the closed form above.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import inits
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import BALL_LADDER, Escalated, Evaluation, escalate
from zascheck.measure.common import DecayMeasurement, flow_decay
from zascheck.measure.evaluation import case_init, decay_eval
from zascheck.measure.flow import (
    THM41_TIMES,
    bits_to_decide,
    check_flow_request,
    thm41_deficit_log2,
)
from zascheck.measure.spectral_thm41 import (
    THM41_SPECTRAL_BUDGETS,
    THM41_SPECTRAL_CONTROLS,
    thm41_spectral_proof,
)
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers
from zascheck.targets import make_phi

CARD = Card(
    id="zas.thm4.1",
    section="A",
    kind="inequality",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Theorem 4.1 (Sec. 4.1), eq. (4.2)",
    statement="Gradient flow from ZAS: R(t) <= exp(-2t) R(0) for all t >= 0, Phi, L >= 1; tight at L = 1.",
    bound="tight",
    quantifiers=(
        Q("t", "every t >= 0 (gradient flow (4.1))"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
        Q("d", "every width d >= 1"),
    ),
    depends_on=("zas.thm4.1.steps", "zas.lemma4.2"),
    figure="thm41",
    # the report's sweeps behind this claim's figure, per report budget
    report={
        "quick": {"thm41": {"depths": [1, 2, 3, 5, 10], "d": 3, "times": 31, "T": 3.0}},
        "standard": {"thm41": {"depths": [1, 2, 3, 5, 10], "d": 3, "times": 61, "T": 3.0}},
        "full": {"thm41": {"depths": [1, 2, 3, 5, 10, 20], "d": 4, "times": 61, "T": 4.0}},
    },
)


@CARD.check(
    method="flow",
    budgets={
        "quick": {
            "depths": [1, 2, 3, 5],
            "d": 2,
            "phi": "gaussian",
            "init": "zas",
            "times": list(THM41_TIMES),
            "arithmetic": "ball",
        },
        "standard": {
            "depths": [1, 2, 3, 5, 8],
            "d": 3,
            "phi": "gaussian",
            "init": "zas",
            "times": [0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0],
            "arithmetic": "ball",
        },
        "thorough": {
            "depths": [1, 2, 3, 5, 8, 12],
            "d": 4,
            "phi": "gaussian",
            "init": "zas",
            "times": [0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0],
            "arithmetic": "ball",
        },
    },
    controls={
        # break the hypothesis "ZAS init": near-identity init, Shamir's target -I
        "near-identity-init": {"init": "near-identity", "phi": "-I", "depths": [4]},
    },
    accepts_phi=True,
)
def thm41(
    ctx: RunContext,
    depths: list[int],
    d: int,
    phi: Any,
    init: str,
    times: list[float],
    arithmetic: str,
) -> CheckResult:
    """Theorem 4.1 along the integrated flow, per depth, on the grid ``times``.

    For each ``L`` in ``depths``: :func:`zascheck.measure.common.flow_decay`
    from ``init`` (ZAS unless a control says otherwise) at ``ctx.bits(128)``
    bits, equality for ``L = 1`` from ZAS, the inequality otherwise.  The
    budget at each time is the loss error that the integrator's per-layer
    error estimates allow, relative to ``exp(-2t) R(0)``, compared in the
    working arithmetic.  ``R`` is non-increasing along the flow
    (``dR/dt = -sum_l ||G_l||_F^2``), so once ``R(t1)`` is below
    ``exp(-2T) R(0)`` with room every ``t in [t1, T]`` holds and the
    integration stops (stiff targets converge long before ``T``).

    measured = the largest ``R(t) / (exp(-2t) R(0))`` over ``L >= 2``
    (bound 1, ``<=``); with only ``L = 1``: that ratio against 1 (``==``).
    A target with ``Phi = 0`` is a stationary point (``R(t) = 0`` for every
    ``t``): ``certified``.  Where the precision cannot separate the ratio
    from 1 (a tiny target: the deficit is ``O(||Phi||^2)``) the verdict is
    ``inconclusive`` and the notes give the precision that would decide.
    Control: a near-identity init (not ZAS) with ``Phi = -I`` is caught.
    """
    b = ctx.backend(arithmetic, 128)
    phi_m = make_phi(phi, d, ctx.rng(1))
    d = phi_m.shape[0]
    check_flow_request("zas.thm4.1:flow", depths, d, times, b.prec)
    runs: dict[int, DecayMeasurement] = {}
    with b.session():
        target = Target.whitened(b, phi_m)
        for L in depths:
            tight = L == 1 and init == "zas"
            ws0 = inits.make(init, L, d, seed=ctx.seed)
            runs[L] = flow_decay(b, ws0, target, times, 1, tight=tight, stop_early=not tight)
    return _thm41_result(b, runs, phi_m, init, sorted(float(t) for t in times if t > 0), phi)


def _thm41_result(
    b: Backend,
    runs: dict[int, DecayMeasurement],
    phi_m: np.ndarray,
    init: str,
    times: list[float],
    phi_spec: Any,
) -> CheckResult:
    """Assemble the result of :func:`thm41` from its per-depth measurements."""
    verdict = combine_verdicts(m.verdict for m in runs.values())
    ineq = {L: m for L, m in runs.items() if L >= 2 or init != "zas"}
    cand = [(m.max_ratio, L) for L, m in (ineq or runs).items() if math.isfinite(m.max_ratio)]
    worst = max(cand, default=None)
    relation = "<=" if ineq else "=="
    measured = worst[0] if worst else None
    advice = _precision_advice(b, runs, phi_m, init) if verdict is Verdict.INCONCLUSIVE else ""
    per_depth = {str(L): m.evidence() | {"verdict": m.verdict.value} for L, m in runs.items()}
    slack_l1 = None
    if 1 in runs and not runs[1].stationary:
        slack_l1 = max((abs(1 - r) for r in runs[1].ratios), default=None)
    if runs and all(m.stationary for m in runs.values()):  # Phi = 0: R(t) = 0 <= 0
        relation, measured, worst = "<=", 0.0, None
    res = CheckResult(
        verdict=verdict,
        measured=measured,
        bound=1.0,
        margin=None if measured is None else (1.0 - measured if ineq else -abs(1.0 - measured)),
        relation=relation,
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr=_measured_repr(runs, ineq),
        evidence={"per_depth": per_depth, "phi": phi_m, "slack_at_L1": slack_l1},
        scope=_thm41_scope(runs, phi_m, times, phi_spec),
        notes=_thm41_notes(runs, slack_l1, advice),
    )
    if worst is not None:
        m = runs[worst[1]]
        res.tightest = {
            "L": worst[1],
            "t": m.times[m.worst],
            "ratio": worst[0],
            "one_minus_ratio": m.deficit_text[m.worst],
        }
    if verdict is Verdict.VIOLATED:
        L, m = next((L, m) for L, m in runs.items() if m.verdict is Verdict.VIOLATED)
        i = next(k for k, v in enumerate(m.verdicts) if v is Verdict.VIOLATED)
        res.counterexample = {
            "L": L,
            "t": m.times[i],
            "ratio": m.ratios[i],
            "one_minus_ratio": m.deficit_text[i],
            "error_budget": m.err[i],
            "init": init,
            "phi": phi_m,
            "d": phi_m.shape[0],
        }
    return res


def _measured_repr(runs: dict[int, DecayMeasurement], ineq: dict[int, Any]) -> str:
    if runs and all(m.stationary for m in runs.values()):
        return "R(t)/R(0) with R(t) = R(0) = 0 (Phi = 0: stationary), read as 0"
    out = "max_t R(t)/(exp(-2t)R(0)) over " + ("L >= 2" if ineq else "L = 1")
    if any(m.monotone_from is not None for m in runs.values()):
        out += " (after an early stop: the bound R(t1) exp(2t)/R(0))"
    return out


def _precision_advice(
    b: Backend, runs: dict[int, DecayMeasurement], phi_m: np.ndarray, init: str
) -> str:
    """Which precision would decide the undecided depths (ZAS: the deficit's
    leading order in ``||Phi||``, :func:`thm41_deficit_log2`)."""
    out = []
    for L, m in runs.items():
        if m.verdict is not Verdict.INCONCLUSIVE:
            continue
        if m.failure:
            out.append(f"L = {L}: {m.failure}")
            continue
        defs = [thm41_deficit_log2(phi_m, L, t) for t in m.times]
        bits = bits_to_decide(b.prec, m.resolved_bits, defs) if init == "zas" else None
        if bits is None:
            out.append(f"L = {L}: undecided at {b.prec} bits; a higher --precision may decide")
            continue
        lo = min(defs) * math.log10(2)
        out.append(
            f"L = {L}: the deficit 1 - ratio ~ 1e{lo:.0f} (leading order in ||Phi||) is below "
            f"the budget (2^-{min(m.resolved_bits):.0f} of the ratio); --precision {bits} "
            "would resolve it"
        )
    return "; ".join(out)


def _thm41_scope(
    runs: dict[int, DecayMeasurement], phi_m: np.ndarray, times: list[float], phi_spec: Any
) -> dict[str, Any]:
    """What the evidence covers: the grid (and ``[t1, T]`` where decided by
    monotonicity), the one target, the depths, the width."""
    T = max(times, default=0.0)
    grid = ", ".join(f"{t:g}" for t in times)
    mono = [
        f"L = {L}: every t in [{m.monotone_from:.3g}, {T:g}]"
        for L, m in runs.items()
        if m.monotone_from is not None
    ]
    t_cov = f"t in {{{grid}}}" + (f" ({'; '.join(mono)}, R non-increasing)" if mono else "")
    if runs and all(m.stationary for m in runs.values()):
        t_cov = "every t >= 0 (Phi = 0: E(0) = 0, the flow is stationary)"
    d = phi_m.shape[0]
    kind = phi_spec if isinstance(phi_spec, str) else "given"
    big = float(np.max(np.abs(phi_m))) if phi_m.size else 0.0
    nrm = big * float(np.linalg.norm(phi_m / big)) if big > 0 else 0.0  # no underflow
    return {
        "t": covers(t_cov, universal=t_cov.startswith("every t")),
        "Phi": covers(f"one {kind} target, ||Phi||_F = {nrm:.3g}"),
        "L": covers("L in {" + ", ".join(str(L) for L in runs) + "}"),
        "d": covers(f"d = {d}"),
    }


def _thm41_notes(runs: dict[int, DecayMeasurement], slack_l1: float | None, advice: str) -> str:
    parts = ["gradient flow by Taylor integration; integration error estimated, not enclosed"]
    if slack_l1 is not None:
        parts.append(f"L = 1 equality: |1 - ratio| <= {slack_l1:.3g}")
    mono = [
        f"L = {L} from t = {m.monotone_from:.3g}"
        for L, m in runs.items()
        if m.monotone_from is not None
    ]
    if mono:
        parts.append("later grid times decided by monotonicity of R: " + ", ".join(mono))
    tight = [(L, m) for L, m in runs.items() if L >= 2 and m.ratios and m.max_ratio == 1.0]
    if tight:  # the ratio rounds to 1 as a double: say how far below 1 it is
        parts.append(
            "1 - ratio (working arithmetic): "
            + ", ".join(
                f"L = {L}, t = {m.times[m.worst]:g}: {m.deficit_text[m.worst]}" for L, m in tight
            )
        )
    if advice:
        parts.append(advice)
    return ". ".join(parts) + "."


# --- hypothesis property: evaluator and declarations ---


def eval_thm41(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.thm4.1: :func:`zascheck.measure.common.flow_decay` from ZAS (rate 1;
    equality at ``L = 1``)."""
    L, d = int(case["L"]), int(case["d"])
    zas = case.get("init") in (None, "zas")
    ws0 = case_init(case, L, d)

    def evaluate(b: Backend) -> Evaluation:
        return decay_eval(
            b, ws0, Target.whitened(b, case["phi"]), case["times"], 1, tight=(L == 1 and zas)
        )

    return escalate(evaluate, ladder=BALL_LADDER[:3])


CARD.prop(
    None,
    lambda: S.thm41_cases(),
    eval_thm41,
    certify=False,
    summary="flow from ZAS: R(t) <= exp(-2t) R(0), equality at L = 1",
)

CARD.prop(
    "non-zas-init",
    lambda: S.thm41_cases(non_zas=True),
    eval_thm41,
    certify=False,
    summary="flow from a non-ZAS init: must fail somewhere",
)

CARD.search(examples=(3, 60, 400))


# --- the universal certificate: the spectral reduction, per mode ---


@CARD.check(
    method="spectral-proof",
    budgets=THM41_SPECTRAL_BUDGETS,
    controls=THM41_SPECTRAL_CONTROLS,
)
def thm41_spectral(
    ctx: RunContext, depths: list[int], sigmas: list[float], points: int, alpha: float
) -> CheckResult:
    """Theorem 4.1 for every ``t >= 0``, every ``Phi``, every ``L >= 1`` and every ``d``,
    with "tight at ``L = 1``" read as: equality for every ``t`` exactly when
    ``L = 1`` (or ``Phi = 0``).

    Reading formalized (:func:`zascheck.measure.spectral_thm41.thm41_spectral_proof`):
    the flow from ZAS splits along the SVD of ``Phi`` into scalar flows
    (zas.spectral, proven for every ``L`` and ``d``); per mode ``de/dt = -k e``
    with ``k = (1 + b^2)^(L-2) (1 + L b^2) >= 1`` (symbolic ``L``), so
    ``e_i(t)^2 <= exp(-2t) sigma_i^2`` (Gronwall) and ``R(t) <= exp(-2t) R(0)``;
    ``L = 1``: ``e(t) = -sigma exp(-t)``; ``L >= 2``: ``k >= 1 + L b^2 > 1``
    once ``b != 0``.  Certified (universal on ``t``, ``Phi``, ``L``, ``d``)
    only when every proof reduces to zero and the validated enclosure of the
    scalar flow on the budget's grid of ``(L, sigma)`` decides every
    comparison; one result covers the whole statement (bound and tightness).
    Control ``alpha-below-1``: layers ``0.5 I`` (not ZAS) through the same
    path; the chain's ``alpha^(2(L-1)) >= 1`` fails and the enclosure decides
    a violation (rank-one ``Phi``).
    """
    return thm41_spectral_proof(ctx, depths=depths, sigmas=sigmas, points=points, alpha=alpha)
