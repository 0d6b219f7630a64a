"""Hypothesis strategies for the claims of section A (importable by users).

Every number drawn here is an *exact double*: a small integer times a power
of two.  So a case converts losslessly to ``mp``, ``ball`` and ``exact``
arithmetic, and a counterexample shrinks to a small readable matrix such as
``[[1.0, -2.0], [0.0, 0.5]]``.  Cases are plain JSON-able dicts (lists of
floats, ints, strings): exactly what ``zascheck check ID:search --case
'{"case": ...}'`` takes back.

Building blocks
    :func:`depths`, :func:`widths`, :func:`rectangular_widths`,
    :func:`dyadic`, :func:`dyadic_matrices`, :func:`targets` (every shape of
    ``Phi`` that matters: generic, ``-I``, PSD, indefinite, rank-deficient,
    near-singular, tiny and huge norm), :func:`init_specs` (ZAS and each
    variant of :mod:`zascheck.inits`), :func:`eta_factors` (step relative to
    :func:`zascheck.bounds.thm43_eta`), :func:`time_grids`, :func:`data_xy`,
    :func:`precisions`, :func:`rationals`.

Cases, one family per claim
    ``*_cases`` below; :mod:`zascheck.search` evaluates them.

>>> from hypothesis import find
>>> find(dyadic_matrices(2, 2), lambda m: m[0][1] != 0)
[[0.0, 1.0], [0.0, 0.0]]
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
from hypothesis import strategies as st

from zascheck import inits
from zascheck.measure.data_remark import READINGS

__all__ = [
    "PHI_KINDS",
    "build_init",
    "data_cases",
    "data_xy",
    "depths",
    "drift_cases",
    "dyadic",
    "dyadic_matrices",
    "eta_factors",
    "gradient_cases",
    "init_specs",
    "lemma42_cases",
    "near_zas_cases",
    "precisions",
    "rationals",
    "rectangular_cases",
    "rectangular_widths",
    "residual_cases",
    "saddle_cases",
    "steps_cases",
    "targets",
    "thm41_cases",
    "thm43_cases",
    "time_grids",
    "widths",
]

#: The shapes of ``Phi`` drawn by :func:`targets` (square ones need ``d_out == d_in``).
PHI_KINDS = ("int", "gaussian", "-I", "psd", "indefinite", "rank-deficient", "near-singular")
_SQUARE_ONLY = {"-I", "psd", "indefinite", "near-singular"}


# ---------------------------------------------------------------------------
# numbers and matrices
# ---------------------------------------------------------------------------


def dyadic(max_int: int = 4, exp: int = -2, *, nonneg: bool = False) -> st.SearchStrategy[float]:
    """``k * 2**exp`` for integers ``|k| <= max_int`` (``k >= 0`` if ``nonneg``)."""
    lo = 0 if nonneg else -max_int
    return st.integers(lo, max_int).map(lambda k: float(k) * 2.0**exp)


def rationals(max_num: int = 8, max_den: int = 4) -> st.SearchStrategy[Fraction]:
    """Small fractions ``p / q`` for the exact checks."""
    return st.fractions(min_value=-max_num, max_value=max_num, max_denominator=max_den)


@st.composite
def dyadic_matrices(
    draw: Any, r: int, c: int, *, max_int: int = 3, exps: tuple[int, int] = (0, 0)
) -> list[list[float]]:
    """An ``r x c`` matrix of small integers times one power of two in
    ``2**exps[0] .. 2**exps[1]`` (shrinks to zeros, then to small integers)."""
    e = draw(st.integers(exps[0], exps[1])) if exps[0] != exps[1] else exps[0]
    ks = draw(st.lists(st.integers(-max_int, max_int), min_size=r * c, max_size=r * c))
    s = 2.0**e
    return [[float(ks[i * c + j]) * s for j in range(c)] for i in range(r)]


def depths(min_value: int = 1, max_value: int = 6) -> st.SearchStrategy[int]:
    """Depth ``L``."""
    return st.integers(min_value, max_value)


def widths(min_value: int = 1, max_value: int = 3) -> st.SearchStrategy[int]:
    """A square width ``d``."""
    return st.integers(min_value, max_value)


@st.composite
def rectangular_widths(
    draw: Any, *, max_depth: int = 4, max_width: int = 4, bottleneck: bool = False
) -> list[int]:
    """Widths ``[d_0, ..., d_L]`` of Remark (1): ``d_l >= d_0`` for
    ``l = 1..L-1`` (``d_L`` free).  With ``bottleneck=True`` some hidden
    width is below ``d_0`` (the hypothesis broken)."""
    L = draw(st.integers(2, max_depth))
    d0 = draw(st.integers(2 if bottleneck else 1, max_width))
    hidden = [draw(st.integers(d0, max_width + 1)) for _ in range(L - 1)]
    if bottleneck:
        k = draw(st.integers(0, L - 2))
        hidden[k] = draw(st.integers(1, d0 - 1))
    dL = draw(st.integers(1, max_width))
    return [d0, *hidden, dL]


def _unit_triangular(draw: Any, d: int, max_int: int) -> np.ndarray:
    """``I +`` strictly upper triangular small integers: determinant 1, so a
    congruence by it preserves the inertia (Sylvester)."""
    b = np.eye(d)
    for i in range(d):
        for j in range(i + 1, d):
            b[i, j] = draw(st.integers(-max_int, max_int))
    return b


@st.composite
def targets(
    draw: Any,
    d_out: int,
    d_in: int | None = None,
    *,
    kinds: tuple[str, ...] = PHI_KINDS,
    scale_exps: tuple[int, int] = (-2, 1),
    max_int: int = 3,
) -> list[list[float]]:
    """A target ``Phi`` (``d_out x d_in``) of one of ``kinds``, scaled by
    ``2**e`` with ``e`` in ``scale_exps`` (tiny and huge norms come from a wide
    range).  Symmetric kinds are ``B^T diag(s) B`` with ``B`` unit triangular:
    the signs of ``s`` fix the inertia exactly, so "indefinite" really is."""
    d_in = d_out if d_in is None else d_in
    square = d_in == d_out
    allowed = [k for k in kinds if square or k not in _SQUARE_ONLY]
    kind = draw(st.sampled_from(allowed))
    e = draw(st.integers(*scale_exps))
    d = d_out
    if kind == "int":
        m = np.array(draw(dyadic_matrices(d_out, d_in, max_int=max_int)))
    elif kind == "gaussian":
        seed = draw(st.integers(0, 2**16))
        m = np.random.default_rng(seed).standard_normal((d_out, d_in))
    elif kind == "-I":
        m = -np.eye(d)
    elif kind == "rank-deficient":
        r = draw(st.integers(0, max(0, min(d_out, d_in) - 1)))
        u = np.array(draw(dyadic_matrices(d_out, r, max_int=max_int))).reshape(d_out, r)
        v = np.array(draw(dyadic_matrices(r, d_in, max_int=max_int))).reshape(r, d_in)
        m = u @ v
    else:
        b = _unit_triangular(draw, d, 2)
        if kind == "psd":
            s = [draw(st.integers(0, max_int)) for _ in range(d)]
        elif kind == "indefinite":
            s = [draw(st.integers(1, max_int)) * (1 if i % 2 == 0 else -1) for i in range(d)]
            if d == 1:
                s = [-s[0]]
        else:  # near-singular: one eigenvalue-like entry 2**-k
            k = draw(st.integers(8, 40))
            s = [1.0] * (d - 1) + [2.0**-k]
        m = b.T @ np.diag(np.asarray(s, dtype=float)) @ b
    return (m * 2.0**e).tolist()


def init_specs(
    names: tuple[str, ...] = (
        "zas",
        "near-identity",
        "xavier",
        "alpha-zas",
        "zero-at",
        "last-cI",
        "near-zas",
        "identity",
    ),
    *,
    L: int | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON spec of an initialization of :mod:`zascheck.inits` (build it
    with :func:`build_init`).  Parameters are dyadic; random ones carry a seed."""

    @st.composite
    def spec(draw: Any) -> dict[str, Any]:
        name = draw(st.sampled_from(names))
        out: dict[str, Any] = {"init": name}
        if name in ("near-identity", "xavier", "near-zas"):
            out["seed"] = draw(st.integers(0, 2**10))
        if name == "alpha-zas":
            out["alpha"] = draw(dyadic(8, -2, nonneg=True))
        if name == "last-cI":
            out["c"] = draw(dyadic(8, -3))
        if name == "near-zas":
            out["sigma"] = 2.0 ** draw(st.integers(-8, 1))
        if name == "zero-at":
            out["k"] = draw(st.integers(1, L or 1))
        return out

    return spec()


def build_init(spec: dict[str, Any], L: int, d: int) -> list[np.ndarray]:
    """The weights of an :func:`init_specs` spec (float64, exact dyadic where deterministic)."""
    kw = {k: spec[k] for k in ("alpha", "c", "sigma", "k") if k in spec}
    return inits.make(spec["init"], L, d, seed=spec.get("seed"), **kw)


def eta_factors(min_log2: int = -3, max_log2: int = 0) -> st.SearchStrategy[float]:
    """A step size relative to the Theorem 4.3 bound: ``eta = f * eta*`` with
    ``f = 2**k`` (``max_log2 > 0`` goes above the bound: the control)."""
    return st.integers(min_log2, max_log2).map(lambda k: 2.0**k)


def time_grids(
    min_log2: int = -3, max_log2: int = 2, max_size: int = 3
) -> st.SearchStrategy[list[float]]:
    """A sorted grid of dyadic times ``2**k``."""
    return st.lists(
        st.integers(min_log2, max_log2), min_size=1, max_size=max_size, unique=True
    ).map(lambda ks: [2.0**k for k in sorted(ks)])


def precisions(bits: tuple[int, ...] = (113, 128, 256)) -> st.SearchStrategy[int]:
    """A working precision in bits."""
    return st.sampled_from(bits)


@st.composite
def _ws(draw: Any, dims: list[int], max_int: int = 3, exps: tuple[int, int] = (-2, 0)) -> list[Any]:
    return [
        draw(dyadic_matrices(dims[l], dims[l - 1], max_int=max_int, exps=exps))
        for l in range(1, len(dims))
    ]


# ---------------------------------------------------------------------------
# cases, one family per claim
# ---------------------------------------------------------------------------


@st.composite
def gradient_cases(
    draw: Any,
    *,
    max_depth: int = 4,
    max_width: int = 3,
    data: bool | None = None,
    control: str | None = None,
) -> dict[str, Any]:
    """``zas.gradient``: any shapes ``[d_0..d_L]``, dyadic weights, a whitened
    target or data ``X, Y``."""
    L = draw(depths(1, max_depth))
    dims = [draw(widths(1, max_width)) for _ in range(L + 1)]
    if control == "transposed-target":  # needs a square whitened target
        dims[-1] = dims[0]
        data = False
    case: dict[str, Any] = {"ws": draw(_ws(dims))}
    use_data = draw(st.booleans()) if data is None else data
    if use_data:
        n = draw(widths(1, max_width))
        case["X"] = draw(dyadic_matrices(dims[0], n, exps=(-1, 0)))
        case["Y"] = draw(dyadic_matrices(dims[-1], n, exps=(-1, 0)))
    else:
        case["phi"] = draw(
            targets(
                dims[-1],
                dims[0],
                kinds=("int", "-I", "psd", "indefinite", "rank-deficient"),
                # every magnitude a double holds with room: ||Phi|| from 1e-300 to 1e150
                # (the control compares Phi with Phi^T: moderate scales keep it decisive)
                scale_exps=MAGNITUDE_EXPS if control is None else (-2, 3),
            )
        )
    if control:
        case["control"] = control
    return case


#: target scales 2^e the magnitude-robust properties draw from (about 1e-300 to 1e150)
MAGNITUDE_EXPS = (-996, 498)


@st.composite
def residual_cases(
    draw: Any, *, max_depth: int = 4, max_width: int = 2, control: str | None = None
) -> dict[str, Any]:
    """``zas.residual``: ``W_l = I + s U_l`` (``s = 1`` is the claim), GD steps
    from ``U = 0, W_L = 0`` against GD from ZAS."""
    L = draw(depths(1, max_depth))
    d = draw(widths(1, max_width))
    case = {
        "L": L,
        "d": d,
        "us": draw(_ws([d] * (L + 1), exps=(-2, -1))),
        "phi": draw(targets(d, kinds=("int", "-I", "psd", "indefinite"), scale_exps=(-1, 1))),
        "eta": 2.0 ** draw(st.integers(-4, -2)),
        "steps": draw(st.integers(1, 2)),
    }
    if control == "scaled-residual":
        case["s"] = draw(st.sampled_from([2.0, 0.5, -1.0]))
    return case


@st.composite
def lemma42_cases(
    draw: Any, *, max_depth: int = 4, max_width: int = 3, control: str | None = None
) -> dict[str, Any]:
    """``zas.lemma4.2``: any init (dyadic random or a named one), any target, a time."""
    L = draw(depths(1, max_depth))
    d = draw(widths(1, max_width))
    case: dict[str, Any] = {"L": L, "d": d, "phi": draw(targets(d, scale_exps=(-1, 1)))}
    if draw(st.booleans()):
        case["ws"] = draw(_ws([d] * (L + 1), max_int=2, exps=(-2, -1)))
    else:
        case["init"] = draw(
            init_specs(("zas", "near-identity", "xavier", "alpha-zas", "last-cI"), L=L)
        )
    case["t"] = 2.0 ** draw(st.integers(-2, 1))
    if control == "gd-step":
        case["eta"] = 2.0 ** draw(st.integers(-6, -1))
    return case


@st.composite
def drift_cases(
    draw: Any, *, max_depth: int = 5, max_width: int = 3, control: str | None = None
) -> dict[str, Any]:
    """``zas.drift``: dyadic weights, target, step (exact arithmetic)."""
    L = draw(depths(2, max_depth))
    d = draw(widths(1, max_width))
    case: dict[str, Any] = {
        "ws": draw(_ws([d] * (L + 1))),
        "phi": draw(targets(d, kinds=("int", "-I", "psd", "indefinite"))),
        "eta": 2.0 ** draw(st.integers(-6, 0)),
    }
    if control == "eta-not-squared":
        case["power"] = 1
    return case


@st.composite
def thm41_cases(
    draw: Any, *, max_depth: int = 6, max_width: int = 3, non_zas: bool = False
) -> dict[str, Any]:
    """``zas.thm4.1``: ZAS (or, for the control, any other init), any target, a time grid."""
    L = draw(depths(1, max_depth))
    d = draw(widths(1, max_width))
    case: dict[str, Any] = {
        "L": L,
        "d": d,
        "phi": draw(targets(d, scale_exps=(-3, 1))),
        "times": draw(time_grids(-4, 2)),
    }
    if non_zas:
        case["init"] = draw(
            init_specs(("identity", "near-identity", "xavier", "alpha-zas", "near-zas"), L=L)
        )
    return case


@st.composite
def steps_cases(
    draw: Any, *, max_depth: int = 5, max_width: int = 3, balanced_last: bool = False
) -> dict[str, Any]:
    """``zas.thm4.1.steps``: an exact rational point with the ZAS invariants
    ``D_l = 0`` (``l <= L-2``), ``D_{L-1} = -I``:
    ``W_l = Q_l S Q_{l-1}^T`` (``l < L``), ``W_L = Q_L T Q_{L-1}^T`` with
    rational orthogonal ``Q_l`` (Cayley transforms of skew matrices ``K_l``)
    and ``s_i^2 - t_i^2 = 1`` (``s = (m^2+1)/(2m)``, ``t = (m^2-1)/(2m)``).
    ``balanced_last`` (the control) sets ``T = S`` with ``s`` free, i.e.
    ``D_{L-1} = 0``."""
    L = draw(depths(1, max_depth))
    d = draw(widths(1, max_width))
    ks = [[draw(st.integers(-2, 2)) for _ in range(d * (d - 1) // 2)] for _ in range(L + 1)]
    case: dict[str, Any] = {
        "L": L,
        "d": d,
        "K": ks,
        "phi": draw(targets(d, kinds=("int", "-I", "psd", "indefinite"), scale_exps=(-1, 1))),
    }
    if balanced_last:
        case["s"] = [draw(st.integers(1, 8)) / 4 for _ in range(d)]
        case["balanced_last"] = True
    else:
        case["m"] = [draw(st.integers(1, 4)) for _ in range(d)]
    return case


@st.composite
def rectangular_cases(draw: Any, *, bottleneck: bool = False) -> dict[str, Any]:
    """``zas.remark.rectangular``: widths with ``d_l >= d_0`` (or a bottleneck),
    a ``d_L x d_0`` target, a time grid."""
    dims = draw(rectangular_widths(max_depth=4, max_width=3, bottleneck=bottleneck))
    case: dict[str, Any] = {
        "widths": dims,
        "phi": draw(
            targets(
                dims[-1],
                dims[0],
                scale_exps=(-1, 1),
                kinds=("int", "gaussian", "-I", "psd", "indefinite"),
            )
        ),
        "times": draw(time_grids(-2, 2)),
    }
    if bottleneck:
        case["init"] = "truncated"
    return case


@st.composite
def data_xy(
    draw: Any, d_x: int, d_y: int, n: int, *, realizable: bool
) -> dict[str, list[list[float]]]:
    """Data ``X`` (``d_x x n``) of full rank ``min(d_x, n)`` and ``Y`` (``d_y x n``).

    ``X = M [I 0] Pi`` (``n >= d_x``) or ``Pi [I; 0] M`` (``n < d_x``) with
    ``M`` unit triangular times a dyadic diagonal and ``Pi`` a permutation, so
    its rank is exact.  ``Y = A X`` (realizable) or ``A X + N`` with a nonzero
    ``N X^T = 0`` when ``n > d_x`` (not realizable)."""
    r = min(d_x, n)
    m = _unit_triangular(draw, r, 1) @ np.diag([2.0 ** draw(st.integers(-2, 1)) for _ in range(r)])
    perm = draw(st.permutations(list(range(max(d_x, n)))))
    pi = np.eye(max(d_x, n))[perm]
    if n >= d_x:
        x = m @ np.hstack([np.eye(d_x), np.zeros((d_x, n - d_x))]) @ pi
    else:
        x = pi @ np.vstack([np.eye(n), np.zeros((d_x - n, n))]) @ m
    a = np.array(draw(dyadic_matrices(d_y, d_x, max_int=2, exps=(-1, 0))))
    y = a @ x
    if not realizable and n > d_x:
        n2 = np.array(draw(dyadic_matrices(d_y, n - d_x, max_int=2, exps=(-1, 0))))
        if not np.any(n2):
            n2[0, 0] = 1.0
        y = y + np.hstack([np.zeros((d_y, d_x)), n2]) @ pi
    return {"X": x.tolist(), "Y": y.tolist()}


#: Readings of Remark (2) and whether each holds (True) or fails (False): a
#: view of the one table :data:`zascheck.measure.data_remark.READINGS`
DATA_READINGS = {name: r.holds for name, r in READINGS.items()}


@st.composite
def data_cases(draw: Any, reading: str) -> dict[str, Any]:
    """``zas.remark.data`` under one reading (see :data:`DATA_READINGS`)."""
    if reading not in DATA_READINGS:
        raise ValueError(f"unknown reading {reading!r}")
    r = READINGS[reading]
    L = draw(depths(1, 4))
    d_x = draw(widths(1, 3))
    d_y = draw(widths(1, 3))
    lo, hi = {False: (1, d_x), True: (d_x + 1, d_x + 3), None: (1, d_x + 2)}[r.wide]
    n = draw(st.integers(lo, hi))
    realizable = r.realizable if r.realizable is not None else draw(st.booleans())
    xy = draw(data_xy(d_x, d_y, n, realizable=realizable))
    return {"reading": reading, "L": L, **xy, "times": draw(time_grids(-2, 2))}


@st.composite
def thm43_cases(
    draw: Any,
    *,
    eta_log2: tuple[int, int] = (-2, 0),
    max_depth: int = 5,
    max_width: int = 2,
    inits_: tuple[str, ...] = ("zas",),
    steps: tuple[int, int] = (1, 400),
) -> dict[str, Any]:
    """``zas.thm4.3`` / ``zas.lemma4.4-4.6``: depth, width, target, step
    factor relative to the theorem's bound, init, horizon."""
    L = draw(depths(1, max_depth))
    d = draw(widths(1, max_width))
    case: dict[str, Any] = {
        "L": L,
        "d": d,
        "phi": draw(targets(d, scale_exps=(-3, 1))),
        "eta_factor": draw(eta_factors(*eta_log2)),
        "steps": draw(st.integers(*steps)),
    }
    if inits_ != ("zas",):
        case["init"] = draw(init_specs(inits_, L=L))
    return case


@st.composite
def near_zas_cases(
    draw: Any, *, sigma_log2: tuple[int, int] = (-14, -5), steps: tuple[int, int] = (1, 400)
) -> dict[str, Any]:
    """``zas.near-zas``: ``sigma = 2**k``, a seed for the Gaussian perturbation."""
    L = draw(depths(2, 5))
    d = draw(widths(1, 2))
    k = draw(st.integers(*sigma_log2))
    return {
        "L": L,
        "d": d,
        "phi": draw(targets(d, scale_exps=(-2, 0))),
        "sigma": 2.0**k,
        "seed": draw(st.integers(0, 2**10)),
        "steps": draw(st.integers(*steps)),
    }


@st.composite
def saddle_cases(draw: Any, *, on_manifold: bool = True) -> dict[str, Any]:
    """``zas.saddle``: ``d = 1``, ``Phi = -1``, ``w_1 = ... = w_L = c >= 0``
    (or, for the control, a point off the manifold: a perturbed layer, or
    ``c < 0`` at odd ``L``)."""
    L = draw(depths(2, 6))
    c = draw(st.integers(0, 12)) / 4
    case: dict[str, Any] = {"L": L, "w": [c] * L, "T": 2.0 ** draw(st.integers(-2, 3))}
    if not on_manifold:
        if draw(st.booleans()):
            i = draw(st.integers(0, L - 1))
            case["w"][i] = c + draw(st.sampled_from([-1.0, -0.5, 0.5, 1.0]))
        else:
            case["L"] = L | 1
            case["w"] = [-max(c, 0.25)] * case["L"]
    return case
