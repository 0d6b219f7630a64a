"""Under ZAS D_l = 0 (l <= L-2), D_{L-1} = -I; W_{L-1:1}W_{L-1:1}^T = (I + W_L^T W_L)^{L-1}; ||G_L||_F^2 >= 2R; dR/dt = -sum_l ||G_l||_F^2.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), proof of Theorem 4.1.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from zascheck import inits, model
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import Escalated, Evaluation, escalate
from zascheck.result import combine_verdicts
from zascheck.measure.common import loss_error_bound
from zascheck.measure.evaluation import lagrange_derivative_at_zero, steps_weights
from zascheck.measure.paper import _F, _mid_rad, _pow, _step_budgets, flow_restarted
from zascheck.measure.symbolic import _certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

CARD = Card(
    id="zas.thm4.1.steps",
    section="A",
    kind="identity / inequality",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), proof of Theorem 4.1",
    statement="Under ZAS D_l = 0 (l <= L-2), D_{L-1} = -I; W_{L-1:1}W_{L-1:1}^T = (I + W_L^T W_L)^{L-1}; ||G_L||_F^2 >= 2R; dR/dt = -sum_l ||G_l||_F^2.",
    bound="lower",
    quantifiers=(
        Q("t", "t >= 0 (gradient flow from ZAS)"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
        Q("d", "every width d >= 1"),
    ),
    proofs=proof_sets.thm41_steps,
    depends_on=("zas.lemma4.2", "zas.gradient"),
)


@CARD.check(
    method="numeric",
    budgets={
        "quick": {
            "depths": [2, 3, 5],
            "d": 2,
            "phi": "gaussian",
            "init": "zas",
            "times": [0.0, 0.25, 0.5, 1.0, 2.0, 3.0],
            "arithmetic": "ball",
        },
        "standard": {
            "depths": [2, 3, 5, 8],
            "d": 3,
            "phi": "gaussian",
            "init": "zas",
            "times": [0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0],
            "arithmetic": "ball",
        },
    },
    controls={
        # break "ZAS init": near-identity init (5.1) against Shamir's target -I
        "near-identity-init": {"init": "near-identity", "phi": "-I", "depths": [4]},
    },
    accepts_phi=True,
)
def thm41_steps(
    ctx: RunContext,
    depths: list[int],
    d: int,
    phi: Any,
    init: str,
    times: list[float],
    arithmetic: str,
) -> CheckResult:
    """The steps of the proof of Theorem 4.1 (ZAS paper, Sec. 4.1), each on
    its own along gradient flow from ZAS:

    (i)   ``D_l = 0`` (``l <= L-2``) and ``D_{L-1} = -I`` for all ``t``;
    (ii)  ``W_{L-1:1} W_{L-1:1}^T = (I + W_L^T W_L)^{L-1}``;
    (iii) ``||G_L||_F^2 >= 2R``;
    (iv)  ``dR/dt = -sum_l ||G_l||_F^2``.

    Reading formalized: for each depth, integrate the flow in ball arithmetic
    at ``ctx.bits(128)`` bits (Taylor method) and sample it at ``times``.
    The flow is restarted from the balls' midpoints at every grid time
    (:func:`flow_restarted`), the dropped radii added to the error ``dw``.
    (i)/(ii): the residuals ``||D_l - D_l^ZAS||_F`` and ``||W_{L-1:1}
    W_{L-1:1}^T - (I + W_L^T W_L)^{L-1}||_F`` (upper ends of the balls) must
    stay within the budget that an error of ``dw`` (the integrator's error
    estimate) per layer allows (:func:`_step_budgets`); at ``t = 0`` the
    values are decided by enclosure with no budget (``certified``).  For
    ``t > 0`` the residual is the norm of the balls' midpoints and the ball
    radii (which grow through the Taylor steps by the wrapping effect) count
    toward the budget, as in ``zas.lemma4.2``.
    (iii): ``||G_L||^2 - 2R >= 0`` beyond the same budget; at ``t = 0`` it is
    an equality under ZAS, decided by enclosure.  (iv): ``dR/dt`` along the
    computed trajectory by the 4-point central stencil with
    ``h = 2^-(prec/4)``; its error is bounded by its difference from the
    2-point stencil (an embedded pair) plus ``18/(12h)`` times the loss error
    of ``dw`` (:func:`zascheck.checks.common.loss_error_bound`).
    measured = ``min ||G_L||^2 / (2R)`` over depths and ``t`` (bound 1,
    ``>=``); every step's verdict is in ``evidence``.  Control: a near-identity
    init with ``Phi = -I`` breaks (i) and with it (ii)-(iii).
    """
    b = ctx.backend(arithmetic, 128)
    phi_m = make_phi(phi, d, ctx.rng(101))
    d = phi_m.shape[0]
    h = 2.0 ** (-(b.prec // 4))
    per: dict[str, Any] = {}
    all_v: list[Verdict] = []
    worst_ratio: tuple[float, int, float] | None = None
    first_bad: dict[str, Any] | None = None
    with b.session():
        target = Target.whitened(b, phi_m)
        for L in depths:
            if L < 2:
                continue
            ws0 = inits.make(init, L, d, seed=ctx.rng(102 + L))
            grid = sorted({float(t) for t in times} | {0.0})
            at, errs, nsteps = flow_restarted(b, ws0, target, grid, (-2 * h, -h, h, 2 * h))
            eye = b.eye(d)
            rec: dict[str, Any] = {
                k: []
                for k in (
                    "t",
                    "D_residual",
                    "D_budget",
                    "D_verdict",
                    "identity_residual",
                    "identity_budget",
                    "identity_verdict",
                    "gl2_over_2R",
                    "gl2_verdict",
                    "dRdt_residual",
                    "dRdt_budget",
                    "dRdt",
                    "dRdt_verdict",
                    "loss",
                )
            }
            for t in grid:
                ws = at[t]
                exact_point = t == 0.0
                dw = errs[t]
                bud = _step_budgets(b, ws, target, 0.0 if exact_point else dw)
                r, g = model.loss_and_grads(b, ws, target)
                rec["t"].append(t)
                rec["loss"].append(b.to_float(r))
                # (i) invariants at their ZAS values
                dls = model.invariants(b, ws)
                dres, dbud, dv = 0.0, 0.0, []
                for l, dl in enumerate(dls):
                    ref = b.scale(b.scalar(-1), eye) if l == L - 2 else b.zeros(d, d)
                    diff = b.sub(dl, ref)
                    mid, rad = _mid_rad(b, diff)
                    if exact_point:
                        dv.append(decide(b, b.fro2(diff), b.scalar(0)))
                    else:
                        dv.append(decide(_F, mid, bud["D"][l] + rad))
                    dres, dbud = max(dres, mid), max(dbud, bud["D"][l] + rad)
                v_d = combine_verdicts(dv)
                rec["D_residual"].append(dres)
                rec["D_budget"].append(dbud)
                rec["D_verdict"].append(v_d.value)
                # (ii) the product identity
                q = model.prefixes(b, ws)[L - 1]
                lhs = b.mm(q, b.T(q))
                rhs = _pow(b, b.add(eye, b.mm(b.T(ws[-1]), ws[-1])), L - 1)
                idiff = b.sub(lhs, rhs)
                imid, irad = _mid_rad(b, idiff)
                v_i = (
                    decide(b, b.fro2(idiff), b.scalar(0))
                    if exact_point
                    else decide(_F, imid, bud["identity"] + irad)
                )
                rec["identity_residual"].append(imid)
                rec["identity_budget"].append(bud["identity"] + irad)
                rec["identity_verdict"].append(v_i.value)
                # (iii) gradient bound
                gl2 = b.fro2(g[-1])
                two_r = 2 * r
                v_g = (
                    decide(b, gl2, two_r, relation=">=")
                    if exact_point
                    else decide(b, gl2, two_r, relation=">=", err=bud["gl2"] + 2 * bud["R"])
                )
                rf = b.to_float(r)
                ratio = b.to_float(gl2) / (2 * rf) if rf > 0 else math.inf
                rec["gl2_over_2R"].append(ratio)
                rec["gl2_verdict"].append(v_g.value)
                if worst_ratio is None or ratio < worst_ratio[0]:
                    worst_ratio = (ratio, L, t)
                # (iv) dR/dt by central differences along the trajectory
                v_r: Verdict | None = None
                if t - 2 * h > 0:
                    rv = {k: model.loss(b, at[t + k * h], target) for k in (-2, -1, 1, 2)}
                    hb = b.scalar(h)
                    d2 = (rv[1] - rv[-1]) / (2 * hb)
                    d4 = (8 * (rv[1] - rv[-1]) - (rv[2] - rv[-2])) / (12 * hb)
                    sum_g = sum((b.fro2(x) for x in g), b.scalar(0))
                    resid = abs(b.to_float(d4 + sum_g))
                    dr = loss_error_bound(b, ws, target, dw)
                    budget = (
                        abs(b.to_float(d4 - d2))
                        + 18 * dr / (12 * h)
                        + b.radius(d4 + sum_g)
                        + b.radius(d4 - d2)
                    )
                    v_r = decide(_F, resid, budget)
                    rec["dRdt_residual"].append(resid)
                    rec["dRdt_budget"].append(budget)
                    rec["dRdt"].append(b.to_float(d4))
                    rec["dRdt_verdict"].append(v_r.value)
                else:
                    for k in ("dRdt_residual", "dRdt_budget", "dRdt", "dRdt_verdict"):
                        rec[k].append(None)
                vs = [v_d, v_i, v_g] + ([v_r] if v_r is not None else [])
                all_v.extend(vs)
                if first_bad is None and Verdict.VIOLATED in vs:
                    names = ["D_l = ZAS values", "product identity", "||G_L||^2 >= 2R", "dR/dt"]
                    first_bad = {
                        "L": L,
                        "t": t,
                        "init": init,
                        "failed": [
                            nm for nm, v in zip(names, vs, strict=False) if v is Verdict.VIOLATED
                        ],
                        "D_residual": dres,
                        "gl2_over_2R": ratio,
                        "identity_residual": rec["identity_residual"][-1],
                    }
            rec["error_estimate"] = [errs[t] for t in grid]
            rec["taylor_steps"] = nsteps
            per[str(L)] = rec
    verdict = combine_verdicts(all_v)
    measured = worst_ratio[0] if worst_ratio else None
    step_v = {
        k: combine_verdicts(
            Verdict(v) for rec in per.values() for v in rec[k] if v is not None
        ).value
        for k in ("D_verdict", "identity_verdict", "gl2_verdict", "dRdt_verdict")
    }
    res = CheckResult(
        verdict=verdict,
        measured=measured,
        bound=1.0,
        margin=None if measured is None else measured - 1.0,
        relation=">=",
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="min_{L,t} ||G_L||_F^2 / (2R)",
        evidence={"per_depth": per, "step_verdicts": step_v, "phi": phi_m, "h": h},
        notes=(
            "steps (i) D_l = ZAS values, (ii) product identity, (iii) ||G_L||^2 >= 2R, "
            f"(iv) dR/dt = -sum ||G_l||^2: {step_v}; t = 0 decided by enclosure, t > 0 "
            "against the integrator's error estimate (holds, not a proof)"
        ),
    )
    if worst_ratio is not None:
        res.tightest = {"L": worst_ratio[1], "t": worst_ratio[2], "ratio": worst_ratio[0]}
    if verdict is Verdict.VIOLATED:
        res.counterexample = first_bad
    return res


@CARD.check(
    method="symbolic",
    budgets={
        "quick": {"L_max": 6, "k_max": 6, "Lf_max": 3, "wrong": None},
        "standard": {"L_max": 8, "k_max": 8, "Lf_max": 4, "wrong": None},
    },
    controls={
        "sign": {"wrong": "sign"},
        "unbalanced": {"wrong": "unbalanced"},
        "half": {"wrong": "half"},
    },
)
def thm41_steps_symbolic(
    ctx: RunContext, *, L_max: int, k_max: int, Lf_max: int, wrong: str | None
) -> CheckResult:
    """The identities in the proof of Theorem 4.1.

    Claim: zas.thm4.1.steps (ZAS paper, proof of Theorem 4.1).  Readings formalized:
    (a) ZAS gives D_l(0) = 0 (l <= L-2), D_{L-1}(0) = -I (explicit L <= L_max);
    (b) balancedness W_{j+1}^T W_{j+1} = W_j W_j^T implies W_{k:1}W_{k:1}^T = (W_k W_k^T)^k:
        induction step proven for symbolic k (opaque power letters + push-through lemma),
        explicit k <= k_max by rewriting;
    (c) hence W_{L-1:1}W_{L-1:1}^T = (I + W_L^T W_L)^{L-1} (explicit L <= L_max by rewriting;
        every L from (b) by substituting W_{L-1}W_{L-1}^T = I + W_L^T W_L);
    (d) (I + S)^k - I is a sum of Gram matrices (so >= 0): the step to ||G_L||_F^2 >= 2R,
        which also uses that W^T W and W W^T share eigenvalues for square W (not symbolic);
    (e) dR/dt = -sum_l ||G_l||_F^2: per layer for every L (trace normal form), all
        layers at once for explicit L <= Lf_max.
    """
    return _certify(
        CARD.proofs(L_max=L_max, k_max=k_max, Lf_max=Lf_max, wrong=wrong),
        route="induction with opaque powers, rewriting, trace normal form",
        notes=f"(b) certified for every k (base + step) and explicitly for k <= {k_max}; "
        f"(a), (c), (d) explicit L <= {L_max}; (e) every L per layer, explicit L <= {Lf_max} "
        "all layers. The inequality ||G_L||^2 >= 2R additionally needs "
        "lambda_min(W^T W) = lambda_min(W W^T) for square W (d x d layers).",
    )


# --- hypothesis property: evaluator and declarations ---


def eval_steps(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.thm4.1.steps, exactly at a rational point with the ZAS invariants:
    (a) ``D_l = 0``, ``D_{L-1} = -I`` (also at ``inits.zas``);
    (b) ``W_{L-1:1} W_{L-1:1}^T = (I + W_L^T W_L)^{L-1}``;
    (c) ``||G_L||_F^2 >= 2R``;
    (d) ``dR/dt = -sum_l ||G_l||_F^2`` (the derivative of ``R(W - h G)`` at
    ``h = 0``, exact by interpolation at ``2L + 1`` rational nodes)."""
    L, d = int(case["L"]), int(case["d"])
    control = bool(case.get("balanced_last"))

    def evaluate(e: Backend) -> Evaluation:
        ws = steps_weights(e, case)
        tgt = Target.whitened(e, case["phi"])
        eye = e.eye(d)
        zero = e.scalar(0)
        bad: list[str] = []
        if not control:  # (a): the hypotheses, at the point and at ZAS itself
            for pt in (ws, [e.matrix(w) for w in inits.zas(L, d)]):
                dl = model.invariants(e, pt)
                for l, m in enumerate(dl):
                    want = e.scale(e.scalar(-1), eye) if l == L - 2 else e.zeros(d, d)
                    if e.fro2(e.sub(m, want)) != zero:
                        bad.append(f"D_{l + 1}")
        # (b)
        if L >= 2:
            a = model.end_to_end(e, ws[:-1])
            lhs = e.mm(a, e.T(a))
            base = e.add(eye, e.mm(e.T(ws[-1]), ws[-1]))
            rhs = eye
            for _ in range(L - 1):
                rhs = e.mm(rhs, base)
            if e.fro2(e.sub(lhs, rhs)) != zero:
                bad.append("product identity")
        # (c)
        r, g = model.loss_and_grads(e, ws, tgt)
        gl2 = e.fro2(g[-1])
        v_c = decide(e, gl2, 2 * r, relation=">=")
        # (d)
        nodes = [Fraction(k, 2) for k in range(-L, L + 1)]
        wts = lagrange_derivative_at_zero(nodes)
        deriv = zero
        for h, c in zip(nodes, wts, strict=False):
            wh = [e.sub(w, e.scale(e.scalar(h), gl)) for w, gl in zip(ws, g, strict=False)]
            deriv += e.scalar(c) * model.loss(e, wh, tgt)
        if deriv != -sum((e.fro2(x) for x in g), zero):
            bad.append("dR/dt")
        verdict = Verdict.VIOLATED if bad or v_c is Verdict.VIOLATED else v_c
        rf, gf = e.to_float(r), e.to_float(gl2)
        slack = (gf - 2 * rf) / (2 * rf) if rf > 0 else 1.0
        return Evaluation(
            gl2,
            2 * r,
            0.0,
            verdict=verdict,
            evidence={
                "slack": slack,
                "failed": bad,
                "gradL2_over_2R": gf / (2 * rf) if rf else None,
            },
        )

    return escalate(evaluate, relation=">=", start=("exact", 0), ladder=())


CARD.prop(
    None,
    lambda: S.steps_cases(),
    eval_steps,
    certify=True,
    summary="D-conditions => product identity => ||G_L||^2 >= 2R; dR/dt = -sum ||G_l||^2 (exact)",
)

CARD.prop(
    "balanced-last-layer",
    lambda: S.steps_cases(balanced_last=True),
    eval_steps,
    certify=True,
    summary="D_{L-1} = 0 in place of -I: the consequences fail",
)

CARD.search(examples=(6, 100, 1000))
