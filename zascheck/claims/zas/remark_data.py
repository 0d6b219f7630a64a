"""Remark (2) of the ZAS paper: the un-whitened loss decays at rate lambda_X; every reading.

Source: Wu, Wang & Ma, "Global Convergence of Gradient Descent for Deep Linear
Residual Networks", NeurIPS 2019, Sec. 4.1, Remark (2) after Theorem 4.1:

    "(2). For the general square loss R~ in (2.2) with un-whitened data X, if
    lambda_X := lambda_min(X^T X) > 0, following the similar proof, we will
    have ||grad_L R~||_F^2 >= 2 lambda_X R~, and R~(t) <= e^{-2 lambda_X t} R~(0)."

with (2.2) ``R~ = 1/2 ||W_L ... W_1 X - Y||_F^2``, ``X = (x_1, ..., x_n)`` of
shape ``d_x x n``, ``Y`` of shape ``d_y x n``.

Kind: inequality (an upper bound on the loss along gradient flow from the
(rectangular) ZAS init of Remark (1)); not claimed tight.

As printed the claim is vacuous for ``n > d_x`` (every data set of the usual
kind, more samples than features): ``X^T X`` is ``n x n`` of rank ``<= d_x``,
so ``lambda_min(X^T X) = 0`` and the hypothesis fails.  Where it is not vacuous
(``n <= d_x``, ``X`` of full column rank) every ``Y`` is realizable and the
claim holds (the proof carries over: ``||G_L||^2 >= ||E X^T||^2 >= 2 lambda R~``).
The readings a user may take (the one table
:data:`zascheck.measure.data_remark.READINGS`), each a part with its own
result: ``printed``, ``printed-wide`` (vacuous, checked as ``R~(t) <= R~(0)``),
``xxt-realizable`` (``lambda_min(X X^T)``, ``Y = A X``: holds), ``xxt-loss``
(``lambda_min(X X^T)``, ``Y`` not realizable: fails, ``R~ -> R~* > 0``; a
counterexample), ``xxt-excess`` (``R~ - R~*`` at rate ``lambda_min(X X^T)``:
holds); the search also tries the wrong rates ``sigma-rate`` and
``lambda-max`` (both fail).

Claim-level verdict: ``violated``.  A part is violated (``xxt-loss``: the
reading that makes the remark say something for ``n > d_x``, applied to data
that are not exactly fitted), so the claim cannot read ``holds``; the parts
say which readings hold (``printed`` where not vacuous, ``xxt-realizable``,
``xxt-excess``) and which fail.  Not formalized: the gradient inequality
``||G_L||^2 >= 2 lambda_X R~`` on its own (it is the step (iii) of
zas.thm4.1.steps with data), discrete GD.

References: ZAS paper eq. (2.2), Remark (1) (zas.remark.rectangular), Theorem
4.1 (zas.thm4.1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from zascheck import inits
from zascheck import strategies as S
from zascheck.arith import Backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.escalate import BALL_LADDER, Escalated, Evaluation, escalate
from zascheck.errors import InputError
from zascheck.measure.common import DecayMeasurement, flow_decay
from zascheck.measure.data_remark import (
    READINGS,
    data_strategy,
    dyadic_matrix,
    min_data_loss,
    rate_bracket,
    reading_rate,
    validate_data,
    well_conditioned,
)
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers

#: the readings the flow check runs by default (the search adds the wrong rates)
FLOW_READINGS = ("printed", "printed-wide", "xxt-realizable", "xxt-loss", "xxt-excess")

CARD = Card(
    id="zas.remark.data",
    section="A",
    kind="inequality",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Remark (2) after Theorem 4.1 (Sec. 4.1)",
    statement="Un-whitened loss with lambda_X = lambda_min(X^T X) > 0: R~(t) <= exp(-2 lambda_X t) R~(0); every reading checked.",
    bound="upper",
    quantifiers=(
        Q("t", "every t >= 0 (gradient flow from the rectangular ZAS init)"),
        Q("X", "every data X (d_x x n) with lambda_min(X^T X) > 0 (each reading: its own lambda)"),
        Q("Y", "every Y (d_y x n) (each reading: realizable or not)"),
        Q("L", "every depth L >= 1"),
    ),
    parts=tuple(READINGS),
    depends_on=("zas.thm4.1", "zas.remark.rectangular"),
)


@dataclass
class DataCase:
    """One data set of one reading: ``X``, ``Y``, the reading's rate (a
    backend scalar), the offset ``R~*`` (excess readings) and a label."""

    label: str
    x: np.ndarray
    y: np.ndarray
    rate: Any
    r_star: Fraction


@CARD.check(
    method="flow-readings",
    budgets={
        "quick": {
            "depths": [2, 3],
            "dx": 2,
            "dy": 2,
            "n_wide": 4,
            "times": [0.5, 1.0, 2.0, 4.0],
            "readings": list(FLOW_READINGS),
            "arithmetic": "ball",
            "X": None,
            "Y": None,
        },
        "standard": {
            "depths": [1, 2, 3, 5],
            "dx": 3,
            "dy": 2,
            "n_wide": 6,
            "times": [0.25, 0.5, 1.0, 2.0, 4.0, 6.0],
            "readings": list(FLOW_READINGS),
            "arithmetic": "ball",
            "X": None,
            "Y": None,
        },
    },
    controls={
        # break "Y realizable" (implied by the printed hypothesis): decay of the loss to 0
        "non-realizable-loss": {"readings": ["xxt-loss"]},
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
    arithmetic: str,
    X: Any = None,
    Y: Any = None,
) -> CheckResult:
    """Remark (2), reading by reading, along the integrated flow.

    Data: the user's ``X``, ``Y`` (``--case '{"X": [[...]], "Y": [[...]]}'``,
    validated by :func:`zascheck.measure.data_remark.validate_data`; each
    reading that applies to them is run: ``printed`` or ``printed-wide`` by
    ``n`` against ``d_x``, ``xxt-realizable`` or ``xxt-loss`` by whether
    ``R~* = 0`` exactly, and ``xxt-excess``), or else drawn data: dyadic,
    well-conditioned, ``n = d_x - 1, d_x`` for ``printed`` and ``n = n_wide``
    for the others (so ``A X`` and ``R~*`` are exact).  ``lambda`` is an arb
    enclosure of the eigenvalue (0 exactly when the Gram matrix is singular).

    For each reading, data set and ``L`` in ``depths``: gradient flow from
    ``inits.rectangular_zas`` and :func:`zascheck.measure.common.flow_decay`
    of ``R~ - R~*`` (``R~* = 0`` except ``xxt-excess``) against ``exp(-2
    lambda t) (R~(0) - R~*)`` on ``times``, in ball arithmetic at
    ``ctx.bits(128)`` bits.  One part per reading (``parts``); the main
    verdict is the worst part's.  measured = the largest ratio over every
    part.  Control: ``xxt-loss`` alone is ``violated``.
    """
    unknown = set(readings) - set(READINGS)
    if unknown:
        raise InputError(f"unknown readings {sorted(unknown)}; choose from {', '.join(READINGS)}")
    if (X is None) != (Y is None):
        raise InputError('give both X and Y (--case \'{"X": [[...]], "Y": [[...]]}\')')
    b = ctx.backend(arithmetic, 128)
    with b.session():
        if X is not None:
            x, y = validate_data(X, Y)
            cases = _user_cases(b, x, y)
        else:
            cases = _drawn_cases(b, ctx.rng(201), dx, dy, n_wide, readings)
        parts = [
            _reading_part(b, name, cases[name], depths, times) for name in readings if name in cases
        ]
    return _data_result(b, parts, X is not None, times)


def _drawn_cases(
    b: Backend, rng: np.random.Generator, dx: int, dy: int, n_wide: int, readings: list[str]
) -> dict[str, list[DataCase]]:
    """Drawn dyadic data for each reading (one wide data set shared by the
    ``n > d_x`` readings; ``n = d_x - 1, d_x`` for ``printed``)."""
    x_wide = well_conditioned(rng, dx, n_wide)
    y_generic = dyadic_matrix(rng, dy, n_wide)
    y_real = dyadic_matrix(rng, dy, dx) @ x_wide  # exact: dyadic with few bits
    r_star = min_data_loss(x_wide, y_generic)
    zero = Fraction(0)
    out: dict[str, list[DataCase]] = {}
    for name in readings:
        r = READINGS[name]
        if not r.wide:
            xs = [well_conditioned(rng, dx, n) for n in sorted({max(dx - 1, 1), dx})]
            out[name] = [
                DataCase(
                    f"n={x.shape[1]}",
                    x,
                    dyadic_matrix(rng, dy, x.shape[1]),
                    reading_rate(b, name, x),
                    zero,
                )
                for x in xs
            ]
            continue
        y = y_real if r.realizable else y_generic
        out[name] = [
            DataCase(
                f"n={n_wide}",
                x_wide,
                y,
                reading_rate(b, name, x_wide),
                r_star if r.excess else zero,
            )
        ]
    return out


def _user_cases(b: Backend, x: np.ndarray, y: np.ndarray) -> dict[str, list[DataCase]]:
    """The readings that apply to the user's data, each with that data."""
    d_x, n = x.shape
    r_star = min_data_loss(x, y)
    names = ["printed" if n <= d_x else "printed-wide"]
    if n > d_x:
        names += ["xxt-realizable" if r_star == 0 else "xxt-loss", "xxt-excess"]
    label = f"user X ({d_x}x{n})"
    return {
        nm: [
            DataCase(
                label, x, y, reading_rate(b, nm, x), r_star if READINGS[nm].excess else Fraction(0)
            )
        ]
        for nm in names
    }


def _reading_part(
    b: Backend, name: str, cases: list[DataCase], depths: list[int], times: list[float]
) -> CheckResult:
    """One reading over its data sets and depths: a part of the result."""
    runs: dict[str, tuple[DataCase, DecayMeasurement]] = {}
    for c in cases:
        target = Target.data(b, c.x, c.y)
        for L in depths:
            ws0 = inits.rectangular_zas([c.x.shape[0]] * L + [c.y.shape[0]])
            m = flow_decay(b, ws0, target, times, c.rate, stop_early=True, offset=c.r_star)
            runs[f"{c.label}/L={L}"] = (c, m)
    verdict = combine_verdicts(m.verdict for _, m in runs.values())
    key, (_, worst) = max(runs.items(), key=lambda kv: _finite(kv[1][1].max_ratio))
    r = READINGS[name]
    res = CheckResult(
        verdict=verdict,
        measured=_finite(worst.max_ratio) if math.isfinite(worst.max_ratio) else None,
        bound=1.0,
        arithmetic=b.name,
        precision_bits=b.prec,
        part=name,
        measured_repr="max_t (R~(t) - R~*) / (exp(-2 lambda t) (R~(0) - R~*))"
        if r.excess
        else "max_t R~(t) / (exp(-2 lambda t) R~(0))",
        statement=r.text,
        scope=_data_scope(cases, depths, times, runs),
        evidence={
            "reading": r.text,
            "expected": "holds" if r.holds else "fails",
            "why": r.why,
            "per_case": {
                k: m.evidence()
                | {
                    "verdict": m.verdict.value,
                    "lambda": b.to_str(c.rate, 12),
                    "R_star": float(c.r_star),
                }
                for k, (c, m) in runs.items()
            },
        },
        tightest={"case": key, "t": worst.times[worst.worst], "ratio": worst.max_ratio},
        notes=(
            "vacuous as printed: lambda_min(X^T X) = 0 (n > d_x), checked as R~(t) <= R~(0). "
            if name == "printed-wide"
            else ""
        )
        + r.why,
    )
    if verdict is Verdict.VIOLATED:
        k, (c, m) = next((k, cm) for k, cm in runs.items() if cm[1].verdict is Verdict.VIOLATED)
        j = next(i for i, v in enumerate(m.verdicts) if v is Verdict.VIOLATED)
        res.counterexample = {
            "reading": name,
            "case": k,
            "t": m.times[j],
            "ratio": m.ratios[j],
            "lambda": b.to_str(c.rate, 12),
            "X": c.x,
            "Y": c.y,
            "R_star": float(min_data_loss(c.x, c.y)),
        }
    return res


def _finite(x: float) -> float:
    return x if math.isfinite(x) else -math.inf


def _data_scope(
    cases: list[DataCase],
    depths: list[int],
    times: list[float],
    runs: dict[str, tuple[DataCase, DecayMeasurement]],
) -> dict[str, Any]:
    """What one reading's evidence covers: the grid, the data sets, the depths."""
    mono = sorted({m.monotone_from for _, m in runs.values() if m.monotone_from is not None})
    t_cov = _grid_text(times)
    if mono:
        t_cov += f" (and every t in [{mono[-1]:.3g}, {max(times):g}]: R~ non-increasing)"
    shapes = "; ".join(
        f"{c.label}: X {c.x.shape[0]}x{c.x.shape[1]}, Y {c.y.shape[0]}x{c.y.shape[1]}"
        for c in cases
    )
    return {
        "t": covers(t_cov),
        "X": covers(f"{len(cases)} data set(s): {shapes}"),
        "Y": covers("the Y of each data set"),
        "L": covers("L in {" + ", ".join(map(str, depths)) + "}"),
    }


def _grid_text(times: list[float]) -> str:
    return "t in {" + ", ".join(f"{t:g}" for t in sorted(times)) + "}"


def _main_scope(parts: list[CheckResult], times: list[float]) -> dict[str, Any]:
    """The union of the parts' scopes (the grid once)."""
    if not parts:
        return {}
    out = {
        k: covers("; ".join(dict.fromkeys(p.scope[k]["covered"] for p in parts)))
        for k in ("X", "Y", "L")
    }
    return {"t": covers(_grid_text(times))} | out


def _data_result(
    b: Backend, parts: list[CheckResult], user: bool, times: list[float]
) -> CheckResult:
    """The main result: the worst part; measured = the largest ratio over all parts."""
    verdict = combine_verdicts(p.verdict for p in parts)
    measured = max((p.measured for p in parts if p.measured is not None), default=None)
    summary = {p.part: p.verdict.value for p in parts}
    res = CheckResult(
        verdict=verdict,
        measured=measured,
        bound=1.0,
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max over readings and t of (R~(t) [- R~*]) / envelope",
        parts=parts,
        scope=_main_scope(parts, times),
        evidence={"summary": summary, "user_data": user},
        notes=f"readings: {summary}. The claim as printed is vacuous for n > d_x "
        "(lambda_min(X^T X) = 0). Flow by Taylor integration; integration error estimated, "
        "not enclosed.",
    )
    bad = [p for p in parts if p.verdict is Verdict.VIOLATED]
    if bad:
        res.counterexample = bad[0].counterexample
    return res


# --- hypothesis property: evaluator and declarations ---


def eval_data(case: dict[str, Any], certify: bool) -> Escalated:
    """zas.remark.data under one reading (:data:`READINGS`): flow from the
    rectangular ZAS init and :func:`flow_decay` of ``R~ - R~*`` (``R~* = 0``
    unless the reading is an excess one) at the reading's rate.  In ball
    arithmetic the rate is an enclosure; in doubles it is widened toward the
    claim (upper end) to say *holds* and toward the negation (lower end) to
    say *violated*.  ``L = 1`` with one distinct eigenvalue is an equality
    (like Theorem 4.1 at ``L = 1``): there ``holds`` when neither side is
    violated within the budget."""
    x, y = validate_data(case["X"], case["Y"])
    name, L = case["reading"], int(case["L"])
    ws0 = inits.rectangular_zas([x.shape[0]] * L + [y.shape[0]])
    times = [float(t) for t in case["times"]]
    r_star = min_data_loss(x, y) if READINGS[name].excess else Fraction(0)

    def evaluate(b: Backend) -> Evaluation:
        tgt = Target.data(b, x, y)
        if b.rigorous:
            hi = lo = reading_rate(b, name, x)
        else:
            _, lo, hi = rate_bracket(name, x)
        m = flow_decay(b, ws0, tgt, times, hi, offset=r_star)
        verdict = m.verdict
        if (
            verdict is Verdict.VIOLATED
            and not b.rigorous
            and lo < hi
            and flow_decay(b, ws0, tgt, times, lo, offset=r_star).verdict is not Verdict.VIOLATED
        ):
            verdict = Verdict.INCONCLUSIVE
        if verdict is Verdict.INCONCLUSIVE and L == 1:
            tight = flow_decay(b, ws0, tgt, times, lo, tight=True, offset=r_star)
            if tight.verdict is Verdict.HOLDS:
                verdict = Verdict.HOLDS
        slack = 1.0 - m.max_ratio if math.isfinite(m.max_ratio) and not m.stationary else math.inf
        return Evaluation(
            m.max_ratio if math.isfinite(m.max_ratio) else 0.0,
            1.0,
            m.err[m.worst] if m.err else 0.0,
            verdict=verdict,
            evidence={
                "slack": slack,
                "t": m.times[m.worst] if m.times else None,
                "ratios": m.ratios,
                "min_loss": float(r_star),
            },
        )

    return escalate(evaluate, ladder=BALL_LADDER[:3])


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
