"""Shamir (2018), as the ZAS paper contrasts it: for ``d = 1`` and target
``-1``, GD from Xavier or near-identity needs a number of iterations growing
like ``exp(Omega(L))``; from ZAS it grows polynomially.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 1: "[18] proves that
the number of iterations required for convergence could scales exponentially
with the depth L. The result requires two conditions: (1) the width of each
layer is 1; (2) the gradient descent starts from the standard Xavier [9] or
near-identity [11] initialization."  Sec. 5.1: "[18] ... proves that in the
case d = 1, the number of iteration required for convergence under the
Xavier and the near-identity initialization scales exponentially with the
depth L."  [18] = O. Shamir, "Exponential convergence time of gradient
descent for one-dimensional deep linear neural networks" (2018).  The ZAS
half is the paper's Theorem 4.3 (``O(L^3 log(1/eps))``).

Kind: empirical (a growth law); no bound is checked (``bound="none"``).

Reading formalized: ``d = 1``, ``Phi = -1``, step ``eta = eta0 / L`` for
every init (the curvature at the minimum grows like ``L``), convergence
``R <= rel_tol R(0)`` within ``max_steps``.  Near-identity is (5.1),
``w_l = 1 + N(0, 1/L)``; Xavier for ``d = 1`` is ``w_l ~ N(0, 1)``.  Per
random init, ``N(L)`` is the lower median over seeds (a capped median is a
lower bound); ZAS is deterministic, one run per depth, followed to larger
depths (the distinction is asymptotic).  Per arm, exponential
(``log N = a + b L``) and polynomial (``log N = a + c log L``) growth are
compared by Vuong's likelihood-ratio test on ``log N``
(:func:`zascheck.experiments.compare_growth`, Student-t reference, one-sided
5% each way): the claimed law preferred is ``holds``, the other law
preferred is ``violated``, neither is ``inconclusive`` (the data cannot tell
the laws apart, e.g. depths 2..6).  Capped medians only count where they
bias against the verdict (a random arm's lower bounds understate
exponential growth).  One part per arm.

Negative control ``shrunk-zas``: alpha-ZAS with ``alpha = 0.7`` in the ZAS
arm (breaks "identity layers": the initial rate is ``0.49^(L-1)``, so the
count grows exponentially) must be caught.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import experiments, inits
from zascheck.arith import backend
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers

CARD = Card(
    id="shamir.lower",
    section="A",
    kind="empirical",
    source="Shamir 2018 (ref. [18] of the ZAS paper), as contrasted in its Sec. 1 and 5.1",
    statement=(
        "d = 1, target -1, Xavier or near-identity init: iterations to converge grow like "
        "exp(Omega(L)); ZAS: polynomially."
    ),
    bound="none",
    quantifiers=(
        Q("L", "every depth L (a growth law)"),
        Q("init", "Xavier or near-identity (random), and ZAS"),
    ),
    depends_on=("zas.thm4.3",),
    figure="shamir",
)

#: float64: the batches stack the runs (one array of networks)
_F = backend("float64")


@CARD.check(
    method="gd",
    budgets={
        "quick": {
            "depths": [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
            "depths_zas": [2, 4, 8, 16, 32, 64, 128, 256],
            "seeds": 24,
            "eta0": 0.25,
            "rel_tol": 1e-10,
            "max_steps": 3000,
            "random_inits": ["near-identity", "xavier"],
            "zas_alpha": 1.0,
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
) -> CheckResult:
    """Iteration counts per arm (random arms batched, one stack per
    depth, stopping once more than half the seeds converged:
    :func:`zascheck.experiments.batch_first_hits`), then one growth-law
    test per arm.  measured = the largest one-sided p-value of the claimed
    law over the arms (bound 0.05).  Raises :class:`InputError` for an
    unknown random init or ``seeds < 1``."""
    bad = [n for n in random_inits if n not in ("near-identity", "xavier")]
    if bad or seeds < 1:
        raise InputError(
            f"random_inits must be near-identity and/or xavier (got {bad}), seeds >= 1"
        )
    arms = {name: _random_arm(ctx.seed, j, name, depths, seeds, eta0, rel_tol, max_steps)
            for j, name in enumerate(random_inits)}  # fmt: skip
    zas_name = "zas" if zas_alpha == 1.0 else f"alpha-zas({zas_alpha})"
    arms[zas_name] = _zas_arm(depths_zas, zas_alpha, eta0, rel_tol, max_steps)
    scope = {
        "L": covers(f"random inits: L in {list(depths)}; {zas_name}: L in {list(depths_zas)}"),
        "init": covers(
            f"{seeds} seeds each of {', '.join(random_inits)} (medians); {zas_name} (deterministic)"
        ),
    }
    parts = [_arm_part(name, arm, name == zas_name, scope) for name, arm in arms.items()]
    worst = max(parts, key=lambda p: p.measured if p.measured is not None else math.inf)
    res = CheckResult(
        verdict=combine_verdicts([p.verdict for p in parts]),
        measured=worst.measured,
        bound=0.05,
        relation="<=",
        arithmetic="float64",
        precision_bits=53,
        method="gd",
        measured_repr="largest one-sided p-value of the claimed growth law over the arms (Vuong test)",
        evidence={
            "arms": arms,
            "eta": "eta0 / L",
            "eta0": eta0,
            "rel_tol": rel_tol,
            "max_steps": max_steps,
            "zas_exp_rate_on_shared_depths": _shared_rate(arms[zas_name], depths),
        },
        tightest={"arm": worst.part, "p_value": worst.measured},
        notes="; ".join(p.notes for p in parts)
        + ". Growth laws compared by Vuong's test on log N (Student-t, one-sided 5% each way).",
        scope=scope,
        parts=parts,
    )
    bad_parts = [p for p in parts if p.verdict is Verdict.VIOLATED]
    if bad_parts:
        res.counterexample = bad_parts[0].counterexample
    return res


def _random_arm(
    seed: int,
    j: int,
    name: str,
    depths: list[int],
    seeds: int,
    eta0: float,
    rel_tol: float,
    max_steps: int,
) -> dict[str, Any]:
    """Lower-median iterations over ``seeds`` random inits per depth (one
    batch per depth; a censored median is recorded as the batch's last step)."""
    arm: dict[str, Any] = {"depths": [], "median": [], "censored": [], "hits": {}, "stopped_at": []}
    for L in depths:
        runs = []
        for i in range(seeds):
            rng = np.random.default_rng([seed, 6, j, L, i])
            runs.append(
                inits.near_identity(L, 1, rng)
                if name == "near-identity"
                else inits.xavier(L, 1, rng)
            )
        br = experiments.batch_first_hits(
            _F, runs, -np.eye(1), eta0 / L, rel_tol=rel_tol,
            max_steps=max_steps, until="median",
        )  # fmt: skip
        med = experiments.lower_median(br.hits)
        arm["depths"].append(L)
        arm["median"].append(med if med is not None else br.steps)
        arm["censored"].append(med is None)
        arm["hits"][str(L)] = br.hits
        arm["stopped_at"].append(br.steps)  # a None hit is censored here (a lower bound)
    return arm


def _zas_arm(
    depths: list[int], alpha: float, eta0: float, rel_tol: float, max_steps: int
) -> dict[str, Any]:
    b = _F
    n_list, cens = [], []
    for L in depths:
        n = experiments.iterations_to_eps(
            b, inits.alpha_zas(L, 1, alpha), Target.whitened(b, -np.eye(1)), eta0 / L,
            rel_tol=rel_tol, max_steps=max_steps,
        )  # fmt: skip
        n_list.append(n if n is not None else max_steps)
        cens.append(n is None)
    return {"depths": list(depths), "median": n_list, "censored": cens}


def _arm_part(name: str, arm: dict[str, Any], is_zas: bool, scope: dict[str, Any]) -> CheckResult:
    """One arm's growth-law test; the arm dict gains ``fits``, ``test``,
    ``preferred`` and ``verdict`` (the report reads them)."""
    want, other = ("polynomial", "exponential") if is_zas else ("exponential", "polynomial")
    cmp = experiments.compare_growth(arm["depths"], [max(v, 1) for v in arm["median"]])
    if cmp.preferred == want:
        v = Verdict.HOLDS
    elif cmp.preferred == other:
        v = Verdict.VIOLATED
    else:
        v = Verdict.INCONCLUSIVE
    # capped medians are lower bounds: they understate growth, so they may
    # only support a verdict they bias against
    cens = any(arm["censored"])
    if cens and ((v is Verdict.HOLDS and is_zas) or (v is Verdict.VIOLATED and not is_zas)):
        v = Verdict.INCONCLUSIVE
    fits = cmp.fits
    arm |= {
        "fits": {k: f.to_dict() for k, f in fits.items()},
        "test": cmp.to_dict(),
        "preferred": cmp.preferred or "neither (not separable at 5%)",
        "verdict": v.value,
    }
    p_want = cmp.p_polynomial if is_zas else cmp.p_exponential
    ex, po = fits["exponential"], fits["polynomial"]
    res = CheckResult(
        verdict=v, part=name, scope=dict(scope), arithmetic="float64", precision_bits=53,
        measured=p_want, bound=cmp.level, relation="<=",
        measured_repr=f"one-sided p-value that the {want} law fits {name}'s log N better",
        notes=(
            f"{name}: exp rate {ex.slope:.3f}/layer (RSS {ex.rss:.3g}), degree {po.slope:.3f} "
            f"(RSS {po.rss:.3g}); Vuong t = {cmp.statistic:.3g}, p(polynomial) = "
            f"{cmp.p_polynomial:.3g}, p(exponential) = {cmp.p_exponential:.3g}: "
            f"{arm['preferred']}" + (f" [{cmp.reason}]" if cmp.reason else "")
            + (f", {sum(arm['censored'])} capped median(s)" if cens else "")
        ),
    )  # fmt: skip
    if v is Verdict.VIOLATED:
        res.counterexample = {"arm": name, "depths": arm["depths"], "iterations": arm["median"],
                              "test": cmp.to_dict()}  # fmt: skip
    return res


def _shared_rate(zas: dict[str, Any], depths: list[int]) -> dict[str, float] | None:
    """ZAS's exponential rate on the random arms' depth range (for the report)."""
    shared = [(L, n) for L, n in zip(zas["depths"], zas["median"], strict=True) if max(depths) >= L]
    if len({L for L, _ in shared}) < 2:
        return None
    return experiments.linear_fit(
        [L for L, _ in shared], [math.log(max(n, 1)) for _, n in shared]
    ).to_dict()
