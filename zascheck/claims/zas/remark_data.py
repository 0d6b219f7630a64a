"""Un-whitened loss with lambda_X = lambda_min(X^T X) > 0: R~(t) <= exp(-2 lambda_X t) R~(0); every reading checked.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Remark (2) after Theorem 4.1.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from zascheck import dynamics, inits, model
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import BALL_LADDER, Escalated, Evaluation, escalate
from zascheck.result import combine_verdicts
from zascheck.measure.common import loss_error_bound
from zascheck.measure.evaluation import data_min_loss, data_rate, data_strategy, decay_eval
from zascheck.measure.data_remark import (
    READINGS,
    _data_decay,
    _dyadic_matrix,
    _lambda_min_ball,
    _min_loss_exact,
    _well_conditioned,
)
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="zas.remark.data",
    section="A",
    kind="inequality",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Remark (2) after Theorem 4.1",
    statement="Un-whitened loss with lambda_X = lambda_min(X^T X) > 0: R~(t) <= exp(-2 lambda_X t) R~(0); every reading checked.",
    bound="upper",
    quantifiers=(
        Q("t", "t >= 0 (gradient flow)"),
        Q("X", "every data X (d_x x n) with lambda_min(X^T X) > 0, and every Y"),
        Q("L", "every depth L >= 1"),
    ),
    depends_on=("zas.thm4.1",),
)


@CARD.check(
    method="flow-readings",
    budgets={
        "quick": {
            "depths": [2, 3],
            "dx": 2,
            "dy": 2,
            "n_wide": 4,
            "times": [0.5, 1.0, 2.0, 4.0],
            "readings": list(READINGS),
            "verdict_readings": ["printed"],
            "arithmetic": "ball",
        },
        "standard": {
            "depths": [1, 2, 3, 5],
            "dx": 3,
            "dy": 2,
            "n_wide": 6,
            "times": [0.25, 0.5, 1.0, 2.0, 4.0, 6.0],
            "readings": list(READINGS),
            "verdict_readings": ["printed"],
            "arithmetic": "ball",
        },
    },
    controls={
        # the reading that fails: non-realizable Y, decay of the loss itself to 0
        "non-realizable-loss": {"readings": ["xxt-loss"], "verdict_readings": ["xxt-loss"]},
    },
)
def remark_data(
    ctx: RunContext,
    depths: list[int],
    dx: int,
    dy: int,
    n_wide: int,
    times: list[float],
    readings: list[str],
    verdict_readings: list[str],
    arithmetic: str,
) -> CheckResult:
    """Remark (2) after Theorem 4.1 (ZAS paper, Sec. 4.1): for the un-whitened
    loss ``R~ = 1/2 ||W_{L:1} X - Y||_F^2`` (``X`` is ``d_x x n``), "if
    ``lambda_X = lambda_min(X^T X) > 0`` then ``R~(t) <= exp(-2 lambda_X t)
    R~(0)``" under gradient flow from ZAS (``W_l = [I; 0]``, ``W_L = 0``).

    Readings checked, each with its own verdict in ``evidence["readings"]``
    (data: dyadic matrices, so ``A X`` and ``R~*`` are exact; ``lambda`` is an
    arb enclosure of the eigenvalue, 0 when the exact determinant vanishes):

    * ``printed``: as printed, ``lambda_min(X^T X)`` (``n x n``) ``> 0``,
      which forces ``n <= d_x`` and full column rank (cases ``n = d_x - 1``
      when ``d_x > 1``, and ``n = d_x``); every ``Y`` is then realizable.
    * ``printed-wide``: as printed with ``n > d_x``: ``X^T X`` is singular,
      ``lambda = 0`` (certified by the exact determinant): the hypothesis
      fails, the claim is vacuous; reported, not judged.
    * ``xxt-realizable``: ``lambda_min(X X^T)`` (``d_x x d_x``) in place of
      ``X^T X``, ``n > d_x``, realizable ``Y = A X``.  (Also what "smallest
      nonzero eigenvalue of ``X^T X``" gives when ``X`` has rank ``d_x``.)
    * ``xxt-loss``: same ``lambda``, generic ``Y`` (not of the form ``A X``):
      ``R~ -> R~* > 0``, so decay to 0 must fail - a counterexample is the
      first grid time where ``R~(t) > exp(-2 lambda t) R~(0)`` beyond the
      error budget.
    * ``xxt-excess``: same data, the excess loss ``R~ - R~*`` with rate
      ``lambda_min(X X^T)``.

    Each judged reading integrates the flow (ball, ``ctx.bits(128)``, restarted
    from the midpoints at every grid time, :func:`flow_restarted`) for
    every depth and decides the inequality at ``times`` against the loss error
    that the integrator's error estimate allows.  Overall verdict = the
    readings in ``verdict_readings`` (default: the claim as printed).
    measured = the largest ratio ``lhs / envelope`` over those readings.
    Control: ``xxt-loss`` alone must be ``violated``.
    """
    unknown = set(readings) - set(READINGS)
    if unknown:
        from zascheck.errors import InputError

        raise InputError(f"unknown readings {sorted(unknown)}; choose from {', '.join(READINGS)}")
    b = ctx.backend(arithmetic, 128)
    rng = ctx.rng(201)
    out: dict[str, Any] = {}
    with b.session():
        # data sets
        x_wide = _well_conditioned(rng, dx, n_wide)
        y_generic = _dyadic_matrix(rng, dy, n_wide)
        a = _dyadic_matrix(rng, dy, dx)
        y_real = a @ x_wide  # exact: dyadic with few bits
        lam_xxt = _lambda_min_ball(b, x_wide @ x_wide.T)
        lam_xtx_wide = _lambda_min_ball(b, x_wide.T @ x_wide)
        r_star = _min_loss_exact(x_wide, y_generic)
        tall = sorted({dx - 1, dx} if dx > 1 else {dx})
        for name in readings:
            rec: dict[str, Any] = {"reading": READINGS[name], "per_case": {}}
            cases: list[tuple[str, np.ndarray, np.ndarray, Any, Fraction | None]] = []
            if name == "printed":
                for n in tall:
                    xt = _well_conditioned(rng, dx, n)
                    lam = _lambda_min_ball(b, xt.T @ xt)
                    cases.append((f"n={n}", xt, _dyadic_matrix(rng, dy, n), lam, None))
            elif name == "printed-wide":
                rec["lambda"] = b.to_float(lam_xtx_wide)
                rec["lambda_is_zero"] = bool(b.le(lam_xtx_wide, b.scalar(0)))
                rec["verdict"] = "vacuous" if rec["lambda_is_zero"] else "inconclusive"
                rec["note"] = (
                    f"n = {n_wide} > d_x = {dx}: det(X^T X) = 0 exactly, so "
                    "lambda_min(X^T X) = 0 and the hypothesis lambda_X > 0 fails"
                )
                out[name] = rec
                continue
            elif name == "xxt-realizable":
                cases.append((f"n={n_wide}", x_wide, y_real, lam_xxt, None))
            elif name == "xxt-loss":
                cases.append((f"n={n_wide}", x_wide, y_generic, lam_xxt, None))
            elif name == "xxt-excess":
                cases.append((f"n={n_wide}", x_wide, y_generic, lam_xxt, r_star))
            verdicts, worst, bad = [], None, None
            for label, x, y, lam, rs in cases:
                for L in depths:
                    m = _data_decay(b, x, y, L, lam, times, rs)
                    key = f"{label}/L={L}"
                    m["lambda"] = b.to_float(lam)
                    rec["per_case"][key] = m
                    v = combine_verdicts(Verdict(s) for s in m["verdict"])
                    verdicts.append(v)
                    i = max(range(len(m["ratio"])), key=lambda k: m["ratio"][k])
                    if worst is None or m["ratio"][i] > worst[0]:
                        worst = (m["ratio"][i], key, m["t"][i])
                    if v is Verdict.VIOLATED and bad is None:
                        j = m["verdict"].index("violated")
                        bad = {
                            "reading": name,
                            "case": key,
                            "t": m["t"][j],
                            "lhs": m["lhs"][j],
                            "envelope": m["envelope"][j],
                            "lambda": m["lambda"],
                            "X": x,
                            "Y": y,
                            "R_star": 0.0 if name == "printed" else float(r_star),
                        }
            rec["verdict"] = combine_verdicts(verdicts).value
            rec["max_ratio"] = worst[0] if worst else None
            rec["worst"] = worst
            rec["counterexample"] = bad
            out[name] = rec
    judged = [
        r
        for k, r in out.items()
        if k in verdict_readings and r["verdict"] in {v.value for v in Verdict}
    ]
    verdict = combine_verdicts(Verdict(r["verdict"]) for r in judged)
    worst_all = max(
        (r["worst"] for r in judged if r.get("worst")), key=lambda w: w[0], default=None
    )
    summary = {k: r["verdict"] for k, r in out.items()}
    res = CheckResult(
        verdict=verdict,
        measured=worst_all[0] if worst_all else None,
        bound=1.0,
        margin=(1.0 - worst_all[0]) if worst_all else None,
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max_t (R~(t) [- R~*]) / (exp(-2 lambda t) (R~(0) [- R~*]))",
        evidence={
            "readings": out,
            "summary": summary,
            "R_star_wide": float(r_star),
            "lambda_min_XXT_wide": b.to_float(lam_xxt),
        },
        notes=(
            f"verdict = readings {verdict_readings}; all readings: {summary}. "
            "Flow by Taylor integration; integration error estimated, not enclosed."
        ),
    )
    if worst_all:
        res.tightest = {"case": worst_all[1], "t": worst_all[2], "ratio": worst_all[0]}
    if verdict is Verdict.VIOLATED:
        res.counterexample = next(r["counterexample"] for r in judged if r["counterexample"])
    return res


# --- hypothesis property: evaluator and declarations ---


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

        tgt = Target.data(b, case["X"], case["Y"])
        if case["reading"] != "xxt-excess":
            ev = decay_eval(b, ws0, tgt, times, hi, tight=False)
            if ev.verdict is Verdict.VIOLATED and lo < hi:
                ev2 = decay_eval(b, ws0, tgt, times, lo, tight=False)
                if ev2.verdict is not Verdict.VIOLATED:
                    ev.verdict = Verdict.INCONCLUSIVE
            if ev.verdict is Verdict.INCONCLUSIVE and L == 1:
                # L = 1 with equal singular values is an equality (like Theorem 4.1 at L = 1):
                # it holds when neither side is violated within the integration budget
                tight = decay_eval(b, ws0, tgt, times, lam, tight=True)
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
        from zascheck.result import combine_verdicts

        return Evaluation(
            worst[0],
            1.0,
            worst[1],
            verdict=combine_verdicts(verdicts),
            evidence={
                "slack": 1 - worst[0] if math.isfinite(worst[0]) else math.inf,
                "t": worst[2],
                "ratios": ratios,
                "rate": lam,
                "min_loss": float(rstar),
            },
        )

    return escalate(evaluate, ladder=BALL_LADDER[:2])


CARD.prop(
    None,
    lambda: st.one_of(*[S.data_cases(r) for r, ok in S.DATA_READINGS.items() if ok]),
    eval_data,
    certify=False,
    summary="Remark (2), the readings that hold: "
    + ", ".join(r for r, ok in S.DATA_READINGS.items() if ok),
)

for _reading, _ok in S.DATA_READINGS.items():
    if not _ok:
        CARD.prop(
            f"reading:{_reading}",
            data_strategy(_reading),
            eval_data,
            certify=False,
            summary=f"Remark (2), reading {_reading}: fails, a counterexample must be found",
        )

CARD.search(examples=(2, 60, 400))
