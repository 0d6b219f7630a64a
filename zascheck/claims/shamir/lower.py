"""d = 1, target -1, Xavier or near-identity init: iterations grow like exp(Omega(L)); ZAS polynomially.

Source: Shamir 2018 (ref. [18] of the ZAS paper), as contrasted in Sec. 1.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import experiments, inits
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.result import combine_verdicts
from zascheck.measure.escape import _log_rss_ratio
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict

CARD = Card(
    id="shamir.lower",
    section="A",
    kind="empirical",
    source="Shamir 2018 (ref. [18] of the ZAS paper), as contrasted in Sec. 1",
    statement="d = 1, target -1, Xavier or near-identity init: iterations grow like exp(Omega(L)); ZAS polynomially.",
    bound="none",
    quantifiers=(
        Q("L", "every depth L (growth law)"),
        Q("init", "Xavier or near-identity (random), and ZAS"),
    ),
    depends_on=(),
    figure="shamir",
)


@CARD.check(
    method="gd",
    budgets={
        "quick": {
            "depths": [2, 4, 6, 8, 10, 12, 14, 16],
            "depths_zas": [2, 4, 8, 16, 32, 64, 128, 256],
            "seeds": 12,
            "eta0": 0.25,
            "rel_tol": 1e-10,
            "max_steps": 8000,
            "random_inits": ["near-identity", "xavier"],
            "zas_alpha": 1.0,
            "until": "median",
        },
        "standard": {
            "depths": [2, 4, 6, 8, 10, 12, 14, 16, 18],
            "depths_zas": [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
            "seeds": 30,
            "eta0": 0.25,
            "rel_tol": 1e-10,
            "max_steps": 40000,
            "random_inits": ["near-identity", "xavier"],
            "zas_alpha": 1.0,
            "until": "median",
        },
    },
    controls={
        # break "ZAS" (identity layers): alpha-ZAS with alpha = 0.7 has initial rate 0.49^(L-1)
        "shrunk-zas": {
            "zas_alpha": 0.7,
            "depths_zas": [2, 3, 4, 5, 6],
            "depths": [2, 4, 6, 8],
            "seeds": 4,
        },
    },
)
def shamir_lower(
    ctx: RunContext,
    depths: list[int],
    depths_zas: list[int],
    seeds: int,
    eta0: float,
    rel_tol: float,
    max_steps: int,
    random_inits: list[str],
    zas_alpha: float,
    until: str,
) -> CheckResult:
    """Shamir (2018), ref. [18] of the ZAS paper, as contrasted in its Sec. 1
    and 5.1: for ``d = 1``, target ``-1``, with Xavier or near-identity init
    the iterations GD needs grow like ``exp(Omega(L))``; from ZAS they grow
    polynomially.

    Setting: ``d = 1``, ``Phi = -1``, step ``eta = eta0 / L`` for every init
    (the curvature at the minimum grows like ``L``), convergence
    ``R <= rel_tol R(0)``, at most ``max_steps`` iterations (a capped run
    counts as ``max_steps``, a lower bound).  Near-identity is (5.1):
    ``w_l = 1 + N(0, 1/L)``; Xavier for ``d = 1`` is ``w_l ~ N(0, 1)``.
    The seeded runs of one depth run together, embedded block-diagonally
    (:func:`zascheck.experiments.batch_first_hits`); ZAS is deterministic,
    one run per depth, and cheap, so it is followed to larger depths.

    Reading formalized: per init, ``N(L)`` = the lower median over seeds;
    fit ``log N`` linearly in ``L`` (exponential) and in ``log L``
    (polynomial), each with two parameters, so residual sums compare
    directly.  The claim holds when the exponential fit has the smaller
    residual for every random init with a growth rate more than two
    standard errors above 0, and the polynomial fit has the smaller residual
    for ZAS over ``depths_zas``.  measured = the smallest
    ``log(RSS_wrong / RSS_right)`` over the arms (bound 0, ``>=``).  Note:
    over a short depth range ZAS's near-affine growth fits both models; the
    distinction is asymptotic, hence the longer range for ZAS.
    """
    b = ctx.backend("float64")
    bad = [n for n in random_inits if n not in ("near-identity", "xavier")]
    if bad:
        raise InputError(f"random_inits must be near-identity and/or xavier, got {bad}")
    arms: dict[str, dict[str, Any]] = {}
    for name in random_inits:
        arms[name] = {"depths": [], "median": [], "censored": [], "hits": {}, "stopped_at": []}
    for L in depths:
        runs, groups = [], []
        for j, name in enumerate(random_inits):
            grp = []
            for i in range(seeds):
                rng = np.random.default_rng([ctx.seed, 6, j, L, i])
                runs.append(
                    inits.near_identity(L, 1, rng)
                    if name == "near-identity"
                    else inits.xavier(L, 1, rng)
                )
                grp.append(len(runs) - 1)
            groups.append(grp)
        br = experiments.batch_first_hits(
            b,
            runs,
            -np.eye(1),
            eta0 / L,
            rel_tol=rel_tol,
            max_steps=max_steps,
            groups=groups,
            until=until,
        )
        for name, grp in zip(random_inits, groups, strict=True):
            h = [br.hits[i] for i in grp]
            med = experiments.lower_median(h)
            arm = arms[name]
            arm["depths"].append(L)
            arm["median"].append(med if med is not None else br.steps)
            arm["censored"].append(med is None)
            arm["hits"][str(L)] = h
            arm["stopped_at"].append(br.steps)  # a None hit is censored here (a lower bound)
    zas_n, zas_cens = [], []
    for L in depths_zas:
        n = experiments.iterations_to_eps(
            b,
            inits.alpha_zas(L, 1, zas_alpha),
            Target.whitened(b, -np.eye(1)),
            eta0 / L,
            rel_tol=rel_tol,
            max_steps=max_steps,
        )
        zas_n.append(n if n is not None else max_steps)
        zas_cens.append(n is None)
    zas_name = "zas" if zas_alpha == 1.0 else f"alpha-zas({zas_alpha})"
    arms[zas_name] = {"depths": list(depths_zas), "median": zas_n, "censored": zas_cens}
    verdicts: list[Verdict] = []
    scores: dict[str, float] = {}
    summary = []
    for name, arm in arms.items():
        fits = experiments.growth_fits(arm["depths"], [max(v, 1) for v in arm["median"]])
        arm["fits"] = {k: f.to_dict() for k, f in fits.items()}
        want = "polynomial" if name == zas_name else "exponential"
        s = _log_rss_ratio(fits, want)
        scores[name] = s
        ex = fits["exponential"]
        if s < 0:
            v = Verdict.VIOLATED
        elif want == "exponential" and not ex.slope > 2 * ex.slope_se:
            v = Verdict.INCONCLUSIVE
        else:
            v = Verdict.HOLDS
        arm["verdict"] = v.value
        arm["preferred"] = "polynomial" if fits["polynomial"].rss < ex.rss else "exponential"
        verdicts.append(v)
        po = fits["polynomial"]
        summary.append(
            f"{name}: exp rate {ex.slope:.3f} +- {ex.slope_se:.3f}/layer (RSS {ex.rss:.3g}), "
            f"degree {po.slope:.3f} +- {po.slope_se:.3f} (RSS {po.rss:.3g}), "
            f"prefers {arm['preferred']}"
            + (f", {sum(arm['censored'])} capped" if any(arm["censored"]) else "")
        )
    # the shared-range comparison: ZAS's exponential rate over the random arms' depths
    shared = [(L, n) for L, n in zip(depths_zas, zas_n, strict=True) if max(depths) >= L]
    shared_rate = None
    if len({L for L, _ in shared}) >= 2:
        shared_rate = experiments.linear_fit(
            [L for L, _ in shared], [math.log(max(n, 1)) for _, n in shared]
        )
    verdict = combine_verdicts(verdicts)
    worst_name = min(scores, key=lambda k: scores[k])
    res = CheckResult(
        verdict=verdict,
        measured=scores[worst_name],
        bound=0.0,
        margin=scores[worst_name],
        relation=">=",
        arithmetic=b.name,
        precision_bits=b.prec,
        method="gd",
        measured_repr="min over arms of log(RSS of the wrong growth law / RSS of the claimed one)",
        evidence={
            "arms": arms,
            "eta": "eta0 / L",
            "eta0": eta0,
            "rel_tol": rel_tol,
            "max_steps": max_steps,
            "zas_exp_rate_on_shared_depths": None if shared_rate is None else shared_rate.to_dict(),
        },
        tightest={"arm": worst_name, "log_rss_ratio": scores[worst_name]},
        notes="; ".join(summary)
        + (
            ""
            if shared_rate is None
            else f". On the random arms' depths ZAS's exponential rate is {shared_rate.slope:.3f} "
            f"+- {shared_rate.slope_se:.3f}/layer"
        )
        + ". Growth-law preference from two-parameter least squares on log counts; "
        "medians over seeds.",
    )
    if verdict is Verdict.VIOLATED:
        res.counterexample = {
            "arm": worst_name,
            "depths": arms[worst_name]["depths"],
            "iterations": arms[worst_name]["median"],
            "fits": arms[worst_name]["fits"],
        }
    return res
