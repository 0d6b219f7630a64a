"""Verdicts that rounding cannot flip.

A case is evaluated first in a fast arithmetic (``float64`` or ``mp``) with an
error budget.  If the comparison lands within that budget of the boundary
(``inconclusive``), or comes out ``violated`` (a violation is only believed
once re-checked), or ``certify=True`` asks for a proof, the *same case* is
evaluated again on a ladder of rigorous arithmetics (certified float64
intervals, ``iv64``, then ball arithmetic at 128, 256, 512, 1024 bits by
default; ``exact`` for identities) until one decides.
The first decided verdict wins; if none decides, the verdict is
``inconclusive``.

The case is described by one function ``evaluate(b) -> (measured, bound, err)``
(or an :class:`Evaluation`) written against a :class:`zascheck.arith.Backend`;
the ladder calls it inside ``b.session()``.

>>> from zascheck.escalate import escalate
>>> out = escalate(lambda b: (b.scalar(1) / 3, b.scalar(1) / 2, 0.0), certify=True)
>>> out.verdict.value, out.arithmetic, out.precision_bits
('certified', 'iv64', 53)
>>> def third_times_three(b):  # 3 (1/3) <= 1 is an equality: no precision decides it
...     return b.scalar(1) / 3 * 3, b.scalar(1), 0.0 if b.rigorous else 4 * b.unit_roundoff
>>> out = escalate(third_times_three)
>>> out.verdict.value, [(t["arithmetic"], t["bits"]) for t in out.tried][:3]
('inconclusive', [('float64', 53), ('iv64', 53), ('ball', 128)])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zascheck.arith import Backend, backend
from zascheck.result import Verdict, decide, margin_of

__all__ = ["BALL_LADDER", "EXACT_LADDER", "IV64_MIN_D", "Escalated", "Evaluation", "escalate"]

#: Rigorous re-checks at rising precision: certified float64 intervals first
#: (:mod:`zascheck.iv64`, near float64 speed), then arb balls where 53 bits
#: leave the comparison undecided.  Callers that climb only part of it slice
#: it as ``BALL_LADDER[:1 + k]`` (iv64 and ``k`` ball rungs).
BALL_LADDER: tuple[tuple[str, int], ...] = (
    ("iv64", 53),
    ("ball", 128),
    ("ball", 256),
    ("ball", 512),
    ("ball", 1024),
)
#: Smallest matrix size ``d`` at which the iv64 rung runs when a caller says
#: the case's size (``escalate(..., size=d)``): below it numpy's per-call
#: overhead makes iv64 slower than arb balls at 128 bits (GD step at L = 4,
#: measured interleaved on this 2-core machine under load: iv64 / ball 3-4 at
#: d = 6, 0.7-1.2 at d = 10, 0.1-0.15 at d = 20; benchmarks/targets_interval.py
#: times the same step at L = d = 10 and L = 100, d = 20).
IV64_MIN_D = 8
#: Identities on exact (dyadic) inputs: one exact rational evaluation decides.
EXACT_LADDER: tuple[tuple[str, int], ...] = (("exact", 0),)


@dataclass
class Evaluation:
    """What one evaluation of a case in one arithmetic produced.

    ``measured`` and ``bound`` may be backend scalars (balls keep their
    radius); ``err`` is the error budget the arithmetic does not account for
    (0 in ball/exact for an enclosure).  A ``verdict`` set here (by a check
    that decides many comparisons itself, e.g. at every GD step) is used as is.
    """

    measured: Any
    bound: Any
    err: float = 0.0
    verdict: Verdict | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass
class Escalated:
    """The decided verdict of one case, and which arithmetic decided it."""

    verdict: Verdict
    measured: float
    bound: float
    margin: float
    relation: str
    arithmetic: str
    precision_bits: int
    err: float
    tried: list[dict[str, Any]]
    evidence: dict[str, Any] = field(default_factory=dict)
    #: a normalised margin (positive = held) that a search drives toward 0
    slack: float = math.inf

    def result_fields(self) -> dict[str, Any]:
        """Keyword arguments for :class:`zascheck.result.CheckResult`."""
        return {
            "verdict": self.verdict,
            "measured": self.measured,
            "bound": self.bound,
            "margin": self.margin,
            "relation": self.relation,
            "arithmetic": self.arithmetic,
            "precision_bits": self.precision_bits,
        }

    def summary(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "measured": self.measured,
            "bound": self.bound,
            "margin": self.margin,
            "relation": self.relation,
            "slack": self.slack,
            "arithmetic": self.arithmetic,
            "precision_bits": self.precision_bits,
            "err": self.err,
            "tried": self.tried,
        }


def _float(b: Backend, x: Any) -> float:
    if isinstance(x, float):
        return x
    try:
        return float(b.to_float(x))
    except (TypeError, ValueError, OverflowError):
        return math.nan


def _rung(
    evaluate: Callable[[Backend], Evaluation | tuple[Any, Any, float]],
    arith: str,
    bits: int,
    relation: str,
    tried: list[dict[str, Any]],
) -> Escalated | None:
    """Evaluate one rung of the ladder; record it in ``tried``; ``None`` when the
    evaluation raised :class:`ArithmeticError` (inconclusive at that rung)."""
    b = backend(arith, bits if arith in ("mp", "ball") else None)
    try:
        return _evaluate_rung(evaluate, b, arith, relation, tried)
    except (NotImplementedError, TypeError) as exc:
        if arith != "iv64" or _raised_in_iv64(exc):
            raise  # an error inside the iv64 backend itself is a bug, never a skip
        # a case written for arb balls (a flint-only operation): iv64 cannot
        # evaluate it, the ball rungs will; the attempt is on record
        tried.append(
            {
                "arithmetic": arith,
                "bits": b.prec,
                "verdict": "inconclusive",
                "error": f"not evaluable in iv64: {exc}",
            }
        )
        return None


def _raised_in_iv64(exc: BaseException) -> bool:
    """Whether a frame of ``exc``'s traceback runs code of the iv64 backend
    (``zascheck/iv64.py``, ``iv64_kernels.py``): such an error is a defect of
    the backend, which :func:`_rung` must not take for a case it cannot
    evaluate."""
    tb = exc.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).name in ("iv64.py", "iv64_kernels.py"):
            return True
        tb = tb.tb_next
    return False


def _evaluate_rung(
    evaluate: Callable[[Backend], Evaluation | tuple[Any, Any, float]],
    b: Backend,
    arith: str,
    relation: str,
    tried: list[dict[str, Any]],
) -> Escalated | None:
    """:func:`_rung` in backend ``b`` (its errors other than
    :class:`ArithmeticError` propagate)."""
    try:
        with b.session():
            ev = evaluate(b)
            if not isinstance(ev, Evaluation):
                ev = Evaluation(*ev)
            v = (
                ev.verdict
                if ev.verdict is not None
                else decide(b, ev.measured, ev.bound, relation=relation, err=ev.err)
            )
            m, bd = _float(b, ev.measured), _float(b, ev.bound)
    except ArithmeticError as exc:
        tried.append(
            {"arithmetic": arith, "bits": b.prec, "verdict": "inconclusive", "error": str(exc)}
        )
        return None
    tried.append(
        {
            "arithmetic": arith,
            "bits": b.prec,
            "verdict": v.value,
            **({"slack": ev.evidence["slack"]} if "slack" in ev.evidence else {}),
        }
    )
    return Escalated(
        verdict=v,
        measured=m,
        bound=bd,
        margin=margin_of(m, bd, relation),
        relation=relation,
        arithmetic=arith,
        precision_bits=b.prec,
        err=float(ev.err),
        tried=list(tried),
        evidence=ev.evidence,
    )


def escalate(
    evaluate: Callable[[Backend], Evaluation | tuple[Any, Any, float]],
    *,
    relation: str = "<=",
    start: tuple[str, int] = ("float64", 53),
    ladder: Sequence[tuple[str, int]] = BALL_LADDER,
    certify: bool = False,
    recheck_violations: bool = True,
    size: int | None = None,
) -> Escalated:
    """Evaluate a case at ``start``, then up ``ladder`` until a verdict is decided.

    The ladder is climbed when the current verdict is ``inconclusive`` (the
    comparison is within the error budget of the boundary), when it is
    ``violated`` in a non-rigorous arithmetic and ``recheck_violations``, or
    when it is only ``holds`` in a non-rigorous arithmetic and ``certify``.
    An evaluation that raises :class:`ArithmeticError` (a flow that blew up,
    balls too wide) counts as ``inconclusive`` at that rung.  ``size``: the
    case's matrix size ``d``; below :data:`IV64_MIN_D` the iv64 rung is
    recorded in ``tried`` as skipped (arb is faster there) and not run.
    """
    tried: list[dict[str, Any]] = []
    skip: dict[str, Any] | None = None
    if size is not None and size < IV64_MIN_D and any(a == "iv64" for a, _ in ladder):
        ladder = [r for r in ladder if r[0] != "iv64"]
        skip = {
            "arithmetic": "iv64",
            "bits": 53,
            "verdict": "skipped",
            "reason": f"d = {size} < {IV64_MIN_D}: arb balls are faster",
        }
    last: Escalated | None = None
    first: Escalated | None = None
    for i, (arith, bits) in enumerate((start, *ladder)):
        res = _rung(evaluate, arith, bits, relation, tried)
        if i == 0 and skip is not None:  # on record where the ladder begins
            tried.append(skip)
        if res is None:
            continue
        last = res
        first = first or res
        rigorous = arith in ("iv64", "ball", "exact")
        if res.verdict is Verdict.INCONCLUSIVE:
            continue
        if res.verdict is Verdict.VIOLATED and not rigorous and recheck_violations:
            continue
        if res.verdict is Verdict.HOLDS and not rigorous and certify:
            continue
        return res
    if last is None:
        return Escalated(
            Verdict.INCONCLUSIVE,
            math.nan,
            math.nan,
            math.nan,
            relation,
            start[0],
            start[1],
            math.nan,
            tried,
        )
    # The ladder ran out without a rigorous decision.  A first verdict that
    # cleared its own error budget (holds / violated) stands; one that was
    # within the budget of the boundary stays inconclusive.
    if (
        first is not None
        and first.verdict in (Verdict.HOLDS, Verdict.VIOLATED)
        and last.verdict is Verdict.INCONCLUSIVE
    ):
        first.tried = tried
        return first
    last.tried = tried
    return last
