"""Figure 2 of the ZAS paper: iterations of GD from ZAS to ``R <= 1e-10``, with
the learning rate tuned per depth, grow like ``L^gamma`` with ``gamma ~ 1/2``
for ``Phi = -I`` and ``gamma ~ 1`` for Gaussian ``Phi``.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 5.1 and Figure 2:
"The ZAS initialization (3.1) is applied for linear neural networks with
different depth L, and we manually tune the optimal learning rate for each
L. ... Figure 2 shows number of iterations required to make the objective
R <= eps = 10^-10.  It is clear to see that the number of iterations required
roughly scale as O(L^gamma), where gamma ~ 1/2 for the negative identity
matrix and gamma ~ 1 for the Gaussian random matrices.  These scalings are
better than the theoretical gamma = 3 in Theorem 4.3".  Targets: ``-I``
(``d = 1, 100``) and Gaussian with N(0, 1) entries (``d = 2, 100``); the
figure's depth axis spans 10..10^4.

Kind: empirical; no bound (``bound="none"``).

Reading formalized (:func:`zascheck.measure.figures.fig2_result`): per
series, gamma is the least-squares slope of ``log N`` on ``log L`` with its
95% Student-t interval; "gamma ~ g" is read against the exponents the paper
itself names (1/2, 1, and Theorem 4.3's 3): ``holds`` when the whole
interval is nearer ``g`` than any other, ``violated`` when the whole interval
is nearer another one *and every depth lies in the claim's 10..10^4*
(depths outside it make a finding, ``inconclusive``), else ``inconclusive``.

The tuning protocol, stated because "tuned per depth" is degenerate
otherwise: at ``eta = 1`` GD from ZAS solves every target in one step (the
problem splits into ``d`` scalar modes, CLAIMS.md zas.spectral; measured
here at the largest depth), so the step is the one with the fewest
iterations on the grid ``0.25 / (L ||Phi||_2) * 2^(k / fine)`` restricted to
``eta <= 1/2`` (:data:`zascheck.measure.figures.ETA_MAX`); a tuned step at
that cap makes the series ``inconclusive``.  Gaussian targets: ``draws``
draws (``phi_seed = 1000 seed + k``, as the report), the geometric mean of
their counts per depth is fitted.  The scope states depths, draws and
tuning.  The ``quick`` budget uses depths 10..40 (the low end of the claim's
range) and a coarser grid.

Negative control ``untuned-lr``: ``eta = 1/(4 L^2)`` at every depth (breaks
"tuned per depth"; gamma near 2) must be caught.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import experiments, inits, model
from zascheck.arith import backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.measure.figures import ETA_MAX, FIG2_SERIES, fig2_phi, fig2_point, fig2_result
from zascheck.model import Target
from zascheck.result import CheckResult

CARD = Card(
    id="zas.fig2",
    section="A",
    kind="empirical",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 5.1, Figure 2",
    statement=(
        "Iterations to R <= 1e-10 from ZAS with the learning rate tuned per depth grow like "
        "L^gamma, gamma ~ 1/2 for Phi = -I (d = 1, 100), gamma ~ 1 for Gaussian Phi "
        "(d = 2, 100), depths 10..10^4."
    ),
    bound="none",
    quantifiers=(
        Q("L", "depths 10..10^4"),
        Q("Phi", "-I (d = 1, 100); Gaussian N(0, 1) entries (d = 2, 100)"),
        Q("eta", "tuned per depth (protocol not stated in the paper)"),
    ),
    depends_on=("zas.thm4.3",),  # and the spectral reduction (CLAIMS.md zas.spectral; no card yet)
    figure="fig2",
    # the report's sweeps behind this claim's figure, per report budget
    report={
        "quick": {
            "fig2": {
                "-I": [10, 20, 50, 100, 200],
                "gauss2": [10, 20, 50, 100, 200],
                "gauss2_draws": 3,
                "gauss100": [2, 3, 4],
                "fine": 8,
                "fine100": 4,
            }
        },
        "standard": {
            "fig2": {
                "-I": [10, 20, 50, 100, 200, 500, 1000],
                "gauss2": [10, 20, 50, 100, 200, 500, 1000],
                "gauss2_draws": 3,
                "gauss100": [2, 3, 4, 6, 8],
                "fine": 8,
                "fine100": 4,
            }
        },
        "full": {
            "fig2": {
                "-I": [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
                "gauss2": [10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000],
                "gauss2_draws": 5,
                "gauss100": [2, 3, 4, 6, 8, 12, 16],
                "fine": 8,
                "fine100": 8,
            }
        },
    },
)

_SERIES = ["-I, d=1", "Gaussian, d=2"]
_F = backend("float64")


@CARD.check(
    method="gd",
    budgets={
        "quick": {"series": _SERIES, "depths": [10, 14, 20, 28, 40], "eps": 1e-10, "fine": 4,
                  "draws": 1, "lr_rule": "tuned"},
        "standard": {"series": _SERIES, "depths": [10, 20, 50, 100, 200, 500], "eps": 1e-10,
                     "fine": 8, "draws": 3, "lr_rule": "tuned"},
        "thorough": {"series": ["-I, d=1", "-I, d=100", "Gaussian, d=2"],
                     "depths": [10, 20, 50, 100, 200, 500, 1000], "eps": 1e-10, "fine": 8,
                     "draws": 3, "lr_rule": "tuned"},
    },
    controls={
        # break "lr tuned per depth": eta = 1/(4 L^2) makes the count grow like L^2
        "untuned-lr": {"series": ["-I, d=1"], "depths": [10, 12, 14, 16], "lr_rule": "L^-2"},
    },
)  # fmt: skip
def fig2(
    ctx: RunContext,
    series: list[str],
    depths: list[int],
    eps: float,
    fine: int,
    draws: int,
    lr_rule: str,
) -> CheckResult:
    """Figure 2 (Sec. 5.1) on ``depths`` for each of ``series``
    (:data:`zascheck.measure.figures.FIG2_SERIES`), GD from ZAS in float64
    to ``R <= eps``, step tuned (``lr_rule = "tuned"``) or ``1/(4 L^2)``
    (``"L^-2"``, the control).  Raises :class:`InputError` for an unknown
    series or rule, or ``draws < 1``."""
    unknown = [n for n in series if n not in FIG2_SERIES]
    if unknown or lr_rule not in ("tuned", "L^-2") or draws < 1:
        raise InputError(
            f"series must be among {', '.join(FIG2_SERIES)} (got {unknown}), lr_rule 'tuned' "
            f"or 'L^-2' (got {lr_rule!r}), draws >= 1 (got {draws})"
        )
    data = {name: _series(ctx.seed, name, depths, eps, fine, draws, lr_rule) for name in series}
    res = fig2_result(data)
    for name, s in data.items():
        res.evidence["series"][name] |= {"etas": s["etas"], "per_draw": s["per_draw"]}
    res.evidence["lr_rule"] = lr_rule
    one = {name: _iterations_at_eta_1(name, depths[-1], ctx.seed, eps) for name in series}
    res.evidence["iterations_at_eta_1"] = {"depth": depths[-1], "iterations": one}
    res.notes += (
        f"; at eta = 1 exactly GD from ZAS needs {sorted({v for v in one.values() if v is not None})} iteration(s) at "
        f"L = {depths[-1]} (the first step sets W_L = Phi), hence the tuning grid stops at "
        f"eta <= {ETA_MAX:g}"
    )
    return res


def _series(
    seed: int, name: str, depths: list[int], eps: float, fine: int, draws: int, lr_rule: str
) -> dict[str, Any]:
    """One series: per depth the count (geometric mean over the Gaussian
    draws; ``None`` if a draw is censored), the steps, and whether a tuned
    step sat at the grid's cap."""
    phi, d, claimed = FIG2_SERIES[name]
    n_draws = draws if phi == "gaussian" else 1
    per_draw = []
    for k in range(n_draws):
        pts = [_point(phi, d, L, seed * 1000 + k, eps, fine, lr_rule) for L in depths]
        per_draw.append(pts)
    its: list[float | None] = []
    for j in range(len(depths)):
        ns = [pd[j]["iterations"] for pd in per_draw]
        its.append(None if any(n is None for n in ns) else math.exp(np.mean(np.log(ns))))
    return {
        "claimed": claimed,
        "depths": list(depths),
        "iterations": its,
        "etas": [[pd[j]["eta"] for pd in per_draw] for j in range(len(depths))],
        "at_cap": [any(pd[j]["at_cap"] for pd in per_draw) for j in range(len(depths))],
        "draws": n_draws,
        **(
            {"fine": fine, "eta_max": ETA_MAX}
            if lr_rule == "tuned"
            else {"rule": "untuned: eta = 1/(4 L^2)"}
        ),
        "per_draw": [[p["iterations"] for p in pd] for pd in per_draw],
    }


def _point(
    phi: str, d: int, L: int, phi_seed: int, eps: float, fine: int, lr_rule: str
) -> dict[str, Any]:
    if lr_rule == "tuned":
        return fig2_point(phi, d, L, phi_seed, eps, fine, reduce_scalar=(phi == "-I" and d > 1))
    e = 1.0 / (4 * L * L)
    tgt = Target.whitened(_F, fig2_phi(phi, d, phi_seed))
    r0 = _F.to_float(model.loss(_F, inits.zas(L, d), tgt))
    n = experiments.iterations_to_eps(
        _F, inits.zas(L, d), tgt, e, rel_tol=eps / r0, max_steps=2_000_000
    )
    return {"iterations": n, "eta": e, "at_cap": False}


def _iterations_at_eta_1(name: str, L: int, seed: int, eps: float) -> int | None:
    """GD from ZAS at ``eta = 1`` (the degenerate step), at most 3 iterations."""
    phi, d, _claimed = FIG2_SERIES[name]
    d1 = 1 if (phi == "-I" and d > 1) else d
    tgt = Target.whitened(_F, fig2_phi(phi, d1, seed * 1000))
    r0 = _F.to_float(model.loss(_F, inits.zas(L, d1), tgt))
    return experiments.iterations_to_eps(
        _F, inits.zas(L, d1), tgt, 1.0, rel_tol=eps / r0, max_steps=3
    )
