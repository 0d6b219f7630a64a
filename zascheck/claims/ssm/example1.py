"""``ssm.example1``: ``f(x) = 2/3 |x|^{3/2}``: constant-step GD converges to a
period-2 orbit, not to 0; a diminishing step size converges to 0.

Source: reviews of "Step Size Matters in Deep Learning" (NeurIPS 2018) on SSM
Example 1.  Review 2: "in the first example (line 36), the function
considered does not have a global smoothness constant; hence, the gradient
method would require a diminishing step length in order to converge from any
initialization. This is clearly reflected in the example."  Review 3 (minor):
"In Example 1, the specification of the set S as S={0,d^2,-d^2,...} is
ambiguous."  SSM's own statement is not in the seeds.

Kind: empirical + exact, three parts:

* ``orbit``: ``{a, -a}`` with ``a = eta^2/4`` is a period-2 orbit of
  ``g(x) = x - eta sign(x) sqrt|x|`` (exact rationals);
* ``generic-starts``: every listed start reaches ``0 < |x| < eta^2`` (ball
  arithmetic, certified comparisons), from where the orbit is reached for every
  later ``t``: with ``s = sqrt|x|``, ``s -> sqrt(s (eta - s))`` satisfies
  ``s <= h(s) <= eta/2`` (monotone, quadratic at the end: ``h'(eta/2) = 0``);
* ``diminishing``: with ``eta_t`` from a schedule, ``|x_T|`` lies below the
  envelope ``eta_T^2/4 -> 0`` (mp); once ``sqrt|x| <= eta_t`` the lemma above
  keeps ``sqrt|x_t| <= eta_t/2`` whenever ``eta_{t+1} >= eta_t / 2``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import ssm
from zascheck.card import SSM_REV, Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.measure.ssm_checks import need_choice, need_fraction, need_int, ssm_result
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers, decide

CARD = Card(
    id="ssm.example1",
    section="C",
    kind="empirical + exact",
    source=f"{SSM_REV}, reviews 2 and 3 on SSM Example 1",
    statement=(
        "f(x) = 2/3 |x|^{3/2}: constant-step GD converges to a period-2 orbit; diminishing "
        "step to 0."
    ),
    bound="none",
    quantifiers=(
        Q("x0", "every start x_0 != 0"),
        Q("eta", "every constant step eta > 0 (and the diminishing schedules)"),
    ),
    depends_on=(),
    figure="ssm",
    parts=("orbit", "generic-starts", "diminishing"),
)

SCHEDULES = ("c/t", "c/sqrt(t)", "c/t^2")


@CARD.check(
    method="exact+ball",
    budgets={
        "quick": {"eta": "1/2", "starts": ["3/7", "-5/3", "1/1000", "10"], "steps": 60,
                  "prec": 128, "schedule": "c/t", "c": "1", "dim_start": "3/7",
                  "dim_steps": 2000},
        "standard": {"eta": "3/4", "starts": ["3/7", "-5/3", "1/1000", "10", "-100", "1/7"],
                     "steps": 120, "prec": 192, "schedule": "c/t", "c": "1",
                     "dim_start": "-5/3", "dim_steps": 20000},
        "thorough": {"eta": "1/3",
                     "starts": ["3/7", "-5/3", "1/1000", "10", "-100", "1/7", "12345/7"],
                     "steps": 400, "prec": 256, "schedule": "c/sqrt(t)", "c": "1",
                     "dim_start": "10", "dim_steps": 100000},
    },
    controls={"summable-step": {"schedule": "c/t^2"}},
)  # fmt: skip
def check_example1(
    ctx: RunContext, *, eta: str, starts: list[str], steps: int, prec: int, schedule: str,
    c: str, dim_start: str, dim_steps: int,
) -> CheckResult:  # fmt: skip
    """The three parts (module docstring): exact orbit, ball iterates from
    ``starts`` for ``steps`` steps, mp run of ``dim_steps`` steps from
    ``dim_start`` with ``eta_t`` from ``schedule``.  Measured (main result):
    the diminishing part's ``|x_T|`` against its envelope.
    Control ``summable-step``: ``c/t^2`` (summable, so GD stalls away from 0).
    """
    eta_q = need_fraction("eta", eta)
    if not isinstance(starts, list) or not starts:
        raise InputError("parameter starts must be a non-empty list of rationals")
    xs0 = [need_fraction(f"starts[{i}]", s, positive=False) for i, s in enumerate(starts)]
    schedule = need_choice("schedule", schedule, SCHEDULES)
    steps, prec = need_int("steps", steps, 1), need_int("prec", prec, 53)
    orbit = _orbit_part(ctx, eta_q)
    generic = _generic_part(ctx, eta_q, xs0, steps, prec)
    dim = _diminishing_part(ctx, schedule, need_fraction("c", c),
                            need_fraction("dim_start", dim_start, positive=False),
                            need_int("dim_steps", dim_steps, 1), prec)  # fmt: skip
    parts = [orbit, generic, dim]
    verdict = combine_verdicts(p.verdict for p in parts)
    m = ctx.backend("mp", prec)
    return ssm_result(
        m, verdict, dim.measured or 0.0, dim.bound or 0.0, "<=",
        how="exact orbit; ball iterates from generic starts; mp diminishing-step run",
        notes=" ".join(f"{p.part}: {p.verdict} ({p.notes})" for p in parts),
        evidence=orbit.evidence | generic.evidence | dim.evidence
        | {"eta": float(eta_q), "schedule": schedule},
        scope={"x0": generic.scope["x0"], "eta": covers(f"eta = {eta_q}; schedule {schedule}")},
        parts=parts,
        counterexample=next((p.counterexample for p in parts if p.counterexample), None)
        if verdict is Verdict.VIOLATED else None,
    )  # fmt: skip


def _orbit_part(ctx: RunContext, eta_q: Fraction) -> CheckResult:
    """``g(a) = -a`` and ``g(-a) = a`` exactly for ``a = eta^2/4 > 0``."""
    ex = ctx.backend("exact")
    a = ex.scalar(ssm.ex1_orbit_amplitude(eta_q))
    e_ex = ex.scalar(eta_q)
    x1 = ssm.ex1_step(ex, a, e_ex)
    resid = abs(x1 + a) + abs(ssm.ex1_step(ex, x1, e_ex) - a)
    v = decide(ex, resid, 0, relation="<=") if ex.lt(0, a) else Verdict.VIOLATED
    return ssm_result(
        ex, v, ex.to_float(resid), 0.0, "<=", how="exact rationals", part="orbit",
        notes=f"+-{ex.to_str(a)} is a period-2 orbit (residual {resid})",
        evidence={"amplitude": ex.to_float(a)},
        scope={"x0": covers(f"x0 = +-{ex.to_str(a)}"), "eta": covers(f"eta = {eta_q}")},
    )  # fmt: skip


def _generic_part(
    ctx: RunContext, eta_q: Fraction, xs0: list[Fraction], steps: int, prec: int
) -> CheckResult:
    """Each start reaches ``0 < |x| < eta^2`` (certified), the orbit's basin."""
    b = ctx.backend("ball", prec)
    entered: list[int | None] = []
    final_dist = []
    iterates: dict[str, list[float]] = {}  # for the figure: x_0 .. x_30 per start
    with b.session():
        eb = b.scalar(eta_q)
        ab = b.scalar(ssm.ex1_orbit_amplitude(eta_q))
        for s in xs0:
            x, hit = b.scalar(s), None
            xs_s = iterates.setdefault(str(s), [b.to_float(x)])
            try:
                for t in range(steps):
                    if hit is None and b.lt(abs(x), eb * eb) is True and b.lt(0, abs(x)) is True:
                        hit = t
                    x = ssm.ex1_step(b, x, eb)
                    if t < 30:
                        xs_s.append(b.to_float(x))
            except ArithmeticError:
                pass
            entered.append(hit)
            final_dist.append(b.to_float(abs(abs(x) - ab)) + b.radius(x))
    ok = all(h is not None for h in entered)
    v = Verdict.CERTIFIED if ok else Verdict.INCONCLUSIVE
    return ssm_result(
        b, v, float(sum(h is None for h in entered)), 0.0, "<=", part="generic-starts",
        how="ball iterates, certified entry into 0 < |x| < eta^2",
        notes=f"starts {[str(s) for s in xs0]} enter the basin at steps {entered}",
        evidence={"entered_at": entered, "final_dist_to_orbit": final_dist,
                  "constant_step_iterates": iterates},
        scope={"x0": covers(f"starts {[str(s) for s in xs0]}"),
               "eta": covers(f"eta = {eta_q}"), "t": covers("every t after entry (lemma)")},
    )  # fmt: skip


def _diminishing_part(
    ctx: RunContext, schedule: str, c: Fraction, x0: Fraction, dim_steps: int, prec: int
) -> CheckResult:
    """mp run with ``eta_t`` from ``schedule``; ``|x_T| <= eta_T^2/4``."""
    m = ctx.backend("mp", prec)
    cm = m.scalar(c)

    def eta_t(t: int) -> Any:
        if schedule == "c/t":
            return cm / t
        if schedule == "c/sqrt(t)":
            return cm / m.sqrt(m.scalar(t))
        return cm / (t * t)

    xs = m.scalar(x0)
    keep_t = {int(v) for v in np.unique(np.round(np.geomspace(1, dim_steps, 40)))}
    series: dict[str, list[Any]] = {"t": [0], "x": [m.to_float(xs)], "envelope": [None]}
    for t in range(1, dim_steps + 1):
        xs = xs - eta_t(t) * ssm.ex1_grad(m, xs)
        if t in keep_t:
            series["t"].append(t)
            series["x"].append(m.to_float(xs))
            series["envelope"].append(m.to_float(eta_t(t) ** 2 / 4))
    env = eta_t(dim_steps) ** 2 / 4
    v = decide(m, abs(xs), env, relation="<=", err=m.gamma(4 * dim_steps) * m.to_float(env))
    return ssm_result(
        m, v, m.to_float(abs(xs)), m.to_float(env), "<=", part="diminishing",
        how="mp run, envelope eta_T^2/4",
        notes=f"schedule {schedule}: |x_T| = {m.to_float(abs(xs)):.3g} vs eta_T^2/4 = "
        f"{m.to_float(env):.3g} at T = {dim_steps}",
        evidence={"diminishing_series": series},
        scope={"x0": covers(f"x0 = {x0}"), "eta": covers(f"eta_t = {schedule}, c = {c}"),
               "t": covers(f"T = {dim_steps}")},
        counterexample={"schedule": schedule, "x_T": m.to_float(xs), "envelope": m.to_float(env)}
        if v is Verdict.VIOLATED else None,
    )  # fmt: skip
