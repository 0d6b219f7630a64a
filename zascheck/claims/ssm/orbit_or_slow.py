"""Is an observed oscillation a true periodic orbit or slow convergence?

Source: reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), review 3, Q1.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, ssm
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm import _result
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="ssm.orbit-or-slow",
    section="C",
    kind="exact",
    source="reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), review 3, Q1",
    statement="Is an observed oscillation a true periodic orbit or slow convergence?",
    bound="none",
    quantifiers=(
        Q("runs", "the observed oscillations (Example 1; a deep linear net above threshold)"),
    ),
    depends_on=("ssm.example1",),
    figure="ssm",
)


@CARD.check(
    method="krawczyk",
    budgets={
        "quick": {
            "L": 2,
            "r": 1,
            "eta": "11/10",
            "init": [1.05, 0.9],
            "gd_steps": 200,
            "prec": 128,
            "eta_ex1": "1/2",
        },
        "standard": {
            "L": 3,
            "r": 1,
            "eta": "7/10",
            "init": [1.05, 0.9, 1.0],
            "gd_steps": 600,
            "prec": 192,
            "eta_ex1": "3/4",
        },
        "thorough": {
            "L": 4,
            "r": 1,
            "eta": "53/100",
            "init": [1.05, 0.9, 1.0, 0.98],
            "gd_steps": 2000,
            "prec": 256,
            "eta_ex1": "1/3",
        },
    },
    controls={"below-threshold": {"eta": "9/10", "L": 2, "init": [1.05, 0.9]}},
)
def check_orbit_or_slow(
    ctx: RunContext,
    *,
    L: int,
    r: int,
    eta: str,
    init: list[float],
    gd_steps: int,
    prec: int,
    eta_ex1: str,
) -> CheckResult:
    """Is an observed oscillation a true periodic orbit or slow convergence?

    Source: reviews of SSM (NeurIPS 2018), review 3, Q1.  Formalized: an
    oscillation is a true period-2 orbit if the two-step map has a fixed point
    whose amplitude ``|G(s) - s|`` is bounded away from 0 by more than rounding
    could explain (``>= 2^{-prec/2}``).  (i) Example 1: exact orbit ``+-eta^2/4``,
    multiplier ``g'(a) g'(-a) = 0`` exactly.  (ii) Deep linear network, ``d = 1``,
    target ``r``: mp GD from an unbalanced ``init`` shows the oscillation; Newton on
    ``F(s) = G(G(s)) - s`` along the invariant balanced line from the last iterate;
    the Krawczyk test in arb proves a unique zero of ``F`` in a ball, and the
    amplitude is enclosed over that ball; the full Jacobian's spectral radius
    (mp, all layers) says whether the orbit attracts.  Control: ``eta`` below
    ``eta_1``: the zero found is the minimum and its amplitude encloses 0.
    """
    import flint

    # (i) Example 1 exactly
    ex = ctx.backend("exact")
    e1 = ex.scalar(Fraction(eta_ex1))
    a = ex.scalar(ssm.ex1_orbit_amplitude(Fraction(eta_ex1)))
    # g'(x) = 1 - eta / (2 sqrt|x|), exact at |x| = eta^2/4
    mult = (1 - e1 / (2 * (e1 / 2))) * (1 - e1 / (2 * (e1 / 2)))
    ok_ex1 = ssm.ex1_step(ex, ssm.ex1_step(ex, a, e1), e1) == a and a > 0 and mult == 0
    # (ii) deep linear network
    m = ctx.backend("mp", prec)
    eta_q = Fraction(eta)
    eta1 = ssm.thm1_eta(L, float(r))
    tgt_m = Target.whitened(m, [[r]])
    amps = []

    def amp(t: int, ws: Any, R: Any, g: Any) -> None:
        amps.append(m.to_float(abs(m.scale(m.scalar(eta_q), g[0])[0, 0])))

    run = dynamics.gd(
        m, [[[w]] for w in init], tgt_m, m.scalar(eta_q), max_steps=gd_steps, observers=[amp]
    )
    _g1m, fm, dfm = ssm.balanced_line_maps(m, L, tgt_m, m.scalar(eta_q))
    s = sum((w[0, 0] for w in run.ws), m.scalar(0)) / L
    for _ in range(60):
        step_ = fm(s) / dfm(s)
        s = s - step_
        if abs(m.to_float(step_)) < 2.0 ** -(prec - 8):
            break
    # full Jacobian of the two-step map at the point, mp
    w0 = [m.matrix([[s]]) for _ in range(L)]
    w1 = dynamics.gd_step(m, w0, tgt_m, m.scalar(eta_q))[0]
    eye = np.eye(L)
    j0 = eye - float(eta_q) * m.to_numpy(ssm.hessian(m, w0, tgt_m))
    j1 = eye - float(eta_q) * m.to_numpy(ssm.hessian(m, w1, tgt_m))
    spec = float(max(abs(np.linalg.eigvals(j1 @ j0))))
    # certify in ball arithmetic
    b = ctx.backend("ball", prec)
    with b.session():
        tgt_b = Target.whitened(b, [[r]])
        g1b, fb, dfb = ssm.balanced_line_maps(b, L, tgt_b, b.scalar(eta_q))
        mid = flint.arb(m.to_str(s, int(prec * 0.31)))
        mid = mid.mid()
        rad = flint.arb(2) ** (-(3 * prec) // 4)
        proved, box = ssm.krawczyk_1d(fb, dfb, mid, rad, flint)
        amp_ball = abs(g1b(box) - box)
        floor = b.scalar(2) ** (-(prec // 2))
        v_dln = decide(b, amp_ball, floor, relation=">=") if proved else Verdict.INCONCLUSIVE
        amp_repr = b.to_str(amp_ball, 12)
        amp_f = b.to_float(amp_ball)
        floor_f = b.to_float(floor)
    verdict = v_dln if ok_ex1 else Verdict.VIOLATED
    return _result(
        b,
        verdict,
        amp_f,
        floor_f,
        ">=",
        how="Newton on the two-step map + Krawczyk enclosure (arb)",
        measured_repr=amp_repr,
        notes=(
            f"Example 1 (eta = {eta_ex1}): exact orbit +-{a}, multiplier {mult}: {ok_ex1}. "
            f"Deep linear d = 1, L = {L}, r = {r}, eta = {eta} = {float(eta_q) / eta1:.3g} eta_1: "
            f"unique two-step fixed point proved: {proved}; amplitude {amp_repr}; spectral radius "
            "of the "
            f"two-step Jacobian {spec:.4g} ({'attracting' if spec < 1 else 'not attracting'}); GD "
            "amplitude "
            f"{amps[0]:.3g} -> {amps[-1]:.3g} over {run.steps} steps."
        ),
        evidence={
            "gd_amplitude": amps[:: max(1, len(amps) // 20)],
            "spectral_radius": spec,
            "eta_over_eta1": float(eta_q) / eta1,
            "krawczyk": proved,
            "ex1_ok": ok_ex1,
        },
        counterexample={"eta": eta, "amplitude": amp_repr, "orbit_point": m.to_str(s, 20)}
        if verdict == Verdict.VIOLATED
        else None,
    )
