"""The last layer may start at ``c I`` instead of 0 and the proof's identities still hold;
the exact form they take and the rate that follows.

Source: review 1 of the ZAS paper (NeurIPS 2019), ``../shared/seeds/reviews-zas-neurips2019.txt``,
second point:

    "Secondly, one can modify the ZAS and initialize the last layer as non-zero
    appropriately (say, 0.1*Id), such that the two identities after line 145 hold."

Kind: inequality (gradient flow), an upper bound on ``R(t)``.  The reviewer
states no rate; CLAIMS.md asks for the exact form of the identities and the
rate that follows, and how it depends on ``c`` and ``L``.

Reading formalized: with ``W_l(0) = I`` (``l < L``) and ``W_L(0) = c I``,
``D_l = 0`` (``l <= L-2``) and ``D_{L-1} = (c^2 - 1) I`` (Lemma 4.2), so along
the flow ``W_{L-1:1} W_{L-1:1}^T = ((1 - c^2) I + W_L^T W_L)^{L-1}`` (the
identities after line 145 with ``I`` replaced by ``(1 - c^2) I``).  For
``|c| < 1`` its smallest eigenvalue is ``>= (1 - c^2)^{L-1}``, hence
``||G_L||^2 >= 2 (1 - c^2)^{L-1} R`` and, for every ``t >= 0`` and every
``Phi``, ``R(t) <= exp(-2 (1 - c^2)^{L-1} t) R(0)`` with
``R(0) = 1/2 ||c I - Phi||_F^2``.  The rate is tight for ``Phi = -I``: it is
attained at the instant ``W_L`` crosses 0.  The ZAS rate ``exp(-2t)`` itself
does not hold for ``c > 0`` (the rate table in the evidence shows where it fails).

Method ``spectral-proof`` (universal in ``t``, ``c``, ``L``; NOT in
``Phi``): ``W_L(0) = c I`` is aligned with the SVD of ``Phi`` only when
``Phi`` is symmetric (``zas.spectral``: then ``b(0) = c s_i``, ``s_i`` the
sign of the eigenvalue); there each mode keeps ``a^2 - b^2 = 1 - c^2`` and
``k >= (1 - c^2)^(L-1)`` (symbolic ``A = 1 - c^2 > 0`` and ``L``), so the
rate holds for every ``t``, ``|c| < 1``, ``L``, ``d`` and every SYMMETRIC
``Phi``.  For a non-symmetric ``Phi`` the argument does not carry over (the
init is not aligned); the flow method's targets are the evidence there, and
the claim-level verdict stays ``holds``.

References: ZAS paper, Lemma 4.2, Thm 4.1 and the identities after line 145;
review 1 (above).  Upstream defect: the former control ``zas-rate`` only
claimed a larger rate (it scaled the bound, broke no hypothesis); it is
replaced by ``last-not-cI`` (``W_L(0)`` not a multiple of ``I``).
"""

from __future__ import annotations

from typing import Any

from zascheck import model
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.flow import check_flow_request
from zascheck.measure.common import flow_decay
from zascheck.measure.reviews import (
    FLOW_NOTE,
    check_rate,
    check_values,
    empirical_rate,
    exact,
    last_ci_identity,
    last_ci_init,
    last_ci_rate,
    probe_flow,
    ratio_vs,
    target_text,
)
from zascheck.measure.spectral_thm41 import VARIANT_BUDGETS, flow_certificate
from zascheck.measure.symbolic import _certify
from zascheck.model import Target
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers
from zascheck.symbolic import claims as proof_sets
from zascheck.targets import make_phi

CARD = Card(
    id="review.last-cI",
    section="B",
    kind="inequality",
    source="reviews of the ZAS paper (NeurIPS 2019), review 1",
    statement="The last layer may start at c I instead of 0 and the proof's identities still "
    "hold: W_{L-1:1}W_{L-1:1}^T = ((1-c^2) I + W_L^T W_L)^{L-1}, so "
    "R(t) <= exp(-2 (1-c^2)^{L-1} t) R(0) for |c| < 1.",
    bound="upper",
    quantifiers=(
        Q("t", "every t >= 0 (gradient flow)"),
        Q("c", "every c with |c| < 1"),
        Q("Phi", "every target Phi in R^{d x d}"),
        Q("L", "every depth L >= 1"),
    ),
    proofs=proof_sets.last_ci,
    depends_on=("zas.lemma4.2", "zas.thm4.1"),
    figure="last-ci",
    # the report's sweeps behind this claim's figure, per report budget
    report={
        "quick": {"evidence": {"last_ci": {"cs": [0.1, 0.3, 0.5, 0.7, 0.9], "depths": [2, 3]}}},
        "standard": {
            "evidence": {
                "last_ci": {
                    "cs": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
                    "depths": [2, 3, 4, 5],
                }
            }
        },
        "full": {
            "evidence": {
                "last_ci": {
                    "cs": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
                    "depths": [2, 3, 4, 5],
                }
            }
        },
    },
)


def _one_case(
    b: Any,
    target: Target,
    ph: Any,
    c: float,
    L: int,
    d: int,
    taus: list[float],
    last_other: float | None,
) -> tuple[dict[str, Any], Any]:
    """One ``(Phi, c, L)``: the flow against ``exp(-2 (1-c^2)^{L-1} t) R(0)`` on
    ``t in {tau / r} U {tau}``, and its rate-table row (``None`` measurement
    when the derived rate is not positive)."""
    r = last_ci_rate(c, L)
    base = {"c": c, "L": L, "phi": str(ph), "derived_rate": float(r)}
    if r <= 0:
        return base | {"verdict": "inconclusive", "why": "no positive rate to check"}, None
    times = sorted({float(exact(t) / r) for t in taus} | {float(t) for t in taus})
    ws0 = last_ci_init(L, d, c, last_other)
    r0, g0 = model.loss_and_grads(b, [b.matrix(w) for w in ws0], target)
    r0f = b.to_float(r0)
    m = flow_decay(b, ws0, target, times, r)
    zas_ratio = ratio_vs(m.times, m.losses, r0f, 1.0)
    return base | {
        "claimed_rate": float(r),
        "empirical_rate": empirical_rate(m.times, m.losses, r0f),
        "rate_at_t0": sum(b.to_float(b.fro2(g)) for g in g0) / (2 * r0f),
        "max_ratio": m.max_ratio,
        "exp2t_max_ratio": max(zas_ratio),
        "exp2t_holds_on_grid": max(zas_ratio) <= 1.0,
        "verdict": m.verdict.value,
        "times": m.times,
        "loss": m.losses,
        "ratio_error_budget": m.err,
        "R0": r0f,
        "outside_hypothesis": not abs(c) < 1 or last_other is not None,
    }, m


def _probe(
    ctx: RunContext,
    b: Any,
    cs: list[float],
    depths: list[int],
    d: int,
    phis: list[Any],
    taus: list[float],
    last_other: float | None,
) -> None:
    """Refuse, before the measurement, a ``c`` the integrator cannot follow."""
    with b.session():
        for ph in phis:
            phi_m = make_phi(ph, d, ctx.rng(3))
            check_flow_request("review.last-cI:flow", depths, phi_m.shape[0], taus, b.prec, decay=False)
            target = Target.whitened(b, phi_m)
            for c in cs:
                for L in depths:
                    r = last_ci_rate(c, L)
                    if r > 0:
                        t_first = min(float(exact(min(taus)) / r), min(taus))
                        ws0 = last_ci_init(L, phi_m.shape[0], c, last_other)
                        probe_flow(b, ws0, target, t_first, f"cs (c = {c:g}, L = {L})")


@CARD.check(
    method="flow",
    budgets={
        "quick": {
            "cs": [0.1, 0.5, 0.7],
            "depths": [2, 3],
            "d": 2,
            "phis": ["-I"],
            "taus": [0.25, 0.5, 1.0, 2.0, 3.0],
            "arithmetic": "float64",
            "last_other": None,
        },
        "standard": {
            "cs": [0.1, 0.3, 0.5, 0.7, 0.9],
            "depths": [2, 3, 4, 5],
            "d": 2,
            "phis": ["-I", "gaussian"],
            "taus": [0.1, 0.25, 0.5, 1.0, 2.0, 3.0],
            "arithmetic": "float64",
            "last_other": None,
        },
    },
    controls={
        # break "W_L(0) is a multiple of I": W_L(0) = diag(0.1, 0.9).  The second mode's rate is
        # (1 - 0.81)^2 at L = 3, far below the claimed (1 - 0.01)^2 (Phi = -I attains it)
        "last-not-cI": {"cs": [0.1], "depths": [3], "phis": ["-I"], "last_other": 0.9},
        # break c < 1: the formula (1-c^2)^{L-1} is positive for c = 1.2, L = 3, but the
        # flow is caught by the saddle at W_{L-1:1} = 0
        "c-above-1": {"cs": [1.2], "depths": [3], "phis": ["-I"]},
    },
    accepts_phi=True,
)
def last_ci(
    ctx: RunContext,
    cs: list[float],
    depths: list[int],
    d: int,
    phis: list[Any],
    taus: list[float],
    arithmetic: str,
    last_other: float | None,
    phi: Any = None,
) -> CheckResult:
    """Gradient flow from ``W_L(0) = c I`` (others ``I``) against ``exp(-2 (1-c^2)^{L-1} t) R(0)``.

    For every ``c`` in ``cs``, ``L`` in ``depths`` and target in ``phis`` (or
    the user's ``phi``): :func:`flow_decay` with ``r = (1-c^2)^{L-1}`` on
    ``t in {tau / r} U {tau}`` (float64 by default: horizons ``~3/r`` are long
    and ball radii of the Taylor integrator blow up there).  measured = the
    largest ratio, bound 1, best verdict ``holds``.  The rate table gives per
    case the derived rate, the empirical rate ``min_t -ln(R(t)/R(0))/(2t)``,
    the rate at ``t = 0`` (``1 + (L-1) c^2``) and whether ``exp(-2t)`` still
    holds; the identity is checked exactly at ``t = 0`` and along a short
    ball flow.  ``last_other`` sets the last diagonal entry of ``W_L(0)``
    (negative control).  Raises :class:`InputError`, before any work, for a
    ``c`` that is not finite or whose rate the float64 clock cannot hold.
    """
    check_values(cs, "cs")
    check_values(taus, "taus", positive=True)
    if last_other is not None:
        check_values([last_other], "last_other")
    for c in cs:
        for L in depths:
            if last_ci_rate(c, L) > 0:
                check_rate(last_ci_rate(c, L), taus, f"cs (c = {c:g}, L = {L})")
    b = ctx.backend(arithmetic, 128)
    phis = [phi] if phi is not None else phis
    _probe(ctx, b, cs, depths, d, phis, taus, last_other)
    table: list[dict[str, Any]] = []
    verdicts: list[Verdict] = []
    worst: tuple[float, dict[str, Any]] | None = None
    with b.session():
        for ph in phis:
            phi_m = make_phi(ph, d, ctx.rng(3))
            target = Target.whitened(b, phi_m)
            for c in cs:
                for L in depths:
                    row, m = _one_case(b, target, ph, c, L, phi_m.shape[0], taus, last_other)
                    table.append(row)
                    verdicts.append(Verdict(row["verdict"]))
                    if m is not None and (worst is None or m.max_ratio > worst[0]):
                        worst = (
                            m.max_ratio,
                            {
                                "c": c,
                                "L": L,
                                "phi": phi_m,
                                "t": m.times[m.worst],
                                "ratio": m.max_ratio,
                                "rate": row["claimed_rate"],
                            },
                        )
        ident = last_ci_identity(ctx, cs[0], max(depths), d, phis[0])
    return _result(
        b, combine_verdicts(verdicts), worst, table, ident, cs, depths, phis, d, taus, last_other
    )


def _result(
    b: Any,
    verdict: Verdict,
    worst: tuple[float, dict[str, Any]] | None,
    table: list[dict[str, Any]],
    ident: dict[str, Any],
    cs: list[float],
    depths: list[int],
    phis: list[Any],
    d: int,
    taus: list[float],
    last_other: float | None,
) -> CheckResult:
    """The result of :func:`last_ci`: verdict, tightest case, scope, notes."""
    measured = worst[0] if worst else None
    res = CheckResult(
        verdict=verdict,
        measured=measured,
        bound=1.0,
        relation="<=",
        arithmetic=b.name,
        precision_bits=b.prec,
        measured_repr="max over (c, L, Phi, t) of R(t)/(exp(-2 r t)R(0)), r = (1-c^2)^(L-1)",
        evidence={"rate_table": table, "identity": ident, "last_other": last_other},
        notes=(
            FLOW_NOTE + " Rate (1-c^2)^(L-1) from lambda_min(((1-c^2)I + W_L^T W_L)^(L-1)); "
            "with Phi = -I it is attained at the instant W_L crosses 0 (then only G_L is nonzero). "
            f"Identity W_(L-1:1)W_(L-1:1)^T = ((1-c^2)I + W_L^T W_L)^(L-1): exact at t = 0: "
            f"{ident['exact_at_t0']}; max residual along a short ball flow "
            f"{ident['max_residual']:.2g} "
            f"(integration error estimate {ident['integration_error']:.2g})."
        ),
        scope={
            "t": covers(
                f"t in {{tau / r}} U {{tau}}, tau in {list(taus)}, r = (1-c^2)^(L-1) "
                "(integration error estimated)"
            ),
            "c": covers(
                f"c in {list(cs)}"
                + ("" if last_other is None else f" (last entry of W_L(0): {last_other})")
            ),
            "Phi": covers("; ".join(target_text(p, d) for p in phis)),
            "L": covers(f"L in {list(depths)}"),
        },
    )
    if worst is not None:
        res.tightest = {k: v for k, v in worst[1].items() if k != "phi"}
        if verdict is Verdict.VIOLATED:
            res.counterexample = worst[1] | {"d": d, "last_other": last_other}
    return res


@CARD.check(
    method="symbolic",
    budgets={"quick": {"L_max": 5, "wrong": None}, "standard": {"L_max": 7, "wrong": None}},
    controls={"sign": {"wrong": "sign"}},
)
def last_ci_symbolic(ctx: RunContext, *, L_max: int, wrong: str | None) -> CheckResult:
    """Last layer c I: the proof's identities in their exact form.

    Reading formalized: with ``W_l(0) = I`` (``l < L``), ``W_L(0) = c I`` (``c``
    symbolic), ``D_{L-1} = (c^2 - 1) I``, so ``W_{L-1}W_{L-1}^T = (1 - c^2) I +
    W_L^T W_L`` and ``W_{L-1:1}W_{L-1:1}^T = ((1 - c^2) I + W_L^T W_L)^{L-1} >=
    (1 - c^2)^{L-1} I`` when ``|c| <= 1``: the rate becomes
    ``exp(-2 (1 - c^2)^{L-1} t)``.  Explicit ``L = 2..L_max`` (every ``d``).
    """
    assert CARD.proofs is not None
    res = _certify(
        CARD.proofs(L_max=L_max, wrong=wrong),
        route="substitution, rewriting modulo the conserved D_l, Gram-sum expansion",
        notes="The second identity changes form: I + W_L^T W_L becomes "
        "(1 - c^2) I + W_L^T W_L; the Gram-sum bound needs 1 - c^2 >= 0, giving "
        "R(t) <= exp(-2 (1 - c^2)^{L-1} t) R(0) (c = 0.1: factor 0.99^{L-1}); "
        f"for |c| >= 1 the bound is vacuous. Explicit L <= {L_max}, symbolic c.",
    )
    res.scope = {
        "t": covers("every t >= 0 (identities of the conserved D_l, zas.lemma4.2)", universal=True),
        "c": covers("symbolic real c (the bound needs |c| <= 1)", universal=True),
        "Phi": covers("every Phi (the identities do not involve it)", universal=True),
        "L": covers(f"L = 2..{L_max} (explicit sizes)"),
    }
    return res


# --- the certificate for symmetric targets: the spectral reduction, per mode ---


@CARD.check(
    method="spectral-proof",
    budgets={k: v | {"alpha": None, "c": None} for k, v in VARIANT_BUDGETS.items()},
    controls={
        # break "the other layers I": layers 0.8 I with W_L(0) = 0.5 I
        "layers-not-I": {"alpha": 0.8, "c": 0.5},
    },
)
def last_ci_spectral(
    ctx: RunContext,
    depths: list[int],
    sigmas: list[float],
    points: int,
    alpha: float | None,
    c: float | None,
) -> CheckResult:
    """``R(t) <= exp(-2 (1 - c^2)^(L-1) t) R(0)`` for every ``t >= 0``, every
    ``|c| < 1``, every ``L >= 1`` and every SYMMETRIC ``Phi`` (every ``d``).

    Reading formalized (:func:`zascheck.measure.spectral_thm41.flow_certificate`,
    variant ``last-cI``): the proof chain with ``A = 1 - c^2`` a positive
    symbol (alignment, invariants, ``k >= A^(L-1)``; Gronwall stated) and a
    validated enclosure of the scalar flow at ``c = +-1/4`` (both signs of
    the eigenvalue) on the budget's ``(L, sigma)`` grid that must decide every
    comparison.  Not covered: non-symmetric ``Phi`` (``c I`` is not aligned
    with its SVD), so the ``Phi`` scope is never universal and the claim-level
    verdict cannot become ``certified`` from this method.  Control
    ``layers-not-I``: layers ``0.8 I`` with ``c = 0.5`` shrink ``a^2 - b^2`` to
    ``0.39 < 1 - c^2``; the enclosure decides a violation.
    """
    return flow_certificate(
        "last-cI",
        depths=depths,
        sigmas=sigmas,
        points=points,
        alpha=alpha,
        c=c,
        prec=ctx.bits(128),
        universal={
            "t": ("every t >= 0 (symbolic: k >= (1 - c^2)^(L-1); Gronwall)", True),
            "c": ("every |c| < 1 (symbolic A = 1 - c^2 > 0)", True),
            "Phi": (
                "every SYMMETRIC Phi, every d (c I aligned); non-symmetric Phi not covered",
                False,
            ),
            "L": ("every L >= 1 (symbolic L)", True),
        },
        init="W_l = I (l < L), W_L = c I" if c is None else f"W_l = {alpha} I, W_L = {c} I",
    )
