"""Property search for the claims of section A, inside and outside pytest.

Each claim has a *property*: a strategy of JSON cases
(:mod:`zascheck.strategies`) and an evaluator that decides one case with the
library (``model``, ``dynamics``, ``checks.common.flow_decay``,
``checks.stepsize.envelope_run``, ...) through :func:`zascheck.escalate.escalate`,
so a verdict near the boundary is re-checked in ball / exact arithmetic.
Every evaluation also returns a *slack*: a normalised margin (positive = the
claim held with room) that the search drives toward zero with
``hypothesis.target`` to find the tightest case.

Negative properties (key ``claim/control``) drop one hypothesis of the claim
(step above the bound, non-ZAS init, wrong target, ...); a search on them must
find a counterexample, which hypothesis shrinks to a small readable case.

Entry points
    :func:`check_case` (one case), :func:`run_search` (hypothesis with a given
    number of examples and seed, progress on stderr; returns the tightest case
    and any counterexample), :func:`command` (the one-line CLI command that
    reproduces a case), :func:`failure_message`.

The same searches are registered as checks with ``method="search"``
(:mod:`zascheck.checks.search`): ``zascheck check ID:search --budget thorough``.
"""

from __future__ import annotations

import json
import math
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hseed
from hypothesis import strategies as st
from hypothesis import target as htarget

from zascheck import dynamics, inits, model
from zascheck import strategies as S
from zascheck.arith import Backend, Float64Backend
from zascheck.errors import InputError
from zascheck.escalate import BALL_LADDER, EXACT_LADDER, Escalated, Evaluation, escalate
from zascheck.model import Target
from zascheck.result import Verdict, decide

__all__ = [
    "PROPS",
    "Prop",
    "SearchOutcome",
    "check_case",
    "command",
    "failure_message",
    "run_search",
]

_F = Float64Backend()


# ---------------------------------------------------------------------------
# helpers (construction of inputs only: every formula comes from the library)
# ---------------------------------------------------------------------------


def _target(b: Backend, case: dict[str, Any]) -> Target:
    if "X" in case:
        return Target.data(b, case["X"], case["Y"])
    return Target.whitened(b, case["phi"])


def _fro(b: Backend, m: Any) -> float:
    return math.sqrt(max(b.to_float(b.fro2(m)), 0.0))


def _init(case: dict[str, Any], L: int, d: int) -> list[np.ndarray]:
    spec = case.get("init")
    if spec is None or spec == "zas" or spec == {"init": "zas"}:
        return inits.zas(L, d)
    return S.build_init(spec, L, d)


def _ratio_slack(measured: float, bound: float) -> float:
    if not (math.isfinite(measured) and math.isfinite(bound)):
        return -math.inf if not math.isfinite(measured) else math.inf
    return 1.0 - measured / bound if bound > 0 else (1.0 if measured <= 0 else -math.inf)


def _fd_grads(b: Backend, ws: list[Any], loss: Callable[[list[Any]], Any], h: Any) -> list[Any]:
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


def _abs_sizes(ws: list[Any], case: dict[str, Any]) -> tuple[float, float, int]:
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
    r_abs, g_abs = model.loss_and_grads(_F, aw, tgt)
    dmax = max(max(w.shape) for w in aw)
    y_rows = case.get("Y", case.get("phi"))
    assert y_rows is not None, "read above: the case has Y (with X) or phi"
    n = (len(aw) + 3) * max(dmax, n_cols) + len(y_rows) * n_cols
    return float(r_abs), max(float(np.max(g)) if g.size else 0.0 for g in g_abs), n


# ---------------------------------------------------------------------------
# evaluators, one per claim family
# ---------------------------------------------------------------------------


def eval_gradient(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.gradient: ``model.grads`` against central differences of
    ``model.loss``, in mp (within the rounding budget) and exactly."""
    control = case.get("control")
    r_abs, g_abs, n = _abs_sizes(case["ws"], case)

    def evaluate(b: Backend) -> Evaluation:
        ws = [b.matrix(w) for w in case["ws"]]
        tgt = _target(b, case)
        gtgt = tgt if control != "transposed-target" else Target(Y=b.T(tgt.Y), X=tgt.X)
        h = b.scalar(1)
        fd = _fd_grads(b, ws, lambda w: model.loss(b, w, tgt), h)
        g = model.grads(b, ws, gtgt)
        if b.exact:
            diff = sum((b.fro2(b.sub(x, y)) for x, y in zip(g, fd, strict=False)), b.scalar(0))
            return Evaluation(diff, b.scalar(0), 0.0, evidence={"slack": 1.0})
        worst = max(max(abs(b.to_float(v)) for v in b.entries(b.sub(x, y))) for x, y in zip(g, fd, strict=False))
        budget = 4 * b.gamma(n) * (r_abs + g_abs)
        return Evaluation(
            worst,
            budget,
            0.0,
            evidence={"slack": _ratio_slack(worst, budget), "max_abs_diff": worst},
        )

    return escalate(evaluate, start=("mp", 113), ladder=EXACT_LADDER, certify=certify)


def eval_residual(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.residual: with ``W_l = I + s U_l`` (``l < L``), ``dR/dU_l`` by exact
    central differences equals ``model.grads``; GD in ``U`` from ``U = 0,
    W_L = 0`` (FD gradients) equals ``dynamics.gd`` from ZAS."""
    L, d = int(case["L"]), int(case["d"])
    s_val = case.get("s", 1.0)

    def evaluate(b: Backend) -> Evaluation:
        s = b.scalar(s_val)
        eye = b.eye(d)
        tgt = Target.whitened(b, case["phi"])

        def weights(us: list[Any]) -> list[Any]:
            return [b.add(eye, b.scale(s, u)) for u in us[:-1]] + [us[-1]]

        def loss_u(us: list[Any]) -> Any:
            return model.loss(b, weights(us), tgt)

        us = [b.matrix(u) for u in case["us"]]
        fd = _fd_grads(b, us, loss_u, b.scalar(1))
        g = model.grads(b, weights(us), tgt)
        diff = sum((b.fro2(b.sub(x, y)) for x, y in zip(g, fd, strict=False)), b.scalar(0))
        # GD in U from U = 0 (W_L = 0) against GD from ZAS
        eta = b.scalar(case["eta"])
        u = [b.zeros(d, d) for _ in range(L)]
        run = dynamics.gd(b, inits.zas(L, d), tgt, case["eta"], max_steps=int(case["steps"]))
        for _ in range(int(case["steps"])):
            gu = _fd_grads(b, u, loss_u, b.scalar(1))
            u = [b.sub(x, b.scale(eta, y)) for x, y in zip(u, gu, strict=False)]
        for x, y in zip(weights(u), run.ws, strict=False):
            diff = diff + b.fro2(b.sub(x, y))
        return Evaluation(diff, b.scalar(0), 0.0, evidence={"slack": 1.0})

    return escalate(evaluate, start=("exact", 0), ladder=(), certify=certify)


def eval_lemma42(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.lemma4.2: ``max_l ||D_l(t) - D_l(0)||_F`` along the flow within
    :func:`zascheck.checks.conservation.invariant_change`'s budget (the
    control replaces the flow by one GD step of size ``eta``)."""
    from zascheck.checks.conservation import invariant_change

    L, d = int(case["L"]), int(case["d"])
    ws_in = case.get("ws") or _init(case, L, d)

    def evaluate(b: Backend) -> Evaluation:
        tgt = Target.whitened(b, case["phi"])
        w0 = [b.matrix(w) for w in ws_in]
        if "eta" in case:
            wt = model.gd_update(b, w0, model.grads(b, w0, tgt), b.scalar(case["eta"]))
            dw = 0.0
        else:
            run = dynamics.flow(b, ws_in, tgt, [0.0, float(case["t"])])
            wt, dw = run.ws[-1], run.error_estimate
        ch, allow = invariant_change(b, w0, wt, dw)
        return Evaluation(
            ch,
            allow,
            0.0,
            verdict=decide(_F, ch, allow),
            evidence={"slack": _ratio_slack(ch, allow), "integration_error": dw},
        )

    return escalate(evaluate, ladder=BALL_LADDER[:2], certify=False)


def eval_drift(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.drift: :func:`zascheck.checks.conservation.drift_residuals` is zero
    (exactly; in mp within ``drift_rounding_budget``)."""
    from zascheck.checks.conservation import drift_residuals, drift_rounding_budget

    power = int(case.get("power", 2))

    def evaluate(b: Backend) -> Evaluation:
        ws = [b.matrix(w) for w in case["ws"]]
        tgt = Target.whitened(b, case["phi"])
        res, _new, g, _d = drift_residuals(b, ws, tgt, b.scalar(case["eta"]), power=power)
        if b.exact:
            tot = sum((b.fro2(r) for r in res), b.scalar(0))
            return Evaluation(tot, b.scalar(0), 0.0, evidence={"slack": 1.0})
        worst = (0.0, 0.0, math.inf)
        for l, r in enumerate(res):
            m = _fro(b, r)
            bud = drift_rounding_budget(b, ws, g, float(case["eta"]), l)
            sl = _ratio_slack(m, bud)
            if sl < worst[2]:
                worst = (m, bud, sl)
        return Evaluation(worst[0], worst[1], 0.0, evidence={"slack": worst[2]})

    return escalate(evaluate, start=("mp", 113), ladder=EXACT_LADDER, certify=certify)


def _decay_eval(
    b: Backend,
    ws0: list[Any],
    tgt: Target,
    times: list[float],
    rate: Any,
    tight: bool,
    skip_slack: bool = False,
) -> Evaluation:
    from zascheck.checks.common import flow_decay

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


def eval_thm41(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.thm4.1: :func:`zascheck.checks.common.flow_decay` from ZAS (rate 1;
    equality at ``L = 1``)."""
    L, d = int(case["L"]), int(case["d"])
    zas = case.get("init") in (None, "zas")
    ws0 = _init(case, L, d)

    def evaluate(b: Backend) -> Evaluation:
        return _decay_eval(
            b, ws0, Target.whitened(b, case["phi"]), case["times"], 1, tight=(L == 1 and zas)
        )

    return escalate(evaluate, ladder=BALL_LADDER[:2])


def _cayley(e: Backend, entries: list[int], d: int) -> Any:
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
    qs = [_cayley(e, case["K"][l], d) for l in range(L + 1)]
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


def _lagrange_derivative_at_zero(nodes: list[Fraction]) -> list[Fraction]:
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
        wts = _lagrange_derivative_at_zero(nodes)
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


def eval_rectangular(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.remark.rectangular: ``flow_decay`` from ``inits.rectangular_zas``."""
    dims = [int(x) for x in case["widths"]]
    ws0 = inits.block_zas(dims) if case.get("init") == "truncated" else inits.rectangular_zas(dims)

    def evaluate(b: Backend) -> Evaluation:
        return _decay_eval(b, ws0, Target.whitened(b, case["phi"]), case["times"], 1, tight=False)

    return escalate(evaluate, ladder=BALL_LADDER[:2])


def data_rate(case: dict[str, Any]) -> tuple[float, float, float]:
    """``(rate, lower, upper)`` of the reading's ``lambda`` (float64
    eigenvalues, widened by a backward-error budget ``16 m u ||X||_F^2``)."""
    x = np.asarray(case["X"], dtype=float)
    d_x, n = x.shape
    reading = case["reading"]
    xxt = np.linalg.eigvalsh(x @ x.T)
    xtx = np.linalg.eigvalsh(x.T @ x)
    rank = min(d_x, n)  # full rank by construction
    delta = 16 * max(d_x, n) * 2.0**-53 * float(np.sum(x * x))
    if reading in ("printed", "printed-wide"):
        lam = 0.0 if n > d_x else float(xtx[0])
    elif reading in ("xxt-loss", "xxt-realizable", "xxt-excess"):
        lam = 0.0 if d_x > n else float(xxt[0])
    elif reading == "sigma-rate":
        lam = math.sqrt(max(float(sorted(xxt)[-rank]), 0.0))
        delta = math.sqrt(delta)
    elif reading == "lambda-max":
        lam = float(xxt[-1])
    else:
        raise InputError(f"unknown reading {reading!r}; choose one of {', '.join(S.DATA_READINGS)}")
    if lam == 0.0:
        return 0.0, 0.0, 0.0
    return lam, max(lam - delta, 0.0), lam + delta


def data_min_loss(case: dict[str, Any]) -> Fraction:
    """``R~* = min_P 1/2 ||P X - Y||_F^2`` exactly (``X`` has full rank):
    ``1/2 ||Y (I - X^T (X X^T)^{-1} X)||^2`` when ``n >= d_x``, else 0."""
    from zascheck.arith import ExactBackend

    e = ExactBackend()
    x, y = e.matrix(case["X"]), e.matrix(case["Y"])
    d_x, n = e.shape(x)
    if n < d_x:
        return Fraction(0)
    proj = e.mm(e.mm(e.T(x), e.mm(x, e.T(x)).inv()), x)
    res = e.sub(y, e.mm(y, proj))
    v = e.fro2(res) / 2
    return Fraction(int(v.p), int(v.q))


def eval_data(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.remark.data under one reading: ``R~(t) <= exp(-2 lambda t) R~(0)``
    (``xxt-excess``: ``R~ - R~*``), flow from the (rectangular) ZAS init; the rate
    is widened toward the claim (upper end) to say *holds* and toward the
    negation (lower end) to say *violated*."""
    x = np.asarray(case["X"], dtype=float)
    d_x = x.shape[0]
    d_y = len(case["Y"])
    L = int(case["L"])
    ws0 = inits.rectangular_zas([d_x] * L + [d_y])
    lam, lo, hi = data_rate(case)
    times = [float(t) for t in case["times"]]
    rstar = data_min_loss(case) if case["reading"] == "xxt-excess" else Fraction(0)

    def evaluate(b: Backend) -> Evaluation:
        from zascheck.checks.common import loss_error_bound

        tgt = Target.data(b, case["X"], case["Y"])
        if case["reading"] != "xxt-excess":
            ev = _decay_eval(b, ws0, tgt, times, hi, tight=False)
            if ev.verdict is Verdict.VIOLATED and lo < hi:
                ev2 = _decay_eval(b, ws0, tgt, times, lo, tight=False)
                if ev2.verdict is not Verdict.VIOLATED:
                    ev.verdict = Verdict.INCONCLUSIVE
            if ev.verdict is Verdict.INCONCLUSIVE and L == 1:
                # L = 1 with equal singular values is an equality (like Theorem 4.1 at L = 1):
                # it holds when neither side is violated within the integration budget
                tight = _decay_eval(b, ws0, tgt, times, lam, tight=True)
                if tight.verdict is Verdict.HOLDS:
                    ev.verdict = Verdict.HOLDS
                    ev.evidence["equality"] = "L = 1: equality within the integration budget"
            ev.evidence["rate"] = lam
            return ev
        run = dynamics.flow(b, ws0, tgt, [0.0, *times])
        rs = b.scalar(rstar)
        e0 = model.loss(b, run.ws[0], tgt) - rs
        worst, verdicts, ratios = None, [], []
        for t, ws in zip(times, run.ws[1:], strict=False):
            et = model.loss(b, ws, tgt) - rs
            env_hi = b.exp(-2 * b.scalar(hi) * b.scalar(t)) * e0
            env_lo = b.exp(-2 * b.scalar(lo) * b.scalar(t)) * e0
            err = loss_error_bound(b, ws, tgt, run.error_estimate) + 4 * b.gamma(
                4 * d_x * L
            ) * b.to_float(model.loss(b, ws, tgt))
            v = decide(b, et, env_hi, err=err)
            if v is Verdict.VIOLATED and decide(b, et, env_lo, err=err) is not Verdict.VIOLATED:
                v = Verdict.INCONCLUSIVE
            # L = 1 (one eigenvalue: equality) or no excess to begin with (0 <= 0):
            # holds when neither side is violated within the budget
            if (
                v is Verdict.INCONCLUSIVE
                and (L == 1 or b.to_float(e0) <= err)
                and decide(b, et, env_lo, relation=">=", err=err) is not Verdict.VIOLATED
            ):
                v = Verdict.HOLDS
            verdicts.append(v)
            envf = b.to_float(env_hi)
            ratio = (
                b.to_float(et) / envf if envf > 0 else (0.0 if b.to_float(et) <= err else math.inf)
            )
            ratios.append(ratio)
            if worst is None or ratio > worst[0]:
                worst = (ratio, err / envf if envf > 0 else math.inf, t)
        assert worst is not None, "times is non-empty"
        from zascheck.checks.common import combine

        return Evaluation(
            worst[0],
            1.0,
            worst[1],
            verdict=combine(verdicts),
            evidence={
                "slack": 1 - worst[0] if math.isfinite(worst[0]) else math.inf,
                "t": worst[2],
                "ratios": ratios,
                "rate": lam,
                "min_loss": float(rstar),
            },
        )

    return escalate(evaluate, ladder=BALL_LADDER[:2])


def _thm43_eta(b: Backend, case: dict[str, Any]) -> float:
    from zascheck.bounds import thm43_eta
    from zascheck.checks.stepsize import dyadic_below

    fro = b.sqrt(b.fro2(b.matrix(case["phi"])))
    return dyadic_below(
        b, thm43_eta(b, fro, int(case["L"])) * b.scalar(case.get("eta_factor", 1.0))
    )


def eval_thm43(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.thm4.3: :func:`zascheck.checks.stepsize.envelope_run` at
    ``eta_factor`` times the theorem's step (dyadic, provably below), for
    ``steps`` steps, decided at every step."""
    from zascheck.checks.stepsize import envelope_run

    L, d = int(case["L"]), int(case["d"])
    ws0 = _init(case, L, d)

    if not np.any(np.asarray(case["phi"])) and all(not np.any(w) for w in ws0[-1:]):
        # Phi = 0 and W_L = 0: R(t) = 0 for every t, so 0 <= 0 (envelope_run has no step to decide)
        return escalate(
            lambda b: Evaluation(
                b.scalar(0), b.scalar(0), 0.0, evidence={"slack": math.inf, "note": "R(0) = 0"}
            ),
            ladder=BALL_LADDER[:1],
            certify=certify,
        )

    def evaluate(b: Backend) -> Evaluation:
        eta = _thm43_eta(b, case)
        out = envelope_run(b, ws0, Target.whitened(b, case["phi"]), eta, int(case["steps"]), 1e-12)
        w = out["worst_ratio"]
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

    return escalate(evaluate, ladder=BALL_LADDER, certify=certify)


def eval_lemmas(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.lemma4.4-4.6 along GD at the Theorem 4.3 step: the checkable
    statements (4.8) ``||G_L||_F^2 >= R(t)`` and (4.10)
    ``R(t+1) <= (1 - eta/2) R(t)`` decided at every step; the hidden
    constants of (4.6), (4.7), (4.9) measured (``evidence['constants']``)."""
    L, d = int(case["L"]), int(case["d"])
    ws0 = _init(case, L, d)
    steps = int(case["steps"])

    def evaluate(b: Backend) -> Evaluation:
        eta = _thm43_eta(b, case)
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

        from zascheck.checks.common import combine

        run = dynamics.gd(
            b,
            ws0,
            Target.whitened(b, case["phi"]),
            eta,
            max_steps=steps,
            rel_tol=1e-12,
            observers=[obs],
        )
        verdict = combine(st_["verdicts"])
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


def eval_near_zas(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.near-zas: Theorem 4.3's envelope from ``inits.near_zas(sigma)``."""
    c = dict(case)
    c["init"] = {"init": "near-zas", "sigma": case["sigma"], "seed": case["seed"]}
    return eval_thm43(c, certify)


def saddle_bound(c: float, L: int, t: float) -> float:
    """Upper bound for ``w(t)`` on the diagonal ``w_1 = ... = w_L = w >= 0``:
    ``dw/dt = -w^{L-1}(w^L + 1) <= -w^{L-1}`` gives ``c e^{-t}`` (``L = 2``)
    and ``(c^{2-L} + (L-2) t)^{-1/(L-2)}`` (``L >= 3``)."""
    if c <= 0:
        return 0.0
    if L == 2:
        return c * math.exp(-t)
    return (c ** (2 - L) + (L - 2) * t) ** (-1.0 / (L - 2))


def eval_saddle(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.saddle: gradient flow from ``w_1 = ... = w_L = c >= 0`` (``d = 1``,
    ``Phi = -1``) stays on the diagonal, non-negative, below the bound
    :func:`saddle_bound` that goes to 0: it converges to the saddle."""
    w = [float(x) for x in case["w"]]
    L = len(w)
    T = float(case["T"])
    c = max(max(w), 0.0)
    u = saddle_bound(c, L, T)

    def evaluate(b: Backend) -> Evaluation:
        from zascheck.checks.common import combine

        run = dynamics.flow(b, [[[x]] for x in w], Target.whitened(b, [[-1.0]]), [0.0, T])
        wt = [b.to_float(m[0, 0]) for m in run.ws[-1]]
        err = run.error_estimate + 8 * L * b.unit_roundoff * max(1.0, c)
        if u > 0:
            v_bound = decide(_F, max(wt), u, err=err)
        else:  # c = 0: the saddle itself, a fixed point
            v_bound = Verdict.HOLDS if max(wt) <= err else Verdict.VIOLATED
        spread = max(wt) - min(wt)
        v_diag = Verdict.HOLDS if spread <= 2 * err else Verdict.VIOLATED
        v_sign = Verdict.HOLDS if min(wt) >= -err else Verdict.VIOLATED
        verdict = combine([v_bound, v_diag, v_sign])
        slack = (u - max(wt)) / u if u > 0 else 1.0
        return Evaluation(
            max(wt), u, err, verdict=verdict, evidence={"slack": slack, "w_T": wt, "spread": spread}
        )

    return escalate(evaluate, ladder=BALL_LADDER[:1])


# ---------------------------------------------------------------------------
# the property table
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Prop:
    """A property of one claim (``control`` is None) or a negative property."""

    claim: str
    control: str | None
    strategy: Callable[[], st.SearchStrategy[dict[str, Any]]]
    evaluate: Callable[[dict[str, Any], bool], Escalated]
    certify: bool
    summary: str

    @property
    def key(self) -> str:
        return self.claim if self.control is None else f"{self.claim}/{self.control}"

    @property
    def expect_violation(self) -> bool:
        return self.control is not None


def _p(
    claim: str,
    control: str | None,
    strategy: Callable[[], Any],
    evaluate: Callable[..., Escalated],
    certify: bool,
    summary: str,
) -> Prop:
    return Prop(claim, control, strategy, evaluate, certify, summary)


def _data_strategy(reading: str) -> Callable[[], Any]:
    """The strategy of one data reading, built lazily (binds ``reading`` now)."""
    return lambda: S.data_cases(reading)


_STEPS = (1, 300)
_PROPS = [
    _p(
        "zas.gradient",
        None,
        lambda: S.gradient_cases(),
        eval_gradient,
        True,
        "model.grads = exact central differences of model.loss, every shape, whitened or data",
    ),
    _p(
        "zas.gradient",
        "transposed-target",
        lambda: S.gradient_cases(control="transposed-target"),
        eval_gradient,
        True,
        "gradient of the transposed target: must differ",
    ),
    _p(
        "zas.residual",
        None,
        lambda: S.residual_cases(),
        eval_residual,
        True,
        "dR/dU_l = dR/dW_l for W_l = I + U_l; GD in U from 0 = GD from ZAS",
    ),
    _p(
        "zas.residual",
        "scaled-residual",
        lambda: S.residual_cases(control="scaled-residual"),
        eval_residual,
        True,
        "W_l = I + s U_l with s != 1: must differ",
    ),
    _p(
        "zas.lemma4.2",
        None,
        lambda: S.lemma42_cases(),
        eval_lemma42,
        False,
        "D_l(t) = D_l(0) along the flow, any init/target",
    ),
    _p(
        "zas.lemma4.2",
        "gd-step",
        lambda: S.lemma42_cases(control="gd-step"),
        eval_lemma42,
        False,
        "one GD step in place of the flow: D_l moves",
    ),
    _p(
        "zas.drift",
        None,
        lambda: S.drift_cases(),
        eval_drift,
        True,
        "D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T) exactly",
    ),
    _p(
        "zas.drift",
        "eta-not-squared",
        lambda: S.drift_cases(control="eta-not-squared"),
        eval_drift,
        True,
        "eta in place of eta^2: must fail",
    ),
    _p(
        "zas.thm4.1",
        None,
        lambda: S.thm41_cases(),
        eval_thm41,
        False,
        "flow from ZAS: R(t) <= exp(-2t) R(0), equality at L = 1",
    ),
    _p(
        "zas.thm4.1",
        "non-zas-init",
        lambda: S.thm41_cases(non_zas=True),
        eval_thm41,
        False,
        "flow from a non-ZAS init: must fail somewhere",
    ),
    _p(
        "zas.thm4.1.steps",
        None,
        lambda: S.steps_cases(),
        eval_steps,
        True,
        "D-conditions => product identity => ||G_L||^2 >= 2R; dR/dt = -sum ||G_l||^2 (exact)",
    ),
    _p(
        "zas.thm4.1.steps",
        "balanced-last-layer",
        lambda: S.steps_cases(balanced_last=True),
        eval_steps,
        True,
        "D_{L-1} = 0 in place of -I: the consequences fail",
    ),
    _p(
        "zas.remark.rectangular",
        None,
        lambda: S.rectangular_cases(),
        eval_rectangular,
        False,
        "rectangular ZAS with d_l >= d_0: R(t) <= exp(-2t) R(0)",
    ),
    _p(
        "zas.remark.rectangular",
        "bottleneck",
        lambda: S.rectangular_cases(bottleneck=True),
        eval_rectangular,
        False,
        "a hidden width below d_0: must fail",
    ),
    _p(
        "zas.remark.data",
        None,
        lambda: st.one_of(*[S.data_cases(r) for r, ok in S.DATA_READINGS.items() if ok]),
        eval_data,
        False,
        "Remark (2), the readings that hold: "
        + ", ".join(r for r, ok in S.DATA_READINGS.items() if ok),
    ),
    *[
        _p(
            "zas.remark.data",
            f"reading:{r}",
            _data_strategy(r),
            eval_data,
            False,
            f"Remark (2), reading {r}: fails, a counterexample must be found",
        )
        for r, ok in S.DATA_READINGS.items()
        if not ok
    ],
    _p(
        "zas.thm4.3",
        None,
        lambda: S.thm43_cases(steps=_STEPS),
        eval_thm43,
        True,
        "GD from ZAS at eta <= eta*: R(t) <= (1 - eta/2)^t R(0), every step decided",
    ),
    _p(
        "zas.thm4.3",
        "eta-above-bound",
        lambda: S.thm43_cases(eta_log2=(1, 24), steps=_STEPS),
        eval_thm43,
        True,
        "eta up to 2^24 eta*: must fail",
    ),
    _p(
        "zas.thm4.3",
        "non-zas-init",
        lambda: S.thm43_cases(
            inits_=("identity", "alpha-zas", "near-identity", "xavier"), steps=_STEPS
        ),
        eval_thm43,
        True,
        "non-ZAS init at eta*: must fail",
    ),
    _p(
        "zas.lemma4.4-4.6",
        None,
        lambda: S.thm43_cases(steps=_STEPS),
        eval_lemmas,
        True,
        "(4.8) ||G_L||^2 >= R and (4.10) R(t+1) <= (1 - eta/2) R(t) at every step; constants measured",
    ),
    _p(
        "zas.lemma4.4-4.6",
        "eta-above-bound",
        lambda: S.thm43_cases(eta_log2=(1, 24), steps=_STEPS),
        eval_lemmas,
        True,
        "eta above the bound: (4.10) must fail",
    ),
    _p(
        "zas.lemma4.4-4.6",
        "non-zas-init",
        lambda: S.thm43_cases(inits_=("alpha-zas", "identity", "xavier"), steps=_STEPS),
        eval_lemmas,
        True,
        "non-ZAS init: (4.8) or (4.10) must fail",
    ),
    _p(
        "zas.near-zas",
        None,
        lambda: S.near_zas_cases(steps=_STEPS),
        eval_near_zas,
        True,
        "near-ZAS init, sigma <= 2^-5: Theorem 4.3's envelope",
    ),
    _p(
        "zas.near-zas",
        "large-sigma",
        lambda: S.near_zas_cases(sigma_log2=(-1, 3), steps=_STEPS),
        eval_near_zas,
        True,
        "sigma >= 1/2: must fail",
    ),
    _p(
        "zas.saddle",
        None,
        lambda: S.saddle_cases(),
        eval_saddle,
        False,
        "flow from w_1 = ... = w_L = c >= 0 stays on M and goes to the saddle",
    ),
    _p(
        "zas.saddle",
        "off-manifold",
        lambda: S.saddle_cases(on_manifold=False),
        eval_saddle,
        False,
        "a point off M (or c < 0 at odd L): must not go to the saddle",
    ),
]

#: every property by key (``claim`` or ``claim/control``)
PROPS: dict[str, Prop] = {p.key: p for p in _PROPS}


def prop(key: str) -> Prop:
    if key not in PROPS:
        raise InputError(f"no property {key!r}; known: {', '.join(PROPS)}")
    return PROPS[key]


def controls_of(claim: str) -> list[str]:
    return [p.control for p in _PROPS if p.claim == claim and p.control is not None]


def check_case(key: str, case: dict[str, Any], *, certify: bool | None = None) -> Escalated:
    """Decide one case of property ``key`` (with escalation); sets ``slack``."""
    p = prop(key)
    out = p.evaluate(case, p.certify if certify is None else certify)
    first = out.tried[0] if out.tried else {}
    sl = out.evidence.get("slack", first.get("slack"))  # the deciding arithmetic's slack
    out.slack = float(sl) if sl is not None else out.margin
    if out.verdict is Verdict.VIOLATED:
        out.slack = min(out.slack, 0.0)
    return out


def command(key: str, case: dict[str, Any]) -> str:
    """The one-line command that reproduces ``case`` of property ``key``."""
    p = prop(key)
    ctl = f" --control {shlex.quote(p.control)}" if p.control else ""
    js = json.dumps({"case": case}, separators=(",", ":"))
    return f"zascheck check {p.claim}:search{ctl} --case {shlex.quote(js)}"


def failure_message(key: str, case: dict[str, Any], out: Escalated) -> str:
    return (
        f"{key}: {out.verdict.value} (measured {out.measured:.6g} {out.relation} bound "
        f"{out.bound:.6g}, margin {out.margin:.3g}, {out.arithmetic}@{out.precision_bits})\n"
        f"case: {json.dumps(case)}\nreproduce: {command(key, case)}"
    )


# ---------------------------------------------------------------------------
# the search
# ---------------------------------------------------------------------------


@dataclass
class SearchOutcome:
    key: str
    examples: int
    seconds: float
    verdicts: dict[str, int]
    tightest_case: dict[str, Any] | None
    tightest: Escalated | None
    counterexample_case: dict[str, Any] | None = None
    counterexample: Escalated | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def tightest_record(self) -> dict[str, Any] | None:
        if self.tightest is None or self.tightest_case is None:
            return None
        return {
            "property": self.key,
            "case": self.tightest_case,
            "slack": self.tightest.slack,
            **self.tightest.summary(),
            "command": command(self.key, self.tightest_case),
        }

    def counterexample_record(self) -> dict[str, Any] | None:
        if self.counterexample is None or self.counterexample_case is None:
            return None
        return {
            "property": self.key,
            "case": self.counterexample_case,
            **self.counterexample.summary(),
            "command": command(self.key, self.counterexample_case),
        }


class _Found(Exception):
    """A counterexample (raised inside the hypothesis run so it shrinks)."""


def run_search(
    key: str,
    *,
    examples: int,
    seed: int = 0,
    progress: bool = False,
    shrink_seconds: float = 5.0,
) -> SearchOutcome:
    """Run property ``key`` over ``examples`` hypothesis examples (seeded, no
    database), steering toward the smallest slack with ``target``.  A
    violation is shrunk (for at most ``shrink_seconds``) and re-checked on the
    escalation ladder.  Cases are decided with ``certify`` where the property
    can be certified cheaply (exact identities, GD in ball arithmetic)."""
    p = prop(key)
    t0 = time.perf_counter()
    state: dict[str, Any] = {
        "n": 0,
        "verdicts": {},
        "best": None,
        "fail": None,
        "fail_t": None,
        "fail_json": None,
    }
    from tqdm import tqdm

    bar = tqdm(
        total=examples,
        desc=key,
        unit="ex",
        file=sys.stderr,
        leave=False,
        disable=None if progress else True,
    )

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
        report_multiple_bugs=False,
        print_blob=False,
    )
    @hseed(seed)
    @given(p.strategy())
    def _run(case: dict[str, Any]) -> None:
        js = json.dumps(case, sort_keys=True)
        if state["fail_t"] is not None and time.perf_counter() - state["fail_t"] > shrink_seconds:
            if js == state["fail_json"]:
                raise _Found
            return
        out = check_case(key, case)
        if state["fail_t"] is None:
            state["n"] += 1
            bar.update()
            v = out.verdict.value
            state["verdicts"][v] = state["verdicts"].get(v, 0) + 1
        if math.isfinite(out.slack):
            htarget(-out.slack, label="negated slack")
        if out.verdict is Verdict.VIOLATED:
            state["fail"] = (case, out)
            state["fail_json"] = js
            if state["fail_t"] is None:
                state["fail_t"] = time.perf_counter()
            raise _Found
        if out.verdict is not Verdict.INCONCLUSIVE and (
            state["best"] is None or out.slack < state["best"][1].slack
        ):
            state["best"] = (case, out)

    try:
        _run()
    except _Found:
        pass
    finally:
        bar.close()
    res = SearchOutcome(
        key=key,
        examples=state["n"],
        seconds=0.0,
        verdicts=state["verdicts"],
        tightest_case=None,
        tightest=None,
    )
    if state["best"] is not None:
        res.tightest_case, res.tightest = state["best"]
    if state["fail"] is not None:
        case, _ = state["fail"]
        out = check_case(key, case, certify=True)  # re-decided on the full ladder
        res.counterexample_case, res.counterexample = case, out
    res.seconds = round(time.perf_counter() - t0, 3)
    return res
