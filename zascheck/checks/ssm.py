"""Checks for section C of ``../shared/CLAIMS.md``: the reviews of "Step Size
Matters in Deep Learning" (Nar & Sastry, NeurIPS 2018).

SSM's own text is not in the seeds; statements marked *reconstructed* in the
catalogue follow the reviews and the standard linear-stability argument.  The
mathematics lives in :mod:`zascheck.ssm`; loss, gradients and GD come from
:mod:`zascheck.model` / :mod:`zascheck.dynamics`.  Loss ``1/2||W_{L:1} - R||_F^2``,
``rho = sigma_max(R)``, ``eta_1 = 2 / (L rho^{2(L-1)/L})`` (the ssm.thm1 step bound).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from zascheck import dynamics, inits, model, ssm
from zascheck.arith import Backend
from zascheck.errors import InputError
from zascheck.model import Target
from zascheck.registry import RunContext, register
from zascheck.result import CheckResult, Verdict, decide, margin_of

_ORDER = {Verdict.VIOLATED: 0, Verdict.INCONCLUSIVE: 1, Verdict.HOLDS: 2, Verdict.CERTIFIED: 3}


def _worst(*vs: Verdict) -> Verdict:
    return min(vs, key=lambda v: _ORDER[v])


def _result(
    b: Backend,
    verdict: Verdict,
    measured: float,
    bound: float,
    relation: str,
    how: str = "",
    notes: str = "",
    **kw: Any,
) -> CheckResult:
    """A result; ``how`` (the technique) leads the notes, since ``method`` is the
    registered method key the runner fills in."""
    return CheckResult(
        notes=f"[{how}] {notes}" if how else notes,
        verdict=verdict,
        measured=float(measured),
        bound=float(bound),
        margin=float(margin_of(float(measured), float(bound), relation)),
        relation=relation,
        arithmetic=b.name,
        precision_bits=b.prec,
        **kw,
    )


def _rot(theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def _sym_target(eigs: list[float], rotate: float) -> np.ndarray:
    """``Q diag(eigs) Q^T`` with ``Q`` a rotation in the first two coordinates."""
    d = len(eigs)
    q = np.eye(d)
    q[:2, :2] = _rot(rotate)
    return q @ np.diag(np.asarray(eigs, dtype=float)) @ q.T


def _converges(b: Backend, ws: list[Any], target: Target, eta: float, max_steps: int) -> bool:
    """GD reaches ``R <= u R(0)`` (``u`` the unit roundoff) within ``max_steps``."""
    run = dynamics.gd(b, ws, target, eta, max_steps=max_steps, rel_tol=b.unit_roundoff)
    return run.stop == "converged"


# ---------------------------------------------------------------------------
# ssm.psd-lemma
# ---------------------------------------------------------------------------


@register(
    "ssm.psd-lemma",
    method="ball",
    budgets={
        "quick": {"d": 2, "terms": 3, "trials": 2, "n_uv": 6, "prec": 128, "negate_a": False},
        "standard": {"d": 3, "terms": 3, "trials": 4, "n_uv": 20, "prec": 128, "negate_a": False},
        "thorough": {"d": 4, "terms": 4, "trials": 8, "n_uv": 50, "prec": 192, "negate_a": False},
    },
    controls={"non-psd-A": {"negate_a": True}},
)
def check_psd_lemma(
    ctx: RunContext, *, d: int, terms: int, trials: int, n_uv: int, prec: int, negate_a: bool
) -> CheckResult:
    """For symmetric PSD ``A_i, B_i`` the operator ``X -> sum_i A_i X B_i`` is symmetric
    PSD, with top eigenvalue ``>= sum_i (u^T A_i u)(v^T B_i v)/(|u|^2|v|^2)``.

    Source: reviews of SSM (NeurIPS 2018); the lemma is SSM's appendix lemma as
    recalled there (*reconstructed*).  Formalized: random rational ``A_i = G G^T``,
    ``B_i = H H^T`` (``G, H`` with entries ``k/4``); the ``d^2 x d^2`` matrix of the
    operator is built exactly, its symmetry checked exactly, its spectrum enclosed
    by arb (``acb_mat.eig``); ``lambda_min >= 0`` and ``lambda_max >=`` the largest
    Rayleigh bound over random dyadic ``u, v`` are decided by the enclosures.
    Control: ``A_i -> -A_i`` (not PSD).
    """
    import flint

    ex = ctx.backend("exact")
    b = ctx.backend("ball", prec)
    rng = ctx.rng(101)
    lam_min_all = []
    gaps = []
    verdicts = []
    sym_ok = True
    worst: dict[str, Any] | None = None
    with b.session():
        for trial in range(trials):
            As, Bs = [], []
            for _ in range(terms):
                g = ssm.rational_matrix(rng, d, 4, 4, flint)
                h = ssm.rational_matrix(rng, d, 4, 4, flint)
                a = g * g.transpose()
                As.append(-a if negate_a else a)
                Bs.append(h * h.transpose())
            m_ex = ssm.operator_matrix(ex, As, Bs)
            sym_ok = sym_ok and m_ex == m_ex.transpose()
            m = b.matrix(m_ex)
            try:
                eig = sorted((z.real for z in m.eig()), key=lambda z: z.mid())
            except (ValueError, ArithmeticError):
                verdicts.append(Verdict.INCONCLUSIVE)
                continue
            lmin, lmax = eig[0], eig[-1]
            best = None
            for _ in range(n_uv):
                u = [ex.scalar(Fraction(int(k), 8)) for k in rng.integers(-8, 9, size=d)]
                v = [ex.scalar(Fraction(int(k), 8)) for k in rng.integers(-8, 9, size=d)]
                if all(x == 0 for x in u) or all(x == 0 for x in v):
                    continue
                rq = ssm.rayleigh_bound(ex, As, Bs, u, v)
                best = rq if best is None or rq > best else best
            rq_ball = b.scalar(best)
            v_psd = decide(b, lmin, 0, relation=">=")
            v_ray = decide(b, lmax, rq_ball, relation=">=")
            verdicts.append(_worst(v_psd, v_ray))
            lam_min_all.append(b.to_float(lmin))
            gaps.append(b.to_float(lmax - rq_ball))
            if worst is None or b.to_float(lmin) < worst["lambda_min"]:
                assert best is not None, "a trial reaching here drew a nonzero (u, v)"
                worst = {
                    "trial": trial,
                    "lambda_min": b.to_float(lmin),
                    "lambda_min_ball": b.to_str(lmin, 15),
                    "lambda_max": b.to_float(lmax),
                    "rayleigh_best": float(int(best.p) / int(best.q)),
                    "A": [str(a.tolist()) for a in As],
                }
    verdict = _worst(*verdicts) if verdicts else Verdict.INCONCLUSIVE
    if not sym_ok:
        verdict = Verdict.VIOLATED
    measured = min(lam_min_all) if lam_min_all else float("nan")
    return _result(
        b,
        verdict,
        measured,
        0.0,
        ">=",
        how="exact operator matrix, arb eigenvalue enclosures",
        measured_repr=worst["lambda_min_ball"] if worst else "",
        notes=(
            f"measured = smallest certified eigenvalue over {trials} trials "
            f"(PSD part); top-vs-Rayleigh gaps all decided too (min gap {min(gaps):.4g}); "
            f"symmetry exact: {sym_ok}."
            if gaps
            else "no eigenvalue enclosure"
        ),
        evidence={"lambda_min": lam_min_all, "top_minus_rayleigh": gaps, "symmetric_exact": sym_ok},
        counterexample=worst if verdict == Verdict.VIOLATED else None,
    )


# ---------------------------------------------------------------------------
# ssm.thm1
# ---------------------------------------------------------------------------


def _random_invertible(rng: np.random.Generator, d: int, flint: Any) -> Any:
    eye = flint.fmpq_mat(d, d, [1 if i == j else 0 for i in range(d) for j in range(d)])
    while True:
        scale = flint.fmpq(int(rng.integers(1, 5)), int(rng.integers(1, 5)))
        g = (eye + ssm.rational_matrix(rng, d, 4, 2, flint)) * scale
        if g.det() != 0:
            return g


@register(
    "ssm.thm1",
    method="exact-hessian",
    budgets={
        "quick": {
            "d": 2,
            "L": 2,
            "n_balanced": 1,
            "n_unbalanced": 2,
            "prec": 128,
            "bound_factor": 1,
        },
        "standard": {
            "d": 2,
            "L": 3,
            "n_balanced": 3,
            "n_unbalanced": 6,
            "prec": 128,
            "bound_factor": 1,
        },
        "thorough": {
            "d": 3,
            "L": 3,
            "n_balanced": 4,
            "n_unbalanced": 10,
            "prec": 192,
            "bound_factor": 1,
        },
    },
    controls={"bound-x1.5": {"bound_factor": "3/2"}},
)
def check_thm1(
    ctx: RunContext,
    *,
    d: int,
    L: int,
    n_balanced: int,
    n_unbalanced: int,
    prec: int,
    bound_factor: Any,
) -> CheckResult:
    """The smallest top Hessian eigenvalue over the global minima of
    ``1/2||W_{L:1} - R||^2`` is ``L rho^{2(L-1)/L}``, attained at balanced
    factorizations; hence GD converges to a minimum only if
    ``eta <= 2 / (L rho^{2(L-1)/L})``.

    Source: reviews of SSM (NeurIPS 2018), SSM Theorem 1 / Corollary 1
    (*reconstructed*).  Formalized: a rational target ``R = U diag(s^L) V^T``
    (``U, V`` rational orthogonal by Cayley transforms, ``s`` rational), so that
    balanced minima ``W_l = Q_l diag(s) Q_{l-1}^T`` are exact rationals, and
    unbalanced minima ``G_l W_l G_{l-1}^{-1}`` too; the Hessian is formed exactly
    (Hessian-vector products of ``model.grads``), its top eigenvalue found from the
    exactly factored characteristic polynomial (rational roots exact, others as arb
    enclosures).  Measured: the smallest top eigenvalue over the minima, against
    ``L s_1^{2(L-1)}``.  The step-size half follows through ``ssm.sharpness``.
    Control: the bound multiplied by 3/2 must be refuted by a balanced minimum.
    """
    import flint

    ex = ctx.backend("exact")
    b = ctx.backend("ball", prec)
    rng = ctx.rng(102)
    choices = [Fraction(k, 4) for k in range(2, 9)]
    picks = sorted(rng.choice(len(choices), size=d, replace=False).tolist(), reverse=True)
    sing = [flint.fmpq(choices[i].numerator, choices[i].denominator) for i in picks]
    u = ssm.random_orthogonal_rational(rng, d, flint)
    v = ssm.random_orthogonal_rational(rng, d, flint)
    bound_ex = flint.fmpq(L) * sing[0] ** (2 * (L - 1)) * ex.scalar(Fraction(str(bound_factor)))
    rows = []
    best = None
    with b.session():
        for k in range(n_balanced + n_unbalanced):
            qs = [ssm.random_orthogonal_rational(rng, d, flint) for _ in range(L - 1)]
            ws, r = ssm.balanced_minimum(u, sing, v, qs, flint)
            kind = "balanced"
            if k >= n_balanced:
                ws = ssm.unbalance(ws, [_random_invertible(rng, d, flint) for _ in range(L - 1)])
                kind = "unbalanced"
            tgt = Target.whitened(ex, r)
            if model.loss(ex, ws, tgt) != 0:
                raise AssertionError("constructed point is not a global minimum")
            h = ssm.hessian(ex, ws, tgt)
            top_ex, top_ball = ssm.top_eigenvalue_exact(h, flint)
            row: dict[str, Any] = {
                "kind": kind,
                "top": b.to_float(top_ball),
                "exact": str(top_ex) if top_ex is not None else None,
            }
            rows.append(row)
            if best is None or top_ball.mid() < best[1].mid():
                best = (top_ex, top_ball, row, ws)
        assert best is not None, "n_balanced + n_unbalanced >= 1 minima were built"
        top_ex, top_ball, row, ws = best
        if top_ex is not None:
            verdict = decide(ex, top_ex, bound_ex, relation=">=")
            arith_b: Backend = ex
        else:
            verdict = decide(b, top_ball, b.scalar(bound_ex), relation=">=")
            arith_b = b
        bal_eq = all(
            r["exact"] == str(flint.fmpq(L) * sing[0] ** (2 * (L - 1)))
            for r in rows
            if r["kind"] == "balanced"
        )
        if not bal_eq:  # the claim also says the minimum is attained at balanced factorizations
            verdict = Verdict.VIOLATED
    bound_f = float(int(bound_ex.p) / int(bound_ex.q))
    return _result(
        arith_b,
        verdict,
        row["top"],
        bound_f,
        ">=",
        how="exact Hessian (HVP of model.grads), exact charpoly + certified roots",
        measured_repr=row["exact"] or "",
        bound_repr=str(bound_ex),
        notes=(
            f"rho = {float(int((sing[0] ** L).p)) / int((sing[0] ** L).q):.6g}, L = {L}, d = {d}; "
            f"min top eigenvalue over {len(rows)} exact minima is at a {row['kind']} one; "
            f"balanced minima equal L rho^(2(L-1)/L) exactly: {bal_eq}."
        ),
        evidence={
            "minima": rows,
            "singular_values": [str(s) for s in sing],
            "balanced_equal_bound": bal_eq,
        },
        counterexample=(
            {
                "kind": row["kind"],
                "top_eigenvalue": row["exact"] or row["top"],
                "claimed_min": str(bound_ex),
                "W": [str(w.tolist()) for w in ws],
            }
            if verdict == Verdict.VIOLATED
            else None
        ),
    )


# ---------------------------------------------------------------------------
# ssm.sharpness
# ---------------------------------------------------------------------------


def _lam_max(b: Backend, ws: list[Any], tgt: Target) -> float:
    return max(b.eigvalsh(ssm.hessian(b, ws, tgt)))


@register(
    "ssm.sharpness",
    method="gd-limits",
    budgets={
        "quick": {
            "d": 2,
            "L": 2,
            "eta_fracs": [0.5, 0.9, 1.3],
            "seeds": [0, 1],
            "init_scale": 0.5,
            "max_steps": 1500,
            "start": "random",
        },
        "standard": {
            "d": 2,
            "L": 3,
            "eta_fracs": [0.3, 0.6, 0.9, 0.97, 1.1, 1.5],
            "seeds": [0, 1, 2],
            "init_scale": 0.5,
            "max_steps": 4000,
            "start": "random",
        },
        "thorough": {
            "d": 3,
            "L": 4,
            "eta_fracs": [0.3, 0.6, 0.9, 0.97, 1.1, 1.5],
            "seeds": list(range(6)),
            "init_scale": 0.5,
            "max_steps": 10000,
            "start": "random",
        },
    },
    controls={"start-at-sharp-minimum": {"start": "sharp-minimum"}},
)
def check_sharpness(
    ctx: RunContext,
    *,
    d: int,
    L: int,
    eta_fracs: list[float],
    seeds: list[int],
    init_scale: float,
    max_steps: int,
    start: str,
) -> CheckResult:
    """GD on a smooth function converges (for almost every init) only to minima with
    ``eta lambda_max(Hessian) <= 2``.

    Source: reviews of SSM (NeurIPS 2018), review 1 ("common knowledge ... for
    almost every initialization").  Formalized on the deep linear network: GD from
    random inits (``init_scale * N(0, 1/d)``) at steps ``eta = f * eta_1`` for the
    listed fractions ``f``; at every run that reaches ``R <= u R(0)`` the Hessian at
    the limit is formed (HVPs of ``model.grads``) and ``eta lambda_max`` compared
    with 2.  Error budget: ``eta (gamma_n ||H||_F + |dlambda| q/(1-q))`` with
    ``dlambda`` the change of ``lambda_max`` over the last step and ``q`` the last
    contraction of the residual (a geometric tail estimate of the distance to the
    true limit).  Control: GD started exactly at a sharp minimum (exact arithmetic,
    a measure-zero init) stays there.
    """
    rng_t = ctx.rng(103)
    if start == "sharp-minimum":
        import flint

        b = ctx.backend("exact")
        tgt = Target.whitened(b, [[1]])
        ws0 = [[[2]], [[Fraction(1, 2)]]]
        eta: Fraction | float = Fraction(1)
        run = dynamics.gd(b, ws0, tgt, eta, max_steps=5, rel_tol=0.0)
        top_ex, _top_ball = ssm.top_eigenvalue_exact(ssm.hessian(b, run.ws, tgt), flint)
        val: Fraction | float = eta * Fraction(int(top_ex.p), int(top_ex.q))
        verdict = (
            decide(b, b.scalar(val), 2, relation="<=")
            if run.stop == "converged"
            else Verdict.INCONCLUSIVE
        )
        return _result(
            b,
            verdict,
            float(val),
            2.0,
            "<=",
            how="exact GD from a minimum",
            notes="GD started at the minimum (2, 1/2) of (w2 w1 - 1)^2/2 with eta = 1 stops "
            f"'{run.stop}' "
            f"with eta*lambda_max = {val}.",
            evidence={"stop": run.stop, "eta_lambda_max": float(val)},
            counterexample={"init": "(w1, w2) = (2, 1/2)", "eta": 1, "eta_lambda_max": str(val)}
            if verdict == Verdict.VIOLATED
            else None,
        )
    b = ctx.backend("float64")
    phi = rng_t.standard_normal((d, d))
    tgt = Target.whitened(b, phi)
    rho = float(np.linalg.norm(phi, 2))
    eta1 = ssm.thm1_eta(L, rho)
    n = L * d * d
    runs = []
    worst = None
    verdicts = []
    for seed in seeds:
        ws0 = [init_scale * w for w in inits.xavier(L, d, seed=ctx.rng(1000 + seed))]
        for f in eta_fracs:
            eta = f * eta1
            hist: list[list[Any]] = []

            def keep(t: int, ws: Any, r: Any, g: Any, hist: list = hist) -> None:
                hist.append(list(ws))
                if len(hist) > 2:
                    hist.pop(0)

            run = dynamics.gd(
                b, ws0, tgt, eta, max_steps=max_steps, rel_tol=b.unit_roundoff, observers=[keep]
            )
            rec: dict[str, Any] = {
                "seed": seed,
                "eta_frac": f,
                "stop": run.stop,
                "steps": run.steps,
            }
            if run.stop == "converged" and len(hist) == 2:
                h_t = ssm.hessian(b, hist[-1], tgt)
                lam_t = max(b.eigvalsh(h_t))
                lam_p = _lam_max(b, hist[0], tgt)
                q = math.sqrt(run.losses[-1] / run.losses[-2]) if run.losses[-2] > 0 else 0.0
                tail = abs(lam_t - lam_p) * q / (1 - q) if q < 1 else math.inf
                err = eta * (b.gamma(n) * float(np.linalg.norm(h_t)) + tail)
                val = eta * lam_t
                v = decide(b, val, 2.0, relation="<=", err=err)
                verdicts.append(v)
                rec.update({"eta_lambda_max": val, "err": err})
                if worst is None or val > worst["eta_lambda_max"]:
                    worst = dict(rec)
            runs.append(rec)
    if worst is None:
        return _result(
            b,
            Verdict.INCONCLUSIVE,
            float("nan"),
            2.0,
            "<=",
            how="GD limits",
            notes="no run converged",
            evidence={"runs": runs},
        )
    verdict = _worst(*verdicts)
    return _result(
        b,
        verdict,
        worst["eta_lambda_max"],
        2.0,
        "<=",
        how="GD to convergence, Hessian at the limit (HVP of model.grads)",
        notes=(
            f"{len(verdicts)} of {len(runs)} runs converged (L = {L}, d = {d}, eta_1 = "
            f"{eta1:.4g}); "
            f"largest eta*lambda_max = {worst['eta_lambda_max']:.6g} at eta = {worst['eta_frac']} "
            "eta_1."
        ),
        evidence={"runs": runs, "eta1": eta1, "rho": rho},
        counterexample=worst if verdict == Verdict.VIOLATED else None,
    )


# ---------------------------------------------------------------------------
# ssm.stable-manifold
# ---------------------------------------------------------------------------


@register(
    "ssm.stable-manifold",
    method="exact-preimage",
    budgets={
        "quick": {"n_inits": 3, "perturb": 0, "prec": 113, "steps": 200},
        "standard": {"n_inits": 10, "perturb": 0, "prec": 113, "steps": 400},
        "thorough": {"n_inits": 30, "perturb": 0, "prec": 160, "steps": 800},
    },
    controls={"off-manifold": {"perturb": 30}},
)
def check_stable_manifold(
    ctx: RunContext, *, n_inits: int, perturb: int, prec: int, steps: int
) -> CheckResult:
    """Instability excludes convergence to a minimum only for almost every init:
    inits on a stable manifold converge to minima above the bound.

    Source: reviews of SSM (NeurIPS 2018), review 1, minor point 1.  Formalized
    (d = 1, L = 2): for rational ``(a0, b0, eta)`` the target ``r`` is chosen so that
    one GD step lands *exactly* on the minimum curve ``a b = r``
    (``zascheck.ssm.preimage_of_minimum``); such inits form a curve (a one-step stable set of
    the minima).  Exact GD stays there forever; the exact Hessian gives
    ``eta lambda_max``.  Only triples with ``eta > eta_1 = 1/|r|`` are kept, so every
    global minimum is unstable, yet these inits converge.  Measured: the largest
    ``eta lambda_max`` at an exhibited limit (``>= 2`` means exhibited).
    Control: the init moved off the curve by ``2^-perturb`` (mp arithmetic):
    GD no longer reaches a minimum.
    """
    import flint

    rng = ctx.rng(104)
    ex = ctx.backend("exact")
    b = ex if not perturb else ctx.backend("mp", prec)
    found: list[dict[str, Any]] = []
    tries = 0
    while len(found) < n_inits and tries < 50 * n_inits:
        tries += 1
        a0 = Fraction(int(rng.integers(1, 13)), 4)
        b0 = Fraction(int(rng.integers(1, 13)), 4)
        eta = Fraction(int(rng.integers(1, 5)), 2)
        r, e, a1, b1 = ssm.preimage_of_minimum(a0, b0, eta)
        if r == 0 or e == 0 or eta * abs(r) <= 1:
            continue
        tgt = Target.whitened(b, [[r]])
        start = [[[a0 + (Fraction(1, 2**perturb) if perturb else 0)]], [[b0]]]
        if perturb:
            run = dynamics.gd(
                b, start, tgt, b.scalar(eta), max_steps=steps, rel_tol=b.unit_roundoff
            )
        else:
            run = dynamics.gd(b, start, tgt, eta, max_steps=4, rel_tol=0.0)
        rec: dict[str, Any] = {
            "a0": str(a0),
            "b0": str(b0),
            "eta": str(eta),
            "r": str(r),
            "stop": run.stop,
            "steps": run.steps,
        }
        if run.stop == "converged":
            h = ssm.hessian(b, run.ws, tgt)
            if b.exact:
                top_ex, _ = ssm.top_eigenvalue_exact(h, flint)
                val = eta * Fraction(int(top_ex.p), int(top_ex.q))
                rec["eta_lambda_max"] = str(val)
                rec["value"] = float(val)
                rec["limit"] = [str(a1), str(b1)]
            else:
                rec["value"] = float(eta) * max(b.eigvalsh(h))
        else:
            rec["value"] = 0.0
        found.append(rec)
    best = max(found, key=lambda r_: r_["value"])
    if b.exact:
        verdict = decide(ex, ex.scalar(Fraction(best["eta_lambda_max"])), 2, relation=">=")
    else:
        verdict = decide(
            b, best["value"], 2.0, relation=">=", err=b.gamma(8) * max(best["value"], 1.0)
        )
    return _result(
        b,
        verdict,
        best["value"],
        2.0,
        ">=",
        how="exact one-step preimages of the minimum curve (d = 1, L = 2)",
        measured_repr=best.get("eta_lambda_max", ""),
        notes=(
            f"{sum(r_['stop'] == 'converged' for r_ in found)} of {len(found)} inits reach a "
            "global minimum; "
            f"largest eta*lambda_max at the limit = {best['value']:.6g} (all minima unstable: eta "
            "> 1/|r|)." + (f" Inits moved by 2^-{perturb}." if perturb else "")
        ),
        evidence={"inits": found},
        counterexample=best if verdict == Verdict.VIOLATED else None,
    )


# ---------------------------------------------------------------------------
# ssm.thm2
# ---------------------------------------------------------------------------


def _threshold_frac(
    b: Backend,
    ws0: list[Any],
    tgt: Target,
    eta1: float,
    iters: int,
    max_steps: int,
    lo: float = 0.25,
    hi: float = 1.5,
) -> tuple[float | None, float | None, list]:
    return ssm.bisect_threshold(
        lambda f: _converges(b, ws0, tgt, f * eta1, max_steps), lo, hi, iters
    )


@register(
    "ssm.thm2",
    method="bisection",
    budgets={
        "quick": {
            "d": 2,
            "L": 2,
            "eigs": [2.0, 0.5],
            "rotate": 0.6,
            "iters": 8,
            "max_steps": 1200,
            "n_random": 1,
            "bound_factor": 1.0,
        },
        "standard": {
            "d": 3,
            "L": 3,
            "eigs": [2.0, 1.0, 0.25],
            "rotate": 0.6,
            "iters": 12,
            "max_steps": 4000,
            "n_random": 3,
            "bound_factor": 1.0,
        },
        "thorough": {
            "d": 4,
            "L": 5,
            "eigs": [3.0, 1.5, 0.7, 0.2],
            "rotate": 0.6,
            "iters": 16,
            "max_steps": 10000,
            "n_random": 6,
            "bound_factor": 1.0,
        },
    },
    controls={"bound-x0.5": {"bound_factor": 0.5}},
)
def check_thm2(
    ctx: RunContext,
    *,
    d: int,
    L: int,
    eigs: list[float],
    rotate: float,
    iters: int,
    max_steps: int,
    n_random: int,
    bound_factor: float,
) -> CheckResult:
    """Symmetric positive definite target, all ``W_l(0) = I``, step below a
    threshold: linear convergence to a global minimum; identity init admits the
    largest step (Cor. 2).

    Source: reviews of SSM (NeurIPS 2018), SSM Theorem 2 / Corollary 2
    (*reconstructed*).  Formalized: ``R = Q diag(eigs) Q^T``; the empirical
    threshold ``eta*`` is the largest ``eta`` (bisection in ``eta / eta_1`` on
    ``[1/4, 3/2]``) for which float64 GD from identity reaches ``R <= u R(0)``
    within ``max_steps``.  Claim checked: ``eta* / eta_1 <= 1`` (no convergence
    above the ssm.thm1 bound); reported: the linear rate at ``eta_1 / 2`` and the
    thresholds of ``n_random`` near-identity inits (Cor. 2: identity's should be
    the largest).  Control: a claimed bound of ``bound_factor * eta_1`` = ``eta_1/2``
    must be refuted.
    """
    if len(eigs) != d or min(eigs) <= 0:
        raise InputError(f"thm2 needs d = {d} positive eigenvalues, got {eigs}")
    b = ctx.backend("float64")
    phi = _sym_target(eigs, rotate)
    tgt = Target.whitened(b, phi)
    rho = max(eigs)
    eta1 = ssm.thm1_eta(L, rho)
    eye = [np.eye(d) for _ in range(L)]
    lo, hi, trace = _threshold_frac(b, eye, tgt, eta1, iters, max_steps)
    half = dynamics.gd(b, eye, tgt, eta1 / 2, max_steps=max_steps, rel_tol=b.unit_roundoff)
    rate = (
        (half.losses[-1] / half.losses[0]) ** (1 / max(half.steps, 1))
        if half.losses[0] > 0
        else 0.0
    )
    others = []
    for k in range(n_random):
        ws0 = inits.near_identity(L, d, seed=ctx.rng(2000 + k))
        lo_k, _, _ = _threshold_frac(b, ws0, tgt, eta1, iters, max_steps)
        others.append(lo_k)
    res_step = 2.0**-iters * 1.25
    cor2 = lo is not None and all(o is None or o <= lo + res_step for o in others)
    if lo is None:
        return _result(
            b,
            Verdict.INCONCLUSIVE,
            float("nan"),
            bound_factor,
            "<=",
            how="bisection",
            notes="identity-initialized GD did not converge even at eta_1/4",
            evidence={"trace": trace},
        )
    verdict = decide(b, lo, bound_factor, relation="<=", err=b.gamma(4 * L + 4))
    return _result(
        b,
        verdict,
        lo,
        bound_factor,
        "<=",
        how="bisection of the step size (float64 GD from identity)",
        notes=(
            f"identity threshold eta*/eta_1 in [{lo:.4g}, {hi if hi is None else round(hi, 4)}] "
            f"(eta_1 = {eta1:.4g}, L = {L}, eigs = {eigs}); linear rate per step at eta_1/2: "
            f"{rate:.4g} in {half.steps} steps; near-identity thresholds {others}; "
            f"identity largest (Cor. 2, within bisection resolution {res_step:.3g}): {cor2}."
        ),
        evidence={
            "trace": trace,
            "eta1": eta1,
            "rate_at_half": rate,
            "random_thresholds": others,
            "identity_largest": cor2,
        },
        counterexample={"eta_frac": lo, "claimed_bound_frac": bound_factor}
        if verdict == Verdict.VIOLATED
        else None,
    )


# ---------------------------------------------------------------------------
# ssm.thm3
# ---------------------------------------------------------------------------


@register(
    "ssm.thm3",
    method="gd-limit",
    budgets={
        "quick": {
            "d": 2,
            "L": 2,
            "eigs": [2.0, -1.0],
            "rotate": 0.6,
            "eta_frac": 0.5,
            "steps": 400,
            "init": "identity",
            "exact_steps": 3,
        },
        "standard": {
            "d": 3,
            "L": 2,
            "eigs": [2.0, -1.0, -0.5],
            "rotate": 0.6,
            "eta_frac": 0.5,
            "steps": 1500,
            "init": "identity",
            "exact_steps": 4,
        },
        "thorough": {
            "d": 4,
            "L": 2,
            "eigs": [2.0, 1.0, -1.0, -0.5],
            "rotate": 0.6,
            "eta_frac": 0.5,
            "steps": 4000,
            "init": "identity",
            "exact_steps": 4,
        },
    },
    controls={"generic-init": {"init": "near-identity"}},
)
def check_thm3(
    ctx: RunContext,
    *,
    d: int,
    L: int,
    eigs: list[float],
    rotate: float,
    eta_frac: float,
    steps: int,
    init: str,
    exact_steps: int,
) -> CheckResult:
    """Symmetric target with negative eigenvalues: what identity-initialized GD
    converges to.

    Source: reviews of SSM (NeurIPS 2018), review 3 item 3 / SSM Theorem 3
    (*reconstructed*).  Formalized reading: from ``W_l(0) = I`` every ``W_l(t)`` is
    one and the same polynomial in ``R`` (symmetric, commuting with ``R``), so each
    eigen-direction evolves by ``w <- w - eta w^{L-1}(w^L - lambda)``; for
    ``lambda < 0`` and ``eta`` small, ``w`` decreases to 0, and the end-to-end
    matrix converges to ``R_+`` (the PSD part of ``R``), not to ``R``; the loss to
    ``1/2 ||R_-||^2``.  Certified part: the invariant (all layers equal, symmetric,
    commuting with a rational ``R``) in exact arithmetic for ``exact_steps`` steps.
    Decided part (``L = 2``, where the decay is linear): ``||P_T - R_+||_F`` against
    the geometric tail estimate ``||P_T - P_{T-1}|| q/(1-q)`` plus the rounding level
    ``gamma_{4Ld} ||R||`` (once the steps are at that level, the tail is the last step).
    Control: a generic (near-identity) init breaks the symmetry and GD fits ``R``.
    """
    import flint

    if len(eigs) != d or min(eigs) >= 0:
        raise InputError(f"thm3 needs d = {d} eigenvalues with a negative one, got {eigs}")
    # certified invariant on a rational target
    ex = ctx.backend("exact")
    q_ex = ssm.random_orthogonal_rational(ctx.rng(105), d, flint)
    eig_q = [Fraction(e).limit_denominator(64) for e in eigs]
    lam = flint.fmpq_mat(
        d,
        d,
        [
            flint.fmpq(eig_q[i].numerator, eig_q[i].denominator) if i == j else 0
            for i in range(d)
            for j in range(d)
        ],
    )
    r_ex = q_ex * lam * q_ex.transpose()
    t_ex = Target.whitened(ex, r_ex)
    ws = [ex.eye(d) for _ in range(L)]
    eta_ex = ex.scalar(
        Fraction(eta_frac * ssm.thm1_eta(L, max(abs(e) for e in eigs))).limit_denominator(64)
    )
    inv_ok = True
    for _ in range(exact_steps):
        ws, _, _ = dynamics.gd_step(ex, ws, t_ex, eta_ex)
        inv_ok = inv_ok and all(
            w == ws[0] and w == w.transpose() and w * r_ex == r_ex * w for w in ws
        )
    # the limit, float64
    b = ctx.backend("float64")
    phi = _sym_target(eigs, rotate)
    tgt = Target.whitened(b, phi)
    wv, vv = np.linalg.eigh(phi)
    r_plus = (vv * np.maximum(wv, 0)) @ vv.T
    eta1 = ssm.thm1_eta(L, float(np.max(np.abs(wv))))
    ws0 = (
        [np.eye(d) for _ in range(L)]
        if init == "identity"
        else inits.near_identity(L, d, seed=ctx.rng(106))
    )
    prods: list[np.ndarray] = []

    def keep(t: int, w: Any, r: Any, g: Any) -> None:
        prods.append(model.end_to_end(b, w))
        if len(prods) > 3:
            prods.pop(0)

    run = dynamics.gd(b, ws0, tgt, eta_frac * eta1, max_steps=steps, observers=[keep])
    p_t = prods[-1]
    d1 = ssm.fro(prods[-1] - prods[-2])
    d0 = ssm.fro(prods[-2] - prods[-3])
    floor = b.gamma(4 * L * d) * ssm.fro(phi)  # rounding level of one product P
    if d0 <= floor:  # the iteration sits at a floating-point fixed point / rounding noise
        tail = d1
    else:
        q = d1 / d0
        tail = d1 * q / (1 - q) if q < 1 else math.inf
    err_bound = tail + floor
    measured = ssm.fro(p_t - r_plus)
    verdict = decide(b, measured, err_bound, relation="<=")
    if verdict == Verdict.HOLDS and not inv_ok:
        verdict = Verdict.VIOLATED
    if L != 2 and verdict == Verdict.HOLDS:
        verdict = Verdict.INCONCLUSIVE
    return _result(
        b,
        verdict,
        measured,
        err_bound,
        "<=",
        how="GD limit vs the PSD part R_+ (float64) + exact invariant",
        notes=(
            f"||P_T - R_+|| = {measured:.3g} after {run.steps} steps (tail estimate {tail:.3g}); "
            f"||P_T - R|| = {ssm.fro(p_t - phi):.4g} = ||R_-|| {ssm.fro(phi - r_plus):.4g} unfit; "
            f"limit loss {run.losses[-1]:.6g}; exact invariant (equal, symmetric, commuting) over "
            f"{exact_steps} steps: {inv_ok}."
            + ("" if L == 2 else " L > 2: sublinear decay, not decided.")
        ),
        evidence={
            "dist_to_R_plus": measured,
            "dist_to_R": ssm.fro(p_t - phi),
            "loss_limit": run.losses[-1],
            "half_norm_R_minus_sq": 0.5 * ssm.fro(phi - r_plus) ** 2,
            "invariant_exact": inv_ok,
            "init": init,
        },
        counterexample={"init": init, "dist_to_R_plus": measured, "dist_to_R": ssm.fro(p_t - phi)}
        if verdict == Verdict.VIOLATED
        else None,
    )


# ---------------------------------------------------------------------------
# ssm.thm4
# ---------------------------------------------------------------------------


@register(
    "ssm.thm4",
    method="bisection",
    budgets={
        "quick": {
            "n": 2,
            "h": 4,
            "eta": 0.05,
            "seeds": [0, 1],
            "init_scale": 0.1,
            "max_steps": 1500,
            "iters": 7,
            "start": "random",
        },
        "standard": {
            "n": 3,
            "h": 8,
            "eta": 0.05,
            "seeds": [0, 1, 2, 3],
            "init_scale": 0.1,
            "max_steps": 4000,
            "iters": 10,
            "start": "random",
        },
        "thorough": {
            "n": 5,
            "h": 16,
            "eta": 0.02,
            "seeds": list(range(8)),
            "init_scale": 0.1,
            "max_steps": 10000,
            "iters": 14,
            "start": "random",
        },
    },
    controls={"start-at-unstable-solution": {"start": "unstable-solution"}},
)
def check_thm4(
    ctx: RunContext,
    *,
    n: int,
    h: int,
    eta: float,
    seeds: list[int],
    init_scale: float,
    max_steps: int,
    iters: int,
    start: str,
) -> CheckResult:
    """One-hidden-layer ReLU network ``f(x) = v^T relu(U x)``, square loss, one
    sample: a stable zero-loss solution has ``||x|| |y| <= 1/eta``.

    Source: reviews of SSM (NeurIPS 2018), SSM Theorem 4 (*reconstructed*).  Why:
    at zero loss ``lambda_max = ||relu(Ux)||^2 + ||v_A||^2 ||x||^2 >= 2 ||x|| |y|``
    (AM-GM and Cauchy-Schwarz), and stability needs ``eta lambda_max <= 2``.
    Formalized: for fixed ``x`` and ``eta``, bisection on ``q = eta ||x|| y`` in
    ``[1/8, 3/2]``: ``q`` is fitted if GD from some random init (scale
    ``init_scale``) reaches loss ``<= u loss(0)``; measured = largest fitted ``q``
    against 1; ``eta lambda_max <= 2`` is recorded at every fitted limit.
    Control: GD started exactly at a balanced zero-loss solution with
    ``q = 5/2`` (exact arithmetic; a measure-zero init) stays there.
    """
    if start == "unstable-solution":
        b = ctx.backend("exact")
        x = b.matrix([[3], [4]])
        t_ = Fraction(1, 5)
        u = b.matrix([[3 * t_, 4 * t_]])
        v = b.matrix([[5 * t_]])
        y = ssm.relu_forward(b, u, v, x)  # 125 t^2 = 5
        eta_q = Fraction(1, 10)
        stop, u1, v1, _steps = ssm.relu_gd(b, u, v, x, y, b.scalar(eta_q), 5, 0.0)
        qv = eta_q * 5 * Fraction(int(y.p), int(y.q))
        lam = ssm.relu_sharpness(b, u1, v1, x)
        lam_q = eta_q * Fraction(int(lam.p), int(lam.q))
        verdict = (
            decide(b, b.scalar(qv), 1, relation="<=")
            if stop == "converged"
            else Verdict.INCONCLUSIVE
        )
        return _result(
            b,
            verdict,
            float(qv),
            1.0,
            "<=",
            how="exact GD from a zero-loss solution",
            notes=f"x = (3, 4), y = {y}, eta = 1/10: GD stops '{stop}', eta*lambda_max = {lam_q}",
            evidence={"q": float(qv), "eta_lambda_max": float(lam_q)},
            counterexample={"x": [3, 4], "y": str(y), "eta": "1/10", "q": str(qv)}
            if verdict == Verdict.VIOLATED
            else None,
        )
    b = ctx.backend("float64")
    rng = ctx.rng(107)
    x = np.abs(rng.standard_normal((n, 1))) + 0.1
    nx = float(np.linalg.norm(x))
    sharp: list[float] = []

    def fits(q: float) -> bool:
        y = q / (eta * nx)
        for s in seeds:
            r = ctx.rng(3000 + s)
            u0 = init_scale * r.standard_normal((h, n))
            v0 = init_scale * r.standard_normal((h, 1))
            stop, u1, v1, _ = ssm.relu_gd(b, u0, v0, x, y, eta, max_steps, b.unit_roundoff)
            if stop == "converged":
                sharp.append(eta * float(ssm.relu_sharpness(b, u1, v1, x)))
                return True
        return False

    lo, hi, trace = ssm.bisect_threshold(fits, 0.125, 1.5, iters)
    if lo is None:
        return _result(
            b,
            Verdict.INCONCLUSIVE,
            float("nan"),
            1.0,
            "<=",
            how="bisection",
            notes="GD fitted no target even at q = 1/8",
            evidence={"trace": trace},
        )
    verdict = decide(b, lo, 1.0, relation="<=", err=b.gamma(4 * n * h))
    return _result(
        b,
        verdict,
        lo,
        1.0,
        "<=",
        how="bisection of the target scale (float64 GD, ReLU net)",
        notes=(
            f"largest fitted eta ||x|| |y| = {lo:.4g} (first failure {hi}); eta = {eta}, ||x|| = "
            f"{nx:.4g}, "
            f"h = {h}; max eta*lambda_max at fitted limits = {max(sharp):.4g}."
        ),
        evidence={"trace": trace, "eta_lambda_max": sharp, "norm_x": nx},
        counterexample={"q": lo} if verdict == Verdict.VIOLATED else None,
    )


# ---------------------------------------------------------------------------
# ssm.example1
# ---------------------------------------------------------------------------


@register(
    "ssm.example1",
    method="exact+ball",
    budgets={
        "quick": {
            "eta": "1/2",
            "starts": ["3/7", "-5/3", "1/1000", "10"],
            "steps": 60,
            "prec": 128,
            "schedule": "c/t",
            "c": "1",
            "dim_start": "3/7",
            "dim_steps": 2000,
        },
        "standard": {
            "eta": "3/4",
            "starts": ["3/7", "-5/3", "1/1000", "10", "-100", "1/7"],
            "steps": 120,
            "prec": 192,
            "schedule": "c/t",
            "c": "1",
            "dim_start": "-5/3",
            "dim_steps": 20000,
        },
        "thorough": {
            "eta": "1/3",
            "starts": ["3/7", "-5/3", "1/1000", "10", "-100", "1/7", "12345/7"],
            "steps": 400,
            "prec": 256,
            "schedule": "c/sqrt(t)",
            "c": "1",
            "dim_start": "10",
            "dim_steps": 100000,
        },
    },
    controls={"summable-step": {"schedule": "c/t^2"}},
)
def check_example1(
    ctx: RunContext,
    *,
    eta: str,
    starts: list[str],
    steps: int,
    prec: int,
    schedule: str,
    c: str,
    dim_start: str,
    dim_steps: int,
) -> CheckResult:
    """``f(x) = 2/3 |x|^{3/2}``: constant-step GD converges to a period-2 orbit,
    not to 0 (orbit found exactly); a diminishing step converges to 0.

    Source: reviews of SSM (NeurIPS 2018), review 2 (on SSM Example 1).
    Formalized: (i) exact: ``a = eta^2/4`` satisfies ``g(a) = -a``, ``g(-a) = a``
    for ``g(x) = x - eta sign(x) sqrt|x|`` (rational ``eta``, so ``sqrt a = eta/2``
    is exact).  (ii) ball arithmetic: every listed start enters ``0 < |x| < eta^2``
    (certified comparisons); there ``s = sqrt|x|`` maps to ``sqrt(s(eta - s))``,
    which satisfies ``s <= h(s) <= eta/2``, so the orbit is reached monotonically
    (quadratically: ``h'(eta/2) = 0``).  (iii) mp, from ``dim_start``: with
    ``x_t = x_{t-1} - eta_t f'(x_{t-1})`` and ``eta_t`` from ``schedule``, ``|x_T|``
    must lie below the envelope ``eta_T^2/4``, which tends to 0 (once
    ``sqrt|x| <= eta_t``, the lemma of (ii) keeps ``sqrt|x_t| <= eta_t/2`` whenever
    ``eta_{t+1} >= eta_t/2``).
    Control: a summable schedule ``c/t^2`` stalls away from 0.
    """
    ex = ctx.backend("exact")
    eta_q = Fraction(eta)
    a = ex.scalar(ssm.ex1_orbit_amplitude(eta_q))
    e_ex = ex.scalar(eta_q)
    x1 = ssm.ex1_step(ex, a, e_ex)
    x2 = ssm.ex1_step(ex, x1, e_ex)
    resid = abs(x1 + a) + abs(x2 - a)
    v_orbit = decide(ex, resid, 0, relation="<=")
    if not ex.lt(0, a):
        v_orbit = Verdict.VIOLATED
    # (ii) generic starts, ball arithmetic
    b = ctx.backend("ball", prec)
    entered = []
    final_dist = []
    iterates: dict[str, list[float]] = {}  # evidence (figures): x_0 .. x_30 per start
    with b.session():
        eb = b.scalar(eta_q)
        ab = b.scalar(ssm.ex1_orbit_amplitude(eta_q))
        for s in starts:
            x = b.scalar(Fraction(s))
            hit = None
            xs_s = iterates.setdefault(s, [b.to_float(x)])
            try:
                for t in range(steps):
                    if hit is None and b.lt(abs(x), eb * eb) is True and b.lt(0, abs(x)) is True:
                        hit = t
                    x = ssm.ex1_step(b, x, eb)
                    if t < 30:
                        xs_s.append(b.to_float(x))
            except ArithmeticError:
                pass
            entered.append(hit)
            final_dist.append(b.to_float(abs(abs(x) - ab)) + b.radius(x))
    v_conv = Verdict.CERTIFIED if all(h is not None for h in entered) else Verdict.INCONCLUSIVE
    # (iii) diminishing step, mp
    m = ctx.backend("mp", prec)
    cm = m.scalar(Fraction(c))

    def eta_t(t: int) -> Any:
        if schedule == "c/t":
            return cm / t
        if schedule == "c/sqrt(t)":
            return cm / m.sqrt(m.scalar(t))
        if schedule == "c/t^2":
            return cm / (t * t)
        raise InputError(f"unknown schedule {schedule!r}; use c/t, c/sqrt(t) or c/t^2")

    xs = m.scalar(Fraction(dim_start))
    samples = []
    # evidence (figures): x_t and the envelope eta_t^2/4 at ~40 log-spaced t
    keep_t = {int(v) for v in np.unique(np.round(np.geomspace(1, dim_steps, 40)))}
    series: dict[str, list[Any]] = {"t": [0], "x": [m.to_float(xs)], "envelope": [None]}
    for t in range(1, dim_steps + 1):
        xs = xs - eta_t(t) * ssm.ex1_grad(m, xs)
        if t in (10, 100, 1000, 10000, 100000) or t == dim_steps:
            samples.append((t, m.to_float(abs(xs))))
        if t in keep_t:
            series["t"].append(t)
            series["x"].append(m.to_float(xs))
            series["envelope"].append(m.to_float(eta_t(t) ** 2 / 4))
    env = eta_t(dim_steps) ** 2 / 4
    v_dim = decide(m, abs(xs), env, relation="<=", err=m.gamma(4 * dim_steps) * m.to_float(env))
    parts = [("orbit", v_orbit), ("generic starts", v_conv), ("diminishing", v_dim)]
    verdict = _worst(v_orbit, v_conv, v_dim)
    return _result(
        m,
        verdict,
        m.to_float(abs(xs)),
        m.to_float(env),
        "<=",
        how="exact orbit; ball iterates from generic starts; mp diminishing-step run",
        notes=(
            f"period-2 orbit +-{ex.to_str(a)} exact (residual {resid}): {v_orbit}; starts "
            f"{starts} enter the "
            f"basin at steps {entered} ({v_conv}); schedule {schedule}: |x_T| = "
            f"{m.to_float(abs(xs)):.3g} vs "
            f"envelope eta_T^2/4 = {m.to_float(env):.3g} ({v_dim}). measured/bound refer to the "
            "last part."
        ),
        evidence={
            "amplitude": ex.to_float(a),
            "entered_at": entered,
            "final_dist_to_orbit": final_dist,
            "diminishing": samples,
            "parts": {k: str(v) for k, v in parts},
            "constant_step_iterates": iterates,
            "diminishing_series": series,
            "eta": float(eta_q),
            "schedule": schedule,
        },
        counterexample={"schedule": schedule, "x_T": m.to_float(xs), "envelope": m.to_float(env)}
        if verdict == Verdict.VIOLATED
        else None,
    )


# ---------------------------------------------------------------------------
# ssm.orbit-or-slow
# ---------------------------------------------------------------------------


@register(
    "ssm.orbit-or-slow",
    method="krawczyk",
    budgets={
        "quick": {
            "L": 2,
            "r": 1,
            "eta": "11/10",
            "init": [1.05, 0.9],
            "gd_steps": 200,
            "prec": 128,
            "eta_ex1": "1/2",
        },
        "standard": {
            "L": 3,
            "r": 1,
            "eta": "7/10",
            "init": [1.05, 0.9, 1.0],
            "gd_steps": 600,
            "prec": 192,
            "eta_ex1": "3/4",
        },
        "thorough": {
            "L": 4,
            "r": 1,
            "eta": "53/100",
            "init": [1.05, 0.9, 1.0, 0.98],
            "gd_steps": 2000,
            "prec": 256,
            "eta_ex1": "1/3",
        },
    },
    controls={"below-threshold": {"eta": "9/10", "L": 2, "init": [1.05, 0.9]}},
)
def check_orbit_or_slow(
    ctx: RunContext,
    *,
    L: int,
    r: int,
    eta: str,
    init: list[float],
    gd_steps: int,
    prec: int,
    eta_ex1: str,
) -> CheckResult:
    """Is an observed oscillation a true periodic orbit or slow convergence?

    Source: reviews of SSM (NeurIPS 2018), review 3, Q1.  Formalized: an
    oscillation is a true period-2 orbit if the two-step map has a fixed point
    whose amplitude ``|G(s) - s|`` is bounded away from 0 by more than rounding
    could explain (``>= 2^{-prec/2}``).  (i) Example 1: exact orbit ``+-eta^2/4``,
    multiplier ``g'(a) g'(-a) = 0`` exactly.  (ii) Deep linear network, ``d = 1``,
    target ``r``: mp GD from an unbalanced ``init`` shows the oscillation; Newton on
    ``F(s) = G(G(s)) - s`` along the invariant balanced line from the last iterate;
    the Krawczyk test in arb proves a unique zero of ``F`` in a ball, and the
    amplitude is enclosed over that ball; the full Jacobian's spectral radius
    (mp, all layers) says whether the orbit attracts.  Control: ``eta`` below
    ``eta_1``: the zero found is the minimum and its amplitude encloses 0.
    """
    import flint

    # (i) Example 1 exactly
    ex = ctx.backend("exact")
    e1 = ex.scalar(Fraction(eta_ex1))
    a = ex.scalar(ssm.ex1_orbit_amplitude(Fraction(eta_ex1)))
    # g'(x) = 1 - eta / (2 sqrt|x|), exact at |x| = eta^2/4
    mult = (1 - e1 / (2 * (e1 / 2))) * (1 - e1 / (2 * (e1 / 2)))
    ok_ex1 = ssm.ex1_step(ex, ssm.ex1_step(ex, a, e1), e1) == a and a > 0 and mult == 0
    # (ii) deep linear network
    m = ctx.backend("mp", prec)
    eta_q = Fraction(eta)
    eta1 = ssm.thm1_eta(L, float(r))
    tgt_m = Target.whitened(m, [[r]])
    amps = []

    def amp(t: int, ws: Any, R: Any, g: Any) -> None:
        amps.append(m.to_float(abs(m.scale(m.scalar(eta_q), g[0])[0, 0])))

    run = dynamics.gd(
        m, [[[w]] for w in init], tgt_m, m.scalar(eta_q), max_steps=gd_steps, observers=[amp]
    )
    _g1m, fm, dfm = ssm.balanced_line_maps(m, L, tgt_m, m.scalar(eta_q))
    s = sum((w[0, 0] for w in run.ws), m.scalar(0)) / L
    for _ in range(60):
        step_ = fm(s) / dfm(s)
        s = s - step_
        if abs(m.to_float(step_)) < 2.0 ** -(prec - 8):
            break
    # full Jacobian of the two-step map at the point, mp
    w0 = [m.matrix([[s]]) for _ in range(L)]
    w1 = dynamics.gd_step(m, w0, tgt_m, m.scalar(eta_q))[0]
    eye = np.eye(L)
    j0 = eye - float(eta_q) * m.to_numpy(ssm.hessian(m, w0, tgt_m))
    j1 = eye - float(eta_q) * m.to_numpy(ssm.hessian(m, w1, tgt_m))
    spec = float(max(abs(np.linalg.eigvals(j1 @ j0))))
    # certify in ball arithmetic
    b = ctx.backend("ball", prec)
    with b.session():
        tgt_b = Target.whitened(b, [[r]])
        g1b, fb, dfb = ssm.balanced_line_maps(b, L, tgt_b, b.scalar(eta_q))
        mid = flint.arb(m.to_str(s, int(prec * 0.31)))
        mid = mid.mid()
        rad = flint.arb(2) ** (-(3 * prec) // 4)
        proved, box = ssm.krawczyk_1d(fb, dfb, mid, rad, flint)
        amp_ball = abs(g1b(box) - box)
        floor = b.scalar(2) ** (-(prec // 2))
        v_dln = decide(b, amp_ball, floor, relation=">=") if proved else Verdict.INCONCLUSIVE
        amp_repr = b.to_str(amp_ball, 12)
        amp_f = b.to_float(amp_ball)
        floor_f = b.to_float(floor)
    verdict = v_dln if ok_ex1 else Verdict.VIOLATED
    return _result(
        b,
        verdict,
        amp_f,
        floor_f,
        ">=",
        how="Newton on the two-step map + Krawczyk enclosure (arb)",
        measured_repr=amp_repr,
        notes=(
            f"Example 1 (eta = {eta_ex1}): exact orbit +-{a}, multiplier {mult}: {ok_ex1}. "
            f"Deep linear d = 1, L = {L}, r = {r}, eta = {eta} = {float(eta_q) / eta1:.3g} eta_1: "
            f"unique two-step fixed point proved: {proved}; amplitude {amp_repr}; spectral radius "
            "of the "
            f"two-step Jacobian {spec:.4g} ({'attracting' if spec < 1 else 'not attracting'}); GD "
            "amplitude "
            f"{amps[0]:.3g} -> {amps[-1]:.3g} over {run.steps} steps."
        ),
        evidence={
            "gd_amplitude": amps[:: max(1, len(amps) // 20)],
            "spectral_radius": spec,
            "eta_over_eta1": float(eta_q) / eta1,
            "krawczyk": proved,
            "ex1_ok": ok_ex1,
        },
        counterexample={"eta": eta, "amplitude": amp_repr, "orbit_point": m.to_str(s, 20)}
        if verdict == Verdict.VIOLATED
        else None,
    )


# ---------------------------------------------------------------------------
# ssm.diagonal-init
# ---------------------------------------------------------------------------


@register(
    "ssm.diagonal-init",
    method="gd-ladder",
    budgets={
        "quick": {
            "Ls": [2, 3],
            "eigs": [1.5, 0.5],
            "family": [[0.5, 2.0], [1.5, 0.75]],
            "map": [[1.0, 0.0], [1.0, -1.0]],
            "fracs": [0.5, 0.125],
            "max_steps": 800,
        },
        "standard": {
            "Ls": [2, 3, 4],
            "eigs": [1.5, 0.5],
            "family": [[1.0, 1.0], [0.5, 2.0], [2.0, 0.5], [0.25, 1.5], [1.5, 0.75]],
            "map": [[1.0, 0.0], [0.0, 0.0], [1.0, -1.0], [-1.0, -1.0]],
            "fracs": [0.5, 0.125, 0.03],
            "max_steps": 4000,
        },
        "thorough": {
            "Ls": [2, 3, 4, 5],
            "eigs": [2.0, 0.25],
            "family": [[1.0, 1.0], [0.5, 2.0], [2.0, 0.5], [0.25, 1.5], [1.5, 0.75], [0.1, 0.1]],
            "map": [[1.0, 0.0], [0.0, 0.0], [1.0, -1.0], [-1.0, -1.0], [-0.5, 2.0]],
            "fracs": [0.5, 0.125, 0.03, 0.008],
            "max_steps": 20000,
        },
    },
    controls={"zero-entry": {"family": [[1.0, 0.0]]}},
)
def check_diagonal_init(
    ctx: RunContext,
    *,
    Ls: list[int],
    eigs: list[float],
    family: list[list[float]],
    map: list[list[float]],
    fracs: list[float],
    max_steps: int,
) -> CheckResult:
    """A diagonal init in place of identity should work too: for which diagonals.

    Source: reviews of SSM (NeurIPS 2018), review 1 (post-rebuttal note).
    Formalized reading: "every positive diagonal ``D`` works": for a symmetric PD
    target ``R``, GD from ``W_l(0) = D`` (all layers) reaches ``R <= u R(0)`` for
    some step in ``fracs * eta_1`` within ``max_steps``, both for ``R`` diagonal
    (commuting with ``D``) and for ``R`` rotated by 0.6 rad (not commuting).
    Measured: number of positive-diagonal cases that fail (claim: 0).  Reported
    too (``map``): zero and negative entries, against the prediction of
    :func:`zascheck.ssm.diag_init_prediction` for the diagonal target.
    Control: a diagonal with a zero entry in the family.
    """
    b = ctx.backend("float64")
    d = len(eigs)
    targets = {"aligned": np.diag(np.asarray(eigs, dtype=float)), "rotated": _sym_target(eigs, 0.6)}
    eta1s = {L: ssm.thm1_eta(L, max(eigs)) for L in Ls}

    def works(diag: list[float], L: int, phi: np.ndarray) -> float | None:
        ws0 = inits.diagonal(diag, L)
        tgt = Target.whitened(b, phi)
        for f in fracs:
            if _converges(b, ws0, tgt, f * eta1s[L], max_steps):
                return f
        return None

    rows = []
    failures = []
    for diag in family:
        if len(diag) != d:
            raise InputError(f"diagonal {diag} has the wrong length (d = {d})")
        for L in Ls:
            for name, phi in targets.items():
                f = works(diag, L, phi)
                rows.append({"D": diag, "L": L, "target": name, "works_at_frac": f, "family": True})
                if f is None:
                    failures.append(rows[-1])
    mismatches = []
    for diag in map:
        for L in Ls:
            for name, phi in targets.items():
                f = works(diag, L, phi)
                row = {"D": diag, "L": L, "target": name, "works_at_frac": f, "family": False}
                if name == "aligned":
                    row["predicted"] = ssm.diag_init_prediction(diag, L)
                    if row["predicted"] != (f is not None):
                        mismatches.append(row)
                rows.append(row)
    n_fail = len(failures)
    verdict = decide(b, float(n_fail), 0.0, relation="<=")
    return _result(
        b,
        verdict,
        float(n_fail),
        0.0,
        "<=",
        how="GD from W_l = D at a ladder of steps (float64)",
        notes=(
            f"{n_fail} of {len(family) * len(Ls) * 2} positive-diagonal cases fail (L in {Ls}); "
            "zero/negative entries (map): "
            f"{sum(r['works_at_frac'] is not None for r in rows if not r['family'])} "
            f"of {sum(not r['family'] for r in rows)} work; prediction mismatches on the diagonal "
            "target: "
            f"{len(mismatches)}."
        ),
        evidence={"cases": rows, "prediction_mismatches": mismatches},
        counterexample=failures[0] if verdict == Verdict.VIOLATED else None,
    )


# ---------------------------------------------------------------------------
# ssm.worst-case
# ---------------------------------------------------------------------------


@register(
    "ssm.worst-case",
    method="random-search",
    budgets={
        "quick": {
            "n_cases": 4,
            "d": 2,
            "Ls": [2, 3],
            "iters": 6,
            "max_steps": 1500,
            "bound_factor": 1.0,
        },
        "standard": {
            "n_cases": 24,
            "d": 2,
            "Ls": [2, 3, 4],
            "iters": 10,
            "max_steps": 3000,
            "bound_factor": 1.0,
        },
        "thorough": {
            "n_cases": 100,
            "d": 3,
            "Ls": [2, 3, 4, 6],
            "iters": 14,
            "max_steps": 10000,
            "bound_factor": 1.0,
        },
    },
    controls={"bound-x0.5": {"bound_factor": 0.5}},
)
def check_worst_case(
    ctx: RunContext,
    *,
    n_cases: int,
    d: int,
    Ls: list[int],
    iters: int,
    max_steps: int,
    bound_factor: float,
) -> CheckResult:
    """Which target and init make the general step-size bound tightest?

    Source: reviews of SSM (NeurIPS 2018), review 3, Q2.  Formalized: random
    search over Gaussian targets ``R`` (d x d; for identity init a symmetric PD
    ``G G^T/d + I/10``), depths ``Ls`` and init families
    (identity, near-identity eq. 5.1, small Xavier ``0.3 N(0, 1/d)``, and a balanced
    minimum of ``R`` perturbed by ``1e-3``); for each case the empirical threshold
    ``eta*`` (bisection in ``eta/eta_1`` on ``[1/8, 3/2]``, convergence to
    ``R <= u R(0)`` within ``max_steps``).  Measured: the largest ratio
    ``eta*/eta_1`` (claim: ``<= 1``); ``tightest`` names the case closest to 1.
    Control: a claimed bound of ``eta_1/2`` must be refuted.
    """
    b = ctx.backend("float64")
    rng = ctx.rng(108)
    families = ["identity", "near-identity", "small-xavier", "near-balanced"]
    cases = []
    for k in range(n_cases):
        L = Ls[k % len(Ls)]
        fam = families[k % len(families)]
        phi = rng.standard_normal((d, d))
        if fam == "identity":  # identity needs a symmetric PD target (ssm.thm2 / ssm.thm3)
            phi = phi @ phi.T / d + 0.1 * np.eye(d)
            ws0 = [np.eye(d) for _ in range(L)]
        elif fam == "near-identity":
            ws0 = inits.near_identity(L, d, seed=rng)
        elif fam == "small-xavier":
            ws0 = [0.3 * w for w in inits.xavier(L, d, seed=rng)]
        else:
            ws0 = ssm.near_balanced(phi, L, rng, 1e-3)
        rho = float(np.linalg.norm(phi, 2))
        eta1 = ssm.thm1_eta(L, rho)
        tgt = Target.whitened(b, phi)

        def works(f: float, ws0: list[Any] = ws0, tgt: Target = tgt, eta1: float = eta1) -> bool:
            return _converges(b, ws0, tgt, f * eta1, max_steps)

        lo, hi, _ = ssm.bisect_threshold(
            works,
            1 / 8,
            1.5,
            iters,
        )
        cases.append(
            {
                "L": L,
                "init": fam,
                "rho": rho,
                "ratio": lo,
                "first_fail": hi,
                "phi": np.round(phi, 6).tolist(),
            }
        )
    found = [c for c in cases if c["ratio"] is not None]
    if not found:
        return _result(
            b,
            Verdict.INCONCLUSIVE,
            float("nan"),
            bound_factor,
            "<=",
            how="random search",
            notes="no case converged at eta_1/8",
            evidence={"cases": cases},
        )
    top = max(found, key=lambda c: c["ratio"])
    verdict = decide(b, top["ratio"], bound_factor, relation="<=", err=b.gamma(4 * max(Ls) + 4))
    return _result(
        b,
        verdict,
        top["ratio"],
        bound_factor,
        "<=",
        how="random search, bisection of the step size (float64 GD)",
        notes=(
            f"{len(found)} of {len(cases)} cases converge at some step; tightest eta*/eta_1 = "
            f"{top['ratio']:.4g} (L = {top['L']}, init {top['init']}); resolution 2^-{iters} * "
            "1.44."
        ),
        evidence={"ratios": [[c["L"], c["init"], c["ratio"]] for c in cases]},
        tightest=top,
        counterexample=top if verdict == Verdict.VIOLATED else None,
    )
