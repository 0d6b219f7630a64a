"""Shared measurements (moved from ``checks/stepsize.py``).

Step-size family: Theorem 4.3 (GD from ZAS at the theorem's step size).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import dynamics
from zascheck.arith import Backend
from zascheck.result import combine_verdicts
from zascheck.model import Target
from zascheck.result import Verdict, decide

MAX_BITS = 1024


def dyadic_below(b: Backend, x: Any) -> float:
    """The largest double we can prove (in ``b``) is ``<= x``: GD then runs
    with an exactly representable step that satisfies the theorem's bound."""
    v = b.to_float(x)
    while True:
        ok = b.le(b.scalar(v), x)
        if ok:
            return v
        v = float(np.nextafter(v, 0.0)) if ok is False else v * (1 - 2.0**-40)


def envelope_run(
    b: Backend,
    ws0: list[np.ndarray],
    target: Target,
    eta: float,
    max_steps: int,
    rel_tol: float,
) -> dict[str, Any]:
    """GD from ``ws0`` checking ``R(t) <= (1 - eta/2)^t R(0)`` at every step in
    ``b`` (decided by enclosure in ball arithmetic).  Also records the per-step
    factor ``R(t+1)/R(t)`` against ``1 - eta/2`` (Lemma 4.6)."""
    q = 1 - b.scalar(eta) / 2
    state: dict[str, Any] = {
        "env": None,
        "worst": -math.inf,
        "worst_t": 0,
        "verdicts": set(),
        "first_bad": None,
        "undecided": None,
        "prev": None,
        "step_max": -math.inf,
    }
    trace_t, trace_ratio = [], []
    stride = max(1, max_steps // 200)

    def observe(t: int, ws: Any, r: Any, g: Any) -> bool:
        if state["env"] is None:
            state["env"] = r
            state["prev"] = r
            return False
        state["env"] = state["env"] * q
        env = state["env"]
        err = 0.0 if b.rigorous else b.gamma(4 * len(ws) * b.shape(ws[0])[0]) * b.to_float(r)
        v = decide(b, r, env, err=err)
        ratio = b.to_float(r) / b.to_float(env) if b.to_float(env) > 0 else math.inf
        if ratio > state["worst"]:
            state["worst"], state["worst_t"] = ratio, t
        pf = b.to_float(r) / b.to_float(state["prev"]) if b.to_float(state["prev"]) > 0 else 0.0
        state["step_max"] = max(state["step_max"], pf)
        state["prev"] = r
        if t % stride == 0:
            trace_t.append(t)
            trace_ratio.append(ratio)
        state["verdicts"].add(v)
        if v is Verdict.VIOLATED:
            state["first_bad"] = t
            return True
        if v is Verdict.INCONCLUSIVE:
            state["undecided"] = t
            return True
        return False

    run = dynamics.gd(
        b,
        ws0,
        Target(Y=target.Y, X=target.X),
        eta,
        max_steps=max_steps,
        rel_tol=rel_tol,
        observers=[observe],
    )
    if state["verdicts"]:
        verdict = combine_verdicts(state["verdicts"])
    elif run.stop == "converged" and run.steps == 0:
        # R(0) = 0: a global minimum, where every gradient vanishes, so GD
        # stays there and 0 <= (1 - eta/2)^t * 0 for every t.
        verdict = Verdict.CERTIFIED if b.rigorous else Verdict.HOLDS
    else:
        verdict = Verdict.INCONCLUSIVE
    if run.stop == "diverged":
        verdict = Verdict.VIOLATED
        state["first_bad"] = run.steps
    if run.stop == "precision":
        verdict = Verdict.INCONCLUSIVE
    return {
        "verdict": verdict,
        "steps": run.steps,
        "stop": run.stop,
        "worst_ratio": state["worst"],
        "worst_t": state["worst_t"],
        "max_step_factor": state["step_max"],
        "step_bound": 1 - eta / 2,
        "first_violation": state["first_bad"],
        "undecided_at": state["undecided"],
        "final_rel_loss": b.to_float(run.losses[-1]) / max(b.to_float(run.losses[0]), 1e-300),
        "trace": {"t": trace_t, "ratio": trace_ratio},
    }
