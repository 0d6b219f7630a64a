"""The nonlinear residual network of the ZAS paper's Section 6, in JAX.

The network, eq. (6.1) (Wu, Wang & Ma, NeurIPS 2019, Sec. 6)::

    z_0 = V_0 x,   z_l = z_{l-1} + U_l relu(V_l z_{l-1})  (l = 1..L),   f(x) = U_{L+1} z_L

with ``V_0`` of shape ``(D, d)``, ``V_l`` ``(m, D)``, ``U_l`` ``(D, m)``,
``U_{L+1}`` ``(c, D)`` (``d`` inputs, ``c`` classes, ``D`` the width of the
skip connections, ``m`` the width of the residual blocks).  A batch is a row
matrix ``X`` of shape ``(n, d)``; the ``L`` blocks go through one
``jax.lax.scan`` so that compile time does not grow with ``L``.

Initializations (:func:`init_params`): mZAS, eq. (6.2): ``U_l = 0``
(``l = 1..L+1``), ``(V_l)_ij ~ N(0, 1/D)`` i.i.d. (``l = 0..L``); Xavier,
Glorot & Bengio (2010, eq. (16), their "normalized initialization"): every
matrix ``W`` of shape ``(fan_out, fan_in)`` uniform on ``[-a, a]``,
``a = sqrt(6 / (fan_in + fan_out))``; and ``mzas-u``, the negative control of
``zas.fig4``: mZAS except ``(U_l)_ij ~ N(0, 1/D)`` for ``l = 1..L``.

Training (:func:`start_run`, :func:`advance`): full-batch gradient descent
on the mean softmax cross-entropy ``R = (1/n) sum_i [logsumexp(f(x_i)) -
f(x_i)_{y_i}]`` at a constant rate ``eta``.  Per iteration ``t`` it records
the loss ``R(theta_t)``, the training accuracy and the gradient's Euclidean
norm over all parameters, each of the iterate the ``t``-th update starts
from.  A run stops at the first non-finite loss or gradient norm.

Runtime (:func:`jax_runtime`): jax is imported on first use only (the other
commands never pay for it).  Threads are set deliberately: unless the user's
environment already sets ``XLA_FLAGS``, XLA's CPU backend runs single-threaded
(``--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1``), so
timings do not depend on what else the machine runs and parallel checks
(``--jobs``) do not oversubscribe the cores; on an accelerator the same code
runs unchanged.  Compiled steps are kept in jax's persistent compilation cache
(``$ZASCHECK_JAX_CACHE``, default ``~/.cache/zascheck/jax``; ``off`` disables
it), so a second run skips XLA compilation.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from zascheck.errors import InputError

__all__ = [
    "INITS",
    "SINGLE_THREAD_FLAGS",
    "Baseline",
    "Run",
    "Tuning",
    "advance",
    "baseline",
    "binomial_sf",
    "classify",
    "curves",
    "forward_log10_growth",
    "init_params",
    "jax_runtime",
    "matmul_shapes",
    "mcnemar_greater",
    "release",
    "start_run",
    "step_seconds",
]

#: the initializations :func:`init_params` draws
INITS = ("mzas", "xavier", "mzas-u")

#: XLA_FLAGS set when the environment sets none: one CPU thread per process
SINGLE_THREAD_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

#: above this many bytes of saved activations a step recomputes each block's
#: inner activation in the backward pass (``jax.checkpoint``) instead of storing it
REMAT_BYTES = 1 << 30

_DTYPES = ("float32", "float64")


# ---------------------------------------------------------------------------
# runtime
# ---------------------------------------------------------------------------


@cache
def jax_runtime() -> dict[str, Any]:
    """Import and configure jax once; what was configured, for the result's
    params: ``jax`` version, ``backend``, ``devices``, the effective
    ``XLA_FLAGS`` and who set them, the compilation cache folder (or None).
    64-bit types are enabled so that ``dtype="float64"`` is available; every
    array this module makes has an explicit dtype."""
    who = "environment"
    if "jax" not in sys.modules and "XLA_FLAGS" not in os.environ:
        os.environ["XLA_FLAGS"] = SINGLE_THREAD_FLAGS
        who = "zascheck (single-threaded XLA CPU)"
    elif "jax" in sys.modules:
        who = "jax was already imported: its flags as found"
    import jax

    jax.config.update("jax_enable_x64", True)
    cache_dir = _compilation_cache(jax)
    return {
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "devices": [str(d) for d in jax.devices()],
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "xla_flags_set_by": who,
        "compilation_cache": cache_dir,
    }


def _compilation_cache(jax: Any) -> str | None:
    raw = os.environ.get("ZASCHECK_JAX_CACHE")
    if raw is not None and raw.strip().lower() in ("", "off", "0", "none"):
        return None
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = Path(raw) if raw else base / "zascheck" / "jax"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return str(folder)


# ---------------------------------------------------------------------------
# initializations, eq. (6.2) and Glorot & Bengio (2010)
# ---------------------------------------------------------------------------


def init_params(
    init: str, L: int, d: int, D: int, m: int, classes: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(V_0, V, U, U_out)`` of eq. (6.1) drawn by ``init`` (:data:`INITS`),
    float64: ``V_0`` ``(D, d)``, ``V`` ``(L, m, D)`` (``V_1..V_L``), ``U``
    ``(L, D, m)`` (``U_1..U_L``), ``U_out = U_{L+1}`` ``(classes, D)``.

    ``mzas``: eq. (6.2), ``U_l = 0``, ``(V_l)_ij ~ N(0, 1/D)``.  ``xavier``:
    Glorot & Bengio (2010) eq. (16), each matrix uniform on
    ``+-sqrt(6/(fan_in + fan_out))``.  ``mzas-u``: mZAS with
    ``(U_l)_ij ~ N(0, 1/D)`` for ``l <= L`` (``U_{L+1} = 0`` still).
    Raises :class:`InputError` for an unknown ``init`` or a width below 1."""
    if init not in INITS:
        raise InputError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    for name, v in (("L", L), ("d", d), ("D", D), ("m", m), ("classes", classes)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InputError(f"parameter {name} must be an integer >= 1, got {v!r}")
    if init == "xavier":

        def glorot(*shape: int) -> np.ndarray:
            fan_out, fan_in = shape[-2], shape[-1]
            a = math.sqrt(6.0 / (fan_in + fan_out))
            return rng.uniform(-a, a, size=shape)

        return glorot(D, d), glorot(L, m, D), glorot(L, D, m), glorot(classes, D)
    s = 1.0 / math.sqrt(D)
    V0 = rng.normal(0.0, s, size=(D, d))
    V = rng.normal(0.0, s, size=(L, m, D))
    U = rng.normal(0.0, s, size=(L, D, m)) if init == "mzas-u" else np.zeros((L, D, m))
    return V0, V, U, np.zeros((classes, D))


# ---------------------------------------------------------------------------
# the network and one GD step
# ---------------------------------------------------------------------------


def _block_body(remat: bool) -> Any:
    import jax

    def body(z: Any, vu: Any) -> tuple[Any, None]:
        V, U = vu  # V_l (m, D), U_l (D, m); rows of z are samples
        return z + jax.nn.relu(z @ V.T) @ U.T, None

    return jax.checkpoint(body) if remat else body


def _logits(params: Any, X: Any, remat: bool) -> Any:
    """``f(X)`` of eq. (6.1), shape ``(n, classes)``."""
    import jax

    V0, V, U, Uo = params
    z, _ = jax.lax.scan(_block_body(remat), X @ V0.T, (V, U))
    return z @ Uo.T


def _gradient(params: Any, X: Any, Y: Any, remat: bool) -> tuple[Any, Any, Any, Any]:
    """``(R, correct, ||grad||, grad)`` at ``params`` (traced inside a jit):
    the mean softmax cross-entropy ``R``, the per-sample correctness, the
    Euclidean norm of the gradient over all parameters, and the gradient."""
    import jax
    import jax.numpy as jnp

    def loss(params: Any, X: Any, Y: Any) -> tuple[Any, Any]:
        f = _logits(params, X, remat)
        R = jnp.mean(jax.nn.logsumexp(f, axis=1) - jnp.sum(f * Y, axis=1))
        return R, jnp.argmax(f, axis=1) == jnp.argmax(Y, axis=1)

    (R, correct), g = jax.value_and_grad(loss, has_aux=True)(params, X, Y)
    # ||grad|| scaled by its largest entry (as BLAS nrm2 does): the squares of
    # finite float32 entries above ~1e19 would overflow and fake a non-finite gradient
    s = jnp.max(jnp.stack([jnp.max(jnp.abs(gi)) for gi in g]))
    s = jnp.where(s > 0, s, jnp.ones_like(s))
    gnorm = s * jnp.sqrt(sum(jnp.sum((gi / s) ** 2) for gi in g))
    return R, correct, gnorm, g


def _update(params: Any, g: Any, eta: Any) -> Any:
    """The GD update ``theta - eta grad`` of every parameter."""
    return tuple(p - eta * gi for p, gi in zip(params, g, strict=True))


@cache
def _step_fn(remat: bool) -> Any:
    """The jitted GD step: ``(params, X, Y, eta) -> (params', R, correct,
    ||grad||)`` with ``Y`` one-hot ``(n, classes)``; ``R``, ``correct`` and
    the gradient are of the input ``params``."""
    import jax

    def step(params: Any, X: Any, Y: Any, eta: Any) -> Any:
        R, correct, gnorm, g = _gradient(params, X, Y, remat)
        return _update(params, g, eta), R, correct, gnorm

    return jax.jit(step)


@cache
def _first_step_fns(remat: bool) -> tuple[Any, Any]:
    """The step of :func:`_step_fn` in two jitted halves, for the first step
    of a learning-rate grid (:class:`Tuning`): ``(params, X, Y) -> (R,
    correct, ||grad||, grad)`` (the same for every rate: computed once) and
    ``(params, grad, eta) -> params'``.  The same operations as the whole
    step; ``tests/test_fig4_speed.py`` checks that the records and the
    parameters after the step are bit for bit those of the whole step."""
    import jax

    return jax.jit(partial(_gradient, remat=remat)), jax.jit(_update)


def _needs_remat(L: int, n: int, D: int, m: int, dtype: str) -> bool:
    return L * n * (D + 2 * m) * np.dtype(dtype).itemsize > REMAT_BYTES


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------


@dataclass
class Run:
    """One GD run of eq. (6.1) at a constant rate: its records per iteration
    (``loss``, ``accuracy``, ``grad_norm``: of the iterate each update starts
    from), its current parameters, and the per-sample correctness of the last
    recorded iterate.  ``stopped`` says why it ended early ("" if it did not)."""

    init: str
    L: int
    eta: float
    dtype: str
    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    correct: np.ndarray | None = None
    stopped: str = ""
    seconds: float = 0.0
    params: Any = None
    data: Any = None
    remat: bool = False

    @property
    def iterations(self) -> int:
        """Iterates recorded (``t = 0..iterations-1``)."""
        return len(self.loss)


def start_run(
    init: str,
    L: int,
    eta: float,
    X: np.ndarray,
    y: np.ndarray,
    *,
    D: int,
    m: int,
    classes: int,
    rng: np.random.Generator,
    dtype: str = "float32",
) -> Run:
    """A run of GD from ``init`` (:func:`init_params`) on ``X`` ``(n, d)``,
    labels ``y`` ``(n,)``, at rate ``eta > 0``, nothing recorded yet.
    Raises :class:`InputError` for a bad ``dtype``, ``eta``, or shapes."""
    if dtype not in _DTYPES:
        raise InputError(f"dtype must be one of {', '.join(_DTYPES)}, got {dtype!r}")
    if not (isinstance(eta, (int, float)) and math.isfinite(eta) and eta > 0):
        raise InputError(f"learning rate eta must be a finite number > 0, got {eta!r}")
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise InputError(f"data shapes disagree: X {X.shape}, y {y.shape}")
    jax_runtime()
    import jax.numpy as jnp

    n, d = X.shape
    params = tuple(jnp.asarray(a, dtype) for a in init_params(init, L, d, D, m, classes, rng))
    Y = np.zeros((n, classes), dtype)
    Y[np.arange(n), y] = 1
    data = (jnp.asarray(X, dtype), jnp.asarray(Y), jnp.asarray(eta, dtype))
    return Run(
        init, L, float(eta), dtype, params=params, data=data, remat=_needs_remat(L, n, D, m, dtype)
    )


def advance(run: Run, steps: int) -> Run:
    """Record ``steps`` more iterations of ``run`` (in place; returned),
    stopping at the first non-finite loss or gradient norm."""
    step = _step_fn(run.remat)
    X, Y, eta = run.data
    t0 = time.perf_counter()
    for _ in range(steps):
        if run.stopped:
            break
        new, R, correct, gnorm = step(run.params, X, Y, eta)
        _record(run, new, R, correct, gnorm)
    run.seconds += time.perf_counter() - t0
    return run


def _record(run: Run, new: Any, R: Any, correct: Any, gnorm: Any) -> None:
    """Append one iterate's loss ``R``, accuracy and gradient norm to ``run``
    and move it to the parameters ``new``; stop it at a non-finite record."""
    R, gnorm = float(R), float(gnorm)
    run.loss.append(R)
    run.grad_norm.append(gnorm)
    c = np.asarray(correct)
    run.accuracy.append(float(c.mean()))
    run.correct = c
    run.params = new
    if not (math.isfinite(R) and math.isfinite(gnorm)):
        run.stopped = f"non-finite {'loss' if not math.isfinite(R) else 'gradient'} at t = {run.iterations - 1}"


def release(run: Run) -> Run:
    """Drop the run's device arrays (parameters, data), keeping its records."""
    run.params = None
    run.data = None
    return run


def forward_log10_growth(
    init: str, L: int, X: np.ndarray, *, D: int, m: int, classes: int, rng: np.random.Generator
) -> float:
    """``log10(||z_L||_F / ||z_0||_F)`` of eq. (6.1) at the initialization
    ``init`` on ``X`` ``(n, d)``, computed in float64 with the activations
    renormalized after every block and the logarithms of the norms summed, so
    that it is finite even where the plain forward pass overflows (it measures
    how far beyond the floating-point range the plain one goes).  Draws the
    same parameters as :func:`start_run` with the same ``rng`` state."""
    jax_runtime()
    import jax
    import jax.numpy as jnp

    V0, V, U, _ = init_params(init, L, X.shape[1], D, m, classes, rng)
    z0 = jnp.asarray(X, "float64") @ jnp.asarray(V0, "float64").T
    n0 = jnp.linalg.norm(z0)

    def body(carry: Any, vu: Any) -> tuple[Any, None]:
        z, acc = carry
        z = z + jax.nn.relu(z @ vu[0].T) @ vu[1].T
        s = jnp.linalg.norm(z)
        return (z / s, acc + jnp.log10(s)), None

    (_, acc), _ = jax.jit(
        lambda z, a, b: jax.lax.scan(body, (z, jnp.zeros((), "float64")), (a, b))
    )(z0 / n0, jnp.asarray(V, "float64"), jnp.asarray(U, "float64"))
    return float(acc)


def curves(run: Run, points: int = 400) -> dict[str, list[Any]]:
    """The run's records thinned for a figure: about ``points`` iterations
    (every k-th, plus 40 log-spaced early ones and the last), each with its
    loss, accuracy and gradient norm (non-finite values kept)."""
    T = run.iterations
    if T == 0:
        return {"t": [], "loss": [], "accuracy": [], "grad_norm": []}
    idx = set(range(0, T, max(1, T // points))) | {T - 1}
    idx |= {int(x) for x in np.geomspace(1, max(T - 1, 1), 40)}
    ts = sorted(i for i in idx if i < T)
    return {
        "t": ts,
        "loss": [run.loss[i] for i in ts],
        "accuracy": [run.accuracy[i] for i in ts],
        "grad_norm": [run.grad_norm[i] for i in ts],
    }


# ---------------------------------------------------------------------------
# what "trains" and "diverges" mean (zas.fig4's docstring states them)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """The best input-independent predictor on labels ``y``: its loss is the
    label entropy ``H(y) = -sum_k p_k ln p_k`` (nats), its accuracy the
    majority-class frequency ``p_max`` (exact); ``alpha`` is the test level,
    ``gamma`` the relative rounding allowance ``gamma_n = n u / (1 - n u)`` of a
    mean of ``n`` losses at unit roundoff ``u`` of the run's dtype."""

    entropy: float
    majority: Fraction
    n: int
    alpha: float
    gamma: float


def baseline(y: np.ndarray, classes: int, alpha: float, dtype: str) -> Baseline:
    """:class:`Baseline` of labels ``y`` (``(n,)``, values ``0..classes-1``)."""
    n = int(y.shape[0])
    counts = np.bincount(y, minlength=classes)
    p = counts[counts > 0] / n
    u = float(np.finfo(dtype).eps) / 2
    return Baseline(
        float(-np.sum(p * np.log(p))), Fraction(int(counts.max()), n), n, alpha, n * u / (1 - n * u)
    )


def classify(run: Run, b: Baseline) -> dict[str, Any]:
    """Decide a run at its last recorded iterate ``T``: ``diverged`` if a
    loss or gradient norm was non-finite, or ``R(T) > R(0) (1 + gamma)``;
    ``trains`` if not diverged, ``R(T) < H(y) (1 - gamma)`` and the accuracy
    beats ``p_max`` by the exact one-sided binomial test at level ``alpha``
    (``P(Bin(n, p_max) >= correct) < alpha``); ``stalled`` otherwise."""
    r0, r_final = run.loss[0], run.loss[-1]
    k = int(np.sum(run.correct)) if run.correct is not None else 0
    p = binomial_sf(k, b.n, b.majority)
    if run.stopped or not math.isfinite(r_final) or r_final > r0 * (1 + b.gamma):
        status = "diverged"
    elif r_final < b.entropy * (1 - b.gamma) and p < b.alpha:
        status = "trains"
    else:
        status = "stalled"
    return {
        "eta": run.eta,
        "status": status,
        "iterations": run.iterations,
        "loss_0": r0,
        "loss_final": r_final,
        "accuracy_final": run.accuracy[-1],
        "binomial_p": p,
        "stopped": run.stopped,
        "seconds": round(run.seconds, 3),
    }


class Tuning:
    """The learning-rate grid of one (init, depth): every rate starts from the
    same initial parameters (drawn from ``seed``), runs ``horizon`` iterations,
    and is classified (:func:`classify`).  The record at ``t = 0`` does not
    depend on the rate, so when it is non-finite every rate diverges and is
    not run again."""

    def __init__(
        self,
        init: str,
        L: int,
        ds: Any,
        *,
        D: int,
        m: int,
        seed: Any,
        dtype: str,
        horizon: int,
        base: Baseline,
    ) -> None:
        self.init, self.L, self.ds, self.D, self.m = init, L, ds, D, m
        self.seed, self.dtype, self.horizon, self.base = seed, dtype, horizon, base
        self.runs: dict[float, Run] = {}
        self.rows: dict[float, dict[str, Any]] = {}
        self.t0_nonfinite: Run | None = None
        #: ``(R, correct, ||grad||, grad)`` at the common initial parameters
        self._t0: tuple[Any, Any, Any, Any] | None = None

    def run_at(self, eta: float) -> dict[str, Any]:
        """Run (or recall) the rate ``eta``; its :func:`classify` row."""
        if eta in self.rows:
            return self.rows[eta]
        if self.t0_nonfinite is not None:
            r0 = self.t0_nonfinite
            run = Run(
                self.init,
                self.L,
                eta,
                self.dtype,
                loss=r0.loss[:1],
                accuracy=r0.accuracy[:1],
                grad_norm=r0.grad_norm[:1],
                correct=r0.correct,
                stopped=r0.stopped + " (the t = 0 record does not depend on eta)",
            )
        else:
            run = start_run(
                self.init,
                self.L,
                eta,
                self.ds.X,
                self.ds.y,
                D=self.D,
                m=self.m,
                classes=self.ds.classes,
                rng=np.random.default_rng(self.seed),
                dtype=self.dtype,
            )
            self._first_step(run)
            advance(run, self.horizon - 1)
            if run.iterations == 1 and run.stopped:
                self.t0_nonfinite = run
        self.runs[eta] = run
        self.rows[eta] = classify(run, self.base)
        return self.rows[eta]

    def _first_step(self, run: Run) -> None:
        """The first GD step of ``run`` (at ``t = 0``, from the grid's common
        initial parameters): its loss, correctness and gradient do not depend
        on the rate, so they are computed for the first rate of the grid and
        reused (:func:`_first_step_fns`); only the update is the rate's own.
        The same numbers as :func:`advance` by one step, one gradient fewer
        per rate (a grid of 25 rates that diverge at ``t = 1`` costs half)."""
        grad, update = _first_step_fns(run.remat)
        X, Y, eta = run.data
        t0 = time.perf_counter()
        if self._t0 is None:
            self._t0 = grad(run.params, X, Y)
        R, correct, gnorm, g = self._t0
        _record(run, update(run.params, g, eta), R, correct, gnorm)
        run.seconds += time.perf_counter() - t0

    def search(self, etas: list[float]) -> list[Run]:
        """Try ``etas`` from the largest down, stopping after the first rate
        that did not diverge and ended with a loss no lower than the best so
        far (the loss at the horizon has passed its minimum over the grid).
        Returns the runs that did not diverge, lowest final loss first (the
        tuned rate and its fallbacks), with their parameters; the others'
        device arrays are released."""
        best = math.inf
        for eta in sorted(etas, reverse=True):
            row = self.run_at(eta)
            if row["status"] == "diverged":
                continue
            if row["loss_final"] >= best:
                break
            best = row["loss_final"]
        ranked = sorted(
            (r for e, r in self.runs.items() if self.rows[e]["status"] != "diverged"),
            key=lambda r: r.loss[-1],
        )
        for run in self.runs.values():
            if run not in ranked:
                release(run)
        return ranked


# ---------------------------------------------------------------------------
# exact tests (no scipy: its import costs seconds)
# ---------------------------------------------------------------------------


def binomial_sf(k: int, n: int, p: Fraction | float) -> float:
    """``P(X >= k)`` for ``X ~ Binomial(n, p)``: the exact tail sum, each term
    ``C(n, j) p^j (1 - p)^(n - j)`` formed in log space (``lgamma``), scaled by
    the largest and summed with ``math.fsum``.  The logs reach ``n ln n``, so
    the relative error is about ``n ln n`` units of float64 roundoff (measured
    against exact rational sums: ``3e-13`` at ``n = 1000``), far below what a
    test at level ``0.01`` can notice; tails below ``1e-308`` underflow to 0.

    >>> binomial_sf(2, 2, Fraction(1, 2))
    0.25
    >>> binomial_sf(0, 5, 0.3)
    1.0
    >>> abs(binomial_sf(3, 10, 0.2) - 0.3222004736) < 1e-10
    True
    """
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    q = float(p)
    if q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    j = np.arange(k, n + 1, dtype=np.float64)
    lg = np.vectorize(math.lgamma)
    logs = lg(n + 1.0) - lg(j + 1.0) - lg(n - j + 1.0) + j * math.log(q) + (n - j) * math.log1p(-q)
    top = float(np.max(logs))
    return float(min(1.0, math.exp(top) * math.fsum(np.exp(logs - top))))


def mcnemar_greater(better: np.ndarray, worse: np.ndarray) -> dict[str, Any]:
    """Exact one-sided McNemar test that classifier ``better`` is right more
    often than ``worse`` on the same samples (boolean arrays of per-sample
    correctness, shape ``(n,)``): the discordant pairs ``b`` (only ``better``
    right) and ``c`` (only ``worse`` right), and ``p = P(Bin(b + c, 1/2) >= b)``."""
    b = int(np.sum(better & ~worse))
    c = int(np.sum(~better & worse))
    return {"only_first_right": b, "only_second_right": c, "p_value": binomial_sf(b, b + c, 0.5)}


# ---------------------------------------------------------------------------
# cost of a step, for the benchmark
# ---------------------------------------------------------------------------


def matmul_shapes(
    L: int, n: int, d: int, D: int, m: int, classes: int
) -> list[tuple[int, int, int]]:
    """The matrix products ``(rows, inner, cols)`` of one GD step of eq.
    (6.1) by reverse-mode differentiation: per block, forward ``z V^T`` and
    ``relu(.) U^T``, backward ``G^T relu(.)`` (for ``U_l``), ``G U`` (through
    ``U_l``), ``(G U)_+^T z`` (for ``V_l``) and ``(G U)_+ V`` (through
    ``V_l``); plus ``X V_0^T``, ``z_L U_out^T``, their two gradient products
    and the one back through ``U_out``."""
    block = [(n, D, m), (n, m, D), (D, n, m), (n, D, m), (m, n, D), (n, m, D)]
    ends = [(n, d, D), (n, D, classes), (classes, n, D), (n, classes, D), (D, n, d)]
    return block * L + ends


def step_seconds(run: Run, repeats: int = 3) -> float:
    """Best wall-clock seconds of one GD step of ``run`` (compiled and warmed
    up first; parameters restored afterwards)."""
    import jax

    saved, rec = run.params, (list(run.loss), list(run.accuracy), list(run.grad_norm))
    step = _step_fn(run.remat)
    X, Y, eta = run.data
    jax.block_until_ready(step(saved, X, Y, eta))
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(step(saved, X, Y, eta))
        best = min(best, time.perf_counter() - t0)
    run.params = saved
    run.loss, run.accuracy, run.grad_norm = rec
    return best
