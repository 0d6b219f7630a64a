"""Pieces several check families share: combining verdicts, the flow-decay
measurement behind every ``R(t) <= exp(-2 c t) R(0)`` claim, error budgets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from zascheck import dynamics, model
from zascheck.arith import Backend
from zascheck.model import Target
from zascheck.result import Verdict, combine_verdicts, decide

__all__ = ["DecayMeasurement", "flow_decay", "loss_error_bound"]


def loss_error_bound(b: Backend, ws: Sequence[Any], target: Target, dw: float) -> float:
    """First-order bound on ``|R(W + dW) - R(W)|`` when every layer moves by at
    most ``dw`` in Frobenius norm: ``||E||_F * sum_l prod_{k != l} ||W_k||_F * dw``
    (Frobenius norms bound spectral ones), doubled to cover the second order."""
    if dw == 0:
        return 0.0
    norms = [math.sqrt(max(b.to_float(b.fro2(w)), 0.0)) for w in ws]
    r = b.to_float(model.loss(b, ws, target))
    x_norm = 1.0 if target.X is None else math.sqrt(b.to_float(b.fro2(target.X)))
    s = 0.0
    for i in range(len(ws)):
        p = 1.0
        for j, n in enumerate(norms):
            if j != i:
                p *= max(n, dw)
        s += p
    return 2.0 * math.sqrt(2.0 * max(r, 0.0)) * s * x_norm * dw


@dataclass
class DecayMeasurement:
    """``R(t) / (exp(-2 c t) R(0))`` on a time grid, with its verdict.

    ``ratios[i]`` belongs to ``times[i]``; ``err[i]`` is the integration-error
    budget on the ratio at that time; ``worst`` indexes the largest ratio.
    """

    times: list[float]
    ratios: list[float]
    err: list[float]
    verdict: Verdict
    worst: int
    integration_error: float
    steps: int
    losses: list[float] = field(default_factory=list)

    @property
    def max_ratio(self) -> float:
        return self.ratios[self.worst]

    def evidence(self) -> dict[str, Any]:
        return {
            "times": self.times,
            "ratio": self.ratios,
            "loss": self.losses,
            "ratio_error_budget": self.err,
            "integration_error_estimate": self.integration_error,
            "taylor_steps": self.steps,
        }


def flow_decay(
    b: Backend,
    ws0: Sequence[Any],
    target: Target,
    times: Sequence[float],
    rate: Any = 1,
    *,
    tight: bool = False,
) -> DecayMeasurement:
    """Integrate gradient flow from ``ws0`` and compare ``R(t)`` with
    ``exp(-2 rate t) R(0)`` at every ``t`` in ``times`` (all > 0).

    With ``tight=True`` the claim is equality (``ratio == 1`` within the error
    budget), e.g. Theorem 4.1 at ``L = 1``.
    """
    times = [float(t) for t in times if float(t) > 0]
    run = dynamics.flow(b, ws0, target, [0.0, *times])
    r0 = model.loss(b, run.ws[0], target)
    ratios, errs, verdicts, losses = [], [], [], []
    rate_b = b.scalar(rate)
    for t, ws in zip(run.times[1:], run.ws[1:], strict=True):
        r = model.loss(b, ws, target)
        env = b.exp(-2 * rate_b * b.scalar(t)) * r0
        dr = loss_error_bound(b, ws, target, run.error_estimate)
        envf = b.to_float(env)
        ratio = b.to_float(r / env) if envf > 0 else math.inf
        ratios.append(ratio)
        losses.append(b.to_float(r))
        errs.append(dr / envf if envf > 0 else math.inf)
        if tight:
            verdicts.append(decide(b, r, env, relation="==", err=dr))
        else:
            verdicts.append(decide(b, r, env, relation="<=", err=dr))
    worst = max(range(len(ratios)), key=lambda i: ratios[i]) if ratios else 0
    return DecayMeasurement(
        times=times,
        ratios=ratios,
        err=errs,
        verdict=combine_verdicts(verdicts),
        worst=worst,
        integration_error=run.error_estimate,
        steps=run.steps,
        losses=losses,
    )
