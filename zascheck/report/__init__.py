"""``zascheck report``: the bound-check report (Markdown, JSON, figures).

:func:`build_report` runs every registered check through
:mod:`zascheck.engine` and the sweeps behind the paper's Figures 1-3 and
the theorem figures, in parallel worker processes with an on-disk cache
(``<out>/.cache``), then writes, each file atomically:

* ``<out>/README.md``   one table of every catalogue claim, the figures, the
  header needed to regenerate it, and the JSON schema;
* ``<out>/claims.json`` ``{"results": [CheckResult.to_dict()...], "errors":
  [...], "meta": {...}}``, the shape of ``zascheck check --json``;
* ``<out>/evidence/<claim>--<method>.json`` one result each (linked from the table);
* ``<out>/figures/*.png|svg`` and ``<out>/figures/<name>.json`` (the numbers
  drawn).

The report layer reads :class:`~zascheck.result.CheckResult` objects only.
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from zascheck import __version__
from zascheck import engine
from zascheck.errors import InputError
from zascheck.io import atomic_write_json, atomic_write_text
from zascheck.report.cache import Cache, remove_stale_tmp
from zascheck.report.cases import Case
from zascheck.report.runner import run_cases, sigterm_as_interrupt
from zascheck.result import CheckResult

__all__ = ["CHECK_BUDGET", "build_report", "plan", "report_config"]

#: what each report budget covers (README states it).
#: the check budget each report budget runs the checks at (a card's ``report`` may
#: name another for its own checks: ``{"check_budget": ...}``)
CHECK_BUDGET = {"quick": "quick", "standard": "quick", "full": "thorough"}


def report_config(budget: str) -> dict[str, Any]:
    """What a report budget covers, assembled from the cards' ``report``
    declarations (each card owns the sweeps behind its figure): sweep name ->
    parameters, plus ``check_budget`` and ``check_budgets`` (per claim)."""
    if budget not in CHECK_BUDGET:
        raise InputError(f"unknown report budget {budget!r}; choose quick, standard or full")
    cfg: dict[str, Any] = {"check_budget": CHECK_BUDGET[budget], "check_budgets": {}}
    for c in engine.all_cards():
        for key, value in c.report.get(budget, {}).items():
            if key == "check_budget":
                cfg["check_budgets"][c.id] = value
            elif isinstance(value, dict) and isinstance(cfg.get(key), dict):
                cfg[key] = cfg[key] | value  # e.g. "evidence", shared by several cards
            else:
                cfg[key] = value
    return cfg


#: the report's extra evidence sweeps: registered checks re-run with case
#: overrides (one case per depth), drawn in the review figures next to the
#: checks' own evidence; they are figure data, not rows of the claims table
EVIDENCE_SWEEPS = ("alpha-gd", "last-ci", "any-layer")

FIG2_EQUIV_DEPTHS = [2, 3, 5, 8]


def plan(budget: str, seeds: int, seed: int, cards: list[str] | None = None) -> dict[str, list[Case]]:
    """Every case of a report, grouped by what consumes it; ``cards`` are user
    card files whose checks join the built-in ones."""
    cfg = report_config(budget)
    cb = cfg["check_budget"]
    p: dict[str, list[Case]] = {}
    files = [str(Path(f).resolve()) for f in cards or []]
    user = {c.id for c in engine.load_user_cards(files)} if files else set()
    per_claim = cfg["check_budgets"]
    p["checks"] = [Case("check", {"key": c.key, "budget": per_claim.get(c.claim, cb), "seed": seed}
                        | ({"cards": files} if c.claim in user else {}),
                        cost=5.0 if c.claim not in per_claim else 5000.0)
                   for c in engine.checks_for(None)]
    t41 = cfg["thm41"]
    times = list(np.linspace(0.0, t41["T"], t41["times"]))
    p["thm41"] = [Case("thm41", {"L": L, "d": t41["d"], "phi_seed": seed, "times": times}, cost=0.5 + 0.2 * L)
                  for L in t41["depths"]]
    t43 = cfg["thm43"]
    p["thm43"] = [Case("thm43", {"L": L, "d": t43["d"], "fro": t43["fro"], "phi_seed": seed,
                                 "rel_tol": t43["rel_tol"], "max_steps": t43["max_steps"]}, cost=4.0 * L)
                  for L in t43["depths"]]
    em = cfg["etamax"]
    p["etamax"] = [Case("etamax", {"L": L, "d": t43["d"], "fro": t43["fro"], "phi_seed": seed,
                                   "rel_tol": em["rel_tol"], "max_steps": em["max_steps"],
                                   "rel_width": em["rel_width"]}, cost=0.1 * L)
                   for L in em["depths"]]
    dr = cfg["drift"]
    p["drift"] = [Case("drift", {"L": L, "d": dr["d"], "fro": dr["fro"], "phi_seed": seed, "steps": dr["steps"],
                                 "bits": dr["bits"]}, cost=0.05 * L) for L in dr["depths"]]
    f2 = cfg["fig2"]
    cases = []
    for L in f2["-I"]:
        cases.append(Case("fig2", {"phi": "-I", "d": 1, "L": L, "phi_seed": seed, "eps": 1e-10, "fine": f2["fine"]},
                          cost=0.002 * L))
        cases.append(Case("fig2", {"phi": "-I", "d": 100, "L": L, "phi_seed": seed, "eps": 1e-10,
                                   "fine": f2["fine"], "reduce_scalar": True}, cost=0.002 * L))
    for k in range(f2["gauss2_draws"]):
        for L in f2["gauss2"]:
            cases.append(Case("fig2", {"phi": "gaussian", "d": 2, "L": L, "phi_seed": seed * 1000 + k,
                                       "eps": 1e-10, "fine": f2["fine"]}, cost=0.02 * L))
    for L in f2["gauss100"]:
        cases.append(Case("fig2", {"phi": "gaussian", "d": 100, "L": L, "phi_seed": seed, "eps": 1e-10,
                                   "fine": f2["fine100"]}, cost=3.0 * L * L))
    p["fig2"] = cases
    p["fig2-equiv"] = [Case("fig2-equiv", {"d": 100, "depths": FIG2_EQUIV_DEPTHS, "steps": 30}, cost=2.0)]
    ev = cfg["evidence"]

    def chk(key: str, case: dict[str, Any], cost: float) -> Case:
        return Case("check", {"key": key, "budget": cb, "seed": seed, "case": case}, cost=cost)

    p["alpha-gd"] = [chk("review.alpha.gd:gd", {"alphas": ev["alpha_gd"]["alphas"], "depths": [L]}, 0.5 * L)
                     for L in ev["alpha_gd"]["depths"]]
    p["last-ci"] = [chk("review.last-cI:flow", {"cs": ev["last_ci"]["cs"], "depths": [L], "phis": ["-I"]},
                        0.3 * 3.0 ** (L - 2)) for L in ev["last_ci"]["depths"]]
    al = ev["any_layer"]
    times = [float(x) for x in np.linspace(al["T"] / al["times"], al["T"], al["times"])]
    p["any-layer"] = [chk("review.any-layer:flow", {"depths": [L], "times": times}, 0.6 * L)
                      for L in al["depths"]]
    f3 = cfg["fig3"]
    common = {k: f3[k] for k in ("L", "d", "eta", "max_steps", "rel_tol")} | {"seed": seed}
    p["fig3"] = [Case("fig3", common | {"init": "zas", "index": 1}, cost=0.5)] + [
        Case("fig3", common | {"init": "near-identity", "index": i}, cost=2.0) for i in range(seeds)
    ]
    return p


def _versions() -> dict[str, str]:
    import flint
    import matplotlib
    import mpmath
    import sympy

    return {"zascheck": __version__, "python": platform.python_version(), "numpy": np.__version__,
            "mpmath": mpmath.__version__, "sympy": sympy.__version__, "python-flint": flint.__version__,
            "matplotlib": matplotlib.__version__}


def _sweep_result(claim: str, res: CheckResult, params: dict[str, Any], seed: int) -> CheckResult:
    """Fill what :func:`zascheck.engine.run_check` fills for a check."""
    info = engine.card(claim)
    return dataclasses.replace(res, claim=claim, method="report-sweep", params=params | res.params,
                               provenance=info.provenance, statement=info.statement, seed=seed)


def build_report(
    *,
    budget: str = "standard",
    out: Path = Path("reports"),
    seeds: int = 50,
    jobs: int | None = None,
    seed: int = 0,
    progress: bool = False,
    cache: bool = True,
    cards: list[str] | None = None,
    scheduler: str | None = None,
    _plan: dict[str, list[Case]] | None = None,
) -> Path:
    """Run everything and write the report into ``out``; returns the README path.

    ``jobs`` local worker processes (default: the cores), or the Dask cluster
    ``scheduler`` (``local:N`` or ``HOST:PORT``); either way finished cases are
    cached by this process, so a rerun resumes."""
    if seeds < 1:
        raise InputError(f"--seeds must be >= 1, got {seeds}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is not a folder")
    started = time.time()
    jobs = jobs or os.cpu_count() or 1
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_tmp(out)
    c = Cache(out / ".cache" if cache else None)
    with sigterm_as_interrupt():
        groups = _plan if _plan is not None else plan(budget, seeds, seed, cards)
        flat = [case for g in groups.values() for case in g]
        values = run_cases(flat, c, jobs=jobs, progress=progress, desc=f"report ({budget})",
                           scheduler=scheduler)
        vals: dict[str, list[dict[str, Any]]] = {}
        i = 0
        for name, g in groups.items():
            vals[name] = values[i:i + len(g)]
            i += len(g)
        if _plan is not None:  # tests: only the run/caching machinery
            atomic_write_json(out / "claims.json", {"results": [], "errors": [], "meta": {"test": True}})
            return out / "claims.json"
        from zascheck.report import figures_data, markdown

        results, errors = [], []
        for v in vals["checks"]:
            if v.get("ok"):
                results.append(CheckResult.from_dict(v["result"]))
            else:
                errors.append({"check": v.get("key"), "error": v.get("error")})
        for name in EVIDENCE_SWEEPS:
            for v in vals.get(name, []):
                if not v.get("ok"):
                    errors.append({"check": f"{v.get('key')} (evidence sweep {name})", "error": v.get("error")})
        figs, sweep_results = figures_data.draw_all(out / "figures", vals, budget, seed, results)
        results.extend(_sweep_result(cl, r, prm, seed) for cl, r, prm in sweep_results)
        order = {c.id: k for k, c in enumerate(engine.all_cards())}
        results.sort(key=lambda r: (order.get(r.claim, 10**6), r.method != "report-sweep", r.method))
        for r in results:
            atomic_write_json(out / "evidence" / f"{r.claim}--{r.method}.json", r.to_dict())
        seconds = time.time() - started
        cmd = f"zascheck report --budget {budget} --seeds {seeds} --seed {seed} --out {out.as_posix()}"
        meta = _versions() | {
            "command": cmd, "budget": budget, "check_budget": CHECK_BUDGET[budget],
            "seed": seed, "seeds": seeds, "jobs": jobs, "scheduler": scheduler or "local pool",
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "seconds": round(seconds, 1), "cases": len(flat), "cache_hits": c.hits,
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
            "figures": figs, "report_budget": report_config(budget), "out": out.as_posix(),
        }
        claims = engine.claim_verdicts(results)
        from zascheck.report import graph

        figs["claim-graph"] = {"files": graph.draw(out / "figures", graph.verdict_map(claims)),
                               "data": "claims.json", "caption": "The claim graph (see above)."}
        atomic_write_json(out / "claims.json", {"results": [r.to_dict() for r in results], "claims": claims,
                                                "errors": errors, "meta": meta})
        readme = markdown.render(results, errors, meta, figs, claims)
        return atomic_write_text(out / "README.md", readme)


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
