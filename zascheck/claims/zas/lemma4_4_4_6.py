"""Approximate invariances, weight bounds, gradient bound, per-step drift and decrease along GD at the Theorem 4.3 step; hidden constants measured.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Lemmas 4.4-4.6 and eqs. (4.6)-(4.10).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, model
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.bounds import thm43_eta
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import BALL_LADDER, Escalated, Evaluation, escalate
from zascheck.result import combine_verdicts
from zascheck.measure.evaluation import STEPS, case_init, thm43_case_eta
from zascheck.measure.evaluation import F64 as _F
from zascheck.measure.gd_lemmas import (
    LEMMA_CONSTANTS,
    _gd_constants,
    _slope_verdict,
    exact_lower_layers,
    flow_limit_wl_norm,
    loglog_slope,
)
from zascheck.measure.stepsize import dyadic_below
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide
from zascheck.targets import make_phi

CARD = Card(
    id="zas.lemma4.4-4.6",
    section="A",
    kind="order",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Lemmas 4.4-4.6 and eqs. (4.6)-(4.10)",
    statement="Approximate invariances, weight bounds, gradient bound, per-step drift and decrease along GD at the Theorem 4.3 step; hidden constants measured.",
    bound="upper",
    quantifiers=(
        Q("t", "every GD step t >= 0"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
        Q("eta", "every eta <= the Thm 4.3 step"),
    ),
    depends_on=("zas.drift", "zas.thm4.1.steps"),
    figure="drift",
)


@CARD.check(
    method="gd-constants",
    budgets={
        "quick": {
            "depths": [2, 4, 8],
            "d": 2,
            "phi": "gaussian",
            "phi_fro": 0.5,
            "max_steps": 3000,
            "samples": 60,
            "arithmetic": "float64",
        },
        "standard": {
            "depths": [2, 4, 8, 16],
            "d": 2,
            "phi": "gaussian",
            "phi_fro": 0.5,
            "max_steps": 20000,
            "samples": 200,
            "arithmetic": "float64",
        },
        "thorough": {
            "depths": [2, 4, 8, 16, 32],
            "d": 3,
            "phi": "gaussian",
            "phi_fro": 0.5,
            "max_steps": 200000,
            "samples": 400,
            "arithmetic": "float64",
        },
    },
    controls={
        # break the step-size hypothesis: eta far above the bound
        "eta-above-bound": {"eta": 1.5, "depths": [4], "max_steps": 200},
    },
    accepts_phi=True,
)
def lemma44_46(
    ctx: RunContext,
    depths: list[int],
    d: int,
    phi: Any,
    phi_fro: float | None,
    max_steps: int,
    samples: int,
    arithmetic: str,
    eta: float | None = None,
    exact_steps: int = 4,
) -> CheckResult:
    """Lemmas 4.4-4.6 and eqs. (4.6)-(4.10) (ZAS paper, Sec. 4.2.1): along GD
    from ZAS at the Theorem 4.3 step size, (4.6) ``||D_l||_2 = O(L^-3)``
    (``l <= L-2``), ``||I + D_{L-1}||_2 = O(L^-2)``; (4.7) ``||W_l||_2 = 1 +
    O(log L / L)`` (``l < L``) and, as printed, ``||W_L||_2 = O(L^-1/2)``;
    (4.8) ``||G_L||_F^2 >= R``; (4.9) ``||D_l(t+1) - D_l(t)||_2 = O(eta^2)
    R(t)``, ``O(eta^2 L) R(t)`` for ``l = L-1``; (4.10) ``R(t+1) <= (1 -
    eta/2) R(t)``.

    Reading formalized: a fixed target (``phi`` scaled to Frobenius norm
    ``phi_fro``) for every depth; ``eta`` = the largest double provably
    below the theorem's bound (:func:`zascheck.bounds.thm43_eta`); GD in
    ``arithmetic`` for ``max_steps`` steps (the theorem's step is tiny: the
    flow time covered, ``eta * steps``, is in ``evidence``).  The two
    inequalities (4.8), (4.10) are checked at every step against a rounding
    budget (``gamma_n`` for ``n = 3 L d + 4`` plus the loss change one
    rounding of the weights can cause); the overall verdict is theirs, and
    measured = ``max_t R(t+1) / ((1 - eta/2) R(t))`` (bound 1).  The hidden
    O()-constants are measured at ``samples`` evenly spaced steps, fitted by a
    log-log slope against ``L``, and judged one by one in
    ``evidence["order_claims"]`` and the notes (not in the verdict):

    * ``D_l`` (``l <= L-2``) and its drift: exactly 0 along GD from ZAS (the
      lower layers stay equal and symmetric; confirmed by exact rational GD
      for ``exact_steps`` steps, :func:`exact_lower_layers`); ``holds`` when
      the float64 values sit at the rounding floor.
    * ``I + D_{L-1}``: as printed (``* L^2``) ``inconclusive`` at small depths
      (the theorem's eta is L-independent for ``L <= 9``); the proof's form
      ``||I + D_{L-1}|| <= C eta L R(0)``: ``holds`` if ``C`` does not grow.
    * ``(||W_l|| - 1) L / log L``: GD values plus the exact limit of the flow
      (``||W_l||^2 = 1 + ||W_L||^2`` there): ``holds`` if below 1/2 up to
      ``L = 2^20``.
    * ``||W_L|| sqrt(L)`` (as printed): ``violated`` - at the exact limit of
      the flow from ZAS (:func:`flow_limit_wl_norm`) it grows like
      ``sqrt(log L)``; ``O(sqrt(log L / L))`` is what holds.
    * drift of ``D_{L-1}`` over ``eta^2 L R``: ``holds`` if the constant does
      not grow with ``L`` (slope <= 0), else ``inconclusive``.

    Control: ``eta = 1.5`` (about 17500 times the bound) breaks (4.10).
    """
    b = ctx.backend(arithmetic, 113)
    phi_m = make_phi(phi, d, ctx.rng(301))
    if phi_fro is not None and isinstance(phi, str):
        phi_m = phi_m * (phi_fro / float(np.linalg.norm(phi_m)))
    d = phi_m.shape[0]
    per: dict[str, Any] = {}
    v_q, v_g = [], []
    worst_q: tuple[float, int, Any] | None = None
    with b.session():
        fro = b.sqrt(b.fro2(b.matrix(phi_m)))
        for L in depths:
            eta_th = thm43_eta(b, fro, L)
            eta_used = eta if eta is not None else dyadic_below(b, eta_th)
            m = _gd_constants(b, L, phi_m, float(eta_used), max_steps, samples)
            m["eta_theorem"] = b.to_float(eta_th)
            vq = (
                decide(_F, m["q_max"], 1.0, err=m["rel_err"])
                if m["steps"] > 0
                else Verdict.INCONCLUSIVE
            )
            if m["stop"] == "diverged":
                vq = Verdict.VIOLATED
            vg = decide(
                _F, m["gl2_over_R_min"], 1.0, relation=">=", err=m["rel_err"] * m["gl2_over_R_min"]
            )
            m["verdict_step_decrease"], m["verdict_gradient_bound"] = vq.value, vg.value
            v_q.append(vq)
            v_g.append(vg)
            per[str(L)] = m
            if worst_q is None or m["q_max"] > worst_q[0]:
                worst_q = (m["q_max"], L, m)
    assert worst_q is not None, "depths lists at least one depth"
    # O() constants: scaling with L
    ls = [int(k) for k in per]
    sig = float(np.linalg.norm(phi_m, 2))
    big = [2**k for k in range(1, 21)]
    s_lim = [flow_limit_wl_norm(sig, L) for L in big]
    phi_q = [[Fraction(float(v)) for v in row] for row in phi_m]
    exact_ok = exact_lower_layers(max(3, min(ls[-1], 4)), phi_q, Fraction(1, 8), exact_steps)
    order: dict[str, Any] = {}

    def entry(
        name: str, vals: list[Any], verdict_c: Verdict, why: str, *, fit: bool = True, **extra: Any
    ) -> None:
        order[name] = {
            "what": LEMMA_CONSTANTS.get(name, name),
            "depths": ls,
            "values": vals,
            "loglog_slope": loglog_slope(ls, vals) if fit else None,
            "verdict": verdict_c.value,
            "judgement": why,
            **extra,
        }

    for name, key in (("D_l*L^3", "D_l"), ("drift_l/(eta^2 R)", "drift_l")):
        vals = [per[str(L)]["constants"][name] for L in ls]
        at_floor = all(
            per[str(L)][key + "_max"] is None
            or per[str(L)][key + "_max"] <= per[str(L)]["rounding_floor"][key]
            for L in ls
        )
        entry(
            name,
            vals,
            Verdict.HOLDS if (exact_ok and at_floor) else Verdict.INCONCLUSIVE,
            (
                "exactly 0 along GD from ZAS: W_1 = ... = W_{L-1} stay equal and symmetric, so "
                "G_1 = ... = G_{L-1} and the drift cancels (exact rational GD, "
                f"{exact_steps} steps: "
                f"{'confirmed' if exact_ok else 'NOT confirmed'}); the float64 values are at the "
                f"rounding floor: {at_floor} (no slope fitted to rounding noise)"
            ),
            fit=False,
        )
    vals = [per[str(L)]["constants"]["I+D_{L-1}*L^2"] for L in ls]
    eta_n = [per[str(L)]["per_eta"]["I+D_{L-1}/(eta L R0)"] for L in ls]
    sl = loglog_slope(ls, eta_n)
    entry(
        "I+D_{L-1}*L^2",
        vals,
        Verdict.INCONCLUSIVE,
        "grows like L^2 at these depths because the theorem's eta does not shrink until L > 9 "
        "(and is O(L^-3) only for L > 36); see the eta-normalised constant",
    )
    entry(
        "I+D_{L-1}/(eta L R0)",
        eta_n,
        _slope_verdict(sl),
        "the proof's bound ||I + D_{L-1}|| <= C eta L R(0) (then O(L^-2) iff eta = O(L^-3)): "
        "bounded/decreasing in L over the covered steps",
    )
    vals = [per[str(L)]["constants"]["(W_l-1)*L/logL"] for L in ls]
    lim_w = [(math.sqrt(1 + x * x) - 1) * L / math.log(L) for x, L in zip(s_lim, big, strict=True)]
    entry(
        "(W_l-1)*L/logL",
        vals,
        Verdict.HOLDS if max(lim_w) <= 0.5 else Verdict.INCONCLUSIVE,
        "at the flow's limit ||W_l||^2 = 1 + ||W_L||^2 (D_l = 0, D_{L-1} = -I), so "
        "(||W_l|| - 1) L / log L = (sqrt(1+s^2)-1) L/log L, which stays below 1/2 "
        "(s^2 L / log L -> 1) for L up to 2^20",
        flow_limit={"depths": big, "values": lim_w},
    )
    wl_vals = [per[str(L)]["constants"]["W_L*sqrt(L)"] for L in ls]
    lim = [x * math.sqrt(L) for x, L in zip(s_lim, big, strict=True)]
    entry(
        "W_L*sqrt(L)",
        wl_vals,
        Verdict.VIOLATED,
        (
            "at the limit of the flow from ZAS, sigma(W_L) solves s^2 (1+s^2)^(L-1) = ||Phi||_2^2; "
            "if s <= C L^-1/2 then s^2 (1+s^2)^(L-1) <= C^2 e^{C^2} / L -> 0, a contradiction: "
            "sqrt(L) ||W_L|| grows like sqrt(log L) for fixed Phi. The bound the proof can use "
            "(from ||W_{L-1}|| = 1 + O(log L / L) and D_{L-1} ~ -I) is ||W_L|| = "
            "O(sqrt(log L / L)); W_L need not reach the target's scale, since ||W_{L-1:1}|| grows "
            "to about ||Phi|| sqrt(L / log L)"
        ),
        flow_limit={
            "depths": big,
            "sqrtL_times_WL": lim,
            "sqrt(L/logL)_times_WL": [
                x * math.sqrt(L / math.log(L)) for x, L in zip(s_lim, big, strict=True)
            ],
        },
        counterexample={
            "Phi_2norm": sig,
            "L": big[-1],
            "sqrtL_times_WL_at_limit": lim[-1],
            "at_L=2": lim[0],
        },
    )
    vals = [per[str(L)]["constants"]["drift_{L-1}/(eta^2 L R)"] for L in ls]
    sl = loglog_slope(ls, vals)
    entry(
        "drift_{L-1}/(eta^2 L R)",
        vals,
        _slope_verdict(sl),
        "bounded/decreasing in L over the covered steps"
        if sl is not None and sl <= 0
        else "grows over the depths tried",
    )
    verdict = combine_verdicts(v_q + v_g)
    first = per[str(ls[0])]
    cover = "; ".join(
        f"L={L}: {m['steps']} steps, eta={m['eta']:.3g}, flow time "
        f"{m['flow_time_covered']:.3g}, R/R0 -> {m['final_rel_loss']:.3g}"
        for L, m in ((L, per[str(L)]) for L in ls)
    )
    oc = "; ".join(
        f"{k}: slope {o['loglog_slope']:.3g} -> {o['verdict']}"
        if o["loglog_slope"] is not None
        else f"{k}: {o['verdict']}"
        for k, o in order.items()
    )
    res = CheckResult(
        verdict=verdict,
        measured=worst_q[0],
        bound=1.0,
        margin=1.0 - worst_q[0],
        relation="<=",
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max_t R(t+1) / ((1 - eta/2) R(t))",
        evidence={
            "per_depth": per,
            "order_claims": order,
            "gradient_bound_min": min(per[str(L)]["gl2_over_R_min"] for L in ls),
            "phi": phi_m,
        },
        notes=(
            f"verdict from (4.8) ||G_L||^2 >= R [{combine_verdicts(v_g).value}] and (4.10) per-step "
            f"decrease [{combine_verdicts(v_q).value}]. Covered: {cover}. O()-constants (log-log slope "
            f"in L): {oc}. D_l (l <= L-2) and its drift are exactly 0 along GD from ZAS. "
            "The theorem's eta is L-independent while 3/sqrt(L) >= 2||Phi||_F (eta = 1/11664 "
            "for L <= 9) and O(L^-3) only for L > 36, so the L^2-normalised I + D_{L-1} grows "
            "at small L (pre-asymptotic); its eta-normalised form is bounded. "
            "||W_L|| = O(L^-1/2) as printed is false (order_claims): the true scale at the "
            "flow's limit is sqrt(log L / L)."
        ),
    )
    res.tightest = {"L": worst_q[1], "step": worst_q[2]["q_max_step"], "ratio": worst_q[0]}
    if verdict is Verdict.VIOLATED:
        bad = next(
            (
                per[str(L)]
                for L in ls
                if Verdict.VIOLATED.value
                in (per[str(L)]["verdict_step_decrease"], per[str(L)]["verdict_gradient_bound"])
            ),
            first,
        )
        res.counterexample = {
            "L": bad["L"],
            "eta": bad["eta"],
            "eta_theorem": bad["eta_theorem"],
            "step": bad["q_max_step"],
            "R(t+1)/((1-eta/2)R(t))": bad["q_max"],
            "stop": bad["stop"],
            "gl2_over_R_min": bad["gl2_over_R_min"],
        }
    return res


# --- hypothesis property: evaluator and declarations ---


def eval_lemmas(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.lemma4.4-4.6 along GD at the Theorem 4.3 step: the checkable
    statements (4.8) ``||G_L||_F^2 >= R(t)`` and (4.10)
    ``R(t+1) <= (1 - eta/2) R(t)`` decided at every step; the hidden
    constants of (4.6), (4.7), (4.9) measured (``evidence['constants']``)."""
    L, d = int(case["L"]), int(case["d"])
    ws0 = case_init(case, L, d)
    steps = int(case["steps"])

    def evaluate(b: Backend) -> Evaluation:
        eta = thm43_case_eta(b, case)
        q = 1 - b.scalar(eta) / 2
        st_: dict[str, Any] = {
            "prev": None,
            "verdicts": [],
            "min_ratio": math.inf,
            "max_factor": 0.0,
            "const": {},
            "d_prev": None,
            "bad": None,
        }
        stride = max(1, steps // 20)
        eye = b.eye(d)

        def bump(key: str, v: float) -> None:
            st_["const"][key] = max(st_["const"].get(key, 0.0), v)

        def obs(t: int, ws: Any, r: Any, g: Any) -> bool:
            rf = b.to_float(r)
            err = 0.0 if b.rigorous else b.gamma(4 * L * d) * rf
            gl2 = b.fro2(g[-1])
            v1 = decide(b, gl2, r, relation=">=", err=err)
            st_["min_ratio"] = min(st_["min_ratio"], b.to_float(gl2) / rf if rf > 0 else math.inf)
            vs = [v1]
            if st_["prev"] is not None:
                v2 = decide(b, r, q * st_["prev"], err=2 * err)
                pf = b.to_float(st_["prev"])
                st_["max_factor"] = max(st_["max_factor"], rf / pf if pf > 0 else 0.0)
                vs.append(v2)
            st_["prev"] = r
            st_["verdicts"].extend(vs)
            if t % stride in (0, 1) and L >= 2:
                dl = model.invariants(b, ws)
                last = st_["d_prev"]
                if last is not None and last[0] == t - 1 and last[2] > 0:
                    for l, (x, y) in enumerate(zip(dl, last[1], strict=False)):
                        ch = b.norm2(b.sub(x, y)) / (eta * eta * last[2])
                        if l == L - 2:
                            bump("drift_{L-1}/(eta^2 L R)", ch / L)
                        else:
                            bump("drift_l/(eta^2 R)", ch)
                st_["d_prev"] = (t, dl, rf)
                for m in dl[:-1]:
                    bump("||D_l||_2 L^3", b.norm2(m) * L**3)
                bump("||I + D_{L-1}||_2 L^2", b.norm2(b.add(eye, dl[-1])) * L**2)
                for w in ws[:-1]:
                    bump("(||W_l||_2 - 1) L / log L", (b.norm2(w) - 1) * L / math.log(L))
                bump("||W_L||_2 sqrt(L)", b.norm2(ws[-1]) * math.sqrt(L))
            if Verdict.VIOLATED in vs:
                st_["bad"] = (t, "(4.8)" if v1 is Verdict.VIOLATED else "(4.10)")
                return True
            return Verdict.INCONCLUSIVE in vs

        from zascheck.result import combine_verdicts

        run = dynamics.gd(
            b,
            ws0,
            Target.whitened(b, case["phi"]),
            eta,
            max_steps=steps,
            rel_tol=1e-12,
            observers=[obs],
        )
        verdict = combine_verdicts(st_["verdicts"])
        if run.stop in ("diverged",):
            verdict = Verdict.VIOLATED
        if run.stop == "precision":
            verdict = Verdict.INCONCLUSIVE
        qf = 1 - eta / 2
        slack = min(
            st_["min_ratio"] - 1,
            (1 - st_["max_factor"] / qf) / eta if st_["max_factor"] else math.inf,
        )
        return Evaluation(
            st_["min_ratio"],
            1.0,
            0.0,
            verdict=verdict,
            evidence={
                "slack": slack,
                "eta": eta,
                "max_step_factor": st_["max_factor"],
                "step_bound": qf,
                "constants": st_["const"],
                "violation": st_["bad"],
                "stop": run.stop,
                "steps_run": run.steps,
            },
        )

    return escalate(evaluate, relation=">=", ladder=BALL_LADDER, certify=certify)


CARD.prop(
    None,
    lambda: S.thm43_cases(steps=STEPS),
    eval_lemmas,
    certify=True,
    summary="(4.8) ||G_L||^2 >= R and (4.10) R(t+1) <= (1 - eta/2) R(t) at every step; constants measured",
)

CARD.prop(
    "eta-above-bound",
    lambda: S.thm43_cases(eta_log2=(1, 24), steps=STEPS),
    eval_lemmas,
    certify=True,
    summary="eta above the bound: (4.10) must fail",
)

CARD.prop(
    "non-zas-init",
    lambda: S.thm43_cases(inits_=("alpha-zas", "identity", "xavier"), steps=STEPS),
    eval_lemmas,
    certify=True,
    summary="non-ZAS init: (4.8) or (4.10) must fail",
)

CARD.search(examples=(5, 100, 1000))
