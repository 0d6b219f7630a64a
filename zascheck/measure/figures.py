"""Shared measurements (moved from ``checks/figures.py``).

The paper's figures as checks: ``zas.fig1``, ``zas.fig2``, ``zas.fig3``.

Each figure is a claim about GD runs; this module holds the runs (small pure
functions of their parameters, so :mod:`zascheck.report` can farm them out
to worker processes and cache them) and the decision rules that turn their
numbers into a :class:`~zascheck.result.CheckResult`.  The registered checks
run small versions; the report runs the full sweeps and feeds them to the
same decision functions (:func:`fig2_result`, :func:`fig3_result`).

Definitions shared with other modules:

* "escape" in Fig. 3 is ``review.multirun``'s: GD reaches
  ``R(t) <= rel_tol R(0)`` within ``max_steps`` (via
  :func:`zascheck.experiments.iterations_to_eps` semantics: the stop rule of
  :func:`zascheck.dynamics.gd`), and the near-identity seeds follow that
  check's convention ``default_rng([seed, 5, d, i])``, so the two agree run
  for run;
* confidence intervals are :func:`zascheck.experiments.wilson_interval`;
  line fits :func:`zascheck.experiments.linear_fit`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import dynamics, experiments, inits, model
from zascheck.arith import Float64Backend
from zascheck.errors import InputError
from zascheck.result import combine_verdicts
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, decide
from zascheck.targets import make_phi

__all__ = [
    "FIG1_INITS",
    "fig1_runs",
    "fig2_point",
    "fig2_result",
    "fig3_result",
    "fig3_run",
    "gamma_band",
    "thin_curve",
    "tune_lr",
]


_F = Float64Backend()


#: Figure 1's two starting points (w1, w2): ZAS and near-identity.
FIG1_INITS = {"zas": (1.0, 0.0), "near-identity": (0.999, 1.001)}


#: "gamma ~ 1/2" / "gamma ~ 1" read as: the exponent rounds to that multiple of 1/2.
GAMMA_BAND = 0.25


#: t-quantiles (two-sided 95%) for small degrees of freedom; z beyond.
_T975 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    11: 2.201,
    12: 2.179,
    13: 2.160,
    14: 2.145,
    15: 2.131,
    16: 2.120,
    17: 2.110,
    18: 2.101,
    19: 2.093,
    20: 2.086,
    25: 2.060,
    30: 2.042,
}


def t975(dof: int) -> float:
    """Two-sided 95% Student-t quantile (table; 1.96 for large ``dof``)."""
    if dof < 1:
        return math.inf
    if dof in _T975:
        return _T975[dof]
    below = max(k for k in _T975 if k <= dof)
    return _T975[below] if dof <= 30 else experiments.Z95


def thin_curve(
    losses: list[float], n: int = 60, every: int | None = None
) -> dict[str, list[float]]:
    """A loss curve thinned for plotting: ``n`` log-spaced and, if ``every``
    is given, every ``every``-th iteration (plus both ends)."""
    T = len(losses) - 1
    idx = {0, T} | {round(x) for x in np.geomspace(1, max(T, 1), n)}
    if every:
        idx |= set(range(0, T + 1, every))
    idx_s = sorted(i for i in idx if 0 <= i <= T)
    return {"t": idx_s, "R": [float(losses[i]) for i in idx_s]}


def fig1_runs(
    lr: float, steps: int, starts: dict[str, tuple[float, float]] | None = None
) -> dict[str, Any]:
    """GD on ``R(w1, w2) = (w1 w2 + 1)^2 / 2`` (``L = 2``, ``d = 1``,
    ``Phi = -1``) from each start for ``steps`` iterations: the trajectory
    ``w1(t), w2(t)`` and the loss ``R(t)``."""
    starts = starts or dict(FIG1_INITS)
    b = _F
    target = Target.whitened(b, -np.eye(1))
    out: dict[str, Any] = {}
    for name, (w1, w2) in starts.items():
        run = dynamics.gd(
            b,
            [np.array([[w1]]), np.array([[w2]])],
            target,
            lr,
            max_steps=steps,
            record=("weights",),
        )
        traj = [(float(ws[0][0, 0]), float(ws[1][0, 0])) for ws in run.records["weights"]]
        out[name] = {
            "w1": [p[0] for p in traj],
            "w2": [p[1] for p in traj],
            "R": [b.to_float(r) for r in run.losses],
            "start": [w1, w2],
            "stop": run.stop,
        }
    return out


def _first_below(values: list[float], thr: float) -> int | None:
    for t, v in enumerate(values):
        if v <= thr:
            return t
    return None


def _thin_traj(r: dict[str, Any], n: int = 400) -> dict[str, list[float]]:
    T = len(r["R"])
    step = max(1, T // n)
    idx = list(range(0, T, step))
    return {
        "t": idx,
        "w1": [r["w1"][i] for i in idx],
        "w2": [r["w2"][i] for i in idx],
        "R": [r["R"][i] for i in idx],
    }


def tune_lr(
    b: Any,
    ws0: list[np.ndarray],
    target: Target,
    eps: float,
    eta0: float,
    *,
    fine: int = 8,
    cap0: int = 200_000,
) -> dict[str, Any]:
    """The learning rate with the fewest GD iterations to ``R <= eps``
    (absolute), searched on the grid ``eta0 * 2**(k / fine)``.

    Search (deterministic): from ``eta0`` walk up by octaves while the count
    improves (down by octaves while ``eta0`` fails), then scan the grid points
    from two below the best octave point to the next octave.  Every run is
    stopped as soon as it cannot beat the best count so far (it is censored,
    never the winner), which keeps a sweep's cost near ``(evaluations x best
    count)`` steps.  Ties go to the smaller step.  Returns ``eta``,
    ``iterations``, ``evals`` and the ``table`` of ``(eta, count or None)``.
    """
    r0 = _F.to_float(model.loss(b, [b.matrix(w) for w in ws0], target))
    rel = eps / r0
    if not 0 < rel < 1:
        return {
            "eta": None,
            "iterations": 0 if r0 <= eps else None,
            "evals": 0,
            "table": [],
            "r0": r0,
        }
    table: dict[int, int | None] = {}

    def count(k: int, cap: int) -> int | None:
        n = experiments.iterations_to_eps(
            b, ws0, target, eta0 * 2.0 ** (k / fine), rel_tol=rel, max_steps=cap
        )
        if k not in table or (n is not None and ((prev := table[k]) is None or n < prev)):
            table[k] = n
        return n

    best: tuple[int, int] | None = None  # (iterations, k)
    k = 0
    n = count(0, cap0)
    while n is None and k > -30 * fine:
        k -= fine
        n = count(k, cap0)
    if n is None:
        return {"eta": None, "iterations": None, "evals": len(table), "table": [], "r0": r0}
    best = (n, k)
    while True:
        n2 = count(best[1] + fine, best[0])
        if n2 is None or n2 >= best[0]:
            break
        best = (n2, best[1] + fine)
    kb = best[1]
    for j in range(kb - 2, kb + fine):
        if j in table:
            continue
        n = count(j, best[0])
        if n is not None and (n < best[0] or (n == best[0] and j < best[1])):
            best = (n, j)
    tab = sorted((eta0 * 2.0 ** (j / fine), v) for j, v in table.items())
    return {
        "eta": eta0 * 2.0 ** (best[1] / fine),
        "iterations": best[0],
        "evals": len(table),
        "table": tab,
        "r0": r0,
    }


def fig2_phi(phi: str, d: int, phi_seed: int) -> np.ndarray:
    """The target of a Figure 2 series (Gaussian ones drawn from ``phi_seed``)."""
    return make_phi(phi, d, np.random.default_rng([phi_seed, 2, d]))


def fig2_point(
    phi: str,
    d: int,
    L: int,
    phi_seed: int = 0,
    eps: float = 1e-10,
    fine: int = 8,
    reduce_scalar: bool = False,
    cap0: int = 50_000,
) -> dict[str, Any]:
    """Iterations of GD from ZAS to ``R <= eps`` at depth ``L`` with the
    learning rate tuned (:func:`tune_lr`), for ``Phi`` = ``phi`` (``d x d``).

    ``reduce_scalar`` (only for ``phi = "-I"``): run ``d = 1`` to
    ``R <= eps / d`` instead.  From ZAS with ``Phi = -I`` every iterate is a
    multiple of ``I`` (the gradients are), so the ``d``-dimensional run is the
    scalar run in every entry of the diagonal and its loss is ``d`` times the
    scalar loss; :func:`fig2_equivalence` verifies this numerically.
    """
    if reduce_scalar and phi != "-I":
        raise InputError("the scalar reduction holds for Phi = -I only")
    d_run = 1 if reduce_scalar else d
    eps_run = eps / d if reduce_scalar else eps
    phi_m = fig2_phi(phi, d_run, phi_seed)
    b = _F
    target = Target.whitened(b, phi_m)
    eta0 = 0.25 / (L * max(1.0, float(np.linalg.norm(phi_m, 2))))
    out = tune_lr(b, inits.zas(L, d_run), target, eps_run, eta0, fine=fine, cap0=cap0)
    out.update(
        {
            "phi": phi,
            "d": d,
            "L": L,
            "phi_seed": phi_seed,
            "eps": eps,
            "reduced": reduce_scalar,
            "phi_fro": float(np.linalg.norm(phi_m)),
        }
    )
    return out


def fig2_equivalence(
    d: int, depths: list[int], steps: int = 30, eta: float = 0.05
) -> dict[str, Any]:
    """For ``Phi = -I``: GD from ZAS at width ``d`` against width 1, same
    ``eta``.  Returns the largest ``|W_l(t) - w_l(t) I|`` over layers, entries
    and steps (0 when the reduction is exact) and the largest
    ``|R_d(t) - d R_1(t)| / (d R_1(t))``."""
    b = _F
    worst_w, worst_r = 0.0, 0.0
    for L in depths:
        e = eta / L
        ws_d, ws_1 = [b.matrix(w) for w in inits.zas(L, d)], [b.matrix(w) for w in inits.zas(L, 1)]
        td, t1 = Target.whitened(b, -np.eye(d)), Target.whitened(b, -np.eye(1))
        for _ in range(steps):
            ws_d, rd, _g = dynamics.gd_step(b, ws_d, td, e)
            ws_1, r1, _g = dynamics.gd_step(b, ws_1, t1, e)
            for wd, w1 in zip(ws_d, ws_1, strict=True):
                worst_w = max(worst_w, float(np.max(np.abs(wd - w1[0, 0] * np.eye(d)))))
            if r1 > 0:
                worst_r = max(worst_r, abs(rd - d * r1) / (d * r1))
    return {
        "d": d,
        "depths": depths,
        "steps": steps,
        "max_weight_deviation": worst_w,
        "max_relative_loss_deviation": worst_r,
    }


def gamma_band(fit: experiments.LinearFit) -> tuple[float, float, float]:
    """(gamma, lower, upper): the fitted exponent and its 95% t-interval."""
    h = t975(fit.n - 2) * fit.slope_se if fit.n > 2 else math.inf
    return fit.slope, fit.slope - h, fit.slope + h


def fig2_result(series: dict[str, dict[str, Any]]) -> CheckResult:
    """Decide Figure 2's claim from measured series.

    ``series[name] = {"claimed": gamma_claim, "depths": [...], "iterations":
    [...]}``.  Per series the exponent is the least-squares slope of
    ``log N`` on ``log L`` with its 95% t-interval.  "gamma ~ g" is read as
    ``|gamma - g| <= 1/4`` (the exponent rounds to ``g`` among multiples of
    1/2): ``holds`` when the whole interval lies in that band, ``violated``
    when the whole interval lies outside it, else ``inconclusive``.
    measured = the largest ``|gamma - g|`` over series (bound 1/4).
    """
    verdicts, per, worst = [], {}, None
    for name, s in series.items():
        pts = [
            (L, n)
            for L, n in zip(s["depths"], s["iterations"], strict=True)
            if n is not None and n > 0
        ]
        censored = [L for L, n in zip(s["depths"], s["iterations"], strict=True) if n is None]
        if len(pts) < 3:
            verdicts.append(Verdict.INCONCLUSIVE)
            per[name] = {
                "claimed": s["claimed"],
                "note": "fewer than 3 converged depths",
                "censored_depths": censored,
            }
            continue
        fit = experiments.linear_fit([math.log(p[0]) for p in pts], [math.log(p[1]) for p in pts])
        g, lo, hi = gamma_band(fit)
        c = float(s["claimed"])
        dev = abs(g - c)
        far = max(abs(lo - c), abs(hi - c))
        if far <= GAMMA_BAND:
            v = Verdict.HOLDS
        elif (lo > c + GAMMA_BAND) or (hi < c - GAMMA_BAND):
            v = Verdict.VIOLATED
        else:
            v = Verdict.INCONCLUSIVE
        if censored:
            v = combine_verdicts([v, Verdict.INCONCLUSIVE])
        verdicts.append(v)
        per[name] = {
            "claimed": c,
            "gamma": g,
            "ci95": [lo, hi],
            "slope_se": fit.slope_se,
            "intercept": fit.intercept,
            "n": fit.n,
            "verdict": v.value,
            "depths": [p[0] for p in pts],
            "iterations": [p[1] for p in pts],
            "censored_depths": censored,
        }
        if worst is None or dev > worst[0]:
            worst = (dev, name, g, lo, hi)
    verdict = combine_verdicts(verdicts)
    measured = worst[0] if worst else None
    res = CheckResult(
        verdict=verdict,
        measured=measured,
        bound=GAMMA_BAND,
        margin=None if measured is None else GAMMA_BAND - measured,
        relation="<=",
        arithmetic="float64",
        precision_bits=53,
        measured_repr="max over series |gamma_fit - gamma_claimed|",
        evidence={"series": per},
        notes="; ".join(
            f"{k}: gamma = {p['gamma']:.3f} [95% {p['ci95'][0]:.3f}, {p['ci95'][1]:.3f}] vs {p['claimed']:g}"
            if "gamma" in p
            else f"{k}: {p['note']}"
            for k, p in per.items()
        ),
    )
    if worst is not None:
        res.tightest = {"series": worst[1], "gamma": worst[2], "ci95": [worst[3], worst[4]]}
    if verdict is Verdict.VIOLATED and worst is not None:
        res.counterexample = {
            "series": worst[1],
            "gamma": worst[2],
            "ci95": [worst[3], worst[4]],
            "claimed": series[worst[1]]["claimed"],
        }
    return res


#: the four series of Figure 2: name -> (phi, d, claimed gamma)
FIG2_SERIES = {
    "-I, d=1": ("-I", 1, 0.5),
    "-I, d=100": ("-I", 100, 0.5),
    "Gaussian, d=2": ("gaussian", 2, 1.0),
    "Gaussian, d=100": ("gaussian", 100, 1.0),
}


def fig3_init(init: str, L: int, d: int, seed: int, index: int) -> list[np.ndarray]:
    """The init of run ``index``: near-identity seeds as in ``review.multirun``."""
    if init == "near-identity":
        return inits.near_identity(L, d, np.random.default_rng([seed, 5, d, index]))
    return inits.make(init, L, d, seed=seed * 1000 + index)


def fig3_run(
    init: str,
    L: int,
    d: int,
    eta: float,
    max_steps: int,
    rel_tol: float,
    seed: int,
    index: int,
    every: int = 50,
) -> dict[str, Any]:
    """One Figure 3 run: GD on ``Phi = -I`` until ``R <= rel_tol R(0)`` (the
    run *escaped*, ``review.multirun``'s definition) or ``max_steps``."""
    b = _F
    target = Target.whitened(b, make_phi("-I", d))
    run = dynamics.gd(
        b, fig3_init(init, L, d, seed, index), target, eta, max_steps=max_steps, rel_tol=rel_tol
    )
    losses = [b.to_float(r) for r in run.losses]
    return {
        "init": init,
        "index": index,
        "escaped": run.stop == "converged",
        "iterations": run.steps if run.stop == "converged" else None,
        "stop": run.stop,
        "final_relative_loss": losses[-1] / losses[0] if losses[0] > 0 else 0.0,
        "curve": thin_curve(losses, 60, every),
    }


def fig3_result(
    zas_run: dict[str, Any],
    runs: list[dict[str, Any]],
    *,
    paper_escaped: int = 2,
    paper_runs: int = 5,
) -> CheckResult:
    """Decide Figure 3's claim: (i) the run in the ZAS role escapes; (ii) the
    near-identity runs are trapped with positive probability (at least one
    trapped).  measured = number of trapped near-identity runs, bound 1,
    ``>=``.  The escape fraction gets a 95% Wilson interval; whether the
    paper's 2/5 lies inside it is reported, not decided on."""
    n = len(runs)
    esc = sum(1 for r in runs if r["escaped"])
    trapped = n - esc
    lo, hi = experiments.wilson_interval(esc, n) if n else (0.0, 1.0)
    v_zas = Verdict.HOLDS if zas_run["escaped"] else Verdict.VIOLATED
    v_trap = decide(_F, float(trapped), 1.0, relation=">=")
    verdict = combine_verdicts([v_zas, v_trap])
    p_paper = paper_escaped / paper_runs
    its = sorted(r["iterations"] for r in runs if r["iterations"] is not None)
    res = CheckResult(
        verdict=verdict,
        measured=float(trapped),
        bound=1.0,
        margin=trapped - 1.0,
        relation=">=",
        arithmetic="float64",
        precision_bits=53,
        measured_repr="trapped near-identity runs (ZAS-role run must escape)",
        evidence={
            "zas": {k: zas_run[k] for k in ("init", "escaped", "iterations", "stop")},
            "runs": n,
            "escaped": esc,
            "escape_fraction": esc / n if n else None,
            "wilson95": [lo, hi],
            "paper_fraction": p_paper,
            "paper_inside_ci": lo <= p_paper <= hi,
            "iterations_escaped_quartiles": np.percentile(its, [25, 50, 75]).tolist()
            if its
            else None,
        },
        notes=(
            f"{zas_run['init']}: {'escaped at t = ' + str(zas_run['iterations']) if zas_run['escaped'] else 'TRAPPED'}; "
            f"near-identity escaped {esc}/{n} = {esc / max(n, 1):.2f} (95% Wilson [{lo:.2f}, {hi:.2f}]); "
            f"the paper's {paper_escaped}/{paper_runs} is {'inside' if lo <= p_paper <= hi else 'outside'} it."
        ),
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = (
            {"zas_role": zas_run["init"], "stop": zas_run["stop"]}
            if not zas_run["escaped"]
            else {"all_runs_escaped": True, "runs": n}
        )
    return res
