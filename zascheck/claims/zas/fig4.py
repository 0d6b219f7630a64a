"""Nonlinear ResNet (6.1) from mZAS (6.2) trains at L = 100..10^4 on 1000 Fashion-MNIST samples; Xavier needs far smaller lr and blows up at L = 2000, 10^4.

Source: Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Section 6, eqs. (6.1)-(6.2)
and Figure 4.  Kind: empirical (no bound; ``bound="none"``).

The claim, quoted (Sec. 6)::

    Consider the following residual network f : R^d -> R^d':
        z_0 = V_0 x,  z_l = z_{l-1} + U_l sigma(V_l z_{l-1}),  l = 1, ..., L,
        f(x) = U_{L+1} z_L,                                              (6.1)
    [...] we propose the following modified ZAS (mZAS) initialization:
        U_l = 0, l = 1, 2, ..., L + 1,  (V_l)_ij ~ N(0, 1/D) i.i.d., l = 0, 1, ..., L.   (6.2)
    We test two types of initialization: (1) standard Xavier initialization;
    (2) mZAS initialization (6.2).  The experiments are conducted on
    Fashion-MNIST [20], where we select 1000 training samples [...].  Depth
    L = 100, 200, 2000, 10000 are tested, and the learning rate for each depth
    is tuned to the achieve the fastest convergence. [...] It is shown that
    mZAS initialization always outperforms the Xavier initialization.
    Moreover, gradient descent with mZAS initialization is even able to
    successfully optimize a 10000-layer residual network.

Figure 4's caption: "the mZAS initialization outperforms the Xavier
initialization.  The latter blow up for depth L = 2000, 10000."  Its legend:
mZAS at L = 100, 200, 2000, 10000 with lr 1e-1, 1e-1, 2e-2, 2e-3; Xavier at
L = 100 with lr 1e-3 and L = 200 with lr 1e-6; training accuracy (%) against
iterations (x100, up to 10^4).

What the paper leaves open, and what this check takes (all in the result's
``params``): ``sigma`` is ReLU (the catalogue's reading); "gradient descent"
is full-batch GD on the 1000 samples at a constant rate; the loss is the mean
softmax cross-entropy (the paper reports training accuracy on a ten-class
classification task, for which cross-entropy is the standard loss; the
square loss would make the readout a regression); widths ``D = m = 16``
(not stated in the paper: wider than the 10 classes so the readout can
separate them; small because a step costs ``6 L`` products of ``(n x D)(D x
m)`` size, and the 10^4-layer step must take seconds on one CPU core:
``benchmarks/fig4_step.py``; equal, which makes Xavier's per-block growth of
``E||z_l||^2``, ``1 + 2Dm/(D+m)^2``, its largest, 3/2: for ``D != m`` it is
smaller but still geometric); pixels scaled to ``[0, 1]``; the first 1000
training samples; float32 (the default of the frameworks such experiments
run in; ``dtype="float64"`` is available).  Runtime: jax, imported on first
use, single-threaded XLA CPU unless ``XLA_FLAGS`` is set
(:func:`zascheck.measure.resnet.jax_runtime`; recorded in ``params["jax"]``).
``zascheck report`` runs each depth as its own case (:func:`split_evidence`,
spread over its worker processes) and hands the values to this check, which
assembles the same result it computes alone (``tests/test_report_speed.py``).
Xavier is Glorot & Bengio (2010) eq. (16), uniform on ``+-sqrt(6/(fan_in +
fan_out))`` for every matrix.  Without ``--data DIR`` the check runs on
scikit-learn's handwritten digits (real data an installed package ships;
1000 of 1797 8x8 images, ten classes), and every result names its data set.

Reading formalized (:mod:`zascheck.measure.resnet`):

* **trains** (at a horizon ``T``): no non-finite loss or gradient, final loss
  below ``H(y)`` (the label entropy: the loss of the best input-independent
  predictor) and final training accuracy above the majority-class frequency
  ``p_max`` by the exact one-sided binomial test at level ``alpha = 0.01``.
* **diverges**: a non-finite loss or gradient, or a final loss above the
  initial one (``R(T) > R(0)(1 + gamma_n)``, ``gamma_n`` the rounding
  allowance of a mean of ``n`` losses).  Neither: **stalled**.
* **tuned rate**: the rate with the lowest loss after ``tune_iterations`` on
  the grid ``etas``, searched from the largest rate down until the loss stops
  improving; that run continues to ``iterations``, and if it diverges on the
  way (a rate that is fastest early can be unstable later) the next-best
  rate is continued instead, then the grid's smaller rates (the discarded
  ones are in the evidence).  Every rate starts from the same initial
  parameters.

Parts (each its own result and scope):

* ``a-mzas-trains``: at every depth the tuned mZAS run trains.  Violated when
  mZAS diverges at every rate of the grid; inconclusive when it only stalls.
* ``b-xavier-blows-up``: at ``L`` in {2000, 10000}, with ``G`` the grid rates
  at which mZAS trains: Xavier diverges at every rate of ``G``, or trains only
  at rates at least 100x (two orders of magnitude) below ``min G``.  Violated
  when Xavier trains at a rate above ``min G / 100``; inconclusive when ``G``
  is empty or the depths are not in the budget.
* ``c-mzas-matches``: at every depth the tuned mZAS run is not significantly
  less accurate than the tuned Xavier run: exact one-sided McNemar test on the
  per-sample correctness at level ``alpha / (number of depths)``
  (Bonferroni).  Holds when Xavier diverged at every rate and mZAS trains.

Budgets: ``quick`` depths 16 and 40 (below the paper's 100; Xavier's forward
growth ``1.5^(L/2)`` already forces small rates there) for 20 iterations,
part (b) not covered; ``standard`` depths 100 and 200 for 1000 iterations
and 2000 and 10000 for the first 5 iterations (enough to see the blow-up,
not the paper's training); ``thorough`` all four depths for the paper's 10^4
iterations (days on one CPU core: see the benchmark).  Negative control
``u-not-zero``: mZAS with ``(U_l)_ij ~ N(0, 1/D)`` (``l <= L``) instead of
``U_l = 0`` breaks (6.2); its forward pass then grows like Xavier's
(``E||z_l||^2`` by 3/2 per block), so at ``L = 300`` (in the paper's range;
at the quick depths it only forces rates as small as Xavier's) GD diverges
at every rate of the grid and part (a) must fail.

What the verdicts depend on: at Xavier's init ``E||z_l||^2`` grows by ``g =
1 + 2Dm/(D+m)^2`` per block, so its logits grow like ``g^(L/2)``; ``D = m``
gives the largest ``g`` (3/2), the case least favourable to Xavier.  For a
bottleneck ``m = D/16``, ``g = 1.11``: ``||z_L||/||z_0||`` ~ ``10^2.3`` at
``L = 100``, ``10^4.6`` at 200 (the paper's Xavier rates 1e-3 and 1e-6 fit
such a growth) and ``10^46`` at 2000, still beyond float32; at ``m = D/64``
(``g = 1.03``) it is ``10^13`` at ``L = 2000``, finite.  Parts (b) and (c) are therefore claims about the
widths as well; other widths are one ``--case '{"D": 32, "m": 8}'`` away.

References: the ZAS paper, Sec. 6 and Figure 4; Glorot & Bengio, AISTATS
2010; Xiao, Rasul & Vollgraf 2017 (Fashion-MNIST).
"""

from __future__ import annotations

import json
import sys
from functools import partial
from typing import Any

import numpy as np
from tqdm import tqdm

from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.errors import InputError
from zascheck.measure import resnet as N
from zascheck.measure.idx import load_dataset
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers, jsonable

CARD = Card(
    id="zas.fig4",
    section="A",
    kind="empirical",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Sec. 6, eqs. (6.1)-(6.2), Figure 4",
    statement="Nonlinear ResNet (6.1) from mZAS (6.2) trains at L = 100..10^4 on 1000 Fashion-MNIST samples; Xavier needs far smaller lr and blows up at L = 2000, 10^4.",
    bound="none",
    quantifiers=(
        Q("L", "depths 100, 200, 2000, 10000"),
        Q("eta", "learning rate tuned per depth and init (paper: mZAS 1e-1, 1e-1, 2e-2, 2e-3)"),
        Q("t", "GD iterations (Figure 4: 10^4)"),
        Q("data", "1000 Fashion-MNIST training samples"),
        Q("init", "one draw of mZAS (6.2) and of Xavier per depth"),
    ),
    depends_on=(),
    figure="fig4",
    parts=("a-mzas-trains", "b-xavier-blows-up", "c-mzas-matches"),
    # the report runs this card's checks at their own budget (depths 100..10^4)
    report={"standard": {"check_budget": "standard"}, "full": {"check_budget": "thorough"}},
)

PAPER_ETAS = {
    "mzas": {100: 1e-1, 200: 1e-1, 2000: 2e-2, 10000: 2e-3},
    "xavier": {100: 1e-3, 200: 1e-6},
}

_DECADES = [10.0**-k for k in range(0, 9)]
_125 = sorted(
    {round(c * 10.0**-k, 12) for k in range(0, 9) for c in (1, 2, 5)} - {5.0, 2.0}, reverse=True
)
_COMMON = {
    "blowup_depths": [2000, 10000],
    "D": 16,
    "m": 16,
    "n": 1000,
    "dtype": "float32",
    "inits": ["mzas", "xavier"],
    "alpha": 0.01,
    "orders": 2,
}


@CARD.check(
    method="gd",
    budgets={
        "quick": _COMMON
        | {
            "depths": [16, 40],
            "iterations": [20, 20],
            "tune_iterations": [20, 20],
            "etas": _DECADES[1:],
        },
        "standard": _COMMON
        | {
            "depths": [100, 200, 2000, 10000],
            "iterations": [1000, 1000, 5, 5],
            "tune_iterations": [100, 100, 5, 5],
            "etas": _125,
        },
        "thorough": _COMMON
        | {
            "depths": [100, 200, 2000, 10000],
            "iterations": [10000] * 4,
            "tune_iterations": [500, 500, 100, 50],
            "etas": _125,
        },
    },
    # (6.2) broken: U_l ~ N(0, 1/D) instead of 0, at a depth of the paper's range where the
    # forward growth 1.5^(L/2) this brings (like Xavier's) exceeds float32 after one step
    controls={
        "u-not-zero": {
            "inits": ["mzas-u", "xavier"],
            "depths": [300],
            "iterations": [20],
            "tune_iterations": [20],
        }
    },
    accepts_data=True,
)
def gd(
    ctx: RunContext,
    depths: list[int],
    blowup_depths: list[int],
    iterations: list[int],
    tune_iterations: list[int],
    etas: list[float],
    D: int,
    m: int,
    n: int,
    dtype: str,
    inits: list[str],
    alpha: float,
    orders: int,
) -> CheckResult:
    """Section 6 / Figure 4: GD on the residual network (6.1) from mZAS (6.2)
    and from Xavier, learning rate tuned per depth on the grid ``etas``;
    parts (a), (b), (c) of the module docstring.  ``inits[0]`` plays mZAS
    (the control swaps in ``mzas-u``), ``inits[1]`` Xavier; ``iterations``
    and ``tune_iterations`` are per depth; ``ctx.data`` (``--data DIR``)
    selects Fashion-MNIST IDX files, else the shipped digits."""
    _validate(depths, iterations, tune_iterations, etas, inits, alpha)
    _validate_sizes(n, D, m, dtype, orders)
    ds = load_dataset(ctx.data, n)  # a bad --data folder fails before jax is imported
    info = N.jax_runtime()
    base = N.baseline(ds.y, ds.classes, alpha, dtype)
    arm = partial(_depth, ctx, etas=etas, ds=ds, base=base, D=D, m=m, dtype=dtype, inits=inits)
    bar = tqdm(total=2 * len(depths), desc="zas.fig4", unit="arm", disable=None if ctx.progress else True,
               file=sys.stderr, leave=False)  # fmt: skip
    with bar:
        per_depth = [
            arm(L, T, Tt, blowup=L in blowup_depths, bar=bar)
            for L, T, Tt in zip(depths, iterations, tune_iterations, strict=True)
        ]
    data_txt = f"{ds.name}, n = {ds.n}, d = {ds.d}"
    parts = [
        _part_a(per_depth, base, data_txt),
        _part_b(per_depth, blowup_depths, orders, data_txt),
        _part_c(per_depth, alpha, data_txt),
    ]
    for p in parts:
        p.arithmetic, p.precision_bits = dtype, int(np.finfo(dtype).nmant + 1)
    for e in per_depth:  # per-sample correctness served the McNemar tests; not evidence to keep
        for role in inits:
            e[role].pop("correct", None)
    res = CheckResult(
        verdict=combine_verdicts([p.verdict for p in parts]),
        relation=">=",
        arithmetic=dtype,
        precision_bits=int(np.finfo(dtype).nmant + 1),
        measured_repr="see the parts: (a) mZAS trains, (b) Xavier blows up, (c) mZAS >= Xavier",
        params={
            "data": ds.name,
            "data_source": ds.source,
            "data_sha256": ds.sha256,
            "d": ds.d,
            "classes": ds.classes,
            "loss": "mean softmax cross-entropy",
            "sigma": "relu",
            "jax": info,
        },
        evidence={
            "per_depth": per_depth,
            "paper_etas": PAPER_ETAS,
            "data": data_txt,
            "baseline": {
                "entropy": base.entropy,
                "majority": float(base.majority),
                "alpha": alpha,
                "gamma": base.gamma,
            },
        },
        scope=_scope(depths, iterations, data_txt, inits),
        parts=parts,
        notes="; ".join(f"({p.part}) {p.verdict.value}: {p.notes}" for p in parts),
    )
    if res.verdict is Verdict.VIOLATED:
        res.counterexample = next(p.counterexample for p in parts if p.verdict is Verdict.VIOLATED)
    return res


def _validate(
    depths: list[int],
    iterations: list[int],
    tune_iterations: list[int],
    etas: list[float],
    inits: list[str],
    alpha: float,
) -> None:
    if not (len(depths) == len(iterations) == len(tune_iterations)) or not depths:
        raise InputError(
            "depths, iterations and tune_iterations must be non-empty lists of one length"
        )
    for T, Tt in zip(iterations, tune_iterations, strict=True):
        if not (isinstance(T, int) and isinstance(Tt, int) and 1 <= Tt <= T):
            raise InputError(f"need 1 <= tune_iterations <= iterations, got {Tt} and {T}")
    if not etas or any(not (isinstance(e, (int, float)) and 0 < e < float("inf")) for e in etas):
        raise InputError(f"etas must be a non-empty list of rates > 0, got {etas!r}")
    if len(inits) != 2 or any(i not in N.INITS for i in inits):
        raise InputError(f"inits must be two of {', '.join(N.INITS)}, got {inits!r}")
    if not (isinstance(alpha, float) and 0 < alpha < 1):
        raise InputError(f"alpha must be in (0, 1), got {alpha!r}")


def _validate_sizes(n: int, D: int, m: int, dtype: str, orders: int) -> None:
    for name, v, lo in (("n", n, 2), ("D", D, 1), ("m", m, 1), ("orders", orders, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise InputError(f"parameter {name} must be an integer >= {lo}, got {v!r}")
    if dtype not in ("float32", "float64"):
        raise InputError(f"dtype must be float32 or float64, got {dtype!r}")


#: per-depth evidence of :func:`gd` computed ahead of it, by :func:`depth_key`.
#: ``zascheck report`` runs each depth as its own case (:func:`split_evidence`),
#: so that the worker pool spreads the depths, and hands the values to the
#: check (:func:`prime`); :func:`_depth` then takes the entry instead of
#: recomputing it.  An entry is the value :func:`_depth` itself returns for the
#: same arguments (the key holds every one it depends on), so the result is the
#: same; an absent entry is computed as usual.
_PRIMED: dict[str, dict[str, Any]] = {}


def depth_key(
    seed: int,
    L: int,
    T: int,
    Tt: int,
    *,
    etas: list[float],
    data_sha256: str,
    alpha: float,
    D: int,
    m: int,
    dtype: str,
    inits: list[str],
    blowup: bool,
) -> str:
    """The key of one depth's evidence in :data:`_PRIMED`: every argument
    :func:`_depth` depends on (the data by its SHA-256, the baseline by
    ``alpha``, the seed of the run)."""
    args = [seed, L, T, Tt, list(etas), data_sha256, alpha, D, m, dtype, list(inits), bool(blowup)]
    return json.dumps(args, separators=(",", ":"))


def split_evidence(
    *,
    seed: int,
    data: str | None,
    L: int,
    T: int,
    Tt: int,
    blowup: bool,
    etas: list[float],
    D: int,
    m: int,
    n: int,
    dtype: str,
    inits: list[str],
    alpha: float,
) -> dict[str, Any]:
    """One depth ``L`` of :func:`gd` on its own (for the report's per-depth
    cases): ``{"key": depth_key(...), "value": ...}`` with the JSON-able value
    of :func:`_depth` (the per-sample correctness as lists of booleans).  The
    arguments are those of :func:`gd` at this depth (``T``, ``Tt`` its
    iterations and tuning horizon, ``blowup`` whether it is a blow-up depth);
    raises :class:`InputError` as :func:`gd` does."""
    _validate([L], [T], [Tt], etas, inits, alpha)
    _validate_sizes(n, D, m, dtype, 0)
    ds = load_dataset(data, n)
    N.jax_runtime()
    base = N.baseline(ds.y, ds.classes, alpha, dtype)
    bar = tqdm(disable=True)
    value = _depth(RunContext(seed=seed, data=data), L, T, Tt, etas=etas, ds=ds, base=base, D=D,
                   m=m, dtype=dtype, inits=inits, blowup=blowup, bar=bar)  # fmt: skip
    key = depth_key(seed, L, T, Tt, etas=etas, data_sha256=ds.sha256, alpha=alpha, D=D, m=m,
                    dtype=dtype, inits=inits, blowup=blowup)  # fmt: skip
    return {"key": key, "value": jsonable(value)}


def split_cases(params: dict[str, Any], seed: int, data: str | None) -> list[dict[str, Any]]:
    """The keyword arguments of :func:`split_evidence` for every depth of a
    :func:`gd` run with the resolved parameters ``params``."""
    keep = ("etas", "D", "m", "n", "dtype", "inits", "alpha")
    return [
        {
            "seed": seed,
            "data": data,
            "L": L,
            "T": T,
            "Tt": Tt,
            "blowup": L in params["blowup_depths"],
        }
        | {k: params[k] for k in keep}
        for L, T, Tt in zip(
            params["depths"], params["iterations"], params["tune_iterations"], strict=True
        )
    ]


def prime(entries: list[dict[str, Any]]) -> None:
    """Hand values of :func:`split_evidence` to the next :func:`gd` in this process."""
    for e in entries:
        _PRIMED[e["key"]] = e["value"]


def _from_primed(value: dict[str, Any], inits: list[str]) -> dict[str, Any]:
    out = json.loads(json.dumps(value))  # a private copy
    for role in inits:
        if out[role].get("correct") is not None:
            out[role]["correct"] = np.asarray(out[role]["correct"], dtype=bool)
    return out


def _depth(
    ctx: RunContext,
    L: int,
    T: int,
    Tt: int,
    *,
    etas: list[float],
    ds: Any,
    base: N.Baseline,
    D: int,
    m: int,
    dtype: str,
    inits: list[str],
    blowup: bool,
    bar: Any,
) -> dict[str, Any]:
    """Tune each init at depth ``L`` on ``etas`` over ``Tt`` iterations,
    continue the tuned runs to ``T``; for a blow-up depth also run the Xavier
    role at every rate where the mZAS role trains.  Taken from
    :data:`_PRIMED` when it holds this depth."""
    key = depth_key(ctx.seed, L, T, Tt, etas=etas, data_sha256=ds.sha256, alpha=base.alpha, D=D,
                    m=m, dtype=dtype, inits=inits, blowup=blowup)  # fmt: skip
    if key in _PRIMED:
        bar.update(len(inits))
        return _from_primed(_PRIMED.pop(key), inits)
    out: dict[str, Any] = {"L": L, "iterations": T, "tune_iterations": Tt, "blowup_depth": blowup}
    tunings = {}
    for k, init in enumerate(inits):
        bar.set_postfix_str(f"L = {L}, {init}")
        tu = N.Tuning(
            init, L, ds, D=D, m=m, seed=[ctx.seed, 64, L, k], dtype=dtype, horizon=Tt, base=base
        )
        tunings[init] = tu
        out[init] = _tuned(tu, tu.search(etas), T, etas, base, ds)
        bar.update()
    if blowup:  # part (b) needs the Xavier role at every rate where the mZAS role trains
        a, b = tunings[inits[0]], tunings[inits[1]]
        for eta, row in a.rows.items():
            if row["status"] == "trains":
                b.run_at(eta)
                N.release(b.runs[eta])
        out[inits[1]]["grid"] = _grid(b)
    out["roles"] = {"mzas": inits[0], "xavier": inits[1]}
    return out


def _grid(tu: N.Tuning) -> list[dict[str, Any]]:
    return [tu.rows[e] for e in sorted(tu.rows, reverse=True)]


def _tuned(
    tu: N.Tuning, ranked: list[N.Run], T: int, etas: list[float], base: N.Baseline, ds: Any
) -> dict[str, Any]:
    """Continue the best rate of the grid to ``T`` iterations; if it diverges
    on the way (a rate that is fastest early can be unstable later), the
    next-best, and then the grid's smaller rates not yet tried, each from the
    start; the first run that does not diverge is the tuned run."""
    out: dict[str, Any] = {"init": tu.init, "grid": [], "tuned": None, "discarded": []}
    r0 = next(iter(tu.runs.values()))
    out["loss_t0"], out["grad_norm_t0"] = r0.loss[0], r0.grad_norm[0]
    if tu.t0_nonfinite is not None:
        out["log10_forward_growth"] = N.forward_log10_growth(
            tu.init,
            tu.L,
            ds.X,
            D=tu.D,
            m=tu.m,
            classes=ds.classes,
            rng=np.random.default_rng(tu.seed),
        )
    below = [e for e in sorted(etas, reverse=True) if e < min(tu.rows)] if ranked else []
    queue: list[Any] = list(ranked) + below
    while queue and out["tuned"] is None:
        item = queue.pop(0)
        if isinstance(item, N.Run):
            run = item
        elif tu.run_at(item)["status"] == "diverged":
            continue
        else:
            run = tu.runs[item]
        N.advance(run, T - run.iterations)
        row = N.classify(run, base)
        if row["status"] == "diverged":
            out["discarded"].append(
                {k: row[k] for k in ("eta", "iterations", "stopped", "loss_final")}
            )
        else:
            out["tuned"] = row | {"curves": N.curves(run)}
            out["correct"] = run.correct
        N.release(run)
    for run in queue:
        if isinstance(run, N.Run):
            N.release(run)
    out["grid"] = _grid(tu)
    return out


def _scope(
    depths: list[int], iterations: list[int], data: str, inits: list[str], extra: str = ""
) -> dict[str, Any]:
    by_T: dict[int, list[str]] = {}
    for L, T in zip(depths, iterations, strict=True):
        by_T.setdefault(T, []).append(str(L))
    t_txt = (
        f"t < {iterations[0]} GD iterations"
        if len(by_T) == 1
        else "; ".join(f"t < {T} at L = {', '.join(Ls)}" for T, Ls in by_T.items())
    )
    return {
        "L": covers(f"L in {{{', '.join(map(str, depths))}}}{extra}"),
        "eta": covers("rate tuned on the budget's grid"),
        "t": covers(t_txt),
        "data": covers(data),
        "init": covers(f"one draw each of {inits[0]} and {inits[1]} per depth"),
    }


def _part(
    name: str,
    verdicts: list[Verdict],
    notes: list[str],
    scope: dict[str, Any],
    measured: float | None,
    bound: float | None,
    relation: str,
    what: str,
    counterexample: dict[str, Any] | None = None,
) -> CheckResult:
    v = combine_verdicts(verdicts)
    return CheckResult(
        verdict=v,
        part=name,
        measured=measured,
        bound=bound,
        relation=relation,
        measured_repr=what,
        notes="; ".join(notes),
        scope=scope,
        counterexample=counterexample if v is Verdict.VIOLATED else None,
    )


def _part_a(per_depth: list[dict[str, Any]], base: N.Baseline, data: str) -> CheckResult:
    """(a) the mZAS role trains at every depth (tuned run, full horizon)."""
    vs, notes, accs, bad = [], [], [], None
    for e in per_depth:
        a = e[e["roles"]["mzas"]]
        t = a["tuned"]
        statuses = {r["status"] for r in a["grid"]}
        if t is not None and t["status"] == "trains":
            vs.append(Verdict.HOLDS)
            accs.append(t["accuracy_final"])
            notes.append(
                f"L = {e['L']}: trains at eta = {t['eta']:g} (accuracy "
                f"{t['accuracy_final']:.3f}, loss {t['loss_final']:.4g} < H(y) = "
                f"{base.entropy:.4g}, t = {t['iterations'] - 1})"
            )
        elif statuses == {"diverged"}:
            vs.append(Verdict.VIOLATED)
            bad = bad or {"L": e["L"], "init": a["init"], "grid": a["grid"]}
            notes.append(f"L = {e['L']}: {a['init']} diverges at every rate of the grid")
        else:
            vs.append(Verdict.INCONCLUSIVE)
            notes.append(
                f"L = {e['L']}: {a['init']} neither trains nor diverges at every rate "
                f"({t['status'] if t else 'no tuned run'} at the tuned rate)"
            )
    depths = [e["L"] for e in per_depth]
    return _part(
        "a-mzas-trains",
        vs,
        notes,
        _scope(depths, [e["iterations"] for e in per_depth], data, _roles(per_depth)),
        min(accs) if accs else None,
        float(base.majority),
        ">=",
        "lowest final training accuracy of the tuned mZAS runs vs the majority-class "
        "rate (decided by the binomial test and H(y))",
        bad,
    )


def _roles(per_depth: list[dict[str, Any]]) -> list[str]:
    r = per_depth[0]["roles"]
    return [r["mzas"], r["xavier"]]


def _part_b(
    per_depth: list[dict[str, Any]], blowup: list[int], orders: int, data: str
) -> CheckResult:
    """(b) at the blow-up depths Xavier diverges wherever mZAS trains, or
    trains only at rates ``10^orders`` times smaller."""
    rows = [e for e in per_depth if e["L"] in blowup]
    if not rows:
        return CheckResult(
            verdict=Verdict.INCONCLUSIVE,
            relation=">=",
            part="b-xavier-blows-up",
            measured_repr="not run: no blow-up depth in this budget",
            notes=f"no depth of {blowup} in this budget (--budget standard runs them)",
            scope={"L": covers(f"none of {blowup}")},
        )
    vs, notes, fracs, bad = [], [], [], None
    for e in rows:
        v, note, frac, cx = _blowup_at(e, orders)
        vs.append(v)
        notes.append(note)
        fracs.append(frac)
        bad = bad or cx
    scope = _scope(
        [e["L"] for e in rows], [e["tune_iterations"] for e in rows], data, _roles(per_depth)
    )
    scope["eta"] = covers("every grid rate at which mZAS trains, and the grid below it")
    return _part(
        "b-xavier-blows-up",
        vs,
        notes,
        scope,
        min((f for f in fracs if f is not None), default=None),
        1.0,
        ">=",
        "fraction of the rates where mZAS trains at which Xavier diverges",
        bad,
    )


def _blowup_at(e: dict[str, Any], orders: int) -> tuple[Verdict, str, float | None, Any]:
    a, b = e[e["roles"]["mzas"]], e[e["roles"]["xavier"]]
    G = [r["eta"] for r in a["grid"] if r["status"] == "trains"]
    xs = {r["eta"]: r["status"] for r in b["grid"]}
    L = e["L"]
    if not G:
        return (
            Verdict.INCONCLUSIVE,
            f"L = {L}: mZAS trains at no grid rate (premise unmet)",
            None,
            None,
        )
    div = [g for g in G if xs.get(g) == "diverged"]
    frac = len(div) / len(G)
    x_trains = sorted(eta for eta, s in xs.items() if s == "trains")
    cut = min(G) / 10**orders
    growth = b.get("log10_forward_growth")
    gtxt = f"; Xavier's forward grows by 10^{growth:.1f} at t = 0" if growth is not None else ""
    if any(eta > cut for eta in x_trains):
        cx = {"L": L, "xavier_trains_at": [x for x in x_trains if x > cut], "mzas_trains_at": G}
        return (
            Verdict.VIOLATED,
            f"L = {L}: Xavier trains at {cx['xavier_trains_at']}, within "
            f"10^{orders} of mZAS's smallest rate {min(G):g}",
            frac,
            cx,
        )
    if frac == 1.0:
        return (
            Verdict.HOLDS,
            f"L = {L}: Xavier diverges at all {len(G)} rates where mZAS trains "
            f"({b['grid'][0]['stopped'] or 'loss grew'}){gtxt}",
            frac,
            None,
        )
    if x_trains:
        return (
            Verdict.HOLDS,
            f"L = {L}: Xavier trains only at {x_trains}, <= {min(G):g}/10^{orders}",
            frac,
            None,
        )
    return (
        Verdict.INCONCLUSIVE,
        f"L = {L}: Xavier stalls at some rates where mZAS trains and trains at none",
        frac,
        None,
    )


def _part_c(per_depth: list[dict[str, Any]], alpha: float, data: str) -> CheckResult:
    """(c) the tuned mZAS run is not significantly less accurate than the tuned Xavier run."""
    level = alpha / len(per_depth)
    vs, notes, diffs, bad = [], [], [], None
    for e in per_depth:
        a, b = e[e["roles"]["mzas"]], e[e["roles"]["xavier"]]
        L = e["L"]
        if b["tuned"] is None:
            ok = a["tuned"] is not None and a["tuned"]["status"] == "trains"
            vs.append(Verdict.HOLDS if ok else Verdict.INCONCLUSIVE)
            notes.append(
                f"L = {L}: Xavier diverges at every rate tried"
                + ("; mZAS trains" if ok else "; mZAS does not train either")
            )
            continue
        if a["tuned"] is None:
            vs.append(Verdict.VIOLATED)
            bad = bad or {"L": L, "mzas": "diverges at every rate", "xavier": b["tuned"]}
            notes.append(f"L = {L}: mZAS diverges at every rate, Xavier does not")
            continue
        x_better = N.mcnemar_greater(b["correct"], a["correct"])
        m_better = N.mcnemar_greater(a["correct"], b["correct"])
        diff = a["tuned"]["accuracy_final"] - b["tuned"]["accuracy_final"]
        diffs.append(diff)
        e["mcnemar"] = {"xavier_better": x_better, "mzas_better": m_better, "level": level}
        if x_better["p_value"] < level:
            vs.append(Verdict.VIOLATED)
            bad = bad or {
                "L": L,
                "accuracy_mzas": a["tuned"]["accuracy_final"],
                "accuracy_xavier": b["tuned"]["accuracy_final"],
                "mcnemar": x_better,
            }
        else:
            vs.append(Verdict.HOLDS)
        notes.append(
            f"L = {L}: accuracy mZAS {a['tuned']['accuracy_final']:.3f} (eta "
            f"{a['tuned']['eta']:g}) vs Xavier {b['tuned']['accuracy_final']:.3f} (eta "
            f"{b['tuned']['eta']:g}); McNemar p(Xavier better) = {x_better['p_value']:.2g}, "
            f"p(mZAS better) = {m_better['p_value']:.2g}, level {level:.2g}"
        )
    return _part(
        "c-mzas-matches",
        vs,
        notes,
        _scope(
            [e["L"] for e in per_depth],
            [e["iterations"] for e in per_depth],
            data,
            _roles(per_depth),
        ),
        *_part_c_measure(diffs, vs),
        bad,
    )


def _part_c_measure(diffs: list[float], vs: list[Verdict]) -> tuple[float, float, str, str]:
    """(measured, bound, relation, what) of part (c): the smallest accuracy
    difference where both inits trained; where Xavier trained at no depth there
    is no accuracy to compare, and the quantity that decides (c) is the fraction
    of depths at which mZAS trains while Xavier diverges at every rate."""
    if diffs:
        return (
            min(diffs),
            0.0,
            ">=",
            "smallest accuracy difference mZAS - Xavier over depths (decided by McNemar)",
        )
    won = sum(v is Verdict.HOLDS for v in vs) / len(vs) if vs else 0.0
    return (
        won,
        1.0,
        ">=",
        "fraction of depths where mZAS trains while Xavier diverges at every rate "
        "(no Xavier accuracy to compare)",
    )
