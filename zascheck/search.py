"""Property search: hypothesis over a card's properties, inside and outside pytest.

Each claim card declares *properties* (:meth:`zascheck.card.Card.prop`): a
strategy of JSON cases (:mod:`zascheck.strategies`) and an evaluator that
decides one case with the library through :func:`zascheck.escalate.escalate`,
so a verdict near the boundary is re-checked in ball / exact arithmetic.
Every evaluation also returns a *slack*: a normalised margin (positive = the
claim held with room) that the search drives toward zero with
``hypothesis.target`` to find the tightest case.

Negative properties (key ``claim/control``) drop one hypothesis of the claim
(step above the bound, non-ZAS init, wrong target, ...); a search on them must
find a counterexample, which hypothesis shrinks to a small readable case.

Entry points (each takes a :class:`zascheck.card.Prop`; look one up with
:func:`zascheck.engine.prop`)
    :func:`check_case` (one case), :func:`run_search` (hypothesis with a given
    number of examples and seed, progress on stderr; returns the tightest case
    and any counterexample), :func:`command` (the one-line CLI command that
    reproduces a case), :func:`failure_message`, and :func:`search_check`,
    the ``search`` method the engine gives every card with properties
    (``zascheck check ID:search``).
"""

from __future__ import annotations

import json
import math
import shlex
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hseed
from hypothesis import target as htarget

from zascheck.card import Check, Prop, RunContext
from zascheck.escalate import Escalated
from zascheck.result import CheckResult, Verdict

if TYPE_CHECKING:
    from zascheck.card import Card

__all__ = [
    "SearchOutcome",
    "check_case",
    "command",
    "failure_message",
    "run_search",
    "search_check",
]


def _hypothesis_home() -> None:
    """Keep hypothesis's files (its unicode tables, ...) out of the user's
    working directory: outside pytest they go to ``$XDG_CACHE_HOME/zascheck``
    (``~/.cache/zascheck``); under pytest hypothesis keeps its own default."""
    import os
    from pathlib import Path

    if "PYTEST_CURRENT_TEST" in os.environ:
        return
    from hypothesis.configuration import set_hypothesis_home_dir

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    set_hypothesis_home_dir(base / "zascheck" / "hypothesis")


def check_case(p: Prop, case: dict[str, Any], *, certify: bool | None = None) -> Escalated:
    """Decide one case of property ``p`` (with escalation); sets ``slack``."""
    out = p.evaluate(case, p.certify if certify is None else certify)
    first = out.tried[0] if out.tried else {}
    sl = out.evidence.get("slack", first.get("slack"))  # the deciding arithmetic's slack
    out.slack = float(sl) if sl is not None else out.margin
    if out.verdict is Verdict.VIOLATED:
        out.slack = min(out.slack, 0.0)
    return out


def command(p: Prop, case: dict[str, Any]) -> str:
    """The one-line command that reproduces ``case`` of property ``p``."""
    ctl = f" --control {shlex.quote(p.control)}" if p.control else ""
    js = json.dumps({"case": case}, separators=(",", ":"))
    return f"zascheck check {p.claim}:search{ctl} --case {shlex.quote(js)}"


def failure_message(p: Prop, case: dict[str, Any], out: Escalated) -> str:
    """What a failing property prints: the verdict, the case, and its command."""
    return (
        f"{p.key}: {out.verdict.value} (measured {out.measured:.6g} {out.relation} bound "
        f"{out.bound:.6g}, margin {out.margin:.3g}, {out.arithmetic}@{out.precision_bits})\n"
        f"case: {json.dumps(case)}\nreproduce: {command(p, case)}"
    )


# ---------------------------------------------------------------------------
# the search
# ---------------------------------------------------------------------------


@dataclass
class SearchOutcome:
    prop: Prop
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
            "property": self.prop.key,
            "case": self.tightest_case,
            "slack": self.tightest.slack,
            **self.tightest.summary(),
            "command": command(self.prop, self.tightest_case),
        }

    def counterexample_record(self) -> dict[str, Any] | None:
        if self.counterexample is None or self.counterexample_case is None:
            return None
        return {
            "property": self.prop.key,
            "case": self.counterexample_case,
            **self.counterexample.summary(),
            "command": command(self.prop, self.counterexample_case),
        }


class _Found(Exception):
    """A counterexample (raised inside the hypothesis run so it shrinks)."""


@dataclass
class _SearchState:
    """What a running search has seen: counts, the tightest case, the failure
    being shrunk (and since when), and every case that failed (a case that
    failed once fails again on replay, so hypothesis never sees a Flaky)."""

    p: Prop
    shrink_seconds: float
    bar: Any
    n: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    best: tuple[dict[str, Any], Escalated] | None = None
    fail: tuple[dict[str, Any], Escalated] | None = None
    fail_t: float | None = None
    failed: set[str] = field(default_factory=set)

    def step(self, case: dict[str, Any]) -> None:
        """Decide one hypothesis example (raises ``_Found`` on a violation)."""
        js = json.dumps(case, sort_keys=True)
        if self.fail_t is not None and time.perf_counter() - self.fail_t > self.shrink_seconds:
            if js in self.failed:
                raise _Found
            return
        out = check_case(self.p, case)
        if self.fail_t is None:
            self.n += 1
            self.bar.update()
            self.verdicts[out.verdict.value] = self.verdicts.get(out.verdict.value, 0) + 1
        if math.isfinite(out.slack):
            htarget(-out.slack, label="negated slack")
        if out.verdict is Verdict.VIOLATED:
            self.fail = (case, out)
            self.failed.add(js)
            if self.fail_t is None:
                self.fail_t = time.perf_counter()
            raise _Found
        if out.verdict is not Verdict.INCONCLUSIVE and (
            self.best is None or out.slack < self.best[1].slack
        ):
            self.best = (case, out)


def run_search(
    p: Prop,
    *,
    examples: int,
    seed: int = 0,
    progress: bool = False,
    shrink_seconds: float = 5.0,
) -> SearchOutcome:
    """Run property ``p`` over ``examples`` hypothesis examples (seeded, no
    database), steering toward the smallest slack with ``target``.  A
    violation is shrunk (for at most ``shrink_seconds``) and re-checked on the
    escalation ladder.  Cases are decided with ``certify`` where the property
    can be certified cheaply (exact identities, GD in ball arithmetic)."""
    from tqdm import tqdm

    _hypothesis_home()
    t0 = time.perf_counter()
    bar = tqdm(total=examples, desc=p.key, unit="ex", file=sys.stderr, leave=False,
               disable=None if progress else True)
    state = _SearchState(p, shrink_seconds, bar)

    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
              phases=(Phase.explicit, Phase.generate, Phase.target, Phase.shrink),
              report_multiple_bugs=False, print_blob=False)
    @hseed(seed)
    @given(p.strategy())
    def _run(case: dict[str, Any]) -> None:
        state.step(case)

    try:
        _run()
    except _Found:
        pass
    finally:
        bar.close()
    res = SearchOutcome(prop=p, examples=state.n, seconds=0.0, verdicts=state.verdicts,
                        tightest_case=None, tightest=None)
    if state.best is not None:
        res.tightest_case, res.tightest = state.best
    if state.fail is not None:
        case, _ = state.fail
        out = check_case(p, case, certify=True)  # re-decided on the full ladder
        res.counterexample_case, res.counterexample = case, out
    res.seconds = round(time.perf_counter() - t0, 3)
    return res


#: examples a control may use to find its counterexample (the search stops at the first)
CONTROL_EXAMPLES = 40

#: shrinking time per budget (seconds): a counterexample is shrunk at most this long
SHRINK_SECONDS = {"quick": 1.0, "standard": 5.0, "thorough": 30.0}


def _one_case(p: Prop, case: dict[str, Any], doc: str) -> CheckResult:
    out = check_case(p, case, certify=True)
    rec = {
        "property": p.key,
        "case": case,
        "slack": out.slack,
        **out.summary(),
        "command": command(p, case),
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


def _search_result(so: SearchOutcome, doc: str) -> CheckResult:
    from zascheck.result import combine_verdicts

    evidence = {
        "property": so.prop.key,
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
        return CheckResult(
            **(so.counterexample.result_fields() | {"verdict": v}),
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
    fields = so.tightest.result_fields() | {"verdict": combine_verdicts(Verdict(v) for v in so.verdicts)}
    return CheckResult(
        **fields,
        method="search",
        tightest=tight,
        evidence=evidence,
        notes=f"{doc}; {so.examples} examples, tightest slack "
        f"{so.tightest.slack:.4g}: {tight['command']}",
    )


def _with_scope(res: CheckResult, card: Card, sample: str) -> CheckResult:
    """The search result with the card's ``search_scope``: what the strategy
    draws, per quantifier, as samples (never universal)."""
    from zascheck.result import covers

    drawn = {q.name: f"sampled by the strategy ({sample})" for q in card.quantifiers}
    drawn |= {q: f"{what} ({sample})" for q, what in card.search_scope.items()}
    res.scope = {q: covers(w) for q, w in drawn.items()} | res.scope
    return res


def search_check(card: Card) -> Check:
    """The ``search`` method of ``card``: runs its property for the card's
    number of hypothesis examples (seeded by ``--seed``, no database), steering
    toward the tightest case; every negative property is a control
    (``--control NAME`` must find and shrink a counterexample).
    ``--case '{"case": {...}}'`` decides one case instead of searching: that
    is the command printed with every counterexample and tightest case."""
    assert card.search_examples is not None, "search_check needs Card.search(examples=...)"
    counts = card.search_examples
    by_control = {p.control: p for p in card.props}
    budgets = {
        b: {"examples": n, "case": None, "property": None}
        for b, n in zip(("quick", "standard", "thorough"), counts, strict=True)
    }
    controls = {
        c: {"property": c, "examples": max(counts[0], CONTROL_EXAMPLES)}
        for c in by_control
        if c is not None
    }

    def run(
        ctx: RunContext,
        examples: int,
        case: dict[str, Any] | None = None,
        property: str | None = None,
    ) -> CheckResult:
        if property not in by_control:
            from zascheck.errors import InputError

            raise InputError(f"{card.id}:search has no property {property!r}")
        p = by_control[property]
        doc = f"hypothesis search of property {p.key!r}: {p.summary}"
        if case is not None:
            return _with_scope(_one_case(p, case, doc), card, "1 given case")
        so = run_search(
            p,
            examples=int(examples),
            seed=ctx.seed,
            progress=ctx.progress or ctx.budget != "quick",
            shrink_seconds=SHRINK_SECONDS[ctx.budget],
        )
        return _with_scope(_search_result(so, doc), card,
                           f"{so.examples} hypothesis examples, seed {ctx.seed}")

    run.__doc__ = f"Hypothesis search for {card.id} (see zascheck.search)."
    return Check(
        card.id,
        "search",
        run,
        budgets,
        controls,
        False,
        f"hypothesis search of {card.id}",
        __name__,
    )
