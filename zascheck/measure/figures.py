"""Shared measurements of the paper's figures: ``zas.fig1``, ``zas.fig2``,
``zas.fig3``.

Each figure is a claim about GD runs; this module holds the runs (small pure
functions of their parameters, so :mod:`zascheck.report` can farm them out
to worker processes and cache them) and the decision rules that turn their
numbers into a :class:`~zascheck.result.CheckResult`.  The registered checks
run small versions; the report runs the full sweeps and feeds them to the
same decision functions (:func:`fig2_result`, :func:`fig3_result`).

Definitions shared with other modules:

* escape, trapped and the seeds of the near-identity runs of Fig. 3 are
  :mod:`zascheck.measure.escape`'s (``review.multirun`` uses the same), so the
  two cards agree run for run;
* every statistic is :mod:`zascheck.experiments`'s (scipy.stats underneath):
  Wilson intervals, Fisher's exact test, Student-t slope intervals.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from scipy import stats

from zascheck import dynamics, experiments, inits, model
from zascheck.arith import Float64Backend
from zascheck.errors import InputError
from zascheck.measure.spectral import (
    aligned_svd,
    iterations_bracket_grid,
    iterations_to_eps_grid,
    mode_init,
)
from zascheck.measure.escape import (
    FIG3_PAPER,
    escape_runs,
    escape_summary,
    paper_rate_part,
    run_init,
    setting_scope,
    thin_curve,
    trapped_part,
    zas_part,
)
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers, join_covered
from zascheck.targets import make_phi

__all__ = [
    "CLAIM_DEPTHS",
    "ETA_MAX",
    "FIG1_INITS",
    "FIG1_PAPER_ITERATIONS",
    "FIG2_DECIDING",
    "FIG2_FINE",
    "FIG2_LOG2_ETA",
    "FIG2_PROTOCOLS",
    "FIG2_SERIES",
    "FIG2_VALLEY",
    "NAMED_EXPONENTS",
    "exponent_cell",
    "fig1_eta_for",
    "fig1_lingering",
    "fig1_runs",
    "fig2_card_grid",
    "fig2_equivalence",
    "fig2_eta_floor",
    "fig2_fixed_point",
    "fig2_full_check",
    "fig2_full_summary",
    "fig2_grid",
    "fig2_modes",
    "fig2_phi",
    "fig2_plane",
    "fig2_point",
    "fig2_protocol_results",
    "fig2_protocols",
    "fig2_result",
    "fig2_series",
    "fig3_init",
    "fig3_result",
    "fig3_run",
    "full_step_seconds",
    "gamma_band",
    "init_stability_limit",
    "thin_curve",
    "tune_lr",
]


_F = Float64Backend()


#: Figure 1's two starting points (w1, w2): ZAS and near-identity.
FIG1_INITS = {"zas": (1.0, 0.0), "near-identity": (0.999, 1.001)}

#: the iterations ZAS needs to R <= 1e-7 in Figure 1 (read off its x axis)
FIG1_PAPER_ITERATIONS = 140


def fig1_runs(
    lr: float, steps: int, starts: dict[str, tuple[float, float]] | None = None
) -> dict[str, Any]:
    """GD on ``R(w1, w2) = (w1 w2 + 1)^2 / 2`` (``L = 2``, ``d = 1``,
    ``Phi = -1``; ZAS paper Sec. 3, eq. 3.2) from each start for ``steps``
    iterations at step ``lr``: per start the trajectory ``w1(t), w2(t)``,
    the loss ``R(t)`` (``steps + 1`` values each), ``start`` and ``stop``."""
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
    """First index with ``values[t] <= thr`` (``None`` if none)."""
    return next((t for t, v in enumerate(values) if v <= thr), None)


def fig1_lingering(
    eta: float,
    eps: float,
    flow_time: float,
    zas_start: tuple[float, float],
    near_start: tuple[float, float],
) -> dict[str, Any]:
    """Figure 1's comparison at one step ``eta``, for GD run for
    ``ceil(flow_time / eta)`` iterations from the start in the ZAS role and
    the start in the near-identity role.

    Returns ``n_zas`` / ``n_near`` (iterations to ``R <= eps``, ``None`` if
    not reached), ``dmin_zas`` / ``dmin_near`` (closest Euclidean distance of
    each trajectory to the saddle ``(0, 0)``), ``near_lingering`` (iterations
    the near-role run spends strictly closer to the saddle than the ZAS-role
    run ever comes, counted up to its own ``n_near``) and ``ratio`` =
    ``near_lingering / n_zas`` (0 when the ZAS role never reaches ``eps``).
    """
    steps = math.ceil(flow_time / eta)
    runs = fig1_runs(eta, steps, {"a": zas_start, "b": near_start})
    dist = {
        k: [math.hypot(x, y) for x, y in zip(r["w1"], r["w2"], strict=True)]
        for k, r in runs.items()
    }
    n_a = _first_below(runs["a"]["R"], eps)
    n_b = _first_below(runs["b"]["R"], eps)
    dmin_a = min(dist["a"])
    upto = dist["b"][: (n_b if n_b is not None else steps) + 1]
    linger = sum(1 for x in upto if x < dmin_a)
    return {
        "eta": eta,
        "steps": steps,
        "n_zas": n_a,
        "n_near": n_b,
        "dmin_zas": dmin_a,
        "dmin_near": min(dist["b"]),
        "near_lingering": linger,
        "ratio": linger / n_a if n_a else 0.0,
    }


def fig1_eta_for(iterations: int, eps: float) -> dict[str, float]:
    """The steps at which GD from ZAS ``(1, 0)`` needs ``iterations`` to reach
    ``R <= eps``: ``[eta_lo, eta_hi]`` with at least ``iterations`` at
    ``eta_lo`` and fewer at ``eta_hi`` (bisection in ``log eta`` to 0.1%,
    :func:`zascheck.experiments.max_stable_eta`)."""
    target = Target.whitened(_F, -np.eye(1))
    ws0 = [np.array([[FIG1_INITS["zas"][0]]]), np.array([[FIG1_INITS["zas"][1]]])]

    def slow(e: float) -> bool:
        n = experiments.iterations_to_eps(
            _F, ws0, target, e, rel_tol=eps / 0.5, max_steps=iterations
        )
        return n is None or n >= iterations

    s = experiments.max_stable_eta(slow, 1e-3, rel_width=1e-3)
    return {"eta_lo": s.eta, "eta_hi": s.eta_fail}


def tune_lr(
    b: Any,
    ws0: list[np.ndarray],
    target: Target,
    eps: float,
    eta0: float,
    *,
    fine: int = 8,
    cap0: int = 200_000,
    eta_max: float = math.inf,
) -> dict[str, Any]:
    """The learning rate with the fewest GD iterations to ``R <= eps``
    (absolute), searched on the grid ``eta0 * 2**(k / fine)`` restricted to
    ``eta <= eta_max``.

    Search (deterministic): from the largest grid point ``<= min(eta0,
    eta_max)`` walk up by octaves while the count improves and the grid
    allows (down by octaves while the start fails), then scan the grid points
    from two below the best octave point to the next octave.  Every run is
    stopped as soon as it cannot beat the best count so far (it is censored,
    never the winner), which keeps a sweep's cost near ``(evaluations x best
    count)`` steps.  Ties go to the smaller step.  Returns ``eta``,
    ``iterations``, ``evals``, the ``table`` of ``(eta, count or None)``,
    ``eta_max`` and ``at_cap`` (the best step is the largest grid point
    allowed, so the optimum may lie beyond the cap).
    """
    r0 = _F.to_float(model.loss(b, [b.matrix(w) for w in ws0], target))
    rel = eps / r0
    out: dict[str, Any] = {"eta": None, "evals": 0, "table": [], "r0": r0, "eta_max": eta_max}
    if not 0 < rel < 1:
        return out | {"iterations": 0 if r0 <= eps else None, "at_cap": False}
    top = math.floor(fine * math.log2(eta_max / eta0)) if math.isfinite(eta_max) else 10**9
    table: dict[int, int | None] = {}

    def count(k: int, cap: int) -> int | None:
        n = experiments.iterations_to_eps(
            b, ws0, target, eta0 * 2.0 ** (k / fine), rel_tol=rel, max_steps=cap
        )
        if k not in table or (n is not None and ((prev := table[k]) is None or n < prev)):
            table[k] = n
        return n

    k = min(0, top)
    n = count(k, cap0)
    while n is None and k > -30 * fine:
        k -= fine
        n = count(k, cap0)
    if n is None:
        return out | {"iterations": None, "evals": len(table), "at_cap": False}
    best = (n, k)  # (iterations, k)
    while best[1] + fine <= top:
        n2 = count(best[1] + fine, best[0])
        if n2 is None or n2 >= best[0]:
            break
        best = (n2, best[1] + fine)
    kb = best[1]
    for j in range(kb - 2, min(kb + fine, top + 1)):
        if j in table:
            continue
        n = count(j, best[0])
        if n is not None and (n < best[0] or (n == best[0] and j < best[1])):
            best = (n, j)
    tab = sorted((eta0 * 2.0 ** (j / fine), v) for j, v in table.items())
    return out | {
        "eta": eta0 * 2.0 ** (best[1] / fine),
        "iterations": best[0],
        "evals": len(table),
        "table": tab,
        "at_cap": best[1] == top,
    }


#: Fig. 2's tuning protocol (c) excludes steps above 1/2: at eta = 1 GD from ZAS
#: solves every target in one step (d independent scalar modes, card
#: zas.spectral), so a tuner allowed near 1 measures that coincidence, not a
#: scaling law; for L >= 4 every step above 2/L is unstable at the minimum anyway.
ETA_MAX = 0.5

#: the (L, eta) plane's grid: eta = 2^(k / FIG2_FINE) for 2^lo <= eta <= 2^hi
FIG2_FINE = 8
FIG2_LOG2_ETA = (-26, 2)

#: protocol (a) excludes the open neighbourhood (1/2, 2) of the one-step eta = 1
#: (a factor 2 either side; the valley itself is ~1e-5 wide, sqrt(eps / R(0)))
FIG2_VALLEY = (0.5, 2.0)

#: the tuning protocols a reader of "the learning rate tuned per depth" could mean
#: (:func:`fig2_protocols`); the first decides the claim (card zas.fig2)
FIG2_PROTOCOLS = {
    "grid": "(a) fewest iterations on the grid 2^(k/{fine}) from 2^-{floor}/(L max(1, ||Phi||_2)^2) "
    "to 4, outside (1/2, 2) (the one-step eta = 1 excluded)",
    "init-stable": "(b) fewest iterations on the grid 2^(k/{fine}) at or below the stability "
    "limit 2/lambda_0 of the first iterations (lambda_0 = top Hessian eigenvalue of R at ZAS)",
    "card": "(c) the previous card's: fewest iterations on 0.25/(L max(1, ||Phi||_2)) "
    "2^(k/{fine}), k >= -4 {fine}, eta <= 1/2",
}
FIG2_DECIDING = "grid"


def fig2_phi(phi: str, d: int, phi_seed: int) -> np.ndarray:
    """The target of a Figure 2 series (``d x d``; Gaussian ones drawn from
    ``default_rng([phi_seed, 2, d])``, entries N(0, 1) as in Sec. 5.1)."""
    return make_phi(phi, d, np.random.default_rng([phi_seed, 2, d]))


def fig2_modes(phi: str, d: int, phi_seed: int) -> dict[str, Any]:
    """The spectral modes of a Figure 2 target (card zas.spectral): distinct
    singular values ``sigma`` (float64, from numpy's SVD of :func:`fig2_phi`),
    their multiplicities ``weights`` (``Phi = -I_d`` is one mode of weight
    ``d``; ties closer than 4 ulp merged), ``r0 = R(0) = ||Phi||_F^2 / 2``
    and ``sigma_max = ||Phi||_2``."""
    phi_m = fig2_phi(phi, d, phi_seed)
    _u, sig, _v = aligned_svd(phi_m)
    sig = np.sort(sig)[::-1]
    keep = np.ones(sig.size, bool)
    keep[1:] = np.abs(np.diff(sig)) > 4 * np.finfo(float).eps * np.maximum(sig[1:], 1e-300)
    groups = np.cumsum(keep) - 1
    w = np.bincount(groups).astype(float)
    return {"sigma": sig[keep], "weights": w, "r0": 0.5 * float(np.sum(phi_m * phi_m)),
            "sigma_max": float(sig[0]), "phi_fro": float(np.linalg.norm(phi_m))}  # fmt: skip


def init_stability_limit(L: int, sigma_max: float) -> float:
    """``2 / lambda_0``: the stability limit of GD's first iterations from ZAS,
    ``lambda_0`` the top eigenvalue of the Hessian of ``R`` at ZAS.

    There ``R = 1/2 ||Phi||^2 - <Phi, P> + 1/2 ||P||^2`` with
    ``P = d_L (I + d_{L-1}) ... (I + d_1)``, whose second-order part is
    ``1/2 (||d_L||^2 - 2 <Phi, d_L sum_{l<L} d_l>)``: the top eigenvalue of
    ``[[1, c], [c, 0]]``, ``c = sqrt(L - 1) ||Phi||_2``, i.e.
    ``lambda_0 = (1 + sqrt(1 + 4 (L - 1) sigma_max^2)) / 2`` (checked against
    a finite-difference Hessian in tests/test_fig2.py)."""
    lam0 = (1.0 + math.sqrt(1.0 + 4.0 * (L - 1) * sigma_max**2)) / 2.0
    return 2.0 / lam0


def fig2_grid(fine: int = FIG2_FINE, log2_range: tuple[int, int] = FIG2_LOG2_ETA) -> np.ndarray:
    """The plane's steps ``2^(k / fine)``, ``2^lo <= eta <= 2^hi``, ascending (``eta = 1`` is on it)."""
    return 2.0 ** (np.arange(log2_range[0] * fine, log2_range[1] * fine + 1) / fine)


def fig2_eta_floor(L: int, sigma_max: float, octaves: float = 6) -> float:
    """The smallest step the plane runs at depth ``L``: ``2^-octaves / (L
    max(1, ||Phi||_2)^2)``, below the scale ``1 / (L ||Phi||_2^2)`` of the
    stability limit at the minimum (the tuned steps sit 1 to 2 octaves above
    it; a tuned step at this floor is flagged ``at_edge``)."""
    return 2.0**-octaves / (L * max(1.0, sigma_max) ** 2)


def fig2_card_grid(L: int, sigma_max: float, fine: int = FIG2_FINE) -> np.ndarray:
    """Protocol (c)'s steps ``0.25 / (L max(1, ||Phi||_2)) 2^(k / fine)`` for
    ``-4 fine <= k`` and ``eta <= ETA_MAX``, ascending."""
    eta0 = 0.25 / (L * max(1.0, sigma_max))
    top = math.floor(fine * math.log2(ETA_MAX / eta0))
    return eta0 * 2.0 ** (np.arange(-4 * fine, top + 1) / fine)


def _argmin_count(
    etas: np.ndarray, counts: np.ndarray, allowed: np.ndarray, counts_lo: np.ndarray | None = None
) -> dict[str, Any]:
    """The fewest iterations among ``allowed`` steps (ties: the smaller step);
    ``at_edge`` when it is the smallest or largest allowed step (the optimum
    may lie beyond the protocol's range).  With brackets (``counts`` the
    upper ends, ``counts_lo`` the lower ends) the fewest iterations lie in
    ``[iterations_lo, iterations]`` (the least lower end and the least upper
    end), the step is the one with the least upper end."""
    idx = np.flatnonzero(allowed)
    ok = idx[counts[idx] > 0]
    if ok.size == 0:
        return {"eta": None, "iterations": None, "iterations_lo": None, "at_edge": False}
    j = ok[np.argmin(counts[ok])]  # argmin takes the first, i.e. the smaller step
    lo = counts[j] if counts_lo is None else np.min(counts_lo[ok])
    return {"eta": float(etas[j]), "iterations": int(counts[j]), "iterations_lo": int(lo),
            "at_edge": bool(j == idx[0] or j == idx[-1])}  # fmt: skip


def fig2_protocols(plane: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The tuned step and count of each of :data:`FIG2_PROTOCOLS` on a plane
    of :func:`fig2_plane` (same runs, different allowed sets)."""
    g, n = np.asarray(plane["etas"]), np.asarray(plane["counts"])
    lo, hi = FIG2_VALLEY
    outside = (g <= lo) | (g >= hi)
    cg, cn = np.asarray(plane["card_etas"]), np.asarray(plane["card_counts"])
    nl = np.asarray(plane.get("counts_lo", n))
    cl = np.asarray(plane.get("card_counts_lo", cn))
    return {
        "grid": _argmin_count(g, n, outside, nl),
        "init-stable": _argmin_count(g, n, outside & (g <= plane["init_limit"]), nl),
        "card": _argmin_count(cg, cn, np.ones(cg.size, bool), cl),
    }


def fig2_plane(
    phi: str,
    d: int,
    L: int,
    phi_seed: int = 0,
    eps: float = 1e-10,
    fine: int = FIG2_FINE,
    give_up: float = 3.0,
    max_steps: int = 5_000_000,
    floor_octaves: float = 6,
) -> dict[str, Any]:
    """Iterations of GD from ZAS to ``R <= eps`` at depth ``L`` over the
    plane's steps (:func:`fig2_grid`, from :func:`fig2_eta_floor` up) and
    protocol (c)'s steps, by the
    reduced engine (:func:`zascheck.measure.spectral.iterations_to_eps_grid`,
    O(d) per step after one SVD).

    Counts are ``-1`` when censored (more than ``cap = give_up`` times the
    fewest iterations on the grid outside the valley ``(1/2, 2)``, or
    ``max_steps``) and ``-2`` when the run diverged (``R > 10^12 R(0)`` or
    not finite, the rule of :func:`zascheck.dynamics.gd`).  The valley's and
    protocol (c)'s steps run with the same cap.  Returns ``etas``, ``counts``, ``card_etas``, ``card_counts``,
    ``cap``, ``init_limit`` (:func:`init_stability_limit`) and the target's
    ``r0``, ``sigma_max``, ``modes``.
    """
    m = fig2_modes(phi, d, phi_seed)
    rel = eps / m["r0"]
    init = mode_init("zas", L)
    full_grid = fig2_grid(fine)
    lowest = fig2_eta_floor(L, m["sigma_max"], floor_octaves)
    grid = full_grid[full_grid >= lowest]
    valley = (grid > FIG2_VALLEY[0]) & (grid < FIG2_VALLEY[1])
    card = fig2_card_grid(L, m["sigma_max"], fine)
    kw = {"rel_tol": rel, "weights": m["weights"]}
    if fig2_uses_bracket(L, m["sigma"].size):
        return _fig2_plane_bracket(phi, d, L, phi_seed, eps, fine, floor_octaves, m, grid, card)
    n_out = iterations_to_eps_grid(m["sigma"], init, grid[~valley], max_steps=max_steps,
                                   give_up=give_up, **kw)  # fmt: skip
    best = int(n_out[n_out >= 0].min()) if np.any(n_out >= 0) else None
    cap = max_steps if best is None else min(max_steps, math.floor(give_up * best))
    rest = iterations_to_eps_grid(m["sigma"], init, np.concatenate([grid[valley], card]),
                                  max_steps=cap, **kw)  # fmt: skip
    counts = np.empty(grid.size, dtype=int)
    counts[~valley] = n_out
    counts[valley] = rest[: int(valley.sum())]
    return {
        "phi": phi, "d": d, "L": L, "phi_seed": phi_seed, "eps": eps, "fine": fine,
        "etas": grid.tolist(), "counts": counts.tolist(),
        "card_etas": card.tolist(), "card_counts": rest[int(valley.sum()):].tolist(),
        "cap": cap, "give_up": give_up, "floor": float(lowest), "init_limit": init_stability_limit(L, m["sigma_max"]),
        "r0": m["r0"], "sigma_max": m["sigma_max"], "modes": int(m["sigma"].size),
        "floor_octaves": floor_octaves,
    }  # fmt: skip


#: Figure 2's points with at least this many distinct modes and this depth are
#: counted by the shell bracket (:func:`zascheck.measure.spectral.iterations_bracket_grid`):
#: Gaussian d = 100 from L = 50 on, whose counts are 10^5..10^6 sequential steps
FIG2_BRACKET_MODES = 10
FIG2_BRACKET_DEPTH = 50


def fig2_uses_bracket(L: int, modes: int) -> bool:
    """Whether a Figure 2 point at depth ``L`` of a target with ``modes`` distinct
    singular values is counted by the shell bracket (not run step by step)."""
    return modes >= FIG2_BRACKET_MODES and L >= FIG2_BRACKET_DEPTH


def _fig2_plane_bracket(
    phi: str,
    d: int,
    L: int,
    phi_seed: int,
    eps: float,
    fine: int,
    floor_octaves: float,
    m: dict[str, Any],
    grid: np.ndarray,
    card: np.ndarray,
) -> dict[str, Any]:
    """:func:`fig2_plane` by the shell bracket: every step of the grid and of
    protocol (c) gets ``[lo, hi]`` (``counts`` = the upper ends,
    ``counts_lo`` the lower ends; equal where the run was run to the end)."""
    etas = np.concatenate([grid, card])
    lo, hi = iterations_bracket_grid(m["sigma"], L, etas, rel_tol=eps / m["r0"],
                                     weights=m["weights"])  # fmt: skip
    n = grid.size
    return {
        "phi": phi, "d": d, "L": L, "phi_seed": phi_seed, "eps": eps, "fine": fine,
        "etas": grid.tolist(), "counts": hi[:n].tolist(), "counts_lo": lo[:n].tolist(),
        "card_etas": card.tolist(), "card_counts": hi[n:].tolist(), "card_counts_lo": lo[n:].tolist(),
        "cap": None, "give_up": None, "floor": float(grid[0]),
        "init_limit": init_stability_limit(L, m["sigma_max"]),
        "r0": m["r0"], "sigma_max": m["sigma_max"], "modes": int(m["sigma"].size),
        "floor_octaves": floor_octaves, "engine": "bracket",
    }  # fmt: skip


#: seconds per layer and GD step of the float64 matrix model, per width (measured once)
_STEP_COST: dict[int, float] = {}


def full_step_seconds(L: int, d: int) -> float:
    """Estimated seconds of one full matrix GD step (:func:`zascheck.dynamics.gd_step`)
    at depth ``L``, width ``d``: ``L`` times the per-layer cost, the median
    of five one-step timings at ``L = 8`` per width (measured once per
    process; the step is ``O(L d^3)``)."""
    if d not in _STEP_COST:
        ws, tgt = inits.zas(8, d), Target.whitened(_F, fig2_phi("gaussian", d, 0))
        ws = [_F.matrix(w) for w in ws]
        dynamics.gd_step(_F, ws, tgt, 1e-3)  # warm-up
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            dynamics.gd_step(_F, ws, tgt, 1e-3)
            times.append(time.perf_counter() - t0)
        _STEP_COST[d] = float(np.median(times)) / 8
    return L * _STEP_COST[d]


#: the full re-run is skipped above this many weight entries (16 MB in float64),
#: where one step's cost grows faster than the per-layer timing at L = 8 predicts
_FULL_MAX_ENTRIES = 2_000_000


def _stop_after(seconds: float) -> Any:
    """A :func:`zascheck.dynamics.gd` observer stopping the run after ``seconds`` of wall time."""
    t0 = time.perf_counter()
    return lambda *_args: time.perf_counter() - t0 > seconds


def fig2_full_check(
    plane: dict[str, Any], etas: list[float], seconds: float = 1.0
) -> list[dict[str, Any]]:
    """Re-run each step of ``etas`` (on the plane's grids) by the full matrix
    GD in float64 (:func:`zascheck.dynamics.gd`, the stopping rule of
    :func:`zascheck.experiments.iterations_to_eps`) when it costs under
    ``seconds``: skipped when the estimate (:func:`full_step_seconds` x the
    reduced count) is over or the weights have more than 2 x 10^6 entries
    (``L d^2``; the estimate is not valid there), and stopped (``"over_time"``) when the run
    itself passes ``seconds`` of wall time.  One record per step:
    ``eta``, ``reduced``, ``full`` (``None`` when not run to the end) and
    ``estimate_s``.  Raises :class:`RuntimeError` when a full count differs
    from the reduced one: a defect of the reduction or the engine, not a
    verdict."""
    phi, d, L = plane["phi"], plane["d"], plane["L"]
    table = dict(zip(plane["etas"], plane["counts"], strict=True))
    table |= dict(zip(plane["card_etas"], plane["card_counts"], strict=True))
    lows = dict(zip(plane["etas"], plane.get("counts_lo", plane["counts"]), strict=True))
    lows |= dict(zip(plane["card_etas"], plane.get("card_counts_lo", plane["card_counts"]),
                     strict=True))  # fmt: skip
    phi_m = fig2_phi(phi, d, plane["phi_seed"])
    target = Target.whitened(_F, phi_m)
    rel = plane["eps"] / (0.5 * float(np.sum(phi_m * phi_m)))
    out = []
    for eta in dict.fromkeys(etas):
        n = int(table[eta])
        big = L * d * d > _FULL_MAX_ENTRIES  # memory-bound: the L = 8 timing underestimates
        est = math.inf if big else full_step_seconds(L, d) * max(n, 1)
        rec: dict[str, Any] = {"eta": eta, "reduced": n, "full": None, "estimate_s": est}
        if lows[eta] != n:  # a bracket (shells), not a count: nothing to compare with
            rec["bracket"] = [int(lows[eta]), n]
        elif n > 0 and est < seconds:
            run = dynamics.gd(_F, inits.zas(L, d), target, eta, max_steps=n, rel_tol=rel,
                              observers=[_stop_after(seconds)])  # fmt: skip
            if run.stop == "observer":
                rec["over_time"] = True
                out.append(rec)
                continue
            full = run.steps if run.stop == "converged" else None
            rec["full"] = full
            if full != n:
                raise RuntimeError(
                    f"zas.fig2: full matrix GD needs {full} iterations, the reduced engine {n} "
                    f"(Phi = {phi}, d = {d}, L = {L}, seed {plane['phi_seed']}, eta = {eta!r})"
                )
        out.append(rec)
    return out


def fig2_point(
    phi: str,
    d: int,
    L: int,
    phi_seed: int = 0,
    eps: float = 1e-10,
    fine: int = FIG2_FINE,
    give_up: float = 3.0,
    full_seconds: float = 1.0,
    floor_octaves: float = 6,
) -> dict[str, Any]:
    """One point of Figure 2 (Sec. 5.1) for every protocol: the plane of
    :func:`fig2_plane`, the tuned step and count per protocol
    (:func:`fig2_protocols`) and the full-model re-runs of those steps and
    of ``eta = 1`` (:func:`fig2_full_check`, each if under ``full_seconds``)."""
    plane = fig2_plane(phi, d, L, phi_seed, eps, fine, give_up, floor_octaves=floor_octaves)
    prot = fig2_protocols(plane)
    etas = [p["eta"] for p in prot.values() if p["eta"] is not None] + [1.0]
    plane["protocols"] = prot
    plane["full_check"] = fig2_full_check(plane, etas, full_seconds)
    return plane


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


#: the exponents Sec. 5.1 names: gamma ~ 1/2 (Phi = -I), gamma ~ 1 (Gaussian
#: Phi), and Theorem 4.3's worst case gamma = 3 the paper contrasts them with
NAMED_EXPONENTS = (0.5, 1.0, 3.0)

#: the depths Figure 2 spans (Sec. 5.1: 10 .. 10^4)
CLAIM_DEPTHS = (10, 10_000)


def gamma_band(fit: experiments.LinearFit, confidence: float = 0.95) -> tuple[float, float, float]:
    """``(gamma, lower, upper)``: the fitted exponent (slope of ``log N`` on
    ``log L``) and its two-sided Student-t interval
    (:func:`zascheck.experiments.slope_interval`)."""
    lo, hi = experiments.slope_interval(fit, confidence)
    return fit.slope, lo, hi


def exponent_cell(g: float) -> tuple[float, float]:
    """The exponents nearer ``g`` than any other of :data:`NAMED_EXPONENTS`:
    "gamma ~ g" read against the alternatives the paper itself names.

    >>> exponent_cell(0.5), exponent_cell(1.0)
    ((-inf, 0.75), (0.75, 2.0))
    """
    xs = sorted(set(NAMED_EXPONENTS) | {g})
    i = xs.index(g)
    lo = (xs[i - 1] + g) / 2 if i > 0 else -math.inf
    hi = (xs[i + 1] + g) / 2 if i + 1 < len(xs) else math.inf
    return lo, hi


def _fig2_scope(name: str, s: dict[str, Any], depths: list[int]) -> dict[str, Any]:
    lo_d, hi_d = CLAIM_DEPTHS
    out = [L for L in depths if not lo_d <= L <= hi_d]
    draws = s.get("draws", 1)
    if "protocol" in s:
        tuning = str(s["protocol"])
    elif "rule" in s:
        tuning = str(s["rule"])
    elif "fine" in s:
        tuning = (
            f"tuned per depth on the grid 0.25/(L ||Phi||_2) 2^(k/{s['fine']}), "
            f"eta <= {s['eta_max']:g} (excludes the one-step eta = 1)"
        )
    else:
        tuning = "tuned per depth (report sweep, same protocol)"
    return {
        "L": covers(
            f"L in {depths}" + (f" ({out} outside 10..10^4: no violation from them)" if out else "")
        ),
        "Phi": covers(
            f"{name}" + ("" if name.startswith("-I") else f", {draws} draw(s) (geometric mean)")
        ),
        "eta": covers(tuning),
    }


def _series_scope(parts: list[CheckResult]) -> dict[str, Any]:
    """The scope of Figure 2's result from its series' parts, each text
    labelled with the series it belongs to where they differ
    (:func:`zascheck.result.join_covered`)."""
    return {q: covers(join_covered([(str(p.part), p.scope[q]["covered"]) for p in parts]))
            for q in ("L", "Phi", "eta")}


def _gamma_interval(
    name: str, s: dict[str, Any], pts: list[tuple[int, float]]
) -> tuple[float, float, float, str, bool]:
    """``(gamma, lo, hi, how, may_violate)`` for one series.

    A random target (Gaussian) with two or more complete draws: gamma is the
    mean of the per-draw slopes and the interval the 95% Student-t interval
    over draws (:func:`scipy.stats.t.interval`; the draw is the sampling
    unit of a claim about random targets).  Otherwise the slope of the
    fitted counts with its regression t-interval; one draw of a random
    target cannot speak for the class, so it may not violate."""
    random_target = name.lower().startswith("gaussian")
    depths = {p[0] for p in pts}
    draws = [
        [(L, n) for L, n in zip(s["depths"], row, strict=True) if L in depths]
        for row in s.get("per_draw", [])
    ]
    complete = [d for d in draws if all(n is not None and n > 0 for _, n in d)]
    if random_target and len(complete) >= 2:
        slopes = [
            experiments.linear_fit([math.log(L) for L, _ in d], [math.log(n) for _, n in d]).slope
            for d in complete
        ]
        k = len(slopes)
        g = float(np.mean(slopes))
        sem = float(np.std(slopes, ddof=1)) / math.sqrt(k)
        lo, hi = (g, g) if sem == 0 else stats.t.interval(0.95, k - 1, loc=g, scale=sem)
        return g, float(lo), float(hi), f"t-interval over {k} draws", True
    fit = experiments.linear_fit([math.log(p[0]) for p in pts], [math.log(p[1]) for p in pts])
    g, lo, hi = gamma_band(fit)
    how = "regression t-interval" + (", 1 draw of a random target" if random_target else "")
    return g, lo, hi, how, not random_target


def _fig2_part(name: str, s: dict[str, Any]) -> CheckResult:
    """One series of Figure 2: gamma's 95% interval against the cell of the
    claimed exponent (:func:`exponent_cell`)."""
    pairs = list(zip(s["depths"], s["iterations"], strict=True))
    pts = [(L, n) for L, n in pairs if n is not None and n > 0]
    censored = [L for L, n in pairs if n is None]
    at_cap = [L for L, c in zip(s["depths"], s.get("at_cap", []), strict=False) if c]
    c = float(s["claimed"])
    scope = _fig2_scope(name, s, [p[0] for p in pts])
    base: dict[str, Any] = {
        "part": name,
        "scope": scope,
        "arithmetic": "float64",
        "precision_bits": 53,
    }
    if len(pts) < 3:
        return CheckResult(
            verdict=Verdict.INCONCLUSIVE,
            **base,
            bound=c,
            relation="==",
            notes=f"{name}: fewer than 3 converged depths",
            evidence={"claimed": c, "censored_depths": censored},
        )
    g, lo, hi, how, may_violate = _gamma_interval(name, s, pts)
    cell = exponent_cell(c)
    room = min(lo - cell[0], cell[1] - hi)
    in_range = all(CLAIM_DEPTHS[0] <= p[0] <= CLAIM_DEPTHS[1] for p in pts)
    finding = ""
    if room >= 0:
        v = Verdict.HOLDS
    elif hi < cell[0] or lo > cell[1]:
        v = Verdict.VIOLATED if in_range and may_violate else Verdict.INCONCLUSIVE
        if v is Verdict.INCONCLUSIVE:
            finding = "; a finding, not a violation: " + (
                "depths outside 10..10^4" if not in_range else "one draw of a random target"
            )
    else:
        v = Verdict.INCONCLUSIVE
    if censored or at_cap:
        v = combine_verdicts([v, Verdict.INCONCLUSIVE])
    res = CheckResult(
        verdict=v,
        **base,
        measured=g,
        bound=c,
        margin=room,
        relation="==",
        measured_repr=f"gamma, slope of log N on log L (95% {how}: [{lo:.3f}, {hi:.3f}])",
        notes=(
            f"{name}: gamma = {g:.3f} [95% {lo:.3f}, {hi:.3f}; {how}] vs ~{c:g} (nearer {c:g} "
            f"than the other named exponents inside ({cell[0]:g}, {cell[1]:g}))"
            + (f"; censored at L = {censored}" if censored else "")
            + (f"; tuned eta at the protocol's cap at L = {at_cap}" if at_cap else "")
            + finding
        ),
        evidence={
            "claimed": c,
            "gamma": g,
            "ci95": [lo, hi],
            "interval": how,
            "cell": list(cell),
            "depths": [p[0] for p in pts],
            "iterations": [p[1] for p in pts],
            "censored_depths": censored,
            "at_cap_depths": at_cap,
        },
    )
    if v is Verdict.VIOLATED:
        res.counterexample = {"series": name, "gamma": g, "ci95": [lo, hi], "claimed": c}
    return res


def fig2_result(series: dict[str, dict[str, Any]]) -> CheckResult:
    """Decide Figure 2's claim (ZAS paper Sec. 5.1) from measured series.

    ``series[name] = {"claimed": gamma_claim, "depths": [...], "iterations":
    [...]}``, optionally ``"per_draw"`` (counts per draw and depth, for
    random targets), ``"at_cap"`` (per depth: the tuned step sat at the
    protocol's cap), ``"draws"``, ``"fine"``, ``"eta_max"`` or ``"rule"`` (an
    untuned step rule; for the scope).
    Per series the exponent gamma is the least-squares slope of ``log N`` on
    ``log L`` with its 95% Student-t interval (for a Gaussian series with
    several draws: over the per-draw slopes, :func:`_gamma_interval`).  "gamma ~ g" is read against
    the exponents the paper names (:data:`NAMED_EXPONENTS`: 1/2, 1, and
    Theorem 4.3's 3): ``holds`` when the whole interval is nearer ``g`` than
    any other of them, ``violated`` when the whole interval is nearer another
    one and every depth lies in the claim's 10..10^4, else ``inconclusive``
    (also with censored depths or a tuned step at the cap).  One part per
    series; measured = the least room of an interval inside its cell.
    """
    parts = [_fig2_part(name, s) for name, s in series.items()]
    verdict = combine_verdicts([p.verdict for p in parts])
    rooms = [p.margin for p in parts if p.margin is not None]
    measured = min(rooms) if rooms else None
    per = {p.part: p.evidence | {"verdict": p.verdict.value} for p in parts}
    scope = _series_scope(parts)
    res = CheckResult(
        verdict=verdict,
        measured=measured,
        bound=0.0,
        relation=">=",
        arithmetic="float64",
        precision_bits=53,
        measured_repr="least room of a gamma 95% interval inside the cell of its claimed exponent",
        evidence={"series": per, "named_exponents": list(NAMED_EXPONENTS)},
        notes="; ".join(p.notes for p in parts),
        scope=scope,
        parts=parts,
    )
    worst = min(parts, key=lambda p: (p.verdict.rank, p.margin if p.margin is not None else 0))
    res.tightest = {"series": worst.part, **{k: worst.evidence.get(k) for k in ("gamma", "ci95")}}
    if verdict is Verdict.VIOLATED:
        res.counterexample = next(p.counterexample for p in parts if p.counterexample)
    return res


def fig2_fixed_point(
    phi: str,
    d: int,
    L: int,
    eta: float,
    phi_seed: int = 0,
    eps: float = 1e-10,
    rule: str = "fixed step",
    full_seconds: float = 1.0,
    max_steps: int = 5_000_000,
) -> dict[str, Any]:
    """A :func:`fig2_point` record for one untuned step ``eta`` (every
    protocol gets it; the negative control's path): the reduced count, its
    full-model re-run under ``full_seconds`` and ``rule`` for the scope."""
    m = fig2_modes(phi, d, phi_seed)
    n = iterations_to_eps_grid(m["sigma"], mode_init("zas", L), [eta], rel_tol=eps / m["r0"],
                               max_steps=max_steps, weights=m["weights"])[0]  # fmt: skip
    rec: dict[str, Any] = {
        "phi": phi, "d": d, "L": L, "phi_seed": phi_seed, "eps": eps, "rule": rule,
        "etas": [eta], "counts": [int(n)], "card_etas": [], "card_counts": [],
    }  # fmt: skip
    one = {"eta": eta, "iterations": int(n) if n > 0 else None, "at_edge": False}
    rec["protocols"] = {p: dict(one) for p in FIG2_PROTOCOLS}
    rec["full_check"] = fig2_full_check(rec, [eta], full_seconds)
    return rec


def fig2_series(
    points: dict[str, list[list[dict[str, Any]]]], protocol: str, end: str = "hi"
) -> dict[str, dict[str, Any]]:
    """The input of :func:`fig2_result` for one protocol of
    :data:`FIG2_PROTOCOLS`: ``points[series][draw][j]`` are
    :func:`fig2_point` records (same depths in every draw); per depth the
    count is the geometric mean over draws (``None`` if a draw is censored),
    ``at_cap`` when a tuned step is at the edge of the protocol's range.
    ``end``: ``"hi"`` the counts (upper ends of brackets), ``"lo"`` the lower
    ends (:func:`fig2_protocol_results` judges both)."""
    key = "iterations" if end == "hi" else "iterations_lo"
    out: dict[str, dict[str, Any]] = {}
    for name, draws in points.items():
        depths = [p["L"] for p in draws[0]]
        per_draw = [[p["protocols"][protocol].get(key, p["protocols"][protocol]["iterations"])
                     for p in row] for row in draws]  # fmt: skip
        lows = [[p["protocols"][protocol].get("iterations_lo", p["protocols"][protocol]["iterations"])
                 for p in row] for row in draws]  # fmt: skip
        its = [_geo_mean([row[j] for row in per_draw]) for j in range(len(depths))]
        out[name] = {
            "claimed": FIG2_SERIES[name][2],
            "depths": depths,
            "iterations": its,
            # the lower ends of the shell brackets (= iterations where counted step by step)
            "iterations_lo": [_geo_mean([row[j] for row in lows]) for j in range(len(depths))],
            "per_draw": per_draw,
            "etas": [[row[j]["protocols"][protocol]["eta"] for row in draws] for j in range(len(depths))],
            "at_cap": [any(row[j]["protocols"][protocol]["at_edge"] for row in draws)
                       for j in range(len(depths))],
            "draws": len(draws),
            "protocol": draws[0][0].get("rule")
            or FIG2_PROTOCOLS[protocol].format(fine=draws[0][0].get("fine", FIG2_FINE),
                                               floor=draws[0][0].get("floor_octaves", 6)),
        }  # fmt: skip
    return out


def _geo_mean(ns: list[Any]) -> float | None:
    """The geometric mean of counts (``None`` if one is missing)."""
    return None if any(n is None for n in ns) else math.exp(np.mean(np.log(ns)))


def fig2_full_summary(points: dict[str, list[list[dict[str, Any]]]]) -> dict[str, Any]:
    """How many tuned points (and ``eta = 1`` runs) the full matrix GD re-ran
    and agreed on (:func:`fig2_full_check` raises on a disagreement), and
    which were skipped as costing over a second."""
    ran, skipped = [], []
    for name, draws in points.items():
        for row in draws:
            for p in row:
                for rec in p.get("full_check", []):
                    key = {"series": name, "L": p["L"], "phi_seed": p["phi_seed"], "eta": rec["eta"],
                           "iterations": rec["reduced"]}  # fmt: skip
                    if rec["full"] is not None:
                        ran.append(key)
                    elif rec["reduced"] > 0:
                        skipped.append(key | {"estimate_s": rec["estimate_s"]})
    return {
        "agreed": len(ran),
        "skipped_over_1s": len(skipped),
        "ran": ran,
        "skipped": skipped,
        "rule": "every tuned point whose full float64 matrix GD costs under 1 s (estimated: "
        "per-layer step cost x L x count) is re-run by it and must give the same count",
    }


def _bracketed(points: dict[str, list[list[dict[str, Any]]]], protocol: str) -> bool:
    return any(p["protocols"][protocol].get("iterations_lo", p["protocols"][protocol]["iterations"])
               != p["protocols"][protocol]["iterations"]
               for draws in points.values() for row in draws for p in row)  # fmt: skip


def _both_ends(points: dict[str, list[list[dict[str, Any]]]], protocol: str) -> CheckResult:
    """:func:`fig2_result` of one protocol, judged on both ends of the count
    brackets (shell-bracketed points): the upper ends' result, each series'
    part ``inconclusive`` where the lower ends give another verdict (both
    gammas and intervals in its evidence).  Without brackets: the counts' result."""
    res = fig2_result(fig2_series(points, protocol))
    if not _bracketed(points, protocol):
        return res
    low = {q.part: q for q in fig2_result(fig2_series(points, protocol, end="lo")).parts}
    for part in res.parts:
        other = low[part.part]
        if _bracketed({str(part.part): points[str(part.part)]}, protocol):
            part.scope["L"] = covers(
                part.scope["L"]["covered"] + "; counts from L = "
                f"{FIG2_BRACKET_DEPTH} on are shell brackets (stated, not certified), judged on both ends"
            )
        part.evidence["lower_ends"] = {"gamma": other.evidence.get("gamma"),
                                       "ci95": other.evidence.get("ci95"),
                                       "verdict": other.verdict.value}  # fmt: skip
        part.notes += (f"; from the brackets' lower ends gamma = {other.evidence.get('gamma', float('nan')):.3f} "
                       f"({other.verdict.value})")  # fmt: skip
        if other.verdict is not part.verdict:
            part.verdict = Verdict.INCONCLUSIVE
            part.counterexample = None
            part.notes += ": the two ends disagree, inconclusive"
    res.verdict = combine_verdicts([q.verdict for q in res.parts])
    res.scope = _series_scope(res.parts)
    if res.verdict is not Verdict.VIOLATED:
        res.counterexample = None
    res.notes = "; ".join(q.notes for q in res.parts)
    res.evidence["series"] = {q.part: q.evidence | {"verdict": q.verdict.value} for q in res.parts}
    return res


def fig2_protocol_results(points: dict[str, list[list[dict[str, Any]]]]) -> CheckResult:
    """Decide Figure 2 (Sec. 5.1) under every protocol of :data:`FIG2_PROTOCOLS`.

    The result is :func:`fig2_result` of the deciding protocol
    (:data:`FIG2_DECIDING`, parts per series); ``evidence["protocols"]``
    holds, per protocol and series, gamma, its 95% interval, the verdict the
    same rule gives, the tuned steps and counts (findings: they do not
    decide), and ``evidence["full_check"]`` the full-model re-runs."""
    results = {p: _both_ends(points, p) for p in FIG2_PROTOCOLS}
    res = results[FIG2_DECIDING]
    table: dict[str, Any] = {}
    for p, r in results.items():
        table[p] = {
            "description": FIG2_PROTOCOLS[p].format(fine="fine", floor="floor"),
            "decides": p == FIG2_DECIDING,
            "verdict": r.verdict.value,
            "series": {q.part: {k: q.evidence.get(k) for k in ("gamma", "ci95", "interval", "depths",
                                                                "iterations", "at_cap_depths")}
                       | {"verdict": q.verdict.value} for q in r.parts},
        }  # fmt: skip
    res.evidence["protocols"] = table
    res.evidence["full_check"] = fig2_full_summary(points)
    found = "; ".join(
        f"{p}: " + ", ".join(
            f"{n} gamma = {v['gamma']:.3f} [{v['ci95'][0]:.3f}, {v['ci95'][1]:.3f}] {v['verdict']}"
            for n, v in t["series"].items() if v.get("gamma") is not None)
        for p, t in table.items() if not t["decides"])  # fmt: skip
    fc = res.evidence["full_check"]
    res.notes += (
        f"; decided by protocol {FIG2_PROTOCOLS[FIG2_DECIDING].format(fine='fine', floor='floor')}; other protocols (findings): {found}; "
        f"full matrix GD re-ran {fc['agreed']} tuned points with the same counts "
        f"({fc['skipped_over_1s']} skipped as over 1 s)"
    )
    return res


#: the four series of Figure 2: name -> (phi, d, claimed gamma)
FIG2_SERIES = {
    "-I, d=1": ("-I", 1, 0.5),
    "-I, d=100": ("-I", 100, 0.5),
    "Gaussian, d=2": ("gaussian", 2, 1.0),
    "Gaussian, d=100": ("gaussian", 100, 1.0),
}


#: the init of run ``index`` of Fig. 3 (:func:`zascheck.measure.escape.run_init`)
fig3_init = run_init


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
    """One Figure 3 run (Sec. 5.2): GD on ``Phi = -I`` (``d x d``, ``L``
    layers) until ``R <= rel_tol R(0)`` or ``max_steps``; the record of
    :func:`zascheck.measure.escape.escape_runs` (escape, trapped, curve)."""
    return escape_runs(init, L, d, eta, max_steps, rel_tol, seed, [index], every)[0]


def _in_fig3_setting(runs: list[dict[str, Any]]) -> bool:
    """Whether the runs are the paper's reading of Fig. 3 (L = 6, eta = 0.01,
    d = 25, 10^4 iterations)."""
    return all(
        r["L"] == 6
        and r["eta"] == 0.01
        and r["d"] == FIG3_PAPER["d"]
        and r["max_steps"] == FIG3_PAPER["max_steps"]
        for r in runs
    )


def fig3_result(
    zas_run: dict[str, Any],
    runs: list[dict[str, Any]],
    *,
    paper_escaped: int = FIG3_PAPER["escaped"],
    paper_runs: int = FIG3_PAPER["runs"],
    why_d: str = "",
) -> CheckResult:
    """Decide Figure 3's claim (Sec. 5.2) from :func:`fig3_run` records, in
    three parts (:mod:`zascheck.measure.escape`): ``zas-escapes`` (the run
    in the ZAS role leaves the saddle region), ``trapped`` (some
    near-identity run is still in it at the end of the budget), ``2-of-5``
    (Fisher's exact test of the escape count against the paper's
    ``paper_escaped / paper_runs``; a rejection is a violation only in the
    paper's setting, d = 25 and 10^4 iterations).  measured = that test's
    p-value (bound 0.05); ``why_d`` explains the width in the scope."""
    if not runs:
        raise InputError("fig3_result needs at least one near-identity run")
    r0 = runs[0]
    scope = setting_scope(r0["d"], len(runs), r0["max_steps"], r0["eta"], why_d)
    s = escape_summary(runs)
    parts = [
        zas_part([zas_run], scope),
        trapped_part(runs, scope),
        paper_rate_part(
            s["escaped"],
            s["runs"],
            _in_fig3_setting(runs),
            scope,
            paper=(paper_escaped, paper_runs),
        ),
    ]
    rate = parts[2]
    p_paper = paper_escaped / paper_runs
    lo, hi = s["wilson95"]
    zas_keys = ("init", "escaped", "escape_iteration", "iterations", "stop")
    res = CheckResult(
        verdict=combine_verdicts([p.verdict for p in parts]),
        measured=rate.measured,
        bound=rate.bound,
        relation=">=",
        arithmetic="float64",
        precision_bits=53,
        measured_repr=rate.measured_repr,
        evidence=s
        | {
            "zas": {k: zas_run[k] for k in zas_keys},
            "paper_fraction": p_paper,
            "paper_inside_ci": lo <= p_paper <= hi,
            "fisher_p": rate.measured,
            "escape_level": r0["escape_level"],
        },
        notes="; ".join(p.notes for p in parts),
        scope=scope,
        parts=parts,
    )
    bad = [p for p in parts if p.verdict is Verdict.VIOLATED]
    if bad:
        res.counterexample = {"part": bad[0].part, **(bad[0].counterexample or {})}
    return res
