"""A diagonal init in place of identity should work too: for which diagonals.

Source: reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), review 1 (post-rebuttal).
"""

from __future__ import annotations

import numpy as np

from zascheck import inits, ssm
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.measure.ssm import _converges, _result, _sym_target
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="ssm.diagonal-init",
    section="C",
    kind="empirical",
    source="reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018), review 1 (post-rebuttal)",
    statement="A diagonal init in place of identity should work too: for which diagonals.",
    bound="none",
    quantifiers=(
        Q("init", "every diagonal initialization"),
        Q("L", "every depth L >= 1"),
    ),
    depends_on=("ssm.thm2",),
)


@CARD.check(
    method="gd-ladder",
    budgets={
        "quick": {
            "Ls": [2, 3],
            "eigs": [1.5, 0.5],
            "family": [[0.5, 2.0], [1.5, 0.75]],
            "map": [[1.0, 0.0], [1.0, -1.0]],
            "fracs": [0.5, 0.125],
            "max_steps": 800,
        },
        "standard": {
            "Ls": [2, 3, 4],
            "eigs": [1.5, 0.5],
            "family": [[1.0, 1.0], [0.5, 2.0], [2.0, 0.5], [0.25, 1.5], [1.5, 0.75]],
            "map": [[1.0, 0.0], [0.0, 0.0], [1.0, -1.0], [-1.0, -1.0]],
            "fracs": [0.5, 0.125, 0.03],
            "max_steps": 4000,
        },
        "thorough": {
            "Ls": [2, 3, 4, 5],
            "eigs": [2.0, 0.25],
            "family": [[1.0, 1.0], [0.5, 2.0], [2.0, 0.5], [0.25, 1.5], [1.5, 0.75], [0.1, 0.1]],
            "map": [[1.0, 0.0], [0.0, 0.0], [1.0, -1.0], [-1.0, -1.0], [-0.5, 2.0]],
            "fracs": [0.5, 0.125, 0.03, 0.008],
            "max_steps": 20000,
        },
    },
    controls={"zero-entry": {"family": [[1.0, 0.0]]}},
)
def check_diagonal_init(
    ctx: RunContext,
    *,
    Ls: list[int],
    eigs: list[float],
    family: list[list[float]],
    map: list[list[float]],
    fracs: list[float],
    max_steps: int,
) -> CheckResult:
    """A diagonal init in place of identity should work too: for which diagonals.

    Source: reviews of SSM (NeurIPS 2018), review 1 (post-rebuttal note).
    Formalized reading: "every positive diagonal ``D`` works": for a symmetric PD
    target ``R``, GD from ``W_l(0) = D`` (all layers) reaches ``R <= u R(0)`` for
    some step in ``fracs * eta_1`` within ``max_steps``, both for ``R`` diagonal
    (commuting with ``D``) and for ``R`` rotated by 0.6 rad (not commuting).
    Measured: number of positive-diagonal cases that fail (claim: 0).  Reported
    too (``map``): zero and negative entries, against the prediction of
    :func:`zascheck.ssm.diag_init_prediction` for the diagonal target.
    Control: a diagonal with a zero entry in the family.
    """
    b = ctx.backend("float64")
    d = len(eigs)
    targets = {"aligned": np.diag(np.asarray(eigs, dtype=float)), "rotated": _sym_target(eigs, 0.6)}
    eta1s = {L: ssm.thm1_eta(L, max(eigs)) for L in Ls}

    def works(diag: list[float], L: int, phi: np.ndarray) -> float | None:
        ws0 = inits.diagonal(diag, L)
        tgt = Target.whitened(b, phi)
        for f in fracs:
            if _converges(b, ws0, tgt, f * eta1s[L], max_steps):
                return f
        return None

    rows = []
    failures = []
    for diag in family:
        if len(diag) != d:
            raise InputError(f"diagonal {diag} has the wrong length (d = {d})")
        for L in Ls:
            for name, phi in targets.items():
                f = works(diag, L, phi)
                rows.append({"D": diag, "L": L, "target": name, "works_at_frac": f, "family": True})
                if f is None:
                    failures.append(rows[-1])
    mismatches = []
    for diag in map:
        for L in Ls:
            for name, phi in targets.items():
                f = works(diag, L, phi)
                row = {"D": diag, "L": L, "target": name, "works_at_frac": f, "family": False}
                if name == "aligned":
                    row["predicted"] = ssm.diag_init_prediction(diag, L)
                    if row["predicted"] != (f is not None):
                        mismatches.append(row)
                rows.append(row)
    n_fail = len(failures)
    verdict = decide(b, float(n_fail), 0.0, relation="<=")
    return _result(
        b,
        verdict,
        float(n_fail),
        0.0,
        "<=",
        how="GD from W_l = D at a ladder of steps (float64)",
        notes=(
            f"{n_fail} of {len(family) * len(Ls) * 2} positive-diagonal cases fail (L in {Ls}); "
            "zero/negative entries (map): "
            f"{sum(r['works_at_frac'] is not None for r in rows if not r['family'])} "
            f"of {sum(not r['family'] for r in rows)} work; prediction mismatches on the diagonal "
            "target: "
            f"{len(mismatches)}."
        ),
        evidence={"cases": rows, "prediction_mismatches": mismatches},
        counterexample=failures[0] if verdict == Verdict.VIOLATED else None,
    )
