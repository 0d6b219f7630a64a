"""The steps of the proof of Theorem 4.1 (ZAS paper), each checkable on its own.

Source: Wu, Wang & Ma, "Global Convergence of Gradient Descent for Deep Linear
Residual Networks", NeurIPS 2019, Sec. 4.1, proof of Theorem 4.1 (with Lemma
4.2 and eq. 4.4):

    "Proof of Theorem 4.1. From the ZAS initialization, D_l(t) = D_l(0) = 0,
    l = 1, ..., L - 2 and D_{L-1}(t) = D_{L-1}(0) = -I, i.e.
    W_l W_l^T = W_{l+1}^T W_{l+1}, l = 1, ..., L-2,
    W_{L-1} W_{L-1}^T = I + W_L^T W_L.
    [...] W_{L-1:1} W_{L-1:1}^T = (W_{L-1} W_{L-1}^T)^{L-1} = (I + W_L^T W_L)^{L-1}
    [...] ||grad_L R||_F^2 = ||(W_{L:1} - Phi) W_{L-1:1}^T||_F^2
          >= sigma_min^2(W_{L-1:1}) ||W_{L:1} - Phi||_F^2 = lambda_min((I + W_L^T W_L)^{L-1}) 2R
          >= 2R.                                                         (4.4)
    Then dR/dt = sum_l tr(grad_l R^T dW_l/dt) = -sum_l ||grad_l R||_F^2
          <= -||grad_L R||_F^2 <= -2R.  Therefore, R(t) <= e^{-2t} R(0)."

(The PDF text is garbled; the formulas are the catalogue's clean versions.)

Kind: identities (i), (ii), (iv) and an inequality (iii), along gradient flow
(4.1) from ZAS (3.1), for every ``t >= 0``, ``Phi``, ``L >= 2`` (for ``L = 1``
the steps are empty or trivial), ``d``.  Parts, each with its own result:

* ``D_l``: (i) ``D_l = 0`` (``l <= L-2``), ``D_{L-1} = -I`` for all ``t``;
* ``product-identity``: (ii) ``W_{L-1:1} W_{L-1:1}^T = (I + W_L^T W_L)^{L-1}``;
* ``gradient-bound``: (iii) ``||G_L||_F^2 >= 2R`` (a lower bound, equality at
  ``t = 0`` under ZAS; not claimed tight later);
* ``dR/dt``: (iv) ``dR/dt = -sum_l ||G_l||_F^2``.

Readings formalized.  Method ``numeric``: each part along the integrated flow
(ball arithmetic, Taylor method) on a time grid, against the budget that the
integrator's per-layer error estimates allow; ``dR/dt`` is differentiated
along the computed trajectory (an independent route to the derivative: a
finite-difference stencil of the loss, not the gradient formula).  The flow is
integrated, not enclosed: ``holds`` at best, scope = the grid reached, one
target, the depths run.  Method ``symbolic``: (i)-(iv) as algebraic identities
(free algebra, trace normal form; explicit sizes where stated in its notes).
Method ``search``: exact rational points satisfying (i), hypothesis-driven.
Not formalized here: the step from (iii) to Theorem 4.1 itself (zas.thm4.1),
and ``lambda_min(W^T W) = lambda_min(W W^T)`` for square ``W`` (standard).

References: ZAS paper Sec. 4.1 (Lemma 4.2 = zas.lemma4.2; eq. 2.5 =
zas.gradient).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import inits, model
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import Escalated, Evaluation, escalate
from zascheck.measure.common import stationary_point
from zascheck.measure.evaluation import lagrange_derivative_at_zero, steps_weights
from zascheck.measure.flow import bits_to_decide, check_flow_stiffness
from zascheck.measure.flow_steps import loss_derivative, matrix_power, sampled_flow, step_budgets
from zascheck.measure.symbolic import _certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers, decide
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

#: the parts of the statement, in the proof's order (see the module docstring)
PARTS = ("D_l", "product-identity", "gradient-bound", "dR/dt")

CARD = Card(
    id="zas.thm4.1.steps",
    section="A",
    kind="identity / inequality",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), proof of Theorem 4.1 (Sec. 4.1, eq. 4.4)",
    statement="Under ZAS D_l = 0 (l <= L-2), D_{L-1} = -I; W_{L-1:1}W_{L-1:1}^T = (I + W_L^T W_L)^{L-1}; ||G_L||_F^2 >= 2R; dR/dt = -sum_l ||G_l||_F^2.",
    bound="lower",
    quantifiers=(
        Q("t", "every t >= 0 (gradient flow (4.1) from ZAS)"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 2"),
        Q("d", "every width d >= 1"),
    ),
    parts=PARTS,
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
            "max_steps": 2000,
        },
        "standard": {
            "depths": [2, 3, 5, 8],
            "d": 3,
            "phi": "gaussian",
            "init": "zas",
            "times": [0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0],
            "arithmetic": "ball",
            "max_steps": 5000,
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
    max_steps: int = 2000,
) -> CheckResult:
    """The four steps of the proof of Theorem 4.1 along the integrated flow.

    For each depth ``L >= 2`` the flow from ``init`` is integrated in ball
    arithmetic at ``ctx.bits(128)`` bits (at most ``max_steps`` Taylor steps:
    a stiff target is followed only as far as that allows, and the scope
    says how far) and sampled at ``times``.  At each sample, with ``dw_l``
    the integrator's error estimate of layer ``l``
    (:func:`zascheck.measure.flow_steps.step_budgets`, all in the working
    arithmetic):

    (i)   ``||D_l - D_l^ZAS||_F`` within the budget ``dw`` allows;
    (ii)  ``||W_{L-1:1} W_{L-1:1}^T - (I + W_L^T W_L)^{L-1}||_F`` likewise;
    (iii) ``||G_L||_F^2 - 2R >= budget`` certain (``holds``), ``<= -budget``
          certain (``violated``), else ``inconclusive`` (with the precision
          that would decide);
    (iv)  ``|dR/dt + sum_l ||G_l||_F^2|`` within the derivative's budget,
          ``dR/dt`` by the one-sided 5-point stencil along the flow restarted
          at the sample (:func:`zascheck.measure.flow_steps.loss_derivative`,
          ``h = 2^-(prec/5)`` over the flow's rate, so that the stencil's
          truncation, estimated by the embedded 4-point stencil, is well
          above the rounding the balls carry).

    The identities (i), (ii), (iv) hold when their residual's enclosure is
    consistent with the budget (:func:`_consistent`) and are violated when it
    certainly exceeds it; at ``t = 0`` (the exact initial point, no budget)
    an exact zero certifies (i)-(iii); later they ``hold`` against an
    estimate.
    Each step is a part (``parts``): measured = the largest residual / budget
    over ``t > 0`` (bound 1) for (i), (ii), (iv), and the smallest
    ``||G_L||_F^2 / (2R)`` over ``t > 0`` (bound 1, ``>=``) for (iii), which
    is also the main result's measured (at ``t = 0`` it is 1 by construction:
    not counted).  Control: a near-identity init with ``Phi = -I`` breaks (i)
    and with it (ii)-(iii).
    """
    b = ctx.backend(arithmetic, 128)
    phi_m = make_phi(phi, d, ctx.rng(101))
    d = phi_m.shape[0]
    # refused when the step budget cannot reach even the first sample t > 0 (a stiff flow)
    first = min((float(t) for t in times if t > 0), default=0.0)
    check_flow_stiffness("zas.thm4.1.steps:numeric", phi_m, depths, first, b.prec, max_steps)
    per: dict[int, list[dict[str, Any]]] = {}
    reached: dict[int, float] = {}
    still: set[int] = set()  # depths whose init is a stationary point (Phi = 0)
    with b.session():
        target = Target.whitened(b, phi_m)
        for L in (L for L in depths if L >= 2):
            ws0 = inits.make(init, L, d, seed=ctx.rng(102 + L))
            run = sampled_flow(b, ws0, target, times, max_steps)
            per[L] = [
                _steps_at(b, target, L, t, ws, lerr)
                for t, ws, lerr in zip(run.times, run.ws, run.layer_errors, strict=True)
            ]
            reached[L] = run.stopped_at if run.stopped_at is not None else max(run.times)
            if stationary_point(b, [b.matrix(w) for w in ws0], target):
                still.add(L)
    grid = sorted({0.0, *map(float, times)})
    return _steps_result(b, per, (reached, still), phi_m, phi, init, grid)


def _consistent(b: Backend, x2: Any, bud: Any) -> tuple[float | None, Verdict]:
    """An identity's residual ``x = sqrt(x2) >= 0`` (its square an enclosure)
    against the budget ``bud`` (backend scalars).  The identity holds at the
    exact flow, so the residual at the computed point must lie within
    ``bud``; the enclosure of ``x`` carries the rounding of its evaluation.
    ``violated`` when ``x > bud`` is certain; otherwise ``holds`` (the two
    are consistent: an identity has no third case), and at a budget of 0 on
    an exact point ``certified`` when ``x2 = 0`` exactly.  Also returns
    ``mid(x) / (bud + rad(x))`` (``<= 1`` exactly when consistent) for tables."""
    zero = b.scalar(0)
    x_up = b.sqrt(b.upper(x2))
    x_lo = b.sqrt(b.upper(-b.upper(-x2)) if b.lt(zero, x2) is True else zero)
    if b.lt(bud * bud, x2) is True:
        v = Verdict.VIOLATED
    elif b.le(x2, zero) is True:
        v = Verdict.CERTIFIED if b.le(bud, zero) is True else Verdict.HOLDS
    else:
        v = Verdict.HOLDS
    return _ratio(b, (x_up + x_lo) / 2, bud + (x_up - x_lo) / 2), v


def _ratio(b: Backend, x: Any, y: Any) -> float | None:
    """``x / y`` as a double for tables (``None`` when ``y`` is not certainly > 0)."""
    if b.lt(b.scalar(0), y) is not True:
        return None
    f = b.to_float(x / y)
    return f if math.isfinite(f) else None


def _bits_for_gradient_bound(
    b: Backend, ws: list[Any], target: Target, r: Any, allow: Any
) -> int | None:
    """The precision at which step (iii) would be decided where it is not:
    ``||G_L||^2 / (2R) - 1`` is, to leading order in ``W_L``, ``(L-1)
    ||E W_L^T||_F^2 / ||E||_F^2`` (from ``(I + W_L^T W_L)^{L-1}``), computed
    without cancellation; the budget scales like ``2^-prec``
    (:func:`zascheck.measure.flow.bits_to_decide`)."""
    e = model.residual(b, model.end_to_end(b, ws), target)
    gap = b.scalar(len(ws) - 1) * b.fro2(b.mm(e, b.T(ws[-1]))) / b.fro2(e)
    rel = allow / (2 * r)
    if b.lt(b.scalar(0), gap) is not True or b.lt(b.scalar(0), rel) is not True:
        return None
    ln2 = math.log(2)
    return bits_to_decide(b.prec, [-b.to_float(b.log(rel)) / ln2], [b.to_float(b.log(gap)) / ln2])


def _steps_at(
    b: Backend, target: Target, L: int, t: float, ws: list[Any], lerr: list[Any]
) -> dict[str, Any]:
    """Each step of the proof at one sample of the flow: ``{part: (ratio,
    verdict)}`` plus the loss.  At ``t = 0`` the point is exact (no budget)."""
    d = b.shape(ws[0])[0]
    eye = b.eye(d)
    bud = step_budgets(b, ws, target, lerr)
    out: dict[str, Any] = {"t": t, "loss": b.to_str(model.loss(b, ws, target), 8)}
    # (i) the invariants at their ZAS values
    worst: tuple[float, Verdict] = (0.0, Verdict.HOLDS)
    vs = []
    for l, dl in enumerate(model.invariants(b, ws)):
        ref = b.scale(b.scalar(-1), eye) if l == L - 2 else b.zeros(d, d)
        q, v = _consistent(b, b.fro2(b.sub(dl, ref)), bud["D"][l])
        vs.append(v)
        worst = max(worst, (q if q is not None else 0.0, v), key=lambda z: z[0])
    out["D_l"] = (worst[0] if t > 0 else None, combine_verdicts(vs))
    # (ii) the product identity
    qm = model.prefixes(b, ws)[L - 1]
    rhs = matrix_power(b, b.add(eye, b.mm(b.T(ws[-1]), ws[-1])), L - 1)
    q, v = _consistent(b, b.fro2(b.sub(b.mm(qm, b.T(qm)), rhs)), bud["identity"])
    out["product-identity"] = (q if t > 0 else None, v)
    # (iii) the gradient bound, as a difference (no division by a loss that may be 0)
    r, g = model.loss_and_grads(b, ws, target)
    gl2, allow = b.fro2(g[-1]), bud["gl2"] + 2 * bud["R"]
    diff = gl2 - 2 * r
    v3 = (
        Verdict.HOLDS
        if b.le(allow, diff) is True
        else Verdict.VIOLATED
        if b.lt(diff, -allow) is True
        else Verdict.INCONCLUSIVE
    )
    out["gradient-bound"] = (_ratio(b, gl2, 2 * r) if t > 0 else None, v3)
    if v3 is Verdict.INCONCLUSIVE:  # what a higher precision would have to resolve
        out["gradient-bound_bits"] = _bits_for_gradient_bound(b, ws, target, r, allow)
    # (iv) dR/dt along the flow against -sum_l ||G_l||_F^2
    sum_g = sum((b.fro2(x) for x in g), b.scalar(0))
    rate = _ratio(b, sum_g, r) or 1.0
    h = Fraction(1, 2 ** (b.prec // 5 + max(0, math.ceil(math.log2(max(rate, 1.0))))))
    try:
        d4, fd_bud = loss_derivative(b, ws, target, h)
    except ArithmeticError as exc:  # a flow too stiff to restart over the stencil's 4h
        out["dR/dt"] = (None, Verdict.INCONCLUSIVE)
        out["dR/dt_value"] = f"not measured: {exc}"
    else:
        q, v = _consistent(b, (d4 + sum_g) * (d4 + sum_g), fd_bud)
        out["dR/dt"] = (q, Verdict.HOLDS if v is Verdict.CERTIFIED else v)  # a stencil: no proof
        out["dR/dt_value"] = b.to_str(d4, 10)
    if t == 0.0 and v3 is Verdict.HOLDS:  # (iii) at the exact init: decided by enclosure
        out["gradient-bound"] = (None, Verdict.CERTIFIED)
    return out


_PART_TEXT = {
    "D_l": ("max_{L,t>0} ||D_l - D_l^ZAS||_F / budget", "<="),
    "product-identity": (
        "max_{L,t>0} ||W_{L-1:1}W_{L-1:1}^T - (I+W_L^T W_L)^{L-1}||_F / budget",
        "<=",
    ),
    "gradient-bound": ("min_{L,t>0} ||G_L||_F^2 / (2R)", ">="),
    "dR/dt": ("max_{L,t} |dR/dt + sum_l ||G_l||_F^2| / budget", "<="),
}


def _steps_scope(
    per: dict[int, list[dict[str, Any]]],
    reached: dict[int, float],
    phi_m: np.ndarray,
    phi_spec: Any,
    grid: list[float],
) -> dict[str, Any]:
    """The grid reached (t = 0 exact), the one target, the depths, the width."""
    got = sorted({rec["t"] for recs in per.values() for rec in recs})
    short = [f"L = {L} to t = {reached[L]:.3g}" for L in per if reached[L] < max(grid)]
    t_cov = "t in {" + ", ".join(f"{t:g}" for t in got) + "} (t = 0: the exact initial point)"
    if short:
        t_cov += f"; stiff flow followed only {', '.join(short)} within the step budget"
    big = float(np.max(np.abs(phi_m))) if phi_m.size else 0.0
    nrm = big * float(np.linalg.norm(phi_m / big)) if big > 0 else 0.0
    kind = phi_spec if isinstance(phi_spec, str) else "given"
    return {
        "t": covers(t_cov),
        "Phi": covers(f"one {kind} target, ||Phi||_F = {nrm:.3g}"),
        "L": covers("L in {" + ", ".join(map(str, per)) + "}"),
        "d": covers(f"d = {phi_m.shape[0]}"),
    }


def _part_result(
    b: Backend, part: str, per: dict[int, list[dict[str, Any]]], scope: dict[str, Any]
) -> CheckResult:
    """One step of the proof over every depth and sample."""
    text, relation = _PART_TEXT[part]
    cells = [(L, rec["t"], *rec[part]) for L, recs in per.items() for rec in recs]
    verdict = combine_verdicts(c[3] for c in cells)
    vals = [(c[2], c[0], c[1]) for c in cells if c[2] is not None]
    pick = min if relation == ">=" else max
    best = pick(vals, default=None)
    res = CheckResult(
        # no value that can move was measured (a stationary flow: every sample reads 0 = 0):
        # the part is vacuous here, not evidence
        verdict=verdict if cells and best else Verdict.INCONCLUSIVE,
        measured=best[0] if best else None,
        bound=1.0,
        relation=relation,
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr=text,
        part=part,
        scope=scope,
        evidence={
            f"L={L}": {f"{t:g}": (q, v.value) for LL, t, q, v in cells if LL == L} for L in per
        },
        notes=""
        if best
        else "vacuous here: no sample with t > 0 was reached or the flow is stationary "
        "(Phi = 0: E = 0 and every G_l = 0, so the step reads 0 = 0): nothing that can move "
        "was measured, so nothing is claimed",
    )
    if best is not None:
        res.tightest = {"L": best[1], "t": best[2], "value": best[0]}
    if verdict is Verdict.VIOLATED:
        L, t, q, _ = next(c for c in cells if c[3] is Verdict.VIOLATED)
        res.counterexample = {"part": part, "L": L, "t": t, "value": q}
    return res


def _steps_result(
    b: Backend,
    per: dict[int, list[dict[str, Any]]],
    flow_info: tuple[dict[int, float], set[int]],
    phi_m: np.ndarray,
    phi_spec: Any,
    init: str,
    grid: list[float],
) -> CheckResult:
    """The main result: every part's verdict, measured = step (iii)'s."""
    reached, still = flow_info
    scope = _steps_scope(per, reached, phi_m, phi_spec, grid)
    parts = [_part_result(b, p, per, scope) for p in PARTS]
    verdict = combine_verdicts(p.verdict for p in parts)
    grad = parts[PARTS.index("gradient-bound")]
    if grad.measured is None and verdict.ok and set(per) - still:
        verdict = Verdict.INCONCLUSIVE  # only t = 0, where (iii) is 1 by construction
    unresolved = [
        f"L = {L}, t = {rec['t']:g}"
        for L, recs in per.items()
        for rec in recs
        if rec["t"] > 0 and rec["gradient-bound"][0] is None and L not in still
    ]
    extra = ""
    if unresolved:
        extra = (
            f". R is not resolved from 0 at {b.prec} bits at {', '.join(unresolved)} (the "
            "flow has converged to the rounding level of E = P - Phi): step (iii) cannot be "
            "decided there; choose earlier times (--case '{\"times\": [...]}') or a higher "
            "--precision"
        )
    if still:
        extra += (
            f". L in {sorted(still)}: E(0) = 0, the flow is stationary (every step reads 0 = 0)"
        )
    bits = [
        rec["gradient-bound_bits"]
        for recs in per.values()
        for rec in recs
        if rec.get("gradient-bound_bits")
    ]
    if bits:
        extra += (
            f". Step (iii) undecided at {b.prec} bits (||G_L||^2/(2R) - 1 is below the "
            f"budget); --precision {max(bits)} would resolve it"
        )
    summary = {p.part: p.verdict.value for p in parts}
    res = CheckResult(
        verdict=verdict,
        measured=grad.measured,
        bound=1.0,
        relation=">=",
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr=_PART_TEXT["gradient-bound"][0] + " (step iii; 1 at t = 0 by construction)",
        parts=parts,
        scope=scope,
        evidence={
            "per_depth": {str(L): recs for L, recs in per.items()},
            "step_verdicts": summary,
            "phi": phi_m,
            "reached": reached,
        },
        tightest=grad.tightest,
        notes=(
            f"steps (i) D_l = ZAS values, (ii) product identity, (iii) ||G_L||^2 >= 2R, "
            f"(iv) dR/dt = -sum ||G_l||^2: {summary}; t = 0 decided by enclosure, t > 0 "
            "against the integrator's per-layer error estimates (holds, not a proof)" + extra
        ),
    )
    if verdict is Verdict.VIOLATED:
        bad = next(p for p in parts if p.verdict is Verdict.VIOLATED)
        res.counterexample = dict(bad.counterexample or {}) | {"init": init}
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
        proof_sets.thm41_steps(L_max=L_max, k_max=k_max, Lf_max=Lf_max, wrong=wrong),
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
