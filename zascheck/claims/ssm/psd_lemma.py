"""``ssm.psd-lemma``: the map ``X -> sum_i A_i X B_i`` is symmetric PSD and its top
eigenvalue is at least ``sum_i (u^T A_i u)(v^T B_i v) / (||u||^2 ||v||^2)``.

Source: "Step Size Matters in Deep Learning" (Nar & Sastry, NeurIPS 2018),
appendix "Proof of Theorem 1 and Corollary 1", Lemma 2.  SSM's text is not in
the seeds (the reviews do not quote the lemma); the catalogue's statement
(``../shared/CLAIMS.md`` C) is *reconstructed*, and agrees with a stored copy
of the arXiv source (1805.08890v2), which reads:

    "Let f: R^{m x n} -> R^{m x n} be a linear map defined as
    f(X) = sum_{i=1}^L A_i X B_i, where A_i in R^{m x m} and B_i in R^{n x n}
    are symmetric positive semidefinite matrices for all i in [L]. Then, for
    every nonzero u in R^m and v in R^n, the largest eigenvalue of f satisfies
    lambda_max(f) >= 1/(||u||_2^2 ||v||_2^2) sum_{i=1}^L (u^T A_i u)(v^T B_i v)."

Kind: inequality, a lower bound on ``lambda_max`` (not claimed tight; it is
attained when ``u, v`` are common top eigenvectors).  Formalized: both halves,
"``f`` is self-adjoint and PSD for ``<X, Y> = tr(X^T Y)``" and the bound.

* ``symbolic``: the proof for every ``m, n`` and number of terms — three
  trace identities in the free algebra (:func:`zascheck.symbolic.ssm_proofs.psd_lemma_proofs`)
  chained with cited facts (spectral theorem, ``tr(Z^T Z) >= 0``,
  Courant-Fischer).  Controls drop the symmetry and the PSD hypotheses.
* ``ball``: instances — the exact ``mn x mn`` matrix of ``f``, its spectrum
  enclosed by arb, against the best Rayleigh bound over random ``u, v``.

Used by ``ssm.thm1`` (its Hessian at a minimum is ``J^T J``, and ``J J^*`` is
this map).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from zascheck import ssm
from zascheck.card import SSM_REV, Card, RunContext
from zascheck.card import Quantifier as Q
from zascheck.measure.ssm_checks import need_int, ssm_result
from zascheck.measure.symbolic import _certify
from zascheck.result import CheckResult, Verdict, combine_verdicts, covers, decide
from zascheck.symbolic.ssm_proofs import psd_lemma_proofs

CARD = Card(
    id="ssm.psd-lemma",
    section="C",
    kind="inequality",
    source=f"{SSM_REV}; SSM appendix, Lemma 2 (arXiv:1805.08890v2; not in the seeds)",
    statement=(
        "X -> sum_i A_i X B_i is symmetric PSD with top eigenvalue "
        ">= sum_i (u^T A_i u)(v^T B_i v)/(||u||^2 ||v||^2)."
    ),
    bound="lower",
    quantifiers=(
        Q("A,B", "every symmetric PSD A_i (m x m), B_i (n x n); every m, n and number of terms"),
        Q("u,v", "every nonzero u in R^m, v in R^n"),
    ),
    depends_on=(),
    reconstructed=True,
    proofs=psd_lemma_proofs,
)


@CARD.check(
    method="symbolic",
    budgets={"quick": {"wrong": None}},
    controls={"not-symmetric": {"wrong": "not-symmetric"}, "not-psd": {"wrong": "not-psd"}},
)
def check_psd_lemma_symbolic(ctx: RunContext, *, wrong: str | None) -> CheckResult:
    """The appendix lemma for every size: three trace identities (self-adjoint;
    ``<X, f(X)> = sum_i ||G_i^T X H_i||^2`` for ``A_i = G_i G_i^T``,
    ``B_i = H_i H_i^T``; the Rayleigh quotient at ``X = u v^T``) reduced to zero
    in the free algebra, chained with cited facts (listed in the proofs' steps).
    """
    res = _certify(
        psd_lemma_proofs(wrong),
        route="free-algebra trace normal form",
        notes="Every m, n and number of terms; cited: spectral theorem, tr(Z^T Z) >= 0, "
        "Courant-Fischer.",
    )
    every = res.verdict is Verdict.CERTIFIED
    res.scope = {
        "A,B": covers("every symmetric PSD A_i, B_i, every m, n, every number of terms",
                      universal=every),
        "u,v": covers("every nonzero u, v", universal=every),
    }  # fmt: skip
    return res


@CARD.check(
    method="ball",
    budgets={
        "quick": {"d": 2, "terms": 3, "trials": 2, "n_uv": 6, "prec": 128, "negate_a": False},
        "standard": {"d": 3, "terms": 3, "trials": 4, "n_uv": 20, "prec": 128, "negate_a": False},
        "thorough": {"d": 4, "terms": 4, "trials": 8, "n_uv": 50, "prec": 192, "negate_a": False},
    },
    controls={"non-psd-A": {"negate_a": True}},
)
def check_psd_lemma_ball(
    ctx: RunContext, *, d: int, terms: int, trials: int, n_uv: int, prec: int, negate_a: bool
) -> CheckResult:
    """Instances of the lemma, decided by enclosures: random rational
    ``A_i = G G^T``, ``B_i = H H^T`` (``G, H`` ``d x d`` with entries ``k/4``);
    the ``d^2 x d^2`` matrix of ``f`` is built exactly (symmetry checked
    exactly), its spectrum enclosed by arb (``acb_mat.eig``), and
    ``lambda_min >= 0``, ``lambda_max >=`` the best Rayleigh bound over ``n_uv``
    random dyadic ``(u, v)`` decided by the enclosures.  Measured: the smallest
    certified ``lambda_min`` over the trials (claim ``>= 0``).
    Control: ``A_i -> -A_i`` (not PSD), through the same path.
    """
    for name, v, lo in (("d", d, 1), ("terms", terms, 1), ("trials", trials, 1),
                        ("n_uv", n_uv, 1), ("prec", prec, 53)):  # fmt: skip
        need_int(name, v, lo)
    b = ctx.backend("ball", prec)
    rows = []
    with b.session():
        for trial in range(trials):
            rows.append(_psd_trial(ctx, b, trial, d, terms, n_uv, negate_a))
    verdict = combine_verdicts(r["verdict"] for r in rows)
    done = [r for r in rows if "lambda_min" in r]
    worst = min(done, key=lambda r: r["lambda_min"]) if done else None
    measured = worst["lambda_min"] if worst else float("nan")
    return ssm_result(
        b, verdict, measured, 0.0, ">=",
        how="exact operator matrix, arb eigenvalue enclosures",
        measured_repr=worst["lambda_min_ball"] if worst else "",
        notes=(
            f"measured = smallest certified eigenvalue of f over {trials} trials; "
            f"top eigenvalue - best Rayleigh bound decided in each (smallest gap "
            f"{min((r['gap'] for r in done), default=float('nan')):.4g}); symmetry exact: "
            f"{all(r['symmetric'] for r in rows)}."
        ),
        evidence={"trials": [{k: v for k, v in r.items() if k != "verdict"} for r in rows]},
        scope={
            "A,B": covers(f"{trials} random rational instances, m = n = {d}, {terms} terms"),
            "u,v": covers(f"{n_uv} random dyadic (u, v) per instance"),
        },
        counterexample=worst if verdict is Verdict.VIOLATED else None,
    )  # fmt: skip


def _psd_trial(
    ctx: RunContext, b: Any, trial: int, d: int, terms: int, n_uv: int, negate_a: bool
) -> dict[str, Any]:
    """One random instance: the exact operator, its arb spectrum, the Rayleigh bound."""
    import flint

    ex = ctx.backend("exact")
    rng = ctx.rng(101 + 1000 * trial)
    As, Bs = [], []
    for _ in range(terms):
        g = ssm.rational_matrix(rng, d, 4, 4, flint)
        h = ssm.rational_matrix(rng, d, 4, 4, flint)
        As.append((-1 if negate_a else 1) * (g * g.transpose()))
        Bs.append(h * h.transpose())
    m_ex = ssm.operator_matrix(ex, As, Bs)
    row: dict[str, Any] = {"trial": trial, "symmetric": m_ex == m_ex.transpose(),
                           "A": [str(a.tolist()) for a in As]}  # fmt: skip
    try:
        eig = sorted((z.real for z in b.matrix(m_ex).eig()), key=lambda z: z.mid())
    except (ValueError, ArithmeticError):
        return row | {"verdict": Verdict.INCONCLUSIVE, "why": "eigenvalues not isolated"}
    best = None
    while best is None:
        for _ in range(n_uv):
            u = [ex.scalar(Fraction(int(k), 8)) for k in rng.integers(-8, 9, size=d)]
            v = [ex.scalar(Fraction(int(k), 8)) for k in rng.integers(-8, 9, size=d)]
            if any(x != 0 for x in u) and any(x != 0 for x in v):
                rq = ssm.rayleigh_bound(ex, As, Bs, u, v)
                best = rq if best is None or rq > best else best
    rq_ball = b.scalar(best)
    v_psd = decide(b, eig[0], 0, relation=">=")
    v_ray = decide(b, eig[-1], rq_ball, relation=">=")
    sym = Verdict.CERTIFIED if row["symmetric"] else Verdict.VIOLATED
    return row | {
        "verdict": combine_verdicts([sym, v_psd, v_ray]),
        "lambda_min": b.to_float(eig[0]),
        "lambda_min_ball": b.to_str(eig[0], 15),
        "lambda_max": b.to_float(eig[-1]),
        "rayleigh_best": float(int(best.p) / int(best.q)),
        "gap": b.to_float(eig[-1] - rq_ball),
    }
