"""``ssm.orbit-or-slow``: is an observed oscillation a true periodic orbit or slow
convergence?

Source: reviews of "Step Size Matters in Deep Learning" (NeurIPS 2018),
review 3, Q1: "Figure 2 shows with the smaller learning rate, the estimated
function converges to a solution, and with the larger one it oscillates. I am
wondering if the convergence/oscillation claim here is made based on
mathematically analysis the resulted dynamical system or is judged based on
numerically computed notion residual? If the latter, couldn't it be the case
that the oscillation are not really perfect and are slowly converging to the
target function?"

Kind: exact.  Formalized: an oscillation is a true period-2 orbit if the
two-step GD map has a fixed point whose amplitude ``|G(s) - s|`` is bounded
away from 0 by more than rounding could explain (``>= 2^{-prec/2}``), proven
by an interval Newton (Krawczyk) enclosure.  Settled for Example 1 (exactly)
and for a deep linear network with ``d = 1`` run above its threshold.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, ssm
from zascheck.card import SSM_REV, Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.measure.ssm_checks import need_fraction, need_int, need_numbers, ssm_result
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, covers, decide

CARD = Card(
    id="ssm.orbit-or-slow",
    section="C",
    kind="exact",
    source=f"{SSM_REV}, review 3, Q1",
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
        "quick": {"L": 2, "r": 1, "eta": "11/10", "init": [1.05, 0.9], "gd_steps": 200,
                  "prec": 128, "eta_ex1": "1/2"},
        "standard": {"L": 3, "r": 1, "eta": "7/10", "init": [1.05, 0.9, 1.0], "gd_steps": 600,
                     "prec": 192, "eta_ex1": "3/4"},
        "thorough": {"L": 4, "r": 1, "eta": "53/100", "init": [1.05, 0.9, 1.0, 0.98],
                     "gd_steps": 2000, "prec": 256, "eta_ex1": "1/3"},
    },
    controls={"below-threshold": {"eta": "9/10", "L": 2, "init": [1.05, 0.9]}},
)  # fmt: skip
def check_orbit_or_slow(
    ctx: RunContext, *, L: int, r: int, eta: str, init: list[float], gd_steps: int, prec: int,
    eta_ex1: str,
) -> CheckResult:  # fmt: skip
    """(i) Example 1: exact orbit ``+-eta^2/4`` with multiplier
    ``g'(a) g'(-a) = 0`` exactly.  (ii) Deep linear network, ``d = 1``, target
    ``r``: mp GD from the unbalanced ``init`` shows the oscillation; Newton on
    ``F(s) = G(G(s)) - s`` along the invariant balanced line from the last
    iterate; the Krawczyk test in arb proves a unique zero of ``F`` in a ball,
    and the amplitude is enclosed over that ball; the spectral radius of the
    full two-step Jacobian (mp) says whether the orbit attracts.
    Control ``below-threshold``: ``eta`` below ``eta_1``; the zero found is the
    minimum and its amplitude encloses 0.
    """
    L, prec = need_int("L", L, 1), need_int("prec", prec, 53)
    if len(need_numbers("init", init)) != L:
        raise InputError(f"parameter init must have L = {L} entries, got {init!r}")
    r = need_int("r", r, 1)
    eta_q, e1 = need_fraction("eta", eta), need_fraction("eta_ex1", eta_ex1)
    ok_ex1, ex1_note = _example1_orbit(ctx, e1)
    m = ctx.backend("mp", prec)
    tgt_m = Target.whitened(m, [[r]])
    amps: list[float] = []

    def amp(t: int, ws: Any, R: Any, g: Any) -> None:
        amps.append(m.to_float(abs(m.scale(m.scalar(eta_q), g[0])[0, 0])))

    run = dynamics.gd(m, [[[w]] for w in init], tgt_m, m.scalar(eta_q),
                      max_steps=need_int("gd_steps", gd_steps, 1), observers=[amp])  # fmt: skip
    s = _newton_two_step(m, L, tgt_m, eta_q, run.ws, prec)
    spec = _two_step_spectral_radius(m, L, tgt_m, eta_q, s)
    proved, amp_ball, floor, b = _krawczyk(ctx, L, r, eta_q, m.to_str(s, int(prec * 0.31)), prec)
    v = decide(b, amp_ball, floor, relation=">=") if proved else Verdict.INCONCLUSIVE
    verdict = v if ok_ex1 else Verdict.VIOLATED
    eta1 = ssm.thm1_eta(L, float(r))
    amp_repr = b.to_str(amp_ball, 12)
    return ssm_result(
        b, verdict, b.to_float(amp_ball), b.to_float(floor), ">=",
        how="Newton on the two-step map + Krawczyk enclosure (arb)", measured_repr=amp_repr,
        notes=(f"{ex1_note} Deep linear d = 1, L = {L}, r = {r}, eta = {eta} = "
               f"{float(eta_q) / eta1:.3g} eta_1: unique two-step fixed point proved: {proved}; "
               f"amplitude {amp_repr}; spectral radius of the two-step Jacobian {spec:.4g} "
               f"({'attracting' if spec < 1 else 'not attracting'}); GD amplitude "
               f"{amps[0]:.3g} -> {amps[-1]:.3g} over {run.steps} steps."),
        evidence={"gd_amplitude": amps[:: max(1, len(amps) // 20)], "spectral_radius": spec,
                  "eta_over_eta1": float(eta_q) / eta1, "krawczyk": proved, "ex1_ok": ok_ex1},
        scope={"runs": covers(f"Example 1 at eta = {e1}; deep linear d = 1, L = {L}, r = {r}, "
                              f"eta = {eta} from init {init}")},
        counterexample={"eta": eta, "amplitude": amp_repr, "orbit_point": m.to_str(s, 20)}
        if verdict is Verdict.VIOLATED else None,
    )  # fmt: skip


def _example1_orbit(ctx: RunContext, e1: Fraction) -> tuple[bool, str]:
    """Example 1's orbit ``+-eta^2/4`` and its multiplier ``g'(a) g'(-a)``, exactly
    (``g'(x) = 1 - eta / (2 sqrt|x|)``, rational at ``|x| = eta^2/4``)."""
    ex = ctx.backend("exact")
    e = ex.scalar(e1)
    a = ex.scalar(ssm.ex1_orbit_amplitude(e1))
    mult = (1 - e / (2 * (e / 2))) ** 2
    ok = ssm.ex1_step(ex, ssm.ex1_step(ex, a, e), e) == a and a > 0 and mult == 0
    return ok, f"Example 1 (eta = {e1}): exact orbit +-{a}, multiplier {mult}: {ok}."


def _newton_two_step(m: Any, L: int, tgt: Target, eta_q: Fraction, ws: Any, prec: int) -> Any:
    """Newton on ``F(s) = G(G(s)) - s`` along the balanced line, from the mean
    of the last GD iterate's layers."""
    _g1, fm, dfm = ssm.balanced_line_maps(m, L, tgt, m.scalar(eta_q))
    s = sum((w[0, 0] for w in ws), m.scalar(0)) / L
    for _ in range(60):
        step = fm(s) / dfm(s)
        s = s - step
        if abs(m.to_float(step)) < 2.0 ** -(prec - 8):
            break
    return s


def _two_step_spectral_radius(m: Any, L: int, tgt: Target, eta_q: Fraction, s: Any) -> float:
    """Spectral radius of ``(I - eta H(W_1)) (I - eta H(W_0))`` at the orbit (mp)."""
    w0 = [m.matrix([[s]]) for _ in range(L)]
    w1 = dynamics.gd_step(m, w0, tgt, m.scalar(eta_q))[0]
    eye = np.eye(L)
    j0 = eye - float(eta_q) * m.to_numpy(ssm.hessian(m, w0, tgt))
    j1 = eye - float(eta_q) * m.to_numpy(ssm.hessian(m, w1, tgt))
    return float(max(abs(np.linalg.eigvals(j1 @ j0))))


def _krawczyk(
    ctx: RunContext, L: int, r: int, eta_q: Fraction, mid_text: str, prec: int
) -> tuple[bool, Any, Any, Any]:
    """Krawczyk ball around the Newton point; the amplitude over the ball and the
    floor ``2^{-prec/2}`` (arb).  Returns ``(proved, amplitude, floor, backend)``."""
    import flint

    b = ctx.backend("ball", prec)
    with b.session():
        g1b, fb, dfb = ssm.balanced_line_maps(b, L, Target.whitened(b, [[r]]), b.scalar(eta_q))
        mid = flint.arb(mid_text).mid()
        proved, box = ssm.krawczyk_1d(fb, dfb, mid, flint.arb(2) ** (-(3 * prec) // 4), flint)
        amp_ball = abs(g1b(box) - box)
        floor = b.scalar(2) ** (-(prec // 2))
    return proved, amp_ball, floor, b
