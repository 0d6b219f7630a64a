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

import contextlib
import json
import dataclasses
import math
import os
import platform
import shutil
import signal
import threading
import time
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import numpy as np

from zascheck import __version__
from zascheck import engine
from zascheck.errors import InputError
from zascheck.measure.figures import FIG2_SERIES
from zascheck.io import atomic_write_json, atomic_write_text
from zascheck.report.cache import STAGING_PREFIX, Cache, remove_stale_tmp
from zascheck.report.cases import Case, split_checks
from zascheck.parallel import effective_jobs
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

#: Figure 3's near-identity seeds run in this many cases (each one stacked batch)
FIG3_CASES = 4


#: the claim each sweep group of :func:`plan` belongs to (the card whose figure it draws)
SWEEP_OWNER = {
    "thm41": "zas.thm4.1", "thm43": "zas.thm4.3", "etamax": "zas.thm4.3", "drift": "zas.drift",
    "fig2": "zas.fig2", "fig2-equiv": "zas.fig2", "fig3": "zas.fig3", "alpha-gd": "review.alpha.gd",
    "last-ci": "review.last-cI", "any-layer": "review.any-layer", "fig4-depth": "zas.fig4",
}


def plan(budget: str, seeds: int, seed: int, cards: list[str] | None = None,
         claims: list[str] | None = None) -> dict[str, list[Case]]:
    """Every case of a report, grouped by what consumes it; ``cards`` are user
    card files whose checks join the built-in ones; ``claims`` (ids) restricts the
    report to those claims: their checks and the sweeps they own
    (:data:`SWEEP_OWNER`).

    Raises :class:`~zascheck.errors.InputError` for an unknown claim id."""
    p = _plan_all(budget, seeds, seed, cards)
    if claims is None:
        return p
    known = {c.id for c in engine.all_cards()}
    unknown = [c for c in claims if c not in known]
    if unknown:
        raise InputError(f"unknown claim id {unknown[0]!r} (zascheck claims lists them)")
    keep = set(claims)
    checks = [c for c in p["checks"] if c.params["key"].split(":")[0] in keep]
    return {"checks": checks} | {g: cs for g, cs in p.items() if g != "checks" and SWEEP_OWNER[g] in keep}


def _plan_all(budget: str, seeds: int, seed: int, cards: list[str] | None) -> dict[str, list[Case]]:
    """Every case of the whole report (see :func:`plan`).

    Each case's ``cost`` estimates its seconds, for the longest-first order of
    :func:`zascheck.report.runner.run_cases` (a long case started last leaves the
    other workers idle at the end).  The formulas are fitted to the per-case
    ``_seconds`` of a standard report (2026-11-29, divided by the load: the
    run's cases took 4x their idle time), and only order the work: they do
    not change what any case computes."""
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
    p["fig4-depth"] = split_checks(p["checks"])  # zas.fig4:gd, one case per depth
    t41 = cfg["thm41"]
    times = list(np.linspace(0.0, t41["T"], t41["times"]))
    p["thm41"] = [Case("thm41", {"L": L, "d": t41["d"], "phi_seed": seed, "times": times}, cost=0.5 + 0.2 * L)
                  for L in t41["depths"]]
    t43 = cfg["thm43"]
    p["thm43"] = [Case("thm43", {"L": L, "d": t43["d"], "fro": t43["fro"], "phi_seed": seed,
                                 "rel_tol": t43["rel_tol"], "max_steps": t43["max_steps"]}, cost=2.0 + 0.6 * L)
                  for L in t43["depths"]]
    em = cfg["etamax"]
    p["etamax"] = [Case("etamax", {"L": L, "d": t43["d"], "fro": t43["fro"], "phi_seed": seed,
                                   "rel_tol": em["rel_tol"], "max_steps": em["max_steps"],
                                   "rel_width": em["rel_width"]}, cost=1.0 + 0.13 * L)
                   for L in em["depths"]]
    dr = cfg["drift"]
    p["drift"] = [Case("drift", {"L": L, "d": dr["d"], "fro": dr["fro"], "phi_seed": seed, "steps": dr["steps"],
                                 "bits": dr["bits"]}, cost=0.004 * L) for L in dr["depths"]]
    f2 = cfg["fig2"]
    cases = []
    for phi, d, _g in FIG2_SERIES.values():
        big = phi == "gaussian" and d == 100
        for k in range((f2["draws100"] if big else f2["draws"]) if phi == "gaussian" else 1):
            for L in f2["depths100"] if big else f2["depths"]:
                cases.append(Case("fig2", {"phi": phi, "d": d, "L": L, "phi_seed": seed * 1000 + k, "eps": 1e-10,
                                           "fine": f2["fine100" if big else "fine"],
                                           "give_up": f2["give_up100" if big else "give_up"],
                                           "floor_octaves": f2["floor100"] if big else 6},
                                  cost=(0.14 * L if big else 0.3)))
    p["fig2"] = cases
    p["fig2-equiv"] = [Case("fig2-equiv", {"d": 100, "depths": FIG2_EQUIV_DEPTHS, "steps": 30}, cost=2.0)]
    ev = cfg["evidence"]

    def chk(key: str, case: dict[str, Any], cost: float) -> Case:
        return Case("check", {"key": key, "budget": cb, "seed": seed, "case": case}, cost=cost)

    p["alpha-gd"] = [chk("review.alpha.gd:gd", {"alphas": ev["alpha_gd"]["alphas"], "depths": [L]}, 0.22 * L * L)
                     for L in ev["alpha_gd"]["depths"]]
    p["last-ci"] = [chk("review.last-cI:flow", {"cs": ev["last_ci"]["cs"], "depths": [L], "phis": ["-I"]},
                        0.5 * 3.0 ** (L - 2)) for L in ev["last_ci"]["depths"]]
    al = ev["any_layer"]
    times = [float(x) for x in np.linspace(al["T"] / al["times"], al["T"], al["times"])]
    p["any-layer"] = [chk("review.any-layer:flow", {"depths": [L], "times": times}, 0.35 * L * L)
                      for L in al["depths"]]
    f3 = cfg["fig3"]
    common = {k: f3[k] for k in ("L", "d", "eta", "max_steps", "rel_tol")} | {"seed": seed}
    chunk = max(1, math.ceil(seeds / FIG3_CASES))
    p["fig3"] = [Case("fig3", common | {"init": "zas", "indices": [1]}, cost=0.5)] + [
        Case("fig3", common | {"init": "near-identity", "indices": list(range(i, min(i + chunk, seeds)))},
             cost=0.7 * chunk) for i in range(0, seeds, chunk)
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
    parts = [dataclasses.replace(p, claim=claim, method="report-sweep", seed=seed) for p in res.parts]
    return dataclasses.replace(res, claim=claim, method="report-sweep", params=params | res.params,
                               provenance=info.provenance, statement=info.statement, seed=seed,
                               parts=parts)


#: most seeds a report takes (Figure 3 runs one GD per seed)
MAX_SEEDS = 10_000


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
    claims: list[str] | None = None,
    _plan: dict[str, list[Case]] | None = None,
) -> Path:
    """Run everything and write the report into ``out``; returns the README path.

    ``jobs`` local worker processes (default: the cores), or the Dask cluster
    ``scheduler`` (``local:N`` or ``HOST:PORT``); either way finished cases are
    cached by this process, so a rerun resumes.  ``claims`` (ids) makes a report
    of those claims only (their checks, sweeps and figures).  One report at a
    time writes into ``out`` (a lock file ``out/.lock``); the evidence and
    figure files of an earlier report that this one does not write are removed,
    so the folder never mixes two reports.  Raises
    :class:`~zascheck.errors.InputError` for bad ``seeds`` or ``out`` or a
    folder another report is writing to."""
    if not 1 <= seeds <= MAX_SEEDS:
        raise InputError(f"--seeds must be in 1..{MAX_SEEDS}, got {seeds}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is not a folder")
    refuse_foreign_folder(out)
    started = time.time()
    jobs = jobs or os.cpu_count() or 1
    groups = _plan if _plan is not None else plan(budget, seeds, seed, cards, claims)
    flat = [case for g in groups.values() for case in g]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create the folder ({exc.strerror or exc})") from None
    with _report_lock(out), sigterm_as_interrupt():
        remove_stale_tmp(out)
        c = Cache(out / ".cache" if cache else None)
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
        cmd = (f"zascheck report{''.join(' ' + c for c in claims or [])} --budget {budget} --seeds {seeds} "
               f"--seed {seed} --out {out.as_posix()}" + "".join(f" --cards {f}" for f in cards or []))
        run = {"command": cmd, "budget": budget, "check_budget": CHECK_BUDGET[budget], "seed": seed,
               "seeds": seeds, "jobs": None if scheduler else effective_jobs(jobs, len(flat)),
               "scheduler": scheduler or "local pool",
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
               "cases": len(flat), "cache_hits": c.hits,
               "claims_selected": list(claims) if claims is not None else None}
        return _write_report(out, vals, run, started)


#: what a report writes at the top of its folder (replaced or pruned at every report)
REPORT_NAMES = ("README.md", "claims.json", "figures", "evidence")

#: the first line a report writes into its folder's ``.lock``: only a folder whose
#: lock starts with it (or whose ``claims.json`` a report wrote) is a report folder
LOCK_SIGNATURE = "zascheck report folder: its README.md, claims.json, figures/ and evidence/ are rewritten by every report\n"


def _is_report_folder(out: Path) -> bool:
    """Whether a zascheck report wrote into ``out``: its ``.lock`` starts with
    :data:`LOCK_SIGNATURE` (a report interrupted before its ``claims.json``),
    or its ``claims.json`` has the meta only a report writes (``report_budget``;
    ``zascheck check --json`` writes results and meta too, and an empty
    ``.lock`` can be anybody's)."""
    try:
        with open(out / ".lock", encoding="utf-8", errors="replace") as fh:
            if fh.read(len(LOCK_SIGNATURE)) == LOCK_SIGNATURE:
                return True
    except OSError:
        pass
    try:
        old = json.loads((out / "claims.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    meta = old.get("meta") if isinstance(old, dict) else None
    return isinstance(meta, dict) and "report_budget" in meta and "results" in old


def refuse_foreign_folder(out: Path) -> None:
    """Raise :class:`InputError` when ``out`` holds files that a report would
    replace or prune (``README.md``, ``claims.json``, ``figures/``,
    ``evidence/``) but is not the folder of an earlier zascheck report
    (:func:`_is_report_folder`): a report never deletes or overwrites files
    it did not write.  A new or empty folder, or one with other files only,
    is accepted."""
    if not out.is_dir():
        return
    present = [n for n in REPORT_NAMES if (out / n).exists()]
    if not present or _is_report_folder(out):
        return
    raise InputError(
        f"--out {out}: holds {', '.join(present)} but no earlier zascheck report wrote them "
        "(no report lock, no report claims.json); a report would replace them: choose a new or empty folder"
    )


@contextlib.contextmanager
def _report_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.lock`` (an advisory ``flock``) while a report writes into ``out``."""
    import fcntl

    with open(out / ".lock", "a", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(f"--out {out}: another zascheck report is writing to this folder") from None
        if fh.tell() == 0:  # a new lock (append mode: at the end): sign the folder as a report's
            fh.write(LOCK_SIGNATURE)
            fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_report(out: Path, vals: dict[str, list[dict[str, Any]]], run: dict[str, Any],
                  started: float) -> Path:
    """Figures, evidence, claims.json and README.md of a finished run, and the
    removal of an earlier report's files this one does not write.

    Everything is written first into a staging folder ``out/.staging-<pid>``
    and then moved into place by renames (:func:`_publish`, with SIGINT and
    SIGTERM held back), ``claims.json`` and ``README.md`` last: an interrupted
    report leaves the earlier report whole (figures never disagree with the
    ``claims.json`` beside them), and a failure removes the staging folder."""
    stage = out / f"{STAGING_PREFIX}{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    try:
        for sub in ("figures", "evidence"):
            (stage / sub).mkdir(parents=True)
        evidence, figs = _write_staged(stage, out, vals, run, started)
        _publish(stage, out, evidence, figs)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return out / "README.md"


def _write_staged(stage: Path, out: Path, vals: dict[str, list[dict[str, Any]]], run: dict[str, Any],
                  started: float) -> tuple[set[str], set[str]]:
    """Write the whole report into ``stage``; returns the evidence file names
    and the figure names it wrote."""
    from zascheck.report import figures_data, graph, markdown, plots

    budget, seed, claims = run["budget"], run["seed"], run["claims_selected"]
    results, errors = _collect(vals)
    selected = set(claims) if claims is not None else None
    with plots.saving_in_background(min(2, run["jobs"] or 1)):  # the figures render side by side
        figs, sweep_results = figures_data.draw_all(stage / "figures", vals, budget, seed, results, selected)
    results.extend(_sweep_result(cl, r, prm, seed) for cl, r, prm in sweep_results)
    order = {c.id: k for k, c in enumerate(engine.all_cards())}
    results.sort(key=lambda r: (order.get(r.claim, 10**6), r.method != "report-sweep", r.method))
    evidence = {f"{r.claim}--{r.method}.json" for r in results}
    for r in results:
        atomic_write_json(stage / "evidence" / f"{r.claim}--{r.method}.json", r.to_dict())
    meta = _versions() | run | {
        "seconds": round(time.time() - started, 1),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
        "figures": figs, "report_budget": report_config(budget), "out": out.as_posix(),
    }
    verdicts = engine.claim_verdicts(results, crashed=[str(e.get("check")) for e in errors])
    figs["claim-graph"] = {"files": graph.draw(stage / "figures", graph.verdict_map(verdicts)),
                           "data": "claims.json", "caption": "The claim graph (see above)."}
    atomic_write_json(stage / "claims.json", {"results": [r.to_dict() for r in results], "claims": verdicts,
                                              "errors": errors, "meta": meta})
    atomic_write_text(stage / "README.md", markdown.render(results, errors, meta, figs, verdicts, selected))
    return evidence, set(figs)


def _publish(stage: Path, out: Path, evidence: set[str], figures: set[str]) -> None:
    """Move the staged report into ``out`` by renames (same file system),
    evidence and figures first, ``claims.json`` and ``README.md`` last, with
    SIGINT and SIGTERM blocked for the few milliseconds it takes (delivered
    afterwards); then remove the earlier report's leftovers."""
    blocked = {signal.SIGINT, signal.SIGTERM}
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:
        signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        for sub in ("evidence", "figures"):
            (out / sub).mkdir(exist_ok=True)
            for p in sorted((stage / sub).iterdir()):
                os.replace(p, out / sub / p.name)
        _remove_others(out, evidence, figures)
        for name in ("claims.json", "README.md"):
            os.replace(stage / name, out / name)
    finally:
        if main_thread:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)


def _remove_others(out: Path, evidence: set[str], figures: set[str]) -> None:
    """Remove the evidence files (``evidence/*.json``) and figures
    (``figures/*.png|svg|json``) of an earlier report that this one did not
    write; nothing else in ``out`` is touched."""
    for p in (out / "evidence").glob("*.json"):
        if p.name not in evidence and p.is_file() and not p.is_symlink():
            p.unlink()
    for p in (out / "figures").glob("*"):
        if p.suffix in (".png", ".svg", ".json") and p.stem not in figures and p.is_file() \
                and not p.is_symlink():
            p.unlink()


def _collect(vals: dict[str, list[dict[str, Any]]]) -> tuple[list[CheckResult], list[dict[str, Any]]]:
    """The checks' results, and the checks and evidence sweeps that crashed."""
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
    return results, errors


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
