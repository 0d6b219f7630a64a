"""The report's README.md, rendered from CheckResult objects and the meta."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zascheck import engine
from zascheck.result import CheckResult, format_number, scope_text

__all__ = ["render"]

SCHEMA = """\
`claims.json` has the shape of `zascheck check --json`:

```
{
  "results": [ CheckResult, ... ],        # catalogue order; one per check (and per report sweep)
  "claims":  [ {"claim", "verdict", "scope", "scope_text", "methods", "parts", "rule"}, ... ],
             # one per claim id: the claim-level verdict (README, "Verdicts")
  "errors":  [ {"check": "id:method", "error": "Type: message"}, ... ],   # checks that crashed
  "meta":    { "zascheck", "python", "numpy", "mpmath", "sympy", "python-flint", "matplotlib",
               "command", "budget", "check_budget", "seed", "seeds", "jobs", "started", "seconds",
               "cases", "cache_hits", "machine", "figures": {name: {"files", "data", "caption"}},
               "report_budget": {...} }
}
```

A `CheckResult` (`zascheck.result.CheckResult.to_dict()`; read back with `CheckResult.from_dict`):

| field | type | meaning |
|---|---|---|
| `claim` | str | catalogue id (`zascheck claims`) |
| `verdict` | str | `certified` (ball/exact arithmetic or symbolic), `holds` (numerically, with an error budget), `violated` (counterexample found), `inconclusive` |
| `measured`, `bound` | float or null | the compared numbers; non-finite floats are strings (`"inf"`) |
| `relation` | str | `<=` or `>=`: how `measured` must compare with `bound` |
| `margin` | float or null | signed room: `bound - measured` for `<=`, `measured - bound` for `>=`; positive = the claim held with room |
| `params` | object | every parameter the check ran with (reproduce with `zascheck check ID:METHOD --case '{...}'`) |
| `arithmetic`, `precision_bits` | str, int | `float64` (53), `mp`, `ball`, `exact` (0) |
| `seconds` | float | wall time of the check |
| `provenance`, `statement` | str | source of the claim (paper, review; `[reconstructed]` when so) and its text |
| `method` | str | how it was checked (`flow`, `gd`, `exact`, ...; `report-sweep` = the report's own larger sweep decided by the check's decision function) |
| `measured_repr`, `bound_repr` | str | what `measured` / `bound` are |
| `counterexample` | object or null | the failing case when `violated` |
| `tightest` | object or null | the case closest to failing when a search found one |
| `evidence` | object | the check's numbers (curves, per-case tables) |
| `notes` | str | reading of the claim and caveats |
| `control` | str or null | name of the negative control (never set in a report) |
| `seed` | int | random seed |
| `scope` | object | per quantifier of the claim's card: `{"covered": str, "universal": bool}`, what the evidence covers and whether a proof or enclosure covers all of it (`not covered` where the method is silent) |
| `scope_text` | str | the scope in one line, as the tables print it |
| `part`, `parts` | str or null, list | a statement with several parts has one sub-result per part in `parts`, each naming its `part` |

`evidence/<claim>--<method>.json` holds one `CheckResult` each; `figures/<name>.json` holds
`{"caption": str, "data": ...}`, the numbers each figure draws.
"""


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _evidence_sweeps(rb: dict[str, Any]) -> str:
    ev = rb.get("evidence")
    if not ev:
        return ""
    return (f"Evidence sweeps (figure data only, the checks re-run with case overrides): `review.alpha.gd:gd` at "
            f"alpha {ev['alpha_gd']['alphas']}, L {ev['alpha_gd']['depths']}; `review.last-cI:flow` at c "
            f"{ev['last_ci']['cs']}, L {ev['last_ci']['depths']}, Phi = -I; `review.any-layer:flow` at L "
            f"{ev['any_layer']['depths']} on {ev['any_layer']['times']} times up to t = {ev['any_layer']['T']:g}. ")


def _own_budgets(rb: dict[str, Any]) -> str:
    own = rb.get("check_budgets")
    if not own:
        return ""
    return ("Checks run at their own budget (their rows and figures): "
            + ", ".join(f"`{k}` at `{v}`" for k, v in own.items()) + ". ")


def _claims_section(claims: list[dict[str, Any]]) -> list[str]:
    """The claim-level table (README, "Verdicts") and the claim graph."""
    from zascheck.report import graph

    L = ["## Claim-level verdicts\n",
         "One verdict per claim by the README's rule: `certified` only when certified evidence covers every "
         "quantifier of the claim; `holds` when everything run agrees on its scope; `violated` when a "
         "counterexample is established; `inconclusive` otherwise. The scope says what the evidence covers.\n",
         "| claim | verdict | scope | from |", "|---|---|---|---|"]
    for c in claims:
        L.append(f"| `{c['claim']}` | **{c['verdict']}** | {_cell(c['scope_text'] or '-')} | "
                 f"{_cell(', '.join(c['methods']))} |")
    L.append("\n### Claim graph\n")
    L.append("![claim graph](figures/claim-graph.png)\n")
    L.append("An arrow A -> B means the proof of B uses A (the cards' `depends_on`); colour = claim-level "
             "verdict. Vector: [figures/claim-graph.svg](figures/claim-graph.svg).\n")
    L += graph.markdown(graph.verdict_map(claims))
    L.append("")
    return L


def _header(meta: dict[str, Any], counts: dict[str, int], errors: list[dict[str, Any]]) -> list[str]:
    """Title, provenance, versions and the verdict counts."""
    L = ["# zascheck bound-check report\n"]
    L.append("Claims of Wu, Wang & Ma, *Global Convergence of Gradient Descent for Deep Linear Residual "
             "Networks* (NeurIPS 2019), of its reviews, and of the reviews of Nar & Sastry, *Step Size "
             "Matters in Deep Learning* (NeurIPS 2018), as catalogued in `CLAIMS.md`.\n")
    L.append("Regenerate exactly with:\n")
    L.append(f"```\n{meta['command']}\n```\n")
    L.append("| | |\n|---|---|")
    for k in ("zascheck", "python", "numpy", "mpmath", "sympy", "python-flint", "matplotlib"):
        L.append(f"| {k} | {meta[k]} |")
    L.append(f"| budget | report `{meta['budget']}` (checks run at `{meta['check_budget']}`) |")
    if meta.get("claims_selected") is not None:
        L.append(f"| claims | only {', '.join(f'`{c}`' for c in meta['claims_selected'])} |")
    L.append(f"| seed / seeds | {meta['seed']} / {meta['seeds']} (multi-seed figures) |")
    where = (f"{meta['jobs']} worker processes" if meta.get("jobs")
             else f"cases on the Dask cluster `{meta.get('scheduler')}`")
    L.append(f"| machine | {meta['machine']}; {where} |")
    L.append(f"| generated | {meta['started']}, {meta['seconds']} s, {meta['cases']} cases "
             f"({meta['cache_hits']} from the cache `.cache/`) |")
    L.append(f"| verdicts | {', '.join(f'{n} {v}' for v, n in sorted(counts.items()))}; "
             f"{len(errors)} crashed |\n")
    L.append("Verdicts: **certified** = proven in ball/exact arithmetic (or symbolically); **holds** = held "
             "numerically with a stated error budget; **violated** = counterexample found (in `evidence`); "
             "**inconclusive** = the numbers cannot decide. *margin* > 0 means the claim held with that room.\n")
    return L


def _results_table(by_claim: dict[str, list[CheckResult]], figs: dict[str, dict[str, Any]],
                   selected: set[str] | None = None) -> list[str]:
    """One row per result of every method, in catalogue order (of the ``selected``
    claims only, when given)."""
    L: list[str] = []
    L.append("## Results of every method\n")
    L.append("| claim | method | verdict | scope | measured | rel | bound | margin | arithmetic (bits) | provenance | "
             "figure | evidence |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for info in engine.all_cards():
        cid = info.id
        if selected is not None and cid not in selected:
            continue
        fig = info.figure
        flink = f"[{fig}](figures/{fig}.png)" if fig and fig in figs else "-"
        rs = by_claim.get(cid, [])
        if not rs:
            has_check = bool(info.checks)
            why = "check crashed (see errors)" if has_check else "no check implemented"
            L.append(f"| `{cid}` | - | *{why}* | - | - | - | - | - | - | {_cell(info.provenance)} | {flink} | - |")
            continue
        for r in rs:
            ev = f"[json](evidence/{r.claim}--{r.method}.json)"
            L.append(f"| `{cid}` | {r.method} | **{r.verdict.value}** | {_cell(scope_text(r.scope) or '-')} | "
                     f"{format_number(r.measured)} | {r.relation} | "
                     f"{format_number(r.bound)} | {format_number(r.margin)} | {r.arithmetic} ({r.precision_bits}) | "
                     f"{_cell(r.provenance)} | {flink} | {ev} |")
    return L


def render(results: list[CheckResult], errors: list[dict[str, Any]], meta: dict[str, Any],
           figs: dict[str, dict[str, Any]], claims: list[dict[str, Any]] | None = None,
           selected: set[str] | None = None) -> str:
    """The report's README.md: header, claim-level table, every result, the
    figures and the JSON schema; ``selected`` limits the tables to those claims."""
    by_claim: dict[str, list[CheckResult]] = {}
    for r in results:
        by_claim.setdefault(r.claim, []).append(r)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict.value] = counts.get(r.verdict.value, 0) + 1
    rb = meta["report_budget"]
    L = _header(meta, counts, errors)
    L += _claims_section(claims or [])
    L += _results_table(by_claim, figs, selected)
    if errors:
        L.append("\n### Checks that crashed\n")
        for e in errors:
            L.append(f"- `{e['check']}`: {_cell(str(e['error']))}")
    L.append("\n### What each result measured\n")
    for r in results:
        what = r.measured_repr or "measured"
        L.append(f"- `{r.claim}` ({r.method}): {_cell(what)}. {_cell(r.notes)[:600]}")
    L.append("\n## Figures\n")
    titles = {"thm41": "Theorem 4.1: gradient-flow decay", "thm43": "Theorem 4.3: GD envelope and step size",
              "drift": "Drift of D_l under GD: float64 vs high precision",
              "fig1": "Figure 1: landscape and trajectories (L = 2, d = 1)",
              "fig2": "Figure 2: iterations against depth",
              "fig2-planes": "Figure 2 over the (L, eta) plane: the one-step valley and the tuning protocols",
              "fig3": "Figure 3 over many seeds",
              "fig4": "Figure 4: nonlinear ResNet, mZAS vs Xavier",
              "shamir": "Shamir's lower bound: iterations against depth, random inits vs ZAS",
              "alpha": "Review: layers alpha I (flow rate vs GD)",
              "last-ci": "Review: last layer c I, decay rate against c",
              "any-layer": "Review: the zero layer at any position",
              "tight-step": "Theorem 4.3: the tight step against the theorem's eta*",
              "ssm": "Step Size Matters reviews: sharpness of minima and the period-2 orbit"}
    for name, f in figs.items():
        L.append(f"### {titles.get(name, name)}\n")
        L.append(f"![{name}](figures/{name}.png)\n")
        L.append(f"{_cell(f['caption'])} Data: [{f['data']}]({f['data']}); vector: "
                 f"[figures/{name}.svg](figures/{name}.svg).\n")
    from zascheck.report import spectral

    L += spectral.markdown_section(results, Path(meta["out"]) if meta.get("out") else None)
    L.append("## What each budget covers\n")
    f2 = rb["fig2"]
    L.append(f"This report: `{meta['budget']}`. Figure 2 (reduced engine, card zas.spectral): Phi = -I (d = 1 and "
             f"d = 100) and Gaussian d = 2 ({f2['draws']} draws) at depths {f2['depths']}; Gaussian d = 100 "
             f"({f2['draws100']} draw(s)) at {f2['depths100']}. Figure 3: {meta['seeds']} seeds, d = {rb['fig3']['d']}, "
             f"{rb['fig3']['max_steps']} iterations. {_evidence_sweeps(rb)}{_own_budgets(rb)}`--budget quick` uses smaller depth sets and quick checks; "
             "`--budget full` adds draws and Gaussian d = 100 depths, and runs the checks at their `thorough` "
             "budget. Gaussian d = 100 with entries N(0, 1) has singular values from ~0.1 to ~19: at the tuned "
             "step a point needs 10^4 (L = 10) to 10^6 (L = 10^4) sequential GD steps, so from L = 50 on its "
             "counts are shell brackets (stated, not certified; card zas.fig2).\n")
    L.append("## JSON schema\n")
    L.append(SCHEMA)
    return "\n".join(L) + "\n"
