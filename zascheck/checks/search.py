"""Hypothesis searches as checks: ``zascheck check ID:search``.

Each claim of section A that is not a figure has a check with
``method="search"`` that runs the claim's property (:mod:`zascheck.search`)
for ``examples`` hypothesis examples (seeded by ``--seed``, no database),
steering toward the tightest case, and reports it in ``tightest``.  Every
negative property is a control: ``--control NAME`` runs the search with one
hypothesis dropped, which must find (and shrink) a counterexample.

``--case '{"case": {...}}'`` decides one case instead of searching: that is
the command printed with every counterexample and tightest case.
"""

from __future__ import annotations

from typing import Any

from zascheck.registry import RunContext, register
from zascheck.result import CheckResult, Verdict

#: claim id -> (quick, standard, thorough) numbers of examples, and the negative properties
SEARCHES: dict[str, tuple[tuple[int, int, int], tuple[str, ...]]] = {
    "zas.gradient": ((6, 100, 1000), ("transposed-target",)),
    "zas.residual": ((6, 100, 1000), ("scaled-residual",)),
    "zas.lemma4.2": ((3, 60, 400), ("gd-step",)),
    "zas.drift": ((6, 100, 1000), ("eta-not-squared",)),
    "zas.thm4.1": ((3, 60, 400), ("non-zas-init",)),
    "zas.thm4.1.steps": ((6, 100, 1000), ("balanced-last-layer",)),
    "zas.remark.rectangular": ((3, 60, 400), ("bottleneck",)),
    "zas.remark.data": (
        (2, 60, 400),
        ("reading:xxt-loss", "reading:sigma-rate", "reading:lambda-max"),
    ),
    "zas.thm4.3": ((5, 100, 1000), ("eta-above-bound", "non-zas-init")),
    "zas.lemma4.4-4.6": ((5, 100, 1000), ("eta-above-bound", "non-zas-init")),
    "zas.near-zas": ((5, 100, 1000), ("large-sigma",)),
    "zas.saddle": ((4, 60, 400), ("off-manifold",)),
}

#: examples a control may use to find its counterexample (the search stops at the first)
_CONTROL_EXAMPLES = 40

#: shrinking time per budget (seconds): a counterexample is shrunk at most this long
_SHRINK = {"quick": 1.0, "standard": 5.0, "thorough": 30.0}


def _make(claim: str, counts: tuple[int, int, int], controls: tuple[str, ...]) -> None:
    budgets = {
        b: {"examples": n, "case": None, "property": None}
        for b, n in zip(("quick", "standard", "thorough"), counts, strict=False)
    }

    @register(
        claim,
        method="search",
        budgets=budgets,
        controls={
            c: {"property": c, "examples": max(counts[0], _CONTROL_EXAMPLES)} for c in controls
        },
    )
    def search_check(
        ctx: RunContext,
        examples: int,
        case: dict[str, Any] | None = None,
        property: str | None = None,
    ) -> CheckResult:
        from zascheck import search

        key = claim if property is None else f"{claim}/{property}"
        p = search.prop(key)
        doc = f"hypothesis search of property {key!r}: {p.summary}"
        if case is not None:
            out = search.check_case(key, case, certify=True)
            rec = {
                "property": key,
                "case": case,
                "slack": out.slack,
                **out.summary(),
                "command": search.command(key, case),
            }
            res = CheckResult(
                **out.result_fields(),
                method="search",
                evidence={"case": rec},
                tightest=rec,
                notes=f"one case of {doc}",
            )
            if out.verdict is Verdict.VIOLATED:
                res.counterexample = rec
            return res
        so = search.run_search(
            key,
            examples=int(examples),
            seed=ctx.seed,
            progress=ctx.progress or ctx.budget != "quick",
            shrink_seconds=_SHRINK[ctx.budget],
        )
        from zascheck.checks.common import combine

        verdicts = [Verdict(v) for v in so.verdicts]
        evidence = {
            "property": key,
            "examples": so.examples,
            "verdict_counts": so.verdicts,
            "search_seconds": so.seconds,
        }
        tight = so.tightest_record()
        if so.counterexample is not None:
            ce = so.counterexample_record()
            assert ce is not None, "run_search sets counterexample and its case together"
            v = (
                Verdict.VIOLATED
                if so.counterexample.verdict is Verdict.VIOLATED
                else Verdict.INCONCLUSIVE
            )
            fields = so.counterexample.result_fields() | {"verdict": v}
            return CheckResult(
                **fields,
                method="search",
                counterexample=ce,
                tightest=tight,
                evidence=evidence,
                notes=f"{doc}; counterexample after {so.examples} examples "
                f"(shrunk, re-decided in {ce['arithmetic']}): {ce['command']}",
            )
        if so.tightest is None:
            return CheckResult(
                verdict=Verdict.INCONCLUSIVE,
                method="search",
                evidence=evidence,
                notes=f"{doc}; no example was decided",
            )
        assert tight is not None, "run_search sets tightest and its case together"
        fields = so.tightest.result_fields() | {"verdict": combine(verdicts)}
        return CheckResult(
            **fields,
            method="search",
            tightest=tight,
            evidence=evidence,
            notes=f"{doc}; {so.examples} examples, tightest slack {so.tightest.slack:.4g}: "
            f"{tight['command']}",
        )

    search_check.__doc__ = f"Hypothesis search for {claim} (see zascheck.search)."


for _claim, (_counts, _controls) in SEARCHES.items():
    _make(_claim, _counts, _controls)
