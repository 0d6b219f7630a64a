"""The GD drift identity of the invariant matrices D_l (ZAS paper, Sec. 4.2).

Claim: the paper states (Sec. 4.2.1, quoted from the seed) that under
discrete-time GD "the matrices defined in (4.3) are not exactly invariant, but
change slowly during the training process", and Lemma 4.5 bounds the change,
``||D_l(t+1) - D_l(t)||_2 = O(eta^2) R(t)`` (eq. 4.9).  The exact identity
behind it (its proof is in the appendix, which the seed does not contain) is
the catalogue's ``zas.drift``::

    D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T),   l = 1..L-1,

with ``D_l = W_{l+1}^T W_{l+1} - W_l W_l^T`` (eq. 4.3), ``G_l`` the gradient
of eq. (2.5) at step ``t`` and ``W_l(t+1) = W_l(t) - eta G_l(t)`` (eq. 2.4).

Kind: identity (``bound = "exact"``): the first-order terms cancel exactly
(they are ``-eta`` times Lemma 4.2's ``dD_l/dt = 0``), the second-order term is
the whole change.

Reading formalized: for every step ``t``, every ``eta``, every point
``W_1..W_L`` (so every init), every target, every ``L >= 2`` (at ``L = 1``
there is no ``D_l``) and every ``d``.  The ``symbolic`` method proves it in
the free algebra (``eta`` a commutative symbol): claim-level ``certified``
rests on it.  ``exact`` checks it in rational arithmetic along a GD run (also
on a user target, ``--phi``, converted exactly), ``mp`` at high precision
within a rounding budget, ``search`` on hypothesis cases.  Not formalized here:
the size estimates of Lemma 4.5 (``zas.lemma4.4-4.6``).

References: ZAS paper eqs. (2.4), (2.5), (4.3), Sec. 4.2.1, Lemma 4.5.
"""

from __future__ import annotations

import math

import numpy as np
from fractions import Fraction
from typing import Any

from zascheck import inits
from zascheck import strategies as S
from zascheck.arith import Backend, ExactBackend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.escalate import EXACT_LADDER, Escalated, Evaluation, escalate
from zascheck.measure.conservation import (
    check_exact_gd_size,
    check_mp_gd_size,
    drift_residuals,
    drift_budget_ratio,
    drift_rounding_budget,
    exact_drift,
    random_rational_matrix,
    rational_bits,
)
from zascheck.measure.evaluation import F64, fro, ratio_slack
from zascheck.measure.symbolic import certify
from zascheck.model import Target, invariants
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers, decide
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

CARD = Card(
    id="zas.drift",
    section="A",
    kind="identity",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 4.2.1 (underlies Lemma 4.5, eq. 4.9)",
    statement="Under GD: D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T) exactly.",
    bound="exact",
    quantifiers=(
        Q("t", "every GD step t >= 0"),
        Q("eta", "every step size eta"),
        Q("init", "every initialization (every point W_1..W_L)"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 2 (D_l exists for L >= 2)"),
        Q("d", "every width d >= 1"),
    ),
    proofs=proof_sets.drift,
    depends_on=("zas.gradient",),
    figure="drift",
    # the report's sweeps behind this claim's figure, per report budget
    report={
        "quick": {
            "drift": {"depths": [2, 4, 8, 16, 32, 64], "d": 2, "fro": 1.0, "steps": 5, "bits": 113}
        },
        "standard": {
            "drift": {
                "depths": [2, 4, 8, 16, 32, 64, 128, 256],
                "d": 2,
                "fro": 1.0,
                "steps": 5,
                "bits": 113,
            }
        },
        "full": {
            "drift": {
                "depths": [2, 4, 8, 16, 32, 64, 128, 256],
                "d": 2,
                "fro": 1.0,
                "steps": 5,
                "bits": 113,
            }
        },
    },
)


def _need_pairs(L: int, steps: int) -> None:
    if L < 2:
        raise InputError(
            f"zas.drift: L = {L} has no D_l (they exist for L >= 2): the identity "
            "would be vacuous; use L >= 2"
        )
    if steps < 1:
        raise InputError("zas.drift: steps = 0 takes no GD step: nothing to check; use steps >= 1")


def _user_target(phi: Any, d: int = 0, rng: Any = None) -> Any:
    """The user's target as a square float64 array (``--phi`` or ``--case``:
    a matrix, or a target name drawn at width ``d`` from ``rng``)."""
    m = make_phi(phi, d, rng if rng is not None else np.random.default_rng(0))
    if m.shape[0] != m.shape[1]:
        raise InputError(f"zas.drift: the target must be square (d x d layers), got {m.shape}")
    return m


@CARD.check(
    method="exact",
    budgets={
        "quick": {"L": 3, "d": 2, "steps": 2, "eta": "1/8", "denominator": 4},
        "standard": {"L": 4, "d": 2, "steps": 3, "eta": "1/10", "denominator": 4},
        "thorough": {"L": 4, "d": 3, "steps": 3, "eta": "1/10", "denominator": 8},
    },
    controls={"eta-not-squared": {"power": 1}},
    accepts_phi=True,
)
def drift_exact(
    ctx: RunContext,
    L: int,
    d: int,
    steps: int,
    eta: str,
    denominator: int,
    power: int = 2,
    phi: Any = None,
) -> CheckResult:
    """The drift identity in exact rational arithmetic along ``steps`` GD steps.

    From a random init with entries ``k / denominator`` (``|k| <= 2
    denominator``) and a random rational target, or the user's target
    (``--phi``: its float64 entries converted exactly, ``d`` taken from it),
    take ``steps`` GD steps with rational ``eta`` and require every residual
    to be exactly the zero matrix: ``certified`` for these inputs.  Sizes
    beyond exact arithmetic are refused before running.  Control: ``eta`` in
    place of ``eta^2``.
    """
    _need_pairs(L, steps)
    den = int(denominator)
    if den < 1:
        raise InputError(f"zas.drift:exact: denominator must be a positive integer, got {den}")
    phi_m = None if phi is None else _user_target(phi, d, ctx.rng(4))
    d = d if phi_m is None else phi_m.shape[0]
    bits = max(
        rational_bits(eta),
        (2 * den).bit_length() + den.bit_length(),
        *(rational_bits(x) for x in ([] if phi_m is None else phi_m.ravel())),
    )
    check_exact_gd_size("zas.drift:exact", L, d, steps, bits)
    e = ExactBackend()
    rng = ctx.rng(4)
    ws = [random_rational_matrix(e, rng, d, den) for _ in range(L)]
    if phi_m is None:
        phi_q, phi_text = (
            random_rational_matrix(e, rng, d, den),
            f"1 random rational target k/{den}",
        )
    else:
        phi_q, phi_text = (
            e.matrix(phi_m),
            (f"target {phi!r}" if isinstance(phi, str) else "the user's target")
            + " (float64 entries as exact rationals)",
        )
    run = exact_drift(e, ws, Target(Y=phi_q), e.scalar(Fraction(eta)), steps, power=power)
    verdict = Verdict.CERTIFIED if run.nonzero == 0 else Verdict.VIOLATED
    res = CheckResult(
        verdict=verdict,
        measured=run.worst,
        bound=0.0,
        arithmetic="exact",
        precision_bits=0,
        measured_repr="max ||residual||_F over steps and layers (exact rationals)",
        evidence={
            "nonzero_residuals": run.nonzero,
            "pairs_checked": run.pairs,
            "drift_per_step": run.drift_per_step,
        },
        notes=f"{steps} exact GD steps, L = {L}, d = {d}, eta = {eta}; {phi_text}",
        scope={
            "t": covers(f"t < {steps} GD steps"),
            "eta": covers(f"eta = {eta}"),
            "init": covers(f"1 random rational init k/{den} (seed {ctx.seed})"),
            "Phi": covers(phi_text),
            "L": covers(f"L = {L}"),
            "d": covers(f"d = {d}"),
        },
    )
    if verdict is Verdict.VIOLATED:
        assert run.where is not None, "a nonzero residual records where it was"
        res.counterexample = {
            "step": run.where[0],
            "l": run.where[1],
            "residual_norm": run.worst,
            "power_of_eta": power,
        }
    return res


@CARD.check(
    method="mp",
    budgets={
        "quick": {"L": 5, "d": 3, "steps": 5, "eta": 0.05, "bits": 113},
        "standard": {"L": 8, "d": 4, "steps": 10, "eta": 0.02, "bits": 200},
    },
    controls={"eta-not-squared": {"power": 1}},
    accepts_phi=True,
)
def drift_mp(
    ctx: RunContext,
    L: int,
    d: int,
    steps: int,
    eta: float,
    bits: int,
    power: int = 2,
    phi: Any = "gaussian",
) -> CheckResult:
    """The drift identity at high precision, beside the size of the drift itself.

    In mpmath at ``ctx.bits(bits)`` from a Xavier init and target ``phi``,
    for ``steps`` GD steps, every residual ``||D_l(t+1) - D_l(t) - eta^2
    (...)||_F`` must be within the rounding budget ``4 gamma_n`` times the
    size of the terms (``n = (L + 4) d``).  ``evidence["drift_per_step"]``
    shows ``max_l ||D_l(t+1) - D_l(t)||_F`` beside the float64 resolution.
    """
    _need_pairs(L, steps)
    b = ctx.backend("mp", bits)
    rng = ctx.rng(5)
    phi_m = make_phi(phi, d, rng) if isinstance(phi, str) else _user_target(phi)
    d = phi_m.shape[0]
    check_mp_gd_size("zas.drift:mp", L, d, steps)
    ws = [b.matrix(w) for w in inits.xavier(L, d, rng)]
    target = Target.whitened(b, phi_m)
    eta_b = b.scalar(eta)
    verdicts, drift_sizes = [], []
    worst: tuple[float, str, str, int, int] = (-math.inf, "", "", 0, 0)
    for t in range(steps):
        res, new, g, d_old = drift_residuals(b, ws, target, eta_b, power=power)
        for l, r in enumerate(res):
            # residual / budget in mp: no float overflow for a huge target (1e150 I)
            q, m_text, bud_text = drift_budget_ratio(b, r, ws, g, float(eta), l)
            verdicts.append(decide(F64, q, 1.0))
            if q > worst[0]:
                worst = (q, m_text, bud_text, t, l + 1)
        drift_sizes.append(
            max(fro(b, b.sub(x, y)) for x, y in zip(invariants(b, new), d_old, strict=True))
        )
        ws = new
    verdict = combine_verdicts(verdicts)
    out = CheckResult(
        verdict=verdict,
        measured=worst[0],
        bound=1.0,
        arithmetic="mp",
        precision_bits=b.prec,
        measured_repr="max ||D_l(t+1) - D_l(t) - eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T)||_F "
        "/ budget (computed in mp)",
        bound_repr="1 (budget: 4 gamma_{(L+4)d} x size of terms)",
        evidence={
            "drift_per_step": drift_sizes,
            "eta": eta,
            "worst_residual": worst[1],
            "worst_budget": worst[2],
        },
        notes="rounding budget from Higham's gamma_n at the working precision; the worst "
        f"residual {worst[1]} against its budget {worst[2]} (step {worst[3]}, pair {worst[4]})",
        scope={
            "t": covers(f"t < {steps} GD steps"),
            "eta": covers(f"eta = {eta}"),
            "init": covers(f"1 Xavier init (seed {ctx.seed})"),
            "Phi": covers(f"target {phi!r}" if isinstance(phi, str) else "the user's target"),
            "L": covers(f"L = {L}"),
            "d": covers(f"d = {d}"),
        },
    )
    if verdict is Verdict.VIOLATED:
        out.counterexample = {
            "step": worst[3],
            "l": worst[4],
            "residual": worst[1],
            "budget": worst[2],
            "power_of_eta": power,
        }
    return out


@CARD.check(
    method="symbolic",
    budgets={"quick": {"wrong": None}},
    controls={"eta": {"wrong": "eta"}, "transpose": {"wrong": "transpose"}},
)
def drift_symbolic(ctx: RunContext, *, wrong: str | None) -> CheckResult:
    """The drift identity in the free algebra: every L, d, point, target and eta.

    One GD step ``B -> B - eta G_{l+1}``, ``C -> C - eta G_l`` with the
    gradients of eq. (2.5) at step ``t`` (``A = W_{L:l+2}``, ``B = W_{l+1}``,
    ``C = W_l``, ``F = W_{l-1:1}``, ``E`` free letters; ``eta`` a
    commutative symbol); the identity at an arbitrary point holds at every
    step.  Controls: ``eta`` for ``eta^2``; ``G_l^T`` for ``G_l``.
    """
    return certify(
        proof_sets.drift(wrong=wrong),
        route="free-algebra expansion",
        notes="Every L, d and E (free algebra, eta a commutative symbol).",
        scope={
            "t": covers(
                "every GD step (the one-step identity at an arbitrary point)", universal=True
            ),
            "eta": covers("every eta (commutative symbol)", universal=True),
            "init": covers("every point W_1..W_L (free letters)", universal=True),
            "Phi": covers("every Phi (E a free letter)", universal=True),
            "L": "L",
            "d": "d",
        },
    )


# --- hypothesis property: evaluator and declarations ---


def eval_drift(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.drift: :func:`zascheck.measure.conservation.drift_residuals` is zero
    (exactly; in mp within ``drift_rounding_budget``)."""
    power = int(case.get("power", 2))

    def evaluate(b: Backend) -> Evaluation:
        ws = [b.matrix(w) for w in case["ws"]]
        tgt = Target.whitened(b, case["phi"])
        res, _new, g, _d = drift_residuals(b, ws, tgt, b.scalar(case["eta"]), power=power)
        if b.exact:
            tot = sum((b.fro2(r) for r in res), b.scalar(0))
            return Evaluation(tot, b.scalar(0), 0.0, evidence={"slack": 1.0})
        worst = (0.0, 0.0, math.inf)
        for l, r in enumerate(res):
            m = fro(b, r)
            bud = drift_rounding_budget(b, ws, g, float(case["eta"]), l)
            sl = ratio_slack(m, bud)
            if sl < worst[2]:
                worst = (m, bud, sl)
        return Evaluation(worst[0], worst[1], 0.0, evidence={"slack": worst[2]})

    return escalate(evaluate, start=("mp", 113), ladder=EXACT_LADDER, certify=certify)


CARD.prop(
    None,
    lambda: S.drift_cases(),
    eval_drift,
    certify=True,
    summary="D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T) exactly",
)

CARD.prop(
    "eta-not-squared",
    lambda: S.drift_cases(control="eta-not-squared"),
    eval_drift,
    certify=True,
    summary="eta in place of eta^2: must fail",
)

CARD.search(
    examples=(6, 100, 1000),
    scope={
        "t": "one GD step per case",
        "eta": "eta = 2^-6..1",
        "init": "dyadic points",
        "Phi": "dyadic targets (integer, -I, psd, indefinite)",
        "L": "L = 2..5",
        "d": "d <= 3",
    },
)
