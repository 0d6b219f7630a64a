"""For given L and F: the largest eta with R(t) <= (1 - eta/2)^t R(0) for every ||Phi||_F <= F and every t.

Source: this suite (beyond the sources; CLAIMS.md section D), after Saxe,
McClelland & Ganguli, ICLR 2014 (the mode decoupling it rests on).

Claim (CLAIMS.md, section D, ``zas.thm4.3.tight``), quoted:

    "For given L and F: the largest step eta for which R(t) <= (1 - eta/2)^t
    R(0) holds for every Phi with ||Phi||_F <= F and every t, as a certified
    bracket; its ratio to the theorem's step."

Kind: search (bound: none; a measured finding).  Inputs: the pairs
``[L, F]`` (depth, radius), the relative offset ``rel`` of the bracket's ends
from the float estimate, time budgets; or ``claim_eta`` to decide one step.  Theorem 4.3 (ZAS paper,
Sec. 4.2) guarantees the conclusion at ``eta* = min{1/(4 L^3 phi^6), 1/(144
L^2 phi^4)}``, ``phi = max{2 ||Phi||_F, 3/sqrt(L), 1}``; this card measures how
far the conclusion really reaches.

Reading formalized.  ``eta_tight(L, F)`` is the largest ``eta`` such that
every step in ``(0, eta]`` keeps ``R(t) <= (1 - eta/2)^t R(0)`` for every
``Phi`` with ``||Phi||_F <= F`` (every ``d``) and every ``t``, GD from ZAS.  By
the spectral reduction (``zas.spectral``) ``R(t) / R(0)`` is a weighted mean
of the modes' ``e_i(t)^2 / sigma_i^2`` and the rank-one target
``sigma e_1 e_1^T`` realises one mode, so the question is about the scalar map
for every ``sigma <= F``.  The bracket (:mod:`zascheck.measure.certify_tight`):

* lower end ``eta_lo``: certified at ``eta_lo`` itself by tubes over ``sigma``
  boxes with an invariant tail (every ``t``), for every step in
  ``(0, eta_A]`` by the invariant region, and, where the ``stretch`` budget
  allows, for every step in ``[eta_A, eta_lo]`` by tubes over ``(sigma, eta)``
  boxes (``every_step``); only with ``every_step`` is ``eta_lo <= eta_tight``
  proven (else ``eta_lo`` is a certified good step above ``eta_A``);
* upper end ``eta_hi``: a certified counterexample, rank-one
  ``Phi = sigma e_1 e_1^T`` with ``sigma <= F`` and a step ``t``: either some
  ``e_t^2 > (1 - eta/2)^t sigma^2`` is decided by interval arithmetic
  (``finite``), or the run enters a set near its limit on which the ratio
  provably grows, which fixes the ``t`` where it exceeds 1 (``asymptotic``:
  the linear rate at the limit, ``|1 - eta k|``, is slower than
  ``sqrt(1 - eta/2)``).

``L = 1`` is exact: ``e' = (1 - eta) e`` and ``(1 - eta)^2 <= 1 - eta/2`` iff
``eta <= 3/2``.  Also reported: the ratio ``eta_lo / eta*`` and, over the depths
run, the fitted growth law ``eta_tight ~ C L^-gamma``.

In the report (:mod:`zascheck.report.spectral`): the table and a log-log figure
(bracket and ``eta*`` against ``L``, with the fitted law).  The full table
(``F = 1``, ``L = 1..64``, the ``thorough`` budget's rows) takes about an hour
of CPU (a row at ``L >= 42`` about 75 s: 13 s the float estimate, 6 s the
certified violation, 55 s the tubes, ~1000 sequential interval steps per
generation of boxes; measured at L = 42, process time under load; rows
record their own budgets in ``params``) and is generated once into ``reports/spectral/tight-full.json`` (committed) by
``python -m zascheck.report.spectral``; the default report runs the ``quick``
budget (two rows) and draws the committed table.  Certified here: both ends
of each bracket (every ``Phi`` with ``||Phi||_F <= F``, every ``t``); "every
step below ``eta_lo``" only where ``every_step`` says so (the stretch budget
may run out at large ``L``: then only ``eta_lo`` itself and ``(0, eta_A]``).
"""

from __future__ import annotations

import math
from typing import Any


from zascheck.card import SUITE, Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.certify_tight import certify_lower, growth_law, tight_row, violation
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers

CARD = Card(
    id="zas.thm4.3.tight",
    section="D",
    kind="search",
    source=f"{SUITE}, after Saxe, McClelland & Ganguli, ICLR 2014",
    statement=(
        "For given L and F: the largest eta such that every step in (0, eta] keeps "
        "R(t) <= (1 - eta/2)^t R(0) for every Phi with ||Phi||_F <= F and every t (GD from ZAS), "
        "as a certified bracket; its ratio to Theorem 4.3's eta*."
    ),
    bound="none",
    quantifiers=(
        Q("t", "every GD step t >= 0"),
        Q("Phi", "every Phi with ||Phi||_F <= F (every d)"),
        Q("eta", "every step in (0, eta_lo] (below the bracket)"),
        # the bracket is a function of (L, F): the claim is about every depth and radius, the
        # evidence about the pairs run (so the claim-level verdict is certified only for all of them)
        Q("L", "every depth L >= 1"),
        Q("F", "every radius F > 0"),
    ),
    depends_on=("zas.spectral", "zas.thm4.3"),
    figure="tight-step",
)


@CARD.check(
    method="bracket",
    budgets={
        "quick": {
            "pairs": [[1, 1.0], [2, 0.5]],
            "rel": 2.5e-4,
            "time_limit": 30.0,
            "stretch_limit": 30.0,
        },
        "standard": {
            "pairs": [[L, 1.0] for L in (1, 2, 3, 4, 6, 8)] + [[4, 0.5], [4, 2.0]],
            "rel": 2.5e-4,
            "time_limit": 150.0,
            "stretch_limit": 150.0,
        },
        # the report's full table (zascheck.report.spectral.TIGHT_COMMAND: same rows)
        "thorough": {
            "pairs": [[L, 1.0] for L in range(1, 65)],
            "rel": 2.5e-4,
            "time_limit": 240.0,
            "stretch_limit": 60.0,
        },
    },
    controls={
        # break "eta <= eta_tight": claim the bound at a step above the bracket (L = 4, F = 1)
        "eta-above-tight": {"pairs": [[4, 1.0]], "claim_eta": 0.45},
    },
)
def tight_bracket_check(
    ctx: RunContext,
    *,
    pairs: list[list[float]],
    rel: float,
    time_limit: float = 120.0,
    stretch_limit: float = 0.0,
    claim_eta: float | None = None,
) -> CheckResult:
    """The tight step as a certified bracket for each ``[L, F]`` in ``pairs``.

    Reading formalized (module docstring): ``eta_lo`` certified good (every
    ``Phi`` with ``||Phi||_F <= F``, every ``t``; every smaller step too when
    ``every_step``), ``eta_hi`` certified bad (a rank-one counterexample at a
    stated ``t``), about a float estimate with relative offsets ``rel 2^j``.
    ``claim_eta`` instead decides the claim "the bound holds at ``claim_eta``
    for every ``||Phi||_F <= F``" for each pair (certified, or a certified
    counterexample).  measured = the smallest ``eta_lo / eta*(F, L)`` (how far
    Theorem 4.3's step is inside the tight one; bound 1).
    """
    if claim_eta is not None:
        return _claim(pairs, float(claim_eta), time_limit)
    rows = [tight_row(int(L), float(F), rel, time_limit, stretch_limit) for L, F in pairs]
    verdicts = [Verdict(r["verdict"]) for r in rows]
    star_ok = all(r["eta_lo"] is None or r["eta_star"] <= r["eta_lo"] for r in rows)
    verdict = combine_verdicts(verdicts) if star_ok else Verdict.VIOLATED
    ratio = min((r["ratio_to_eta_star"] for r in rows if r["ratio_to_eta_star"]), default=math.nan)
    every = verdict is Verdict.CERTIFIED and all(r["every_step"] for r in rows)
    res = CheckResult(
        verdict=verdict,
        measured=ratio,
        bound=1.0,
        relation=">=",
        arithmetic="interval",
        precision_bits=53,
        measured_repr="min over (L, F) of eta_lo / eta*(F, L)",
        evidence={"table": rows, "growth_law": growth_law(rows)},
        notes="; ".join(
            f"L={r['L']}, F={r['F']:g}: [{_fmt(r['eta_lo'])}, {_fmt(r['eta_hi'])}] "
            f"({r['digits']} digits{', every step' if r['every_step'] else ''}), "
            f"eta* = {r['eta_star']:.3g}"
            for r in rows
        ),
        scope={
            "t": covers(
                "every t (invariant tails; certified violations)",
                universal=verdict is Verdict.CERTIFIED,
            ),
            "Phi": covers(
                "every Phi with ||Phi||_F <= F, every d", universal=verdict is Verdict.CERTIFIED
            ),
            "eta": covers(
                "every step in (0, eta_lo]" if every else "eta_lo and every step in (0, eta_A]",
                universal=every,
            ),
            "L": covers(f"L in {sorted({int(p[0]) for p in pairs})}"),
            "F": covers(f"F in {sorted({float(p[1]) for p in pairs})}"),
        },
    )
    if not star_ok:
        res.counterexample = {
            "reason": "Theorem 4.3's eta* above a certified bad step",
            "rows": [r for r in rows if r["eta_star"] > (r["eta_lo"] or 0)],
        }
    return res


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.6g}"


def _claim(pairs: list[list[float]], eta: float, time_limit: float) -> CheckResult:
    """Decide "the bound holds at ``eta`` for every ``||Phi||_F <= F``" per pair."""
    rows: list[dict[str, Any]] = []
    verdicts: list[Verdict] = []
    cex: dict[str, Any] | None = None
    for L, F in pairs:
        v = violation(int(L), float(F), eta, time_limit=min(30.0, time_limit))
        low = None if v else certify_lower(int(L), float(F), eta, time_limit=time_limit)
        verdict = (
            Verdict.VIOLATED
            if v
            else (Verdict.CERTIFIED if low and low.certified else Verdict.INCONCLUSIVE)
        )
        verdicts.append(verdict)
        rows.append({"L": L, "F": F, "eta": eta, "verdict": verdict.value, "violation": v})
        if v and cex is None:
            cex = {"L": L, "F": F, **v, "Phi": f"{F} e_1 e_1^T (rank one)"}
    verdict = combine_verdicts(verdicts)
    worst = max(
        (
            float((r["violation"] or {}).get("q2_over_bound_lo", math.inf))
            for r in rows
            if r["violation"]
        ),
        default=None,
    )
    res = CheckResult(
        verdict=verdict,
        measured=worst,
        bound=1.0,
        relation="<=",
        arithmetic="interval",
        precision_bits=53,
        measured_repr="certified lower bound of R(t) / ((1 - eta/2)^t R(0)) at the counterexample "
        "(inf: an asymptotic violation, the ratio grows without bound)",
        evidence={"cases": rows},
        notes=f"bound claimed at eta = {eta} for every ||Phi||_F <= F",
        scope={
            "t": covers("every t", universal=verdict is Verdict.CERTIFIED),
            "Phi": covers("every Phi with ||Phi||_F <= F", universal=verdict is Verdict.CERTIFIED),
            "eta": covers(f"eta = {eta}"),
            "L": covers(f"L in {sorted({int(p[0]) for p in pairs})}"),
            "F": covers(f"F in {sorted({float(p[1]) for p in pairs})}"),
        },
    )
    res.counterexample = cex
    return res
