"""Checks register here; the runner merges budgets, cases and controls.

A check is a function ``fn(ctx, **params) -> CheckResult`` attached to a claim
id with :func:`register`.  A claim may have several checks (``method``: e.g.
``flow`` and ``symbolic``).  Each check declares

* ``budgets``: parameter sets for ``quick`` / ``standard`` / ``thorough``
  (a missing budget falls back to the next smaller one);
* ``controls``: negative controls, parameter overrides that break one
  hypothesis of the claim; running a check under a control must give
  ``violated`` (the tests assert it for every registered control);
* ``accepts_phi``: whether a user target (``--phi``) replaces the default one.

The runner fills in what every result shares (claim, method, params, seconds,
provenance, statement, seed, control), so a check only reports what it measured.
"""

from __future__ import annotations

import dataclasses
import difflib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zascheck.arith import MIN_PRECISION, Backend, backend
from zascheck.catalogue import CATALOGUE
from zascheck.errors import InputError, UnknownClaimError
from zascheck.result import CheckResult

__all__ = ["BUDGETS", "REGISTRY", "Check", "RunContext", "checks_for", "register", "run_check"]

BUDGETS = ("quick", "standard", "thorough")


@dataclass
class RunContext:
    """What the user chose for a run."""

    budget: str = "quick"
    precision: int | None = None  # bits, for mp/ball checks; None = each check's default
    seed: int = 0
    phi: np.ndarray | None = None
    progress: bool = False

    def __post_init__(self) -> None:
        if self.budget not in BUDGETS:
            raise InputError(f"unknown budget {self.budget!r}; choose one of {', '.join(BUDGETS)}")
        if self.precision is not None and self.precision < MIN_PRECISION:
            raise InputError(
                f"precision {self.precision} bits is too low: at least {MIN_PRECISION} is required"
            )

    def bits(self, default: int) -> int:
        """Working precision for a high-precision check."""
        return self.precision if self.precision is not None else default

    def backend(self, arithmetic: str, default_bits: int = 128) -> Backend:
        if arithmetic in ("float64", "exact"):
            return backend(arithmetic)
        return backend(arithmetic, self.bits(default_bits))

    def rng(self, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, salt])


@dataclass
class Check:
    claim: str
    method: str
    fn: Callable[..., CheckResult]
    budgets: dict[str, dict[str, Any]]
    controls: dict[str, dict[str, Any]] = field(default_factory=dict)
    accepts_phi: bool = False
    summary: str = ""

    @property
    def key(self) -> str:
        return f"{self.claim}:{self.method}"

    def params_for(self, budget: str) -> dict[str, Any]:
        i = BUDGETS.index(budget)
        for b in reversed(BUDGETS[: i + 1]):
            if b in self.budgets:
                return dict(self.budgets[b])
        return {}


REGISTRY: dict[str, list[Check]] = {}


def register(
    claim: str,
    *,
    method: str,
    budgets: dict[str, dict[str, Any]],
    controls: dict[str, dict[str, Any]] | None = None,
    accepts_phi: bool = False,
) -> Callable[[Callable[..., CheckResult]], Callable[..., CheckResult]]:
    """Attach a check function to a catalogue id."""
    if claim not in CATALOGUE:
        raise KeyError(f"{claim!r} is not in the catalogue")

    def deco(fn: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        lst = REGISTRY.setdefault(claim, [])
        if any(c.method == method for c in lst):
            raise KeyError(f"{claim}:{method} registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()
        lst.append(
            Check(
                claim, method, fn, budgets, dict(controls or {}), accepts_phi, doc[0] if doc else ""
            )
        )
        return fn

    return deco


def load_all() -> None:
    """Import every check module (they register on import)."""
    import zascheck.checks  # noqa: F401


def checks_for(
    ids: Iterable[str] | None = None, methods: Iterable[str] | None = None
) -> list[Check]:
    """Checks for the given claim ids (all when ``None``), in catalogue order.

    An id may also be ``claim:method``.
    """
    load_all()
    wanted_methods = set(methods) if methods else None
    if not ids:
        out = [c for cid in CATALOGUE for c in REGISTRY.get(cid, [])]
    else:
        out = []
        for raw in ids:
            cid, _, meth = raw.partition(":")
            if cid not in CATALOGUE:
                close = difflib.get_close_matches(cid, list(CATALOGUE), n=3, cutoff=0.6)
                hint = f" (did you mean: {', '.join(close[:5])}?)" if close else ""
                raise UnknownClaimError(
                    f"unknown claim id {cid!r}{hint}; 'zascheck claims' lists them"
                )
            lst = REGISTRY.get(cid, [])
            if not lst:
                raise UnknownClaimError(f"claim {cid!r} has no check implemented yet")
            if meth:
                lst = [c for c in lst if c.method == meth]
                if not lst:
                    have = ", ".join(c.method for c in REGISTRY[cid])
                    raise UnknownClaimError(
                        f"claim {cid!r} has no method {meth!r} (it has: {have})"
                    )
            out.extend(lst)
    if wanted_methods is not None:
        out = [c for c in out if c.method in wanted_methods]
    return out


def validate_params(params: dict[str, Any]) -> None:
    """Reject impossible values of the parameters every family shares, with a
    message naming the parameter (``L < 1``, ``eta <= 0``, precision too low...)."""

    def _int_at_least(name: str, v: Any, lo: int) -> None:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise InputError(f"parameter {name} must be an integer >= {lo}, got {v!r}")

    for name in ("L", "d", "steps", "max_steps"):
        if name in params and params[name] is not None:
            _int_at_least(name, params[name], 0 if name in ("steps", "max_steps") else 1)
    if "depths" in params:
        for v in params["depths"]:
            _int_at_least("L (in depths)", v, 1)
    for name in ("bits",):
        if name in params and params[name] is not None:
            _int_at_least(name, params[name], MIN_PRECISION)
    if params.get("eta") is not None:
        from zascheck.dynamics import check_eta

        check_eta(params["eta"])
    for case in params.get("cases", []) or []:
        if isinstance(case, dict):
            validate_params({k: v for k, v in case.items() if k in ("L", "d")})


def run_check(
    check: Check,
    ctx: RunContext,
    *,
    case: dict[str, Any] | None = None,
    control: str | None = None,
) -> CheckResult:
    """Run one check with its budget's parameters, then ``case`` overrides, then
    the named negative ``control``."""
    params = check.params_for(ctx.budget)
    if case:
        unknown = set(case) - set(params) - {"phi"}
        for ctl in check.controls.values():
            unknown -= set(ctl)
        if unknown:
            raise InputError(
                f"--case sets {', '.join(sorted(unknown))}, which {check.key} does not take "
                f"(it takes: {', '.join(sorted(params))})"
            )
        params.update(case)
    if control is not None:
        if control not in check.controls:
            have = ", ".join(check.controls) or "none"
            raise InputError(f"{check.key} has no control {control!r} (it has: {have})")
        params.update(check.controls[control])
    validate_params(params)
    if ctx.phi is not None and check.accepts_phi and "phi" not in (case or {}):
        params["phi"] = ctx.phi
    t0 = time.perf_counter()
    res = check.fn(ctx, **params)
    info = CATALOGUE[check.claim]
    shown = dict(params)
    return dataclasses.replace(
        res,
        claim=check.claim,
        method=res.method or check.method,
        params=shown | res.params,
        seconds=round(time.perf_counter() - t0, 4),
        provenance=res.provenance or info.provenance,
        statement=res.statement or info.statement,
        control=control,
        seed=ctx.seed,
    )
