"""The units of work of a report ("cases"): one registered check, one point of
a sweep, one seed.  :func:`run_case` is the worker entry point; every case is
a pure function of its parameters, returns a JSON-able dict, and is cached by
:mod:`zascheck.report.cache` under a hash of ``(kind, params, code)``.
"""

from __future__ import annotations

import functools
import math
import time
from pathlib import Path
from typing import Any

import numpy as np


__all__ = ["SPLITS", "Case", "run_case", "split_checks"]

_HERE = Path(__file__).resolve()
_PKG = _HERE.parent.parent


class Case:
    """A unit of work: ``kind`` and ``params``; ``cost`` (rough seconds) orders
    the queue so long cases start first.  ``needs``: cases whose values this
    one takes as input (:func:`zascheck.report.runner.run_cases` runs it after
    them, with ``primed=[their values]``); they are not part of its cache key:
    they are themselves pure functions of parameters this case's own determine."""

    __slots__ = ("cost", "kind", "needs", "params")

    def __init__(
        self, kind: str, params: dict[str, Any], cost: float = 1.0, needs: tuple[Case, ...] = ()
    ) -> None:
        self.kind = kind
        self.params = params
        self.cost = cost
        self.needs = needs

    def modules(self) -> list[str]:
        """The package modules this case starts from: those its worker
        function imports and, for a check, the engine and the card (the cache
        key hashes everything they import, transitively, and this file:
        :func:`zascheck.report.cache.code_fingerprint`)."""
        out = sorted(_worker_imports(self.kind))
        if self.kind in ("check", "check-part"):
            from zascheck.engine import card, checks_for

            chk = checks_for([self.params["key"]])[0]
            out += [card(chk.claim).module, chk.fn.__module__]
        return out

    def fingerprint(self) -> str:
        """The code part of this case's cache key (a user's card file included)."""
        from zascheck.report.cache import code_fingerprint

        files = [_HERE, *(Path(f) for f in self.params.get("cards") or [])]
        return code_fingerprint(self.modules(), files=files)

    def __repr__(self) -> str:
        return f"Case({self.kind}, {self.params})"


@functools.cache
def _worker_imports(kind: str) -> frozenset[str]:
    """Package modules imported by the worker of case ``kind`` (and this
    module's own top-level imports); memoized (this file is parsed once per
    kind, not once per case)."""
    import ast

    from zascheck.report.cache import _imports_of

    tree = ast.parse(_HERE.read_text(encoding="utf-8"))
    funcs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    out = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out |= _imports_of(node, __name__)
    todo, seen = [KINDS[kind].__name__], set()
    while todo:  # the worker and the module functions it calls
        name = todo.pop()
        if name in seen or name not in funcs:
            continue
        seen.add(name)
        out |= _imports_of(funcs[name], __name__)
        todo += [
            c.func.id
            for c in ast.walk(funcs[name])
            if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
        ]
    return frozenset(out)


# ---------------------------------------------------------------------------
# workers
# ---------------------------------------------------------------------------


def _check(
    key: str,
    budget: str,
    seed: int,
    case: dict[str, Any] | None = None,
    cards: list[str] | None = None,
    primed: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One check at ``budget``; ``case`` overrides parameters (the report's
    extra evidence sweeps, e.g. more alphas for ``review.alpha:gd``).  The same
    worker as ``zascheck check`` (:func:`zascheck.engine.run_payload`).
    ``primed``: the values of this check's split cases (:func:`split_checks`),
    handed to its module first; when one of them failed the check computes
    everything itself.  The result's ``seconds`` then include theirs."""
    from zascheck.engine import run_payload

    extra = _prime(key, primed) if primed else 0.0
    out = run_payload((key, {"budget": budget, "seed": seed}, case, None, cards or []))
    if "input_error" in out:
        out["error"] = f"input error: {out.pop('input_error')}"
    if out.get("ok") and extra:
        out["result"]["seconds"] = round(out["result"]["seconds"] + extra, 4)
    return out


def _prime(key: str, primed: list[dict[str, Any]]) -> float:
    """Hand the split cases' values to the module of check ``key``; their
    seconds (0 when one failed and nothing was handed over)."""
    if not all(v.get("ok") for v in primed):
        return 0.0
    _card_module(key).prime([v["evidence"] for v in primed])
    return float(sum(v.get("_seconds", 0.0) for v in primed))


def _card_module(key: str) -> Any:
    """The module of check ``key``'s card, as the engine loaded it (no module
    but the engine imports a card)."""
    import sys

    from zascheck.engine import checks_for

    return sys.modules[checks_for([key])[0].fn.__module__]


def _thm41(L: int, d: int, phi_seed: int, times: list[float]) -> dict[str, Any]:
    """Gradient flow from ZAS in float64 (Taylor integrator) on a dense grid."""
    from zascheck import dynamics, inits, model
    from zascheck.arith import Float64Backend
    from zascheck.model import Target
    from zascheck.targets import make_phi

    b = Float64Backend()
    phi = make_phi("gaussian", d, np.random.default_rng([phi_seed, 41, d]))
    tgt = Target.whitened(b, phi)
    run = dynamics.flow(b, inits.zas(L, d), tgt, times)
    losses = [b.to_float(model.loss(b, ws, tgt)) for ws in run.ws]
    return {
        "L": L,
        "times": list(run.times),
        "ratio": [r / losses[0] for r in losses],
        "integration_error_estimate": run.error_estimate,
    }


def _thm43_phi(d: int, fro: float, phi_seed: int) -> np.ndarray:
    from zascheck.targets import make_phi

    phi = make_phi("gaussian", d, np.random.default_rng([phi_seed, 43, d]))
    return phi * (fro / float(np.linalg.norm(phi)))


def _thm43_run(
    L: int, d: int, fro: float, phi_seed: int, rel_tol: float, max_steps: int
) -> dict[str, Any]:
    """GD from ZAS at the largest double below Theorem 4.3's step, float64."""
    from zascheck import dynamics, inits
    from zascheck.arith import Float64Backend
    from zascheck.bounds import thm43_eta
    from zascheck.measure.figures import thin_curve
    from zascheck.model import Target

    b = Float64Backend()
    phi = _thm43_phi(d, fro, phi_seed)
    eta = float(thm43_eta(b, float(np.linalg.norm(phi)), L))
    run = dynamics.gd(
        b, inits.zas(L, d), Target.whitened(b, phi), eta, max_steps=max_steps, rel_tol=rel_tol
    )
    losses = [b.to_float(r) for r in run.losses]
    T = len(losses) - 1
    from zascheck.bounds import thm43_envelope

    env_ratio_max = max(
        (
            losses[t] / thm43_envelope(b, eta, t, losses[0])
            for t in range(0, T + 1, max(1, T // 2000))
        ),
        default=0.0,
    )
    return {
        "L": L,
        "eta": eta,
        "steps": run.steps,
        "stop": run.stop,
        "curve": thin_curve(losses, 120, max(1, T // 300)),
        "max_ratio_to_envelope_sampled": env_ratio_max,
    }


def _etamax(
    L: int, d: int, fro: float, phi_seed: int, rel_tol: float, max_steps: int, rel_width: float
) -> dict[str, Any]:
    """Largest eta at which GD from ZAS converges (bisection), and Thm 4.3's eta."""
    from zascheck import experiments, inits
    from zascheck.arith import Float64Backend
    from zascheck.bounds import thm43_eta
    from zascheck.model import Target

    b = Float64Backend()
    phi = _thm43_phi(d, fro, phi_seed)
    tgt = Target.whitened(b, phi)
    ws0 = inits.zas(L, d)

    def converges(e: float) -> bool:
        return (
            experiments.iterations_to_eps(b, ws0, tgt, e, rel_tol=rel_tol, max_steps=max_steps)
            is not None
        )

    s = experiments.max_stable_eta(converges, 0.25 / L, rel_width=rel_width)
    eta_thm = float(thm43_eta(b, float(np.linalg.norm(phi)), L))
    return {
        "L": L,
        "eta_max": s.eta,
        "eta_fail": s.eta_fail,
        "evals": s.evals,
        "eta_theorem": eta_thm,
        "ratio": eta_thm / s.eta,
    }


def _drift(L: int, d: int, fro: float, phi_seed: int, steps: int, bits: int) -> dict[str, Any]:
    """Per-step change of D_{L-1} and D_1 under GD at Thm 4.3's step, measured
    in float64 and in mp, with the eta^2 term of the drift identity (mp)."""
    from zascheck import inits, model
    from zascheck.arith import Float64Backend, MpBackend
    from zascheck.bounds import thm43_eta
    from zascheck.measure.conservation import drift_residuals
    from zascheck.model import Target

    phi = _thm43_phi(d, fro, phi_seed)
    f = Float64Backend()
    eta = float(thm43_eta(f, float(np.linalg.norm(phi)), L))
    out: dict[str, Any] = {"L": L, "eta": eta, "layers": {}}
    for name, b in (("float64", f), ("mp", MpBackend(bits))):
        tgt = Target.whitened(b, phi)
        ws = [b.matrix(w) for w in inits.zas(L, d)]
        eta_b = b.scalar(eta)
        rec: dict[str, list[float]] = {}
        for _t in range(steps):
            res, new, _g, d_old = drift_residuals(b, ws, tgt, eta_b)
            d_new = model.invariants(b, new)
            for l in sorted({0, L - 2}):
                if l < 0:
                    continue
                meas = b.sub(d_new[l], d_old[l])
                pred = b.sub(meas, res[l])
                rec.setdefault(f"measured_{l + 1}", []).append(
                    math.sqrt(max(b.to_float(b.fro2(meas)), 0.0))
                )
                rec.setdefault(f"predicted_{l + 1}", []).append(
                    math.sqrt(max(b.to_float(b.fro2(pred)), 0.0))
                )
                rec.setdefault(f"size_{l + 1}", []).append(
                    math.sqrt(max(b.to_float(b.fro2(d_old[l])), 0.0))
                )
            ws = new
        out["layers"][name] = rec
    return out


def _fig2(**kw: Any) -> dict[str, Any]:
    from zascheck.measure.figures import fig2_point

    return fig2_point(**kw)


def _fig2_equiv(**kw: Any) -> dict[str, Any]:
    from zascheck.measure.figures import fig2_equivalence

    return fig2_equivalence(**kw)


def _fig3(**kw: Any) -> dict[str, Any]:
    """Figure 3 runs ``indices`` of one init, as one stacked batch."""
    from zascheck.measure.escape import escape_runs

    keys = ("init", "L", "d", "eta", "max_steps", "rel_tol", "seed", "indices")
    return {"runs": escape_runs(*(kw[k] for k in keys))}


def _check_part(key: str, budget: str, part: dict[str, Any]) -> dict[str, Any]:
    """One split case of check ``key`` (:data:`SPLITS`; for ``zas.fig4:gd``
    one depth, :func:`zascheck.claims.zas.fig4.split_evidence` of ``part``),
    under the time limit of the check's ``budget``; ``ok`` False when it was
    reached or the part raised (the check then computes that part itself)."""
    from zascheck.card import RunContext
    from zascheck.engine import TimeLimitReached, _time_limit

    try:
        with _time_limit(RunContext(budget=budget).seconds_allowed()):
            return {"ok": True, "evidence": _card_module(key).split_evidence(**part)}
    except TimeLimitReached:
        return {"ok": False, "error": "time limit reached", "cache": False}
    except Exception as exc:  # reported by the check, which recomputes the part
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "cache": False}


def _sleep(seconds: float, value: int) -> dict[str, Any]:
    """A test case: sleeps, then returns ``value`` (used by the resume tests)."""
    time.sleep(seconds)
    return {"value": value}


#: the worker of each case kind (called with the case's params as keywords)
KINDS: dict[str, Any] = {
    "check": _check,
    "thm41": _thm41,
    "thm43": _thm43_run,
    "etamax": _etamax,
    "drift": _drift,
    "fig2": _fig2,
    "fig2-equiv": _fig2_equiv,
    "fig3": _fig3,
    "check-part": _check_part,
    "sleep": _sleep,
}

#: checks the report splits into cases the pool can spread, and the cost
#: estimate of one part; the card module provides ``split_cases(params, seed,
#: data)`` (the parts' arguments), ``split_evidence(**part)`` and ``prime(values)``
SPLITS: dict[str, Any] = {}

#: seconds of one GD step of zas.fig4 per block (float32, n = 1000, D = m = 16,
#: single-threaded XLA; measured 2026-11-29: 0.19-0.25 ms), for the case costs
_FIG4_BLOCK_SECONDS = 2.5e-4


def split_checks(checks: list[Case]) -> list[Case]:
    """The split cases of the checks in :data:`SPLITS` among ``checks``: each
    such check gets ``needs`` (its parts, kind ``check-part``) and a
    small cost (it only assembles their values).  A check with a ``case``
    override or user cards is not split."""
    from zascheck.card import RunContext
    from zascheck.engine import checks_for, resolve_params

    out: list[Case] = []
    for c in checks:
        p = c.params
        if p["key"] not in SPLITS or p.get("case") or p.get("cards"):
            continue
        params = resolve_params(
            checks_for([p["key"]])[0], RunContext(budget=p["budget"], seed=p["seed"])
        )
        parts = [
            Case(
                "check-part",
                {"key": p["key"], "budget": p["budget"], "part": kw},
                cost=SPLITS[p["key"]](kw),
            )
            for kw in _card_module(p["key"]).split_cases(params, p["seed"], None)
        ]
        c.needs, c.cost = tuple(parts), 1.0
        out += parts
    return out


def _fig4_cost(kw: dict[str, Any]) -> float:
    """Rough seconds of one depth: the tuned run's iterations plus about 5 runs
    to the tuning horizon (standard report: 1100-1500 steps at L = 100, 200;
    about 30 at L = 2000, 10^4; Xavier's rates stop after a step or two)."""
    return _FIG4_BLOCK_SECONDS * kw["L"] * (kw["T"] + 5 * kw["Tt"])


SPLITS["zas.fig4:gd"] = _fig4_cost


def run_case(payload: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """Worker entry point: run one case, return its JSON-able value with the
    seconds it took (``_seconds``, wall clock) and the CPU seconds of this
    process meanwhile (``_cpu_seconds``, :func:`time.process_time`: what the
    case costs on a shared machine, where wall time also counts the waits)."""
    kind, params = payload
    t0, c0 = time.perf_counter(), time.process_time()
    value = KINDS[kind](**params)
    value = dict(value)
    value["_seconds"] = round(time.perf_counter() - t0, 3)
    value["_cpu_seconds"] = round(time.process_time() - c0, 3)
    return value
