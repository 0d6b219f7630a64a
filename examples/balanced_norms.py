"""A claim card of the user's own: balanced layers keep equal norms along gradient flow.

Claim (Arora, Cohen & Hazan, ICML 2018, Sec. 5 and Thm. 1; Arora, Cohen, Golowich & Hu,
ICLR 2019, Def. 1 "balancedness"): if the initialization is *balanced*,
``W_{l+1}(0)^T W_{l+1}(0) = W_l(0) W_l(0)^T`` for ``l = 1..L-1``, then under gradient flow
on ``R = 1/2 ||W_{L:1} - Phi||_F^2`` it stays balanced for all ``t >= 0``; taking traces,
every layer has the same Frobenius norm for all ``t``:
``||W_1(t)||_F = ... = ||W_L(t)||_F``.

Kind: conservation (an identity along the flow).  Bound: exact.

Reading formalized: from a balanced init ``W_l = P_{l+1} S P_l^T`` (``P_l`` signed
permutation matrices, one diagonal ``S``: exactly representable, exactly balanced), integrate
the flow with the library's Taylor integrator and measure the largest spread
``max_l |‖W_{l+1}(t)‖_F^2 - ‖W_l(t)‖_F^2|`` on a time grid, against a budget made of the
integration error estimate and the rounding of the norms.  The flow is integrated, not
enclosed, so the best verdict is ``holds``.  Negative control ``unbalanced-init``: ZAS
(``W_L = 0``, the rest ``I``) is not balanced, so the norms differ from the start.

This file is an example of a user card (README, "Write your own claim card"):
``zascheck check --cards examples/balanced_norms.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from zascheck import dynamics, inits, model
from zascheck.card import Card, Quantifier, RunContext
from zascheck.model import Target
from zascheck.result import CheckResult, combine_verdicts, covers, decide

CARD = Card(
    id="user.balanced-norms",
    section="U",
    kind="conservation",
    source="Arora, Cohen & Hazan, ICML 2018, Thm. 1; Arora et al., ICLR 2019, Def. 1",
    statement="From a balanced init, gradient flow keeps ||W_1||_F = ... = ||W_L||_F for all t >= 0.",
    bound="exact",
    quantifiers=(
        Quantifier("t", "t >= 0 (gradient flow)"),
        Quantifier("init", "every balanced initialization"),
        Quantifier("Phi", "every target Phi in R^{d x d}"),
        Quantifier("L", "every depth L >= 2"),
    ),
    depends_on=("zas.lemma4.2",),
)


def balanced_init(L: int, d: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``W_l = P_{l+1} S P_l^T`` (``d x d``) with random signed permutations ``P_l`` and
    one diagonal ``S`` of dyadic entries in ``[1/2, 3/2]``: exactly balanced."""
    s = np.diag(rng.integers(8, 25, size=d) / 16.0)
    ps = []
    for _ in range(L + 1):
        p = np.eye(d)[rng.permutation(d)]
        ps.append(p * rng.choice([-1.0, 1.0], size=d))
    return [ps[l + 1] @ s @ ps[l].T for l in range(L)]


def _spread(b: Any, ws: list[Any], err: float) -> tuple[float, float]:
    """Largest ``|‖W_{l+1}‖_F^2 - ‖W_l‖_F^2|`` and its error budget (integration error
    ``err`` on the weights, first and second order, plus rounding of the norms)."""
    n2 = [b.to_float(b.fro2(w)) for w in ws]
    worst = max(abs(n2[l + 1] - n2[l]) for l in range(len(ws) - 1))
    nmax = math.sqrt(max(n2))
    n = ws[0].shape[0] if hasattr(ws[0], "shape") else b.shape(ws[0])[0]
    budget = 2 * (2 * nmax * err + err * err) + 2 * b.gamma(n * n + 1) * max(n2)
    return worst, budget


@CARD.check(
    "flow",
    budgets={
        "quick": {"depths": [2, 3], "d": 2, "init": "balanced", "times": [0.25, 0.5, 1.0]},
        "standard": {"depths": [2, 3, 5], "d": 3, "init": "balanced", "times": [0.25, 0.5, 1.0, 2.0]},
    },
    controls={"unbalanced-init": {"init": "zas"}},
    accepts_phi=True,
)
def flow(ctx: RunContext, depths: list[int], d: int, init: str, times: list[float],
         phi: Any = None) -> CheckResult:
    """Gradient flow from a balanced init: the layer norms stay equal (holds, not enclosed)."""
    b = ctx.backend("float64")
    rng = ctx.rng(7)
    phi_m = np.asarray(phi, dtype=float) if phi is not None else rng.standard_normal((d, d)) / 2
    d = phi_m.shape[0]
    verdicts, pairs = [], []
    with b.session():
        target = Target.whitened(b, phi_m)
        for L in depths:
            w0 = balanced_init(L, d, rng) if init == "balanced" else inits.zas(L, d)
            run = dynamics.flow(b, [b.matrix(w) for w in w0], target, [0.0, *times])
            for ws, err in zip(run.ws, run.errors, strict=True):
                spread, budget = _spread(b, ws, err)
                verdicts.append(decide(b, spread, budget, relation="<="))
                pairs.append((spread - budget, spread, budget))
        r0 = b.to_float(model.loss(b, [b.matrix(w) for w in w0], target))
    _, spread, budget = max(pairs)  # the comparison with the least room
    return CheckResult(
        verdict=combine_verdicts(verdicts),
        measured=spread,
        bound=budget,
        relation="<=",
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max over L, t of |‖W_{l+1}‖_F^2 - ‖W_l‖_F^2| (its budget is the bound)",
        evidence={"R0_last": r0},
        scope={
            "t": covers(f"t in {{0, {', '.join(map(str, times))}}}"),
            "init": covers("random balanced inits (signed permutations, dyadic S)"
                           if init == "balanced" else f"{init} (control)"),
            "Phi": covers("the user's target" if phi is not None else f"1 Gaussian target, d = {d}"),
            "L": covers(f"L in {{{', '.join(map(str, depths))}}}"),
        },
        notes="gradient flow by Taylor integration; integration error estimated, not enclosed.",
    )
