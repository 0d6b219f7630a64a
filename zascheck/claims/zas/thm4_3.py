"""Theorem 4.3 (ZAS paper): GD from ZAS at a small enough step converges linearly.

Claim, quoted from the source (Wu, Wang & Ma, NeurIPS 2019, Sec. 4.2,
Theorem 4.3, eq. (4.5)):

    "For deep linear network (2.3) with the zero-asymmetric initialization
    (3.1) and discrete-time gradient descent (2.4), if the learning rate
    satisfies eta <= min{(4 L^3 phi^6)^-1, (144 L^2 phi^4)^-1} where
    phi = max{2 ||Phi||_F, 3 L^-1/2, 1}, then we have linear convergence
    R(t) <= (1 - eta/2)^t R(0),  t = 0, 1, 2, ...  (4.5)"

followed by "Since the learning rate eta = O(L^-3), the theorem indicates that
gradient descent can achieve R(t) <= eps in O(L^3 log(1/eps)) iterations."

Kind: an inequality for every step ``t``, target ``Phi`` (``d x d``), depth
``L`` and step ``eta`` up to the bound.  Only an upper bound: the paper does
not claim ``(1 - eta/2)^t`` is attained (GD from ZAS contracts faster, about
``(1 - 2 eta)`` per step early on; ``zas.thm4.3.tight`` measures the largest
step for which the envelope still holds).

Reading formalized (method ``gd``): for each case (depth ``L``, target) the
step is the theorem's bound ``eta*`` computed exactly in rationals
(:func:`zascheck.bounds.thm43_eta_exact`: ``phi^2`` is rational, so ``eta*``
never underflows), rounded down to a double, or to a 64-bit dyadic where
``eta*`` is below the double range (then float64 / iv64 is replaced by ball
arithmetic, and the result says so).  GD runs until ``R <= rel_tol R(0)`` or
``max_steps``, and (4.5) is decided at every step: by enclosure (then
``certified`` for ``t <= N``, the steps decided), first in certified float64
intervals (``iv64``, :mod:`zascheck.iv64`; for ``d >= IV64_MIN_D``, where
they are faster than arb) and, where their radii grow too wide to decide a
step, again from ``t = 0`` in ball arithmetic at 128 bits and up (the case's
``tried`` lists every attempt and skip); or against a rounding budget in
float64 (``holds``).  The "for all t" is covered only up to
``N`` steps: the scope says so per case, and the claim-level verdict is never
``certified`` from it.  Not formalized: the ``O(L^3 log(1/eps))`` iteration
count (``zas.fig2`` measures iteration counts), steps below the bound other
than ``eta*`` itself (the search method draws ``eta = 2^-k eta*``).

Method ``class-certificate`` (every ``Phi`` in a ball, every ``t``): by the
spectral reduction (``zas.spectral``; Saxe, McClelland & Ganguli, ICLR 2014)
GD from ZAS is one scalar map per singular value, all at the same ``eta``;
``eta*`` decreases in ``||Phi||_F`` and ``sigma_i <= ||Phi||_F``, so it is
enough that every mode ``sigma in [0, F]`` at every step
``eta <= eta*(sigma, L)`` contracts ``e^2`` by ``1 - eta/2`` at every step.
That is shown by an invariant region of the scalar map containing ``(1, 0)``,
checked on boxes of ``(sigma, eta, b)`` by outward-rounded interval arithmetic
(:mod:`zascheck.measure.certify_thm43`): every ``Phi`` with ``||Phi||_F <=
F`` (every ``d``), every ``t``, the theorem's step and every smaller one, for
each ``(L, F)`` of a stated table.  The table is finite (``L`` and ``F`` do not
range over everything), so the claim-level verdict stays ``holds``: the scope
says exactly which ``(L, F)`` are certified.

References: ZAS paper Sec. 4.2 (proof sketch via Lemmas 4.4-4.6,
``zas.lemma4.4-4.6``); the bound's ``(1 - eta/2)`` per-step factor is Lemma
4.6's (4.10) (:func:`zascheck.bounds.thm43_factor`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from zascheck import inits
from zascheck.arith import Backend, backend
from zascheck.escalate import IV64_MIN_D
from zascheck import strategies as S
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.certify_thm43 import (
    THM43_CLASS_BUDGETS,
    THM43_CLASS_CONTROLS,
    thm43_class_certificate,
)
from zascheck.measure.evaluation import STEPS, eval_thm43
from zascheck.errors import InputError
from zascheck.measure.stepsize import envelope_run, fraction_text, theorem_step
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers
from zascheck.targets import make_phi

CARD = Card(
    id="zas.thm4.3",
    section="A",
    kind="inequality",
    source="Wu, Wang & Ma, NeurIPS 2019 (ZAS paper), Theorem 4.3 (Sec. 4.2), eq. (4.5)",
    statement="GD from ZAS with eta <= min{1/(4L^3 phi^6), 1/(144 L^2 phi^4)}, phi = max{2||Phi||_F, 3/sqrt(L), 1}: R(t) <= (1 - eta/2)^t R(0) for all t.",
    bound="upper",
    quantifiers=(
        Q("t", "every GD step t = 0, 1, 2, ..."),
        Q("Phi", "every target Phi in R^{d x d}, every d >= 1"),
        Q("L", "every depth L >= 1"),
        Q("eta", "every eta <= min{1/(4 L^3 phi^6), 1/(144 L^2 phi^4)}"),
    ),
    depends_on=("zas.lemma4.4-4.6",),
    figure="thm43",
    # the report's sweeps behind this claim's figure, per report budget
    report={
        "quick": {
            "thm43": {
                "depths": [1, 2, 4, 8],
                "d": 2,
                "fro": 0.5,
                "rel_tol": 1e-10,
                "max_steps": 300000,
            },
            "etamax": {
                "depths": [1, 2, 4, 8, 16, 32],
                "max_steps": 2000,
                "rel_tol": 1e-06,
                "rel_width": 0.02,
            },
        },
        "standard": {
            "thm43": {
                "depths": [1, 2, 4, 8],
                "d": 2,
                "fro": 0.5,
                "rel_tol": 1e-10,
                "max_steps": 300000,
            },
            "etamax": {
                "depths": [1, 2, 4, 8, 16, 32, 64, 128],
                "max_steps": 2000,
                "rel_tol": 1e-06,
                "rel_width": 0.02,
            },
        },
        "full": {
            "thm43": {
                "depths": [1, 2, 4, 8, 16],
                "d": 2,
                "fro": 0.5,
                "rel_tol": 1e-12,
                "max_steps": 1000000,
            },
            "etamax": {
                "depths": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
                "max_steps": 4000,
                "rel_tol": 1e-06,
                "rel_width": 0.01,
            },
        },
    },
)


@CARD.check(
    method="gd",
    budgets={
        "quick": {
            "cases": [
                {"L": 2, "d": 2, "phi": "gaussian"},
                {"L": 9, "d": 2, "phi": "-I", "scale": 0.2},
            ],
            "max_steps": 10000,
            "arithmetic": "iv64",
            "init": "zas",
        },
        "standard": {
            "cases": [
                {"L": 2, "d": 2, "phi": "gaussian"},
                {"L": 4, "d": 3, "phi": "gaussian"},
                {"L": 9, "d": 2, "phi": "-I", "scale": 0.2},
            ],
            "max_steps": 200000,
            "arithmetic": "iv64",
            "init": "zas",
        },
        "thorough": {
            "cases": [
                {"L": 9, "d": 2, "phi": "-I", "scale": 0.2},
                {"L": 16, "d": 2, "phi": "gaussian", "scale": 0.1},
            ],
            "max_steps": 400000,
            "arithmetic": "float64",
            "init": "zas",
        },
    },
    controls={
        # break the step-size hypothesis: eta far above the bound
        "eta-above-bound": {
            "cases": [{"L": 4, "d": 2, "phi": "gaussian", "scale": 3.0}],
            "eta": 0.5,
            "max_steps": 200,
        },
        # break the init hypothesis: identity init (on the stable manifold of the saddle at 0)
        # against Shamir's target -1 at the theorem's own eta: GD goes to the saddle, R -> 1/2
        "identity-init": {
            "cases": [{"L": 2, "d": 1, "phi": "-I"}],
            "init": "identity",
            "max_steps": 40000,
        },
    },
    accepts_phi=True,
)
def thm43(
    ctx: RunContext,
    cases: list[dict[str, Any]],
    max_steps: int,
    arithmetic: str,
    init: str = "zas",
    eta: float | None = None,
    eta_factor: float = 1.0,
    rel_tol: float = 1e-10,
    phi: Any = None,
) -> CheckResult:
    """Theorem 4.3, eq. (4.5): ``R(t) <= (1 - eta/2)^t R(0)`` along GD from
    ``init`` at the theorem's step (times ``eta_factor``, or ``eta`` if
    given), decided at every step ``t <= N`` of each case.

    ``cases``: dicts with ``L``, ``d``, ``phi`` (a target name) and an
    optional ``scale``; a user target (``phi``, ``--phi``) replaces them and
    is run *as given* (never rescaled) at each depth of the budget.
    measured = ``max_t R(t) / ((1 - eta/2)^t R(0))`` over every case (bound
    1); ``scope``: per quantifier, the steps decided (per case), the targets,
    the depths and the step.  Raises :class:`InputError` for a target whose
    ``||Phi||_F^2`` GD's stop rules cannot read as a double.
    """
    per: dict[str, dict[str, Any]] = {}
    for i, case in enumerate(_cases(cases, phi)):
        key, out = _run_case(ctx, i, case, max_steps, arithmetic, init, eta, eta_factor, rel_tol)
        per[key] = out
    res = _result(per, init, user_target=phi is not None)
    if phi is not None:  # say what was run: the user's target replaced the budget's cases
        res.params["cases"] = [
            {"L": o["L"], "d": o["d"], "phi": o["target"], "scale": 1.0} for o in per.values()
        ]
    return res


def _cases(cases: list[dict[str, Any]], phi: Any) -> list[dict[str, Any]]:
    """The budget's cases, or, for a user target, that target as given
    (``scale`` 1, ``d`` its size) at each distinct depth of the budget."""
    if phi is None or isinstance(phi, str):
        return [c | ({"phi": phi} if isinstance(phi, str) else {}) for c in cases]
    m = make_phi(phi, 0)
    if m.shape[0] != m.shape[1]:
        raise InputError(f"Theorem 4.3 is about square targets Phi; got shape {m.shape}")
    depths = list(dict.fromkeys(int(c["L"]) for c in cases))
    return [{"L": L, "d": m.shape[0], "phi": m, "scale": 1.0, "user": True} for L in depths]


def _run_case(
    ctx: RunContext,
    i: int,
    case: dict[str, Any],
    max_steps: int,
    arithmetic: str,
    init: str,
    eta: float | None,
    eta_factor: float,
    rel_tol: float,
) -> tuple[str, dict[str, Any]]:
    """One case: choose the step exactly and an arithmetic that can decide it,
    run :func:`envelope_run`, doubling the ball precision while undecided."""
    L, d = int(case["L"]), int(case["d"])
    spec = case.get("phi", "gaussian")
    scale = float(case.get("scale", 1.0))
    phi_m = make_phi(spec, d, ctx.rng(10 + i)) * scale
    d = phi_m.shape[0]
    step = theorem_step(phi_m, L, eta_factor)
    eta_used: float | Fraction = step.eta if eta is None else float(eta)
    arith, switched = arithmetic, None
    tried: list[dict[str, Any]] = []
    if arithmetic in ("float64", "iv64") and eta is None and step.float64_obstacle():
        arith, switched = "ball", step.float64_obstacle()
    ws0 = inits.make(init, L, d, seed=ctx.rng(20 + i))
    b, out = None, None
    if arith == "iv64" and ctx.precision is not None:  # --precision asks for balls at it
        arith = "ball"
    if arith == "iv64" and d < IV64_MIN_D:
        tried.append(
            {
                "arithmetic": "iv64",
                "bits": 53,
                "verdict": "skipped",
                "reason": f"d = {d} < {IV64_MIN_D}: arb balls are faster on small matrices",
            }
        )
        arith = "ball"
    if arith == "iv64":  # certified float64 intervals first; ball where they cannot decide
        b = backend("iv64")
        with b.session():
            out = envelope_run(b, ws0, Target.whitened(b, phi_m), eta_used, max_steps, rel_tol)
        tried.append(_attempt(b, out))
        if out["verdict"] is Verdict.INCONCLUSIVE:
            arith, b, out = "ball", None, None
    if out is None:
        b, out = _ball_run(ctx, arith, step, eta, ws0, phi_m, eta_used, max_steps, rel_tol, tried)
    assert b is not None
    label = "user target (as given)" if case.get("user") else f"{spec} x {scale:g}"
    out.update(
        {
            "L": L,
            "d": d,
            "target": label,
            "eta": float(eta_used),
            "eta_text": fraction_text(Fraction(eta_used)),
            "eta_theorem": fraction_text(step.eta_theorem),
            "eta_factor": eta_factor if eta is None else None,
            "arithmetic": b.name,
            "bits": b.prec,
            "phi_fro": step.phi_fro,
            "init": init,
            "arithmetic_switched": switched,
            "arithmetic_requested": arithmetic,
            "tried": tried,
        }
    )
    return f"L={L}/d={d}/{'user' if case.get('user') else spec}x{scale:g}", out


def _attempt(b: Backend, out: dict[str, Any]) -> dict[str, Any]:
    """One rung of the case's ladder, for the record: arithmetic, bits, verdict, steps decided."""
    return {
        "arithmetic": b.name,
        "bits": b.prec,
        "verdict": out["verdict"].value,
        "steps": out["steps"],
        "undecided_at": out["undecided_at"],
    }


def _ball_run(
    ctx: RunContext,
    arith: str,
    step: Any,
    eta: float | None,
    ws0: list[Any],
    phi_m: Any,
    eta_used: float | Fraction,
    max_steps: int,
    rel_tol: float,
    tried: list[dict[str, Any]],
) -> tuple[Backend, dict[str, Any]]:
    """:func:`envelope_run` in ``arith`` (float64, mp or ball), doubling the
    ball precision (from 128 bits, or what the step needs) while undecided;
    every rigorous attempt is appended to ``tried``."""
    bits = ctx.bits(128)
    if arith in ("ball", "mp") and eta is None:
        bits = max(bits, step.bits_needed())
    while True:
        b = ctx.backend(arith, bits)
        with b.session():
            out = envelope_run(b, ws0, Target.whitened(b, phi_m), eta_used, max_steps, rel_tol)
        if b.rigorous:
            tried.append(_attempt(b, out))
        undecided = out["verdict"] is Verdict.INCONCLUSIVE and b.rigorous and not b.exact
        if undecided and bits * 2 <= step.max_bits():
            bits *= 2
            continue
        return b, out


def _scope(per: dict[str, dict[str, Any]], eta: str) -> dict[str, Any]:
    """What the cases cover, per quantifier of the card (never universal: the
    steps decided, the targets run, the depths, the step)."""
    stops = [f"{k}: {_stop_text(o)}" for k, o in per.items()]
    ns = {o["steps"] for o in per.values()}
    t = (
        f"t <= {ns.pop()} GD steps in each case ({'; '.join(stops)})"
        if len(ns) == 1
        else "t <= N GD steps per case ("
        + "; ".join(f"{k}: N = {o['steps']}, {_stop_text(o)}" for k, o in per.items())
        + ")"
    )
    targets = {
        f"{o['target']} (d = {o['d']}, ||Phi||_F = {o['phi_fro']:.3g})" for o in per.values()
    }
    depths = sorted({o["L"] for o in per.values()})
    return {
        "t": covers(
            "every t (R(0) = 0 exactly in every case: GD stays at a global minimum)", universal=True
        )
        if all(o["zero_loss"] for o in per.values())
        else covers(t),
        "Phi": covers(f"{len(targets)} target(s): " + "; ".join(sorted(targets))),
        "L": covers("L in {" + ", ".join(map(str, depths)) + "}"),
        "eta": covers(eta),
    }


def _stop_text(o: dict[str, Any]) -> str:
    if o["zero_loss"]:
        return "R(0) = 0: every t"
    if o["stop"] == "converged":
        return "converged"
    return f"{o['stop']}, R(N)/R(0) = {o['final_rel_loss']:.2g}"


def _result(per: dict[str, dict[str, Any]], init: str, *, user_target: bool) -> CheckResult:
    """Combine the cases: worst ratio, verdict, scope, counterexample."""
    verdict = combine_verdicts(o["verdict"] for o in per.values())
    # a case with R(0) = 0 exactly has no ratio (0 <= 0 at every t): the others carry it
    live = [k for k in per if not per[k]["zero_loss"]]
    wkey = max(live or per, key=lambda k: per[k]["worst_ratio"] if live else 0.0)
    w = per[wkey]
    given = {o["eta_factor"] for o in per.values()} == {None}
    eta_scope = (
        "eta as given (" + ", ".join(sorted({o["eta_text"] for o in per.values()})) + ")"
        if given
        else "eta = the theorem's bound eta*(L, Phi) rounded down"
        + ("" if {o["eta_factor"] for o in per.values()} == {1.0} else " x eta_factor")
    )
    notes = "; ".join(
        (
            f"{k}: {o['verdict'].value} for every t: R(0) = 0 exactly (Phi = 0 at the product "
            "W_L...W_1 of the init), a global minimum where every gradient vanishes, so GD stays "
            f"and (4.5) reads 0 <= 0, {o['arithmetic']}@{o['bits']}"
            if o["zero_loss"]
            else f"{k}: {o['verdict'].value} for t <= {o['steps']} ({o['stop']}, R/R0 -> "
            f"{o['final_rel_loss']:.3g}), eta = {o['eta_text']}, worst ratio 1 - {o['gap_over_eta']:.3g} eta "
            f"at t = {o['worst_t']}, {o['arithmetic']}@{o['bits']}"
        )
        + (
            f" [{o['arithmetic_requested']} replaced by ball: {o['arithmetic_switched']}]"
            if o["arithmetic_switched"]
            else ""
        )
        + (
            " [iv64 undecided at t = " + str(o["tried"][0]["undecided_at"]) + ", rerun in ball]"
            if len(o["tried"]) > 1
            and o["tried"][0]["verdict"] == "inconclusive"
            and o["tried"][0]["arithmetic"] == "iv64"
            else ""
        )
        for k, o in per.items()
    )
    res = CheckResult(
        verdict=verdict,
        measured=w["worst_ratio"] if live else 0.0,
        bound=1.0 if live else 0.0,
        arithmetic=", ".join(sorted({o["arithmetic"] for o in per.values()})),
        precision_bits=max(o["bits"] for o in per.values()),
        measured_repr="max_t R(t) / ((1 - eta/2)^t R(0))"
        if live
        else "max_t R(t), exactly 0 (R(0) = 0: the bound (1 - eta/2)^t R(0) is 0)",
        params={"target": "user (run as given, not rescaled)" if user_target else "built-in cases"},
        evidence={"per_case": per},
        tightest={
            "case": wkey,
            "t": w["worst_t"],
            "ratio": w["worst_ratio"],
            "gap_over_eta": w["gap_over_eta"],
        },
        notes=notes + ". The 'for all t' is covered up to the steps decided (scope).",
        scope=_scope(per, eta_scope),
    )
    for o in per.values():
        o["verdict"] = o["verdict"].value
    if verdict is Verdict.VIOLATED:
        bad = next(k for k, o in per.items() if o["verdict"] == Verdict.VIOLATED.value)
        o = per[bad]
        res.counterexample = {
            "case": bad,
            "t": o["first_violation"],
            "eta": o["eta_text"],
            "init": init,
            "ratio": o["worst_ratio"],
            "phi_fro": o["phi_fro"],
        }
    return res


@CARD.check(
    method="class-certificate",
    budgets=THM43_CLASS_BUDGETS,
    controls=THM43_CLASS_CONTROLS,
)
def thm43_class(
    ctx: RunContext, depths: list[int], radii: list[float], eta: float | None = None
) -> CheckResult:
    """Theorem 4.3 for every ``Phi`` with ``||Phi||_F <= F`` (every ``d``) and every
    ``t``, at the theorem's step ``eta*(||Phi||_F, L)`` and every smaller one,
    for each ``(L, F)`` in ``depths x radii``.

    Reading formalized (:func:`zascheck.measure.certify_thm43.thm43_class_certificate`):
    per ``(L, F)`` an invariant region of the scalar map, checked by interval
    branch-and-bound over ``sigma in [0, F]``, ``eta in [0, eta*(sigma, L)]``
    and the state (at most 120 s each; a case that runs out is not
    certified, and a certified counterexample is then sought).  The result
    is ``certified`` when every ``(L, F)`` of the table is; its scope is that
    table (``Phi``, ``L`` never universal), every ``t`` and every step up to
    ``eta*``.  ``evidence["cases"]``: one row per ``(L, F)`` with
    ``certified``, ``seconds``, ``boxes`` and the smallest certified rate ``c``
    (``R(t+1) <= (1 - c eta) R(t)``).  Control ``eta-above-bound``: the step
    0.5 at ``L = 4``, ``F = 1`` (the theorem's step is ~1e-4) fails the
    certificate and a certified counterexample is found (rank-one
    ``Phi = e_1 e_1^T``, the bound fails at a stated ``t``).
    """
    return thm43_class_certificate(ctx, depths=depths, radii=radii, eta=eta)


CARD.prop(
    None,
    lambda: S.thm43_cases(steps=STEPS),
    eval_thm43,
    certify=True,
    summary="GD from ZAS at eta <= eta*: R(t) <= (1 - eta/2)^t R(0), every step decided",
)

CARD.prop(
    "eta-above-bound",
    lambda: S.thm43_cases(eta_log2=(1, 24), steps=STEPS),
    eval_thm43,
    certify=True,
    summary="eta up to 2^24 eta*: must fail",
)

CARD.prop(
    "non-zas-init",
    lambda: S.thm43_cases(inits_=("identity", "alpha-zas", "near-identity", "xavier"), steps=STEPS),
    eval_thm43,
    certify=True,
    summary="non-ZAS init at eta*: must fail",
)

CARD.search(examples=(5, 100, 1000))
