"""X -> sum_i A_i X B_i is symmetric PSD with top eigenvalue >= sum_i (u^T A_i u)(v^T B_i v)/(||u||^2 ||v||^2).

Source: reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018) (SSM appendix lemma).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from zascheck import ssm
from zascheck.card import Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm import _result, _worst
from zascheck.result import CheckResult, Verdict, decide

CARD = Card(
    id="ssm.psd-lemma",
    section="C",
    kind="inequality",
    source="reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018) (SSM appendix lemma)",
    statement="X -> sum_i A_i X B_i is symmetric PSD with top eigenvalue >= sum_i (u^T A_i u)(v^T B_i v)/(||u||^2 ||v||^2).",
    bound="lower",
    quantifiers=(
        Q("A,B", "every symmetric PSD A_i, B_i (every size, every count)"),
        Q("u,v", "every nonzero u, v"),
    ),
    depends_on=(),
    reconstructed=True,
)


@CARD.check(
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
