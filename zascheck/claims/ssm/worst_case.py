"""``ssm.worst-case``: which target and initialization make the general step-size
bound tightest?

Source: reviews of "Step Size Matters in Deep Learning" (NeurIPS 2018),
review 3, Q2: "I am wondering if the authors have any intuition about what a
worst case matrix and initialization would be for the general linear network
case, to get a better understanding of the quality of the general-case bound."

Kind: search, no bound of its own: it measures how close GD's empirical
step-size threshold ``eta*`` comes to the general bound ``eta_1`` of
``ssm.thm1`` (Corollary 1), over targets, depths and init families.  Two
readings are reported: the tightest case (the answer to the question), and
whether any case exceeds the bound, judged on both ends of each case's
bracket (a bracket that straddles 1 is inconclusive: where the threshold is
the bound itself, bisection cannot separate them).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zascheck import inits, ssm
from zascheck.card import SSM_REV, Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.measure.ssm_checks import (
    bracket_verdict,
    need_choice,
    need_int,
    need_ints,
    ssm_result,
    step_bracket,
)
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers

CARD = Card(
    id="ssm.worst-case",
    section="C",
    kind="search",
    source=f"{SSM_REV}, review 3, Q2",
    statement="Which target and init make the general step-size bound tightest.",
    bound="none",
    quantifiers=(
        Q("Phi", "every target R"),
        Q("init", "every initialization (positive-measure families)"),
        Q("L", "every depth L >= 1"),
    ),
    depends_on=("ssm.thm1",),
)

FAMILIES = ("identity", "near-identity", "small-xavier", "near-balanced")


@CARD.check(
    method="random-search",
    budgets={
        "quick": {"n_cases": 4, "d": 2, "Ls": [2, 3], "iters": 6, "max_steps": 1500,
                  "families": list(FAMILIES)},
        "standard": {"n_cases": 24, "d": 2, "Ls": [2, 3, 4], "iters": 10, "max_steps": 3000,
                     "families": list(FAMILIES)},
        "thorough": {"n_cases": 100, "d": 3, "Ls": [2, 3, 4, 6], "iters": 14,
                     "max_steps": 10000, "families": list(FAMILIES)},
    },
    controls={"exact-minimum-init": {"families": ["exact-minimum"]}},
)  # fmt: skip
def check_worst_case(
    ctx: RunContext, *, n_cases: int, d: int, Ls: list[int], iters: int, max_steps: int,
    families: list[str],
) -> CheckResult:  # fmt: skip
    """Random search over Gaussian targets ``R`` (``d x d``; for the identity
    family a symmetric PD ``G G^T/d + I/10``), depths ``Ls`` and init families
    (identity, near-identity eq. 5.1, small Xavier ``0.3 N(0, 1/d)``, a balanced
    minimum of ``R`` moved by ``1e-3``).  Each case brackets ``eta*/eta_1``
    (bisection on ``[1/8, 15/8]``, whose first midpoint is the bound, float64 probes reaching ``R <= u R(0)``,
    :func:`zascheck.measure.ssm_checks.gd_probe`).  Verdict: no case above 1,
    each bracket judged on both ends.  Measured: the tightest case's largest
    converging ratio.
    Control ``exact-minimum-init``: the family "start exactly at the float64
    minimum (4I, ..., R/4)" (measure zero) converges at every step.
    """
    n_cases, d, iters = (
        need_int("n_cases", n_cases, 1),
        need_int("d", d, 1),
        need_int("iters", iters),
    )
    Ls, max_steps = need_ints("Ls", Ls, 1), need_int("max_steps", max_steps, 1)
    fams = [need_choice("families[]", f, (*FAMILIES, "exact-minimum")) for f in families]
    if not Ls or not fams:
        raise InputError("parameters Ls and families must be non-empty")
    b = ctx.backend("float64")
    rng = ctx.rng(108)
    cases = []
    for k in range(n_cases):
        L, fam = Ls[k % len(Ls)], fams[k % len(fams)]
        R, ws0 = _case(rng, fam, L, d)
        eta1 = ssm.thm1_eta(L, float(np.linalg.norm(R, 2)))
        br = step_bracket(b, ws0, Target.whitened(b, R), eta1, iters=iters, max_steps=max_steps,
                          lo=1 / 8, hi=15 / 8)  # fmt: skip
        cases.append({"L": L, "init": fam, "ratio": br.lo, "first_fail": br.hi,
                      "bracket": br.text(), "versus_1": br.versus(1.0),
                      "verdict": bracket_verdict(br, 1.0).value,
                      "phi": np.round(R, 6).tolist()})  # fmt: skip
    return _worst_case_result(b, cases, fams, Ls, d, iters, max_steps)


def _case(rng: np.random.Generator, fam: str, L: int, d: int) -> tuple[np.ndarray, list[Any]]:
    """One (target, init) pair of the family ``fam``."""
    R = rng.standard_normal((d, d))
    if fam == "identity":  # identity needs a symmetric PD target (ssm.thm2, ssm.thm3)
        R = R @ R.T / d + 0.1 * np.eye(d)
        return R, [np.eye(d) for _ in range(L)]
    if fam == "near-identity":
        return R, inits.near_identity(L, d, seed=rng)
    if fam == "small-xavier":
        return R, [0.3 * w for w in inits.xavier(L, d, seed=rng)]
    if fam == "exact-minimum":
        return R, ssm.float_exact_minimum(R, L)
    return R, ssm.near_balanced(R, L, rng, 1e-3)


def _worst_case_result(
    b: Any, cases: list[dict[str, Any]], fams: list[str], Ls: list[int], d: int, iters: int,
    max_steps: int,
) -> CheckResult:  # fmt: skip
    verdict = combine_verdicts(Verdict(c["verdict"]) for c in cases)
    found = [c for c in cases if c["ratio"] is not None]
    top = max(found, key=lambda c: c["ratio"]) if found else None
    above = [c for c in cases if c["versus_1"] == "above"]
    straddle = [c for c in cases if c["versus_1"] == "straddles"]
    notes = (
        f"{len(found)} of {len(cases)} cases converge at some step; tightest: "
        + (f"eta*/eta_1 in {top['bracket']} (L = {top['L']}, init {top['init']})"
           if top else "none") + f"; {len(above)} above 1, {len(straddle)} not separated from 1 "
        "(a threshold equal to the bound is attained there; bisection cannot decide <= 1)."
    )  # fmt: skip
    return ssm_result(
        b, verdict, top["ratio"] if top else float("nan"), 1.0, "<=",
        how="random search, brackets of the step size (float64 GD)", notes=notes,
        evidence={"cases": [{k: v for k, v in c.items() if k != "phi"} for c in cases]},
        tightest=top,
        scope={"Phi": covers(f"{len(cases)} random targets, d = {d}"),
               "init": covers(f"families {sorted(set(fams))}"),
               "L": covers(f"L in {sorted(set(Ls))}"),
               "eta": covers(f"bisection on [1/8, 15/8] eta_1, {iters} steps, <= {max_steps} "
                             "GD steps per probe")},
        counterexample=above[0] if above else None,
    )  # fmt: skip
