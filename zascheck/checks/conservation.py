"""Conservation family: Lemma 4.2 (flow), the GD drift identity, and the
reviewer's summary of both (``review.invariance``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import dynamics, inits, model
from zascheck.arith import Backend, Float64Backend
from zascheck.checks.common import combine
from zascheck.model import Target
from zascheck.registry import RunContext, register
from zascheck.result import CheckResult, Verdict, decide
from zascheck.targets import make_phi

_F = Float64Backend()


def _fro(b: Backend, m: Any) -> float:
    return math.sqrt(max(b.to_float(b.fro2(m)), 0.0))


def _case_init(init: str, L: int, d: int, rng: np.random.Generator) -> list[np.ndarray]:
    if init == "random":
        return [rng.standard_normal((d, d)) / math.sqrt(d) for _ in range(L)]
    return inits.make(init, L, d, seed=rng)


# ---------------------------------------------------------------------------
# Lemma 4.2
# ---------------------------------------------------------------------------


def invariant_change(b: Backend, ws0: list[Any], ws_t: list[Any], dw: float) -> tuple[float, float]:
    """``max_l ||D_l(t) - D_l(0)||_F`` and the error budget that a perturbation
    of at most ``dw`` per layer (integration error) plus rounding allows:
    ``sum over the two layers of (2 ||W|| + dw) dw`` and ``gamma_{2d}`` times
    the size of the products."""
    d0 = model.invariants(b, ws0)
    dt = model.invariants(b, ws_t)
    worst, budget = 0.0, 0.0
    for l, (x, y) in enumerate(zip(dt, d0, strict=True)):
        change = _fro(b, b.sub(x, y))
        n1, n0 = _fro(b, ws_t[l + 1]), _fro(b, ws_t[l])
        dim = b.shape(ws_t[l])[0]
        allow = (2 * n1 + dw) * dw + (2 * n0 + dw) * dw
        allow += 2 * b.gamma(dim + 2) * (n1 * n1 + n0 * n0 + _fro(b, y))
        allow += b.radius(b.fro2(b.sub(x, y))) ** 0.5
        if change - allow > worst - budget or l == 0:
            worst, budget = max(worst, change), max(budget, allow)
    return worst, budget


@register(
    "zas.lemma4.2",
    method="flow",
    budgets={
        "quick": {
            "cases": [
                ["random", 3, 2, "gaussian"],
                ["zas", 4, 2, "-I"],
                ["near-identity", 2, 3, "indefinite"],
            ],
            "times": [0.5, 1.0, 2.0],
            "evolution": "flow",
            "arithmetic": "ball",
        },
        "standard": {
            "cases": [
                ["random", 3, 2, "gaussian"],
                ["zas", 4, 2, "-I"],
                ["near-identity", 2, 3, "indefinite"],
                ["xavier", 5, 3, "gaussian"],
                ["random", 1, 3, "psd"],
            ],
            "times": [0.25, 0.5, 1.0, 2.0, 4.0],
            "evolution": "flow",
            "arithmetic": "ball",
        },
    },
    controls={
        # break "gradient flow": a GD step of size 0.05 does not conserve D_l
        "gd-large-step": {"evolution": "gd", "eta": 0.05},
    },
)
def lemma42(
    ctx: RunContext,
    cases: list[list[Any]],
    times: list[float],
    evolution: str,
    arithmetic: str,
    eta: float = 0.05,
) -> CheckResult:
    """Lemma 4.2 (ZAS paper, Sec. 4.1): under gradient flow every
    ``D_l = W_{l+1}^T W_{l+1} - W_l W_l^T`` is constant, for any init, any
    ``Phi``, ``L`` and ``d``.

    Reading formalized: for each case ``[init, L, d, phi]`` integrate the flow
    at working precision ``ctx.bits(128)`` and measure
    ``max_{l,t} ||D_l(t) - D_l(0)||_F`` on the grid ``times``; the claim holds
    if that stays within the budget the integrator's own error estimate and
    rounding allow (about the working precision).  A case with ``L = 1`` has no
    ``D_l`` and is skipped.  Control: replace the flow by GD steps of size
    ``eta`` (as many steps as ``times[-1] / eta``).
    """
    b = ctx.backend(arithmetic, 128)
    verdicts, per, worst = [], {}, None
    rng = ctx.rng(3)
    with b.session():
        for init, L, d, phi in cases:
            if L < 2:
                continue
            ws0 = _case_init(init, L, d, rng)
            target = Target.whitened(b, make_phi(phi, d, rng))
            if evolution == "flow":
                run = dynamics_flow(b, ws0, target, times)
                snaps, dw, label = run.ws, run.error_estimate, "flow"
            else:
                steps = max(1, round(times[-1] / eta))
                w = [b.matrix(x) for x in ws0]
                snaps = [w]
                for _ in range(steps):
                    w, _r, _g = dynamics.gd_step(b, w, target, b.scalar(eta))
                snaps.append(w)
                dw, label = 0.0, f"gd eta={eta}"
            base = [b.matrix(x) for x in ws0]
            case_worst, case_budget = 0.0, 0.0
            for ws_t in snaps[1:]:
                ch, allow = invariant_change(b, base, ws_t, dw)
                case_worst = max(case_worst, ch)
                case_budget = max(case_budget, allow)
            v = decide(_F, case_worst, case_budget)
            verdicts.append(v)
            key = f"{init}/L={L}/d={d}/{phi}"
            per[key] = {
                "max_change": case_worst,
                "budget": case_budget,
                "dynamics": label,
                "verdict": v.value,
            }
            if worst is None or case_worst - case_budget > worst[0] - worst[1]:
                worst = (case_worst, case_budget, key)
    assert worst is not None, "every budget has at least one case with L >= 2"
    verdict = combine(verdicts)
    res = CheckResult(
        verdict=verdict,
        measured=worst[0],
        bound=worst[1],
        margin=worst[1] - worst[0],
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max_{l,t} ||D_l(t) - D_l(0)||_F",
        bound_repr="integration-error + rounding budget",
        evidence={"per_case": per},
        notes=(
            "flow integrated by Taylor series; conservation is checked against the "
            "integrator's error estimate, so the verdict is 'holds', not a proof "
            "(the symbolic check proves the identity for every L, d)"
        ),
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = {"case": worst[2], "max_change": worst[0], "budget": worst[1]}
    return res


def dynamics_flow(
    b: Backend, ws0: list[Any], target: Target, times: list[float]
) -> dynamics.FlowRun:
    return dynamics.flow(b, ws0, target, [0.0, *times])


# ---------------------------------------------------------------------------
# GD drift identity
# ---------------------------------------------------------------------------


def drift_residuals(
    b: Backend, ws: list[Any], target: Target, eta: Any, *, power: int = 2
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """One GD step from ``ws``; per ``l`` the residual
    ``D_l(t+1) - D_l(t) - eta^power (G_{l+1}^T G_{l+1} - G_l G_l^T)``
    (``power = 2`` is the claim; ``power = 1`` is the control's wrong formula),
    with the new weights, the gradients and the invariants at ``t``."""
    _r, g = model.loss_and_grads(b, ws, target)
    new = model.gd_update(b, ws, g, eta)
    d_old = model.invariants(b, ws)
    d_new = model.invariants(b, new)
    coef = eta**power
    res = []
    for l in range(len(ws) - 1):
        pred = b.scale(coef, b.sub(b.mm(b.T(g[l + 1]), g[l + 1]), b.mm(g[l], b.T(g[l]))))
        res.append(b.sub(b.sub(d_new[l], d_old[l]), pred))
    return res, new, g, d_old


def drift_rounding_budget(b: Backend, ws: list[Any], g: list[Any], eta: float, l: int) -> float:
    """A rounding-error budget for the drift residual of layer pair ``(l, l+1)``:
    Higham's ``gamma_n`` with ``n = (L + 4) d`` (the longest chain of roundings:
    L products of inner dimension d for the gradients, then the update and the
    two Gram products) times the size of every term involved."""
    L = len(ws)
    dim = max(max(b.shape(w)) for w in ws)
    n = (L + 4) * dim
    s = 0.0
    for k in (l, l + 1):
        w, gk = _fro(b, ws[k]), _fro(b, g[k])
        s += (w + eta * gk) ** 2 + eta * w * gk + eta * eta * gk * gk
    return 4 * b.gamma(n) * s


@register(
    "zas.drift",
    method="exact",
    budgets={
        "quick": {"L": 3, "d": 2, "steps": 2, "eta": "1/8", "denominator": 4},
        "standard": {"L": 4, "d": 2, "steps": 3, "eta": "1/10", "denominator": 4},
        "thorough": {"L": 4, "d": 3, "steps": 3, "eta": "1/10", "denominator": 8},
    },
    controls={"eta-not-squared": {"power": 1}},
)
def drift_exact(
    ctx: RunContext, L: int, d: int, steps: int, eta: str, denominator: int, power: int = 2
) -> CheckResult:
    """GD drift identity (ZAS paper Sec. 4.2, underlying Lemma 4.5): under GD
    ``D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T)`` exactly.

    Reading formalized: in exact rational arithmetic, from a random init with
    entries ``k / denominator`` (integers ``|k| <= 2 denominator``) and a
    random rational target, take ``steps`` GD steps with rational ``eta`` and
    require every residual to be exactly the zero matrix.  A zero residual in
    exact arithmetic proves the identity for these inputs: ``certified``.
    Control: ``eta`` in place of ``eta^2``.
    """
    from fractions import Fraction

    from zascheck.arith import ExactBackend

    b = ExactBackend()
    rng = ctx.rng(4)
    den = int(denominator)
    ws = [
        b.matrix(
            [
                [Fraction(int(k), den) for k in row]
                for row in rng.integers(-2 * den, 2 * den + 1, (d, d))
            ]
        )
        for _ in range(L)
    ]
    phi = b.matrix(
        [
            [Fraction(int(k), den) for k in row]
            for row in rng.integers(-2 * den, 2 * den + 1, (d, d))
        ]
    )
    target = Target(Y=phi)
    eta_q = b.scalar(Fraction(eta))
    nonzero = 0
    worst = 0.0
    where = None
    for t in range(steps):
        res, ws, _g, _d = drift_residuals(b, ws, target, eta_q, power=power)
        for l, r in enumerate(res):
            n = b.to_float(b.fro2(r))
            if n != 0:
                nonzero += 1
                if n > worst:
                    worst, where = n, (t, l + 1)
    verdict = Verdict.CERTIFIED if nonzero == 0 else Verdict.VIOLATED
    res_ = CheckResult(
        verdict=verdict,
        measured=math.sqrt(worst),
        bound=0.0,
        margin=0.0 if worst == 0 else -math.sqrt(worst),
        arithmetic="exact",
        precision_bits=0,
        measured_repr="max ||residual||_F over steps and layers (exact rationals)",
        evidence={"nonzero_residuals": nonzero, "pairs_checked": steps * (L - 1)},
        notes=f"{steps} exact GD steps, L = {L}, d = {d}, eta = {eta}",
    )
    if verdict is Verdict.VIOLATED:
        assert where is not None, "a nonzero residual n > 0 exceeds the initial worst = 0"
        res_.counterexample = {
            "step": where[0],
            "l": where[1],
            "residual_norm": math.sqrt(worst),
            "power_of_eta": power,
        }
    return res_


@register(
    "zas.drift",
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
    """GD drift identity at high precision (same claim as the ``exact`` method).

    Reading formalized: in mpmath at ``ctx.bits(bits)`` from a Xavier init and
    target ``phi``, for ``steps`` GD steps, every residual
    ``||D_l(t+1) - D_l(t) - eta^2(...)||_F`` is within the rounding budget
    ``4 gamma_n * (size of the terms)`` (``n = (L + 4) d``).  The mp measurement
    also shows the size of the drift itself beside the float64 resolution.
    """
    b = ctx.backend("mp", bits)
    rng = ctx.rng(5)
    phi_m = make_phi(phi, d, rng)
    d = phi_m.shape[0]
    ws = [b.matrix(w) for w in inits.xavier(L, d, rng)]
    target = Target.whitened(b, phi_m)
    eta_b = b.scalar(eta)
    verdicts, worst, drift_sizes = [], None, []
    for t in range(steps):
        res, new, g, _d = drift_residuals(b, ws, target, eta_b, power=power)
        for l, r in enumerate(res):
            m = _fro(b, r)
            budget = drift_rounding_budget(b, ws, g, float(eta), l)
            v = decide(_F, m, budget)
            verdicts.append(v)
            if worst is None or m - budget > worst[0] - worst[1]:
                worst = (m, budget, t, l + 1)
        dn = model.invariants(b, new)
        do = model.invariants(b, ws)
        drift_sizes.append(max(_fro(b, b.sub(x, y)) for x, y in zip(dn, do, strict=True)))
        ws = new
    assert worst is not None, "steps >= 1 and L >= 2 give at least one residual"
    verdict = combine(verdicts)
    out = CheckResult(
        verdict=verdict,
        measured=worst[0],
        bound=worst[1],
        margin=worst[1] - worst[0],
        arithmetic="mp",
        precision_bits=b.prec,
        measured_repr="max ||D_l(t+1) - D_l(t) - eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T)||_F",
        bound_repr="4 gamma_{(L+4)d} x size of terms",
        evidence={"drift_per_step": drift_sizes, "eta": eta},
        notes="rounding budget from Higham's gamma_n at the working precision",
    )
    if verdict is Verdict.VIOLATED:
        out.counterexample = {
            "step": worst[2],
            "l": worst[3],
            "residual": worst[0],
            "budget": worst[1],
            "power_of_eta": power,
        }
    return out


# ---------------------------------------------------------------------------
# review.invariance
# ---------------------------------------------------------------------------


@register(
    "review.invariance",
    method="flow+exact-gd",
    budgets={"quick": {"L": 3, "d": 2, "steps": 2, "eta": "1/8", "times": [0.5, 1.0]}},
    controls={"claim-exact-under-gd": {"claim_gd_exact": True}},
)
def invariance(
    ctx: RunContext,
    L: int,
    d: int,
    steps: int,
    eta: str,
    times: list[float],
    claim_gd_exact: bool = False,
) -> CheckResult:
    """Review 2 of the ZAS paper: "the proof follows from ``W_{l+1}^T W_{l+1} -
    W_l W_l^T`` staying constant along the flow"; under GD it is only
    approximately constant.

    Reading formalized, three parts: (a) flow conserves ``D_l`` (as
    ``zas.lemma4.2``, numerically); (b) exact-rational GD changes ``D_l``
    (the drift is not zero: "only approximately"); (c) by the drift
    identity, ``||D_l(T) - D_l(0)||_F <= eta^2 sum_t (||G_{l+1}||_F^2 +
    ||G_l||_F^2)`` ("approximately": second order in ``eta``), decided exactly.
    The control asserts the stronger, false reading "constant under GD too".
    """
    from fractions import Fraction

    from zascheck.arith import ExactBackend

    rng = ctx.rng(6)
    # (a) flow
    b = ctx.backend("ball", 128)
    with b.session():
        ws0 = [rng.standard_normal((d, d)) / math.sqrt(d) for _ in range(L)]
        target = Target.whitened(b, make_phi("gaussian", d, rng))
        run = dynamics_flow(b, ws0, target, times)
        ch, allow = invariant_change(b, [b.matrix(x) for x in ws0], run.ws[-1], run.error_estimate)
    v_flow = decide(_F, ch, allow)
    # (b), (c) exact GD
    e = ExactBackend()
    ws = [
        e.matrix([[Fraction(int(k), 4) for k in row] for row in rng.integers(-8, 9, (d, d))])
        for _ in range(L)
    ]
    tq = Target(
        Y=e.matrix([[Fraction(int(k), 4) for k in row] for row in rng.integers(-8, 9, (d, d))])
    )
    eq = e.scalar(Fraction(eta))
    d0 = model.invariants(e, ws)
    acc = [e.scalar(0) for _ in range(L - 1)]
    for _ in range(steps):
        _r, g = model.loss_and_grads(e, ws, tq)
        for l in range(L - 1):
            acc[l] += eq * eq * (e.fro2(g[l + 1]) + e.fro2(g[l]))
        ws = model.gd_update(e, ws, g, eq)
    dT = model.invariants(e, ws)
    changes2 = [e.fro2(e.sub(x, y)) for x, y in zip(dT, d0, strict=True)]
    nonzero = all(c != 0 for c in changes2)
    bounded = all(c <= a * a for c, a in zip(changes2, acc, strict=True))
    if claim_gd_exact:
        v_gd = Verdict.CERTIFIED if not nonzero else Verdict.VIOLATED
    else:
        v_gd = Verdict.CERTIFIED if (nonzero and bounded) else Verdict.VIOLATED
    verdict = combine([v_flow, v_gd])
    ratio = max(
        math.sqrt(e.to_float(c)) / e.to_float(a) for c, a in zip(changes2, acc, strict=True)
    )
    out = CheckResult(
        verdict=verdict,
        measured=ch,
        bound=allow,
        margin=allow - ch,
        arithmetic="ball+exact",
        precision_bits=b.prec,
        measured_repr="flow: max ||D_l(t)-D_l(0)||_F",
        evidence={
            "flow_change": ch,
            "flow_budget": allow,
            "flow_verdict": v_flow.value,
            "gd_drift_norms": [math.sqrt(e.to_float(c)) for c in changes2],
            "gd_drift_over_eta2_bound": ratio,
            "gd_verdict": v_gd.value,
        },
        notes=(
            f"flow conserves D_l within its error budget ({v_flow.value}); exact GD drift is "
            f"nonzero: {nonzero}, within eta^2 sum ||G||^2: {bounded} (largest ratio {ratio:.3g})"
        ),
    )
    if verdict is Verdict.VIOLATED:
        out.counterexample = {
            "gd_drift_norms": out.evidence["gd_drift_norms"],
            "reading": "constant under GD" if claim_gd_exact else "approximate",
        }
    return out
