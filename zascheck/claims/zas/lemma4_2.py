"""Lemma 4.2: the invariant matrices D_l are conserved by gradient flow.

Claim (Wu, Wang & Ma, NeurIPS 2019, Sec. 4.1, eq. (4.3) and Lemma 4.2, quoted
from the seed): "Definition. For a deep linear network (2.3), define the
invariant matrix ``D_l = W_{l+1}^T W_{l+1} - W_l W_l^T``, ``l = 1, 2, ...,
L - 1`` (4.3).  Lemma 4.2. The invariant matrices (4.3) are indeed invariances
under continuous-time gradient descent (4.1), i.e., ``D_l(t) = D_l(0)`` for
``l = 1, ..., L - 1`` and ``t >= 0``."

Kind: conservation law (``bound = "exact"``): an identity along the flow
``dW_l/dt = -G_l`` (eq. 4.1 with the gradient of eq. 2.5).

Reading formalized: for every init (every starting point), every target, every
``L >= 2`` (for ``L = 1`` there is no ``D_l``), every ``d`` and every
``t >= 0``: ``dD_l/dt = 0`` at every point, so ``D_l`` is constant wherever
the flow exists, and it exists for all ``t >= 0`` (``d/dt ||W_l||_F^2 =
-2 <W_{L:1}, E>_F`` is bounded because ``R(t) <= R(0)``, so no norm blows up in
finite time).  The paper states the lemma for ``d x d`` layers; the free-algebra
proof also covers compatible rectangular shapes (not a quantifier of the card).

Methods: ``symbolic`` (free algebra: every ``L``, ``d``, point and target;
claim-level ``certified`` rests on it); ``flow`` (Taylor-integrated flow in
ball arithmetic, conservation within the integrator's error estimate:
``holds``); ``search`` (hypothesis cases).  Control: GD steps in place of the
flow (hypothesis "gradient flow" broken).

References: ZAS paper eqs. (2.5), (4.1), (4.3), Lemma 4.2; review 2 of the ZAS
paper calls it "the known fact" (``review.invariance``).
"""

from __future__ import annotations

from typing import Any

from zascheck import dynamics, inits, model
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.escalate import BALL_LADDER, Escalated, Evaluation, escalate
from zascheck.measure.conservation import (
    flow_invariant_change,
    gd_invariant_change,
    invariant_change,
)
from zascheck.measure.evaluation import F64, case_init, ratio_slack
from zascheck.measure.flow import check_flow_request, check_flow_stiffness
from zascheck.measure.symbolic import certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers, decide
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

CARD = Card(
    id="zas.lemma4.2",
    section="A",
    kind="conservation",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Lemma 4.2 and eq. (4.3) (Sec. 4.1)",
    statement="Under gradient flow every D_l(t) = D_l(0), for any init, Phi, L, d.",
    bound="exact",
    quantifiers=(
        Q("t", "t >= 0 (gradient flow)"),
        Q("init", "every initialization"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 2 (D_l exists for L >= 2)"),
        Q("d", "every width d >= 1"),
    ),
    proofs=proof_sets.lemma42,
    depends_on=("zas.gradient",),
)


def _case(
    b: Backend, case: list[Any], phi: Any, times: list[float], evolution: str, eta: float, rng: Any
) -> tuple[float, float, str]:
    """One case ``[init, L, d, target]``: the change of ``D_l`` and its budget."""
    init, L, d, name = case
    if phi is not None:
        phi_m = make_phi(phi, d)
        if phi_m.shape[0] != phi_m.shape[1]:
            raise InputError(f"zas.lemma4.2: the target must be square, got {phi_m.shape}")
        d = phi_m.shape[0]
    ws0 = inits.make(init, L, d, seed=rng)
    target = Target.whitened(b, make_phi(name, d, rng) if phi is None else phi_m)
    if evolution == "flow":
        check_flow_request("zas.lemma4.2:flow", [L], d, times, b.prec, decay=False)
        if phi is not None:
            check_flow_stiffness("zas.lemma4.2:flow", phi_m, [L], max(times), b.prec)
        ch, allow = flow_invariant_change(b, ws0, target, times)
        return ch, allow, "flow"
    steps = max(1, round(times[-1] / eta))
    ch, allow = gd_invariant_change(b, ws0, target, eta, steps)
    return ch, allow, f"gd eta={eta}, {steps} steps"


@CARD.check(
    method="flow",
    budgets={
        "quick": {
            "cases": [
                ["xavier", 3, 2, "gaussian"],
                ["zas", 4, 2, "-I"],
                ["near-identity", 2, 3, "indefinite"],
            ],
            "times": [0.5, 1.0, 2.0],
            "evolution": "flow",
            "arithmetic": "ball",
        },
        "standard": {
            "cases": [
                ["xavier", 3, 2, "gaussian"],
                ["zas", 4, 2, "-I"],
                ["near-identity", 2, 3, "indefinite"],
                ["xavier", 5, 3, "gaussian"],
                ["xavier", 2, 3, "psd"],
            ],
            "times": [0.25, 0.5, 1.0, 2.0, 4.0],
            "evolution": "flow",
            "arithmetic": "ball",
        },
    },
    controls={
        # break "gradient flow": GD steps of size 0.05 do not conserve D_l
        "gd-large-step": {"evolution": "gd", "eta": 0.05},
    },
    accepts_phi=True,
)
def lemma42(
    ctx: RunContext,
    cases: list[list[Any]],
    times: list[float],
    evolution: str,
    arithmetic: str,
    eta: float = 0.05,
    phi: Any = None,
) -> CheckResult:
    """Lemma 4.2 along integrated flows: ``max_{l,t} ||D_l(t) - D_l(0)||_F``.

    For each case ``[init, L, d, target]`` (``L >= 2``; a user target
    ``--phi`` replaces every case's target and sets ``d``) integrate the flow
    at ``ctx.bits(128)`` and compare the change on the grid ``times`` with the
    budget the integrator's error estimate and rounding allow.  ``holds``, not
    a proof: the flow is integrated, not enclosed.  Control: GD steps of size
    ``eta`` (``times[-1] / eta`` of them) in place of the flow.
    """
    if any(int(c[1]) < 2 for c in cases):
        raise InputError("zas.lemma4.2: every case needs L >= 2 (D_l exists for L >= 2)")
    b = ctx.backend(arithmetic, 128)
    rng = ctx.rng(3)
    per: dict[str, dict[str, Any]] = {}
    with b.session():
        for c in cases:
            ch, allow, label = _case(b, c, phi, times, evolution, eta, rng)
            key = "/".join(map(str, c)) if phi is None else f"{c[0]}/L={c[1]}/user target"
            per[key] = {
                "max_change": ch,
                "budget": allow,
                "dynamics": label,
                "verdict": decide(F64, ch, allow).value,
            }
    worst = max(per, key=lambda k: per[k]["max_change"] - per[k]["budget"])
    verdict = combine_verdicts(Verdict(v["verdict"]) for v in per.values())
    res = CheckResult(
        verdict=verdict,
        measured=per[worst]["max_change"],
        bound=per[worst]["budget"],
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max_{l,t} ||D_l(t) - D_l(0)||_F",
        bound_repr="integration-error + rounding budget",
        evidence={"per_case": per},
        notes="flow integrated by Taylor series; conservation is checked against the "
        "integrator's error estimate, so the verdict is 'holds', not a proof (the symbolic "
        "check proves the identity for every L, d)",
        scope={
            "t": covers(f"t in {times} ({'flow' if evolution == 'flow' else 'GD steps'})"),
            "init": covers(", ".join(sorted({str(c[0]) for c in cases}))),
            "Phi": covers(
                "the user's target"
                if phi is not None
                else ", ".join(sorted({str(c[3]) for c in cases})) + " targets"
            ),
            "L": covers(f"L in {sorted({int(c[1]) for c in cases})}"),
            "d": covers(
                f"d in {sorted({int(c[2]) for c in cases})}"
                if phi is None
                else f"d = {make_phi(phi, 0).shape[0]}"
            ),
        },
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = {"case": worst, **per[worst]}
    return res


@CARD.check(
    method="symbolic",
    budgets={"quick": {"wrong": None}},
    controls={"transpose": {"wrong": "transpose"}, "factor": {"wrong": "factor"}},
)
def lemma42_symbolic(ctx: RunContext, *, wrong: str | None) -> CheckResult:
    """Lemma 4.2: dD_l/dt = 0 identically along the gradient flow, in the free algebra.

    With ``A = W_{L:l+2}``, ``B = W_{l+1}``, ``C = W_l``, ``F = W_{l-1:1}``
    and ``E`` free non-commuting letters, ``dB/dt = -A^T E (C F)^T`` and
    ``dC/dt = -(A B)^T E F^T`` make ``d/dt (B^T B - C C^T)`` expand to 0:
    every ``L``, ``d``, point (so every init and every ``t``) and target.
    Controls: a wrong gradient (``G^T``; the factor ``W_{l-1:1}^T`` dropped).
    """
    return certify(
        proof_sets.lemma42(wrong=wrong),
        route="free-algebra expansion",
        notes="Every L, d and E (free algebra); ends l = 1, L-1 are A = 1 / F = 1.",
        scope={
            "t": covers(
                "every t >= 0 (dD_l/dt = 0 at every point; the flow exists for all t)",
                universal=True,
            ),
            "init": covers("every point W_1..W_L (free letters)", universal=True),
            "Phi": covers("every Phi (E a free letter)", universal=True),
            "L": "L",
            "d": "d",
        },
    )


# --- hypothesis property: evaluator and declarations ---


def eval_lemma42(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.lemma4.2: ``max_l ||D_l(t) - D_l(0)||_F`` along the flow within
    :func:`zascheck.measure.conservation.invariant_change`'s budget (the
    control replaces the flow by one GD step of size ``eta``)."""
    L, d = int(case["L"]), int(case["d"])
    ws_in = case.get("ws") or case_init(case, L, d)

    def evaluate(b: Backend) -> Evaluation:
        tgt = Target.whitened(b, case["phi"])
        w0 = [b.matrix(w) for w in ws_in]
        if "eta" in case:
            wt = model.gd_update(b, w0, model.grads(b, w0, tgt), b.scalar(case["eta"]))
            dw = 0.0
        else:
            run = dynamics.flow(b, ws_in, tgt, [0.0, float(case["t"])])
            wt, dw = run.ws[-1], run.error_estimate
        ch, allow = invariant_change(b, w0, wt, dw)
        return Evaluation(
            ch,
            allow,
            0.0,
            verdict=decide(F64, ch, allow),
            evidence={"slack": ratio_slack(ch, allow), "integration_error": dw},
        )

    return escalate(evaluate, ladder=BALL_LADDER[:3], certify=False)


CARD.prop(
    None,
    lambda: S.lemma42_cases(),
    eval_lemma42,
    certify=False,
    summary="D_l(t) = D_l(0) along the flow, any init/target",
)

CARD.prop(
    "gd-step",
    lambda: S.lemma42_cases(control="gd-step"),
    eval_lemma42,
    certify=False,
    summary="one GD step in place of the flow: D_l moves",
)

CARD.search(
    examples=(3, 60, 400),
    scope={
        "t": "t = 1/4..2",
        "init": "dyadic points, zas, near-identity, xavier, alpha-zas, last-cI",
        "Phi": "random targets",
        "L": "L <= 4",
        "d": "d <= 3",
    },
)
