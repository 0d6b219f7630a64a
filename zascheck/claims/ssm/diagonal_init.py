"""``ssm.diagonal-init``: a diagonal initialization in place of identity should work
too; for which diagonals?

Source: reviews of "Step Size Matters in Deep Learning" (NeurIPS 2018),
review 1, note after the author feedback: "One last thing I noticed - we can
replace the identity initialization with a diagonal initialization, and
everything will hold, right? Maybe worth mentioning what is the largest family
of initializations that will work".

Kind: empirical.  Formalized reading: "every positive diagonal ``D`` works":
for a symmetric positive definite target ``R``, GD from ``W_l(0) = D`` (every
layer) reaches a global minimum for some step of a ladder ``fracs * eta_1``.
Two parts:

* ``aligned``: ``R`` diagonal (commuting with ``D``).  GD then reduces to one
  scalar map per coordinate from ``w = D_ii`` (as for identity,
  :func:`zascheck.symbolic.ssm_proofs.invariance_proofs`), and the limit is
  certified for every ``t`` (:func:`zascheck.ssm.certify_scalar_limit`);
* ``rotated``: ``R`` rotated by 0.6 rad (not commuting with ``D``): float64
  GD probes (:func:`zascheck.measure.ssm_checks.gd_probe`).

Reported as well: diagonals with zero or negative entries (``map``) against
:func:`zascheck.ssm.diag_init_prediction` (works iff no zero entry and, for
odd ``L``, no negative one), decided by the same certificates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zascheck import inits, ssm
from zascheck.card import SSM_REV, Card, RunContext
from zascheck.arith import backend
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm_checks import (
    gd_probe,
    identity_reduction,
    need_int,
    need_ints,
    need_numbers,
    ssm_result,
    sym_target,
)
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers

CARD = Card(
    id="ssm.diagonal-init",
    section="C",
    kind="empirical",
    source=f"{SSM_REV}, review 1 (after the author feedback)",
    statement="A diagonal init in place of identity should work too: for which diagonals.",
    bound="none",
    quantifiers=(
        Q("init", "every positive diagonal initialization W_l(0) = D"),
        Q("Phi", "every symmetric positive definite target R"),
        Q("L", "every depth L >= 1"),
    ),
    depends_on=("ssm.thm2",),
    parts=("aligned", "rotated"),
)


@CARD.check(
    method="gd-ladder",
    budgets={
        "quick": {"Ls": [2, 3], "eigs": [1.5, 0.5], "family": [[0.5, 2.0], [1.5, 0.75]],
                  "map": [[1.0, 0.0], [1.0, -1.0]], "fracs": [0.5, 0.125], "max_steps": 800},
        "standard": {"Ls": [2, 3, 4], "eigs": [1.5, 0.5],
                     "family": [[1.0, 1.0], [0.5, 2.0], [2.0, 0.5], [0.25, 1.5], [1.5, 0.75]],
                     "map": [[1.0, 0.0], [0.0, 0.0], [1.0, -1.0], [-1.0, -1.0]],
                     "fracs": [0.5, 0.125, 0.03], "max_steps": 4000},
        "thorough": {"Ls": [2, 3, 4, 5], "eigs": [2.0, 0.25],
                     "family": [[1.0, 1.0], [0.5, 2.0], [2.0, 0.5], [0.25, 1.5], [1.5, 0.75],
                                [0.1, 0.1]],
                     "map": [[1.0, 0.0], [0.0, 0.0], [1.0, -1.0], [-1.0, -1.0], [-0.5, 2.0]],
                     "fracs": [0.5, 0.125, 0.03, 0.008], "max_steps": 20000},
    },
    controls={"zero-entry": {"family": [[1.0, 0.0]]}},
)  # fmt: skip
def check_diagonal_init(
    ctx: RunContext, *, Ls: list[int], eigs: list[float], family: list[list[float]],
    map: list[list[float]], fracs: list[float], max_steps: int,
) -> CheckResult:  # fmt: skip
    """Every diagonal in ``family`` (positive entries) must work for every ``L``
    in ``Ls``: on the diagonal target ``diag(eigs)`` (certified: every
    coordinate's scalar map goes to ``lambda_i^{1/L}`` for some step of the
    ladder, within ``max_steps`` steps of ball iteration) and on the rotated
    one (a float64 probe reaches ``R <= u R(0)`` for some step of the ladder).
    Control ``zero-entry``: ``D = diag(1, 0)``; the zero coordinate has zero
    gradient and stays.
    """
    Ls, max_steps = need_ints("Ls", Ls, 1), need_int("max_steps", max_steps, 1)
    ev = need_numbers("eigs", eigs, lo=0.0)
    fs = need_numbers("fracs", fracs, lo=0.0)
    fam = [need_numbers(f"family[{i}]", D, n=len(ev)) for i, D in enumerate(family)]
    mp_ = [need_numbers(f"map[{i}]", D, n=len(ev)) for i, D in enumerate(map)]
    b = ctx.backend("float64")
    aligned, rotated = np.diag(ev), sym_target(ev, 0.6)
    rows = []
    for tag, Ds in (("family", fam), ("map", mp_)):
        for D in Ds:
            for L in Ls:
                eta1 = ssm.thm1_eta(L, max(ev))
                a = _aligned(aligned, D, L, [f * eta1 for f in fs], max_steps)
                r = _rotated(b, rotated, D, L, [f * eta1 for f in fs], max_steps)
                rows.append({"D": D, "L": L, "set": tag, "aligned": a, "rotated": r,
                             "predicted": ssm.diag_init_prediction(D, L)})  # fmt: skip
    return _diagonal_result(b, rows, Ls, ev, fs, max_steps)


def _aligned(R: np.ndarray, D: list[float], L: int, etas: list[float], steps: int) -> Any:
    """Certified outcome on the diagonal target: ``True`` (every coordinate goes
    to its root at some step of the ladder), ``False`` (at every step some
    coordinate is certified to go to 0), ``None`` (not certified)."""
    seen_false = True
    for eta in etas:
        red = identity_reduction(R, L, eta, w0=list(D), max_steps=steps)
        if red.invariant_proven and red.all_limits("root"):
            return True
        seen_false = seen_false and any(s.limit == "zero" for s in red.limits)
    return False if seen_false else None


def _rotated(b: Any, R: np.ndarray, D: list[float], L: int, etas: list[float], steps: int) -> Any:
    """Float64 probes on the rotated target: ``True`` if one reaches the
    minimum, ``False`` if every one decidedly fails, ``None`` otherwise."""
    states = []
    for eta in etas:
        st = gd_probe(b, inits.diagonal(D, L), Target.whitened(b, R), eta, steps).state
        if st:
            return True
        states.append(st)
    return False if all(s is False for s in states) else None


def _part(b: Any, rows: list[dict[str, Any]], key: str, how: str, scope: dict) -> CheckResult:
    """Part ``key``: every positive-diagonal case of ``rows`` must work."""
    fam = [r for r in rows if r["set"] == "family"]
    vs = [{True: Verdict.HOLDS, False: Verdict.VIOLATED, None: Verdict.INCONCLUSIVE}[r[key]]
          for r in fam]  # fmt: skip
    if key == "aligned":
        vs = [Verdict.CERTIFIED if v is Verdict.HOLDS else v for v in vs]
    bad = [r for r in fam if r[key] is not True]
    verdict = combine_verdicts(vs)
    return ssm_result(
        b, verdict, float(len(bad)), 0.0, "<=", how=how, part=key,
        notes=f"{len(bad)} of {len(fam)} positive-diagonal cases not shown to work",
        scope=scope, counterexample=bad[0] if verdict is Verdict.VIOLATED else None,
    )  # fmt: skip


def _diagonal_result(
    b: Any, rows: list[dict[str, Any]], Ls: list[int], ev: list[float], fs: list[float],
    steps: int,
) -> CheckResult:  # fmt: skip
    fam = [r["D"] for r in rows if r["set"] == "family"]
    base = {"init": covers(f"diagonals {sorted({tuple(D) for D in fam})}"),
            "L": covers(f"L in {Ls}")}  # fmt: skip
    al = _part(backend("ball", 128), rows, "aligned", "scalar reduction, certified limits (arb)",
               base | {"Phi": covers(f"diag({ev})")})  # fmt: skip
    ro = _part(b, rows, "rotated", "float64 GD probes",
               base | {"Phi": covers(f"diag({ev}) rotated by 0.6 rad")})  # fmt: skip
    maps = [r for r in rows if r["set"] == "map"]
    mism = [r for r in maps if r["aligned"] is not None and r["aligned"] != r["predicted"]]
    verdict = combine_verdicts([al.verdict, ro.verdict])
    return ssm_result(
        b, verdict, float((al.measured or 0) + (ro.measured or 0)), 0.0, "<=",
        how="scalar reduction (aligned target) and GD probes (rotated target)",
        notes=(f"{al.notes} (aligned, {al.verdict}); {ro.notes} (rotated, {ro.verdict}); "
               f"ladder eta/eta_1 in {fs}, <= {steps} steps; zero/negative entries (map): "
               f"aligned outcome vs diag_init_prediction mismatches: {len(mism)} of "
               f"{len(maps)}."),
        evidence={"cases": rows, "prediction_mismatches": mism},
        scope=al.scope, parts=[al, ro],
        counterexample=(al.counterexample or ro.counterexample)
        if verdict is Verdict.VIOLATED else None,
    )  # fmt: skip
