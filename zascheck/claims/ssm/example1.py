"""f(x) = 2/3 |x|^{3/2}: constant-step GD converges to a period-2 orbit; diminishing step to 0.

Source: reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), review 2 (SSM Example 1).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import ssm
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.measure.ssm import _result, _worst
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="ssm.example1",
    section="C",
    kind="empirical + exact",
    source="reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), review 2 (SSM Example 1)",
    statement="f(x) = 2/3 |x|^{3/2}: constant-step GD converges to a period-2 orbit; diminishing step to 0.",
    bound="none",
    quantifiers=(
        Q("x0", "every start x_0 != 0"),
        Q("eta", "every constant step"),
    ),
    depends_on=(),
    figure="ssm",
)


@CARD.check(
    method="exact+ball",
    budgets={
        "quick": {
            "eta": "1/2",
            "starts": ["3/7", "-5/3", "1/1000", "10"],
            "steps": 60,
            "prec": 128,
            "schedule": "c/t",
            "c": "1",
            "dim_start": "3/7",
            "dim_steps": 2000,
        },
        "standard": {
            "eta": "3/4",
            "starts": ["3/7", "-5/3", "1/1000", "10", "-100", "1/7"],
            "steps": 120,
            "prec": 192,
            "schedule": "c/t",
            "c": "1",
            "dim_start": "-5/3",
            "dim_steps": 20000,
        },
        "thorough": {
            "eta": "1/3",
            "starts": ["3/7", "-5/3", "1/1000", "10", "-100", "1/7", "12345/7"],
            "steps": 400,
            "prec": 256,
            "schedule": "c/sqrt(t)",
            "c": "1",
            "dim_start": "10",
            "dim_steps": 100000,
        },
    },
    controls={"summable-step": {"schedule": "c/t^2"}},
)
def check_example1(
    ctx: RunContext,
    *,
    eta: str,
    starts: list[str],
    steps: int,
    prec: int,
    schedule: str,
    c: str,
    dim_start: str,
    dim_steps: int,
) -> CheckResult:
    """``f(x) = 2/3 |x|^{3/2}``: constant-step GD converges to a period-2 orbit,
    not to 0 (orbit found exactly); a diminishing step converges to 0.

    Source: reviews of SSM (NeurIPS 2018), review 2 (on SSM Example 1).
    Formalized: (i) exact: ``a = eta^2/4`` satisfies ``g(a) = -a``, ``g(-a) = a``
    for ``g(x) = x - eta sign(x) sqrt|x|`` (rational ``eta``, so ``sqrt a = eta/2``
    is exact).  (ii) ball arithmetic: every listed start enters ``0 < |x| < eta^2``
    (certified comparisons); there ``s = sqrt|x|`` maps to ``sqrt(s(eta - s))``,
    which satisfies ``s <= h(s) <= eta/2``, so the orbit is reached monotonically
    (quadratically: ``h'(eta/2) = 0``).  (iii) mp, from ``dim_start``: with
    ``x_t = x_{t-1} - eta_t f'(x_{t-1})`` and ``eta_t`` from ``schedule``, ``|x_T|``
    must lie below the envelope ``eta_T^2/4``, which tends to 0 (once
    ``sqrt|x| <= eta_t``, the lemma of (ii) keeps ``sqrt|x_t| <= eta_t/2`` whenever
    ``eta_{t+1} >= eta_t/2``).
    Control: a summable schedule ``c/t^2`` stalls away from 0.
    """
    ex = ctx.backend("exact")
    eta_q = Fraction(eta)
    a = ex.scalar(ssm.ex1_orbit_amplitude(eta_q))
    e_ex = ex.scalar(eta_q)
    x1 = ssm.ex1_step(ex, a, e_ex)
    x2 = ssm.ex1_step(ex, x1, e_ex)
    resid = abs(x1 + a) + abs(x2 - a)
    v_orbit = decide(ex, resid, 0, relation="<=")
    if not ex.lt(0, a):
        v_orbit = Verdict.VIOLATED
    # (ii) generic starts, ball arithmetic
    b = ctx.backend("ball", prec)
    entered = []
    final_dist = []
    iterates: dict[str, list[float]] = {}  # evidence (figures): x_0 .. x_30 per start
    with b.session():
        eb = b.scalar(eta_q)
        ab = b.scalar(ssm.ex1_orbit_amplitude(eta_q))
        for s in starts:
            x = b.scalar(Fraction(s))
            hit = None
            xs_s = iterates.setdefault(s, [b.to_float(x)])
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
    v_conv = Verdict.CERTIFIED if all(h is not None for h in entered) else Verdict.INCONCLUSIVE
    # (iii) diminishing step, mp
    m = ctx.backend("mp", prec)
    cm = m.scalar(Fraction(c))

    def eta_t(t: int) -> Any:
        if schedule == "c/t":
            return cm / t
        if schedule == "c/sqrt(t)":
            return cm / m.sqrt(m.scalar(t))
        if schedule == "c/t^2":
            return cm / (t * t)
        raise InputError(f"unknown schedule {schedule!r}; use c/t, c/sqrt(t) or c/t^2")

    xs = m.scalar(Fraction(dim_start))
    samples = []
    # evidence (figures): x_t and the envelope eta_t^2/4 at ~40 log-spaced t
    keep_t = {int(v) for v in np.unique(np.round(np.geomspace(1, dim_steps, 40)))}
    series: dict[str, list[Any]] = {"t": [0], "x": [m.to_float(xs)], "envelope": [None]}
    for t in range(1, dim_steps + 1):
        xs = xs - eta_t(t) * ssm.ex1_grad(m, xs)
        if t in (10, 100, 1000, 10000, 100000) or t == dim_steps:
            samples.append((t, m.to_float(abs(xs))))
        if t in keep_t:
            series["t"].append(t)
            series["x"].append(m.to_float(xs))
            series["envelope"].append(m.to_float(eta_t(t) ** 2 / 4))
    env = eta_t(dim_steps) ** 2 / 4
    v_dim = decide(m, abs(xs), env, relation="<=", err=m.gamma(4 * dim_steps) * m.to_float(env))
    parts = [("orbit", v_orbit), ("generic starts", v_conv), ("diminishing", v_dim)]
    verdict = _worst(v_orbit, v_conv, v_dim)
    return _result(
        m,
        verdict,
        m.to_float(abs(xs)),
        m.to_float(env),
        "<=",
        how="exact orbit; ball iterates from generic starts; mp diminishing-step run",
        notes=(
            f"period-2 orbit +-{ex.to_str(a)} exact (residual {resid}): {v_orbit}; starts "
            f"{starts} enter the "
            f"basin at steps {entered} ({v_conv}); schedule {schedule}: |x_T| = "
            f"{m.to_float(abs(xs)):.3g} vs "
            f"envelope eta_T^2/4 = {m.to_float(env):.3g} ({v_dim}). measured/bound refer to the "
            "last part."
        ),
        evidence={
            "amplitude": ex.to_float(a),
            "entered_at": entered,
            "final_dist_to_orbit": final_dist,
            "diminishing": samples,
            "parts": {k: str(v) for k, v in parts},
            "constant_step_iterates": iterates,
            "diminishing_series": series,
            "eta": float(eta_q),
            "schedule": schedule,
        },
        counterexample={"schedule": schedule, "x_T": m.to_float(xs), "envelope": m.to_float(env)}
        if verdict == Verdict.VIOLATED
        else None,
    )
