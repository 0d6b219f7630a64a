"""Cost of one GD step of zas.fig4's residual network (eq. (6.1)) against depth.

    python benchmarks/fig4_step.py            # L = 10, 100, 1000, 10000 (a few minutes)
    python benchmarks/fig4_step.py --quick    # L = 10, 100, 1000

For each depth ``L`` it prints the best wall-clock time of one full-batch GD
step (forward pass through the ``jax.lax.scan`` over the blocks, reverse-mode
gradient, update; compiled and warmed up first) from the mZAS init with the
check's defaults (``n = 1000`` samples, ``d = 64`` inputs, ``D = m = 16``,
float32), its time per block, and its ratio to the cost of the step's own
matrix products (``6 L + 5`` products: :func:`zascheck.measure.resnet.matmul_shapes`),
each timed on its own in the same run with numpy's BLAS (best of repeats).
The ratio says how much the step costs beyond its arithmetic: element-wise
work (ReLU, its mask, the residual add, the update), the saved activations,
and the scan's per-block overhead; a constant ratio means the step grows
linearly in ``L``, as it should.  The slope of ``log(step)`` on ``log(L)``
over the depths measured is printed too (1 = linear).

Threads are set deliberately, before numpy and jax load: one BLAS thread
(``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, unless
already set) and single-threaded XLA CPU (:func:`zascheck.measure.resnet.jax_runtime`),
so both sides of the ratio run on one core.

Last, it estimates the wall-clock time of ``zascheck check zas.fig4 --budget
thorough`` (the paper's 10^4 iterations at L = 100, 200, 2000, 10000) from the
measured per-block cost, assuming 6 rates run to the tuning horizon per init
and depth (measured runs at the standard budget: 2 to 8; rates that diverge
early cost less) and the two tuned runs continued to 10^4 iterations.
"""

from __future__ import annotations

import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402

import numpy as np  # noqa: E402

from zascheck.measure import resnet as N  # noqa: E402

n, d, D, m, C = 1000, 64, 16, 16, 10


def best_time(fn, repeats: int = 7, min_seconds: float = 0.05) -> float:
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    k = max(1, int(min_seconds / one))
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(k):
            fn()
        best = min(best, (time.perf_counter() - t0) / k)
    return best


def products_seconds(L: int) -> float:
    """Seconds of the step's matrix products, each shape timed once (float32 BLAS)."""
    rng = np.random.default_rng(0)
    total = 0.0
    for (r, k, c), count in Counter(N.matmul_shapes(L, n, d, D, m, C)).items():
        a = rng.standard_normal((r, k)).astype(np.float32)
        b = rng.standard_normal((k, c)).astype(np.float32)
        out = np.empty((r, c), np.float32)
        total += count * best_time(lambda a=a, b=b, out=out: np.matmul(a, b, out=out))
    return total


def step_row(L: int) -> dict[str, float]:
    rng = np.random.default_rng(1)
    X = rng.random((n, d))
    y = rng.integers(0, C, n)
    run = N.start_run("mzas", L, 0.01, X, y, D=D, m=m, classes=C, rng=rng)
    t0 = time.perf_counter()
    N.advance(run, 1)  # compile (or load from the persistent cache) and one step
    first = time.perf_counter() - t0
    step = N.step_seconds(run, repeats=3 if L >= 1000 else 5)
    prods = products_seconds(L)
    return {
        "L": L,
        "first": first,
        "step": step,
        "per_block": step / L,
        "products": prods,
        "ratio": step / prods,
        "remat": float(run.remat),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="depths 10, 100, 1000 only")
    args = ap.parse_args(argv)
    info = N.jax_runtime()
    print(
        f"jax {info['jax']} on {info['backend']}; XLA_FLAGS={info['xla_flags']!r} "
        f"({info['xla_flags_set_by']}); BLAS threads {os.environ['OPENBLAS_NUM_THREADS']}; "
        f"n = {n}, d = {d}, D = m = {D}, float32, mZAS"
    )
    print(
        f"{'L':>6} {'first call s':>12} {'step s':>10} {'per block ms':>12} "
        f"{'products s':>11} {'step/products':>13} {'remat':>5}"
    )
    rows = []
    for L in (10, 100, 1000) if args.quick else (10, 100, 1000, 10000):
        r = step_row(L)
        rows.append(r)
        print(
            f"{L:>6} {r['first']:>12.2f} {r['step']:>10.4f} {1e3 * r['per_block']:>12.3f} "
            f"{r['products']:>11.4f} {r['ratio']:>13.1f} {'yes' if r['remat'] else 'no':>5}",
            flush=True,
        )
    big = [r for r in rows if r["L"] >= 100]
    if len(big) >= 2:
        slope = np.polyfit(np.log([r["L"] for r in big]), np.log([r["step"] for r in big]), 1)[0]
        print(f"slope of log(step) on log(L) over L >= 100: {slope:.3f} (1 = linear in L)")
    per_block = max(r["per_block"] for r in big)
    thorough = {100: (500, 10000), 200: (500, 10000), 2000: (100, 10000), 10000: (50, 10000)}
    est = sum(per_block * L * (2 * 6 * tune + 2 * (T - tune)) for L, (tune, T) in thorough.items())
    print(
        f"estimated --budget thorough (paper's 10^4 iterations at L = 100..10^4): {est / 3600:.0f} h "
        f"= {est / 86400:.1f} days at {1e3 * per_block:.2f} ms per block-step"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
