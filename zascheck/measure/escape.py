"""What the saddle-escape claims share: ``zas.fig3`` (Fig. 3 of the ZAS paper)
and ``review.multirun`` (the same comparison over many seeds).

Definitions (one place for each):

* **escape level** (:func:`escape_level`).  For the whitened loss
  ``R = 1/2 ||W_{L:1} - Phi||_F^2`` every critical point has
  ``P = W_{L:1}`` equal to ``Phi`` projected on a subset of its singular
  directions, so the critical values are ``1/2 sum_{i not in S} sigma_i^2``;
  the smallest one above the minimum value 0 is ``sigma_min^2 / 2`` (``1/2``
  for ``Phi = -I``: one direction of ``P`` still at 0).  A run has
  *escaped* once ``R(t) < sigma_min^2 / 4``, the midpoint between the
  minimum value and the smallest saddle value: below it no saddle is left
  to visit.  Escape is not convergence: a run at ``R = 1e-4`` that is
  still decreasing has escaped.
* **trapped** (within a budget of ``T`` iterations): not escaped by ``T``,
  i.e. ``R(t) >= sigma_min^2 / 4`` for every ``t <= T``.  Each such run's
  final loss and its relative decrease over the last tenth of the budget
  are recorded (for ``Phi = -I`` the final losses sit at the saddle values
  ``k/2``).
* the near-identity init of run ``i`` is (5.1) drawn from
  ``numpy.random.default_rng([seed, 5, d, i])`` (both cards, so they agree
  run for run); the deterministic inits (ZAS, identity) take
  :func:`zascheck.inits.make` with ``seed * 1000 + i``.

Runs of one setting are run as one stack of networks, :data:`BATCH_RUNS` at
a time (:func:`zascheck.experiments.batch_first_hits`; every run evolves bit
for bit as it would alone, and a batch in which a run diverges, which stops
the whole batch, is re-run one run at a time so that no run's record depends
on its batch).  Results are memoised per run within a process, so the two
cards share the runs they both need.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np

from zascheck import experiments, inits
from zascheck.arith import Float64Backend
from zascheck.errors import InputError
from zascheck.result import CheckResult, Verdict, covers
from zascheck.targets import make_phi

__all__ = [
    "BATCH_RUNS",
    "FIG3_PAPER",
    "escape_level",
    "escape_runs",
    "escape_summary",
    "outperforms_part",
    "paper_rate_part",
    "run_init",
    "run_record",
    "setting_scope",
    "thin_curve",
    "trapped_part",
    "zas_part",
]

_F = Float64Backend()

#: most runs stacked in one batch (memory: the loss record is steps x runs)
BATCH_RUNS = 64

#: Fig. 3 of the ZAS paper (Sec. 5.2): 2 of 5 near-identity runs escape within
#: 10^4 iterations; the width d is not stated (25 in the experiments of [18]).
FIG3_PAPER = {"escaped": 2, "runs": 5, "d": 25, "max_steps": 10_000}

_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}


def thin_curve(losses: Any, n: int = 60, every: int | None = None) -> dict[str, list[float]]:
    """A loss curve thinned for plotting: ``n`` log-spaced iterations and, if
    ``every`` is given, every ``every``-th one (both ends always kept).
    Returns ``{"t": [...], "R": [...]}``.

    >>> thin_curve([4.0, 2.0, 1.0], n=2)
    {'t': [0, 1, 2], 'R': [4.0, 2.0, 1.0]}
    """
    T = len(losses) - 1
    idx = {0, T} | {round(x) for x in np.geomspace(1, max(T, 1), n)}
    if every:
        idx |= set(range(0, T + 1, every))
    idx_s = sorted(i for i in idx if 0 <= i <= T)
    return {"t": idx_s, "R": [float(losses[i]) for i in idx_s]}


def escape_level(phi: np.ndarray) -> float:
    """``sigma_min(Phi)^2 / 4``: halfway between the minimum value 0 of the
    whitened loss and its smallest saddle value ``sigma_min^2 / 2``.

    >>> escape_level(-np.eye(3))
    0.25
    """
    s = np.linalg.svd(np.asarray(phi, dtype=float), compute_uv=False)
    return float(s.min()) ** 2 / 4


def run_init(init: str, L: int, d: int, seed: int, index: int) -> list[np.ndarray]:
    """The init of run ``index`` (``d x d`` layers, ``L`` of them): near-identity
    (5.1) from ``default_rng([seed, 5, d, index])``, else
    :func:`zascheck.inits.make` with seed ``seed * 1000 + index``."""
    if init == "near-identity":
        return inits.near_identity(L, d, np.random.default_rng([seed, 5, d, index]))
    return inits.make(init, L, d, seed=seed * 1000 + index)


def escape_runs(
    init: str,
    L: int,
    d: int,
    eta: float,
    max_steps: int,
    rel_tol: float,
    seed: int,
    indices: list[int],
    every: int = 50,
    phi: str = "-I",
) -> list[dict[str, Any]]:
    """GD runs ``indices`` from ``init`` on ``Phi = phi`` (``d x d``), each
    until ``R <= rel_tol R(0)`` or ``max_steps`` iterations (float64).

    Returns one dict per run: ``escaped`` / ``escape_iteration`` (first ``t``
    with ``R(t) <`` :func:`escape_level`), ``iterations`` (to ``rel_tol``, or
    ``None``), ``stop``, ``final_loss`` and ``final_relative_loss`` (at the
    run's own stopping point), ``last_window_decrease`` (relative decrease
    of ``R`` over the last tenth of the run), ``curve`` (:func:`thin_curve`)
    and the setting.  Raises :class:`InputError` for ``max_steps < 1``.
    """
    if max_steps < 1:
        raise InputError(f"max_steps must be >= 1, got {max_steps}")
    setting = (init, L, d, float(eta), max_steps, float(rel_tol), seed, every, phi)
    keys = {i: (*setting, i) for i in indices}
    todo = [i for i in indices if keys[i] not in _CACHE]
    phi_m = make_phi(phi, d)
    level = escape_level(phi_m)
    chunks = [todo[k : k + BATCH_RUNS] for k in range(0, len(todo), BATCH_RUNS)]
    while chunks:
        chunk = chunks.pop(0)
        br = experiments.batch_first_hits(
            _F,
            [run_init(init, L, d, seed, i) for i in chunk],
            phi_m,
            eta,
            rel_tol=rel_tol,
            max_steps=max_steps,
            record=True,
        )
        if br.stop == "diverged" and len(chunk) > 1:
            chunks = [[i] for i in chunk] + chunks  # no run's record depends on its batch
            continue
        for j, i in enumerate(chunk):
            hit = br.hits[j]
            losses = br.extra["losses"][: (hit if hit is not None else br.steps) + 1, j]
            _CACHE[keys[i]] = run_record(losses, hit, br.stop, level, every) | {
                "init": init,
                "index": i,
                "L": L,
                "d": d,
                "eta": eta,
                "max_steps": max_steps,
                "escape_level": level,
            }
    return [copy.deepcopy(_CACHE[keys[i]]) for i in indices]


def run_record(
    losses: np.ndarray, hit: int | None, batch_stop: str, level: float, every: int = 50
) -> dict[str, Any]:
    """What one run's loss history ``R(0..T)`` (``T + 1`` values, up to the
    run's own stop) says about escape: ``escaped`` / ``escape_iteration``
    (first ``t`` with ``R(t) < level``), ``iterations`` (= ``hit``, the
    first ``t`` with ``R(t) <= rel_tol R(0)``, or ``None``), ``stop``,
    ``final_loss``, ``final_relative_loss``, ``last_window_decrease`` and the
    thinned ``curve``.

    >>> r = run_record(np.array([50.0, 5.0, 0.5, 0.3, 1e-4]), None, "budget", 0.25)
    >>> r["escaped"], r["escape_iteration"], r["stop"]
    (True, 4, 'budget')
    """
    below = np.flatnonzero(losses < level)
    T = len(losses) - 1
    w = max(1, T // 10)
    r0, rT = float(losses[0]), float(losses[-1])
    return {
        "escaped": below.size > 0,
        "escape_iteration": int(below[0]) if below.size else None,
        "iterations": hit,
        "stop": "converged" if hit is not None else batch_stop,
        "final_loss": rT,
        "final_relative_loss": rT / r0 if r0 > 0 else 0.0,
        "last_window_decrease": (float(losses[T - w]) - rT) / float(losses[T - w])
        if T > 0 and losses[T - w] > 0
        else 0.0,
        "curve": thin_curve(losses, 60, every),
    }


def escape_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and intervals of a set of runs (:func:`escape_runs` records):
    ``escaped``, ``runs``, ``escape_fraction`` and its 95% Wilson interval
    ``wilson95``, ``trapped`` and ``trapped_wilson95``, quartiles of the
    escape iterations and of the iterations to ``rel_tol``, the trapped runs'
    final losses and largest last-tenth relative decrease."""
    n = len(runs)
    if n == 0:
        raise InputError("escape_summary needs at least one run")
    esc = sum(1 for r in runs if r["escaped"])
    trapped = [r for r in runs if not r["escaped"]]
    e_its = sorted(r["escape_iteration"] for r in runs if r["escaped"])
    c_its = sorted(r["iterations"] for r in runs if r["iterations"] is not None)
    return {
        "runs": n,
        "escaped": esc,
        "escape_fraction": esc / n,
        "wilson95": list(experiments.wilson_interval(esc, n)),
        "trapped": n - esc,
        "trapped_wilson95": list(experiments.wilson_interval(n - esc, n)),
        "escape_iteration_quartiles": np.percentile(e_its, [25, 50, 75]).tolist()
        if e_its
        else None,
        "iterations_escaped_quartiles": np.percentile(c_its, [25, 50, 75]).tolist()
        if c_its
        else None,
        "trapped_final_loss": [r["final_loss"] for r in trapped],
        "trapped_max_last_window_decrease": max(
            (r["last_window_decrease"] for r in trapped), default=None
        ),
    }


def _part(name: str, verdict: Verdict, scope: dict[str, Any], **kw: Any) -> CheckResult:
    return CheckResult(
        verdict=verdict,
        part=name,
        scope=dict(scope),
        arithmetic="float64",
        precision_bits=53,
        **kw,
    )


def zas_part(zas_runs: list[dict[str, Any]], scope: dict[str, Any]) -> CheckResult:
    """ "ZAS is never trapped": the run(s) in the ZAS role escape within the
    budget (deterministic inits: one run per width stands for every seed).
    measured = the latest escape iteration (``inf`` if one is trapped)."""
    worst = max(
        (r["escape_iteration"] if r["escaped"] else math.inf for r in zas_runs), default=math.inf
    )
    ok = all(r["escaped"] for r in zas_runs) and bool(zas_runs)
    res = _part(
        "zas-escapes",
        Verdict.HOLDS if ok else Verdict.VIOLATED,
        scope,
        measured=float(worst),
        bound=float(max(r["max_steps"] for r in zas_runs)),
        relation="<=",
        measured_repr="iteration at which the ZAS-role run leaves the saddle region",
        notes="; ".join(
            f"{r['init']} (d = {r['d']}): "
            + (f"escaped at t = {r['escape_iteration']}" if r["escaped"] else "TRAPPED")
            for r in zas_runs
        ),
    )
    if not ok:
        bad = next(r for r in zas_runs if not r["escaped"])
        res.counterexample = {k: bad[k] for k in ("init", "d", "stop", "final_loss", "max_steps")}
    return res


def trapped_part(runs: list[dict[str, Any]], scope: dict[str, Any]) -> CheckResult:
    """ "Near-identity GD is trapped by a saddle" (with positive probability):
    ``holds`` when some run is trapped (the trapped fraction's 95% Wilson
    interval then excludes 0); no trapped run is ``inconclusive``, not a
    violation (a small trapping probability is not refuted by finitely many
    escapes; the rate comparison speaks to that)."""
    s = escape_summary(runs)
    lo, hi = s["trapped_wilson95"]
    v = Verdict.HOLDS if s["trapped"] > 0 else Verdict.INCONCLUSIVE
    return _part(
        "trapped",
        v,
        scope,
        measured=float(s["trapped"]),
        bound=1.0,
        relation=">=",
        measured_repr="near-identity runs still in the saddle region (R >= sigma_min^2/4) at the end",
        notes=f"{s['trapped']}/{s['runs']} trapped (95% Wilson [{lo:.2f}, {hi:.2f}])"
        + (
            f", final losses {', '.join(f'{x:.4g}' for x in s['trapped_final_loss'])}"
            if s["trapped"]
            else ""
        ),
    )


def paper_rate_part(
    escaped: int,
    n: int,
    in_setting: bool,
    scope: dict[str, Any],
    *,
    paper: tuple[int, int] = (FIG3_PAPER["escaped"], FIG3_PAPER["runs"]),
    level: float = 0.05,
) -> CheckResult:
    """ "Only 2 of 5 escape": Fisher's exact test of ``escaped / n`` against
    the paper's 2/5 (two-sided, :func:`zascheck.experiments.fisher_exact_p`).
    ``holds`` when the test does not reject one common escape probability at
    ``level`` (with the paper's 5 runs it has little power: say so), and
    ``violated`` when it does, but only ``in_setting`` (``d`` and the budget
    of the paper's reading); outside it a rejection is a finding about that
    setting and the part is ``inconclusive``."""
    pe, pn = paper
    p = experiments.fisher_exact_p(escaped, n, pe, pn)
    lo, hi = experiments.wilson_interval(escaped, n)
    v = Verdict.HOLDS if p >= level else Verdict.VIOLATED if in_setting else Verdict.INCONCLUSIVE
    res = _part(
        "2-of-5",
        v,
        scope,
        measured=p,
        bound=level,
        relation=">=",
        measured_repr=f"Fisher exact p-value, {escaped}/{n} escaped vs the paper's {pe}/{pn}",
        notes=(
            f"escaped {escaped}/{n} = {escaped / n:.2f} (95% Wilson [{lo:.2f}, {hi:.2f}]) vs the "
            f"paper's {pe}/{pn}: Fisher exact p = {p:.3g}"
            + (
                " (outside the paper's setting, d = 25 and 10^4 iterations: a finding, not a "
                "violation)"
                if p < level and not in_setting
                else ""
            )
        ),
    )
    if v is Verdict.VIOLATED:
        res.counterexample = {"escaped": escaped, "runs": n, "paper": [pe, pn], "fisher_p": p}
    return res


def outperforms_part(
    zas_run: dict[str, Any],
    runs: list[dict[str, Any]],
    scope: dict[str, Any],
    *,
    level: float = 0.05,
) -> CheckResult:
    """Review 3's question, "a reproducible effect or an exception": in how
    many seeds does ZAS leave the saddle region before the near-identity run
    (which escapes later or not at all)?  Exact binomial test of that count
    against 1/2: ``holds`` when ZAS is ahead in more than half the seeds at
    one-sided ``level``, ``violated`` when it is ahead in fewer than half at
    that level, else ``inconclusive``."""
    t_zas = zas_run["escape_iteration"] if zas_run["escaped"] else math.inf
    ahead = sum(1 for r in runs if (r["escape_iteration"] if r["escaped"] else math.inf) > t_zas)
    n = len(runs)
    p_more = experiments.binomial_p(ahead, n, 0.5, "greater")
    p_less = experiments.binomial_p(ahead, n, 0.5, "less")
    v = (
        Verdict.HOLDS
        if p_more < level
        else Verdict.VIOLATED
        if p_less < level
        else Verdict.INCONCLUSIVE
    )
    lo, hi = experiments.wilson_interval(ahead, n)
    res = _part(
        "outperforms",
        v,
        scope,
        measured=p_more,
        bound=level,
        relation="<=",
        measured_repr="binomial p-value of 'ZAS escapes first in more than half the seeds'",
        notes=(
            f"d = {zas_run['d']}: ZAS escapes first in {ahead}/{n} seeds (95% Wilson "
            f"[{lo:.2f}, {hi:.2f}]; binomial p = {p_more:.3g} for > 1/2, {p_less:.3g} for < 1/2)"
        ),
        evidence={"ahead": ahead, "runs": n, "p_greater": p_more, "p_less": p_less},
    )
    if v is Verdict.VIOLATED:
        res.counterexample = {"d": zas_run["d"], "zas_first": ahead, "runs": n, "p_less": p_less}
    return res


def setting_scope(d: int, n: int, max_steps: int, eta: float, why_d: str = "") -> dict[str, Any]:
    """The scope of an escape result: width, draws, iterations."""
    return {
        "d": covers(f"d = {d}" + (f" ({why_d})" if why_d else "")),
        "draws": covers(f"{n} near-identity draws (5.1)"),
        "t": covers(f"t <= {max_steps} GD iterations, eta = {eta:g}"),
    }
