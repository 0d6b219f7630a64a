"""The engine: finds the claim cards, runs their methods, fills what every result shares.

The cards are the modules under :mod:`zascheck.claims` (one per claim id,
``CARD = Card(...)`` at module level) plus any user card files loaded with
:func:`load_user_cards` (``zascheck check --cards FILE``).  This is the only
module that imports cards; the CLI, the report, the properties and the
symbolic document enumerate cards through it.

Order: the catalogue order of ``../shared/CLAIMS.md`` (sections A, B, C, D),
then user cards in the order loaded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import signal
import threading
import importlib
import importlib.util
import math
import pkgutil
import re
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from zascheck.arith import MIN_PRECISION
from zascheck.card import BUDGETS, Card, Check, Prop, RunContext
from zascheck.errors import InputError, UnknownClaimError
from zascheck.result import (
    NOT_COVERED,
    CheckResult,
    Verdict,
    combine_verdicts,
    covers,
    is_universal,
    join_covered,
    scope_text,
)

__all__ = [
    "BUDGETS",
    "ORDER",
    "RunContext",
    "all_cards",
    "card",
    "checks_for",
    "claim_verdicts",
    "combine_verdicts",
    "load_user_cards",
    "prop",
    "props",
    "run_check",
]

#: catalogue order (``../shared/CLAIMS.md``); cards not listed follow, by id
ORDER = (
    "zas.gradient", "zas.residual", "zas.lemma4.2", "zas.drift", "zas.thm4.1",
    "zas.thm4.1.steps", "zas.remark.rectangular", "zas.remark.data", "zas.thm4.3",
    "zas.lemma4.4-4.6", "zas.near-zas", "zas.saddle", "zas.fig1", "zas.fig2", "zas.fig3",
    "zas.fig4", "shamir.lower",
    "review.any-layer", "review.last-cI", "review.alpha", "review.invariance", "review.multirun",
    "ssm.psd-lemma", "ssm.thm1", "ssm.sharpness", "ssm.stable-manifold", "ssm.thm2", "ssm.thm3",
    "ssm.thm4", "ssm.example1", "ssm.orbit-or-slow", "ssm.diagonal-init", "ssm.worst-case",
    "zas.spectral", "zas.thm4.3.tight", "review.alpha.gd",
)  # fmt: skip

_CARDS: dict[str, Card] = {}
_USER = "zascheck_user_cards."
_LOADED = False


#: a claim id: letters, digits, dots, dashes and underscores (it names files in a report)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")


def _add(c: Card, module: Any) -> None:
    if not isinstance(c.id, str) or not _ID.match(c.id) or ".." in c.id:
        raise InputError(f"claim id {c.id!r} in {module.__file__}: use letters, digits, '.', '-' "
                         "and '_' only (no ':', '/' or '..')")
    if c.id in _CARDS and _CARDS[c.id].module != module.__name__:
        raise InputError(
            f"claim id {c.id!r} is defined twice: in {_CARDS[c.id].file} and {module.__file__}"
        )
    c.module = module.__name__
    c.file = str(module.__file__)
    if c.search_examples is not None and not any(k.method == "search" for k in c.checks):
        from zascheck.search import search_check

        c.checks.append(search_check(c))
    _CARDS[c.id] = c


def _load_builtin() -> None:
    global _LOADED
    if _LOADED:
        return
    import zascheck.claims as pkg

    found = []
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        if info.ispkg:
            continue
        mod = importlib.import_module(info.name)
        c = getattr(mod, "CARD", None)
        if isinstance(c, Card):
            found.append((c, mod))
    rank = {cid: i for i, cid in enumerate(ORDER)}
    for c, mod in sorted(found, key=lambda cm: (rank.get(cm[0].id, len(rank)), cm[0].id)):
        _add(c, mod)
    _LOADED = True


def load_user_cards(paths: Iterable[str | Path]) -> list[Card]:
    """Import card files of the user's (``CARD = Card(...)`` at module level)
    and add their cards to the engine.  Raises :class:`InputError` for a file
    that does not exist, cannot be imported, or defines no card."""
    _load_builtin()
    out = []
    for p in _card_files(paths):
        name = f"{_USER}{p.stem.replace('-', '_')}"
        spec = importlib.util.spec_from_file_location(name, p)
        if spec is None or spec.loader is None:
            raise InputError(f"--cards {p}: not a Python file")
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        try:
            spec.loader.exec_module(mod)
        except (Exception, SystemExit) as exc:  # the user's file: report, do not crash
            sys.modules.pop(name, None)
            raise InputError(
                f"--cards {p}: importing it failed: {type(exc).__name__}: {exc}"
            ) from None
        c = getattr(mod, "CARD", None)
        if not isinstance(c, Card):
            raise InputError(f"--cards {p}: defines no CARD = Card(...)")
        if c.id in _CARDS and _CARDS[c.id].module != name:
            raise InputError(
                f"--cards {p}: claim id {c.id!r} is already defined in {_CARDS[c.id].file}"
            )
        _add(c, mod)
        out.append(c)
    return out


def _card_files(paths: Iterable[str | Path]) -> list[Path]:
    """The card files ``--cards`` names: a ``.py`` file, or a folder (every
    ``*.py`` in it, by name; ``__init__.py`` and ``_*.py`` excluded).  Raises
    :class:`InputError` for a path that is neither, or a folder with no card file."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.glob("*.py") if f.is_file() and not f.name.startswith("_"))
            if not found:
                raise InputError(f"--cards {p}: a folder with no *.py card file (--cards takes a "
                                 "card file, or a folder whose *.py files each define CARD)")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        elif p.exists():
            raise InputError(f"--cards {p}: not a regular file or a folder")
        else:
            raise InputError(f"--cards {p}: no such file or folder (--cards takes a card file "
                             "defining CARD = Card(...), or a folder of them)")
    return out


def unload_user_cards() -> None:
    """Forget every card loaded from a user's file (tests; a long-lived process)."""
    for cid in [cid for cid, c in _CARDS.items() if c.module.startswith(_USER)]:
        sys.modules.pop(_CARDS[cid].module, None)
        del _CARDS[cid]


def all_cards() -> list[Card]:
    """Every card, in catalogue order."""
    _load_builtin()
    return list(_CARDS.values())


def card(cid: str) -> Card:
    """The card of claim ``cid``; :class:`UnknownClaimError` with suggestions if none."""
    _load_builtin()
    if cid not in _CARDS:
        close = difflib.get_close_matches(cid, list(_CARDS), n=3, cutoff=0.6)
        hint = f" (did you mean: {', '.join(close)}?)" if close else ""
        raise UnknownClaimError(f"unknown claim id {cid!r}{hint}; 'zascheck claims' lists them")
    return _CARDS[cid]


def props() -> dict[str, Prop]:
    """Every hypothesis property by key (``claim`` or ``claim/control``)."""
    return {p.key: p for c in all_cards() for p in c.props}


def prop(key: str) -> Prop:
    """The property ``key``; :class:`InputError` naming the known keys if none."""
    ps = props()
    if key not in ps:
        raise InputError(f"no property {key!r}; known: {', '.join(ps)}")
    return ps[key]


def checks_for(
    ids: Iterable[str] | None = None, methods: Iterable[str] | None = None
) -> list[Check]:
    """Checks for the given claim ids (all when ``None``), in catalogue order.

    An id may also be ``claim:method``.
    """
    wanted_methods = set(methods) if methods else None
    if not ids:
        out = [k for c in all_cards() for k in c.checks]
    else:
        out = []
        for raw in ids:
            cid, _, meth = raw.partition(":")
            c = card(cid)
            lst = c.checks
            if not lst:
                raise UnknownClaimError(f"claim {cid!r} has no check implemented yet")
            if meth:
                lst = [k for k in lst if k.method == meth]
                if not lst:
                    have = ", ".join(k.method for k in c.checks)
                    raise UnknownClaimError(
                        f"claim {cid!r} has no method {meth!r} (it has: {have})"
                    )
            out.extend(lst)
    if wanted_methods is not None:
        out = [k for k in out if k.method in wanted_methods]
    return out


def validate_params(params: dict[str, Any]) -> None:
    """Reject impossible values of the parameters every family shares, with a
    message naming the parameter (``L < 1``, ``eta <= 0``, sizes no run can
    finish, precision too low...)."""
    from zascheck.spec import MAX_DEPTH, MAX_WIDTH

    def _int_at_least(name: str, v: Any, lo: int, hi: int | None = None) -> None:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise InputError(f"parameter {name} must be an integer >= {lo}, got {v!r}")
        if hi is not None and v > hi:
            raise InputError(f"parameter {name} = {v} is beyond what a run can finish "
                             f"(at most {hi}; a GD step at depth L costs 3(L-1) matrix products)")

    limits = {"L": MAX_DEPTH, "d": MAX_WIDTH}
    for name in ("L", "d", "steps", "max_steps"):
        if name in params and params[name] is not None:
            _int_at_least(name, params[name], 0 if name in ("steps", "max_steps") else 1,
                          limits.get(name))
    if "depths" in params:
        for v in params["depths"]:
            _int_at_least("L (in depths)", v, 1, MAX_DEPTH)
    for name in ("bits",):
        if name in params and params[name] is not None:
            _int_at_least(name, params[name], MIN_PRECISION)
    if params.get("eta") is not None:
        from zascheck.dynamics import check_eta

        check_eta(params["eta"])
    for case in params.get("cases", []) or []:
        if isinstance(case, dict):
            validate_params({k: v for k, v in case.items() if k in ("L", "d")})


def resolve_params(
    check: Check,
    ctx: RunContext,
    *,
    case: dict[str, Any] | None = None,
    control: str | None = None,
) -> dict[str, Any]:
    """The parameters a run uses: the budget's, then ``case`` overrides, then
    the named negative ``control``; validated (:func:`zascheck.spec.validate_case`).

    Raises :class:`InputError` for a key the check does not take, a value of
    the wrong kind, or a ``case`` / ``--phi`` that would change what a control
    breaks."""
    from zascheck.spec import validate_case

    params = check.params_for(ctx.budget)
    if control is not None and control not in check.controls:
        have = ", ".join(check.controls) or "none"
        raise InputError(f"{check.key} has no control {control!r} (it has: {have})")
    if case:
        schemas = [*check.budgets.values(), *check.controls.values()]
        validate_case(check.key, case, schemas, extra=["phi"] if check.accepts_phi else [])
        if check.method == "search" and case.get("case") is not None:
            _validate_search_case(check, case["case"], case.get("property", control))
        params.update(case)
    if control is not None:
        ctl = check.controls[control]
        clash = sorted(set(case or {}) & set(ctl))
        if clash:
            raise InputError(
                f"--control {control} sets {', '.join(clash)} (that is what it breaks); "
                f"--case may not set {'it' if len(clash) == 1 else 'them'} too"
            )
        if ctx.phi is not None and ("phi" in ctl or "init" in ctl):
            raise InputError(
                f"--control {control} of {check.key} chooses its own target and init "
                f"(that is what it breaks); drop --phi to run it"
            )
        params.update(ctl)
    validate_params(params)
    if ctx.phi is not None and check.accepts_phi and "phi" not in (case or {}):
        params["phi"] = ctx.phi
    _size_from_target(check, params, case or {})
    return params


#: cases drawn from a property's strategy to learn the schema of a ``:search`` case
SCHEMA_DRAWS = 40


def _validate_search_case(check: Check, inner: Any, control: str | None) -> None:
    """The nested ``case`` of a ``:search`` method (``--case '{"case": {...}}'``)
    against the cases its property draws: the keys every drawn case has are
    required, other keys refused, each value of the kind drawn
    (:func:`zascheck.spec.validate_case`).  The schema is learnt from a few
    cases drawn (:data:`SCHEMA_DRAWS`, derandomized) from the property's own
    hypothesis strategy."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.control import currently_in_test_context

    from zascheck.spec import validate_nested_case

    if currently_in_test_context():
        return  # inside a hypothesis test (a case its own strategy drew): no nested @given
    c = card(check.claim)
    props_ = {p.control: p for p in c.props}
    if control not in props_:
        return  # an unknown property is refused by the method itself
    drawn: list[Any] = []

    # derandomized: the same schema on every run (optional keys are drawn in >= 1/3 of cases)
    @settings(max_examples=SCHEMA_DRAWS, derandomize=True, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck), deadline=None)
    @given(props_[control].strategy())
    def collect(x: Any) -> None:
        drawn.append(x)

    collect()
    validate_nested_case(f"--case for {check.key}: case", inner,
                         [x for x in drawn if isinstance(x, dict)])


def _size_from_target(check: Check, params: dict[str, Any], case: dict[str, Any]) -> None:
    """A target matrix (``--phi`` or ``--case`` ``phi``) fixes the width ``d``:
    ``params['d']`` is set to its size, so the result says what was run; a
    ``--case`` ``d`` that disagrees with the target is refused."""
    phi = params.get("phi")
    if "d" not in params or isinstance(phi, str) or phi is None:
        return
    shape = np.shape(phi)
    if len(shape) != 2 or shape[0] != shape[1]:
        return  # a rectangular target: the check itself accepts or refuses it
    if "d" in case and case["d"] != shape[0]:
        raise InputError(f"--case for {check.key}: d = {case['d']} disagrees with the "
                         f"{shape[0]} x {shape[1]} target (d is the target's size; drop d)")
    params["d"] = int(shape[0])


def run_check(
    check: Check,
    ctx: RunContext,
    *,
    case: dict[str, Any] | None = None,
    control: str | None = None,
) -> CheckResult:
    """Run one check with its budget's parameters, then ``case`` overrides, then
    the named negative ``control``; fill what every result shares."""
    params = resolve_params(check, ctx, case=case, control=control)
    t0 = time.perf_counter()
    timed_out = False
    try:
        with _time_limit(ctx.seconds_allowed()):
            res = check.fn(ctx, **params)
    except TimeLimitReached:
        timed_out = True
        stopped: dict[str, Any] = {}
        if isinstance(params.get("arithmetic"), str):  # what it was running in, not float64
            stopped["arithmetic"] = params["arithmetic"]
        if ctx.precision is not None:
            stopped["precision_bits"] = ctx.precision
        res = CheckResult(
            verdict=Verdict.INCONCLUSIVE,
            notes=f"time limit of {ctx.seconds_allowed():g} s reached (--time-limit); the check "
            "was stopped and nothing it computed is claimed",
            params={"time_limit_reached": True},
            **stopped,
        )
    c = card(check.claim)
    if c.module.startswith(_USER) and not timed_out:
        _check_user_result(c, check, res)
    provenance = res.provenance or c.provenance

    def fill(r: CheckResult, method: str) -> CheckResult:
        return _finite_or_inconclusive(dataclasses.replace(
            r, claim=check.claim, control=control, seed=ctx.seed, provenance=provenance,
            method=method, statement=r.statement or c.statement, scope=_full_scope(c, r.scope),
        ))

    method = res.method or check.method
    parts = [fill(p, p.method or method) for p in res.parts]
    if parts and not (control and res.verdict is Verdict.VIOLATED):
        _check_parts(res, parts)
    breaking = {k for ctl in check.controls.values() for k in ctl} - _EFFORT_KEYS
    outside = sorted(set(case or {}) & breaking)
    if outside and control is None:
        res.notes = (f"--case sets {', '.join(outside)}, which a negative control of this check "
                     "uses to break a hypothesis of the claim: this result is reported, not counted "
                     "in the claim-level verdict. " + res.notes)
        res.params = res.params | {"outside_hypotheses": outside}
    return dataclasses.replace(
        fill(res, method),
        params=dict(params) | res.params,
        seconds=round(time.perf_counter() - t0, 4),
        parts=parts,
    )


class UserCardError(InputError):
    """A user's card (``--cards``) returned a result that is not one: reported
    as an error naming the card, never a verdict."""


def _check_user_result(c: Card, check: Check, res: Any, where: str = "") -> None:
    """Raise :class:`UserCardError` unless ``res`` is a well-formed
    :class:`CheckResult`: a :class:`Verdict`, finite (or absent) numbers, a
    ``scope`` entry made by ``covers(...)`` for each quantifier of the card, and
    parts that are results too."""

    def bad(why: str) -> UserCardError:
        return UserCardError(f"user card {c.id} ({c.file}): method {check.method}{where} returned "
                             f"an invalid result: {why}")

    if not isinstance(res, CheckResult):
        raise bad(f"a {type(res).__name__}, not a CheckResult")
    if not isinstance(res.verdict, Verdict):
        raise bad(f"verdict {res.verdict!r} is not a Verdict (use Verdict.HOLDS, ...)")
    for name in ("measured", "bound", "margin"):
        x = getattr(res, name)
        if x is None:
            continue
        if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
            raise bad(f"{name} = {x!r} is not a number")
        if not math.isfinite(float(x)) and res.verdict is not Verdict.INCONCLUSIVE:
            raise bad(f"{name} = {x!r} is not finite (only an inconclusive result may say so)")
    scope = res.scope
    if not isinstance(scope, dict):
        raise bad(f"scope = {scope!r} is not a dict")
    missing = [q.name for q in c.quantifiers if q.name not in scope]
    if missing and not res.parts:
        raise bad(f"scope says nothing of {', '.join(missing)} (fill scope with covers(...) for "
                  "each quantifier of the card)")
    for k, v in scope.items():
        if not (isinstance(v, dict) and isinstance(v.get("covered"), str)
                and isinstance(v.get("universal"), bool)):
            raise bad(f"scope[{k!r}] = {v!r} is not made by covers(...)")
    for p in res.parts:
        _check_user_result(c, check, p, f" (part {getattr(p, 'part', '?')})")


class TimeLimitReached(BaseException):
    """Raised inside a check when its time limit is reached (a BaseException,
    so that a check's own ``except Exception`` does not swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeLimitReached` in this thread after ``seconds`` of wall
    time: by SIGALRM in the main thread, else (a Dask worker runs tasks in a
    thread) by an asynchronous exception set from a timer thread.  Either way
    it is raised between two bytecodes, so a long C call finishes first."""
    if not seconds:
        yield
        return
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        with _thread_time_limit(seconds):
            yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise TimeLimitReached

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def _thread_time_limit(seconds: float) -> Iterator[None]:
    """:func:`_time_limit` for a thread that is not the main one
    (``PyThreadState_SetAsyncExc``; a pending exception not yet raised when the
    block ends is withdrawn, so it never escapes the block)."""
    import ctypes

    tid = threading.get_ident()
    lock = threading.Lock()
    state = {"active": True, "fired": False}

    def fire() -> None:
        with lock:
            if state["active"]:
                state["fired"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid),
                                                           ctypes.py_object(TimeLimitReached))

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["active"] = False
            if state["fired"]:  # withdraw it if it has not been raised yet
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), None)
        timer.cancel()


#: keys a control may also set that size the run rather than break a hypothesis
_EFFORT_KEYS = frozenset({"max_steps", "steps", "examples", "iters", "iterations", "times",
                          "depths", "L", "d", "seeds", "bits", "prec", "T", "tune_iterations"})


def _finite_or_inconclusive(r: CheckResult) -> CheckResult:
    """A result whose measured value or margin is not a finite number has not
    shown what it says: it becomes ``inconclusive``, and the notes say why.  A
    violation decided in ball or exact arithmetic stays violated (a quantity
    beyond the double range is still certainly above its bound)."""
    bad = [x for x in (r.measured, r.margin)
           if isinstance(x, float) and not math.isfinite(x)]
    rigorous = all(  # every arithmetic that decided it encloses (iv64 too: zascheck/iv64.py)
        a.strip() in ("ball", "exact", "iv64") or a.strip().startswith("ball+")
        for a in r.arithmetic.split(",")
    )
    keep = r.verdict is Verdict.INCONCLUSIVE or (r.verdict is Verdict.VIOLATED and rigorous)
    if bad and not keep:
        return dataclasses.replace(
            r, verdict=Verdict.INCONCLUSIVE,
            notes=f"non-finite measured value or margin ({bad[0]}) at this precision: "
            f"inconclusive, not {r.verdict.value}. " + r.notes)
    return r


def _full_scope(c: Card, scope: dict[str, Any]) -> dict[str, Any]:
    """The card's quantifiers in order, each with what ``scope`` says of it
    (``not covered`` where a check is silent), then any extra entries."""
    out = {q.name: scope.get(q.name, covers(NOT_COVERED)) for q in c.quantifiers}
    return out | {k: v for k, v in scope.items() if k not in out}


def _check_parts(res: CheckResult, parts: list[CheckResult]) -> None:
    """A result with parts may not say more than its worst part: it is lowered
    to that part's verdict, and the notes say so."""
    worst = combine_verdicts([p.verdict for p in parts])
    if res.verdict.rank > worst.rank:
        res.notes = (f"lowered from {res.verdict.value} to {worst.value}: a part is "
                     f"{worst.value}. " + res.notes)
        res.verdict = worst


def claim_verdicts(results: list[CheckResult], crashed: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The claim-level verdict of every claim in ``results`` (README, "Verdicts").

    Only the claim's own results count (negative controls are excluded).  A
    result with parts counts as its parts.  The rule:

    * ``violated`` when some result establishes a counterexample (a
      ``violated`` verdict: certified, or numerical beyond its error budget);
    * ``certified`` when, for every part (or the whole statement), some
      ``certified`` result covers every quantifier of the card universally;
    * ``holds`` when every result is ``certified`` or ``holds`` on its scope;
    * ``inconclusive`` otherwise (including: no result).

    Returns one dict per claim, in catalogue order: ``claim``, ``verdict``,
    ``scope`` (per quantifier: what the strongest evidence covers), ``methods``
    (``method: verdict`` of each result counted, ``method: crashed`` for each
    check key ``claim:method`` in ``crashed``), ``parts``, ``rule``.  A claim
    whose every check crashed is ``inconclusive``.
    """
    by_claim: dict[str, list[CheckResult]] = {}
    for r in results:
        if r.control is None and not r.params.get("outside_hypotheses"):
            by_claim.setdefault(r.claim, []).append(r)
    failed: dict[str, list[str]] = {}
    for key in crashed:
        cid, _, method = str(key).partition(":")
        if cid in _CARDS:
            failed.setdefault(cid, []).append(method)
    order = {c.id: i for i, c in enumerate(all_cards())}
    out = []
    for cid in sorted(set(by_claim) | set(failed), key=lambda x: order.get(x, len(order))):
        if cid in by_claim:
            entry = _claim_verdict(card(cid), by_claim[cid])
        else:
            entry = {"claim": cid, "verdict": Verdict.INCONCLUSIVE.value, "scope": {}, "scope_text": "",
                     "methods": [], "parts": [], "rule": "every check of the claim crashed"}
        entry["methods"] += [f"{m}: crashed" for m in failed.get(cid, [])]
        out.append(entry)
    return out


def _claim_verdict(c: Card, rs: list[CheckResult]) -> dict[str, Any]:
    names = [q.name for q in c.quantifiers]
    units = [p for r in rs for p in (r.parts or [r])]
    parts = sorted({u.part or "" for u in units})
    certified_parts = {
        u.part or ""
        for u in units
        if u.verdict is Verdict.CERTIFIED and is_universal(u.scope, names)
    }
    if any(u.verdict is Verdict.VIOLATED for u in units):
        verdict, why = Verdict.VIOLATED, "a counterexample is established"
    elif parts and (certified_parts >= set(parts) or "" in certified_parts):
        verdict, why = Verdict.CERTIFIED, "certified on every quantifier of the claim"
    elif all(u.verdict.ok for u in units):
        verdict, why = Verdict.HOLDS, "everything run agrees with the claim on its scope"
    else:
        verdict, why = Verdict.INCONCLUSIVE, "some evidence could not decide"
    # the scope of the evidence the verdict rests on: the counterexample's for a
    # violated claim, else what agrees with the claim
    basis = [u for u in units if (u.verdict is Verdict.VIOLATED if verdict is Verdict.VIOLATED
                                  else u.verdict.ok)]
    scope: dict[str, Any] = {}
    for n in names:
        entries: list[dict[str, Any]] = [
            u.scope[n] for u in basis if isinstance(u.scope.get(n), dict)
        ]
        uni = [e for e in entries if e.get("universal")]
        if uni:
            scope[n] = uni[0]
        else:
            seen = [(u.part or u.method, u.scope[n]["covered"]) for u in basis
                    if isinstance(u.scope.get(n), dict)
                    and u.scope[n].get("covered") not in (None, NOT_COVERED)]
            scope[n] = covers(join_covered(seen) if seen else NOT_COVERED)
    return {
        "claim": c.id,
        "verdict": verdict.value,
        "scope": scope,
        "scope_text": scope_text(scope),
        "methods": [f"{u.method}{'/' + u.part if u.part else ''}: {u.verdict.value}" for u in units],
        "parts": [p for p in parts if p],
        "rule": why,
    }


def run_payload(
    payload: tuple[str, dict[str, Any], dict[str, Any] | None, str | None, list[str]],
) -> dict[str, Any]:
    """Worker entry point of the CLI and the report (also used in-process): run
    one check ``key`` and return a JSON-able dict (``ok`` and ``result``, or the
    error).  ``payload = (key, run-context kwargs, case, control, user card files)``."""
    import traceback

    from zascheck.errors import ZascheckError

    key, ctx_kw, case, control, card_files = payload
    try:
        if card_files:
            load_user_cards(card_files)
        check = checks_for([key])[0]
        res = run_check(check, RunContext(**ctx_kw), case=case, control=control)
        # a result cut short by the time limit depends on the machine: never cached
        return {"ok": True, "result": res.to_dict(), "cache": not res.params.get("time_limit_reached")}
    except UserCardError as exc:
        return {"ok": False, "card_error": str(exc), "key": key}
    except ZascheckError as exc:
        return {"ok": False, "input_error": str(exc), "key": key}
    except (Exception, SystemExit) as exc:  # a bug in a check: report it, keep going
        cid = key.partition(":")[0]
        if cid in _CARDS and _CARDS[cid].module.startswith(_USER):  # the user's card, not ours
            return {"ok": False, "key": key, "card_error": f"user card {cid} ({_CARDS[cid].file}): "
                    f"method {key.partition(':')[2]} raised {type(exc).__name__}: {exc}"}
        return {
            "ok": False,
            "error": f"{type(exc).__name__}: {exc}",
            "key": key,
            "traceback": traceback.format_exc(),
        }
