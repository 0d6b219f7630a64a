"""Helpers of the hypothesis-property evaluators (constructing inputs and error
budgets; every formula comes from the library).  Moved from ``search.py``."""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import inits, model
from zascheck import strategies as S
from zascheck.arith import Backend, Float64Backend
from zascheck.errors import InputError
from zascheck.escalate import BALL_LADDER, Escalated, Evaluation, escalate
from zascheck.model import Target

F64 = Float64Backend()


def case_target(b: Backend, case: dict[str, Any]) -> Target:
    if "X" in case:
        return Target.data(b, case["X"], case["Y"])
    return Target.whitened(b, case["phi"])


def fro(b: Backend, m: Any) -> float:
    return math.sqrt(max(b.to_float(b.fro2(m)), 0.0))


def case_init(case: dict[str, Any], L: int, d: int) -> list[np.ndarray]:
    spec = case.get("init")
    if spec is None or spec == "zas" or spec == {"init": "zas"}:
        return inits.zas(L, d)
    return S.build_init(spec, L, d)


def ratio_slack(measured: float, bound: float) -> float:
    if not (math.isfinite(measured) and math.isfinite(bound)):
        return -math.inf if not math.isfinite(measured) else math.inf
    return 1.0 - measured / bound if bound > 0 else (1.0 if measured <= 0 else -math.inf)


def fd_grads(b: Backend, ws: list[Any], loss: Callable[[list[Any]], Any], h: Any) -> list[Any]:
    """Central differences ``(R(w + h e_ij) - R(w - h e_ij)) / 2h`` of every
    entry.  ``R`` is a quadratic polynomial in each single entry (the product
    is linear in each layer), so the central difference is exact for any
    ``h``: in exact arithmetic it *is* the derivative."""
    out = []
    two_h = 2 * h
    for w in ws:
        r, c = b.shape(w)
        g = b.zeros(r, c)
        for i in range(r):
            for j in range(c):
                x = w[i, j]
                w[i, j] = x + h
                rp = loss(ws)
                w[i, j] = x - h
                rm = loss(ws)
                w[i, j] = x
                g[i, j] = (rp - rm) / two_h
        out.append(g)
    return out


def abs_sizes(ws: list[Any], case: dict[str, Any]) -> tuple[float, float, int]:
    """Rounding scale of a loss / gradient evaluation: the loss and largest
    gradient entry of the network with every entry replaced by its absolute
    value (and the target by ``-|Y|``), i.e. with no cancellation; and the
    length ``n`` of the longest chain of roundings."""
    aw = [np.abs(np.asarray(w, dtype=float)) for w in ws]
    if "X" in case:
        tgt = Target(
            Y=-np.abs(np.asarray(case["Y"], float)), X=np.abs(np.asarray(case["X"], float))
        )
        n_cols = len(case["Y"][0])
    else:
        tgt = Target(Y=-np.abs(np.asarray(case["phi"], float)))
        n_cols = len(case["phi"][0])
    r_abs, g_abs = model.loss_and_grads(F64, aw, tgt)
    dmax = max(max(w.shape) for w in aw)
    y_rows = case.get("Y", case.get("phi"))
    assert y_rows is not None, "read above: the case has Y (with X) or phi"
    n = (len(aw) + 3) * max(dmax, n_cols) + len(y_rows) * n_cols
    return float(r_abs), max(float(np.max(g)) if g.size else 0.0 for g in g_abs), n


def decay_eval(
    b: Backend,
    ws0: list[Any],
    tgt: Target,
    times: list[float],
    rate: Any,
    tight: bool,
    skip_slack: bool = False,
) -> Evaluation:
    from zascheck.measure.common import flow_decay

    m = flow_decay(b, ws0, tgt, times, rate, tight=tight)
    # R(0) = 0 makes the ratio meaningless (0 <= 0 is decided by the verdict): no slack to steer by
    slack = (
        math.inf if (tight or skip_slack or not math.isfinite(m.max_ratio)) else 1.0 - m.max_ratio
    )
    return Evaluation(
        m.max_ratio,
        1.0,
        m.err[m.worst],
        verdict=m.verdict,
        evidence={
            "slack": slack,
            "t": m.times[m.worst],
            "ratios": m.ratios,
            "equality_gap": max(abs(1 - r) for r in m.ratios) if tight else None,
        },
    )


def cayley(e: Backend, entries: list[int], d: int) -> Any:
    """A rational orthogonal matrix ``(I - K)(I + K)^{-1}`` from the upper
    triangle of a skew-symmetric integer ``K``."""
    k = [[Fraction(0)] * d for _ in range(d)]
    it = iter(entries)
    for i in range(d):
        for j in range(i + 1, d):
            v = Fraction(next(it, 0))
            k[i][j], k[j][i] = v, -v
    km = e.matrix(k)
    eye = e.eye(d)
    return e.mm(e.sub(eye, km), e.add(eye, km).inv())


def steps_weights(e: Backend, case: dict[str, Any]) -> list[Any]:
    """The exact rational point of :func:`zascheck.strategies.steps_cases`."""
    L, d = int(case["L"]), int(case["d"])
    qs = [cayley(e, case["K"][l], d) for l in range(L + 1)]
    if case.get("balanced_last"):
        sv = [Fraction(x) for x in case["s"]]
        tv = sv
    else:
        sv = [Fraction(m * m + 1, 2 * m) for m in case["m"]]
        tv = [Fraction(m * m - 1, 2 * m) for m in case["m"]]
    s = e.matrix([[sv[i] if i == j else 0 for j in range(d)] for i in range(d)])
    t = e.matrix([[tv[i] if i == j else 0 for j in range(d)] for i in range(d)])
    ws = [e.mm(e.mm(qs[l], s), e.T(qs[l - 1])) for l in range(1, L)]
    ws.append(e.mm(e.mm(qs[L], t), e.T(qs[L - 1])))
    return ws


def lagrange_derivative_at_zero(nodes: list[Fraction]) -> list[Fraction]:
    """Weights ``c_k`` with ``p'(0) = sum_k c_k p(h_k)`` for every polynomial
    of degree ``< len(nodes)`` (exact)."""
    out = []
    for k, hk in enumerate(nodes):
        tot = Fraction(0)
        for m, hm in enumerate(nodes):
            if m == k:
                continue
            term = Fraction(1) / (hk - hm)
            for j, hj in enumerate(nodes):
                if j not in (k, m):
                    term *= (0 - hj) / (hk - hj)
            tot += term
        out.append(tot)
    return out


def thm43_case_eta(case: dict[str, Any]) -> float:
    """The step of a ``zas.thm4.3`` / ``zas.lemma4.4-4.6`` search case: the
    largest double ``<= eta_factor * eta*`` (Theorem 4.3's bound for the
    case's ``phi`` and ``L``, computed exactly:
    :func:`zascheck.measure.stepsize.theorem_step`).  Raises
    :class:`InputError` if that step is below the double range (the search's
    targets never are)."""
    from zascheck.measure.stepsize import theorem_step

    step = theorem_step(case["phi"], int(case["L"]), case.get("eta_factor", 1.0))
    if not step.is_double:
        raise InputError(f"case step eta = {step.eta_text} is below the double range")
    return float(step.eta)


def eval_thm43(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.thm4.3 (Theorem 4.3, eq. (4.5)) on one search case:
    :func:`zascheck.measure.stepsize.envelope_run` at ``eta_factor`` times
    the theorem's step (a double, provably below), for ``steps`` steps,
    every step decided; escalated to ball arithmetic.  measured =
    ``max_t R(t) / ((1 - eta/2)^t R(0))`` (bound 1); ``evidence['slack']`` =
    ``(1 - measured) / eta``, the margin in units of the step."""
    from zascheck.measure.stepsize import envelope_run

    L, d = int(case["L"]), int(case["d"])
    ws0 = case_init(case, L, d)
    eta = thm43_case_eta(case)

    if not np.any(np.asarray(case["phi"])) and all(not np.any(w) for w in ws0[-1:]):
        # Phi = 0 and W_L = 0: R(t) = 0 for every t, so 0 <= 0 (envelope_run has no step to decide)
        return escalate(
            lambda b: Evaluation(
                b.scalar(0), b.scalar(0), 0.0, evidence={"slack": math.inf, "note": "R(0) = 0"}
            ),
            ladder=BALL_LADDER[:2],
            certify=certify,
        )

    def evaluate(b: Backend) -> Evaluation:
        out = envelope_run(b, ws0, Target.whitened(b, case["phi"]), eta, int(case["steps"]), 1e-12)
        w = out["worst_ratio"] if not out["zero_loss"] else -math.inf  # R = 0: 0 <= 0, no ratio
        slack = (
            (1 - w) / eta
            if math.isfinite(w) and w > -math.inf
            else (1.0 if w == -math.inf else -math.inf)
        )
        return Evaluation(
            w if math.isfinite(w) else (0.0 if w < 0 else w),
            1.0,
            0.0,
            verdict=out["verdict"],
            evidence={
                "slack": slack,
                "eta": eta,
                "worst_t": out["worst_t"],
                "stop": out["stop"],
                "steps_run": out["steps"],
                "first_violation": out["first_violation"],
            },
        )

    return escalate(evaluate, ladder=BALL_LADDER, certify=certify, size=d)


def saddle_bound(c: float, L: int, t: float) -> float:
    """Upper bound for ``w(t)`` on the diagonal ``w_1 = ... = w_L = w >= 0``
    (``dw/dt = -w^{L-1}(w^L + 1) <= -w^{L-1}``): the comparison solution
    :func:`zascheck.measure.flow.comparison_decay`."""
    from zascheck.measure.flow import comparison_decay

    return comparison_decay(c, L, t)


#: the horizon (GD steps) the zas.thm4.3 / lemma4.4-4.6 / near-zas search cases draw from
STEPS = (1, 300)
