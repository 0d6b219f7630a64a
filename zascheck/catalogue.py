"""The claim catalogue (``../shared/CLAIMS.md``) as data: id, section, kind, source.

This is the list ``zascheck claims`` prints.  Checks attach themselves to these
ids through :func:`zascheck.registry.register`; an id without a check is
listed as such, never reported with a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATALOGUE", "ClaimInfo"]

ZAS = "Wu, Wang & Ma, NeurIPS 2019 (ZAS paper)"
ZAS_REV = "reviews of the ZAS paper (NeurIPS 2019)"
SSM_REV = "reviews of 'Step Size Matters in Deep Learning' (NeurIPS 2018)"


@dataclass(frozen=True)
class ClaimInfo:
    id: str
    section: str  # "A" (ZAS paper), "B" (ZAS reviews), "C" (SSM reviews)
    kind: str
    source: str
    statement: str
    reconstructed: bool = False

    @property
    def provenance(self) -> str:
        p = self.source
        return p + (
            " [reconstructed: SSM's own text is not in the seeds]" if self.reconstructed else ""
        )


_ROWS: list[tuple[str, str, str, str, str, bool]] = [
    # id, section, kind, source, statement, reconstructed
    (
        "zas.gradient",
        "A",
        "identity",
        f"{ZAS}, eq. (2.5)",
        "G_l = W_{L:l+1}^T E W_{l-1:1}^T for every L >= 1, every shape.",
        False,
    ),
    (
        "zas.residual",
        "A",
        "identity",
        f"{ZAS}, Sec. 3",
        "With W_l = I + U_l, dR/dU_l = dR/dW_l: GD from U_l = 0, W_L = 0 is GD from ZAS.",
        False,
    ),
    (
        "zas.lemma4.2",
        "A",
        "conservation",
        f"{ZAS}, Lemma 4.2 (Sec. 4.1)",
        "Under gradient flow every D_l(t) = D_l(0), for any init, Phi, L, d.",
        False,
    ),
    (
        "zas.drift",
        "A",
        "identity",
        f"{ZAS}, Sec. 4.2 (underlies Lemma 4.5)",
        "Under GD: D_l(t+1) - D_l(t) = eta^2 (G_{l+1}^T G_{l+1} - G_l G_l^T) exactly.",
        False,
    ),
    (
        "zas.thm4.1",
        "A",
        "inequality",
        f"{ZAS}, Theorem 4.1 (Sec. 4.1)",
        "Gradient flow from ZAS: R(t) <= exp(-2t) R(0) for all t >= 0, Phi, L >= 1; tight at L = 1.",
        False,
    ),
    (
        "zas.thm4.1.steps",
        "A",
        "identity / inequality",
        f"{ZAS}, proof of Theorem 4.1",
        "Under ZAS D_l = 0 (l <= L-2), D_{L-1} = -I; W_{L-1:1}W_{L-1:1}^T = (I + W_L^T W_L)^{L-1}; "
        "||G_L||_F^2 >= 2R; dR/dt = -sum_l ||G_l||_F^2.",
        False,
    ),
    (
        "zas.remark.rectangular",
        "A",
        "inequality",
        f"{ZAS}, Remark (1) after Theorem 4.1",
        "Rectangular W_l (d_l >= d_0), init W_L = 0, W_l = [[I,0],[0,0]]: Theorem 4.1 still holds.",
        False,
    ),
    (
        "zas.remark.data",
        "A",
        "inequality",
        f"{ZAS}, Remark (2) after Theorem 4.1",
        "Un-whitened loss with lambda_X = lambda_min(X^T X) > 0: R~(t) <= exp(-2 lambda_X t) R~(0); "
        "every reading checked.",
        False,
    ),
    (
        "zas.thm4.3",
        "A",
        "inequality",
        f"{ZAS}, Theorem 4.3 (Sec. 4.2)",
        "GD from ZAS with eta <= min{1/(4L^3 phi^6), 1/(144 L^2 phi^4)}, "
        "phi = max{2||Phi||_F, 3/sqrt(L), 1}: R(t) <= (1 - eta/2)^t R(0).",
        False,
    ),
    (
        "zas.lemma4.4-4.6",
        "A",
        "order",
        f"{ZAS}, Lemmas 4.4-4.6 and eqs. (4.6)-(4.10)",
        "Approximate invariances, weight bounds, gradient bound, per-step drift and decrease "
        "along GD at the Theorem 4.3 step; hidden constants measured.",
        False,
    ),
    (
        "zas.near-zas",
        "A",
        "empirical",
        f"{ZAS}, remark after Theorem 4.3",
        "Near-ZAS init with small sigma still converges linearly; largest such sigma reported.",
        False,
    ),
    (
        "zas.saddle",
        "A",
        "empirical",
        f"{ZAS}, Sec. 3",
        "d = 1, Phi = -1: {w_1 = ... = w_L >= 0} is a stable manifold of the saddle at 0.",
        False,
    ),
    (
        "zas.fig1",
        "A",
        "empirical",
        f"{ZAS}, Figure 1",
        "d = 1, L = 2, Phi = -1: GD from (0.999, 1.001) lingers near the saddle, from (1, 0) it does not.",
        False,
    ),
    (
        "zas.fig2",
        "A",
        "empirical",
        f"{ZAS}, Figure 2 (Sec. 5.1)",
        "Iterations to R <= 1e-10 from ZAS with tuned lr grow like L^gamma, gamma ~ 1/2 (Phi = -I), "
        "~ 1 (Gaussian Phi).",
        False,
    ),
    (
        "zas.fig3",
        "A",
        "empirical",
        f"{ZAS}, Figure 3 (Sec. 5.2)",
        "L = 6, Phi = -I, eta = 0.01: near-identity GD is trapped by a saddle (2 of 5 escape), ZAS never.",
        False,
    ),
    (
        "zas.fig4",
        "A",
        "empirical",
        f"{ZAS}, Figure 4 (Sec. 6)",
        "Nonlinear ResNet with mZAS trains at depths up to 10^4 on Fashion-MNIST; Xavier blows up.",
        False,
    ),
    (
        "shamir.lower",
        "A",
        "empirical",
        "Shamir 2018 (ref. [18] of the ZAS paper), as contrasted in Sec. 1",
        "d = 1, target -1, Xavier or near-identity init: iterations grow like exp(Omega(L)); "
        "ZAS polynomially.",
        False,
    ),
    (
        "review.any-layer",
        "B",
        "inequality",
        f"{ZAS_REV}, review 1",
        "Any one layer may be the zero one, the rest I: the same exp(-2t) rate.",
        False,
    ),
    (
        "review.last-cI",
        "B",
        "inequality",
        f"{ZAS_REV}, review 1",
        "The last layer may start at c I instead of 0 and the proof's identities still hold.",
        False,
    ),
    (
        "review.alpha",
        "B",
        "inequality + empirical",
        f"{ZAS_REV}, review 1",
        "Layers alpha I (alpha > 1), last 0: R(t) <= exp(-2 alpha^{2(L-1)} t) R(0); "
        "'the rate can be made arbitrarily large'.",
        False,
    ),
    (
        "review.invariance",
        "B",
        "identity",
        f"{ZAS_REV}, review 2",
        "The proof follows from D_l staying constant along the flow; under GD only approximately.",
        False,
    ),
    (
        "review.multirun",
        "B",
        "empirical",
        f"{ZAS_REV}, review 3",
        "'Only one run' of ZAS vs near-identity: repeat Fig. 3 over many seeds with a confidence interval.",
        False,
    ),
    (
        "ssm.psd-lemma",
        "C",
        "inequality",
        f"{SSM_REV} (SSM appendix lemma)",
        "X -> sum_i A_i X B_i is symmetric PSD with top eigenvalue >= "
        "sum_i (u^T A_i u)(v^T B_i v)/(||u||^2 ||v||^2).",
        True,
    ),
    (
        "ssm.thm1",
        "C",
        "inequality",
        f"{SSM_REV}, SSM Theorem 1 / Corollary 1",
        "GD converges to a global minimum only if eta <= 2/(L rho^{2(L-1)/L}); smallest top Hessian "
        "eigenvalue over global minima is L rho^{2(L-1)/L}, at balanced factorizations.",
        True,
    ),
    (
        "ssm.sharpness",
        "C",
        "inequality",
        f"{SSM_REV}, review 1",
        "GD on a smooth function converges (a.e. init) only to minima with eta lambda_max <= 2.",
        False,
    ),
    (
        "ssm.stable-manifold",
        "C",
        "empirical",
        f"{SSM_REV}, review 1, minor point 1",
        "Instability rules out convergence only for almost every init: inits on a stable manifold "
        "converge to minima above the bound.",
        False,
    ),
    (
        "ssm.thm2",
        "C",
        "inequality + empirical",
        f"{SSM_REV}, SSM Theorem 2 / Corollary 2",
        "Symmetric PD target, identity init, small step: linear convergence; identity admits the "
        "largest step.",
        True,
    ),
    (
        "ssm.thm3",
        "C",
        "empirical",
        f"{SSM_REV}, SSM Theorem 3",
        "Symmetric target with negative eigenvalues: what identity-initialized GD converges to.",
        True,
    ),
    (
        "ssm.thm4",
        "C",
        "inequality",
        f"{SSM_REV}, SSM Theorem 4",
        "One-hidden-layer ReLU, square loss: for one sample ||x|| |y| <= 1/eta at a stable zero-loss "
        "solution.",
        True,
    ),
    (
        "ssm.example1",
        "C",
        "empirical + exact",
        f"{SSM_REV}, review 2 (SSM Example 1)",
        "f(x) = 2/3 |x|^{3/2}: constant-step GD converges to a period-2 orbit; diminishing step to 0.",
        False,
    ),
    (
        "ssm.orbit-or-slow",
        "C",
        "exact",
        f"{SSM_REV}, review 3, Q1",
        "Is an observed oscillation a true periodic orbit or slow convergence?",
        False,
    ),
    (
        "ssm.diagonal-init",
        "C",
        "empirical",
        f"{SSM_REV}, review 1 (post-rebuttal)",
        "A diagonal init in place of identity should work too: for which diagonals.",
        False,
    ),
    (
        "ssm.worst-case",
        "C",
        "search",
        f"{SSM_REV}, review 3, Q2",
        "Which target and init make the general step-size bound tightest.",
        False,
    ),
]

CATALOGUE: dict[str, ClaimInfo] = {
    r[0]: ClaimInfo(
        id=r[0], section=r[1], kind=r[2], source=r[3], statement=r[4], reconstructed=r[5]
    )
    for r in _ROWS
}
