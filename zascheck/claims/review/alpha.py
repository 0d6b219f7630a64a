"""Layers ``alpha I`` (``alpha > 1``), last layer 0: ``R(t) <= exp(-2 alpha^{2(L-1)} t) R(0)``
under gradient flow, with ``R(0)`` unchanged.

Source: review 1 of the ZAS paper (NeurIPS 2019), ``../shared/seeds/reviews-zas-neurips2019.txt``,
third point:

    "Thirdly, I think instead of initializing to Id, one can initialize to
    alpha*Id, for alpha>1, and get an improvement on the convergence rate. In
    particular -- if my mental calculation is correct -- that should yield, for
    continuous-time GD: R(t) \\leq \\exp(-2\\alpha^{2(L-1)}t)R(0). Note that this
    alpha*Id initialization doesn't change R(0) as compared to Id
    initialization, since one of the matrices is 0 at initialization. [...]
    Now we can see that the convergence rate can be made arbitrarily large!"

Kind: inequality (gradient flow, continuous time), claimed as an upper bound
on ``R(t)``; it is attained at ``t = 0`` (there only ``G_L`` is nonzero and
``||G_L||^2 = 2 alpha^{2(L-1)} R``), so no larger rate holds for small ``t``.

Reading formalized: ``W_l(0) = alpha I`` (``l < L``), ``W_L(0) = 0``, whitened
loss ``R = 1/2 ||W_{L:1} - Phi||_F^2`` (ZAS eq. 2.3); for every ``t >= 0``
``R(t) <= exp(-2 alpha^{2(L-1)} t) R(0)``, and ``R(0) = 1/2 ||Phi||_F^2`` as
for ZAS.  Why: ``D_{L-1} = -alpha^2 I``, the other ``D_l = 0`` (Lemma 4.2), so
``W_{L-1:1} W_{L-1:1}^T = (alpha^2 I + W_L^T W_L)^{L-1} >= alpha^{2(L-1)} I``,
``||G_L||^2 >= 2 alpha^{2(L-1)} R``, and Gronwall as in Thm 4.1.

Method ``spectral-proof`` (universal): by the spectral reduction
(``zas.spectral``) the flow from layers ``alpha I``, last 0, is one scalar
flow per singular value with ``b^2 - a^2 = -alpha^2`` and ``de/dt = -k e``,
``k = (alpha^2 + b^2)^(L-2) (alpha^2 + L b^2) >= alpha^(2(L-1))`` (symbolic
``alpha > 0`` and ``L``), so the reviewer's rate holds for every ``t``,
``alpha > 0`` (not only ``alpha > 1``), ``Phi``, ``L`` and ``d``, with
``R(0) = 1/2 ||Phi||_F^2`` (``b(0) = 0``).  Certified: the flow claim, for
every quantifier.  Not certified by it: anything about GD (below).

Not formalized here: "the rate can be made arbitrarily large" read for
gradient descent.  The rate is a statement about the flow's clock; what the
``alpha I`` init does to GD (step size, iterations) is the suite's own
measured finding ``review.alpha.gd`` (CLAIMS.md section D).

References: ZAS paper, Lemma 4.2 and Thm 4.1 (proof); review 1 (above).
Upstream defect (issue 11): ``--case '{"alphas":[1e155],"depths":[3]}'``
crashed with ``OverflowError``; rates the float64 clock cannot hold are now
refused with an input error naming ``alphas`` (:func:`check_rate`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zascheck import inits, model
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.measure.flow import check_flow_request
from zascheck.measure.common import flow_decay
from zascheck.measure.reviews import (
    FLOW_NOTE,
    alpha_rate,
    check_rate,
    check_values,
    exact,
    probe_flow,
    target_text,
)
from zascheck.measure.spectral_thm41 import VARIANT_BUDGETS, flow_certificate
from zascheck.measure.symbolic import _certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

CARD = Card(
    id="review.alpha",
    section="B",
    kind="inequality",
    source="reviews of the ZAS paper (NeurIPS 2019), review 1",
    statement="Layers alpha I (alpha > 1), last 0: R(t) <= exp(-2 alpha^{2(L-1)} t) R(0) under "
    "gradient flow, with R(0) unchanged.",
    bound="upper",
    quantifiers=(
        Q("t", "every t >= 0 (gradient flow)"),
        Q("alpha", "every alpha > 1"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
    ),
    proofs=proof_sets.alpha,
    depends_on=("zas.lemma4.2", "zas.thm4.1"),
    figure="alpha",
)


def _init(L: int, d: int, alpha: float, w1_diag: list[float] | None) -> list[np.ndarray]:
    """alpha-ZAS; with ``w1_diag``, ``W_1(0) = alpha diag(w1_diag)`` (a control)."""
    ws = inits.alpha_zas(L, d, alpha)
    if w1_diag is not None:
        if len(w1_diag) != d or L < 2:
            raise InputError(f"w1_diag must have d = {d} entries (and L >= 2), got {w1_diag!r}")
        ws[0] = alpha * np.diag(np.asarray(w1_diag, dtype=float))
    return ws


def _one_case(
    b: Any, target: Target, ws0: list[np.ndarray], alpha: float, L: int, taus: list[float]
) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """One ``(alpha, L)``: the flow against ``exp(-2 alpha^{2(L-1)} t) R(0)`` at
    ``t = tau / alpha^{2(L-1)}``; returns the measurement, its evidence and its
    worst point."""
    r = alpha_rate(alpha, L)
    m = flow_decay(b, ws0, target, [float(exact(t) / r) for t in taus], r)
    ev = m.evidence() | {
        "rate": float(r),
        "taus": list(taus),
        "verdict": m.verdict.value,
        "max_ratio": m.max_ratio,
    }
    t_w = m.times[m.worst]
    case = {
        "alpha": alpha,
        "L": L,
        "t": t_w,
        "tau": t_w * float(r),
        "ratio": m.max_ratio,
        "rate": float(r),
    }
    return m, ev, case


def _check_inputs(alphas: list[float], depths: list[int], taus: list[float]) -> None:
    """Refuse non-finite or non-positive ``alphas``/``taus`` and rates the float64 clock cannot hold."""
    check_values(alphas, "alphas", positive=True)
    check_values(taus, "taus", positive=True)
    for a in alphas:
        for L in depths:
            check_rate(alpha_rate(a, L), taus, f"alphas (alpha = {a:g}, L = {L})")


def _probe(
    b: Any,
    phi_m: np.ndarray,
    alphas: list[float],
    depths: list[int],
    tau: float,
    w1_diag: list[float] | None,
) -> None:
    """Refuse, before the measurement, an ``alpha`` the integrator cannot follow."""
    d = phi_m.shape[0]
    with b.session():
        target = Target.whitened(b, phi_m)
        for a in alphas:
            for L in depths:
                t_first = float(exact(tau) / alpha_rate(a, L))
                what = f"alphas (alpha = {a:g}, L = {L})"
                probe_flow(b, _init(L, d, a, w1_diag), target, t_first, what)


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
            "w1_diag": None,
        },
        "standard": {
            "alphas": [1.1, 1.25, 1.5, 2.0],
            "depths": [2, 3, 4, 5],
            "d": 3,
            "phi": "gaussian",
            "taus": [0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0],
            "arithmetic": "ball",
            "w1_diag": None,
        },
    },
    controls={
        # break "every layer below the last is alpha I": W_1 = alpha diag(1, 1/2).  At t = 0
        # only G_L is nonzero and the rate is ||Phi W_{L-1:1}^T||^2 / ||Phi||^2 = 0.625 alpha^4
        # (Phi = -I, L = 3), below the claimed alpha^4: the bound fails for small t
        "anisotropic-W1": {
            "w1_diag": [1.0, 0.5],
            "d": 2,
            "phi": "-I",
            "alphas": [1.5],
            "depths": [3],
        },
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
    w1_diag: list[float] | None,
) -> CheckResult:
    """Gradient flow from alpha-ZAS against ``exp(-2 alpha^{2(L-1)} t) R(0)``.

    For every ``alpha`` in ``alphas`` and ``L`` in ``depths``, the flow
    (:func:`zascheck.measure.common.flow_decay`, Taylor integration in
    ``arithmetic`` at ``ctx.bits(128)``) is compared with the claimed bound on
    the grid ``t = tau / alpha^{2(L-1)}`` (the rate is large, so times are in
    units of its inverse); ``R(0)`` is compared with the ZAS ``R(0)`` in exact
    rationals.  measured = the largest ``R(t) / (exp(-2 alpha^{2(L-1)} t) R(0))``
    over all cases, bound 1; best verdict ``holds`` (integration error
    estimated).  ``w1_diag``: ``W_1(0) = alpha diag(w1_diag)`` (a control).
    Raises :class:`InputError`, before any work, for an ``alpha`` that is not
    a finite number > 0 or whose rate the float64 clock cannot hold.
    """
    _check_inputs(alphas, depths, taus)
    if w1_diag is not None:
        check_values(w1_diag, "w1_diag", positive=True)
    b = ctx.backend(arithmetic, 128)
    phi_m = make_phi(phi, d, ctx.rng(4))
    d = phi_m.shape[0]
    check_flow_request("review.alpha:flow", depths, d, taus, b.prec, decay=False)
    _probe(b, phi_m, alphas, depths, min(taus), w1_diag)
    ex = ctx.backend("exact")
    tgt_ex = Target.whitened(ex, phi_m)
    r0_zas = model.loss(ex, [ex.matrix(w) for w in inits.zas(max(depths), d)], tgt_ex)
    per: dict[str, Any] = {}
    verdicts: list[Verdict] = []
    worst: tuple[float, dict[str, Any]] | None = None
    r0_same = True
    with b.session():
        target = Target.whitened(b, phi_m)
        for a in alphas:
            for L in depths:
                ws0 = _init(L, d, a, w1_diag)
                r0_same = r0_same and model.loss(ex, [ex.matrix(w) for w in ws0], tgt_ex) == r0_zas
                m, per[f"alpha{a}_L{L}"], case = _one_case(b, target, ws0, a, L, taus)
                verdicts.append(m.verdict)
                if worst is None or m.max_ratio > worst[0]:
                    worst = (m.max_ratio, case)
    verdicts.append(Verdict.CERTIFIED if r0_same else Verdict.VIOLATED)
    verdict = combine_verdicts(verdicts)
    assert worst is not None
    res = CheckResult(
        verdict=verdict,
        measured=worst[0],
        bound=1.0,
        relation="<=",
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max over (alpha, L, t) of R(t)/(exp(-2 alpha^(2(L-1)) t)R(0))",
        evidence={
            "per_case": per,
            "phi": phi_m,
            "R0_equals_ZAS_R0_exactly": r0_same,
            "w1_diag": w1_diag,
        },
        tightest=dict(worst[1]),
        notes=FLOW_NOTE + f" R(0) equal to the ZAS R(0) in exact arithmetic: {r0_same}. "
        "The ratio tends to 1 as t -> 0: the rate alpha^(2(L-1)) is the exact initial rate.",
        scope={
            "t": covers(
                f"t = tau / alpha^(2(L-1)), tau in {list(taus)} (integration error estimated)"
            ),
            "alpha": covers(f"alpha in {list(alphas)}"),
            "Phi": covers(target_text(phi, d)),
            "L": covers(f"L in {list(depths)}"),
        },
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = worst[1] | {"phi": phi_m, "d": d, "w1_diag": w1_diag}
    return res


@CARD.check(
    method="symbolic",
    budgets={"quick": {"L_max": 5, "wrong": None}, "standard": {"L_max": 7, "wrong": None}},
    controls={"exponent": {"wrong": "exponent"}},
)
def alpha_symbolic(ctx: RunContext, *, L_max: int, wrong: str | None) -> CheckResult:
    """Layers alpha I, last 0: the identities behind exp(-2 alpha^{2(L-1)} t).

    Reading formalized (the flow claim's algebra): ``D_{L-1}(0) = -alpha^2 I``,
    so ``W_{L-1:1}W_{L-1:1}^T = (alpha^2 I + W_L^T W_L)^{L-1} >= alpha^{2(L-1)} I``
    (Gram sum), and ``E(0) = -Phi`` for every alpha (``R(0)`` unchanged).
    Explicit ``L = 2..L_max`` (layers are free-algebra letters, so every
    ``d``), symbolic ``alpha > 0``; every ``t`` through the conserved ``D_l``
    (zas.lemma4.2).  The Gronwall step is the one of Thm 4.1.
    """
    assert CARD.proofs is not None
    res = _certify(
        CARD.proofs(L_max=L_max, wrong=wrong),
        route="substitution, rewriting modulo the conserved D_l, Gram-sum expansion",
        notes=f"Explicit L <= {L_max}, symbolic alpha > 0. Gives ||G_L||^2 >= "
        "2 alpha^{2(L-1)} R (square layers), hence the reviewer's flow rate; "
        "what it means for GD (step size) is review.alpha.gd.",
    )
    res.scope = {
        "t": covers("every t >= 0 (identities of the conserved D_l, zas.lemma4.2)", universal=True),
        "alpha": covers("symbolic alpha > 0", universal=True),
        "Phi": covers("symbolic Phi (free algebra, every d)", universal=True),
        "L": covers(f"L = 2..{L_max} (explicit sizes)"),
    }
    return res


# --- the universal certificate: the spectral reduction, per mode ---


@CARD.check(
    method="spectral-proof",
    budgets={k: v | {"alpha": None, "c": None} for k, v in VARIANT_BUDGETS.items()},
    controls={
        # break "the last layer starts at 0": W_L(0) = 0.75 I (layers 1.5 I), Phi = -1 per mode
        "last-layer-nonzero": {"alpha": 1.5, "c": 0.75},
    },
)
def alpha_spectral(
    ctx: RunContext,
    depths: list[int],
    sigmas: list[float],
    points: int,
    alpha: float | None,
    c: float | None,
) -> CheckResult:
    """The reviewer's flow rate ``R(t) <= exp(-2 alpha^(2(L-1)) t) R(0)`` for every
    ``t >= 0``, every ``alpha > 0``, every ``Phi`` (every ``d``) and every ``L >= 1``.

    Reading formalized (:func:`zascheck.measure.spectral_thm41.flow_certificate`,
    variant ``alpha``): the proof chain with ``alpha`` a positive symbol
    (alignment, invariants, ``k >= alpha^(2(L-1))`` by induction on ``L - 2``;
    Gronwall stated), and a validated enclosure of the scalar flow at
    ``alpha = 1.5`` on the budget's ``(L, sigma)`` grid that must decide every
    comparison.  ``R(0)`` unchanged: ``b(0) = 0`` gives ``e_i(0) = -sigma_i``.
    Certified = the flow claim on every quantifier; what ``alpha I`` does to
    GD is not this claim (``review.alpha.gd``).  Control
    ``last-layer-nonzero``: ``W_L(0) = 0.75 I`` with layers ``1.5 I`` breaks
    "last layer 0" (``a^2 - b^2 = alpha^2 - c^2`` shrinks); on modes of
    negative eigenvalues the rate fails, decided by the enclosure.
    """
    return flow_certificate(
        "alpha",
        depths=depths,
        sigmas=sigmas,
        points=points,
        alpha=alpha,
        c=c,
        prec=ctx.bits(128),
        universal={
            "t": ("every t >= 0 (symbolic: k >= alpha^(2(L-1)); Gronwall)", True),
            "alpha": ("every alpha > 0 (symbolic; the claim needs alpha > 1)", True),
            "Phi": ("every Phi in R^{d x d}, every d (SVD reduction)", True),
            "L": ("every L >= 1 (symbolic L)", True),
        },
        init="W_l = alpha I (l < L), W_L = 0" if c is None else f"W_l = {alpha} I, W_L = {c} I",
    )
